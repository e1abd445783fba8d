/* evict.c — pods/eviction (policy/v1 Eviction): deletes the pod with the
 * Eviction's deleteOptions unless a PodDisruptionBudget selecting it has no
 * disruption to spare (429). The budget is counted at the eviction from the
 * stored pods it selects (healthy = Ready and not being deleted; expected =
 * those not finished; lib/pdb.c, as the disruption controller counts), not
 * from the status the controller last wrote, which may lag. As in Kubernetes,
 * the budget's status is written in the same txn as the pod's deletion,
 * guarded on the budget's revision, so concurrent evictions (kubectl drain
 * sends them in parallel) are serialized: the loser retries and counts
 * again. The evicted pod is marked in status.disruptedPods, so that the
 * disruption controller does not count it healthy if it sees the budget
 * before the pod's deletion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/write.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/pdb.h"
#include "lib/timeutil.h"

#define EVICT_MAX_LIST 10000

struct budget_count {
    long long healthy;
    long long expected;
};

/* Kubernetes evicts without looking at budgets a pod that is finished,
 * still pending, or already being deleted. */
static bool ignores_budgets(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    return !orc_pdb_pod_expected(pod) || (phase && strcmp(phase, "Pending") == 0)
           || orc_json_get(pod, "metadata.deletionTimestamp");
}

static int list_kind(struct write_op *op, const struct orc_kind *k, struct store_list *l)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    int rv = api_prefix(k, op->rt->ns, &prefix);
    if (rv == 0) rv = store_range(op->s->st, prefix.data, NULL, 0, EVICT_MAX_LIST, l);
    orc_buf_free(&prefix);
    return rv;
}

static int count_budget(struct write_op *op, const json_t *pdb, struct budget_count *out)
{
    struct store_list l = {0};
    int rv = list_kind(op, op->k, &l);
    out->healthy = out->expected = 0;
    for (size_t i = 0; rv == 0 && i < l.n; i++) {
        json_t *pod = api_obj_decode(l.kvs[i].value, l.kvs[i].value_len, l.kvs[i].mod_rev);
        if (pod && orc_pdb_selects(pdb, pod) && orc_pdb_pod_expected(pod)) {
            out->expected++;
            if (orc_pdb_pod_healthy(pod)) out->healthy++;
        }
        json_decref(pod);
    }
    store_list_clear(&l);
    return rv;
}

/* The budget's status after this eviction, written with it (op->also_*). */
static int record_budget(struct write_op *op, const struct store_kv *kv, json_t *pdb,
                         const struct budget_count *c, long long desired, bool healthy)
{
    long long now_healthy = c->healthy - (healthy ? 1 : 0);
    long long allowed = now_healthy - desired;
    int64_t gen = 0;
    orc_json_int(pdb, "metadata.generation", &gen);
    json_t *st = json_object_get(pdb, "status");
    if (!json_is_object(st)) json_object_set_new(pdb, "status", st = json_object());
    if (st == NULL) return ORC_ENOMEM;
    json_object_set_new(st, "currentHealthy", json_integer(now_healthy));
    json_object_set_new(st, "desiredHealthy", json_integer(desired));
    json_object_set_new(st, "expectedPods", json_integer(c->expected));
    json_object_set_new(st, "disruptionsAllowed", json_integer(allowed > 0 ? allowed : 0));
    json_object_set_new(st, "observedGeneration", json_integer(gen));
    int rv = orc_pdb_mark_disrupted(st, op->rt->name, orc_time_unix());
    if (rv != 0) return rv;
    orc_buf_reset(&op->also_key);
    orc_buf_reset(&op->also_val);
    op->also_rev = kv->mod_rev;
    rv = orc_buf_puts(&op->also_key, kv->key);
    if (rv == 0) rv = api_obj_encode(pdb, &op->also_val);
    return rv;
}

static void refuse(struct write_op *op, const char *pdb_name, long long desired, long long healthy)
{
    char why[512];
    snprintf(why, sizeof why, "The disruption budget %s needs %lld healthy pods and has %lld "
                              "currently", pdb_name, desired, healthy);
    json_t *causes = json_pack("[{s:s, s:s}]", "reason", "DisruptionBudget", "message", why);
    api_respond_status(op->r, 429, "TooManyRequests", op->k, op->rt->name, causes,
                       "Cannot evict pod as it would violate the pod's disruption budget.");
}

