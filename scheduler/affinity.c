/* affinity.c — node selection rules (nodeSelector, node affinity terms),
 * taints against tolerations, and inter-pod (anti-)affinity by topology
 * domain, as Kubernetes' NodeAffinity, TaintToleration and InterPodAffinity
 * plugins decide them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/labels.h"
#include "lib/orc.h"
#include "scheduler/sched_int.h"

#define HOSTNAME_KEY "kubernetes.io/hostname"

/* ---- node selector terms ---- */

static bool in_values(const json_t *values, const char *v)
{
    const json_t *x;
    size_t i;
    json_array_foreach(values, i, x)
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0) return true;
    return false;
}

static bool parse_long(const char *s, long long *out)
{
    char *end;
    errno = 0;
    *out = strtoll(s, &end, 10);
    return s[0] != '\0' && *end == '\0' && errno == 0;
}

/* One NodeSelectorRequirement against a value (NULL: the label is absent). */
static bool requirement_holds(const json_t *req, const char *v)
{
    const char *op = orc_json_str(req, "operator");
    const json_t *values = json_object_get(req, "values");
    long long a, b;

    if (op == NULL) return false;
    if (strcmp(op, "In") == 0) return v && in_values(values, v);
    if (strcmp(op, "NotIn") == 0) return v == NULL || !in_values(values, v);
    if (strcmp(op, "Exists") == 0) return v != NULL;
    if (strcmp(op, "DoesNotExist") == 0) return v == NULL;
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        const json_t *x = json_array_get(values, 0);
        if (v == NULL || !json_is_string(x) || !parse_long(v, &a)
            || !parse_long(json_string_value(x), &b))
            return false;
        return op[0] == 'G' ? a > b : a < b;
    }
    return false;
}

bool sched_term_matches(const json_t *term, const json_t *node_labels, const char *node_name)
{
    const json_t *exprs = json_object_get(term, "matchExpressions");
    const json_t *fields = json_object_get(term, "matchFields");
    const json_t *req;
    size_t i;

    /* An empty term matches no node (Kubernetes' NodeSelectorTerm). */
    if (json_array_size(exprs) == 0 && json_array_size(fields) == 0) return false;
    json_array_foreach(exprs, i, req) {
        const char *key = orc_json_str(req, "key");
        const char *v = key ? json_string_value(json_object_get(node_labels, key)) : NULL;
        if (key == NULL || !requirement_holds(req, v)) return false;
    }
    json_array_foreach(fields, i, req) {
        const char *key = orc_json_str(req, "key");
        if (key == NULL || strcmp(key, "metadata.name") != 0) return false;
        if (!requirement_holds(req, node_name)) return false;
    }
    return true;
}

static bool selector_terms_match(const json_t *sel, const json_t *labels, const char *name)
{
    const json_t *term;
    size_t i;
    json_array_foreach(json_object_get(sel, "nodeSelectorTerms"), i, term)
        if (sched_term_matches(term, labels, name)) return true;
    return false;
}

static bool node_selector_matches(const json_t *ns, const json_t *labels)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ns, k, v) {
        const json_t *have = json_object_get(labels, k);
        if (!json_is_string(v) || !json_is_string(have)
            || strcmp(json_string_value(v), json_string_value(have)) != 0)
            return false;
    }
    return true;
}

static bool pod_node_rules_match(const json_t *spec, const json_t *labels, const char *name)
{
    const json_t *req = orc_json_get(json_object_get(spec, "affinity"),
                                     "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
    if (!node_selector_matches(json_object_get(spec, "nodeSelector"), labels)) return false;
    return req == NULL || json_is_null(req) || selector_terms_match(req, labels, name);
}

bool sched_node_matches_pod(const json_t *node, const json_t *pod)
{
    return pod_node_rules_match(json_object_get(pod, "spec"), orc_json_get(node, "metadata.labels"),
                                orc_json_str(node, "metadata.name"));
}

bool sched_node_rules_ok(const sched_node *n, const sched_pod *p)
{
    return pod_node_rules_match(json_object_get(p->obj, "spec"), n->labels, n->name);
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
        if (sched_term_matches(json_object_get(t, "preference"), n->labels, n->name))
            sum += json_integer_value(json_object_get(t, "weight"));
    return sum;
}

/* ---- taints ---- */

static bool toleration_matches(const json_t *tol, const json_t *taint)
{
    const char *tkey = orc_json_str(tol, "key"), *op = orc_json_str(tol, "operator");
    const char *teff = orc_json_str(tol, "effect"), *tval = orc_json_str(tol, "value");
    const char *key = orc_json_str(taint, "key"), *eff = orc_json_str(taint, "effect");
    const char *val = orc_json_str(taint, "value");

    if (teff && *teff && (eff == NULL || strcmp(teff, eff) != 0)) return false;
    if (op && strcmp(op, "Exists") == 0) return tkey == NULL || *tkey == '\0' || (key && strcmp(tkey, key) == 0);
    if (tkey == NULL || key == NULL || strcmp(tkey, key) != 0) return false;
    return strcmp(tval ? tval : "", val ? val : "") == 0;
}

bool sched_tolerates(const json_t *tolerations, const json_t *taint)
{
    const json_t *tol;
    size_t i;
    json_array_foreach(tolerations, i, tol)
        if (toleration_matches(tol, taint)) return true;
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
