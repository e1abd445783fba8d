/* net_route.c — routes to the other nodes' pods, host-gw style (flannel's
 * backend of that name): a route to each peer's pod CIDR via the peer's
 * address on a shared link, and no NAT for traffic between pod CIDRs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/orc.h"

#define ROUTE_LOG "net"

static bool parse_ip(const char *s, uint32_t *ip)
{
    unsigned a, b, c, d;
    char end;

    if (s == NULL || sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) != 4 || a > 255 || b > 255
        || c > 255 || d > 255)
        return false;
    *ip = a << 24 | b << 16 | c << 8 | d;
    return true;
}

static uint32_t mask_of(int prefix) { return prefix ? ~0u << (32 - prefix) : 0; }

static bool overlaps(const struct net_cidr *a, uint32_t net, int prefix)
{
    uint32_t m = mask_of(prefix < a->prefix ? prefix : a->prefix);
    return (a->net & m) == (net & m);
}

/* The link through which ip is directly reachable: an address of ours on
 * a subnet holding it (not loopback, not the pods' bridge). 0 when none;
 * -1 when ip is one of our own addresses (the peer shares our namespace). */
static int link_for(const struct net *n, const struct net_nl_addr *addrs, size_t count, uint32_t ip)
{
    int found = 0;

    for (size_t i = 0; i < count; i++) {
        const struct net_nl_addr *a = &addrs[i];
        uint32_t m = mask_of(a->prefix);
        if (a->addr == ip) return -1;
        if ((a->addr >> 24) == 127 || a->ifindex == n->br_index || a->prefix == 32) continue;
        if ((a->addr & m) == (ip & m) && found == 0) found = a->ifindex;
    }
    return found;
}

struct plan {
    struct net_nl_route *want;
    size_t n_want;
    const char **cidrs; /* exempt from NAT (borrowed from the peers) */
    size_t n_cidrs;
    uint64_t cidrs_key, unreach_key; /* unreach: peers left out (logged once per set) */
};

static int plan_peer(struct net *n, const struct net_peer *p, const struct net_nl_addr *addrs,
                     size_t n_addrs, struct plan *pl)
{
    struct net_cidr c;
    char msg[NET_ERRLEN];
    uint32_t ip;
    int oif;

    if (p->pod_cidr == NULL || net_cidr_parse(p->pod_cidr, &c, msg) != 0 || !parse_ip(p->ip, &ip))
        return 0;
    if (overlaps(&n->cidr, c.net, c.prefix)) {
        pl->unreach_key = orc_fnv1a(pl->unreach_key, p->node, strlen(p->node) + 1);
        return 1;
    }
    pl->cidrs[pl->n_cidrs++] = p->pod_cidr;
    pl->cidrs_key = orc_fnv1a(pl->cidrs_key, p->pod_cidr, strlen(p->pod_cidr) + 1);
    oif = link_for(n, addrs, n_addrs, ip);
    if (oif < 0) return 0; /* the same namespace: its bridge is ours to see */
    if (oif == 0) {
        pl->unreach_key = orc_fnv1a(pl->unreach_key, p->node, strlen(p->node) + 1);
        return 1;
    }
    pl->want[pl->n_want++] = (struct net_nl_route){c.net, c.prefix, ip, oif};
    return 0;
}

static const struct net_nl_route *find_route(const struct net_nl_route *r, size_t n,
                                             const struct net_nl_route *x)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].dst == x->dst && r[i].prefix == x->prefix) return &r[i];
    return NULL;
}

static void log_unreachable(struct net *n, const struct net_peer *peers, size_t count,
                            const struct plan *pl, const struct net_nl_addr *addrs, size_t n_addrs)
{
    struct net_cidr c;
    char msg[NET_ERRLEN];
    uint32_t ip;

    if (pl->unreach_key == n->unreach_key) return;
    n->unreach_key = pl->unreach_key;
    for (size_t i = 0; i < count; i++) {
        if (!parse_ip(peers[i].ip, &ip) || peers[i].pod_cidr == NULL
            || net_cidr_parse(peers[i].pod_cidr, &c, msg) != 0)
            continue;
        if (overlaps(&n->cidr, c.net, c.prefix))
            log_warn(ROUTE_LOG, "node %s: pod CIDR %s overlaps ours: ignored", peers[i].node,
                     peers[i].pod_cidr);
        else if (link_for(n, addrs, n_addrs, ip) == 0)
            log_warn(ROUTE_LOG, "node %s (%s) shares no link with this node: no route to its pods "
                                "%s (host-gw needs one; an overlay is not implemented yet)",
                     peers[i].node, peers[i].ip, peers[i].pod_cidr);
    }
}

static int apply_routes(struct net *n, const struct plan *pl, char *errmsg)
{
    struct net_nl_route *have = NULL;
    size_t n_have = 0;
    char d[16], g[16];
    int rv = net_nl_routes(&n->nl, &have, &n_have, errmsg);

    for (size_t i = 0; rv == 0 && i < n_have; i++) {
        if (find_route(pl->want, pl->n_want, &have[i])) continue;
        net_ip_str(have[i].dst, d);
        log_info(ROUTE_LOG, "removing the route to %s/%d: no node has it now", d, have[i].prefix);
        rv = net_nl_route_del(&n->nl, &have[i], errmsg);
        if (rv == ORC_ENOENT) rv = 0;
    }
    for (size_t i = 0; rv == 0 && i < pl->n_want; i++) {
        const struct net_nl_route *w = &pl->want[i], *h = find_route(have, n_have, w);
        if (h && h->gw == w->gw && h->oif == w->oif) continue;
        net_ip_str(w->dst, d);
        net_ip_str(w->gw, g);
        log_info(ROUTE_LOG, "route to pods %s/%d via %s", d, w->prefix, g);
        rv = net_nl_route_set(&n->nl, w, errmsg);
    }
    free(have);
    return rv;
}

int net_peers_set(net *n, const struct net_peer *peers, size_t count, char *errmsg)
{
    struct net_nl_addr *addrs = NULL;
    size_t n_addrs = 0, unreach = 0;
    struct plan pl = {.cidrs_key = ORC_FNV_OFFSET, .unreach_key = ORC_FNV_OFFSET};
    int rv;

    pl.want = calloc(count + 1, sizeof *pl.want);
    pl.cidrs = calloc(count + 1, sizeof *pl.cidrs);
    if (pl.want == NULL || pl.cidrs == NULL) {
        rv = orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
        goto out;
    }
    rv = net_nl_addrs(&n->nl, &addrs, &n_addrs, errmsg);
    for (size_t i = 0; rv == 0 && i < count; i++)
        unreach += (size_t)plan_peer(n, &peers[i], addrs, n_addrs, &pl);
    if (rv == 0 && unreach) log_unreachable(n, peers, count, &pl, addrs, n_addrs);
    if (rv == 0 && !unreach) n->unreach_key = 0;
    if (rv == 0) rv = apply_routes(n, &pl, errmsg);
    if (rv == 0 && n->masquerade && pl.cidrs_key != n->peers_key) {
        rv = net_ipt_peers(&n->nm, pl.cidrs, pl.n_cidrs, errmsg);
        if (rv == 0) n->peers_key = pl.cidrs_key;
    }
out:
    free(addrs);
    free(pl.want);
    free(pl.cidrs);
    return rv;
}
