/* deploy.c — Deployment benchmark on two real nodes: one `orcd server` with
 * its embedded agent plus one `orcd agent` process (real containers from the
 * local registry). N bare pods with nodeName set (half on each node), then a
 * Deployment of N replicas placed by the scheduler, each timed from the
 * first API call to all pods Running and Ready (and the Deployment
 * reporting them available). BENCH_REPLICAS sets N (default 20 for a short
 * run; the figure is 100). Prints a markdown table on stdout. */
#include "tests/e2e/wlfx.h"
#include "tests/bench/bench.h"

/* The second node: an `orcd agent` of its own. */
static struct {
    char node[64], dir[600], ip[32], listen[64], log[700], state[512], tag[9];
    pid_t pid;
} N2;

static int ready_pods(int *total)
{
    json_t *l = wl_get("/api/v1/namespaces/default/pods"), *p, *c;
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
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/apis/apps/v1/namespaces/%s/deployments",
                                        "/apis/apps/v1/namespaces/%s/replicasets",
                                        "/api/v1/namespaces/%s/pods", NULL};
    if (!wl_delete_all(nss, paths, 120000)) test_fail_later("pods left 120 s after delete");
}

static void cleanup(void *arg)
{
    (void)arg;
    if (C.m[0].pid > 0) delete_everything();
}

static void node2_start(void)
{
    const char *argv[] = {t_bin("orcd"), "agent", "--server", C.m[0].url, "--token", C.token,
                          "--node-name", N2.node, "--data-dir", N2.dir, "--listen", N2.listen,
                          "--node-ip", N2.ip, NULL};
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(N2.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    N2.pid = pid;
}

static void node2_stop(void *arg)
{
    int st;
    (void)arg;
    if (N2.pid <= 0) return;
    kill(N2.pid, SIGTERM);
    for (int i = 0; i < 200 && waitpid(N2.pid, &st, WNOHANG) == 0; i++) usleep(50 * 1000);
    if (waitpid(N2.pid, &st, WNOHANG) == 0) {
        kill(N2.pid, SIGKILL);
        waitpid(N2.pid, &st, 0);
    }
    N2.pid = 0;
}

/* Whatever the second agent left on the host (rtfx's nuke works on F). */
static void node2_nuke(void *arg)
{
    char state[512], tag[9];
    (void)arg;
    if (!N2.node[0]) return;
    memcpy(state, F.state, sizeof state);
    memcpy(tag, F.tag, sizeof tag);
    memcpy(F.state, N2.state, sizeof F.state);
    memcpy(F.tag, N2.tag, sizeof F.tag);
    fx_nuke();
    memcpy(F.state, state, sizeof F.state);
    memcpy(F.tag, tag, sizeof F.tag);
    fx_sh("'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; "
          "grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
          "xargs -r umount -l; true",
          t_bin("orcd"), N2.node, N2.dir, N2.dir, N2.dir);
}

static double wait_all_ready(int n, double t0, unsigned timeout_ms)
{
    for (;;) {
        int total = 0, ready = ready_pods(&total);
        if (ready >= n) return bench_now_ms() - t0;
        CHECKF(bench_now_ms() - t0 < timeout_ms, "%d of %d pods ready after %u ms", ready, n, timeout_ms);
        usleep(100 * 1000);
    }
}

static const char *cmd = "trap 'exit 0' TERM; while true; do sleep 1; done";

static double bare_pods(int n)
{
    char body[1024], path[] = "/api/v1/namespaces/default/pods";
    double t0 = bench_now_ms();
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"bare-%03d\",\"labels\":{\"app\":\"bare\"}},\"spec\":{"
                 "\"nodeName\":"
                 "\"%s\",\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\","
                 "\"image\":\"%s\","
                 "\"command\":[\"sh\",\"-c\",\"%s\"]}]}}",
                 i, i % 2 ? N2.node : node, F.image, cmd);
        CHECK_INT(t_http(&C, 0, "POST", path, NULL, body, NULL, NULL), ==, 201);
    }
    return wait_all_ready(n, t0, 300000);
}

static double deployment(int n, double *avail_ms)
{
    char body[2048];
    double t0 = bench_now_ms();
    snprintf(
        body, sizeof body,
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":"
        "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":"
        "{\"terminationGracePeriodSeconds\":2,\"containers\":[{\"name\":\"c\","
        "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"]}]}}}}",
        n, F.image, cmd);
    CHECK_INT(t_http(&C, 0, "POST", "/apis/apps/v1/namespaces/default/deployments", NULL, body,
                     NULL, NULL),
              ==, 201);
    double ready = wait_all_ready(n, t0, 300000);
    for (;;) {
        json_t *d = wl_get("/apis/apps/v1/namespaces/default/deployments/web");
        json_int_t a = json_integer_value(orc_json_get(d, "status.availableReplicas"));
        json_decref(d);
        if (a >= n) break;
        CHECKF(bench_now_ms() - t0 < 300000, "deployment not available");
        usleep(50 * 1000);
    }
    *avail_ms = bench_now_ms() - t0;
    return ready;
}

/* How many of the pods run on the first node. */
static int on_first_node(void)
{
    json_t *l = wl_get("/api/v1/namespaces/default/pods"), *p;
    size_t i;
    int k = 0;
    json_array_foreach (orc_json_get(l, "items"), i, p) {
        const char *nn = orc_json_str(p, "spec.nodeName");
        k += nn && !strcmp(nn, node);
    }
    json_decref(l);
    return k;
}

TEST_T(deployment_beside_bare_pods, 900)
{
    const char *env = getenv("BENCH_REPLICAS");
    int n = env && atoi(env) > 0 ? atoi(env) : 20;
    static char cidr[32];
    const char *extra[] = {"--node-name", node, "--cluster-cidr", cidr, NULL};

    fx_setup(true, false);
    snprintf(N2.node, sizeof N2.node, "bench2-%d", (int)getpid());
    /* a pod CIDR of its own, so parallel runs never share routes */
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));
    test_defer(node2_nuke, NULL);
    wl_init("bench", NULL);
    snprintf(N2.dir, sizeof N2.dir, "%.500s/agent2", test_tmpdir());
    snprintf(N2.log, sizeof N2.log, "%.500s/agent2.log", test_tmpdir());
    snprintf(N2.state, sizeof N2.state, "%.500s/rt", N2.dir);
    rt_node_tag(N2.node, N2.tag);
    cluster_start(&C, extra);
    test_defer(node2_stop, NULL);
    test_defer(cleanup, NULL);
    snprintf(N2.ip, sizeof N2.ip, "%.*s.201", (int)(strrchr(C.m[0].ip, '.') - C.m[0].ip), C.m[0].ip);
    snprintf(N2.listen, sizeof N2.listen, "%s:10250", N2.ip);
    node2_start();
    wl_wait_node(node, 30000);
    wl_wait_node(N2.node, 30000);

    double bare = bare_pods(n);
    delete_everything();
    double avail = 0, dep = deployment(n, &avail);
    int first = on_first_node();
    printf("| %d pods on two nodes, %ld cores | all Running and Ready | Deployment available |\n", n,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("|---|---|---|\n");
    printf("| bare pods with nodeName (%d + %d) | %.0f ms | |\n", (n + 1) / 2, n / 2, bare);
    printf("| Deployment (scheduler: %d + %d) | %.0f ms | %.0f ms |\n", first, n - first, dep, avail);
    fflush(stdout);
}
