/* fixtures.h — realistic API objects (as YAML) shared by the orctl output
 * tests; "now" is 2024-06-01T12:00:00Z for every age. */
#ifndef ORC_TEST_CLI_FIXTURES_H
#define ORC_TEST_CLI_FIXTURES_H

#include <jansson.h>
#include <string.h>

#include "lib/timeutil.h"
#include "lib/yaml.h"
#include "tests/harness/test.h"

#define NOW_TS "2024-06-01T12:00:00Z"

static inline int64_t fixture_now(void)
{
    int64_t t = 0;
    orc_time_parse(NOW_TS, &t);
    return t;
}

/* All documents of a YAML stream, as the items array of a list. */
static inline json_t *fixture_items(const char *yaml)
{
    char err[256];
    json_t *docs = orc_yaml_parse(yaml, strlen(yaml), err, sizeof err);
    CHECKF(docs != NULL, "fixture: %s", err);
    return docs;
}

static const char pods_yaml[] =
    "metadata: {name: web-7d4b9c-x2x9k, namespace: default, creationTimestamp: '2024-06-01T11:55:00Z'}\n"
    "spec:\n  nodeName: node-1\n  containers: [{name: web, image: 'nginx:1.25'}]\n"
    "status:\n  phase: Running\n  podIP: 10.42.0.7\n"
    "  conditions: [{type: Ready, status: 'True'}]\n"
    "  containerStatuses:\n  - name: web\n    ready: true\n    restartCount: 0\n"
    "    state: {running: {startedAt: '2024-06-01T11:55:03Z'}}\n"
    "---\n"
    "metadata: {name: crashy, namespace: default, creationTimestamp: '2024-06-01T10:00:00Z'}\n"
    "spec:\n  nodeName: node-2\n  containers: [{name: app, image: busybox}]\n"
    "status:\n  phase: Running\n  podIP: 10.42.1.3\n"
    "  containerStatuses:\n  - name: app\n    ready: false\n    restartCount: 4\n"
    "    state: {waiting: {reason: CrashLoopBackOff}}\n"
    "    lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: '2024-06-01T11:59:30Z'}}\n"
    "---\n"
    "metadata: {name: initing, namespace: default, creationTimestamp: '2024-06-01T11:59:50Z'}\n"
    "spec:\n  initContainers: [{name: setup, image: busybox}, {name: migrate, image: busybox}]\n"
    "  containers: [{name: app, image: busybox}]\n"
    "status:\n  phase: Pending\n"
    "  initContainerStatuses:\n"
    "  - {name: setup, ready: true, restartCount: 0, state: {terminated: {exitCode: 0, reason: Completed}}}\n"
    "  - {name: migrate, ready: false, restartCount: 0, state: {running: {}}}\n"
    "---\n"
    "metadata: {name: leaving, namespace: default, creationTimestamp: '2024-05-30T07:00:00Z',\n"
    "  deletionTimestamp: '2024-06-01T11:59:45Z'}\n"
    "spec: {containers: [{name: a, image: x}, {name: b, image: y}]}\n"
    "status:\n  phase: Running\n  containerStatuses:\n"
    "  - {name: a, ready: true, restartCount: 1, state: {running: {}}}\n"
    "  - {name: b, ready: true, restartCount: 2, state: {running: {}}}\n"
    "---\n"
    "metadata: {name: batch-done, namespace: jobs, creationTimestamp: '2024-05-20T12:00:00Z'}\n"
    "spec: {containers: [{name: main, image: x}]}\n"
    "status:\n  phase: Succeeded\n  containerStatuses:\n"
    "  - {name: main, ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: Completed}}}\n"
    "---\n"
    "metadata: {name: unscheduled, namespace: default, creationTimestamp: '2024-06-01T11:59:58Z'}\n"
    "spec:\n  containers: [{name: a, image: x}, {name: b, image: y}]\n"
    "  readinessGates: [{conditionType: example.com/ready}]\n"
    "status: {phase: Pending}\n";

