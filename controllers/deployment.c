/* deployment.c — the Deployment controller: watches Deployments, the
 * ReplicaSets they own and those ReplicaSets' pods, and carries out the
 * plan deployment_rollout.c makes for one sync: create the new ReplicaSet,
 * scale or delete others, bump the revision annotation, then write the
 * status. ReplicaSets matching a Deployment's selector without a controller
 * are adopted; owned ones that no longer match are released. */
#include "controllers/deployment.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/events.h"
#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/labels.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MERGE "application/merge-patch+json"

struct dep_ctl {
    struct ctl_base b;
    const struct orc_kind *k_dep, *k_rs, *k_pod;
    informer *dep_inf, *rs_inf, *pod_inf;
};

struct dep_sync {
    struct dep_ctl *c;
    char *key;
    json_t *d;     /* held */
    json_t **objs; /* held ReplicaSets */
    struct dep_rs *rs;
    size_t n, cap;
    struct dep_plan plan;
    struct ctl_op op;
    bool collided;
};

/* ---- handlers ---- */

static void enqueue_obj(struct dep_ctl *c, const json_t *obj)
{
    ctl_base_enqueue(&c->b, obj);
}

static bool owner_key(const json_t *obj, const char *kind, char *out, size_t n)
{
    const json_t *ref = ctl_controller_ref(obj);
    const char *k = ref ? orc_json_str(ref, "kind") : NULL,
               *name = ref ? orc_json_str(ref, "name") : NULL;
    const char *ns = orc_json_str(obj, "metadata.namespace");
    if (!k || strcmp(k, kind) != 0 || !name) return false;
    return snprintf(out, n, "%s/%s", ns ? ns : "", name) < (int)n;
}

static int selector_of(const json_t *d, orc_selector **sel)
{
    char msg[128];
    int rv = orc_selector_from_json(orc_json_get(d, "spec.selector"), sel, msg, sizeof msg);
    if (rv == 0 && orc_selector_is_empty(*sel)) {
        orc_selector_free(*sel);
        *sel = NULL;
        rv = ORC_EINVAL;
    }
    return rv;
}

struct match_ctx {
    struct dep_ctl *c;
    const json_t *rs;
};

static void enqueue_if_selects(void *arg, const json_t *d)
{
    struct match_ctx *m = arg;
    orc_selector *sel = NULL;
    if (selector_of(d, &sel) == 0 &&
        orc_selector_matches(sel, orc_json_get(m->rs, "metadata.labels")))
        enqueue_obj(m->c, d);
    orc_selector_free(sel);
}

static void enqueue_rs_owner(struct dep_ctl *c, const json_t *rs)
{
    char key[512];
    if (c->b.stopped) return;
    if (owner_key(rs, "Deployment", key, sizeof key)) {
        workqueue_add(c->b.q, key);
    } else if (!ctl_controller_ref(rs) && orc_json_str(rs, "metadata.namespace")) {
        struct match_ctx m = {c, rs};
        informer_by_index(c->dep_inf, "namespace", orc_json_str(rs, "metadata.namespace"),
                          enqueue_if_selects, &m);
    }
}

static void rs_added(void *arg, const json_t *rs)
{
    enqueue_rs_owner(arg, rs);
}
static void rs_deleted(void *arg, const json_t *rs)
{
    enqueue_rs_owner(arg, rs);
}

static void rs_updated(void *arg, const json_t *old, const json_t *rs)
{
    struct dep_ctl *c = arg;
    char a[512], b[512];
    if (owner_key(old, "Deployment", a, sizeof a) &&
        (!owner_key(rs, "Deployment", b, sizeof b) || strcmp(a, b) != 0) && !c->b.stopped)
        workqueue_add(c->b.q, a);
    enqueue_rs_owner(c, rs);
}

/* A pod gone: Recreate waits for the old ones, so look at its Deployment. */
static void pod_deleted(void *arg, const json_t *pod)
{
    struct dep_ctl *c = arg;
    char key[512], ns[256], name[256];
    const json_t *rs;
    if (c->b.stopped || !owner_key(pod, "ReplicaSet", key, sizeof key) ||
        ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0)
        return;
    if ((rs = informer_get(c->rs_inf, ns, name))) enqueue_rs_owner(c, rs);
}

