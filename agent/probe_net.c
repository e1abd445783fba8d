/* probe_net.c — httpGet and tcpSocket attempts: a raw uv_tcp connection
 * with a timeout; for HTTP(S) a minimal "Connection: close" GET whose
 * status line alone decides (200-399 succeeds). HTTPS is not verified, as
 * Kubernetes does not verify probe certificates. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/probe_int.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define ERRLEN 256
#define MAX_STATUS_LINE 4096

struct probe_attempt {
    probe *p;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect;
    struct orc_tls *tls;
    struct orc_buf in; /* plaintext of the reply so far */
    char rbuf[4096];
    int open;          /* handles not yet closed */
    bool done;
};

struct write_op {
    uv_write_t req;
    struct probe_attempt *a;
    char *data;
};

/* ---- the attempt's life ---- */

static void on_closed(uv_handle_t *h)
{
    struct probe_attempt *a = h->data;
    probe *p = a->p;

    if (--a->open > 0) return;
    orc_tls_free(a->tls);
    orc_buf_free(&a->in);
    free(a);
    probe_release(p);
}

/* Ends the attempt (once): closes it and, when `record`, counts the outcome. */
static void finish(struct probe_attempt *a, bool record, bool ok, const char *msg)
{
    probe *p = a->p;

    if (a->done) return;
    a->done = true;
    if (p->cur == a) p->cur = NULL;
    uv_close((uv_handle_t *)&a->tcp, on_closed);
    uv_close((uv_handle_t *)&a->timer, on_closed);
    if (record) probe_record(p, ok, msg);
}

/* A failed attempt; HTTP messages name the URL as Go's client does. */
static void fail(struct probe_attempt *a, const char *what)
{
    char msg[PROBE_MSG_LEN];

    if (a->p->cfg.kind == PROBE_HTTP) snprintf(msg, sizeof msg, "Get \"%s\": %s", a->p->url, what);
    else snprintf(msg, sizeof msg, "%s", what);
    finish(a, true, false, msg);
}

static void fail_io(struct probe_attempt *a, const char *op, int uverr)
{
    char what[PROBE_MSG_LEN];

    snprintf(what, sizeof what, "%s tcp %s: %s%s", op, a->p->hostport,
             strcmp(op, "dial") == 0 ? "connect: " : "", uv_strerror(uverr));
    fail(a, what);
}

static void on_timeout(uv_timer_t *t) { finish(t->data, true, false, "timeout"); }

/* ---- HTTP ---- */

static void on_written(uv_write_t *req, int status)
{
    struct write_op *w = req->data;

    if (status < 0 && status != UV_ECANCELED) fail_io(w->a, "write", status);
    free(w->data);
    free(w);
}

/* Sends `data` (malloc'd; taken). */
static int send_raw(struct probe_attempt *a, char *data, size_t len)
{
    struct write_op *w = malloc(sizeof *w);
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rv;

    if (w == NULL) {
        free(data);
        return UV_ENOMEM;
    }
    w->a = a;
    w->data = data;
    w->req.data = w;
    if ((rv = uv_write(&w->req, (uv_stream_t *)&a->tcp, &b, 1, on_written)) != 0) {
        free(data);
        free(w);
    }
    return rv;
}

static int flush_tls(struct probe_attempt *a)
{
    size_t len;
    char *out;

    if (orc_tls_pending(a->tls) == 0) return 0;
    if ((out = orc_tls_take(a->tls, &len)) == NULL) return UV_ENOMEM;
    return send_raw(a, out, len);
}

