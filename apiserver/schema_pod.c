/* schema_pod.c — field tables for Pod and everything inside a PodSpec
 * (containers, probes, volumes, affinity...), shared by every pod template. */
#include "apiserver/schema.h"

/* ---- env ---- */

API_STRUCT(cmkeysel, "ConfigMapKeySelector", F_STR("name"), F_STR_R("key"), F_BOOL("optional"));
API_STRUCT(seckeysel, "SecretKeySelector", F_STR("name"), F_STR_R("key"), F_BOOL("optional"));
API_STRUCT(fieldsel, "ObjectFieldSelector", F_STR("apiVersion"), F_STR_R("fieldPath"));
API_STRUCT(resfieldsel, "ResourceFieldSelector",
    F_STR("containerName"), F_STR_R("resource"), F_QTY("divisor"));

API_STRUCT(envsource, "EnvVarSource",
    F_OBJ("fieldRef", fieldsel), F_OBJ("resourceFieldRef", resfieldsel),
    F_OBJ("configMapKeyRef", cmkeysel), F_OBJ("secretKeyRef", seckeysel));
API_STRUCT(envvar, "EnvVar", F_STR_R("name"), F_STR("value"), F_OBJ("valueFrom", envsource));

API_STRUCT(cmenvsrc, "ConfigMapEnvSource", F_STR("name"), F_BOOL("optional"));
API_STRUCT(secenvsrc, "SecretEnvSource", F_STR("name"), F_BOOL("optional"));
API_STRUCT(envfrom, "EnvFromSource",
    F_STR("prefix"), F_OBJ("configMapRef", cmenvsrc), F_OBJ("secretRef", secenvsrc));

/* ---- container pieces ---- */

API_STRUCT(cport, "ContainerPort",
    F_STR("name"), F_INT32("hostPort"), F_INT32("containerPort"), F_STR("protocol"),
    F_STR("hostIP"));

API_STRUCT(resclaim, "ResourceClaim", F_STR_R("name"), F_STR("request"));
API_STRUCT(resources, "ResourceRequirements",
    F_MQTY("limits"), F_MQTY("requests"), F_AOBJ("claims", resclaim));
API_STRUCT(resizepolicy, "ContainerResizePolicy",
    F_STR_R("resourceName"), F_STR_R("restartPolicy"));

API_STRUCT(vmount, "VolumeMount",
    F_STR_R("name"), F_BOOL("readOnly"), F_STR("recursiveReadOnly"), F_STR("mountPath"),
    F_STR("subPath"), F_STR("mountPropagation"), F_STR("subPathExpr"));
API_STRUCT(vdevice, "VolumeDevice", F_STR_R("name"), F_STR_R("devicePath"));

API_STRUCT(execaction, "ExecAction", F_ASTR("command"));
API_STRUCT(httpheader, "HTTPHeader", F_STR_R("name"), F_STR("value"));
API_STRUCT(httpget, "HTTPGetAction",
    F_STR("path"), F_INTSTR("port"), F_STR("host"), F_STR("scheme"),
    F_AOBJ("httpHeaders", httpheader));
API_STRUCT(tcpsocket, "TCPSocketAction", F_INTSTR("port"), F_STR("host"));
API_STRUCT(grpcaction, "GRPCAction", F_INT32("port"), F_STR("service"));
API_STRUCT(sleepaction, "SleepAction", F_INT("seconds"));

API_STRUCT(probe, "Probe",
    F_OBJ("exec", execaction), F_OBJ("httpGet", httpget), F_OBJ("tcpSocket", tcpsocket),
    F_OBJ("grpc", grpcaction), F_INT32("initialDelaySeconds"), F_INT32("timeoutSeconds"),
    F_INT32("periodSeconds"), F_INT32("successThreshold"), F_INT32("failureThreshold"),
    F_INT("terminationGracePeriodSeconds"));

API_STRUCT(handler, "LifecycleHandler",
    F_OBJ("exec", execaction), F_OBJ("httpGet", httpget), F_OBJ("tcpSocket", tcpsocket),
    F_OBJ("sleep", sleepaction));
API_STRUCT(lifecycle, "Lifecycle",
    F_OBJ("postStart", handler), F_OBJ("preStop", handler), F_STR("stopSignal"));

/* ---- security ---- */

API_STRUCT(capabilities, "Capabilities", F_ASTR("add"), F_ASTR("drop"));
API_STRUCT(selinux, "SELinuxOptions", F_STR("user"), F_STR("role"), F_STR("type"), F_STR("level"));
API_STRUCT(winopts, "WindowsSecurityContextOptions",
    F_STR("gmsaCredentialSpecName"), F_STR("gmsaCredentialSpec"), F_STR("runAsUserName"),
    F_BOOL("hostProcess"));
