/* txn.c — hides where the leader is: transactions run locally on the leader
 * or are forwarded to the leader's /internal/v1/txn, linearizable reads get
 * their read point from a local barrier or the leader's read index, and
 * both retry (briefly) while an election is under way. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/encrypt.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define LEADER_WAIT_MS 5000 /* how long a request waits for a reachable leader */
#define RETRY_MS 50
#define APPLY_WAIT_MS 5000
#define DEPOSED_CHECK_MS 50 /* how often a forwarded txn in flight looks for a new leader */

/* ---- delayed calls ---- */

struct api_later {
    struct orc_link link; /* in api_server.later, newest first */
    uv_timer_t timer;
    struct api_server *s;
    void (*fn)(void *arg);
    void *arg;
};

static void later_closed(uv_handle_t *h) { free(h->data); }

static void later_fire(struct api_later *l)
{
    struct api_server *s = l->s;

    orc_list_remove(&l->link);
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, later_closed);
    l->fn(l->arg);
    api_release(s);
}

static void on_later(uv_timer_t *t) { later_fire(t->data); }

int api_later(struct api_server *s, unsigned ms, void (*fn)(void *arg), void *arg)
{
    struct api_later *l = calloc(1, sizeof *l);

    if (l == NULL) return ORC_ENOMEM;
    l->s = s;
    l->fn = fn;
    l->arg = arg;
    uv_timer_init(s->loop, &l->timer);
    l->timer.data = l;
    orc_list_push_head(&s->later, &l->link);
    api_hold(s);
    uv_timer_start(&l->timer, on_later, ms, 0);
    return 0;
}

void api_later_stop_all(struct api_server *s)
{
    while (!orc_list_empty(&s->later))
        later_fire(ORC_CONTAINER(s->later.next, struct api_later, link));
}

/* ---- the leader's API client ---- */

void api_leader_client_drop(struct api_server *s, void (*cb)(void *arg), void *arg)
{
    http_client *c = s->leader_client;

    s->leader_client = NULL;
    s->leader_client_id = 0;
    if (c) http_client_close(c, cb, arg);
    else if (cb) cb(arg);
}

/* The leader's API URL from its member record, or derived from its Raft
 * address (API port = Raft port - 1, the default layout) before it is known. */
static int leader_url(struct api_server *s, uint64_t id, const char *raft_addr, char *out, size_t n)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    int rv = ORC_ENOENT;

    orc_buf_printf(&key, API_MEMBER_PREFIX "%" PRIu64, id);
    if (key.data && store_get(s->st, key.data, &kv) == 0) {
        json_t *m = orc_json_loadb(kv.value, kv.value_len, JSON_ALLOW_NUL, NULL);
        const char *u = m ? orc_json_str(m, "apiURL") : NULL;
        if (u && *u && strlen(u) < n) {
            strcpy(out, u);
            rv = 0;
        }
        json_decref(m);
    }
    store_kv_clear(&kv);
    orc_buf_free(&key);
    if (rv != 0 && raft_addr) {
        const char *colon = strrchr(raft_addr, ':');
        if (colon) {
            snprintf(out, n, "%s://%.*s:%d", s->peer_tls ? "https" : "http",
                     (int)(colon - raft_addr), raft_addr, atoi(colon + 1) - 1);
            rv = 0;
        }
    }
    return rv;
}

http_client *api_leader_client(struct api_server *s)
{
    uint64_t id;
    const char *addr;
    char url[256];

    if (store_leader(s->st, &id, &addr) != 0 || id == store_id(s->st)) return NULL;
    if (s->leader_client && s->leader_client_id == id) return s->leader_client;
    if (leader_url(s, id, addr, url, sizeof url) != 0) return NULL;
    api_leader_client_drop(s, NULL, NULL);
    if (api_peer_client(s, url, &s->leader_client) != 0) {
        s->leader_client = NULL;
        return NULL;
    }
    s->leader_client_id = id;
    log_debug("apiserver", "forwarding to leader %" PRIu64 " at %s", id, url);
    return s->leader_client;
}

/* ---- transactions: local on the leader, or forwarded to it ---- */

/* Once a txn was handed to a leader, a failure may still have committed it:
 * raft fails a pending entry when its leader steps down or stops, though a
 * majority may hold it and the next leader commit it; a forwarded request
 * cancelled or cut off after it left may have been applied. The caller
 * gets ORC_ETIMEDOUT for all of these ("outcome unknown", 504), never a
 * failure that invites a blind retry, and nothing here retries them. */
