/* sched.c — the scheduler as a controller: pod and node informers feed the
 * node info cache and a work queue of unbound pods, handed out by priority
 * (higher spec.priority first, then first queued: Kubernetes'
 * PrioritySort); reconcile(key) decides for one pod, assumes it on the
 * chosen node and binds it through pods/{name}/binding (many binds in
 * flight); a pod that fits nowhere gets PodScheduled=False/Unschedulable, a
 * FailedScheduling event, perhaps a preemption, and is retried when nodes
 * or pods change. A pod with schedulingGates waits with
 * PodScheduled=False/SchedulingGated until an update removes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "scheduler/sched_int.h"

#define MOD "scheduler"
#define TICK_MS 1000
#define UNSCHEDULABLE_RETRY_MS 30000
#define NOT_SYNCED_RETRY_MS 100
#define EVENT_REPEAT_MS 60000
/* Binds in flight at once: the API keeps many writes in one Raft entry. */
#define WORKERS 256

struct sched {
    struct ctl_ctx *ctx;
    const struct orc_kind *pod_kind;
    informer *pods, *nodes, *classes, *pvcs, *pvs;
    workqueue *q;
    event_recorder *rec;
    orc_timer *tick;
    sched_cache cache;
    struct sched_weights w;
    json_t *unsched; /* pods that fit nowhere, retried on changes: key ->
                        [last FailedScheduling message, clock ms of it,
                         refused by a topology spread constraint] */
    bool stopped;
    unsigned refs;   /* 1 while running + calls in flight */
};

static void unref(struct sched *s)
{
    if (--s->refs > 0) return;
    json_decref(s->unsched);
    free(s);
}

/* ---- priority classes and volumes from the caches ---- */

struct default_class {
    bool found;
    int32_t value;
};

static void find_default(void *arg, const json_t *pc)
{
    struct default_class *d = arg;
    if (json_is_true(json_object_get(pc, "globalDefault"))) {
        d->found = true;
        d->value = (int32_t)json_integer_value(json_object_get(pc, "value"));
    }
}

static int class_priority(void *arg, const char *name, int32_t *value)
{
    struct sched *s = arg;
    struct default_class d = {0};
    const json_t *pc;
    if (s->classes == NULL) return ORC_ENOENT;
    if (name) {
        pc = informer_get(s->classes, "", name);
        if (pc == NULL) return ORC_ENOENT;
        *value = (int32_t)json_integer_value(json_object_get(pc, "value"));
        return 0;
    }
    informer_each(s->classes, find_default, &d);
    if (!d.found) return ORC_ENOENT;
    *value = d.value;
    return 0;
}

/* nodeAffinity.required of the PVs bound to the pod's claims. */
static void pod_volumes(struct sched *s, const json_t *pod, const json_t **req, size_t max,
                        struct sched_volumes *out)
{
    const char *ns = orc_json_str(pod, "metadata.namespace");
    const json_t *vol;
    size_t i;
    out->required = req;
    out->n = 0;
    if (s->pvcs == NULL || s->pvs == NULL) return;
    json_array_foreach(orc_json_get(pod, "spec.volumes"), i, vol) {
        const char *claim = orc_json_str(vol, "persistentVolumeClaim.claimName");
        const json_t *pvc = claim ? informer_get(s->pvcs, ns ? ns : "default", claim) : NULL;
        const char *pv_name = pvc ? orc_json_str(pvc, "spec.volumeName") : NULL;
        const json_t *pv = pv_name && *pv_name ? informer_get(s->pvs, "", pv_name) : NULL;
        const json_t *r = pv ? orc_json_get(pv, "spec.nodeAffinity.required") : NULL;
        if (r && out->n < max) req[out->n++] = r;
    }
}

/* The queue's order: the pod's priority (its class's when it gives none). */
static int64_t queue_rank(void *arg, const char *key)
{
    struct sched *s = arg;
    char ns[256], name[256];
    const json_t *pod;
    if (s->stopped || s->pods == NULL || ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0)
        return 0;
    pod = informer_get(s->pods, ns, name);
    return pod ? sched_pod_priority(pod, class_priority, s) : 0;
}

