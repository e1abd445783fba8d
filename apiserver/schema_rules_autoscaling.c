/* schema_rules_autoscaling.c — semantic rules for autoscaling/v2
 * HorizontalPodAutoscaler (an autoscaling/v1 one is converted first, so
 * its errors name the v2 fields, as Kubernetes' do), worded as Kubernetes'
 * pkg/apis/autoscaling/validation. */
#include "apiserver/schema.h"

#include <stdio.h>
#include <string.h>

#include "lib/names.h"
#include "lib/quantity.h"

#define MSG_MAX 1024
#define MAX_PERIOD_SECONDS 1800
#define MAX_STABILIZATION_WINDOW 3600

static const char *const source_types[] = {"ContainerResource", "External", "Object", "Pods",
                                           "Resource", NULL};

static bool check_ref(struct api_diag *d, const json_t *ref, const char *base)
{
    static const char *const keys[] = {"kind", "name", NULL};
    char f[API_PATH_MAX], msg[MSG_MAX];
    bool ok = true;

    for (size_t i = 0; keys[i]; i++) {
        const char *v = api_str(ref, keys[i]);
        api_pathf(f, "%s.%s", base, keys[i]);
        if (!v || !v[0]) {
            api_required(d, f, NULL);
            ok = false;
        } else if (orc_path_segment(v, strlen(v), msg, sizeof msg) != 0) {
            api_invalid_str(d, f, v, "%s", msg);
            ok = false;
        }
    }
    return ok;
}

/* A quantity that must be above zero. */
static void check_positive(struct api_diag *d, const json_t *t, const char *key, const char *base)
{
    const char *s = api_str(t, key);
    char f[API_PATH_MAX];
    int64_t milli;
    api_pathf(f, "%s.%s", base, key);
    if (s && (s[0] == '-' || (orc_quantity_parse(s, &milli) == 0 && milli == 0)))
        api_invalid_str(d, f, s, "must be positive");
}

static void check_target(struct api_diag *d, const json_t *t, const char *base)
{
    const char *type = api_str(t, "type");
    char f[API_PATH_MAX];
    long long u;

    api_pathf(f, "%s.type", base);
    if (!type || !type[0]) api_required(d, f, "must specify a metric target type");
    if (!type || (strcmp(type, "Utilization") && strcmp(type, "Value") && strcmp(type, "AverageValue")))
        api_invalid_str(d, f, type ? type : "", "must be either Utilization, Value, or AverageValue");
    check_positive(d, t, "value", base);
    check_positive(d, t, "averageValue", base);
    api_pathf(f, "%s.averageUtilization", base);
    if (api_int(t, "averageUtilization", &u) && u < 1)
        api_invalid_int(d, f, u, "must be greater than 0");
}

static void check_source(struct api_diag *d, const json_t *src, const char *field,
                         const char *base)
{
    char f[API_PATH_MAX];
    const char *name = api_str(src, "name");
    if (strcmp(field, "resource") == 0 || strcmp(field, "containerResource") == 0) {
        api_pathf(f, "%s.name", base);
        if (!name || !name[0]) api_required(d, f, "must specify a resource name");
    } else if (strcmp(field, "object") == 0) {
        api_pathf(f, "%s.describedObject", base);
        check_ref(d, api_obj(src, "describedObject"), f);
    }
    if (json_object_get(src, "metric")) {
        const char *mname = api_str(api_obj(src, "metric"), "name");
        api_pathf(f, "%s.metric.name", base);
        if (!mname || !mname[0]) api_required(d, f, "must specify a metric name");
    }
    api_pathf(f, "%s.target", base);
    check_target(d, api_obj(src, "target"), f);
}

