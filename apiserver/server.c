/* server.c — the API server's front door: routes each request, refuses
 * unauthenticated ones (authn.c) and unauthorized ones (authz.c), answers health and version, and follows this member's Raft
 * role (the leader ensures bootstrap objects and publishes its URL). */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/encrypt.h"
#include "apiserver/metrics.h"
#include "apiserver/resmetrics.h"
#include "apiserver/rbac.h"
#include "apiserver/sa.h"
#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define ORC_VERSION "v0.1.0"
#define K8S_MINOR "32"

static void respond_text(struct orc_httpd_req *r, int code, const char *text)
{
    orc_httpd_respond(r, code, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

static void respond_version(struct orc_httpd_req *r)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor",
                          K8S_MINOR, "gitVersion", "v1." K8S_MINOR ".0-orc", "orcVersion",
                          ORC_VERSION, "gitCommit", "", "buildDate", __DATE__, "goVersion", "none",
                          "compiler", "gcc", "platform", "linux/amd64");
    api_respond_json(r, 200, v);
    json_decref(v);
}

static void dispatch_api(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    switch (rt->type) {
    case ROUTE_API_VERSIONS:
    case ROUTE_API_GROUPS:
    case ROUTE_API_GROUP:
    case ROUTE_RESOURCE_LIST:
        api_handle_discovery(s, r, rt);
        return;
    case ROUTE_INTERNAL:
        api_handle_internal(s, r, rt);
        return;
    case ROUTE_OPENAPI_V2:
    case ROUTE_OPENAPI_V3:
        api_handle_openapi(s, r, rt);
        return;
    case ROUTE_OIDC:
        api_handle_oidc(s, r, rt);
        return;
    case ROUTE_SELF_REVIEW:
        api_handle_self_review(s, r);
        return;
    case ROUTE_METRICS_API:
        api_handle_mx(s, r, rt);
        return;
    case ROUTE_COLLECTION:
    case ROUTE_OBJECT:
        break;
    default:
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL, "the server could not find the requested resource");
        return;
    }
    if (rt->type == ROUTE_OBJECT && (strcmp(rt->sub, "log") == 0 || strcmp(rt->sub, "exec") == 0
                                     || strcmp(rt->sub, "attach") == 0 || strcmp(rt->sub, "portforward") == 0)
        && api_kind_serves(rt->api, rt->sub))
        api_handle_pod_proxy(s, r, rt);
    else if (rt->type == ROUTE_OBJECT && strcmp(rt->sub, "proxy") == 0 && api_kind_serves(rt->api, rt->sub))
        api_handle_node_proxy(s, r, rt);
    else if (rt->type == ROUTE_OBJECT && strcmp(rt->sub, "token") == 0 && api_kind_serves(rt->api, rt->sub))
        api_handle_token_request(s, r, rt);
    else if (r->method == HTTP_GET && api_query_bool(rt, "watch")) api_handle_watch(s, r, rt);
    else if (r->method == HTTP_GET) api_handle_read(s, r, rt);
    else api_handle_write(s, r, rt);
}

/* A member whose store may differ from the log, or lag it, answers
 * nothing from it (store_health): 503 with the reason, the client retries
 * or goes to another member. */
static bool serving(struct api_server *s, struct orc_httpd_req *r)
{
    const char *why;

    if (store_health(s->st, &why) == STORE_HEALTHY) return true;
    api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                       "this member cannot serve right now: %s", why);
    return false;
}

static void respond_readyz(struct api_server *s, struct orc_httpd_req *r)
{
    char msg[1024];
    const char *why;

    if (api_server_ready(s)) {
        respond_text(r, 200, "ok");
        return;
    }
    if (store_health(s->st, &why) != STORE_HEALTHY)
        snprintf(msg, sizeof msg, "not ready: %s", why);
    else
        snprintf(msg, sizeof msg, "not ready: no Raft leader known yet");
    respond_text(r, 503, msg);
}

