/* audit_policy.c — audit.k8s.io/v1 Policy: which level a request is
 * logged at. Rules are tried in order and the first that matches decides,
 * with Kubernetes' matching of users, userGroups, verbs, resources
 * ({group, resources, resourceNames}; "*", "*" + "/sub", "res/" + "*"), namespaces
 * and nonResourceURLs (exact, "*" or a prefix ending in "*"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/audit.h"
#include "lib/orc.h"
#include "lib/yaml.h"

struct api_audit_policy {
    json_t *rules; /* validated */
    unsigned omit; /* the policy's omitStages */
};

static const char *const level_names[] = {"None", "Metadata", "Request", "RequestResponse"};
static const char *const stage_names[] = {"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"};

static int level_of(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

/* omitStages as bits; -1 (err set) for an unknown stage. */
static int stages_of(const json_t *a, const char *where, char *err, size_t n)
{
    size_t i;
    json_t *v;
    int bits = 0;

    if (a == NULL) return 0;
    if (!json_is_array(a)) return snprintf(err, n, "%s: must be a list", where), -1;
    json_array_foreach(a, i, v) {
        int b = -1;
        for (int k = 0; k < 4; k++)
            if (json_is_string(v) && strcmp(json_string_value(v), stage_names[k]) == 0) b = k;
        if (b < 0) return snprintf(err, n, "%s[%zu]: unsupported stage", where, i), -1;
        bits |= 1 << b;
    }
    return bits;
}

static bool strings_ok(const json_t *a)
{
    size_t i;
    json_t *v;

    if (a == NULL) return true;
    if (!json_is_array(a)) return false;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return false;
    return true;
}

static int check_rule(const json_t *r, size_t i, char *err, size_t n)
{
    static const char *const lists[] = {"users", "userGroups", "verbs", "namespaces", "nonResourceURLs"};
    char where[64];
    json_t *res = json_object_get(r, "resources"), *g;
    size_t k;

    snprintf(where, sizeof where, "rules[%zu]", i);
    if (!json_is_object(r)) return orc_errf(err, n, ORC_EINVAL, "%s: must be an object", where);
    if (level_of(json_string_value(json_object_get(r, "level"))) < 0)
        return orc_errf(err, n, ORC_EINVAL, "%s.level: Required value: one of None, Metadata, Request, "
                        "RequestResponse", where);
    for (k = 0; k < sizeof lists / sizeof lists[0]; k++)
        if (!strings_ok(json_object_get(r, lists[k])))
            return orc_errf(err, n, ORC_EINVAL, "%s.%s: must be a list of strings", where, lists[k]);
    if (json_array_size(json_object_get(r, "nonResourceURLs"))
        && (json_array_size(res) || json_array_size(json_object_get(r, "namespaces"))))
        return orc_errf(err, n, ORC_EINVAL, "%s: rules cannot apply to both regular resources and "
                        "non-resource URLs", where);
    if (res && !json_is_array(res))
        return orc_errf(err, n, ORC_EINVAL, "%s.resources: must be a list", where);
    json_array_foreach(res, k, g) {
        if (!json_is_object(g) || !strings_ok(json_object_get(g, "resources"))
            || !strings_ok(json_object_get(g, "resourceNames"))
            || (json_object_get(g, "group") && !json_is_string(json_object_get(g, "group"))))
            return orc_errf(err, n, ORC_EINVAL, "%s.resources[%zu]: want {group, resources, "
                            "resourceNames}", where, k);
    }
    snprintf(where + strlen(where), sizeof where - strlen(where), ".omitStages");
    return stages_of(json_object_get(r, "omitStages"), where, err, n) < 0 ? ORC_EINVAL : 0;
}

int api_audit_policy_parse(const char *text, size_t len, struct api_audit_policy **out, char *err,
                           size_t errlen)
{
    char perr[200];
    json_t *docs = orc_yaml_parse(text, len, perr, sizeof perr), *doc, *rules, *r;
    const char *av;
    struct api_audit_policy *p;
    int omit = 0, rv = 0;
    size_t i;

    if (docs == NULL) return orc_errf(err, errlen, ORC_EINVAL, "%s", perr);
    doc = json_array_get(docs, 0);
    av = json_string_value(json_object_get(doc, "apiVersion"));
    rules = json_object_get(doc, "rules");
    if (json_array_size(docs) != 1 || !json_is_object(doc))
        rv = orc_errf(err, errlen, ORC_EINVAL, "want one Policy document");
    else if (av == NULL || (strcmp(av, "audit.k8s.io/v1") != 0 && strcmp(av, "audit.k8s.io/v1beta1") != 0)
             || !json_is_string(json_object_get(doc, "kind"))
             || strcmp(json_string_value(json_object_get(doc, "kind")), "Policy") != 0)
        rv = orc_errf(err, errlen, ORC_EINVAL, "want apiVersion audit.k8s.io/v1 and kind Policy");
    else if (!json_is_array(rules))
        rv = orc_errf(err, errlen, ORC_EINVAL, "rules: Required value: a list of rules");
    else if ((omit = stages_of(json_object_get(doc, "omitStages"), "omitStages", err, errlen)) < 0)
        rv = ORC_EINVAL;
    json_array_foreach(rules, i, r) if (rv == 0) rv = check_rule(r, i, err, errlen);
    if (rv == 0 && (p = calloc(1, sizeof *p)) == NULL) rv = ORC_ENOMEM;
    if (rv == 0) {
        p->rules = json_incref(rules);
        p->omit = (unsigned)omit;
        *out = p;
    }
    json_decref(docs);
    return rv;
}

void api_audit_policy_free(struct api_audit_policy *p)
{
    if (p == NULL) return;
    json_decref(p->rules);
    free(p);
}

/* ---- matching ---- */

static bool has(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v) if (s && strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

static bool path_matches(const char *path, const char *spec)
{
    size_t n = strlen(spec);

    if (strcmp(spec, "*") == 0 || strcmp(spec, path) == 0) return true;
    return n > 0 && spec[n - 1] == '*' && strncmp(path, spec, n - 1) == 0;
}

static bool resource_matches(const char *res, const struct api_audit_attrs *a)
{
    size_t rl = strlen(a->resource), n = strlen(res);

    bool same_res = strncmp(res, a->resource, rl) == 0;

    if (strcmp(res, "*") == 0) return true;
    if (*a->sub == '\0' ? strcmp(res, a->resource) == 0
                        : (same_res && res[rl] == '/' && strcmp(res + rl + 1, a->sub) == 0))
        return true;
    if (*a->sub && strncmp(res, "*/", 2) == 0 && strcmp(res + 2, a->sub) == 0) return true;
    return n > 2 && strcmp(res + n - 2, "/*") == 0 && n - 2 == rl && strncmp(res, a->resource, rl) == 0;
}

static bool group_matches(const json_t *g, const struct api_audit_attrs *a)
{
    const char *group = json_string_value(json_object_get(g, "group"));
    json_t *res = json_object_get(g, "resources"), *names = json_object_get(g, "resourceNames"), *v;
    size_t i;

    if (strcmp(group ? group : "", a->group) != 0) return false;
    if (json_array_size(res) == 0) return true;
    if (json_array_size(names) && !has(names, a->name)) return false;
    json_array_foreach(res, i, v) if (resource_matches(json_string_value(v), a)) return true;
    return false;
}

static bool resources_match(const json_t *r, const struct api_audit_attrs *a)
{
    json_t *ns = json_object_get(r, "namespaces"), *res = json_object_get(r, "resources"), *g;
    size_t i;

    if (!a->resource_request) return false;
    if (json_array_size(ns) && !has(ns, a->ns)) return false;
    if (json_array_size(res) == 0) return true;
    json_array_foreach(res, i, g) if (group_matches(g, a)) return true;
    return false;
}

static bool rule_matches(const json_t *r, const struct api_audit_attrs *a)
{
    json_t *users = json_object_get(r, "users"), *groups = json_object_get(r, "userGroups");
    json_t *urls = json_object_get(r, "nonResourceURLs"), *v;
    bool in = false;
    size_t i;

    if (json_array_size(users) && (a->user == NULL || !has(users, a->user))) return false;
    if (json_array_size(groups)) {
        for (i = 0; a->user && i < a->n_groups && !in; i++) in = has(groups, a->groups[i]);
        if (!in) return false;
    }
    if (json_array_size(json_object_get(r, "verbs")) && !has(json_object_get(r, "verbs"), a->verb))
        return false;
    if (json_array_size(json_object_get(r, "namespaces")) || json_array_size(json_object_get(r, "resources")))
        return resources_match(r, a);
    if (json_array_size(urls) == 0) return true;
    if (a->resource_request) return false;
    json_array_foreach(urls, i, v) if (path_matches(a->path, json_string_value(v))) return true;
    return false;
}

enum api_audit_level api_audit_policy_eval(const struct api_audit_policy *p,
                                           const struct api_audit_attrs *a, unsigned *omit)
{
    json_t *r;
    size_t i;

    *omit = 0;
    if (p == NULL) return AUDIT_METADATA;
    json_array_foreach(p->rules, i, r) {
        if (!rule_matches(r, a)) continue;
        char e[8];
        *omit = p->omit | (unsigned)stages_of(json_object_get(r, "omitStages"), "", e, sizeof e);
        return (enum api_audit_level)level_of(json_string_value(json_object_get(r, "level")));
    }
    *omit = p->omit;
    return AUDIT_NONE;
}
