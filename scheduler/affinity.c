/* affinity.c — node rules and taints for the scheduler (over the shared
 * controllers/nodematch), and inter-pod (anti-)affinity by topology domain,
 * as Kubernetes' InterPodAffinity plugin decides it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/labels.h"
#include "controllers/nodematch.h"
#include "lib/orc.h"
#include "scheduler/sched_int.h"

#define HOSTNAME_KEY "kubernetes.io/hostname"

/* ---- node rules and taints: controllers/nodematch (shared with the
 * DaemonSet and node lifecycle controllers) ---- */

static bool in_values(const json_t *values, const char *v)
{
    const json_t *x;
    size_t i;
    json_array_foreach(values, i, x)
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0) return true;
    return false;
}

bool sched_node_rules_ok(const sched_node *n, const sched_pod *p)
{
    return ctl_node_affinity_matches(json_object_get(p->obj, "spec"), n->obj);
}

/* Sum of the weights of the preferred node affinity terms the node matches. */
int64_t sched_preferred_weight(const sched_node *n, const sched_pod *p)
{
    const json_t *pref = orc_json_get(p->affinity,
                                      "nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution");
    const json_t *t;
    int64_t sum = 0;
    size_t i;
    json_array_foreach(pref, i, t)
        if (ctl_node_term_matches(json_object_get(t, "preference"), n->obj))
            sum += json_integer_value(json_object_get(t, "weight"));
    return sum;
}

bool sched_tolerates(const json_t *tolerations, const json_t *taint)
{
    const json_t *tol;
    size_t i;
    json_array_foreach(tolerations, i, tol)
        if (ctl_tolerates(tol, taint)) return true;
    return false;
}

/* ---- inter-pod affinity ---- */

/* The node's domain for a topology key: its label, or for the hostname key
 * the node's name when the label is missing. NULL when it has none. */
static const char *domain_of(const sched_node *n, const char *key)
{
    const char *v = json_string_value(json_object_get(n->labels, key));
    if (v == NULL && strcmp(key, HOSTNAME_KEY) == 0) v = n->name;
    return v;
}

static void domain_key(char *out, size_t n, const char *key, const char *value)
{
    snprintf(out, n, "%s=%s", key, value);
}

/* Whether pod q is selected by `term`, written by a pod in namespace `ns`. */
static bool term_selects(const json_t *term, const char *ns, const orc_selector *sel, const sched_pod *q)
{
    const json_t *nss = json_object_get(term, "namespaces");
    const json_t *nsel = json_object_get(term, "namespaceSelector");
    if (sel == NULL) return false;
    if (json_array_size(nss) > 0) {
        if (!in_values(nss, q->ns)) return false;
    } else if (!(json_is_object(nsel) && json_object_size(nsel) == 0)) {
        /* No namespaces and no "all namespaces" selector: the writer's own.
         * (A non-empty namespaceSelector would need namespace labels: orc
         * reads it as the writer's namespace.) */
        if (strcmp(ns, q->ns) != 0) return false;
    }
    return orc_selector_matches(sel, q->labels);
}

static orc_selector *term_selector(const json_t *term)
{
    const json_t *ls = json_object_get(term, "labelSelector");
    orc_selector *sel = NULL;
    char msg[128];
    /* A missing labelSelector selects no pod. */
    if (ls == NULL || json_is_null(ls)) return NULL;
    if (orc_selector_from_json(ls, &sel, msg, sizeof msg) != 0) return NULL;
    return sel;
}

static const json_t *required_terms(const json_t *affinity, const char *kind)
{
    return orc_json_get(json_object_get(affinity, kind), "requiredDuringSchedulingIgnoredDuringExecution");
}

/* Adds to `set` the domain (for term's topology key) of every counted pod
 * the term selects; returns how many pods matched. */
