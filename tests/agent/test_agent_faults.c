/* test_agent_faults.c — the node agent when things go wrong: a failing
 * liveness probe restarts the container, a memory limit OOM-kills it, an
 * image that does not exist or a registry that is down shows the
 * Kubernetes reason while other pods run, and an agent killed and
 * restarted adopts its running containers without restarting them. */
#include "tests/agent/agentfx.h"

static int64_t restarts(const json_t *pod)
{
    int64_t n = -1;
    orc_json_int(afx_cs(pod, 0), "restartCount", &n);
    return n;
}

static bool restarted(const json_t *pod, void *arg)
{
    (void)arg;
    return restarts(pod) >= 1;
}

TEST_T(failing_liveness_probe_restarts_the_container, 120)
{
    char spec[2048];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 1000\"],"
             "\"livenessProbe\":{\"exec\":{\"command\":[\"cat\",\"/tmp/healthy\"]},"
             "\"periodSeconds\":1,\"failureThreshold\":2}}]}", F.image);
    afx_pod("live", spec);
    p = afx_wait_pod("live", restarted, NULL, 40000, "a restart by the liveness probe");
    CHECK_INT(json_integer_value(orc_json_get(afx_cs(p, 0), "lastState.terminated.exitCode")), ==, 137);
    json_decref(p);
}

static bool oom_seen(const json_t *pod, void *arg)
{
    const char *r = orc_json_str(afx_cs(pod, 0), "state.terminated.reason");
    (void)arg;
    return r && strcmp(r, "OOMKilled") == 0;
}

TEST_T(memory_limit_oom_kills, 120)
{
    char spec[2048];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"head -c 200m /dev/zero | tail\"],"
             "\"resources\":{\"limits\":{\"memory\":\"20Mi\"}}}]}", F.image);
    afx_pod("oom", spec);
    p = afx_wait_pod("oom", oom_seen, NULL, 40000, "OOMKilled");
    CHECK_STR(orc_json_str(p, "status.phase"), "Failed");
    CHECK_INT(json_integer_value(orc_json_get(afx_cs(p, 0), "state.terminated.exitCode")), ==, 137);
    json_decref(p);
}

static bool waiting_is(const json_t *pod, void *arg)
{
    const char *r = orc_json_str(afx_cs(pod, 0), "state.waiting.reason");
    return r && strcmp(r, (const char *)arg) == 0;
}

TEST_T(image_errors_show_their_reason_and_others_run, 120)
{
    char spec[2048];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"imagePullPolicy\":\"IfNotPresent\","
             "\"command\":[\"sleep\",\"1000\"]}]}", F.image);
    afx_pod("fine", spec);
    json_decref(afx_wait_phase("fine", "Running", 30000));
    snprintf(spec, sizeof spec, "{\"containers\":[{\"name\":\"c\",\"image\":\"%s/orc/nothere:1\"}]}",
             F.reg.host);
    afx_pod("missing", spec);
    p = afx_wait_pod("missing", waiting_is, "ErrImagePull", 30000, "ErrImagePull");
    CHECK(orc_json_str(afx_cs(p, 0), "state.waiting.message") != NULL);
    CHECK_STR(orc_json_str(p, "status.phase"), "Pending");
    json_decref(p);
    json_decref(afx_wait_pod("missing", waiting_is, "ImagePullBackOff", 30000, "ImagePullBackOff"));
    /* the registry goes down: a new image cannot come, a present one still runs */
    registry_stop(&F.reg);
    snprintf(spec, sizeof spec, "{\"containers\":[{\"name\":\"c\",\"image\":\"%s/orc/other:2\"}]}",
             F.reg.host);
    afx_pod("down", spec);
    p = afx_wait_pod("down", waiting_is, "ErrImagePull", 30000, "ErrImagePull with the registry down");
    json_decref(p);
    snprintf(spec, sizeof spec,
             "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"imagePullPolicy\":\"IfNotPresent\","
             "\"command\":[\"sleep\",\"1000\"]}]}", F.image);
    afx_pod("fine2", spec);
    json_decref(afx_wait_phase("fine2", "Running", 30000));
    p = afx_wait_phase("fine", "Running", 1000);
    CHECK_INT(restarts(p), ==, 0);
    json_decref(p);
}

