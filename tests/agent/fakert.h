/* fakert.h — a fake container runtime behind agent/rt_ops.h, for unit tests
 * of the pod worker without root: containers are records that "run" until
 * the test says they exit (fakert_exit), images are names the test makes
 * pullable (fakert_add_image) or not, a stop ends a container at once or,
 * for one that ignores SIGTERM, when the grace period ran out. Every
 * callback fires from a timer of the fake clock (never inside the call
 * that took it, as the runtime.h contract says), so orc_clock_fake_advance
 * drives the runtime and the worker alike.
 *
 * Header only: each .c file in tests/agent/ is a program of its own. */
#ifndef ORC_TESTS_FAKERT_H
#define ORC_TESTS_FAKERT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rt_ops.h"
#include "lib/clock.h"
#include "lib/orc.h"

#define FAKERT_MAX 64
#define FAKERT_IMAGES 16

struct fakert_ctr {
    bool used;
    struct fakert *f;
    char id[160], pod_uid[64], image[256], log_path[1200];
    char argv0[256];
    enum rt_state state;
    int exit_code;
    int64_t started_ns, finished_ns;
    bool ignore_term;  /* keeps running past SIGTERM: a stop waits for the grace period */
    orc_timer *kill;   /* the SIGKILL due at the end of the grace period */
    rt_stop_cb stop_cb;
    void *stop_arg;
};

struct fakert {
    orc_clock *clock;  /* borrowed */
    struct fakert_ctr ctrs[FAKERT_MAX];
    char images[FAKERT_IMAGES][256];
    size_t n_images;
    int pull_err;      /* next pull of a missing image: this error (0: ORC_ENOENT) */
    int start_err;     /* the next start_fails starts fail with this */
    int start_fails;
    char start_msg[256];
    bool term_ignored; /* containers started from now on ignore SIGTERM */
    int exec_code;     /* what exec'd commands exit with */
    rt_exit_cb exit_cb;
    void *exit_arg;
    /* what was asked */
    int pulls, starts, stops, execs;
    unsigned last_grace;
    char last_pull[256];
    int pending;       /* callbacks not yet delivered */
};

/* ---- deferred callbacks ---- */

struct fakert_op {
    struct fakert *f;
    orc_timer *t;
    void (*fire)(struct fakert_op *op);
    void *cb;
    void *arg;
    int err;
    char id[160];
    char msg[256];
    struct rt_image img;
};

static void fakert_op_fired(void *arg)
{
    struct fakert_op *op = arg;

    op->f->pending--;
    op->fire(op);
    orc_timer_close(op->t);
    json_decref(op->img.config);
    free(op);
}

static struct fakert_op *fakert_defer(struct fakert *f, void (*fire)(struct fakert_op *), void *cb, void *arg,
                                      uint64_t delay_ms)
{
    struct fakert_op *op = calloc(1, sizeof *op);

    if (op == NULL || orc_timer_new(f->clock, fakert_op_fired, op, &op->t) != 0) {
        free(op);
        return NULL;
    }
    op->f = f;
    op->fire = fire;
    op->cb = cb;
    op->arg = arg;
    f->pending++;
    orc_timer_start(op->t, delay_ms);
    return op;
}

/* ---- records ---- */

static struct fakert_ctr *fakert_find(struct fakert *f, const char *id)
{
    for (size_t i = 0; i < FAKERT_MAX; i++)
        if (f->ctrs[i].used && strcmp(f->ctrs[i].id, id) == 0) return &f->ctrs[i];
    return NULL;
}

static int64_t fakert_wall_ns(const struct fakert *f) { return orc_clock_wall(f->clock) * 1000000LL; }

static void fire_exit(struct fakert_op *op)
{
    if (op->f->exit_cb) op->f->exit_cb(op->f->exit_arg, op->id);
}

static void fire_stopped(struct fakert_op *op) { ((rt_stop_cb)op->cb)(op->arg, op->err); }

/* The container ends with `code`: the on_exit callback and a pending stop's
 * callback follow from the clock. */
static void fakert_end(struct fakert *f, struct fakert_ctr *c, int code)
{
    struct fakert_op *op;

    if (c->state != RT_RUNNING) return;
    c->state = RT_EXITED;
    c->exit_code = code;
    c->finished_ns = fakert_wall_ns(f);
    if (c->kill) {
        orc_timer_close(c->kill);
        c->kill = NULL;
    }
    if ((op = fakert_defer(f, fire_exit, NULL, NULL, 0)) != NULL) snprintf(op->id, sizeof op->id, "%s", c->id);
    if (c->stop_cb && (op = fakert_defer(f, fire_stopped, (void *)c->stop_cb, c->stop_arg, 0)) != NULL)
        op->err = 0;
    c->stop_cb = NULL;
}

/* ---- the ops ---- */

static const char *fakert_version(void *self)
{
    (void)self;
    return "fakert 1.0";
}

static bool fakert_has_image(const struct fakert *f, const char *image)
{
    for (size_t i = 0; i < f->n_images; i++)
        if (strcmp(f->images[i], image) == 0) return true;
    return false;
}