/* ---- retrying pods that fit nowhere ---- */

static void retry_unschedulable(struct sched *s)
{
    const char *key;
    json_t *v;
    if (s->stopped) return;
    json_object_foreach(s->unsched, key, v) workqueue_add(s->q, key);
}

/* A pod placed in a namespace may lift the global minimum of a spread
 * there (Kubernetes requeues on pod adds for PodTopologySpread). */
static void retry_spread_waiting(struct sched *s, const char *ns)
{
    size_t len = strlen(ns);
    const char *key;
    json_t *v;
    json_object_foreach(s->unsched, key, v)
        if (json_is_true(json_array_get(v, 2)) && strncmp(key, ns, len) == 0 && key[len] == '/')
            workqueue_add(s->q, key);
}

static void tick(void *arg)
{
    struct sched *s = arg;
    if (sched_cache_expire(&s->cache, orc_clock_now(s->ctx->clock)) > 0) retry_unschedulable(s);
    orc_timer_start(s->tick, TICK_MS);
}

/* ---- informer handlers ---- */

static bool same_at(const json_t *a, const json_t *b, const char *path);

static void pod_key(const json_t *pod, char *key, size_t n)
{
    const char *ns = orc_json_str(pod, "metadata.namespace");
    snprintf(key, n, "%s/%s", ns ? ns : "default", orc_json_str(pod, "metadata.name"));
}

static bool counted(const json_t *pod)
{
    const char *node = orc_json_str(pod, "spec.nodeName");
    const char *phase = orc_json_str(pod, "status.phase");
    return node && *node && !(phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")));
}

static void pod_seen(struct sched *s, const json_t *old, const json_t *pod)
{
    char key[512];
    if (s->stopped) return;
    pod_key(pod, key, sizeof key);
    if (sched_cache_observe_pod(&s->cache, pod, class_priority, s) != 0)
        log_warn(MOD, "pod %s not cached: out of memory", key);
    if (counted(pod) && !(old && counted(old))) {
        const char *ns = orc_json_str(pod, "metadata.namespace");
        retry_spread_waiting(s, ns ? ns : "default");
    }
    if (sched_pod_wanted(pod)) {
        /* Our own status write on a waiting (or gated) pod is no reason to
         * try again. */
        bool waiting = json_object_get(s->unsched, key) || sched_pod_gated(pod);
        if (!(old && waiting && same_at(old, pod, "spec") && same_at(old, pod, "metadata.labels")))
            workqueue_add(s->q, key);
        return;
    }
    json_object_del(s->unsched, key);
    /* A pod that stops counting frees room. */
    if (old && counted(old) && !counted(pod)) retry_unschedulable(s);
}

static void pod_added(void *arg, const json_t *pod)
{
    pod_seen(arg, NULL, pod);
}

static void pod_updated(void *arg, const json_t *old, const json_t *pod)
{
    pod_seen(arg, old, pod);
}

static void pod_deleted(void *arg, const json_t *pod)
{
    struct sched *s = arg;
    char key[512];
    if (s->stopped) return;
    pod_key(pod, key, sizeof key);
    sched_cache_pod_gone(&s->cache, orc_json_str(pod, "metadata.namespace"),
                         orc_json_str(pod, "metadata.name"));
    json_object_del(s->unsched, key);
    if (counted(pod)) retry_unschedulable(s);
}

static void node_added(void *arg, const json_t *node)
{
    struct sched *s = arg;
    if (s->stopped) return;
    if (sched_cache_set_node(&s->cache, node) != 0) log_warn(MOD, "node not cached");
    retry_unschedulable(s);
}

/* A new or changed PriorityClass (or a PV binding) may let a waiting pod
 * preempt or fit. */
static void class_or_volume_added(void *arg, const json_t *obj)
{
    (void)obj;
    retry_unschedulable(arg);
}

static void class_or_volume_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    (void)obj;
    retry_unschedulable(arg);
}

static bool same_at(const json_t *a, const json_t *b, const char *path)
{
    const json_t *x = orc_json_get(a, path), *y = orc_json_get(b, path);
    return x == y || (x && y && json_equal((json_t *)x, (json_t *)y));
}

