/* test_describe.c — `orctl describe` text against kubectl's layout for
 * realistic objects; Secret values never appear. */
#include "cli/print.h"

#include <stdio.h>

#include "lib/orc.h"

#include "tests/cli/fixtures.h"
#include "tests/harness/test.h"

static char *describe(const char *kind, const char *yaml, size_t idx, const char *events_yaml_text)
{
    json_t *items = fixture_items(yaml), *ev = events_yaml_text ? fixture_items(events_yaml_text) : NULL;
    struct orc_buf out = ORC_BUF_INIT;

    CHECK_INT(cli_describe(orc_kind_lookup(kind), json_array_get(items, idx), ev, NULL, fixture_now(), &out), ==, 0);
    json_decref(items);
    json_decref(ev);
    return orc_buf_steal(&out, NULL);
}

static void check_describe(const char *kind, const char *yaml, size_t idx, const char *ev, const char *want)
{
    char *got = describe(kind, yaml, idx, ev);
    CHECKF(strcmp(got, want) == 0, "describe %s:\n%s---- want:\n%s", kind, got, want);
    free(got);
}

TEST(describe_deployment)
{
    check_describe("deployments", deployment_yaml, 0, NULL,
        "Name:                   web\n"
        "Namespace:              default\n"
        "CreationTimestamp:      Thu, 30 May 2024 07:00:00 +0000\n"
        "Labels:                 app=web\n"
        "                        tier=frontend\n"
        "Annotations:            deployment.kubernetes.io/revision: 2\n"
        "Selector:               app=web,!legacy,tier in (edge,frontend)\n"
        "Replicas:               3 desired | 3 updated | 3 total | 2 available | 1 unavailable\n"
        "StrategyType:           RollingUpdate\n"
        "MinReadySeconds:        0\n"
        "RollingUpdateStrategy:  0 max unavailable, 1 max surge\n"
        "Pod Template:\n"
        "  Labels:  app=web\n"
        "  Containers:\n"
        "   web:\n"
        "    Image:      nginx:1.25\n"
        "    Port:       80/TCP\n"
        "    Host Port:  0/TCP\n"
        "    Args:\n"
        "      --port=80\n"
        "      --verbose\n"
        "    Limits:\n"
        "      cpu:     500m\n"
        "      memory:  128Mi\n"
        "    Requests:\n"
        "      cpu:      100m\n"
        "      memory:   64Mi\n"
        "    Readiness:  http-get http://:80/healthz delay=0s timeout=1s period=5s #success=1 #failure=3\n"
        "    Environment:\n"
        "      MODE:      production\n"
        "      PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false\n"
        "    Mounts:\n"
        "      /etc/nginx from conf (ro)\n"
        "      /var/cache/nginx from cache (rw)\n"
        "   sidecar:\n"
        "    Image:        busybox:1.36\n"
        "    Port:         <none>\n"
        "    Host Port:    <none>\n"
        "    Environment:  <none>\n"
        "    Mounts:       <none>\n"
        "  Volumes:\n"
        "   cache:\n"
        "    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n"
        "    Medium:     \n"
        "    SizeLimit:  <unset>\n"
        "   conf:\n"
        "    Type:          ConfigMap (a volume populated by a ConfigMap)\n"
        "    Name:          nginx-conf\n"
        "    Optional:      false\n"
        "  Node-Selectors:  <none>\n"
        "  Tolerations:     <none>\n"
        "Conditions:\n"
        "  Type          Status  Reason\n"
        "  ----          ------  ------\n"
        "  Available     True    MinimumReplicasAvailable\n"
        "  Progressing   True    NewReplicaSetAvailable\n");
}

TEST(describe_pod_with_states_and_events)
{
    check_describe("pods", pods_yaml, 1, events_yaml,
        "Name:         crashy\n"
        "Namespace:    default\n"
        "Node:         node-2/\n"
        "Labels:       <none>\n"
        "Annotations:  <none>\n"
        "Status:       Running\n"
        "IP:           10.42.1.3\n"
        "IPs:          <none>\n"
        "Containers:\n"
        "  app:\n"
        "    Container ID:   \n"
        "    Image:          busybox\n"
        "    Image ID:       \n"
        "    Port:           <none>\n"
        "    Host Port:      <none>\n"
        "    State:          Waiting\n"
        "      Reason:       CrashLoopBackOff\n"
        "    Last State:     Terminated\n"
        "      Reason:       Error\n"
        "      Exit Code:    1\n"
        "      Started:      <unknown>\n"
        "      Finished:     Sat, 01 Jun 2024 11:59:30 +0000\n"
        "    Ready:          False\n"
        "    Restart Count:  4\n"
        "    Environment:    <none>\n"
        "    Mounts:         <none>\n"
        "Volumes:            <none>\n"
        "Node-Selectors:     <none>\n"
        "Tolerations:        <none>\n"
        "Events:\n"
        "  Type     Reason   Age                From     Message\n"
        "  ----     ------   ----               ----     -------\n"
        "  Normal   Pulled   4m58s              kubelet  Container image \"nginx:1.25\" already present on machine\n"
        "  Warning  BackOff  30s (x7 over 10m)  kubelet  Back-off restarting failed container app\n");
}

