/* http.c — the HTTP client's public API: clients, the keep-alive pool with
 * its queue of waiting calls, call completion, cancel and close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/http_int.h"
#include "lib/log.h"
#include "lib/orc.h"

static int isalnum_ascii(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* ---- headers ---- */

const char *http_header_next(const struct http_response *r, const char *name, size_t *iter)
{
    for (size_t i = *iter; r != NULL && i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            *iter = i + 1;
            return r->headers[i].value;
        }
    }
    if (r != NULL) *iter = r->n_headers;
    return NULL;
}

const char *http_header_get(const struct http_response *r, const char *name)
{
    size_t iter = 0;

    return http_header_next(r, name, &iter);
}

/* ---- client lifetime ---- */

static void servers_free(http_client *c)
{
    for (size_t i = 0; i < c->n_servers; i++) free(c->servers[i]);
    free(c->servers);
    c->servers = NULL;
    c->n_servers = c->server = 0;
}

static void client_free(http_client *c)
{
    void (*cb)(void *) = c->close_cb;
    void *arg = c->close_arg;

    if (c->prefix) explicit_bzero(c->prefix, c->prefix_len); /* it holds the token */
    free(c->prefix);
    free(c->host);
    free(c->lookup_host);
    servers_free(c);
    orc_tls_ctx_unref(c->tls);
    if (c->plain.data) explicit_bzero(c->plain.data, c->plain.cap);
    orc_buf_free(&c->plain);
    free(c);
    if (cb) cb(arg);
}

void http__live_put(http_client *c)
{
    if (--c->n_live == 0 && c->closing) client_free(c);
}

static void on_sweep_closed(uv_handle_t *h) { http__live_put(h->data); }

/* Idle connections age out: the server would drop them anyway, and a burst
 * should not pin dozens of sockets for the life of the process. */
static void on_sweep(uv_timer_t *t)
{
    http_client *c = t->data;
    uint64_t now = uv_now(c->loop);

    while (!orc_list_empty(&c->idle)) {
        struct http_conn *conn = ORC_CONTAINER(c->idle.prev, struct http_conn, idle_link);
        if (now - conn->idle_since < HTTP_IDLE_TIMEOUT_MS) break;
        http__conn_close(conn);
    }
    if (orc_list_empty(&c->idle)) uv_timer_stop(t);
}

