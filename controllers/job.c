/* job.c — ctl_job, the Job controller: Jobs and pods from the shared
 * informers -> keys "ns/name" of Jobs -> reconcile: job_plan (job_logic.c)
 * decides, this file issues the calls (pods created and deleted, tracking
 * finalizers released, status written, the Job deleted after its TTL).
 *
 * Pods are found through the informer's owner index (the Job's uid in
 * their controller ownerReference), so a Job works without the selector
 * and labels the API server may default. Creates are guarded by
 * expectations, as in Kubernetes (controllers/expectations.h): after
 * asking for N pods the Job is not acted on again until the informer saw
 * them, or 5 minutes passed. Orphan pods its selector takes are adopted
 * (with the tracking finalizer) and owned ones it no longer takes released,
 * as Kubernetes' ClaimPods does. */
#include "controllers/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "controllers/expectations.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/labels.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "job"
/* While creates are outstanding the key waits for the informer's adds;
 * this is when it looks again in case one was lost. */
#define EXPECT_RECHECK_MS 30000
#define NOT_SYNCED_RETRY_MS 200

struct jobc {
    struct ctl_base b;
    const struct orc_kind *kjob, *kpod;
    informer *jobs, *pods;
    ctl_expectations *exp;
};

/* A call of a step: which object it was about. */
struct job_call {
    struct ctl_step *s;
    struct jobc *c;
    json_t *obj;         /* the pod or the Job (a reference) */
    const char *event_type, *event_reason, *event_msg; /* for a status write */
};

static void jobc_free(void *arg)
{
    struct jobc *c = arg;
    ctl_exp_free(c->exp);
    free(c);
}

static void jobc_put(void *arg)
{
    struct jobc *c = arg;
    ctl_base_put(&c->b);
}

/* ---- keys and expectations ---- */

static int obj_key(const json_t *obj, char *out, size_t n)
{
    const char *ns = orc_json_str(obj, "metadata.namespace"), *name = orc_json_str(obj, "metadata.name");
    if (!ns || !name) return -1;
    return snprintf(out, n, "%s/%s", ns, name) < (int)n ? 0 : -1;
}

/* The key of the Job controlling a pod, if one does. */
static int owner_key(const json_t *pod, char *out, size_t n)
{
    size_t i;
    json_t *r;
    json_array_foreach (orc_json_get(pod, "metadata.ownerReferences"), i, r) {
        if (!json_is_true(json_object_get(r, "controller"))) continue;
        if (strcmp(orc_json_str(r, "kind") ?: "", "Job") != 0) return -1;
        return snprintf(out, n, "%s/%s", orc_json_str(pod, "metadata.namespace") ?: "",
                        orc_json_str(r, "name") ?: "") < (int)n ? 0 : -1;
    }
    return -1;
}

static void expect_adds(struct jobc *c, const char *key, int n)
{
    /* Without a record a duplicate is possible, never a leak or a stall. */
    if (ctl_exp_expect(c->exp, key, n, 0, orc_clock_now(c->b.ctx->clock)) != 0)
        log_warn(MOD, "%s: no memory for expectations", key);
}

static void expect_seen(struct jobc *c, const char *key)
{
    ctl_exp_observe_add(c->exp, key);
}

/* ---- informer handlers ---- */

static void queue_obj(struct jobc *c, const json_t *obj)
{
    char key[512];
    if (!c->b.stopped && obj_key(obj, key, sizeof key) == 0) workqueue_add(c->b.q, key);
}

static void queue_owner(struct jobc *c, const json_t *pod)
{
    char key[512];
    if (!c->b.stopped && owner_key(pod, key, sizeof key) == 0) workqueue_add(c->b.q, key);
}

static void on_job(void *arg, const json_t *obj)
{
    queue_obj(arg, obj);
}

static void on_job_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    queue_obj(arg, obj);
}

static void on_job_delete(void *arg, const json_t *obj)
{
    struct jobc *c = arg;
    char key[512];
    if (!c->b.stopped && obj_key(obj, key, sizeof key) == 0) ctl_exp_forget(c->exp, key);
    queue_obj(c, obj);
}

static void queue_adopter(void *arg, const json_t *job)
{
    queue_obj(arg, job);
}

