/* kinds.c — the table of resources orc serves, and lookups over it. */
#include "lib/kinds.h"

#include <string.h>
#include <strings.h>

#include "lib/orc.h"

#define RBAC "rbac.authorization.k8s.io"

const struct orc_kind orc_kind_table[ORC_K_COUNT] = {
    [ORC_K_NAMESPACE] = {"", "v1", "Namespace", "namespaces", "namespace", {"ns"}, false, true, false},
    [ORC_K_NODE] = {"", "v1", "Node", "nodes", "node", {"no"}, false, true, false},
    [ORC_K_POD] = {"", "v1", "Pod", "pods", "pod", {"po"}, true, true, false},
    [ORC_K_CONFIGMAP] = {"", "v1", "ConfigMap", "configmaps", "configmap", {"cm"}, true, false, false},
    [ORC_K_SECRET] = {"", "v1", "Secret", "secrets", "secret", {NULL}, true, false, false},
    [ORC_K_SERVICE] = {"", "v1", "Service", "services", "service", {"svc"}, true, true, false},
    [ORC_K_EVENT] = {"", "v1", "Event", "events", "event", {"ev"}, true, false, false},
    [ORC_K_LEASE] = {"coordination.k8s.io", "v1", "Lease", "leases", "lease", {NULL}, true, false, false},
    [ORC_K_DEPLOYMENT] = {"apps", "v1", "Deployment", "deployments", "deployment", {"deploy"}, true, true, true},
    [ORC_K_REPLICASET] = {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", {"rs"}, true, true, true},
    [ORC_K_STATEFULSET] = {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", {"sts"}, true, true, true},
    [ORC_K_DAEMONSET] = {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", {"ds"}, true, true, false},
    [ORC_K_JOB] = {"batch", "v1", "Job", "jobs", "job", {NULL}, true, true, false},
    [ORC_K_CRONJOB] = {"batch", "v1", "CronJob", "cronjobs", "cronjob", {"cj"}, true, true, false},
    [ORC_K_PRIORITYCLASS] = {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses",
                             "priorityclass", {"pc"}, false, false, false},
    [ORC_K_CONTROLLERREVISION] = {"apps", "v1", "ControllerRevision", "controllerrevisions",
                                  "controllerrevision", {NULL}, true, false, false},
    [ORC_K_PERSISTENTVOLUME] = {"", "v1", "PersistentVolume", "persistentvolumes",
                                "persistentvolume", {"pv"}, false, true, false},
    [ORC_K_PERSISTENTVOLUMECLAIM] = {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims",
                                     "persistentvolumeclaim", {"pvc"}, true, true, false},
    [ORC_K_STORAGECLASS] = {"storage.k8s.io", "v1", "StorageClass", "storageclasses",
                            "storageclass", {"sc"}, false, false, false},
    [ORC_K_PODDISRUPTIONBUDGET] = {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets",
                                   "poddisruptionbudget", {"pdb"}, true, true, false},
    [ORC_K_ENDPOINTS] = {"", "v1", "Endpoints", "endpoints", "endpoints", {"ep"}, true, false, false},
    [ORC_K_ENDPOINTSLICE] = {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices",
                             "endpointslice", {NULL}, true, false, false},
    [ORC_K_INGRESS] = {"networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", {"ing"},
                       true, true, false},
    [ORC_K_INGRESSCLASS] = {"networking.k8s.io", "v1", "IngressClass", "ingressclasses",
                            "ingressclass", {NULL}, false, false, false},
    [ORC_K_SERVICEACCOUNT] = {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount",
                              {"sa"}, true, false, false},
    [ORC_K_REPLICATIONCONTROLLER] = {"", "v1", "ReplicationController", "replicationcontrollers",
                                     "replicationcontroller", {"rc"}, true, true, true},
    [ORC_K_LIMITRANGE] = {"", "v1", "LimitRange", "limitranges", "limitrange", {"limits"}, true,
                          false, false},
    [ORC_K_RESOURCEQUOTA] = {"", "v1", "ResourceQuota", "resourcequotas", "resourcequota",
                             {"quota"}, true, true, false},
    [ORC_K_ROLE] = {RBAC, "v1", "Role", "roles", "role", {NULL}, true, false, false},
    [ORC_K_CLUSTERROLE] = {RBAC, "v1", "ClusterRole", "clusterroles", "clusterrole", {NULL},
                           false, false, false},
    [ORC_K_ROLEBINDING] = {RBAC, "v1", "RoleBinding", "rolebindings", "rolebinding", {NULL}, true,
                           false, false},
    [ORC_K_CLUSTERROLEBINDING] = {RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings",
                                  "clusterrolebinding", {NULL}, false, false, false},
    [ORC_K_NETWORKPOLICY] = {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies",
                             "networkpolicy", {"netpol"}, true, false, false},
    [ORC_K_HPA] = {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
                   "horizontalpodautoscaler", {"hpa"}, true, true, false},
    [ORC_K_HPA_V1] = {"autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
                      "horizontalpodautoscaler", {"hpa"}, true, true, false},
    [ORC_K_CSR] = {"certificates.k8s.io", "v1", "CertificateSigningRequest",
                   "certificatesigningrequests", "certificatesigningrequest", {"csr"}, false, true,
                   false},
    [ORC_K_EVENT_V1] = {"events.k8s.io", "v1", "Event", "events", "event", {"ev"}, true, false,
                        false},
};

const struct orc_kind *orc_kinds(size_t *n)
{
    *n = ORC_ARRAY_LEN(orc_kind_table);
    return orc_kind_table;
}

enum orc_kind_id orc_kind_id(const struct orc_kind *k)
{
    return (enum orc_kind_id)(k - orc_kind_table);
}

const char *orc_kind_api_version(const struct orc_kind *k)
{
    static const char *const versions[][3] = {
        {"", "v1", "v1"},
        {"apps", "v1", "apps/v1"},
        {"autoscaling", "v1", "autoscaling/v1"},
        {"autoscaling", "v2", "autoscaling/v2"},
        {"batch", "v1", "batch/v1"},
        {"certificates.k8s.io", "v1", "certificates.k8s.io/v1"},
        {"coordination.k8s.io", "v1", "coordination.k8s.io/v1"},
        {"discovery.k8s.io", "v1", "discovery.k8s.io/v1"},
        {"events.k8s.io", "v1", "events.k8s.io/v1"},
        {"networking.k8s.io", "v1", "networking.k8s.io/v1"},
        {"policy", "v1", "policy/v1"},
        {RBAC, "v1", RBAC "/v1"},
        {"scheduling.k8s.io", "v1", "scheduling.k8s.io/v1"},
        {"storage.k8s.io", "v1", "storage.k8s.io/v1"},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(versions); i++)
        if (strcmp(k->group, versions[i][0]) == 0 && strcmp(k->version, versions[i][1]) == 0)
            return versions[i][2];
    return "v1"; /* every kind's group and version is listed above */
}

static bool name_matches(const struct orc_kind *k, const char *name, size_t len)
{
    const char *cands[] = {k->resource, k->singular, k->kind};
    for (size_t i = 0; i < ORC_ARRAY_LEN(cands); i++)
        if (strlen(cands[i]) == len && strncasecmp(cands[i], name, len) == 0) return true;
    for (size_t i = 0; i < 4 && k->short_names[i]; i++)
        if (strlen(k->short_names[i]) == len && strncasecmp(k->short_names[i], name, len) == 0)
            return true;
    return false;
}

const struct orc_kind *orc_kind_lookup(const char *name)
{
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    const char *group = dot ? dot + 1 : NULL;

    for (size_t i = 0; i < ORC_ARRAY_LEN(orc_kind_table); i++) {
        if (!name_matches(&orc_kind_table[i], name, len)) continue;
        if (group && strcasecmp(group, orc_kind_table[i].group) != 0) continue;
        return &orc_kind_table[i];
    }
    return NULL;
}

const struct orc_kind *orc_kind_by_gvk(const char *api_version, const char *kind)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(orc_kind_table); i++)
        if (strcmp(orc_kind_table[i].kind, kind) == 0
            && strcmp(orc_kind_api_version(&orc_kind_table[i]), api_version) == 0)
            return &orc_kind_table[i];
    return NULL;
}

const struct orc_kind *orc_kind_by_resource(const char *group, const char *resource)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(orc_kind_table); i++)
        if (strcmp(orc_kind_table[i].resource, resource) == 0 && strcmp(orc_kind_table[i].group, group) == 0)
            return &orc_kind_table[i];
    return NULL;
}

