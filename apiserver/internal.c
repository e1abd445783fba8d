/* internal.c — orc's member-to-member endpoints under /internal/v1 (same
 * bearer token as the API): forwarded txns and read index (leader only),
 * this member's status, cluster membership (list, join, remove), the
 * cluster CA for joining members and agents, and backups (backup.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define STATUS_TIMEOUT_MS 1000
#define PROXY_WAIT_MS 5000

static void not_leader(struct orc_httpd_req *r)
{
    api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                       "this member is not the Raft leader");
}

/* ---- txn and read index (leader side of txn.c) ---- */

static void on_txn_done(void *arg, int status, const struct store_txn_result *res)
{
    struct orc_httpd_req *r = arg;
    struct orc_buf out = ORC_BUF_INIT;

    if (status == ORC_ENOTLEADER || status == ORC_ESHUTDOWN || status == ORC_ECANCELED) {
        /* Queued, then leadership was lost: it may still commit, so the
         * follower must not retry it (a 503 would make it). */
        api_respond_error(r, ORC_ETIMEDOUT, "forwarded txn");
        return;
    }
    if (status != 0 || store_txn_result_encode(res, &out) != 0) {
        orc_buf_free(&out);
        api_respond_error(r, status ? status : ORC_ENOMEM, "forwarded txn");
        return;
    }
    orc_httpd_respond(r, 200, "application/octet-stream", out.data, out.len, NULL);
    orc_buf_free(&out);
}

static void handle_txn(struct api_server *s, struct orc_httpd_req *r)
{
    int rv;

    if (!store_is_leader(s->st)) {
        not_leader(r);
        return;
    }
    rv = store_txn_encoded(s->st, r->body.data ? r->body.data : "", r->body.len, on_txn_done, r);
    if (rv == ORC_ENOTLEADER) not_leader(r);
    else if (rv == ORC_EPROTO) api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "malformed txn");
    else if (rv != 0) api_respond_error(r, rv, "forwarded txn");
}

static void on_barrier(void *arg, int status, int64_t revision)
{
    struct orc_httpd_req *r = arg;
    char body[64];

    if (status == ORC_ENOTLEADER) {
        not_leader(r);
        return;
    }
    if (status != 0) {
        api_respond_error(r, status, "read index");
        return;
    }
    snprintf(body, sizeof body, "{\"revision\":%" PRId64 "}", revision);
    orc_httpd_respond(r, 200, "application/json", body, strlen(body), NULL);
}

static void handle_readindex(struct api_server *s, struct orc_httpd_req *r)
{
    int rv = store_is_leader(s->st) ? store_barrier(s->st, on_barrier, r) : ORC_ENOTLEADER;
    if (rv == ORC_ENOTLEADER) not_leader(r);
    else if (rv != 0) api_respond_error(r, rv, "read index");
}

/* ---- status of this member ---- */

/* Why this member does not serve (store_health), on an entry of the list. */
static void set_health(json_t *entry, struct api_server *s)
{
    const char *why;

    if (store_health(s->st, &why) != STORE_HEALTHY)
        json_object_set_new(entry, "notServing", json_string(why));
}

static json_t *member_status(struct api_server *s)
{
    uint64_t leader = 0;
    const char *addr = NULL;
    char id[24], lid[24];
    json_t *st;

    store_leader(s->st, &leader, &addr);
    snprintf(id, sizeof id, "%" PRIu64, store_id(s->st));
    snprintf(lid, sizeof lid, "%" PRIu64, leader);
    st = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", id, "apiURL", s->url, "role",
                   store_is_leader(s->st) ? "leader" : "follower", "leaderId", lid,
                   "appliedIndex", (json_int_t)store_applied_index(s->st), "revision",
                   (json_int_t)store_revision(s->st), "compactRevision",
                   (json_int_t)store_compact_revision(s->st));
    if (st) set_health(st, s);
    return st;
}

/* ---- member list: configuration plus each member's own status ---- */

struct members_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    json_t *list;
    int pending;
};

struct member_probe {
    struct members_op *op;
    json_t *entry;
    http_client *client;
};

static void members_done(struct members_op *op)
{
    json_t *out;

    if (--op->pending > 0) return;
    out = json_pack("{s:s, s:o}", "kind", "MemberList", "members", op->list);
    api_respond_json(op->r, 200, out);
    json_decref(out);
    api_release(op->s);
    free(op);
}

static void probe_closed(void *arg)
{
    struct member_probe *p = arg;
    struct members_op *op = p->op;
    free(p);
    members_done(op);
}

