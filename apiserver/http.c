/* http.c — HTTP/1.1 server transport for the API: accepts connections, runs
 * their bytes through TLS (lib/tls) when configured, parses requests with
 * llhttp (pausing after each one so a connection has at most one request in
 * a handler), writes whole or chunked responses, each in one write. */
#include "apiserver/http.h"

#include <ctype.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define READ_BUF_SIZE (64 * 1024)
#define KEEP_WBUF (1u << 20) /* larger response buffers are not kept for reuse */
#define TLS_RECORD_HANDSHAKE 0x16

struct api_http {
    uv_loop_t *loop;
    uv_tcp_t listener;
    api_http_handler handler;
    void *arg;
    struct api_conn *conns;
    int open_handles; /* listener + connections still closing */
    bool stopping;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    uint64_t requests;
    struct orc_tls_ctx *tls; /* NULL: plain HTTP */
    /* TLS connections read ciphertext here (one read at a time on the loop
     * thread), and keep only plaintext of their own. */
    char rbuf[READ_BUF_SIZE];
};

struct api_conn {
    uv_tcp_t tcp;
    struct api_http *http;
    struct api_conn *prev, *next;
    llhttp_t parser;
    struct orc_buf in; /* bytes received and not yet parsed */
    size_t in_off;
    struct api_req *cur;    /* request being parsed */
    struct api_req *active; /* request owned by a handler */
    struct orc_buf hfield, hvalue;
    /* The response (or chunk) being written. Plain HTTP hands it to the
     * write; with TLS it is encrypted into a new block and this memory is
     * reused by the next response. */
    struct orc_buf wbuf;
    struct orc_tls *tls; /* NULL: plain HTTP */
    int parse_error; /* HTTP status to answer a broken request with */
    bool processing;
    bool closing;
    bool reading;
    bool got_bytes;
};

struct write_req {
    uv_write_t req;
    struct api_conn *conn;
    bool close_after;
    char *data;
};

static const llhttp_settings_t *parser_settings(void);
static void conn_process(struct api_conn *c);
static void conn_close(struct api_conn *c);
static void on_listener_closed(uv_handle_t *handle);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- requests ---- */

static void req_free(struct api_req *r)
{
    if (r == NULL) return;
    if (r->op_free) r->op_free(r->op);
    if (r->state_free) r->state_free(r->state);
    free(r->target);
    for (int i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    orc_buf_free(&r->body);
    orc_buf_free(&r->warnings);
    free(r);
}

const char *api_req_header(const struct api_req *r, const char *lower_name)
{
    for (int i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, lower_name) == 0) return r->headers[i].value;
    return NULL;
}

bool api_req_gone(const struct api_req *r) { return r->conn == NULL; }

void api_req_warn(struct api_req *r, const char *text)
{
    orc_buf_puts(&r->warnings, "Warning: 299 - \"");
    for (const char *p = text; *p; p++) {
        if (*p == '"' || *p == '\\') orc_buf_append(&r->warnings, "\\", 1);
        if (*p == '\r' || *p == '\n') continue;
        orc_buf_append(&r->warnings, p, 1);
    }
    orc_buf_puts(&r->warnings, "\"\r\n");
}

/* ---- llhttp callbacks ---- */

static struct api_req *cur_req(llhttp_t *p)
{
    struct api_conn *c = p->data;
    if (c->cur == NULL) {
        c->cur = calloc(1, sizeof *c->cur);
        if (c->cur == NULL) return NULL;
        c->cur->start_ms = uv_hrtime() / 1000000;
    }
    return c->cur;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct api_req *r = cur_req(p);
    size_t old;
    char *t;

    if (r == NULL) return -1;
    old = r->target ? strlen(r->target) : 0;
    if (old + len > 16384) {
        ((struct api_conn *)p->data)->parse_error = 414;
        return -1;
    }
    t = realloc(r->target, old + len + 1);
    if (t == NULL) return -1;
    memcpy(t + old, at, len);
    t[old + len] = '\0';
    r->target = t;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct api_conn *c = p->data;
    return orc_buf_append(&c->hfield, at, len) == 0 && c->hfield.len < 1024 ? 0 : -1;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct api_conn *c = p->data;
    return orc_buf_append(&c->hvalue, at, len) == 0 && c->hvalue.len < 65536 ? 0 : -1;
}

