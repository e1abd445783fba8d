/* replicaset.c — the ReplicaSet controller: keeps spec.replicas active pods
 * matching each ReplicaSet's selector. Pods are created in slow-start
 * batches (1, 2, 4 ...) and deleted least valuable first; expectations keep
 * it from acting again before its informer saw its own writes; orphans
 * matching the selector are adopted and owned pods that no longer match are
 * released (ownerReferences patched). The decisions are in
 * replicaset_pods.c. */
#include "controllers/replicaset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/events.h"
#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "controllers/expectations.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"

struct rs_ctl {
    struct ctl_base b; /* refs: the controller, plus one per sync in flight */
    const struct orc_kind *k_rs, *k_pod;
    informer *rs_inf, *pod_inf;
    ctl_expectations *exp;
};

/* One sync of one ReplicaSet, across its API calls. */
struct rs_sync {
    struct rs_ctl *c;
    char *key;
    json_t *rs;    /* held */
    json_t **pods; /* held: its active pods */
    size_t n_pods, cap;
    json_t **todo; /* held: pods to delete */
    size_t n_todo;
    struct ctl_op op;
    size_t to_create, batch, created, failed_creates;
    bool manage_err_create;
    char manage_err[256];
};

static void rs_free(void *arg)
{
    struct rs_ctl *c = arg;
    ctl_exp_free(c->exp);
    free(c);
}

/* ---- handlers: object changes to keys ---- */

static void enqueue_obj(struct rs_ctl *c, const json_t *obj)
{
    ctl_base_enqueue(&c->b, obj);
}

/* The key of the ReplicaSet controlling pod, or false. */
static bool owner_key(const json_t *pod, char *out, size_t n)
{
    const json_t *ref = ctl_controller_ref(pod);
    const char *kind = ref ? orc_json_str(ref, "kind") : NULL;
    const char *name = ref ? orc_json_str(ref, "name") : NULL;
    const char *ns = orc_json_str(pod, "metadata.namespace");
    if (!kind || strcmp(kind, "ReplicaSet") != 0 || !name) return false;
    return snprintf(out, n, "%s/%s", ns ? ns : "", name) < (int)n;
}

static void enqueue_adopter(void *arg, const json_t *rs)
{
    enqueue_obj(arg, rs);
}

/* An orphan: every ReplicaSet of its namespace that might adopt it. */
static void enqueue_adopters(struct rs_ctl *c, const json_t *pod)
{
    ctl_each_adopter(c->rs_inf, pod, enqueue_adopter, c);
}

static void pod_added(void *arg, const json_t *pod)
{
    struct rs_ctl *c = arg;
    char key[512];
    if (c->b.stopped) return;
    if (owner_key(pod, key, sizeof key)) {
        ctl_exp_observe_add(c->exp, key);
        workqueue_add(c->b.q, key);
    } else if (!ctl_controller_ref(pod)) {
        enqueue_adopters(c, pod);
    }
}

static void pod_updated(void *arg, const json_t *old, const json_t *pod)
{
    struct rs_ctl *c = arg;
    char key[512], old_key[512];
    bool has = owner_key(pod, key, sizeof key), had = owner_key(old, old_key, sizeof old_key);
    if (c->b.stopped) return;
    /* A graceful delete shows first as a deletionTimestamp: count it then. */
    if (has && orc_json_get(pod, "metadata.deletionTimestamp") &&
        !orc_json_get(old, "metadata.deletionTimestamp"))
        ctl_exp_observe_del(c->exp, key);
    if (had && (!has || strcmp(key, old_key) != 0)) workqueue_add(c->b.q, old_key);
    if (has)
        workqueue_add(c->b.q, key);
    else if (!ctl_controller_ref(pod))
        enqueue_adopters(c, pod);
}

static void pod_deleted(void *arg, const json_t *pod)
{
    struct rs_ctl *c = arg;
    char key[512];
    if (c->b.stopped || !owner_key(pod, key, sizeof key)) return;
    if (!orc_json_get(pod, "metadata.deletionTimestamp")) ctl_exp_observe_del(c->exp, key);
    workqueue_add(c->b.q, key);
}

static void rs_added(void *arg, const json_t *rs)
{
    enqueue_obj(arg, rs);
}

static void rs_updated(void *arg, const json_t *old, const json_t *rs)
{
    (void)old;
    enqueue_obj(arg, rs);
}