static int valid_hostname(const char *s, size_t n)
{
    if (n == 0 || n > 253) return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum_ascii(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_')) return 0;
    return 1;
}

/* "http[s]://HOST[:PORT][/]": HOST an IPv4 literal, a name, or [IPv6].
 * *secure tells https. */
static int parse_url(http_client *c, const char *url, int *secure)
{
    const char *h, *end, *colon;
    size_t hn;
    long port;

    if (url == NULL) return ORC_EINVAL;
    *secure = strncmp(url, "https://", 8) == 0;
    if (!*secure && strncmp(url, "http://", 7) != 0) return ORC_EINVAL;
    h = url + (*secure ? 8 : 7);
    port = *secure ? 443 : 80;
    end = h + strcspn(h, "/?#");
    if (end[0] != '\0' && strcmp(end, "/") != 0) return ORC_EINVAL;
    if (h[0] == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (rb == NULL) return ORC_EINVAL;
        colon = rb + 1 < end ? rb + 1 : NULL;
        if (colon && *colon != ':') return ORC_EINVAL;
        c->lookup_host = strndup(h + 1, (size_t)(rb - h - 1));
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        hn = (size_t)((colon ? colon : end) - h);
        if (!valid_hostname(h, hn)) return ORC_EINVAL;
        c->lookup_host = strndup(h, hn);
    }
    if (c->lookup_host == NULL) return ORC_ENOMEM;
    if (colon) {
        char *pe;
        port = strtol(colon + 1, &pe, 10);
        if (colon[1] < '0' || colon[1] > '9' || pe != end || port < 1 || port > 65535)
            return ORC_EINVAL;
    }
    c->host = strndup(h, (size_t)((colon ? colon : end) - h));
    if (c->host == NULL) return ORC_ENOMEM;
    snprintf(c->port, sizeof c->port, "%ld", port);
    if (uv_ip4_addr(c->lookup_host, (int)port, (struct sockaddr_in *)&c->addr) == 0
        || uv_ip6_addr(c->lookup_host, (int)port, (struct sockaddr_in6 *)&c->addr) == 0)
        c->literal = 1;
    else if (h[0] == '[')
        return ORC_EINVAL;
    return 0;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static int build_prefix(http_client *c, const char *token)
{
    struct orc_buf b = ORC_BUF_INIT;
    int rv = orc_buf_printf(&b, "Host: %s:%s\r\nUser-Agent: orc\r\n", c->host, c->port);

    if (rv == 0 && token) rv = orc_buf_printf(&b, "Authorization: Bearer %s\r\n", token);
    if (rv != 0) {
        if (b.data) explicit_bzero(b.data, b.cap);
        orc_buf_free(&b);
        return rv;
    }
    c->prefix = orc_buf_steal(&b, &c->prefix_len);
    return 0;
}

/* The server in use as a base URL, for http_client_server. */
static void note_url(http_client *c)
{
    snprintf(c->url, sizeof c->url, "%s://%s:%s", c->tls ? "https" : "http", c->host, c->port);
}

/* Points the client at `url` (same scheme): new connections go there, the
 * Host line of new requests names it. Nothing changes on failure. */
static int switch_to(http_client *c, const char *url)
{
    char *host = c->host, *lookup = c->lookup_host, port[sizeof c->port];
    struct sockaddr_storage addr = c->addr;
    int literal = c->literal, secure = 0, rv;
    const char *eol = memchr(c->prefix, '\n', c->prefix_len);
    struct orc_buf b = ORC_BUF_INIT;

    memcpy(port, c->port, sizeof port);
    c->host = c->lookup_host = NULL;
    c->literal = 0;
    rv = parse_url(c, url, &secure);
    if (rv == 0 && secure != (c->tls != NULL)) rv = ORC_EINVAL;
    if (rv == 0) rv = orc_buf_printf(&b, "Host: %s:%s\r\n", c->host, c->port);
    if (rv == 0 && eol) rv = orc_buf_append(&b, eol + 1, c->prefix_len - (size_t)(eol + 1 - c->prefix));
    if (rv != 0) {
        free(c->host);
        free(c->lookup_host);
        c->host = host;
        c->lookup_host = lookup;
        memcpy(c->port, port, sizeof port);
        c->addr = addr;
        c->literal = literal;
        if (b.data) explicit_bzero(b.data, b.cap);
        orc_buf_free(&b);
        return rv;
    }
    free(host);
    free(lookup);
    explicit_bzero(c->prefix, c->prefix_len); /* it holds the token */
    free(c->prefix);
    c->prefix = orc_buf_steal(&b, &c->prefix_len);
    c->server_gen++;
    note_url(c);
    return 0;
}

int http_client_set_servers(http_client *c, const char *const *urls, size_t n)
{
    char **v = n ? calloc(n + 1, sizeof *v) : NULL;
    size_t k = 0;
    int secure;

    if (n && v == NULL) return ORC_ENOMEM;
    /* the one in use first, so the order of the rest is kept around it */
    if (n && (v[k++] = strdup(c->url)) == NULL) goto nomem;
    for (size_t i = 0; i < n; i++) {
        http_client probe = {0};
        char url[sizeof c->url];
        int rv = parse_url(&probe, urls[i], &secure);
        /* the form note_url writes, so the one in use is found again */
        if (rv == 0 && (size_t)snprintf(url, sizeof url, "%s://%s:%s", secure ? "https" : "http",
                                        probe.host, probe.port) >= sizeof url)
            rv = ORC_EINVAL;
        free(probe.host);
        free(probe.lookup_host);
        if (rv != 0 || secure != (c->tls != NULL)) {
            for (size_t j = 0; j < k; j++) free(v[j]);
            free(v);
            return ORC_EINVAL;
        }
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++) dup = strcmp(v[j], url) == 0;
        if (!dup && (v[k++] = strdup(url)) == NULL) goto nomem;
    }
    servers_free(c);
    if (k > 1) {
        c->servers = v;
        c->n_servers = k;
    } else {
        for (size_t j = 0; j < k; j++) free(v[j]);
        free(v);
    }
    return 0;
nomem:
    for (size_t j = 0; j < k; j++) free(v[j]);
    free(v);
    return ORC_ENOMEM;
}

const char *http_client_server(const http_client *c) { return c->url; }

void http__call_unreachable(http_call *call, unsigned server_gen)
{
    http_client *c = call->c;

    if (c->closing || call->hops + 1 >= c->n_servers) {
        http__call_finish(call, ORC_EUNAVAIL, NULL);
        return;
    }
    /* The first call to find the server gone moves the client on; the
     * others follow it there. */
    if (server_gen == c->server_gen) {
        size_t next = (c->server + 1) % c->n_servers;
        log_info("http", "%s cannot be reached; trying %s", c->url, c->servers[next]);
        if (switch_to(c, c->servers[next]) == 0) c->server = next;
    }
    call->hops++;
    call->state = CALL_QUEUED;
    orc_list_push_head(&c->queue, &call->link);
    http__dispatch(c);
}

/* The trust of an https client: a shared context, or one made for it. */
static int tls_setup(http_client *c, const struct http_tls *tls)
{
    struct orc_tls_trust trust = {0};
    char err[ORC_TLS_ERRLEN];
    int rv;

    if (tls && tls->ctx) {
        if (tls->ca_pem || tls->ca_fingerprint || tls->insecure_skip_verify) return ORC_EINVAL;
        c->tls = orc_tls_ctx_ref(tls->ctx);
        return 0;
    }
    if (tls) {
        trust.ca_pem = tls->ca_pem;
        trust.ca_fingerprint = tls->ca_fingerprint;
        trust.insecure = tls->insecure_skip_verify != 0;
    }
    rv = orc_tls_client_ctx(&trust, &c->tls, err);
    if (rv != 0) log_debug("http", "TLS setup for %s: %s", c->host, err);
    return rv == ORC_ENOMEM ? rv : rv ? ORC_EINVAL : 0;
}

const char *http_client_tls_error(const http_client *c) { return c->tls_err; }

int http_client_new(uv_loop_t *loop, const char *base_url, const char *bearer_token,
                    http_client **out)
{
    return http_client_new_tls(loop, base_url, bearer_token, NULL, out);
}

int http_client_new_tls(uv_loop_t *loop, const char *base_url, const char *bearer_token,
                        const struct http_tls *tls, http_client **out)
{
    http_client *c;
    int rv, secure = 0;

    if (loop == NULL || out == NULL) return ORC_EINVAL;
    if (bearer_token && has_ctl(bearer_token)) return ORC_EINVAL;
    c = calloc(1, sizeof *c);
    if (c == NULL) return ORC_ENOMEM;
    c->loop = loop;
    rv = parse_url(c, base_url, &secure);
    if (rv == 0 && secure) rv = tls_setup(c, tls);
    if (rv == 0) rv = build_prefix(c, bearer_token);
    if (rv == 0 && uv_timer_init(loop, &c->sweep) != 0) rv = ORC_EIO;
    if (rv == 0) note_url(c);
    if (rv != 0) goto err;
    c->sweep.data = c;
    uv_unref((uv_handle_t *)&c->sweep);
    c->n_live = 1;
    orc_list_init(&c->queue);
    orc_list_init(&c->conns);
    orc_list_init(&c->idle);
    orc_ignore_sigpipe();
    *out = c;
    return 0;
err:
    if (c->prefix) explicit_bzero(c->prefix, c->prefix_len);
    free(c->prefix);
    free(c->host);
    free(c->lookup_host);
    orc_tls_ctx_unref(c->tls);
    free(c);
    return rv;
}

/* ---- calls ---- */

static void on_call_closed(uv_handle_t *h)
{
    http_call *call = h->data;
    http_client *c = call->c;

    free(call);
    http__live_put(c);
}

void http__call_finish(http_call *call, int err, const struct http_response *resp)
{
    call->state = CALL_DONE;
    uv_timer_stop(&call->timer);
    if (call->stream) {
        if (call->cbs.on_end) call->cbs.on_end(call->arg, err);
    } else {
        call->cb(call->arg, err, err ? NULL : resp);
    }
    uv_close((uv_handle_t *)&call->timer, on_call_closed);
}

static void on_deferred(uv_timer_t *t)
{
    http_call *call = t->data;

    http__call_finish(call, call->deferred_err, NULL);
}

/* The result is known but the callback must come from the loop, not from
 * inside the API function that learned it. */
static void call_defer(http_call *call, int err)
{
    call->state = CALL_DEFERRED;
    call->deferred_err = err;
    (void)uv_timer_start(&call->timer, on_deferred, 0, 0); /* fails only on a closing handle */
}

/* Unbinds a queued or active call; an active call's connection cannot be
 * trusted with a half-read reply, so it closes. */
static void call_detach(http_call *call)
{
    if (call->state == CALL_QUEUED) {
        orc_list_remove(&call->link);
    } else if (call->state == CALL_ACTIVE && call->conn) {
        struct http_conn *conn = call->conn;
        conn->call = NULL;
        call->conn = NULL;
        http__conn_close(conn);
    }
}

static void on_timeout(uv_timer_t *t)
{
    http_call *call = t->data;

    call_detach(call);
    http__call_finish(call, ORC_ETIMEDOUT, NULL);
}

void http_call_cancel(http_call *call)
{
    if (call == NULL || (call->state != CALL_QUEUED && call->state != CALL_ACTIVE)) return;
    call_detach(call);
    call_defer(call, ORC_ECANCELED);
}

void http__call_failed(http_call *call, int err, int retryable)
{
    http_client *c = call->c;

    if (retryable && call->idempotent && !call->retried && !c->closing) {
        log_debug("http", "%s:%s closed a pooled connection; retrying on a new one", c->host,
                  c->port);
        call->retried = 1;
        call->fresh = 1;
        call->state = CALL_QUEUED;
        orc_list_push_head(&c->queue, &call->link);
        http__dispatch(c);
        return;
    }
    http__call_finish(call, err, NULL);
}

/* ---- pool ---- */

int http_client_renew_cert(http_client *c, const char *cert_pem, const char *key_pem, char *errmsg)
{
    int rv;

    if (c->tls == NULL) return orc_errf(errmsg, ORC_TLS_ERRLEN, ORC_EINVAL, "the client does not use TLS");
    if ((rv = orc_tls_ctx_use_cert(c->tls, cert_pem, key_pem, errmsg)) != 0) return rv;
    c->tls_gen++;
    while (!orc_list_empty(&c->idle))
        http__conn_close(ORC_CONTAINER(c->idle.next, struct http_conn, idle_link));
    return 0;
}

void http__conn_idle(struct http_conn *conn)
{
    http_client *c = conn->c;

    conn->state = CONN_IDLE;
    conn->idle_since = uv_now(c->loop);
    /* Most recently used first: the warmest socket serves next, and the
     * rest age out at the tail. Idle sockets do not keep the loop alive. */
    orc_list_push_head(&c->idle, &conn->idle_link);
    uv_unref((uv_handle_t *)&conn->tcp);
    if (!uv_is_active((uv_handle_t *)&c->sweep))
        (void)uv_timer_start(&c->sweep, on_sweep, HTTP_SWEEP_MS, HTTP_SWEEP_MS);
    http__dispatch(c);
}

/* Gives queued calls connections: an idle one, else a new one under the
 * cap. A retried call wants a new connection, trading an idle one if at cap. */
static int dispatch_one(http_client *c)
{
    http_call *call = ORC_CONTAINER(c->queue.next, http_call, link);
    int rv;

    if (!call->fresh && !orc_list_empty(&c->idle)) {
        orc_list_remove(&call->link);
        if (http__conn_start(ORC_CONTAINER(c->idle.next, struct http_conn, idle_link), call) != 0) {
            call->state = CALL_QUEUED; /* that socket was dead; try the next */
            orc_list_push_head(&c->queue, &call->link);
        }
        return 1;
    }
    if (c->n_conns < HTTP_MAX_CONNS) {
        orc_list_remove(&call->link);
        rv = http__conn_open(c, call);
        if (rv != 0) call_defer(call, rv);
        return 1;
    }
    if (!orc_list_empty(&c->idle)) {
        http__conn_close(ORC_CONTAINER(c->idle.prev, struct http_conn, idle_link));
        return 1;
    }
    return 0;
}

void http__dispatch(http_client *c)
{
    if (c->dispatching) return;
    c->dispatching = 1;
    while (!c->closing && !orc_list_empty(&c->queue) && dispatch_one(c)) {}
    c->dispatching = 0;
}

static int method_is(const char *m, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(m, *list) == 0) return 1;
    return 0;
}