/* Decides once the status line is in. */
static void check_status(struct probe_attempt *a)
{
    char msg[64];
    int minor, code;

    if (a->in.len == 0 || memchr(a->in.data, '\n', a->in.len) == NULL) {
        if (a->in.len > MAX_STATUS_LINE) fail(a, "malformed HTTP response");
        return;
    }
    if (sscanf(a->in.data, "HTTP/1.%d %3d", &minor, &code) != 2 || code < 100 || code > 999) {
        fail(a, "malformed HTTP response");
        return;
    }
    snprintf(msg, sizeof msg, "HTTP probe failed with statuscode: %d", code);
    finish(a, true, code >= 200 && code < 400, msg);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct probe_attempt *a = h->data;

    (void)suggested;
    *buf = uv_buf_init(a->rbuf, sizeof a->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct probe_attempt *a = s->data;
    int rv;

    if (a->done || n == 0) return;
    if (n < 0) {
        if (n == UV_EOF) fail(a, "EOF");
        else fail_io(a, "read", (int)n);
        return;
    }
    if (a->tls == NULL) rv = orc_buf_append(&a->in, buf->base, (size_t)n);
    else if ((rv = orc_tls_recv(a->tls, buf->base, (size_t)n, &a->in)) != 0) {
        fail(a, orc_tls_errmsg(a->tls));
        return;
    } else rv = flush_tls(a);
    if (rv != 0) fail(a, "out of memory");
    else check_status(a);
}

static void send_request(struct probe_attempt *a)
{
    probe *p = a->p;
    char *copy;
    int rv;

    if (p->tls) {
        rv = orc_tls_new(p->tls, p->host, &a->tls) != 0
                     || orc_tls_send(a->tls, p->request.data, p->request.len) != 0
                 ? UV_ENOMEM
                 : flush_tls(a);
    } else if ((copy = malloc(p->request.len)) == NULL) {
        rv = UV_ENOMEM;
    } else {
        memcpy(copy, p->request.data, p->request.len);
        rv = send_raw(a, copy, p->request.len);
    }
    if (rv == 0) rv = uv_read_start((uv_stream_t *)&a->tcp, on_alloc, on_read);
    if (rv != 0) fail_io(a, "write", rv);
}

/* ---- connecting ---- */

static void on_connect(uv_connect_t *req, int status)
{
    struct probe_attempt *a = req->data;

    if (a->done) return;
    if (status < 0) fail_io(a, "dial", status);
    else if (a->p->cfg.kind == PROBE_TCP) finish(a, true, true, "");
    else send_request(a);
}

void probe_net_attempt(probe *p)
{
    struct probe_attempt *a = calloc(1, sizeof *a);
    int rv;

    if (a == NULL) {
        probe_record(p, false, "out of memory");
        return;
    }
    a->p = p;
    if ((rv = uv_tcp_init(p->loop, &a->tcp)) != 0) {
        free(a);
        probe_record(p, false, uv_strerror(rv));
        return;
    }
    uv_timer_init(p->loop, &a->timer);
    a->tcp.data = a->timer.data = a->connect.data = a;
    a->open = 2;
    p->pending++;
    p->cur = a;
    uv_timer_start(&a->timer, on_timeout, p->cfg.timeout_ms, 0);
    if ((rv = uv_tcp_connect(&a->connect, &a->tcp, (struct sockaddr *)&p->addr, on_connect)) != 0)
        fail_io(a, "dial", rv);
}

void probe_net_abort(probe *p)
{
    if (p->cur) finish(p->cur, false, false, NULL);
}

/* ---- set-up ---- */

static int build_request(probe *p)
{
    const struct probe_cfg *c = &p->cfg;
    int rv = orc_buf_printf(&p->request, "GET %s HTTP/1.1\r\n", c->path);

    if (rv == 0 && !c->set_host) rv = orc_buf_printf(&p->request, "Host: %s\r\n", p->hostport);
    if (rv == 0 && !c->set_agent) rv = orc_buf_puts(&p->request, "User-Agent: orc-probe/1\r\n");
    if (rv == 0 && !c->set_accept) rv = orc_buf_puts(&p->request, "Accept: */*\r\n");
    if (rv == 0 && c->headers.len) rv = orc_buf_append(&p->request, c->headers.data, c->headers.len);
    if (rv == 0) rv = orc_buf_puts(&p->request, "Connection: close\r\n\r\n");
    return rv;
}

static int set_addr(probe *p, const char *host)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)&p->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p->addr;

    memset(&p->addr, 0, sizeof p->addr);
    snprintf(p->host, sizeof p->host, "%s", host);
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p->cfg.port);
        snprintf(p->hostport, sizeof p->hostport, "%s:%d", host, p->cfg.port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p->cfg.port);
        snprintf(p->hostport, sizeof p->hostport, "[%s]:%d", host, p->cfg.port);
        return 0;
    }
    return ORC_EINVAL;
}

int probe_net_prepare(probe *p, const char *target_ip, char *errmsg)
{
    const char *host = p->cfg.host ? p->cfg.host : target_ip;
    const char *kind = p->cfg.kind == PROBE_HTTP ? "httpGet" : "tcpSocket";
    struct orc_tls_trust trust = {.insecure = true};
    struct orc_buf url = ORC_BUF_INIT;

    if (host == NULL || *host == '\0')
        return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "%s: no host and no pod IP to probe", kind);
    if (set_addr(p, host) != 0)
        return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "%s: \"%s\" is not an IP address", kind, host);
    if (p->cfg.kind == PROBE_TCP) return 0;
    if (orc_buf_printf(&url, "%s://%s%s", p->cfg.https ? "https" : "http", p->hostport, p->cfg.path) != 0
        || build_request(p) != 0) {
        orc_buf_free(&url);
        return orc_errf(errmsg, ERRLEN, ORC_ENOMEM, "out of memory");
    }
    p->url = url.data;
    if (p->cfg.https) return orc_tls_client_ctx(&trust, &p->tls, errmsg);
    return 0;
}

void probe_net_free(probe *p)
{
    orc_tls_ctx_unref(p->tls);
    free(p->url);
    orc_buf_free(&p->request);
}
