/* schema_autoscaling.c — field tables for autoscaling/v2
 * HorizontalPodAutoscaler, the version orc stores (autoscaling/v1 objects
 * are converted to it first: convert_hpa.c). */
#include "apiserver/schema.h"

API_STRUCT(scaleref, "CrossVersionObjectReference",
    F_STR_R("kind"), F_STR_R("name"), F_STR("apiVersion"));
API_STRUCT(target, "MetricTarget",
    F_STR_R("type"), F_QTY("value"), F_QTY("averageValue"), F_INT32("averageUtilization"));
API_STRUCT(metricid, "MetricIdentifier",
    F_STR_R("name"), F_OBJ("selector", api_s_labelselector));
API_STRUCT(resource_src, "ResourceMetricSource", F_STR_R("name"), F_OBJ_R("target", target));
API_STRUCT(container_src, "ContainerResourceMetricSource",
    F_STR_R("name"), F_OBJ_R("target", target), F_STR_R("container"));
API_STRUCT(pods_src, "PodsMetricSource", F_OBJ_R("metric", metricid), F_OBJ_R("target", target));
API_STRUCT(object_src, "ObjectMetricSource",
    F_OBJ_R("describedObject", scaleref), F_OBJ_R("target", target),
    F_OBJ_R("metric", metricid));
API_STRUCT(external_src, "ExternalMetricSource",
    F_OBJ_R("metric", metricid), F_OBJ_R("target", target));
API_STRUCT(metricspec, "MetricSpec",
    F_STR_R("type"), F_OBJ("object", object_src), F_OBJ("pods", pods_src),
    F_OBJ("resource", resource_src), F_OBJ("containerResource", container_src),
    F_OBJ("external", external_src));

API_STRUCT(scalingpolicy, "HPAScalingPolicy",
    F_STR_R("type"), F_INT32("value"), F_INT32("periodSeconds"));
API_STRUCT(scalingrules, "HPAScalingRules",
    F_INT32("stabilizationWindowSeconds"), F_STR("selectPolicy"),
    F_AOBJ("policies", scalingpolicy), F_QTY("tolerance"));
API_STRUCT(behavior, "HorizontalPodAutoscalerBehavior",
    F_OBJ("scaleUp", scalingrules), F_OBJ("scaleDown", scalingrules));

API_STRUCT(hpaspec, "HorizontalPodAutoscalerSpec",
    F_OBJ_R("scaleTargetRef", scaleref), F_INT32("minReplicas"), F_INT32("maxReplicas"),
    F_AOBJ("metrics", metricspec), F_OBJ("behavior", behavior));

/* Not checked, but described for kubectl's patches (see schema_batch.c). */
API_STRUCT(hpastatus, "HorizontalPodAutoscalerStatus",
    F_INT("observedGeneration"), F_TIME("lastScaleTime"), F_INT32("currentReplicas"),
    F_INT32("desiredReplicas"), F_AFREE("currentMetrics"), F_AFREE_MERGE("conditions", "type"));

API_STRUCT_SHARED(api_s_hpa, "HorizontalPodAutoscaler",
    F_TYPEMETA, F_OBJ("spec", hpaspec), F_FREE_PATCHED("status", hpastatus));

/* ---- autoscaling/v1: what its clients see (served_only; stored as v2) ---- */

API_STRUCT(hpaspec_v1, "HorizontalPodAutoscalerSpecV1",
    F_OBJ_R("scaleTargetRef", scaleref), F_INT32("minReplicas"), F_INT32("maxReplicas"),
    F_INT32("targetCPUUtilizationPercentage"));
API_STRUCT(hpastatus_v1, "HorizontalPodAutoscalerStatusV1",
    F_INT("observedGeneration"), F_TIME("lastScaleTime"), F_INT32("currentReplicas"),
    F_INT32("desiredReplicas"), F_INT32("currentCPUUtilizationPercentage"));

API_STRUCT_SHARED(api_s_hpa_v1, "HorizontalPodAutoscalerV1",
    F_TYPEMETA, F_OBJ("spec", hpaspec_v1), F_OBJ("status", hpastatus_v1));