static size_t mark_domains(const sched_cache *c, const json_t *term, const char *ns, json_t *set)
{
    orc_selector *sel = term_selector(term);
    const char *key = orc_json_str(term, "topologyKey");
    char dk[600];
    size_t hits = 0;

    if (sel == NULL || key == NULL) goto out;
    for (size_t i = 0; i < c->nnodes; i++) {
        const sched_node *n = c->nodes[i];
        const char *v = n->obj ? domain_of(n, key) : NULL;
        for (size_t j = 0; j < n->npods; j++) {
            if (!term_selects(term, ns, sel, n->pods[j])) continue;
            hits++;
            if (v) {
                domain_key(dk, sizeof dk, key, v);
                json_object_set_new(set, dk, json_true());
            }
        }
    }
out:
    orc_selector_free(sel);
    return hits;
}

/* Domains where existing pods' required anti-affinity forbids p. */
static void mark_existing(const sched_cache *c, const sched_pod *p, json_t *bad, json_t *keys)
{
    char dk[600];
    for (size_t i = 0; i < c->nanti; i++) {
        const sched_pod *q = c->anti[i];
        const json_t *term;
        size_t t;
        json_array_foreach(required_terms(q->affinity, "podAntiAffinity"), t, term) {
            orc_selector *sel = term_selector(term);
            const char *key = orc_json_str(term, "topologyKey");
            const char *v = key && q->node->obj ? domain_of(q->node, key) : NULL;
            if (v && term_selects(term, q->ns, sel, p)) {
                domain_key(dk, sizeof dk, key, v);
                json_object_set_new(bad, dk, json_true());
                json_object_set_new(keys, key, json_true());
            }
            orc_selector_free(sel);
        }
    }
}

static bool in_domain_set(const json_t *set, const sched_node *n, const char *key);

static int add_preferred(struct sched_affinity_ctx *ax, const sched_cache *c, const sched_pod *p,
                         const char *kind, int sign)
{
    const json_t *pref = orc_json_get(json_object_get(p->affinity, kind),
                                      "preferredDuringSchedulingIgnoredDuringExecution");
    const json_t *wt;
    size_t i;

    json_array_foreach(pref, i, wt) {
        const json_t *term = json_object_get(wt, "podAffinityTerm");
        const char *key = orc_json_str(term, "topologyKey");
        json_int_t weight = json_integer_value(json_object_get(wt, "weight"));
        json_t *set = json_object(), *entry;
        if (set == NULL) return ORC_ENOMEM;
        if (key == NULL || weight == 0 || mark_domains(c, term, p->ns, set) == 0) {
            json_decref(set);
            continue;
        }
        if (ax->preferred == NULL && (ax->preferred = json_array()) == NULL) {
            json_decref(set);
            return ORC_ENOMEM;
        }
        entry = json_pack("[s, I, o]", key, (json_int_t)sign * weight, set);
        if (entry == NULL || json_array_append_new(ax->preferred, entry) != 0) return ORC_ENOMEM;
    }
    return 0;
}

int64_t sched_affinity_score(const struct sched_affinity_ctx *ax, const sched_node *n)
{
    const json_t *e;
    int64_t sum = 0;
    size_t i;

    if (ax == NULL || ax->preferred == NULL) return 0;
    json_array_foreach(ax->preferred, i, e)
        if (in_domain_set(json_array_get(e, 2), n, json_string_value(json_array_get(e, 0))))
            sum += json_integer_value(json_array_get(e, 1));
    sum *= 100;
    return sum > 10000 ? 10000 : sum < -10000 ? -10000 : sum;
}

