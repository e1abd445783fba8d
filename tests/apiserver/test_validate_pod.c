/* test_validate_pod.c — Pods: a realistic manifest passes clean and gets
 * Kubernetes' defaults; each PodSpec rule rejects with the right field and
 * message; pod updates may only change images, deadlines and tolerations. */
#include "tests/apiserver/vt.h"

static const char *const pod_json =
    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'web','namespace':'default',"
    " 'labels':{'app':'web','app.kubernetes.io/part-of':'shop'},"
    " 'annotations':{'example.com/owner':'team-a'}},"
    "'spec':{"
    " 'initContainers':[{'name':'init','image':'busybox','command':['sh','-c','echo hi']}],"
    " 'containers':[{'name':'nginx','image':'nginx:1.14.2',"
    "  'ports':[{'containerPort':80,'name':'http'}],"
    "  'env':[{'name':'MODE','value':'prod'},"
    "   {'name':'POD_NAME','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}},"
    "   {'name':'DB_PASS','valueFrom':{'secretKeyRef':{'name':'db','key':'password'}}},"
    "   {'name':'CFG','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'mode'}}},"
    "   {'name':'CPU','valueFrom':{'resourceFieldRef':{'resource':'limits.cpu'}}}],"
    "  'envFrom':[{'configMapRef':{'name':'cfg'}},{'prefix':'DB_','secretRef':{'name':'db'}}],"
    "  'resources':{'requests':{'cpu':'250m','memory':'64Mi'},'limits':{'cpu':'500m','memory':'128Mi'}},"
    "  'volumeMounts':[{'name':'data','mountPath':'/data'},"
    "   {'name':'config','mountPath':'/etc/app','readOnly':true}],"
    "  'livenessProbe':{'httpGet':{'path':'/healthz','port':'http'},'initialDelaySeconds':3,"
    "   'periodSeconds':3},"
    "  'readinessProbe':{'tcpSocket':{'port':80}},"
    "  'startupProbe':{'exec':{'command':['cat','/tmp/ready']},'failureThreshold':30},"
    "  'lifecycle':{'preStop':{'exec':{'command':['/bin/sh','-c','nginx -s quit']}}},"
    "  'securityContext':{'runAsNonRoot':true,'capabilities':{'drop':['ALL']}}}],"
    " 'volumes':[{'name':'data','emptyDir':{}},{'name':'config','configMap':{'name':'cfg'}},"
    "  {'name':'logs','hostPath':{'path':'/var/log'}},{'name':'creds','secret':{'secretName':'db'}}],"
    " 'nodeSelector':{'disktype':'ssd'},"
    " 'tolerations':[{'key':'dedicated','operator':'Equal','value':'web','effect':'NoSchedule'}],"
    " 'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
    "  {'nodeSelectorTerms':[{'matchExpressions':[{'key':'kubernetes.io/os','operator':'In',"
    "   'values':['linux']}]}]}}}}}";

static json_t *pod(void)
{
    return vt_json(pod_json);
}