static int on_header_value_complete(llhttp_t *p)
{
    struct api_conn *c = p->data;
    struct api_req *r = cur_req(p);
    struct api_header *h;

    if (r == NULL) return -1;
    if (r->n_headers == API_MAX_HEADERS) {
        c->parse_error = 431;
        return -1;
    }
    h = &r->headers[r->n_headers];
    h->name = strndup(c->hfield.data ? c->hfield.data : "", c->hfield.len);
    h->value = strndup(c->hvalue.data ? c->hvalue.data : "", c->hvalue.len);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        return -1;
    }
    for (char *q = h->name; *q; q++) *q = (char)tolower((unsigned char)*q);
    r->n_headers++;
    orc_buf_reset(&c->hfield);
    orc_buf_reset(&c->hvalue);
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct api_conn *c = p->data;
    struct api_req *r = cur_req(p);

    if (r == NULL) return -1;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > API_MAX_BODY) {
        c->parse_error = 413;
        return -1;
    }
    r->method = p->method;
    r->keep_alive = llhttp_should_keep_alive(p);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct api_conn *c = p->data;
    struct api_req *r = cur_req(p);

    if (r == NULL) return -1;
    if (r->body.len + len > API_MAX_BODY) {
        c->parse_error = 413;
        return -1;
    }
    return orc_buf_append(&r->body, at, len) == 0 ? 0 : -1;
}

static int on_message_complete(llhttp_t *p)
{
    struct api_req *r = cur_req(p);
    if (r == NULL) return -1;
    r->keep_alive = llhttp_should_keep_alive(p);
    if (r->target == NULL) r->target = strdup("/");
    return r->target ? HPE_PAUSED : -1;
}

static const llhttp_settings_t *parser_settings(void)
{
    static llhttp_settings_t s;
    static bool init;
    if (!init) {
        llhttp_settings_init(&s);
        s.on_url = on_url;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_header_value_complete = on_header_value_complete;
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        init = true;
    }
    return &s;
}

/* ---- writing ---- */

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static void on_write_done(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct api_conn *c = wr->conn;

    free(wr->data);
    free(wr);
    if (status < 0) conn_close(c);
}

static void on_shutdown_close(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct api_conn *c = wr->conn;
    (void)status;
    free(wr->data);
    free(wr);
    conn_close(c);
}

/* Sends `data` (taking ownership), trying a synchronous write first. */
static int conn_send_raw(struct api_conn *c, char *data, size_t len, bool close_after)
{
    struct write_req *wr;
    uv_buf_t buf;
    int n = 0;

    if (c->closing) {
        free(data);
        return ORC_EIO;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        buf = uv_buf_init(data, (unsigned)len);
        n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
        if (n < 0 && n != UV_EAGAIN) {
            free(data);
            conn_close(c);
            return ORC_EIO;
        }
        if (n < 0) n = 0;
    }
    if ((size_t)n == len && !close_after) {
        free(data);
        return 0;
    }
    wr = calloc(1, sizeof *wr);
    if (wr == NULL) {
        free(data);
        conn_close(c);
        return ORC_ENOMEM;
    }
    wr->conn = c;
    wr->data = data;
    buf = uv_buf_init(data + n, (unsigned)(len - (size_t)n));
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1,
                 close_after ? on_shutdown_close : on_write_done) != 0) {
        free(data);
        free(wr);
        conn_close(c);
        return ORC_EIO;
    }
    return 0;
}

/* Ciphertext the TLS session has for the peer (handshake replies). */
static int conn_send_tls_out(struct api_conn *c, bool close_after)
{
    size_t n;
    char *data = orc_tls_take(c->tls, &n);

    if (data == NULL) {
        if (close_after) conn_close(c); /* nothing queued after a response, nothing to wait for */
        return 0;
    }
    return conn_send_raw(c, data, n, close_after);
}

/* Sends what was built in c->wbuf as one write: the buffer itself for plain
 * HTTP, its encryption (plus close_notify when closing) with TLS. */
