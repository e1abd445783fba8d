/* serve.c — the agent's logs/exec port: the HTTP(S) transport of the API
 * server (lib/httpd.c) with a small router, bearer-token checks and
 * Kubernetes Status errors. Logs are in serve_logs.c, exec in serve_exec.c. */
#include <llhttp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/serve_int.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/url.h"

#define ERRLEN 256
#define MOD "serve"
#define SERVE_MAX_CONNS 1024

/* ---- answers ---- */

void serve_status(struct orc_httpd_req *r, int code, const char *reason, const char *fmt, ...)
{
    struct orc_buf msg = ORC_BUF_INIT;
    json_t *st;
    char *body;
    va_list ap;

    va_start(ap, fmt);
    orc_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1",
                   "metadata", "status", "Failure", "message", msg.data ? msg.data : "", "reason",
                   reason, "code", code);
    body = st ? json_dumps(st, JSON_COMPACT) : NULL;
    if (body) orc_httpd_respond(r, code, "application/json", body, strlen(body), NULL);
    else orc_httpd_respond(r, 500, "text/plain", "out of memory", 13, NULL);
    free(body);
    json_decref(st);
    orc_buf_free(&msg);
}

int serve_find(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref, bool previous,
               char *id, char *log_path)
{
    int rv = s->cbs.find(s->arg, ref->ns, ref->pod, ref->container, previous, id, SERVE_ID_LEN,
                         log_path, SERVE_PATH_LEN);

    if (rv == ORC_EINVAL)
        serve_status(r, 400, "BadRequest", "previous terminated container \"%s\" in pod \"%s\" not found",
                     ref->container, ref->pod);
    else if (rv == ORC_EUNAVAIL)
        serve_status(r, 400, "BadRequest", "container \"%s\" in pod \"%s\" is waiting to start",
                     ref->container, ref->pod);
    else if (rv == ORC_ENOENT)
        serve_status(r, 404, "NotFound", "container \"%s\" in pod \"%s\" (namespace \"%s\") is not available",
                     ref->container, ref->pod, ref->ns);
    else if (rv != 0)
        serve_status(r, 500, "InternalError", "finding container \"%s\": %s", ref->container, orc_strerror(rv));
    return rv;
}

/* ---- request targets ---- */

const char *serve_query_get(const struct serve_query *q, const char *key)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->key[i], key) == 0) return q->val[i];
    return NULL;
}

static void query_free(struct serve_query *q)
{
    for (int i = 0; i < q->n; i++) {
        free(q->key[i]);
        free(q->val[i]);
    }
    q->n = 0;
}

static int query_parse(const char *s, struct serve_query *q)
{
    while (s && *s) {
        size_t len = strcspn(s, "&");
        const char *eq = memchr(s, '=', len);
        size_t klen = eq ? (size_t)(eq - s) : len;

        if (len > 0) {
            if (q->n == SERVE_MAX_QUERY) return ORC_ETOOBIG;
            q->key[q->n] = orc_url_decode(s, klen, true);
            q->val[q->n] = eq ? orc_url_decode(eq + 1, len - klen - 1, true) : strdup("");
            q->n++;
            if (q->key[q->n - 1] == NULL || q->val[q->n - 1] == NULL) return ORC_EINVAL;
        }
        s += len;
        if (*s == '&') s++;
    }
    return 0;
}

/* "/a/b/c" into up to `max` decoded segments; ORC_EINVAL when more or bad. */
static int path_split(const char *path, size_t plen, char **seg, int max, int *n)
{
    const char *p = path, *end = path + plen;

    *n = 0;
    while (p < end && *p == '/') {
        const char *next = memchr(p + 1, '/', (size_t)(end - p - 1));
        size_t len = (size_t)((next ? next : end) - p - 1);

        if (*n == max) return ORC_EINVAL;
        if ((seg[(*n)++] = orc_url_decode(p + 1, len, false)) == NULL) return ORC_EINVAL;
        p = next ? next : end;
    }
    return 0;
}

/* ---- routing ---- */

/* At the end of a request's headers, before its body. */
static bool authorized(void *arg, struct orc_httpd_req *r)
{
    const agent_server *s = arg;
    return orc_httpd_req_bearer_is(r, s->token);
}

