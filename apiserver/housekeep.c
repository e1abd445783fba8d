/* housekeep.c — leader-only upkeep that Kubernetes runs in its controller
 * manager and API server: a namespace being deleted is emptied (objects
 * deleted, or marked for deletion when they have finalizers or run on a
 * node) and then removed; Events expire after --event-ttl (an hour by
 * default; swept a bounded batch a tick, resumed where the last stopped,
 * so a backlog drains without flooding Raft); expired bootstrap
 * tokens are deleted; default/kubernetes lists the members' API addresses
 * (kubesvc.c); ResourceQuotas' status follows their namespace's usage
 * (quota.c). Runs on a timer, a bounded batch per tick, with guarded txns so it never overwrites a
 * concurrent change (a lost race is simply retried on the next tick). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/quota.h"
#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define TICK_MS 1000
#define EVENT_SWEEP_MAX 60 /* ticks between sweeps, fewer for a short TTL */
#define BATCH 200            /* objects touched per tick */
#define QUOTA_SYNC_EVERY 2 /* ticks between ResourceQuota status updates (quota.c) */
#define KUBE_ENDPOINTS_EVERY 5 /* ticks between looks at the members' addresses */
#define TOKEN_SWEEP_EVERY 5    /* ticks between looks for expired bootstrap tokens */

struct api_housekeep {
    struct api_server *s;
    uv_timer_t timer;
    unsigned ticks;
    int budget; /* objects this tick may still touch */
    char *ev_cursor; /* where an Event sweep cut short by the budget resumes */
    unsigned ev_next; /* tick of the next sweep */
};

static void on_written(void *arg, int status, const struct store_txn_result *res)
{
    (void)arg;
    (void)res;
    if (status != 0 && status != ORC_ESHUTDOWN)
        log_debug("apiserver", "housekeeping write: %s", orc_strerror(status));
}

/* Deletes the key, or stores `obj`, guarded on the revision read. A
 * deleted Service (`gone`) frees its clusterIP and nodePorts in the txn. */
static void write_guarded(struct api_housekeep *h, const char *key, int64_t mod_rev,
                          const json_t *obj, const json_t *gone)
{
    struct orc_buf val = ORC_BUF_INIT;
    struct store_guard g = {STORE_GUARD_MODREV, key, mod_rev};
    struct store_op ops[1 + API_SVC_HELD_MAX] = {{obj ? STORE_PUT : STORE_DELETE, key, NULL, 0}};
    struct store_txn txn = {&g, 1, ops, 1};
    char held[API_SVC_HELD_MAX][64];
    size_t n = gone ? api_svc_held_keys(gone, held, API_SVC_HELD_MAX) : 0;

    for (size_t i = 0; i < n; i++) ops[txn.n_ops++] = (struct store_op){STORE_DELETE, held[i], NULL, 0};
    if (obj && api_obj_encode((json_t *)obj, &val) != 0) goto out;
    ops[0].value = val.data;
    ops[0].value_len = val.len;
    if (api_txn(h->s, &txn, on_written, h) != 0) log_debug("apiserver", "housekeeping: txn refused");
    h->budget--;
out:
    orc_buf_free(&val);
}

static bool has_finalizers(const json_t *obj)
{
    return json_array_size(orc_json_get(obj, "metadata.finalizers")) > 0;
}

/* A pod on a node that exists is left for that node to stop; one whose node
 * is gone is deleted at once (as Kubernetes' pod garbage collector does). */
static bool pod_needs_its_node(struct api_server *s, const json_t *pod)
{
    const char *node = orc_json_str(pod, "spec.nodeName");
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    bool exists;

    if (node == NULL || *node == '\0') return false;
    api_key(orc_kind_by_resource("", "nodes"), NULL, node, &key);
    exists = store_get(s->st, key.data, &kv) == 0;
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return exists;
}

/* One object of a namespace being emptied: deleted, or marked for deletion
 * when finalizers or its node have to finish it. */