API_STRUCT(seccomp, "SeccompProfile", F_STR_R("type"), F_STR("localhostProfile"));
API_STRUCT(apparmor, "AppArmorProfile", F_STR_R("type"), F_STR("localhostProfile"));

API_STRUCT(secctx, "SecurityContext",
    F_OBJ("capabilities", capabilities), F_BOOL("privileged"), F_OBJ("seLinuxOptions", selinux),
    F_OBJ("windowsOptions", winopts), F_INT("runAsUser"), F_INT("runAsGroup"),
    F_BOOL("runAsNonRoot"), F_BOOL("readOnlyRootFilesystem"),
    F_BOOL("allowPrivilegeEscalation"), F_STR("procMount"), F_OBJ("seccompProfile", seccomp),
    F_OBJ("appArmorProfile", apparmor));

API_STRUCT(sysctl, "Sysctl", F_STR_R("name"), F_STR("value"));
API_STRUCT(podsecctx, "PodSecurityContext",
    F_OBJ("seLinuxOptions", selinux), F_OBJ("windowsOptions", winopts), F_INT("runAsUser"),
    F_INT("runAsGroup"), F_BOOL("runAsNonRoot"), F_AINT("supplementalGroups"),
    F_STR("supplementalGroupsPolicy"), F_INT("fsGroup"), F_AOBJ("sysctls", sysctl),
    F_STR("fsGroupChangePolicy"), F_OBJ("seccompProfile", seccomp),
    F_OBJ("appArmorProfile", apparmor), F_STR("seLinuxChangePolicy"));

/* ---- container ---- */

API_STRUCT(container, "Container",
    F_STR_R("name"), F_STR_R("image"), F_ASTR("command"), F_ASTR("args"), F_STR("workingDir"),
    F_AOBJ_MERGE("ports", cport, "containerPort"), F_AOBJ("envFrom", envfrom),
    F_AOBJ_MERGE("env", envvar, "name"),
    F_OBJ("resources", resources), F_AOBJ("resizePolicy", resizepolicy),
    F_STR("restartPolicy"), F_AOBJ_MERGE("volumeMounts", vmount, "mountPath"),
    F_AOBJ_MERGE("volumeDevices", vdevice, "devicePath"),
    F_OBJ("livenessProbe", probe), F_OBJ("readinessProbe", probe),
    F_OBJ("startupProbe", probe), F_OBJ("lifecycle", lifecycle),
    F_STR("terminationMessagePath"), F_STR("terminationMessagePolicy"),
    F_STR("imagePullPolicy"), F_OBJ("securityContext", secctx), F_BOOL("stdin"),
    F_BOOL("stdinOnce"), F_BOOL("tty"));

/* ---- volumes ---- */

API_STRUCT(keytopath, "KeyToPath", F_STR_R("key"), F_STR_R("path"), F_INT32("mode"));
API_STRUCT(hostpath, "HostPathVolumeSource", F_STR("path"), F_STR("type"));
API_STRUCT(emptydir, "EmptyDirVolumeSource", F_STR("medium"), F_QTY("sizeLimit"));
API_STRUCT(secretvol, "SecretVolumeSource",
    F_STR("secretName"), F_AOBJ("items", keytopath), F_INT32("defaultMode"), F_BOOL("optional"));
API_STRUCT(cmvol, "ConfigMapVolumeSource",
    F_STR("name"), F_AOBJ("items", keytopath), F_INT32("defaultMode"), F_BOOL("optional"));
API_STRUCT(pvcvol, "PersistentVolumeClaimVolumeSource", F_STR_R("claimName"), F_BOOL("readOnly"));
API_STRUCT(dapifile, "DownwardAPIVolumeFile",
    F_STR_R("path"), F_OBJ("fieldRef", fieldsel), F_OBJ("resourceFieldRef", resfieldsel),
    F_INT32("mode"));
API_STRUCT(dapivol, "DownwardAPIVolumeSource", F_AOBJ("items", dapifile), F_INT32("defaultMode"));
API_STRUCT(dapiproj, "DownwardAPIProjection", F_AOBJ("items", dapifile));
API_STRUCT(secretproj, "SecretProjection",
    F_STR("name"), F_AOBJ("items", keytopath), F_BOOL("optional"));
API_STRUCT(cmproj, "ConfigMapProjection",
    F_STR("name"), F_AOBJ("items", keytopath), F_BOOL("optional"));
API_STRUCT(satokenproj, "ServiceAccountTokenProjection",
    F_STR("audience"), F_INT("expirationSeconds"), F_STR_R("path"));
API_STRUCT(ctbproj, "ClusterTrustBundleProjection",
    F_STR("name"), F_STR("signerName"), F_OBJ("labelSelector", api_s_labelselector),
    F_BOOL("optional"), F_STR_R("path"));