/* An orphan: the Jobs whose selector takes it (Kubernetes' adoption). */
static void queue_adopters(struct jobc *c, const json_t *pod)
{
    if (!c->b.stopped) ctl_each_adopter(c->jobs, pod, queue_adopter, c);
}

static void on_pod_add(void *arg, const json_t *pod)
{
    struct jobc *c = arg;
    char key[512];
    if (c->b.stopped) return;
    if (owner_key(pod, key, sizeof key) != 0) {
        queue_adopters(c, pod);
        return;
    }
    expect_seen(c, key);
    workqueue_add(c->b.q, key);
}

static void on_pod_update(void *arg, const json_t *old, const json_t *pod)
{
    queue_owner(arg, old);
    queue_owner(arg, pod);
    queue_adopters(arg, pod);
}

static void on_pod_delete(void *arg, const json_t *pod)
{
    queue_owner(arg, pod);
}

/* ---- calls ---- */

static struct job_call *call_new(struct jobc *c, struct ctl_step *s, const json_t *obj)
{
    struct job_call *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->s = s;
    k->c = c;
    k->obj = json_incref((json_t *)obj);
    ctl_step_hold(s);
    return k;
}

static void call_end(struct job_call *k, bool ok)
{
    if (!ok) k->s->op.failed = true;
    ctl_step_put(k->s);
    json_decref(k->obj);
    free(k);
}

/* rest_* returned an error: no callback will come. */
static void call_failed(struct job_call *k, int rv, const char *what)
{
    log_warn(MOD, "%s: %s: %s", k->s->key, what, orc_strerror(rv));
    call_end(k, false);
}

static void created(void *arg, int status, const json_t *body)
{
    struct job_call *k = arg;
    bool ok = ctl_status_ok(status, 0, 0);
    if (ok && !k->c->b.stopped)
        events_record(k->c->b.rec, k->s->obj, "Normal", "SuccessfulCreate", "Created pod: %s",
                      orc_json_str(body, "metadata.name") ?: "");
    if (!ok) {
        expect_seen(k->c, k->s->key);
        log_warn(MOD, "%s: creating a pod: %s", k->s->key, rest_message(status, body));
        if (!k->c->b.stopped && status > 0)
            events_record(k->c->b.rec, k->s->obj, "Warning", "FailedCreate", "Error creating: %s",
                          rest_message(status, body));
    }
    call_end(k, ok);
}

static void create_pods(struct jobc *c, struct ctl_step *s, const struct job_plan *p)
{
    const char *ns = orc_json_str(s->obj, "metadata.namespace");
    if (p->ncreate) expect_adds(c, s->key, (int)p->ncreate);
    for (size_t i = 0; i < p->ncreate; i++) {
        json_t *pod = job_pod_new(s->obj, p->create[i]);
        struct job_call *k = pod ? call_new(c, s, pod) : NULL;
        int rv = k ? rest_create(c->b.ctx->api, c->kpod, ns, pod, created, k) : ORC_ENOMEM;
        json_decref(pod);
        if (rv != 0) {
            expect_seen(c, s->key);
            if (k) call_failed(k, rv, "creating a pod");
            else s->op.failed = true;
        }
    }
}

static void deleted_pod(void *arg, int status, const json_t *body)
{
    struct job_call *k = arg;
    bool ok = ctl_status_ok(status, 404, 0);
    if (ctl_status_ok(status, 0, 0) && !k->c->b.stopped)
        events_record(k->c->b.rec, k->s->obj, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                      orc_json_str(k->obj, "metadata.name") ?: "");
    if (!ok) log_warn(MOD, "%s: deleting a pod: %s", k->s->key, rest_message(status, body));
    call_end(k, ok);
}

static void delete_pods(struct jobc *c, struct ctl_step *s, const json_t *const *pods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rest_delete_opts o = {orc_json_str(pods[i], "metadata.uid"), NULL, NULL, -1};
        struct job_call *k = call_new(c, s, pods[i]);
        int rv = k ? rest_delete(c->b.ctx->api, c->kpod, orc_json_str(pods[i], "metadata.namespace"),
                                 orc_json_str(pods[i], "metadata.name"), &o, deleted_pod, k)
                   : ORC_ENOMEM;
        if (rv != 0) {
            if (k) call_failed(k, rv, "deleting a pod");
            else s->op.failed = true;
        }
    }
}

