/* proxy.c — the node's Ingress HTTP proxy (see proxy.h): lib/httpd in
 * front, a client/http pool per endpoint behind, TLS certificates by SNI. */
#include "ingress/proxy.h"

#include <llhttp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/http.h"
#include "lib/hmap.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define MOD "ingress"
#define MAX_FWD_HEADERS (ORC_HTTPD_MAX_HEADERS + 6)
#define STREAM_QUEUE (1u << 20) /* response bytes waiting on one slow client */
/* Answers up to this size (by their Content-Length) go out whole: one
 * write instead of a chunked head, chunks and the last chunk. */
#define WHOLE_MAX (64u << 10)

struct pool {
    struct orc_hnode node;
    char key[64]; /* "10.0.0.1:8080" */
    http_client *client;
    bool used; /* named by the current table (a sweep mark) */
};

struct cert {
    char *ns, *name;
    struct orc_tls_ctx *ctx;
};

struct listener {
    struct ingress_proxy *p;
    struct orc_httpd *h;
    bool tls;
    int port;
};

struct ingress_proxy {
    uv_loop_t *loop;
    struct listener plain, secure;
    struct ingress_table *table;
    struct orc_tls_ctx *fallback;
    struct cert *certs;
    size_t n_certs;
    struct orc_hmap pools;
    unsigned upstream_timeout_ms;
    uint64_t requests;
    uint64_t table_gen; /* counts set_table calls: an op's backend is valid while equal */
    int closing; /* closes under way */
    bool stopping;
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

/* One request on its way through. */
struct op {
    struct ingress_proxy *p;
    struct listener *l;
    struct ingress_backend *be; /* of table generation gen */
    uint64_t gen;
    unsigned tries;             /* endpoints tried before this one */
    struct orc_httpd_req *req;
    http_call *call;
    char upstream[64];
    bool started;  /* the reply's head went to the client */
    bool bodiless; /* HEAD, 204, 304: answered whole at the end */
    bool whole;    /* a small body of known length: gathered, sent in one write */
    int status;
    char *ctype;   /* the upstream's Content-Type of a whole answer */
    struct orc_buf body;
};

static void op_free(struct op *op)
{
    orc_buf_free(&op->body);
    free(op->ctype);
    free(op);
}

/* ---- answers of the proxy's own ---- */

static void reply_text(struct orc_httpd_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_text(struct orc_httpd_req *req, int status, const char *fmt, ...)
{
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof body) n = sizeof body - 1;
    orc_httpd_respond(req, status, "text/plain; charset=utf-8", body, (size_t)n, NULL);
}

/* ---- hop-by-hop headers (RFC 9110 7.6.1) are not forwarded ---- */

static bool hop_by_hop(const char *name)
{
    static const char *const hop[] = {"connection", "keep-alive", "proxy-connection", "te",
                                      "trailer", "transfer-encoding", "upgrade",
                                      "content-length", "host", NULL};
    for (int i = 0; hop[i]; i++)
        if (strcasecmp(name, hop[i]) == 0) return true;
    return false;
}

/* ---- upstream pools ---- */

static void closed(void *arg);

static void pool_close(struct ingress_proxy *p, struct pool *pl)
{
    orc_hmap_del(&p->pools, &pl->node);
    p->closing++;
    http_client_close(pl->client, closed, p);
    free(pl);
}

static void endpoint_key(const struct ingress_endpoint *ep, char *out, size_t n)
{
    if (strchr(ep->ip, ':')) snprintf(out, n, "[%s]:%d", ep->ip, ep->port);
    else snprintf(out, n, "%s:%d", ep->ip, ep->port);
}

static struct pool *pool_get(struct ingress_proxy *p, const struct ingress_endpoint *ep)
{
    char key[64], url[80];
    struct orc_hnode *n;
    struct pool *pl;

