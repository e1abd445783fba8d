/* serve_pf.c — GET|POST /portForward/{ns}/{pod} with an Upgrade to
 * SPDY/3.1, or to a WebSocket carrying SPDY/3.1 in binary messages
 * (subprotocol SPDY/3.1+portforward.k8s.io: kubectl's first try), speaking
 * portforward.k8s.io as the kubelet does: for each
 * forwarded connection the client opens two streams sharing a `requestid`,
 * `streamtype: error` and `streamtype: data`, both naming the `port`. The
 * data stream is relayed both ways to 127.0.0.1:PORT inside the pod's
 * network namespace (pf_dial.c); a failure to connect is written as text
 * on the error stream. A FIN from the client half-closes the pod side; the
 * pod's end of stream ends both streams. Frames: lib/spdy.h. */
#include <arpa/inet.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "agent/serve_int.h"
#include "agent/serve_ws.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/spdy.h"
#include "lib/ws.h"

#define MOD "serve"
#define PROTOCOL "portforward.k8s.io"
#define MAX_FRAME (1u << 20)   /* a client's frame payload (kubectl writes 32 KiB at most) */
#define MAX_PAIRS 64           /* forwarded connections open at once on one tunnel */
#define OUT_HIGH (1u << 20)    /* output waiting for the client before pods' reads pause */
#define POD_HIGH (1u << 20)    /* input waiting for one pod socket before the client is paused */
#define READ_SIZE (64u * 1024)

struct pf_op;

/* One forwarded connection: the client's two streams and the pod socket.
 * Its own allocation: freed when the socket has closed (or at once without
 * one), after the tunnel may be gone (op NULL). */
struct pf_pair {
    struct pf_op *op;
    struct pf_pair *next;
    char reqid[64];
    int port;
    uint32_t data_id, error_id;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_shutdown_t shut;
    struct orc_buf early; /* the client's bytes before the socket connected */
    char *errmsg;         /* a failure waiting for its error stream */
    bool have_tcp, connected, client_fin, pod_eof, shut_asked, closing, error_done;
};

struct pf_op {
    struct serve_wsio io; /* first: wslay's user data (serve_ws.h) */
    agent_server *s;
    orc_spdy_zlib *z;
    struct orc_buf in; /* bytes of a frame not yet whole */
    struct pf_pair *pairs;
    int n_pairs;
    char netns[128], pod[320];
    bool reads_paused, input_paused;
    /* tunnelled: SPDY inside binary WebSocket messages (kubectl's first try) */
    wslay_event_context_ptr ws;
    int ws_err;      /* what feeding a message's bytes returned */
    bool in_recv;    /* inside wslay_event_recv: sending waits until it returns */
};

struct pf_write {
    uv_write_t req;
    struct pf_pair *p;
    char data[];
};

static void pair_close(struct pf_pair *p);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_pod_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

/* ---- to the client ---- */

static void resume_reads(struct orc_httpd_req *r)
{
    struct pf_op *op = r->op;

    r->on_drain = NULL;
    op->reads_paused = false;
    for (struct pf_pair *p = op->pairs; p; p = p->next)
        if (p->connected && !p->pod_eof && !p->closing) uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_pod_read);
}

/* SPDY bytes to the client: as they are, or in a binary WebSocket message. */
static int out_bytes(struct pf_op *op, const struct orc_buf *b)
{
    struct wslay_event_msg msg = {WSLAY_BINARY_FRAME, (const uint8_t *)b->data, b->len};

    if (op->ws == NULL) return orc_httpd_tunnel_write(op->io.r, b->data, b->len);
    if (wslay_event_queue_msg(op->ws, &msg) != 0) return ORC_ENOMEM; /* copies */
    return op->in_recv || wslay_event_send(op->ws) == 0 ? 0 : ORC_ECANCELED;
}