TEST(describe_pod_full)
{
    check_describe("pods",
        "metadata:\n  name: web-0\n  namespace: shop\n  labels: {app: web}\n"
        "  annotations: {note: \"line one\\nline two\"}\n"
        "  ownerReferences: [{kind: StatefulSet, name: web, controller: true}]\n"
        "  deletionTimestamp: '2024-06-01T11:59:30Z'\n  deletionGracePeriodSeconds: 30\n"
        "spec:\n  nodeName: node-1\n  priority: 0\n  serviceAccountName: default\n"
        "  nodeSelector: {disk: ssd}\n"
        "  tolerations:\n  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}\n"
        "  - {operator: Exists}\n"
        "  containers:\n  - name: web\n    image: nginx\n    command: [sh, -c, \"echo hi\\nsleep 1\"]\n"
        "    ports: [{containerPort: 80}, {containerPort: 443, hostPort: 8443}]\n"
        "    livenessProbe: {exec: {command: [cat, /tmp/ok]}, initialDelaySeconds: 5}\n"
        "    envFrom: [{configMapRef: {name: cfg}}, {secretRef: {name: sec, optional: true}, prefix: S_}]\n"
        "    env: [{name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]\n"
        "    volumeMounts: [{name: data, mountPath: /data, subPath: web}]\n"
        "  volumes:\n  - {name: data, hostPath: {path: /srv/data, type: DirectoryOrCreate}}\n"
        "  - {name: creds, secret: {secretName: sec}}\n"
        "status:\n  phase: Running\n  hostIP: 192.168.1.10\n  podIP: 10.42.0.9\n"
        "  podIPs: [{ip: 10.42.0.9}]\n  startTime: '2024-06-01T11:00:00Z'\n  qosClass: BestEffort\n"
        "  conditions: [{type: Initialized, status: 'True'}, {type: Ready, status: 'True'}]\n"
        "  containerStatuses:\n  - name: web\n    containerID: runc://abc\n    imageID: sha256:1\n"
        "    ready: true\n    restartCount: 0\n    state: {running: {startedAt: '2024-06-01T11:00:02Z'}}\n",
        0, "",
        "Name:                      web-0\n"
        "Namespace:                 shop\n"
        "Priority:                  0\n"
        "Service Account:           default\n"
        "Node:                      node-1/192.168.1.10\n"
        "Start Time:                Sat, 01 Jun 2024 11:00:00 +0000\n"
        "Labels:                    app=web\n"
        "Annotations:               note:\n"
        "                             line one\n"
        "                             line two\n"
        "Status:                    Terminating (lasts 30s)\n"
        "Termination Grace Period:  30s\n"
        "IP:                        10.42.0.9\n"
        "IPs:\n"
        "  IP:           10.42.0.9\n"
        "Controlled By:  StatefulSet/web\n"
        "Containers:\n"
        "  web:\n"
        "    Container ID:  runc://abc\n"
        "    Image:         nginx\n"
        "    Image ID:      sha256:1\n"
        "    Ports:         80/TCP, 443/TCP\n"
        "    Host Ports:    0/TCP, 8443/TCP\n"
        "    Command:\n"
        "      sh\n"
        "      -c\n"
        "      echo hi\n"
        "      sleep 1\n"
        "    State:          Running\n"
        "      Started:      Sat, 01 Jun 2024 11:00:02 +0000\n"
        "    Ready:          True\n"
        "    Restart Count:  0\n"
        "    Liveness:       exec [cat /tmp/ok] delay=5s timeout=1s period=10s #success=1 #failure=3\n"
        "    Environment Variables from:\n"
        "      cfg  ConfigMap                Optional: false\n"
        "      sec  Secret with prefix 'S_'  Optional: true\n"
        "    Environment:\n"
        "      NODE:   (v1:spec.nodeName)\n"
        "    Mounts:\n"
        "      /data from data (rw,path=\"web\")\n"
        "Conditions:\n"
        "  Type          Status\n"
        "  Initialized   True \n"
        "  Ready         True \n"
        "Volumes:\n"
        "  data:\n"
        "    Type:          HostPath (bare host directory volume)\n"
        "    Path:          /srv/data\n"
        "    HostPathType:  DirectoryOrCreate\n"
        "  creds:\n"
        "    Type:        Secret (a volume populated by a Secret)\n"
        "    SecretName:  sec\n"
        "    Optional:    false\n"
        "QoS Class:       BestEffort\n"
        "Node-Selectors:  disk=ssd\n"
        "Tolerations:     op=Exists\n"
        "                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n"
        "Events:          <none>\n");
}