    endpoint_key(ep, key, sizeof key);
    if ((n = orc_hmap_get(&p->pools, key))) return (struct pool *)n;
    if (!(pl = calloc(1, sizeof *pl))) return NULL;
    snprintf(pl->key, sizeof pl->key, "%s", key);
    snprintf(url, sizeof url, "http://%s", key);
    if (http_client_new(p->loop, url, NULL, &pl->client) != 0) {
        free(pl);
        return NULL;
    }
    pl->node.key = pl->key;
    pl->used = true;
    if (orc_hmap_put(&p->pools, &pl->node) != 0) {
        http_client_close(pl->client, NULL, NULL);
        free(pl);
        return NULL;
    }
    return pl;
}

/* ---- the upstream's answer, streamed to the client ---- */

static void begin_stream(struct op *op, const char *ctype)
{
    if (orc_httpd_stream_begin(op->req, op->status, ctype) != 0) {
        http_call_cancel(op->call);
        return;
    }
    op->started = true;
}

static void on_up_head(void *arg, const struct http_response *resp)
{
    struct op *op = arg;
    struct orc_httpd_req *req = op->req;
    const char *ctype = http_header_get(resp, "content-type");

    op->status = resp->status;
    op->bodiless = req->method == HTTP_HEAD || resp->status == 204 || resp->status == 304
                   || (resp->status >= 100 && resp->status < 200);
    req->proxy = true;
    for (size_t i = 0; i < resp->n_headers; i++) {
        const struct http_header *h = &resp->headers[i];
        if (hop_by_hop(h->name) || strcasecmp(h->name, "content-type") == 0) continue;
        (void)orc_httpd_req_add_header(req, h->name, strlen(h->name), h->value, strlen(h->value));
    }
    if (op->bodiless) {
        if (ctype) (void)orc_httpd_req_add_header(req, "Content-Type", 12, ctype, strlen(ctype));
        return;
    }
    const char *cl = http_header_get(resp, "content-length");
    if (cl && strtoull(cl, NULL, 10) <= WHOLE_MAX && (!ctype || (op->ctype = strdup(ctype)))) {
        op->whole = true;
        return;
    }
    begin_stream(op, ctype);
}

static void on_up_data(void *arg, const char *data, size_t len)
{
    struct op *op = arg;
    if (len == 0) return;
    if (op->whole && op->body.len + len <= WHOLE_MAX) {
        if (orc_buf_append(&op->body, data, len) != 0) http_call_cancel(op->call);
        return;
    }
    if (op->whole) { /* more than it announced: stream what came and what comes */
        op->whole = false;
        begin_stream(op, op->ctype);
        if (op->started && op->body.len
            && orc_httpd_stream_write(op->req, op->body.data, op->body.len, STREAM_QUEUE) != 0)
            http_call_cancel(op->call);
    }
    if (!op->started) return;
    if (orc_httpd_stream_write(op->req, data, len, STREAM_QUEUE) != 0) http_call_cancel(op->call);
}

static void forward(struct listener *l, struct orc_httpd_req *req, struct ingress_backend *be,
                    unsigned tries);

/* The request never reached the upstream (connect refused or timed out):
 * the next endpoint may take it, as nginx's proxy_next_upstream does,
 * once per endpoint of the backend, while the table has not changed. */
static bool try_next(struct op *op, int err)
{
    struct orc_httpd_req *req = op->req;
    if (err != ORC_EUNAVAIL || op->started || orc_httpd_req_gone(req) || op->gen != op->p->table_gen
        || op->tries + 1 >= op->be->n_eps)
        return false;
    log_debug(MOD, "upstream %s unreachable: trying the next endpoint", op->upstream);
    struct listener *l = op->l;
    struct ingress_backend *be = op->be;
    unsigned tries = op->tries + 1;
    req->op = NULL;
    req->on_gone = NULL;
    op_free(op);
    forward(l, req, be, tries);
    return true;
}

static void on_up_end(void *arg, int err)
{
    struct op *op = arg;
    struct orc_httpd_req *req = op->req;

    op->call = NULL;
    if (try_next(op, err)) return;
    if (op->started) {
        if (err == 0) orc_httpd_stream_end(req);
        else orc_httpd_stream_abort(req);
    } else if (err == 0 && op->bodiless) {
        orc_httpd_respond(req, op->status, NULL, "", 0, NULL);
    } else if (err == 0 && op->whole) {
        orc_httpd_respond(req, op->status, op->ctype, op->body.data ? op->body.data : "",
                          op->body.len, NULL);
    } else if (orc_httpd_req_gone(req)) {
        orc_httpd_respond(req, 502, NULL, "", 0, NULL); /* only frees it */
    } else if (err == ORC_ETIMEDOUT) {
        log_debug(MOD, "upstream %s timed out", op->upstream);
        req->proxy = false;
        orc_buf_reset(&req->warnings);
        reply_text(req, 504, "upstream %s did not answer in time\n", op->upstream);
    } else {
        log_debug(MOD, "upstream %s: %s", op->upstream, orc_strerror(err));
        req->proxy = false;
        orc_buf_reset(&req->warnings);
        reply_text(req, 502, "upstream %s failed: %s\n", op->upstream, orc_strerror(err));
    }
    op->req = NULL;
    op_free(op);
}

static void on_client_gone(struct orc_httpd_req *req)
{
    struct op *op = req->op;
    if (op && op->call) http_call_cancel(op->call);
}

/* ---- forwarding ---- */

static size_t forward_headers(const struct orc_httpd_req *req, bool tls, int port,
                              struct http_header *out, char *xff, size_t xff_len, char *xport)
{
    const char *peer = orc_httpd_req_peer(req), *prior = orc_httpd_req_header(req, "x-forwarded-for");
    const char *host = orc_httpd_req_header(req, "host");
    size_t n = 0;

