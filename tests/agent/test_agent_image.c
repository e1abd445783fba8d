/* test_agent_image.c — a running pod's container image edited through the
 * API: the real agent kills that container and starts it again from the
 * new image (pulled from the real local registry), as the kubelet does;
 * restartCount goes up, the pod's other container keeps running. */
#include "tests/agent/agentfx.h"

static char image2[160];

static const json_t *cs_named(const json_t *pod, const char *name)
{
    size_t i;
    json_t *cs;

    json_array_foreach(orc_json_get(pod, "status.containerStatuses"), i, cs)
        if (strcmp(orc_json_str(cs, "name") ?: "", name) == 0) return cs;
    return NULL;
}

static int64_t restarts(const json_t *pod, const char *name)
{
    int64_t n = -1;
    orc_json_int(cs_named(pod, name), "restartCount", &n);
    return n;
}

static bool both_running(const json_t *pod, void *arg)
{
    (void)arg;
    return afx_phase_is(pod, "Running") && orc_json_get(cs_named(pod, "a"), "state.running")
           && orc_json_get(cs_named(pod, "b"), "state.running");
}

/* Container a runs again, from the new image, after one restart. */
static bool a_restarted_on_new_image(const json_t *pod, void *arg)
{
    const json_t *a = cs_named(pod, "a");
    (void)arg;
    return restarts(pod, "a") == 1 && orc_json_get(a, "state.running")
           && strcmp(orc_json_str(a, "image") ?: "", image2) == 0;
}

static bool has_event(const char *reason, const char *needle)
{
    int status = 0;
    json_t *list = t_json(&AC, 0, "GET", "/api/v1/namespaces/default/events", NULL, &status);
    size_t i;
    json_t *e;
    bool found = false;

    json_array_foreach(orc_json_get(list, "items"), i, e) {
        if (strcmp(orc_json_str(e, "reason") ?: "", reason) == 0
            && strstr(orc_json_str(e, "message") ?: "", needle))
            found = true;
    }
    json_decref(list);
    return found;
}

TEST_T(image_change_restarts_only_that_container, 150)
{
    char spec[2048], *resp = NULL, patch[512];
    const char *sleep_cmd = "[\"sh\",\"-c\",\"trap 'exit 0' TERM; sleep 600 & wait\"]";
    json_t *p;
    char b_id[256];
    int status;

    afx_setup();
    registry_push_busybox(&F.reg, "orc/busybox:2");
    snprintf(image2, sizeof image2, "%s/orc/busybox:2", F.reg.host);
    snprintf(spec, sizeof spec,
             "{\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":5,\"containers\":["
             "{\"name\":\"a\",\"image\":\"%s\",\"command\":%s},"
             "{\"name\":\"b\",\"image\":\"%s\",\"command\":%s}]}",
             F.image, sleep_cmd, F.image, sleep_cmd);
    afx_pod("img", spec);
    p = afx_wait_pod("img", both_running, NULL, 60000, "both containers running");
    snprintf(b_id, sizeof b_id, "%s", orc_json_str(cs_named(p, "b"), "containerID") ?: "");
    CHECK(b_id[0] != '\0');
    CHECK_INT(restarts(p, "a"), ==, 0);
    json_decref(p);

    /* Only the image may change on a pod; restartPolicy Never does not
     * keep the changed container from starting again. */
    snprintf(patch, sizeof patch,
             "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"%s\"}]", image2);
    status = t_http(&AC, 0, "PATCH", "/api/v1/namespaces/default/pods/img", "application/json-patch+json",
                    patch, &resp, NULL);
    CHECKF(status == 200, "PATCH: %d %s", status, resp ? resp : "");
    free(resp);

    p = afx_wait_pod("img", a_restarted_on_new_image, NULL, 60000, "a restarted on image 2");
    CHECK_STR(orc_json_str(cs_named(p, "b"), "containerID"), b_id);
    CHECK_INT(restarts(p, "b"), ==, 0);
    CHECK(orc_json_get(cs_named(p, "b"), "state.running") != NULL);
    CHECK_STR(orc_json_str(cs_named(p, "a"), "image"), image2);
    CHECK(orc_json_get(cs_named(p, "a"), "lastState.terminated") != NULL);
    CHECK_STR(orc_json_str(p, "status.phase"), "Running");
    json_decref(p);
    CHECK(registry_count(&F.reg, "GET /v2/orc/busybox/manifests/2") >= 1);
    for (int i = 0; i < 50 && !has_event("Killing", "definition changed"); i++) usleep(100 * 1000);
    CHECK(has_event("Killing", "Container a definition changed, will be restarted"));

    /* A second change while it runs goes the same way. */
    snprintf(patch, sizeof patch,
             "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/image\",\"value\":\"%s\"}]", F.image);
    status = t_http(&AC, 0, "PATCH", "/api/v1/namespaces/default/pods/img", "application/json-patch+json",
                    patch, &resp, NULL);
    CHECKF(status == 200, "PATCH: %d %s", status, resp ? resp : "");
    free(resp);
    snprintf(image2, sizeof image2, "%s", F.image);
    for (int i = 0; i < 600; i++) {
        p = afx_pod_get("img");
        bool ok = p && restarts(p, "a") == 2 && orc_json_get(cs_named(p, "a"), "state.running")
                  && strcmp(orc_json_str(cs_named(p, "a"), "image") ?: "", F.image) == 0;
        json_decref(p);
        if (ok) break;
        CHECKF(i < 599, "a did not restart on image 1 again");
        usleep(100 * 1000);
    }
    p = afx_pod_get("img");
    CHECK_STR(orc_json_str(cs_named(p, "b"), "containerID"), b_id);
    json_decref(p);
}
