/* rt_stop.c — graceful stop: SIGTERM to the container's init through the
 * OCI runtime, SIGKILL to all its processes once the grace period passed,
 * the callback when the shim recorded the exit. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agent/rt_int.h"
#include "lib/log.h"
#include "lib/orc.h"

struct rt_stop_op {
    rt *r;
    struct rt_ctr *c;          /* NULL once finished */
    uv_timer_t timer;
    void (*cb)(void *arg, int err);
    void *arg;
    struct rt_stop_op *next;
};

static void on_closed(uv_handle_t *h)
{
    struct rt_stop_op *op = h->data;
    rt *r = op->r;

    free(op);
    rt_unref(r);
}

/* Calls back once and lets the op go. */
static void finish(struct rt_stop_op *op, int err)
{
    op->c = NULL;
    uv_timer_stop(&op->timer);
    op->cb(op->arg, err);
    uv_close((uv_handle_t *)&op->timer, on_closed);
}

static void on_kill_done(void *arg, const struct rt_proc_res *res)
{
    char *id = arg;

    if (res->status != 0 && !res->canceled)
        log_debug(RT_LOG, "kill %s: %.*s", id, (int)res->err_len, res->err);
    free(id);
}

/* `runtime kill [--all] ID SIG`; a shim that died leaves the pid to us. */
static void send_signal(rt *r, struct rt_ctr *c, int sig)
{
    char root[RT_PATH], *id = strdup(c->id);
    char *argv[] = {r->runtime, root, "kill", sig == SIGKILL ? "--all" : (char *)c->id,
                    sig == SIGKILL ? (char *)c->id : "TERM", sig == SIGKILL ? "KILL" : NULL, NULL};
    struct rt_proc_opts o = {.argv = argv, .timeout_ms = 10000, .max_capture = 1024};

    if (id == NULL || rt_path(root, "--root=%s", r->dir_runc) != 0
        || rt_proc_start(r, &o, on_kill_done, id, NULL) != 0) {
        free(id);
        if (c->disk.pid > 0 && rt_pid_alive(c->disk.pid, c->disk.pid_start)) kill(c->disk.pid, sig);
    }
}

static void on_grace(uv_timer_t *t)
{
    struct rt_stop_op *op = t->data;

    if (op->c == NULL) return;
    log_debug(RT_LOG, "container %s: grace period over, SIGKILL", op->c->id);
    send_signal(op->r, op->c, SIGKILL);
}

static void already_stopped(void *arg)
{
    struct rt_stop_op *op = arg;
    finish(op, 0);
}

int rt_stop(rt *r, const char *id, unsigned grace_s, void (*cb)(void *arg, int err), void *arg)
{
    struct rt_ctr *c = rt_ctr_find(r, id);
    struct rt_stop_op *op;

    if (r->closing) return ORC_ESHUTDOWN;
    if (c == NULL) return ORC_ENOENT;
    if ((op = calloc(1, sizeof *op)) == NULL) return ORC_ENOMEM;
    op->r = r;
    op->cb = cb;
    op->arg = arg;
    uv_timer_init(r->loop, &op->timer);
    op->timer.data = op;
    rt_ref_hold(r);
    if (!c->starting) rt_watch_check(r, c);
    if (c->state == RT_EXITED) {
        if (rt_later(r, already_stopped, op) != 0) {
            uv_close((uv_handle_t *)&op->timer, on_closed);
            return ORC_ENOMEM;
        }
        return 0;
    }
    op->c = c;
    op->next = c->stops;
    c->stops = op;
    /* a container still starting gets its signal when the grace ends */
    if (grace_s == 0) send_signal(r, c, SIGKILL);
    else if (!c->starting) send_signal(r, c, SIGTERM);
    /* SIGKILL again every 2 s: a kill sent while it was starting may miss */
    uv_timer_start(&op->timer, on_grace, grace_s ? (uint64_t)grace_s * 1000 : 2000, 2000);
    return 0;
}

/* The list is taken first: a callback may rt_remove (free) the container. */
static void finish_all(struct rt_ctr *c, int err)
{
    struct rt_stop_op *op = c->stops, *next;

    c->stops = NULL;
    for (; op; op = next) {
        next = op->next;
        finish(op, err);
    }
}

void rt_stops_exited(rt *r, struct rt_ctr *c)
{
    (void)r;
    finish_all(c, 0);
}

void rt_stops_cancel(rt *r, struct rt_ctr *c)
{
    (void)r;
    finish_all(c, ORC_ECANCELED);
}
