/* proto_groups.c — field numbers of the kinds outside core/v1 that
 * kubectl's typed clients create (apps/v1 Deployment, batch/v1 Job and
 * CronJob, networking.k8s.io/v1 Ingress, policy/v1 PodDisruptionBudget and
 * Eviction, scheduling.k8s.io/v1 PriorityClass, rbac.authorization.k8s.io/v1,
 * autoscaling/v1 Scale and HorizontalPodAutoscaler) and the other networking.k8s.io/v1 and
 * discovery.k8s.io/v1 kinds orc serves (IngressClass, EndpointSlice), from
 * k8s.io/api's generated.proto files, and the table of top-level types. */
#include "apiserver/proto_tab.h"

#define P_META P_OBJ(1, "metadata", api_pb_objectmeta)

/* ---- apps/v1 Deployment ---- */

PB_MESSAGE(rollingdeploy, "RollingUpdateDeployment",
    P_INTSTR(1, "maxUnavailable"), P_INTSTR(2, "maxSurge"));
PB_MESSAGE(deploystrategy, "DeploymentStrategy",
    P_STR(1, "type"), P_OBJ(2, "rollingUpdate", rollingdeploy));
PB_MESSAGE(deployspec, "DeploymentSpec",
    P_INTK(1, "replicas"), P_OBJ(2, "selector", api_pb_labelselector),
    P_OBJ(3, "template", api_pb_podtemplatespec), P_OBJ(4, "strategy", deploystrategy),
    P_INT(5, "minReadySeconds"), P_INTK(6, "revisionHistoryLimit"), P_BOOL(7, "paused"),
    P_INTK(9, "progressDeadlineSeconds"));
PB_MESSAGE(deploycond, "DeploymentCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_STR(4, "reason"), P_STR(5, "message"),
    P_TIME(6, "lastUpdateTime"), P_TIME(7, "lastTransitionTime"));
PB_MESSAGE(deploystatus, "DeploymentStatus",
    P_INT(1, "observedGeneration"), P_INT(2, "replicas"), P_INT(3, "updatedReplicas"),
    P_INT(4, "availableReplicas"), P_INT(5, "unavailableReplicas"),
    P_AOBJ(6, "conditions", deploycond), P_INT(7, "readyReplicas"),
    P_INTK(8, "collisionCount"), P_INTK(9, "terminatingReplicas"));

PB_MESSAGE_SHARED(api_pb_deployment, "Deployment",
    P_META, P_OBJ(2, "spec", deployspec), P_OBJ(3, "status", deploystatus));

/* ---- batch/v1 Job, CronJob ---- */

PB_MESSAGE(onexitcodes, "PodFailurePolicyOnExitCodesRequirement",
    P_STRK(1, "containerName"), P_STR(2, "operator"), P_AINT(3, "values"));
PB_MESSAGE(onpodcond, "PodFailurePolicyOnPodConditionsPattern",
    P_STR(1, "type"), P_STR(2, "status"));
PB_MESSAGE(pfprule, "PodFailurePolicyRule",
    P_STR(1, "action"), P_OBJ(2, "onExitCodes", onexitcodes),
    P_AOBJ(3, "onPodConditions", onpodcond));
PB_MESSAGE(podfailurepolicy, "PodFailurePolicy", P_AOBJ(1, "rules", pfprule));
PB_MESSAGE(successrule, "SuccessPolicyRule",
    P_STRK(1, "succeededIndexes"), P_INTK(2, "succeededCount"));
PB_MESSAGE(successpolicy, "SuccessPolicy", P_AOBJ(1, "rules", successrule));

PB_MESSAGE(jobspec, "JobSpec",
    P_INTK(1, "parallelism"), P_INTK(2, "completions"), P_INTK(3, "activeDeadlineSeconds"),
    P_OBJ(4, "selector", api_pb_labelselector), P_BOOLK(5, "manualSelector"),
    P_OBJ(6, "template", api_pb_podtemplatespec), P_INTK(7, "backoffLimit"),
    P_INTK(8, "ttlSecondsAfterFinished"), P_STRK(9, "completionMode"), P_BOOLK(10, "suspend"),
    P_OBJ(11, "podFailurePolicy", podfailurepolicy), P_INTK(12, "backoffLimitPerIndex"),
    P_INTK(13, "maxFailedIndexes"), P_STRK(14, "podReplacementPolicy"),
    P_STRK(15, "managedBy"), P_OBJ(16, "successPolicy", successpolicy));
PB_MESSAGE(jobcond, "JobCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_TIME(3, "lastProbeTime"),
    P_TIME(4, "lastTransitionTime"), P_STR(5, "reason"), P_STR(6, "message"));
