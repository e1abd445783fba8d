/* deploy.c — Deployment benchmark: one `orcd server` with its embedded agent
 * (real containers from the local registry); N bare pods with nodeName set,
 * then a Deployment of N replicas, each timed from the API call to all pods
 * Running and Ready (and the Deployment reporting them available).
 * BENCH_REPLICAS sets N (default 20 for a short run; the figure is
 * 100). Prints a markdown table on stdout. */
#include "lib/json.h"
#include "tests/agent/rtfx.h"
#include "tests/cli/run.h"

static struct cluster C;
static char node[64];
static char agent_dir[600];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static json_t *get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&C, 0, "GET", path, NULL, &status);
    if (status == 200) return j;
    json_decref(j);
    return NULL;
}

static int ready_pods(int *total)
{
    json_t *l = get("/api/v1/namespaces/default/pods"), *p, *c;
    size_t i, j;
    int ready = 0;
    *total = 0;
    json_array_foreach (orc_json_get(l, "items"), i, p) {
        if (orc_json_get(p, "metadata.deletionTimestamp")) continue;
        (*total)++;
        json_array_foreach (orc_json_get(p, "status.conditions"), j, c) {
            const char *t = orc_json_str(c, "type"), *st = orc_json_str(c, "status");
            if (t && st && !strcmp(t, "Ready") && !strcmp(st, "True")) ready++;
        }
    }
    json_decref(l);
    return ready;
}

static void delete_everything(void)
{
    t_http(&C, 0, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL, NULL, NULL);
    for (int round = 0; round < 600; round++) {
        json_t *rl = get("/apis/apps/v1/namespaces/default/replicasets"), *r;
        json_t *l = get("/api/v1/namespaces/default/pods"), *p;
        size_t i, left = json_array_size(orc_json_get(l, "items"));
        char path[512];
        json_array_foreach (orc_json_get(rl, "items"), i, r) {
            snprintf(path, sizeof path, "/apis/apps/v1/namespaces/default/replicasets/%s",
                     orc_json_str(r, "metadata.name"));
            t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        json_array_foreach (orc_json_get(l, "items"), i, p) {
            if (orc_json_get(p, "metadata.deletionTimestamp")) continue;
            snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", orc_json_str(p, "metadata.name"));
            t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        json_decref(rl);
        json_decref(l);
        if (left == 0) return;
        usleep(200 * 1000);
    }
    test_fail_later("pods left 120 s after delete");
}

static void cleanup(void *arg)
{
    (void)arg;
    if (C.m[0].pid > 0) delete_everything();
}

static void nuke_node(void *arg)
{
    (void)arg;
    if (!node[0]) return;
    fx_nuke();
    fx_sh("'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; "
          "grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
          "xargs -r umount -l; true",
          t_bin("orcd"), node, agent_dir, agent_dir, agent_dir);
}

static double wait_all_ready(int n, double t0, unsigned timeout_ms)
{
    for (;;) {
        int total = 0, ready = ready_pods(&total);
        if (ready >= n) return now_ms() - t0;
        CHECKF(now_ms() - t0 < timeout_ms, "%d of %d pods ready after %u ms", ready, n, timeout_ms);
        usleep(100 * 1000);
    }
}

static const char *cmd = "trap 'exit 0' TERM; while true; do sleep 1; done";

static double bare_pods(int n)
{
    char body[1024], path[] = "/api/v1/namespaces/default/pods";
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"bare-%03d\",\"labels\":{\"app\":\"bare\"}},\"spec\":{\"nodeName\":"
                 "\"%s\",\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
                 "\"command\":[\"sh\",\"-c\",\"%s\"]}]}}",
                 i, node, F.image, cmd);
        CHECK_INT(t_http(&C, 0, "POST", path, NULL, body, NULL, NULL), ==, 201);
    }
    return wait_all_ready(n, t0, 300000);
}

static double deployment(int n, double *avail_ms)
{
    char body[2048];
    double t0 = now_ms();
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":"
             "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":"
             "{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"]}]}}}}",
             n, node, F.image, cmd);
    CHECK_INT(t_http(&C, 0, "POST", "/apis/apps/v1/namespaces/default/deployments", NULL, body, NULL,
                     NULL), ==, 201);
    double ready = wait_all_ready(n, t0, 300000);
    for (;;) {
        json_t *d = get("/apis/apps/v1/namespaces/default/deployments/web");
        json_int_t a = json_integer_value(orc_json_get(d, "status.availableReplicas"));
        json_decref(d);
        if (a >= n) break;
        CHECKF(now_ms() - t0 < 300000, "deployment not available");
        usleep(50 * 1000);
    }
    *avail_ms = now_ms() - t0;
    return ready;
}

TEST_T(deployment_beside_bare_pods, 900)
{
    const char *env = getenv("BENCH_REPLICAS");
    int n = env && atoi(env) > 0 ? atoi(env) : 20;
    const char *extra[] = {"--node-name", node, NULL};

    fx_setup(true, false);
    snprintf(node, sizeof node, "bench-%d", (int)getpid());
    test_defer(nuke_node, NULL);
    cluster_init(&C, 1);
    C.with_agent = true;
    snprintf(agent_dir, sizeof agent_dir, "%.500s/agent", C.m[0].dir);
    snprintf(F.state, sizeof F.state, "%.500s/rt", agent_dir);
    snprintf(F.node, sizeof F.node, "%s", node);
    rt_node_tag(F.node, F.tag);
    test_defer(cleanup, NULL);
    cluster_start(&C, extra);
    for (double t0 = now_ms();;) {
        char path[256];
        snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
        json_t *nd = get(path);
        json_decref(nd);
        if (nd) break;
        CHECKF(now_ms() - t0 < 20000, "node did not register");
        usleep(100 * 1000);
    }
    double bare = bare_pods(n);
    delete_everything();
    double avail = 0, dep = deployment(n, &avail);
    printf("| %d pods on one node, %ld cores | all Running and Ready | Deployment available |\n", n,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("|---|---|---|\n");
    printf("| bare pods with nodeName | %.0f ms | |\n", bare);
    printf("| Deployment (ReplicaSet, slow-start creates) | %.0f ms | %.0f ms |\n", dep, avail);
    fflush(stdout);
}
