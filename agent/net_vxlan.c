/* net_vxlan.c — the VXLAN overlay between nodes, shaped as flannel's vxlan
 * backend: one kernel vxlan device per node ("orc.vxlan", VNI 1, UDP 8472,
 * learning off) on the link of the node's address, holding the network
 * address of the node's pod CIDR as its own; the peers' entries come from
 * their Node objects (net_route.c plans them, this file applies them). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define VX_LOG "net"

static const char *const BACKENDS[] = {[NET_BACKEND_HOST_GW] = "host-gw",
                                       [NET_BACKEND_VXLAN] = "vxlan",
                                       [NET_BACKEND_AUTO] = "auto"};

bool net_backend_parse(const char *s, enum net_backend *out)
{
    for (size_t i = 0; s && i < ORC_ARRAY_LEN(BACKENDS); i++)
        if (strcmp(s, BACKENDS[i]) == 0) {
            *out = (enum net_backend)i;
            return true;
        }
    return false;
}

const char *net_backend_name(enum net_backend b)
{
    return (size_t)b < ORC_ARRAY_LEN(BACKENDS) ? BACKENDS[b] : "?";
}

bool net_mac_parse(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char end;

    if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                            &v[5], &end) != 6)
        return false;
    for (int i = 0; i < 6; i++) mac[i] = (uint8_t)v[i];
    /* a unicast address, not all zeroes (the flood entry's) */
    return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