/* Only what a decision reads: a heartbeat alone retries nothing. */
static bool node_changed_for_scheduling(const json_t *old, const json_t *node)
{
    return !same_at(old, node, "metadata.labels") || !same_at(old, node, "spec")
           || !same_at(old, node, "status.allocatable") || !same_at(old, node, "status.capacity")
           || sched_node_ready(old) != sched_node_ready(node);
}

static void node_updated(void *arg, const json_t *old, const json_t *node)
{
    struct sched *s = arg;
    if (s->stopped) return;
    if (sched_cache_set_node(&s->cache, node) != 0) log_warn(MOD, "node not cached");
    if (node_changed_for_scheduling(old, node)) retry_unschedulable(s);
}

static void node_deleted(void *arg, const json_t *node)
{
    struct sched *s = arg;
    if (s->stopped) return;
    sched_cache_remove_node(&s->cache, orc_json_str(node, "metadata.name"));
}

/* ---- binding ---- */

struct call {
    struct sched *s;
    json_t *pod;     /* own reference */
    char *key;
    char node[256];
    uint64_t attempt_ns; /* a binding: when its scheduling attempt began */
};

static struct call *call_new(struct sched *s, const json_t *pod, const char *key, const char *node)
{
    struct call *c = calloc(1, sizeof *c);
    if (c == NULL || (c->key = strdup(key)) == NULL) {
        free(c);
        return NULL;
    }
    c->s = s;
    c->pod = json_incref((json_t *)pod);
    snprintf(c->node, sizeof c->node, "%s", node ? node : "");
    s->refs++;
    return c;
}

static void call_free(struct call *c)
{
    unref(c->s);
    json_decref(c->pod);
    free(c->key);
    free(c);
}

static void bound(void *arg, int status, const json_t *body)
{
    struct call *c = arg;
    struct sched *s = c->s;
    int64_t outcome = WQ_DONE;

    if (c->attempt_ns) sched_metrics_attempt(status == 201 || status == 200 ? "scheduled" : "error", c->attempt_ns);
    if (status == 201 || status == 200) {
        if (!s->stopped)
            events_record(s->rec, c->pod, "Normal", "Scheduled", "Successfully assigned %s to %s",
                          c->key, c->node);
    } else {
        if (!s->stopped) sched_cache_forget(&s->cache, c->key);
        if (status != 404) {
            log_info(MOD, "binding %s to %s: %s", c->key, c->node, rest_message(status, body));
            outcome = WQ_RETRY;
        }
    }
    workqueue_done(s->q, c->key, outcome);
    call_free(c);
}

static int bind_pod(struct sched *s, const json_t *pod, const char *key, const char *node,
                    uint64_t attempt_ns)
{
    const char *ns = orc_json_str(pod, "metadata.namespace");
    const char *name = orc_json_str(pod, "metadata.name");
    struct orc_buf path = {0};
    struct call *c = call_new(s, pod, key, node);
    json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1",
                             "kind", "Binding", "metadata", "name", name, "namespace",
                             ns ? ns : "default", "target", "apiVersion", "v1", "kind", "Node",
                             "name", node);
    int rc = ORC_ENOMEM;

    if (c == NULL || body == NULL) goto out;
    c->attempt_ns = attempt_ns;
    rc = orc_kind_path(s->pod_kind, ns ? ns : "default", name, "binding", &path);
    if (rc == 0) rc = rest_call(s->ctx->api, "POST", path.data, NULL, body, 0, bound, c);
out:
    if (rc != 0 && c) call_free(c);
    json_decref(body);
    orc_buf_free(&path);
    return rc;
}

/* ---- a pod that fits nowhere ---- */

static void status_written(void *arg, int status, const json_t *body)
{
    struct call *c = arg;
    if (status != 200 && status != 404)
        log_info(MOD, "status of %s: %s", c->key, rest_message(status, body));
    call_free(c);
}

static const json_t *scheduled_condition(const json_t *pod)
{
    const json_t *cond;
    size_t i;
    json_array_foreach(orc_json_get(pod, "status.conditions"), i, cond) {
        const char *t = orc_json_str(cond, "type");
        if (t && strcmp(t, "PodScheduled") == 0) return cond;
    }
    return NULL;
}

