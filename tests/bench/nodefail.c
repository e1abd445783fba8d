/* nodefail.c — node failure benchmark: seconds from SIGKILL of a node agent
 * to its ReplicaSet's pods Running on another node. One `orcd server` (its
 * controller manager: scheduler, ReplicaSet and node lifecycle controllers)
 * with the fixture's agent (the victim) and a second agent (the survivor);
 * the survivor is cordoned while the ReplicaSet's NODEFAIL_PODS pods
 * (default 4) start, so they all land on the victim; then it is uncordoned
 * and the victim killed. Prints a markdown table: the node Unknown, the
 * pods deleted, replacements Running. Server flags from
 * NODEFAIL_SERVER_FLAGS (default "--node-monitor-grace-period=5s
 * --pod-eviction-timeout=5s"). Needs root, runc and the registry, like
 * tests/bench/pods.c. Run: `O=build ./build/tests/bench/nodefail`. */
#include "tests/agent/agentfx.h"

#define WAIT_MS 120000

static struct survivor {
    char node[64], dir[600], ip[32], listen[64], log[700];
    pid_t pid;
} S;

static int npods(void)
{
    const char *e = getenv("NODEFAIL_PODS");
    int n = e ? atoi(e) : 4;
    return n < 1 ? 1 : n > 50 ? 50 : n;
}

/* ---- the survivor: a second `orcd agent` on the next loopback address ---- */

static void survivor_start(void)
{
    const char *argv[] = {t_bin("orcd"), "agent", "--server", AC.m[0].url, "--token", AC.token,
                          "--node-name", S.node, "--data-dir", S.dir, "--listen", S.listen,
                          "--node-ip", S.ip, "--lease-seconds", "6", NULL};
    pid_t pid = fork();

    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(S.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    S.pid = pid;
}

/* Kills it by pid and removes its containers, cgroups and network state
 * (fx_nuke works on F: pointed at the survivor for the call). */
static void survivor_teardown(void *arg)
{
    char state[512], node[64], tag[9];
    int st;

    (void)arg;
    if (S.pid > 0) {
        kill(S.pid, SIGKILL);
        waitpid(S.pid, &st, 0);
        S.pid = 0;
    }
    memcpy(state, F.state, sizeof state);
    memcpy(node, F.node, sizeof node);
    memcpy(tag, F.tag, sizeof tag);
    snprintf(F.state, sizeof F.state, "%.500s/rt", S.dir);
    snprintf(F.node, sizeof F.node, "%s", S.node);
    rt_node_tag(F.node, F.tag);
    fx_nuke();
    fx_sh("'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; true", t_bin("orcd"),
          S.node, S.dir);
    memcpy(F.state, state, sizeof state);
    memcpy(F.node, node, sizeof node);
    memcpy(F.tag, tag, sizeof tag);
}

/* ---- the API ---- */

static int call(const char *method, const char *path, const char *ctype, const char *body)
{
    char *resp = NULL;
    int st = t_http(&AC, 0, method, path, ctype, body, &resp, NULL);
    free(resp);
    return st;
}

static void cordon(const char *node, bool on)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    CHECK_INT(call("PATCH", path, "application/merge-patch+json",
                   on ? "{\"spec\":{\"unschedulable\":true}}" : "{\"spec\":{\"unschedulable\":false}}"), ==, 200);
}

static bool node_registered(const char *node)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    json_t *n = afx_get(path);
    bool ok = n && orc_json_str(n, "spec.podCIDR");
    json_decref(n);
    return ok;
}

static bool node_ready_is(const char *node, const char *want)
{
    char path[256];
    size_t i;
    json_t *n, *c;
    bool ok = false;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    n = afx_get(path);
    json_array_foreach(orc_json_get(n, "status.conditions"), i, c) {
        if (strcmp(orc_json_str(c, "type") ?: "", "Ready") == 0)
            ok = strcmp(orc_json_str(c, "status") ?: "", want) == 0;
    }
    json_decref(n);
    return ok;
}

