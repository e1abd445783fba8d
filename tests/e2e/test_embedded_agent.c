/* test_embedded_agent.c — one `orcd server` with its embedded node agent is a
 * whole cluster: its node registers, a pod runs, logs and goes away on delete. */
#include "tests/e2e/wlfx.h"

static json_t *pod_get(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    return wl_get(path);
}

/* Before the harness stops the server (its containers would keep running). */
static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

static json_t *wait_running(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *p = pod_get(name);
        const char *ph = orc_json_str(p, "status.phase");
        if (ph && strcmp(ph, "Running") == 0
            && json_is_true(orc_json_get(json_array_get(orc_json_get(p, "status.containerStatuses"), 0), "ready")))
            return p;
        if (test_now_ms() >= end) {
            char *s = p ? orc_json_dumps(orc_json_get(p, "status")) : NULL;
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s not running after %u ms; status %s", name, timeout_ms,
                      s ? s : "(no pod)");
        }
        json_decref(p);
        usleep(100 * 1000);
    }
}

static size_t containers_left(void)
{
    char dir[700];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/containers", F.state);
    if ((d = opendir(dir)) == NULL) return 0;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

TEST_T(embedded_agent_runs_a_pod, 120)
{
    const char *extra[] = {"--node-name", node, NULL};
    char body[2048], path[256], *log = NULL, *out, *err;
    json_t *n, *p;
    int status;
    uint64_t end;

    fx_setup(true, false); /* the registry with the test image (F.image) */
    wl_init("emb", delete_pods_at_end);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    n = wl_get(path);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(n, "status.addresses"), 0), "address"), C.m[0].ip);
    /* every nodeInfo field a kubelet fills: client libraries refuse a Node without them */
    static const char *const info[] = {"machineID", "systemUUID", "bootID", "kernelVersion",
                                       "osImage", "containerRuntimeVersion", "kubeletVersion",
                                       "kubeProxyVersion", "operatingSystem", "architecture"};
    for (size_t i = 0; i < sizeof info / sizeof info[0]; i++) {
        const char *v = orc_json_str(orc_json_get(n, "status.nodeInfo"), info[i]);
        CHECKF(v && *v, "status.nodeInfo.%s is %s", info[i], v ? "empty" : "missing");
    }
    json_decref(n);

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"hello\"},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":5,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo hello from %s; trap 'exit 0' TERM; "
             "while true; do sleep 0.1; done\"]}]}}",
             node, F.image, node);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &log, NULL);
    CHECKF(status == 201, "create pod: %d %s", status, log ? log : "");
    free(log);
    p = wait_running("hello", 30000);
    CHECK_STR(orc_json_str(p, "status.hostIP"), C.m[0].ip);
    CHECK(orc_json_str(p, "status.podIP") != NULL);
    json_decref(p);
    CHECK_INT(containers_left(), ==, 1);

    /* its log through the API, as a client reads it and as orctl shows it */
    status = t_http(&C, 0, "GET", "/api/v1/namespaces/default/pods/hello/log", NULL, NULL, &log, NULL);
    CHECKF(status == 200, "log: %d %s", status, log ? log : "");
    snprintf(body, sizeof body, "hello from %s\n", node);
    CHECK_STR(log, body);
    free(log);
    CHECK_INT(run_orctl(&C, &out, &err, "logs", "hello", NULL), ==, 0);
    CHECK_STR(out, body);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&C, &out, &err, "exec", "hello", "--", "hostname", NULL), ==, 0);
    CHECK_STR(out, "hello\n");
    free(out);
    free(err);

    /* deleted: the pod goes away and so does its container */
    status = t_http(&C, 0, "DELETE", "/api/v1/namespaces/default/pods/hello", NULL, NULL, NULL, NULL);
    CHECK_INT(status, ==, 200);
    end = test_now_ms() + 15000;
    while ((p = pod_get("hello")) != NULL && test_now_ms() < end) {
        json_decref(p);
        usleep(100 * 1000);
    }
    if (p) wl_dump_log();
    CHECKF(p == NULL, "pod hello still there 15 s after delete");
    end = test_now_ms() + 5000;
    while (containers_left() > 0 && test_now_ms() < end) usleep(100 * 1000);
    CHECKF(containers_left() == 0, "%zu containers left in %s/containers after the pod was deleted",
           containers_left(), F.state);
}