static void route(agent_server *s, struct orc_httpd_req *r, char **seg, int n, const struct serve_query *q)
{
    struct serve_ref ref = {n == 4 ? seg[1] : NULL, n == 4 ? seg[2] : NULL, n == 4 ? seg[3] : NULL};
    bool logs = n == 4 && strcmp(seg[0], "containerLogs") == 0;
    bool exec = n == 4 && strcmp(seg[0], "exec") == 0;
    bool attach = n == 4 && strcmp(seg[0], "attach") == 0;

    if (n == 1 && strcmp(seg[0], "metrics") == 0 && s->metrics) {
        serve_metrics(s, r);
        return;
    }
    if (n == 3 && strcmp(seg[0], "portForward") == 0) {
        struct serve_ref pf = {seg[1], seg[2], NULL};
        serve_portforward(s, r, &pf);
        return;
    }
    if (!logs && !exec && !attach) {
        serve_status(r, 404, "NotFound", "the server could not find the requested resource");
    } else if (!*ref.ns || !*ref.pod || !*ref.container) {
        serve_status(r, 400, "BadRequest", "namespace, pod and container must not be empty");
    } else if ((logs && r->method != HTTP_GET) || (exec && r->method != HTTP_GET && r->method != HTTP_POST)
               || (attach && r->method != HTTP_GET)) {
        serve_status(r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    } else if (logs) {
        serve_logs(s, r, &ref, q);
    } else if (attach) {
        serve_attach_stream(s, r, &ref, q);
    } else if (orc_httpd_req_header(r, "upgrade") != NULL) {
        serve_exec_stream(s, r, &ref, q);
    } else {
        serve_exec(s, r, &ref, q);
    }
}

static void handler(void *arg, struct orc_httpd_req *r)
{
    agent_server *s = arg;
    const char *qm = strchr(r->target, '?');
    size_t plen = qm ? (size_t)(qm - r->target) : strlen(r->target);
    struct serve_query q = {0};
    char *seg[5] = {0};
    int n = 0;

    if (plen == 8 && strncmp(r->target, "/healthz", 8) == 0) {
        orc_httpd_respond(r, 200, "text/plain", "ok", 2, NULL);
        return;
    }
    if (!r->authorized) {
        log_debug(MOD, "refused %s: no valid bearer token", r->target);
        serve_status(r, 401, "Unauthorized", "Unauthorized");
        return;
    }
    if ((plen == 17 && strncmp(r->target, "/metrics/resource", 17) == 0)
        || (plen == 17 && strncmp(r->target, "/metrics/cadvisor", 17) == 0)
        || (plen == 14 && strncmp(r->target, "/stats/summary", 14) == 0)) {
        serve_stats(s, r, r->target);
        return;
    }
    if (path_split(r->target, plen, seg, 5, &n) != 0) {
        serve_status(r, 404, "NotFound", "the server could not find the requested resource");
    } else if (query_parse(qm ? qm + 1 : NULL, &q) != 0) {
        serve_status(r, 400, "BadRequest", "malformed query string");
    } else {
        route(s, r, seg, n, &q);
    }
    for (int i = 0; i < n; i++) free(seg[i]);
    query_free(&q);
}

/* ---- the server ---- */

int agent_serve_start(uv_loop_t *loop, const struct rt_handle *r, const char *listen_addr, const char *cert_pem,
                      const char *key_pem, const char *token, const struct agent_serve_cbs *cbs,
                      void *arg, agent_server **out, char *errmsg)
{
    struct orc_httpd_tls tls = {.cert_pem = cert_pem, .key_pem = key_pem};
    struct orc_httpd_config hc = {
        .listen = listen_addr,
        .tls = cert_pem ? &tls : NULL,
        .handler = handler,
        .authorize = authorized,
        /* Its clients are the API servers' relays: a few connections each. */
        .limits = {.max_conns = SERVE_MAX_CONNS, .max_conns_per_client = SERVE_MAX_CONNS},
        .log_module = MOD,
    };
    agent_server *s;
    int rv;

    if (token == NULL || *token == '\0' || cbs == NULL || cbs->find == NULL || r == NULL)
        return orc_errf(errmsg, ERRLEN, ORC_EINVAL, "agent server: a token, a runtime and find are required");
    if ((s = calloc(1, sizeof *s)) == NULL || (s->token = strdup(token)) == NULL) {
        free(s);
        return orc_errf(errmsg, ERRLEN, ORC_ENOMEM, "out of memory");
    }
    s->loop = loop;
    s->r = *r;
    s->cbs = *cbs;
    s->arg = arg;
    hc.arg = s;
    rv = orc_httpd_start(loop, &hc, &s->http, errmsg);
    if (rv != 0) {
        explicit_bzero(s->token, strlen(s->token));
        free(s->token);
        free(s);
        return rv;
    }
    *out = s;
    return 0;
}

int agent_serve_port(const agent_server *s) { return orc_httpd_port(s->http); }

static void on_stopped(void *arg)
{
    agent_server *s = arg;
    void (*cb)(void *) = s->stop_cb;
    void *cb_arg = s->stop_arg;

    explicit_bzero(s->token, strlen(s->token));
    free(s->token);
    agent_stats_prev_free(&s->prev);
    free(s);
    if (cb) cb(cb_arg);
}

void agent_serve_stop(agent_server *s, void (*cb)(void *arg), void *arg)
{
    s->stop_cb = cb;
    s->stop_arg = arg;
    orc_httpd_stop(s->http, on_stopped, s);
}
