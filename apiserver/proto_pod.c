/* proto_pod.c — field numbers of core/v1 Pod and everything inside a
 * PodSpec (k8s.io/api core/v1 generated.proto), for pods and every pod
 * template. Names match schema_pod.c's tables; the in-tree cloud and
 * network volume sources orc does not mount have no numbers here, so a body
 * carrying one is refused rather than half read. */
#include "apiserver/proto_tab.h"

/* ---- env ---- */

PB_MESSAGE(cmkeysel, "ConfigMapKeySelector",
    P_INLINE(1, api_pb_localref), P_STR(2, "key"), P_BOOLK(3, "optional"));
PB_MESSAGE(seckeysel, "SecretKeySelector",
    P_INLINE(1, api_pb_localref), P_STR(2, "key"), P_BOOLK(3, "optional"));
PB_MESSAGE(fieldsel, "ObjectFieldSelector", P_STR(1, "apiVersion"), P_STR(2, "fieldPath"));
PB_MESSAGE(resfieldsel, "ResourceFieldSelector",
    P_STR(1, "containerName"), P_STR(2, "resource"), P_QTY(3, "divisor"));
PB_MESSAGE(envsource, "EnvVarSource",
    P_OBJ(1, "fieldRef", fieldsel), P_OBJ(2, "resourceFieldRef", resfieldsel),
    P_OBJ(3, "configMapKeyRef", cmkeysel), P_OBJ(4, "secretKeyRef", seckeysel));
PB_MESSAGE(envvar, "EnvVar", P_STR(1, "name"), P_STR(2, "value"), P_OBJ(3, "valueFrom", envsource));
PB_MESSAGE(cmenvsrc, "ConfigMapEnvSource", P_INLINE(1, api_pb_localref), P_BOOLK(2, "optional"));
PB_MESSAGE(secenvsrc, "SecretEnvSource", P_INLINE(1, api_pb_localref), P_BOOLK(2, "optional"));
PB_MESSAGE(envfrom, "EnvFromSource",
    P_STR(1, "prefix"), P_OBJ(2, "configMapRef", cmenvsrc), P_OBJ(3, "secretRef", secenvsrc));

/* ---- container pieces ---- */

PB_MESSAGE(cport, "ContainerPort",
    P_STR(1, "name"), P_INT(2, "hostPort"), P_INTK(3, "containerPort"), P_STR(4, "protocol"),
    P_STR(5, "hostIP"));
PB_MESSAGE(resclaim, "ResourceClaim", P_STR(1, "name"), P_STR(2, "request"));
PB_MESSAGE(resources, "ResourceRequirements",
    P_MQTY(1, "limits"), P_MQTY(2, "requests"), P_AOBJ(3, "claims", resclaim));
PB_MESSAGE(resizepolicy, "ContainerResizePolicy",
    P_STR(1, "resourceName"), P_STR(2, "restartPolicy"));
PB_MESSAGE(vmount, "VolumeMount",
    P_STR(1, "name"), P_BOOL(2, "readOnly"), P_STR(3, "mountPath"), P_STR(4, "subPath"),
    P_STRK(5, "mountPropagation"), P_STR(6, "subPathExpr"), P_STRK(7, "recursiveReadOnly"));
PB_MESSAGE(vdevice, "VolumeDevice", P_STR(1, "name"), P_STR(2, "devicePath"));

PB_MESSAGE(execaction, "ExecAction", P_ASTR(1, "command"));
PB_MESSAGE(httpheader, "HTTPHeader", P_STR(1, "name"), P_STR(2, "value"));
PB_MESSAGE(httpget, "HTTPGetAction",
    P_STR(1, "path"), P_INTSTR(2, "port"), P_STR(3, "host"), P_STR(4, "scheme"),
    P_AOBJ(5, "httpHeaders", httpheader));
PB_MESSAGE(tcpsocket, "TCPSocketAction", P_INTSTR(1, "port"), P_STR(2, "host"));
PB_MESSAGE(grpcaction, "GRPCAction", P_INTK(1, "port"), P_STRK(2, "service"));
PB_MESSAGE(sleepaction, "SleepAction", P_INTK(1, "seconds"));