static void handle_request(void *arg, struct orc_httpd_req *r)
{
    struct api_server *s = arg;
    struct api_route *rt = calloc(1, sizeof *rt);
    int rv;

    if (rt == NULL) {
        api_respond_error(r, ORC_ENOMEM, "routing");
        return;
    }
    r->state = rt;
    r->state_free = api_route_free;
    rv = api_route_parse(r->target, rt);
    api_audit_request(s->audit, r, rt);
    api_metrics_request_begin(s, r, rt);
    r->on_end = api_metrics_request_end;
    if (rv == ORC_EINVAL) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "%s",
                           rt->err[0] ? rt->err : "malformed request path or query");
        return;
    }
    /* Open to everyone, as Kubernetes' system:public-info-viewer. */
    switch (rv == 0 ? rt->type : ROUTE_NONE) {
    case ROUTE_HEALTHZ: respond_text(r, 200, "ok"); return;
    case ROUTE_READYZ:
        respond_readyz(s, r);
        return;
    case ROUTE_VERSION: respond_version(r); return;
    default: break;
    }
    if (!r->authorized) {
        api_respond_status(r, 401, "Unauthorized", NULL, NULL, NULL,
                           "Unauthorized: a valid \"Authorization: Bearer <token>\" header or "
                           "client certificate is required");
        return;
    }
    /* Before the 404, as Kubernetes: an unknown path is forbidden to
     * whoever may not look. */
    if (!api_authorize(s, r)) return;
    if (rv != 0 && api_review_route(r->target)) {
        api_handle_review(s, r);
        return;
    }
    if (rv != 0) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                           "the server could not find the requested resource");
        return;
    }
    /* Served by a degraded member too: its metrics say why. */
    if (rt->type == ROUTE_METRICS) {
        api_handle_metrics(s, r);
        return;
    }
    if (s->stopping) {
        api_respond_error(r, ORC_ESHUTDOWN, "request");
        return;
    }
    /* Member-to-member calls go on: status says why, and the store itself
     * refuses a forwarded write or read index it cannot take. */
    if (rt->type != ROUTE_INTERNAL && !serving(s, r)) return;
    dispatch_api(s, r, rt);
}

int api_server_ready(const api_server *s)
{
    uint64_t id;
    const char *addr;

    if (store_health(s->st, NULL) != STORE_HEALTHY) return 0;
    if (store_leader(s->st, &id, &addr) != 0) return 0;
    /* The leader is ready once its bootstrap objects exist (it reports
     * leadership only after applying its term's barrier). */
    if (id == store_id(s->st)) return store_is_leader(s->st) && s->bootstrapped;
    return 1;
}

/* ---- role changes ---- */

static void on_role_change(void *arg, bool leader)
{
    struct api_server *s = arg;

    s->is_leader = leader;
    if (!leader) {
        s->bootstrapped = false;
        return;
    }
    log_info("apiserver", "this member (%s) is now the Raft leader", s->url);
    api_server_publish_member(s);
    api_bootstrap(s);
    api_sa_ensure_key(s);
}

static void on_publish_done(void *arg, int status, const struct store_txn_result *res)
{
    (void)arg;
    (void)res;
    if (status != 0) log_warn("apiserver", "recording this member's URL: %s", orc_strerror(status));
}

void api_server_publish_member(api_server *s)
{
    struct orc_buf key = ORC_BUF_INIT, val = ORC_BUF_INIT;
    struct store_kv cur = {0};
    const char *addr = NULL;
    uint64_t id = store_id(s->st);
    struct store_member *members = NULL;
    size_t n = 0;

    if (store_members(s->st, &members, &n) == 0)
        for (size_t i = 0; i < n; i++)
            if (members[i].id == id) addr = members[i].address;
    orc_buf_printf(&key, API_MEMBER_PREFIX "%llu", (unsigned long long)id);
    orc_buf_printf(&val, "{\"id\":\"%llu\",\"raftAddress\":\"%s\",\"apiURL\":\"%s\"}",
                   (unsigned long long)id, addr ? addr : "", s->url);
    if (store_get(s->st, key.data, &cur) == 0 && cur.value_len == val.len
        && memcmp(cur.value, val.data, val.len) == 0) {
        goto out; /* already recorded */
    }
    {
        struct store_op op = {STORE_PUT, key.data, val.data, val.len};
        struct store_txn txn = {NULL, 0, &op, 1};
        int rv = api_txn(s, &txn, on_publish_done, s);
        if (rv != 0) log_warn("apiserver", "recording this member's URL: %s", orc_strerror(rv));
    }
out:
    store_kv_clear(&cur);
    free(members);
    orc_buf_free(&key);
    orc_buf_free(&val);
}

