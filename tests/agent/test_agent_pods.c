/* test_agent_pods.c — the node agent end to end: a real orcd server, a real
 * `orcd agent`, the test image from a real local registry. A pod runs,
 * logs, exits with the right code and phase; restarts per policy with
 * back-off; is stopped within its grace period on delete. */
#include "tests/agent/agentfx.h"

#define pod_cmd(name, policy, cmd) afx_pod_cmd(name, policy, 3, cmd)

static int64_t exit_code(const json_t *pod)
{
    int64_t code = -1;
    orc_json_int(afx_cs(pod, 0), "state.terminated.exitCode", &code);
    return code;
}

TEST_T(node_registers_with_capacity_and_lease, 90)
{
    char path[256];
    json_t *n, *l;

    afx_setup();
    snprintf(path, sizeof path, "/api/v1/nodes/%s", A.node);
    n = afx_get(path);
    CHECK(n != NULL);
    CHECK_STR(json_string_value(json_object_get(orc_json_get(n, "metadata.labels"), "kubernetes.io/hostname")), A.node);
    CHECK(orc_json_str(n, "status.capacity.cpu") != NULL);
    CHECK(orc_json_str(n, "status.allocatable.memory") != NULL);
    CHECK_STR(orc_json_str(n, "status.capacity.pods"), "110");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(n, "status.conditions"), 0), "status"), "True");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(n, "status.addresses"), 0), "address"), A.ip);
    json_decref(n);
    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", A.node);
    for (int i = 0; i < 50 && (l = afx_get(path)) == NULL; i++) usleep(100 * 1000);
    CHECK(l != NULL);
    CHECK_STR(orc_json_str(l, "spec.holderIdentity"), A.node);
    const char *t1 = orc_json_str(l, "spec.renewTime");
    char first[64];
    snprintf(first, sizeof first, "%s", t1 ? t1 : "");
    json_decref(l);
    usleep(2500 * 1000); /* renewed every third of 6 s */
    l = afx_get(path);
    CHECK(l != NULL);
    CHECKF(strcmp(orc_json_str(l, "spec.renewTime") ?: "", first) != 0, "lease not renewed");
    json_decref(l);
}

TEST_T(pod_runs_logs_and_exits_with_its_code, 120)
{
    json_t *p;
    char *log;

    afx_setup();
    pod_cmd("ok", "Never", "echo hello from orc; echo to-stderr >&2");
    pod_cmd("bad", "Never", "echo failing; exit 3");
    p = afx_wait_phase("ok", "Succeeded", 30000);
    CHECK_INT(exit_code(p), ==, 0);
    CHECK_STR(orc_json_str(afx_cs(p, 0), "state.terminated.reason"), "Completed");
    CHECK(orc_json_str(p, "status.podIP") != NULL);
    CHECK_STR(orc_json_str(p, "status.hostIP"), A.ip);
    CHECK(strncmp(orc_json_str(afx_cs(p, 0), "imageID") ?: "", F.image, strlen(F.reg.host)) == 0);
    json_decref(p);
    log = afx_logs("ok", NULL);
    CHECK(log != NULL);
    CHECKF(strstr(log, "hello from orc\n") && strstr(log, "to-stderr\n"), "log: %s", log);
    free(log);
    p = afx_wait_phase("bad", "Failed", 30000);
    CHECK_INT(exit_code(p), ==, 3);
    CHECK_STR(orc_json_str(afx_cs(p, 0), "state.terminated.reason"), "Error");
    json_decref(p);
}

static bool restarted_in_backoff(const json_t *pod, void *arg)
{
    int64_t n = 0;
    (void)arg;
    orc_json_int(afx_cs(pod, 0), "restartCount", &n);
    return n >= 1 && orc_json_str(afx_cs(pod, 0), "state.waiting.reason")
           && strcmp(orc_json_str(afx_cs(pod, 0), "state.waiting.reason"), "CrashLoopBackOff") == 0;
}