PB_MESSAGE(probehandler, "ProbeHandler",
    P_OBJ(1, "exec", execaction), P_OBJ(2, "httpGet", httpget), P_OBJ(3, "tcpSocket", tcpsocket),
    P_OBJ(4, "grpc", grpcaction));
PB_MESSAGE(probe, "Probe",
    P_INLINE(1, probehandler), P_INT(2, "initialDelaySeconds"), P_INT(3, "timeoutSeconds"),
    P_INT(4, "periodSeconds"), P_INT(5, "successThreshold"), P_INT(6, "failureThreshold"),
    P_INTK(7, "terminationGracePeriodSeconds"));

PB_MESSAGE(handler, "LifecycleHandler",
    P_OBJ(1, "exec", execaction), P_OBJ(2, "httpGet", httpget), P_OBJ(3, "tcpSocket", tcpsocket),
    P_OBJ(4, "sleep", sleepaction));
PB_MESSAGE(lifecycle, "Lifecycle",
    P_OBJ(1, "postStart", handler), P_OBJ(2, "preStop", handler), P_STRK(3, "stopSignal"));

/* ---- security ---- */

PB_MESSAGE(capabilities, "Capabilities", P_ASTR(1, "add"), P_ASTR(2, "drop"));
PB_MESSAGE(selinux, "SELinuxOptions",
    P_STR(1, "user"), P_STR(2, "role"), P_STR(3, "type"), P_STR(4, "level"));
PB_MESSAGE(winopts, "WindowsSecurityContextOptions",
    P_STRK(1, "gmsaCredentialSpecName"), P_STRK(2, "gmsaCredentialSpec"),
    P_STRK(3, "runAsUserName"), P_BOOLK(4, "hostProcess"));
PB_MESSAGE(seccomp, "SeccompProfile", P_STR(1, "type"), P_STRK(2, "localhostProfile"));
PB_MESSAGE(apparmor, "AppArmorProfile", P_STR(1, "type"), P_STRK(2, "localhostProfile"));

PB_MESSAGE(secctx, "SecurityContext",
    P_OBJ(1, "capabilities", capabilities), P_BOOLK(2, "privileged"),
    P_OBJ(3, "seLinuxOptions", selinux), P_INTK(4, "runAsUser"), P_BOOLK(5, "runAsNonRoot"),
    P_BOOLK(6, "readOnlyRootFilesystem"), P_BOOLK(7, "allowPrivilegeEscalation"),
    P_INTK(8, "runAsGroup"), P_STRK(9, "procMount"), P_OBJ(10, "windowsOptions", winopts),
    P_OBJ(11, "seccompProfile", seccomp), P_OBJ(12, "appArmorProfile", apparmor));

PB_MESSAGE(sysctl, "Sysctl", P_STR(1, "name"), P_STR(2, "value"));
PB_MESSAGE(podsecctx, "PodSecurityContext",
    P_OBJ(1, "seLinuxOptions", selinux), P_INTK(2, "runAsUser"), P_BOOLK(3, "runAsNonRoot"),
    P_AINT(4, "supplementalGroups"), P_INTK(5, "fsGroup"), P_INTK(6, "runAsGroup"),
    P_AOBJ(7, "sysctls", sysctl), P_OBJ(8, "windowsOptions", winopts),
    P_STRK(9, "fsGroupChangePolicy"), P_OBJ(10, "seccompProfile", seccomp),
    P_OBJ(11, "appArmorProfile", apparmor), P_STRK(12, "supplementalGroupsPolicy"),
    P_STRK(13, "seLinuxChangePolicy"));

/* ---- container ---- */

