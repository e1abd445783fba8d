/* spread.c — topologySpreadConstraints, as Kubernetes' PodTopologySpread
 * plugin decides them: DoNotSchedule constraints filter (a node's domain
 * may hold at most maxSkew more matching pods than the emptiest eligible
 * domain, counting the pod itself when it matches), ScheduleAnyway ones
 * score (fewer matching pods in the node's domain is better, weighted by
 * the log of the number of domains, then normalized to 0..100). Eligible
 * domains come from nodes carrying every topology key and passing the
 * constraint's nodeAffinityPolicy (default Honor) and nodeTaintsPolicy
 * (default Ignore). Counts and domains come from the cache's per-node
 * arrays (spread_index.c): a decision costs one pass over the nodes, never
 * one over the pods, and no label lookups. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "scheduler/sched_int.h"

#define HOSTNAME_KEY "kubernetes.io/hostname"
#define MAX_NODE_SCORE 100

/* ---- constraints ---- */

struct sched_spread_constraint {
    const char *key;      /* topologyKey, borrowed from the pod */
    int32_t max_skew, min_domains;
    bool honor_affinity;  /* nodeAffinityPolicy: Honor */
    bool honor_taints;    /* nodeTaintsPolicy: Honor */
    bool self;            /* the selector picks the pod itself */
    struct sched_spread_counter *ctr; /* NULL: picks no pod */
    struct sched_topo_key *topo;      /* the nodes' domains (the cache's) */
    /* DoNotSchedule only, by domain id: */
    int64_t *count;       /* matching pods, in eligible domains */
    bool *eligible;       /* some node with every key that k includes */
    int64_t min;          /* fewest matching pods in an eligible domain */
    size_t ndomains;      /* eligible domains */
};

static bool policy_honor(const json_t *tsc, const char *field, bool dflt)
{
    const char *v = orc_json_str(tsc, field);
    if (v == NULL || *v == '\0') return dflt;
    return strcmp(v, "Honor") == 0;
}

/* labelSelector ANDed with key In (pod's value) for each matchLabelKeys
 * key the pod has. *out NULL: picks nothing (no labelSelector, as
 * Kubernetes reads a nil one, and no matchLabelKeys value). */
static int spread_selector(const json_t *tsc, const sched_pod *p, orc_selector **out)
{
    const json_t *ls = json_object_get(tsc, "labelSelector"), *k;
    json_t *sel, *exprs;
    char msg[128];
    size_t i;
    bool any = false;

    *out = NULL;
    json_array_foreach(json_object_get(tsc, "matchLabelKeys"), i, k)
        if (json_is_string(json_object_get(p->labels, json_string_value(k)))) any = true;
    if (!json_is_object(ls) && !any) return 0;
    sel = json_is_object(ls) ? json_deep_copy(ls) : json_object();
    if (sel == NULL) return ORC_ENOMEM;
    exprs = json_object_get(sel, "matchExpressions");
    if (!json_is_array(exprs)) {
        exprs = json_array();
        if (exprs == NULL || json_object_set_new(sel, "matchExpressions", exprs) != 0) goto nomem;
    }
    json_array_foreach(json_object_get(tsc, "matchLabelKeys"), i, k) {
        const json_t *v = json_object_get(p->labels, json_string_value(k));
        if (!json_is_string(v)) continue;
        if (json_array_append_new(exprs, json_pack("{s:O, s:s, s:[O]}", "key", k, "operator", "In",
                                                   "values", v)) != 0)
            goto nomem;
    }
    /* An invalid selector (the API did not check it) picks nothing. */
    if (orc_selector_from_json(sel, out, msg, sizeof msg) != 0) *out = NULL;
    json_decref(sel);
    return 0;
nomem:
    json_decref(sel);
    return ORC_ENOMEM;
}

