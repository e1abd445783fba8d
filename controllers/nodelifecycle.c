/* nodelifecycle.c — the node lifecycle controller's wiring: node, Lease and
 * pod informers feed a work queue of node names. A step writes one change
 * of the node (its conditions, else its taints) or, with the node as it
 * should be, deletes the pods its NoExecute taints no longer let stay; it
 * looks again when the lease would go stale or a toleration runs out. Pods
 * of a node that is gone, or of an unreachable one, are deleted with grace
 * 0: no agent is there to confirm, and their controllers replace them. */
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/nodelifecycle.h"

#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "controllers/nodematch.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define NL_LOG "nodelifecycle"
#define NL_GRACE_DEFAULT_MS 20000
/* A step's deletes are seen by the pod informer; look again after this in
 * case one was lost. */
#define NL_RECHECK_MS 5000
/* Pods bound to a node this controller never saw are left this long (a
 * node about to register; Kubernetes' pod GC quarantine), those of a node
 * it saw deleted go at once. */
#define NL_ORPHAN_QUARANTINE_MS 40000

struct nl_node {
    struct orc_hnode hn;
    char *name;
    struct nl_health h;
};

struct nl_ctl {
    struct ctl_base b; /* refs: the controller's own, plus one per step with calls in flight */
    informer *nodei, *leasei, *podi;
    struct orc_hmap nodes; /* struct nl_node by name */
    uint64_t grace_ms;
};

/* ---- lifetime and node records ---- */

static void node_free(struct nl_node *n)
{
    free(n->name);
    free(n);
}

static void nl_free(void *arg)
{
    struct nl_ctl *c = arg;
    struct orc_hnode *h, *next;

    for (h = orc_hmap_first(&c->nodes); h; h = next) {
        next = orc_hmap_next(&c->nodes, h);
        orc_hmap_del(&c->nodes, h);
        node_free(ORC_CONTAINER(h, struct nl_node, hn));
    }
    orc_hmap_free(&c->nodes);
    free(c);
}

static void ctl_release(struct nl_ctl *c)
{
    ctl_base_put(&c->b);
}

static struct nl_node *node_get(struct nl_ctl *c, const char *name)
{
    struct orc_hnode *h = orc_hmap_get(&c->nodes, name);
    return h ? ORC_CONTAINER(h, struct nl_node, hn) : NULL;
}

/* The record of a node, made on first sight with a whole grace. */
static struct nl_node *node_track(struct nl_ctl *c, const char *name, const json_t *lease)
{
    struct nl_node *n = node_get(c, name);

    if (n) return n;
    if (!(n = calloc(1, sizeof *n)) || !(n->name = strdup(name))) {
        free(n);
        return NULL;
    }
    n->hn.key = n->name;
    nl_health_init(&n->h, lease, orc_clock_now(c->b.ctx->clock));
    if (orc_hmap_put(&c->nodes, &n->hn) != 0) {
        node_free(n);
        return NULL;
    }
    return n;
}

static void node_forget(struct nl_ctl *c, const char *name)
{
    struct nl_node *n = node_get(c, name);

    if (!n) return;
    orc_hmap_del(&c->nodes, &n->hn);
    node_free(n);
}

/* ---- handlers ---- */

static void on_node(void *arg, const json_t *obj)
{
    struct nl_ctl *c = arg;
    if (!c->b.stopped) workqueue_add(c->b.q, orc_json_str(obj, "metadata.name") ?: "");
}

static void on_node_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    on_node(arg, obj);
}

static void on_lease(void *arg, const json_t *lease)
{
    struct nl_ctl *c = arg;
    const char *ns = orc_json_str(lease, "metadata.namespace");
    const char *name = orc_json_str(lease, "metadata.name");
    struct nl_node *n;

    if (c->b.stopped || !ns || !name || strcmp(ns, NL_LEASE_NS) != 0) return;
    /* Seen now: the grace counts from when this controller saw it. */
    if ((n = node_get(c, name))) nl_health_observe(&n->h, lease, orc_clock_now(c->b.ctx->clock));
    workqueue_add(c->b.q, name);
}

static void on_lease_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    on_lease(arg, obj);
}

/* A pod landing on a node with NoExecute taints may have to go. */
static void on_pod(void *arg, const json_t *pod)
{
    struct nl_ctl *c = arg;
    const char *node = orc_json_str(pod, "spec.nodeName");
    const json_t *n;

    if (c->b.stopped || !node || !*node) return;
    n = informer_get(c->nodei, "", node);
    if (!n || json_array_size(orc_json_get(n, "spec.taints")) > 0) workqueue_add(c->b.q, node);
}

static void on_pod_update(void *arg, const json_t *old, const json_t *obj)
{
    const char *a = orc_json_str(old, "spec.nodeName"), *b = orc_json_str(obj, "spec.nodeName");
    if (!a || !b || strcmp(a, b) != 0) on_pod(arg, obj);
}