/* ---- lifecycle ---- */

int api_peer_client(struct api_server *s, const char *url, http_client **out)
{
    struct http_tls tls = {.ctx = s->peer_tls};

    return http_client_new_tls(s->loop, url, s->token, s->peer_tls ? &tls : NULL, out);
}

static void free_secrets(struct api_server *s)
{
    if (s->token) explicit_bzero(s->token, strlen(s->token));
    explicit_bzero(s->agent_port_token, sizeof s->agent_port_token);
    explicit_bzero(s->agent_token, sizeof s->agent_token);
    if (s->ca_key_pem) explicit_bzero(s->ca_key_pem, strlen(s->ca_key_pem));
    free(s->token);
    free(s->ca_key_pem);
    free(s->ca_pem);
    free(s->url);
    orc_tls_ctx_unref(s->peer_tls);
    api_encryption_free(s->enc);
}

static int copy_config(struct api_server *s, const struct api_config *cfg, char *errmsg)
{
    char err[ORC_TLS_ERRLEN];
    int rv;

    s->token = strdup(cfg->token);
    s->url = strdup(cfg->advertise_url);
    s->ca_pem = cfg->ca_pem ? strdup(cfg->ca_pem) : NULL;
    s->ca_key_pem = cfg->ca_key_pem ? strdup(cfg->ca_key_pem) : NULL;
    s->node_cert_ttl_s = cfg->node_cert_ttl_s ? (long)cfg->node_cert_ttl_s : API_NODE_CERT_DAYS * 86400L;
    if (s->token == NULL || s->url == NULL || (cfg->ca_pem && s->ca_pem == NULL)
        || (cfg->ca_key_pem && s->ca_key_pem == NULL))
        return ORC_ENOMEM;
    if (cfg->encryption_config
        && (rv = api_encryption_load(cfg->encryption_config, &s->enc, errmsg)) != 0)
        return rv;
    if (orc_tls_derive_token(s->token, API_AGENT_PORT_LABEL, s->agent_port_token) != 0) return ORC_ENOMEM;
    if (cfg->agent_token) snprintf(s->agent_token, sizeof s->agent_token, "%s", cfg->agent_token);
    if (cfg->ca_pem == NULL) return 0;
    rv = orc_tls_client_ctx(&(struct orc_tls_trust){.ca_pem = cfg->ca_pem}, &s->peer_tls, err);
    if (rv != 0) snprintf(errmsg, 256, "cluster CA: %.200s", err);
    return rv;
}

