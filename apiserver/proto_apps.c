/* proto_apps.c — field numbers of apps/v1 ReplicaSet, StatefulSet and
 * DaemonSet (k8s.io/api apps/v1 generated.proto), which typed clients write
 * though kubectl create does not, core/v1 PersistentVolumeClaim, the
 * StatefulSet's claim templates, storage.k8s.io/v1 StorageClass, and
 * ControllerRevision.
 * Deployment is in proto_groups.c. */
#include "apiserver/proto_tab.h"

#define P_META P_OBJ(1, "metadata", api_pb_objectmeta)

/* The conditions of ReplicaSets, StatefulSets and DaemonSets share a shape. */
PB_MESSAGE(setcond, "SetCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_TIME(3, "lastTransitionTime"), P_STR(4, "reason"),
    P_STR(5, "message"));

/* ---- core/v1 PersistentVolumeClaim ---- */

PB_MESSAGE(volresources, "VolumeResourceRequirements", P_MQTY(1, "limits"), P_MQTY(2, "requests"));
PB_MESSAGE(typedlocalref, "TypedLocalObjectReference",
    P_STRK(1, "apiGroup"), P_STR(2, "kind"), P_STR(3, "name"));
PB_MESSAGE(typedref, "TypedObjectReference",
    P_STRK(1, "apiGroup"), P_STR(2, "kind"), P_STR(3, "name"), P_STRK(4, "namespace"));
PB_MESSAGE(pvcspec, "PersistentVolumeClaimSpec",
    P_ASTR(1, "accessModes"), P_OBJ(2, "resources", volresources), P_STR(3, "volumeName"),
    P_OBJ(4, "selector", api_pb_labelselector), P_STRK(5, "storageClassName"),
    P_STRK(6, "volumeMode"), P_OBJ(7, "dataSource", typedlocalref),
    P_OBJ(8, "dataSourceRef", typedref), P_STRK(9, "volumeAttributesClassName"));
PB_MESSAGE(pvccond, "PersistentVolumeClaimCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_TIME(3, "lastProbeTime"),
    P_TIME(4, "lastTransitionTime"), P_STR(5, "reason"), P_STR(6, "message"));
/* The phase, modes, capacity and conditions; the resize and attributes
 * bookkeeping of external controllers is not decoded. */
PB_MESSAGE(pvcstatus, "PersistentVolumeClaimStatus",
    P_STR(1, "phase"), P_ASTR(2, "accessModes"), P_MQTY(3, "capacity"),
    P_AOBJ(4, "conditions", pvccond));

PB_MESSAGE_SHARED(api_pb_pvc, "PersistentVolumeClaim",
    P_META, P_OBJ(2, "spec", pvcspec), P_OBJ(3, "status", pvcstatus));

/* ---- ReplicaSet ---- */

PB_MESSAGE(rsspec, "ReplicaSetSpec",
    P_INTK(1, "replicas"), P_OBJ(2, "selector", api_pb_labelselector),
    P_OBJ(3, "template", api_pb_podtemplatespec), P_INT(4, "minReadySeconds"));
PB_MESSAGE(rsstatus, "ReplicaSetStatus",
    P_INTK(1, "replicas"), P_INT(2, "fullyLabeledReplicas"), P_INT(3, "observedGeneration"),
    P_INT(4, "readyReplicas"), P_INT(5, "availableReplicas"), P_AOBJ(6, "conditions", setcond),
    P_INTK(7, "terminatingReplicas"));

PB_MESSAGE_SHARED(api_pb_replicaset, "ReplicaSet",
    P_META, P_OBJ(2, "spec", rsspec), P_OBJ(3, "status", rsstatus));

/* ---- StatefulSet ---- */

PB_MESSAGE(rollingsts, "RollingUpdateStatefulSetStrategy",
    P_INTK(1, "partition"), P_INTSTR(2, "maxUnavailable"));
PB_MESSAGE(stsstrategy, "StatefulSetUpdateStrategy",
    P_STR(1, "type"), P_OBJ(2, "rollingUpdate", rollingsts));
PB_MESSAGE(pvcretention, "StatefulSetPersistentVolumeClaimRetentionPolicy",
    P_STR(1, "whenDeleted"), P_STR(2, "whenScaled"));