PB_MESSAGE(uncounted, "UncountedTerminatedPods", P_ASTR(1, "succeeded"), P_ASTR(2, "failed"));
PB_MESSAGE(jobstatus, "JobStatus",
    P_AOBJ(1, "conditions", jobcond), P_TIME(2, "startTime"), P_TIME(3, "completionTime"),
    P_INT(4, "active"), P_INT(5, "succeeded"), P_INT(6, "failed"),
    P_STR(7, "completedIndexes"), P_OBJ(8, "uncountedTerminatedPods", uncounted),
    P_INTK(9, "ready"), P_STRK(10, "failedIndexes"), P_INTK(11, "terminating"));

PB_MESSAGE_SHARED(api_pb_job, "Job",
    P_META, P_OBJ(2, "spec", jobspec), P_OBJ(3, "status", jobstatus));

PB_MESSAGE(jobtemplate, "JobTemplateSpec",
    P_OBJ(1, "metadata", api_pb_objectmeta), P_OBJ(2, "spec", jobspec));
PB_MESSAGE(cronjobspec, "CronJobSpec",
    P_STR(1, "schedule"), P_INTK(2, "startingDeadlineSeconds"), P_STR(3, "concurrencyPolicy"),
    P_BOOLK(4, "suspend"), P_OBJ(5, "jobTemplate", jobtemplate),
    P_INTK(6, "successfulJobsHistoryLimit"), P_INTK(7, "failedJobsHistoryLimit"),
    P_STRK(8, "timeZone"));
PB_MESSAGE(cronjobstatus, "CronJobStatus",
    P_AOBJ(1, "active", api_pb_objectref), P_TIME(4, "lastScheduleTime"),
    P_TIME(5, "lastSuccessfulTime"));

PB_MESSAGE_SHARED(api_pb_cronjob, "CronJob",
    P_META, P_OBJ(2, "spec", cronjobspec), P_OBJ(3, "status", cronjobstatus));

/* ---- networking.k8s.io/v1 Ingress ---- */

PB_MESSAGE(svcbackendport, "ServiceBackendPort", P_STR(1, "name"), P_INT(2, "number"));
PB_MESSAGE(svcbackend, "IngressServiceBackend",
    P_STR(1, "name"), P_OBJ(2, "port", svcbackendport));
PB_MESSAGE(typedlocalref, "TypedLocalObjectReference",
    P_STRK(1, "apiGroup"), P_STR(2, "kind"), P_STR(3, "name"));
PB_MESSAGE(ingbackend, "IngressBackend",
    P_OBJ(3, "resource", typedlocalref), P_OBJ(4, "service", svcbackend));
PB_MESSAGE(httppath, "HTTPIngressPath",
    P_STR(1, "path"), P_OBJ(2, "backend", ingbackend), P_STRK(3, "pathType"));
PB_MESSAGE(httprule, "HTTPIngressRuleValue", P_AOBJ(1, "paths", httppath));
PB_MESSAGE(ingrulevalue, "IngressRuleValue", P_OBJ(1, "http", httprule));
PB_MESSAGE(ingrule, "IngressRule", P_STR(1, "host"), P_INLINE(2, ingrulevalue));
PB_MESSAGE(ingtls, "IngressTLS", P_ASTR(1, "hosts"), P_STR(2, "secretName"));
PB_MESSAGE(ingspec, "IngressSpec",
    P_OBJ(1, "defaultBackend", ingbackend), P_AOBJ(2, "tls", ingtls),
    P_AOBJ(3, "rules", ingrule), P_STRK(4, "ingressClassName"));
PB_MESSAGE(ingportstatus, "IngressPortStatus",
    P_INTK(1, "port"), P_STR(2, "protocol"), P_STRK(3, "error"));
PB_MESSAGE(inglbingress, "IngressLoadBalancerIngress",
    P_STR(1, "ip"), P_STR(2, "hostname"), P_AOBJ(4, "ports", ingportstatus));
PB_MESSAGE(inglbstatus, "IngressLoadBalancerStatus", P_AOBJ(1, "ingress", inglbingress));
PB_MESSAGE(ingstatus, "IngressStatus", P_OBJ(1, "loadBalancer", inglbstatus));

PB_MESSAGE_SHARED(api_pb_ingress, "Ingress",
    P_META, P_OBJ(2, "spec", ingspec), P_OBJ(3, "status", ingstatus));

PB_MESSAGE(classparams, "IngressClassParametersReference",
    P_STRK(1, "apiGroup"), P_STR(2, "kind"), P_STR(3, "name"), P_STRK(4, "scope"),
    P_STRK(5, "namespace"));