API_STRUCT(volproj, "VolumeProjection",
    F_OBJ("secret", secretproj), F_OBJ("downwardAPI", dapiproj), F_OBJ("configMap", cmproj),
    F_OBJ("serviceAccountToken", satokenproj), F_OBJ("clusterTrustBundle", ctbproj));
API_STRUCT(projected, "ProjectedVolumeSource", F_AOBJ("sources", volproj), F_INT32("defaultMode"));
API_STRUCT(nfs, "NFSVolumeSource", F_STR_R("server"), F_STR_R("path"), F_BOOL("readOnly"));
API_STRUCT(localref, "LocalObjectReference", F_STR("name"));
API_STRUCT(csi, "CSIVolumeSource",
    F_STR_R("driver"), F_BOOL("readOnly"), F_STR("fsType"), F_MSTR("volumeAttributes"),
    F_OBJ("nodePublishSecretRef", localref));
API_STRUCT(ephemeral, "EphemeralVolumeSource", F_FREEOBJ("volumeClaimTemplate"));
API_STRUCT(imagevol, "ImageVolumeSource", F_STR("reference"), F_STR("pullPolicy"));

/* The in-tree cloud and network sources are known by name only: orc will not
 * mount them, and each is listed as NOT_IMPLEMENTED. */
API_STRUCT(volume, "Volume",
    F_STR_R("name"), F_OBJ("hostPath", hostpath), F_OBJ("emptyDir", emptydir),
    F_OBJ("secret", secretvol), F_OBJ("configMap", cmvol),
    F_OBJ("persistentVolumeClaim", pvcvol), F_OBJ("downwardAPI", dapivol),
    F_OBJ("projected", projected), F_OBJ("nfs", nfs), F_OBJ("csi", csi),
    F_OBJ("ephemeral", ephemeral), F_OBJ("image", imagevol),
    F_FREEOBJ("gcePersistentDisk"), F_FREEOBJ("awsElasticBlockStore"), F_FREEOBJ("gitRepo"),
    F_FREEOBJ("iscsi"), F_FREEOBJ("glusterfs"), F_FREEOBJ("rbd"), F_FREEOBJ("flexVolume"),
    F_FREEOBJ("cinder"), F_FREEOBJ("cephfs"), F_FREEOBJ("flocker"), F_FREEOBJ("fc"),
    F_FREEOBJ("azureFile"), F_FREEOBJ("vsphereVolume"), F_FREEOBJ("quobyte"),
    F_FREEOBJ("azureDisk"), F_FREEOBJ("photonPersistentDisk"), F_FREEOBJ("portworxVolume"),
    F_FREEOBJ("scaleIO"), F_FREEOBJ("storageos"));

/* ---- scheduling ---- */

API_STRUCT(nsreq, "NodeSelectorRequirement",
    F_STR_R("key"), F_STR_R("operator"), F_ASTR("values"));
API_STRUCT(nsterm, "NodeSelectorTerm",
    F_AOBJ("matchExpressions", nsreq), F_AOBJ("matchFields", nsreq));
API_STRUCT_SHARED(api_s_nodeselector, "NodeSelector", F_AOBJ("nodeSelectorTerms", nsterm));
API_STRUCT(prefterm, "PreferredSchedulingTerm", F_INT32("weight"), F_OBJ_R("preference", nsterm));
API_STRUCT(nodeaff, "NodeAffinity",
    F_OBJ("requiredDuringSchedulingIgnoredDuringExecution", api_s_nodeselector),
    F_AOBJ("preferredDuringSchedulingIgnoredDuringExecution", prefterm));

API_STRUCT(podaffterm, "PodAffinityTerm",
    F_OBJ("labelSelector", api_s_labelselector), F_ASTR("namespaces"), F_STR_R("topologyKey"),
    F_OBJ("namespaceSelector", api_s_labelselector), F_ASTR("matchLabelKeys"),
    F_ASTR("mismatchLabelKeys"));
API_STRUCT(wpodaffterm, "WeightedPodAffinityTerm",
    F_INT32("weight"), F_OBJ_R("podAffinityTerm", podaffterm));
API_STRUCT(podaff, "PodAffinity",
    F_AOBJ("requiredDuringSchedulingIgnoredDuringExecution", podaffterm),
    F_AOBJ("preferredDuringSchedulingIgnoredDuringExecution", wpodaffterm));
API_STRUCT(podantiaff, "PodAntiAffinity",
    F_AOBJ("requiredDuringSchedulingIgnoredDuringExecution", podaffterm),
    F_AOBJ("preferredDuringSchedulingIgnoredDuringExecution", wpodaffterm));
API_STRUCT(affinity, "Affinity",
    F_OBJ("nodeAffinity", nodeaff), F_OBJ("podAffinity", podaff),
    F_OBJ("podAntiAffinity", podantiaff));