static int valid_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (*s == '\0') return 0;
    for (; *s; s++)
        if (!isalnum_ascii(*s) && strchr(extra, *s) == NULL) return 0;
    return 1;
}

static int valid_path(const char *s)
{
    if (s[0] != '/') return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) return 0;
    return 1;
}

/* Headers the client writes itself; a second copy would corrupt framing. */
static int reserved_header(const char *name)
{
    return strcasecmp(name, "host") == 0 || strcasecmp(name, "content-length") == 0
           || strcasecmp(name, "transfer-encoding") == 0;
}

static int validate(const struct http_request *req)
{
    if (req->method == NULL || !valid_token(req->method)) return ORC_EINVAL;
    if (req->path == NULL || !valid_path(req->path)) return ORC_EINVAL;
    if (req->body == NULL && req->body_len > 0) return ORC_EINVAL;
    if (req->content_type && has_ctl(req->content_type)) return ORC_EINVAL;
    if (req->host && (!req->host[0] || has_ctl(req->host))) return ORC_EINVAL;
    if (req->n_headers > 0 && req->headers == NULL) return ORC_EINVAL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name == NULL || h->value == NULL || !valid_token(h->name) || has_ctl(h->value)
            || reserved_header(h->name))
            return ORC_EINVAL;
    }
    if (req->body_len > HTTP_MAX_BODY) return ORC_ETOOBIG;
    return 0;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_str(char *p, const char *s) { return put(p, s, strlen(s)); }