static void dep_added(void *arg, const json_t *d)
{
    enqueue_obj(arg, d);
}
static void dep_updated(void *arg, const json_t *old, const json_t *d)
{
    (void)old;
    enqueue_obj(arg, d);
}

/* ---- a sync ---- */

static void sync_free(struct dep_sync *s)
{
    dep_plan_free(&s->plan, s->rs, s->n);
    for (size_t i = 0; i < s->n; i++) json_decref(s->objs[i]);
    free(s->objs);
    free(s->rs);
    json_decref(s->d);
    free(s->key);
    free(s);
}

static void sync_end(struct dep_sync *s, int64_t outcome)
{
    struct dep_ctl *c = s->c;
    workqueue_done(c->b.q, s->key, outcome);
    sync_free(s);
    ctl_base_put(&c->b);
}

static struct dep_sync *sync_of(struct ctl_op *op)
{
    return (struct dep_sync *)((char *)op - offsetof(struct dep_sync, op));
}

static void call(struct dep_sync *s, int rv, struct ctl_call *cl)
{
    (void)s;
    if (rv != 0 && cl) ctl_op_unstarted(cl, rv);
}

static void status_done(struct ctl_op *op)
{
    struct dep_sync *s = sync_of(op);
    if (op->failed && !op->conflict && !s->c->b.stopped)
        log_warn("deployment", "%s: status: %s", s->key, op->err);
    sync_end(s, op->failed ? WQ_RETRY : (s->collided ? 1 : s->plan.requeue_ms));
}

static void write_status(struct dep_sync *s, json_t *status)
{
    struct dep_ctl *c = s->c;
    json_t *patch = status ? json_pack("{s:O}", "status", status) : NULL;
    struct ctl_call *cl;

    memset(&s->op, 0, sizeof s->op);
    s->op.done = status_done;
    if (patch && !c->b.stopped && (cl = ctl_op_call(&s->op, NULL)))
        call(s,
             rest_patch(c->b.ctx->api, c->k_dep, orc_json_str(s->d, "metadata.namespace"),
                        orc_json_str(s->d, "metadata.name"), "status", MERGE, patch, ctl_op_answer,
                        cl),
             cl);
    json_decref(patch);
    ctl_op_arm(&s->op);
}

static void record_scale(struct dep_sync *s, const char *name, int64_t from, int64_t to)
{
    if (s->c->b.rec)
        events_record(s->c->b.rec, s->d, "Normal", "ScalingReplicaSet",
                      "Scaled %s replica set %s to %lld", to > from ? "up" : "down", name,
                      (long long)to);
}

/* A create answered 409: the name is taken. Kubernetes keeps the existing
 * set when it is ours with our template, else counts a collision, which
 * changes the next hash. */
static char tag_create, tag_delete;

static bool answer_check(struct ctl_op *op, void *tag, int status, const json_t *body)
{
    struct dep_sync *s = sync_of(op);
    if (tag != &tag_create) {
        if ((status >= 200 && status < 300) || (tag == &tag_delete && status == 404)) return true;
        ctl_op_fail(op, rest_message(status, body));
        return false;
    }
    if (status >= 200 && status < 300) {
        if (s->plan.create_replicas > 0)
            record_scale(s, orc_json_str(s->plan.create, "metadata.name"), 0,
                         s->plan.create_replicas);
        return true;
    }
    if (status == 409) {
        const char *name = orc_json_str(s->plan.create, "metadata.name");
        const json_t *have =
            informer_get(s->c->rs_inf, orc_json_str(s->d, "metadata.namespace"), name);
        const char *uid = have ? ctl_controller_uid(have) : NULL;
        if (!have) {
            /* Not in the cache yet (our own create of a moment ago): look again. */
            ctl_op_fail(op, rest_message(status, body));
            op->conflict = true;
            return false;
        }
        if (uid && strcmp(uid, orc_json_str(s->d, "metadata.uid")) == 0 &&
            dep_templates_equal(orc_json_get(have, "spec.template"),
                                orc_json_get(s->d, "spec.template")))
            return true;
        s->collided = true;
        return true;
    }
    ctl_op_fail(op, rest_message(status, body));
    return false;
}

