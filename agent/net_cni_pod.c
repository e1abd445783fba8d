/* net_cni_pod.c — the pod side of the CNI mode, behind net_pod_setup and
 * net_pod_teardown: orc makes and pins the pod's namespace (as a runtime
 * does), the plugins put the interface, address and routes in it; and at
 * open, the namespaces of this node no cached ADD accounts for go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_cni.h"
#include "agent/net_int.h"
#include "lib/log.h"
#include "lib/orc.h"

/* lo up through netlink: the pod has a loopback whatever the plugins do. */
static int open_netns(const char *path, bool *created, char *errmsg)
{
    struct net_nl pod = {-1, 0};
    int netns_fd = -1, nl_fd = -1, rv;

    rv = net_ns_open(path, &netns_fd, &nl_fd, created, errmsg);
    if (rv != 0) return rv;
    net_nl_wrap(&pod, nl_fd);
    rv = net_nl_link_up(&pod, 1, 0, NULL, errmsg); /* lo is always 1 */
    net_nl_close(&pod);
    close(netns_fd);
    return rv;
}

int net_cni_pod_setup(net *n, const char *uid, const char *ns, const char *name,
                      const struct net_port *ports, size_t n_ports, struct net_pod *out,
                      char *errmsg)
{
    char msg[NET_ERRLEN];
    bool created = false, cached;
    int rv;

    net_netns_path(&n->nm, uid, out->netns_path, sizeof out->netns_path);
    cached = net_cni_cached_ip(n->cni, uid, out->ip);
    rv = open_netns(out->netns_path, &created, errmsg);
    if (rv != 0) return rv;
    if (cached && !created) return 0; /* set up before (an agent restart) */
    /* a half-made ADD (a crash), or one whose namespace is gone */
    if (net_cni_has(n->cni, uid) && net_cni_del(n->cni, uid, msg) != 0)
        log_warn("net.cni", "pod %s: DEL of a stale ADD: %s", uid, msg);
    rv = net_cni_add(n->cni, uid, ns, name, out->netns_path, ports, n_ports, out->ip, errmsg);
    if (rv != 0) {
        if (net_ns_remove(out->netns_path, msg) != 0) log_warn("net.cni", "%s", msg);
        memset(out, 0, sizeof *out);
    }
    return rv;
}

/* DEL while the namespace is there (the plugins clean inside it), then the
 * namespace goes, even when DEL failed: its veth goes with it, and the
 * cache keeps what a later DEL needs to release the address. */
int net_cni_pod_teardown(net *n, const char *uid)
{
    char msg[NET_ERRLEN], path[128];
    int rv = net_cni_del(n->cni, uid, msg), err;

    if (rv != 0) log_warn("net.cni", "teardown of pod %s: %s", uid, msg);
    net_netns_path(&n->nm, uid, path, sizeof path);
    err = net_ns_remove(path, msg);
    if (err != 0 && err != ORC_ENOENT) {
        log_warn("net.cni", "teardown of pod %s: %s", uid, msg);
        if (rv == 0) rv = err;
    }
    return rv;
}

static bool cached_netns(void *arg, const char *name)
{
    struct net *n = arg;
    char **uids = NULL, want[128], path[300];
    size_t count = 0;
    bool found = false;

    snprintf(path, sizeof path, "%s/%s", NET_NETNS_DIR, name);
    if (net_cni_list(n->cni, &uids, &count) != 0) return true; /* unsure: keep */
    for (size_t i = 0; i < count; i++) {
        net_netns_path(&n->nm, uids[i], want, sizeof want);
        if (strcmp(want, path) == 0) found = true;
        free(uids[i]);
    }
    free(uids);
    return found;
}

void net_cni_reap_orphans(net *n)
{
    char msg[NET_ERRLEN];

    if (net_ns_remove_node(n->nm.tag, cached_netns, n, msg) != 0) log_warn("net.cni", "%s", msg);
}