static int conn_flush(struct api_conn *c, bool close_after)
{
    size_t n;
    int rv;

    if (c->closing) return ORC_EIO;
    if (c->tls == NULL) {
        char *data = orc_buf_steal(&c->wbuf, &n);
        return conn_send_raw(c, data, n, close_after);
    }
    rv = orc_tls_send(c->tls, c->wbuf.data, c->wbuf.len);
    if (c->wbuf.cap > KEEP_WBUF) orc_buf_free(&c->wbuf);
    else orc_buf_reset(&c->wbuf);
    if (rv == 0 && close_after) rv = orc_tls_shutdown(c->tls);
    if (rv != 0) {
        conn_close(c);
        return rv;
    }
    return conn_send_tls_out(c, close_after);
}

static void finish_request(struct api_req *r, bool keep_alive)
{
    struct api_conn *c = r->conn;

    req_free(r);
    if (c == NULL) return;
    c->active = NULL;
    if (!keep_alive) return; /* closed after the write */
    llhttp_resume(&c->parser);
    conn_process(c);
}

void api_http_respond(struct api_req *r, int status, const char *content_type, const char *body,
                      size_t len, const char *extra_headers)
{
    struct api_conn *c = r->conn;
    struct orc_buf *out;
    bool keep = r->keep_alive && !(c && c->http->stopping);

    if (c == NULL) {
        req_free(r);
        return;
    }
    c->http->requests++;
    out = &c->wbuf;
    orc_buf_reset(out);
    if (orc_buf_reserve(out, len + 256 + r->warnings.len) != 0
        || orc_buf_printf(out,
                          "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                          "Cache-Control: no-cache, private\r\n%s%s%s\r\n",
                          status, status_text(status), content_type ? content_type : "text/plain",
                          len, keep ? "" : "Connection: close\r\n",
                          r->warnings.data ? r->warnings.data : "",
                          extra_headers ? extra_headers : "") != 0
        || orc_buf_append(out, body, len) != 0) {
        orc_buf_free(out);
        conn_close(c);
        req_free(r);
        return;
    }
    conn_flush(c, !keep);
    finish_request(r, keep);
}

int api_http_stream_begin(struct api_req *r, int status, const char *content_type)
{
    struct api_conn *c = r->conn;

    if (c == NULL) return ORC_ECANCELED;
    orc_buf_reset(&c->wbuf);
    if (orc_buf_printf(&c->wbuf,
                       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                       "Cache-Control: no-cache, private\r\n%s\r\n",
                       status, status_text(status), content_type,
                       r->warnings.data ? r->warnings.data : "") != 0) {
        orc_buf_free(&c->wbuf);
        return ORC_ENOMEM;
    }
    r->streaming = true;
    c->http->requests++;
    if (conn_flush(c, false) != 0) return ORC_EIO;
    conn_process(c); /* resumes reading, so a client hanging up is noticed */
    return 0;
}

int api_http_stream_write(struct api_req *r, const char *data, size_t len, size_t max_queue)
{
    struct api_conn *c = r->conn;
    struct orc_buf *out;

    if (c == NULL || c->closing) return ORC_ECANCELED;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > max_queue) return ORC_ETOOBIG;
    out = &c->wbuf;
    orc_buf_reset(out);
    if (orc_buf_reserve(out, len + 16) != 0 || orc_buf_printf(out, "%zx\r\n", len) != 0
        || orc_buf_append(out, data, len) != 0 || orc_buf_append(out, "\r\n", 2) != 0) {
        orc_buf_free(out);
        return ORC_ENOMEM;
    }
    return conn_flush(c, false);
}

void api_http_stream_end(struct api_req *r)
{
    struct api_conn *c = r->conn;
    bool keep = r->keep_alive && c && !c->http->stopping;

    if (c != NULL && !c->closing) {
        orc_buf_reset(&c->wbuf);
        if (orc_buf_append(&c->wbuf, "0\r\n\r\n", 5) == 0) {
            conn_flush(c, !keep);
        } else {
            keep = false;
            conn_close(c);
        }
    }
    finish_request(r, keep);
}

/* ---- connections ---- */