TEST_T(restarted_agent_adopts_running_containers, 120)
{
    char spec[2048], cid[256], started[64];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"echo started; sleep 1000\"]}]}", F.image);
    afx_pod("keep", spec);
    p = afx_wait_phase("keep", "Running", 30000);
    snprintf(cid, sizeof cid, "%s", orc_json_str(afx_cs(p, 0), "containerID") ?: "");
    snprintf(started, sizeof started, "%s", orc_json_str(afx_cs(p, 0), "state.running.startedAt") ?: "");
    json_decref(p);
    CHECK(cid[0] != '\0');
    afx_agent_kill(); /* SIGKILL: a crash */
    usleep(1500 * 1000);
    p = afx_pod_get("keep");
    CHECK_STR(orc_json_str(p, "status.phase"), "Running"); /* nothing touched it */
    json_decref(p);
    afx_agent_start();
    usleep(3000 * 1000);
    p = afx_wait_phase("keep", "Running", 10000);
    CHECK_STR(orc_json_str(afx_cs(p, 0), "containerID"), cid);
    CHECK_STR(orc_json_str(afx_cs(p, 0), "state.running.startedAt"), started);
    CHECK_INT(restarts(p), ==, 0);
    json_decref(p);
    char *log = afx_logs("keep", NULL);
    CHECKF(log && strcmp(log, "started\n") == 0, "log after re-adoption: %s", log ? log : "(none)");
    free(log);
    /* and it still stops it on delete */
    CHECK_INT(t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/keep", NULL, NULL, NULL, NULL), ==, 200);
    CHECK(afx_pod_gone("keep", 15000));
}

TEST_T(containers_of_pods_deleted_while_down_are_removed, 120)
{
    char spec[2048];
    int status;

    afx_setup();
    snprintf(spec, sizeof spec, "{\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"1000\"]}]}",
             F.image);
    afx_pod("orphan", spec);
    json_decref(afx_wait_phase("orphan", "Running", 30000));
    afx_agent_kill();
    /* force-deleted while no agent runs: nothing finishes it but the API */
    status = t_http(&AC, 0, "DELETE", "/api/v1/namespaces/default/pods/orphan?gracePeriodSeconds=0", NULL,
                    NULL, NULL, NULL);
    CHECK_INT(status, ==, 200);
    CHECK(afx_pod_gone("orphan", 5000));
    afx_agent_start();
    afx_wait_node(20000);
    /* the runtime forgets the container: no container dirs left */
    char dir[800];
    snprintf(dir, sizeof dir, "%s/containers", F.state);
    uint64_t end = test_now_ms() + 15000;
    int left;
    do {
        left = 0;
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) left += e->d_name[0] != '.';
        if (d) closedir(d);
        if (left) usleep(100 * 1000);
    } while (left && test_now_ms() < end);
    CHECK_INT(left, ==, 0);
}

TEST_T(api_down_containers_keep_running_and_status_resyncs, 120)
{
    char spec[2048];
    json_t *p;

    afx_setup();
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"sleep 3; echo finished\"]}]}", F.image);
    afx_pod("through", spec);
    json_decref(afx_wait_phase("through", "Running", 30000));
    member_stop(&AC, 0);
    usleep(5000 * 1000); /* the container ends while the API is away */
    member_start(&AC, 0, false, NULL);
    member_wait_ready(&AC, 0, 20000);
    p = afx_wait_phase("through", "Succeeded", 30000);
    CHECK_INT(json_integer_value(orc_json_get(afx_cs(p, 0), "state.terminated.exitCode")), ==, 0);
    json_decref(p);
    char *log = afx_logs("through", NULL);
    CHECKF(log && strstr(log, "finished\n"), "log: %s", log ? log : "(none)");
    free(log);
}

/* What happened to a pod, as `describe` shows it: Events from the agent. */
TEST_T(events_tell_what_happened, 120)
{
    char path[256];
    json_t *list, *e;
    size_t i;
    bool started = false, backoff = false, failed_pull = false;
    int64_t backoff_count = 0;

    afx_setup();
    afx_pod_cmd("ev", "Always", 1, "exit 1");
    {
        char spec[512];
        snprintf(spec, sizeof spec, "{\"containers\":[{\"name\":\"c\",\"image\":\"%s/orc/nothere:1\"}]}",
                 F.reg.host);
        afx_pod("evpull", spec);
    }
    usleep(4000 * 1000);
    snprintf(path, sizeof path, "/api/v1/namespaces/default/events");
    list = afx_get(path);
    CHECK(list != NULL);
    json_array_foreach(orc_json_get(list, "items"), i, e) {
        const char *r = orc_json_str(e, "reason"), *n = orc_json_str(e, "involvedObject.name");
        if (!r || !n) continue;
        if (!strcmp(n, "ev") && !strcmp(r, "Started")) started = true;
        if (!strcmp(n, "ev") && !strcmp(r, "BackOff")) {
            backoff = true;
            orc_json_int(e, "count", &backoff_count);
            CHECK_STR(orc_json_str(e, "type"), "Warning");
            CHECK_STR(orc_json_str(e, "involvedObject.fieldPath"), "spec.containers{c}");
        }
        if (!strcmp(n, "evpull") && !strcmp(r, "Failed")) failed_pull = strstr(orc_json_str(e, "message") ?: "", "Failed to pull image");
    }
    if (!started) afx_dump_log();
    json_decref(list);
    CHECK(started);
    CHECK(backoff);
    CHECK_INT(backoff_count, ==, 1); /* one back-off so far, not one per sync */
    CHECK(failed_pull);
}