static void unfinalized(void *arg, int status, const json_t *body)
{
    struct job_call *k = arg;
    bool ok = ctl_status_ok(status, 404, 0);
    /* 422: the test op failed, the cache was behind (often: the finalizer
     * is gone already); the retry looks at a fresher cache. */
    if (!ok && status != 422)
        log_warn(MOD, "%s: releasing pod %s: %s", k->s->key,
                 orc_json_str(k->obj, "metadata.name") ?: "", rest_message(status, body));
    call_end(k, ok);
}

/* A JSON patch removing the tracking finalizer where the cache saw it,
 * guarded by a test so a concurrent change of the list fails instead of
 * removing another finalizer. */
static json_t *unfinalize_patch(const json_t *pod)
{
    size_t i;
    json_t *f;
    char path[64];
    json_array_foreach (orc_json_get(pod, "metadata.finalizers"), i, f) {
        if (strcmp(json_string_value(f) ?: "", JOB_TRACKING_FINALIZER) != 0) continue;
        snprintf(path, sizeof path, "/metadata/finalizers/%zu", i);
        return json_pack("[{s:s, s:s, s:s}, {s:s, s:s}]", "op", "test", "path", path, "value",
                         JOB_TRACKING_FINALIZER, "op", "remove", "path", path);
    }
    return NULL;
}

static void unfinalize_pods(struct jobc *c, struct ctl_step *s, const json_t *const *pods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *patch = unfinalize_patch(pods[i]);
        struct job_call *k = patch ? call_new(c, s, pods[i]) : NULL;
        int rv = k ? rest_patch(c->b.ctx->api, c->kpod, orc_json_str(pods[i], "metadata.namespace"),
                                orc_json_str(pods[i], "metadata.name"), NULL,
                                "application/json-patch+json", patch, unfinalized, k)
                   : patch ? ORC_ENOMEM : 0;
        json_decref(patch);
        if (rv != 0) {
            if (k) call_failed(k, rv, "releasing a pod");
            else s->op.failed = true;
        }
    }
}

static void status_written(void *arg, int status, const json_t *body)
{
    struct job_call *k = arg;
    bool ok = ctl_status_ok(status, 0, 0);
    if (ok && k->event_reason && !k->c->b.stopped)
        events_record(k->c->b.rec, k->s->obj, k->event_type, k->event_reason, "%s", k->event_msg);
    if (!ok && status != 409)
        log_warn(MOD, "%s: writing status: %s", k->s->key, rest_message(status, body));
    call_end(k, ok);
}

static void write_status(struct jobc *c, struct ctl_step *s, const struct job_plan *p)
{
    json_t *obj = json_copy(s->obj);
    struct job_call *k = obj && json_object_set(obj, "status", p->status) == 0
                         ? call_new(c, s, obj) : NULL;
    int rv = ORC_ENOMEM;
    if (k) {
        k->event_type = p->event_type;
        k->event_reason = p->event_reason;
        k->event_msg = p->event_msg;
        rv = rest_update_status(c->b.ctx->api, c->kjob, obj, status_written, k);
    }
    json_decref(obj);
    if (rv != 0) {
        if (k) call_failed(k, rv, "writing status");
        else s->op.failed = true;
    }
}

static void job_deleted(void *arg, int status, const json_t *body)
{
    struct job_call *k = arg;
    bool ok = ctl_status_ok(status, 404, 0);
    if (!ok) log_warn(MOD, "%s: deleting after its TTL: %s", k->s->key, rest_message(status, body));
    call_end(k, ok);
}

static void delete_job(struct jobc *c, struct ctl_step *s)
{
    struct rest_delete_opts o = {orc_json_str(s->obj, "metadata.uid"), NULL, "Background", -1};
    struct job_call *k = call_new(c, s, s->obj);
    int rv = k ? rest_delete(c->b.ctx->api, c->kjob, orc_json_str(s->obj, "metadata.namespace"),
                             orc_json_str(s->obj, "metadata.name"), &o, job_deleted, k)
               : ORC_ENOMEM;
    if (rv != 0) {
        if (k) call_failed(k, rv, "deleting after its TTL");
        else s->op.failed = true;
    }
}