/* Queues frames for the client; past OUT_HIGH the pods' reads pause. */
static void send_out(struct pf_op *op, struct orc_buf *b)
{
    if (b->len == 0 || op->io.gone) return;
    if (out_bytes(op, b) != 0) return; /* on_gone follows */
    if (!op->reads_paused && orc_httpd_stream_pending(op->io.r) > OUT_HIGH) {
        op->reads_paused = true;
        for (struct pf_pair *p = op->pairs; p; p = p->next)
            if (p->connected) uv_read_stop((uv_stream_t *)&p->tcp);
        op->io.r->on_drain = resume_reads;
    }
}

static void send_data(struct pf_op *op, uint32_t id, uint8_t flags, const void *data, size_t len)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_spdy_put_data(&b, id, flags, data, len) == 0) send_out(op, &b);
    orc_buf_free(&b);
}

static void send_rst(struct pf_op *op, uint32_t id, uint32_t status)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_spdy_put_rst(&b, id, status) == 0) send_out(op, &b);
    orc_buf_free(&b);
}

/* ---- one forwarded connection ---- */

static void pair_free(struct pf_pair *p)
{
    orc_buf_free(&p->early);
    free(p->errmsg);
    free(p);
}

static void on_pair_closed(uv_handle_t *h) { pair_free(h->data); }

static void pair_unlink(struct pf_pair *p)
{
    struct pf_op *op = p->op;

    if (op == NULL) return;
    for (struct pf_pair **pp = &op->pairs; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            op->n_pairs--;
            break;
        }
    p->op = NULL;
}

static void pair_close(struct pf_pair *p)
{
    if (p->closing) return;
    p->closing = true;
    pair_unlink(p);
    if (p->have_tcp) uv_close((uv_handle_t *)&p->tcp, on_pair_closed);
    else pair_free(p);
}

/* Both directions ended: the streams are done. */
static void pair_maybe_done(struct pf_pair *p)
{
    if (p->pod_eof && p->client_fin && p->error_done) pair_close(p);
}

/* The error stream's message (if any) and its end. */
static void error_finish(struct pf_pair *p, const char *msg)
{
    if (p->error_done || p->op == NULL) return;
    if (p->error_id == 0) {
        if (msg && p->errmsg == NULL) p->errmsg = strdup(msg);
        return; /* sent when the error stream opens */
    }
    send_data(p->op, p->error_id, ORC_SPDY_FLAG_FIN, msg, msg ? strlen(msg) : 0);
    p->error_done = true;
}

/* Connecting failed: the client learns why, and both streams end. */
static void pair_fail(struct pf_pair *p, const char *why)
{
    char msg[768];

    snprintf(msg, sizeof msg, "error forwarding port %d to pod %s, uid : %s", p->port, p->op->pod, why);
    log_debug(MOD, "port-forward: %s", msg);
    error_finish(p, msg);
    if (p->data_id && !p->pod_eof) send_data(p->op, p->data_id, ORC_SPDY_FLAG_FIN, NULL, 0);
    p->pod_eof = true;
    if (p->have_tcp && p->connected) uv_read_stop((uv_stream_t *)&p->tcp);
    if (p->error_done) pair_close(p);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = malloc(READ_SIZE);
    buf->len = buf->base ? READ_SIZE : 0;
}

static void on_pod_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct pf_pair *p = st->data;

    if (n > 0 && p->op) send_data(p->op, p->data_id, 0, buf->base, (size_t)n);
    free(buf->base);
    if (n >= 0 || p->op == NULL) return;
    /* the pod's end (or a reset): both streams end, as the kubelet ends them */
    uv_read_stop(st);
    p->pod_eof = true;
    send_data(p->op, p->data_id, ORC_SPDY_FLAG_FIN, NULL, 0);
    error_finish(p, NULL);
    pair_maybe_done(p);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct pf_pair *p = req->data;
    (void)status;
    if (p->op) pair_maybe_done(p);
}