#define CONTAINER_FIELDS                                                                        \
    P_STR(1, "name"), P_STR(2, "image"), P_ASTR(3, "command"), P_ASTR(4, "args"),               \
        P_STR(5, "workingDir"), P_AOBJ(6, "ports", cport), P_AOBJ(7, "env", envvar),            \
        P_OBJ(8, "resources", resources), P_AOBJ(9, "volumeMounts", vmount),                    \
        P_OBJ(10, "livenessProbe", probe), P_OBJ(11, "readinessProbe", probe),                  \
        P_OBJ(12, "lifecycle", lifecycle), P_STR(13, "terminationMessagePath"),                 \
        P_STR(14, "imagePullPolicy"), P_OBJ(15, "securityContext", secctx),                     \
        P_BOOL(16, "stdin"), P_BOOL(17, "stdinOnce"), P_BOOL(18, "tty"),                        \
        P_AOBJ(19, "envFrom", envfrom), P_STR(20, "terminationMessagePolicy"),                  \
        P_AOBJ(21, "volumeDevices", vdevice), P_OBJ(22, "startupProbe", probe),                 \
        P_AOBJ(23, "resizePolicy", resizepolicy), P_STRK(24, "restartPolicy")

PB_MESSAGE(container, "Container", CONTAINER_FIELDS);
/* EphemeralContainerCommon numbers its fields as Container does. */
PB_MESSAGE(ephcommon, "EphemeralContainerCommon", CONTAINER_FIELDS);
PB_MESSAGE(ephcontainer, "EphemeralContainer",
    P_INLINE(1, ephcommon), P_STR(2, "targetContainerName"));

/* ---- volumes ---- */

PB_MESSAGE(keytopath, "KeyToPath", P_STR(1, "key"), P_STR(2, "path"), P_INTK(3, "mode"));
PB_MESSAGE(hostpath, "HostPathVolumeSource", P_STR(1, "path"), P_STRK(2, "type"));
PB_MESSAGE(emptydir, "EmptyDirVolumeSource", P_STR(1, "medium"), P_QTY(2, "sizeLimit"));
PB_MESSAGE(secretvol, "SecretVolumeSource",
    P_STR(1, "secretName"), P_AOBJ(2, "items", keytopath), P_INTK(3, "defaultMode"),
    P_BOOLK(4, "optional"));
PB_MESSAGE(cmvol, "ConfigMapVolumeSource",
    P_INLINE(1, api_pb_localref), P_AOBJ(2, "items", keytopath), P_INTK(3, "defaultMode"),
    P_BOOLK(4, "optional"));
PB_MESSAGE(pvcvol, "PersistentVolumeClaimVolumeSource",
    P_STR(1, "claimName"), P_BOOL(2, "readOnly"));
PB_MESSAGE(dapifile, "DownwardAPIVolumeFile",
    P_STR(1, "path"), P_OBJ(2, "fieldRef", fieldsel), P_OBJ(3, "resourceFieldRef", resfieldsel),
    P_INTK(4, "mode"));
PB_MESSAGE(dapivol, "DownwardAPIVolumeSource",
    P_AOBJ(1, "items", dapifile), P_INTK(2, "defaultMode"));
PB_MESSAGE(dapiproj, "DownwardAPIProjection", P_AOBJ(1, "items", dapifile));
PB_MESSAGE(secretproj, "SecretProjection",
    P_INLINE(1, api_pb_localref), P_AOBJ(2, "items", keytopath), P_BOOLK(4, "optional"));
PB_MESSAGE(cmproj, "ConfigMapProjection",
    P_INLINE(1, api_pb_localref), P_AOBJ(2, "items", keytopath), P_BOOLK(4, "optional"));
PB_MESSAGE(satokenproj, "ServiceAccountTokenProjection",
    P_STR(1, "audience"), P_INTK(2, "expirationSeconds"), P_STR(3, "path"));
PB_MESSAGE(ctbproj, "ClusterTrustBundleProjection",
    P_STRK(1, "name"), P_STRK(2, "signerName"), P_OBJ(3, "labelSelector", api_pb_labelselector),
    P_STR(4, "path"), P_BOOLK(5, "optional"));