static bool str_is(const json_t *obj, const char *path, const char *want)
{
    const char *v = orc_json_str(obj, path);
    return v && want && strcmp(v, want) == 0;
}

/* PodScheduled=False with the reason (Unschedulable, SchedulingGated) and
 * message, and the nominated node; written only when one of them changed.
 * A strategic merge patch (conditions merge by type, as Kubernetes' own
 * scheduler patches them) touches only that condition: a whole array
 * built from the cache would undo a Ready written meanwhile. */
static void write_not_scheduled(struct sched *s, const json_t *pod, const char *key,
                                const char *reason, const char *msg, const char *nominated)
{
    const json_t *cur = scheduled_condition(pod);
    json_t *conds, *patch;
    struct call *c;
    char now[ORC_TIME_LEN];
    bool nominated_same = nominated == NULL || str_is(pod, "status.nominatedNodeName", nominated);

    if (cur && str_is(cur, "status", "False") && str_is(cur, "reason", reason)
        && str_is(cur, "message", msg) && nominated_same)
        return;
    conds = json_array();
    orc_time_format(orc_clock_wall(s->ctx->clock) / 1000, now);
    json_array_append_new(conds, json_pack("{s:s, s:s, s:n, s:s, s:s, s:s}", "type", "PodScheduled",
                                           "status", "False", "lastProbeTime", "lastTransitionTime",
                                           cur && str_is(cur, "status", "False")
                                               ? orc_json_str(cur, "lastTransitionTime")
                                               : now,
                                           "reason", reason, "message", msg));
    patch = json_pack("{s:{s:o}}", "status", "conditions", conds);
    if (patch && nominated) json_object_set_new(json_object_get(patch, "status"), "nominatedNodeName", json_string(nominated));
    c = patch ? call_new(s, pod, key, NULL) : NULL;
    if (c && rest_patch(s->ctx->api, s->pod_kind, orc_json_str(pod, "metadata.namespace"),
                        orc_json_str(pod, "metadata.name"), "status",
                        "application/strategic-merge-patch+json", patch, status_written, c) != 0)
        call_free(c);
    json_decref(patch);
}

static void victim_deleted(void *arg, int status, const json_t *body)
{
    struct call *c = arg;
    if (status != 200 && status != 202 && status != 404)
        log_info(MOD, "preempting %s: %s", c->key, rest_message(status, body));
    call_free(c);
}

/* Deletes the victims (gracefully) and reserves the node for p. */
static void preempt(struct sched *s, sched_pod *p, const struct sched_preemption *pr)
{
    for (size_t i = 0; i < pr->nvictims; i++) {
        const sched_pod *v = pr->victims[i];
        struct rest_delete_opts opts = {.uid = v->uid, .grace_seconds = -1};
        struct call *c = call_new(s, v->obj, v->key, NULL);
        events_record(s->rec, v->obj, "Normal", "Preempted", "Preempted by %s on node %s", p->key,
                      pr->node->name);
        if (c && rest_delete(s->ctx->api, s->pod_kind, v->ns, v->name, &opts, victim_deleted, c) != 0)
            call_free(c);
    }
}

/* The pod already holds a node where lower-priority pods are still going
 * away: wait for them instead of preempting more. */
static sched_node *waiting_on(struct sched *s, const sched_pod *p)
{
    const char *nom = orc_json_str(p->obj, "status.nominatedNodeName");
    sched_node *n = nom && *nom ? sched_cache_node(&s->cache, nom) : NULL;
    for (size_t i = 0; n && i < n->npods; i++)
        if (n->pods[i]->terminating && n->pods[i]->priority < p->priority) return n;
    return NULL;
}

/* Every retry of thousands of waiting pods would write an event each (the
 * recorder folds repeats into a count, but each fold is a write): the same
 * message for a pod is recorded at most once a minute, as client-go's spam
 * filter would thin it. Remembers the pod as waiting. */