static void half_close(struct pf_pair *p)
{
    if (p->shut_asked || !p->connected) return;
    p->shut_asked = true;
    p->shut.data = p;
    if (uv_shutdown(&p->shut, (uv_stream_t *)&p->tcp, on_shutdown) != 0) pair_maybe_done(p);
}

static void on_written(uv_write_t *req, int status)
{
    struct pf_write *w = (struct pf_write *)req;
    struct pf_pair *p = w->p;
    struct pf_op *op = p->op;

    free(w);
    if (status < 0 || op == NULL) return;
    if (op->input_paused && p->tcp.write_queue_size < POD_HIGH / 4) {
        op->input_paused = false;
        orc_httpd_tunnel_pause(op->io.r, false);
    }
}

static void to_pod(struct pf_pair *p, const uint8_t *data, size_t len)
{
    struct pf_write *w;
    uv_buf_t b;

    if (len == 0 || (w = malloc(sizeof *w + len)) == NULL) return;
    memcpy(w->data, data, len);
    w->p = p;
    b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_written) != 0) {
        free(w);
        return;
    }
    if (p->tcp.write_queue_size > POD_HIGH && !p->op->input_paused) {
        p->op->input_paused = true;
        orc_httpd_tunnel_pause(p->op->io.r, true);
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    struct pf_pair *p = req->data;
    char why[320];

    if (p->op == NULL || p->closing) return;
    if (status < 0) {
        snprintf(why, sizeof why,
                 "failed to connect to localhost:%d inside namespace \"%s\", IPv4: dial tcp4 127.0.0.1:%d: "
                 "connect: %s",
                 p->port, p->op->netns[0] ? p->op->netns : "(the node's)", p->port, uv_strerror(status));
        pair_fail(p, why);
        return;
    }
    p->connected = true;
    if (!p->op->reads_paused) uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_pod_read);
    to_pod(p, (const uint8_t *)p->early.data, p->early.len);
    orc_buf_free(&p->early);
    if (p->client_fin) half_close(p);
}

static void dial(struct pf_pair *p)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};
    char why[320];
    int fd, rv;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (serve_pf_socket(p->op->netns, &fd, why, sizeof why) != 0) {
        pair_fail(p, why);
        return;
    }
    uv_tcp_init(p->op->s->loop, &p->tcp);
    p->tcp.data = p;
    p->have_tcp = true;
    if ((rv = uv_tcp_open(&p->tcp, fd)) != 0) {
        close(fd);
    } else {
        p->connect.data = p;
        rv = uv_tcp_connect(&p->connect, &p->tcp, (const struct sockaddr *)&sa, on_connected);
    }
    if (rv != 0) {
        snprintf(why, sizeof why, "connect to localhost:%d: %s", p->port, uv_strerror(rv));
        pair_fail(p, why);
    }
}

/* ---- frames from the client ---- */

static struct pf_pair *pair_by_stream(struct pf_op *op, uint32_t id)
{
    for (struct pf_pair *p = op->pairs; p; p = p->next)
        if (p->data_id == id || p->error_id == id) return p;
    return NULL;
}

static struct pf_pair *pair_for(struct pf_op *op, const char *reqid, int port)
{
    struct pf_pair *p;

    for (p = op->pairs; p; p = p->next)
        if (strcmp(p->reqid, reqid) == 0) return p->port == port ? p : NULL;
    if (op->n_pairs >= MAX_PAIRS || (p = calloc(1, sizeof *p)) == NULL) return NULL;
    snprintf(p->reqid, sizeof p->reqid, "%s", reqid);
    p->port = port;
    p->op = op;
    p->next = op->pairs;
    op->pairs = p;
    op->n_pairs++;
    return p;
}

static int parse_port(const char *v)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    return v && *v && *end == '\0' && n > 0 && n <= 65535 ? (int)n : 0;
}

