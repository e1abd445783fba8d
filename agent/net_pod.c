/* net_pod.c — one pod's network: address, namespace, veth to the bridge,
 * routes, host ports; set up idempotently, torn down completely. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define POD_IF "eth0"

/* The veth exists whole (host end here, eth0 in the namespace) or is made
 * anew: a half left by a crash, or a pair that served an earlier address
 * (state lost), is removed first. */
static int pod_veth(net *n, struct net_nl *pod, int netns_fd, const char *veth, uint32_t ip,
                    bool fresh, int *host_idx, int *eth_idx, char *errmsg)
{
    /* The MAC follows the IP (as CNI's bridge plugin did): a neighbour
     * entry left from an earlier pod with this IP stays right. */
    uint8_t mac[6] = {0x0a, 0x58, (uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
                      (uint8_t)ip};
    char ignore[NET_ERRLEN];
    int rv;

    *host_idx = net_nl_link_index(&n->nl, veth, ignore);
    *eth_idx = net_nl_link_index(pod, POD_IF, ignore);
    if (*host_idx > 0 && *eth_idx > 0 && !fresh) return 0;
    if (*host_idx > 0) net_nl_link_del(&n->nl, veth, ignore);
    if (*eth_idx > 0) net_nl_link_del(pod, POD_IF, ignore);
    rv = net_nl_veth_add(&n->nl, veth, POD_IF, netns_fd, mac, n->pod_mtu, errmsg);
    if (rv != 0) return rv;
    *host_idx = net_nl_link_index(&n->nl, veth, errmsg);
    if (*host_idx < 0) return *host_idx;
    *eth_idx = net_nl_link_index(pod, POD_IF, errmsg);
    return *eth_idx < 0 ? *eth_idx : 0;
}

static int pod_links(net *n, const char *uid, uint32_t ip, bool fresh, const char *path,
                     char *errmsg)
{
    struct net_nl pod = {-1, 0};
    char veth[16], alias[96];
    int netns_fd = -1, nl_fd = -1, host_idx, eth_idx, rv;
    bool created;

    rv = net_ns_open(path, &netns_fd, &nl_fd, &created, errmsg);
    if (rv != 0) return rv;
    net_nl_wrap(&pod, nl_fd);
    net_veth_name(n->node, uid, veth);
    rv = pod_veth(n, &pod, netns_fd, veth, ip, fresh, &host_idx, &eth_idx, errmsg);
    snprintf(alias, sizeof alias, "%s%s", n->nm.alias, uid);
    if (rv == 0) rv = net_nl_link_up(&n->nl, host_idx, n->br_index, alias, errmsg);
    if (rv == 0) rv = net_nl_hairpin(&n->nl, host_idx, errmsg);
    if (rv == 0) rv = net_nl_link_up(&pod, 1, 0, NULL, errmsg); /* lo is always 1 */
    if (rv == 0) rv = net_nl_addr_add(&pod, eth_idx, htonl(ip), n->cidr.prefix, errmsg);
    if (rv == 0) rv = net_nl_link_up(&pod, eth_idx, 0, NULL, errmsg);
    if (rv == 0)
        rv = net_nl_route_default(&pod, eth_idx, htonl(net_cidr_gateway(&n->cidr)), errmsg);
    net_nl_close(&pod);
    close(netns_fd);
    return rv;
}

static bool publishes(const struct net_port *ports, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ports[i].host_port > 0) return true;
    return false;
}

/* A reservation is written before its rule and dropped after it, so no
 * rule is ever left that no reservation accounts for (teardown looks for
 * rules only where reservations are). */
static int pod_ports(net *n, const char *uid, uint32_t ip, const struct net_port *ports,
                     size_t count, bool fresh, char *errmsg)
{
    int rv;

    if (!publishes(ports, count) && !net_hp_has(&n->hp, uid)) return 0;
    rv = net_hp_reserve(&n->hp, uid, ports, count, errmsg);
    if (rv == 0) rv = net_ipt_pod_ports(&n->nm, uid, ip, ports, count, !fresh, errmsg);
    if (rv == 0) net_hp_prune(&n->hp, uid, ports, count);
    return rv;
}

int net_pod_setup(net *n, const char *pod_uid, const struct net_port *ports, size_t n_ports,
                  struct net_pod *out, char *errmsg)
{
    uint32_t ip;
    bool fresh;
    int rv;

    if (pod_uid == NULL || !net_uid_valid(pod_uid))
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "pod uid \"%s\" cannot name host objects",
                        pod_uid ? pod_uid : "");
    if (n_ports > 0 && ports == NULL)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "ports missing");
    memset(out, 0, sizeof *out);
    net_reap(n);
    /* Conflicts first: a pod refused its host port leaves nothing behind. */
    rv = net_hp_check(&n->hp, pod_uid, ports, n_ports, errmsg);
    if (rv == 0) rv = net_ipam_alloc(&n->ipam, pod_uid, &ip, &fresh, errmsg);
    if (rv != 0) return rv;
    net_netns_path(&n->nm, pod_uid, out->netns_path, sizeof out->netns_path);
    rv = pod_links(n, pod_uid, ip, fresh, out->netns_path, errmsg);
    if (rv == 0) rv = pod_ports(n, pod_uid, ip, ports, n_ports, fresh, errmsg);
    if (rv != 0) {
        if (fresh) net_pod_teardown(n, pod_uid);
        memset(out, 0, sizeof *out);
        return rv;
    }
    net_ip_str(ip, out->ip);
    return 0;
}

static void note(int *rv, int err, const char *uid, const char *msg)
{
    if (err == 0 || err == ORC_ENOENT) return;
    log_warn("net", "teardown of pod %s: %s", uid, msg);
    if (*rv == 0) *rv = err;
}

int net_pod_teardown(net *n, const char *pod_uid)
{
    char msg[NET_ERRLEN], veth[16], path[128];
    int rv = 0, err;

    if (pod_uid == NULL || !net_uid_valid(pod_uid)) return 0; /* never set up */
    net_reap(n);
    if (net_hp_has(&n->hp, pod_uid)) {
        err = net_ipt_pod_ports(&n->nm, pod_uid, 0, NULL, 0, true, msg);
        note(&rv, err, pod_uid, msg);
        /* Reservations stay while their rules may: a retry finds them. */
        if (err == 0) net_hp_release(&n->hp, pod_uid);
    }
    net_netns_path(&n->nm, pod_uid, path, sizeof path);
    err = net_ns_remove(path, msg);
    note(&rv, err, pod_uid, msg);
    net_veth_name(n->node, pod_uid, veth);
    if (err == 0) net_reap_later(n, veth);
    else note(&rv, net_nl_link_del(&n->nl, veth, msg), pod_uid, msg);
    if (rv == 0 && net_ipam_release(&n->ipam, pod_uid) != 0) {
        snprintf(msg, sizeof msg, "release of its address failed");
        note(&rv, ORC_EIO, pod_uid, msg);
    }
    return rv;
}

int net_pods(net *n, char ***uids, size_t *count)
{
    char **out;

    net_reap(n);
    out = calloc(n->ipam.n ? n->ipam.n : 1, sizeof *out);
    if (out == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < n->ipam.n; i++) {
        out[i] = strdup(n->ipam.ents[i].uid);
        if (out[i] == NULL) {
            while (i > 0) free(out[--i]);
            free(out);
            return ORC_ENOMEM;
        }
    }
    *uids = out;
    *count = n->ipam.n;
    return 0;
}