/* The server struct lives until its listener and every connection closed. */
static void http_handle_closed(struct api_http *h)
{
    h->open_handles--;
    if (h->stopping && h->open_handles == 0) {
        void (*cb)(void *) = h->stop_cb;
        void *arg = h->stop_arg;
        orc_tls_ctx_unref(h->tls);
        free(h);
        if (cb) cb(arg);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    struct api_conn *c = h->data;
    struct api_http *http = c->http;

    if (c->in.data) explicit_bzero(c->in.data, c->in.cap); /* requests carry the token */
    orc_buf_free(&c->in);
    orc_buf_free(&c->hfield);
    orc_buf_free(&c->hvalue);
    orc_buf_free(&c->wbuf);
    orc_tls_free(c->tls);
    req_free(c->cur);
    free(c);
    http_handle_closed(http);
}

static void conn_close(struct api_conn *c)
{
    struct api_req *r;

    if (c->closing) return;
    c->closing = true;
    if (c->prev) c->prev->next = c->next;
    else c->http->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    r = c->active;
    c->active = NULL;
    if (r != NULL) {
        r->conn = NULL;
        if (r->on_gone) r->on_gone(r);
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void reply_parse_error(struct api_conn *c, int status)
{
    const char *text = status == 413 ? "request body too large (limit 3 MiB)"
                       : status == 414 ? "request URI too long"
                       : status == 431 ? "too many request headers"
                                       : "malformed HTTP request";
    struct orc_buf *out = &c->wbuf;
    char body[256];
    int bl;

    bl = snprintf(body, sizeof body,
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                  "\"status\":\"Failure\",\"message\":\"%s\",\"code\":%d}",
                  text, status);
    orc_buf_reset(out);
    if (orc_buf_printf(out,
                       "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                       "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
                       status, status_text(status), bl, body) != 0) {
        orc_buf_free(out);
        conn_close(c);
        return;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    conn_flush(c, true);
}

static void dispatch(struct api_conn *c)
{
    struct api_req *r = c->cur;

    c->cur = NULL;
    r->conn = c;
    r->server = c->http->arg;
    c->active = r;
    c->http->handler(c->http->arg, r);
}

static void conn_process(struct api_conn *c)
{
    if (c->processing) return;
    c->processing = true;
    while (!c->closing && c->active == NULL && c->in_off < c->in.len) {
        const char *start = c->in.data + c->in_off;
        size_t len = c->in.len - c->in_off;
        llhttp_errno_t err = llhttp_execute(&c->parser, start, len);

        if (err == HPE_OK) {
            c->in_off = c->in.len;
        } else if (err == HPE_PAUSED) {
            c->in_off += (size_t)(llhttp_get_error_pos(&c->parser) - start);
            dispatch(c);
        } else {
            reply_parse_error(c, c->parse_error ? c->parse_error : 400);
            break;
        }
    }
    if (!c->closing && c->in_off == c->in.len) {
        c->in_off = 0;
        orc_buf_reset(&c->in);
    }
    c->processing = false;
    if (c->closing) return;
    /* A request in a handler stops reading (back-pressure), except a stream,
     * where reading tells us when the client hangs up. */
    bool want = c->active == NULL || c->active->streaming;
    if (want && !c->reading) {
        c->reading = true;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    } else if (!want && c->reading) {
        c->reading = false;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct api_conn *c = h->data;
    (void)suggested;
    if (c->tls) {
        *buf = uv_buf_init(c->http->rbuf, sizeof c->http->rbuf);
        return;
    }
    if (orc_buf_reserve(&c->in, READ_BUF_SIZE) != 0) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init(c->in.data + c->in.len, READ_BUF_SIZE);
}

/* Plain HTTP sent to the TLS port gets a plain answer saying so (as Go's
 * servers do), then the connection closes; anything else just closes. */
static bool tls_first_bytes_ok(struct api_conn *c, const char *data, size_t len)
{
    static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                "Connection: close\r\nContent-Length: 48\r\n\r\n"
                                "Client sent an HTTP request to an HTTPS server.\n";
    char *copy;

    if (c->got_bytes || len == 0) return true;
    c->got_bytes = true;
    if ((unsigned char)data[0] == TLS_RECORD_HANDSHAKE) return true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    if (data[0] >= 'A' && data[0] <= 'Z' && (copy = strdup(reply)) != NULL)
        conn_send_raw(c, copy, sizeof reply - 1, true);
    else
        conn_close(c);
    return false;
}

/* Decrypts into c->in (dropping the plaintext while a stream owns the
 * connection: a client says nothing there but close_notify). */
static int tls_read(struct api_conn *c, const char *data, size_t len)
{
    size_t before = c->in.len;
    bool ignore = c->active != NULL && c->active->streaming;
    int rv;

    if (!tls_first_bytes_ok(c, data, len)) return ORC_EPROTO;
    rv = orc_tls_recv(c->tls, data, len, &c->in);
    if (ignore) c->in.len = before;
    if (conn_send_tls_out(c, false) != 0) return ORC_EIO;
    if (rv != 0) {
        log_debug("apiserver", "TLS connection dropped: %s", orc_tls_errmsg(c->tls));
        conn_close(c);
        return rv;
    }
    if (orc_tls_peer_closed(c->tls)) {
        conn_close(c);
        return ORC_ECANCELED;
    }
    return ignore ? ORC_ECANCELED : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct api_conn *c = s->data;

    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->tls) {
        if (tls_read(c, buf->base, (size_t)nread) != 0) return;
    } else {
        if (c->active != NULL && c->active->streaming) return; /* ignore bytes on a stream */
        c->in.len += (size_t)nread;
    }
    if (c->in.len - c->in_off > API_MAX_BODY + 65536) {
        conn_close(c);
        return;
    }
    conn_process(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct api_http *http = server->data;
    struct api_conn *c;

    if (status < 0) {
        log_warn("apiserver", "accept: %s", uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) return;
    c->http = http;
    if (uv_tcp_init(http->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    c->tcp.data = c;
    http->open_handles++;
    c->next = http->conns;
    if (http->conns) http->conns->prev = c;
    http->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (http->tls && orc_tls_new(http->tls, NULL, &c->tls) != 0) {
        conn_close(c);
        return;
    }
    llhttp_init(&c->parser, HTTP_REQUEST, parser_settings());
    c->parser.data = c;
    c->reading = true;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) conn_close(c);
}

/* ---- server ---- */

static int tls_setup(struct api_http *h, const struct api_http_tls *tls, char *errmsg)
{
    char err[ORC_TLS_ERRLEN] = "";
    int rv;

    if (tls == NULL) return 0;
    if (tls->cert_pem == NULL || tls->key_pem == NULL) {
        snprintf(errmsg, 256, "TLS needs both a certificate and a key");
        return ORC_EINVAL;
    }
    rv = orc_tls_server_ctx(tls->cert_pem, tls->key_pem, &h->tls, err);
    if (rv != 0) snprintf(errmsg, 256, "TLS: %.240s", err);
    return rv;
}

int api_http_start(uv_loop_t *loop, const char *listen_addr, const struct api_http_tls *tls,
                   api_http_handler handler, void *arg, struct api_http **out, char *errmsg)
{
    struct sockaddr_storage sa;
    struct api_http *h;
    int rv;

    if (orc_netaddr_parse(listen_addr, &sa) != 0) {
        snprintf(errmsg, 256, "invalid listen address \"%s\" (want HOST:PORT)", listen_addr);
        return ORC_EINVAL;
    }
    h = calloc(1, sizeof *h);
    if (h == NULL) return ORC_ENOMEM;
    if ((rv = tls_setup(h, tls, errmsg)) != 0) {
        free(h);
        return rv;
    }
    h->loop = loop;
    h->handler = handler;
    h->arg = arg;
    uv_tcp_init(loop, &h->listener);
    h->listener.data = h;
    h->open_handles = 1;
    rv = uv_tcp_bind(&h->listener, (struct sockaddr *)&sa, 0);
    if (rv == 0) rv = uv_listen((uv_stream_t *)&h->listener, 1024, on_connection);
    if (rv != 0) {
        snprintf(errmsg, 256, "listen on %s: %s", listen_addr, uv_strerror(rv));
        h->stopping = true; /* freed once the handle has closed */
        uv_close((uv_handle_t *)&h->listener, on_listener_closed);
        return ORC_EIO;
    }
    *out = h;
    return 0;
}

static void on_listener_closed(uv_handle_t *handle) { http_handle_closed(handle->data); }

void api_http_stop(struct api_http *h, void (*cb)(void *arg), void *arg)
{
    h->stopping = true;
    h->stop_cb = cb;
    h->stop_arg = arg;
    while (h->conns) conn_close(h->conns);
    uv_close((uv_handle_t *)&h->listener, on_listener_closed);
}

uint64_t api_http_requests(const struct api_http *h) { return h->requests; }

int api_http_port(const struct api_http *h)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;

    if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&sa, &len) != 0) return -1;
    if (sa.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&sa)->sin_port);
    if (sa.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return -1;
}
