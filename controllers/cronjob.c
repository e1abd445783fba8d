/* cronjob.c — ctl_cronjob, the CronJob controller: CronJobs and Jobs from
 * the shared informers -> keys "ns/name" of CronJobs -> reconcile:
 * cronjob_plan (cronjob_logic.c) decides, this file issues the calls (the
 * scheduled Job created, replaced and old Jobs deleted, status written)
 * and asks the workqueue to look again at the next scheduled time.
 *
 * A Job's name is fixed by its scheduled time, so a create answered 409
 * AlreadyExists means the Job is there (made by us before a restart, or by
 * the previous leader): it counts as created. */
#include "controllers/cronjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "cronjob"
#define NOT_SYNCED_RETRY_MS 200

struct cjc {
    struct ctl_base b;
    const struct orc_kind *kcj, *kjob;
    informer *cjs, *jobs;
};

struct cj_call {
    struct ctl_step *s;
    struct cjc *c;
    json_t *obj;      /* the Job, or the CronJob with its new status */
};

static void cjc_put(void *arg)
{
    struct cjc *c = arg;
    ctl_base_put(&c->b);
}

/* ---- informer handlers ---- */

static void queue_obj(struct cjc *c, const json_t *obj)
{
    char key[512];
    const char *ns = orc_json_str(obj, "metadata.namespace"), *name = orc_json_str(obj, "metadata.name");
    if (c->b.stopped || !ns || !name) return;
    if (snprintf(key, sizeof key, "%s/%s", ns, name) < (int)sizeof key) workqueue_add(c->b.q, key);
}

/* A Job's change concerns the CronJob controlling it. */
static void queue_owner(struct cjc *c, const json_t *job)
{
    char key[512];
    size_t i;
    json_t *r;
    if (c->b.stopped) return;
    json_array_foreach (orc_json_get(job, "metadata.ownerReferences"), i, r) {
        if (!json_is_true(json_object_get(r, "controller"))) continue;
        if (strcmp(orc_json_str(r, "kind") ?: "", "CronJob") == 0
            && snprintf(key, sizeof key, "%s/%s", orc_json_str(job, "metadata.namespace") ?: "",
                        orc_json_str(r, "name") ?: "") < (int)sizeof key)
            workqueue_add(c->b.q, key);
        return;
    }
}

static void on_cj(void *arg, const json_t *obj)
{
    queue_obj(arg, obj);
}

static void on_cj_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    queue_obj(arg, obj);
}

static void on_job(void *arg, const json_t *job)
{
    queue_owner(arg, job);
}

static void on_job_update(void *arg, const json_t *old, const json_t *job)
{
    (void)old;
    queue_owner(arg, job);
}

/* ---- calls ---- */

static struct cj_call *call_new(struct cjc *c, struct ctl_step *s, json_t *obj)
{
    struct cj_call *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->s = s;
    k->c = c;
    k->obj = json_incref(obj);
    ctl_step_hold(s);
    return k;
}

static void call_end(struct cj_call *k, bool ok)
{
    if (!ok) k->s->op.failed = true;
    ctl_step_put(k->s);
    json_decref(k->obj);
    free(k);
}

static void status_written(void *arg, int status, const json_t *body)
{
    struct cj_call *k = arg;
    bool ok = ctl_status_ok(status, 0, 0);
    if (!ok && status != 409)
        log_warn(MOD, "%s: writing status: %s", k->s->key, rest_message(status, body));
    call_end(k, ok);
}

static void write_status(struct cjc *c, struct ctl_step *s, json_t *status)
{
    json_t *obj = json_copy(s->obj);
    struct cj_call *k = obj && json_object_set(obj, "status", status) == 0 ? call_new(c, s, obj)
                                                                           : NULL;
    int rv = k ? rest_update_status(c->b.ctx->api, c->kcj, obj, status_written, k) : ORC_ENOMEM;
    json_decref(obj);
    if (rv != 0) {
        log_warn(MOD, "%s: writing status: %s", s->key, orc_strerror(rv));
        if (k) call_end(k, false);
        else s->op.failed = true;
    }
}

/* The status (new lastScheduleTime) is written once the Job exists. */
struct create_ctx {
    struct cj_call call;
    json_t *status;
};

static void job_created(void *arg, int status, const json_t *body)
{
    struct create_ctx *x = arg;
    struct cj_call *k = &x->call;
    const char *name = orc_json_str(k->obj, "metadata.name") ?: "";
    bool ok = ctl_status_ok(status, 409, 0);

    if (ctl_status_ok(status, 0, 0) && !k->c->b.stopped)
        events_record(k->c->b.rec, k->s->obj, "Normal", "SuccessfulCreate", "Created job %s", name);
    if (status == 409) log_info(MOD, "%s: job %s already exists", k->s->key, name);
    if (!ok) {
        log_warn(MOD, "%s: creating job %s: %s", k->s->key, name, rest_message(status, body));
        if (!k->c->b.stopped && status > 0)
            events_record(k->c->b.rec, k->s->obj, "Warning", "FailedCreate",
                          "Error creating job: %s", rest_message(status, body));
    }
    if (ok && x->status && !k->c->b.stopped) write_status(k->c, k->s, x->status);
    json_decref(x->status);
    k->s->op.failed |= !ok;
    ctl_step_put(k->s);
    json_decref(k->obj);
    free(x);
}

