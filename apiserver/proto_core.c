/* proto_core.c — field numbers of the core/v1 kinds other than Pod and
 * PersistentVolumeClaim: ConfigMap, Secret, Namespace, Service,
 * ServiceAccount, ResourceQuota, Event, Binding, Endpoints, Node, and
 * coordination.k8s.io/v1 Lease (k8s.io/api generated.proto). Events and
 * Leases are what client-go's event recorders and leader election write, a
 * Binding what a scheduler posts, a Node what a kubelet writes. */
#include "apiserver/proto_tab.h"

#define P_META P_OBJ(1, "metadata", api_pb_objectmeta)

PB_MESSAGE_SHARED(api_pb_configmap, "ConfigMap",
    P_META, P_MSTR(2, "data"), P_MBYTES(3, "binaryData"), P_BOOLK(4, "immutable"));

PB_MESSAGE_SHARED(api_pb_secret, "Secret",
    P_META, P_MBYTES(2, "data"), P_STR(3, "type"), P_MSTR(4, "stringData"),
    P_BOOLK(5, "immutable"));

/* ---- Namespace ---- */

PB_MESSAGE(nsspec, "NamespaceSpec", P_ASTR(1, "finalizers"));
PB_MESSAGE(nscond, "NamespaceCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_TIME(4, "lastTransitionTime"), P_STR(5, "reason"),
    P_STR(6, "message"));
PB_MESSAGE(nsstatus, "NamespaceStatus", P_STR(1, "phase"), P_AOBJ(2, "conditions", nscond));

PB_MESSAGE_SHARED(api_pb_namespace, "Namespace",
    P_META, P_OBJ(2, "spec", nsspec), P_OBJ(3, "status", nsstatus));

/* ---- Service ---- */

PB_MESSAGE(svcport, "ServicePort",
    P_STR(1, "name"), P_STR(2, "protocol"), P_INTK(3, "port"), P_INTSTR(4, "targetPort"),
    P_INT(5, "nodePort"), P_STRK(6, "appProtocol"));
PB_MESSAGE(clientipcfg, "ClientIPConfig", P_INTK(1, "timeoutSeconds"));
PB_MESSAGE(affinitycfg, "SessionAffinityConfig", P_OBJ(1, "clientIP", clientipcfg));

PB_MESSAGE(svcspec, "ServiceSpec",
    P_AOBJ(1, "ports", svcport), P_MSTR(2, "selector"), P_STR(3, "clusterIP"), P_STR(4, "type"),
    P_ASTR(5, "externalIPs"), P_STR(7, "sessionAffinity"), P_STR(8, "loadBalancerIP"),
    P_ASTR(9, "loadBalancerSourceRanges"), P_STR(10, "externalName"),
    P_STR(11, "externalTrafficPolicy"), P_INT(12, "healthCheckNodePort"),
    P_BOOL(13, "publishNotReadyAddresses"), P_OBJ(14, "sessionAffinityConfig", affinitycfg),
    P_STRK(17, "ipFamilyPolicy"), P_ASTR(18, "clusterIPs"), P_ASTR(19, "ipFamilies"),
    P_BOOLK(20, "allocateLoadBalancerNodePorts"), P_STRK(21, "loadBalancerClass"),
    P_STRK(22, "internalTrafficPolicy"), P_STRK(23, "trafficDistribution"));

PB_MESSAGE(portstatus, "PortStatus", P_INTK(1, "port"), P_STR(2, "protocol"), P_STRK(3, "error"));
PB_MESSAGE(lbingress, "LoadBalancerIngress",
    P_STR(1, "ip"), P_STR(2, "hostname"), P_STRK(3, "ipMode"), P_AOBJ(4, "ports", portstatus));
PB_MESSAGE(lbstatus, "LoadBalancerStatus", P_AOBJ(1, "ingress", lbingress));
PB_MESSAGE(svcstatus, "ServiceStatus",
    P_OBJ(1, "loadBalancer", lbstatus), P_AOBJ(2, "conditions", api_pb_condition));

PB_MESSAGE_SHARED(api_pb_service, "Service",
    P_META, P_OBJ(2, "spec", svcspec), P_OBJ(3, "status", svcstatus));

/* ---- ServiceAccount, ResourceQuota ---- */

PB_MESSAGE_SHARED(api_pb_serviceaccount, "ServiceAccount",
    P_META, P_AOBJ(2, "secrets", api_pb_objectref),
    P_AOBJ(3, "imagePullSecrets", api_pb_localref), P_BOOLK(4, "automountServiceAccountToken"));

PB_MESSAGE(scopereq, "ScopedResourceSelectorRequirement",
    P_STR(1, "scopeName"), P_STR(2, "operator"), P_ASTR(3, "values"));
PB_MESSAGE(scopesel, "ScopeSelector", P_AOBJ(1, "matchExpressions", scopereq));
PB_MESSAGE(rqspec, "ResourceQuotaSpec",
    P_MQTY(1, "hard"), P_ASTR(2, "scopes"), P_OBJ(3, "scopeSelector", scopesel));
PB_MESSAGE(rqstatus, "ResourceQuotaStatus", P_MQTY(1, "hard"), P_MQTY(2, "used"));

PB_MESSAGE_SHARED(api_pb_resourcequota, "ResourceQuota",
    P_META, P_OBJ(2, "spec", rqspec), P_OBJ(3, "status", rqstatus));

/* ---- Event, Lease ---- */

PB_MESSAGE(evsource, "EventSource", P_STR(1, "component"), P_STR(2, "host"));
PB_MESSAGE(evseries, "EventSeries", P_INT(1, "count"), P_MTIME(2, "lastObservedTime"));

