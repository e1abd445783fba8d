/* net.c — a node's pod network as a whole: the bridge and iptables chains
 * created or adopted at open, and everything removed for good by
 * net_destroy_node. Per-pod work lives in net_pod.c. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"

static int write_proc(const char *path, const char *value, char *errmsg)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t len = (ssize_t)strlen(value), n;
    int err;

    if (fd < 0) goto fail;
    n = write(fd, value, (size_t)len);
    err = errno;
    close(fd);
    errno = err;
    if (n == len) return 0;
fail:
    return orc_errf(errmsg, NET_ERRLEN, errno == EACCES || errno == EPERM ? ORC_EPERM : ORC_EIO,
                    "write %s: %s", path, strerror(errno));
}

static int enable_forwarding(char *errmsg)
{
    static const char path[] = "/proc/sys/net/ipv4/ip_forward";
    char cur[4] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (read(fd, cur, sizeof cur - 1) < 0) cur[0] = '\0';
        close(fd);
    }
    if (cur[0] == '1') return 0;
    log_info("net", "turning on IPv4 forwarding for pod traffic");
    return write_proc(path, "1", errmsg);
}

/* A fixed, locally administered address: a bridge otherwise takes the
 * lowest of its ports' addresses, and pods would see their gateway change. */
static void bridge_mac(const struct net_names *nm, uint8_t mac[6])
{
    unsigned long v = strtoul(nm->tag, NULL, 16);

    mac[0] = 0x02;
    mac[1] = 0x6f;
    for (int i = 0; i < 4; i++) mac[2 + i] = (uint8_t)(v >> (24 - 8 * i));
}

static int bridge_up(struct net *n, char *errmsg)
{
    char path[128];
    uint8_t mac[6];
    int rv;

    bridge_mac(&n->nm, mac);
    rv = net_nl_bridge_add(&n->nl, n->nm.bridge, mac, errmsg);
    if (rv == ORC_EEXIST) log_debug("net", "adopting bridge %s", n->nm.bridge);
    else if (rv != 0) return rv;
    rv = net_nl_link_index(&n->nl, n->nm.bridge, errmsg);
    if (rv < 0) return rv;
    n->br_index = rv;
    rv = net_nl_addr_add(&n->nl, n->br_index, htonl(net_cidr_gateway(&n->cidr)), n->cidr.prefix,
                         errmsg);
    if (rv == 0) rv = net_nl_link_up(&n->nl, n->br_index, 0, NULL, errmsg);
    /* 127.0.0.1:hostPort from the node leaves through the bridge. */
    snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", n->nm.bridge);
    if (rv == 0) rv = write_proc(path, "1", errmsg);
    return rv;
}

static int check_config(const struct net_config *cfg, struct net_cidr *cidr, char *errmsg)
{
    if (cfg->node_name == NULL || cfg->node_name[0] == '\0')
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "node name is empty");
    if (cfg->state_dir == NULL || cfg->state_dir[0] == '\0')
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "network state directory is empty");
    if ((unsigned)cfg->backend > NET_BACKEND_AUTO)
        return orc_errf(errmsg, NET_ERRLEN, ORC_EINVAL, "unknown network backend %d", (int)cfg->backend);
    return net_cidr_parse(cfg->pod_cidr, cidr, errmsg);
}

static int setup(struct net *n, const struct net_config *cfg, char *errmsg)
{
    int rv;

    n->node = strdup(cfg->node_name);
    n->state_dir = strdup(cfg->state_dir);
    if (n->node == NULL || n->state_dir == NULL)
        return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    net_names_init(&n->nm, n->node);
    rv = orc_mkdirs(n->state_dir, 0700);
    if (rv != 0)
        return orc_errf(errmsg, NET_ERRLEN, rv, "create %s: %s", n->state_dir, orc_strerror(rv));
    rv = net_ipam_open(&n->ipam, n->state_dir, &n->cidr, errmsg);
    if (rv == 0) rv = net_hp_open(&n->hp, n->state_dir, errmsg);
    if (rv == 0) rv = net_nl_open(&n->nl, errmsg);
    if (rv == 0) rv = net_ns_prepare(errmsg);
    if (rv == 0) rv = bridge_up(n, errmsg);
    if (rv == 0) rv = net_vxlan_open(n, errmsg);
    if (rv == 0) net_reap_orphans(n);
    if (rv == 0) rv = net_ipt_open(&n->nm, &n->cidr, cfg->masquerade, errmsg);
    if (rv == 0 && cfg->masquerade) rv = enable_forwarding(errmsg);
    return rv;
}