/* Pods of the ReplicaSet: Running and ready on `node`, and any on it. */
static void count_pods(const char *node, int *running, int *on_node)
{
    json_t *list = afx_get("/api/v1/namespaces/default/pods?labelSelector=app%3Dnodefail"), *p;
    size_t i;

    *running = *on_node = 0;
    json_array_foreach(orc_json_get(list, "items"), i, p) {
        const char *n = orc_json_str(p, "spec.nodeName");
        if (!n || strcmp(n, node) != 0) continue;
        (*on_node)++;
        if (!orc_json_get(p, "metadata.deletionTimestamp") && afx_running_ready(p, NULL)) (*running)++;
    }
    json_decref(list);
}

static void replicaset(int n)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"nodefail\"},"
             "\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{\"app\":\"nodefail\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"nodefail\"}},\"spec\":{"
             "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sleep\",\"3600\"]}]}}}}", n, F.image);
    afx_create("/apis/apps/v1/namespaces/default/replicasets", body);
}

static double secs_since(uint64_t t0) { return (double)(test_now_ms() - t0) / 1000.0; }

TEST_T(node_failure, 400)
{
    static char flags_buf[512];
    static const char *flags[16];
    const char *env = getenv("NODEFAIL_SERVER_FLAGS");
    int n = npods(), running = 0, on = 0, nf = 0;
    double t_unknown = -1, t_deleted = -1, t_replaced = -1;
    uint64_t end, t0;

    snprintf(flags_buf, sizeof flags_buf, "%s",
             env ? env : "--node-monitor-grace-period=5s --pod-eviction-timeout=5s");
    for (char *tok = strtok(flags_buf, " "); tok && nf < 15; tok = strtok(NULL, " ")) flags[nf++] = tok;
    flags[nf] = NULL;
    AFX_SERVER_EXTRA = flags;
    afx_setup();
    snprintf(S.node, sizeof S.node, "survivor-%d", (int)getpid());
    snprintf(S.dir, sizeof S.dir, "%s/survivor", test_tmpdir());
    snprintf(S.log, sizeof S.log, "%s/survivor.log", test_tmpdir());
    snprintf(S.ip, sizeof S.ip, "%.*s.201", (int)(strrchr(AC.m[0].ip, '.') - AC.m[0].ip), AC.m[0].ip);
    snprintf(S.listen, sizeof S.listen, "%s:10250", S.ip);
    test_defer(survivor_teardown, NULL);
    survivor_start();
    for (end = test_now_ms() + 20000; !node_registered(S.node); usleep(100 * 1000))
        CHECKF(test_now_ms() < end, "the survivor node did not register (log %s)", S.log);

    cordon(S.node, true);
    replicaset(n);
    for (end = test_now_ms() + WAIT_MS; count_pods(A.node, &running, &on), running < n; usleep(200 * 1000))
        CHECKF(test_now_ms() < end, "%d of %d pods Running on %s (needs the scheduler and the ReplicaSet "
               "controller in orcd)", running, n, A.node);
    cordon(S.node, false);

    afx_agent_kill();
    t0 = test_now_ms();
    for (end = t0 + WAIT_MS; t_replaced < 0; usleep(100 * 1000)) {
        int victim_running, victim_any;
        count_pods(A.node, &victim_running, &victim_any);
        count_pods(S.node, &running, &on);
        if (t_unknown < 0 && node_ready_is(A.node, "Unknown")) t_unknown = secs_since(t0);
        if (t_deleted < 0 && victim_any == 0) t_deleted = secs_since(t0);
        if (running >= n) t_replaced = secs_since(t0);
        CHECKF(test_now_ms() < end, "after %d s: %d of %d pods Running on the survivor", WAIT_MS / 1000,
               running, n);
    }
    printf("\n| node failure (%d pods, %s) | seconds after SIGKILL |\n|---|---|\n", n,
           env ? env : "--node-monitor-grace-period=5s --pod-eviction-timeout=5s");
    printf("| node Ready=Unknown | %.1f |\n", t_unknown);
    printf("| its pods deleted | %.1f |\n", t_deleted);
    printf("| replacements Running elsewhere | %.1f |\n", t_replaced);
    fflush(stdout);
}