static void create_job(struct cjc *c, struct ctl_step *s, json_t *job, json_t *status)
{
    struct create_ctx *x = calloc(1, sizeof *x);
    int rv = ORC_ENOMEM;
    if (x) {
        x->call.s = s;
        x->call.c = c;
        x->call.obj = json_incref(job);
        x->status = status ? json_incref(status) : NULL;
        ctl_step_hold(s);
        rv = rest_create(c->b.ctx->api, c->kjob, orc_json_str(job, "metadata.namespace"), job,
                         job_created, x);
    }
    if (rv != 0) {
        log_warn(MOD, "%s: creating a job: %s", s->key, orc_strerror(rv));
        s->op.failed = true;
        if (x) {
            json_decref(x->status);
            json_decref(x->call.obj);
            free(x);
            ctl_step_put(s);
        }
    }
}

static void job_deleted(void *arg, int status, const json_t *body)
{
    struct cj_call *k = arg;
    bool ok = ctl_status_ok(status, 404, 0);
    if (!ok) log_warn(MOD, "%s: deleting job %s: %s", k->s->key,
                      orc_json_str(k->obj, "metadata.name") ?: "", rest_message(status, body));
    call_end(k, ok);
}

static void delete_jobs(struct cjc *c, struct ctl_step *s, const struct cronjob_plan *p)
{
    for (size_t i = 0; i < p->ndel; i++) {
        const json_t *j = p->del[i];
        struct rest_delete_opts o = {orc_json_str(j, "metadata.uid"), NULL, "Background", -1};
        struct cj_call *k = call_new(c, s, (json_t *)j);
        int rv = k ? rest_delete(c->b.ctx->api, c->kjob, orc_json_str(j, "metadata.namespace"),
                                 orc_json_str(j, "metadata.name"), &o, job_deleted, k)
                   : ORC_ENOMEM;
        if (rv != 0) {
            log_warn(MOD, "%s: deleting a job: %s", s->key, orc_strerror(rv));
            if (k) call_end(k, false);
            else s->op.failed = true;
        }
    }
}

/* ---- reconcile ---- */

struct job_list {
    struct ctl_list all; /* the Jobs the CronJob controls */
    const char *uid;
};

static void collect(void *arg, const json_t *job)
{
    struct job_list *l = arg;
    size_t i;
    json_t *r;
    bool mine = false;
    json_array_foreach (orc_json_get(job, "metadata.ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller")))
            mine = strcmp(orc_json_str(r, "uid") ?: "", l->uid) == 0;
    if (mine) ctl_list_push(&l->all, job);
}

static void run_plan(struct cjc *c, struct ctl_step *s, const struct job_list *l)
{
    struct cronjob_plan p;
    if (cronjob_plan(s->obj, l->all.v, l->all.n, orc_clock_wall(c->b.ctx->clock), &p) != 0) {
        s->op.failed = true;
        return;
    }
    for (size_t i = 0; i < p.nevents; i++) {
        if (!strcmp(p.events[i].type, "Warning"))
            log_warn(MOD, "%s: %s: %s", s->key, p.events[i].reason, p.events[i].msg);
        events_record(c->b.rec, s->obj, p.events[i].type, p.events[i].reason, "%s", p.events[i].msg);
    }
    s->requeue_ms = p.requeue_ms;
    delete_jobs(c, s, &p);
    if (p.create) create_job(c, s, p.create, p.status);
    else if (p.status) write_status(c, s, p.status);
    cronjob_plan_free(&p);
}

static void reconcile(void *arg, const char *key)
{
    struct cjc *c = arg;
    char ns[256], name[256];
    const char *slash = strchr(key, '/');
    struct job_list l = {0};

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if (!slash || (size_t)(slash - key) >= sizeof ns || strlen(slash + 1) >= sizeof name) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    memcpy(ns, key, (size_t)(slash - key));
    ns[slash - key] = '\0';
    strcpy(name, slash + 1);
    const json_t *cj = informer_get(c->cjs, ns, name);
    if (!cj) { /* gone: the garbage collector takes its Jobs */
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    struct ctl_step *s = ctl_step_new(c->b.q, key, cj, cjc_put, c);
    if (!s) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    ctl_base_hold(&c->b);
    l.uid = orc_json_str(cj, "metadata.uid") ?: "";
    informer_by_index(c->jobs, "owner", l.uid, collect, &l);
    if (l.all.fail) s->op.failed = true;
    else run_plan(c, s, &l);
    free(l.all.v);
    ctl_step_put(s);
}

/* ---- start / stop ---- */

static int cronjob_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = "cronjob", .workers = 2, .component = "cronjob-controller", .reconcile = reconcile, .free_self = free};
    static const struct informer_cbs cj_cbs = {on_cj, on_cj_update, NULL, NULL};
    static const struct informer_cbs job_cbs = {on_job, on_job_update, on_job, NULL};
    struct cjc *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    c->kcj = orc_kind_lookup("cronjobs.batch");
    c->kjob = orc_kind_lookup("jobs.batch");
    const struct ctl_watch w[] = {
        {c->kcj, &cj_cbs, &c->cjs},
        {c->kjob, &job_cbs, &c->jobs},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_cronjob = {"cronjob", cronjob_start, ctl_base_stop_state};
