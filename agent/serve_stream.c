/* serve_stream.c — GET /exec/{ns}/{pod}/{container}?command=..&stdin=..&tty=..
 * with a WebSocket upgrade: Kubernetes' streaming exec, as the kubelet
 * serves it to the API server's relay; and GET /attach/...: the container's
 * own output from now on (read from its log as it is written). Binary messages whose first byte
 * is the channel (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 a
 * TTY resize, 255 "stdin is done" in v5.channel.k8s.io); framing by
 * libwslay over the transport's tunnel (lib/httpd.h). */
#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "agent/rt_ops.h"
#include "agent/serve_int.h"
#include "agent/serve_ws.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/ws.h"

#define MOD "serve"
#define CH_STDIN 0
#define CH_ERROR 3
#define CH_RESIZE 4
#define CH_CLOSE 255
#define MAX_MSG (1u << 20)         /* a client's message (kubectl sends 32 KiB of stdin at most) */
#define OUT_HIGH (1u << 20)        /* output waiting for the client before the command is paused */
#define MAX_ARGV SERVE_MAX_QUERY

static const char *const protocols[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};

/* An attach's writer to the process's stdin FIFO: its own allocation, as
 * the pipe closes after the request is gone. */
struct attach_in {
    uv_pipe_t pipe;
    struct ws_op *op; /* NULL once the request is gone */
    bool paused;
};

struct ws_op {
    struct serve_wsio io; /* first: wslay's user data (serve_ws.h) */
    agent_server *s;
    wslay_event_context_ptr ws;
    rt_stream *st;       /* NULL once the command ended */
    rt_log_reader *lr;   /* attach: the main process's log, followed; NULL once ended */
    struct attach_in *ain; /* attach: the process's stdin FIFO, or NULL */
    int resize_fd;       /* attach to a terminal: the shim's resize FIFO, or -1 */
    bool attach;
    bool v5, want_stderr, stdin_paused;
    char argv_text[512]; /* for the Status message */
};

static void on_ain_closed(uv_handle_t *h) { free(h->data); }

static void ain_close(struct ws_op *op)
{
    if (op->ain == NULL) return;
    op->ain->op = NULL;
    uv_close((uv_handle_t *)&op->ain->pipe, on_ain_closed);
    op->ain = NULL;
}

static void op_free(void *p)
{
    struct ws_op *op = p;

    ain_close(op);
    if (op->resize_fd >= 0) close(op->resize_fd);
    if (op->ws) wslay_event_context_free(op->ws);
    free(op);
}

/* ---- wslay's I/O ---- */

static void pump(struct ws_op *op)
{
    if (!op->io.gone && wslay_event_want_write(op->ws) && wslay_event_send(op->ws) != 0 && op->st)
        rt_stream_kill(op->st);
}

static void queue_msg(struct ws_op *op, uint8_t channel, const char *data, size_t len)
{
    uint8_t *m = malloc(len + 1);
    struct wslay_event_msg msg = {WSLAY_BINARY_FRAME, m, len + 1};

    if (m == NULL) return;
    m[0] = channel;
    memcpy(m + 1, data, len);
    wslay_event_queue_msg(op->ws, &msg); /* copies */
    free(m);
}

/* ---- client messages ---- */

/* A terminal's new size: exec's own terminal, or an attached container's
 * (one short record to the shim's FIFO; a full FIFO drops it, the next
 * resize carries the size again). */
static void on_resize(struct ws_op *op, const uint8_t *data, size_t len)
{
    json_t *j = json_loadb((const char *)data, len, 0, NULL);
    json_int_t w = json_integer_value(json_object_get(j, "Width"));
    json_int_t h = json_integer_value(json_object_get(j, "Height"));
    char rec[32];
    int n;

    json_decref(j);
    if (w <= 0 || h <= 0 || w > 0xffff || h > 0xffff) return;
    if (op->st) rt_stream_resize(op->st, (unsigned)w, (unsigned)h);
    if (op->resize_fd >= 0 && (n = snprintf(rec, sizeof rec, "%u %u\n", (unsigned)w, (unsigned)h)) > 0
        && write(op->resize_fd, rec, (size_t)n) < 0)
        log_debug(MOD, "attach: resize dropped: %s", strerror(errno));
}