TEST(pod_valid_manifest_is_clean)
{
    struct vt v;
    vt_run(&v, "Pod", pod(), NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(pod_defaults)
{
    struct vt v;
    vt_run(&v, "Pod", pod(), NULL);
    json_t *o = v.obj;
    VT_STR(o, "spec.restartPolicy", "Always");
    VT_STR(o, "spec.dnsPolicy", "ClusterFirst");
    VT_STR(o, "spec.schedulerName", "default-scheduler");
    VT_INT(o, "spec.terminationGracePeriodSeconds", 30);
    CHECK(json_is_object(vt_get(o, "spec.securityContext")));
    VT_STR(o, "spec.containers[0].imagePullPolicy", "IfNotPresent");
    VT_STR(o, "spec.initContainers[0].imagePullPolicy", "Always");
    VT_STR(o, "spec.containers[0].terminationMessagePath", "/dev/termination-log");
    VT_STR(o, "spec.containers[0].terminationMessagePolicy", "File");
    VT_STR(o, "spec.initContainers[0].terminationMessagePolicy", "File");
    VT_STR(o, "spec.containers[0].ports[0].protocol", "TCP");
    VT_INT(o, "spec.containers[0].livenessProbe.timeoutSeconds", 1);
    VT_INT(o, "spec.containers[0].livenessProbe.periodSeconds", 3);
    VT_INT(o, "spec.containers[0].livenessProbe.successThreshold", 1);
    VT_INT(o, "spec.containers[0].livenessProbe.failureThreshold", 3);
    VT_STR(o, "spec.containers[0].livenessProbe.httpGet.scheme", "HTTP");
    VT_INT(o, "spec.containers[0].readinessProbe.periodSeconds", 10);
    VT_INT(o, "spec.containers[0].startupProbe.failureThreshold", 30);
    VT_STR(o, "spec.containers[0].env[1].valueFrom.fieldRef.apiVersion", "v1");
    VT_INT(o, "spec.volumes[1].configMap.defaultMode", 420);
    VT_INT(o, "spec.volumes[3].secret.defaultMode", 420);
    VT_STR(o, "spec.volumes[2].hostPath.type", "");
    vt_free(&v);
}

TEST(pod_requests_default_to_limits)
{
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.containers[0].resources", "{'limits':{'cpu':'1','memory':'1Gi'},'requests':{'cpu':'100m'}}");
    vt_run(&v, "Pod", o, NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, "spec.containers[0].resources.requests.cpu", "100m");
    VT_STR(v.obj, "spec.containers[0].resources.requests.memory", "1Gi");
    vt_free(&v);
}

TEST(pod_zero_probe_fields_get_defaults)
{
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.containers[0].readinessProbe.periodSeconds", "0");
    vt_setj(o, "spec.containers[0].readinessProbe.timeoutSeconds", "0");
    vt_run(&v, "Pod", o, NULL);
    VT_CLEAN(&v);
    VT_INT(v.obj, "spec.containers[0].readinessProbe.periodSeconds", 10);
    VT_INT(v.obj, "spec.containers[0].readinessProbe.timeoutSeconds", 1);
    vt_free(&v);
}

static void pull_policy(const char *image, const char *want)
{
    struct vt v;
    json_t *o = pod();
    vt_set(o, "spec.containers[0].image", json_string(image));
    vt_run(&v, "Pod", o, NULL);
    CHECK_STR(json_string_value(vt_get(v.obj, "spec.containers[0].imagePullPolicy")), want);
    vt_free(&v);
}

TEST(pod_image_pull_policy_defaults)
{
    pull_policy("nginx", "Always");
    pull_policy("nginx:latest", "Always");
    pull_policy("nginx:1.25", "IfNotPresent");
    pull_policy("localhost:5000/app", "Always");
    pull_policy("localhost:5000/app:v1", "IfNotPresent");
    pull_policy("ghcr.io/org/app@sha256:0123456789abcdef", "IfNotPresent");
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.containers[0].imagePullPolicy", "'Never'");
    vt_run(&v, "Pod", o, NULL);
    VT_STR(v.obj, "spec.containers[0].imagePullPolicy", "Never");
    vt_free(&v);
}

TEST(pod_typo_field_is_pruned_with_warning)
{
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.containers[0].imagee", "'nginx'");
    vt_setj(o, "spec.restartPolicyy", "'Never'");
    vt_run(&v, "Pod", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    VT_WARNING(&v, "unknown field \"spec.containers[0].imagee\"");
    VT_WARNING(&v, "unknown field \"spec.restartPolicyy\"");
    CHECK(vt_get(v.obj, "spec.containers[0].imagee") == NULL);
    CHECK(vt_get(v.obj, "spec.restartPolicyy") == NULL);
    VT_STR(v.obj, "spec.restartPolicy", "Always");
    vt_free(&v);
}

TEST(pod_not_implemented_fields_warn_and_stay)
{
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.affinity.podAntiAffinity",
            "{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':{'matchLabels':"
            "{'app':'web'}},'topologyKey':'kubernetes.io/hostname'}]}");
    vt_setj(o, "spec.containers[0].livenessProbe", "{'grpc':{'port':9000}}");
    vt_setj(o, "spec.readinessGates", "[{'conditionType':'example.com/ready'}]");
    vt_setj(o, "spec.volumes[4]", "{'name':'share','nfs':{'server':'nfs.local','path':'/x'}}");
    vt_setj(o, "spec.hostPID", "true");
    vt_setj(o, "spec.priorityClassName", "'high'");
    vt_run(&v, "Pod", o, NULL);
    CHECK_INT(json_array_size(v.d.causes), ==, 0);
    VT_WARNING(&v, "spec.containers[0].livenessProbe.grpc: not implemented by orc yet; stored but has no effect");
    VT_WARNING(&v, "spec.readinessGates: not implemented by orc yet; stored but has no effect");
    VT_WARNING(&v, "spec.volumes[4].nfs: not implemented by orc yet; stored but has no effect");
    VT_WARNING(&v, "spec.hostPID: not implemented by orc yet; stored but has no effect");
    CHECK(vt_get(v.obj, "spec.affinity.podAntiAffinity") != NULL);
    CHECK(vt_get(v.obj, "spec.containers[0].livenessProbe.grpc") != NULL);
    vt_free(&v);
}

TEST(pod_default_valued_not_implemented_fields_are_quiet)
{
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.serviceAccountName", "'default'");
    vt_setj(o, "spec.hostPID", "false");
    vt_setj(o, "spec.hostIPC", "false");
    vt_setj(o, "spec.topologySpreadConstraints", "[]");
    vt_run(&v, "Pod", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

#define C0 "spec.containers[0]"

TEST(pod_rules_containers)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, "spec.containers", NULL, "spec.containers", "Required value");
    VT_EXPECT("Pod", b, "spec.containers", "[]", "spec.containers", "Required value");
    VT_EXPECT("Pod", b, C0 ".name", "'Web'", C0 ".name",
              "Invalid value: \"Web\": a lowercase RFC 1123 label must consist of");
    VT_EXPECT("Pod", b, C0 ".name", NULL, C0 ".name", "Required value");
    VT_EXPECT("Pod", b, "spec.initContainers[0].name", "'nginx'", C0 ".name",
              "Duplicate value: \"nginx\"");
    VT_EXPECT("Pod", b, "spec.containers[1]", "{'name':'nginx','image':'x'}",
              "spec.containers[1].name", "Duplicate value: \"nginx\"");
    VT_EXPECT("Pod", b, C0 ".image", NULL, C0 ".image", "Required value");
    VT_EXPECT("Pod", b, C0 ".image", "''", C0 ".image", "Required value");
    VT_EXPECT("Pod", b, C0 ".image", "' nginx'", C0 ".image",
              "Invalid value: \" nginx\": must not have leading or trailing whitespace");
    VT_EXPECT("Pod", b, C0 ".imagePullPolicy", "'Sometimes'", C0 ".imagePullPolicy",
              "Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"");
    VT_EXPECT("Pod", b, C0 ".terminationMessagePolicy", "'Log'", C0 ".terminationMessagePolicy",
              "Unsupported value: \"Log\": supported values: \"File\", \"FallbackToLogsOnError\"");
    json_decref(b);
}

TEST(pod_rules_ports)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, C0 ".ports[0].containerPort", "70000", C0 ".ports[0].containerPort",
              "Invalid value: 70000: must be between 1 and 65535, inclusive");
    VT_EXPECT("Pod", b, C0 ".ports[0].containerPort", "0", C0 ".ports[0].containerPort",
              "Invalid value: 0: must be between 1 and 65535, inclusive");
    VT_EXPECT("Pod", b, C0 ".ports[0].containerPort", NULL, C0 ".ports[0].containerPort",
              "Required value");
    VT_EXPECT("Pod", b, C0 ".ports[0].hostPort", "65536", C0 ".ports[0].hostPort",
              "Invalid value: 65536: must be between 1 and 65535, inclusive");
    VT_EXPECT("Pod", b, C0 ".ports[0].protocol", "'HTTP'", C0 ".ports[0].protocol",
              "Unsupported value: \"HTTP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
    VT_EXPECT("Pod", b, C0 ".ports[0].name", "'Http'", C0 ".ports[0].name",
              "Invalid value: \"Http\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    VT_EXPECT("Pod", b, C0 ".ports[1]", "{'containerPort':81,'name':'http'}", C0 ".ports[1].name",
              "Duplicate value: \"http\"");
    json_t *hn = json_deep_copy(b);
    vt_setj(hn, "spec.hostNetwork", "true");
    VT_EXPECT("Pod", hn, C0 ".ports[0].hostPort", "8080", C0 ".ports[0].hostPort",
              "Invalid value: 8080: must match `containerPort` when `hostNetwork` is true");
    json_decref(hn);
    json_decref(b);
}

TEST(pod_rules_resources)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, C0 ".resources.limits.cpu", "'abc'", C0 ".resources.limits[cpu]",
              "Invalid value: \"abc\": quantities must match the regular expression");
    VT_EXPECT("Pod", b, C0 ".resources.requests.memory", "'-1Gi'", C0 ".resources.requests[memory]",
              "Invalid value: \"-1Gi\": must be greater than or equal to 0");
    VT_EXPECT("Pod", b, C0 ".resources.requests.cpu", "'1'", C0 ".resources.requests[cpu]",
              "Invalid value: \"1\": must be less than or equal to cpu limit of 500m");
    VT_EXPECT("Pod", b, C0 ".resources.requests.memory", "'1Gi'", C0 ".resources.requests[memory]",
              "Invalid value: \"1Gi\": must be less than or equal to memory limit of 128Mi");
    VT_EXPECT("Pod", b, C0 ".resources.limits.gpu", "'1'", C0 ".resources.limits[gpu]",
              "Invalid value: \"gpu\": must be a standard resource for containers");
    VT_EXPECT("Pod", b, C0 ".resources", "{'limits':{'example.com/gpu':'2'},'requests':{'example.com/gpu':'1'}}",
              C0 ".resources.requests[example.com/gpu]",
              "Invalid value: \"1\": must be equal to example.com/gpu limit of 2");
    json_decref(b);

    /* Accepted: extended resources equal, hugepages, ephemeral-storage, numbers. */
    struct vt v;
    json_t *o = pod();
    vt_setj(o, C0 ".resources", "{'limits':{'example.com/gpu':1,'hugepages-2Mi':'4Mi','cpu':2,"
                                "'ephemeral-storage':'1Gi'},'requests':{'cpu':0.5}}");
    vt_run(&v, "Pod", o, NULL);
    VT_CLEAN(&v);
    VT_STR(v.obj, C0 ".resources.limits.cpu", "2");
    VT_STR(v.obj, C0 ".resources.requests.cpu", "0.5");
    vt_free(&v);
}