TEST(describe_service)
{
    check_describe("svc", services_yaml, 0, NULL,
        "Name:              web\n"
        "Namespace:         default\n"
        "Labels:            app=web\n"
        "Annotations:       <none>\n"
        "Selector:          app=web,tier=frontend\n"
        "Type:              ClusterIP\n"
        "IP:                10.43.0.10\n"
        "Port:              http  80/TCP\n"
        "TargetPort:        8080/TCP\n"
        "Port:              https  443/TCP\n"
        "TargetPort:        https/TCP\n"
        "Session Affinity:  None\n");
    check_describe("svc", services_yaml, 1, NULL,
        "Name:              nodeport\n"
        "Namespace:         default\n"
        "Labels:            <none>\n"
        "Annotations:       <none>\n"
        "Selector:          <none>\n"
        "Type:              NodePort\n"
        "IP:                10.43.0.11\n"
        "External IPs:      192.0.2.1\n"
        "Port:              <unset>  80/TCP\n"
        "TargetPort:        80/TCP\n"
        "NodePort:          <unset>  30080/TCP\n"
        "Port:              <unset>  53/UDP\n"
        "TargetPort:        53/UDP\n"
        "NodePort:          <unset>  30053/UDP\n"
        "Session Affinity:  None\n");
}

TEST(describe_configmap)
{
    check_describe("cm", misc_yaml, 0, NULL,
        "Name:         app-config\n"
        "Namespace:    default\n"
        "Labels:       <none>\n"
        "Annotations:  <none>\n"
        "\n"
        "Data\n"
        "====\n"
        "app.properties:\n"
        "----\n"
        "color=blue\n"
        "size=3\n"
        "\n"
        "mode:\n"
        "----\n"
        "production\n"
        "\n"
        "BinaryData\n"
        "====\n"
        "logo.png: 8 bytes\n"
        "\n");
}

TEST(describe_secret_never_shows_values)
{
    char *got = describe("secrets", secret_yaml, 0, NULL);

    CHECK_STR(got,
        "Name:         db\n"
        "Namespace:    default\n"
        "Labels:       app=db\n"
        "Annotations:  <none>\n"
        "\n"
        "Type:  Opaque\n"
        "\n"
        "Data\n"
        "====\n"
        "empty:     0 bytes\n"
        "password:  11 bytes\n"
        "user:      5 bytes\n");
    CHECK(strstr(got, "c3VwZXJzZWNyZXQ") == NULL && strstr(got, "supersecret") == NULL);
    free(got);
    /* Nor in the last-applied annotation kubectl leaves on applied objects. */
    got = describe("secrets",
                   "metadata:\n  name: s\n  annotations:\n"
                   "    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"k\":\"c2VjcmV0\"}}'\n"
                   "stringData: {token: abcdef}\n",
                   0, NULL);
    CHECK(strstr(got, "c2VjcmV0") == NULL && strstr(got, "abcdef") == NULL);
    CHECK(strstr(got, "token:  6 bytes\n") != NULL);
    free(got);
}

TEST(describe_node)
{
    check_describe("nodes", nodes_yaml, 0, NULL,
        "Name:               node-1\n"
        "Roles:              control-plane,master\n"
        "Labels:             kubernetes.io/hostname=node-1\n"
        "                    node-role.kubernetes.io/control-plane=\n"
        "                    node-role.kubernetes.io/master=\n"
        "Annotations:        <none>\n"
        "CreationTimestamp:  Wed, 01 May 2024 12:00:00 +0000\n"
        "Taints:             node-role.kubernetes.io/control-plane:NoSchedule\n"
        "Unschedulable:      false\n"
        "Conditions:\n"
        "  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                       Message\n"
        "  ----             ------  -----------------                 ------------------                ------                       -------\n"
        "  MemoryPressure   False   Sat, 01 Jun 2024 11:59:00 +0000   Wed, 01 May 2024 12:00:00 +0000   KubeletHasSufficientMemory   kubelet has sufficient memory available\n"
        "  Ready            True    Sat, 01 Jun 2024 11:59:00 +0000   Wed, 01 May 2024 12:00:30 +0000   KubeletReady                 kubelet is posting ready status\n"
        "Addresses:\n"
        "  InternalIP:  192.168.1.10\n"
        "  Hostname:    node-1\n"
        "Capacity:\n"
        "  cpu:     4\n"
        "  memory:  8Gi\n"
        "  pods:    110\n"
        "Allocatable:\n"
        "  cpu:     3800m\n"
        "  memory:  7Gi\n"
        "  pods:    110\n"
        "System Info:\n"
        "  Machine ID:                 abc\n"
        "  System UUID:                u-1\n"
        "  Boot ID:                    b-1\n"
        "  Kernel Version:             6.1.0-18-amd64\n"
        "  OS Image:                   Debian GNU/Linux 12 (bookworm)\n"
        "  Operating System:           linux\n"
        "  Architecture:               amd64\n"
        "  Container Runtime Version:  runc://1.1.5\n"
        "  Kubelet Version:            v1.30.0-orc\n"
        "  Kube-Proxy Version:         \n"
        "PodCIDR:                      10.42.0.0/24\n");
}

