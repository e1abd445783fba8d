/* test_convert_hpa.c — autoscaling/v1 <-> v2 HorizontalPodAutoscaler as
 * Kubernetes converts it: the CPU target both ways, the v1 default, and
 * everything v1 cannot say kept in its round-trip annotations. */
#include "apiserver/kind.h"
#include "lib/orc.h"
#include "tests/apiserver/vt.h"

#define CHECK_HAS(hay, needle)                                                          \
    do {                                                                                \
        const char *h_ = (hay);                                                         \
        CHECKF(h_ && strstr(h_, needle), "%s lacks %s", h_ ? h_ : "(null)", needle);   \
    } while (0)

static const char *const v2_json =
    "{'apiVersion':'autoscaling/v2','kind':'HorizontalPodAutoscaler','metadata':{'name':'web',"
    "'labels':{'app':'web'}},'spec':{'scaleTargetRef':{'apiVersion':'apps/v1','kind':"
    "'Deployment','name':'web'},'minReplicas':2,'maxReplicas':10,'metrics':[{'type':'Resource',"
    "'resource':{'name':'cpu','target':{'type':'Utilization','averageUtilization':60}}},{'type':"
    "'Resource','resource':{'name':'memory','target':{'type':'AverageValue','averageValue':"
    "'500Mi'}}},{'type':'External','external':{'metric':{'name':'queue_depth','selector':"
    "{'matchLabels':{'queue':'jobs'}}},'target':{'type':'Value','value':'30'}}}],'behavior':"
    "{'scaleDown':{'stabilizationWindowSeconds':60}}},'status':{'currentReplicas':3,"
    "'desiredReplicas':3,'currentMetrics':[{'type':'Resource','resource':{'name':'cpu',"
    "'current':{'averageUtilization':41,'averageValue':'205m'}}}],'conditions':[{'type':"
    "'AbleToScale','status':'True'}]}}";

static const char *ann(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"),
                                                             "annotations"), key));
}

TEST(hpa_v2_to_v1_keeps_what_v1_cannot_say_in_annotations)
{
    json_t *o = vt_json(v2_json);
    char err[256];

    CHECK_INT(api_hpa_v2_to_v1(o, err, sizeof err), ==, 0);
    VT_STR(o, "apiVersion", "autoscaling/v1");
    VT_INT(o, "spec.targetCPUUtilizationPercentage", 60);
    CHECK(vt_get(o, "spec.metrics") == NULL && vt_get(o, "spec.behavior") == NULL);
    VT_INT(o, "status.currentCPUUtilizationPercentage", 41);
    VT_INT(o, "status.currentReplicas", 3);
    CHECK(vt_get(o, "status.currentMetrics") == NULL && vt_get(o, "status.conditions") == NULL);
    const char *m = ann(o, "autoscaling.alpha.kubernetes.io/metrics");
    CHECK(m != NULL);
    CHECK_HAS(m, "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"targetAverageValue\":\"500Mi\"}}");
    CHECK_HAS(m, "\"external\":{\"metricName\":\"queue_depth\",\"metricSelector\":{\"matchLabels\":{\"queue\":\"jobs\"}},\"targetValue\":\"30\"}");
    CHECK(strstr(m, "cpu") == NULL); /* the CPU target is the v1 field */
    CHECK_HAS(ann(o, "autoscaling.alpha.kubernetes.io/current-metrics"), "\"currentAverageValue\":\"205m\"");
    CHECK_HAS(ann(o, "autoscaling.alpha.kubernetes.io/conditions"), "AbleToScale");
    CHECK_HAS(ann(o, "autoscaling.alpha.kubernetes.io/behavior"), "\"stabilizationWindowSeconds\":60");
    json_decref(o);
}

TEST(hpa_round_trip_v2_v1_v2_is_lossless)
{
    json_t *orig = vt_json(v2_json), *o = vt_json(v2_json);
    char err[256];

    CHECK_INT(api_hpa_v2_to_v1(o, err, sizeof err), ==, 0);
    CHECK_INT(api_hpa_v1_to_v2(o, err, sizeof err), ==, 0);
    if (!json_equal(o, orig)) {
        char *a = json_dumps(orig, JSON_SORT_KEYS), *b = json_dumps(o, JSON_SORT_KEYS);
        test_fail(__FILE__, __LINE__, "round trip changed the object:\n%s\n%s", a, b);
        free(a);
        free(b);
    }
    json_decref(o);
    json_decref(orig);
}

TEST(hpa_v1_to_v2_cpu_target_and_default)
{
    json_t *o = vt_json("{'apiVersion':'autoscaling/v1','kind':'HorizontalPodAutoscaler',"
                        "'metadata':{'name':'w'},'spec':{'scaleTargetRef':{'kind':'Deployment',"
                        "'name':'w'},'maxReplicas':4,'targetCPUUtilizationPercentage':70}}");
    char err[256];

    CHECK_INT(api_hpa_v1_to_v2(o, err, sizeof err), ==, 0);
    VT_STR(o, "apiVersion", "autoscaling/v2");
    VT_STR(o, "spec.metrics[0].type", "Resource");
    VT_STR(o, "spec.metrics[0].resource.target.type", "Utilization");
    VT_INT(o, "spec.metrics[0].resource.target.averageUtilization", 70);
    CHECK(vt_get(o, "spec.targetCPUUtilizationPercentage") == NULL);
    json_decref(o);

    /* v1 without a target always meant 80% CPU. */
    o = vt_json("{'metadata':{'name':'w'},'spec':{'maxReplicas':4}}");
    CHECK_INT(api_hpa_v1_to_v2(o, err, sizeof err), ==, 0);
    VT_INT(o, "spec.metrics[0].resource.target.averageUtilization", 80);
    json_decref(o);

    /* The v1 metrics annotation in v1's shape comes back as v2 metrics. */
    o = vt_json("{'metadata':{'name':'w','annotations':{'autoscaling.alpha.kubernetes.io/metrics':"
                "'[{\\\"type\\\":\\\"Pods\\\",\\\"pods\\\":{\\\"metricName\\\":\\\"qps\\\","
                "\\\"targetAverageValue\\\":\\\"10\\\"}}]'}},'spec':{'maxReplicas':4}}");
    CHECK_INT(api_hpa_v1_to_v2(o, err, sizeof err), ==, 0);
    VT_STR(o, "spec.metrics[0].type", "Pods");
    VT_STR(o, "spec.metrics[0].pods.metric.name", "qps");
    VT_STR(o, "spec.metrics[0].pods.target.type", "AverageValue");
    VT_STR(o, "spec.metrics[0].pods.target.averageValue", "10");
    CHECK(json_array_size(vt_get(o, "spec.metrics")) == 1); /* no implicit CPU beside it */
    CHECK(vt_get(o, "metadata.annotations") == NULL);
    json_decref(o);
}

TEST(hpa_v1_bad_annotation_is_refused)
{
    json_t *o = vt_json("{'metadata':{'name':'w','annotations':{"
                        "'autoscaling.alpha.kubernetes.io/metrics':'not json'}},'spec':{}}");
    char err[256];
    CHECK_INT(api_hpa_v1_to_v2(o, err, sizeof err), ==, ORC_EINVAL);
    CHECK_HAS(err, "metadata.annotations[autoscaling.alpha.kubernetes.io/metrics]");
    json_decref(o);
}