TEST(pod_rules_env)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, C0 ".env[0].name", "'1BAD'", C0 ".env[0].name",
              "Invalid value: \"1BAD\": a valid environment variable name must consist of");
    VT_EXPECT("Pod", b, C0 ".env[0].name", NULL, C0 ".env[0].name", "Required value");
    VT_EXPECT("Pod", b, C0 ".env[1].valueFrom", "{}", C0 ".env[1].valueFrom",
              "Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, "
              "`configMapKeyRef` or `secretKeyRef`");
    VT_EXPECT("Pod", b, C0 ".env[1].valueFrom.secretKeyRef", "{'name':'s','key':'k'}",
              C0 ".env[1].valueFrom", "Invalid value: \"\": may not have more than one field "
              "specified at a time");
    VT_EXPECT("Pod", b, C0 ".env[1].value", "'x'", C0 ".env[1].valueFrom",
              "Invalid value: \"\": may not be specified when `value` is not empty");
    VT_EXPECT("Pod", b, C0 ".env[1].valueFrom.fieldRef.fieldPath", "'spec.foo'",
              C0 ".env[1].valueFrom.fieldRef.fieldPath", "Unsupported value: \"spec.foo\"");
    VT_EXPECT("Pod", b, C0 ".env[2].valueFrom.secretKeyRef.key", "'a/b'",
              C0 ".env[2].valueFrom.secretKeyRef.key", "Invalid value: \"a/b\": a valid config key");
    VT_EXPECT("Pod", b, C0 ".env[2].valueFrom.secretKeyRef.key", NULL,
              C0 ".env[2].valueFrom.secretKeyRef.key", "Required value");
    VT_EXPECT("Pod", b, C0 ".env[3].valueFrom.configMapKeyRef.name", NULL,
              C0 ".env[3].valueFrom.configMapKeyRef.name", "Required value");
    VT_EXPECT("Pod", b, C0 ".env[4].valueFrom.resourceFieldRef.resource", "'limits.gpu'",
              C0 ".env[4].valueFrom.resourceFieldRef.resource", "Unsupported value: \"limits.gpu\"");
    VT_EXPECT("Pod", b, C0 ".envFrom[0].secretRef", "{'name':'x'}", C0 ".envFrom[0]",
              "Invalid value: \"\": may not have more than one field specified at a time");
    VT_EXPECT("Pod", b, C0 ".envFrom[0]", "{'prefix':'X_'}", C0 ".envFrom[0]",
              "Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`");
    VT_EXPECT("Pod", b, C0 ".envFrom[1].prefix", "'9'", C0 ".envFrom[1].prefix",
              "Invalid value: \"9\": a valid environment variable name");
    json_decref(b);

    struct vt v;
    json_t *o = pod();
    vt_set(o, C0 ".env[1].valueFrom.fieldRef.fieldPath", json_string("metadata.labels['app']"));
    vt_run(&v, "Pod", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

TEST(pod_rules_volumes)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, "spec.volumes[1].name", "'data'", "spec.volumes[1].name",
              "Duplicate value: \"data\"");
    VT_EXPECT("Pod", b, "spec.volumes[0].name", "'Data_1'", "spec.volumes[0].name",
              "Invalid value: \"Data_1\": a lowercase RFC 1123 label");
    VT_EXPECT("Pod", b, "spec.volumes[0].name", NULL, "spec.volumes[0].name", "Required value");
    VT_EXPECT("Pod", b, "spec.volumes[0].emptyDir", NULL, "spec.volumes[0]",
              "Required value: must specify a volume type");
    VT_EXPECT("Pod", b, "spec.volumes[0].hostPath", "{'path':'/x'}", "spec.volumes[0].emptyDir",
              "Forbidden: may not specify more than 1 volume type");
    VT_EXPECT("Pod", b, "spec.volumes[2].hostPath.path", NULL, "spec.volumes[2].hostPath.path",
              "Required value");
    VT_EXPECT("Pod", b, "spec.volumes[2].hostPath.type", "'Dir'", "spec.volumes[2].hostPath.type",
              "Unsupported value: \"Dir\"");
    VT_EXPECT("Pod", b, "spec.volumes[3].secret.secretName", NULL,
              "spec.volumes[3].secret.secretName", "Required value");
    VT_EXPECT("Pod", b, "spec.volumes[1].configMap.name", NULL, "spec.volumes[1].configMap.name",
              "Required value");
    VT_EXPECT("Pod", b, "spec.volumes[1].configMap.defaultMode", "512",
              "spec.volumes[1].configMap.defaultMode",
              "Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive");
    VT_EXPECT("Pod", b, "spec.volumes[1].configMap.items", "[{'key':'a','path':'../x'}]",
              "spec.volumes[1].configMap.items[0].path", "Invalid value: \"../x\": must not contain '..'");
    VT_EXPECT("Pod", b, "spec.volumes[1].configMap.items", "[{'key':'a','path':'/x'}]",
              "spec.volumes[1].configMap.items[0].path", "Invalid value: \"/x\": must be a relative path");
    VT_EXPECT("Pod", b, "spec.volumes[0].emptyDir.medium", "'Disk'", "spec.volumes[0].emptyDir.medium",
              "Unsupported value: \"Disk\"");
    json_decref(b);
}

