/* openapi_docs.c — the descriptions in the OpenAPI documents: short, in
 * orc's own words, for every kind, the types people explain most and the
 * fields every object shares. */
#include "apiserver/openapi.h"

#include <string.h>

#include "lib/orc.h"

static const char *const kind_docs[][2] = {
    {"Namespace", "Namespace groups names: most objects live in one, and deleting it deletes them."},
    {"Node", "Node is a machine that runs pods; its agent registers it and reports its status."},
    {"Pod", "Pod is a group of containers that run together on one node, sharing its network and volumes."},
    {"ConfigMap", "ConfigMap holds configuration data (text or binary) for pods to read."},
    {"Secret", "Secret holds sensitive data (base64 in data, text in stringData) for pods to read."},
    {"Service", "Service gives a set of pods, chosen by a selector, one stable address and name."},
    {"Event", "Event reports something that happened to an object."},
    {"Lease", "Lease records which holder owns a lock and until when."},
    {"Deployment", "Deployment keeps a number of identical pods running and rolls out changes to them through ReplicaSets."},
    {"ReplicaSet", "ReplicaSet keeps a number of pods matching its selector running."},
    {"StatefulSet", "StatefulSet runs pods with stable names, ordinal identities and their own volume claims."},
    {"DaemonSet", "DaemonSet runs one copy of a pod on every eligible node."},
    {"Job", "Job runs pods until a number of them complete successfully."},
    {"CronJob", "CronJob creates Jobs on a repeating schedule."},
    {"PriorityClass", "PriorityClass maps a name to the scheduling priority of the pods that name it."},
    {"ControllerRevision", "ControllerRevision is an immutable snapshot of a workload's template, kept for rollbacks."},
    {"PersistentVolume", "PersistentVolume is a piece of storage in the cluster that claims bind to."},
    {"PersistentVolumeClaim", "PersistentVolumeClaim is a request for storage that a pod mounts."},
    {"StorageClass", "StorageClass describes a kind of storage and how volumes of it are provisioned."},
    {"PodDisruptionBudget", "PodDisruptionBudget limits how many pods of a set voluntary evictions may take down at once."},
    {"Endpoints", "Endpoints lists the addresses and ports that back a Service."},
    {"EndpointSlice", "EndpointSlice lists a subset of the endpoints that back a Service."},
    {"Ingress", "Ingress routes outside HTTP traffic to Services by host and path."},
    {"IngressClass", "IngressClass names the controller that implements an Ingress."},
};

/* The types people explain most. */
static const char *const type_docs[][2] = {
    {"ObjectMeta", "ObjectMeta is the metadata every object has: name, namespace, labels, annotations, owners, finalizers."},
    {"LabelSelector", "LabelSelector selects objects by their labels: matchLabels and matchExpressions must all hold."},
    {"OwnerReference", "OwnerReference names an object this one belongs to; deleting the owner deletes it."},
    {"PodTemplateSpec", "PodTemplateSpec describes the pods a workload creates: their metadata and spec."},
    {"PodSpec", "PodSpec is the desired state of a pod: its containers, volumes and where it may run."},
    {"Container", "Container is one program of a pod: its image, command, environment, ports, resources and probes."},
    {"ContainerPort", "ContainerPort is a network port a container listens on."},
    {"EnvVar", "EnvVar is one environment variable of a container: a value, or a reference to where it comes from."},
    {"EnvVarSource", "EnvVarSource is where an environment variable's value comes from."},
    {"EnvFromSource", "EnvFromSource imports every key of a ConfigMap or Secret as environment variables."},
    {"ResourceRequirements", "ResourceRequirements are the compute resources (cpu, memory) a container requests and is limited to."},
    {"VolumeMount", "VolumeMount mounts a volume of the pod at a path in a container."},
    {"Volume", "Volume is storage the pod's containers can mount: one of the volume sources."},
    {"Probe", "Probe is a check of a container's health, run by the node agent: exec, httpGet, tcpSocket or grpc."},
    {"Lifecycle", "Lifecycle holds actions run right after a container starts and right before it stops."},
    {"SecurityContext", "SecurityContext holds a container's security settings (user, capabilities, privileges)."},
    {"PodSecurityContext", "PodSecurityContext holds security settings for every container of the pod."},
    {"Affinity", "Affinity holds the pod's scheduling constraints relative to nodes and other pods."},
    {"Toleration", "Toleration lets a pod be scheduled on (or stay on) nodes with a matching taint."},
    {"TopologySpreadConstraint", "TopologySpreadConstraint spreads matching pods evenly across a topology (zones, nodes)."},
    {"ServiceSpec", "ServiceSpec is the desired state of a Service: its type, selector and ports."},
    {"ServicePort", "ServicePort is a port a Service exposes and the pods' port it sends traffic to."},
    {"DeploymentSpec", "DeploymentSpec is the desired state of a Deployment: replicas, selector, pod template, update strategy."},
    {"DeploymentStrategy", "DeploymentStrategy says how a Deployment replaces old pods with new ones."},
    {"PersistentVolumeClaimSpec", "PersistentVolumeClaimSpec is the storage a claim asks for: size, access modes, class."},
    {"Taint", "Taint keeps pods that do not tolerate it off a node."},
};

const char *api_oa_type_doc(const char *name)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(kind_docs); i++)
        if (strcmp(kind_docs[i][0], name) == 0) return kind_docs[i][1];
    for (size_t i = 0; i < ORC_ARRAY_LEN(type_docs); i++)
        if (strcmp(type_docs[i][0], name) == 0) return type_docs[i][1];
    return NULL;
}

/* Fields every object shares. */
const char *api_oa_field_doc(const char *name, bool root)
{
    if (strcmp(name, "apiVersion") == 0)
        return "APIVersion is the versioned schema of this representation of an object "
               "(\"v1\", \"apps/v1\").";
    if (strcmp(name, "kind") == 0)
        return "Kind is the type of the object, in CamelCase (\"Pod\", \"Deployment\").";
    if (strcmp(name, "metadata") == 0)
        return "Standard object metadata: name, namespace, labels, annotations, owners.";
    if (root && strcmp(name, "spec") == 0) return "The desired state of the object.";
    if (root && strcmp(name, "status") == 0)
        return "The most recently observed state of the object, written by the system. "
               "Read-only; orc does not check its shape.";
    return NULL;
}