static int outcome_unknown(int status)
{
    if (status == ORC_ENOTLEADER || status == ORC_ESHUTDOWN || status == ORC_ECANCELED
        || status == ORC_EIO)
        return ORC_ETIMEDOUT;
    return status;
}

struct fwd {
    struct api_server *s;
    char *enc;
    size_t enc_len;
    store_txn_cb cb;
    void *arg;
    uint64_t deadline;
    struct store_txn_result res;
    /* The request in flight to the leader `to` (NULL between tries), and
     * whether it was given up because another member leads now. */
    http_call *call;
    uint64_t to;
    bool deposed;
    bool checking; /* a deposed check is pending */
    int refs;      /* the request's own, and a pending deposed check's */
    bool done;
};

static void fwd_try(void *arg);

static void fwd_unref(struct fwd *f)
{
    if (--f->refs > 0) return;
    free(f->enc);
    free(f);
}

static void fwd_finish(struct fwd *f, int status, const struct store_txn_result *res)
{
    struct api_server *s = f->s;

    f->done = true;
    f->call = NULL;
    f->cb(f->arg, status, res);
    fwd_unref(f);
    api_release(s);
}

/* Whether this member now follows another leader than the one f went to
 * (or none). */
static bool fwd_leader_moved(const struct fwd *f)
{
    uint64_t id = 0;
    const char *addr;

    return store_leader(f->s->st, &id, &addr) != 0 || id != f->to;
}

/* A leader that stalls (stopped, partitioned) keeps a forwarded txn waiting
 * for the request's whole timeout, long after the others elected a new
 * leader. Once this member follows another leader (or none), the answer is
 * given up on: the old leader may have replicated the entry before it
 * stalled, so the outcome is unknown (504), and the client retries at once
 * instead of after 10 s. */
static void fwd_check_deposed(void *arg)
{
    struct fwd *f = arg;

    f->checking = false;
    if (!f->done && f->call != NULL && !f->s->stopping) {
        if (fwd_leader_moved(f)) {
            f->deposed = true;
            http_call_cancel(f->call);
        } else if (api_later(f->s, DEPOSED_CHECK_MS, fwd_check_deposed, f) == 0) {
            f->checking = true;
            return; /* keeps its reference */
        }
    }
    fwd_unref(f);
}

static void fwd_retry_or_fail(struct fwd *f, int err)
{
    if (!f->s->stopping && uv_now(f->s->loop) < f->deadline
        && api_later(f->s, RETRY_MS, fwd_try, f) == 0)
        return;
    fwd_finish(f, f->s->stopping ? ORC_ESHUTDOWN : err, NULL);
}

static void fwd_local_done(void *arg, int status, const struct store_txn_result *res)
{
    fwd_finish(arg, outcome_unknown(status), res);
}

static void fwd_applied(void *arg, int status)
{
    struct fwd *f = arg;
    (void)status; /* committed either way; a slow apply only delays reads */
    fwd_finish(f, 0, &f->res);
}

static void fwd_on_response(void *arg, int err, const struct http_response *resp)
{
    struct fwd *f = arg;

    f->call = NULL;
    /* Canceled by the check above, or with the old leader's client when
     * another request found the new leader first. */
    if (err == ORC_ECANCELED && !f->s->stopping && (f->deposed || fwd_leader_moved(f))) {
        log_info("apiserver", "gave up on a txn forwarded to a deposed leader: outcome unknown");
        fwd_finish(f, ORC_ETIMEDOUT, NULL);
        return;
    }

    /* Retry only what the leader cannot have applied: nothing reached it
     * (no connection, or a TLS handshake cut short by a leader that died or
     * stalled: the request is sent only after it), or it answered that it
     * is not the leader. */
    if (err == ORC_EUNAVAIL || err == ORC_ETLS
        || (err == 0 && (resp->status == 503 || resp->status == 421))) {
        api_leader_client_drop(f->s, NULL, NULL);
        fwd_retry_or_fail(f, ORC_EUNAVAIL);
        return;
    }
    if (err == ORC_EIO) api_leader_client_drop(f->s, NULL, NULL);
    if (err != 0) { /* lost or cancelled after it was sent */
        fwd_finish(f, outcome_unknown(err), NULL);
        return;
    }
    if (resp->status == 504) { /* the leader lost its leadership mid-commit */
        fwd_finish(f, ORC_ETIMEDOUT, NULL);
        return;
    }
    if (resp->status != 200
        || store_txn_result_decode(resp->body, resp->body_len, &f->res) != 0) {
        log_warn("apiserver", "leader answered a forwarded txn with HTTP %d", resp->status);
        fwd_finish(f, ORC_EPROTO, NULL);
        return;
    }
    if (store_wait_revision(f->s->st, f->res.revision, APPLY_WAIT_MS, fwd_applied, f) != 0)
        fwd_finish(f, 0, &f->res);
}