/* A new stream: 0, or ORC_EPROTO when the connection must end. */
static int on_syn(struct pf_op *op, const struct orc_spdy_frame *f)
{
    struct orc_spdy_headers h;
    struct orc_buf reply = ORC_BUF_INIT;
    const char *type, *reqid;
    struct pf_pair *p = NULL;
    int port;

    if (orc_spdy_headers_decode(op->z, f->data, f->len, &h) != 0) return ORC_EPROTO;
    type = orc_spdy_header(&h, "streamtype");
    reqid = orc_spdy_header(&h, "requestid");
    port = parse_port(orc_spdy_header(&h, "port"));
    if (type && port && (strcmp(type, "data") == 0 || strcmp(type, "error") == 0)
        && pair_by_stream(op, f->stream_id) == NULL)
        p = pair_for(op, reqid ? reqid : "", port);
    if (p == NULL || (type[0] == 'd' ? p->data_id : p->error_id) != 0) {
        send_rst(op, f->stream_id, p ? ORC_SPDY_PROTOCOL_ERROR : ORC_SPDY_REFUSED_STREAM);
        orc_spdy_headers_clear(&h);
        return 0;
    }
    if (orc_spdy_put_headers(op->z, &reply, ORC_SPDY_SYN_REPLY, f->stream_id, 0, NULL, NULL, 0) == 0)
        send_out(op, &reply);
    orc_buf_free(&reply);
    if (type[0] == 'e') {
        p->error_id = f->stream_id;
        if (p->errmsg || p->pod_eof) error_finish(p, p->errmsg);
        if (p->error_done && p->pod_eof && !p->connected) pair_close(p); /* it had failed */
        else pair_maybe_done(p);
    } else {
        p->data_id = f->stream_id;
        p->client_fin = f->flags & ORC_SPDY_FLAG_FIN;
        dial(p);
    }
    orc_spdy_headers_clear(&h);
    return 0;
}

static void on_data(struct pf_op *op, const struct orc_spdy_frame *f)
{
    struct pf_pair *p = pair_by_stream(op, f->stream_id);

    if (p == NULL || f->stream_id != p->data_id || p->client_fin) return; /* the error stream carries nothing in */
    if (p->connected) to_pod(p, f->data, f->len);
    else if (!p->pod_eof && (p->early.len + f->len > POD_HIGH || orc_buf_append(&p->early, f->data, f->len) != 0)) {
        send_rst(op, p->data_id, ORC_SPDY_INTERNAL_ERROR);
        pair_close(p);
        return;
    }
    if (f->flags & ORC_SPDY_FLAG_FIN) {
        p->client_fin = true;
        if (p->connected) half_close(p);
        else pair_maybe_done(p);
    }
}

static int on_frame(struct pf_op *op, const struct orc_spdy_frame *f)
{
    struct orc_buf b = ORC_BUF_INIT;
    struct pf_pair *p;

    switch (f->type) {
    case ORC_SPDY_SYN_STREAM: return on_syn(op, f);
    case ORC_SPDY_DATA: on_data(op, f); return 0;
    case ORC_SPDY_RST_STREAM:
        if ((p = pair_by_stream(op, f->stream_id)) != NULL) pair_close(p);
        return 0;
    case ORC_SPDY_PING: /* the client's (odd) pings come back; ours would be even */
        if ((f->value & 1) && orc_spdy_put_ping(&b, f->value) == 0) send_out(op, &b);
        orc_buf_free(&b);
        return 0;
    case ORC_SPDY_GOAWAY: return ORC_ECANCELED;
    case ORC_SPDY_SYN_REPLY:
    case ORC_SPDY_HEADERS: { /* not expected from a client, but the zlib stream must follow it */
        struct orc_spdy_headers h;
        if (orc_spdy_headers_decode(op->z, f->data, f->len, &h) != 0) return ORC_EPROTO;
        orc_spdy_headers_clear(&h);
        return 0;
    }
    default: return 0; /* SETTINGS, WINDOW_UPDATE: kubectl keeps no flow-control windows */
    }
}

