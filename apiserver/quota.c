/* quota.c — ResourceQuota enforcement. A create is checked against every
 * quota of its namespace with the namespace's usage counted from the
 * stored objects (pods not yet terminal, their containers' requests and
 * limits as max(sum of containers, largest init container); Services and
 * their nodePorts and load balancers; claims and their storage;
 * count/<resource>[.<group>] for any kind), and the quotas' new status is
 * put in the create's txn guarded on the revision read: a concurrent
 * create that passed the same quota makes this one retry and count again.
 * A quota with scopes or a scopeSelector counts and checks only the pods
 * it covers (quota_scope.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/quota.h"
#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/quantity.h"

#define MSG_MAX 1536

/* ---- usage ---- */

int64_t quota_get(const struct quota_usage *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->r[i].name, name) == 0) return u->r[i].milli;
    return 0;
}

static bool quota_has(const struct quota_usage *u, const char *name)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->r[i].name, name) == 0) return true;
    return false;
}

void quota_add(struct quota_usage *u, const char *name, int64_t milli)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->r[i].name, name) == 0) {
            u->r[i].milli += milli;
            return;
        }
    if (u->n == QUOTA_MAX_RES) return;
    snprintf(u->r[u->n].name, sizeof u->r[u->n].name, "%s", name);
    u->r[u->n++].milli = milli;
}

static int64_t qty(const json_t *v)
{
    int64_t m = 0;

    if (json_is_string(v) && orc_quantity_parse(json_string_value(v), &m) == 0) return m;
    if (json_is_integer(v)) return json_integer_value(v) * 1000;
    return 0;
}

/* What a container asks for, by the names quotas use: a request of cpu
 * counts for both "requests.cpu" and "cpu", as in Kubernetes. */
static void container_usage(const json_t *c, struct quota_usage *u)
{
    const json_t *req = orc_json_get(c, "resources.requests"), *lim = orc_json_get(c, "resources.limits");

    if (json_object_get(req, "cpu")) {
        quota_add(u, "requests.cpu", qty(json_object_get(req, "cpu")));
        quota_add(u, "cpu", qty(json_object_get(req, "cpu")));
    }
    if (json_object_get(req, "memory")) {
        quota_add(u, "requests.memory", qty(json_object_get(req, "memory")));
        quota_add(u, "memory", qty(json_object_get(req, "memory")));
    }
    if (json_object_get(lim, "cpu")) quota_add(u, "limits.cpu", qty(json_object_get(lim, "cpu")));
    if (json_object_get(lim, "memory")) quota_add(u, "limits.memory", qty(json_object_get(lim, "memory")));
}

static bool pod_counted(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");

    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) return false;
    return orc_json_get(pod, "metadata.deletionTimestamp") == NULL;
}

static void pod_usage(const json_t *pod, struct quota_usage *u)
{
    struct quota_usage sum = {0}, init = {0};
    const json_t *cs = orc_json_get(pod, "spec.containers"), *ics = orc_json_get(pod, "spec.initContainers");

    if (!pod_counted(pod)) return;
    quota_add(u, "pods", 1000);
    quota_add(u, "count/pods", 1000);
    for (size_t i = 0; i < json_array_size(cs); i++) container_usage(json_array_get(cs, i), &sum);
    for (size_t i = 0; i < json_array_size(ics); i++) {
        struct quota_usage one = {0};
        container_usage(json_array_get(ics, i), &one);
        for (size_t k = 0; k < one.n; k++)
            if (one.r[k].milli > quota_get(&init, one.r[k].name) || !quota_has(&init, one.r[k].name))
                quota_add(&init, one.r[k].name, one.r[k].milli - quota_get(&init, one.r[k].name));
    }
    for (size_t k = 0; k < init.n; k++)
        if (init.r[k].milli > quota_get(&sum, init.r[k].name) || !quota_has(&sum, init.r[k].name))
            quota_add(&sum, init.r[k].name, init.r[k].milli - quota_get(&sum, init.r[k].name));
    for (size_t k = 0; k < sum.n; k++) quota_add(u, sum.r[k].name, sum.r[k].milli);
}

