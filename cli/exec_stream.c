/* exec_stream.c — the streaming exec as kubectl speaks it: a WebSocket
 * (v5.channel.k8s.io, framed by libwslay) to pods/NAME/exec through the
 * API server, stdin from a file descriptor (read by a thread of its own, so
 * that a file, a pipe or a terminal all work), stdout and stderr to theirs,
 * a terminal in raw mode with its size sent on SIGWINCH, and the exit code
 * from the final Status. `orctl exec -i/-t` and `orctl cp` use it. */
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>
#include <wslay/wslay.h>

#include "cli/cli.h"
#include "client/tunnel.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/ws.h"

#define CH_STDIN 0
#define CH_ERROR 3
#define CH_RESIZE 4
#define CH_CLOSE 255
#define IN_CHUNK (32u * 1024)
#define MAX_HEAD (64u * 1024)
#define MAX_MSG (8u << 20) /* a server's message (the agent sends at most 64 KiB) */

struct xs {
    cli_ctx *x;
    const struct cli_stream_io *io;
    uv_loop_t loop;
    http_tunnel *t;
    wslay_event_context_ptr ws;
    struct orc_buf head;
    bool upgraded, ended;
    char key[32];
    const char *in;
    size_t in_len;
    int code; /* the command's exit code; -1 until the Status came */
    /* stdin, read by a thread: one chunk at a time handed to the loop */
    pthread_t reader;
    bool reader_on;
    uv_async_t in_ready;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char chunk[IN_CHUNK];
    size_t chunk_len;
    bool chunk_full, in_eof, stop, reader_done;
    uv_signal_t winch;
};

/* ---- stdin ---- */

