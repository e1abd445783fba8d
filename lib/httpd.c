/* httpd.c — HTTP/1.1 server transport: accepts connections (within the
 * limits of httpd_limits.c), runs their bytes through TLS (lib/tls) when
 * configured and through the request parser (httpd_parse.c), pausing after
 * each request so a connection has at most one request in a handler.
 * Writing is in httpd_out.c. */
#include "lib/httpd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define TLS_RECORD_HANDSHAKE 0x16
#define KEEP_IN (16u * 1024)     /* larger input buffers are freed once empty */
#define MAX_UNPARSED (1u << 20)  /* input waiting while a handler owns a request */

static void on_listener_closed(uv_handle_t *handle);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- requests ---- */

bool orc_httpd_req_gone(const struct orc_httpd_req *r) { return r->conn == NULL; }

const char *orc_httpd_req_peer(const struct orc_httpd_req *r) { return r->conn ? r->conn->peer : ""; }

int orc_httpd_req_tls_client(const struct orc_httpd_req *r, const struct orc_tls_identity **out,
                             const char **why)
{
    *out = NULL;
    *why = "";
    if (r->conn == NULL || r->conn->tls == NULL) return ORC_ENOENT;
    return orc_tls_peer_client(r->conn->tls, out, why);
}

void orc_httpd_req_warn(struct orc_httpd_req *r, const char *text)
{
    orc_buf_puts(&r->warnings, "Warning: 299 - \"");
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\') orc_buf_append(&r->warnings, "\\", 1);
        if (*p == '\r' || *p == '\n') continue;
        orc_buf_append(&r->warnings, p, 1);
    }
    orc_buf_puts(&r->warnings, "\"\r\n");
}

int orc_httpd_req_add_header(struct orc_httpd_req *r, const char *name, size_t name_len,
                             const char *value, size_t value_len)
{
    for (size_t i = 0; i < value_len; i++)
        if (value[i] == '\r' || value[i] == '\n') return ORC_EINVAL;
    for (size_t i = 0; i < name_len; i++)
        if (name[i] == '\r' || name[i] == '\n' || name[i] == ':') return ORC_EINVAL;
    if (orc_buf_append(&r->warnings, name, name_len) != 0
        || orc_buf_append(&r->warnings, ": ", 2) != 0
        || orc_buf_append(&r->warnings, value, value_len) != 0
        || orc_buf_append(&r->warnings, "\r\n", 2) != 0)
        return ORC_ENOMEM;
    return 0;
}

/* ---- connections ---- */

/* The server struct lives until its handles and every connection closed. */
static void http_handle_closed(struct orc_httpd *h)
{
    h->open_handles--;
    if (h->stopping && h->open_handles == 0) {
        void (*cb)(void *) = h->stop_cb;
        void *arg = h->stop_arg;
        free(h->clients);
        orc_tls_ctx_unref(h->tls);
        free(h);
        if (cb) cb(arg);
    }
}

static void on_conn_closed(uv_handle_t *handle)
{
    struct orc_httpd_conn *c = handle->data;
    struct orc_httpd *http = c->http;

    if (c->in.data) explicit_bzero(c->in.data, c->in.cap); /* requests carry the token */
    orc_buf_free(&c->in);
    orc_buf_free(&c->wbuf);
    orc_httpd_parser_clear(&c->parser);
    orc_httpd__queue_drop(c);
    free(c->q);
    orc_tls_free(c->tls);
    free(c);
    http->closed_since_trim++;
    http_handle_closed(http);
}

/* What uv_tcp_close_reset does, also while a shutdown is pending (which
 * it refuses). */