static void rs_deleted(void *arg, const json_t *rs)
{
    struct rs_ctl *c = arg;
    struct orc_buf key = ORC_BUF_INIT;
    if (!c->b.stopped && ctl_key_of(rs, &key) == 0) ctl_exp_forget(c->exp, key.data);
    orc_buf_free(&key);
}

/* ---- a sync ---- */

static void sync_free(struct rs_sync *s)
{
    for (size_t i = 0; i < s->n_pods; i++) json_decref(s->pods[i]);
    for (size_t i = 0; i < s->n_todo; i++) json_decref(s->todo[i]);
    free(s->pods);
    free(s->todo);
    json_decref(s->rs);
    free(s->key);
    free(s);
}

static void sync_end(struct rs_sync *s, int64_t outcome)
{
    struct rs_ctl *c = s->c;
    workqueue_done(c->b.q, s->key, outcome);
    sync_free(s);
    ctl_base_put(&c->b);
}

static int64_t now_s(const struct rs_ctl *c)
{
    return orc_clock_wall(c->b.ctx->clock) / 1000;
}

static void status_done(struct ctl_op *op)
{
    struct rs_sync *s = (struct rs_sync *)((char *)op - offsetof(struct rs_sync, op));
    int64_t after = rs_available_after_ms(s->rs, (const json_t **)s->pods, s->n_pods, now_s(s->c));
    if (op->failed && !op->conflict && !s->c->b.stopped)
        log_warn("replicaset", "%s: status: %s", s->key, op->err);
    sync_end(s, op->failed || s->manage_err[0] ? WQ_RETRY : after);
}

static void write_status(struct rs_sync *s)
{
    struct rs_ctl *c = s->c;
    json_t *st = rs_status(s->rs, (const json_t **)s->pods, s->n_pods, now_s(c),
                           s->manage_err[0] ? s->manage_err : NULL, s->manage_err_create);
    json_t *obj = NULL;
    struct ctl_call *call;

    memset(&s->op, 0, sizeof s->op);
    s->op.done = status_done;
    if (st && !c->b.stopped && !json_equal(st, json_object_get(s->rs, "status"))) {
        obj = json_deep_copy(s->rs);
        if (obj && json_object_set(obj, "status", st) == 0 && (call = ctl_op_call(&s->op, NULL))) {
            int rv = rest_update_status(c->b.ctx->api, c->k_rs, obj, ctl_op_answer, call);
            if (rv != 0) ctl_op_unstarted(call, rv);
        }
    }
    json_decref(obj);
    json_decref(st);
    ctl_op_arm(&s->op);
}

/* -- creates, in slow-start batches -- */

static void create_batch(struct rs_sync *s);

static bool create_check(struct ctl_op *op, void *tag, int status, const json_t *body)
{
    struct rs_sync *s = tag;
    (void)op;
    if (status >= 200 && status < 300) {
        s->created++;
        if (s->c->b.rec)
            events_record(s->c->b.rec, s->rs, "Normal", "SuccessfulCreate", "Created pod: %s",
                          orc_json_str(body, "metadata.name") ? orc_json_str(body, "metadata.name")
                                                              : "");
        return true;
    }
    ctl_exp_observe_add(s->c->exp, s->key); /* it will never be seen */
    if (s->c->b.rec)
        events_record(s->c->b.rec, s->rs, "Warning", "FailedCreate", "Error creating: %s",
                      rest_message(status, body));
    return false;
}

static void batch_done(struct ctl_op *op)
{
    struct rs_sync *s = (struct rs_sync *)((char *)op - offsetof(struct rs_sync, op));
    if (op->failed) {
        /* Kubernetes stops at a failed batch; the rest are not expected. */
        for (size_t i = 0; i < s->to_create; i++) ctl_exp_observe_add(s->c->exp, s->key);
        snprintf(s->manage_err, sizeof s->manage_err, "%s", op->err);
        s->manage_err_create = true;
        s->to_create = 0;
    }
    if (s->to_create > 0 && !s->c->b.stopped)
        create_batch(s);
    else
        write_status(s);
}