    for (int i = 0; i < req->n_headers && n < ORC_HTTPD_MAX_HEADERS; i++) {
        const char *name = req->headers[i].name;
        if (hop_by_hop(name) || strncmp(name, "x-forwarded-", 12) == 0
            || strcmp(name, "x-real-ip") == 0)
            continue;
        out[n++] = (struct http_header){name, req->headers[i].value};
    }
    if (prior && prior[0]) snprintf(xff, xff_len, "%s, %s", prior, peer);
    else snprintf(xff, xff_len, "%s", peer);
    snprintf(xport, 8, "%d", port);
    out[n++] = (struct http_header){"X-Forwarded-For", xff};
    out[n++] = (struct http_header){"X-Real-IP", peer};
    out[n++] = (struct http_header){"X-Forwarded-Proto", tls ? "https" : "http"};
    out[n++] = (struct http_header){"X-Forwarded-Port", xport};
    if (host) out[n++] = (struct http_header){"X-Forwarded-Host", host};
    return n;
}

static void forward(struct listener *l, struct orc_httpd_req *req, struct ingress_backend *be,
                    unsigned tries)
{
    struct ingress_proxy *p = l->p;
    struct http_header hs[MAX_FWD_HEADERS];
    char xff[1024], xport[8];
    const struct ingress_endpoint *ep = ingress_backend_pick(be);
    struct pool *pl = ep ? pool_get(p, ep) : NULL;
    struct op *op = pl ? calloc(1, sizeof *op) : NULL;
    static const struct http_stream_cbs cbs = {on_up_head, on_up_data, on_up_end};

    if (!op) {
        reply_text(req, 502, "out of memory reaching the upstream\n");
        return;
    }
    op->p = p;
    op->l = l;
    op->be = be;
    op->gen = p->table_gen;
    op->tries = tries;
    op->req = req;
    snprintf(op->upstream, sizeof op->upstream, "%s", pl->key);
    struct http_request hr = {
        .method = llhttp_method_name(req->method),
        .path = req->target,
        .body = req->body.len ? req->body.data : NULL,
        .body_len = req->body.len,
        .headers = hs,
        .n_headers = forward_headers(req, l->tls, l->port, hs, xff, sizeof xff, xport),
        .timeout_ms = p->upstream_timeout_ms,
        .host = orc_httpd_req_header(req, "host"),
    };
    req->op = op; /* not op_free: the upstream call's end frees it */
    req->on_gone = on_client_gone;
    int rc = http_stream(pl->client, &hr, &cbs, op, &op->call);
    if (rc != 0) {
        req->op = NULL;
        req->on_gone = NULL;
        free(op);
        reply_text(req, 502, "cannot forward to upstream %s: %s\n", pl->key, orc_strerror(rc));
    }
}

static void handle(void *arg, struct orc_httpd_req *req)
{
    struct listener *l = arg;
    struct ingress_proxy *p = l->p;
    const char *host = orc_httpd_req_header(req, "host");
    struct ingress_backend *be = p->table ? ingress_route(p->table, host, req->target) : NULL;

    p->requests++;
    if (!be) {
        reply_text(req, 404, "no Ingress rule matches host \"%.200s\" and path \"%.200s\"\n",
                   host ? host : "", req->target);
    } else if (!be->service[0]) {
        reply_text(req, 503, "the Ingress backend is a resource, which orc does not serve\n");
    } else if (!be->service_found) {
        char port[32];
        if (be->port_name) snprintf(port, sizeof port, "%s", be->port_name);
        else snprintf(port, sizeof port, "%d", be->port_number);
        reply_text(req, 503, "service %s/%s does not exist or has no port %s\n", be->ns,
                   be->service, port);
    } else if (be->n_eps == 0) {
        reply_text(req, 503, "no ready endpoint for service %s/%s\n", be->ns, be->service);
    } else {
        forward(l, req, be, 0);
    }
}

/* ---- certificates ---- */

static void certs_free(struct cert *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cs[i].ns);
        free(cs[i].name);
        orc_tls_ctx_unref(cs[i].ctx);
    }
    free(cs);
}

