/* convert_hpa.c — autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler,
 * as Kubernetes converts them (pkg/apis/autoscaling/v1/conversion.go): v1's
 * targetCPUUtilizationPercentage is v2's Resource cpu Utilization metric;
 * what v1 cannot say (other metrics, their statuses, conditions, behavior)
 * rides in v1 annotations, in v1's metric shapes, and comes back from them. */
#include "apiserver/kind.h"

#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"

#define ANN_METRICS "autoscaling.alpha.kubernetes.io/metrics"
#define ANN_CURRENT "autoscaling.alpha.kubernetes.io/current-metrics"
#define ANN_CONDITIONS "autoscaling.alpha.kubernetes.io/conditions"
#define ANN_BEHAVIOR "autoscaling.alpha.kubernetes.io/behavior"
#define DEFAULT_CPU_UTILIZATION 80

/* One field of a metric source: its v2 path and its v1 key. */
struct fmap {
    const char *v2, *v1;
};

/* A metric source type: its member in MetricSpec/MetricStatus, and its
 * fields in a spec (target) and in a status (current). */
static const struct source {
    const char *type, *member;
    struct fmap spec[6], status[6];
} sources[] = {
    {"Resource", "resource",
     {{"name", "name"}, {"target.averageUtilization", "targetAverageUtilization"},
      {"target.averageValue", "targetAverageValue"}},
     {{"name", "name"}, {"current.averageUtilization", "currentAverageUtilization"},
      {"current.averageValue", "currentAverageValue"}}},
    {"ContainerResource", "containerResource",
     {{"name", "name"}, {"container", "container"},
      {"target.averageUtilization", "targetAverageUtilization"},
      {"target.averageValue", "targetAverageValue"}},
     {{"name", "name"}, {"container", "container"},
      {"current.averageUtilization", "currentAverageUtilization"},
      {"current.averageValue", "currentAverageValue"}}},
    {"Pods", "pods",
     {{"metric.name", "metricName"}, {"metric.selector", "selector"},
      {"target.averageValue", "targetAverageValue"}},
     {{"metric.name", "metricName"}, {"metric.selector", "selector"},
      {"current.averageValue", "currentAverageValue"}}},
    {"Object", "object",
     {{"describedObject", "target"}, {"metric.name", "metricName"},
      {"metric.selector", "selector"}, {"target.value", "targetValue"},
      {"target.averageValue", "averageValue"}},
     {{"describedObject", "target"}, {"metric.name", "metricName"},
      {"metric.selector", "selector"}, {"current.value", "currentValue"},
      {"current.averageValue", "averageValue"}}},
    {"External", "external",
     {{"metric.name", "metricName"}, {"metric.selector", "metricSelector"},
      {"target.value", "targetValue"}, {"target.averageValue", "targetAverageValue"}},
     {{"metric.name", "metricName"}, {"metric.selector", "metricSelector"},
      {"current.value", "currentValue"}, {"current.averageValue", "currentAverageValue"}}},
};

static const struct source *source_of(const char *type)
{
    for (size_t i = 0; type && i < ORC_ARRAY_LEN(sources); i++)
        if (strcmp(sources[i].type, type) == 0) return &sources[i];
    return NULL;
}

/* One metric (spec or status) between shapes; NULL for a type neither
 * version knows (kept as it is). New reference. */
static json_t *metric_convert(const json_t *m, bool status, bool to_v1)
{
    const char *type = orc_json_str(m, "type");
    const struct source *src = source_of(type);
    json_t *out, *from, *to;

    if (src == NULL) return json_deep_copy(m);
    from = json_object_get(m, src->member);
    if ((out = json_pack("{s:s, s:{}}", "type", type, src->member)) == NULL) return NULL;
    to = json_object_get(out, src->member);
    for (const struct fmap *f = status ? src->status : src->spec; f->v2; f++) {
        json_t *v = orc_json_get(from, to_v1 ? f->v2 : f->v1);
        if (v) orc_json_set(to, to_v1 ? f->v1 : f->v2, json_deep_copy(v));
    }
    if (!to_v1 && !status) {
        /* v1 names the target's type by which value it gives. */
        const char *tt = orc_json_get(to, "target.averageUtilization") ? "Utilization"
                         : orc_json_get(to, "target.averageValue") ? "AverageValue" : "Value";
        orc_json_set(to, "target.type", json_string(tt));
    }
    return out;
}