TEST(describe_generic_and_long_annotations)
{
    check_describe("jobs", jobs_yaml, 0, NULL,
        "Name:               pi\n"
        "Namespace:          default\n"
        "Labels:             <none>\n"
        "Annotations:        <none>\n"
        "CreationTimestamp:  Sat, 01 Jun 2024 11:00:00 +0000\n"
        "Spec:\n"
        "  completions: 1\n"
        "  selector:\n"
        "    matchLabels:\n"
        "      batch.kubernetes.io/controller-uid: 63d7\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: pi\n"
        "        image: perl:5.34\n"
        "Status:\n"
        "  succeeded: 1\n"
        "  startTime: \"2024-06-01T11:00:05Z\"\n"
        "  completionTime: \"2024-06-01T11:01:15Z\"\n"
        "  conditions:\n"
        "  - type: Complete\n"
        "    status: \"True\"\n");
    char *got = describe("leases",
                         "metadata:\n  name: l\n  namespace: kube-system\n  annotations:\n"
                         "    long: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\n"
                         "    short: v\nspec: {}\n",
                         0, NULL);
    CHECKF(strstr(got, "Annotations:        long:\n" "                      aaaa") != NULL, "%s", got);
    CHECKF(strstr(got, "a...\n                    short: v\n") != NULL, "%s", got);
    CHECK(strstr(got, "Spec:               {}\n") != NULL);
    free(got);
    check_describe("ns", "metadata: {name: dev, labels: {team: a}}\nstatus: {phase: Active}\n", 0, NULL,
                   "Name:         dev\nLabels:       team=a\nAnnotations:  <none>\nStatus:       Active\n");
}

TEST(describe_rejects_non_objects)
{
    struct orc_buf out = ORC_BUF_INIT;
    json_t *arr = json_array();

    CHECK_INT(cli_describe(orc_kind_lookup("pods"), arr, NULL, NULL, 0, &out), ==, ORC_EINVAL);
    json_decref(arr);
    orc_buf_free(&out);
}

/* A Service with its EndpointSlices: each port's ready endpoints, by the
 * slice port of its name, three at most then "+ N more...". */
TEST(describe_service_endpoints)
{
    json_t *items = fixture_items(services_yaml);
    json_t *slices = json_loads(
        "[{\"ports\":[{\"name\":\"http\",\"port\":8080},{\"name\":\"https\",\"port\":8443}],\"endpoints\":["
        "{\"addresses\":[\"10.42.0.5\"],\"conditions\":{\"ready\":true}},"
        "{\"addresses\":[\"10.42.0.6\"],\"conditions\":{\"ready\":false}},"
        "{\"addresses\":[\"10.42.1.7\"]},{\"addresses\":[\"10.42.1.8\"]},{\"addresses\":[\"10.42.1.9\"]}]}]",
        0, NULL);
    struct orc_buf out = ORC_BUF_INIT;
    CHECK_INT(cli_describe(orc_kind_lookup("svc"), json_array_get(items, 0), NULL, slices, fixture_now(), &out), ==, 0);
    CHECKF(strstr(out.data, "TargetPort:        8080/TCP\nEndpoints:         10.42.0.5:8080,10.42.1.7:8080,"
                            "10.42.1.8:8080 + 1 more...\n"), "%s", out.data);
    CHECKF(strstr(out.data, "Endpoints:         10.42.0.5:8443,"), "%s", out.data);
    orc_buf_free(&out);
    json_t *none = json_array();
    CHECK_INT(cli_describe(orc_kind_lookup("svc"), json_array_get(items, 1), NULL, none, fixture_now(), &out), ==, 0);
    CHECKF(strstr(out.data, "Endpoints:         <none>\n"), "%s", out.data);
    orc_buf_free(&out);
    json_decref(none);
    json_decref(slices);
    json_decref(items);
}