static void empty_one(struct api_housekeep *h, const struct orc_kind *k, const struct store_kv *kv)
{
    json_t *obj = orc_json_loadb(kv->value, kv->value_len, JSON_ALLOW_NUL, NULL);
    char ts[ORC_TIME_LEN];
    bool marked;

    if (obj == NULL) return;
    marked = orc_json_get(obj, "metadata.deletionTimestamp") != NULL;
    bool graceful = api_kind_of(k)->graceful_delete && pod_needs_its_node(h->s, obj);
    if (!has_finalizers(obj) && !graceful) {
        write_guarded(h, kv->key, kv->mod_rev, NULL,
                      orc_kind_id(k) == ORC_K_SERVICE ? obj : NULL);
    } else if (!marked) {
        int64_t grace = 30;
        if (graceful) orc_json_int(obj, "spec.terminationGracePeriodSeconds", &grace);
        orc_time_format(orc_time_unix() + (graceful ? grace : 0), ts);
        orc_json_set(obj, "metadata.deletionTimestamp", json_string(ts));
        orc_json_set(obj, "metadata.deletionGracePeriodSeconds", json_integer(graceful ? grace : 0));
        write_guarded(h, kv->key, kv->mod_rev, obj, NULL);
    }
    json_decref(obj);
}

/* Objects left in namespace ns (after acting on up to the budget). */
static size_t empty_namespace(struct api_housekeep *h, const char *ns)
{
    size_t nk, left = 0;
    const struct orc_kind *kinds = orc_kinds(&nk);

    for (size_t i = 0; i < nk; i++) {
        struct orc_buf prefix = ORC_BUF_INIT;
        struct store_list l = {0};
        if (!kinds[i].namespaced || orc_kind_served_only(&kinds[i])) continue;
        api_prefix(&kinds[i], ns, &prefix);
        if (store_range(h->s->st, prefix.data, NULL, 0, BATCH, &l) == 0) {
            for (size_t j = 0; j < l.n && h->budget > 0; j++) empty_one(h, &kinds[i], &l.kvs[j]);
            left += l.n + (l.more ? 1 : 0);
        }
        store_list_clear(&l);
        orc_buf_free(&prefix);
    }
    return left;
}

/* An emptied namespace loses its "kubernetes" finalizer and is removed. */
static void finish_namespace(struct api_housekeep *h, const struct store_kv *kv, json_t *ns)
{
    if (has_finalizers(ns)) {
        if (json_array_size(orc_json_get(ns, "spec.finalizers")) == 0) return;
        orc_json_set(ns, "spec.finalizers", json_array());
        write_guarded(h, kv->key, kv->mod_rev, ns, NULL);
        return;
    }
    log_info("apiserver", "namespace %s emptied and removed", orc_json_str(ns, "metadata.name"));
    write_guarded(h, kv->key, kv->mod_rev, NULL, NULL);
}

static void sweep_namespaces(struct api_housekeep *h)
{
    const struct orc_kind *nsk = orc_kind_by_resource("", "namespaces");
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};

    api_prefix(nsk, NULL, &prefix);
    if (store_range(h->s->st, prefix.data, NULL, 0, 0, &l) == 0) {
        for (size_t i = 0; i < l.n && h->budget > 0; i++) {
            json_t *ns = orc_json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_ALLOW_NUL, NULL);
            const char *name = orc_json_str(ns, "metadata.name");
            if (name && orc_json_get(ns, "metadata.deletionTimestamp")
                && empty_namespace(h, name) == 0)
                finish_namespace(h, &l.kvs[i], ns);
            json_decref(ns);
        }
    }
    store_list_clear(&l);
    orc_buf_free(&prefix);
}

/* When the event last happened: a core recorder's lastTimestamp, an
 * events.k8s.io/v1 recorder's series.lastObservedTime (or its eventTime,
 * the first), else when it was written. */
static int64_t event_time(const json_t *ev)
{
    const char *fields[] = {"lastTimestamp", "series.lastObservedTime", "eventTime",
                            "metadata.creationTimestamp"};
    int64_t t;

    for (size_t i = 0; i < ORC_ARRAY_LEN(fields); i++) {
        const char *s = orc_json_str(ev, fields[i]);
        if (s && orc_time_parse(s, &t) == 0) return t;
    }
    return 0;
}

static unsigned sweep_every(const struct api_housekeep *h)
{
    unsigned every = h->s->event_ttl_s / 4;
    return every < 1 ? 1 : every > EVENT_SWEEP_MAX ? EVENT_SWEEP_MAX : every;
}