/* ---- calls ---- */

/* A step (ctl_op.h) holds the controller until its last call ended. */
static void step_release(void *arg)
{
    ctl_release(arg);
}

static struct nl_ctl *ctl_of(const struct ctl_step *s)
{
    return s->owner;
}

static void on_answer(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;

    if (status != 200 && status != 202 && status != 404) {
        s->op.failed = true;
        log_debug(NL_LOG, "node %s: %s", s->key, rest_message(status, body));
    }
    ctl_step_put(s);
}

static void issue(struct ctl_step *s, int rv)
{
    if (rv == 0) ctl_step_hold(s);
    else s->op.failed = true;
}

/* A merge patch guarded by the node's resourceVersion (an agent posting its
 * status meanwhile wins; the step runs again on its update). */
static void patch_node(struct ctl_step *s, const json_t *node, const char *sub, const char *field,
                       json_t *value)
{
    json_t *p = json_pack("{s:{s:s}, s:{s:o}}", "metadata", "resourceVersion",
                          orc_json_str(node, "metadata.resourceVersion") ?: "", sub ? "status" : "spec",
                          field, value);

    issue(s, p ? rest_patch(ctl_of(s)->b.ctx->api, orc_kind_lookup("nodes"), NULL, s->key, sub,
                            "application/merge-patch+json", p, on_answer, s)
               : ORC_ENOMEM);
    json_decref(p);
}

static void delete_pod(struct ctl_step *s, const json_t *pod, bool force)
{
    struct rest_delete_opts o = {.uid = orc_json_str(pod, "metadata.uid"), .grace_seconds = force ? 0 : -1};

    issue(s, rest_delete(ctl_of(s)->b.ctx->api, orc_kind_lookup("pods"), orc_json_str(pod, "metadata.namespace"),
                         orc_json_str(pod, "metadata.name"), &o, on_answer, s));
}

/* ---- evictions ---- */

struct evict {
    struct ctl_step *s;
    const json_t *node; /* NULL: the node is gone */
    bool quarantine;    /* gone, or never seen: spare young pods */
    bool force;
    int64_t now, next; /* next: ms until the next toleration runs out, -1 none */
    bool issued;
};

static void evict_pod(void *arg, const json_t *pod)
{
    struct evict *e = arg;
    struct nl_ctl *c = ctl_of(e->s);
    int64_t grace = -1, d;

    if (!e->node) {
        /* bound to a node never seen: it may be about to register */
        int64_t created = e->now;
        ctl_time_ms(orc_json_str(pod, "metadata.creationTimestamp"), &created);
        d = e->quarantine ? created + NL_ORPHAN_QUARANTINE_MS - e->now : 0;
        if (d < 0) d = 0;
    } else {
        d = nl_pod_eviction_ms(e->node, pod, e->now);
    }
    if (orc_json_get(pod, "metadata.deletionTimestamp")) {
        /* Deleted gracefully, but no agent will confirm it (once past the
         * quarantine of a node never seen). */
        orc_json_int(pod, "metadata.deletionGracePeriodSeconds", &grace);
        if (!e->node && d > 0) {
            if (e->next < 0 || d < e->next) e->next = d;
        } else if (e->force && grace != 0) {
            delete_pod(e->s, pod, true);
            e->issued = true;
        }
        return;
    }
    if (d > 0 && (e->next < 0 || d < e->next)) e->next = d;
    if (d != 0) return;
    events_record(c->b.rec, pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod %s/%s",
                  orc_json_str(pod, "metadata.namespace") ?: "", orc_json_str(pod, "metadata.name") ?: "");
    delete_pod(e->s, pod, e->force);
    e->issued = true;
}

static int64_t evict_all(struct ctl_step *s, const json_t *node, bool quarantine, bool force)
{
    struct evict e = {s, node, quarantine, force, orc_clock_wall(ctl_of(s)->b.ctx->clock), -1, false};

    informer_by_index(ctl_of(s)->podi, "node", s->key, evict_pod, &e);
    if (e.issued && (e.next < 0 || e.next > NL_RECHECK_MS)) e.next = NL_RECHECK_MS;
    return e.next;
}

/* ---- pods of a node that is not ready ---- */

struct unready {
    struct ctl_step *s;
    const char *now;
};

/* As Kubernetes' MarkPodsNotReady: the pod's Ready condition goes False
 * (its agent cannot say otherwise), so the endpoint controllers take it out
 * of Services at once, long before it is evicted. The agent, back, writes
 * the truth again. */
