/* test_patch_strategy.c — the patch strategies in orc's field tables are
 * Kubernetes' own: the patchStrategy / patchMergeKey tags of k8s.io/api
 * (v1.32), walked through the same lookup strategic merge patch uses. */
#include <stdio.h>
#include <string.h>

#include "apiserver/schema.h"
#include "lib/orc.h"
#include "lib/smp.h"
#include "tests/harness/test.h"

/* The field at a dotted path ("spec.template.spec.containers.env"); list
 * fields are walked into their elements. */
static struct orc_smp_field field_at(const char *kind, const char *path)
{
    struct orc_smp_schema sch;
    struct orc_smp_field f = {0, NULL, NULL};
    const void *type;
    char buf[256], *save = NULL;

    CHECKF(api_schema_smp(orc_kind_lookup(kind), &sch), "no schema for %s", kind);
    type = sch.root;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        CHECKF(type != NULL, "%s %s: nothing known above %s", kind, path, k);
        memset(&f, 0, sizeof f);
        sch.lookup(type, k, &f);
        type = f.type;
    }
    return f;
}

static void merged_by(const char *kind, const char *path, const char *key)
{
    struct orc_smp_field f = field_at(kind, path);
    CHECKF(f.strategy & ORC_SMP_MERGE, "%s %s: not merged", kind, path);
    if (key) {
        CHECKF(f.merge_key && strcmp(f.merge_key, key) == 0, "%s %s: merge key %s, want %s", kind,
               path, f.merge_key ? f.merge_key : "(none)", key);
    } else {
        CHECKF(f.merge_key == NULL, "%s %s: a set has no merge key", kind, path);
    }
}

static void replaced(const char *kind, const char *path)
{
    struct orc_smp_field f = field_at(kind, path);
    CHECKF(!(f.strategy & ORC_SMP_MERGE) && f.merge_key == NULL, "%s %s: should be replaced",
           kind, path);
}

TEST(pod_spec_lists_merge_as_kubernetes_says)
{
    const char *const specs[][2] = {{"Pod", "spec"},
                                    {"Deployment", "spec.template.spec"},
                                    {"StatefulSet", "spec.template.spec"},
                                    {"DaemonSet", "spec.template.spec"},
                                    {"ReplicaSet", "spec.template.spec"},
                                    {"Job", "spec.template.spec"},
                                    {"CronJob", "spec.jobTemplate.spec.template.spec"}};
    char p[256];

    for (size_t i = 0; i < ORC_ARRAY_LEN(specs); i++) {
        const char *k = specs[i][0], *s = specs[i][1];
#define AT(sub) (snprintf(p, sizeof p, "%s.%s", s, sub), p)
        merged_by(k, AT("containers"), "name");
        merged_by(k, AT("initContainers"), "name");
        merged_by(k, AT("ephemeralContainers"), "name");
        merged_by(k, AT("volumes"), "name");
        merged_by(k, AT("imagePullSecrets"), "name");
        merged_by(k, AT("hostAliases"), "ip");
        merged_by(k, AT("topologySpreadConstraints"), "topologyKey");
        merged_by(k, AT("schedulingGates"), "name");
        merged_by(k, AT("resourceClaims"), "name");
        merged_by(k, AT("containers.ports"), "containerPort");
        merged_by(k, AT("containers.env"), "name");
        merged_by(k, AT("containers.volumeMounts"), "mountPath");
        merged_by(k, AT("containers.volumeDevices"), "devicePath");
        merged_by(k, AT("initContainers.env"), "name");
        replaced(k, AT("tolerations"));
        replaced(k, AT("readinessGates"));
        replaced(k, AT("containers.envFrom"));
        replaced(k, AT("containers.args"));
        replaced(k, AT("securityContext.sysctls"));
        replaced(k, AT("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                       "nodeSelectorTerms"));
        CHECK(field_at(k, AT("volumes")).strategy & ORC_SMP_RETAIN_KEYS);
#undef AT
    }
}

TEST(metadata_status_and_other_kinds)
{
    merged_by("ConfigMap", "metadata.finalizers", NULL);
    merged_by("Deployment", "spec.template.metadata.ownerReferences", "uid");
    merged_by("Secret", "metadata.ownerReferences", "uid");
    replaced("Deployment", "spec.selector.matchExpressions");
    merged_by("Service", "spec.ports", "port");
    replaced("Service", "spec.externalIPs");
    merged_by("Node", "spec.podCIDRs", NULL);
    replaced("Node", "spec.taints");
    CHECK(field_at("Deployment", "spec.strategy").strategy & ORC_SMP_RETAIN_KEYS);
    replaced("StatefulSet", "spec.volumeClaimTemplates");
    /* Statuses are free-form for the schema pass but merge as in Kubernetes. */
    merged_by("Pod", "status.conditions", "type");
    merged_by("Pod", "status.podIPs", "ip");
    merged_by("Node", "status.conditions", "type");
    merged_by("Node", "status.addresses", "type");
    merged_by("Deployment", "status.conditions", "type");
    merged_by("Job", "status.conditions", "type");
    merged_by("Namespace", "status.conditions", "type");
    replaced("Pod", "status.containerStatuses");
    replaced("Namespace", "spec.finalizers");
}