static const char deployment_yaml[] =
    "apiVersion: apps/v1\nkind: Deployment\n"
    "metadata:\n  name: web\n  namespace: default\n  creationTimestamp: '2024-05-30T07:00:00Z'\n"
    "  labels: {app: web, tier: frontend}\n"
    "  annotations:\n    deployment.kubernetes.io/revision: '2'\n"
    "    kubectl.kubernetes.io/last-applied-configuration: |\n      {\"apiVersion\":\"apps/v1\"}\n"
    "spec:\n  replicas: 3\n"
    "  selector:\n    matchLabels: {app: web}\n"
    "    matchExpressions: [{key: tier, operator: In, values: [frontend, edge]}, {key: legacy, operator: DoesNotExist}]\n"
    "  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}\n"
    "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
    "      - name: web\n        image: nginx:1.25\n        ports: [{containerPort: 80, protocol: TCP}]\n"
    "        args: ['--port=80', '--verbose']\n"
    "        resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 100m, memory: 64Mi}}\n"
    "        readinessProbe: {httpGet: {path: /healthz, port: 80}, periodSeconds: 5}\n"
    "        env:\n        - {name: MODE, value: production}\n"
    "        - name: PASSWORD\n          valueFrom: {secretKeyRef: {name: db, key: password}}\n"
    "        volumeMounts: [{name: cache, mountPath: /var/cache/nginx}, {name: conf, mountPath: /etc/nginx, readOnly: true}]\n"
    "      - name: sidecar\n        image: busybox:1.36\n"
    "      volumes:\n      - {name: cache, emptyDir: {}}\n      - {name: conf, configMap: {name: nginx-conf}}\n"
    "status:\n  replicas: 3\n  updatedReplicas: 3\n  readyReplicas: 2\n  availableReplicas: 2\n"
    "  unavailableReplicas: 1\n"
    "  conditions:\n  - {type: Available, status: 'True', reason: MinimumReplicasAvailable}\n"
    "  - {type: Progressing, status: 'True', reason: NewReplicaSetAvailable}\n";

static const char services_yaml[] =
    "metadata: {name: web, namespace: default, creationTimestamp: '2024-05-01T12:00:00Z',\n"
    "  labels: {app: web}}\n"
    "spec:\n  type: ClusterIP\n  clusterIP: 10.43.0.10\n  selector: {app: web, tier: frontend}\n"
    "  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}, {name: https, port: 443, targetPort: https}]\n"
    "---\n"
    "metadata: {name: nodeport, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
    "spec: {type: NodePort, clusterIP: 10.43.0.11, externalIPs: [192.0.2.1],\n"
    "  ports: [{port: 80, nodePort: 30080, protocol: TCP}, {port: 53, nodePort: 30053, protocol: UDP}]}\n"
    "---\n"
    "metadata: {name: lb, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
    "spec: {type: LoadBalancer, clusterIP: 10.43.0.12, ports: [{port: 443, nodePort: 31443}]}\n"
    "---\n"
    "metadata: {name: headless, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
    "spec: {clusterIP: None}\n";

static const char nodes_yaml[] =
    "metadata:\n  name: node-1\n  creationTimestamp: '2024-05-01T12:00:00Z'\n"
    "  labels: {kubernetes.io/hostname: node-1, node-role.kubernetes.io/control-plane: '', node-role.kubernetes.io/master: ''}\n"
    "spec: {podCIDR: 10.42.0.0/24, taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]}\n"
    "status:\n  conditions:\n"
    "  - {type: MemoryPressure, status: 'False', reason: KubeletHasSufficientMemory, message: kubelet has sufficient memory available,\n"
    "     lastHeartbeatTime: '2024-06-01T11:59:00Z', lastTransitionTime: '2024-05-01T12:00:00Z'}\n"
    "  - {type: Ready, status: 'True', reason: KubeletReady, message: kubelet is posting ready status,\n"
    "     lastHeartbeatTime: '2024-06-01T11:59:00Z', lastTransitionTime: '2024-05-01T12:00:30Z'}\n"
    "  addresses: [{type: InternalIP, address: 192.168.1.10}, {type: Hostname, address: node-1}]\n"
    "  capacity: {cpu: '4', memory: 8Gi, pods: '110'}\n  allocatable: {cpu: 3800m, memory: 7Gi, pods: '110'}\n"
    "  nodeInfo: {kubeletVersion: v1.30.0-orc, osImage: Debian GNU/Linux 12 (bookworm), kernelVersion: 6.1.0-18-amd64,\n"
    "    containerRuntimeVersion: runc://1.1.5, operatingSystem: linux, architecture: amd64, machineID: abc, systemUUID: u-1, bootID: b-1}\n"
    "---\n"
    "metadata: {name: node-2, creationTimestamp: '2024-06-01T09:00:00Z'}\n"
    "spec: {unschedulable: true}\n"
    "status:\n  conditions: [{type: Ready, status: Unknown}]\n"
    "---\n"
    "metadata: {name: node-3, creationTimestamp: '2024-06-01T09:00:00Z', labels: {kubernetes.io/role: worker}}\n";

