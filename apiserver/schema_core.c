/* schema_core.c — field tables for ObjectMeta, LabelSelector and the core
 * kinds other than Pod: Namespace, Node, ConfigMap, Secret, Service, Event,
 * and coordination.k8s.io Lease. */
#include "apiserver/schema.h"

/* ---- shared ---- */

API_STRUCT(ownerref, "OwnerReference",
    F_STR_R("apiVersion"), F_STR_R("kind"), F_STR_R("name"), F_STR_R("uid"),
    F_BOOL("controller"), F_BOOL("blockOwnerDeletion"));

API_STRUCT_SHARED(api_s_objectmeta, "ObjectMeta",
    F_STR("name"), F_STR("generateName"), F_STR("namespace"), F_STR("selfLink"), F_STR("uid"),
    F_STR("resourceVersion"), F_INT("generation"), F_TIME("creationTimestamp"),
    F_TIME("deletionTimestamp"), F_INT("deletionGracePeriodSeconds"), F_MSTR("labels"),
    F_MSTR("annotations"), F_AOBJ_MERGE("ownerReferences", ownerref, "uid"),
    F_ASTR_MERGE("finalizers"),
    F_AFREE("managedFields"));

API_STRUCT(selreq, "LabelSelectorRequirement",
    F_STR_R("key"), F_STR_R("operator"), F_ASTR("values"));

API_STRUCT_SHARED(api_s_labelselector, "LabelSelector",
    F_MSTR("matchLabels"), F_AOBJ("matchExpressions", selreq));

/* ---- Namespace ---- */

API_STRUCT(nsspec, "NamespaceSpec", F_ASTR("finalizers"));

/* Statuses are not checked; their merging lists are Kubernetes'. */
API_STRUCT(conditions_status, "ConditionsStatus", F_AFREE_MERGE("conditions", "type"));

API_STRUCT_SHARED(api_s_namespace, "Namespace",
    F_TYPEMETA, F_OBJ("spec", nsspec), F_FREE_PATCHED("status", conditions_status));

/* ---- Node ---- */

API_STRUCT(taint, "Taint",
    F_STR_R("key"), F_STR("value"), F_STR_R("effect"), F_TIME("timeAdded"));

API_STRUCT(nodespec, "NodeSpec",
    F_STR("podCIDR"), F_ASTR_MERGE("podCIDRs"), F_STR("providerID"), F_BOOL("unschedulable"),
    F_AOBJ("taints", taint), F_FREEOBJ("configSource"), F_STR("externalID"));

/* Not checked; described for kubectl's patches (see schema_pod.c). */
API_STRUCT(nodestatus, "NodeStatus",
    F_MQTY("capacity"), F_MQTY("allocatable"), F_STR("phase"), F_AFREE_MERGE("conditions", "type"),
    F_AFREE_MERGE("addresses", "type"), F_FREEOBJ("daemonEndpoints"), F_FREEOBJ("nodeInfo"),
    F_AFREE("images"), F_ASTR("volumesInUse"), F_AFREE("volumesAttached"), F_FREEOBJ("config"),
    F_AFREE("runtimeHandlers"), F_FREEOBJ("features"));

API_STRUCT_SHARED(api_s_node, "Node",
    F_TYPEMETA, F_OBJ("spec", nodespec), F_FREE_PATCHED("status", nodestatus));

/* ---- ConfigMap, Secret ---- */

API_STRUCT_SHARED(api_s_configmap, "ConfigMap",
    F_TYPEMETA, F_MSTR("data"), F_MSTR("binaryData"), F_BOOL("immutable"));

API_STRUCT_SHARED(api_s_secret, "Secret",
    F_TYPEMETA, F_MSTR("data"), F_MSTR("stringData"), F_STR("type"), F_BOOL("immutable"));

/* ---- Service ---- */

API_STRUCT(svcport, "ServicePort",
    F_STR("name"), F_STR("protocol"), F_STR("appProtocol"), F_INT32("port"),
    F_INTSTR("targetPort"), F_INT32("nodePort"));

API_STRUCT(clientipcfg, "ClientIPConfig", F_INT32("timeoutSeconds"));
API_STRUCT(affinitycfg, "SessionAffinityConfig", F_OBJ("clientIP", clientipcfg));

API_STRUCT(svcspec, "ServiceSpec",
    F_AOBJ_MERGE("ports", svcport, "port"), F_MSTR("selector"), F_STR("clusterIP"), F_ASTR("clusterIPs"),
    F_STR("type"), F_ASTR("externalIPs"), F_STR("sessionAffinity"), F_STR("loadBalancerIP"),
    F_ASTR("loadBalancerSourceRanges"), F_STR("externalName"), F_STR("externalTrafficPolicy"),
    F_INT32("healthCheckNodePort"), F_BOOL("publishNotReadyAddresses"),
    F_OBJ("sessionAffinityConfig", affinitycfg), F_ASTR("ipFamilies"), F_STR("ipFamilyPolicy"),
    F_BOOL("allocateLoadBalancerNodePorts"), F_STR("loadBalancerClass"),
    F_STR("internalTrafficPolicy"), F_STR("trafficDistribution"));