/* Lays the request out in one block after the call struct: one allocation
 * and one write per request. */
static int call_new(http_client *c, const struct http_request *req, http_call **out)
{
    static const char *const with_length[] = {"POST", "PUT", "PATCH", NULL};
    static const char *const idempotent[] = {"GET", "HEAD", "PUT", "DELETE", NULL};
    char clen[48] = "";
    size_t n = strlen(req->method) + strlen(req->path) + 12 + c->prefix_len + 2;
    /* The prefix opens with the URL's Host line; a given host replaces it. */
    const char *eol = memchr(c->prefix, '\n', c->prefix_len);
    size_t skip = req->host && eol ? (size_t)(eol + 1 - c->prefix) : 0;
    http_call *call;
    char *p;

    if (req->body_len > 0 || req->body || method_is(req->method, with_length))
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", req->body_len);
    n += strlen(clen) + req->body_len;
    if (skip) n += strlen(req->host) + 8;
    if (req->content_type) n += 16 + strlen(req->content_type);
    for (size_t i = 0; i < req->n_headers; i++)
        n += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 4;
    call = malloc(sizeof *call + n);
    if (call == NULL) return ORC_ENOMEM;
    memset(call, 0, sizeof *call);
    p = put_str(call->req, req->method);
    p = put(p, " ", 1);
    p = put_str(p, req->path);
    p = put(p, " HTTP/1.1\r\n", 11);
    if (skip) {
        p = put(p, "Host: ", 6);
        p = put_str(p, req->host);
        p = put(p, "\r\n", 2);
    }
    p = put(p, c->prefix + skip, c->prefix_len - skip);
    if (req->content_type) {
        p = put(p, "Content-Type: ", 14);
        p = put_str(p, req->content_type);
        p = put(p, "\r\n", 2);
    }
    p = put_str(p, clen);
    for (size_t i = 0; i < req->n_headers; i++) {
        p = put_str(p, req->headers[i].name);
        p = put(p, ": ", 2);
        p = put_str(p, req->headers[i].value);
        p = put(p, "\r\n", 2);
    }
    p = put(p, "\r\n", 2);
    if (req->body_len > 0) p = put(p, req->body, req->body_len);
    call->req_len = (size_t)(p - call->req);
    call->c = c;
    call->idempotent = method_is(req->method, idempotent);
    call->head = strcmp(req->method, "HEAD") == 0;
    *out = call;
    return 0;
}

