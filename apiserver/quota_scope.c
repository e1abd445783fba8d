/* quota_scope.c — which objects a ResourceQuota with scopes covers, as
 * Kubernetes' pod evaluator matches them: only pods, each of them matching
 * every scope of spec.scopes and every expression of spec.scopeSelector
 * (Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass,
 * CrossNamespacePodAffinity). A quota without either covers everything. */
#include <stdbool.h>
#include <string.h>

#include "apiserver/quota.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/quantity.h"

/* Kubernetes' isTerminating: an activeDeadlineSeconds of 0 or more. */
static bool terminating(const json_t *pod)
{
    const json_t *d = orc_json_get(pod, "spec.activeDeadlineSeconds");
    return json_is_integer(d) && json_integer_value(d) >= 0;
}

/* A cpu or memory amount above zero in one of a container's maps. */
static bool has_compute(const json_t *c, const char *field)
{
    static const char *const res[] = {"cpu", "memory"};
    const json_t *m = orc_json_get(c, field);

    for (size_t i = 0; i < ORC_ARRAY_LEN(res); i++) {
        const json_t *v = json_object_get(m, res[i]);
        int64_t milli = 0;
        if (json_is_number(v) && json_number_value(v) > 0) return true;
        if (json_is_string(v) && orc_quantity_parse(json_string_value(v), &milli) == 0 && milli > 0) return true;
    }
    return false;
}

/* QoS class BestEffort: no container nor init container asks for or is
 * limited in cpu or memory. */
static bool best_effort(const json_t *pod)
{
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};

    for (size_t l = 0; l < ORC_ARRAY_LEN(lists); l++) {
        const json_t *cs = orc_json_get(pod, lists[l]);
        for (size_t i = 0; i < json_array_size(cs); i++) {
            const json_t *c = json_array_get(cs, i);
            if (has_compute(c, "resources.requests") || has_compute(c, "resources.limits")) return false;
        }
    }
    return true;
}

static bool in_values(const json_t *values, const char *s)
{
    for (size_t i = 0; i < json_array_size(values); i++)
        if (strcmp(json_string_value(json_array_get(values, i)) ?: "", s) == 0) return true;
    return false;
}

static bool priority_class(const json_t *pod, const char *op, const json_t *values)
{
    const char *pc = orc_json_str(pod, "spec.priorityClassName");

    if (pc == NULL) pc = "";
    if (strcmp(op, "In") == 0) return in_values(values, pc);
    if (strcmp(op, "NotIn") == 0) return !in_values(values, pc);
    if (strcmp(op, "DoesNotExist") == 0) return pc[0] == '\0';
    return pc[0] != '\0'; /* Exists */
}

/* A pod (anti-)affinity term naming namespaces or selecting them. */
static bool cross_namespace(const json_t *pod)
{
    static const char *const kinds[] = {"spec.affinity.podAffinity", "spec.affinity.podAntiAffinity"};

    for (size_t k = 0; k < ORC_ARRAY_LEN(kinds); k++) {
        const json_t *a = orc_json_get(pod, kinds[k]);
        const json_t *req = json_object_get(a, "requiredDuringSchedulingIgnoredDuringExecution");
        const json_t *pref = json_object_get(a, "preferredDuringSchedulingIgnoredDuringExecution");
        for (size_t i = 0; i < json_array_size(req); i++) {
            const json_t *t = json_array_get(req, i);
            if (json_array_size(json_object_get(t, "namespaces")) || json_object_get(t, "namespaceSelector"))
                return true;
        }
        for (size_t i = 0; i < json_array_size(pref); i++) {
            const json_t *t = orc_json_get(json_array_get(pref, i), "podAffinityTerm");
            if (json_array_size(json_object_get(t, "namespaces")) || json_object_get(t, "namespaceSelector"))
                return true;
        }
    }
    return false;
}

/* One scope (op and values for PriorityClass only; the others are
 * Exists, as validation has it). An unknown scope matches nothing. */
static bool pod_matches(const json_t *pod, const char *scope, const char *op, const json_t *values)
{
    if (strcmp(scope, "Terminating") == 0) return terminating(pod);
    if (strcmp(scope, "NotTerminating") == 0) return !terminating(pod);
    if (strcmp(scope, "BestEffort") == 0) return best_effort(pod);
    if (strcmp(scope, "NotBestEffort") == 0) return !best_effort(pod);
    if (strcmp(scope, "PriorityClass") == 0) return priority_class(pod, op, values);
    if (strcmp(scope, "CrossNamespacePodAffinity") == 0) return cross_namespace(pod);
    return false;
}

bool quota_scoped(const json_t *q)
{
    return json_array_size(orc_json_get(q, "spec.scopes")) > 0
        || json_array_size(orc_json_get(q, "spec.scopeSelector.matchExpressions")) > 0;
}

bool quota_covers(const json_t *q, const struct orc_kind *k, const json_t *obj)
{
    const json_t *scopes = orc_json_get(q, "spec.scopes");
    const json_t *exprs = orc_json_get(q, "spec.scopeSelector.matchExpressions");

    if (!quota_scoped(q)) return true;
    if (k == NULL || orc_kind_id(k) != ORC_K_POD) return false;
    for (size_t i = 0; i < json_array_size(scopes); i++)
        if (!pod_matches(obj, json_string_value(json_array_get(scopes, i)) ?: "", "Exists", NULL)) return false;
    for (size_t i = 0; i < json_array_size(exprs); i++) {
        const json_t *e = json_array_get(exprs, i);
        if (!pod_matches(obj, orc_json_str(e, "scopeName") ?: "", orc_json_str(e, "operator") ?: "",
                         json_object_get(e, "values")))
            return false;
    }
    return true;
}