PB_MESSAGE(classspec, "IngressClassSpec",
    P_STR(1, "controller"), P_OBJ(2, "parameters", classparams));

PB_MESSAGE_SHARED(api_pb_ingressclass, "IngressClass", P_META, P_OBJ(2, "spec", classspec));

/* ---- discovery.k8s.io/v1 EndpointSlice ---- */

PB_MESSAGE(epconditions, "EndpointConditions",
    P_BOOLK(1, "ready"), P_BOOLK(2, "serving"), P_BOOLK(3, "terminating"));
PB_MESSAGE(forzone, "ForZone", P_STR(1, "name"));
PB_MESSAGE(ephints, "EndpointHints", P_AOBJ(1, "forZones", forzone));
PB_MESSAGE(endpoint, "Endpoint",
    P_ASTR(1, "addresses"), P_OBJ(2, "conditions", epconditions), P_STRK(3, "hostname"),
    P_OBJ(4, "targetRef", api_pb_objectref), P_MSTR(5, "deprecatedTopology"),
    P_STRK(6, "nodeName"), P_STRK(7, "zone"), P_OBJ(8, "hints", ephints));
PB_MESSAGE(sliceport, "EndpointPort",
    P_STRK(1, "name"), P_STRK(2, "protocol"), P_INTK(3, "port"), P_STRK(4, "appProtocol"));

PB_MESSAGE_SHARED(api_pb_endpointslice, "EndpointSlice",
    P_META, P_AOBJ(2, "endpoints", endpoint), P_AOBJ(3, "ports", sliceport),
    P_STR(4, "addressType"));

/* ---- policy/v1 ---- */

PB_MESSAGE(pdbspec, "PodDisruptionBudgetSpec",
    P_INTSTR(1, "minAvailable"), P_OBJ(2, "selector", api_pb_labelselector),
    P_INTSTR(3, "maxUnavailable"), P_STRK(4, "unhealthyPodEvictionPolicy"));
PB_MESSAGE(pdbstatus, "PodDisruptionBudgetStatus",
    P_INT(1, "observedGeneration"), P_MTIMEMAP(2, "disruptedPods"),
    P_INTK(3, "disruptionsAllowed"), P_INTK(4, "currentHealthy"), P_INTK(5, "desiredHealthy"),
    P_INTK(6, "expectedPods"), P_AOBJ(7, "conditions", api_pb_condition));

PB_MESSAGE_SHARED(api_pb_pdb, "PodDisruptionBudget",
    P_META, P_OBJ(2, "spec", pdbspec), P_OBJ(3, "status", pdbstatus));

PB_MESSAGE_SHARED(api_pb_eviction, "Eviction",
    P_META, P_OBJ(2, "deleteOptions", api_pb_deleteoptions));

/* ---- certificates.k8s.io/v1 (kubectl certificate approve|deny) ---- */

PB_MESSAGE(csrspec, "CertificateSigningRequestSpec",
    P_BYTES(1, "request"), P_STR(2, "username"), P_STR(3, "uid"), P_ASTR(4, "groups"),
    P_ASTR(5, "usages"), P_STR(7, "signerName"), P_INTK(8, "expirationSeconds"));
PB_MESSAGE(csrcond, "CertificateSigningRequestCondition",
    P_STR(1, "type"), P_STR(2, "reason"), P_STR(3, "message"), P_TIME(4, "lastUpdateTime"),
    P_TIME(5, "lastTransitionTime"), P_STR(6, "status"));
PB_MESSAGE(csrstatus, "CertificateSigningRequestStatus",
    P_AOBJ(1, "conditions", csrcond), P_BYTES(2, "certificate"));
PB_MESSAGE_SHARED(api_pb_csr, "CertificateSigningRequest",
    P_META, P_OBJ(2, "spec", csrspec), P_OBJ(3, "status", csrstatus));

/* ---- scheduling.k8s.io/v1 ---- */

PB_MESSAGE_SHARED(api_pb_priorityclass, "PriorityClass",
    P_META, P_INTK(2, "value"), P_BOOL(3, "globalDefault"), P_STR(4, "description"),
    P_STRK(5, "preemptionPolicy"));

/* ---- rbac.authorization.k8s.io/v1 ---- */

PB_MESSAGE(policyrule, "PolicyRule",
    P_ASTR(1, "verbs"), P_ASTR(2, "apiGroups"), P_ASTR(3, "resources"),
    P_ASTR(4, "resourceNames"), P_ASTR(5, "nonResourceURLs"));
