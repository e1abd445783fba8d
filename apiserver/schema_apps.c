/* schema_apps.c — field tables for apps/v1: Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, ControllerRevision. */
#include "apiserver/schema.h"

/* Statuses are not checked; their conditions merge by type, as in Kubernetes. */
API_STRUCT(conditions_status, "ConditionsStatus", F_AFREE_MERGE("conditions", "type"));
#define F_STATUS F_FREE_PATCHED("status", conditions_status)

/* ---- Deployment ---- */

API_STRUCT(rollingdeploy, "RollingUpdateDeployment",
    F_INTSTR("maxUnavailable"), F_INTSTR("maxSurge"));
API_STRUCT(deploystrategy, "DeploymentStrategy",
    F_STR("type"), F_OBJ("rollingUpdate", rollingdeploy));

API_STRUCT(deployspec, "DeploymentSpec",
    F_INT32("replicas"), F_OBJ("selector", api_s_labelselector),
    F_OBJ("template", api_s_podtemplatespec), F_OBJ_RETAIN("strategy", deploystrategy),
    F_INT32("minReadySeconds"), F_INT32("revisionHistoryLimit"), F_BOOL("paused"),
    F_INT32("progressDeadlineSeconds"));

API_STRUCT_SHARED(api_s_deployment, "Deployment",
    F_TYPEMETA, F_OBJ("spec", deployspec), F_STATUS);

/* ---- ReplicaSet ---- */

API_STRUCT(rsspec, "ReplicaSetSpec",
    F_INT32("replicas"), F_INT32("minReadySeconds"), F_OBJ("selector", api_s_labelselector),
    F_OBJ("template", api_s_podtemplatespec));

API_STRUCT_SHARED(api_s_replicaset, "ReplicaSet", F_TYPEMETA, F_OBJ("spec", rsspec), F_STATUS);

/* ---- StatefulSet ---- */

API_STRUCT(pvc, "PersistentVolumeClaim",
    F_STR("apiVersion"), F_STR("kind"), F_OBJ("metadata", api_s_objectmeta),
    F_OBJ("spec", api_s_pvcspec), F_STATUS);

API_STRUCT(rollingsts, "RollingUpdateStatefulSetStrategy",
    F_INT32("partition"), F_INTSTR("maxUnavailable"));
API_STRUCT(stsstrategy, "StatefulSetUpdateStrategy",
    F_STR("type"), F_OBJ("rollingUpdate", rollingsts));
API_STRUCT(pvcretention, "StatefulSetPersistentVolumeClaimRetentionPolicy",
    F_STR("whenDeleted"), F_STR("whenScaled"));
API_STRUCT(ordinals, "StatefulSetOrdinals", F_INT32("start"));

API_STRUCT(stsspec, "StatefulSetSpec",
    F_INT32("replicas"), F_OBJ("selector", api_s_labelselector),
    F_OBJ("template", api_s_podtemplatespec), F_AOBJ("volumeClaimTemplates", pvc),
    F_STR("serviceName"), F_STR("podManagementPolicy"), F_OBJ("updateStrategy", stsstrategy),
    F_INT32("revisionHistoryLimit"), F_INT32("minReadySeconds"),
    F_OBJ("persistentVolumeClaimRetentionPolicy", pvcretention), F_OBJ("ordinals", ordinals));

API_STRUCT_SHARED(api_s_statefulset, "StatefulSet",
    F_TYPEMETA, F_OBJ("spec", stsspec), F_STATUS);

/* ---- DaemonSet ---- */

API_STRUCT(rollingds, "RollingUpdateDaemonSet",
    F_INTSTR("maxUnavailable"), F_INTSTR("maxSurge"));
API_STRUCT(dsstrategy, "DaemonSetUpdateStrategy",
    F_STR("type"), F_OBJ("rollingUpdate", rollingds));

API_STRUCT(dsspec, "DaemonSetSpec",
    F_OBJ("selector", api_s_labelselector), F_OBJ("template", api_s_podtemplatespec),
    F_OBJ("updateStrategy", dsstrategy), F_INT32("minReadySeconds"),
    F_INT32("revisionHistoryLimit"));

API_STRUCT_SHARED(api_s_daemonset, "DaemonSet", F_TYPEMETA, F_OBJ("spec", dsspec), F_STATUS);

/* ---- ControllerRevision ---- */

API_STRUCT_SHARED(api_s_controllerrevision, "ControllerRevision",
    F_TYPEMETA, F_FREE("data"), F_INT("revision"));