TEST(pod_rules_volume_mounts)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, C0 ".volumeMounts[0].name", "'nope'", C0 ".volumeMounts[0].name",
              "Not found: \"nope\"");
    VT_EXPECT("Pod", b, C0 ".volumeMounts[0].mountPath", "'data'", C0 ".volumeMounts[0].mountPath",
              "Invalid value: \"data\": must be an absolute path");
    VT_EXPECT("Pod", b, C0 ".volumeMounts[0].mountPath", NULL, C0 ".volumeMounts[0].mountPath",
              "Required value");
    VT_EXPECT("Pod", b, C0 ".volumeMounts[1].mountPath", "'/data'", C0 ".volumeMounts[1].mountPath",
              "Invalid value: \"/data\": must be unique");
    VT_EXPECT("Pod", b, C0 ".volumeMounts[0].subPath", "'a/../../b'", C0 ".volumeMounts[0].subPath",
              "Invalid value: \"a/../../b\": must not contain '..'");
    VT_EXPECT("Pod", b, C0 ".volumeMounts[0].mountPropagation", "'Shared'",
              C0 ".volumeMounts[0].mountPropagation", "Unsupported value: \"Shared\"");
    json_decref(b);
}

TEST(pod_rules_probes)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, C0 ".livenessProbe", "{'periodSeconds':5}", C0 ".livenessProbe",
              "Required value: must specify a handler type");
    VT_EXPECT("Pod", b, C0 ".readinessProbe.exec", "{'command':['true']}", C0 ".readinessProbe.tcpSocket",
              "Forbidden: may not specify more than 1 handler type");
    VT_EXPECT("Pod", b, C0 ".livenessProbe.periodSeconds", "-1", C0 ".livenessProbe.periodSeconds",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Pod", b, C0 ".livenessProbe.initialDelaySeconds", "-5",
              C0 ".livenessProbe.initialDelaySeconds", "Invalid value: -5: must be greater than or equal to 0");
    VT_EXPECT("Pod", b, C0 ".livenessProbe.successThreshold", "2", C0 ".livenessProbe.successThreshold",
              "Invalid value: 2: must be 1");
    VT_EXPECT("Pod", b, C0 ".livenessProbe.httpGet.port", "0", C0 ".livenessProbe.httpGet.port",
              "Invalid value: 0: must be between 1 and 65535, inclusive");
    VT_EXPECT("Pod", b, C0 ".livenessProbe.httpGet.port", NULL, C0 ".livenessProbe.httpGet.port",
              "Required value");
    VT_EXPECT("Pod", b, C0 ".livenessProbe.httpGet.scheme", "'FTP'", C0 ".livenessProbe.httpGet.scheme",
              "Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\"");
    VT_EXPECT("Pod", b, C0 ".readinessProbe.tcpSocket.port", "'web--port'",
              C0 ".readinessProbe.tcpSocket.port", "Invalid value: \"web--port\": must not contain consecutive hyphens");
    VT_EXPECT("Pod", b, C0 ".startupProbe.exec.command", "[]", C0 ".startupProbe.exec.command",
              "Required value");
    VT_EXPECT("Pod", b, C0 ".lifecycle.preStop", "{}", C0 ".lifecycle.preStop",
              "Required value: must specify a handler type");
    VT_EXPECT("Pod", b, "spec.initContainers[0].livenessProbe", "{'exec':{'command':['true']}}",
              "spec.initContainers[0].livenessProbe",
              "Forbidden: may not be set for init containers without restartPolicy=Always");
    json_decref(b);
}

