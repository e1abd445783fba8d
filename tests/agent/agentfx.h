/* agentfx.h — the fixture of the node agent's end-to-end tests: a real
 * `orcd server` (no embedded agent), a real registry holding the test image,
 * and a real `orcd agent` process for one node on its own loopback address.
 * When the case ends, pass or fail, the agent is killed by pid and every
 * container, mount, cgroup, namespace, veth, bridge and iptables rule of
 * its node is removed. */
#ifndef ORC_TESTS_AGENT_AGENTFX_H
#define ORC_TESTS_AGENT_AGENTFX_H

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>

#include "lib/json.h"
#include "tests/agent/rtfx.h"

static struct cluster AC;
/* More `orcd server` flags for afx_setup (NULL-terminated), or NULL. */
static const char *const *AFX_SERVER_EXTRA;
/* How many members afx_setup starts (the agent is given member 0's URL). */
static int AFX_MEMBERS = 1;

static struct afx {
    char node[64];
    char dir[600];
    char ip[32];
    char listen[64];
    char log[700];
    pid_t pid;
    const char *extra[8];
} A;

/* The end of the agent's log on stderr, to see why a case failed. */
static inline void afx_dump_log(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    const char *from;

    if (orc_file_read(A.log, 8u << 20, &b) != 0 || b.data == NULL) return;
    from = b.len > 6000 ? b.data + b.len - 6000 : b.data;
    fprintf(stderr, "--- agent log (end)\n%s\n---\n", from);
    orc_buf_free(&b);
}

static inline void afx_agent_kill(void)
{
    int st;

    if (A.pid <= 0) return;
    kill(A.pid, SIGKILL);
    waitpid(A.pid, &st, 0);
    A.pid = 0;
}

/* SIGTERM, as a service manager stops it: it must exit 0 within 10 s
 * with no sanitizer report in its log (its containers keep running). */
static inline void afx_agent_stop(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    int st = 0;
    pid_t got = 0;

    if (A.pid <= 0) return;
    kill(A.pid, SIGTERM);
    for (int i = 0; i < 200 && (got = waitpid(A.pid, &st, WNOHANG)) == 0; i++) usleep(50 * 1000);
    if (got == 0) {
        afx_agent_kill();
        test_fail_later("the agent did not stop within 10 s of SIGTERM");
        return;
    }
    A.pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) test_fail_later("the agent exited with status %d", st);
    if (orc_file_read(A.log, 64u << 20, &b) == 0 && b.data
        && (strstr(b.data, "AddressSanitizer") || strstr(b.data, "LeakSanitizer")
            || strstr(b.data, "runtime error:"))) {
        afx_dump_log();
        test_fail_later("sanitizer report in the agent's log");
    }
    orc_buf_free(&b);
}

static inline void afx_teardown(void *arg)
{
    char cmd[4096];

    (void)arg;
    afx_agent_stop();
    fx_nuke(); /* containers, overlays, cgroups of the node (F.state, F.tag) */
    snprintf(cmd, sizeof cmd, "'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; "
             "grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
             "xargs -r umount -l; true", t_bin("orcd"), A.node, A.dir, A.dir, A.dir);
    fx_sh("%s", cmd);
}

/* Starts (or restarts) the agent process. */
static inline void afx_agent_start(void)
{
    const char *argv[36];
    char pod_logs[1200], ctr_logs[1200];
    int n = 0;
    pid_t pid;

    argv[n++] = t_bin("orcd");
    argv[n++] = "agent";
    argv[n++] = "--server";
    argv[n++] = AC.m[0].url;
    argv[n++] = "--token";
    argv[n++] = AC.token;
    argv[n++] = "--node-name";
    argv[n++] = A.node;
    argv[n++] = "--data-dir";
    argv[n++] = A.dir;
    snprintf(pod_logs, sizeof pod_logs, "%s/log/pods", A.dir);
    snprintf(ctr_logs, sizeof ctr_logs, "%s/log/containers", A.dir);
    argv[n++] = "--pod-log-dir";
    argv[n++] = pod_logs;
    argv[n++] = "--container-log-dir";
    argv[n++] = ctr_logs;
    argv[n++] = "--listen";
    argv[n++] = A.listen;
    argv[n++] = "--node-ip";
    argv[n++] = A.ip;
    argv[n++] = "--lease-seconds";
    argv[n++] = "6";
    for (int i = 0; A.extra[i] && n < 30; i++) argv[n++] = A.extra[i];
    argv[n] = NULL;
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(A.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    A.pid = pid;
}

static inline json_t *afx_get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&AC, 0, "GET", path, NULL, &status);
    if (status != 200) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Waits until the node is Ready (registered) or fails the case. */
static inline void afx_wait_node(unsigned timeout_ms)
{
    char path[256];
    uint64_t end = test_now_ms() + timeout_ms;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", A.node);
    for (;;) {
        json_t *n = afx_get(path);
        bool ok = n && orc_json_get(n, "status.conditions") && orc_json_str(n, "spec.podCIDR");
        json_decref(n);
        if (ok) return;
        if (test_now_ms() >= end) afx_dump_log();
        CHECKF(test_now_ms() < end, "node %s did not register", A.node);
        usleep(100 * 1000);
    }
}

/* Cluster, registry with the test image (F.image), agent (with extra
 * flags, NULL-terminated, may be NULL): all running. before_agent (may be
 * NULL) runs once the registry is up, before the agent starts. */
