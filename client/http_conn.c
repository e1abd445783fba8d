/* http_conn.c — one client TCP connection: lookup, connect, TLS (for https),
 * write a request, parse the reply with llhttp and hand it to the call bound
 * to it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http_int.h"
#include "lib/log.h"
#include "lib/orc.h"

static int on_message_begin(llhttp_t *p);
static int on_header_field(llhttp_t *p, const char *at, size_t len);
static int on_header_field_complete(llhttp_t *p);
static int on_header_value(llhttp_t *p, const char *at, size_t len);
static int on_header_value_complete(llhttp_t *p);
static int on_headers_complete(llhttp_t *p);
static int on_body(llhttp_t *p, const char *at, size_t len);
static int on_message_complete(llhttp_t *p);

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- lifetime ---- */

static void conn_free(struct http_conn *conn)
{
    http_client *c = conn->c;

    orc_buf_free(&conn->hdr);
    orc_buf_free(&conn->body);
    free(conn->hdr_off);
    free(conn->hdrs);
    free(conn->verify_host);
    orc_tls_free(conn->tls);
    free(conn);
    http__live_put(c);
}

static void conn_unref(struct http_conn *conn)
{
    if (--conn->refs == 0) conn_free(conn);
}

static void on_tcp_closed(uv_handle_t *h) { conn_unref(h->data); }

/* Starts closing; the memory goes once the handle and any lookup are done,
 * so a connection stays readable for the rest of the callback that closed it. */
void http__conn_close(struct http_conn *conn)
{
    http_client *c = conn->c;

    if (conn->state == CONN_CLOSING) return;
    if (conn->state == CONN_IDLE) orc_list_remove(&conn->idle_link);
    orc_list_remove(&conn->all_link);
    conn->state = CONN_CLOSING;
    c->n_conns--;
    /* A lookup already running cannot be canceled; on_resolved then sees CLOSING. */
    if (conn->gai_pending) (void)uv_cancel((uv_req_t *)&conn->gai);
    uv_close((uv_handle_t *)&conn->tcp, on_tcp_closed);
    http__dispatch(c); /* a slot is free for a queued call */
}

/* The bound call (if any) fails; retryable means nothing of a reply came
 * back, so an idempotent request may safely go out again. */
static void conn_fail(struct http_conn *conn, int err, int retryable)
{
    http_call *call = conn->call;

    retryable = retryable && conn->reused;
    if (call) {
        conn->call = NULL;
        call->conn = NULL;
    }
    http__conn_close(conn);
    if (call) http__call_failed(call, err, retryable);
}

/* Nothing of the call went out: another server may take it. */
static void conn_unreachable(struct http_conn *conn)
{
    http_call *call = conn->call;

    if (call) {
        conn->call = NULL;
        call->conn = NULL;
    }
    http__conn_close(conn);
    if (call) http__call_unreachable(call, conn->server_gen);
}

/* ---- sending ---- */

static void written(struct http_conn *conn, int status)
{
    conn->writing--;
    if (status == 0 || conn->state == CONN_CLOSING) return;
    log_debug("http", "write to %s:%s: %s", conn->c->host, conn->c->port, uv_strerror(status));
    /* Part of the request may have reached the server: the outcome is unknown. */
    conn_fail(conn, ORC_EIO, !conn->got_bytes);
}

static void on_written(uv_write_t *req, int status) { written(req->handle->data, status); }

/* A write of ciphertext the TLS session produced; owns its bytes. */
struct tls_write {
    uv_write_t req;
    char *data;
};

static void on_tls_written(uv_write_t *req, int status)
{
    struct tls_write *w = (struct tls_write *)req;
    struct http_conn *conn = req->handle->data;

    free(w->data);
    free(w);
    written(conn, status);
}

/* Sends whatever the session has for the server (hello, Finished, the
 * request once the handshake is done), in one write. */