static int constraint_parse(struct sched_spread_constraint *k, const json_t *tsc,
                            const sched_cache *c, const sched_pod *p)
{
    json_int_t skew = json_integer_value(json_object_get(tsc, "maxSkew"));
    json_int_t mind = json_integer_value(json_object_get(tsc, "minDomains"));
    orc_selector *sel;
    int rc;

    memset(k, 0, sizeof *k);
    k->key = orc_json_str(tsc, "topologyKey");
    k->max_skew = skew > 0 && skew <= INT32_MAX ? (int32_t)skew : 1;
    k->min_domains = mind > 0 && mind <= INT32_MAX ? (int32_t)mind : 1;
    k->honor_affinity = policy_honor(tsc, "nodeAffinityPolicy", true);
    k->honor_taints = policy_honor(tsc, "nodeTaintsPolicy", false);
    rc = sched_topo_key_get(c, k->key, &k->topo);
    if (rc == 0) rc = spread_selector(tsc, p, &sel);
    if (rc != 0 || sel == NULL) return rc;
    k->self = orc_selector_matches(sel, p->labels);
    return sched_spread_counter_get(c, p->ns, sel, &k->ctr);
}

/* The node takes part in k's domains (nodeAffinityPolicy, nodeTaintsPolicy). */
static bool included(const struct sched_spread_constraint *k, const sched_node *n,
                     const sched_pod *p)
{
    if (k->honor_affinity && p->node_rules && !sched_node_rules_ok(n, p)) return false;
    if (k->honor_taints && !sched_taints_ok(n, p, NULL)) return false;
    return true;
}

static bool has_keys(const sched_node *n, const struct sched_spread_constraint *ks, size_t nk)
{
    for (size_t i = 0; i < nk; i++)
        if (sched_topo_domain(ks[i].topo, n) == 0) return false;
    return true;
}

/* Matching pods per domain: eligible domains (of nodes with all the
 * DoNotSchedule keys that k includes) get the counts; the emptiest of them
 * is k->min. */
static int hard_state(struct sched_spread_ctx *sx, const sched_cache *c, const sched_pod *p)
{
    for (size_t j = 0; j < sx->nhard; j++) {
        struct sched_spread_constraint *k = &sx->hard[j];
        k->count = calloc(k->topo->nnames + 1, sizeof *k->count);
        k->eligible = calloc(k->topo->nnames + 1, sizeof *k->eligible);
        if (k->count == NULL || k->eligible == NULL) return ORC_ENOMEM;
    }
    for (size_t i = 0; i < c->nnodes; i++) {
        const sched_node *n = c->nodes[i];
        if (n->obj == NULL || !has_keys(n, sx->hard, sx->nhard)) continue;
        for (size_t j = 0; j < sx->nhard; j++) {
            struct sched_spread_constraint *k = &sx->hard[j];
            uint32_t d = sched_topo_domain(k->topo, n);
            if (!included(k, n, p)) continue;
            k->eligible[d] = true;
            k->count[d] += sched_spread_count(k->ctr, n);
        }
    }
    for (size_t j = 0; j < sx->nhard; j++) {
        struct sched_spread_constraint *k = &sx->hard[j];
        k->min = INT64_MAX;
        for (size_t d = 1; d <= k->topo->nnames; d++) {
            if (!k->eligible[d]) continue;
            k->ndomains++;
            if (k->count[d] < k->min) k->min = k->count[d];
        }
    }
    return 0;
}

int sched_spread_ctx_init(struct sched_spread_ctx *sx, const sched_cache *c, const sched_pod *p)
{
    size_t n = json_array_size(p->spread);
    const json_t *tsc;
    size_t i;
    int rc = 0;

    memset(sx, 0, sizeof *sx);
    if (n == 0) return 0;
    sx->hard = calloc(n, sizeof *sx->hard);
    sx->soft = calloc(n, sizeof *sx->soft);
    if (sx->hard == NULL || sx->soft == NULL) rc = ORC_ENOMEM;
    json_array_foreach(p->spread, i, tsc) {
        const char *when = orc_json_str(tsc, "whenUnsatisfiable");
        const char *key = orc_json_str(tsc, "topologyKey");
        struct sched_spread_constraint *k;
        if (rc != 0 || when == NULL || key == NULL || *key == '\0') continue;
        if (strcmp(when, "DoNotSchedule") == 0) k = &sx->hard[sx->nhard++];
        else if (strcmp(when, "ScheduleAnyway") == 0) k = &sx->soft[sx->nsoft++];
        else continue;
        rc = constraint_parse(k, tsc, c, p);
    }
    if (rc == 0 && sx->nhard > 0) rc = hard_state(sx, c, p);
    if (rc != 0) sched_spread_ctx_fini(sx);
    return rc;
}

