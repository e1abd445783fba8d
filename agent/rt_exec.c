/* rt_exec.c — a command in a running container (`runtime exec`), with its
 * output captured and a deadline; on timeout the command itself is killed
 * (killing the runtime's exec process alone would leave it running). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"

#define CAPTURE (1u << 20)
#define LINGER_MS 2000

struct exec_op {
    rt *r;
    char *id;
    char pidfile[RT_PATH];
    struct rt_proc *proc;
    uv_timer_t timer;
    bool timed_out;
    rt_exec_cb cb;
    void *arg;
};

static void on_closed(uv_handle_t *h)
{
    struct exec_op *op = h->data;
    rt *r = op->r;

    unlink(op->pidfile);
    free(op->id);
    free(op);
    rt_unref(r);
}

/* The command first, so that the runtime's exec process reaps it and
 * exits by itself: killing that process first would leave the command a
 * zombie of the container's init, which holds up the container's own exit
 * later. The runtime's process goes too if it lingers. */
static void on_timeout(uv_timer_t *t)
{
    struct exec_op *op = t->data;
    struct orc_buf b = ORC_BUF_INIT;
    int pid = 0;

    if (op->timed_out) {
        if (op->proc) rt_proc_kill(op->proc, SIGKILL);
        return;
    }
    op->timed_out = true;
    if (orc_file_read(op->pidfile, 64, &b) == 0) pid = atoi(b.data);
    orc_buf_free(&b);
    if (pid > 0) kill(pid, SIGKILL);
    else if (op->proc) rt_proc_kill(op->proc, SIGKILL);
    uv_timer_start(&op->timer, on_timeout, LINGER_MS, 0);
}

static void on_done(void *arg, const struct rt_proc_res *res)
{
    struct exec_op *op = arg;
    struct rt_status st;
    int code = res->signal ? 128 + res->signal : (int)res->status;

    op->proc = NULL;
    uv_timer_stop(&op->timer);
    if (res->canceled) op->cb(op->arg, ORC_ECANCELED, -1, NULL, 0, NULL, 0);
    else if (op->timed_out) op->cb(op->arg, ORC_ETIMEDOUT, -1, res->out, res->out_len, res->err, res->err_len);
    else if (res->spawn_err) op->cb(op->arg, ORC_EIO, -1, NULL, 0, NULL, 0);
    else if (code != 0 && (rt_status(op->r, op->id, &st) != 0 || st.state != RT_RUNNING))
        op->cb(op->arg, ORC_ENOENT, -1, NULL, 0, res->err, res->err_len); /* it ended meanwhile */
    else op->cb(op->arg, 0, code, res->out, res->out_len, res->err, res->err_len);
    uv_close((uv_handle_t *)&op->timer, on_closed);
}

static char **exec_argv(rt *r, struct exec_op *op, char *const *argv, char *root, char *pidopt)
{
    size_t n = 0, k = 0;
    char **v;

    while (argv[n]) n++;
    if ((v = calloc(n + 8, sizeof *v)) == NULL) return NULL;
    if (rt_path(root, "--root=%s", r->dir_runc) || rt_path(pidopt, "--pid-file=%s", op->pidfile)) {
        free(v);
        return NULL;
    }
    v[k++] = r->runtime;
    v[k++] = root;
    v[k++] = "exec";
    v[k++] = pidopt;
    v[k++] = op->id;
    for (size_t i = 0; i < n; i++) v[k++] = argv[i];
    return v;
}

int rt_exec(rt *r, const char *id, char *const *argv, unsigned timeout_ms, rt_exec_cb cb, void *arg)
{
    struct rt_status st;
    struct exec_op *op;
    char root[RT_PATH], pidopt[RT_PATH], **v;
    int rv;

    if (r->closing) return ORC_ESHUTDOWN;
    if (argv == NULL || argv[0] == NULL) return ORC_EINVAL;
    if (rt_status(r, id, &st) != 0 || st.state != RT_RUNNING) return ORC_ENOENT;
    if ((op = calloc(1, sizeof *op)) == NULL || (op->id = strdup(id)) == NULL) {
        free(op);
        return ORC_ENOMEM;
    }
    op->r = r;
    op->cb = cb;
    op->arg = arg;
    rt_path(op->pidfile, "%s/%s/exec-%u.pid", r->dir_ctrs, id, ++r->seq);
    if ((v = exec_argv(r, op, argv, root, pidopt)) == NULL) {
        free(op->id);
        free(op);
        return ORC_ENOMEM;
    }
    {
        struct rt_proc_opts o = {.argv = v, .max_capture = CAPTURE};
        rv = rt_proc_start(r, &o, on_done, op, &op->proc);
    }
    free(v);
    if (rv != 0) {
        free(op->id);
        free(op);
        return rv;
    }
    uv_timer_init(r->loop, &op->timer);
    op->timer.data = op;
    rt_ref_hold(r);
    if (timeout_ms) uv_timer_start(&op->timer, on_timeout, timeout_ms, 0);
    return 0;
}
