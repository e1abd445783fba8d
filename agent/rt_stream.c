/* rt_stream.c — an interactive command in a running container: the
 * runtime's exec in the foreground with its stdio piped to the agent, or,
 * for a TTY, on a pseudo-terminal the agent holds the master of. runc
 * gives the command a terminal of its own inside the container and copies
 * between it and ours (in raw mode), and follows our size on SIGWINCH, so
 * a resize is TIOCSWINSZ on our master and a SIGWINCH to runc. */
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"

#define GRACE_MS 500 /* after exit, how long output may stay open (a grandchild) */
#define STDIN_EOT "\x04"

struct rt_stream {
    rt *r;
    char *id;
    char pidfile[RT_PATH];
    uv_process_t proc;
    uv_pipe_t in;  /* stdin (no TTY) */
    uv_pipe_t out; /* stdout, or the TTY master (both ways) */
    uv_pipe_t err;
    uv_timer_t grace;
    bool tty, has_in, has_err;
    bool out_eof, err_eof;
    bool exited, finished, killed, paused;
    bool stdin_closed;
    int64_t exit_status;
    int term_signal;
    size_t in_queued;
    bool in_high; /* the writer was told to wait */
    int handles;  /* open libuv handles */
    struct rt_stream_cbs cbs;
    void *arg;
};

struct stdin_write {
    uv_write_t req;
    rt_stream *s;
    size_t len;
    char data[];
};

static void on_handle_closed(uv_handle_t *h)
{
    rt_stream *s = h->data;
    rt *r = s->r;

    if (--s->handles > 0) return;
    unlink(s->pidfile);
    free(s->id);
    free(s);
    rt_unref(r);
}

static void close_handle(rt_stream *s, uv_handle_t *h)
{
    (void)s;
    if (!uv_is_closing(h)) uv_close(h, on_handle_closed);
}

static int result_code(const rt_stream *s)
{
    return s->term_signal ? 128 + s->term_signal : (int)s->exit_status;
}

static void finish(rt_stream *s)
{
    struct rt_status st;
    int code = result_code(s), err = 0;

    if (s->finished) return;
    s->finished = true;
    if (s->killed) err = ORC_ECANCELED;
    else if (code != 0 && (rt_status(s->r, s->id, &st) != 0 || st.state != RT_RUNNING)) err = ORC_ENOENT;
    s->cbs.on_exit(s->arg, err, code);
    close_handle(s, (uv_handle_t *)&s->grace);
    close_handle(s, (uv_handle_t *)&s->proc);
    close_handle(s, (uv_handle_t *)&s->out);
    if (s->has_in) close_handle(s, (uv_handle_t *)&s->in);
    if (s->has_err) close_handle(s, (uv_handle_t *)&s->err);
}

static void maybe_finish(rt_stream *s)
{
    if (s->exited && s->out_eof && (!s->has_err || s->err_eof)) finish(s);
}

static void on_grace(uv_timer_t *t) { finish(t->data); }

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    rt_stream *s = p->data;

    s->exited = true;
    s->exit_status = status;
    s->term_signal = sig;
    maybe_finish(s);
    if (!s->finished) uv_timer_start(&s->grace, on_grace, GRACE_MS, 0);
}

/* ---- output ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    rt_stream *s = h->data;
    (void)hint;
    *buf = uv_buf_init(s->r->slab, RT_SLAB);
}

static void output_read(rt_stream *s, uv_stream_t *h, int fd, ssize_t n, const uv_buf_t *buf)
{
    if (n == 0 || s->finished) return;
    if (n < 0) { /* EOF, or EIO: a TTY whose last slave closed */
        uv_read_stop(h);
        if (fd == 2) s->err_eof = true;
        else s->out_eof = true;
        maybe_finish(s);
        return;
    }
    s->cbs.on_output(s->arg, fd, buf->base, (size_t)n);
}

static void on_out(uv_stream_t *h, ssize_t n, const uv_buf_t *buf) { output_read(h->data, h, 1, n, buf); }
static void on_err(uv_stream_t *h, ssize_t n, const uv_buf_t *buf) { output_read(h->data, h, 2, n, buf); }

void rt_stream_pause(rt_stream *s, bool paused)
{
    if (s->finished || s->paused == paused) return;
    s->paused = paused;
    if (!s->out_eof) {
        if (paused) uv_read_stop((uv_stream_t *)&s->out);
        else uv_read_start((uv_stream_t *)&s->out, on_alloc, on_out);
    }
    if (s->has_err && !s->err_eof) {
        if (paused) uv_read_stop((uv_stream_t *)&s->err);
        else uv_read_start((uv_stream_t *)&s->err, on_alloc, on_err);
    }
}

/* ---- input ---- */

static uv_stream_t *stdin_handle(rt_stream *s)
{
    return s->tty ? (uv_stream_t *)&s->out : s->has_in ? (uv_stream_t *)&s->in : NULL;
}