static struct orc_tls_ctx *sni_choose(void *arg, const char *name)
{
    struct ingress_proxy *p = arg;
    const char *ns, *secret;

    if (!p->table || !name || !ingress_tls_secret(p->table, name, &ns, &secret)) return NULL;
    for (size_t i = 0; i < p->n_certs; i++)
        if (strcmp(p->certs[i].ns, ns) == 0 && strcmp(p->certs[i].name, secret) == 0)
            return p->certs[i].ctx;
    return NULL;
}

struct load {
    struct ingress_proxy *p;
    ingress_secret_fn secret;
    void *arg;
    struct cert *cs;
    size_t n;
};

static void load_cert(void *arg, const char *ns, const char *name)
{
    struct load *ld = arg;
    const char *crt, *key;
    char err[ORC_TLS_ERRLEN] = "";
    struct orc_tls_ctx *ctx;
    struct cert *cs;

    if (!ld->secret || !ld->secret(ld->arg, ns, name, &crt, &key)) {
        log_warn(MOD, "TLS secret %s/%s is missing or not of type kubernetes.io/tls", ns, name);
        return;
    }
    if (orc_tls_server_ctx(crt, key, &ctx, err) != 0) {
        log_warn(MOD, "TLS secret %s/%s: %s", ns, name, err);
        return;
    }
    if (!(cs = realloc(ld->cs, (ld->n + 1) * sizeof *cs))) {
        orc_tls_ctx_unref(ctx);
        return;
    }
    ld->cs = cs;
    cs[ld->n] = (struct cert){strdup(ns), strdup(name), ctx};
    if (!cs[ld->n].ns || !cs[ld->n].name) {
        free(cs[ld->n].ns);
        free(cs[ld->n].name);
        orc_tls_ctx_unref(ctx);
        return;
    }
    ld->n++;
}

/* ---- table ---- */

static void mark_unused(struct ingress_proxy *p)
{
    struct orc_hnode *n;
    for (n = orc_hmap_first(&p->pools); n; n = orc_hmap_next(&p->pools, n))
        ((struct pool *)n)->used = false;
}

void ingress_proxy_set_table(struct ingress_proxy *p, struct ingress_table *t,
                             ingress_secret_fn secret, void *arg)
{
    struct load ld = {p, secret, arg, NULL, 0};
    struct orc_hnode *n, *next;

    ingress_tls_each(t, load_cert, &ld);
    certs_free(p->certs, p->n_certs);
    p->certs = ld.cs;
    p->n_certs = ld.n;
    ingress_table_free(p->table);
    p->table = t;
    p->table_gen++;
    /* Close the pools of endpoints no backend has any more. */
    mark_unused(p);
    for (size_t b = 0; b < ingress_table_backends(t); b++) {
        const struct ingress_backend *be = ingress_table_backend(t, b);
        for (size_t i = 0; i < be->n_eps; i++) {
            char key[64];
            endpoint_key(&be->eps[i], key, sizeof key);
            if ((n = orc_hmap_get(&p->pools, key))) ((struct pool *)n)->used = true;
        }
    }
    for (n = orc_hmap_first(&p->pools); n; n = next) {
        next = orc_hmap_next(&p->pools, n);
        if (!((struct pool *)n)->used) pool_close(p, (struct pool *)n);
    }
}

/* ---- start, stop ---- */

static int make_fallback(struct ingress_proxy *p, const struct ingress_proxy_config *cfg,
                         char *errmsg)
{
    char err[ORC_TLS_ERRLEN] = "", *crt = NULL, *key = NULL;
    int rc;

    if (cfg->fallback_cert_pem && cfg->fallback_key_pem) {
        rc = orc_tls_server_ctx(cfg->fallback_cert_pem, cfg->fallback_key_pem, &p->fallback, err);
    } else {
        rc = orc_tls_make_ca("orc ingress fallback", 3650, &crt, &key, err);
        if (rc == 0) rc = orc_tls_server_ctx(crt, key, &p->fallback, err);
        if (key) explicit_bzero(key, strlen(key));
        free(crt);
        free(key);
    }
    if (rc != 0) return orc_errf(errmsg, 256, rc, "ingress fallback certificate: %s", err);
    orc_tls_ctx_set_sni(p->fallback, sni_choose, p);
    return 0;
}