/* Deletes Events last seen before the TTL, up to the tick's budget; a sweep
 * that ran out of it goes on from there next tick. */
static void expire_events(struct api_housekeep *h)
{
    const struct orc_kind *evk = orc_kind_by_resource("", "events");
    struct orc_buf prefix = ORC_BUF_INIT;
    char *cursor = h->ev_cursor;
    int64_t cutoff = orc_time_unix() - (int64_t)h->s->event_ttl_s;
    bool cut_short = false;

    h->ev_cursor = NULL;
    api_prefix(evk, NULL, &prefix);
    while (h->budget > 0) {
        struct store_list l = {0};
        if (store_range(h->s->st, prefix.data, cursor, 0, BATCH, &l) != 0) break;
        size_t i;
        for (i = 0; i < l.n && h->budget > 0; i++) {
            json_t *ev = orc_json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_ALLOW_NUL, NULL);
            int64_t t = ev ? event_time(ev) : 0;
            if (t > 0 && t < cutoff) write_guarded(h, l.kvs[i].key, l.kvs[i].mod_rev, NULL, NULL);
            json_decref(ev);
        }
        bool more = (l.more || i < l.n) && i > 0;
        cut_short = h->budget <= 0 && more;
        free(cursor);
        cursor = more ? strdup(l.kvs[i - 1].key) : NULL;
        store_list_clear(&l);
        if (cursor == NULL) break;
    }
    if (cut_short) h->ev_cursor = cursor;
    else free(cursor);
    orc_buf_free(&prefix);
}

/* Expired bootstrap tokens are deleted (Kubernetes' tokencleaner); the
 * authenticator refuses them already. Only kube-system's Secrets are read. */
static void expire_bootstrap_tokens(struct api_housekeep *h)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};

    api_prefix(orc_kind_by_resource("", "secrets"), "kube-system", &prefix);
    if (store_range(h->s->st, prefix.data, NULL, 0, BATCH, &l) == 0) {
        for (size_t i = 0; i < l.n && h->budget > 0; i++) {
            json_t *sec = orc_json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_ALLOW_NUL, NULL);
            if (sec && strcmp(orc_json_str(sec, "type") ?: "", API_BOOTSTRAP_TOKEN_TYPE) == 0
                && api_bootstrap_secret_expired(sec)) {
                log_info("apiserver", "deleting expired bootstrap token %s", orc_json_str(sec, "metadata.name"));
                write_guarded(h, l.kvs[i].key, l.kvs[i].mod_rev, NULL, NULL);
            }
            json_decref(sec);
        }
    }
    store_list_clear(&l);
    orc_buf_free(&prefix);
}

static void on_tick(uv_timer_t *t)
{
    struct api_housekeep *h = t->data;

    if (!store_is_leader(h->s->st) || h->s->stopping) return;
    h->budget = BATCH;
    if (api_ns_any_terminating(h->s)) sweep_namespaces(h);
    if (h->ticks % KUBE_ENDPOINTS_EVERY == 0) api_kubernetes_endpoints(h->s, NULL);
    if (h->ticks % QUOTA_SYNC_EVERY == 0) api_quota_sync(h->s, &h->budget);
    if (h->ticks % TOKEN_SWEEP_EVERY == 0) expire_bootstrap_tokens(h);
    if (h->ev_cursor || h->ticks >= h->ev_next) {
        if (h->ev_cursor == NULL) h->ev_next = h->ticks + sweep_every(h);
        expire_events(h);
    }
    h->ticks++;
}

int api_housekeep_start(struct api_server *s)
{
    struct api_housekeep *h = calloc(1, sizeof *h);

    if (h == NULL) return ORC_ENOMEM;
    h->s = s;
    uv_timer_init(s->loop, &h->timer);
    h->timer.data = h;
    uv_timer_start(&h->timer, on_tick, TICK_MS, TICK_MS);
    s->housekeep = h;
    return 0;
}

static void timer_closed(uv_handle_t *handle)
{
    struct api_housekeep *h = handle->data;
    free(h->ev_cursor);
    free(h);
}

void api_housekeep_stop(struct api_server *s)
{
    struct api_housekeep *h = s->housekeep;

    if (h == NULL) return;
    s->housekeep = NULL;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed);
}