static json_t *metrics_convert(const json_t *list, bool status, bool to_v1)
{
    json_t *out = json_array(), *m;
    size_t i;
    json_array_foreach(list, i, m) {
        json_t *c = metric_convert(m, status, to_v1);
        if (c) json_array_append_new(out, c);
    }
    return out;
}

static bool is_cpu_utilization(const json_t *m, const char *value_path)
{
    const char *type = orc_json_str(m, "type"), *name = orc_json_str(m, "resource.name");
    return type && strcmp(type, "Resource") == 0 && name && strcmp(name, "cpu") == 0
           && json_is_integer(orc_json_get(m, value_path));
}

/* Sets annotation key to the JSON text of v (stolen); nothing when v is NULL. */
static void annotate(json_t *obj, const char *key, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_t *ann = orc_json_get(obj, "metadata.annotations");
    if (text && !json_is_object(ann)) {
        orc_json_set(obj, "metadata.annotations", json_object());
        ann = orc_json_get(obj, "metadata.annotations");
    }
    if (text) json_object_set_new(ann, key, json_string(text));
    free(text);
    json_decref(v);
}

static void v2_spec_to_v1(json_t *obj, json_t *spec)
{
    json_t *metrics = json_object_get(spec, "metrics"), *other = json_array(), *m;
    size_t i;
    bool cpu_done = false;

    json_array_foreach(metrics, i, m) {
        if (is_cpu_utilization(m, "resource.target.averageUtilization")) {
            if (!cpu_done)
                json_object_set(spec, "targetCPUUtilizationPercentage",
                                orc_json_get(m, "resource.target.averageUtilization"));
            cpu_done = true;
            continue;
        }
        json_array_append_new(other, metric_convert(m, false, true));
    }
    annotate(obj, ANN_METRICS, json_array_size(other) ? json_incref(other) : NULL);
    json_decref(other);
    annotate(obj, ANN_BEHAVIOR, json_incref(json_object_get(spec, "behavior")));
    json_object_del(spec, "metrics");
    json_object_del(spec, "behavior");
}

static void v2_status_to_v1(json_t *obj, json_t *st)
{
    json_t *cur = json_object_get(st, "currentMetrics"), *m;
    size_t i;

    json_array_foreach(cur, i, m)
        if (is_cpu_utilization(m, "resource.current.averageUtilization"))
            json_object_set(st, "currentCPUUtilizationPercentage",
                            orc_json_get(m, "resource.current.averageUtilization"));
    annotate(obj, ANN_CURRENT, json_array_size(cur) ? metrics_convert(cur, true, true) : NULL);
    annotate(obj, ANN_CONDITIONS, json_array_size(json_object_get(st, "conditions"))
                                      ? json_incref(json_object_get(st, "conditions")) : NULL);
    json_object_del(st, "currentMetrics");
    json_object_del(st, "conditions");
}

int api_hpa_v2_to_v1(json_t *obj, char *err, size_t n)
{
    json_t *spec = json_object_get(obj, "spec"), *st = json_object_get(obj, "status");
    (void)err;
    (void)n;
    json_object_set_new(obj, "apiVersion", json_string("autoscaling/v1"));
    if (json_is_object(spec)) v2_spec_to_v1(obj, spec);
    if (json_is_object(st)) v2_status_to_v1(obj, st);
    return 0;
}

/* The annotation's JSON, removed from obj; NULL when absent. *bad: it did
 * not parse (the message names it). */
