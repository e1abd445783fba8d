/* schema_notimpl.c — THE list of fields orc knows but does not act on yet.
 * They are kept in stored objects and each use is reported as a warning.
 * When a feature lands, delete its line here; nothing else needs changing.
 * Entries name a field of an object type from the schema tables, so one line
 * covers every place the type appears (all pod templates, all probes...). */
#include "apiserver/schema.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static const struct api_notimpl notimpl[] = {
    /* scheduling beyond nodeSelector, affinity, taints and priority */
    {"PodSpec", "runtimeClassName", NULL, NULL},
    {"PodSpec", "overhead", NULL, NULL},
    {"PodSpec", "resourceClaims", NULL, NULL},
    {"PodSpec", "resources", NULL, NULL},
    {"PodSpec", "readinessGates", NULL, NULL},
    {"PodSpec", "os", NULL, NULL},
    /* identity and namespaces of the pod */
    {"PodSpec", "hostPID", "false", NULL},
    {"PodSpec", "hostIPC", "false", NULL},
    {"PodSpec", "shareProcessNamespace", "false", NULL},
    {"PodSpec", "hostUsers", "true", NULL},
    {"PodSpec", "ephemeralContainers", NULL, NULL},
    /* DNS */
    {"PodSpec", "setHostnameAsFQDN", "false", NULL},
    /* containers */
    {"Container", "restartPolicy", NULL, NULL}, /* sidecar init containers */
    {"Container", "resizePolicy", NULL, NULL},
    {"Container", "volumeDevices", NULL, NULL},
    {"ResourceRequirements", "claims", NULL, NULL},
    {"Probe", "grpc", NULL, NULL},
    {"LifecycleHandler", "sleep", NULL, NULL},
    {"Lifecycle", "stopSignal", NULL, NULL},
    {"VolumeMount", "mountPropagation", "None", NULL},
    {"VolumeMount", "recursiveReadOnly", "Disabled", NULL},
    {"VolumeMount", "subPathExpr", NULL, NULL},
    /* security: no LSMs or Windows (seccomp and procMount: agent/podspec_sec.c) */
    {"SecurityContext", "seLinuxOptions", NULL, NULL},
    {"SecurityContext", "windowsOptions", NULL, NULL},
    {"SecurityContext", "appArmorProfile", NULL, NULL},
    {"PodSecurityContext", "seLinuxOptions", NULL, NULL},
    {"PodSecurityContext", "windowsOptions", NULL, NULL},
    {"PodSecurityContext", "appArmorProfile", NULL, NULL},
    {"PodSecurityContext", "sysctls", NULL, NULL},
    {"PodSecurityContext", "fsGroupChangePolicy", NULL, NULL},
    {"PodSecurityContext", "supplementalGroupsPolicy", NULL, NULL},
    {"PodSecurityContext", "seLinuxChangePolicy", NULL, NULL},
    /* volumes: orc mounts emptyDir, hostPath, configMap, secret and
     * persistentVolumeClaim (bound to hostPath/local PersistentVolumes) */
    {"Volume", "downwardAPI", NULL, NULL},
    {"Volume", "nfs", NULL, NULL},
    {"Volume", "csi", NULL, NULL},
    {"Volume", "ephemeral", NULL, NULL},
    {"Volume", "image", NULL, NULL},
    {"Volume", "gcePersistentDisk", NULL, NULL},
    {"Volume", "awsElasticBlockStore", NULL, NULL},
    {"Volume", "gitRepo", NULL, NULL},
    {"Volume", "iscsi", NULL, NULL},
    {"Volume", "glusterfs", NULL, NULL},
    {"Volume", "rbd", NULL, NULL},
    {"Volume", "flexVolume", NULL, NULL},
    {"Volume", "cinder", NULL, NULL},
    {"Volume", "cephfs", NULL, NULL},
    {"Volume", "flocker", NULL, NULL},
    {"Volume", "fc", NULL, NULL},
    {"Volume", "azureFile", NULL, NULL},
    {"Volume", "vsphereVolume", NULL, NULL},
    {"Volume", "quobyte", NULL, NULL},
    {"Volume", "azureDisk", NULL, NULL},
    {"Volume", "photonPersistentDisk", NULL, NULL},
    {"Volume", "portworxVolume", NULL, NULL},
    {"Volume", "scaleIO", NULL, NULL},
    {"Volume", "storageos", NULL, NULL},
    {"EmptyDirVolumeSource", "sizeLimit", NULL, NULL},
    /* workloads */
    {"DeploymentSpec", "paused", "false", NULL},
    {"JobSpec", "podFailurePolicy", NULL, NULL},
    {"JobSpec", "successPolicy", NULL, NULL},
    {"JobSpec", "backoffLimitPerIndex", NULL, NULL},
    {"JobSpec", "maxFailedIndexes", NULL, NULL},
    {"JobSpec", "podReplacementPolicy", NULL, NULL},
    {"JobSpec", "managedBy", NULL, NULL},
    {"JobSpec", "completionMode", NULL, "Indexed"},
    {"StatefulSetSpec", "ordinals", NULL, NULL},
    /* services: what the node-address load balancer and the proxy do not */
    {"ServiceSpec", "loadBalancerIP", NULL, NULL},
    {"ServiceSpec", "loadBalancerSourceRanges", NULL, NULL},
    {"ServiceSpec", "healthCheckNodePort", NULL, NULL},
    {"ServiceSpec", "trafficDistribution", NULL, NULL},
    /* nodes and leases */
    {"NodeSpec", "configSource", NULL, NULL},
    {"NodeSpec", "externalID", NULL, NULL},
    {"LeaseSpec", "strategy", NULL, NULL},
    {"LeaseSpec", "preferredHolder", NULL, NULL},
};

/* Every field of every object written is looked up here: a bitmap of the
 * listed names' hashes turns most of them away without a string compare. */
#define SEEN_BITS 1024
static uint64_t seen[SEEN_BITS / 64];
static pthread_once_t seen_once = PTHREAD_ONCE_INIT;

static unsigned name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % SEEN_BITS;
}

static void fill_seen(void)
{
    for (size_t i = 0; i < sizeof notimpl / sizeof notimpl[0]; i++) {
        unsigned h = name_hash(notimpl[i].field);
        seen[h / 64] |= 1ULL << (h % 64);
    }
}

const struct api_notimpl *api_notimpl_find(const char *type, const char *field)
{
    unsigned h = name_hash(field);
    if (pthread_once(&seen_once, fill_seen) == 0 && !(seen[h / 64] >> (h % 64) & 1)) return NULL;
    for (size_t i = 0; i < sizeof notimpl / sizeof notimpl[0]; i++)
        if (strcmp(notimpl[i].field, field) == 0 && strcmp(notimpl[i].type, type) == 0)
            return &notimpl[i];
    return NULL;
}