static void attach_msg(struct ws_op *op, const struct wslay_event_on_msg_recv_arg *a);

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *user)
{
    struct ws_op *op = user;
    (void)ctx;
    if (a->opcode == WSLAY_CONNECTION_CLOSE) {
        if (op->st) rt_stream_kill(op->st);
        return;
    }
    if ((a->opcode != WSLAY_BINARY_FRAME && a->opcode != WSLAY_TEXT_FRAME) || a->msg_length == 0) return;
    if (op->attach) {
        attach_msg(op, a);
        return;
    }
    if (op->st == NULL) return;
    switch (a->msg[0]) {
    case CH_STDIN:
        if (rt_stream_write(op->st, (const char *)a->msg + 1, a->msg_length - 1) == 1 && !op->stdin_paused) {
            op->stdin_paused = true;
            orc_httpd_tunnel_pause(op->io.r, true);
        }
        break;
    case CH_RESIZE: on_resize(op, a->msg + 1, a->msg_length - 1); break;
    case CH_CLOSE:
        if (op->v5 && a->msg_length >= 2 && a->msg[1] == CH_STDIN) rt_stream_close_stdin(op->st);
        break;
    default: break;
    }
}

static void on_input(struct orc_httpd_req *r, const char *data, size_t len)
{
    struct ws_op *op = r->op;

    op->io.in = data;
    op->io.in_len = len;
    if (wslay_event_recv(op->ws) != 0 && op->st) rt_stream_kill(op->st);
    op->io.in_len = 0;
    pump(op);
}

/* ---- the command's side ---- */

static void on_drain(struct orc_httpd_req *r)
{
    struct ws_op *op = r->op;

    r->on_drain = NULL;
    if (op->st) rt_stream_pause(op->st, false);
}

static void on_output(void *arg, int fd, const char *data, size_t len)
{
    struct ws_op *op = arg;

    if (op->io.gone || (fd == 2 && !op->want_stderr)) return;
    queue_msg(op, (uint8_t)fd, data, len);
    pump(op);
    if (!op->io.gone && orc_httpd_stream_pending(op->io.r) > OUT_HIGH) {
        rt_stream_pause(op->st, true);
        op->io.r->on_drain = on_drain;
    }
}

static void on_stdin_drained(void *arg)
{
    struct ws_op *op = arg;

    if (op->stdin_paused && !op->io.gone) orc_httpd_tunnel_pause(op->io.r, false);
    op->stdin_paused = false;
}