TEST(pod_rules_spec_fields)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, "spec.restartPolicy", "'Sometimes'", "spec.restartPolicy",
              "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"");
    VT_EXPECT("Pod", b, "spec.dnsPolicy", "'Google'", "spec.dnsPolicy",
              "Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", "
              "\"ClusterFirst\", \"Default\", \"None\"");
    VT_EXPECT("Pod", b, "spec.dnsPolicy", "'None'", "spec.dnsConfig",
              "Required value: must provide `dnsConfig` when `dnsPolicy` is None");
    VT_EXPECT("Pod", b, "spec.terminationGracePeriodSeconds", "-1", "spec.terminationGracePeriodSeconds",
              "Invalid value: -1: must be greater than or equal to 0");
    VT_EXPECT("Pod", b, "spec.activeDeadlineSeconds", "0", "spec.activeDeadlineSeconds",
              "Invalid value: 0: must be between 1 and 2147483647, inclusive");
    VT_EXPECT("Pod", b, "spec.nodeSelector.disktype", "'ssd!'", "spec.nodeSelector",
              "Invalid value: \"ssd!\": a valid label must be");
    VT_EXPECT("Pod", b, "spec.hostname", "'Web_1'", "spec.hostname", "Invalid value: \"Web_1\"");
    VT_EXPECT("Pod", b, "spec.nodeName", "'Node 1'", "spec.nodeName", "Invalid value: \"Node 1\"");
    json_decref(b);
}