static void set_reset_on_close(uv_tcp_t *tcp)
{
    struct linger l = {1, 0};
    uv_os_fd_t fd;

    if (uv_fileno((uv_handle_t *)tcp, &fd) == 0) setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

/* The client is not reading: a reset frees the kernel's buffers of the
 * connection at once, instead of leaving them to a FIN that waits behind
 * data nobody reads. */
void orc_httpd__conn_abort(struct orc_httpd_conn *c)
{
    if (c->closing) return;
    c->reset = true;
    orc_httpd__conn_close(c);
}

void orc_httpd__conn_close(struct orc_httpd_conn *c)
{
    struct orc_httpd_req *r;

    if (c->closing) return;
    c->closing = true;
    orc_list_remove(&c->link);
    orc_list_remove(&c->dirty_link);
    orc_httpd__release(c);
    orc_httpd__queue_drop(c);
    r = c->active;
    c->active = NULL;
    if (r != NULL) {
        /* A download cut short must not look whole to any client. */
        if (r->streaming && r->whole_or_nothing) c->reset = true;
        r->conn = NULL;
        if (r->on_gone) r->on_gone(r);
    }
    if (c->reset) set_reset_on_close(&c->tcp);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

void orc_httpd__read_on(struct orc_httpd_conn *c, bool on)
{
    if (c->closing || on == c->reading) return;
    if (on && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        orc_httpd__conn_close(c);
        return;
    }
    if (!on) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = on;
}

/* A refused or broken request: the Status, then a lingering close. */
static void reply_error(struct orc_httpd_conn *c, int status)
{
    char body[256];
    int bl = snprintf(body, sizeof body,
                      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                      "\"status\":\"Failure\",\"message\":\"%s\",\"code\":%d}",
                      orc_httpd_parse_error_text(status), status);

    orc_buf_reset(&c->wbuf);
    if (orc_buf_printf(&c->wbuf,
                       "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                       "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
                       status, orc_httpd_status_reason(status), bl, body) != 0) {
        orc_buf_free(&c->wbuf);
        orc_httpd__conn_close(c);
        return;
    }
    orc_httpd__flush_wbuf(c, true);
}

static void dispatch(struct orc_httpd_conn *c, struct orc_httpd_req *r)
{
    r->conn = c;
    r->server = c->http->arg;
    c->active = r;
    orc_httpd__deadline(c, DL_NONE);
    c->http->handler(c->http->arg, r);
}

/* Timers follow the request: its head from its first byte, then its body,
 * which may not stall (the deadline moves with every read) nor take too
 * long in all. */
static void follow_parser(struct orc_httpd_conn *c)
{
    if (orc_httpd_parser_head_done(&c->parser)) {
        if (c->dl == DL_HEADER || c->dl == DL_IDLE) c->body_since = uv_now(c->http->loop);
        if (c->dl == DL_HEADER || c->dl == DL_IDLE || c->dl == DL_BODY) orc_httpd__deadline(c, DL_BODY);
    } else if (orc_httpd_parser_in_request(&c->parser) && c->dl == DL_IDLE) {
        orc_httpd__deadline(c, DL_HEADER);
    }
}

static void parse_some(struct orc_httpd_conn *c)
{
    const char *start = c->in.data + c->in_off;
    size_t used = 0;
    enum api_parse_result res = orc_httpd_parse(&c->parser, start, c->in.len - c->in_off, &used);

    c->in_off += used;
    follow_parser(c);
    switch (res) {
    case API_PARSE_MORE: break;
    case API_PARSE_REQUEST: dispatch(c, orc_httpd_parser_take(&c->parser)); break;
    case API_PARSE_EARLY:
        c->in_off = c->in.len; /* the body is never read */
        c->lingering = true;
        dispatch(c, orc_httpd_parser_take(&c->parser));
        break;
    case API_PARSE_ERROR:
        c->in_off = c->in.len;
        reply_error(c, orc_httpd_parse_status(&c->parser));
        break;
    }
}

void orc_httpd__conn_process(struct orc_httpd_conn *c)
{
    if (c->processing) return;
    c->processing = true;
    while (!c->closing && !c->lingering && c->active == NULL && c->in_off < c->in.len) parse_some(c);
    if (!c->closing && c->in_off == c->in.len) {
        c->in_off = 0;
        if (c->in.cap > KEEP_IN) orc_buf_free(&c->in);
        else orc_buf_reset(&c->in);
    }
    c->processing = false;
    /* A request in a handler stops reading (back-pressure), except a stream,
     * where reading tells us when the client hangs up, and a closing
     * connection, which drains what the client still sends. */
    orc_httpd__read_on(c, c->lingering || c->active == NULL || (c->active->streaming && !c->paused));
}

/* A tunnel's input goes to its handler as it comes. */
static void tunnel_input(struct orc_httpd_conn *c, const char *data, size_t len)
{
    struct orc_httpd_req *r = c->active;

    if (len == 0 || r == NULL || !r->tunnel || r->on_input == NULL) return;
    orc_httpd__deadline(c, DL_TUNNEL);
    r->on_input(r, data, len);
}

/* "HTTP/1.1 101 ..." -> 101; a head that is not a status line: 101. */
static int head_status(const char *head, size_t len)
{
    int code = 0;

    if (len < 12 || memcmp(head, "HTTP/1.", 7) != 0) return 101;
    for (size_t i = 9; i < 12; i++) {
        if (head[i] < '0' || head[i] > '9') return 101;
        code = code * 10 + (head[i] - '0');
    }
    return code;
}

int orc_httpd_tunnel_begin(struct orc_httpd_req *r, const char *head, size_t head_len,
                           void (*on_input)(struct orc_httpd_req *r, const char *data, size_t len))
{
    struct orc_httpd_conn *c = r->conn;
    int rv;

    if (c == NULL || c->closing) return ORC_ECANCELED;
    r->tunnel = true;
    r->streaming = true;
    r->whole_or_nothing = true;
    r->on_input = on_input;
    r->status = head_status(head, head_len);
    if (r->on_started) r->on_started(r);
    c->http->requests++;
    if (head_len > 0 && (rv = orc_httpd_tunnel_write(r, head, head_len)) != 0) return rv;
    orc_httpd__deadline(c, DL_TUNNEL);
    if (c->in_off < c->in.len) { /* sent right behind the request */
        size_t off = c->in_off;
        c->in_off = c->in.len;
        tunnel_input(c, c->in.data + off, c->in.len - off);
    }
    if (r->conn != NULL) orc_httpd__conn_process(c);
    return r->conn != NULL ? 0 : ORC_ECANCELED;
}

void orc_httpd_tunnel_pause(struct orc_httpd_req *r, bool paused)
{
    struct orc_httpd_conn *c = r->conn;

    if (c == NULL || c->closing) return;
    c->paused = paused;
    orc_httpd__read_on(c, !paused);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct orc_httpd_conn *c = h->data;
    (void)suggested;
    if (c->tls || c->lingering) {
        *buf = uv_buf_init(c->http->rbuf, sizeof c->http->rbuf);
        return;
    }
    if (orc_buf_reserve(&c->in, ORC_HTTPD_READ_BUF) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init(c->in.data + c->in.len, ORC_HTTPD_READ_BUF);
}

/* Plain HTTP sent to the TLS port gets a plain answer saying so (as Go's
 * servers do), then the connection closes; anything else just closes. */
static bool tls_first_bytes_ok(struct orc_httpd_conn *c, const char *data, size_t len)
{
    static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                "Connection: close\r\nContent-Length: 48\r\n\r\n"
                                "Client sent an HTTP request to an HTTPS server.\n";
    char *copy;

    if (c->got_bytes || len == 0) return true;
    c->got_bytes = true;
    if ((unsigned char)data[0] == TLS_RECORD_HANDSHAKE) return true;
    if (data[0] >= 'A' && data[0] <= 'Z' && (copy = strdup(reply)) != NULL)
        orc_httpd__send_raw(c, copy, sizeof reply - 1, true);
    else
        orc_httpd__conn_close(c);
    return false;
}

/* Decrypts into c->in (dropping the plaintext while a stream owns the
 * connection: a client says nothing there but close_notify). */
static int tls_read(struct orc_httpd_conn *c, const char *data, size_t len)
{
    size_t before = c->in.len;
    bool ignore = c->active != NULL && c->active->streaming;
    bool was_done = orc_tls_handshake_done(c->tls);
    int rv;

    if (!tls_first_bytes_ok(c, data, len)) return ORC_EPROTO;
    rv = orc_tls_recv(c->tls, data, len, &c->in);
    if (ignore && c->active->tunnel) tunnel_input(c, c->in.data + before, c->in.len - before);
    if (ignore) c->in.len = before;
    if (orc_httpd__send_tls_out(c, false) != 0) return ORC_EIO;
    if (rv != 0) {
        log_debug(c->http->mod, "TLS connection from %s dropped: %s", c->peer, orc_tls_errmsg(c->tls));
        orc_httpd__conn_close(c);
        return rv;
    }
    if (orc_tls_peer_closed(c->tls)) {
        orc_httpd__conn_close(c);
        return ORC_ECANCELED;
    }
    if (!was_done && orc_tls_handshake_done(c->tls) && c->dl == DL_HANDSHAKE)
        orc_httpd__deadline(c, DL_HEADER);
    return ignore ? ORC_ECANCELED : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct orc_httpd_conn *c = s->data;

    if (nread < 0) {
        orc_httpd__conn_close(c);
        return;
    }
    if (nread == 0 || c->lingering) return; /* a closing connection drops what comes */
    if (c->tls) {
        if (tls_read(c, buf->base, (size_t)nread) != 0) return;
    } else {
        if (c->active != NULL && c->active->streaming) { /* ignore bytes on a stream */
            tunnel_input(c, c->in.data + c->in.len, (size_t)nread);
            return;
        }
        c->in.len += (size_t)nread;
    }
    if (c->in.len - c->in_off > MAX_UNPARSED) {
        orc_httpd__conn_close(c);
        return;
    }
    orc_httpd__conn_process(c);
}

static void on_refused_closed(uv_handle_t *handle)
{
    struct orc_httpd_conn *c = handle->data;
    struct orc_httpd *http = c->http;

    free(c);
    http_handle_closed(http);
}

/* The hook sees the request's connection (its TLS client certificate)
 * although the request is not dispatched yet. */
static bool authorize_on_conn(void *arg, struct orc_httpd_req *r)
{
    struct orc_httpd_conn *c = arg;
    bool ok;

    r->conn = c;
    ok = c->http->authorize(c->http->arg, r);
    r->conn = NULL;
    return ok;
}

static void conn_setup(struct orc_httpd_conn *c)
{
    struct orc_httpd *http = c->http;

    orc_list_push(&http->conns, &c->link);
    http->n_conns++;
    uv_tcp_nodelay(&c->tcp, 1);
    orc_httpd_parser_init(&c->parser, http->authorize ? authorize_on_conn : NULL, c);
    if (http->tls && orc_tls_new(http->tls, NULL, &c->tls) != 0) {
        orc_httpd__conn_close(c);
        return;
    }
    orc_httpd__deadline(c, http->tls ? DL_HANDSHAKE : DL_HEADER);
    orc_httpd__read_on(c, true);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct orc_httpd *http = server->data;
    struct sockaddr_storage peer;
    int len = sizeof peer;
    struct orc_httpd_conn *c;

    if (status < 0) {
        orc_httpd__log_limited(http, &http->log_accept, "cannot accept connections: %s",
                              uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL || uv_tcp_init(http->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    c->http = http;
    c->tcp.data = c;
    orc_list_init(&c->link);
    orc_list_init(&c->dirty_link);
    http->open_handles++;
    memset(&peer, 0, sizeof peer);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0
        || uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &len) != 0
        || !orc_httpd__admit(c, &peer)) {
        /* Refused at once, with a reset: the backlog does not fill and no
         * TIME_WAIT stays behind. */
        set_reset_on_close(&c->tcp);
        uv_close((uv_handle_t *)&c->tcp, on_refused_closed);
        return;
    }
    conn_setup(c);
}

/* ---- server ---- */

static int tls_setup(struct orc_httpd *h, const struct orc_httpd_tls *tls, char *errmsg)
{
    char err[ORC_TLS_ERRLEN] = "";
    int rv;

    if (tls == NULL) return 0;
    if (tls->ctx) {
        h->tls = orc_tls_ctx_ref(tls->ctx);
        return 0;
    }
    if (tls->cert_pem == NULL || tls->key_pem == NULL) {
        snprintf(errmsg, 256, "TLS needs both a certificate and a key");
        return ORC_EINVAL;
    }
    rv = orc_tls_server_ctx(tls->cert_pem, tls->key_pem, &h->tls, err);
    if (rv == 0 && tls->client_ca_pem) rv = orc_tls_ctx_ask_client_cert(h->tls, tls->client_ca_pem, err);
    if (rv != 0) snprintf(errmsg, 256, "TLS: %.240s", err);
    return rv;
}

static void on_helper_closed(uv_handle_t *handle) { http_handle_closed(handle->data); }

int orc_httpd_start(uv_loop_t *loop, const struct orc_httpd_config *cfg, struct orc_httpd **out,
                   char *errmsg)
{
    struct sockaddr_storage sa;
    struct orc_httpd *h;
    int rv;

    if (orc_netaddr_parse(cfg->listen, &sa) != 0) {
        snprintf(errmsg, 256, "invalid listen address \"%s\" (want HOST:PORT)", cfg->listen);
        return ORC_EINVAL;
    }
    h = calloc(1, sizeof *h);
    if (h == NULL) return ORC_ENOMEM;
    if ((rv = tls_setup(h, cfg->tls, errmsg)) != 0) {
        free(h);
        return rv;
    }
    h->loop = loop;
    h->handler = cfg->handler;
    h->authorize = cfg->authorize;
    h->arg = cfg->arg;
    h->limits = cfg->limits;
    h->mod = cfg->log_module ? cfg->log_module : "http";
    orc_list_init(&h->conns);
    orc_list_init(&h->dirty);
    uv_tcp_init(loop, &h->listener);
    h->listener.data = h;
    h->open_handles = 1;
    rv = orc_httpd__out_init(h);
    if (rv == 0) rv = orc_httpd__limits_init(h);
    if (rv == 0) rv = uv_tcp_bind(&h->listener, (struct sockaddr *)&sa, 0);
    if (rv == 0) rv = uv_listen((uv_stream_t *)&h->listener, 1024, on_connection);
    if (rv != 0) {
        snprintf(errmsg, 256, "listen on %s: %s", cfg->listen,
                 rv == ORC_ENOMEM ? "out of memory" : uv_strerror(rv));
        orc_httpd_stop(h, NULL, NULL); /* freed once the handles have closed */
        return rv == ORC_ENOMEM ? rv : ORC_EIO;
    }
    *out = h;
    return 0;
}

static void on_listener_closed(uv_handle_t *handle) { http_handle_closed(handle->data); }

void orc_httpd_stop(struct orc_httpd *h, void (*cb)(void *arg), void *arg)
{
    h->stopping = true;
    h->stop_cb = cb;
    h->stop_arg = arg;
    while (!orc_list_empty(&h->conns))
        orc_httpd__conn_close(ORC_CONTAINER(h->conns.next, struct orc_httpd_conn, link));
    orc_httpd__out_close(h, on_helper_closed);
    orc_httpd__limits_close(h, on_helper_closed);
    uv_close((uv_handle_t *)&h->listener, on_listener_closed);
}

uint64_t orc_httpd_requests(const struct orc_httpd *h) { return h->requests; }

int orc_httpd_port(const struct orc_httpd *h)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;

    if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&sa, &len) != 0) return -1;
    if (sa.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    if (sa.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return -1;
}