PB_MESSAGE(aggregation, "AggregationRule",
    P_AOBJ(1, "clusterRoleSelectors", api_pb_labelselector));
PB_MESSAGE(subject, "Subject",
    P_STR(1, "kind"), P_STR(2, "apiGroup"), P_STR(3, "name"), P_STR(4, "namespace"));
PB_MESSAGE(roleref, "RoleRef", P_STR(1, "apiGroup"), P_STR(2, "kind"), P_STR(3, "name"));

PB_MESSAGE_SHARED(api_pb_role, "Role", P_META, P_AOBJ(2, "rules", policyrule));
PB_MESSAGE_SHARED(api_pb_clusterrole, "ClusterRole",
    P_META, P_AOBJ(2, "rules", policyrule), P_OBJ(3, "aggregationRule", aggregation));
PB_MESSAGE_SHARED(api_pb_rolebinding, "RoleBinding",
    P_META, P_AOBJ(2, "subjects", subject), P_OBJ(3, "roleRef", roleref));
PB_MESSAGE_SHARED(api_pb_clusterrolebinding, "ClusterRoleBinding",
    P_META, P_AOBJ(2, "subjects", subject), P_OBJ(3, "roleRef", roleref));

/* ---- autoscaling/v1 Scale (the scale subresource) ---- */

/* replicas is a value field (omitempty) that Kubernetes reads as 0 when
 * absent; kept, so a scale to zero reads as one here too. */
PB_MESSAGE(scalespec, "ScaleSpec", P_INTK(1, "replicas"));
PB_MESSAGE(scalestatus, "ScaleStatus", P_INTK(1, "replicas"), P_STR(2, "selector"));
PB_MESSAGE_SHARED(api_pb_scale, "Scale",
    P_META, P_OBJ(2, "spec", scalespec), P_OBJ(3, "status", scalestatus));

/* ---- authentication.k8s.io/v1 TokenRequest (serviceaccounts/token) ---- */

PB_MESSAGE(boundref, "BoundObjectReference",
    P_STR(1, "kind"), P_STR(2, "apiVersion"), P_STR(3, "name"), P_STR(4, "uid"));
PB_MESSAGE(tokenspec, "TokenRequestSpec",
    P_ASTR(1, "audiences"), P_OBJ(3, "boundObjectRef", boundref), P_INT(4, "expirationSeconds"));
PB_MESSAGE(tokenstatus, "TokenRequestStatus", P_STR(1, "token"), P_TIME(2, "expirationTimestamp"));
PB_MESSAGE_SHARED(api_pb_tokenrequest, "TokenRequest",
    P_META, P_OBJ(2, "spec", tokenspec), P_OBJ(3, "status", tokenstatus));

/* ---- autoscaling/v1 HorizontalPodAutoscaler (kubectl autoscale) ---- */

PB_MESSAGE(crossversionref, "CrossVersionObjectReference",
    P_STR(1, "kind"), P_STR(2, "name"), P_STR(3, "apiVersion"));
PB_MESSAGE(hpaspec, "HorizontalPodAutoscalerSpec",
    P_OBJ(1, "scaleTargetRef", crossversionref), P_INT(2, "minReplicas"), P_INTK(3, "maxReplicas"),
    P_INT(4, "targetCPUUtilizationPercentage"));
PB_MESSAGE(hpastatus, "HorizontalPodAutoscalerStatus",
    P_INT(1, "observedGeneration"), P_TIME(2, "lastScaleTime"), P_INTK(3, "currentReplicas"),
    P_INTK(4, "desiredReplicas"), P_INT(5, "currentCPUUtilizationPercentage"));
PB_MESSAGE_SHARED(api_pb_hpa_v1, "HorizontalPodAutoscaler",
    P_META, P_OBJ(2, "spec", hpaspec), P_OBJ(3, "status", hpastatus));

/* ---- the top-level types ---- */

#define RBAC "rbac.authorization.k8s.io/v1"

/* ---- authorization.k8s.io/v1 reviews (kubectl auth can-i) ---- */

PB_MESSAGE(resattrs, "ResourceAttributes",
    P_STR(1, "namespace"), P_STR(2, "verb"), P_STR(3, "group"), P_STR(4, "version"),
    P_STR(5, "resource"), P_STR(6, "subresource"), P_STR(7, "name"));
PB_MESSAGE(nonresattrs, "NonResourceAttributes", P_STR(1, "path"), P_STR(2, "verb"));
PB_MESSAGE(accessstatus, "SubjectAccessReviewStatus",
    P_BOOL(1, "allowed"), P_STR(2, "reason"), P_STR(3, "evaluationError"), P_BOOL(4, "denied"));