int net_open(const struct net_config *cfg, net **out, char *errmsg)
{
    struct net *n;
    struct net_cidr cidr;
    struct in_addr addr;
    int rv = check_config(cfg, &cidr, errmsg);

    if (rv != 0) return rv;
    n = calloc(1, sizeof *n);
    if (n == NULL) return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    n->cidr = cidr;
    n->nl.fd = -1;
    n->masquerade = cfg->masquerade;
    n->backend = cfg->backend;
    if (cfg->node_ip && inet_pton(AF_INET, cfg->node_ip, &addr) == 1) n->node_ip = ntohl(addr.s_addr);
    rv = setup(n, cfg, errmsg);
    if (rv != 0) {
        net_close(n);
        return rv;
    }
    *out = n;
    return 0;
}

void net_close(net *n)
{
    if (n == NULL) return;
    free(n->reap);
    net_nl_close(&n->nl);
    net_ipam_close(&n->ipam);
    net_hp_close(&n->hp);
    free(n->node);
    free(n->state_dir);
    free(n);
}

/* ---- net_destroy_node ---- */

static void keep_first(int *rv, int err, const char *msg)
{
    if (err == 0 || err == ORC_ENOENT) return;
    log_warn("net", "cleanup: %s", msg);
    if (*rv == 0) *rv = err;
}

/* Pods known from the state files, and every other veth of the node: ports
 * of its bridge, or tagged with its alias (detached at teardown, kept alive
 * by a process still in the pod's namespace). */
static void remove_veths(struct net_nl *nl, const char *node, const char *state_dir,
                         const struct net_names *nm, int *rv)
{
    char msg[NET_ERRLEN], veth[16], path[128], **names = NULL;
    size_t count = 0;
    int br;

    if (access(state_dir, F_OK) == 0 && net_ipam_list_dir(state_dir, &names, &count) == 0) {
        for (size_t i = 0; i < count; i++) {
            net_veth_name(node, names[i], veth);
            keep_first(rv, net_nl_link_del(nl, veth, msg), msg);
            net_netns_path(nm, names[i], path, sizeof path);
            keep_first(rv, net_ns_remove(path, msg), msg);
            free(names[i]);
        }
        free(names);
    }
    br = net_nl_link_index(nl, nm->bridge, msg);
    if (net_nl_links(nl, br, nm->alias, &names, &count, msg) != 0) return;
    for (size_t i = 0; i < count; i++) {
        keep_first(rv, net_nl_link_del(nl, names[i], msg), msg);
        free(names[i]);
    }
    free(names);
}

/* The routes to other nodes' pods (one routing agent per namespace). */
static void remove_routes(struct net_nl *nl, int *rv)
{
    struct net_nl_route *r = NULL;
    char msg[NET_ERRLEN];
    size_t n = 0;

    if (net_nl_routes(nl, &r, &n, msg) != 0) return;
    for (size_t i = 0; i < n; i++) keep_first(rv, net_nl_route_del(nl, &r[i], msg), msg);
    free(r);
}

/* Removes the files this module keeps, and the directories if that empties
 * them (the agent may keep other things in state_dir). */
static void remove_state(const char *state_dir)
{
    static const char *const subs[] = {"ips", "ports"};
    char path[4096];

    for (size_t i = 0; i < ORC_ARRAY_LEN(subs); i++) {
        DIR *d;
        struct dirent *de;
        snprintf(path, sizeof path, "%s/%s", state_dir, subs[i]);
        d = opendir(path);
        if (d == NULL) continue;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "%s/%s/%s", state_dir, subs[i], de->d_name);
            unlink(path);
        }
        closedir(d);
        snprintf(path, sizeof path, "%s/%s", state_dir, subs[i]);
        rmdir(path);
    }
    rmdir(state_dir);
}

int net_destroy_node(const char *node_name, const char *state_dir)
{
    struct net_names nm;
    struct net_nl nl;
    char msg[NET_ERRLEN];
    int rv = 0;

    if (node_name == NULL || *node_name == '\0' || state_dir == NULL || *state_dir == '\0')
        return ORC_EINVAL;
    net_names_init(&nm, node_name);
    rv = net_nl_open(&nl, msg);
    if (rv != 0) {
        log_warn("net", "cleanup of node %s: %s", node_name, msg);
        return rv;
    }
    remove_veths(&nl, node_name, state_dir, &nm, &rv);
    remove_routes(&nl, &rv);
    keep_first(&rv, net_vxlan_destroy(&nl, &nm, msg), msg);
    keep_first(&rv, net_ns_remove_node(nm.tag, NULL, NULL, msg), msg);
    keep_first(&rv, net_ipt_destroy(&nm, msg), msg);
    keep_first(&rv, net_nl_link_del(&nl, nm.bridge, msg), msg);
    net_nl_close(&nl);
    remove_state(state_dir);
    return rv;
}