static inline void afx_setup_full(const char *const *extra, void (*before_agent)(void))
{
    fx_setup(true, false);
    memset(&A, 0, sizeof A);
    snprintf(A.node, sizeof A.node, "agent-%d", (int)getpid());
    snprintf(A.dir, sizeof A.dir, "%s/agent", test_tmpdir());
    snprintf(A.log, sizeof A.log, "%s/agent.log", test_tmpdir());
    CHECK(strlen(A.dir) + 4 < sizeof F.state);
    snprintf(F.state, sizeof F.state, "%.500s/rt", A.dir);
    snprintf(F.node, sizeof F.node, "%s", A.node);
    rt_node_tag(F.node, F.tag);
    test_defer(afx_teardown, NULL);
    /* a pod CIDR of its own, so agents of parallel runs never share routes */
    static char cidr[32];
    static const char *server_flags[24] = {"--cluster-cidr", cidr, NULL};
    int nf = 2;
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));
    for (int i = 0; AFX_SERVER_EXTRA && AFX_SERVER_EXTRA[i] && nf < 23; i++)
        server_flags[nf++] = AFX_SERVER_EXTRA[i];
    server_flags[nf] = NULL;
    cluster_init(&AC, AFX_MEMBERS);
    cluster_start(&AC, server_flags);
    snprintf(A.ip, sizeof A.ip, "%.*s.200", (int)(strrchr(AC.m[0].ip, '.') - AC.m[0].ip), AC.m[0].ip);
    snprintf(A.listen, sizeof A.listen, "%s:10250", A.ip);
    for (int i = 0; extra && extra[i] && i < 7; i++) A.extra[i] = extra[i];
    if (before_agent) before_agent();
    afx_agent_start();
    afx_wait_node(20000);
}

static inline void afx_setup_with(const char *const *extra) { afx_setup_full(extra, NULL); }
static inline void afx_setup(void) { afx_setup_full(NULL, NULL); }

static inline void afx_create(const char *path, const char *json)
{
    int status = 0;
    char *resp = NULL;

    status = t_http(&AC, 0, "POST", path, "application/json", json, &resp, NULL);
    CHECKF(status == 201, "POST %s: %d %s", path, status, resp ? resp : "");
    free(resp);
}

/* A pod on this node from a JSON spec body: {"containers":[...], ...}. */
static inline void afx_pod(const char *name, const char *spec_json)
{
    char *body = NULL;
    size_t n = strlen(spec_json) + 512;

    body = malloc(n);
    CHECK(body != NULL);
    snprintf(body, n, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":%.*s,\"nodeName\":\"%s\"}}", name, (int)strlen(spec_json) - 1, spec_json, A.node);
    afx_create("/api/v1/namespaces/default/pods", body);
    free(body);
}

/* A pod of one container "c" of the test image running `sh -c CMD`. */
static inline void afx_pod_cmd(const char *name, const char *policy, int grace_s, const char *cmd)
{
    char spec[4096];
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"%s\",\"terminationGracePeriodSeconds\":%d,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"]}]}",
             policy, grace_s, F.image, cmd);
    afx_pod(name, spec);
}

static inline json_t *afx_pod_get(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    return afx_get(path);
}

typedef bool (*afx_pred)(const json_t *pod, void *arg);

/* Polls the pod until pred holds; returns it (caller decrefs) or fails. */
static inline json_t *afx_wait_pod(const char *name, afx_pred pred, void *arg, unsigned timeout_ms,
                                   const char *what)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *p = afx_pod_get(name);
        if (p && pred(p, arg)) return p;
        if (test_now_ms() >= end) {
            char *s = p ? orc_json_dumps(orc_json_get(p, "status")) : NULL;
            afx_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s: %s not reached in %u ms; status %s; agent log %s",
                      name, what, timeout_ms, s ? s : "(no pod)", A.log);
        }
        json_decref(p);
        usleep(100 * 1000);
    }
}

static inline bool afx_phase_is(const json_t *pod, void *arg)
{
    const char *ph = orc_json_str(pod, "status.phase");
    return ph && strcmp(ph, (const char *)arg) == 0;
}

static inline json_t *afx_wait_phase(const char *name, const char *phase, unsigned timeout_ms)
{
    return afx_wait_pod(name, afx_phase_is, (void *)phase, timeout_ms, phase);
}

static inline const json_t *afx_cs(const json_t *pod, size_t i);

/* Running, its first container ready. */
static inline bool afx_running_ready(const json_t *pod, void *arg)
{
    (void)arg;
    return afx_phase_is(pod, "Running") && json_is_true(orc_json_get(afx_cs(pod, 0), "ready"));
}

/* containerStatuses[i] (borrowed). */
static inline const json_t *afx_cs(const json_t *pod, size_t i)
{
    return json_array_get(orc_json_get(pod, "status.containerStatuses"), i);
}

static inline json_t *afx_wait_ready(const char *name, unsigned timeout_ms)
{
    return afx_wait_pod(name, afx_running_ready, NULL, timeout_ms, "running and ready");
}

/* The pod's log through the API (malloc'd text; NULL on error). */
static inline char *afx_logs(const char *name, const char *query)
{
    char path[512], *resp = NULL;
    int status;

    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/log%s%s", name,
             query && *query ? "?" : "", query ? query : "");
    status = t_http(&AC, 0, "GET", path, NULL, NULL, &resp, NULL);
    if (status != 200) {
        free(resp);
        return NULL;
    }
    return resp ? resp : strdup("");
}

static inline bool afx_pod_gone(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    json_t *p;

    while ((p = afx_pod_get(name)) != NULL && test_now_ms() < end) {
        json_decref(p);
        usleep(50 * 1000);
    }
    json_decref(p);
    return p == NULL;
}

#endif