static void fire_pulled(struct fakert_op *op)
{
    ((rt_pull_cb)op->cb)(op->arg, op->err, op->err ? NULL : &op->img, op->msg);
}

static int fakert_pull(void *self, const char *image, enum rt_pull_policy policy, const struct rt_auth *auth,
                       rt_pull_cb cb, void *arg)
{
    struct fakert *f = self;
    struct fakert_op *op;

    (void)policy, (void)auth;
    f->pulls++;
    snprintf(f->last_pull, sizeof f->last_pull, "%s", image);
    if ((op = fakert_defer(f, fire_pulled, (void *)cb, arg, 0)) == NULL) return ORC_ENOMEM;
    if (!fakert_has_image(f, image)) {
        op->err = f->pull_err ? f->pull_err : ORC_ENOENT;
        snprintf(op->msg, sizeof op->msg, "%s: not found", image);
        return 0;
    }
    op->img.ref = (char *)"docker.io/library/fake:1";
    op->img.digest = (char *)"sha256:0000000000000000000000000000000000000000000000000000000000000000";
    op->img.config = json_pack("{s:[s]}", "Cmd", "/bin/run");
    return 0;
}

static void fire_started(struct fakert_op *op)
{
    struct fakert_ctr *c = fakert_find(op->f, op->id);

    if (op->err == 0 && c) {
        c->state = RT_RUNNING;
        c->started_ns = fakert_wall_ns(op->f);
    } else if (c) {
        c->used = false; /* a failed start leaves nothing behind */
    }
    ((rt_start_cb)op->cb)(op->arg, op->err, op->msg);
}

static int fakert_start(void *self, const struct rt_spec *spec, rt_start_cb cb, void *arg)
{
    struct fakert *f = self;
    struct fakert_ctr *c = NULL;
    struct fakert_op *op;

    if (spec->id == NULL || spec->argv == NULL || spec->argv[0] == NULL) return ORC_EINVAL;
    if (fakert_find(f, spec->id)) return ORC_EEXIST;
    for (size_t i = 0; i < FAKERT_MAX && c == NULL; i++)
        if (!f->ctrs[i].used) c = &f->ctrs[i];
    if (c == NULL || (op = fakert_defer(f, fire_started, (void *)cb, arg, 0)) == NULL) return ORC_ENOMEM;
    f->starts++;
    memset(c, 0, sizeof *c);
    c->used = true;
    c->f = f;
    c->state = RT_CREATED;
    c->ignore_term = f->term_ignored;
    snprintf(c->id, sizeof c->id, "%s", spec->id);
    snprintf(c->pod_uid, sizeof c->pod_uid, "%s", spec->pod_uid ? spec->pod_uid : "");
    snprintf(c->image, sizeof c->image, "%s", spec->image && spec->image->ref ? spec->image->ref : "");
    snprintf(c->argv0, sizeof c->argv0, "%s", spec->argv[0]);
    snprintf(c->log_path, sizeof c->log_path, "%s", spec->log_path ? spec->log_path : "");
    snprintf(op->id, sizeof op->id, "%s", spec->id);
    if (f->start_fails > 0) {
        f->start_fails--;
        op->err = f->start_err;
        snprintf(op->msg, sizeof op->msg, "%s", f->start_msg);
    }
    return 0;
}

static int fakert_status(void *self, const char *id, struct rt_status *out)
{
    struct fakert_ctr *c = fakert_find(self, id);

    if (c == NULL) return ORC_ENOENT;
    *out = (struct rt_status){c->state, c->state == RT_RUNNING ? 4242 : 0, c->exit_code, false,
                              c->started_ns, c->finished_ns};
    return 0;
}

static void fakert_on_exit(void *self, rt_exit_cb cb, void *arg)
{
    struct fakert *f = self;

    f->exit_cb = cb;
    f->exit_arg = arg;
}

/* The grace period ran out: SIGKILL. */
static void fakert_sigkill(void *arg)
{
    struct fakert_ctr *c = arg;

    fakert_end(c->f, c, 137); /* closes c->kill */
}

static int fakert_stop(void *self, const char *id, unsigned grace_s, rt_stop_cb cb, void *arg)
{
    struct fakert *f = self;
    struct fakert_ctr *c = fakert_find(f, id);
    if (c == NULL) return ORC_ENOENT;
    f->stops++;
    f->last_grace = grace_s;
    if (c->state != RT_RUNNING) {
        struct fakert_op *op = fakert_defer(f, fire_stopped, (void *)cb, arg, 0);
        return op ? 0 : ORC_ENOMEM;
    }
    c->stop_cb = cb;
    c->stop_arg = arg;
    if (!c->ignore_term) {
        fakert_end(f, c, 143); /* 128 + SIGTERM */
        return 0;
    }
    if (c->kill) return 0;
    if (orc_timer_new(f->clock, fakert_sigkill, c, &c->kill) != 0) return ORC_ENOMEM;
    orc_timer_start(c->kill, (uint64_t)grace_s * 1000);
    return 0;
}

static int fakert_remove(void *self, const char *id)
{
    struct fakert_ctr *c = fakert_find(self, id);

    if (c == NULL) return ORC_ENOENT;
    if (c->state == RT_RUNNING || c->state == RT_CREATED) return ORC_EINVAL;
    c->used = false;
    return 0;
}

