/* test_serve_pf.c — the agent's portForward endpoint (agent/serve_pf.c)
 * in-process over HTTPS, spoken to with lib/spdy as kubectl speaks it: a
 * local echo server stands for the pod (its namespace is the node's here),
 * data goes both ways through a data stream (plain SPDY, and SPDY inside
 * a WebSocket as kubectl 1.30+ sends it), a FIN half-closes, a closed
 * port is reported on the error stream, two forwarded connections share a
 * tunnel, and the tunnel's end closes what it opened to the "pod". No
 * container, no orcd. */
#include <arpa/inet.h>
#include <wslay/wslay.h>

#include "agent/serve.h"
#include "client/tunnel.h"
#include "lib/orc.h"
#include "lib/spdy.h"
#include "lib/tls.h"
#include "tests/harness/test.h"

#define TOKEN "pf-t0ken"

static struct {
    uv_loop_t loop;
    agent_server *srv;
    char *ca, *ca_key, *cert, *key;
    uv_tcp_t echo;
    int echo_port, echo_open, echo_accepted;
    bool echo_on;
} X;

/* ---- the "pod": echoes what it reads, ends when its peer ends ---- */

struct echo_conn {
    uv_tcp_t tcp;
    uv_shutdown_t shut;
};

static void echo_closed(uv_handle_t *h)
{
    X.echo_open--;
    free(h->data);
}

static void echo_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void echo_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(hint);
    b->len = b->base ? hint : 0;
}

static void echo_shut(uv_shutdown_t *s, int status)
{
    (void)status;
    uv_close((uv_handle_t *)s->handle, echo_closed);
}

static void echo_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct echo_conn *c = st->data;

    if (n > 0) {
        uv_write_t *w = malloc(sizeof *w + (size_t)n);
        memcpy(w + 1, b->base, (size_t)n);
        uv_buf_t out = uv_buf_init((char *)(w + 1), (unsigned)n);
        if (uv_write(w, st, &out, 1, echo_written) != 0) free(w);
    }
    free(b->base);
    if (n < 0) {
        uv_read_stop(st);
        if (uv_shutdown(&c->shut, st, echo_shut) != 0) uv_close((uv_handle_t *)st, echo_closed);
    }
}

static void echo_accept(uv_stream_t *srv, int status)
{
    struct echo_conn *c = calloc(1, sizeof *c);

    if (status < 0 || c == NULL) return;
    uv_tcp_init(&X.loop, &c->tcp);
    c->tcp.data = c;
    X.echo_open++;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, echo_closed);
        return;
    }
    X.echo_accepted++;
    uv_read_start((uv_stream_t *)&c->tcp, echo_alloc, echo_read);
}

/* ---- the agent ---- */

static int netns(void *arg, const char *ns, const char *pod, char *path, size_t len)
{
    (void)arg;
    if (strcmp(ns, "default") != 0 || strcmp(pod, "web") != 0) return ORC_ENOENT;
    snprintf(path, len, "%s", ""); /* the node's own namespace */
    return 0;
}

static int find(void *arg, const char *ns, const char *pod, const char *container, bool previous, char *id,
                size_t id_len, char *log_path, size_t log_len)
{
    (void)arg, (void)ns, (void)pod, (void)container, (void)previous, (void)id, (void)id_len, (void)log_path,
        (void)log_len;
    return ORC_ENOENT; /* no containers here */
}

static bool run_until(bool (*cond)(void *), void *arg, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;

    while (!cond(arg) && test_now_ms() < end) uv_run(&X.loop, UV_RUN_NOWAIT), test_sleep_ms(1);
    return cond(arg);
}

static bool flag(void *arg) { return *(bool *)arg; }
static void set_flag(void *arg) { *(bool *)arg = true; }

static void teardown(void *arg)
{
    bool stopped = false;

    (void)arg;
    if (X.srv) agent_serve_stop(X.srv, set_flag, &stopped);
    if (X.srv && !run_until(flag, &stopped, 5000)) test_fail_later("the server did not stop");
    if (X.echo_on) uv_close((uv_handle_t *)&X.echo, NULL);
    for (int i = 0; i < 1000 && uv_loop_alive(&X.loop); i++) uv_run(&X.loop, UV_RUN_NOWAIT);
    uv_loop_close(&X.loop);
    free(X.ca), free(X.ca_key), free(X.cert), free(X.key);
}

