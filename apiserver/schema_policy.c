/* schema_policy.c — field tables for scheduling.k8s.io/v1 PriorityClass and
 * policy/v1 PodDisruptionBudget and Eviction (the body of pods/eviction). */
#include "apiserver/schema.h"

API_STRUCT_SHARED(api_s_priorityclass, "PriorityClass",
    F_TYPEMETA, F_INT32("value"), F_BOOL("globalDefault"), F_STR("description"),
    F_STR("preemptionPolicy"));

API_STRUCT(pdbspec, "PodDisruptionBudgetSpec",
    F_INTSTR("minAvailable"), F_OBJ("selector", api_s_labelselector), F_INTSTR("maxUnavailable"),
    F_STR("unhealthyPodEvictionPolicy"));

/* Not checked, but described for kubectl's patches (see schema_batch.c). */
API_STRUCT(pdbstatus, "PodDisruptionBudgetStatus",
    F_INT("observedGeneration"), F_MSTR("disruptedPods"), F_INT32("disruptionsAllowed"),
    F_INT32("currentHealthy"), F_INT32("desiredHealthy"), F_INT32("expectedPods"),
    F_AFREE_MERGE("conditions", "type"));

API_STRUCT_SHARED(api_s_poddisruptionbudget, "PodDisruptionBudget",
    F_TYPEMETA, F_OBJ("spec", pdbspec), F_FREE_PATCHED("status", pdbstatus));

API_STRUCT(preconditions, "Preconditions", F_STR("uid"), F_STR("resourceVersion"));
API_STRUCT(deleteoptions, "DeleteOptions",
    F_STR("apiVersion"), F_STR("kind"), F_INT("gracePeriodSeconds"),
    F_OBJ("preconditions", preconditions), F_BOOL("orphanDependents"),
    F_STR("propagationPolicy"), F_ASTR("dryRun"),
    F_BOOL("ignoreStoreReadErrorWithClusterBreakingPotential"));

API_STRUCT_SHARED(api_s_eviction, "Eviction",
    F_TYPEMETA, F_OBJ("deleteOptions", deleteoptions));