PB_MESSAGE(volproj, "VolumeProjection",
    P_OBJ(1, "secret", secretproj), P_OBJ(2, "downwardAPI", dapiproj),
    P_OBJ(3, "configMap", cmproj), P_OBJ(4, "serviceAccountToken", satokenproj),
    P_OBJ(5, "clusterTrustBundle", ctbproj));
PB_MESSAGE(projected, "ProjectedVolumeSource",
    P_AOBJ(1, "sources", volproj), P_INTK(2, "defaultMode"));
PB_MESSAGE(nfs, "NFSVolumeSource", P_STR(1, "server"), P_STR(2, "path"), P_BOOL(3, "readOnly"));
PB_MESSAGE(csi, "CSIVolumeSource",
    P_STR(1, "driver"), P_BOOLK(2, "readOnly"), P_STRK(3, "fsType"),
    P_MSTR(4, "volumeAttributes"), P_OBJ(5, "nodePublishSecretRef", api_pb_localref));
PB_MESSAGE(imagevol, "ImageVolumeSource", P_STR(1, "reference"), P_STR(2, "pullPolicy"));

PB_MESSAGE(volsource, "VolumeSource",
    P_OBJ(1, "hostPath", hostpath), P_OBJ(2, "emptyDir", emptydir), P_OBJ(6, "secret", secretvol),
    P_OBJ(7, "nfs", nfs), P_OBJ(10, "persistentVolumeClaim", pvcvol),
    P_OBJ(16, "downwardAPI", dapivol), P_OBJ(19, "configMap", cmvol),
    P_OBJ(26, "projected", projected), P_OBJ(28, "csi", csi), P_OBJ(30, "image", imagevol));
PB_MESSAGE(volume, "Volume", P_STR(1, "name"), P_INLINE(2, volsource));

/* ---- scheduling ---- */

PB_MESSAGE(nsreq, "NodeSelectorRequirement",
    P_STR(1, "key"), P_STR(2, "operator"), P_ASTR(3, "values"));
PB_MESSAGE(nsterm, "NodeSelectorTerm",
    P_AOBJ(1, "matchExpressions", nsreq), P_AOBJ(2, "matchFields", nsreq));
PB_MESSAGE(nodeselector, "NodeSelector", P_AOBJ(1, "nodeSelectorTerms", nsterm));
PB_MESSAGE(prefterm, "PreferredSchedulingTerm", P_INTK(1, "weight"), P_OBJ(2, "preference", nsterm));
PB_MESSAGE(nodeaff, "NodeAffinity",
    P_OBJ(1, "requiredDuringSchedulingIgnoredDuringExecution", nodeselector),
    P_AOBJ(2, "preferredDuringSchedulingIgnoredDuringExecution", prefterm));
PB_MESSAGE(podaffterm, "PodAffinityTerm",
    P_OBJ(1, "labelSelector", api_pb_labelselector), P_ASTR(2, "namespaces"),
    P_STR(3, "topologyKey"), P_OBJ(4, "namespaceSelector", api_pb_labelselector),
    P_ASTR(5, "matchLabelKeys"), P_ASTR(6, "mismatchLabelKeys"));
PB_MESSAGE(wpodaffterm, "WeightedPodAffinityTerm",
    P_INTK(1, "weight"), P_OBJ(2, "podAffinityTerm", podaffterm));
PB_MESSAGE(podaff, "PodAffinity",
    P_AOBJ(1, "requiredDuringSchedulingIgnoredDuringExecution", podaffterm),
    P_AOBJ(2, "preferredDuringSchedulingIgnoredDuringExecution", wpodaffterm));
PB_MESSAGE(podantiaff, "PodAntiAffinity",
    P_AOBJ(1, "requiredDuringSchedulingIgnoredDuringExecution", podaffterm),
    P_AOBJ(2, "preferredDuringSchedulingIgnoredDuringExecution", wpodaffterm));
PB_MESSAGE(affinity, "Affinity",
    P_OBJ(1, "nodeAffinity", nodeaff), P_OBJ(2, "podAffinity", podaff),
    P_OBJ(3, "podAntiAffinity", podantiaff));