static json_t *take_annotation(json_t *obj, const char *key, bool *bad, char *err, size_t n)
{
    json_t *ann = orc_json_get(obj, "metadata.annotations");
    const char *text = json_string_value(json_object_get(ann, key));
    bool want_object = strcmp(key, ANN_BEHAVIOR) == 0;
    json_error_t je;
    json_t *v;

    if (text == NULL) return NULL;
    v = json_loads(text, 0, &je);
    if (v == NULL || (want_object ? !json_is_object(v) : !json_is_array(v))) {
        snprintf(err, n, "metadata.annotations[%s]: %s", key, v ? "wrong JSON type" : je.text);
        json_decref(v);
        *bad = true;
        return NULL;
    }
    json_object_del(ann, key);
    if (json_object_size(ann) == 0) orc_json_del(obj, "metadata.annotations");
    return v;
}

/* A Resource cpu metric: a spec's Utilization target or a status's current
 * utilization; value is stolen. */
static json_t *cpu_metric(json_t *value, bool status)
{
    json_t *m = json_pack("{s:s, s:{s:s}}", "type", "Resource", "resource", "name", "cpu");
    if (m == NULL) {
        json_decref(value);
        return NULL;
    }
    if (status) {
        orc_json_set(m, "resource.current.averageUtilization", value);
    } else {
        orc_json_set(m, "resource.target.type", json_string("Utilization"));
        orc_json_set(m, "resource.target.averageUtilization", value);
    }
    return m;
}

static void v1_spec_to_v2(json_t *spec, const json_t *other, json_t *behavior)
{
    json_t *metrics = json_array(), *cpu = json_object_get(spec, "targetCPUUtilizationPercentage");

    if (json_is_integer(cpu)) json_array_append_new(metrics, cpu_metric(json_incref(cpu), false));
    if (other) {
        json_t *conv = metrics_convert(other, false, false);
        json_array_extend(metrics, conv);
        json_decref(conv);
    }
    json_object_del(spec, "targetCPUUtilizationPercentage");
    /* v1 always had a CPU target, implicit when not named. */
    if (json_array_size(metrics) == 0)
        json_array_append_new(metrics, cpu_metric(json_integer(DEFAULT_CPU_UTILIZATION), false));
    json_object_set_new(spec, "metrics", metrics);
    if (behavior) json_object_set(spec, "behavior", behavior);
}

static void v1_status_to_v2(json_t *st, const json_t *current, json_t *conditions)
{
    json_t *cpu = json_object_get(st, "currentCPUUtilizationPercentage");

    /* The annotation's list has more than the cpu figure: it wins. */
    if (current)
        json_object_set_new(st, "currentMetrics", metrics_convert(current, true, false));
    else if (json_is_integer(cpu))
        json_object_set_new(st, "currentMetrics",
                            json_pack("[o]", cpu_metric(json_incref(cpu), true)));
    json_object_del(st, "currentCPUUtilizationPercentage");
    if (conditions) json_object_set(st, "conditions", conditions);
}

int api_hpa_v1_to_v2(json_t *obj, char *err, size_t n)
{
    bool bad = false;
    json_t *other = take_annotation(obj, ANN_METRICS, &bad, err, n);
    json_t *current = bad ? NULL : take_annotation(obj, ANN_CURRENT, &bad, err, n);
    json_t *conds = bad ? NULL : take_annotation(obj, ANN_CONDITIONS, &bad, err, n);
    json_t *behavior = bad ? NULL : take_annotation(obj, ANN_BEHAVIOR, &bad, err, n);
    json_t *spec = json_object_get(obj, "spec"), *st = json_object_get(obj, "status");

    if (!bad) {
        json_object_set_new(obj, "apiVersion", json_string("autoscaling/v2"));
        if (!json_is_object(spec)) {
            json_object_set_new(obj, "spec", json_object());
            spec = json_object_get(obj, "spec");
        }
        v1_spec_to_v2(spec, other, behavior);
        if (json_is_object(st) || current || conds) {
            if (!json_is_object(st)) {
                json_object_set_new(obj, "status", json_object());
                st = json_object_get(obj, "status");
            }
            v1_status_to_v2(st, current, conds);
        }
    }
    json_decref(other);
    json_decref(current);
    json_decref(conds);
    json_decref(behavior);
    return bad ? ORC_EINVAL : 0;
}