TEST(pod_rules_scheduling)
{
    json_t *b = pod();
    VT_EXPECT("Pod", b, "spec.tolerations[0].operator", "'Exists'", "spec.tolerations[0].operator",
              "Invalid value: \"web\": value must be empty when `operator` is 'Exists'");
    VT_EXPECT("Pod", b, "spec.tolerations[0].operator", "'Near'", "spec.tolerations[0].operator",
              "Unsupported value: \"Near\": supported values: \"Equal\", \"Exists\"");
    VT_EXPECT("Pod", b, "spec.tolerations[0].effect", "'Evict'", "spec.tolerations[0].effect",
              "Unsupported value: \"Evict\"");
    VT_EXPECT("Pod", b, "spec.tolerations[0].tolerationSeconds", "30", "spec.tolerations[0].effect",
              "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set");
    VT_EXPECT("Pod", b, "spec.tolerations[0].key", NULL, "spec.tolerations[0].operator",
              "Invalid value: \"Equal\": operator must be Exists when `key` is empty");
    VT_EXPECT("Pod", b,
              "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
              "[]", "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
              "Required value: must have at least one node selector term");
    VT_EXPECT("Pod", b,
              "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
              "'Near'",
              "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
              "Unsupported value: \"Near\"");
    VT_EXPECT("Pod", b, "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution",
              "[{'weight':0,'preference':{'matchExpressions':[{'key':'a','operator':'Exists'}]}}]",
              "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
              "Invalid value: 0: must be in the range 1-100");
    json_decref(b);
}