PB_MESSAGE(toleration, "Toleration",
    P_STR(1, "key"), P_STR(2, "operator"), P_STR(3, "value"), P_STR(4, "effect"),
    P_INTK(5, "tolerationSeconds"));
PB_MESSAGE(spread, "TopologySpreadConstraint",
    P_INTK(1, "maxSkew"), P_STR(2, "topologyKey"), P_STR(3, "whenUnsatisfiable"),
    P_OBJ(4, "labelSelector", api_pb_labelselector), P_INTK(5, "minDomains"),
    P_STRK(6, "nodeAffinityPolicy"), P_STRK(7, "nodeTaintsPolicy"), P_ASTR(8, "matchLabelKeys"));

/* ---- the rest of PodSpec ---- */

PB_MESSAGE(hostalias, "HostAlias", P_STR(1, "ip"), P_ASTR(2, "hostnames"));
PB_MESSAGE(dnsoption, "PodDNSConfigOption", P_STR(1, "name"), P_STRK(2, "value"));
PB_MESSAGE(dnsconfig, "PodDNSConfig",
    P_ASTR(1, "nameservers"), P_ASTR(2, "searches"), P_AOBJ(3, "options", dnsoption));
PB_MESSAGE(readinessgate, "PodReadinessGate", P_STR(1, "conditionType"));
PB_MESSAGE(podos, "PodOS", P_STR(1, "name"));
PB_MESSAGE(schedgate, "PodSchedulingGate", P_STR(1, "name"));
PB_MESSAGE(claimsource, "ClaimSource",
    P_STRK(1, "resourceClaimName"), P_STRK(2, "resourceClaimTemplateName"));
PB_MESSAGE(podclaim, "PodResourceClaim",
    P_STR(1, "name"), P_OBJ(2, "source", claimsource), P_STRK(3, "resourceClaimName"),
    P_STRK(4, "resourceClaimTemplateName"));

PB_MESSAGE_SHARED(api_pb_podspec, "PodSpec",
    P_AOBJ(1, "volumes", volume), P_AOBJ(2, "containers", container),
    P_STR(3, "restartPolicy"), P_INTK(4, "terminationGracePeriodSeconds"),
    P_INTK(5, "activeDeadlineSeconds"), P_STR(6, "dnsPolicy"), P_MSTR(7, "nodeSelector"),
    P_STR(8, "serviceAccountName"), P_STR(9, "serviceAccount"), P_STR(10, "nodeName"),
    P_BOOL(11, "hostNetwork"), P_BOOL(12, "hostPID"), P_BOOL(13, "hostIPC"),
    P_OBJ(14, "securityContext", podsecctx), P_AOBJ(15, "imagePullSecrets", api_pb_localref),
    P_STR(16, "hostname"), P_STR(17, "subdomain"), P_OBJ(18, "affinity", affinity),
    P_STR(19, "schedulerName"), P_AOBJ(20, "initContainers", container),
    P_BOOLK(21, "automountServiceAccountToken"), P_AOBJ(22, "tolerations", toleration),
    P_AOBJ(23, "hostAliases", hostalias), P_STR(24, "priorityClassName"),
    P_INTK(25, "priority"), P_OBJ(26, "dnsConfig", dnsconfig),
    P_BOOLK(27, "shareProcessNamespace"), P_AOBJ(28, "readinessGates", readinessgate),
    P_STRK(29, "runtimeClassName"), P_BOOLK(30, "enableServiceLinks"),
    P_STRK(31, "preemptionPolicy"), P_MQTY(32, "overhead"),
    P_AOBJ(33, "topologySpreadConstraints", spread),
    P_AOBJ(34, "ephemeralContainers", ephcontainer), P_BOOLK(35, "setHostnameAsFQDN"),
    P_OBJ(36, "os", podos), P_BOOLK(37, "hostUsers"), P_AOBJ(38, "schedulingGates", schedgate),
    P_AOBJ(39, "resourceClaims", podclaim), P_OBJ(40, "resources", resources));