static int tls_flush(struct http_conn *conn)
{
    struct tls_write *w;
    uv_buf_t b;
    size_t n;
    int rv;

    if (orc_tls_pending(conn->tls) == 0) return 0;
    if ((w = malloc(sizeof *w)) == NULL) return ORC_ENOMEM;
    w->data = orc_tls_take(conn->tls, &n);
    b = uv_buf_init(w->data, (unsigned)n);
    rv = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, on_tls_written);
    if (rv != 0) {
        free(w->data);
        free(w);
        return ORC_EIO;
    }
    conn->writing++;
    return 0;
}

static int conn_send(struct http_conn *conn)
{
    http_call *call = conn->call;
    uv_buf_t b = uv_buf_init(call->req, (unsigned)call->req_len);
    int rv;

    llhttp_init(&conn->parser, HTTP_RESPONSE, &parser_settings);
    conn->parser.data = conn;
    conn->got_bytes = conn->msg_done = conn->skip_msg = conn->head_done = 0;
    conn->cb_err = 0;
    if (conn->tls) {
        /* Before the handshake this queues the request and starts it. */
        rv = orc_tls_send(conn->tls, call->req, call->req_len);
        return rv ? rv : tls_flush(conn);
    }
    rv = uv_write(&conn->write_req, (uv_stream_t *)&conn->tcp, &b, 1, on_written);
    if (rv != 0) return rv;
    conn->writing++;
    return 0;
}

/* Binds an idle connection to a call and sends it. On failure the
 * connection is closed and the call left unbound. */
int http__conn_start(struct http_conn *conn, http_call *call)
{
    orc_list_remove(&conn->idle_link);
    uv_ref((uv_handle_t *)&conn->tcp);
    conn->state = CONN_BUSY;
    conn->call = call;
    call->conn = conn;
    call->state = CALL_ACTIVE;
    if (conn_send(conn) == 0) return 0;
    conn->call = NULL;
    call->conn = NULL;
    http__conn_close(conn);
    return ORC_EUNAVAIL;
}

/* ---- receiving ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct http_conn *conn = h->data;

    (void)hint;
    *buf = uv_buf_init(conn->c->rbuf, sizeof conn->c->rbuf);
}

static void conn_message_done(struct http_conn *conn, int trailing)
{
    http_call *call = conn->call;
    struct http_response resp;

    if (conn->body.data) conn->body.data[conn->body.len] = '\0'; /* reserved, maybe unwritten */
    resp = (struct http_response){
        .status = conn->status,
        .headers = conn->hdrs,
        .n_headers = conn->n_hdr,
        .body = conn->body.data ? conn->body.data : "",
        .body_len = conn->body.len,
    };

    conn->call = NULL;
    call->conn = NULL;
    conn->reused = 1;
    /* Back to the pool before the callback, so that a request the callback
     * makes reuses this connection. Buffers are reset at the next reply,
     * never before, so `resp` stays intact meanwhile. */
    /* a connection made with an identity since renewed is not reused */
    if (conn->keep_alive && !trailing && !conn->writing && conn->tls_gen == conn->c->tls_gen)
        http__conn_idle(conn);
    else
        http__conn_close(conn);
    http__call_finish(call, 0, &resp);
    if (conn->body.cap > HTTP_KEEP_BUF) orc_buf_free(&conn->body);
}

static void conn_parse(struct http_conn *conn, const char *data, size_t len)
{
    llhttp_errno_t e = llhttp_execute(&conn->parser, data, len);

    if (conn->state == CONN_CLOSING) return; /* a callback canceled the call */
    if (conn->msg_done) {
        const char *end = llhttp_get_error_pos(&conn->parser);
        conn_message_done(conn, e == HPE_PAUSED && end != NULL && end < data + len);
        return;
    }
    if (e != HPE_OK) {
        log_debug("http", "bad reply from %s:%s: %s", conn->c->host, conn->c->port,
                  llhttp_errno_name(e));
        conn_fail(conn, conn->cb_err ? conn->cb_err : ORC_EPROTO, 0);
    }
}

/* The session failed: before the handshake completed nothing was sent
 * (ORC_ETLS, with the reason kept for http_client_tls_error). */