static void service_usage(const json_t *svc, struct quota_usage *u)
{
    const char *type = orc_json_str(svc, "spec.type");
    const json_t *ports = orc_json_get(svc, "spec.ports");
    bool lb = type && strcmp(type, "LoadBalancer") == 0;

    quota_add(u, "services", 1000);
    quota_add(u, "count/services", 1000);
    if (lb) quota_add(u, "services.loadbalancers", 1000);
    if (lb || (type && strcmp(type, "NodePort") == 0))
        quota_add(u, "services.nodeports", (int64_t)json_array_size(ports) * 1000);
}

static void count_name(const struct orc_kind *k, char *out, size_t n)
{
    if (k->group[0]) snprintf(out, n, "count/%s.%s", k->resource, k->group);
    else snprintf(out, n, "count/%s", k->resource);
}

/* Core kinds quotas also count by their plain name. */
static bool plain_count(const struct orc_kind *k)
{
    static const char *const plain[] = {"configmaps", "secrets", "resourcequotas",
                                        "replicationcontrollers", "persistentvolumeclaims", NULL};

    for (size_t i = 0; !k->group[0] && plain[i]; i++)
        if (strcmp(k->resource, plain[i]) == 0) return true;
    return false;
}

void quota_usage_of(const struct orc_kind *k, const json_t *obj, struct quota_usage *u)
{
    char name[96];

    switch (orc_kind_id(k)) {
    case ORC_K_POD: pod_usage(obj, u); return;
    case ORC_K_SERVICE: service_usage(obj, u); return;
    default: break;
    }
    count_name(k, name, sizeof name);
    quota_add(u, name, 1000);
    if (plain_count(k)) quota_add(u, k->resource, 1000);
    if (strcmp(k->resource, "persistentvolumeclaims") == 0 && !k->group[0])
        quota_add(u, "requests.storage", qty(orc_json_get(obj, "spec.resources.requests.storage")));
}

/* The kind a quota's resource name counts. */
static const struct orc_kind *kind_for(const char *name)
{
    static const char *const pods[] = {"pods", "cpu", "memory", "requests.cpu", "requests.memory",
                                       "limits.cpu", "limits.memory", NULL};
    char res[96], *dot;

    for (size_t i = 0; pods[i]; i++)
        if (strcmp(name, pods[i]) == 0) return orc_kind_by_resource("", "pods");
    if (strncmp(name, "services", 8) == 0) return orc_kind_by_resource("", "services");
    if (strcmp(name, "requests.storage") == 0) return orc_kind_by_resource("", "persistentvolumeclaims");
    if (strncmp(name, "count/", 6) != 0) return orc_kind_by_resource("", name);
    snprintf(res, sizeof res, "%s", name + 6);
    if ((dot = strchr(res, '.')) == NULL) return orc_kind_by_resource("", res);
    *dot = '\0';
    return orc_kind_by_resource(dot + 1, res);
}

/* The namespace's usage of every resource quota q's spec.hard names, of
 * the objects q covers: each kind they need listed once. */
static int ns_usage(struct api_server *s, const char *ns, const json_t *q, struct quota_usage *u)
{
    const json_t *hard = orc_json_get(q, "spec.hard");
    const struct orc_kind *done[QUOTA_MAX_RES];
    size_t n_done = 0;
    const char *name;
    json_t *v;
    int rv = 0;

    memset(u, 0, sizeof *u);
    json_object_foreach((json_t *)hard, name, v) {
        const struct orc_kind *k = kind_for(name);
        struct orc_buf prefix = ORC_BUF_INIT;
        struct store_list l = {0};
        bool seen = false;

        for (size_t i = 0; i < n_done; i++) seen |= done[i] == k;
        if (k == NULL || seen || !k->namespaced || n_done == QUOTA_MAX_RES) continue;
        done[n_done++] = k;
        if ((rv = api_prefix(k, ns, &prefix)) == 0) rv = store_range(s->st, prefix.data, NULL, 0, 0, &l);
        for (size_t i = 0; rv == 0 && i < l.n; i++) {
            json_t *obj = api_obj_decode(l.kvs[i].value, l.kvs[i].value_len, l.kvs[i].mod_rev);
            if (obj && quota_covers(q, k, obj)) quota_usage_of(k, obj, u);
            json_decref(obj);
        }
        store_list_clear(&l);
        orc_buf_free(&prefix);
        if (rv != 0) return rv;
    }
    return 0;
}