void sched_spread_ctx_fini(struct sched_spread_ctx *sx)
{
    for (size_t j = 0; sx->hard && j < sx->nhard; j++) {
        free(sx->hard[j].count);
        free(sx->hard[j].eligible);
    }
    free(sx->hard);
    free(sx->soft);
    memset(sx, 0, sizeof *sx);
}

void sched_spread_check(const struct sched_spread_ctx *sx, const sched_node *n, bool reasons[SR_COUNT])
{
    for (size_t j = 0; sx && j < sx->nhard; j++) {
        const struct sched_spread_constraint *k = &sx->hard[j];
        uint32_t d = sched_topo_domain(k->topo, n);
        int64_t min, skew;
        if (d == 0) {
            reasons[SR_SPREAD_LABEL] = true;
            return;
        }
        /* Fewer eligible domains than minDomains: the global minimum is 0. */
        min = k->ndomains < (size_t)k->min_domains ? 0 : k->min;
        skew = k->count[d] + (k->self ? 1 : 0) - min;
        if (skew > k->max_skew) {
            reasons[SR_SPREAD] = true;
            return;
        }
    }
}

/* ---- ScheduleAnyway ---- */

/* Raw score of constraint k for every feasible node: its domain's matching
 * pods times log(domains + 2), plus maxSkew - 1. Domains are those of the
 * feasible nodes kept; counts come from every node with all the keys that
 * k includes. The hostname key counts the node alone. */
static int soft_raw(const struct sched_spread_constraint *k, const struct sched_spread_ctx *sx,
                    const sched_cache *c, const sched_pod *p, sched_node *const *nodes,
                    const bool *ignored, size_t n, double *raw)
{
    bool hostname = strcmp(k->key, HOSTNAME_KEY) == 0;
    int64_t *count = NULL;
    bool *seen = NULL;
    size_t size = 0;
    double w;

    if (!hostname) {
        count = calloc(k->topo->nnames + 1, sizeof *count);
        seen = calloc(k->topo->nnames + 1, sizeof *seen);
        if (count == NULL || seen == NULL) {
            free(count);
            free(seen);
            return ORC_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t d = sched_topo_domain(k->topo, nodes[i]);
            if (ignored[i] || seen[d]) continue;
            seen[d] = true;
            size++;
        }
        for (size_t i = 0; i < c->nnodes; i++) {
            const sched_node *node = c->nodes[i];
            uint32_t d = sched_topo_domain(k->topo, node);
            if (node->obj == NULL || !seen[d] || !has_keys(node, sx->soft, sx->nsoft)
                || !included(k, node, p))
                continue;
            count[d] += sched_spread_count(k->ctr, node);
        }
    } else {
        for (size_t i = 0; i < n; i++) size += !ignored[i];
    }
    w = log((double)size + 2);
    for (size_t i = 0; i < n; i++) {
        int64_t cnt;
        if (ignored[i]) continue;
        if (hostname) cnt = sched_spread_count(k->ctr, nodes[i]);
        else cnt = count[sched_topo_domain(k->topo, nodes[i])];
        raw[i] += (double)cnt * w + (double)(k->max_skew - 1);
    }
    free(count);
    free(seen);
    return 0;
}

int sched_spread_scores(const struct sched_spread_ctx *sx, const sched_cache *c,
                        const sched_pod *p, sched_node *const *nodes, size_t n, int64_t *out)
{
    double *raw = calloc(n + 1, sizeof *raw);
    bool *ignored = calloc(n + 1, sizeof *ignored);
    int64_t lo = INT64_MAX, hi = 0;
    int rc = raw && ignored ? 0 : ORC_ENOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++) ignored[i] = !has_keys(nodes[i], sx->soft, sx->nsoft);
    for (size_t j = 0; rc == 0 && j < sx->nsoft; j++)
        rc = soft_raw(&sx->soft[j], sx, c, p, nodes, ignored, n, raw);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        out[i] = (int64_t)llround(raw[i]);
        if (ignored[i]) continue;
        if (out[i] < lo) lo = out[i];
        if (out[i] > hi) hi = out[i];
    }
    /* Kubernetes' NormalizeScore: the fewest matching pods scores 100. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (ignored[i]) out[i] = 0;
        else if (hi == 0) out[i] = MAX_NODE_SCORE;
        else out[i] = MAX_NODE_SCORE * (hi + lo - out[i]) / hi;
    }
    free(raw);
    free(ignored);
    return rc;
}