static void shut_stdin(rt_stream *s)
{
    if (s->tty) {
        rt_stream_write(s, STDIN_EOT, 1);
        return;
    }
    if (s->has_in) close_handle(s, (uv_handle_t *)&s->in);
}

static void on_stdin_written(uv_write_t *w, int status)
{
    struct stdin_write *sw = (struct stdin_write *)w;
    rt_stream *s = sw->s;

    (void)status; /* a command that stopped reading: its exit says the rest */
    s->in_queued -= sw->len;
    free(sw);
    if (s->in_queued == 0 && s->in_high && !s->finished) {
        s->in_high = false;
        if (s->cbs.on_stdin_drained) s->cbs.on_stdin_drained(s->arg);
    }
}

int rt_stream_write(rt_stream *s, const char *data, size_t len)
{
    uv_stream_t *h = stdin_handle(s);
    struct stdin_write *sw;
    uv_buf_t b;

    if (h == NULL || s->finished || (s->stdin_closed && !s->tty) || uv_is_closing((uv_handle_t *)h))
        return ORC_ECANCELED;
    if (len == 0) return 0;
    if ((sw = malloc(sizeof *sw + len)) == NULL) return ORC_ENOMEM;
    sw->s = s;
    sw->len = len;
    memcpy(sw->data, data, len);
    b = uv_buf_init(sw->data, (unsigned)len);
    if (uv_write(&sw->req, h, &b, 1, on_stdin_written) != 0) {
        free(sw);
        return ORC_ECANCELED;
    }
    s->in_queued += len;
    if (s->in_queued > RT_STREAM_STDIN_HIGH) s->in_high = true;
    return s->in_high ? 1 : 0;
}

static void on_stdin_shut(uv_shutdown_t *req, int status)
{
    (void)status;
    free(req);
}

void rt_stream_close_stdin(rt_stream *s)
{
    if (s->stdin_closed || s->finished) return;
    /* uv_close would drop queued writes: a shutdown lets them go first. */
    if (!s->tty && s->has_in) {
        uv_shutdown_t *req = malloc(sizeof *req);
        if (req == NULL || uv_shutdown(req, (uv_stream_t *)&s->in, on_stdin_shut) != 0) {
            free(req);
            shut_stdin(s);
        }
    } else {
        shut_stdin(s);
    }
    s->stdin_closed = true;
}

int rt_stream_resize(rt_stream *s, unsigned cols, unsigned rows)
{
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    uv_os_fd_t fd;

    if (!s->tty || s->finished || cols == 0 || rows == 0 || cols > 0xffff || rows > 0xffff) return ORC_EINVAL;
    if (uv_fileno((uv_handle_t *)&s->out, &fd) != 0 || ioctl(fd, TIOCSWINSZ, &ws) != 0) return ORC_EIO;
    if (!s->exited) uv_process_kill(&s->proc, SIGWINCH);
    return 0;
}

/* The command first (runc then exits by itself, its child reaped). */
void rt_stream_kill(rt_stream *s)
{
    struct orc_buf b = ORC_BUF_INIT;
    int pid = 0;

    if (s->finished || s->killed) return;
    s->killed = true;
    if (orc_file_read(s->pidfile, 64, &b) == 0) pid = atoi(b.data);
    orc_buf_free(&b);
    if (pid > 0) kill(pid, SIGKILL);
    if (!s->exited) uv_process_kill(&s->proc, pid > 0 ? SIGTERM : SIGKILL);
}

static int ctr_fifo(rt *r, const char *id, const char *name, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/%s/%s", r->dir_ctrs, id, name);

    if (k < 0 || (size_t)k >= n) return ORC_EINVAL;
    return access(out, F_OK) == 0 ? 0 : ORC_ENOENT;
}

int rt_stdin_path(rt *r, const char *id, char *out, size_t n) { return ctr_fifo(r, id, "stdin", out, n); }
int rt_resize_path(rt *r, const char *id, char *out, size_t n) { return ctr_fifo(r, id, "resize", out, n); }

/* ---- starting ---- */

static int build_argv(rt_stream *s, const struct rt_stream_opts *o, char ***out, char *root, char *pidopt)
{
    size_t n = 0, k = 0;
    char **v;

    while (o->argv[n]) n++;
    if ((v = calloc(n + 8, sizeof *v)) == NULL) return ORC_ENOMEM;
    if (rt_path(root, "--root=%s", s->r->dir_runc) || rt_path(pidopt, "--pid-file=%s", s->pidfile)) {
        free(v);
        return ORC_EINVAL;
    }
    v[k++] = s->r->runtime;
    v[k++] = root;
    v[k++] = "exec";
    if (o->tty) v[k++] = "--tty";
    v[k++] = pidopt;
    v[k++] = s->id;
    for (size_t i = 0; i < n; i++) v[k++] = o->argv[i];
    *out = v;
    return 0;
}

