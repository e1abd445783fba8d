/* schema_core_admin.c — field tables for the core/v1 kinds a namespace's
 * administration carries: ServiceAccount, LimitRange, ResourceQuota, and
 * the ReplicationController (the ReplicaSet's predecessor). */
#include "apiserver/schema.h"

API_STRUCT(localref, "LocalObjectReference", F_STR("name"));

API_STRUCT_SHARED(api_s_serviceaccount, "ServiceAccount",
    F_TYPEMETA, F_AOBJ_MERGE("secrets", api_s_objectref, "name"),
    F_AOBJ("imagePullSecrets", localref), F_BOOL("automountServiceAccountToken"));

/* ---- LimitRange ---- */

API_STRUCT(limititem, "LimitRangeItem",
    F_STR_R("type"), F_MQTY("max"), F_MQTY("min"), F_MQTY("default"), F_MQTY("defaultRequest"),
    F_MQTY("maxLimitRequestRatio"));
API_STRUCT(limitspec, "LimitRangeSpec", F_AOBJ_R("limits", limititem));

API_STRUCT_SHARED(api_s_limitrange, "LimitRange", F_TYPEMETA, F_OBJ("spec", limitspec));

/* ---- ResourceQuota ---- */

API_STRUCT(scopereq, "ScopedResourceSelectorRequirement",
    F_STR_R("scopeName"), F_STR_R("operator"), F_ASTR("values"));
API_STRUCT(scopesel, "ScopeSelector", F_AOBJ("matchExpressions", scopereq));
API_STRUCT(quotaspec, "ResourceQuotaSpec",
    F_MQTY("hard"), F_ASTR("scopes"), F_OBJ("scopeSelector", scopesel));

/* Not checked, but described for kubectl's patches (see schema_batch.c). */
API_STRUCT(quotastatus, "ResourceQuotaStatus", F_MQTY("hard"), F_MQTY("used"));

API_STRUCT_SHARED(api_s_resourcequota, "ResourceQuota",
    F_TYPEMETA, F_OBJ("spec", quotaspec), F_FREE_PATCHED("status", quotastatus));

/* ---- ReplicationController ---- */

API_STRUCT(conditions_status, "ConditionsStatus", F_AFREE_MERGE("conditions", "type"));
API_STRUCT(rcspec, "ReplicationControllerSpec",
    F_INT32("replicas"), F_INT32("minReadySeconds"), F_MSTR("selector"),
    F_OBJ("template", api_s_podtemplatespec));

API_STRUCT_SHARED(api_s_replicationcontroller, "ReplicationController",
    F_TYPEMETA, F_OBJ("spec", rcspec), F_FREE_PATCHED("status", conditions_status));