static void conn_end(struct pf_op *op, int why)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (why == ORC_EPROTO || why == ORC_ETOOBIG) {
        log_warn(MOD, "port-forward to %s: %s from the client; closing", op->pod,
                 why == ORC_ETOOBIG ? "a frame over 1 MiB" : "a malformed frame");
        if (orc_spdy_put_goaway(&b, 0, 1) == 0) send_out(op, &b);
        orc_buf_free(&b);
    }
    while (op->pairs) pair_close(op->pairs);
    op->io.r->on_drain = NULL;
    orc_httpd_tunnel_end(op->io.r); /* frees op */
}

/* The client's SPDY bytes: whole frames are handled, the rest kept. */
static int feed(struct pf_op *op, const char *data, size_t len)
{
    struct orc_spdy_frame f;
    size_t off = 0, used;
    int rv = 0;

    if (orc_buf_append(&op->in, data, len) != 0) rv = ORC_ENOMEM;
    while (rv == 0 && (rv = orc_spdy_parse((const uint8_t *)op->in.data + off, op->in.len - off, MAX_FRAME, &f,
                                           &used)) == 0
           && used > 0) {
        off += used;
        rv = on_frame(op, &f);
    }
    if (rv == 0) {
        memmove(op->in.data, op->in.data + off, op->in.len - off);
        op->in.len -= off;
    }
    return rv;
}

/* ---- the tunnelled form: wslay over the connection ---- */

static void on_ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a, void *user)
{
    struct pf_op *op = user;
    (void)ctx;
    if (op->ws_err == 0 && a->opcode == WSLAY_BINARY_FRAME) op->ws_err = feed(op, (const char *)a->msg, a->msg_length);
}

static int ws_new(struct pf_op *op)
{
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = serve_ws_recv,
        .send_callback = serve_ws_send,
        .on_msg_recv_callback = on_ws_msg,
    };

    if (wslay_event_context_server_init(&op->ws, &cbs, op) != 0) return ORC_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(op->ws, MAX_FRAME + ORC_SPDY_HEAD);
    return 0;
}

static void on_input(struct orc_httpd_req *r, const char *data, size_t len)
{
    struct pf_op *op = r->op;
    int rv;

    if (op->io.gone) return;
    if (op->ws == NULL) {
        rv = feed(op, data, len);
    } else {
        op->io.in = data;
        op->io.in_len = len;
        op->in_recv = true;
        rv = wslay_event_recv(op->ws) != 0 ? ORC_EPROTO : op->ws_err;
        op->in_recv = false;
        op->io.in_len = 0;
        if (rv == 0 && wslay_event_get_close_received(op->ws)) rv = ORC_ECANCELED;
        if (rv == 0 && wslay_event_want_write(op->ws) && wslay_event_send(op->ws) != 0) rv = ORC_ECANCELED;
    }
    if (rv != 0) conn_end(op, rv);
}

/* ---- the upgrade ---- */

static void op_free(void *arg)
{
    struct pf_op *op = arg;

    while (op->pairs) pair_close(op->pairs);
    orc_spdy_zlib_free(op->z);
    orc_buf_free(&op->in);
    if (op->ws) wslay_event_context_free(op->ws);
    free(op);
}

static void on_gone(struct orc_httpd_req *r)
{
    struct pf_op *op = r->op;

    op->io.gone = true;
    while (op->pairs) pair_close(op->pairs); /* a killed kubectl leaves no pod socket behind */
    r->on_drain = NULL;
    orc_httpd_tunnel_end(r);
}