/* The final Status, as the kubelet writes it on the error channel. */
static char *exit_status(const struct ws_op *op, int err, int code)
{
    char msg[768], num[16];
    json_t *j;
    char *text;

    if (err == 0 && code == 0) return strdup("{\"metadata\":{},\"status\":\"Success\"}");
    if (err == 0) {
        snprintf(num, sizeof num, "%d", code);
        snprintf(msg, sizeof msg, "command terminated with non-zero exit code: command '%s' exited with %d",
                 op->argv_text, code);
        j = json_pack("{s:{},s:s,s:s,s:s,s:{s:[{s:s,s:s}]}}", "metadata", "status", "Failure", "message", msg,
                      "reason", "NonZeroExitCode", "details", "causes", "reason", "ExitCode", "message", num);
    } else {
        snprintf(msg, sizeof msg, "Internal error occurred: %s",
                 err == ORC_ENOENT ? "container not running" : orc_strerror(err));
        j = json_pack("{s:{},s:s,s:s,s:s,s:i}", "metadata", "status", "Failure", "message", msg, "reason",
                      "InternalError", "code", 500);
    }
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

static void on_cmd_exit(void *arg, int err, int code)
{
    struct ws_op *op = arg;
    char *st;

    op->st = NULL;
    if (!op->io.gone) {
        if ((st = exit_status(op, err, code)) != NULL) queue_msg(op, CH_ERROR, st, strlen(st));
        free(st);
        pump(op); /* wslay sends a queued close before queued data */
        wslay_event_queue_close(op->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        pump(op);
    }
    op->io.r->on_drain = NULL;
    orc_httpd_tunnel_end(op->io.r); /* frees op */
}

static void on_gone(struct orc_httpd_req *r)
{
    struct ws_op *op = r->op;

    op->io.gone = true;
    if (op->st) rt_stream_kill(op->st); /* a killed kubectl ends its command */
}

/* ---- the upgrade ---- */

static bool flag(const struct serve_query *q, const char *key)
{
    const char *v = serve_query_get(q, key);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* The 101 answer, or an error answered (false). */
static bool handshake(struct orc_httpd_req *r, struct orc_buf *head, bool *v5)
{
    const char *proto = orc_ws_pick_protocol(orc_httpd_req_header(r, "sec-websocket-protocol"), protocols);
    const char *ver = orc_httpd_req_header(r, "sec-websocket-version");
    char accept[ORC_WS_ACCEPT_LEN];

    if (!orc_ws_has_token(orc_httpd_req_header(r, "upgrade"), "websocket")
        || !orc_ws_has_token(orc_httpd_req_header(r, "connection"), "upgrade") || ver == NULL
        || strcmp(ver, "13") != 0 || orc_ws_accept(orc_httpd_req_header(r, "sec-websocket-key"), accept) != 0) {
        serve_status(r, 400, "BadRequest", "a WebSocket upgrade (version 13, with a key) is required");
        return false;
    }
    if (proto == NULL) {
        serve_status(r, 400, "BadRequest", "none of the offered subprotocols is supported (want one of %s, %s)",
                     protocols[0], protocols[1]);
        return false;
    }
    *v5 = strcmp(proto, protocols[0]) == 0;
    if (orc_buf_printf(head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n", accept, proto) != 0) {
        serve_status(r, 500, "InternalError", "out of memory");
        return false;
    }
    return true;
}

static int ws_new(struct ws_op *op)
{
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = serve_ws_recv,
        .send_callback = serve_ws_send,
        .on_msg_recv_callback = on_msg,
    };

    if (wslay_event_context_server_init(&op->ws, &cbs, op) != 0) return ORC_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(op->ws, MAX_MSG);
    return 0;
}

static void argv_text(struct ws_op *op, char **argv)
{
    size_t n = 0;

    for (int i = 0; argv[i] && n < sizeof op->argv_text; i++)
        n += (size_t)snprintf(op->argv_text + n, sizeof op->argv_text - n, "%s%s", i ? " " : "", argv[i]);
}

static void start_failed(struct orc_httpd_req *r, const struct serve_ref *ref, int rv)
{
    if (rv == ORC_ENOENT)
        serve_status(r, 409, "Conflict", "container \"%s\" in pod \"%s\" is not running", ref->container, ref->pod);
    else if (rv == ORC_ESHUTDOWN) serve_status(r, 503, "ServiceUnavailable", "the node agent is stopping");
    else serve_status(r, 500, "InternalError", "exec: %s", orc_strerror(rv));
}

static void start(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                  const struct serve_query *q, char **argv)
{
    static const struct rt_stream_cbs cbs = {on_output, on_stdin_drained, on_cmd_exit};
    struct rt_stream_opts o = {.argv = argv, .tty = flag(q, "tty"), .stdin = flag(q, "stdin")};
    struct orc_buf head = ORC_BUF_INIT;
    char id[SERVE_ID_LEN], path[SERVE_PATH_LEN];
    struct ws_op *op;
    bool v5 = false;
    int rv;

    if (serve_find(s, r, ref, false, id, path) != 0) return;
    if (!handshake(r, &head, &v5)) goto out;
    if ((op = calloc(1, sizeof *op)) == NULL || ws_new(op) != 0) {
        free(op);
        serve_status(r, 500, "InternalError", "out of memory");
        goto out;
    }
    op->s = s;
    op->io.r = r;
    op->v5 = v5;
    op->resize_fd = -1;
    op->want_stderr = flag(q, "stderr") && !o.tty;
    argv_text(op, argv);
    r->op = op;
    r->op_free = op_free;
    if ((rv = s->r.ops->exec_stream(s->r.self, id, &o, &cbs, op, &op->st)) != 0) {
        start_failed(r, ref, rv);
        goto out;
    }
    r->on_gone = on_gone;
    if (orc_httpd_tunnel_begin(r, head.data, head.len, on_input) != 0) {
        op->io.gone = true;
        if (op->st) rt_stream_kill(op->st);
    }
out:
    orc_buf_free(&head);
}

void serve_exec_stream(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                       const struct serve_query *q)
{
    char *argv[MAX_ARGV + 1];
    int n = 0;

    for (int i = 0; i < q->n; i++)
        if (strcmp(q->key[i], "command") == 0) argv[n++] = q->val[i];
    argv[n] = NULL;
    if (r->method != HTTP_GET)
        serve_status(r, 405, "MethodNotAllowed", "a streaming exec is a GET with a WebSocket upgrade");
    else if (n == 0 || argv[0][0] == '\0')
        serve_status(r, 400, "BadRequest", "you must specify at least 1 command");
    else if (!flag(q, "stdin") && !flag(q, "stdout") && !flag(q, "stderr"))
        serve_status(r, 400, "BadRequest", "you must specify at least 1 of stdin, stdout, stderr");
    else if (s->r.ops->exec_stream == NULL)
        serve_status(r, 501, "NotImplemented", "this runtime has no interactive exec");
    else start(s, r, ref, q, argv);
}

/* ---- attach ---- */

static void on_log_data(void *arg, const char *data, size_t len)
{
    struct ws_op *op = arg;

    if (op->io.gone) return;
    queue_msg(op, 1, data, len);
    pump(op);
}

/* The container ended (or the client left): its Status, as for exec. */
static void on_log_end(void *arg, int err)
{
    struct ws_op *op = arg;

    op->lr = NULL;
    if (!op->io.gone) {
        static const char ok[] = "{\"metadata\":{},\"status\":\"Success\"}";
        queue_msg(op, CH_ERROR, ok, sizeof ok - 1);
        pump(op);
        wslay_event_queue_close(op->ws, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
        pump(op);
    }
    (void)err;
    op->io.r->on_drain = NULL;
    orc_httpd_tunnel_end(op->io.r); /* frees op */
}

#define AIN_HIGH (256u * 1024)

struct ain_write {
    uv_write_t req;
    struct attach_in *ain;
    char data[];
};

static void on_ain_written(uv_write_t *w, int status)
{
    struct ain_write *aw = (struct ain_write *)w;
    struct attach_in *ain = aw->ain;

    (void)status;
    free(aw);
    if (ain->op && ain->paused && uv_stream_get_write_queue_size((uv_stream_t *)&ain->pipe) < AIN_HIGH / 4) {
        ain->paused = false;
        if (!ain->op->io.gone) orc_httpd_tunnel_pause(ain->op->io.r, false);
    }
}

/* stdin to the process's FIFO; "stdin is done" closes our end only (the
 * process's stdin stays open for the next attach, as with stdinOnce false). */
static void attach_msg(struct ws_op *op, const struct wslay_event_on_msg_recv_arg *a)
{
    struct ain_write *aw;
    uv_buf_t b;

    if (a->msg[0] == CH_CLOSE && op->v5 && a->msg_length >= 2 && a->msg[1] == CH_STDIN) {
        ain_close(op);
        return;
    }
    if (a->msg[0] == CH_RESIZE) {
        on_resize(op, a->msg + 1, a->msg_length - 1);
        return;
    }
    if (a->msg[0] != CH_STDIN || op->ain == NULL || a->msg_length < 2) return;
    if ((aw = malloc(sizeof *aw + a->msg_length - 1)) == NULL) return;
    aw->ain = op->ain;
    memcpy(aw->data, a->msg + 1, a->msg_length - 1);
    b = uv_buf_init(aw->data, (unsigned)(a->msg_length - 1));
    if (uv_write(&aw->req, (uv_stream_t *)&op->ain->pipe, &b, 1, on_ain_written) != 0) {
        free(aw);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&op->ain->pipe) > AIN_HIGH && !op->ain->paused) {
        op->ain->paused = true;
        orc_httpd_tunnel_pause(op->io.r, true);
    }
}

/* Opens the FIFO without blocking: the shim holds its read end. */
static int ain_open(struct ws_op *op, const char *id)
{
    char path[SERVE_PATH_LEN];
    int fd, rv;

    if (op->s->r.ops->stdin_path == NULL) return ORC_ENOENT;
    if ((rv = op->s->r.ops->stdin_path(op->s->r.self, id, path, sizeof path)) != 0) return rv;
    if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) return ORC_EIO;
    if ((op->ain = calloc(1, sizeof *op->ain)) == NULL) {
        close(fd);
        return ORC_ENOMEM;
    }
    uv_pipe_init(op->s->loop, &op->ain->pipe, 0);
    op->ain->pipe.data = op->ain;
    op->ain->op = op;
    if (uv_pipe_open(&op->ain->pipe, fd) != 0) {
        close(fd);
        ain_close(op);
        return ORC_EIO;
    }
    return 0;
}

/* The shim holds the FIFO read-write: this open does not wait. */
static int resize_open(struct ws_op *op, const char *id)
{
    char path[SERVE_PATH_LEN];
    int rv;

    if (op->s->r.ops->resize_path == NULL) return ORC_ENOENT;
    if ((rv = op->s->r.ops->resize_path(op->s->r.self, id, path, sizeof path)) != 0) return rv;
    if ((op->resize_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) return ORC_EIO;
    return 0;
}

static void on_attach_gone(struct orc_httpd_req *r)
{
    struct ws_op *op = r->op;

    op->io.gone = true;
    if (op->lr) rth_log_cancel(&op->s->r, op->lr); /* on_log_end ends the request */
}

static void start_attach(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref, bool in,
                         bool tty)
{
    /* From now by the lines' times, not from the end the reader finds: its
     * scan may come after the process answered the first stdin. */
    struct timespec now;
    struct rt_log_opts lo = {.follow = true, .tail_lines = -1};
    struct orc_buf head = ORC_BUF_INIT;
    struct rt_status st;
    char id[SERVE_ID_LEN], path[SERVE_PATH_LEN];
    struct ws_op *op;
    bool v5 = false;
    int rv;

    clock_gettime(CLOCK_REALTIME, &now);
    lo.since_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (serve_find(s, r, ref, false, id, path) != 0) return;
    /* Ended, or its process gone before the shim recorded it (a quick
     * command): refused as containerd's CRI does, and kubectl run then
     * falls back to the log, where the output is. */
    if (rth_status(&s->r, id, &st) == 0
        && (st.state == RT_EXITED || (st.pid > 0 && kill(st.pid, 0) != 0 && errno == ESRCH))) {
        serve_status(r, 500, "InternalError", "container is in CONTAINER_EXITED state");
        return;
    }
    if (!handshake(r, &head, &v5)) goto out;
    if ((op = calloc(1, sizeof *op)) == NULL || ws_new(op) != 0) {
        free(op);
        serve_status(r, 500, "InternalError", "out of memory");
        goto out;
    }
    op->s = s;
    op->io.r = r;
    op->v5 = v5;
    op->attach = true;
    op->resize_fd = -1;
    r->op = op;
    r->op_free = op_free;
    if (tty && (rv = resize_open(op, id)) != 0) {
        if (rv == ORC_ENOENT)
            serve_status(r, 400, "BadRequest", "container %s in pod %s was not started with tty: true",
                         ref->container, ref->pod);
        else serve_status(r, 500, "InternalError", "attach: the container's terminal: %s", orc_strerror(rv));
        goto out;
    }
    if (in && (rv = ain_open(op, id)) != 0) {
        if (rv == ORC_ENOENT)
            serve_status(r, 400, "BadRequest", "container %s in pod %s was not started with stdin: true",
                         ref->container, ref->pod);
        else serve_status(r, 500, "InternalError", "attach: the container's stdin: %s", orc_strerror(rv));
        goto out;
    }
    if ((rv = rth_log_open(&s->r, path, &lo, on_log_data, on_log_end, op, &op->lr)) != 0) {
        serve_status(r, 500, "InternalError", "attach: %s", orc_strerror(rv));
        goto out;
    }
    r->on_gone = on_attach_gone;
    if (orc_httpd_tunnel_begin(r, head.data, head.len, on_input) != 0) {
        op->io.gone = true;
        if (op->lr) rth_log_cancel(&s->r, op->lr);
    }
out:
    orc_buf_free(&head);
}

void serve_attach_stream(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                         const struct serve_query *q)
{
    if (orc_httpd_req_header(r, "upgrade") == NULL)
        serve_status(r, 400, "BadRequest", "attach streams over a WebSocket (an Upgrade request)");
    else if (!flag(q, "stdin") && !flag(q, "stdout") && !flag(q, "stderr"))
        serve_status(r, 400, "BadRequest", "you must specify at least 1 of stdin, stdout, stderr");
    else start_attach(s, r, ref, flag(q, "stdin"), flag(q, "tty"));
}