static const char jobs_yaml[] =
    "metadata: {name: pi, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
    "spec:\n  completions: 1\n  selector: {matchLabels: {batch.kubernetes.io/controller-uid: 63d7}}\n"
    "  template: {spec: {containers: [{name: pi, image: 'perl:5.34'}]}}\n"
    "status:\n  succeeded: 1\n  startTime: '2024-06-01T11:00:05Z'\n  completionTime: '2024-06-01T11:01:15Z'\n"
    "  conditions: [{type: Complete, status: 'True'}]\n"
    "---\n"
    "metadata: {name: workers, namespace: default, creationTimestamp: '2024-06-01T11:50:00Z'}\n"
    "spec: {parallelism: 3}\n"
    "status: {succeeded: 1, active: 2, startTime: '2024-06-01T11:50:00Z'}\n"
    "---\n"
    "metadata: {name: broken, namespace: default, creationTimestamp: '2024-06-01T11:50:00Z'}\n"
    "spec: {}\n"
    "status: {failed: 6, conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded}]}\n";

static const char cronjobs_yaml[] =
    "metadata: {name: backup, namespace: default, creationTimestamp: '2024-05-01T12:00:00Z'}\n"
    "spec:\n  schedule: '*/5 * * * *'\n  timeZone: Europe/Paris\n  suspend: false\n"
    "  jobTemplate: {spec: {template: {spec: {containers: [{name: b, image: 'backup:2'}]}}}}\n"
    "status: {lastScheduleTime: '2024-06-01T11:55:00Z', active: [{name: backup-28620715}]}\n"
    "---\n"
    "metadata: {name: idle, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
    "spec: {schedule: '@daily', suspend: true}\n";

static const char events_yaml[] =
    "metadata: {name: web-7d4b9c-x2x9k.17d, namespace: default}\n"
    "involvedObject: {kind: Pod, name: web-7d4b9c-x2x9k, fieldPath: 'spec.containers{web}'}\n"
    "type: Normal\nreason: Pulled\nmessage: Container image \"nginx:1.25\" already present on machine\n"
    "source: {component: kubelet, host: node-1}\n"
    "firstTimestamp: '2024-06-01T11:55:02Z'\nlastTimestamp: '2024-06-01T11:55:02Z'\ncount: 1\n"
    "---\n"
    "metadata: {name: crashy.17e, namespace: default}\n"
    "involvedObject: {kind: Pod, name: crashy}\n"
    "type: Warning\nreason: BackOff\nmessage: Back-off restarting failed container app\n"
    "source: {component: kubelet}\n"
    "firstTimestamp: '2024-06-01T11:50:00Z'\nlastTimestamp: '2024-06-01T11:59:30Z'\ncount: 7\n";

static const char misc_yaml[] =
    "apiVersion: v1\nkind: ConfigMap\n"
    "metadata: {name: app-config, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z'}\n"
    "data:\n  mode: production\n  app.properties: |\n    color=blue\n    size=3\n"
    "binaryData: {logo.png: iVBORw0KGgo=}\n";

static const char secret_yaml[] =
    "apiVersion: v1\nkind: Secret\n"
    "metadata: {name: db, namespace: default, creationTimestamp: '2024-06-01T11:00:00Z', labels: {app: db}}\n"
    "type: Opaque\n"
    "data: {password: c3VwZXJzZWNyZXQ=, user: YWRtaW4=, empty: ''}\n";

#endif