static int listen_one(struct ingress_proxy *p, struct listener *l, const char *addr, int port,
                      bool tls, const struct ingress_proxy_config *cfg, char *errmsg)
{
    struct orc_httpd_tls t = {.ctx = p->fallback};
    char listen[128];
    struct orc_httpd_config hc = {
        .listen = listen, .tls = tls ? &t : NULL, .handler = handle, .arg = l,
        .limits = {.idle_timeout_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms : 60000,
                   .header_timeout_ms = cfg->header_timeout_ms ? cfg->header_timeout_ms : 10000,
                   .stream_queue = STREAM_QUEUE},
        .log_module = MOD,
    };

    l->p = p;
    l->tls = tls;
    l->port = -1;
    if (port <= 0) return 0;
    snprintf(listen, sizeof listen, strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, port);
    int rc = orc_httpd_start(p->loop, &hc, &l->h, errmsg);
    if (rc == 0) l->port = orc_httpd_port(l->h);
    return rc;
}

int ingress_proxy_start(uv_loop_t *loop, const struct ingress_proxy_config *cfg,
                        struct ingress_proxy **out, char *errmsg)
{
    struct ingress_proxy *p = calloc(1, sizeof *p);
    int rc;

    if (!p) return orc_errf(errmsg, 256, ORC_ENOMEM, "out of memory");
    p->loop = loop;
    p->upstream_timeout_ms = cfg->upstream_timeout_ms ? cfg->upstream_timeout_ms : 60000;
    if (cfg->https_port > 0 && (rc = make_fallback(p, cfg, errmsg)) != 0) {
        ingress_proxy_stop(p, NULL, NULL);
        return rc;
    }
    /* One listener that cannot open (its port taken) leaves the other. */
    int rc_plain = listen_one(p, &p->plain, cfg->address, cfg->http_port, false, cfg, errmsg);
    if (rc_plain != 0) log_warn(MOD, "HTTP on %s:%d: %s", cfg->address, cfg->http_port, errmsg);
    rc = listen_one(p, &p->secure, cfg->address, cfg->https_port, true, cfg, errmsg);
    if (rc != 0) log_warn(MOD, "HTTPS on %s:%d: %s", cfg->address, cfg->https_port, errmsg);
    if (!p->plain.h && !p->secure.h) {
        ingress_proxy_stop(p, NULL, NULL);
        return rc ? rc : rc_plain ? rc_plain : orc_errf(errmsg, 256, ORC_EINVAL, "no port to listen on");
    }
    *out = p;
    return 0;
}

int ingress_proxy_http_port(const struct ingress_proxy *p) { return p->plain.port; }
int ingress_proxy_https_port(const struct ingress_proxy *p) { return p->secure.port; }
uint64_t ingress_proxy_requests(const struct ingress_proxy *p) { return p->requests; }

/* One close finished: pools dropped while running, or the parts of a stop. */
static void closed(void *arg)
{
    struct ingress_proxy *p = arg;
    void (*cb)(void *) = p->stop_cb;
    void *cb_arg = p->stop_arg;

    if (--p->closing > 0 || !p->stopping) return;
    ingress_table_free(p->table);
    certs_free(p->certs, p->n_certs);
    orc_tls_ctx_unref(p->fallback);
    orc_hmap_free(&p->pools);
    free(p);
    if (cb) cb(cb_arg);
}

void ingress_proxy_stop(struct ingress_proxy *p, void (*cb)(void *arg), void *arg)
{
    struct orc_hnode *n, *next;

    p->stopping = true;
    p->stop_cb = cb;
    p->stop_arg = arg;
    p->closing++; /* held until every close below was started */
    for (n = orc_hmap_first(&p->pools); n; n = next) {
        next = orc_hmap_next(&p->pools, n);
        orc_hmap_del(&p->pools, n);
        p->closing++;
        http_client_close(((struct pool *)n)->client, closed, p);
        free(n);
    }
    if (p->plain.h) p->closing++, orc_httpd_stop(p->plain.h, closed, p);
    if (p->secure.h) p->closing++, orc_httpd_stop(p->secure.h, closed, p);
    closed(p);
}