TEST_T(restart_policy_and_crash_loop_back_off, 120)
{
    json_t *p;
    char *log;

    afx_setup();
    pod_cmd("crash", "Always", "echo run; exit 1");
    pod_cmd("onfail", "OnFailure", "test -f /tmp/x || { touch /tmp/x; exit 2; }; echo done");
    p = afx_wait_pod("crash", restarted_in_backoff, NULL, 40000, "CrashLoopBackOff after a restart");
    CHECK_STR(orc_json_str(p, "status.phase"), "Running");
    CHECK_INT(json_integer_value(orc_json_get(afx_cs(p, 0), "lastState.terminated.exitCode")), ==, 1);
    json_decref(p);
    log = afx_logs("crash", "previous=true");
    CHECKF(log && strstr(log, "run\n"), "previous log: %s", log ? log : "(none)");
    free(log);
    /* OnFailure: the restarted container (fresh root filesystem) fails again */
    p = afx_wait_pod("onfail", restarted_in_backoff, NULL, 40000, "OnFailure restarts");
    json_decref(p);
}

TEST_T(delete_stops_within_the_grace_period, 120)
{
    json_t *p;
    uint64_t t0, took;
    int status;

    afx_setup();
    /* PID 1 ignores SIGTERM without a handler: killed after the grace period */
    pod_cmd("stubborn", "Always", "sleep 1000");
    pod_cmd("polite", "Always", "trap 'exit 0' TERM; while true; do sleep 0.1; done");
    json_decref(afx_wait_ready("stubborn", 30000));
    json_decref(afx_wait_ready("polite", 30000));
    t0 = test_now_ms();
    status = t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/polite", NULL, NULL, NULL, NULL);
    CHECK_INT(status, ==, 200);
    CHECK(afx_pod_gone("polite", 10000));
    took = test_now_ms() - t0;
    CHECKF(took < 2500, "polite pod took %llu ms", (unsigned long long)took);
    t0 = test_now_ms();
    status = t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/stubborn", NULL, NULL, NULL, NULL);
    CHECK_INT(status, ==, 200);
    p = afx_pod_get("stubborn");
    CHECK(p != NULL && orc_json_get(p, "metadata.deletionTimestamp") != NULL);
    json_decref(p);
    CHECK(afx_pod_gone("stubborn", 15000));
    took = test_now_ms() - t0;
    CHECKF(took >= 2500 && took < 7000, "stubborn pod took %llu ms (grace 3 s)", (unsigned long long)took);
}

TEST_T(prestop_hook_runs_before_the_stop, 120)
{
    char spec[2048], mark[700];
    struct stat st;

    afx_setup();
    snprintf(mark, sizeof mark, "%s/hostdir", test_tmpdir());
    snprintf(spec, sizeof spec,
             "{\"terminationGracePeriodSeconds\":5,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sleep\",\"1000\"],"
             "\"lifecycle\":{\"preStop\":{\"exec\":{\"command\":[\"sh\",\"-c\",\"echo bye > /host/prestop\"]}}},"
             "\"volumeMounts\":[{\"name\":\"h\",\"mountPath\":\"/host\"}]}],"
             "\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"%s\",\"type\":\"DirectoryOrCreate\"}}]}",
             F.image, mark);
    afx_pod("hook", spec);
    json_decref(afx_wait_phase("hook", "Running", 30000));
    CHECK_INT(t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/hook", NULL, NULL, NULL, NULL), ==, 200);
    CHECK(afx_pod_gone("hook", 15000));
    strcat(mark, "/prestop");
    CHECKF(stat(mark, &st) == 0 && st.st_size == 4, "the preStop hook did not run");
}

TEST_T(container_logs_rotate_at_the_configured_size, 120)
{
    static const char *const flags[] = {"--container-log-max-size", "16Ki",
                                        "--container-log-max-files", "2", NULL};
    char *log;

    afx_setup_with(flags);
    pod_cmd("chatty", "Never", "seq 1 20000; sleep 1");
    json_decref(afx_wait_phase("chatty", "Succeeded", 30000));
    log = afx_logs("chatty", NULL);
    CHECK(log != NULL);
    /* about 108 KB written; only the current file and one rotated remain */
    CHECKF(strlen(log) < 40000, "log is %zu bytes", strlen(log));
    CHECK(strlen(log) >= 6 && strcmp(log + strlen(log) - 6, "20000\n") == 0);
    CHECK(strncmp(log, "1\n2\n", 4) != 0);
    free(log);
}