/* The scheduler honours both: no "not implemented" warning. */
TEST(pod_spread_and_gates_are_implemented)
{
    struct vt v;
    json_t *o = pod();
    vt_setj(o, "spec.topologySpreadConstraints",
            "[{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':'DoNotSchedule',"
            "'labelSelector':{'matchLabels':{'app':'web'}}}]");
    vt_setj(o, "spec.schedulingGates", "[{'name':'example.com/quota'}]");
    vt_run(&v, "Pod", o, NULL);
    VT_CLEAN(&v);
    vt_free(&v);
}

/* Kubernetes: gates are set at creation and may only be removed after. */
TEST(pod_scheduling_gates_rules)
{
    json_t *b = pod();
    vt_setj(b, "spec.schedulingGates", "[{'name':'example.com/a'},{'name':'example.com/b'}]");
    VT_EXPECT("Pod", b, "spec.schedulingGates[2]", "{'name':'example.com/a'}",
              "spec.schedulingGates[2]", "Duplicate value: \"example.com/a\"");
    VT_EXPECT("Pod", b, "spec.schedulingGates[0].name", "'bad name'",
              "spec.schedulingGates[0].name", "Invalid value: \"bad name\"");
    VT_EXPECT("Pod", b, "spec.nodeName", "'n1'", "spec.nodeName",
              "Forbidden: cannot be set until all schedulingGates have been cleared");
    VT_UPDATE("Pod", b, "spec.schedulingGates", "[{'name':'example.com/b'}]", NULL, NULL);
    VT_UPDATE("Pod", b, "spec.schedulingGates", "[]", NULL, NULL);
    VT_UPDATE("Pod", b, "spec.schedulingGates", NULL, NULL, NULL);
    VT_UPDATE("Pod", b, "spec.schedulingGates[2]", "{'name':'example.com/c'}",
              "spec.schedulingGates[2].name",
              "Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/c'");
    json_t *open = pod();
    VT_UPDATE("Pod", open, "spec.schedulingGates", "[{'name':'example.com/late'}]",
              "spec.schedulingGates[0].name",
              "Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/late'");
    json_decref(open);
    json_decref(b);
}

