/* schema_rules_admin.c — semantic rules for core/v1 LimitRange and
 * ResourceQuota, worded as Kubernetes' pkg/apis/core/validation. orc
 * stores them but does not enforce them yet (the kinds' warnings say so). */
#include "apiserver/schema.h"

#include <stdio.h>
#include <string.h>

#include "lib/names.h"
#include "lib/quantity.h"

#define MSG_MAX 1024

/* ---- LimitRange ---- */

/* The quantities of one LimitRangeItem map, by resource name. */
struct qmap {
    const json_t *m;
    const char *name;
};

static bool qget(const struct qmap *q, const char *res, int64_t *milli, const char **text)
{
    const json_t *v = json_object_get(q->m, res);
    *text = json_string_value(v);
    return *text && orc_quantity_parse(*text, milli) == 0;
}

/* Each key of o[key] is a qualified resource name and a valid quantity. */
static void check_qmap(struct api_diag *d, const json_t *o, const char *key, const char *base)
{
    char f[API_PATH_MAX], msg[MSG_MAX];
    const char *res;
    const json_t *v;
    int64_t milli;
    json_object_foreach((json_t *)api_obj(o, key), res, v) {
        api_pathf(f, "%s.%s[%s]", base, key, res);
        if (orc_label_key(res, strlen(res), msg, sizeof msg) != 0)
            api_invalid_str(d, f, res, "%s", msg);
        api_check_quantity(d, v, f, &milli);
    }
}

/* min <= defaultRequest <= default <= max, for each resource any of them names. */
static void check_resource_order(struct api_diag *d, const json_t *item, const char *base,
                                 const char *res)
{
    struct qmap min = {api_obj(item, "min"), "min"}, max = {api_obj(item, "max"), "max"};
    struct qmap def = {api_obj(item, "default"), "default"};
    struct qmap req = {api_obj(item, "defaultRequest"), "defaultRequest"};
    int64_t mn, mx, df, rq;
    const char *smn, *smx, *sdf, *srq;
    bool hmn = qget(&min, res, &mn, &smn), hmx = qget(&max, res, &mx, &smx);
    bool hdf = qget(&def, res, &df, &sdf), hrq = qget(&req, res, &rq, &srq);
    char f[API_PATH_MAX];

    api_pathf(f, "%s.min[%s]", base, res);
    if (hmn && hmx && mn > mx)
        api_invalid_str(d, f, smn, "min value %s is greater than max value %s", smn, smx);
    api_pathf(f, "%s.defaultRequest[%s]", base, res);
    if (hrq && hmn && mn > rq)
        api_invalid_str(d, f, srq, "min value %s is greater than default request value %s", smn,
                        srq);
    if (hrq && hmx && rq > mx)
        api_invalid_str(d, f, srq, "default request value %s is greater than max value %s", srq,
                        smx);
    if (hrq && hdf && rq > df)
        api_invalid_str(d, f, srq, "default request value %s is greater than default limit value %s",
                        srq, sdf);
    api_pathf(f, "%s.default[%s]", base, res);
    if (hdf && hmn && mn > df)
        api_invalid_str(d, f, smn, "min value %s is greater than default value %s", smn, sdf);
    if (hdf && hmx && df > mx)
        api_invalid_str(d, f, smx, "default value %s is greater than max value %s", sdf, smx);
}

static void check_order(struct api_diag *d, const json_t *item, const char *base)
{
    static const char *const keys[] = {"min", "max", "default", "defaultRequest", NULL};
    json_t *names = json_object();
    const char *res;
    const json_t *v;

    for (size_t k = 0; names && keys[k]; k++)
        json_object_foreach((json_t *)api_obj(item, keys[k]), res, v)
            json_object_set(names, res, json_true());
    json_object_foreach(names, res, v) check_resource_order(d, item, base, res);
    json_decref(names);
}

static void check_limit(struct api_diag *d, const json_t *item, const char *base, json_t *seen)
{
    static const char *const qmaps[] = {"max", "min", "default", "defaultRequest",
                                        "maxLimitRequestRatio", NULL};
    const char *type = api_str(item, "type");
    char f[API_PATH_MAX], msg[MSG_MAX];

    api_pathf(f, "%s.type", base);
    if (type && type[0] && orc_label_key(type, strlen(type), msg, sizeof msg) != 0)
        api_invalid_str(d, f, type, "%s", msg);
    if (type && json_object_get(seen, type)) api_duplicate(d, f, json_object_get(item, "type"));
    else if (type) json_object_set_new(seen, type, json_true());
    for (size_t i = 0; qmaps[i]; i++) check_qmap(d, item, qmaps[i], base);
    if (type && strcmp(type, "Pod") == 0) {
        api_pathf(f, "%s.default", base);
        if (json_object_size(api_obj(item, "default")))
            api_forbidden(d, f, "may not be specified when `type` is 'Pod'");
        api_pathf(f, "%s.defaultRequest", base);
        if (json_object_size(api_obj(item, "defaultRequest")))
            api_forbidden(d, f, "may not be specified when `type` is 'Pod'");
    }
    check_order(d, item, base);
}

void api_rules_limitrange(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *limits = api_arr(api_obj(obj, "spec"), "limits");
    json_t *seen = json_object();
    char f[API_PATH_MAX];
    (void)old;

    for (size_t i = 0; seen && i < json_array_size(limits); i++) {
        api_pathf(f, "spec.limits[%zu]", i);
        check_limit(d, json_array_get(limits, i), f, seen);
    }
    json_decref(seen);
}

/* ---- ResourceQuota ---- */

static const char *const scopes[] = {"Terminating", "NotTerminating", "BestEffort",
                                     "NotBestEffort", "PriorityClass",
                                     "CrossNamespacePodAffinity", "VolumeAttributesClass", NULL};

static bool known_scope(const char *s)
{
    for (size_t i = 0; s && scopes[i]; i++)
        if (strcmp(s, scopes[i]) == 0) return true;
    return false;
}

static void check_scope_selector(struct api_diag *d, const json_t *sel)
{
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
    const json_t *exprs = api_arr(sel, "matchExpressions");
    char f[API_PATH_MAX];

    for (size_t i = 0; i < json_array_size(exprs); i++) {
        const json_t *e = json_array_get(exprs, i);
        api_pathf(f, "spec.scopeSelector.matchExpressions[%zu]", i);
        const char *name = api_str(e, "scopeName");
        char sf[API_PATH_MAX];
        api_pathf(sf, "%s.scopeName", f);
        if (name && name[0] && !known_scope(name))
            api_invalid_str(d, sf, name, "unsupported scope");
        api_check_enum(d, e, "operator", f, ops);
    }
}

void api_rules_resourcequota(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec"), *sc = api_arr(spec, "scopes");
    char f[API_PATH_MAX], msg[MSG_MAX];
    const char *res;
    const json_t *v;
    int64_t milli;
    (void)old;

    json_object_foreach((json_t *)api_obj(spec, "hard"), res, v) {
        api_pathf(f, "spec.hard[%s]", res);
        if (orc_label_key(res, strlen(res), msg, sizeof msg) != 0)
            api_invalid_str(d, f, res, "%s", msg);
        api_check_quantity(d, v, f, &milli);
    }
    for (size_t i = 0; i < json_array_size(sc); i++) {
        const char *s = json_string_value(json_array_get(sc, i));
        api_pathf(f, "spec.scopes[%zu]", i);
        if (s && !known_scope(s)) api_invalid_str(d, f, s, "unsupported scope");
    }
    check_scope_selector(d, api_obj(spec, "scopeSelector"));
}
