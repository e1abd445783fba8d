/* schema_rules_rbac.c — semantic rules for rbac.authorization.k8s.io/v1,
 * worded as Kubernetes' pkg/apis/rbac/validation (enforcement: authz.c,
 * rbac_*.c). */
#include "apiserver/schema.h"

#include <stdio.h>
#include <string.h>

#include "lib/names.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"
#define MSG_MAX 1024

/* A value for a message when the field may be absent ("" as Go shows it). */
static void unsupported_str(struct api_diag *d, const char *field, const char *value,
                            const char *const *supported)
{
    json_t *v = json_string(value ? value : "");
    api_unsupported(d, field, v, supported);
    json_decref(v);
}

static void check_rule(struct api_diag *d, const json_t *rule, const char *base, bool namespaced)
{
    char f[API_PATH_MAX];
    const json_t *urls = api_arr(rule, "nonResourceURLs");

    api_pathf(f, "%s.verbs", base);
    if (json_array_size(api_arr(rule, "verbs")) == 0)
        api_required(d, f, "verbs must contain at least one value");
    if (json_array_size(urls) > 0) {
        api_pathf(f, "%s.nonResourceURLs", base);
        if (namespaced) api_invalid(d, f, urls, "namespaced rules cannot apply to non-resource URLs");
        if (json_array_size(api_arr(rule, "apiGroups")) || json_array_size(api_arr(rule, "resources"))
            || json_array_size(api_arr(rule, "resourceNames")))
            api_invalid(d, f, urls, "rules cannot apply to both regular resources and non-resource URLs");
        return;
    }
    api_pathf(f, "%s.apiGroups", base);
    if (json_array_size(api_arr(rule, "apiGroups")) == 0)
        api_required(d, f, "resource rules must supply at least one api group");
    api_pathf(f, "%s.resources", base);
    if (json_array_size(api_arr(rule, "resources")) == 0)
        api_required(d, f, "resource rules must supply at least one resource");
}

static void check_rules(struct api_diag *d, const json_t *obj, bool namespaced)
{
    char f[API_PATH_MAX];
    const json_t *rules = api_arr(obj, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        api_pathf(f, "rules[%zu]", i);
        check_rule(d, json_array_get(rules, i), f, namespaced);
    }
}

void api_rules_role(struct api_diag *d, const json_t *obj, const json_t *old)
{
    (void)old;
    check_rules(d, obj, true);
}

void api_rules_clusterrole(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *agg = json_object_get(obj, "aggregationRule");
    const json_t *sels = api_arr(agg, "clusterRoleSelectors");
    char f[API_PATH_MAX];
    (void)old;

    check_rules(d, obj, false);
    if (!json_is_object(agg)) return;
    if (json_array_size(sels) == 0)
        api_required(d, "aggregationRule.clusterRoleSelectors",
                     "at least one clusterRoleSelector required if aggregationRule is non-nil");
    for (size_t i = 0; i < json_array_size(sels); i++) {
        api_pathf(f, "aggregationRule.clusterRoleSelectors[%zu]", i);
        api_check_selector(d, json_array_get(sels, i), f);
    }
}

static void check_subject(struct api_diag *d, const json_t *s, const char *base, bool namespaced)
{
    static const char *const kinds[] = {"ServiceAccount", "User", "Group", NULL};
    static const char *const rbac[] = {RBAC_GROUP, NULL};
    static const char *const none[] = {"", NULL};
    const char *kind = api_str(s, "kind"), *name = api_str(s, "name");
    const char *group = api_str(s, "apiGroup"), *ns = api_str(s, "namespace");
    char f[API_PATH_MAX];

    api_pathf(f, "%s.name", base);
    if (!name || !name[0]) api_required(d, f, NULL);
    if (kind && strcmp(kind, "ServiceAccount") == 0) {
        if (name && name[0]) api_check_name(d, s, "name", base, orc_dns1123_subdomain);
        api_pathf(f, "%s.apiGroup", base);
        if (group && group[0]) unsupported_str(d, f, group, none);
        api_pathf(f, "%s.namespace", base);
        if (!namespaced && (!ns || !ns[0])) api_required(d, f, NULL);
    } else if (kind && (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0)) {
        api_pathf(f, "%s.apiGroup", base);
        if (!group || strcmp(group, RBAC_GROUP) != 0) unsupported_str(d, f, group, rbac);
    } else {
        api_pathf(f, "%s.kind", base);
        unsupported_str(d, f, kind, kinds);
    }
}

/* Go's %#v of an rbac.RoleRef, as "cannot change roleRef" shows it. */
static void show_roleref(const json_t *ref, char *out, size_t n)
{
    const char *g = api_str(ref, "apiGroup"), *k = api_str(ref, "kind"), *nm = api_str(ref, "name");
    snprintf(out, n, "rbac.RoleRef{APIGroup:\"%s\", Kind:\"%s\", Name:\"%s\"}", g ? g : "",
             k ? k : "", nm ? nm : "");
}

static void check_binding(struct api_diag *d, const json_t *obj, const json_t *old,
                          bool namespaced)
{
    static const char *const group[] = {RBAC_GROUP, NULL};
    static const char *const ns_kinds[] = {"Role", "ClusterRole", NULL};
    static const char *const cluster_kinds[] = {"ClusterRole", NULL};
    const char *const *kinds = namespaced ? ns_kinds : cluster_kinds;
    const json_t *ref = api_obj(obj, "roleRef"), *subjects = api_arr(obj, "subjects");
    const char *g = api_str(ref, "apiGroup"), *kind = api_str(ref, "kind");
    const char *name = api_str(ref, "name");
    char f[API_PATH_MAX], msg[MSG_MAX];
    bool kind_ok = false;

    if (!g || strcmp(g, RBAC_GROUP) != 0) unsupported_str(d, "roleRef.apiGroup", g, group);
    for (size_t i = 0; kind && kinds[i]; i++) kind_ok |= strcmp(kind, kinds[i]) == 0;
    if (!kind_ok) unsupported_str(d, "roleRef.kind", kind, kinds);
    if (!name || !name[0]) api_required(d, "roleRef.name", NULL);
    else if (orc_path_segment(name, strlen(name), msg, sizeof msg) != 0)
        api_invalid_str(d, "roleRef.name", name, "%s", msg);
    for (size_t i = 0; i < json_array_size(subjects); i++) {
        api_pathf(f, "subjects[%zu]", i);
        check_subject(d, json_array_get(subjects, i), f, namespaced);
    }
    if (old && !json_equal(ref, api_obj(old, "roleRef"))) {
        show_roleref(ref, msg, sizeof msg);
        api_diag_add(d, "FieldValueInvalid", "roleRef", "Invalid value: %s: cannot change roleRef",
                     msg);
    }
}

void api_rules_rolebinding(struct api_diag *d, const json_t *obj, const json_t *old)
{
    check_binding(d, obj, old, true);
}

void api_rules_clusterrolebinding(struct api_diag *d, const json_t *obj, const json_t *old)
{
    check_binding(d, obj, old, false);
}