static void tls_fail(struct http_conn *conn, const char *why)
{
    http_client *c = conn->c;

    if (orc_tls_handshake_done(conn->tls)) {
        log_debug("http", "TLS with %s:%s: %s", c->host, c->port, why);
        conn_fail(conn, ORC_EPROTO, 0);
        return;
    }
    snprintf(c->tls_err, sizeof c->tls_err, "%s", why);
    log_debug("http", "TLS with %s:%s: %s", c->host, c->port, why);
    conn_fail(conn, ORC_ETLS, 0);
}

static void conn_eof(struct http_conn *conn, ssize_t nread)
{
    if (conn->tls && !orc_tls_handshake_done(conn->tls)) {
        tls_fail(conn, nread == UV_EOF ? "the server closed the connection during the TLS handshake"
                                       : uv_strerror((int)nread));
        return;
    }
    /* Over TLS a body that ends with the connection must end with close_notify,
     * or a cut connection would pass for a complete reply. */
    if (nread == UV_EOF && conn->got_bytes && llhttp_message_needs_eof(&conn->parser)
        && (conn->tls == NULL || orc_tls_peer_closed(conn->tls))) {
        llhttp_finish(&conn->parser);
        if (conn->msg_done) {
            conn->keep_alive = 0;
            conn_message_done(conn, 0);
            return;
        }
    }
    /* The request was sent and the reply never completed: the server may
     * have acted on it. */
    conn_fail(conn, ORC_EIO, !conn->got_bytes);
}

/* Decrypts a read; the plaintext goes on as a plain read would. */
static void tls_read(struct http_conn *conn, const char *data, size_t len)
{
    struct orc_buf *plain = &conn->c->plain;
    int rv;

    orc_buf_reset(plain);
    rv = orc_tls_recv(conn->tls, data, len, plain);
    if (rv == 0) rv = tls_flush(conn);
    if (rv != 0) {
        tls_fail(conn, rv == ORC_EPROTO ? orc_tls_errmsg(conn->tls) : orc_strerror(rv));
        return;
    }
    if (plain->len == 0) {
        /* Handshake traffic, or close_notify: an idle connection is done. */
        if (conn->call == NULL && orc_tls_peer_closed(conn->tls)) http__conn_close(conn);
        return;
    }
    if (conn->call == NULL) {
        http__conn_close(conn);
        return;
    }
    conn->got_bytes = 1;
    conn_parse(conn, plain->data, plain->len);
    if (plain->cap > HTTP_KEEP_BUF) orc_buf_free(plain);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *conn = s->data;

    if (nread == 0 || conn->state == CONN_CLOSING) return;
    if (conn->tls && nread > 0) {
        tls_read(conn, buf->base, (size_t)nread);
        return;
    }
    if (conn->call == NULL) {
        /* Idle: the server closed it, or sent what nobody asked for. */
        http__conn_close(conn);
        return;
    }
    if (nread < 0) {
        conn_eof(conn, nread);
        return;
    }
    conn->got_bytes = 1;
    conn_parse(conn, buf->base, (size_t)nread);
}

/* ---- connecting ---- */

static void on_connected(uv_connect_t *req, int status)
{
    struct http_conn *conn = req->handle->data;
    int rv;

    if (conn->state == CONN_CLOSING) return;
    if (status != 0) {
        log_debug("http", "connect %s: %s", conn->verify_host, uv_strerror(status));
        conn_unreachable(conn);
        return;
    }
    conn->state = CONN_BUSY;
    (void)uv_tcp_nodelay(&conn->tcp, 1); /* best effort: requests are one write, no Nagle wait */
    rv = uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
    if (rv == 0 && conn->c->tls) rv = orc_tls_new(conn->c->tls, conn->verify_host, &conn->tls);
    if (rv == 0) rv = conn_send(conn);
    if (rv != 0) conn_fail(conn, ORC_EUNAVAIL, 0);
}

static int conn_connect(struct http_conn *conn, const struct sockaddr *addr)
{
    conn->state = CONN_CONNECTING;
    return uv_tcp_connect(&conn->connect_req, &conn->tcp, addr, on_connected);
}

/* IPv4 first: "localhost" often lists ::1 too, and servers here listen on
 * IPv4; only the chosen address is tried. */