static void start(void)
{
    static const struct agent_serve_cbs cbs = {find, netns, NULL};
    const char *sans[] = {"127.0.0.1"};
    struct sockaddr_in sa;
    int len = sizeof sa;
    char err[256] = "";

    memset(&X, 0, sizeof X);
    CHECK_INT(uv_loop_init(&X.loop), ==, 0);
    test_defer(teardown, NULL);
    CHECKF(orc_tls_make_ca("pf-ca", 2, &X.ca, &X.ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert(X.ca, X.ca_key, "node", sans, 1, 2, &X.cert, &X.key, err) == 0, "%s", err);
    CHECKF(agent_serve_start(&X.loop, &(struct rt_handle){0}, "127.0.0.1:0", X.cert, X.key, TOKEN, &cbs, NULL,
                             &X.srv, err) == 0,
           "%s", err);
    uv_tcp_init(&X.loop, &X.echo);
    X.echo_on = true;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    CHECK_INT(uv_tcp_bind(&X.echo, (struct sockaddr *)&sa, 0), ==, 0);
    CHECK_INT(uv_listen((uv_stream_t *)&X.echo, 16, echo_accept), ==, 0);
    CHECK_INT(uv_tcp_getsockname(&X.echo, (struct sockaddr *)&sa, &len), ==, 0);
    X.echo_port = ntohs(sa.sin_port);
}

/* ---- a client as kubectl is ---- */

struct stream_in {
    uint32_t id;
    struct orc_buf data;
    bool fin, reset, replied;
};

struct client {
    http_tunnel *t;
    orc_spdy_zlib *z;
    struct orc_buf head, in;
    int status;
    bool upgraded, ended;
    struct stream_in s[8];
    int n;
    wslay_event_context_ptr ws; /* the tunnelled form: SPDY in binary messages */
    const char *ws_in;
    size_t ws_in_len;
};

static struct stream_in *stream(struct client *c, uint32_t id)
{
    for (int i = 0; i < c->n; i++)
        if (c->s[i].id == id) return &c->s[i];
    CHECK(c->n < 8);
    c->s[c->n].id = id;
    return &c->s[c->n++];
}

static void on_frame(struct client *c, const struct orc_spdy_frame *f)
{
    struct orc_spdy_headers h;

    switch (f->type) {
    case ORC_SPDY_SYN_REPLY:
        CHECK_INT(orc_spdy_headers_decode(c->z, f->data, f->len, &h), ==, 0);
        orc_spdy_headers_clear(&h);
        stream(c, f->stream_id)->replied = true;
        break;
    case ORC_SPDY_DATA:
        CHECK(stream(c, f->stream_id)->replied);
        orc_buf_append(&stream(c, f->stream_id)->data, f->data, f->len);
        if (f->flags & ORC_SPDY_FLAG_FIN) stream(c, f->stream_id)->fin = true;
        break;
    case ORC_SPDY_RST_STREAM: stream(c, f->stream_id)->reset = true; break;
    default: break;
    }
}

static void frames_in(struct client *c, const char *data, size_t len)
{
    struct orc_spdy_frame f;
    size_t off = 0, used;

    orc_buf_append(&c->in, data, len);
    while (orc_spdy_parse((const uint8_t *)c->in.data + off, c->in.len - off, 1u << 24, &f, &used) == 0 && used) {
        on_frame(c, &f);
        off += used;
    }
    memmove(c->in.data, c->in.data + off, c->in.len - off);
    c->in.len -= off;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    struct client *c = user;
    (void)flags;
    if (c->ws_in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > c->ws_in_len) len = c->ws_in_len;
    memcpy(buf, c->ws_in, len);
    c->ws_in += len;
    c->ws_in_len -= len;
    return (ssize_t)len;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)ctx, (void)flags;
    return http_tunnel_write(((struct client *)user)->t, (const char *)data, len) >= 0 ? (ssize_t)len : -1;
}

static int ws_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx, (void)user;
    memset(buf, 0x5a, len);
    return 0;
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *user)
{
    (void)ctx;
    if (a->opcode == WSLAY_BINARY_FRAME) frames_in(user, (const char *)a->msg, a->msg_length);
}

/* Frames to the agent, in one binary message when tunnelled. */
static void put(struct client *c, const struct orc_buf *b)
{
    struct wslay_event_msg msg = {WSLAY_BINARY_FRAME, (const uint8_t *)b->data, b->len};

    if (c->ws == NULL) {
        CHECK(http_tunnel_write(c->t, b->data, b->len) >= 0);
        return;
    }
    CHECK_INT(wslay_event_queue_msg(c->ws, &msg), ==, 0);
    CHECK_INT(wslay_event_send(c->ws), ==, 0);
}

static void on_data(void *arg, const char *data, size_t len)
{
    struct client *c = arg;
    char *end;

    if (!c->upgraded) {
        orc_buf_append(&c->head, data, len);
        if ((end = strstr(c->head.data, "\r\n\r\n")) == NULL) return;
        sscanf(c->head.data, "HTTP/1.1 %d", &c->status);
        if (c->status != 101) return;
        c->upgraded = true;
        CHECKF(strstr(c->head.data, c->ws ? "Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io"
                                          : "X-Stream-Protocol-Version: portforward.k8s.io"),
               "%s", c->head.data);
        data = end + 4;
        len = c->head.len - (size_t)(end + 4 - c->head.data);
    }
    if (c->ws == NULL) {
        frames_in(c, data, len);
        return;
    }
    c->ws_in = data;
    c->ws_in_len = len;
    wslay_event_recv(c->ws);
    c->ws_in_len = 0;
}