static void check_metric(struct api_diag *d, const json_t *m, const char *base)
{
    static const char *const fields[] = {"object", "pods", "resource", "containerResource",
                                         "external", NULL};
    static const char *const for_type[] = {"Object", "Pods", "Resource", "ContainerResource",
                                           "External", NULL};
    const char *type = api_str(m, "type");
    const char *expected = NULL;
    char f[API_PATH_MAX];
    int present = 0;

    api_pathf(f, "%s.type", base);
    if (!type || !type[0]) api_required(d, f, "must specify a metric source type");
    for (size_t i = 0; fields[i]; i++) {
        if (type && strcmp(type, for_type[i]) == 0) expected = fields[i];
        if (json_is_object(json_object_get(m, fields[i]))) present++;
    }
    if (!expected) {
        json_t *shown = json_string(type ? type : "");
        api_unsupported(d, f, shown, source_types);
        json_decref(shown);
    } else if (!json_is_object(json_object_get(m, expected))) {
        api_pathf(f, "%s.%s", base, expected);
        api_required(d, f, "must populate information for the given metric source");
    }
    for (size_t i = 0; fields[i]; i++) {
        const json_t *src = api_obj(m, fields[i]);
        if (!src) continue;
        api_pathf(f, "%s.%s", base, fields[i]);
        if (present > 1 && (!expected || strcmp(expected, fields[i]) != 0))
            api_forbidden(d, f, "must populate the given metric source only");
        else check_source(d, src, fields[i], f);
    }
}

static void check_rules(struct api_diag *d, const json_t *r, const char *base)
{
    static const char *const selects[] = {"Max", "Min", "Disabled", NULL};
    static const char *const ptypes[] = {"Pods", "Percent", NULL};
    const json_t *pols = api_arr(r, "policies");
    char f[API_PATH_MAX];
    long long v;

    if (!r) return;
    api_check_enum(d, r, "selectPolicy", base, selects);
    api_pathf(f, "%s.stabilizationWindowSeconds", base);
    if (api_int(r, "stabilizationWindowSeconds", &v) && (v < 0 || v > MAX_STABILIZATION_WINDOW))
        api_invalid_int(d, f, v, v < 0 ? "must be greater than or equal to zero"
                                       : "must be less than or equal to 3600");
    for (size_t i = 0; i < json_array_size(pols); i++) {
        const json_t *p = json_array_get(pols, i);
        char pb[API_PATH_MAX];
        api_pathf(pb, "%s.policies[%zu]", base, i);
        api_check_enum(d, p, "type", pb, ptypes);
        api_pathf(f, "%s.value", pb);
        if (!api_int(p, "value", &v) || v <= 0)
            api_invalid_int(d, f, api_int(p, "value", &v) ? v : 0, "must be greater than zero");
        api_pathf(f, "%s.periodSeconds", pb);
        if (!api_int(p, "periodSeconds", &v) || v <= 0)
            api_invalid_int(d, f, api_int(p, "periodSeconds", &v) ? v : 0,
                            "must be greater than zero");
        else if (v > MAX_PERIOD_SECONDS)
            api_invalid_int(d, f, v, "must be less than or equal to 1800");
    }
}

void api_rules_hpa(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec"), *metrics = api_arr(spec, "metrics");
    const json_t *beh = api_obj(spec, "behavior");
    long long min = 1, max = 0;
    bool has_min = api_int(spec, "minReplicas", &min);
    char f[API_PATH_MAX];
    size_t before;
    (void)old;

    if (has_min && min < 1) api_invalid_int(d, "spec.minReplicas", min, "must be greater than or equal to 1");
    api_int(spec, "maxReplicas", &max);
    if (max < 1) api_invalid_int(d, "spec.maxReplicas", max, "must be greater than 0");
    if (has_min && max < min)
        api_invalid_int(d, "spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
    if (!check_ref(d, api_obj(spec, "scaleTargetRef"), "spec.scaleTargetRef")) return;
    before = json_array_size(d->causes);
    for (size_t i = 0; i < json_array_size(metrics); i++) {
        api_pathf(f, "spec.metrics[%zu]", i);
        check_metric(d, json_array_get(metrics, i), f);
    }
    if (json_array_size(d->causes) != before) return;
    check_rules(d, api_obj(beh, "scaleUp"), "spec.behavior.scaleUp");
    check_rules(d, api_obj(beh, "scaleDown"), "spec.behavior.scaleDown");
}
