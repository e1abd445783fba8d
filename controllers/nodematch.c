/* nodematch.c — pods against nodes: selectors, required node affinity and
 * taints, as Kubernetes' component-helpers (nodeaffinity, taints). */
#include "controllers/nodematch.h"

#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

bool ctl_tolerates(const json_t *tol, const json_t *taint)
{
    const char *teff = str_or(tol, "effect", ""), *key = str_or(tol, "key", "");
    const char *op = str_or(tol, "operator", "Equal");

    if (*teff && strcmp(teff, str_or(taint, "effect", "")) != 0) return false;
    if (*key && strcmp(key, str_or(taint, "key", "")) != 0) return false;
    if (strcmp(op, "Exists") == 0) return true;
    /* Equal with an empty key matches nothing (validation refuses it). */
    return *key && strcmp(op, "Equal") == 0
           && strcmp(str_or(tol, "value", ""), str_or(taint, "value", "")) == 0;
}

static bool tolerated(const json_t *taint, const json_t *tolerations)
{
    size_t i;
    json_t *t;

    json_array_foreach(tolerations, i, t) if (ctl_tolerates(t, taint)) return true;
    return false;
}

const json_t *ctl_untolerated_taint(const json_t *taints, const json_t *tolerations,
                                    const char *effect)
{
    size_t i;
    json_t *t;

    json_array_foreach(taints, i, t) {
        const char *e = str_or(t, "effect", "");
        bool wanted = effect ? strcmp(e, effect) == 0
                             : strcmp(e, "NoSchedule") == 0 || strcmp(e, "NoExecute") == 0;
        if (wanted && !tolerated(t, tolerations)) return t;
    }
    return NULL;
}

/* ---- node affinity ---- */

static bool in_values(const json_t *values, const char *v)
{
    size_t i;
    json_t *x;

    json_array_foreach(values, i, x) {
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0) return true;
    }
    return false;
}

static bool parse_int(const char *s, long long *out)
{
    char *end;

    if (!s || !*s) return false;
    *out = strtoll(s, &end, 10);
    return *end == '\0';
}

/* One NodeSelectorRequirement against a value (NULL: the key is absent). */
static bool requirement_matches(const json_t *req, const char *value)
{
    const char *op = str_or(req, "operator", "");
    const json_t *values = json_object_get(req, "values");
    long long a, b;

    if (strcmp(op, "In") == 0) return value && in_values(values, value);
    if (strcmp(op, "NotIn") == 0) return !value || !in_values(values, value);
    if (strcmp(op, "Exists") == 0) return value != NULL;
    if (strcmp(op, "DoesNotExist") == 0) return value == NULL;
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        if (!value || json_array_size(values) != 1 || !parse_int(value, &a)
            || !parse_int(json_string_value(json_array_get(values, 0)), &b))
            return false;
        return op[0] == 'G' ? a > b : a < b;
    }
    return false;
}

static bool term_matches(const json_t *term, const json_t *node)
{
    const json_t *labels = orc_json_get(node, "metadata.labels");
    const json_t *exprs = json_object_get(term, "matchExpressions");
    const json_t *fields = json_object_get(term, "matchFields");
    size_t i;
    json_t *r;

    if (json_array_size(exprs) == 0 && json_array_size(fields) == 0) return false;
    json_array_foreach(exprs, i, r) {
        const char *key = str_or(r, "key", "");
        if (!requirement_matches(r, json_string_value(json_object_get(labels, key)))) return false;
    }
    json_array_foreach(fields, i, r) {
        if (strcmp(str_or(r, "key", ""), "metadata.name") != 0) return false;
        if (!requirement_matches(r, orc_json_str(node, "metadata.name"))) return false;
    }
    return true;
}

static bool selector_matches(const json_t *sel, const json_t *node)
{
    const json_t *labels = orc_json_get(node, "metadata.labels");
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)sel, key, v) {
        const char *have = json_string_value(json_object_get(labels, key));
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0) return false;
    }
    return true;
}

bool ctl_node_affinity_matches(const json_t *pod_spec, const json_t *node)
{
    const json_t *sel = json_object_get(pod_spec, "nodeSelector");
    const json_t *req = orc_json_get(pod_spec,
                                     "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
    const json_t *terms = json_object_get(req, "nodeSelectorTerms");
    size_t i;
    json_t *t;

    if (json_is_object(sel) && !selector_matches(sel, node)) return false;
    if (!json_is_object(req)) return true;
    json_array_foreach(terms, i, t) if (term_matches(t, node)) return true;
    return false;
}

/* ---- NoExecute ---- */

int ctl_time_ms(const char *s, int64_t *ms)
{
    int64_t sec, frac = 0;
    const char *dot;
    int digits = 0;

    if (orc_time_parse(s, &sec) != 0) return ORC_EINVAL;
    dot = strchr(s, '.');
    if (dot) {
        for (const char *p = dot + 1; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            frac = frac * 10 + (*p - '0');
        while (digits++ < 3) frac *= 10;
    }
    *ms = sec * 1000 + frac;
    return 0;
}

/* How long the tolerations of `taint` let a pod stay, in ms: the shortest
 * tolerationSeconds given (Kubernetes' getMinTolerationTime), or -1 (forever)
 * when none gives any. */
static int64_t toleration_ms(const json_t *taint, const json_t *tolerations)
{
    int64_t best = -1, secs;
    size_t i;
    json_t *t;

    json_array_foreach(tolerations, i, t) {
        if (!ctl_tolerates(t, taint) || orc_json_int(t, "tolerationSeconds", &secs) != 0) continue;
        if (secs < 0) secs = 0;
        if (best < 0 || secs * 1000 < best) best = secs * 1000;
    }
    return best;
}

int64_t ctl_noexecute_delay_ms(const json_t *taints, const json_t *tolerations,
                               int64_t now_wall_ms)
{
    int64_t delay = -1;
    size_t i;
    json_t *t;

    if (ctl_untolerated_taint(taints, tolerations, "NoExecute")) return 0;
    json_array_foreach(taints, i, t) {
        int64_t added = now_wall_ms, tol, left;
        if (strcmp(str_or(t, "effect", ""), "NoExecute") != 0) continue;
        tol = toleration_ms(t, tolerations);
        if (tol < 0) continue;
        ctl_time_ms(json_string_value(json_object_get(t, "timeAdded")), &added);
        left = added + tol - now_wall_ms;
        if (left < 0) left = 0;
        if (delay < 0 || left < delay) delay = left;
    }
    return delay;
}