static void actions_done(struct ctl_op *op)
{
    struct dep_sync *s = sync_of(op);
    json_t *status = s->plan.status ? json_incref(s->plan.status) : NULL;

    if (op->failed) {
        if (!op->conflict && !s->c->b.stopped) log_warn("deployment", "%s: %s", s->key, op->err);
        json_decref(status);
        sync_end(s, WQ_RETRY);
        return;
    }
    if (s->collided) {
        /* Only the collision count changes; the next sync uses it. */
        json_decref(status);
        status = json_deep_copy(json_object_get(s->d, "status"));
        if (!status) status = json_object();
        json_object_set_new(status, "collisionCount",
                            json_integer(ctl_int(s->d, "status.collisionCount", 0) + 1));
    }
    write_status(s, status);
    json_decref(status);
}

static void carry_out(struct dep_sync *s)
{
    struct dep_ctl *c = s->c;
    const char *ns = orc_json_str(s->d, "metadata.namespace");
    struct ctl_call *cl;

    memset(&s->op, 0, sizeof s->op);
    s->op.done = actions_done;
    s->op.check = answer_check;
    if (s->plan.create) {
        if ((cl = ctl_op_call(&s->op, &tag_create)))
            call(s, rest_create(c->b.ctx->api, c->k_rs, ns, s->plan.create, ctl_op_answer, cl), cl);
    }
    for (size_t i = 0; i < s->n; i++) {
        struct dep_rs *r = &s->rs[i];
        const char *name = orc_json_str(r->obj, "metadata.name");
        if (r->remove) {
            struct rest_delete_opts o = {.uid = orc_json_str(r->obj, "metadata.uid"),
                                         .resource_version =
                                             orc_json_str(r->obj, "metadata.resourceVersion"),
                                         .grace_seconds = -1};
            if ((cl = ctl_op_call(&s->op, &tag_delete)))
                call(s, rest_delete(c->b.ctx->api, c->k_rs, ns, name, &o, ctl_op_answer, cl), cl);
        } else if (r->patch) {
            if ((cl = ctl_op_call(&s->op, NULL)))
                call(s,
                     rest_patch(c->b.ctx->api, c->k_rs, ns, name, NULL, MERGE, r->patch,
                                ctl_op_answer, cl),
                     cl);
            if (r->scaled) record_scale(s, name, r->old_replicas, r->replicas);
        }
    }
    if (s->plan.dep_patch && (cl = ctl_op_call(&s->op, NULL)))
        call(s,
             rest_patch(c->b.ctx->api, c->k_dep, ns, orc_json_str(s->d, "metadata.name"), NULL, MERGE,
                        s->plan.dep_patch, ctl_op_answer, cl),
             cl);
    ctl_op_arm(&s->op);
}

/* ---- claiming ReplicaSets ---- */

struct claim {
    struct dep_sync *s;
    orc_selector *sel;
    const char *uid;
    bool deleting;
    int rv;
};

static int keep_rs(struct dep_sync *s, const json_t *rs)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        json_t **o = realloc(s->objs, cap * sizeof *o);
        if (!o) return ORC_ENOMEM;
        s->objs = o;
        struct dep_rs *r = realloc(s->rs, cap * sizeof *r);
        if (!r) return ORC_ENOMEM;
        s->rs = r;
        s->cap = cap;
    }
    s->objs[s->n++] = json_incref((json_t *)rs);
    return 0;
}

/* Adopting or releasing is a patch of ownerReferences; the ReplicaSet is
 * counted from the next sync, once the informer shows it. */
static void patch_owner(struct dep_sync *s, const json_t *rs, bool adopt)
{
    struct dep_ctl *c = s->c;
    json_t *refs = json_array(), *r, *patch;
    const char *duid = orc_json_str(s->d, "metadata.uid");
    size_t i;
    struct ctl_call *cl;

    json_array_foreach (orc_json_get(rs, "metadata.ownerReferences"), i, r) {
        const char *uid = orc_json_str(r, "uid");
        if (!adopt && uid && duid && strcmp(uid, duid) == 0) continue;
        json_array_append(refs, r);
    }
    if (adopt) json_array_append_new(refs, ctl_owner_ref(s->d, "apps/v1", "Deployment"));
    patch = json_pack("{s:{s:o,s:s?,s:s?}}", "metadata", "ownerReferences", refs, "uid",
                      orc_json_str(rs, "metadata.uid"), "resourceVersion",
                      orc_json_str(rs, "metadata.resourceVersion"));
    if (patch && (cl = ctl_op_call(&s->op, NULL)))
        call(s,
             rest_patch(c->b.ctx->api, c->k_rs, orc_json_str(rs, "metadata.namespace"),
                        orc_json_str(rs, "metadata.name"), NULL, MERGE, patch, ctl_op_answer, cl),
             cl);
    json_decref(patch);
}