static bool recently_told(struct sched *s, const char *key, const char *msg, bool spread)
{
    const json_t *last = json_object_get(s->unsched, key);
    const char *was = json_string_value(json_array_get(last, 0));
    uint64_t at = (uint64_t)json_integer_value(json_array_get(last, 1));
    uint64_t now = orc_clock_now(s->ctx->clock);

    if (was && strcmp(was, msg) == 0 && now - at < EVENT_REPEAT_MS) return true;
    json_object_set_new(s->unsched, key, json_pack("[s, I, b]", msg, (json_int_t)now, spread));
    return false;
}

static int64_t unschedulable(struct sched *s, sched_pod *p, const struct sched_result *res)
{
    struct sched_preemption pr = {0};
    sched_node *wait = waiting_on(s, p);
    const char *nominated = NULL;
    char *msg = sched_result_message(res);
    char key[512];

    snprintf(key, sizeof key, "%s", p->key);
    if (msg == NULL) {
        sched_pod_free(p);
        return WQ_RETRY;
    }
    if (!recently_told(s, key, msg, res->counts[SR_SPREAD] > 0))
        events_record(s->rec, p->obj, "Warning", "FailedScheduling", "%s", msg);
    if (wait == NULL && sched_preempt(&s->cache, p, res, &pr) == 0 && pr.node) {
        preempt(s, p, &pr);
        wait = pr.node;
    }
    if (wait) nominated = wait->name;
    write_not_scheduled(s, p->obj, key, "Unschedulable", msg, nominated);
    /* The reservation keeps lower pods off the room being freed; the cache
     * owns p from here (also on failure). */
    if (wait)
        sched_cache_assume(&s->cache, p, wait, true, orc_clock_now(s->ctx->clock));
    else
        sched_pod_free(p);
    sched_preemption_fini(&pr);
    free(msg);
    return UNSCHEDULABLE_RETRY_MS;
}

/* ---- reconcile ---- */

static void reconcile(void *arg, const char *key)
{
    struct sched *s = arg;
    char ns[256], name[256];
    const json_t *pod, *vol_req[16];
    struct sched_volumes vols;
    struct sched_result res;
    sched_pod *p, *cached;
    int64_t outcome;
    uint64_t start;

    if (!informer_set_synced(s->ctx->informers)) {
        workqueue_done(s->q, key, NOT_SYNCED_RETRY_MS);
        return;
    }
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0) {
        workqueue_done(s->q, key, WQ_DONE);
        return;
    }
    pod = informer_get(s->pods, ns, name);
    cached = sched_cache_pod(&s->cache, key);
    if (pod == NULL || !sched_pod_wanted(pod) || (cached && cached->assumed)) {
        if (pod == NULL || !sched_pod_wanted(pod)) json_object_del(s->unsched, key);
        workqueue_done(s->q, key, WQ_DONE);
        return;
    }
    if (sched_pod_gated(pod)) {
        /* Not even queued in Kubernetes (SchedulingGates PreEnqueue): the
         * update removing the last gate adds it again. */
        json_object_del(s->unsched, key);
        write_not_scheduled(s, pod, key, "SchedulingGated", SCHED_GATED_MSG, NULL);
        workqueue_done(s->q, key, WQ_DONE);
        return;
    }
    /* Its own reservation must not stand in its way. */
    sched_cache_forget(&s->cache, key);
    start = sched_metrics_now();
    if (sched_pod_parse(pod, class_priority, s, &p) != 0) {
        sched_metrics_attempt("error", start);
        workqueue_done(s->q, key, WQ_RETRY);
        return;
    }
    pod_volumes(s, pod, vol_req, ORC_ARRAY_LEN(vol_req), &vols);
    if (sched_schedule(&s->cache, p, &vols, &s->w, &res) != 0) {
        sched_pod_free(p);
        sched_metrics_attempt("error", start);
        workqueue_done(s->q, key, WQ_RETRY);
        return;
    }
    if (res.node == NULL) {
        sched_metrics_attempt("unschedulable", start);
        outcome = unschedulable(s, p, &res);
        sched_result_fini(&res);
        workqueue_done(s->q, key, outcome);
        return;
    }
    json_object_del(s->unsched, key);
    /* Counted on the node from now: the next pod sees the room taken. The
     * bind's answer ends the key. */
    if (sched_cache_assume(&s->cache, p, res.node, false, orc_clock_now(s->ctx->clock)) != 0
        || bind_pod(s, pod, key, res.node->name, start) != 0) {
        sched_metrics_attempt("error", start);
        sched_cache_forget(&s->cache, key);
        workqueue_done(s->q, key, WQ_RETRY);
    }
    sched_result_fini(&res);
}