static void create_batch(struct rs_sync *s)
{
    struct rs_ctl *c = s->c;
    json_t *pod = rs_new_pod(s->rs);
    size_t n = rs_next_batch(s->to_create, s->batch);

    memset(&s->op, 0, sizeof s->op);
    s->op.done = batch_done;
    s->op.check = create_check;
    s->batch = n;
    for (size_t i = 0; i < n && pod; i++) {
        struct ctl_call *call = ctl_op_call(&s->op, s);
        int rv = call
                     ? rest_create(c->b.ctx->api, c->k_pod, orc_json_str(s->rs, "metadata.namespace"),
                                   pod, ctl_op_answer, call)
                     : ORC_ENOMEM;
        if (rv != 0 && call) ctl_op_unstarted(call, rv);
        if (rv != 0) ctl_exp_observe_add(c->exp, s->key);
    }
    if (!pod) ctl_op_fail(&s->op, "out of memory");
    s->to_create -= n;
    json_decref(pod);
    ctl_op_arm(&s->op);
}

/* -- deletes, adoption, release -- */

static bool gone_ok(struct ctl_op *op, void *tag, int status, const json_t *body)
{
    struct rs_sync *s = tag;
    (void)op;
    (void)body;
    if ((status >= 200 && status < 300) || status == 404) return true;
    ctl_exp_observe_del(s->c->exp, s->key);
    return false;
}

static void deletes_done(struct ctl_op *op)
{
    struct rs_sync *s = (struct rs_sync *)((char *)op - offsetof(struct rs_sync, op));
    if (op->failed) {
        snprintf(s->manage_err, sizeof s->manage_err, "%s", op->err);
        s->manage_err_create = false;
    }
    if (s->to_create > 0 && !s->c->b.stopped)
        create_batch(s);
    else
        write_status(s);
}

static void delete_pods(struct rs_sync *s)
{
    struct rs_ctl *c = s->c;
    for (size_t i = 0; i < s->n_todo; i++) {
        const json_t *p = s->todo[i];
        struct rest_delete_opts o = {.uid = orc_json_str(p, "metadata.uid"), .grace_seconds = -1};
        struct ctl_call *call = ctl_op_call(&s->op, s);
        int rv = call ? rest_delete(c->b.ctx->api, c->k_pod, orc_json_str(p, "metadata.namespace"),
                                    orc_json_str(p, "metadata.name"), &o, ctl_op_answer, call)
                      : ORC_ENOMEM;
        if (rv != 0 && call) ctl_op_unstarted(call, rv);
        if (rv != 0)
            ctl_exp_observe_del(c->exp, s->key);
        else if (c->b.rec)
            events_record(c->b.rec, s->rs, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                          orc_json_str(p, "metadata.name"));
    }
}

/* Adopts or releases a pod by patching its ownerReferences (ctl_util.h). */
static void patch_owner(struct rs_sync *s, const json_t *pod, bool adopt)
{
    struct rs_ctl *c = s->c;
    json_t *patch = ctl_owner_patch(pod, s->rs, "apps/v1", "ReplicaSet", adopt, NULL);
    struct ctl_call *call = patch ? ctl_op_call(&s->op, s) : NULL;
    int rv = call ? rest_patch(c->b.ctx->api, c->k_pod, orc_json_str(pod, "metadata.namespace"),
                               orc_json_str(pod, "metadata.name"), NULL,
                               "application/merge-patch+json", patch, ctl_op_answer, call)
                  : ORC_ENOMEM;
    if (rv != 0 && call) ctl_op_unstarted(call, rv);
    if (!patch) ctl_op_fail(&s->op, "out of memory");
    json_decref(patch);
}

struct claim {
    struct rs_sync *s;
    orc_selector *sel;
    const char *uid;
    bool deleting;
    int rv;
};

static int keep_pod(struct rs_sync *s, const json_t *pod)
{
    if (!ctl_pod_active(pod)) return 0;
    if (s->n_pods == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        json_t **v = realloc(s->pods, cap * sizeof *v);
        if (!v) return ORC_ENOMEM;
        s->pods = v;
        s->cap = cap;
    }
    s->pods[s->n_pods++] = json_incref((json_t *)pod);
    return 0;
}

/* ClaimPods: owned and matching -> kept; owned, not matching -> released;
 * orphan, matching -> adopted and kept. */
static void claim_pod(void *arg, const json_t *pod)
{
    struct claim *cl = arg;
    bool match = orc_selector_matches(cl->sel, orc_json_get(pod, "metadata.labels"));

    if (cl->rv != 0) return;
    switch (ctl_claim_decide(cl->s->rs, pod, match)) {
    case CTL_CLAIM_KEEP:
        cl->rv = keep_pod(cl->s, pod);
        break;
    case CTL_CLAIM_ADOPT:
        patch_owner(cl->s, pod, true);
        cl->rv = keep_pod(cl->s, pod);
        break;
    case CTL_CLAIM_RELEASE:
        patch_owner(cl->s, pod, false);
        break;
    case CTL_CLAIM_IGNORE:
        break;
    }
}

