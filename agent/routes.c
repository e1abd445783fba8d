/* routes.c — the cluster's other Nodes, watched, kept as routes to their
 * pods (net_peers_set: host-gw, vxlan, or auto: each by peer): within a
 * moment of a Node appearing, changing its address or vtep MAC or going
 * away, and again every few seconds, so a route or entry removed by hand
 * or with its link comes back. Once this node has a vxlan device, its MAC
 * is published on its own Node (annotation orc.dev/vtep-mac), where the
 * peers read it. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define ROUTES_RESYNC_MS 5000
#define ROUTES_RETRY_MS 1000

const char *agent_node_vtep_mac(const json_t *node)
{
    const json_t *v = json_object_get(orc_json_get(node, "metadata.annotations"), AGENT_ANN_VTEP_MAC);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

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
            *out = (struct net_peer){name, cidr, ip, agent_node_vtep_mac(node)};
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

static void on_routes_timer(uv_timer_t *t);

static void on_vtep_published(void *arg, int status, const json_t *body)
{
    struct agent *a = arg;

    a->vtep_patching = false;
    if (status != 200)
        log_warn(AGENT_LOG, "publishing this node's vtep MAC: %s",
                 status < 0 ? orc_strerror(status) : orc_json_str(body, "message"));
    /* the Node's update (or the retry) brings the next sync */
    if (status != 200 && !a->stopping && a->routes_started)
        uv_timer_start(&a->routes_timer, on_routes_timer, ROUTES_RETRY_MS, 0);
}

/* The peers find our vxlan device's MAC on our Node; written when it
 * differs from what the cache shows (one write in flight at most). */
static void publish_vtep(struct agent *a)
{
    const json_t *self = informer_get(a->nodes, "", a->node_name);
    const char *have = agent_node_vtep_mac(self);
    char mac[18], path[320];
    json_t *patch;

    if (a->vtep_patching || self == NULL || net_vtep(a->net, mac) != 0) return;
    if (have && strcmp(have, mac) == 0) return;
    patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", AGENT_ANN_VTEP_MAC, mac);
    if (patch == NULL) return;
    snprintf(path, sizeof path, "/api/v1/nodes/%s", a->node_name);
    log_info(AGENT_LOG, "publishing this node's vtep MAC %s on its Node", mac);
    if (agent_api_call(a, "PATCH", path, "application/merge-patch+json", patch, on_vtep_published, a) == 0)
        a->vtep_patching = true;
    json_decref(patch);
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
    /* retried every second: said once per different failure */
    uint64_t key = rv ? orc_fnv1a(ORC_FNV_OFFSET, errmsg, strlen(errmsg)) : 0;
    if (rv != 0 && key != a->routes_err_key)
        log_warn(AGENT_LOG, "routes to other nodes' pods: %s (retrying every second)", errmsg);
    if (rv == 0 && a->routes_err_key) log_info(AGENT_LOG, "routes to other nodes' pods: in place again");
    a->routes_err_key = key;
    publish_vtep(a);
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

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool is_self(struct agent *a, const json_t *node)
{
    const char *name = orc_json_str(node, "metadata.name");
    return name && strcmp(name, a->node_name) == 0;
}

static void node_updated(void *arg, const json_t *old, const json_t *obj)
{
    struct net_peer a, b;
    bool had = agent_node_peer(old, ((struct agent *)arg)->node_name, &a);
    bool has = agent_node_peer(obj, ((struct agent *)arg)->node_name, &b);

    /* heartbeats (every status post) change neither */
    if (had != has || (has && (strcmp(a.pod_cidr, b.pod_cidr) != 0 || strcmp(a.ip, b.ip) != 0
                               || !same_str(a.vtep_mac, b.vtep_mac))))
        routes_soon(arg);
    else if (is_self(arg, obj) && !same_str(agent_node_vtep_mac(old), agent_node_vtep_mac(obj)))
        routes_soon(arg); /* our own annotation, written or lost */
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
    log_info(AGENT_LOG, "pod network backend %s: %s", net_backend_name(a->backend),
             a->backend == NET_BACKEND_HOST_GW ? "routes to other nodes' pods via their addresses "
                                                 "on a shared link"
             : a->backend == NET_BACKEND_VXLAN ? "a VXLAN overlay to every other node"
                                               : "host-gw to nodes on a shared link, VXLAN to the rest");
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
