/* servicelb.c — ctl_servicelb: Services and Nodes from the shared informers
 * -> keys "ns/name" of Services (a Node's change in readiness or addresses
 * queues every LoadBalancer Service) -> reconcile: servicelb_status
 * decides, the status is written when it changed. */
#include "controllers/servicelb.h"

#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"

#define NOT_SYNCED_RETRY_MS 200

struct lb {
    struct ctl_base b;
    const struct orc_kind *ksvc;
    informer *svcs, *nodes;
};

/* ---- the decision ---- */

static bool node_ready(const json_t *node)
{
    const json_t *c = ctl_cond_get(json_object_get(node, "status"), "Ready");
    const char *s = c ? orc_json_str(c, "status") : NULL;
    return s && strcmp(s, "True") == 0;
}

/* ExternalIP when the node has one, else InternalIP; NULL for neither. */
static const char *node_address(const json_t *node)
{
    const json_t *addrs = orc_json_get(node, "status.addresses"), *a;
    const char *internal = NULL;
    size_t i;
    json_array_foreach (addrs, i, a) {
        const char *type = orc_json_str(a, "type"), *ip = orc_json_str(a, "address");
        if (!type || !ip || !*ip) continue;
        if (strcmp(type, "ExternalIP") == 0) return ip;
        if (strcmp(type, "InternalIP") == 0 && !internal) internal = ip;
    }
    return internal;
}

json_t *servicelb_node_ingress(const json_t *const *nodes, size_t n)
{
    json_t *out = json_array();
    for (size_t i = 0; out && i < n; i++) {
        const char *ip = node_ready(nodes[i]) ? node_address(nodes[i]) : NULL;
        size_t at = 0;
        bool dup = false;
        if (!ip) continue;
        for (; at < json_array_size(out); at++) {
            int c = strcmp(orc_json_str(json_array_get(out, at), "ip"), ip);
            if (c == 0) dup = true;
            if (c >= 0) break;
        }
        if (!dup && json_array_insert_new(out, at, json_pack("{s:s}", "ip", ip)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static bool is_load_balancer(const json_t *svc)
{
    const char *type = orc_json_str(svc, "spec.type");
    return type && strcmp(type, "LoadBalancer") == 0;
}

json_t *servicelb_status(const json_t *svc, const json_t *ingress)
{
    const json_t *cur = orc_json_get(svc, "status.loadBalancer");
    json_t *want;

    if (orc_json_str(svc, "spec.loadBalancerClass")) return NULL;
    if (is_load_balancer(svc) && json_array_size(ingress) > 0)
        want = json_pack("{s:O}", "ingress", (json_t *)ingress);
    else
        want = json_object();
    if (want && (json_equal(cur, want) || (!cur && json_object_size(want) == 0))) {
        json_decref(want);
        return NULL;
    }
    return want;
}

/* ---- informer handlers ---- */

static void on_svc(void *arg, const json_t *svc)
{
    struct lb *c = arg;
    ctl_base_enqueue(&c->b, svc);
}

static void on_svc_update(void *arg, const json_t *old, const json_t *svc)
{
    (void)old;
    on_svc(arg, svc);
}

static void queue_if_lb(void *arg, const json_t *svc)
{
    struct lb *c = arg;
    if (is_load_balancer(svc) || orc_json_get(svc, "status.loadBalancer.ingress")) ctl_base_enqueue(&c->b, svc);
}

static void nodes_changed(struct lb *c)
{
    if (!c->b.stopped) informer_each(c->svcs, queue_if_lb, c);
}

static void on_node(void *arg, const json_t *node)
{
    (void)node;
    nodes_changed(arg);
}

static void on_node_update(void *arg, const json_t *old, const json_t *node)
{
    const char *a = node_address(old), *b = node_address(node);
    if (node_ready(old) != node_ready(node) || (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        nodes_changed(arg);
}

/* ---- reconcile ---- */

/* The Service's new status.loadBalancer, or NULL with *retry set on ENOMEM. */
static json_t *decide(struct lb *c, const json_t *svc, bool *retry)
{
    struct ctl_list l = {0};
    json_t *ingress = NULL, *st = NULL;

    informer_each(c->nodes, ctl_list_add, &l);
    if (!l.fail) ingress = servicelb_node_ingress(l.v, l.n);
    if (ingress) st = servicelb_status(svc, ingress);
    *retry = l.fail || !ingress;
    free(l.v);
    json_decref(ingress);
    return st;
}

static void reconcile(void *arg, const char *key)
{
    struct lb *c = arg;
    char ns[256], name[256];
    const json_t *svc;
    json_t *st;
    bool retry = false;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0
        || (svc = informer_get(c->svcs, ns, name)) == NULL || !(st = decide(c, svc, &retry))) {
        workqueue_done(c->b.q, key, retry ? WQ_RETRY : WQ_DONE);
        return;
    }
    ctl_base_write_status(&c->b, c->ksvc, key, svc, "status.loadBalancer", st);
}

/* ---- start ---- */

static int servicelb_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "servicelb",
                                              .component = "service-lb-controller",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs svc_cbs = {on_svc, on_svc_update, NULL, NULL};
    static const struct informer_cbs node_cbs = {on_node, on_node_update, on_node, NULL};
    struct lb *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->ksvc = orc_kind_lookup("services");
    const struct ctl_watch w[] = {
        {c->ksvc, &svc_cbs, &c->svcs},
        {orc_kind_lookup("nodes"), &node_cbs, &c->nodes},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_servicelb = {"servicelb", servicelb_start, ctl_base_stop_state};