API_STRUCT(toleration, "Toleration",
    F_STR("key"), F_STR("operator"), F_STR("value"), F_STR("effect"),
    F_INT("tolerationSeconds"));

API_STRUCT(spread, "TopologySpreadConstraint",
    F_INT32("maxSkew"), F_STR_R("topologyKey"), F_STR_R("whenUnsatisfiable"),
    F_OBJ("labelSelector", api_s_labelselector), F_INT32("minDomains"),
    F_STR("nodeAffinityPolicy"), F_STR("nodeTaintsPolicy"), F_ASTR("matchLabelKeys"));

/* ---- the rest of PodSpec ---- */

API_STRUCT(hostalias, "HostAlias", F_STR_R("ip"), F_ASTR("hostnames"));
API_STRUCT(dnsoption, "PodDNSConfigOption", F_STR("name"), F_STR("value"));
API_STRUCT(dnsconfig, "PodDNSConfig",
    F_ASTR("nameservers"), F_ASTR("searches"), F_AOBJ("options", dnsoption));
API_STRUCT(readinessgate, "PodReadinessGate", F_STR_R("conditionType"));
API_STRUCT(podos, "PodOS", F_STR_R("name"));
API_STRUCT(schedgate, "PodSchedulingGate", F_STR_R("name"));
API_STRUCT(claimsource, "ClaimSource",
    F_STR("resourceClaimName"), F_STR("resourceClaimTemplateName"));
API_STRUCT(podclaim, "PodResourceClaim",
    F_STR_R("name"), F_OBJ("source", claimsource), F_STR("resourceClaimName"),
    F_STR("resourceClaimTemplateName"));

API_STRUCT_SHARED(api_s_podspec, "PodSpec",
    F_AOBJ_MERGE_RETAIN("volumes", volume, "name"),
    F_AOBJ_MERGE("initContainers", container, "name"), F_AOBJ_MERGE("containers", container, "name"),
    F_AFREE_MERGE_AS("ephemeralContainers", container, "name"), F_STR("restartPolicy"),
    F_INT("terminationGracePeriodSeconds"), F_INT("activeDeadlineSeconds"), F_STR("dnsPolicy"),
    F_MSTR("nodeSelector"), F_STR("serviceAccountName"), F_STR("serviceAccount"),
    F_BOOL("automountServiceAccountToken"), F_STR("nodeName"), F_BOOL("hostNetwork"),
    F_BOOL("hostPID"), F_BOOL("hostIPC"), F_BOOL("shareProcessNamespace"),
    F_OBJ("securityContext", podsecctx), F_AOBJ_MERGE("imagePullSecrets", localref, "name"),
    F_STR("hostname"), F_STR("subdomain"), F_OBJ("affinity", affinity),
    F_STR("schedulerName"), F_AOBJ("tolerations", toleration),
    F_AOBJ_MERGE("hostAliases", hostalias, "ip"), F_STR("priorityClassName"), F_INT32("priority"),
    F_OBJ("dnsConfig", dnsconfig), F_AOBJ("readinessGates", readinessgate),
    F_STR("runtimeClassName"), F_BOOL("enableServiceLinks"), F_STR("preemptionPolicy"),
    F_MQTY("overhead"), F_AOBJ_MERGE("topologySpreadConstraints", spread, "topologyKey"),
    F_BOOL("setHostnameAsFQDN"), F_OBJ("os", podos), F_BOOL("hostUsers"),
    F_AOBJ_MERGE("schedulingGates", schedgate, "name"),
    F_AOBJ_MERGE_RETAIN("resourceClaims", podclaim, "name"),
    F_OBJ("resources", resources));

API_STRUCT_SHARED(api_s_podtemplatespec, "PodTemplateSpec",
    F_OBJ("metadata", api_s_objectmeta), F_OBJ("spec", api_s_podspec));

/* The status is not checked; its merging lists are Kubernetes'. Each list
 * and map is named all the same: kubectl's patch of a status change looks
 * them up in the OpenAPI document. */
API_STRUCT(podstatus, "PodStatus",
    F_INT("observedGeneration"), F_STR("phase"), F_AFREE_MERGE("conditions", "type"),
    F_STR("message"), F_STR("reason"), F_STR("nominatedNodeName"), F_STR("hostIP"),
    F_AFREE_MERGE("hostIPs", "ip"), F_STR("podIP"), F_AFREE_MERGE("podIPs", "ip"),
    F_TIME("startTime"), F_AFREE("initContainerStatuses"), F_AFREE("containerStatuses"),
    F_STR("qosClass"), F_AFREE("ephemeralContainerStatuses"), F_STR("resize"),
    F_AFREE_MERGE_RETAIN("resourceClaimStatuses", "name"));

API_STRUCT_SHARED(api_s_pod, "Pod",
    F_TYPEMETA, F_OBJ("spec", api_s_podspec), F_FREE_PATCHED("status", podstatus));