static int fakert_remove_pod(void *self, const char *pod_uid)
{
    (void)self, (void)pod_uid;
    return 0;
}

static int fakert_list(void *self, char ***ids, size_t *n)
{
    struct fakert *f = self;
    size_t k = 0;

    *ids = calloc(FAKERT_MAX, sizeof **ids);
    if (*ids == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < FAKERT_MAX; i++)
        if (f->ctrs[i].used && ((*ids)[k] = strdup(f->ctrs[i].id)) != NULL) k++;
    *n = k;
    return 0;
}

static void fire_exec(struct fakert_op *op)
{
    ((rt_exec_cb)op->cb)(op->arg, op->err, op->err ? 0 : op->f->exec_code, "", 0, "", 0);
}

static int fakert_exec(void *self, const char *id, char *const *argv, unsigned timeout_ms, rt_exec_cb cb,
                       void *arg)
{
    struct fakert *f = self;
    struct fakert_ctr *c = fakert_find(f, id);

    (void)argv, (void)timeout_ms;
    if (c == NULL || c->state != RT_RUNNING) return ORC_ENOENT;
    f->execs++;
    return fakert_defer(f, fire_exec, (void *)cb, arg, 0) ? 0 : ORC_ENOMEM;
}

static int fakert_log_open(void *self, const char *log_path, const struct rt_log_opts *o,
                           void (*on_data)(void *arg, const char *data, size_t len),
                           void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out)
{
    (void)self, (void)log_path, (void)o, (void)on_data, (void)on_end, (void)arg, (void)out;
    return ORC_ENOENT; /* no logs in the fake */
}

static void fakert_log_cancel(void *self, rt_log_reader *lr) { (void)self, (void)lr; }
static void fakert_log_eof(void *self, const char *log_path) { (void)self, (void)log_path; }

static void fakert_close(void *self, void (*cb)(void *arg), void *arg)
{
    (void)self;
    if (cb) cb(arg);
}

static const struct rt_ops fakert_ops = {
    .version = fakert_version,
    .pull = fakert_pull,
    .start = fakert_start,
    .status = fakert_status,
    .on_exit = fakert_on_exit,
    .stop = fakert_stop,
    .remove = fakert_remove,
    .remove_pod = fakert_remove_pod,
    .list = fakert_list,
    .exec = fakert_exec,
    .log_open = fakert_log_open,
    .log_cancel = fakert_log_cancel,
    .log_eof = fakert_log_eof,
    .close = fakert_close,
};

/* ---- what tests call ---- */

static inline struct fakert *fakert_new(orc_clock *clock)
{
    struct fakert *f = calloc(1, sizeof *f);

    if (f) f->clock = clock;
    return f;
}

/* Every callback must have been delivered (advance the clock first);
 * containers still waiting for their SIGKILL are dropped. */
static inline void fakert_free(struct fakert *f)
{
    if (f == NULL) return;
    for (size_t i = 0; i < FAKERT_MAX; i++) orc_timer_close(f->ctrs[i].kill);
    free(f);
}

static inline struct rt_handle fakert_handle(struct fakert *f) { return (struct rt_handle){&fakert_ops, f}; }

/* Pulls of `image` succeed from now on. */
static inline void fakert_add_image(struct fakert *f, const char *image)
{
    if (f->n_images < FAKERT_IMAGES) snprintf(f->images[f->n_images++], sizeof f->images[0], "%s", image);
}

/* A container an earlier agent started, running (for adoption). */
static inline void fakert_add_running(struct fakert *f, const char *id, const char *pod_uid)
{
    for (size_t i = 0; i < FAKERT_MAX; i++) {
        struct fakert_ctr *c = &f->ctrs[i];
        if (c->used) continue;
        memset(c, 0, sizeof *c);
        c->used = true;
        c->f = f;
        c->state = RT_RUNNING;
        c->started_ns = fakert_wall_ns(f);
        snprintf(c->id, sizeof c->id, "%s", id);
        snprintf(c->pod_uid, sizeof c->pod_uid, "%s", pod_uid);
        return;
    }
}

/* Container `id` exits with `code` now (the worker hears it from the clock). */
static inline bool fakert_exit(struct fakert *f, const char *id, int code)
{
    struct fakert_ctr *c = fakert_find(f, id);

    if (c == NULL || c->state != RT_RUNNING) return false;
    fakert_end(f, c, code);
    return true;
}

/* The running container of pod `uid` named `name` (its id "uid-name-N"), or NULL. */
static inline struct fakert_ctr *fakert_running(struct fakert *f, const char *uid, const char *name)
{
    char prefix[256];

    snprintf(prefix, sizeof prefix, "%s-%s-", uid, name);
    for (size_t i = 0; i < FAKERT_MAX; i++)
        if (f->ctrs[i].used && f->ctrs[i].state == RT_RUNNING && strncmp(f->ctrs[i].id, prefix, strlen(prefix)) == 0)
            return &f->ctrs[i];
    return NULL;
}

#endif