PB_MESSAGE_SHARED(api_pb_event, "Event",
    P_META, P_OBJ(2, "involvedObject", api_pb_objectref), P_STR(3, "reason"),
    P_STR(4, "message"), P_OBJ(5, "source", evsource), P_TIME(6, "firstTimestamp"),
    P_TIME(7, "lastTimestamp"), P_INT(8, "count"), P_STR(9, "type"), P_MTIME(10, "eventTime"),
    P_OBJ(11, "series", evseries), P_STR(12, "action"), P_OBJ(13, "related", api_pb_objectref),
    P_STR(14, "reportingComponent"), P_STR(15, "reportingInstance"));

/* events.k8s.io/v1 Event (client-go's events/v1 recorder): the same
 * object's other shape (convert_event.c). */
PB_MESSAGE_SHARED(api_pb_event_v1, "Event",
    P_META, P_MTIME(2, "eventTime"), P_OBJ(3, "series", evseries),
    P_STR(4, "reportingController"), P_STR(5, "reportingInstance"), P_STR(6, "action"),
    P_STR(7, "reason"), P_OBJ(8, "regarding", api_pb_objectref),
    P_OBJ(9, "related", api_pb_objectref), P_STR(10, "note"), P_STR(11, "type"),
    P_OBJ(12, "deprecatedSource", evsource), P_TIME(13, "deprecatedFirstTimestamp"),
    P_TIME(14, "deprecatedLastTimestamp"), P_INT(15, "deprecatedCount"));

PB_MESSAGE(leasespec, "LeaseSpec",
    P_STRK(1, "holderIdentity"), P_INTK(2, "leaseDurationSeconds"), P_MTIME(3, "acquireTime"),
    P_MTIME(4, "renewTime"), P_INTK(5, "leaseTransitions"), P_STRK(6, "strategy"),
    P_STRK(7, "preferredHolder"));

PB_MESSAGE_SHARED(api_pb_lease, "Lease", P_META, P_OBJ(2, "spec", leasespec));

/* ---- Binding (pods/binding: what a scheduler posts), Endpoints ---- */

PB_MESSAGE_SHARED(api_pb_binding, "Binding",
    P_META, P_OBJ(2, "target", api_pb_objectref));

PB_MESSAGE(epaddress, "EndpointAddress",
    P_STR(1, "ip"), P_OBJ(2, "targetRef", api_pb_objectref), P_STR(3, "hostname"),
    P_STRK(4, "nodeName"));
PB_MESSAGE(epport, "EndpointPort",
    P_STR(1, "name"), P_INTK(2, "port"), P_STR(3, "protocol"), P_STRK(4, "appProtocol"));
PB_MESSAGE(epsubset, "EndpointSubset",
    P_AOBJ(1, "addresses", epaddress), P_AOBJ(2, "notReadyAddresses", epaddress),
    P_AOBJ(3, "ports", epport));

PB_MESSAGE_SHARED(api_pb_endpoints, "Endpoints", P_META, P_AOBJ(2, "subsets", epsubset));

/* ---- Node (what a kubelet writes; its runtime handlers and features are
 * not decoded) ---- */

PB_MESSAGE(taint, "Taint",
    P_STR(1, "key"), P_STR(2, "value"), P_STR(3, "effect"), P_TIME(4, "timeAdded"));
PB_MESSAGE(nodespec, "NodeSpec",
    P_STR(1, "podCIDR"), P_STR(2, "externalID"), P_STR(3, "providerID"),
    P_BOOL(4, "unschedulable"), P_AOBJ(5, "taints", taint), P_ASTR(7, "podCIDRs"));
PB_MESSAGE(nodecond, "NodeCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_TIME(3, "lastHeartbeatTime"),
    P_TIME(4, "lastTransitionTime"), P_STR(5, "reason"), P_STR(6, "message"));
PB_MESSAGE(nodeaddr, "NodeAddress", P_STR(1, "type"), P_STR(2, "address"));
PB_MESSAGE(daemonep, "DaemonEndpoint", P_INTK(1, "Port"));
PB_MESSAGE(daemoneps, "NodeDaemonEndpoints", P_OBJ(1, "kubeletEndpoint", daemonep));
PB_MESSAGE(nodeinfo, "NodeSystemInfo",
    P_STRK(1, "machineID"), P_STRK(2, "systemUUID"), P_STRK(3, "bootID"),
    P_STRK(4, "kernelVersion"), P_STRK(5, "osImage"), P_STRK(6, "containerRuntimeVersion"),
    P_STRK(7, "kubeletVersion"), P_STRK(8, "kubeProxyVersion"), P_STRK(9, "operatingSystem"),
    P_STRK(10, "architecture"));
PB_MESSAGE(nodeimage, "ContainerImage", P_ASTR(1, "names"), P_INT(2, "sizeBytes"));
PB_MESSAGE(attachedvol, "AttachedVolume", P_STR(1, "name"), P_STR(2, "devicePath"));
PB_MESSAGE(nodestatus, "NodeStatus",
    P_MQTY(1, "capacity"), P_MQTY(2, "allocatable"), P_STR(3, "phase"),
    P_AOBJ(4, "conditions", nodecond), P_AOBJ(5, "addresses", nodeaddr),
    P_OBJ(6, "daemonEndpoints", daemoneps), P_OBJ(7, "nodeInfo", nodeinfo),
    P_AOBJ(8, "images", nodeimage), P_ASTR(9, "volumesInUse"),
    P_AOBJ(10, "volumesAttached", attachedvol));

PB_MESSAGE_SHARED(api_pb_node, "Node",
    P_META, P_OBJ(2, "spec", nodespec), P_OBJ(3, "status", nodestatus));