/* ---- admission ---- */

static int binary_of(const char *name)
{
    return strstr(name, "memory") || strstr(name, "storage");
}

static void fmt_amount(const char *name, int64_t milli, char *out, size_t n)
{
    orc_quantity_format(milli, binary_of(name), out, n);
}

static void append_pair(char *out, size_t n, const char *name, int64_t milli)
{
    char q[48];
    size_t len = strlen(out);

    fmt_amount(name, milli, q, sizeof q);
    snprintf(out + len, n - len, "%s%s=%s", len ? "," : "", name, q);
}

static void forbid(struct write_op *op, const char *name, const char *msg)
{
    char res[128];

    api_resource_name(op->k, res, sizeof res);
    api_respond_status(op->r, 403, "Forbidden", op->k, name, NULL, "%s \"%s\" is forbidden: %s", res, name,
                       msg);
}

/* Kubernetes' pod evaluator constraint: a quota on cpu or memory needs
 * each container to say its own (resource -> container names, sorted). */
static bool pod_constraints(const json_t *pod, const json_t *hard, const char *quota, char *msg, size_t n)
{
    static const char *const checked[] = {"cpu", "limits.cpu", "limits.memory", "memory",
                                          "requests.cpu", "requests.memory", NULL};
    const char *lists[] = {"spec.containers", "spec.initContainers"};
    size_t len;

    snprintf(msg, n, "failed quota: %s: must specify ", quota);
    len = strlen(msg);
    for (size_t r = 0; checked[r]; r++) {
        json_t *missing; /* container names as a set: sorted, once each */
        if (json_object_get(hard, checked[r]) == NULL || (missing = json_object()) == NULL) continue;
        for (size_t l = 0; l < 2; l++) {
            const json_t *cs = orc_json_get(pod, lists[l]);
            for (size_t i = 0; i < json_array_size(cs); i++) {
                struct quota_usage cu = {0};
                const char *cname = orc_json_str(json_array_get(cs, i), "name");
                container_usage(json_array_get(cs, i), &cu);
                if (!quota_has(&cu, checked[r]))
                    json_object_set_new(missing, cname ? cname : "", json_true());
            }
        }
        size_t nk;
        const char **names = orc_json_sorted_keys(missing, &nk);
        for (size_t i = 0; i < nk; i++) {
            size_t ml = strlen(msg);
            if (i == 0)
                snprintf(msg + ml, n - ml, "%s%s for: %s", ml > len ? "; " : "", checked[r], names[i]);
            else
                snprintf(msg + ml, n - ml, ",%s", names[i]);
        }
        free(names);
        json_decref(missing);
    }
    return strlen(msg) > len;
}

/* Whether usage plus delta passes hard for a resource delta uses; msg
 * then says which, in Kubernetes' words. */
static bool exceeds(const json_t *hard, const struct quota_usage *used, const struct quota_usage *delta,
                    const char *quota, char *msg, size_t n)
{
    char req[400] = "", use[400] = "", lim[400] = "";
    size_t nk;
    const char **keys = orc_json_sorted_keys(hard, &nk);

    for (size_t i = 0; i < nk; i++) {
        if (!quota_has(delta, keys[i])) continue;
        int64_t h = qty(json_object_get(hard, keys[i]));
        int64_t want = quota_get(used, keys[i]) + quota_get(delta, keys[i]);
        if (want <= h) continue;
        append_pair(req, sizeof req, keys[i], quota_get(delta, keys[i]));
        append_pair(use, sizeof use, keys[i], quota_get(used, keys[i]));
        append_pair(lim, sizeof lim, keys[i], h);
    }
    free(keys);
    if (req[0] == '\0') return false;
    snprintf(msg, n, "exceeded quota: %s, requested: %s, used: %s, limited: %s", quota, req, use, lim);
    return true;
}