static void on_probe(void *arg, int err, const struct http_response *resp)
{
    struct member_probe *p = arg;
    json_t *st = err == 0 && resp->status == 200 ? orc_json_loadb(resp->body, resp->body_len, JSON_ALLOW_NUL, NULL)
                                                 : NULL;

    json_object_set_new(p->entry, "reachable", json_boolean(st != NULL));
    if (st) {
        json_object_set(p->entry, "appliedIndex", json_object_get(st, "appliedIndex"));
        json_object_set(p->entry, "revision", json_object_get(st, "revision"));
        if (json_object_get(st, "notServing"))
            json_object_set(p->entry, "notServing", json_object_get(st, "notServing"));
    }
    json_decref(st);
    http_client_close(p->client, probe_closed, p);
}

static void probe_member(struct members_op *op, json_t *entry)
{
    const char *url = orc_json_str(entry, "apiURL");
    struct http_request req = {.method = "GET", .path = "/internal/v1/status",
                               .timeout_ms = STATUS_TIMEOUT_MS};
    struct member_probe *p = calloc(1, sizeof *p);

    json_object_set_new(entry, "reachable", json_false());
    if (p == NULL || url == NULL || *url == '\0'
        || api_peer_client(op->s, url, &p->client) != 0) {
        free(p);
        return;
    }
    p->op = op;
    p->entry = entry;
    op->pending++;
    if (http_request(p->client, &req, on_probe, p, NULL) != 0) {
        op->pending--;
        http_client_close(p->client, NULL, NULL);
        free(p);
    }
}

static json_t *member_meta(struct api_server *s, uint64_t id)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *m = NULL;

    orc_buf_printf(&key, API_MEMBER_PREFIX "%" PRIu64, id);
    if (key.data && store_get(s->st, key.data, &kv) == 0)
        m = orc_json_loadb(kv.value, kv.value_len, JSON_ALLOW_NUL, NULL);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return m;
}

static void handle_members_list(struct api_server *s, struct orc_httpd_req *r)
{
    struct store_member *ms = NULL;
    size_t n = 0;
    uint64_t leader = 0;
    const char *laddr;
    struct members_op *op = calloc(1, sizeof *op);

    if (op == NULL || store_members(s->st, &ms, &n) != 0) {
        free(op);
        api_respond_error(r, ORC_ENOMEM, "listing members");
        return;
    }
    store_leader(s->st, &leader, &laddr);
    op->s = s;
    op->r = r;
    op->list = json_array();
    op->pending = 1;
    api_hold(s);
    for (size_t i = 0; i < n; i++) {
        json_t *meta = member_meta(s, ms[i].id);
        char id[24];
        snprintf(id, sizeof id, "%" PRIu64, ms[i].id);
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", id, "raftAddress", ms[i].address,
                              "apiURL", meta && orc_json_str(meta, "apiURL") ? orc_json_str(meta, "apiURL") : "",
                              "role", ms[i].id == leader ? "leader" : "follower", "voter",
                              ms[i].role == STORE_ROLE_VOTER);
        json_decref(meta);
        json_array_append_new(op->list, e);
        if (ms[i].id == store_id(s->st)) {
            json_object_set_new(e, "reachable", json_true());
            json_object_set_new(e, "appliedIndex", json_integer((json_int_t)store_applied_index(s->st)));
            json_object_set_new(e, "revision", json_integer(store_revision(s->st)));
            set_health(e, s);
        } else {
            probe_member(op, e);
        }
    }
    free(ms);
    members_done(op);
}

/* ---- forwarding a membership request to the leader ---- */

struct proxy {
    struct api_server *s;
    struct orc_httpd_req *r;
    uint64_t deadline;
};

static void proxy_try(void *arg);

static void proxy_finish(struct proxy *p)
{
    api_release(p->s);
    free(p);
}

static void proxy_later_or_fail(struct proxy *p)
{
    if (!p->s->stopping && uv_now(p->s->loop) < p->deadline && api_later(p->s, 100, proxy_try, p) == 0)
        return;
    api_respond_error(p->r, ORC_EUNAVAIL, "forwarding to the leader");
    proxy_finish(p);
}