static int call_submit(http_client *c, const struct http_request *req, http_call *call)
{
    if (uv_timer_init(c->loop, &call->timer) != 0) {
        free(call);
        return ORC_EIO;
    }
    call->timer.data = call;
    c->n_live++;
    if (req->timeout_ms > 0) (void)uv_timer_start(&call->timer, on_timeout, req->timeout_ms, 0);
    call->state = CALL_QUEUED;
    orc_list_push(&c->queue, &call->link);
    http__dispatch(c);
    return 0;
}

static int call_create(http_client *c, const struct http_request *req, http_call **out)
{
    int rv;

    if (c == NULL || req == NULL) return ORC_EINVAL;
    if (c->closing) return ORC_ESHUTDOWN;
    rv = validate(req);
    if (rv == 0) rv = call_new(c, req, out);
    return rv;
}

int http_request(http_client *c, const struct http_request *req, http_response_cb cb, void *arg,
                 http_call **out)
{
    http_call *call;
    int rv;

    if (cb == NULL) return ORC_EINVAL;
    rv = call_create(c, req, &call);
    if (rv != 0) return rv;
    call->cb = cb;
    call->arg = arg;
    rv = call_submit(c, req, call);
    if (rv == 0 && out) *out = call;
    return rv;
}

int http_stream(http_client *c, const struct http_request *req, const struct http_stream_cbs *cbs,
                void *arg, http_call **out)
{
    http_call *call;
    int rv;

    if (cbs == NULL) return ORC_EINVAL;
    rv = call_create(c, req, &call);
    if (rv != 0) return rv;
    call->stream = 1;
    call->cbs = *cbs;
    call->arg = arg;
    rv = call_submit(c, req, call);
    if (rv == 0 && out) *out = call;
    return rv;
}

void http_client_close(http_client *c, void (*cb)(void *arg), void *arg)
{
    if (c == NULL || c->closing) return;
    c->closing = 1;
    c->close_cb = cb;
    c->close_arg = arg;
    while (!orc_list_empty(&c->queue)) {
        http_call *call = ORC_CONTAINER(c->queue.next, http_call, link);
        call_detach(call);
        call_defer(call, ORC_ECANCELED);
    }
    while (!orc_list_empty(&c->conns)) {
        struct http_conn *conn = ORC_CONTAINER(c->conns.next, struct http_conn, all_link);
        http_call *call = conn->call;
        if (call) {
            call_detach(call);
            call_defer(call, ORC_ECANCELED);
        } else {
            http__conn_close(conn);
        }
    }
    uv_close((uv_handle_t *)&c->sweep, on_sweep_closed);
}