static void claim_rs(void *arg, const json_t *rs)
{
    struct claim *cl = arg;
    const char *owner = ctl_controller_uid(rs);
    bool match = orc_selector_matches(cl->sel, orc_json_get(rs, "metadata.labels"));

    if (cl->rv != 0) return;
    if (owner && strcmp(owner, cl->uid) == 0) {
        if (match)
            cl->rv = keep_rs(cl->s, rs);
        else if (!orc_json_get(rs, "metadata.deletionTimestamp"))
            patch_owner(cl->s, rs, false);
    } else if (!owner && match && !cl->deleting &&
               !orc_json_get(rs, "metadata.deletionTimestamp")) {
        patch_owner(cl->s, rs, true);
    }
}

static void count_pod(void *arg, const json_t *pod)
{
    int64_t *n = arg;
    const char *phase = orc_json_str(pod, "status.phase");
    if (!phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)) (*n)++;
}

static void claims_done(struct ctl_op *op)
{
    struct dep_sync *s = sync_of(op);
    struct dep_ctl *c = s->c;
    int rv;

    if (op->failed && !op->conflict && !s->c->b.stopped)
        log_warn("deployment", "%s: adopting/releasing: %s", s->key, op->err);
    if (c->b.stopped) {
        sync_end(s, WQ_DONE);
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        dep_rs_init(&s->rs[i], s->objs[i]);
        s->rs[i].pods = 0;
        const char *uid = orc_json_str(s->objs[i], "metadata.uid");
        if (uid) informer_by_index(c->pod_inf, "owner", uid, count_pod, &s->rs[i].pods);
    }
    rv = dep_plan(s->d, s->rs, s->n, orc_clock_wall(c->b.ctx->clock) / 1000, &s->plan);
    if (rv != 0) {
        sync_end(s, WQ_RETRY);
        return;
    }
    carry_out(s);
}

static int sync_start(struct dep_sync *s, const char *ns)
{
    struct claim cl = {.s = s, .uid = orc_json_str(s->d, "metadata.uid")};
    int rv = selector_of(s->d, &cl.sel);

    if (rv != 0 || !cl.uid) {
        log_warn("deployment", "%s: invalid or empty selector", s->key);
        orc_selector_free(cl.sel);
        return ORC_EINVAL;
    }
    cl.deleting = orc_json_get(s->d, "metadata.deletionTimestamp") != NULL;
    memset(&s->op, 0, sizeof s->op);
    s->op.done = claims_done;
    informer_by_index(s->c->rs_inf, "namespace", ns, claim_rs, &cl);
    orc_selector_free(cl.sel);
    if (cl.rv != 0) return cl.rv;
    ctl_op_arm(&s->op);
    return 0;
}

static void reconcile(void *arg, const char *key)
{
    struct dep_ctl *c = arg;
    char ns[256], name[256];
    const json_t *d;
    struct dep_sync *s;

    if (!ctl_base_ready(&c->b, key, 200)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0
        || !(d = informer_get(c->dep_inf, ns, name))) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->key = strdup(key))) {
        free(s);
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    s->c = c;
    s->d = json_incref((json_t *)d);
    ctl_base_hold(&c->b);
    if (sync_start(s, ns) != 0) sync_end(s, WQ_RETRY);
}

/* ---- start and stop ---- */

static int dep_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = "deployment", .component = "deployment-controller", .reconcile = reconcile, .free_self = free};
    static const struct informer_cbs dcb = {.on_add = dep_added, .on_update = dep_updated};
    static const struct informer_cbs rcb = {
        .on_add = rs_added, .on_update = rs_updated, .on_delete = rs_deleted};
    static const struct informer_cbs pcb = {.on_delete = pod_deleted};
    struct dep_ctl *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    c->k_dep = orc_kind_lookup("deployments.apps");
    c->k_rs = orc_kind_lookup("replicasets.apps");
    c->k_pod = orc_kind_lookup("pods");
    const struct ctl_watch w[] = {
        {c->k_dep, &dcb, &c->dep_inf},
        {c->k_rs, &rcb, &c->rs_inf},
        {c->k_pod, &pcb, &c->pod_inf},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_deployment = {"deployment", dep_start, ctl_base_stop_state};