static void on_proxied(void *arg, int err, const struct http_response *resp)
{
    struct proxy *p = arg;

    if (err == ORC_EUNAVAIL || (err == 0 && resp->status == 503)) {
        api_leader_client_drop(p->s, NULL, NULL);
        proxy_later_or_fail(p);
        return;
    }
    /* Canceled: the leader's client was closed under it (another request
     * found that leader gone) after the request may have left. */
    if (err == ORC_ECANCELED) err = ORC_ETIMEDOUT;
    if (err != 0) api_respond_error(p->r, err, "forwarding to the leader");
    else orc_httpd_respond(p->r, resp->status, http_header_get(resp, "content-type"), resp->body,
                          resp->body_len, NULL);
    proxy_finish(p);
}

static void proxy_try(void *arg)
{
    struct proxy *p = arg;
    struct orc_httpd_req *r = p->r;
    http_client *c = p->s->stopping ? NULL : api_leader_client(p->s);
    struct http_request req = {0};

    if (c == NULL) {
        proxy_later_or_fail(p);
        return;
    }
    req.method = llhttp_method_name(r->method);
    req.path = r->target;
    req.content_type = orc_httpd_req_header(r, "content-type");
    req.body = r->body.data;
    req.body_len = r->body.len;
    req.timeout_ms = 120000; /* a join waits for the new member to catch up */
    if (http_request(c, &req, on_proxied, p, NULL) != 0) proxy_later_or_fail(p);
}

static void proxy_to_leader(struct api_server *s, struct orc_httpd_req *r)
{
    struct proxy *p = calloc(1, sizeof *p);

    if (p == NULL) {
        api_respond_error(r, ORC_ENOMEM, "forwarding");
        return;
    }
    p->s = s;
    p->r = r;
    p->deadline = uv_now(s->loop) + PROXY_WAIT_MS;
    api_hold(s);
    proxy_try(p);
}

/* ---- join and remove (on the leader) ---- */

struct member_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    uint64_t id;
    char raft_address[64];
};

static void member_op_end(struct member_op *m)
{
    api_release(m->s);
    free(m);
}

static void on_added(void *arg, int status)
{
    struct member_op *m = arg;

    if (status != 0 && status != ORC_EEXIST) {
        api_respond_error(m->r, status, "adding the member");
    } else {
        json_t *st = member_status(m->s);
        log_info("apiserver", "member %" PRIu64 " at %s joined", m->id, m->raft_address);
        /* The new member issues its own certificate with the CA's key. The
         * request carried the cluster token, over TLS that the joiner pinned
         * to the CA named in that token. */
        if (m->s->ca_pem && m->s->ca_key_pem)
            json_object_set_new(st, "ca", json_pack("{s:s, s:s}", "cert", m->s->ca_pem, "key",
                                                    m->s->ca_key_pem));
        api_respond_json(m->r, 200, st);
        json_decref(st);
    }
    member_op_end(m);
}

static void on_join_recorded(void *arg, int status, const struct store_txn_result *res)
{
    struct member_op *m = arg;
    int rv;
    (void)res;

    if (status != 0) {
        api_respond_error(m->r, status, "recording the member");
        member_op_end(m);
        return;
    }
    rv = store_add_member(m->s->st, m->id, m->raft_address, on_added, m);
    if (rv != 0) on_added(m, rv);
}

static void handle_join(struct api_server *s, struct orc_httpd_req *r)
{
    json_t *body = api_parse_body(r);
    const char *ids = body ? orc_json_str(body, "id") : NULL;
    const char *raddr = body ? orc_json_str(body, "raftAddress") : NULL;
    const char *url = body ? orc_json_str(body, "apiURL") : NULL;
    struct sockaddr_storage sa;
    struct member_op *m;
    struct orc_buf key = ORC_BUF_INIT, val = ORC_BUF_INIT;

    if (body == NULL) return;
    if (ids == NULL || strtoull(ids, NULL, 10) == 0 || raddr == NULL || strlen(raddr) >= 64
        || orc_netaddr_parse(raddr, &sa) != 0 || url == NULL
        || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)) {
        json_decref(body);
        api_respond_status(r, 422, "Invalid", NULL, NULL, NULL,
                           "a join needs id (non-zero), raftAddress (HOST:PORT) and apiURL "
                           "(https://HOST:PORT)");
        return;
    }
    m = calloc(1, sizeof *m);
    if (m == NULL) {
        json_decref(body);
        api_respond_error(r, ORC_ENOMEM, "join");
        return;
    }
    m->s = s;
    m->r = r;
    m->id = strtoull(ids, NULL, 10);
    snprintf(m->raft_address, sizeof m->raft_address, "%s", raddr);
    api_hold(s);
    orc_buf_printf(&key, API_MEMBER_PREFIX "%" PRIu64, m->id);
    orc_buf_printf(&val, "{\"id\":\"%" PRIu64 "\",\"raftAddress\":\"%s\",\"apiURL\":\"%s\"}", m->id,
                   raddr, url);
    json_decref(body);
    {
        struct store_op op = {STORE_PUT, key.data, val.data, val.len};
        struct store_txn txn = {NULL, 0, &op, 1};
        int rv = api_txn(s, &txn, on_join_recorded, m);
        if (rv != 0) {
            api_respond_error(r, rv, "recording the member");
            member_op_end(m);
        }
    }
    orc_buf_free(&key);
    orc_buf_free(&val);
}

