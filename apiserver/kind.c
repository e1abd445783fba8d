/* kind.c — the per-kind rows of the API server (see kind.h) and the
 * subresources they serve. */
#include "apiserver/kind.h"

#include <assert.h>
#include <string.h>

#include "apiserver/csr.h"
#include "apiserver/schema.h"
#include "lib/orc.h"

static const struct api_scale_paths replicas = {.spec_replicas = "spec.replicas", .status_replicas = "status.replicas",
                                                .selector = "spec.selector"};

/* A ReplicationController's selector is a plain label map. */
static const struct api_scale_paths rc_replicas = {"spec.replicas", "status.replicas",
                                                   "spec.selector", true};

/* What orc does not do yet with kinds it stores (Warning headers). */
#define WARN_RC "orc has no ReplicationController controller yet: the object is stored but " \
                "creates no pods; use a Deployment"

static const char *const pod_fields[] = {"spec.nodeName", "spec.restartPolicy",
                                         "spec.schedulerName", "spec.serviceAccountName",
                                         "status.phase", "status.podIP",
                                         "status.nominatedNodeName", NULL};
static const char *const event_fields[] = {
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type", NULL};
static const char *const secret_fields[] = {"type", NULL};
static const char *const node_fields[] = {"spec.unschedulable", NULL};
static const char *const namespace_fields[] = {"status.phase", NULL};
static const char *const job_fields[] = {"status.successful", NULL};
static const char *const replicaset_fields[] = {"status.replicas", NULL};
static const char *const csr_fields[] = {"spec.signerName", NULL};

static const char *const protected_namespaces[] = {"default", "kube-system", "kube-public",
                                                   "kube-node-lease", NULL};

#define KIND(id) .k = &orc_kind_table[id]

static const struct api_kind rows[ORC_K_COUNT] = {
    [ORC_K_NAMESPACE] = {KIND(ORC_K_NAMESPACE), .schema = &api_s_namespace,
                         .name_rule = orc_dns1123_label, .subresources = API_SUB_FINALIZE,
                         .field_labels = namespace_fields, .validate = api_rules_namespace,
                         .prepare_create = api_prepare_create_namespace, .spec_finalizers = true,
                         .undeletable = protected_namespaces},
    [ORC_K_NODE] = {KIND(ORC_K_NODE), .schema = &api_s_node, .field_labels = node_fields,
                    .validate = api_rules_node, .prepare_create = api_prepare_create_node,
                    .pod_cidr = true, .subresources = API_SUB_PROXY},
    [ORC_K_POD] = {KIND(ORC_K_POD), .schema = &api_s_pod,
                   .subresources = API_SUB_BINDING | API_SUB_LOG | API_SUB_EXEC
                                   | API_SUB_EVICTION | API_SUB_ATTACH | API_SUB_PORTFORWARD,
                   .tracks_generation = true, .field_labels = pod_fields,
                   .defaults = api_defaults_pod, .validate = api_rules_pod,
                   .prepare_create = api_prepare_create_pod, .graceful_delete = true},
    [ORC_K_CONFIGMAP] = {KIND(ORC_K_CONFIGMAP), .schema = &api_s_configmap,
                         .validate = api_rules_configmap},
    [ORC_K_SECRET] = {KIND(ORC_K_SECRET), .schema = &api_s_secret, .field_labels = secret_fields,
                      .defaults = api_defaults_secret, .validate = api_rules_secret},
    [ORC_K_SERVICE] = {KIND(ORC_K_SERVICE), .schema = &api_s_service,
                       .name_rule = orc_dns1035_label, .defaults = api_defaults_service,
                       .validate = api_rules_service,
                       .prepare_update = api_prepare_update_service},
    [ORC_K_EVENT] = {KIND(ORC_K_EVENT), .schema = &api_s_event, .field_labels = event_fields,
                     .validate = api_rules_event},
    [ORC_K_LEASE] = {KIND(ORC_K_LEASE), .schema = &api_s_lease, .validate = api_rules_lease},
    [ORC_K_DEPLOYMENT] = {KIND(ORC_K_DEPLOYMENT), .schema = &api_s_deployment,
                          .scale = &replicas, .tracks_generation = true,
                          .defaults = api_defaults_deployment,
                          .validate = api_rules_deployment},
    [ORC_K_REPLICASET] = {KIND(ORC_K_REPLICASET), .schema = &api_s_replicaset,
                          .scale = &replicas, .tracks_generation = true,
                          .field_labels = replicaset_fields,
                          .defaults = api_defaults_replicaset,
                          .validate = api_rules_replicaset},
    [ORC_K_STATEFULSET] = {KIND(ORC_K_STATEFULSET), .schema = &api_s_statefulset,
                           .scale = &replicas, .tracks_generation = true,
                           .defaults = api_defaults_statefulset,
                           .validate = api_rules_statefulset},
    [ORC_K_DAEMONSET] = {KIND(ORC_K_DAEMONSET), .schema = &api_s_daemonset,
                         .tracks_generation = true, .defaults = api_defaults_daemonset,
                         .validate = api_rules_daemonset},
    [ORC_K_JOB] = {KIND(ORC_K_JOB), .schema = &api_s_job, .tracks_generation = true,
                   .field_labels = job_fields, .defaults = api_defaults_job,
                   .validate = api_rules_job},
    [ORC_K_CRONJOB] = {KIND(ORC_K_CRONJOB), .schema = &api_s_cronjob, .tracks_generation = true,
                       .defaults = api_defaults_cronjob, .validate = api_rules_cronjob},
    [ORC_K_PRIORITYCLASS] = {KIND(ORC_K_PRIORITYCLASS), .schema = &api_s_priorityclass,
                             .defaults = api_defaults_priorityclass,
                             .validate = api_rules_priorityclass},
    [ORC_K_CONTROLLERREVISION] = {KIND(ORC_K_CONTROLLERREVISION),
                                  .schema = &api_s_controllerrevision,
                                  .validate = api_rules_controllerrevision},
    [ORC_K_PERSISTENTVOLUME] = {KIND(ORC_K_PERSISTENTVOLUME), .schema = &api_s_persistentvolume,
                                .defaults = api_defaults_persistentvolume,
                                .validate = api_rules_persistentvolume,
                                .prepare_create = api_prepare_create_pending},
    [ORC_K_PERSISTENTVOLUMECLAIM] = {KIND(ORC_K_PERSISTENTVOLUMECLAIM),
                                     .schema = &api_s_persistentvolumeclaim,
                                     .defaults = api_defaults_persistentvolumeclaim,
                                     .validate = api_rules_persistentvolumeclaim,
                                     .prepare_create = api_prepare_create_pending},
    [ORC_K_STORAGECLASS] = {KIND(ORC_K_STORAGECLASS), .schema = &api_s_storageclass,
                            .defaults = api_defaults_storageclass,
                            .validate = api_rules_storageclass},
    [ORC_K_PODDISRUPTIONBUDGET] = {KIND(ORC_K_PODDISRUPTIONBUDGET),
                                   .schema = &api_s_poddisruptionbudget,
                                   .tracks_generation = true,
                                   .validate = api_rules_poddisruptionbudget},
    [ORC_K_ENDPOINTS] = {KIND(ORC_K_ENDPOINTS), .schema = &api_s_endpoints,
                         .validate = api_rules_endpoints},
    [ORC_K_ENDPOINTSLICE] = {KIND(ORC_K_ENDPOINTSLICE), .schema = &api_s_endpointslice,
                             .validate = api_rules_endpointslice},
    [ORC_K_INGRESS] = {KIND(ORC_K_INGRESS), .schema = &api_s_ingress,
                       .tracks_generation = true, .validate = api_rules_ingress},
    [ORC_K_INGRESSCLASS] = {KIND(ORC_K_INGRESSCLASS), .schema = &api_s_ingressclass,
                            .validate = api_rules_ingressclass},
    [ORC_K_SERVICEACCOUNT] = {KIND(ORC_K_SERVICEACCOUNT), .schema = &api_s_serviceaccount,
                              .subresources = API_SUB_TOKEN},
    [ORC_K_REPLICATIONCONTROLLER] = {KIND(ORC_K_REPLICATIONCONTROLLER),
                                     .schema = &api_s_replicationcontroller, .scale = &rc_replicas,
                                     .tracks_generation = true,
                                     .defaults = api_defaults_replicationcontroller,
                                     .validate = api_rules_replicationcontroller,
                                     .warning = WARN_RC},
    [ORC_K_LIMITRANGE] = {KIND(ORC_K_LIMITRANGE), .schema = &api_s_limitrange,
                          .validate = api_rules_limitrange},
    [ORC_K_RESOURCEQUOTA] = {KIND(ORC_K_RESOURCEQUOTA), .schema = &api_s_resourcequota,
                             .validate = api_rules_resourcequota},
    [ORC_K_ROLE] = {KIND(ORC_K_ROLE), .schema = &api_s_role, .name_rule = orc_path_segment,
                    .validate = api_rules_role},
    [ORC_K_CLUSTERROLE] = {KIND(ORC_K_CLUSTERROLE), .schema = &api_s_clusterrole,
                           .name_rule = orc_path_segment, .validate = api_rules_clusterrole},
    [ORC_K_ROLEBINDING] = {KIND(ORC_K_ROLEBINDING), .schema = &api_s_rolebinding,
                           .name_rule = orc_path_segment, .defaults = api_defaults_binding,
                           .validate = api_rules_rolebinding},
    [ORC_K_CLUSTERROLEBINDING] = {KIND(ORC_K_CLUSTERROLEBINDING),
                                  .schema = &api_s_clusterrolebinding,
                                  .name_rule = orc_path_segment,
                                  .defaults = api_defaults_binding,
                                  .validate = api_rules_clusterrolebinding},
    [ORC_K_NETWORKPOLICY] = {KIND(ORC_K_NETWORKPOLICY), .schema = &api_s_networkpolicy,
                             .tracks_generation = true, .defaults = api_defaults_networkpolicy,
                             .validate = api_rules_networkpolicy},
    [ORC_K_HPA] = {KIND(ORC_K_HPA), .schema = &api_s_hpa, .tracks_generation = true,
                   .defaults = api_defaults_hpa, .validate = api_rules_hpa},
    /* Served only: every write and read goes through ORC_K_HPA's row
     * (defaults, rules), converted by these two; the schema is what v1
     * clients see (patches, OpenAPI). */
    [ORC_K_HPA_V1] = {KIND(ORC_K_HPA_V1), .schema = &api_s_hpa_v1, .tracks_generation = true,
                      .to_stored = api_hpa_v1_to_v2,
                      .from_stored = api_hpa_v2_to_v1},
    [ORC_K_CSR] = {KIND(ORC_K_CSR), .schema = &api_s_csr, .name_rule = orc_path_segment,
                   .subresources = API_SUB_APPROVAL, .field_labels = csr_fields,
                   .validate = api_rules_csr, .prepare_update = api_prepare_update_csr,
                   .set_requestor = api_csr_set_requestor},
    /* The core Events under another name: stored as core/v1 (same key),
     * converted by these two; writes through it meet its strict rules. */
    [ORC_K_EVENT_V1] = {KIND(ORC_K_EVENT_V1), .schema = &api_s_event_v1,
                        .field_label = api_event_v1_field_label,
                        .validate = api_rules_event_v1, .to_stored = api_event_v1_to_core,
                        .from_stored = api_event_core_to_v1},
};

const struct api_kind *api_kind_of(const struct orc_kind *k)
{
    enum orc_kind_id id = orc_kind_id(k);
    assert(id < ORC_K_COUNT && rows[id].k == k);
    return &rows[id];
}

/* ---- subresources ---- */

static const char *const sub_verbs[] = {"get", "patch", "update", NULL};
static const char *const create_verbs[] = {"create", NULL};
static const char *const get_verbs[] = {"get", NULL};
static const char *const update_verbs[] = {"update", NULL};
static const char *const proxy_verbs[] = {"create", "delete", "get", "patch", "update", NULL};

static const struct {
    unsigned bit;
    struct api_subresource sub;
} extra_subs[] = {
    {API_SUB_BINDING, {"binding", "Binding", create_verbs, NULL, NULL}},
    {API_SUB_LOG, {"log", "Pod", get_verbs, NULL, NULL}},
    {API_SUB_EXEC, {"exec", "PodExecOptions", create_verbs, NULL, NULL}},
    {API_SUB_ATTACH, {"attach", "PodAttachOptions", create_verbs, NULL, NULL}},
    {API_SUB_PORTFORWARD, {"portforward", "PodPortForwardOptions", create_verbs, NULL, NULL}},
    {API_SUB_FINALIZE, {"finalize", "Namespace", update_verbs, NULL, NULL}},
    {API_SUB_EVICTION, {"eviction", "Eviction", create_verbs, "policy", "v1"}},
    {API_SUB_TOKEN, {"token", "TokenRequest", create_verbs, "authentication.k8s.io", "v1"}},
    {API_SUB_APPROVAL, {"approval", NULL, sub_verbs, NULL, NULL}},
    {API_SUB_PROXY, {"proxy", "NodeProxyOptions", proxy_verbs, NULL, NULL}},
};

size_t api_kind_subresources(const struct api_kind *ak, struct api_subresource *out, size_t max)
{
    size_t n = 0;
    if (ak->k->has_status && n < max)
        out[n++] = (struct api_subresource){"status", NULL, sub_verbs, NULL, NULL};
    if (ak->k->has_scale && n < max)
        out[n++] = (struct api_subresource){"scale", "Scale", sub_verbs, "autoscaling", "v1"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(extra_subs) && n < max; i++)
        if (ak->subresources & extra_subs[i].bit) out[n++] = extra_subs[i].sub;
    return n;
}

bool api_kind_serves(const struct api_kind *ak, const char *sub)
{
    struct api_subresource subs[8];
    size_t n = api_kind_subresources(ak, subs, ORC_ARRAY_LEN(subs));
    for (size_t i = 0; i < n; i++)
        if (strcmp(subs[i].name, sub) == 0) return true;
    return false;
}