int sched_affinity_ctx_init(struct sched_affinity_ctx *ax, const sched_cache *c, const sched_pod *p)
{
    const json_t *aff = required_terms(p->affinity, "podAffinity");
    const json_t *anti = required_terms(p->affinity, "podAntiAffinity");
    const json_t *term;
    size_t i;

    memset(ax, 0, sizeof *ax);
    ax->naff = json_array_size(aff);
    ax->aff_terms = json_is_array(aff) ? json_incref((json_t *)aff) : json_array();
    ax->anti_terms = json_is_array(anti) ? json_incref((json_t *)anti) : json_array();
    ax->aff_ok = json_array();
    ax->anti_bad = json_object();
    ax->existing_bad = json_object();
    ax->existing_keys = json_object();
    ax->aff_self = calloc(ax->naff + 1, sizeof *ax->aff_self);
    if (!ax->aff_terms || !ax->anti_terms || !ax->aff_ok || !ax->anti_bad || !ax->existing_bad
        || !ax->existing_keys || !ax->aff_self) {
        sched_affinity_ctx_fini(ax);
        return ORC_ENOMEM;
    }
    json_array_foreach(aff, i, term) {
        json_t *set = json_object();
        orc_selector *sel = term_selector(term);
        if (set == NULL) {
            orc_selector_free(sel);
            sched_affinity_ctx_fini(ax);
            return ORC_ENOMEM;
        }
        /* The first pod of a group that asks to be with its own kind may go
         * anywhere: no pod matches yet, but it matches its own term. */
        if (mark_domains(c, term, p->ns, set) == 0 && term_selects(term, p->ns, sel, p))
            ax->aff_self[i] = true;
        orc_selector_free(sel);
        json_array_append_new(ax->aff_ok, set);
    }
    json_array_foreach(anti, i, term) mark_domains(c, term, p->ns, ax->anti_bad);
    if (add_preferred(ax, c, p, "podAffinity", 1) != 0 || add_preferred(ax, c, p, "podAntiAffinity", -1) != 0) {
        sched_affinity_ctx_fini(ax);
        return ORC_ENOMEM;
    }
    if (c->nanti > 0) mark_existing(c, p, ax->existing_bad, ax->existing_keys);
    ax->active = ax->naff > 0 || json_array_size(anti) > 0 || json_object_size(ax->existing_bad) > 0;
    return 0;
}

void sched_affinity_ctx_fini(struct sched_affinity_ctx *ax)
{
    json_decref(ax->aff_terms);
    json_decref(ax->anti_terms);
    json_decref(ax->aff_ok);
    json_decref(ax->anti_bad);
    json_decref(ax->existing_bad);
    json_decref(ax->existing_keys);
    json_decref(ax->preferred);
    free(ax->aff_self);
    memset(ax, 0, sizeof *ax);
}

static bool in_domain_set(const json_t *set, const sched_node *n, const char *key)
{
    const char *v = key ? domain_of(n, key) : NULL;
    char dk[600];
    if (v == NULL) return false;
    domain_key(dk, sizeof dk, key, v);
    return json_object_get(set, dk) != NULL;
}

void sched_affinity_check(const struct sched_affinity_ctx *ax, const sched_node *n, bool reasons[SR_COUNT])
{
    const json_t *term;
    const char *key;
    json_t *v;
    size_t i;

    if (ax == NULL || !ax->active) return;
    /* One reason per node, in Kubernetes' order: existing pods' rules, then
     * the pod's anti-affinity, then its affinity. */
    json_object_foreach(ax->existing_keys, key, v)
        if (in_domain_set(ax->existing_bad, n, key)) {
            reasons[SR_EXISTING_ANTI] = true;
            return;
        }
    json_array_foreach(ax->anti_terms, i, term)
        if (in_domain_set(ax->anti_bad, n, orc_json_str(term, "topologyKey"))) {
            reasons[SR_POD_ANTI_AFFINITY] = true;
            return;
        }
    json_array_foreach(ax->aff_terms, i, term) {
        key = orc_json_str(term, "topologyKey");
        if (ax->aff_self[i] && key && domain_of(n, key)) continue;
        if (!in_domain_set(json_array_get(ax->aff_ok, i), n, key)) {
            reasons[SR_POD_AFFINITY] = true;
            return;
        }
    }
}