static void on_forgotten(void *arg, int status, const struct store_txn_result *res)
{
    struct member_op *m = arg;
    (void)res;
    if (status != 0) api_respond_error(m->r, status, "forgetting the member");
    else orc_httpd_respond(m->r, 200, "application/json", "{}", 2, NULL);
    member_op_end(m);
}

static void on_removed(void *arg, int status)
{
    struct member_op *m = arg;
    struct orc_buf key = ORC_BUF_INIT;
    int rv;

    if (status != 0) {
        api_respond_error(m->r, status, "removing the member");
        member_op_end(m);
        return;
    }
    log_info("apiserver", "member %" PRIu64 " removed", m->id);
    orc_buf_printf(&key, API_MEMBER_PREFIX "%" PRIu64, m->id);
    {
        struct store_op op = {STORE_DELETE, key.data, NULL, 0};
        struct store_txn txn = {NULL, 0, &op, 1};
        rv = api_txn(m->s, &txn, on_forgotten, m);
    }
    orc_buf_free(&key);
    if (rv != 0) on_forgotten(m, rv, NULL);
}

static void handle_remove(struct api_server *s, struct orc_httpd_req *r, const char *ids)
{
    struct store_member *ms = NULL;
    size_t n = 0;
    uint64_t id = strtoull(ids, NULL, 10);
    bool known = false;
    struct member_op *m;
    int rv;

    if (store_members(s->st, &ms, &n) == 0)
        for (size_t i = 0; i < n; i++) known |= ms[i].id == id;
    free(ms);
    if (!known) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL, "member %s not found", ids);
        return;
    }
    m = calloc(1, sizeof *m);
    if (m == NULL) {
        api_respond_error(r, ORC_ENOMEM, "remove");
        return;
    }
    m->s = s;
    m->r = r;
    m->id = id;
    api_hold(s);
    rv = store_remove_member(s->st, id, on_removed, m);
    if (rv != 0) on_removed(m, rv);
}

/* ---- node agents' certificates ---- */

/* Administrators and bootstrap tokens (a node joining) may have any node's
 * certificate issued; a node only its own (renewing). */
static bool may_have_node_cert(const struct orc_httpd_req *r, const char *cn)
{
    const struct api_user *u = api_req_user(r);

    if (api_user_in_group(u, "system:masters") || api_user_in_group(u, "system:bootstrappers")) return true;
    return api_user_in_group(u, "system:nodes") && strcmp(u->name, cn) == 0;
}

/* An agent asks for its certificate: its identity at the API
 * (CN=system:node:NAME, O=system:nodes) and what its logs/exec port
 * serves. The members hold the cluster CA key, the agents do not. Body
 * {"nodeName", "addresses": [IP or DNS name...]}; answer {"ca", "cert",
 * "key"} (PEM) and "portToken", what the API servers show its port. */