/* status {hard, used} of a quota from the usage (plus delta, when given). */
static int set_status(json_t *q, const json_t *hard, const struct quota_usage *used,
                      const struct quota_usage *delta)
{
    json_t *st = json_object(), *u = json_object();
    const char *name;
    json_t *v;
    char amount[48];

    if (st == NULL || u == NULL) goto fail;
    json_object_foreach((json_t *)hard, name, v) {
        int64_t m = quota_get(used, name) + (delta ? quota_get(delta, name) : 0);
        fmt_amount(name, m, amount, sizeof amount);
        if (json_object_set_new(u, name, json_string(amount)) != 0) goto fail;
    }
    if (json_object_set_new(st, "hard", json_deep_copy(hard)) != 0
        || json_object_set_new(st, "used", u) != 0) {
        u = NULL;
        goto fail;
    }
    return json_object_set_new(q, "status", st) == 0 ? 0 : ORC_ENOMEM;
fail:
    json_decref(u);
    json_decref(st);
    return ORC_ENOMEM;
}

void quota_plan_clear(struct quota_plan *plan)
{
    for (size_t i = 0; i < QUOTA_MAX_QUOTAS; i++) {
        orc_buf_free(&plan->q[i].key);
        orc_buf_free(&plan->q[i].val);
    }
    memset(plan, 0, sizeof *plan);
}

/* One quota against the create: 0 (planned when it applies), ORC_EPERM
 * with why in msg, or an error. Answers nothing: answering frees op. */
static int admit_one(struct write_op *op, const json_t *obj, const struct store_kv *kv,
                     const struct quota_usage *delta, struct quota_plan *plan, char *msg, size_t n)
{
    json_t *q = api_obj_decode(kv->value, kv->value_len, kv->mod_rev);
    const json_t *hard = orc_json_get(q, "spec.hard");
    const char *qname = orc_json_str(q, "metadata.name");
    struct quota_usage used;
    bool applies = false;
    int rv = 0;

    if (q == NULL) return ORC_ECORRUPT;
    if (!quota_covers(q, op->k, obj) || !json_is_object(hard)) goto out;
    if (orc_kind_id(op->k) == ORC_K_POD && pod_constraints(obj, hard, qname, msg, n)) {
        rv = ORC_EPERM;
        goto out;
    }
    for (size_t i = 0; i < delta->n; i++) applies |= json_object_get(hard, delta->r[i].name) != NULL;
    if (!applies) goto out;
    if ((rv = ns_usage(op->s, op->rt->ns, q, &used)) != 0) goto out;
    if (exceeds(hard, &used, delta, qname, msg, n)) {
        rv = ORC_EPERM;
        goto out;
    }
    if (plan->n == QUOTA_MAX_QUOTAS) goto out;
    rv = set_status(q, hard, &used, delta);
    orc_json_del(q, "metadata.resourceVersion");
    if (rv == 0) rv = orc_buf_puts(&plan->q[plan->n].key, kv->key);
    if (rv == 0) rv = api_obj_encode(q, &plan->q[plan->n].val);
    plan->q[plan->n].rev = kv->mod_rev;
    if (rv == 0) plan->n++;
out:
    json_decref(q);
    return rv;
}