PB_MESSAGE(ordinals, "StatefulSetOrdinals", P_INT(1, "start"));
PB_MESSAGE(stsspec, "StatefulSetSpec",
    P_INTK(1, "replicas"), P_OBJ(2, "selector", api_pb_labelselector),
    P_OBJ(3, "template", api_pb_podtemplatespec), P_AOBJ(4, "volumeClaimTemplates", api_pb_pvc),
    P_STR(5, "serviceName"), P_STR(6, "podManagementPolicy"),
    P_OBJ(7, "updateStrategy", stsstrategy), P_INTK(8, "revisionHistoryLimit"),
    P_INT(9, "minReadySeconds"),
    P_OBJ(10, "persistentVolumeClaimRetentionPolicy", pvcretention),
    P_OBJ(11, "ordinals", ordinals));
PB_MESSAGE(stsstatus, "StatefulSetStatus",
    P_INT(1, "observedGeneration"), P_INTK(2, "replicas"), P_INT(3, "readyReplicas"),
    P_INT(4, "currentReplicas"), P_INT(5, "updatedReplicas"), P_STR(6, "currentRevision"),
    P_STR(7, "updateRevision"), P_INTK(9, "collisionCount"), P_AOBJ(10, "conditions", setcond),
    P_INT(11, "availableReplicas"));

PB_MESSAGE_SHARED(api_pb_statefulset, "StatefulSet",
    P_META, P_OBJ(2, "spec", stsspec), P_OBJ(3, "status", stsstatus));

/* ---- DaemonSet ---- */

PB_MESSAGE(rollingds, "RollingUpdateDaemonSet",
    P_INTSTR(1, "maxUnavailable"), P_INTSTR(2, "maxSurge"));
PB_MESSAGE(dsstrategy, "DaemonSetUpdateStrategy",
    P_STR(1, "type"), P_OBJ(2, "rollingUpdate", rollingds));
PB_MESSAGE(dsspec, "DaemonSetSpec",
    P_OBJ(1, "selector", api_pb_labelselector), P_OBJ(2, "template", api_pb_podtemplatespec),
    P_OBJ(3, "updateStrategy", dsstrategy), P_INT(4, "minReadySeconds"),
    P_INTK(6, "revisionHistoryLimit"));
PB_MESSAGE(dsstatus, "DaemonSetStatus",
    P_INTK(1, "currentNumberScheduled"), P_INTK(2, "numberMisscheduled"),
    P_INTK(3, "desiredNumberScheduled"), P_INTK(4, "numberReady"),
    P_INT(5, "observedGeneration"), P_INT(6, "updatedNumberScheduled"),
    P_INT(7, "numberAvailable"), P_INT(8, "numberUnavailable"), P_INTK(9, "collisionCount"),
    P_AOBJ(10, "conditions", setcond));

PB_MESSAGE_SHARED(api_pb_daemonset, "DaemonSet",
    P_META, P_OBJ(2, "spec", dsspec), P_OBJ(3, "status", dsstatus));

/* ---- storage.k8s.io/v1 StorageClass ---- */

PB_MESSAGE(topoterm_req, "TopologySelectorLabelRequirement",
    P_STR(1, "key"), P_ASTR(2, "values"));
PB_MESSAGE(topoterm, "TopologySelectorTerm", P_AOBJ(1, "matchLabelExpressions", topoterm_req));

PB_MESSAGE_SHARED(api_pb_storageclass, "StorageClass",
    P_META, P_STR(2, "provisioner"), P_MSTR(3, "parameters"), P_STRK(4, "reclaimPolicy"),
    P_ASTR(5, "mountOptions"), P_BOOLK(6, "allowVolumeExpansion"),
    P_STRK(7, "volumeBindingMode"), P_AOBJ(8, "allowedTopologies", topoterm));

/* ---- apps/v1 ControllerRevision: data is a RawExtension holding JSON ---- */

PB_MESSAGE_SHARED(api_pb_controllerrevision, "ControllerRevision",
    P_META, P_FIELDS(2, "data"), P_INTK(3, "revision"));