static const struct sockaddr *pick_addr(const struct addrinfo *res)
{
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) return ai->ai_addr;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6) return ai->ai_addr;
    return NULL;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct http_conn *conn = ORC_CONTAINER(req, struct http_conn, gai);
    const struct sockaddr *addr = NULL;
    int rv = -1;

    conn->gai_pending = 0;
    if (conn->state != CONN_CLOSING) {
        addr = status == 0 ? pick_addr(res) : NULL;
        if (addr) rv = conn_connect(conn, addr);
        if (rv != 0) {
            log_debug("http", "resolve/connect %s: %s", conn->verify_host,
                      status ? uv_strerror(status) : addr ? uv_strerror(rv) : "no address");
            conn_unreachable(conn);
        }
    }
    uv_freeaddrinfo(res);
    conn_unref(conn);
}

/* A new connection bound to `call`. On failure nothing is bound and the
 * connection (if made) is already closing. */
int http__conn_open(http_client *c, http_call *call)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct http_conn *conn = calloc(1, sizeof *conn);
    int rv;

    if (conn == NULL) return ORC_ENOMEM;
    if ((conn->verify_host = strdup(c->lookup_host)) == NULL) {
        free(conn);
        return ORC_ENOMEM;
    }
    rv = uv_tcp_init(c->loop, &conn->tcp);
    if (rv != 0) {
        free(conn->verify_host);
        free(conn);
        return ORC_EIO;
    }
    conn->c = c;
    conn->tcp.data = conn;
    conn->refs = 1;
    conn->server_gen = c->server_gen;
    conn->tls_gen = c->tls_gen;
    orc_list_init(&conn->idle_link);
    orc_list_push(&c->conns, &conn->all_link);
    c->n_conns++;
    c->n_live++;
    conn->call = call;
    call->conn = conn;
    call->state = CALL_ACTIVE;
    if (c->literal) {
        rv = conn_connect(conn, (const struct sockaddr *)&c->addr);
    } else {
        conn->state = CONN_RESOLVING;
        rv = uv_getaddrinfo(c->loop, &conn->gai, on_resolved, c->lookup_host, c->port, &hints);
        if (rv == 0) {
            conn->gai_pending = 1;
            conn->refs++;
        }
    }
    if (rv == 0) return 0;
    log_debug("http", "connect %s:%s: %s", c->host, c->port, uv_strerror(rv));
    conn->call = NULL;
    call->conn = NULL;
    http__conn_close(conn);
    return ORC_EUNAVAIL;
}

/* ---- parser callbacks ---- */

static int parse_error(struct http_conn *conn, int err)
{
    conn->cb_err = err;
    return -1;
}

static int on_message_begin(llhttp_t *p)
{
    struct http_conn *conn = p->data;

    orc_buf_reset(&conn->hdr);
    orc_buf_reset(&conn->body);
    conn->n_hdr = 0;
    conn->in_field = conn->head_done = 0;
    return 0;
}

static int hdr_append(struct http_conn *conn, const char *at, size_t len)
{
    if (len > HTTP_MAX_HEADER_BYTES - conn->hdr.len) return parse_error(conn, ORC_EPROTO);
    if (orc_buf_append(&conn->hdr, at, len) != 0) return parse_error(conn, ORC_ENOMEM);
    return 0;
}

/* Trailers after a chunked body are ignored: the header array is final. */
static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;

    if (conn->head_done) return 0;
    if (!conn->in_field) {
        if (conn->n_hdr >= HTTP_MAX_HEADERS) return parse_error(conn, ORC_EPROTO);
        conn->in_field = 1;
        conn->field_off = conn->hdr.len;
    }
    return hdr_append(conn, at, len);
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_conn *conn = p->data;

    if (conn->head_done) return 0;
    conn->in_field = 0;
    if (hdr_append(conn, "", 1) != 0) return -1;
    for (char *s = conn->hdr.data + conn->field_off; *s; s++) *s = (char)tolower((unsigned char)*s);
    conn->value_off = conn->hdr.len;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;

    return conn->head_done ? 0 : hdr_append(conn, at, len);
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_conn *conn = p->data;
    size_t *off;

    if (conn->head_done) return 0;
    while (conn->hdr.len > conn->value_off
           && (conn->hdr.data[conn->hdr.len - 1] == ' ' || conn->hdr.data[conn->hdr.len - 1] == '\t'))
        conn->hdr.len--;
    if (hdr_append(conn, "", 1) != 0) return -1;
    if (conn->n_hdr == conn->cap_off) {
        size_t cap = conn->cap_off ? conn->cap_off * 2 : 16;
        off = realloc(conn->hdr_off, cap * 2 * sizeof *off);
        if (off == NULL) return parse_error(conn, ORC_ENOMEM);
        conn->hdr_off = off;
        conn->cap_off = cap;
    }
    conn->hdr_off[2 * conn->n_hdr] = conn->field_off;
    conn->hdr_off[2 * conn->n_hdr + 1] = conn->value_off;
    conn->n_hdr++;
    return 0;
}