const struct orc_kind *orc_kind_by_gvr(const char *group, const char *version,
                                       const char *resource)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(orc_kind_table); i++) {
        const struct orc_kind *k = &orc_kind_table[i];
        if (strcmp(k->resource, resource) == 0 && strcmp(k->group, group) == 0
            && strcmp(k->version, version) == 0)
            return k;
    }
    return NULL;
}

/* The served_only rows and the rows they are stored as. */
static const enum orc_kind_id served_only[][2] = {
    {ORC_K_HPA_V1, ORC_K_HPA},
    {ORC_K_EVENT_V1, ORC_K_EVENT},
};

bool orc_kind_served_only(const struct orc_kind *k)
{
    return orc_kind_stored(k) != k;
}

const struct orc_kind *orc_kind_stored(const struct orc_kind *k)
{
    enum orc_kind_id id = orc_kind_id(k);
    for (size_t i = 0; i < ORC_ARRAY_LEN(served_only); i++)
        if (served_only[i][0] == id) return &orc_kind_table[served_only[i][1]];
    return k;
}

bool orc_kind_older_version(const struct orc_kind *k)
{
    return orc_kind_served_only(k) && strcmp(orc_kind_stored(k)->group, k->group) == 0;
}

int orc_kind_path(const struct orc_kind *k, const char *ns, const char *name, const char *sub,
                  struct orc_buf *out)
{
    int rv = k->group[0] ? orc_buf_printf(out, "/apis/%s/%s", k->group, k->version)
                         : orc_buf_printf(out, "/api/%s", k->version);
    if (rv == 0 && k->namespaced && ns) rv = orc_buf_printf(out, "/namespaces/%s", ns);
    if (rv == 0) rv = orc_buf_printf(out, "/%s", k->resource);
    if (rv == 0 && name) rv = orc_buf_printf(out, "/%s", name);
    if (rv == 0 && name && sub) rv = orc_buf_printf(out, "/%s", sub);
    return rv;
}

int orc_kind_qualified(const struct orc_kind *k, struct orc_buf *out)
{
    if (k->group[0] == '\0') return orc_buf_puts(out, k->singular);
    return orc_buf_printf(out, "%s.%s", k->singular, k->group);
}

/* In the order kubectl lists them against Kubernetes (discovery's order:
 * the core group, apps, autoscaling, batch; names sorted in each). */
const char *const orc_category_all[] = {"pods",         "replicationcontrollers", "services",
                                        "daemonsets",   "deployments",            "replicasets",
                                        "statefulsets", "horizontalpodautoscalers",
                                        "cronjobs",     "jobs",                   NULL};

bool orc_kind_in_category_all(const struct orc_kind *k)
{
    for (size_t i = 0; orc_category_all[i]; i++)
        if (strcmp(orc_category_all[i], k->resource) == 0) return true;
    return false;
}