int api_server_start(uv_loop_t *loop, store *st, const struct api_config *cfg, api_server **out,
                     char *errmsg)
{
    struct api_server *s = calloc(1, sizeof *s);
    struct orc_httpd_tls tls = {.cert_pem = cfg->tls_cert_pem, .key_pem = cfg->tls_key_pem,
                                .client_ca_pem = cfg->ca_pem};
    struct orc_httpd_config hc = {
        .listen = cfg->listen,
        .tls = cfg->tls_cert_pem || cfg->tls_key_pem ? &tls : NULL,
        .handler = handle_request,
        .authorize = api_authn_request,
        .arg = s,
        .limits = {.max_conns = cfg->max_connections,
                   .max_conns_per_client = cfg->max_connections_per_client,
                   .header_timeout_ms = cfg->header_timeout_ms,
                   .idle_timeout_ms = cfg->idle_timeout_ms,
                   .stream_queue = cfg->watch_queue_bytes,
                   .streams_memory = cfg->watch_memory_bytes},
        .log_module = "apiserver",
    };
    int rv;

    if (s == NULL) return ORC_ENOMEM;
    s->loop = loop;
    s->st = st;
    orc_list_init(&s->later);
    snprintf(s->cluster_cidr, sizeof s->cluster_cidr, "%s",
             cfg->cluster_cidr ? cfg->cluster_cidr : "10.42.0.0/16");
    s->node_cidr_mask = cfg->node_cidr_mask ? cfg->node_cidr_mask : 24;
    snprintf(s->service_cidr, sizeof s->service_cidr, "%s",
             cfg->service_cidr ? cfg->service_cidr : "10.43.0.0/16");
    snprintf(s->node_port_range, sizeof s->node_port_range, "%s",
             cfg->node_port_range ? cfg->node_port_range : "30000-32767");
    s->watch_bookmark_ms = cfg->watch_bookmark_ms ? cfg->watch_bookmark_ms : 60000;
    s->event_ttl_s = cfg->event_ttl_s ? cfg->event_ttl_s : 3600;
    s->pod_toleration_seconds = cfg->pod_eviction_timeout_ms ? (cfg->pod_eviction_timeout_ms + 999) / 1000 : 30;
    if ((rv = copy_config(s, cfg, errmsg)) != 0) goto err;
    /* before anything reads: every read path sees values decrypted */
    store_set_decoder(st, s->enc ? api_enc_open : NULL, s->enc);
    if ((rv = api_sa_start(s, cfg, errmsg)) != 0) goto err;
    if (cfg->audit.log_path && (rv = api_audit_start(&cfg->audit, &s->audit, errmsg)) != 0) goto err;
    rv = api_metrics_start(s);
    if (rv == 0) rv = api_nscache_start(s);
    if (rv == 0) rv = api_rbac_start(s);
    if (rv == 0) rv = api_nodeauthz_start(s);
    if (rv == 0) rv = api_housekeep_start(s);
    if (rv == 0) rv = api_mx_start(s, cfg->metric_resolution_ms, cfg->metrics_off);
    if (rv == 0) rv = api_watch_hub_start(s);
    if (rv == 0) rv = orc_httpd_start(loop, &hc, &s->http, errmsg);
    if (rv != 0) goto err;
    store_role_watch(st, on_role_change, s);
    if (store_is_leader(st)) on_role_change(s, true);
    *out = s;
    return 0;
err:
    store_set_decoder(st, NULL, NULL);
    api_watch_hub_stop(s);
    api_mx_stop(s);
    api_housekeep_stop(s);
    api_nodeauthz_stop(s);
    api_rbac_stop(s);
    api_nscache_stop(s);
    api_sa_stop(s);
    api_audit_stop(s->audit);
    api_metrics_stop(s);
    free_secrets(s);
    free(s);
    return rv;
}

/* The server is freed once HTTP and the leader client are closed and no
 * operation holds it: callbacks from the store (closed after us) may still
 * arrive for writes in flight. */
static void maybe_free(struct api_server *s)
{
    if (!s->stopping || s->stop_pending > 0 || s->inflight > 0) return;
    void (*cb)(void *) = s->stop_cb;
    void *cb_arg = s->stop_arg;
    api_openapi_release(s);
    api_sa_stop(s);
    api_audit_stop(s->audit); /* after HTTP: every request has ended */
    api_metrics_stop(s);
    free_secrets(s);
    free(s);
    if (cb) cb(cb_arg);
}

void api_hold(struct api_server *s) { s->inflight++; }

void api_release(struct api_server *s)
{
    s->inflight--;
    maybe_free(s);
}

static void stop_step_done(void *arg)
{
    struct api_server *s = arg;

    s->stop_pending--;
    maybe_free(s);
}

void api_server_stop(api_server *s, void (*cb)(void *arg), void *arg)
{
    s->stopping = true;
    s->stop_cb = cb;
    s->stop_arg = arg;
    s->stop_pending = 3;
    store_role_unwatch(s->st, on_role_change, s);
    api_later_stop_all(s); /* first: a pending call may be the cache's resync */
    api_nscache_stop(s);
    api_nodeauthz_stop(s);
    api_rbac_stop(s);
    api_housekeep_stop(s);
    api_mx_stop(s);
    orc_httpd_stop(s->http, stop_step_done, s); /* ends every watch */
    api_watch_hub_stop(s);
    store_set_decoder(s->st, NULL, NULL); /* s->enc goes with the server */
    api_leader_client_drop(s, stop_step_done, s);
    stop_step_done(s);
}