static void mark_not_ready(void *arg, const json_t *pod)
{
    struct unready *u = arg;
    struct nl_ctl *c = ctl_of(u->s);

    if (!ctl_pod_ready(pod) || orc_json_get(pod, "metadata.deletionTimestamp")) return;
    json_t *p = json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:s}]}}", "status", "conditions", "type", "Ready",
                          "status", "False", "reason", "NodeNotReady", "message", "Node is not ready",
                          "lastTransitionTime", u->now);
    issue(u->s, p ? rest_patch(c->b.ctx->api, orc_kind_lookup("pods"), orc_json_str(pod, "metadata.namespace"),
                               orc_json_str(pod, "metadata.name"), "status",
                               "application/strategic-merge-patch+json", p, on_answer, u->s)
                  : ORC_ENOMEM);
    json_decref(p);
    events_record(c->b.rec, pod, "Warning", "NodeNotReady", "Node is not ready");
}

/* ---- reconcile ---- */

static int64_t earliest(int64_t a, int64_t b)
{
    if (a <= 0) return b;
    if (b <= 0) return a;
    return a < b ? a : b;
}

static void node_events(struct nl_ctl *c, const json_t *node, const json_t *conds)
{
    const char *was = nl_ready_status(orc_json_get(node, "status.conditions"));
    const char *now = nl_ready_status(conds);

    if (!now || (was && strcmp(was, now) == 0)) return;
    if (strcmp(now, "True") == 0)
        events_record(c->b.rec, node, "Normal", "NodeReady", "Node %s status is now: NodeReady",
                      orc_json_str(node, "metadata.name"));
    else
        events_record(c->b.rec, node, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady",
                      orc_json_str(node, "metadata.name"));
}

static void step_node(struct ctl_step *s, const json_t *node)
{
    struct nl_ctl *c = ctl_of(s);
    const json_t *lease = informer_get(c->leasei, NL_LEASE_NS, s->key);
    struct nl_node *n = node_track(c, s->key, lease);
    uint64_t now = orc_clock_now(c->b.ctx->clock), left = c->grace_ms;
    char now_s[ORC_TIME_LEN];
    json_t *conds, *taints;

    if (n) {
        nl_health_observe(&n->h, lease, now);
        left = nl_health_left_ms(&n->h, now, c->grace_ms);
    }
    orc_time_format(orc_clock_wall(c->b.ctx->clock) / 1000, now_s);
    if ((conds = nl_conditions(node, left == 0, now_s))) {
        node_events(c, node, conds);
        patch_node(s, node, "status", "conditions", conds);
    } else if ((taints = nl_taints(node, NULL, now_s))) {
        patch_node(s, node, NULL, "taints", taints);
    } else {
        const char *ready = nl_ready_status(orc_json_get(node, "status.conditions"));
        if (ready && strcmp(ready, "True") != 0) {
            struct unready u = {s, now_s};
            informer_by_index(c->podi, "node", s->key, mark_not_ready, &u);
        }
        s->requeue_ms = evict_all(s, node, false, ready && strcmp(ready, "Unknown") == 0);
    }
    if (left > 0) s->requeue_ms = earliest(s->requeue_ms, (int64_t)left);
}

static void reconcile(void *arg, const char *key)
{
    struct nl_ctl *c = arg;
    struct ctl_step *s;
    const json_t *node;

    if (!ctl_base_ready(&c->b, key, 200)) return;
    if (!(s = ctl_step_new(c->b.q, key, NULL, step_release, c))) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    ctl_base_hold(&c->b);
    if ((node = informer_get(c->nodei, "", key))) {
        step_node(s, node);
    } else {
        /* Left the cluster (seen before): its pods are orphans. */
        bool seen = node_get(c, key) != NULL;
        node_forget(c, key);
        s->requeue_ms = evict_all(s, NULL, !seen, true);
    }
    ctl_step_put(s);
}

/* ---- start, stop ---- */

static const struct informer_cbs node_cbs = {on_node, on_node_update, on_node, NULL};
static const struct informer_cbs lease_cbs = {on_lease, on_lease_update, NULL, NULL};
static const struct informer_cbs pod_cbs = {on_pod, on_pod_update, NULL, NULL};

static int nl_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = "nodelifecycle", .component = "node-controller", .reconcile = reconcile, .free_self = nl_free};
    struct nl_ctl *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    c->grace_ms = ctx->opts && ctx->opts->node_monitor_grace_ms ? ctx->opts->node_monitor_grace_ms
                                                                 : NL_GRACE_DEFAULT_MS;
    const struct ctl_watch w[] = {
        {orc_kind_lookup("nodes"), &node_cbs, &c->nodei},
        {orc_kind_lookup("leases"), &lease_cbs, &c->leasei},
        {orc_kind_lookup("pods"), &pod_cbs, &c->podi},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_nodelifecycle = {"nodelifecycle", nl_start, ctl_base_stop_state};