/* ---- start and stop ---- */

static informer *watch(struct sched *s, const char *resource, const struct informer_cbs *cbs)
{
    const struct orc_kind *k = orc_kind_lookup(resource);
    informer *inf;
    if (k == NULL) return NULL; /* a kind this build does not serve yet */
    inf = informer_set_get(s->ctx->informers, k);
    if (inf && cbs && informer_add_handler(inf, cbs, s) != 0) return NULL;
    return inf;
}

static int sched_start(struct ctl_ctx *ctx, void **state)
{
    static const struct informer_cbs pod_cbs = {pod_added, pod_updated, pod_deleted, NULL};
    static const struct informer_cbs node_cbs = {node_added, node_updated, node_deleted, NULL};
    static const struct informer_cbs retry_cbs = {class_or_volume_added, class_or_volume_updated, NULL, NULL};
    struct workqueue_config qc = {.name = MOD, .workers = WORKERS, .rank = queue_rank};
    struct sched *s = calloc(1, sizeof *s);
    int rc = ORC_ENOMEM;

    if (s == NULL) return ORC_ENOMEM;
    s->ctx = ctx;
    s->refs = 1;
    s->pod_kind = orc_kind_lookup("pods");
    s->w.cpu = ctx->opts ? ctx->opts->sched_weight_cpu : 0;
    s->w.memory = ctx->opts ? ctx->opts->sched_weight_memory : 0;
    s->w.spread = ctx->opts ? ctx->opts->sched_weight_spread : 0;
    s->unsched = json_object();
    if (s->unsched == NULL || s->pod_kind == NULL || sched_cache_init(&s->cache) != 0) goto fail;
    rc = workqueue_new(ctx->clock, &qc, reconcile, s, &s->q);
    if (rc == 0) rc = events_new(ctx->api, ctx->clock, SCHED_NAME, ctx->opts ? ctx->opts->host : NULL, &s->rec);
    if (rc == 0) rc = orc_timer_new(ctx->clock, tick, s, &s->tick);
    if (rc != 0) goto fail;
    rc = ORC_ENOMEM;
    s->classes = watch(s, "priorityclasses", &retry_cbs);
    s->pvcs = watch(s, "persistentvolumeclaims", &retry_cbs);
    s->pvs = watch(s, "persistentvolumes", &retry_cbs);
    s->nodes = watch(s, "nodes", &node_cbs);
    s->pods = watch(s, "pods", &pod_cbs);
    if (s->nodes == NULL || s->pods == NULL) goto fail;
    orc_timer_start(s->tick, TICK_MS);
    *state = s;
    return 0;
fail:
    log_error(MOD, "not started: %s", orc_strerror(rc));
    s->stopped = true;
    informer_remove_handlers(s->pods, s);
    informer_remove_handlers(s->nodes, s);
    informer_remove_handlers(s->classes, s);
    informer_remove_handlers(s->pvcs, s);
    informer_remove_handlers(s->pvs, s);
    orc_timer_close(s->tick);
    events_free(s->rec);
    workqueue_free(s->q);
    sched_cache_fini(&s->cache);
    unref(s);
    return rc;
}

static void sched_stop(void *state)
{
    struct sched *s = state;
    if (s == NULL) return;
    s->stopped = true;
    /* The shared informers go on for other controllers: no more calls. */
    informer_remove_handlers(s->pods, s);
    informer_remove_handlers(s->nodes, s);
    informer_remove_handlers(s->classes, s);
    informer_remove_handlers(s->pvcs, s);
    informer_remove_handlers(s->pvs, s);
    orc_timer_close(s->tick);
    events_free(s->rec);
    s->rec = NULL;
    workqueue_free(s->q);
    sched_cache_fini(&s->cache);
    unref(s);
}

const struct ctl_controller ctl_scheduler = {"scheduler", sched_start, sched_stop};
