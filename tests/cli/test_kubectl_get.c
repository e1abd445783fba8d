/* test_kubectl_get.c — stock kubectl get against a real `orcd server`:
 * the server's Tables give kubectl's own columns for pods (a status set
 * through the status subresource: CrashLoopBackOff, "3 (5m ago)"),
 * deployments, NodePort services and nodes, -o wide, `get all` (the "all"
 * category), and -w printing a row per change. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static bool have_kubectl(void) { return run_have_kubectl(); }

static void start_one(void) { run_start_one(&c); }

static int kubectl_argv(const char *const *words, const char **argv, char *conf, size_t n)
{
    int i = 0;

    snprintf(conf, n, "%s/admin.conf", c.m[0].dir);
    argv[i++] = "/usr/bin/kubectl";
    argv[i++] = "--kubeconfig";
    argv[i++] = conf;
    while (*words && i < RUN_MAX_ARGS - 1) argv[i++] = *words++;
    argv[i] = NULL;
    return i;
}

/* kubectl with the member's admin.conf; checks it exits 0, returns stdout. */
static char *kubectl(const char *const *words)
{
    const char *argv[RUN_MAX_ARGS];
    char conf[700], *out, *err;
    int rc;

    kubectl_argv(words, argv, conf, sizeof conf);
    rc = run_prog(c.home, NULL, &out, &err, argv);
    CHECKF(rc == 0, "kubectl %s %s: exit %d\nstdout:\n%s\nstderr:\n%s", argv[3],
           argv[4] ? argv[4] : "", rc, out, err);
    free(err);
    return out;
}

#define KUBECTL(...) kubectl((const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(__VA_ARGS__))

static void apply(const char *name, const char *text)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    KUBECTL_OK("apply", "--validate=false", "-f", path);
    free(path);
}

/* The line of out that starts with `start` (a copy), or fails the case. */
static char *line_of(const char *out, const char *start)
{
    size_t len = strlen(start);

    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, start, len) == 0) return strndup(l, strcspn(l, "\n"));
    test_fail(__FILE__, __LINE__, "no line starting with \"%s\" in:\n%s", start, out);
    return NULL;
}

/* Cells of a table line: runs of non-space separated by 2+ spaces. */
static void check_cells(const char *line, const char *const *want)
{
    const char *p = line;

    for (size_t i = 0; want[i]; i++) {
        while (*p == ' ') p++;
        const char *end = strstr(p, "  ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        CHECKF(len == strlen(want[i]) && strncmp(p, want[i], len) == 0,
               "cell %zu is \"%.*s\", want \"%s\" in:\n%s", i, (int)len, p, want[i], line);
        p += len;
    }
}

#define CELLS(line, ...) check_cells(line, (const char *const[]){__VA_ARGS__, NULL})

static const char web_yaml[] =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n"
    "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
    "    spec:\n      containers: [{name: nginx, image: nginx:1.25}]\n---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n"
    "  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]\n";

static const char pod_yaml[] =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: crash}\n"
    "spec: {containers: [{name: app, image: busybox:1.36}]}\n";