static int plan_deletes(struct rs_sync *s, size_t n)
{
    const json_t **order = malloc(s->n_pods * sizeof *order);
    if (!order) return ORC_ENOMEM;
    for (size_t i = 0; i < s->n_pods; i++) order[i] = s->pods[i];
    rs_sort_for_deletion(order, s->n_pods);
    if (!(s->todo = malloc(n * sizeof *s->todo))) {
        free(order);
        return ORC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) s->todo[s->n_todo++] = json_incref((json_t *)order[i]);
    free(order);
    return 0;
}

/* manageReplicas: how many to create or which to delete. */
static int manage(struct rs_sync *s)
{
    struct rs_ctl *c = s->c;
    int64_t want = ctl_int(s->rs, "spec.replicas", 1);
    int64_t diff = (int64_t)s->n_pods - want;
    uint64_t now = orc_clock_now(c->b.ctx->clock);

    if (diff < 0) {
        s->to_create = (size_t)(-diff > RS_BURST ? RS_BURST : -diff);
        return ctl_exp_expect(c->exp, s->key, (int64_t)s->to_create, 0, now);
    }
    if (diff > 0) {
        size_t n = (size_t)(diff > RS_BURST ? RS_BURST : diff);
        int rv = ctl_exp_expect(c->exp, s->key, 0, (int64_t)n, now);
        return rv == 0 ? plan_deletes(s, n) : rv;
    }
    return 0;
}

static int sync_start(struct rs_sync *s, char *ns)
{
    struct rs_ctl *c = s->c;
    struct claim cl = {.s = s, .uid = orc_json_str(s->rs, "metadata.uid")};
    bool need = ctl_exp_satisfied(c->exp, s->key, orc_clock_now(c->b.ctx->clock));
    char msg[256];
    int rv = rs_selector(s->rs, &cl.sel, msg, sizeof msg);

    if (rv != 0 || !cl.uid || orc_selector_is_empty(cl.sel)) {
        log_warn("replicaset", "%s: invalid selector: %s", s->key, rv ? msg : "empty");
        orc_selector_free(cl.sel);
        return ORC_EINVAL;
    }
    cl.deleting = orc_json_get(s->rs, "metadata.deletionTimestamp") != NULL;
    memset(&s->op, 0, sizeof s->op);
    s->op.done = deletes_done;
    s->op.check = gone_ok;
    informer_by_index(c->pod_inf, "namespace", ns, claim_pod, &cl);
    orc_selector_free(cl.sel);
    if (cl.rv != 0) return cl.rv;
    if (need && !cl.deleting && (rv = manage(s)) != 0) return rv;
    delete_pods(s);
    ctl_op_arm(&s->op);
    return 0;
}

static void reconcile(void *arg, const char *key)
{
    struct rs_ctl *c = arg;
    char ns[256], name[256];
    const json_t *rs;
    struct rs_sync *s;

    if (!ctl_base_ready(&c->b, key, 200)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (!(rs = informer_get(c->rs_inf, ns, name))) {
        ctl_exp_forget(c->exp, key);
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->key = strdup(key))) {
        free(s);
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    s->c = c;
    s->rs = json_incref((json_t *)rs);
    ctl_base_hold(&c->b);
    if (sync_start(s, ns) != 0) sync_end(s, WQ_RETRY);
}

/* ---- start and stop ---- */

static int rs_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = "replicaset", .component = "replicaset-controller", .reconcile = reconcile, .free_self = rs_free};
    static const struct informer_cbs rs_cbs = {
        .on_add = rs_added, .on_update = rs_updated, .on_delete = rs_deleted};
    static const struct informer_cbs pod_cbs = {
        .on_add = pod_added, .on_update = pod_updated, .on_delete = pod_deleted};
    struct rs_ctl *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    c->k_rs = orc_kind_lookup("replicasets.apps");
    c->k_pod = orc_kind_lookup("pods");
    if (!(c->exp = ctl_exp_new())) {
        free(c);
        return ORC_ENOMEM;
    }
    const struct ctl_watch w[] = {
        {c->k_rs, &rs_cbs, &c->rs_inf},
        {c->k_pod, &pod_cbs, &c->pod_inf},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_replicaset = {"replicaset", rs_start, ctl_base_stop_state};