/* Every quota of the namespace against delta (what obj adds). */
static int admit_delta(struct write_op *op, const json_t *obj, const struct quota_usage *delta,
                       struct quota_plan *plan)
{
    const struct orc_kind *rq = orc_kind_by_resource("", "resourcequotas");
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};
    const char *name = orc_json_str(obj, "metadata.name");
    char msg[MSG_MAX] = "";
    int rv;

    rv = api_prefix(rq, op->rt->ns, &prefix);
    if (rv == 0) rv = store_range(op->s->st, prefix.data, NULL, 0, 0, &l);
    for (size_t i = 0; rv == 0 && i < l.n; i++)
        rv = admit_one(op, obj, &l.kvs[i], delta, plan, msg, sizeof msg);
    store_list_clear(&l);
    orc_buf_free(&prefix);
    if (rv == 0) return 0;
    quota_plan_clear(plan); /* before answering, which frees op */
    if (rv == ORC_EPERM) forbid(op, name ? name : op->rt->name, msg);
    else api_respond_error(op->r, rv, "checking resource quotas");
    return rv;
}

int quota_admit(struct write_op *op, const json_t *obj, struct quota_plan *plan)
{
    struct quota_usage delta = {0};

    quota_plan_clear(plan);
    if (!op->k->namespaced || !op->rt->ns[0]) return 0;
    quota_usage_of(op->k, obj, &delta);
    return admit_delta(op, obj, &delta, plan);
}

int quota_admit_update(struct write_op *op, const json_t *cur, const json_t *next, struct quota_plan *plan)
{
    struct quota_usage before = {0}, after = {0}, delta = {0};

    quota_plan_clear(plan);
    /* a pod's requests and limits cannot change (its spec is immutable there) */
    if (!op->k->namespaced || !op->rt->ns[0] || orc_kind_id(op->k) == ORC_K_POD) return 0;
    quota_usage_of(op->k, cur, &before);
    quota_usage_of(op->k, next, &after);
    for (size_t i = 0; i < after.n; i++) {
        int64_t grow = after.r[i].milli - quota_get(&before, after.r[i].name);
        if (grow > 0) quota_add(&delta, after.r[i].name, grow);
    }
    return delta.n ? admit_delta(op, next, &delta, plan) : 0;
}

/* ---- the leader's upkeep ---- */

static void on_synced(void *arg, int status, const struct store_txn_result *res)
{
    (void)arg;
    (void)res;
    if (status != 0 && status != ORC_ESHUTDOWN)
        log_debug("apiserver", "resource quota status: %s", orc_strerror(status));
}

static void sync_one(struct api_server *s, const struct store_kv *kv, int *budget)
{
    json_t *q = api_obj_decode(kv->value, kv->value_len, kv->mod_rev), *want = NULL;
    const json_t *hard = orc_json_get(q, "spec.hard");
    char ns[256];
    const char *qns = orc_json_str(q, "metadata.namespace");
    struct quota_usage used;
    struct orc_buf val = ORC_BUF_INIT;

    if (q == NULL || !json_is_object(hard) || qns == NULL) goto out;
    snprintf(ns, sizeof ns, "%s", qns);
    if (ns_usage(s, ns, q, &used) != 0 || (want = json_deep_copy(q)) == NULL) goto out;
    if (set_status(want, hard, &used, NULL) != 0) goto out;
    if (json_equal(orc_json_get(want, "status"), orc_json_get(q, "status"))) goto out;
    orc_json_del(want, "metadata.resourceVersion");
    if (api_obj_encode(want, &val) == 0) {
        struct store_guard g = {STORE_GUARD_MODREV, kv->key, kv->mod_rev};
        struct store_op op = {STORE_PUT, kv->key, val.data, val.len};
        struct store_txn txn = {&g, 1, &op, 1};
        if (api_txn(s, &txn, on_synced, NULL) == 0) (*budget)--;
    }
out:
    orc_buf_free(&val);
    json_decref(want);
    json_decref(q);
}

void api_quota_sync(struct api_server *s, int *budget)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    struct store_list l = {0};

    if (api_prefix(orc_kind_by_resource("", "resourcequotas"), NULL, &prefix) == 0
        && store_range(s->st, prefix.data, NULL, 0, 0, &l) == 0)
        for (size_t i = 0; i < l.n && *budget > 0; i++) sync_one(s, &l.kvs[i], budget);
    store_list_clear(&l);
    orc_buf_free(&prefix);
}
