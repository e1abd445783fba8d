/* net_route.c — the way to the other nodes' pods (net_peers_set): per
 * peer, host-gw (a route via its address on a shared link) or VXLAN (a
 * route onlink via its vtep, with the neighbour and FDB entries
 * net_vxlan.c applies), as the backend says; and no NAT for traffic
 * between pod CIDRs. */
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

/* What a peer gets; logged when any peer's changes. */
enum mode { M_SELF, M_HOST_GW, M_VXLAN, M_WAIT_MAC, M_NO_LINK, M_NO_TUNNEL, M_OVERLAP, M_BAD };

struct plan {
    struct net_nl_route *want;
    size_t n_want;
    struct net_nl_neigh *neigh, *fdb; /* the vxlan peers' entries, one each */
    size_t n_vx;
    const char **cidrs; /* exempt from NAT (borrowed from the peers) */
    size_t n_cidrs;
    uint64_t cidrs_key, modes_key;
    enum mode *mode; /* per peer */
    struct net_cidr *cidr;
    uint32_t *ip;
};

static enum mode tunnel_mode(const struct net *n, const struct net_peer *p, uint8_t mac[6])
{
    if (n->uplink == 0) return M_NO_TUNNEL;
    return net_mac_parse(p->vtep_mac, mac) ? M_VXLAN : M_WAIT_MAC;
}

static enum mode classify(const struct net *n, const struct net_peer *p, const struct net_nl_addr *addrs,
                          size_t n_addrs, struct net_cidr *c, uint32_t *ip, int *oif, uint8_t mac[6])
{
    char msg[NET_ERRLEN];

    if (p->pod_cidr == NULL || net_cidr_parse(p->pod_cidr, c, msg) != 0 || !parse_ip(p->ip, ip))
        return M_BAD;
    if (overlaps(&n->cidr, c->net, c->prefix)) return M_OVERLAP;
    *oif = link_for(n, addrs, n_addrs, *ip);
    /* the same namespace (or host): its bridge is ours to see */
    if (*oif < 0 || (*ip >> 24) == 127) return M_SELF;
    switch (n->backend) {
    case NET_BACKEND_HOST_GW: return *oif > 0 ? M_HOST_GW : M_NO_LINK;
    case NET_BACKEND_AUTO: return *oif > 0 ? M_HOST_GW : tunnel_mode(n, p, mac);
    case NET_BACKEND_VXLAN: return tunnel_mode(n, p, mac);
    }
    return M_BAD;
}

static void plan_peer(struct net *n, size_t i, const struct net_peer *p,
                      const struct net_nl_addr *addrs, size_t n_addrs, struct plan *pl)
{
    struct net_cidr *c = &pl->cidr[i];
    uint8_t mac[6];
    int oif = 0;
    enum mode m = classify(n, p, addrs, n_addrs, c, &pl->ip[i], &oif, mac);

    pl->mode[i] = m;
    pl->modes_key = orc_fnv1a(pl->modes_key, p->node, strlen(p->node) + 1);
    pl->modes_key = orc_fnv1a(pl->modes_key, &m, sizeof m);
    pl->modes_key = orc_fnv1a(pl->modes_key, &pl->ip[i], sizeof pl->ip[i]);
    if (m == M_BAD || m == M_OVERLAP) return;
    pl->modes_key = orc_fnv1a(pl->modes_key, c, sizeof *c);
    pl->cidrs[pl->n_cidrs++] = p->pod_cidr;
    pl->cidrs_key = orc_fnv1a(pl->cidrs_key, p->pod_cidr, strlen(p->pod_cidr) + 1);
    if (m == M_HOST_GW)
        pl->want[pl->n_want++] = (struct net_nl_route){c->net, c->prefix, pl->ip[i], oif, false};
    if (m != M_VXLAN) return;
    /* the peer's vtep address is its pod CIDR's network address (flannel's) */
    pl->neigh[pl->n_vx] = (struct net_nl_neigh){.ip = c->net};
    pl->fdb[pl->n_vx] = (struct net_nl_neigh){.ip = pl->ip[i]};
    memcpy(pl->neigh[pl->n_vx].mac, mac, 6);
    memcpy(pl->fdb[pl->n_vx].mac, mac, 6);
    pl->n_vx++;
}

static const struct net_nl_route *find_route(const struct net_nl_route *r, size_t n,
                                             const struct net_nl_route *x)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].dst == x->dst && r[i].prefix == x->prefix) return &r[i];
    return NULL;
}

