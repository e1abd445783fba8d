/* rt_proc.c — child processes on the loop (skopeo, umoci, runc, the shim):
 * spawn, capture bounded output, time out, cancel; one callback when the
 * child exited and its output ended. */
#include <stdlib.h>
#include <string.h>

#include "agent/rt_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define EOF_WAIT_MS 500

struct rt_proc {
    rt *r;
    uv_process_t proc;
    uv_pipe_t out, err;
    uv_timer_t timer;
    struct orc_buf obuf, ebuf;
    size_t max;
    unsigned eof_wait_ms;
    int handles; /* still to close */
    bool spawned, exited, out_eof, err_eof, done, detached;
    struct rt_proc_res res;
    rt_proc_cb cb;
    void *arg;
    struct rt_proc *next;
};

static void unlink_proc(rt *r, struct rt_proc *p)
{
    for (struct rt_proc **pp = &r->procs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

static void on_closed(uv_handle_t *h)
{
    struct rt_proc *p = h->data;
    rt *r = p->r;

    if (--p->handles > 0) return;
    orc_buf_free(&p->obuf);
    orc_buf_free(&p->ebuf);
    free(p);
    rt_unref(r);
}

static void close_all(struct rt_proc *p)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&p->proc, (uv_handle_t *)&p->out,
                         (uv_handle_t *)&p->err, (uv_handle_t *)&p->timer};

    p->handles = p->spawned ? 4 : 3;
    for (size_t i = 0; i < ORC_ARRAY_LEN(hs); i++) {
        if (i == 0 && !p->spawned) continue;
        uv_close(hs[i], on_closed);
    }
}

static void finish(struct rt_proc *p)
{
    if (p->done) return;
    p->done = true;
    unlink_proc(p->r, p);
    uv_timer_stop(&p->timer);
    p->res.out = p->obuf.data ? p->obuf.data : "";
    p->res.out_len = p->obuf.len;
    p->res.err = p->ebuf.data ? p->ebuf.data : "";
    p->res.err_len = p->ebuf.len;
    p->cb(p->arg, &p->res);
    close_all(p);
}

static void maybe_finish(struct rt_proc *p)
{
    if (p->exited && p->out_eof && p->err_eof) finish(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct rt_proc *p = h->data;
    (void)suggested;
    /* one buffer per runtime: on_read copies out at once */
    *buf = uv_buf_init(p->r->slab, RT_SLAB);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct rt_proc *p = s->data;
    bool is_out = s == (uv_stream_t *)&p->out;
    struct orc_buf *b = is_out ? &p->obuf : &p->ebuf;

    if (n > 0) {
        size_t room = p->max > b->len ? p->max - b->len : 0;
        size_t take = (size_t)n < room ? (size_t)n : room;
        if (take > 0 && orc_buf_append(b, buf->base, take) != 0) log_warn(RT_LOG, "out of memory");
        return;
    }
    if (n == 0) return;
    uv_read_stop(s);
    if (is_out) p->out_eof = true;
    else p->err_eof = true;
    maybe_finish(p);
}

static void on_timer(uv_timer_t *t)
{
    struct rt_proc *p = t->data;

    if (p->exited) { /* a grandchild keeps the output open: stop waiting */
        finish(p);
        return;
    }
    p->res.timed_out = true;
    uv_process_kill(&p->proc, SIGKILL);
}

static void on_proc_exit(uv_process_t *h, int64_t status, int sig)
{
    struct rt_proc *p = h->data;

    p->exited = true;
    p->res.status = sig ? -1 : status;
    p->res.signal = sig;
    if (!(p->out_eof && p->err_eof)) uv_timer_start(&p->timer, on_timer, p->eof_wait_ms, 0);
    maybe_finish(p);
}

static void spawn_failed(void *arg)
{
    struct rt_proc *p = arg;

    p->exited = p->out_eof = p->err_eof = true;
    finish(p);
}

static int init_handles(rt *r, struct rt_proc *p)
{
    int rv = uv_pipe_init(r->loop, &p->out, 0);

    if (rv == 0) rv = uv_pipe_init(r->loop, &p->err, 0);
    if (rv == 0) rv = uv_timer_init(r->loop, &p->timer);
    p->out.data = p->err.data = p->timer.data = p->proc.data = p;
    return rv;
}

static int spawn(struct rt_proc *p, const struct rt_proc_opts *o)
{
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err},
    };
    uv_process_options_t po = {
        .exit_cb = on_proc_exit,
        .file = o->argv[0],
        .args = (char **)o->argv,
        .env = (char **)o->env,
        .flags = o->detached ? UV_PROCESS_DETACHED : 0,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rv = uv_spawn(p->r->loop, &p->proc, &po);

    if (rv != 0) return rv;
    p->spawned = true;
    uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&p->err, on_alloc, on_read);
    if (o->timeout_ms) uv_timer_start(&p->timer, on_timer, o->timeout_ms, 0);
    return 0;
}

int rt_proc_start(rt *r, const struct rt_proc_opts *o, rt_proc_cb cb, void *arg,
                  struct rt_proc **out)
{
    struct rt_proc *p;
    int rv;

    if (r->closing) return ORC_ESHUTDOWN;
    p = calloc(1, sizeof *p);
    if (p == NULL) return ORC_ENOMEM;
    p->r = r;
    p->cb = cb;
    p->arg = arg;
    p->max = o->max_capture;
    p->detached = o->detached;
    p->eof_wait_ms = o->eof_wait_ms ? o->eof_wait_ms : EOF_WAIT_MS;
    if (init_handles(r, p) != 0) {
        free(p); /* nothing to close: uv_*_init on these cannot fail on Linux */
        return ORC_EIO;
    }
    rt_ref_hold(r);
    p->next = r->procs;
    r->procs = p;
    rv = spawn(p, o);
    if (rv != 0) {
        p->res.status = -1;
        p->res.spawn_err = rv;
        if (rt_later(r, spawn_failed, p) != 0) {
            unlink_proc(r, p);
            p->done = true;
            close_all(p);
            return ORC_ENOMEM;
        }
    }
    if (out) *out = p;
    return 0;
}

void rt_proc_kill(struct rt_proc *p, int sig)
{
    if (p->spawned && !p->exited) uv_process_kill(&p->proc, sig);
}

void rt_proc_cancel(struct rt_proc *p)
{
    p->res.canceled = true;
    rt_proc_kill(p, SIGKILL);
}

void rt_proc_cancel_all(rt *r)
{
    for (struct rt_proc *p = r->procs; p; p = p->next) {
        if (p->detached) p->res.canceled = true; /* a starting shim finishes its start */
        else rt_proc_cancel(p);
    }
}