/* Not checked, but described for kubectl's patches (see schema_batch.c). */
API_STRUCT(portstatus, "PortStatus", F_INT32("port"), F_STR("protocol"), F_STR("error"));
API_STRUCT(lbingress, "LoadBalancerIngress",
    F_STR("ip"), F_STR("hostname"), F_STR("ipMode"), F_AOBJ("ports", portstatus));
API_STRUCT(lbstatus, "LoadBalancerStatus", F_AOBJ("ingress", lbingress));
API_STRUCT(svcstatus, "ServiceStatus",
    F_OBJ("loadBalancer", lbstatus), F_AFREE_MERGE("conditions", "type"));

API_STRUCT_SHARED(api_s_service, "Service",
    F_TYPEMETA, F_OBJ("spec", svcspec), F_FREE_PATCHED("status", svcstatus));

/* ---- Event ---- */

API_STRUCT_SHARED(api_s_objectref, "ObjectReference",
    F_STR("kind"), F_STR("namespace"), F_STR("name"), F_STR("uid"), F_STR("apiVersion"),
    F_STR("resourceVersion"), F_STR("fieldPath"));

API_STRUCT(evsource, "EventSource", F_STR("component"), F_STR("host"));
API_STRUCT(evseries, "EventSeries", F_INT32("count"), F_TIME("lastObservedTime"));

API_STRUCT_SHARED(api_s_event, "Event",
    F_TYPEMETA, F_OBJ("involvedObject", api_s_objectref), F_STR("reason"), F_STR("message"),
    F_OBJ("source", evsource), F_TIME("firstTimestamp"), F_TIME("lastTimestamp"),
    F_INT32("count"), F_STR("type"), F_TIME("eventTime"), F_OBJ("series", evseries),
    F_STR("action"), F_OBJ("related", api_s_objectref), F_STR("reportingComponent"),
    F_STR("reportingInstance"));

/* events.k8s.io/v1: what its clients see (served_only; stored as the core
 * Event, convert_event.c). */
API_STRUCT_SHARED(api_s_event_v1, "Event",
    F_TYPEMETA, API_F("eventTime", API_T_TIME, 0, API_F_REQUIRED, NULL),
    F_OBJ("series", evseries), F_STR("reportingController"), F_STR("reportingInstance"),
    F_STR("action"), F_STR("reason"), F_OBJ("regarding", api_s_objectref),
    F_OBJ("related", api_s_objectref), F_STR("note"), F_STR("type"),
    F_OBJ("deprecatedSource", evsource), F_TIME("deprecatedFirstTimestamp"),
    F_TIME("deprecatedLastTimestamp"), F_INT32("deprecatedCount"));

/* ---- Lease ---- */

API_STRUCT(leasespec, "LeaseSpec",
    F_STR("holderIdentity"), F_INT32("leaseDurationSeconds"), F_TIME("acquireTime"),
    F_TIME("renewTime"), F_INT32("leaseTransitions"), F_STR("strategy"),
    F_STR("preferredHolder"));

API_STRUCT_SHARED(api_s_lease, "Lease", F_TYPEMETA, F_OBJ("spec", leasespec));

/* ---- Endpoints (core/v1) and EndpointSlice (discovery.k8s.io/v1) ---- */

API_STRUCT(epaddress, "EndpointAddress",
    F_STR("ip"), F_STR("hostname"), F_STR("nodeName"), F_OBJ("targetRef", api_s_objectref));
API_STRUCT(epport, "EndpointPort",
    F_STR("name"), F_INT32("port"), F_STR("protocol"), F_STR("appProtocol"));
API_STRUCT(epsubset, "EndpointSubset",
    F_AOBJ("addresses", epaddress), F_AOBJ("notReadyAddresses", epaddress),
    F_AOBJ("ports", epport));
API_STRUCT_SHARED(api_s_endpoints, "Endpoints", F_TYPEMETA, F_AOBJ("subsets", epsubset));

API_STRUCT(epconditions, "EndpointConditions",
    F_BOOL("ready"), F_BOOL("serving"), F_BOOL("terminating"));
API_STRUCT(forzone, "ForZone", F_STR("name"));
API_STRUCT(ephints, "EndpointHints", F_AOBJ("forZones", forzone));
API_STRUCT(endpoint, "Endpoint",
    F_ASTR_R("addresses"), F_OBJ("conditions", epconditions), F_STR("hostname"),
    F_OBJ("targetRef", api_s_objectref), F_MSTR("deprecatedTopology"), F_STR("nodeName"),
    F_STR("zone"), F_OBJ("hints", ephints));
API_STRUCT_SHARED(api_s_endpointslice, "EndpointSlice",
    F_TYPEMETA, F_STR_R("addressType"), F_AOBJ("endpoints", endpoint), F_AOBJ("ports", epport));