static void owner_patched(void *arg, int status, const json_t *body)
{
    struct job_call *k = arg;
    bool ok = ctl_status_ok(status, 404, 0);
    /* 409: the pod changed since the cache saw it; the retry looks again. */
    if (!ok && status != 409)
        log_warn(MOD, "%s: adopting or releasing pod %s: %s", k->s->key,
                 orc_json_str(k->obj, "metadata.name") ?: "", rest_message(status, body));
    call_end(k, ok);
}

/* Adopts (a controller ownerReference and the tracking finalizer, as
 * Kubernetes' pod ControllerRefManager for Jobs) or releases a pod. */
static void patch_owner(struct jobc *c, struct ctl_step *s, const json_t *pod, bool adopt)
{
    json_t *patch = ctl_owner_patch(pod, s->obj, "batch/v1", "Job", adopt, JOB_TRACKING_FINALIZER);
    struct job_call *k = patch ? call_new(c, s, pod) : NULL;
    int rv = k ? rest_patch(c->b.ctx->api, c->kpod, orc_json_str(pod, "metadata.namespace"),
                            orc_json_str(pod, "metadata.name"), NULL,
                            "application/merge-patch+json", patch, owner_patched, k)
               : ORC_ENOMEM;
    json_decref(patch);
    if (rv != 0) {
        if (k) call_failed(k, rv, adopt ? "adopting a pod" : "releasing a pod");
        else s->op.failed = true;
    }
}

/* ---- reconcile ---- */

struct pod_list {
    struct ctl_list all;   /* the pods the Job controls */
    const char *uid;       /* controller uid to match, or NULL */
    const char *job_name;  /* for orphans: the controller's name */
};

static bool controlled_by(const json_t *pod, const char *uid, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach (orc_json_get(pod, "metadata.ownerReferences"), i, r) {
        if (!json_is_true(json_object_get(r, "controller"))) continue;
        if (uid) return strcmp(orc_json_str(r, "uid") ?: "", uid) == 0;
        return strcmp(orc_json_str(r, "kind") ?: "", "Job") == 0
               && strcmp(orc_json_str(r, "name") ?: "", name) == 0;
    }
    return false;
}

static void collect(void *arg, const json_t *pod)
{
    struct pod_list *l = arg;
    if (controlled_by(pod, l->uid, l->job_name)) ctl_list_push(&l->all, pod);
}

static bool has_tracking(const json_t *pod)
{
    size_t i;
    json_t *f;
    json_array_foreach (orc_json_get(pod, "metadata.finalizers"), i, f)
        if (strcmp(json_string_value(f) ?: "", JOB_TRACKING_FINALIZER) == 0) return true;
    return false;
}

/* The Job is gone or going: only release what holds its pods. */
static void release_pods(struct jobc *c, struct ctl_step *s, struct pod_list *l)
{
    size_t keep = 0;
    for (size_t i = 0; i < l->all.n; i++) {
        const char *phase = orc_json_str(l->all.v[i], "status.phase") ?: "";
        bool over = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")
                    || orc_json_get(l->all.v[i], "metadata.deletionTimestamp") || !s->obj;
        if (over && has_tracking(l->all.v[i])) l->all.v[keep++] = l->all.v[i];
    }
    unfinalize_pods(c, s, l->all.v, keep);
}

struct claim {
    struct jobc *c;
    struct ctl_step *s;
    orc_selector *sel;
    unsigned patched;
};

static void adopt_orphan(void *arg, const json_t *pod)
{
    struct claim *cl = arg;
    bool match = orc_selector_matches(cl->sel, orc_json_get(pod, "metadata.labels"));

    if (!ctl_controller_ref(pod) && ctl_claim_decide(cl->s->obj, pod, match) == CTL_CLAIM_ADOPT) {
        patch_owner(cl->c, cl->s, pod, true);
        cl->patched++;
    }
}

/* ClaimPods: orphans the selector takes are adopted, owned pods it no
 * longer takes are released (and left out of l). The number of patches:
 * their pods' events bring the key back, so the step plans nothing more. */
