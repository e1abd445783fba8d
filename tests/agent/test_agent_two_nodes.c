/* test_agent_two_nodes.c — two real node agents under one `orcd server`
 * running its controller manager (scheduler, ReplicaSet, DaemonSet, node
 * lifecycle) with short periods (--node-monitor-grace-period 3s,
 * --pod-eviction-timeout 3s): a DaemonSet's pod follows a node joining;
 * SIGKILL of an agent gets its ReplicaSet's pods replaced on the other
 * node, the DaemonSet's pod staying; the dead node deleted, its pods go.
 * Root only (real containers). */
#include "tests/agent/agentfx.h"
#include "tests/agent/secondfx.h"

#define PODS "/api/v1/namespaces/default/pods"

static void call(const char *method, const char *path, const char *body, int want)
{
    char *resp = NULL;
    int st = t_http(&AC, 0, method, path, body ? "application/merge-patch+json" : NULL, body, &resp, NULL);
    CHECKF(st == want, "%s %s: %d %s", method, path, st, resp ? resp : "");
    free(resp);
}

/* Pods with label app=APP Running and ready on `node`; any on it. */
static int running_on(const char *app, const char *node, int *any)
{
    char path[256];
    json_t *list, *p;
    size_t i;
    int n = 0, all = 0;

    snprintf(path, sizeof path, PODS "?labelSelector=app%%3D%s", app);
    list = afx_get(path);
    json_array_foreach(orc_json_get(list, "items"), i, p) {
        const char *on = orc_json_str(p, "spec.nodeName");
        if (!on || strcmp(on, node) != 0) continue;
        all++;
        if (!orc_json_get(p, "metadata.deletionTimestamp") && afx_running_ready(p, NULL)) n++;
    }
    json_decref(list);
    if (any) *any = all;
    return n;
}

static void wait_running(const char *app, const char *node, int want, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    int n;
    while ((n = running_on(app, node, NULL)) < want) {
        CHECKF(test_now_ms() < end, "%d of %d %s pods running on %s after %u ms", n, want, app, node, ms);
        usleep(200 * 1000);
    }
}

/* A DaemonSet or ReplicaSet (replicas > 0) named and labelled `app`. */
static void workload(const char *kind, const char *app, int replicas)
{
    char body[2048], path[128], reps[32] = "";

    if (replicas > 0) snprintf(reps, sizeof reps, "\"replicas\":%d,", replicas);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\"},\"spec\":{%s"
             "\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},\"template\":{\"metadata\":{\"labels\":"
             "{\"app\":\"%s\"}},\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":"
             "\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}}}}",
             kind, app, reps, app, app, F.image);
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/default/%s",
             strcmp(kind, "DaemonSet") == 0 ? "daemonsets" : "replicasets");
    afx_create(path, body);
}

static void cordon(const char *node, bool on)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    call("PATCH", path, on ? "{\"spec\":{\"unschedulable\":true}}" : "{\"spec\":{\"unschedulable\":false}}", 200);
}

TEST_T(agent_killed_pods_replaced, 240)
{
    static const char *const server[] = {"--node-monitor-grace-period", "3s", "--pod-eviction-timeout",
                                         "3s", NULL};
    int any = 0;

    AFX_SERVER_EXTRA = server;
    afx_setup();
    workload("DaemonSet", "ds", 0);
    wait_running("ds", A.node, 1, 60000);

    /* A node joins: the DaemonSet's pod follows. */
    second_start("second");
    wait_running("ds", S.node, 1, 60000);

    /* The ReplicaSet's pods all on the first node, then the second open. */
    cordon(S.node, true);
    workload("ReplicaSet", "web", 2);
    wait_running("web", A.node, 2, 60000);
    cordon(S.node, false);

    afx_agent_kill();
    uint64_t t0 = test_now_ms();
    wait_running("web", S.node, 2, 60000);
    fprintf(stderr, "# replaced on %s %.1f s after SIGKILL of %s's agent\n", S.node,
            (double)(test_now_ms() - t0) / 1000.0, A.node);
    running_on("web", A.node, &any);
    CHECK_INT(any, ==, 0);
    running_on("ds", A.node, &any);
    CHECKF(any == 1, "the DaemonSet's pod left the dead node (%d there)", any);

    /* The dead node removed: its DaemonSet pod goes too. */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", A.node);
    call("DELETE", path, NULL, 200);
    uint64_t end = test_now_ms() + 20000;
    while (running_on("ds", A.node, &any), any > 0) {
        CHECKF(test_now_ms() < end, "the deleted node's DaemonSet pod is still there");
        usleep(200 * 1000);
    }
}