static int spawn(rt_stream *s, const struct rt_stream_opts *o, int slave)
{
    uv_stdio_container_t io[3];
    uv_process_options_t po = {0};
    char root[RT_PATH], pidopt[RT_PATH], **argv = NULL;
    int rv;

    if ((rv = build_argv(s, o, &argv, root, pidopt)) != 0) return rv;
    if (slave >= 0) {
        for (int i = 0; i < 3; i++) io[i] = (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = slave};
    } else {
        io[0] = o->stdin ? (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_READABLE_PIPE,
                                                  .data.stream = (uv_stream_t *)&s->in}
                         : (uv_stdio_container_t){.flags = UV_IGNORE};
        io[1] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->out};
        io[2] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->err};
    }
    po.file = argv[0];
    po.args = argv;
    po.stdio = io;
    po.stdio_count = 3;
    po.exit_cb = on_exit_cb;
    rv = uv_spawn(s->r->loop, &s->proc, &po);
    free(argv);
    if (rv != 0) log_warn(RT_LOG, "exec in %s: cannot run %s: %s", s->id, s->r->runtime, uv_strerror(rv));
    return rv == 0 ? 0 : ORC_EIO;
}

/* Handles before the spawn: a failed spawn closes them all the same way. */
static void init_handles(rt_stream *s, const struct rt_stream_opts *o)
{
    uv_timer_init(s->r->loop, &s->grace);
    uv_pipe_init(s->r->loop, &s->out, 0);
    s->grace.data = s->out.data = s->proc.data = s;
    s->handles = 3; /* grace, out, proc (once spawned or not) */
    s->has_in = !o->tty && o->stdin;
    s->has_err = !o->tty;
    if (s->has_in) {
        uv_pipe_init(s->r->loop, &s->in, 0);
        s->in.data = s;
        s->handles++;
    }
    if (s->has_err) {
        uv_pipe_init(s->r->loop, &s->err, 0);
        s->err.data = s;
        s->handles++;
    }
}

static int open_tty(rt_stream *s, const struct rt_stream_opts *o, int *slave)
{
    struct winsize ws = {.ws_row = o->rows ? o->rows : 24, .ws_col = o->cols ? o->cols : 80};
    int master;

    if (openpty(&master, slave, NULL, NULL, &ws) != 0) {
        log_warn(RT_LOG, "exec in %s: openpty: %s", s->id, strerror(errno));
        return ORC_EIO;
    }
    if (uv_pipe_open(&s->out, master) != 0) {
        close(master);
        close(*slave);
        return ORC_EIO;
    }
    return 0;
}

int rt_stream_start(rt *r, const char *id, const struct rt_stream_opts *o, const struct rt_stream_cbs *cbs,
                    void *arg, rt_stream **out)
{
    struct rt_status st;
    rt_stream *s;
    int slave = -1, rv;
    bool spawned = false;

    if (r->closing) return ORC_ESHUTDOWN;
    if (o->argv == NULL || o->argv[0] == NULL || cbs->on_output == NULL || cbs->on_exit == NULL) return ORC_EINVAL;
    if (rt_status(r, id, &st) != 0 || st.state != RT_RUNNING) return ORC_ENOENT;
    if ((s = calloc(1, sizeof *s)) == NULL || (s->id = strdup(id)) == NULL) {
        free(s);
        return ORC_ENOMEM;
    }
    s->r = r;
    s->tty = o->tty;
    s->cbs = *cbs;
    s->arg = arg;
    rt_path(s->pidfile, "%s/%s/exec-%u.pid", r->dir_ctrs, id, ++r->seq);
    rt_ref_hold(r);
    init_handles(s, o);
    rv = o->tty ? open_tty(s, o, &slave) : 0;
    if (rv == 0) {
        spawned = true;
        rv = spawn(s, o, slave);
    }
    if (slave >= 0) close(slave); /* runc has it: its EOF is runc's exit */
    if (rv != 0) {
        s->finished = true; /* no callback for a start that failed */
        close_handle(s, (uv_handle_t *)&s->grace);
        close_handle(s, (uv_handle_t *)&s->out);
        if (s->has_in) close_handle(s, (uv_handle_t *)&s->in);
        if (s->has_err) close_handle(s, (uv_handle_t *)&s->err);
        /* uv_spawn initializes the process handle even when it fails. */
        if (spawned) close_handle(s, (uv_handle_t *)&s->proc);
        else s->handles--;
        return rv;
    }
    uv_read_start((uv_stream_t *)&s->out, on_alloc, on_out);
    if (s->has_err) uv_read_start((uv_stream_t *)&s->err, on_alloc, on_err);
    *out = s;
    return 0;
}
