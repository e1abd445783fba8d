/* test_top.c — resource metrics end to end: one `orcd server` with its
 * embedded agent scraped every 2 s; a busybox pod burning a CPU and an
 * idle one. `kubectl top pods` shows the burner near a core and the idle
 * one low, `orctl top pods --sort-by=cpu` lists the burner first, `kubectl
 * top nodes` shows the node, and the agent's /metrics/resource through the
 * node proxy has the pods' series. */
#include <stdio.h>

#include "agent/stats.h"
#include "tests/e2e/wlfx.h"

/* The millicores `kubectl top pods` (or orctl's) printed for pod `name`
 * in out; -1 when it is not listed. */
static long cpu_of(const char *out, const char *name)
{
    size_t nl = strlen(name);

    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, name, nl) == 0 && l[nl] == ' ') return strtol(l + nl + strspn(l + nl, " "), NULL, 10);
    return -1;
}

/* Polls `kubectl top pods` until both pods are listed; its output (free). */
static char *wait_top_pods(unsigned timeout_ms)
{
    static const char *const words[] = {"top", "pods", NULL};
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        char *out = NULL, *err = NULL;
        int rc = run_kubectl(&C, &out, &err, words);
        if (rc == 0 && cpu_of(out, "burner") >= 0 && cpu_of(out, "idler") >= 0) {
            free(err);
            return out;
        }
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "kubectl top pods: exit %d\n%s\n%s", rc, out, err);
        }
        free(out);
        free(err);
        usleep(500 * 1000);
    }
}

/* The burner's own CPU use, millicores over 2 s, from its pod's cgroup
 * read here (v2 when the unified hierarchy is mounted, else cpuacct). */
static long cgroup_millicores(const char *pod)
{
    char path[300], dir[600];
    json_t *p;
    struct agent_cstats a, b;
    bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", pod);
    p = wl_get(path);
    snprintf(dir, sizeof dir, "/sys/fs/cgroup%s/orc-%s/pod-%s", v2 ? "" : "/cpuacct", F.tag,
             orc_json_str(p, "metadata.uid"));
    json_decref(p);
    CHECKF(agent_stats_cgroup(dir, NULL, v2, &a) == 0, "no cgroup at %s", dir);
    sleep(2);
    CHECKF(agent_stats_cgroup(dir, NULL, v2, &b) == 0, "no cgroup at %s", dir);
    return (long)((b.cpu_ns - a.cpu_ns) / 1000 / (uint64_t)((b.time_ns - a.time_ns) / 1000000));
}

/* Whether the machine has less than a free core (other tests, builds). */
static bool machine_busy(void)
{
    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");

    if (f && fscanf(f, "%lf", &load) != 1) load = 0;
    if (f) fclose(f);
    return load > (double)sysconf(_SC_NPROCESSORS_ONLN) - 1;
}

