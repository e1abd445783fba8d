/* net_reap.c — veths and namespaces outliving their pod: a torn-down pod's
 * veth the kernel should have deleted with its namespace, and at open
 * whatever of this node no pod state accounts for (a crash between steps,
 * lost state files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define NET_REAP_MS 2000

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Deleting a veth waits for RCU grace periods (~20-30 ms here): the veth
 * is only cut off now, and the kernel deletes the pair in the background
 * with the unpinned namespace; one still there later (its namespace kept
 * alive by a straggling process) is deleted by hand. */
void net_reap_later(net *n, const char *veth)
{
    char msg[NET_ERRLEN];
    int idx = net_nl_link_index(&n->nl, veth, msg);

    if (idx <= 0) return;
    /* ENOENT: the kernel was quicker. */
    if (net_nl_link_detach(&n->nl, idx, msg) == ORC_ENOENT) return;
    if (n->n_reap == n->cap_reap) {
        size_t cap = n->cap_reap ? n->cap_reap * 2 : 16;
        struct net_reap *r = realloc(n->reap, cap * sizeof *r);
        if (r == NULL) { /* no room to remember it: now, then */
            net_nl_link_del(&n->nl, veth, msg);
            return;
        }
        n->reap = r;
        n->cap_reap = cap;
    }
    snprintf(n->reap[n->n_reap].veth, sizeof n->reap[n->n_reap].veth, "%s", veth);
    n->reap[n->n_reap].ifindex = idx;
    n->reap[n->n_reap].due_ms = mono_ms() + NET_REAP_MS;
    n->n_reap++;
}

void net_reap(struct net *n)
{
    uint64_t now = mono_ms();
    char msg[NET_ERRLEN];

    for (size_t i = n->n_reap; i > 0; i--) {
        struct net_reap *r = &n->reap[i - 1];
        if (r->due_ms > now) continue;
        if (net_nl_link_index(&n->nl, r->veth, msg) == r->ifindex) {
            log_debug("net", "deleting %s: its namespace outlived its pod", r->veth);
            int rv = net_nl_link_del(&n->nl, r->veth, msg);
            if (rv != 0 && rv != ORC_ENOENT) log_warn("net", "%s", msg);
        }
        *r = n->reap[--n->n_reap];
    }
}

static bool known_veth(const struct net *n, const char *name)
{
    char veth[16];

    for (size_t j = 0; j < n->ipam.n; j++) {
        net_veth_name(n->node, n->ipam.ents[j].uid, veth);
        if (strcmp(veth, name) == 0) return true;
    }
    return false;
}

/* A namespace name ("orc-<tag>-<uid prefix>") some pod with state owns. */
static bool known_netns(void *arg, const char *name)
{
    const struct net *n = arg;
    char path[300], want[128];

    snprintf(path, sizeof path, "%s/%s", NET_NETNS_DIR, name);
    for (size_t j = 0; j < n->ipam.n; j++) {
        net_netns_path(&n->nm, n->ipam.ents[j].uid, want, sizeof want);
        if (strcmp(want, path) == 0) return true;
    }
    return false;
}

void net_reap_orphans(struct net *n)
{
    char msg[NET_ERRLEN], **ports = NULL;
    size_t count = 0;

    if (net_ns_remove_node(n->nm.tag, known_netns, n, msg) != 0) log_warn("net", "%s", msg);
    if (net_nl_links(&n->nl, n->br_index, n->nm.alias, &ports, &count, msg) != 0) {
        log_warn("net", "%s", msg);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        if (!known_veth(n, ports[i])) {
            log_info("net", "deleting %s: a veth of node %s for no known pod", ports[i], n->node);
            int rv = net_nl_link_del(&n->nl, ports[i], msg);
            if (rv != 0 && rv != ORC_ENOENT) log_warn("net", "%s", msg); /* gone with its netns */
        }
        free(ports[i]);
    }
    free(ports);
}
