/* schema_storage.c — field tables for storage: core/v1 PersistentVolume and
 * PersistentVolumeClaim (whose spec a StatefulSet's volumeClaimTemplates
 * share) and storage.k8s.io/v1 StorageClass. */
#include "apiserver/schema.h"

API_STRUCT(conditions_status, "ConditionsStatus", F_AFREE_MERGE("conditions", "type"));
#define F_STATUS F_FREE_PATCHED("status", conditions_status)

/* ---- PersistentVolumeClaim ---- */

API_STRUCT(volresources, "VolumeResourceRequirements", F_MQTY("limits"), F_MQTY("requests"));
API_STRUCT(typedlocalref, "TypedLocalObjectReference",
    F_STR("apiGroup"), F_STR_R("kind"), F_STR_R("name"));
API_STRUCT(typedref, "TypedObjectReference",
    F_STR("apiGroup"), F_STR_R("kind"), F_STR_R("name"), F_STR("namespace"));

API_STRUCT_SHARED(api_s_pvcspec, "PersistentVolumeClaimSpec",
    F_ASTR("accessModes"), F_OBJ("selector", api_s_labelselector),
    F_OBJ("resources", volresources), F_STR("volumeName"), F_STR("storageClassName"),
    F_STR("volumeMode"), F_OBJ("dataSource", typedlocalref), F_OBJ("dataSourceRef", typedref),
    F_STR("volumeAttributesClassName"));

/* Not checked, but described for kubectl's patches (see schema_batch.c). */
API_STRUCT(modifyvolstatus, "ModifyVolumeStatus",
    F_STR("targetVolumeAttributesClassName"), F_STR("status"));
API_STRUCT(pvcstatus, "PersistentVolumeClaimStatus",
    F_STR("phase"), F_ASTR("accessModes"), F_MQTY("capacity"), F_AFREE_MERGE("conditions", "type"),
    F_MQTY("allocatedResources"), F_MSTR("allocatedResourceStatuses"),
    F_STR("currentVolumeAttributesClassName"), F_OBJ("modifyVolumeStatus", modifyvolstatus));

API_STRUCT_SHARED(api_s_persistentvolumeclaim, "PersistentVolumeClaim",
    F_TYPEMETA, F_OBJ("spec", api_s_pvcspec), F_FREE_PATCHED("status", pvcstatus));

/* ---- PersistentVolume ---- */

API_STRUCT(pvhostpath, "HostPathVolumeSource", F_STR_R("path"), F_STR("type"));
API_STRUCT(pvlocal, "LocalVolumeSource", F_STR_R("path"), F_STR("fsType"));
API_STRUCT(pvnfs, "NFSVolumeSource", F_STR_R("server"), F_STR_R("path"), F_BOOL("readOnly"));
API_STRUCT(secretref, "SecretReference", F_STR("name"), F_STR("namespace"));
API_STRUCT(pvcsi, "CSIPersistentVolumeSource",
    F_STR_R("driver"), F_STR_R("volumeHandle"), F_BOOL("readOnly"), F_STR("fsType"),
    F_MSTR("volumeAttributes"), F_OBJ("controllerPublishSecretRef", secretref),
    F_OBJ("nodeStageSecretRef", secretref), F_OBJ("nodePublishSecretRef", secretref),
    F_OBJ("controllerExpandSecretRef", secretref), F_OBJ("nodeExpandSecretRef", secretref));
API_STRUCT(volnodeaffinity, "VolumeNodeAffinity", F_OBJ("required", api_s_nodeselector));

API_STRUCT(pvspec, "PersistentVolumeSpec",
    F_MQTY("capacity"), F_ASTR("accessModes"), F_OBJ("claimRef", api_s_objectref),
    F_STR("persistentVolumeReclaimPolicy"), F_STR("storageClassName"), F_ASTR("mountOptions"),
    F_STR("volumeMode"), F_OBJ("nodeAffinity", volnodeaffinity),
    F_STR("volumeAttributesClassName"),
    F_OBJ("hostPath", pvhostpath), F_OBJ("local", pvlocal), F_OBJ("nfs", pvnfs),
    F_OBJ("csi", pvcsi));

API_STRUCT_SHARED(api_s_persistentvolume, "PersistentVolume",
    F_TYPEMETA, F_OBJ("spec", pvspec), F_STATUS);

/* ---- StorageClass ---- */

API_STRUCT(topoterm_req, "TopologySelectorLabelRequirement", F_STR_R("key"), F_ASTR_R("values"));
API_STRUCT(topoterm, "TopologySelectorTerm", F_AOBJ("matchLabelExpressions", topoterm_req));

API_STRUCT_SHARED(api_s_storageclass, "StorageClass",
    F_TYPEMETA, F_STR("provisioner"), F_MSTR("parameters"), F_STR("reclaimPolicy"),
    F_ASTR("mountOptions"), F_BOOL("allowVolumeExpansion"), F_STR("volumeBindingMode"),
    F_AOBJ("allowedTopologies", topoterm));