TEST_T(top_shows_the_burning_pod, 90)
{
    const char *extra[] = {"--node-name", node, "--metric-resolution", "2s", NULL};
    char *out, *err, path[300];
    long burn, idle;

    if (!run_have_kubectl()) return;
    fx_setup(true, false);
    wl_init("top", wl_delete_default_pods);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    wl_make_pod("burner", "burn", "while :; do :; done");
    wl_make_pod("idler", "idle", "trap 'exit 0' TERM; while true; do sleep 1; done");
    wl_wait_running("burner", 30000);
    wl_wait_running("idler", 30000);

    /* a rate needs two scrapes after the containers started; the burner
     * then shows most of a core (the machine is shared: > 500m) */
    out = wait_top_pods(30000);
    burn = cpu_of(out, "burner");
    idle = cpu_of(out, "idler");
    for (int i = 0; i < 10 && burn <= 500 && !machine_busy(); i++) {
        free(out);
        sleep(2);
        out = wait_top_pods(10000);
        burn = cpu_of(out, "burner");
        idle = cpu_of(out, "idler");
    }
    /* On an idle machine the burner has its core; on a busy one it has
     * what the scheduler gives it, which its cgroup tells independently. */
    if (!machine_busy()) CHECKF(burn > 500, "burner at %ldm:\n%s", burn, out);
    {
        long real = cgroup_millicores("burner");
        CHECKF(burn > real / 2 && burn < real * 2 + 100, "top says %ldm, the cgroup %ldm:\n%s", burn, real, out);
        CHECKF(burn > 100, "burner at %ldm:\n%s", burn, out);
    }
    CHECKF(idle >= 0 && idle < 100, "idler at %ldm:\n%s", idle, out);
    CHECK_HAS(out, "CPU(cores)");
    CHECK_HAS(out, "MEMORY(bytes)");
    free(out);

    /* orctl: sorted by CPU, the burner first; label selector; containers */
    CHECK_INT(run_orctl(&C, &out, &err, "top", "pods", "--sort-by=cpu", NULL), ==, 0);
    CHECKF(strncmp(out, "NAME", 4) == 0 && strstr(out, "\nburner ") && strstr(out, "\nidler ")
               && strstr(out, "\nburner ") < strstr(out, "\nidler "),
           "orctl top pods --sort-by=cpu:\n%s%s", out, err);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&C, &out, &err, "top", "pods", "-l", "app=idle", "--containers", NULL), ==, 0);
    CHECK_HAS(out, "POD");
    CHECK_HAS(out, "idler ");
    CHECK_HAS(out, " main ");
    CHECK_LACKS(out, "burner");
    free(out);
    free(err);
    CHECK_INT(run_orctl(&C, &out, &err, "top", "pods", "-A", NULL), ==, 0);
    CHECK_HAS(out, "NAMESPACE");
    CHECK_HAS(out, "default ");
    free(out);
    free(err);

    /* one by name; and `kubectl get` prints metrics-server's Table */
    {
        static const char *const one[] = {"top", "pod", "idler", "--containers", NULL};
        static const char *const get[] = {"get", "podmetrics", NULL};
        out = run_kubectl_rc(&C, 0, NULL, one);
        CHECK_HAS(out, "idler ");
        CHECK_HAS(out, " main ");
        CHECK_LACKS(out, "burner");
        free(out);
        out = run_kubectl_rc(&C, 0, NULL, get);
        CHECKF(strncmp(out, "NAME", 4) == 0 && strstr(out, "WINDOW") && strstr(out, "\nburner "), "%s", out);
        free(out);
    }

    /* nodes, as kubectl and orctl show them */
    {
        static const char *const words[] = {"top", "nodes", NULL};
        out = run_kubectl_rc(&C, 0, NULL, words);
        CHECK_HAS(out, "CPU(%)");
        CHECK_HAS(out, node);
        free(out);
    }
    CHECK_INT(run_orctl(&C, &out, &err, "top", "nodes", NULL), ==, 0);
    CHECK_HAS(out, "MEMORY(%)");
    CHECK_HAS(out, node);
    free(out);
    free(err);

    /* the agent's own series, through the API's node proxy */
    snprintf(path, sizeof path, "/api/v1/nodes/%s/proxy/metrics/resource", node);
    {
        const char *const words[] = {"get", "--raw", path, NULL};
        out = run_kubectl_rc(&C, 0, NULL, words);
        CHECK_HAS(out, "container_cpu_usage_seconds_total{container=\"main\",namespace=\"default\",pod=\"burner\"}");
        CHECK_HAS(out, "pod_memory_working_set_bytes{namespace=\"default\",pod=\"idler\"}");
        CHECK_HAS(out, "node_cpu_usage_seconds_total ");
        CHECK_HAS(out, "scrape_error 0");
        free(out);
    }
    snprintf(path, sizeof path, "/api/v1/nodes/%s/proxy/stats/summary", node);
    {
        const char *const words[] = {"get", "--raw", path, NULL};
        out = run_kubectl_rc(&C, 0, NULL, words);
        CHECK_HAS(out, "\"nodeName\":\"");
        CHECK_HAS(out, "\"podRef\":{\"name\":\"burner\"");
        free(out);
    }
    /* RBAC: view reads metrics.k8s.io (aggregated, as metrics-server's
     * role); nodes/proxy stays the administrator's */
    {
        const char *rb = "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
                         "\"metadata\":{\"name\":\"jane-view\"},\"roleRef\":{\"apiGroup\":"
                         "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"view\"},"
                         "\"subjects\":[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"User\","
                         "\"name\":\"jane\"}]}";
        const char *const top_as[] = {"--as=jane", "top", "pods", NULL};
        const char *const proxy_as[] = {"--as=jane", "get", "--raw", path, NULL};
        int status = t_http(&C, 0, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                            NULL, rb, NULL, NULL);
        CHECK_INT(status, ==, 201);
        out = run_kubectl_rc(&C, 0, NULL, top_as);
        CHECK_HAS(out, "burner");
        free(out);
        out = run_kubectl_rc(&C, 1, &err, proxy_as);
        CHECK_HAS(err, "nodes/proxy");
        free(out);
        free(err);
    }
    /* only the metrics paths: the port's logs and exec stay behind pods/ */
    snprintf(path, sizeof path, "/api/v1/nodes/%s/proxy/containerLogs/default/burner/main", node);
    {
        const char *const words[] = {"get", "--raw", path, NULL};
        out = run_kubectl_rc(&C, 1, &err, words);
        CHECK_HAS(err, "NotFound");
        free(out);
        free(err);
    }
}