static void *reader_main(void *arg)
{
    struct xs *s = arg;
    char buf[IN_CHUNK];

    for (;;) {
        ssize_t n = read(s->io->in_fd, buf, sizeof buf);
        pthread_mutex_lock(&s->mu);
        while (s->chunk_full && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop) {
            s->reader_done = true;
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        if (n > 0) memcpy(s->chunk, buf, (size_t)n);
        s->chunk_len = n > 0 ? (size_t)n : 0;
        s->chunk_full = true;
        s->in_eof = n <= 0;
        s->reader_done = n <= 0;
        uv_async_send(&s->in_ready); /* under the lock: teardown's stop closes the handle */
        pthread_mutex_unlock(&s->mu);
        if (n <= 0) return NULL;
    }
}

static void queue_msg(struct xs *s, uint8_t ch, const char *data, size_t len)
{
    uint8_t *m = malloc(len + 1);
    struct wslay_event_msg msg = {WSLAY_BINARY_FRAME, m, len + 1};

    if (m == NULL) return;
    m[0] = ch;
    memcpy(m + 1, data, len);
    wslay_event_queue_msg(s->ws, &msg);
    free(m);
}

static void pump(struct xs *s)
{
    if (!s->ended && s->upgraded && wslay_event_want_write(s->ws)) wslay_event_send(s->ws);
}

static void on_in_ready(uv_async_t *a)
{
    struct xs *s = a->data;
    bool eof;

    pthread_mutex_lock(&s->mu);
    if (!s->chunk_full || !s->upgraded) { /* before the upgrade it waits: taken then */
        pthread_mutex_unlock(&s->mu);
        return;
    }
    eof = s->in_eof;
    if (!s->ended) {
        if (s->chunk_len) queue_msg(s, CH_STDIN, s->chunk, s->chunk_len);
        if (eof) queue_msg(s, CH_CLOSE, "\0", 1); /* v5: stdin is done */
    }
    s->chunk_full = false;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pump(s);
}

/* ---- the terminal ---- */

static void send_size(struct xs *s)
{
    struct winsize ws;
    char msg[64];
    int n;

    if (ioctl(s->io->out_fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return;
    n = snprintf(msg, sizeof msg, "{\"Width\":%u,\"Height\":%u}", ws.ws_col, ws.ws_row);
    queue_msg(s, CH_RESIZE, msg, (size_t)n);
    pump(s);
}

static void on_winch(uv_signal_t *h, int sig)
{
    (void)sig;
    send_size(h->data);
}

/* ---- wslay's I/O ---- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    struct xs *s = user;
    (void)flags;
    if (s->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > s->in_len) len = s->in_len;
    memcpy(buf, s->in, len);
    s->in += len;
    s->in_len -= len;
    return (ssize_t)len;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    struct xs *s = user;
    (void)flags;
    if (http_tunnel_write(s->t, (const char *)data, len) < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    return orc_rand_bytes(buf, len) == 0 ? 0 : -1;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

/* The final Status: Success, a NonZeroExitCode with its code, or else. */
static void on_status(struct xs *s, const uint8_t *data, size_t len)
{
    json_t *st = json_loadb((const char *)data, len, 0, NULL), *c;
    const char *status = orc_json_str(st, "status"), *reason = orc_json_str(st, "reason");
    size_t i;

    if (status && strcmp(status, "Success") == 0) {
        s->code = 0;
    } else if (reason && strcmp(reason, "NonZeroExitCode") == 0) {
        json_array_foreach(orc_json_get(st, "details.causes"), i, c) {
            const char *t = orc_json_str(c, "reason"), *m = orc_json_str(c, "message");
            if (t && m && strcmp(t, "ExitCode") == 0) s->code = atoi(m);
        }
        if (s->code < 0) s->code = CLI_EXIT_FAIL;
    } else {
        const char *m = orc_json_str(st, "message");
        fprintf(s->x->err, "error: %s\n", m ? m : "the command failed");
        s->code = CLI_EXIT_FAIL;
    }
    json_decref(st);
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *user)
{
    struct xs *s = user;
    (void)ctx;
    if (a->opcode != WSLAY_BINARY_FRAME || a->msg_length == 0) return;
    switch (a->msg[0]) {
    case 1: write_all(s->io->out_fd, a->msg + 1, a->msg_length - 1); break;
    case 2: write_all(s->io->err_fd, a->msg + 1, a->msg_length - 1); break;
    case CH_ERROR: on_status(s, a->msg + 1, a->msg_length - 1); break;
    default: break;
    }
}

/* ---- the connection ---- */

static void finish(struct xs *s)
{
    if (s->ended) return;
    s->ended = true;
    uv_stop(&s->loop);
}

static void refused(struct xs *s, int status, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);

    if (j) cli_print_failure(s->x, status, j);
    else fprintf(s->x->err, "error: the server refused the stream (HTTP %d): %s\n", status, body);
    json_decref(j);
    s->code = CLI_EXIT_FAIL;
    finish(s);
}

static bool accept_ok(struct xs *s, const char *head)
{
    char want[ORC_WS_ACCEPT_LEN], line[64];
    const char *p = strcasestr(head, "\r\nsec-websocket-accept:");

    if (p == NULL || orc_ws_accept(s->key, want) != 0) return false;
    p += 23;
    while (*p == ' ') p++;
    snprintf(line, sizeof line, "%.*s", (int)strcspn(p, "\r\n"), p);
    return strcmp(line, want) == 0;
}

static void on_head(struct xs *s, const char *data, size_t len)
{
    char *end;
    int status = 0;

    if (s->head.len + len > MAX_HEAD || orc_buf_append(&s->head, data, len) != 0) {
        refused(s, 502, "the answer is too large");
        return;
    }
    if ((end = strstr(s->head.data, "\r\n\r\n")) == NULL) return;
    sscanf(s->head.data, "HTTP/1.1 %d", &status);
    if (status != 101) {
        const char *body = end + 4, *cl = strcasestr(s->head.data, "\r\ncontent-length:");
        if (cl && cl < end && s->head.len - (size_t)(body - s->head.data) < strtoul(cl + 17, NULL, 10)) return;
        refused(s, status, body);
        return;
    }
    end[2] = '\0';
    if (!accept_ok(s, s->head.data)) {
        fprintf(s->x->err, "error: the server's WebSocket handshake is not valid\n");
        s->code = CLI_EXIT_FAIL;
        finish(s);
        return;
    }
    s->upgraded = true;
    if (s->io->tty) send_size(s);
    if (s->reader_on) on_in_ready(&s->in_ready);
    s->in = end + 4;
    s->in_len = s->head.len - (size_t)(end + 4 - s->head.data);
}

static void on_data(void *arg, const char *data, size_t len)
{
    struct xs *s = arg;

    if (s->ended) return;
    if (!s->upgraded) {
        on_head(s, data, len);
        if (!s->upgraded || s->in_len == 0) return;
    } else {
        s->in = data;
        s->in_len = len;
    }
    if (wslay_event_recv(s->ws) != 0) finish(s);
    s->in_len = 0;
    pump(s);
    if (wslay_event_get_close_received(s->ws)) finish(s);
}

static void on_end(void *arg, int err)
{
    struct xs *s = arg;

    if (err && !s->upgraded) {
        fprintf(s->x->err, "error: cannot reach the server: %s\n", orc_strerror(err));
        s->code = CLI_EXIT_FAIL;
    }
    finish(s);
}

/* ---- setting up ---- */

int cli_stream_target(cli_ctx *x, char *url, size_t n, char *name, size_t nn)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    const char *hp = x->server + 8, *end, *port = "443";
    char host[256], ip[64];
    size_t hl;

    if (strncmp(x->server, "https://", 8) != 0) {
        fprintf(x->err, "error: streaming commands need an https:// server (not %s)\n", x->server);
        return ORC_EINVAL;
    }
    end = hp + strcspn(hp, "/");
    hl = *hp == '[' ? strcspn(hp, "]") + 1 : strcspn(hp, ":/");
    if (hl >= sizeof host) return ORC_EINVAL;
    snprintf(host, sizeof host, "%.*s", (int)(*hp == '[' ? hl - 2 : hl), *hp == '[' ? hp + 1 : hp);
    if (hp + hl < end && hp[hl] == ':') port = hp + hl + 1;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL
        || getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) != 0) {
        if (res) freeaddrinfo(res);
        fprintf(x->err, "error: cannot resolve %s\n", host);
        return ORC_EUNAVAIL;
    }
    snprintf(url, n, strchr(ip, ':') ? "https://[%s]:%.*s" : "https://%s:%.*s", ip, (int)(end - port), port);
    snprintf(name, nn, "%s", host);
    freeaddrinfo(res);
    return 0;
}