static void log_mode(const struct net *n, const struct net_peer *p, enum mode m)
{
    const char *why = n->backend == NET_BACKEND_VXLAN ? "the vxlan backend" : "no shared link";

    switch (m) {
    case M_SELF:
        log_info(ROUTE_LOG, "node %s (%s) shares this network namespace: no route needed", p->node, p->ip);
        break;
    case M_HOST_GW:
        log_info(ROUTE_LOG, "node %s (%s): pods %s by host-gw (a shared link)", p->node, p->ip, p->pod_cidr);
        break;
    case M_VXLAN:
        log_info(ROUTE_LOG, "node %s (%s): pods %s by vxlan (%s)", p->node, p->ip, p->pod_cidr, why);
        break;
    case M_WAIT_MAC:
        log_info(ROUTE_LOG, "node %s (%s): pods %s by vxlan (%s), once its Node shows its vtep MAC",
                 p->node, p->ip, p->pod_cidr, why);
        break;
    case M_NO_LINK:
        log_warn(ROUTE_LOG, "node %s (%s) shares no link with this node: no route to its pods %s "
                            "(the host-gw backend needs one; auto or vxlan would tunnel)",
                 p->node, p->ip, p->pod_cidr);
        break;
    case M_NO_TUNNEL:
        log_warn(ROUTE_LOG, "node %s (%s): no route to its pods %s: a VXLAN tunnel needs this "
                            "node's address on one of its links", p->node, p->ip, p->pod_cidr);
        break;
    case M_OVERLAP:
        log_warn(ROUTE_LOG, "node %s: pod CIDR %s overlaps ours: ignored", p->node, p->pod_cidr);
        break;
    case M_BAD:
        log_debug(ROUTE_LOG, "node %s: pod CIDR or address unusable", p->node);
        break;
    }
}

static void log_modes(struct net *n, const struct net_peer *peers, size_t count, const struct plan *pl)
{
    if (pl->modes_key == n->modes_key) return;
    n->modes_key = pl->modes_key;
    for (size_t i = 0; i < count; i++) log_mode(n, &peers[i], pl->mode[i]);
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
        if (h && h->gw == w->gw && h->oif == w->oif && h->onlink == w->onlink) continue;
        net_ip_str(w->dst, d);
        net_ip_str(w->gw, g);
        log_info(ROUTE_LOG, "route to pods %s/%d via %s%s", d, w->prefix, g,
                 w->onlink ? " on " NET_VXLAN_DEV : "");
        rv = net_nl_route_set(&n->nl, w, errmsg);
    }
    free(have);
    return rv;
}

static bool plan_alloc(struct plan *pl, size_t count)
{
    size_t k = count + 1;

    pl->want = calloc(k, sizeof *pl->want);
    pl->cidrs = calloc(k, sizeof *pl->cidrs);
    pl->neigh = calloc(k, sizeof *pl->neigh);
    pl->fdb = calloc(k, sizeof *pl->fdb);
    pl->mode = calloc(k, sizeof *pl->mode);
    pl->cidr = calloc(k, sizeof *pl->cidr);
    pl->ip = calloc(k, sizeof *pl->ip);
    return pl->want && pl->cidrs && pl->neigh && pl->fdb && pl->mode && pl->cidr && pl->ip;
}

static void plan_free(struct plan *pl)
{
    free(pl->want);
    free(pl->cidrs);
    free(pl->neigh);
    free(pl->fdb);
    free(pl->mode);
    free(pl->cidr);
    free(pl->ip);
}

/* The vxlan device when some peer (or the backend) needs it, then the
 * routes through it; a device that cannot be made leaves those peers
 * without a route (the error is returned: the caller retries). */
static int plan_tunnels(struct net *n, size_t count, struct plan *pl, char *errmsg)
{
    bool need = n->backend == NET_BACKEND_VXLAN && n->uplink > 0;
    int rv;

    for (size_t i = 0; i < count; i++) need = need || pl->mode[i] == M_VXLAN || pl->mode[i] == M_WAIT_MAC;
    if (!need) return 0;
    rv = net_vxlan_up(n, errmsg);
    if (rv != 0) {
        pl->n_vx = 0;
        return rv;
    }
    for (size_t i = 0; i < count; i++) {
        const struct net_cidr *c = &pl->cidr[i];
        if (pl->mode[i] != M_VXLAN) continue;
        pl->want[pl->n_want++] = (struct net_nl_route){c->net, c->prefix, c->net, n->vx_index, true};
    }
    return 0;
}

int net_peers_set(net *n, const struct net_peer *peers, size_t count, char *errmsg)
{
    struct net_nl_addr *addrs = NULL;
    size_t n_addrs = 0;
    struct plan pl = {.cidrs_key = ORC_FNV_OFFSET, .modes_key = ORC_FNV_OFFSET};
    char vxerr[NET_ERRLEN] = "";
    int rv, vx;

    if (!plan_alloc(&pl, count)) {
        rv = orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
        goto out;
    }
    rv = net_nl_addrs(&n->nl, &addrs, &n_addrs, errmsg);
    if (rv != 0) goto out;
    for (size_t i = 0; i < count; i++) plan_peer(n, i, &peers[i], addrs, n_addrs, &pl);
    log_modes(n, peers, count, &pl);
    vx = plan_tunnels(n, count, &pl, vxerr);
    /* entries before routes: a route's first packet finds its neighbour */
    if (vx == 0) vx = net_vxlan_sync(n, pl.neigh, pl.fdb, pl.n_vx, vxerr);
    rv = apply_routes(n, &pl, errmsg);
    if (rv == 0 && n->masquerade && pl.cidrs_key != n->peers_key) {
        rv = net_ipt_peers(&n->nm, pl.cidrs, pl.n_cidrs, errmsg);
        if (rv == 0) n->peers_key = pl.cidrs_key;
    }
    if (rv == 0 && vx != 0) rv = orc_errf(errmsg, NET_ERRLEN, vx, "%s", vxerr);
out:
    free(addrs);
    plan_free(&pl);
    return rv;
}
