/* schema_batch.c — field tables for batch/v1: Job and CronJob. */
#include "apiserver/schema.h"

API_STRUCT(onexitcodes, "PodFailurePolicyOnExitCodesRequirement",
    F_STR("containerName"), F_STR_R("operator"), API_F("values", API_T_ARRAY, API_T_INT32,
                                                      API_F_REQUIRED, NULL));
API_STRUCT(onpodcond, "PodFailurePolicyOnPodConditionsPattern", F_STR_R("type"), F_STR("status"));
API_STRUCT(pfprule, "PodFailurePolicyRule",
    F_STR_R("action"), F_OBJ("onExitCodes", onexitcodes), F_AOBJ("onPodConditions", onpodcond));
API_STRUCT(podfailurepolicy, "PodFailurePolicy", F_AOBJ_R("rules", pfprule));

API_STRUCT(successrule, "SuccessPolicyRule", F_STR("succeededIndexes"), F_INT32("succeededCount"));
API_STRUCT(successpolicy, "SuccessPolicy", F_AOBJ_R("rules", successrule));

API_STRUCT(jobspec, "JobSpec",
    F_INT32("parallelism"), F_INT32("completions"), F_INT("activeDeadlineSeconds"),
    F_OBJ("podFailurePolicy", podfailurepolicy), F_OBJ("successPolicy", successpolicy),
    F_INT32("backoffLimit"), F_INT32("backoffLimitPerIndex"), F_INT32("maxFailedIndexes"),
    F_OBJ("selector", api_s_labelselector), F_BOOL("manualSelector"),
    F_OBJ("template", api_s_podtemplatespec), F_INT32("ttlSecondsAfterFinished"),
    F_STR("completionMode"), F_BOOL("suspend"), F_STR("podReplacementPolicy"),
    F_STR("managedBy"));

/* The status is not checked; its conditions merge by type, as in Kubernetes.
 * Its fields are described all the same: kubectl's patch of a status
 * change looks each list and map up in the OpenAPI document. */
API_STRUCT(uncounted, "UncountedTerminatedPods", F_ASTR("succeeded"), F_ASTR("failed"));
API_STRUCT(jobstatus, "JobStatus",
    F_AFREE_MERGE("conditions", "type"), F_TIME("startTime"), F_TIME("completionTime"),
    F_INT32("active"), F_INT32("succeeded"), F_INT32("failed"), F_INT32("terminating"),
    F_STR("completedIndexes"), F_STR("failedIndexes"), F_OBJ("uncountedTerminatedPods", uncounted),
    F_INT32("ready"));

API_STRUCT_SHARED(api_s_job, "Job",
    F_TYPEMETA, F_OBJ("spec", jobspec), F_FREE_PATCHED("status", jobstatus));

API_STRUCT(jobtemplate, "JobTemplateSpec",
    F_OBJ("metadata", api_s_objectmeta), F_OBJ("spec", jobspec));

API_STRUCT(cronjobspec, "CronJobSpec",
    F_STR("schedule"), F_STR("timeZone"), F_INT("startingDeadlineSeconds"),
    F_STR("concurrencyPolicy"), F_BOOL("suspend"), F_OBJ("jobTemplate", jobtemplate),
    F_INT32("successfulJobsHistoryLimit"), F_INT32("failedJobsHistoryLimit"));

API_STRUCT(cronjobstatus, "CronJobStatus",
    F_AOBJ("active", api_s_objectref), F_TIME("lastScheduleTime"), F_TIME("lastSuccessfulTime"));

API_STRUCT_SHARED(api_s_cronjob, "CronJob",
    F_TYPEMETA, F_OBJ("spec", cronjobspec), F_FREE_PATCHED("status", cronjobstatus));