void net_mac_str(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

/* Fixed from the node name (as the bridge's): a restarted agent keeps the
 * MAC its peers know, and no Node update is needed. */
static void vtep_mac(const struct net_names *nm, uint8_t mac[6])
{
    unsigned long v = strtoul(nm->tag, NULL, 16);

    mac[0] = 0x02;
    mac[1] = 0x76;
    for (int i = 0; i < 4; i++) mac[2 + i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The link holding node_ip, and its MTU: the tunnel's way out. */
static int find_uplink(struct net *n, int *mtu, char *errmsg)
{
    struct net_nl_addr *addrs = NULL;
    struct net_nl_link l;
    size_t count = 0;
    int rv = net_nl_addrs(&n->nl, &addrs, &count, errmsg), link = 0;

    for (size_t i = 0; rv == 0 && i < count; i++)
        if (addrs[i].addr == n->node_ip) link = addrs[i].ifindex;
    free(addrs);
    if (rv != 0 || link == 0) return rv;
    rv = net_nl_link_get(&n->nl, NULL, link, &l, errmsg);
    if (rv != 0) return rv;
    *mtu = l.mtu;
    return link;
}

static bool params_match(const struct net *n, const struct net_nl_link *l)
{
    return strcmp(l->kind, "vxlan") == 0 && l->vni == NET_VXLAN_VNI && l->local == n->node_ip
           && l->link == n->uplink && l->port == NET_VXLAN_PORT && !l->learning
           && memcmp(l->mac, n->vx_mac, 6) == 0;
}

/* The device as it is: 1 ours and right, 0 none (or ours but wrong: then
 * deleted), ORC_EEXIST another node's. */
static int existing(struct net *n, struct net_nl_link *l, char *errmsg)
{
    int rv = net_nl_link_get(&n->nl, NET_VXLAN_DEV, 0, l, errmsg);

    if (rv == ORC_ENOENT) return 0;
    if (rv != 0) return rv;
    if (strcmp(l->alias, n->nm.vtep_alias) != 0)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EEXIST,
                        "%s belongs to another node in this network namespace (alias \"%s\")",
                        NET_VXLAN_DEV, l->alias);
    if (params_match(n, l)) return 1;
    log_info(VX_LOG, "%s: parameters changed (node address, link): making it anew", NET_VXLAN_DEV);
    rv = net_nl_link_del(&n->nl, NET_VXLAN_DEV, errmsg);
    return rv == 0 || rv == ORC_ENOENT ? 0 : rv;
}

int net_vxlan_open(struct net *n, char *errmsg)
{
    struct net_nl_link l;
    int mtu = 0, rv;

    vtep_mac(&n->nm, n->vx_mac);
    if (n->backend == NET_BACKEND_HOST_GW) {
        /* an earlier run's overlay, with its entries, is not wanted now */
        rv = net_vxlan_destroy(&n->nl, &n->nm, errmsg);
        if (rv == 0) log_info(VX_LOG, "removed %s: the backend is host-gw now", NET_VXLAN_DEV);
        else if (rv != ORC_ENOENT) log_warn(VX_LOG, "%s", errmsg);
        return 0;
    }
    if (n->node_ip == 0 || (n->node_ip >> 24) == 127) return 0;
    rv = find_uplink(n, &mtu, errmsg);
    if (rv < 0) return rv;
    n->uplink = rv;
    if (n->uplink == 0) {
        char ip[16];
        net_ip_str(n->node_ip, ip);
        log_warn(VX_LOG, "node address %s is on none of this node's links: no VXLAN tunnels, "
                         "pods keep the default MTU", ip);
        return 0;
    }
    /* every pod, whichever peer it talks to: its MTU is fixed at its start */
    n->pod_mtu = mtu - NET_VXLAN_OVERHEAD;
    /* Not fatal: pods on this node run; the peers' sync retries and logs. */
    rv = existing(n, &l, errmsg);
    if (rv == 1) n->vx_index = l.index;
    if (rv >= 0 && n->backend == NET_BACKEND_VXLAN) rv = net_vxlan_up(n, errmsg);
    if (rv < 0) log_warn(VX_LOG, "%s", errmsg);
    return 0;
}

int net_vxlan_up(struct net *n, char *errmsg)
{
    struct net_nl_vxlan v = {NET_VXLAN_DEV, NET_VXLAN_VNI, n->node_ip, n->uplink, NET_VXLAN_PORT,
                             {0}, n->pod_mtu};
    struct net_nl_link l;
    int rv;

    if (n->uplink == 0)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EUNAVAIL, "no VXLAN tunnels: the node address is "
                        "on none of this node's links");
    rv = existing(n, &l, errmsg);
    if (rv < 0) return rv;
    if (rv == 0) {
        memcpy(v.mac, n->vx_mac, 6);
        rv = net_nl_vxlan_add(&n->nl, &v, errmsg);
        if (rv != 0) return rv;
        rv = net_nl_link_index(&n->nl, NET_VXLAN_DEV, errmsg);
        if (rv < 0) return rv;
        l.index = rv;
        log_info(VX_LOG, "made %s (VNI %d, UDP %d, MTU %d) for the pod network's overlay",
                 NET_VXLAN_DEV, NET_VXLAN_VNI, NET_VXLAN_PORT, n->pod_mtu);
    }
    n->vx_index = l.index;
    rv = net_nl_addr_add(&n->nl, n->vx_index, htonl(n->cidr.net), 32, errmsg);
    if (rv == 0) rv = net_nl_link_up(&n->nl, n->vx_index, 0, n->nm.vtep_alias, errmsg);
    if (rv != 0) n->vx_index = 0;
    return rv;
}

static bool same(const struct net_nl_neigh *a, const struct net_nl_neigh *b)
{
    return a->ip == b->ip && memcmp(a->mac, b->mac, 6) == 0;
}

/* want[i] keyed by ip (neighbours) or by MAC (fdb): the entries kept. */
static bool wanted(const struct net_nl_neigh *want, size_t n, const struct net_nl_neigh *e)
{
    for (size_t i = 0; i < n; i++)
        if (same(&want[i], e)) return true;
    return false;
}

static int sync_entries(struct net *n, bool fdb, const struct net_nl_neigh *want, size_t count,
                        char *errmsg)
{
    struct net_nl_neigh *have = NULL;
    size_t n_have = 0;
    int rv = net_nl_neighs(&n->nl, n->vx_index, fdb, &have, &n_have, errmsg);

    for (size_t i = 0; rv == 0 && i < count; i++)
        if (!wanted(have, n_have, &want[i])) rv = net_nl_neigh_set(&n->nl, n->vx_index, fdb, &want[i], errmsg);
    for (size_t i = 0; rv == 0 && i < n_have; i++) {
        if (wanted(want, count, &have[i])) continue;
        rv = net_nl_neigh_del(&n->nl, n->vx_index, fdb, &have[i], errmsg);
        if (rv == ORC_ENOENT) rv = 0;
    }
    free(have);
    return rv;
}

int net_vxlan_sync(struct net *n, const struct net_nl_neigh *neigh, const struct net_nl_neigh *fdb,
                   size_t count, char *errmsg)
{
    int rv;

    if (n->vx_index == 0) return 0;
    rv = sync_entries(n, true, fdb, count, errmsg);
    if (rv == 0) rv = sync_entries(n, false, neigh, count, errmsg);
    if (rv == ORC_ENOENT) n->vx_index = 0; /* deleted under us: made again next time */
    return rv;
}

int net_vtep(net *n, char mac[18])
{
    if (n->vx_index == 0) return ORC_ENOENT;
    net_mac_str(n->vx_mac, mac);
    return 0;
}

int net_vxlan_destroy(struct net_nl *nl, const struct net_names *nm, char *errmsg)
{
    struct net_nl_link l;
    int rv = net_nl_link_get(nl, NET_VXLAN_DEV, 0, &l, errmsg);

    if (rv != 0) return rv;
    if (strcmp(l.alias, nm->vtep_alias) != 0) return ORC_ENOENT; /* another node's */
    return net_nl_link_del(nl, NET_VXLAN_DEV, errmsg);
}