static unsigned claim_pods(struct jobc *c, struct ctl_step *s, struct pod_list *l, const char *ns)
{
    struct claim cl = {c, s, NULL, 0};
    size_t keep = 0;

    /* A finished Job claims nothing (Kubernetes returns before it looks). */
    if (job_has_condition(s->obj, "Complete") || job_has_condition(s->obj, "Failed")) return 0;
    if (orc_selector_from_json(orc_json_get(s->obj, "spec.selector"), &cl.sel, NULL, 0) != 0
        || orc_selector_is_empty(cl.sel)) {
        orc_selector_free(cl.sel);
        return 0; /* a Job without a usable selector keeps what it owns */
    }
    for (size_t i = 0; i < l->all.n; i++) {
        bool match = orc_selector_matches(cl.sel, orc_json_get(l->all.v[i], "metadata.labels"));
        if (ctl_claim_decide(s->obj, l->all.v[i], match) == CTL_CLAIM_RELEASE) {
            patch_owner(c, s, l->all.v[i], false);
            cl.patched++;
        } else {
            l->all.v[keep++] = l->all.v[i];
        }
    }
    l->all.n = keep;
    informer_by_index(c->pods, "namespace", ns, adopt_orphan, &cl);
    orc_selector_free(cl.sel);
    return cl.patched;
}

static void run_plan(struct jobc *c, struct ctl_step *s, struct pod_list *l)
{
    struct job_plan p;
    char msg[256];
    int rv = job_plan(s->obj, l->all.v, l->all.n, orc_clock_wall(c->b.ctx->clock), &p, msg, sizeof msg);
    if (rv == ORC_EINVAL) {
        log_warn(MOD, "%s: %s", s->key, msg);
        events_record(c->b.rec, s->obj, "Warning", "InvalidJob", "%s", msg);
        return;
    }
    if (rv != 0) {
        s->op.failed = true;
        return;
    }
    s->requeue_ms = p.requeue_ms;
    if (p.status) write_status(c, s, &p);
    else if (p.event_reason)
        events_record(c->b.rec, s->obj, p.event_type, p.event_reason, "%s", p.event_msg);
    unfinalize_pods(c, s, p.unfinal, p.nunfinal);
    delete_pods(c, s, p.del, p.ndel);
    create_pods(c, s, &p);
    if (p.delete_job) delete_job(c, s);
    job_plan_free(&p);
}

static void reconcile(void *arg, const char *key)
{
    struct jobc *c = arg;
    char ns[256], name[256];
    const char *slash = strchr(key, '/');
    struct pod_list l = {0};

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if (!slash || (size_t)(slash - key) >= sizeof ns || strlen(slash + 1) >= sizeof name) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (!ctl_exp_satisfied(c->exp, key, orc_clock_now(c->b.ctx->clock))) {
        workqueue_done(c->b.q, key, EXPECT_RECHECK_MS);
        return;
    }
    memcpy(ns, key, (size_t)(slash - key));
    ns[slash - key] = '\0';
    strcpy(name, slash + 1);
    const json_t *job = informer_get(c->jobs, ns, name);
    struct ctl_step *s = ctl_step_new(c->b.q, key, job, jobc_put, c);
    if (!s) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    ctl_base_hold(&c->b);
    l.uid = job ? orc_json_str(job, "metadata.uid") : NULL;
    l.job_name = name;
    if (l.uid) informer_by_index(c->pods, "owner", l.uid, collect, &l);
    else informer_by_index(c->pods, "namespace", ns, collect, &l);
    if (l.all.fail) s->op.failed = true;
    else if (!job || orc_json_get(job, "metadata.deletionTimestamp")) release_pods(c, s, &l);
    else if (claim_pods(c, s, &l, ns) == 0) run_plan(c, s, &l);
    free(l.all.v);
    ctl_step_put(s);
}

/* ---- start / stop ---- */

static int job_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = "job", .workers = 4, .component = "job-controller", .reconcile = reconcile, .free_self = jobc_free};
    static const struct informer_cbs job_cbs = {on_job, on_job_update, on_job_delete, NULL};
    static const struct informer_cbs pod_cbs = {on_pod_add, on_pod_update, on_pod_delete, NULL};
    struct jobc *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    c->kjob = orc_kind_lookup("jobs.batch");
    c->kpod = orc_kind_lookup("pods");
    if (!(c->exp = ctl_exp_new())) {
        free(c);
        return ORC_ENOMEM;
    }
    const struct ctl_watch w[] = {
        {c->kjob, &job_cbs, &c->jobs},
        {c->kpod, &pod_cbs, &c->pods},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_job = {"job", job_start, ctl_base_stop_state};