static void fwd_try(void *arg)
{
    struct fwd *f = arg;
    struct api_server *s = f->s;
    http_client *c;
    struct http_request req = {0};

    if (s->stopping) {
        fwd_finish(f, ORC_ESHUTDOWN, NULL);
        return;
    }
    if (store_is_leader(s->st)) {
        if (store_txn_encoded(s->st, f->enc, f->enc_len, fwd_local_done, f) == 0) return;
        fwd_retry_or_fail(f, ORC_EUNAVAIL);
        return;
    }
    c = api_leader_client(s);
    if (c == NULL) {
        fwd_retry_or_fail(f, ORC_EUNAVAIL);
        return;
    }
    req.method = "POST";
    req.path = "/internal/v1/txn";
    req.content_type = "application/octet-stream";
    req.body = f->enc;
    req.body_len = f->enc_len;
    req.timeout_ms = 10000;
    if (http_request(c, &req, fwd_on_response, f, &f->call) != 0) {
        f->call = NULL;
        fwd_retry_or_fail(f, ORC_EUNAVAIL);
        return;
    }
    f->to = s->leader_client_id;
    if (!f->checking && api_later(s, DEPOSED_CHECK_MS, fwd_check_deposed, f) == 0) {
        f->checking = true;
        f->refs++;
    }
}

/* ---- encryption at rest ---- */

struct sealed_txn {
    struct store_txn txn;
    struct store_op *ops;
    struct orc_buf *vals;
    size_t n;
};

static void sealed_free(struct sealed_txn *t)
{
    for (size_t i = 0; i < t->n && t->vals; i++) orc_buf_free(&t->vals[i]);
    free(t->vals);
    free(t->ops);
}

/* The txn with the values of encrypted resources (--encryption-config)
 * in their stored form, so that no other member, nor the Raft log,
 * snapshots or state.db, sees them in clear. *out is txn itself when
 * nothing is encrypted. */
static int seal_txn(struct api_server *s, const struct store_txn *txn, struct sealed_txn *t,
                    const struct store_txn **out)
{
    int rv = 0;

    *out = txn;
    memset(t, 0, sizeof *t);
    if (s->enc == NULL || txn->n_ops == 0) return 0;
    t->ops = malloc(txn->n_ops * sizeof *t->ops);
    t->vals = calloc(txn->n_ops, sizeof *t->vals);
    t->n = txn->n_ops;
    if (t->ops == NULL || t->vals == NULL) return ORC_ENOMEM;
    memcpy(t->ops, txn->ops, txn->n_ops * sizeof *t->ops);
    for (size_t i = 0; i < txn->n_ops && rv == 0; i++) {
        if (txn->ops[i].type != STORE_PUT) continue;
        rv = api_enc_seal(s->enc, txn->ops[i].key, txn->ops[i].value, txn->ops[i].value_len,
                          &t->vals[i]);
        if (rv == 0 && t->vals[i].len > 0) {
            t->ops[i].value = t->vals[i].data;
            t->ops[i].value_len = t->vals[i].len;
        }
    }
    t->txn = *txn;
    t->txn.ops = t->ops;
    *out = &t->txn;
    return rv;
}

int api_txn(struct api_server *s, const struct store_txn *plain, store_txn_cb cb, void *arg)
{
    struct orc_buf enc = ORC_BUF_INIT;
    struct sealed_txn sealed;
    const struct store_txn *txn;
    struct fwd *f;
    int rv = ORC_ENOTLEADER;

    if (s->stopping) return ORC_ESHUTDOWN;
    if ((rv = seal_txn(s, plain, &sealed, &txn)) != 0) {
        sealed_free(&sealed);
        log_error("apiserver", "encrypting a write: %s", orc_strerror(rv));
        return rv;
    }
    rv = ORC_ENOTLEADER;
    if ((f = calloc(1, sizeof *f)) == NULL) {
        sealed_free(&sealed);
        return ORC_ENOMEM;
    }
    f->s = s;
    f->refs = 1;
    f->cb = cb;
    f->arg = arg;
    f->deadline = uv_now(s->loop) + LEADER_WAIT_MS;
    api_hold(s);
    if (store_is_leader(s->st)) rv = store_txn(s->st, txn, fwd_local_done, f);
    if (rv == ORC_ENOTLEADER) { /* not queued: forwarding cannot apply it twice */
        rv = store_txn_encode(txn, &enc);
        if (rv == 0) {
            f->enc = orc_buf_steal(&enc, &f->enc_len);
            fwd_try(f);
        }
    }
    if (rv != 0) {
        orc_buf_free(&enc);
        free(f);
        api_release(s);
    }
    sealed_free(&sealed);
    return rv;
}