/* 0 when the budget (if any) allows the eviction; otherwise answered. */
static int check_budgets(struct write_op *op, const json_t *pod)
{
    struct store_list l = {0};
    json_t *match = NULL;
    const struct store_kv *match_kv = NULL;
    size_t n = 0;
    int rv = list_kind(op, orc_kind_by_resource("policy", "poddisruptionbudgets"), &l);

    for (size_t i = 0; rv == 0 && i < l.n; i++) {
        json_t *pdb = api_obj_decode(l.kvs[i].value, l.kvs[i].value_len, l.kvs[i].mod_rev);
        if (pdb && orc_pdb_selects(pdb, pod) && n++ == 0) {
            match = json_incref(pdb);
            match_kv = &l.kvs[i];
        }
        json_decref(pdb);
    }
    if (rv != 0) {
        api_respond_error(op->r, rv, "reading the disruption budgets");
    } else if (n > 1) {
        api_respond_status(op->r, 500, "InternalError", op->k, op->rt->name, NULL,
                           "This pod has more than one PodDisruptionBudget, which the eviction "
                           "subresource does not support.");
        rv = ORC_EINVAL;
    } else if (match) {
        struct budget_count c;
        const char *policy = orc_json_str(match, "spec.unhealthyPodEvictionPolicy");
        rv = count_budget(op, match, &c);
        long long desired = orc_pdb_desired_healthy(match, c.expected);
        bool allowed = orc_pdb_pod_healthy(pod) ? c.healthy - desired > 0
                                        : (policy && strcmp(policy, "AlwaysAllow") == 0)
                                              || c.healthy >= desired;
        if (rv != 0) {
            api_respond_error(op->r, rv, "reading the pods");
        } else if (!allowed) {
            const char *name = orc_json_str(match, "metadata.name");
            refuse(op, name ? name : "", desired, c.healthy);
            rv = ORC_ECONFLICT;
        } else if ((rv = record_budget(op, match_kv, match, &c, desired, orc_pdb_pod_healthy(pod))) != 0) {
            api_respond_error(op->r, rv, "recording the disruption");
        }
    }
    json_decref(match);
    store_list_clear(&l);
    return rv;
}

json_t *mut_evict(struct write_op *op, const json_t *cur)
{
    json_t *next;
    if (!ignores_budgets(cur) && check_budgets(op, cur) != 0) return NULL;
    next = mut_delete(op, cur);
    if (next == NULL) return NULL;
    op->ok_code = 201;
    op->response = json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                             "metadata", "status", "Success", "code", 201);
    if (op->response == NULL) {
        json_decref(next);
        api_respond_error(op->r, ORC_ENOMEM, "evicting");
        return NULL;
    }
    return next;
}

/* The Eviction in op->input becomes its deleteOptions, which the delete
 * then reads as a delete's body. */
int write_evict_input(struct write_op *op)
{
    json_t *ev = op->input;
    const char *kind = orc_json_str(ev, "kind"), *av = orc_json_str(ev, "apiVersion");
    const char *name = orc_json_str(ev, "metadata.name");

    if (!json_is_object(ev) || (kind && *kind && strcmp(kind, "Eviction") != 0)) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "the body of an eviction must be a policy/v1 Eviction");
        return ORC_EINVAL;
    }
    if (av && *av && strcmp(av, "policy/v1") != 0 && strcmp(av, "policy/v1beta1") != 0) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "Eviction of apiVersion %s is not served (policy/v1)", av);
        return ORC_EINVAL;
    }
    if (name && strcmp(name, op->rt->name) != 0) {
        api_respond_status(op->r, 400, "BadRequest", NULL, NULL, NULL,
                           "name in URL does not match name in Eviction object");
        return ORC_EINVAL;
    }
    json_t *opts = json_object_get(ev, "deleteOptions");
    op->input = json_is_null(opts) ? NULL : json_incref(opts);
    json_decref(ev);
    return 0;
}