/* The header buffer no longer grows, so pointers into it are stable now. */
static int build_headers(struct http_conn *conn)
{
    if (conn->n_hdr > conn->cap_hdrs) {
        struct http_header *h = realloc(conn->hdrs, conn->n_hdr * sizeof *h);
        if (h == NULL) return parse_error(conn, ORC_ENOMEM);
        conn->hdrs = h;
        conn->cap_hdrs = conn->n_hdr;
    }
    for (size_t i = 0; i < conn->n_hdr; i++) {
        conn->hdrs[i].name = conn->hdr.data + conn->hdr_off[2 * i];
        conn->hdrs[i].value = conn->hdr.data + conn->hdr_off[2 * i + 1];
    }
    return 0;
}

/* Exactly the announced length: orc_buf's doubling would round a 40 MiB
 * body up to a 64 MiB allocation. */
static int body_reserve(struct http_conn *conn, size_t n)
{
    char *p;

    if (n < conn->body.cap) return 0;
    p = realloc(conn->body.data, n + 1);
    if (p == NULL) return parse_error(conn, ORC_ENOMEM);
    conn->body.data = p;
    conn->body.cap = n + 1;
    return 0;
}

static int stream_head(struct http_conn *conn, http_call *call)
{
    struct http_response resp = {conn->status, conn->hdrs, conn->n_hdr, NULL, 0};

    uv_timer_stop(&call->timer); /* a stream's timeout ends with its head */
    if (call->cbs.on_head) call->cbs.on_head(call->arg, &resp);
    return conn->call == call ? 0 : -1;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_conn *conn = p->data;
    http_call *call = conn->call;
    int status = llhttp_get_status_code(p);

    if (call == NULL || status == 101 || status < 100) return parse_error(conn, ORC_EPROTO);
    if (status < 200) { /* interim reply (100 Continue): the real one follows */
        conn->skip_msg = 1;
        return 0;
    }
    conn->status = status;
    conn->head_done = 1;
    if (build_headers(conn) != 0) return -1;
    if (call->stream) {
        if (stream_head(conn, call) != 0) return -1;
    } else if ((p->flags & F_CONTENT_LENGTH) && !call->head) {
        if (p->content_length > HTTP_MAX_BODY) return parse_error(conn, ORC_ETOOBIG);
        if (body_reserve(conn, (size_t)p->content_length) != 0) return -1;
    }
    return call->head ? 1 : 0; /* 1: a HEAD reply has no body whatever it says */
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;
    http_call *call = conn->call;

    if (call->stream) {
        if (call->cbs.on_data) call->cbs.on_data(call->arg, at, len);
        return conn->call == call ? 0 : -1; /* canceled from inside on_data */
    }
    if (len > HTTP_MAX_BODY - conn->body.len) return parse_error(conn, ORC_ETOOBIG);
    if (orc_buf_append(&conn->body, at, len) != 0) return parse_error(conn, ORC_ENOMEM);
    return 0;
}

/* Pauses so that exactly one reply is parsed per call; bytes after it are
 * a protocol error that keeps the connection out of the pool. */
static int on_message_complete(llhttp_t *p)
{
    struct http_conn *conn = p->data;

    if (conn->skip_msg) {
        conn->skip_msg = 0;
        return 0;
    }
    conn->msg_done = 1;
    conn->keep_alive = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED;
}