static int build_head(struct xs *s, const char *path, const char *name, struct orc_buf *out)
{
    unsigned char raw[16];
    struct orc_buf k = ORC_BUF_INIT;
    int rv = orc_rand_bytes(raw, sizeof raw);

    if (rv == 0) rv = orc_base64_encode(raw, sizeof raw, false, &k);
    if (rv == 0) snprintf(s->key, sizeof s->key, "%s", k.data);
    orc_buf_free(&k);
    if (rv == 0)
        rv = orc_buf_printf(out, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: orctl\r\n%s%s%s"
                                 "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
                            path, name, s->x->token ? "Authorization: Bearer " : "", s->x->token ? s->x->token : "",
                            s->x->token ? "\r\n" : "", s->key);
    return rv;
}

static int ws_setup(struct xs *s)
{
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = ws_recv,
        .send_callback = ws_send,
        .genmask_callback = genmask,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_client_init(&s->ws, &cbs, s) != 0) return ORC_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(s->ws, MAX_MSG); /* wslay's default is 2 GiB */
    return 0;
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* A reader still in read() (a terminal nobody types at) keeps the state:
 * it is left to end with the process. */
static struct xs *left_to_reader;

/* Whether s may be freed. */
static bool teardown(struct xs *s)
{
    bool done = true;

    if (s->reader_on) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        done = s->reader_done;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (done) pthread_join(s->reader, NULL);
        else pthread_detach(s->reader);
    }
    if (s->t) http_tunnel_close(s->t);
    uv_walk(&s->loop, on_walk_close, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    if (s->ws) wslay_event_context_free(s->ws);
    s->ws = NULL;
    orc_buf_free(&s->head);
    return done;
}

static int start(struct xs *s, const char *path)
{
    static const struct http_tunnel_cbs cbs = {on_data, NULL, on_end};
    struct orc_buf head = ORC_BUF_INIT;
    char url[128], name[256];
    int rv = cli_stream_target(s->x, url, sizeof url, name, sizeof name);
    struct http_tunnel_opts o = {.url = url, .server_name = name, .ca_pem = s->x->ca_pem, .insecure = s->x->insecure};

    if (rv == 0) rv = ws_setup(s);
    if (rv == 0) rv = build_head(s, path, name, &head);
    if (rv == 0) rv = http_tunnel_open(&s->loop, &o, head.data, head.len, &cbs, s, &s->t);
    if (head.data) explicit_bzero(head.data, head.cap);
    orc_buf_free(&head);
    if (rv != 0) return rv;
    if (s->io->in_fd >= 0) {
        uv_async_init(&s->loop, &s->in_ready, on_in_ready);
        s->in_ready.data = s;
        if (pthread_create(&s->reader, NULL, reader_main, s) != 0) return ORC_EIO;
        s->reader_on = true;
    }
    if (s->io->tty) {
        uv_signal_init(&s->loop, &s->winch);
        s->winch.data = s;
        uv_signal_start(&s->winch, on_winch, SIGWINCH);
    }
    return 0;
}

int cli_exec_stream(cli_ctx *x, const char *path, const struct cli_stream_io *io)
{
    struct xs *s = calloc(1, sizeof *s);
    struct termios saved, raw;
    bool restore = false;
    int code;

    if (s == NULL) return CLI_EXIT_FAIL;
    s->x = x;
    s->io = io;
    s->code = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    uv_loop_init(&s->loop);
    if (io->tty && io->in_fd >= 0 && isatty(io->in_fd) && tcgetattr(io->in_fd, &saved) == 0) {
        raw = saved;
        cfmakeraw(&raw);
        restore = tcsetattr(io->in_fd, TCSANOW, &raw) == 0;
    }
    if (start(s, path) == 0) uv_run(&s->loop, UV_RUN_DEFAULT);
    else if (s->code < 0) s->code = CLI_EXIT_FAIL;
    if (restore) tcsetattr(io->in_fd, TCSANOW, &saved);
    code = s->code;
    if (code < 0) {
        if (s->upgraded) fprintf(x->err, "error: the stream ended without the command's status\n");
        code = CLI_EXIT_FAIL;
    } else if (code > 0 && s->upgraded) {
        fprintf(x->err, "command terminated with exit code %d\n", code);
    }
    if (teardown(s)) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
    } else {
        left_to_reader = s;
    }
    return code > 255 ? CLI_EXIT_FAIL : code;
}