PB_MESSAGE(selfaccessspec, "SelfSubjectAccessReviewSpec",
    P_OBJ(1, "resourceAttributes", resattrs), P_OBJ(2, "nonResourceAttributes", nonresattrs));
PB_MESSAGE(accessspec, "SubjectAccessReviewSpec",
    P_OBJ(1, "resourceAttributes", resattrs), P_OBJ(2, "nonResourceAttributes", nonresattrs),
    P_STR(3, "user"), P_ASTR(4, "groups"), P_STR(6, "uid"));
PB_MESSAGE(api_pb_ssar, "SelfSubjectAccessReview",
    P_META, P_OBJ(2, "spec", selfaccessspec), P_OBJ(3, "status", accessstatus));
PB_MESSAGE(api_pb_sar, "SubjectAccessReview",
    P_META, P_OBJ(2, "spec", accessspec), P_OBJ(3, "status", accessstatus));
PB_MESSAGE(rulesspec, "SelfSubjectRulesReviewSpec", P_STR(1, "namespace"));
PB_MESSAGE(rulesstatus, "SubjectRulesReviewStatus", P_BOOL(3, "incomplete"), P_STR(4, "evaluationError"));
PB_MESSAGE(api_pb_ssrr, "SelfSubjectRulesReview",
    P_META, P_OBJ(2, "spec", rulesspec), P_OBJ(3, "status", rulesstatus));

#define AUTHZ "authorization.k8s.io/v1"

const struct api_pb_root api_pb_roots[] = {
    {"v1", "ConfigMap", &api_pb_configmap},
    {"v1", "Secret", &api_pb_secret},
    {"v1", "Namespace", &api_pb_namespace},
    {"v1", "Service", &api_pb_service},
    {"v1", "ServiceAccount", &api_pb_serviceaccount},
    {"v1", "ResourceQuota", &api_pb_resourcequota},
    {"v1", "Pod", &api_pb_pod},
    {"v1", "Event", &api_pb_event},
    {"events.k8s.io/v1", "Event", &api_pb_event_v1},
    {"v1", "Binding", &api_pb_binding},
    {"v1", "Endpoints", &api_pb_endpoints},
    {"v1", "Node", &api_pb_node},
    {"coordination.k8s.io/v1", "Lease", &api_pb_lease},
    {"v1", "PersistentVolumeClaim", &api_pb_pvc},
    {"apps/v1", "Deployment", &api_pb_deployment},
    {"apps/v1", "ReplicaSet", &api_pb_replicaset},
    {"apps/v1", "StatefulSet", &api_pb_statefulset},
    {"apps/v1", "DaemonSet", &api_pb_daemonset},
    {"apps/v1", "ControllerRevision", &api_pb_controllerrevision},
    {"batch/v1", "Job", &api_pb_job},
    {"batch/v1", "CronJob", &api_pb_cronjob},
    {"networking.k8s.io/v1", "Ingress", &api_pb_ingress},
    {"networking.k8s.io/v1", "IngressClass", &api_pb_ingressclass},
    {"discovery.k8s.io/v1", "EndpointSlice", &api_pb_endpointslice},
    {"storage.k8s.io/v1", "StorageClass", &api_pb_storageclass},
    {"policy/v1", "PodDisruptionBudget", &api_pb_pdb},
    {"policy/v1", "Eviction", &api_pb_eviction},
    {"scheduling.k8s.io/v1", "PriorityClass", &api_pb_priorityclass},
    {"certificates.k8s.io/v1", "CertificateSigningRequest", &api_pb_csr},
    {RBAC, "Role", &api_pb_role},
    {RBAC, "ClusterRole", &api_pb_clusterrole},
    {RBAC, "RoleBinding", &api_pb_rolebinding},
    {RBAC, "ClusterRoleBinding", &api_pb_clusterrolebinding},
    {"autoscaling/v1", "Scale", &api_pb_scale},
    {"authentication.k8s.io/v1", "TokenRequest", &api_pb_tokenrequest},
    {"autoscaling/v1", "HorizontalPodAutoscaler", &api_pb_hpa_v1},
    {AUTHZ, "SelfSubjectAccessReview", &api_pb_ssar},
    {AUTHZ, "SubjectAccessReview", &api_pb_sar},
    {AUTHZ, "LocalSubjectAccessReview", &api_pb_sar},
    {AUTHZ, "SelfSubjectRulesReview", &api_pb_ssrr},
    /* every group version carries DeleteOptions (a delete's body) */
    {NULL, "DeleteOptions", &api_pb_deleteoptions},
    {NULL, NULL, NULL},
};