PB_MESSAGE_SHARED(api_pb_podtemplatespec, "PodTemplateSpec",
    P_OBJ(1, "metadata", api_pb_objectmeta), P_OBJ(2, "spec", api_pb_podspec));

/* The status a typed client sends back after a Get; the allocated
 * resources' health (ResourceStatus) is not decoded. */
PB_MESSAGE(podcond, "PodCondition",
    P_STR(1, "type"), P_STR(2, "status"), P_TIME(3, "lastProbeTime"),
    P_TIME(4, "lastTransitionTime"), P_STR(5, "reason"), P_STR(6, "message"),
    P_INT(7, "observedGeneration"));
PB_MESSAGE(podip, "PodIP", P_STR(1, "ip"));
PB_MESSAGE(cwaiting, "ContainerStateWaiting", P_STR(1, "reason"), P_STR(2, "message"));
PB_MESSAGE(crunning, "ContainerStateRunning", P_TIME(1, "startedAt"));
PB_MESSAGE(cterminated, "ContainerStateTerminated",
    P_INTK(1, "exitCode"), P_INT(2, "signal"), P_STR(3, "reason"), P_STR(4, "message"),
    P_TIME(5, "startedAt"), P_TIME(6, "finishedAt"), P_STR(7, "containerID"));
PB_MESSAGE(cstate, "ContainerState",
    P_OBJ(1, "waiting", cwaiting), P_OBJ(2, "running", crunning),
    P_OBJ(3, "terminated", cterminated));
PB_MESSAGE(vmountstatus, "VolumeMountStatus",
    P_STR(1, "name"), P_STR(2, "mountPath"), P_BOOL(3, "readOnly"),
    P_STRK(4, "recursiveReadOnly"));
PB_MESSAGE(linuxuser, "LinuxContainerUser",
    P_INTK(1, "uid"), P_INTK(2, "gid"), P_AINT(3, "supplementalGroups"));
PB_MESSAGE(cuser, "ContainerUser", P_OBJ(1, "linux", linuxuser));
PB_MESSAGE(cstatus, "ContainerStatus",
    P_STR(1, "name"), P_OBJ(2, "state", cstate), P_OBJ(3, "lastState", cstate),
    P_BOOLK(4, "ready"), P_INTK(5, "restartCount"), P_STRK(6, "image"), P_STRK(7, "imageID"),
    P_STR(8, "containerID"), P_BOOLK(9, "started"), P_MQTY(10, "allocatedResources"),
    P_OBJ(11, "resources", resources), P_AOBJ(12, "volumeMounts", vmountstatus),
    P_OBJ(13, "user", cuser), P_STRK(15, "stopSignal"));
PB_MESSAGE(claimstatus, "PodResourceClaimStatus",
    P_STR(1, "name"), P_STRK(2, "resourceClaimName"));
PB_MESSAGE(podstatus, "PodStatus",
    P_STR(1, "phase"), P_AOBJ(2, "conditions", podcond), P_STR(3, "message"),
    P_STR(4, "reason"), P_STR(5, "hostIP"), P_STR(6, "podIP"), P_TIME(7, "startTime"),
    P_AOBJ(8, "containerStatuses", cstatus), P_STR(9, "qosClass"),
    P_AOBJ(10, "initContainerStatuses", cstatus), P_STR(11, "nominatedNodeName"),
    P_AOBJ(12, "podIPs", podip), P_AOBJ(13, "ephemeralContainerStatuses", cstatus),
    P_STR(14, "resize"), P_AOBJ(15, "resourceClaimStatuses", claimstatus),
    P_AOBJ(16, "hostIPs", podip), P_INT(17, "observedGeneration"),
    P_MQTY(19, "allocatedResources"), P_OBJ(20, "resources", resources));

PB_MESSAGE_SHARED(api_pb_pod, "Pod",
    P_OBJ(1, "metadata", api_pb_objectmeta), P_OBJ(2, "spec", api_pb_podspec),
    P_OBJ(3, "status", podstatus));
