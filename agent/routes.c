/* routes.c — the cluster's other Nodes, watched, kept as routes to their
 * pods (net_peers_set, host-gw): within a moment of a Node appearing,
 * changing its address or going away, and again every few seconds, so a
 * route removed by hand or with its link comes back. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define ROUTES_RESYNC_MS 5000
#define ROUTES_RETRY_MS 1000

bool agent_node_peer(const json_t *node, const char *self, struct net_peer *out)
{
    const char *name = orc_json_str(node, "metadata.name");
    const char *cidr = orc_json_str(node, "spec.podCIDR");
    const json_t *addr;
    size_t i;

    if (name == NULL || cidr == NULL || *cidr == '\0' || (self && strcmp(name, self) == 0))
        return false;
    json_array_foreach(orc_json_get(node, "status.addresses"), i, addr) {
        const char *type = orc_json_str(addr, "type"), *ip = orc_json_str(addr, "address");
        if (type && ip && *ip && strcmp(type, "InternalIP") == 0) {
            *out = (struct net_peer){name, cidr, ip};
            return true;
        }
    }
    return false;
}

struct collect {
    struct agent *a;
    struct net_peer *p;
    size_t n, cap;
    bool oom;
};

static void collect_peer(void *arg, const json_t *node)
{
    struct collect *c = arg;
    struct net_peer p;

    if (c->oom || !agent_node_peer(node, c->a->node_name, &p)) return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct net_peer *q = realloc(c->p, cap * sizeof *q);
        if (q == NULL) {
            c->oom = true;
            return;
        }
        c->p = q;
        c->cap = cap;
    }
    c->p[c->n++] = p;
}

static void on_routes_timer(uv_timer_t *t)
{
    struct agent *a = t->data;
    struct collect c = {.a = a};
    char errmsg[256] = "";
    int rv;

    if (a->stopping || a->net == NULL || a->nodes == NULL || !informer_synced(a->nodes)) return;
    informer_each(a->nodes, collect_peer, &c);
    rv = c.oom ? orc_errf(errmsg, sizeof errmsg, ORC_ENOMEM, "out of memory")
               : net_peers_set(a->net, c.p, c.n, errmsg);
    free(c.p);
    if (rv != 0) log_warn(AGENT_LOG, "routes to other nodes' pods: %s", errmsg);
    uv_timer_start(&a->routes_timer, on_routes_timer, rv ? ROUTES_RETRY_MS : ROUTES_RESYNC_MS, 0);
}

/* Every change comes here: one sync on the next loop turn covers a burst. */
static void routes_soon(struct agent *a)
{
    if (!a->stopping && a->routes_started) uv_timer_start(&a->routes_timer, on_routes_timer, 0, 0);
}

static void node_added(void *arg, const json_t *obj)
{
    (void)obj;
    routes_soon(arg);
}

static void node_updated(void *arg, const json_t *old, const json_t *obj)
{
    struct net_peer a, b;
    bool had = agent_node_peer(old, ((struct agent *)arg)->node_name, &a);
    bool has = agent_node_peer(obj, ((struct agent *)arg)->node_name, &b);

    /* heartbeats (every status post) change neither */
    if (had != has || (has && (strcmp(a.pod_cidr, b.pod_cidr) != 0 || strcmp(a.ip, b.ip) != 0)))
        routes_soon(arg);
}

static void nodes_synced(void *arg) { routes_soon(arg); }

int agent_routes_start(struct agent *a)
{
    static const struct informer_cbs cbs = {node_added, node_updated, node_added, nodes_synced};
    struct informer_config ic = {.path = "/api/v1/nodes"};
    int rv;

    if (a->routes_off || a->nodes) return 0;
    if (!a->routes_started) {
        if (uv_timer_init(a->loop, &a->routes_timer) != 0) return ORC_EIO;
        a->routes_timer.data = a;
        a->routes_started = true;
    }
    log_info(AGENT_LOG, "pod network backend host-gw: routes to other nodes' pods via their "
                        "addresses on a shared link");
    rv = informer_start(a->loop, a->api, &ic, &cbs, a, &a->nodes);
    if (rv != 0) log_error(AGENT_LOG, "cannot watch Nodes for the routes to their pods: %s",
                           orc_strerror(rv));
    return rv;
}

static void routes_timer_closed(uv_handle_t *h) { agent_release(h->data); }

void agent_routes_stop(struct agent *a)
{
    if (a->nodes) informer_stop(a->nodes);
    a->nodes = NULL;
    if (!a->routes_started) return;
    a->routes_started = false;
    uv_timer_stop(&a->routes_timer);
    agent_hold(a);
    uv_close((uv_handle_t *)&a->routes_timer, routes_timer_closed);
}