static void on_end(void *arg, int err)
{
    (void)err;
    ((struct client *)arg)->ended = true;
}

static bool answered(void *arg) { return ((struct client *)arg)->status != 0; }

static void client_open(struct client *c, const char *path, const char *upgrade)
{
    static const struct http_tunnel_cbs cbs = {on_data, NULL, on_end};
    static const struct wslay_event_callbacks wcbs = {
        .recv_callback = ws_recv, .send_callback = ws_send, .genmask_callback = ws_mask, .on_msg_recv_callback = ws_msg};
    char url[64], head[512];
    struct http_tunnel_opts o = {.url = url, .ca_pem = X.ca};

    memset(c, 0, sizeof *c);
    CHECK_INT(orc_spdy_zlib_new(&c->z), ==, 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", agent_serve_port(X.srv));
    if (strcmp(upgrade, "tunnel") == 0) { /* kubectl's first try: SPDY inside a WebSocket */
        CHECK_INT(wslay_event_context_client_init(&c->ws, &wcbs, c), ==, 0);
        snprintf(head, sizeof head,
                 "GET %s HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer " TOKEN "\r\nConnection: Upgrade\r\n"
                 "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n",
                 path);
    } else { /* as kubectl sends it then: a POST without a body */
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer " TOKEN "\r\nContent-Length: 0\r\n"
                 "Connection: Upgrade\r\nUpgrade: %s\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n",
                 path, upgrade);
    }
    CHECK_INT(http_tunnel_open(&X.loop, &o, head, strlen(head), &cbs, c, &c->t), ==, 0);
    CHECKF(run_until(answered, c, 10000), "no answer to the upgrade");
}

static void client_close(struct client *c)
{
    if (c->t) http_tunnel_close(c->t);
    c->t = NULL;
    for (int i = 0; i < c->n; i++) orc_buf_free(&c->s[i].data);
    orc_buf_free(&c->head);
    orc_buf_free(&c->in);
    orc_spdy_zlib_free(c->z);
    if (c->ws) wslay_event_context_free(c->ws);
}

static void syn(struct client *c, uint32_t id, const char *type, int port, const char *reqid)
{
    const char *names[] = {"streamtype", "port", "requestid"};
    char p[16];
    const char *values[] = {type, p, reqid};
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(p, sizeof p, "%d", port);
    CHECK_INT(orc_spdy_put_headers(c->z, &b, ORC_SPDY_SYN_STREAM, id, 0, names, values, 3), ==, 0);
    put(c, &b);
    orc_buf_free(&b);
}

static void data(struct client *c, uint32_t id, uint8_t flags, const char *text)
{
    struct orc_buf b = ORC_BUF_INIT;

    CHECK_INT(orc_spdy_put_data(&b, id, flags, text, strlen(text)), ==, 0);
    put(c, &b);
    orc_buf_free(&b);
}

struct want {
    struct client *c;
    uint32_t id;
    size_t len;
    bool fin;
};

static bool got(void *arg)
{
    struct want *w = arg;
    struct stream_in *s = stream(w->c, w->id);
    return s->data.len >= w->len && (!w->fin || s->fin);
}

static bool echo_idle(void *arg)
{
    (void)arg;
    return X.echo_open == 0;
}

static void relay_both_ways(const char *upgrade)
{
    struct client c;
    struct want w;

    start();
    client_open(&c, "/portForward/default/web", upgrade);
    CHECK_INT(c.status, ==, 101);
    /* two forwarded connections on one tunnel, as two curls through kubectl */
    syn(&c, 1, "error", X.echo_port, "0");
    syn(&c, 3, "data", X.echo_port, "0");
    syn(&c, 5, "error", X.echo_port, "1");
    syn(&c, 7, "data", X.echo_port, "1");
    data(&c, 3, 0, "hello ");
    data(&c, 7, 0, "other");
    data(&c, 3, ORC_SPDY_FLAG_FIN, "pod");
    w = (struct want){&c, 3, 9, true};
    CHECKF(run_until(got, &w, 10000), "data stream 3: %zu bytes, fin %d", stream(&c, 3)->data.len, stream(&c, 3)->fin);
    CHECK_INT(memcmp(stream(&c, 3)->data.data, "hello pod", 9), ==, 0);
    w = (struct want){&c, 1, 0, true}; /* the pod's end ends the error stream, empty */
    CHECK(run_until(got, &w, 5000));
    CHECK_INT(stream(&c, 1)->data.len, ==, 0);
    w = (struct want){&c, 7, 5, false};
    CHECK(run_until(got, &w, 5000));
    CHECK_INT(memcmp(stream(&c, 7)->data.data, "other", 5), ==, 0);
    CHECK_INT(X.echo_accepted, ==, 2);
    /* the tunnel's end closes the pod side still open */
    client_close(&c);
    CHECKF(run_until(echo_idle, NULL, 5000), "%d connections to the pod stay open", X.echo_open);
}