TEST(pod_update_rules)
{
    json_t *b = pod();
    VT_UPDATE("Pod", b, C0 ".image", "'nginx:1.25'", NULL, NULL);
    VT_UPDATE("Pod", b, "spec.initContainers[0].image", "'busybox:1.36'", NULL, NULL);
    VT_UPDATE("Pod", b, "spec.activeDeadlineSeconds", "60", NULL, NULL);
    VT_UPDATE("Pod", b, "spec.tolerations[1]", "{'key':'x','operator':'Exists'}", NULL, NULL);
    VT_UPDATE("Pod", b, "metadata.labels.tier", "'front'", NULL, NULL);
    VT_UPDATE("Pod", b, "spec.restartPolicy", "'Never'", "spec",
              "Forbidden: pod updates may not change fields other than `spec.containers[*].image`");
    VT_UPDATE("Pod", b, C0 ".ports[0].containerPort", "81", "spec", "Forbidden: pod updates");
    VT_UPDATE("Pod", b, "spec.tolerations", "[]", "spec", "Forbidden: pod updates");

    json_t *dl = json_deep_copy(b);
    vt_setj(dl, "spec.activeDeadlineSeconds", "60");
    VT_UPDATE("Pod", dl, "spec.activeDeadlineSeconds", "30", NULL, NULL);
    VT_UPDATE("Pod", dl, "spec.activeDeadlineSeconds", "120", "spec.activeDeadlineSeconds",
              "Invalid value: 120: must be less than or equal to previous value");
    VT_UPDATE("Pod", dl, "spec.activeDeadlineSeconds", NULL, "spec.activeDeadlineSeconds",
              "Invalid value: \"\": must not update from a positive integer to nil value");
    json_decref(dl);
    json_decref(b);
}

TEST(no_escalation_with_privileged_or_sys_admin)
{
    json_t *p = pod();
    VT_EXPECT("Pod", p, "spec.containers[0].securityContext", "{'allowPrivilegeEscalation':false,'privileged':true}",
              "spec.containers[0].securityContext",
              "Invalid value: {\"allowPrivilegeEscalation\":false,\"privileged\":true}: "
              "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
    VT_EXPECT("Pod", p, "spec.containers[0].securityContext",
              "{'allowPrivilegeEscalation':false,'capabilities':{'add':['CAP_SYS_ADMIN']}}",
              "spec.containers[0].securityContext",
              "Invalid value: {\"allowPrivilegeEscalation\":false,\"capabilities\":{\"add\":[\"CAP_SYS_ADMIN\"]}}: "
              "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN");
    json_decref(p);
}
