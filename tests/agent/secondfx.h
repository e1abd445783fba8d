/* secondfx.h — a second node for the agent fixture (agentfx.h): another
 * `orcd agent` process on the next loopback address, talking to the same
 * server. When the case ends it is killed by pid and its containers,
 * cgroups and network state are removed. */
#ifndef ORC_TESTS_AGENT_SECONDFX_H
#define ORC_TESTS_AGENT_SECONDFX_H

#include "tests/agent/agentfx.h"

static struct second {
    char node[64], dir[600], ip[32], listen[64], log[700];
    pid_t pid;
} S;

static inline void second_run(void)
{
    char pod_logs[700], ctr_logs[700];
    snprintf(pod_logs, sizeof pod_logs, "%s/log/pods", S.dir);
    snprintf(ctr_logs, sizeof ctr_logs, "%s/log/containers", S.dir);
    const char *argv[] = {t_bin("orcd"), "agent", "--server", AC.m[0].url, "--token", AC.token,
                          "--node-name", S.node, "--data-dir", S.dir, "--listen", S.listen,
                          "--node-ip", S.ip, "--lease-seconds", "6", "--pod-log-dir", pod_logs,
                          "--container-log-dir", ctr_logs, NULL};
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
static inline void second_teardown(void *arg)
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

/* Starts the second agent, node "<prefix>-<pid>", and waits until it has
 * registered (with a pod CIDR). */
static inline void second_start(const char *prefix)
{
    char path[256];
    uint64_t end;

    snprintf(S.node, sizeof S.node, "%s-%d", prefix, (int)getpid());
    snprintf(S.dir, sizeof S.dir, "%s/%s", test_tmpdir(), prefix);
    snprintf(S.log, sizeof S.log, "%s/%s.log", test_tmpdir(), prefix);
    snprintf(S.ip, sizeof S.ip, "%.*s.201", (int)(strrchr(AC.m[0].ip, '.') - AC.m[0].ip), AC.m[0].ip);
    snprintf(S.listen, sizeof S.listen, "%s:10250", S.ip);
    test_defer(second_teardown, NULL);
    second_run();
    snprintf(path, sizeof path, "/api/v1/nodes/%s", S.node);
    for (end = test_now_ms() + 20000;; usleep(100 * 1000)) {
        json_t *n = afx_get(path);
        bool ok = n && orc_json_str(n, "spec.podCIDR");
        json_decref(n);
        if (ok) break;
        CHECKF(test_now_ms() < end, "the second node did not register (log %s)", S.log);
    }
}

#endif