static void handle_agent_cert(struct api_server *s, struct orc_httpd_req *r)
{
    json_t *body = api_parse_body(r), *addrs, *a, *out;
    const char *node = body ? orc_json_str(body, "nodeName") : NULL;
    const char *names[16];
    char cn[300], err[ORC_TLS_ERRLEN];
    char *cert = NULL, *key = NULL;
    size_t i, n = 0;

    if (body == NULL) return;
    if (s->ca_pem == NULL || s->ca_key_pem == NULL) {
        json_decref(body);
        api_respond_status(r, 501, "NotImplemented", NULL, NULL, NULL,
                           "this member has no cluster CA to issue agent certificates with");
        return;
    }
    addrs = json_object_get(body, "addresses");
    json_array_foreach(addrs, i, a) if (json_is_string(a) && n < 16) names[n++] = json_string_value(a);
    if (node == NULL || *node == '\0' || strlen(node) > 253 || n == 0) {
        json_decref(body);
        api_respond_status(r, 422, "Invalid", NULL, NULL, NULL,
                           "an agent certificate needs nodeName and at least one address");
        return;
    }
    snprintf(cn, sizeof cn, "system:node:%s", node);
    if (!may_have_node_cert(r, cn)) {
        json_decref(body);
        api_respond_status(r, 403, "Forbidden", NULL, NULL, NULL,
                           "forbidden: User \"%s\" cannot have the certificate of node \"%s\" issued",
                           api_req_user(r)->name, node);
        return;
    }
    if (orc_tls_make_cert_secs(s->ca_pem, s->ca_key_pem, "system:nodes", cn, names, n, s->node_cert_ttl_s,
                               &cert, &key, err) != 0) {
        json_decref(body);
        api_respond_status(r, 422, "Invalid", NULL, NULL, NULL, "cannot issue the certificate: %s", err);
        return;
    }
    out = json_pack("{s:s, s:s, s:s, s:s}", "ca", s->ca_pem, "cert", cert, "key", key, "portToken",
                    s->agent_port_token);
    log_info("apiserver", "issuing the certificate of node %s's agent to %s", node, api_req_user(r)->name);
    if (out) api_respond_json(r, 200, out);
    else api_respond_error(r, ORC_ENOMEM, "issuing the certificate");
    json_decref(out);
    explicit_bzero(key, strlen(key));
    free(key);
    free(cert);
    json_decref(body);
}

/* ---- the cluster CA, for a joining member ---- */

/* A new member needs the CA before Raft can reach it (its Raft port speaks
 * mutual TLS with a certificate it issues itself), so before it asks to be
 * added. Any member answers. The request carried the cluster token, over
 * TLS that the joiner pinned to the CA its token names. */
static void handle_ca(struct api_server *s, struct orc_httpd_req *r)
{
    json_t *out;

    if (s->ca_pem == NULL || s->ca_key_pem == NULL) {
        api_respond_status(r, 501, "NotImplemented", NULL, NULL, NULL,
                           "this member has no cluster CA to hand to a joining member");
        return;
    }
    out = json_pack("{s:s, s:s}", "cert", s->ca_pem, "key", s->ca_key_pem);
    if (out) api_respond_json(r, 200, out);
    else api_respond_error(r, ORC_ENOMEM, "the cluster CA");
    json_decref(out);
}

/* ---- dispatch ---- */

void api_handle_internal(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    const char *p = rt->internal;

    /* Members' endpoints (the CA key, forwarded writes, membership) are the
     * control plane's: its token, or an administrator's certificate. A
     * node's certificate and bootstrap tokens reach only "agents";
     * "usercerts" checks for itself. */
    if (strcmp(p, "agents") != 0 && strcmp(p, "usercerts") != 0
        && !api_user_in_group(api_req_user(r), "system:masters")) {
        api_respond_status(r, 403, "Forbidden", NULL, NULL, NULL,
                           "forbidden: User \"%s\" cannot use the members' endpoint \"%s\"",
                           api_req_user(r)->name, p);
        return;
    }

    if (strcmp(p, "txn") == 0 && r->method == HTTP_POST) {
        handle_txn(s, r);
    } else if (strcmp(p, "readindex") == 0 && r->method == HTTP_GET) {
        handle_readindex(s, r);
    } else if (strcmp(p, "status") == 0 && r->method == HTTP_GET) {
        json_t *st = member_status(s);
        api_respond_json(r, 200, st);
        json_decref(st);
    } else if (strcmp(p, "ca") == 0 && r->method == HTTP_GET) {
        handle_ca(s, r);
    } else if (strcmp(p, "members") == 0 && r->method == HTTP_GET) {
        handle_members_list(s, r);
    } else if (strcmp(p, "members") == 0 && r->method == HTTP_POST) {
        if (store_is_leader(s->st)) handle_join(s, r);
        else proxy_to_leader(s, r);
    } else if (strcmp(p, "backup") == 0 && r->method == HTTP_GET) {
        api_handle_backup(s, r);
    } else if (strcmp(p, "agents") == 0 && r->method == HTTP_POST) {
        handle_agent_cert(s, r);
    } else if (strcmp(p, "usercerts") == 0 && r->method == HTTP_POST) {
        api_handle_user_cert(s, r);
    } else if (strncmp(p, "members/", 8) == 0 && r->method == HTTP_DELETE) {
        if (store_is_leader(s->st)) handle_remove(s, r, p + 8);
        else proxy_to_leader(s, r);
    } else {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL, "no such internal endpoint");
    }
}