/* The client must ask for SPDY/3.1 and (if it names any) portforward.k8s.io. */
static bool upgrade_ok(struct orc_httpd_req *r)
{
    const char *ver = orc_httpd_req_header(r, "x-stream-protocol-version");

    if (!orc_ws_has_token(orc_httpd_req_header(r, "upgrade"), "SPDY/3.1")
        || !orc_ws_has_token(orc_httpd_req_header(r, "connection"), "upgrade")) {
        serve_status(r, 400, "BadRequest", "unable to upgrade: missing upgrade headers in request "
                                           "(port-forward needs Upgrade: SPDY/3.1)");
        return false;
    }
    if (ver && !orc_ws_has_token(ver, PROTOCOL)) {
        serve_status(r, 403, "Forbidden", "unable to upgrade: unable to negotiate protocol: client supports %s, "
                                          "server accepts [%s]", ver, PROTOCOL);
        return false;
    }
    return true;
}

/* The tunnelled form's handshake: its 101 into head, or an error answered. */
static bool ws_upgrade_ok(struct orc_httpd_req *r, struct orc_buf *head)
{
    static const char *const protocols[] = {"SPDY/3.1+" PROTOCOL, NULL};
    const char *proto = orc_ws_pick_protocol(orc_httpd_req_header(r, "sec-websocket-protocol"), protocols);
    const char *ver = orc_httpd_req_header(r, "sec-websocket-version");
    char accept[ORC_WS_ACCEPT_LEN];

    if (ver == NULL || strcmp(ver, "13") != 0
        || orc_ws_accept(orc_httpd_req_header(r, "sec-websocket-key"), accept) != 0) {
        serve_status(r, 400, "BadRequest", "a WebSocket upgrade (version 13, with a key) is required");
        return false;
    }
    if (proto == NULL) {
        serve_status(r, 400, "BadRequest", "port-forward over a WebSocket needs the subprotocol %s", protocols[0]);
        return false;
    }
    if (orc_buf_printf(head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n", accept, proto) != 0) {
        serve_status(r, 500, "InternalError", "out of memory");
        return false;
    }
    return true;
}

static int lookup(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref, char *netns, size_t n)
{
    int rv = s->cbs.netns ? s->cbs.netns(s->arg, ref->ns, ref->pod, netns, n) : ORC_ENOENT;

    if (rv == ORC_ENOENT) serve_status(r, 404, "NotFound", "pod \"%s\" not found on this node", ref->pod);
    else if (rv != 0) serve_status(r, 400, "BadRequest", "pod \"%s\" has no network yet", ref->pod);
    return rv;
}

void serve_portforward(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref)
{
    static const char spdy_head[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                                    "X-Stream-Protocol-Version: " PROTOCOL "\r\n\r\n";
    bool ws = orc_ws_has_token(orc_httpd_req_header(r, "upgrade"), "websocket");
    struct orc_buf head = ORC_BUF_INIT;
    struct pf_op *op;

    if (r->method != HTTP_GET && r->method != HTTP_POST) {
        serve_status(r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return;
    }
    if (!*ref->ns || !*ref->pod) {
        serve_status(r, 400, "BadRequest", "namespace and pod must not be empty");
        return;
    }
    if (ws ? !ws_upgrade_ok(r, &head) : !upgrade_ok(r)) return;
    if ((op = calloc(1, sizeof *op)) == NULL || orc_spdy_zlib_new(&op->z) != 0 || (ws && ws_new(op) != 0)) {
        if (op) orc_spdy_zlib_free(op->z);
        free(op);
        orc_buf_free(&head);
        serve_status(r, 500, "InternalError", "out of memory");
        return;
    }
    if (lookup(s, r, ref, op->netns, sizeof op->netns) != 0) {
        op_free(op);
        orc_buf_free(&head);
        return;
    }
    op->s = s;
    op->io.r = r;
    snprintf(op->pod, sizeof op->pod, "%s/%s", ref->ns, ref->pod);
    r->op = op;
    r->op_free = op_free;
    r->on_gone = on_gone;
    if (orc_httpd_tunnel_begin(r, ws ? head.data : spdy_head, ws ? head.len : sizeof spdy_head - 1, on_input) != 0)
        op->io.gone = true;
    orc_buf_free(&head);
}