TEST_T(portforward_relays_both_ways, 30) { relay_both_ways("SPDY/3.1"); }

/* The same inside a WebSocket, as kubectl 1.30+ asks first. */
TEST_T(portforward_tunnelled_in_websocket, 30) { relay_both_ways("tunnel"); }

TEST_T(portforward_closed_port_and_refusals, 30)
{
    struct client c;
    struct want w;
    int closed;
    uv_tcp_t t;
    struct sockaddr_in sa;
    int len = sizeof sa;

    start();
    /* a port nothing listens on: one that was just free */
    uv_tcp_init(&X.loop, &t);
    uv_ip4_addr("127.0.0.1", 0, &sa);
    CHECK_INT(uv_tcp_bind(&t, (struct sockaddr *)&sa, 0), ==, 0);
    CHECK_INT(uv_tcp_getsockname(&t, (struct sockaddr *)&sa, &len), ==, 0);
    closed = ntohs(sa.sin_port);
    uv_close((uv_handle_t *)&t, NULL);
    client_open(&c, "/portForward/default/web", "SPDY/3.1");
    syn(&c, 1, "error", closed, "0");
    syn(&c, 3, "data", closed, "0");
    w = (struct want){&c, 1, 1, true};
    CHECKF(run_until(got, &w, 10000), "no error text");
    CHECKF(strstr(stream(&c, 1)->data.data, "error forwarding port")
               && strstr(stream(&c, 1)->data.data, "connection refused"),
           "error text: %.*s", (int)stream(&c, 1)->data.len, stream(&c, 1)->data.data);
    w = (struct want){&c, 3, 0, true};
    CHECK(run_until(got, &w, 5000));
    /* a stream without a port is refused alone; the tunnel goes on */
    syn(&c, 5, "data", 0, "1");
    syn(&c, 7, "error", X.echo_port, "2");
    syn(&c, 9, "data", X.echo_port, "2");
    data(&c, 9, ORC_SPDY_FLAG_FIN, "still");
    w = (struct want){&c, 9, 5, true};
    CHECK(run_until(got, &w, 10000));
    CHECK(stream(&c, 5)->reset);
    client_close(&c);
    /* an unknown pod, and a WebSocket where SPDY is wanted */
    client_open(&c, "/portForward/default/nope", "SPDY/3.1");
    CHECK_INT(c.status, ==, 404);
    client_close(&c);
    client_open(&c, "/portForward/default/web", "websocket");
    CHECK_INT(c.status, ==, 400);
    client_close(&c);
}

/* 8 MiB up and back through one data stream: more than every bound the
 * agent pauses at (1 MiB to the pod, 1 MiB to the client) and resumes. */
TEST_T(portforward_large_transfer_both_ways, 60)
{
    enum { CHUNK = 32 * 1024, TOTAL = 8 << 20 };
    struct client c;
    struct want w;
    char *chunk = malloc(CHUNK + 1);
    struct orc_buf b = ORC_BUF_INIT;
    bool same = true;

    CHECK(chunk != NULL);
    start();
    client_open(&c, "/portForward/default/web", "tunnel"); /* the tunnelled form, which kubectl uses */
    syn(&c, 1, "error", X.echo_port, "0");
    syn(&c, 3, "data", X.echo_port, "0");
    for (int i = 0; i < TOTAL / CHUNK; i++) {
        memset(chunk, 'a' + i % 26, CHUNK);
        orc_buf_reset(&b);
        CHECK_INT(orc_spdy_put_data(&b, 3, i == TOTAL / CHUNK - 1 ? ORC_SPDY_FLAG_FIN : 0, chunk, CHUNK), ==, 0);
        put(&c, &b);
        uv_run(&X.loop, UV_RUN_NOWAIT);
    }
    w = (struct want){&c, 3, TOTAL, true};
    CHECKF(run_until(got, &w, 45000), "%zu of %d bytes back", stream(&c, 3)->data.len, TOTAL);
    CHECK_INT(stream(&c, 3)->data.len, ==, TOTAL);
    for (size_t i = 0; i < TOTAL; i += CHUNK) same &= stream(&c, 3)->data.data[i] == 'a' + (char)(i / CHUNK % 26);
    CHECK(same);
    orc_buf_free(&b);
    free(chunk);
    client_close(&c);
    CHECK(run_until(echo_idle, NULL, 5000));
}