TEST_T(kubectl_get_prints_kubectls_columns, 120)
{
    if (!have_kubectl()) return;
    start_one();
    apply("web.yaml", web_yaml);
    apply("pod.yaml", pod_yaml);

    char *out = KUBECTL("get", "deployments");
    char *l = line_of(out, "NAME");
    CELLS(l, "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE");
    free(l);
    l = line_of(out, "web ");
    CELLS(l, "web", "0/2");
    free(l);
    free(out);

    out = KUBECTL("get", "services", "-o", "wide");
    l = line_of(out, "NAME");
    CELLS(l, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR");
    free(l);
    l = line_of(out, "web ");
    CHECK_HAS(l, "NodePort");
    CHECK_HAS(l, "   <none>        80:30080/TCP   ");
    CHECK_HAS(l, "app=web");
    free(l);
    free(out);

    /* A container that keeps crashing, its last exit five minutes ago. */
    char patch[800], finished[32];
    time_t t = time(NULL) - 300;
    strftime(finished, sizeof finished, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(patch, sizeof patch,
             "{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"app\","
             "\"image\":\"busybox:1.36\",\"imageID\":\"\",\"ready\":false,\"restartCount\":3,"
             "\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":\"%s\"}},"
             "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}",
             finished);
    KUBECTL_OK("patch", "pod/crash", "--subresource=status", "--type=merge", "-p", patch);
    out = KUBECTL("get", "pod", "crash");
    l = line_of(out, "NAME");
    CELLS(l, "NAME", "READY", "STATUS", "RESTARTS", "AGE");
    free(l);
    l = line_of(out, "crash");
    CHECK_HAS(l, "0/1     CrashLoopBackOff   3 (5m");
    CHECK_HAS(l, " ago)");
    free(l);
    free(out);
    out = KUBECTL("get", "pods", "-A", "-o", "wide");
    l = line_of(out, "NAMESPACE");
    CELLS(l, "NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
          "NOMINATED NODE", "READINESS GATES");
    free(l);
    l = line_of(out, "default ");
    CHECK_HAS(l, "<none>");
    free(l);
    free(out);
}

static const char node_yaml[] =
    "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"
    "  labels: {node-role.kubernetes.io/control-plane: \"\"}\n";

TEST_T(kubectl_get_nodes_wide, 90)
{
    if (!have_kubectl()) return;
    start_one();
    apply("node.yaml", node_yaml);
    KUBECTL_OK("patch", "node/n1", "--subresource=status", "--type=merge", "-p",
               "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.5\"}],"
               "\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0-orc\",\"osImage\":\"Debian 12\","
               "\"kernelVersion\":\"6.1.0\",\"containerRuntimeVersion\":\"orc://1\","
               "\"machineID\":\"\",\"systemUUID\":\"\",\"bootID\":\"\",\"kubeProxyVersion\":\"\","
               "\"operatingSystem\":\"linux\",\"architecture\":\"amd64\"}}}");
    char *out = KUBECTL("get", "nodes", "-o", "wide");
    char *l = line_of(out, "NAME");
    CELLS(l, "NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP",
          "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME");
    free(l);
    l = line_of(out, "n1 ");
    CHECK_HAS(l, "control-plane");
    CHECK_HAS(l, "v1.32.0-orc   10.0.0.5      <none>        Debian 12   6.1.0            orc://1");
    free(l);
    free(out);
}

TEST_T(kubectl_get_all_lists_the_workloads_and_services, 90)
{
    if (!have_kubectl()) return;
    start_one();
    apply("web.yaml", web_yaml);
    char *out = NULL;
    /* The ReplicaSet and its pods come from the controllers. */
    for (int i = 0; i < 100; i++) {
        free(out);
        out = KUBECTL("get", "all");
        if (strstr(out, "replicaset.apps/web-") && strstr(out, "pod/web-")) break;
        test_sleep_ms(100);
    }
    CHECK_HAS(out, "pod/web-");
    CHECK_HAS(out, "service/kubernetes ");
    CHECK_HAS(out, "service/web ");
    CHECK_HAS(out, "deployment.apps/web ");
    CHECK_HAS(out, "replicaset.apps/web-");
    char *l = line_of(out, "NAME                  READY   UP-TO-DATE");
    free(l);
    free(out);
    /* Discovery says which resources "all" means. */
    out = KUBECTL("api-resources", "--categories=all", "-o", "name");
    CHECK_HAS(out, "pods\n");
    CHECK_HAS(out, "services\n");
    CHECK_HAS(out, "deployments.apps\n");
    CHECK_HAS(out, "cronjobs.batch\n");
    CHECK_LACKS(out, "configmaps");
    free(out);
}

static const char more_kinds_yaml[] =
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n"
    "  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n"
    "    spec: {containers: [{name: a, image: busybox:1.36}]}\n---\n"
    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  serviceName: db\n"
    "  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n"
    "    spec: {containers: [{name: d, image: busybox:1.36}]}\n---\n"
    "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: old}\nspec:\n  replicas: 0\n"
    "  selector: {app: old}\n  template:\n    metadata: {labels: {app: old}}\n"
    "    spec: {containers: [{name: o, image: busybox:1.36}]}\n";

/* `get all` lists the kinds in the order kubectl shows them against
 * Kubernetes: it follows discovery (the core group, apps, autoscaling,
 * batch; the resources of each sorted by name). */
TEST_T(kubectl_get_all_in_kubernetes_order, 90)
{
    static const char *const order[] = {
        "pod/",         "replicationcontroller/", "service/",
        "daemonset.apps/", "deployment.apps/",    "replicaset.apps/",
        "statefulset.apps/", "horizontalpodautoscaler.autoscaling/", "cronjob.batch/",
        "job.batch/",   NULL,
    };
    char *out = NULL;

    if (!have_kubectl()) return;
    start_one();
    apply("web.yaml", web_yaml);
    apply("more.yaml", more_kinds_yaml);
    KUBECTL_OK("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=0 0 1 1 *");
    KUBECTL_OK("create", "job", "once", "--image=busybox:1.36");
    KUBECTL_OK("autoscale", "deployment", "web", "--max=3");
    for (int i = 0; i < 100; i++) {
        free(out);
        out = KUBECTL("get", "all");
        if (strstr(out, "replicaset.apps/web-") && strstr(out, "pod/web-")) break;
        test_sleep_ms(100);
    }
    const char *at = out;
    for (size_t i = 0; order[i]; i++) {
        const char *next = strstr(at, order[i]);
        CHECKF(next, "\"%s\" missing or before \"%s\" in get all:\n%s", order[i], i ? order[i - 1] : "",
               out);
        at = next;
    }
    free(out);
    /* autoscaling/v1 by its full name, v2 (the preferred version) else */
    out = KUBECTL("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "jsonpath={.apiVersion}");
    CHECK_STR(out, "autoscaling/v1");
    free(out);
    out = KUBECTL("get", "hpa", "web", "-o", "jsonpath={.apiVersion}");
    CHECK_STR(out, "autoscaling/v2");
    free(out);
}

static pid_t spawn_kubectl(const char *out_path, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS];
    char conf[700];
    pid_t pid;

    kubectl_argv(words, argv, conf, sizeof conf);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(c.home, NULL, out_path, NULL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static pid_t watcher = -1;

static void stop_watcher(void *arg)
{
    (void)arg;
    if (watcher > 0) stop_orctl(watcher, SIGTERM);
    watcher = -1;
}

TEST_T(kubectl_get_watch_prints_a_row_per_change, 90)
{
    char path[600];

    if (!have_kubectl()) return;
    start_one();
    apply("pod.yaml", pod_yaml);
    run_temp_path("watch", path, sizeof path);
    watcher = spawn_kubectl(path, (const char *const[]){"get", "pods", "-w", NULL});
    test_defer(stop_watcher, NULL);
    free(wait_for_output(path, "crash ", 20000));
    KUBECTL_OK("patch", "pod/crash", "--subresource=status", "--type=merge", "-p",
               "{\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\"}}");
    char *out = wait_for_output(path, "Evicted", 20000);
    /* One header, then the rows: the first event's columns only. */
    char *l = line_of(out, "NAME");
    CELLS(l, "NAME", "READY", "STATUS", "RESTARTS", "AGE");
    free(l);
    CHECK(strstr(strstr(out, "NAME") + 1, "NAME ") == NULL);
    l = line_of(strstr(out, "\ncrash") + 1, "crash");
    CELLS(l, "crash", "0/1", "Pending", "0");
    free(l);
    l = line_of(strstr(strstr(out, "\ncrash") + 1, "\ncrash") + 1, "crash");
    CELLS(l, "crash", "0/1", "Evicted", "0");
    free(l);
    free(out);
    stop_watcher(NULL);
}