/* ---- linearizable read point ---- */

struct rbar {
    struct api_server *s;
    void (*cb)(void *arg, int status);
    void *arg;
    uint64_t deadline;
};

static void rbar_try(void *arg);

static void rbar_finish(struct rbar *b, int status)
{
    struct api_server *s = b->s;

    b->cb(b->arg, status);
    free(b);
    api_release(s);
}

static void rbar_retry_or_fail(struct rbar *b, int err)
{
    if (!b->s->stopping && uv_now(b->s->loop) < b->deadline
        && api_later(b->s, RETRY_MS, rbar_try, b) == 0)
        return;
    rbar_finish(b, b->s->stopping ? ORC_ESHUTDOWN : err);
}

static void rbar_waited(void *arg, int status) { rbar_finish(arg, status); }

static void rbar_local(void *arg, int status, int64_t revision)
{
    struct rbar *b = arg;
    (void)revision;
    if (status == ORC_ENOTLEADER) rbar_retry_or_fail(b, ORC_EUNAVAIL);
    else rbar_finish(b, status);
}

static void rbar_on_response(void *arg, int err, const struct http_response *resp)
{
    struct rbar *b = arg;
    int64_t rev = 0;
    json_t *body;

    /* A read index has no side effect, so whatever kept it from the leader
     * is retried until the deadline: none reachable, the connection lost,
     * or the leader's client closed under it (ORC_ECANCELED) because
     * another request found that leader gone. */
    if (err == ORC_EUNAVAIL || err == ORC_EIO || err == ORC_ETLS || err == ORC_ETIMEDOUT
        || (err == 0 && (resp->status == 503 || resp->status == 421))) {
        api_leader_client_drop(b->s, NULL, NULL);
        rbar_retry_or_fail(b, err == ORC_ETIMEDOUT ? err : ORC_EUNAVAIL);
        return;
    }
    if (err == ORC_ECANCELED) {
        rbar_retry_or_fail(b, ORC_EUNAVAIL);
        return;
    }
    if (err != 0 || resp->status != 200) {
        rbar_finish(b, err ? err : ORC_EPROTO);
        return;
    }
    body = orc_json_loadb(resp->body, resp->body_len, JSON_ALLOW_NUL, NULL);
    if (body == NULL || orc_json_int(body, "revision", &rev) != 0) {
        json_decref(body);
        rbar_finish(b, ORC_EPROTO);
        return;
    }
    json_decref(body);
    if (store_wait_revision(b->s->st, rev, APPLY_WAIT_MS, rbar_waited, b) != 0)
        rbar_finish(b, ORC_EIO);
}

static void rbar_try(void *arg)
{
    struct rbar *b = arg;
    struct api_server *s = b->s;
    struct http_request req = {0};
    http_client *c;

    if (s->stopping) {
        rbar_finish(b, ORC_ESHUTDOWN);
        return;
    }
    if (store_is_leader(s->st)) {
        if (store_barrier(s->st, rbar_local, b) != 0) rbar_retry_or_fail(b, ORC_EUNAVAIL);
        return;
    }
    c = api_leader_client(s);
    if (c == NULL) {
        rbar_retry_or_fail(b, ORC_EUNAVAIL);
        return;
    }
    req.method = "GET";
    req.path = "/internal/v1/readindex";
    req.timeout_ms = 5000;
    if (http_request(c, &req, rbar_on_response, b, NULL) != 0) rbar_retry_or_fail(b, ORC_EUNAVAIL);
}

int api_read_barrier(struct api_server *s, void (*cb)(void *arg, int status), void *arg)
{
    struct rbar *b;

    if (s->stopping) return ORC_ESHUTDOWN;
    b = calloc(1, sizeof *b);
    if (b == NULL) return ORC_ENOMEM;
    b->s = s;
    b->cb = cb;
    b->arg = arg;
    b->deadline = uv_now(s->loop) + LEADER_WAIT_MS;
    api_hold(s);
    rbar_try(b);
    return 0;
}
