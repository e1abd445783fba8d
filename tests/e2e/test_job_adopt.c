/* test_job_adopt.c — Jobs end to end beside the cases of test_jobs.c, on
 * one `orcd server` with its embedded agent running real containers: an
 * orphan pod matching a Job's (manual) selector is adopted — controller
 * ownerReference and tracking finalizer — and counted, so the Job makes no
 * pod of its own; a restartPolicy OnFailure Job whose container keeps
 * exiting 1 fails with BackoffLimitExceeded once the restarts reach
 * backoffLimit, and its pod is deleted. */
#include "tests/e2e/jobfx.h"

static void post(const char *path, const char *body)
{
    char *log = NULL;
    int status = t_http(&C, 0, "POST", path, NULL, body, &log, NULL);
    CHECKF(status == 201, "POST %s: %d %s", path, status, log ? log : "");
    free(log);
}

static const json_t *controller_ref(const json_t *pod)
{
    size_t i;
    json_t *r;
    json_array_foreach (orc_json_get(pod, "metadata.ownerReferences"), i, r)
        if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

TEST_T(orphan_pod_matching_the_selector_is_adopted_and_counted, 60)
{
    char body[2048];

    start_cluster();
    /* The orphan first, so the Job finds it before it would create one. */
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"stray\",\"labels\":"
             "{\"app\":\"adopt\"}},\"spec\":{\"nodeName\":\"%s\",\"restartPolicy\":\"Never\","
             "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"sleep 2; echo adopted\"]}]}}",
             node, F.image);
    post("/api/v1/namespaces/default/pods", body);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"adopt\"},"
             "\"spec\":{\"manualSelector\":true,\"selector\":{\"matchLabels\":{\"app\":\"adopt\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"adopt\"}},\"spec\":{\"nodeName\":"
             "\"%s\",\"restartPolicy\":\"Never\",\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
             "\"echo own\"]}]}}}}",
             node, F.image);
    post("/apis/batch/v1/namespaces/default/jobs", body);

    json_t *j = wait_job("adopt", "Complete", 40000), *pods = pods_of("adopt");
    json_t *stray = wl_get("/api/v1/namespaces/default/pods/stray");
    const json_t *ref = controller_ref(stray);
    CHECKF(ref != NULL, "stray pod has no controller");
    CHECK_STR(orc_json_str(ref, "kind"), "Job");
    CHECK_STR(orc_json_str(ref, "uid"), orc_json_str(j, "metadata.uid"));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    CHECK_STR(orc_json_str(stray, "status.phase"), "Succeeded");
    CHECK(!has_tracking_finalizer(stray)); /* added on adoption, released once counted */
    CHECK_INT(json_integer_value(orc_json_get(j, "status.succeeded")), ==, 1);
    CHECKF(json_array_size(pods) == 1, "the Job has %zu pods, want only the adopted one",
           json_array_size(pods));
    json_decref(stray);
    json_decref(pods);
    json_decref(j);
}

TEST_T(on_failure_job_fails_when_restarts_reach_the_backoff_limit, 60)
{
    char body[2048];
    uint64_t t0;

    start_cluster();
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"crash\"},"
             "\"spec\":{\"backoffLimit\":2,\"template\":{\"spec\":{\"nodeName\":\"%s\","
             "\"restartPolicy\":\"OnFailure\",\"terminationGracePeriodSeconds\":1,"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\","
             "\"exit 1\"]}]}}}}",
             node, F.image);
    t0 = test_now_ms();
    post("/apis/batch/v1/namespaces/default/jobs", body);

    json_t *j = wait_job("crash", "Failed", 45000);
    CHECK_STR(condition_reason(j, "Failed"), "BackoffLimitExceeded");
    CHECK(has_event("crash", "BackoffLimitExceeded"));
    /* No pod failed (the kubelet restarted the container in place): the
     * restarts alone failed the Job. */
    CHECK_INT(json_integer_value(orc_json_get(j, "status.failed")), ==, 0);
    json_decref(j);
    fprintf(stderr, "# OnFailure job (backoffLimit 2) Failed %llu ms after its create\n",
            (unsigned long long)(test_now_ms() - t0));

    /* Its pod is deleted. */
    uint64_t end = test_now_ms() + 20000;
    json_t *pods;
    while ((pods = pods_of("crash")) && json_array_size(pods) > 0 && test_now_ms() < end) {
        bool going = orc_json_get(json_array_get(pods, 0), "metadata.deletionTimestamp") != NULL;
        json_decref(pods);
        if (going) {
            pods = NULL;
            break;
        }
        test_sleep_ms(200);
    }
    CHECKF(pods == NULL || json_array_size(pods) == 0, "job crash's pod not deleted");
    json_decref(pods);
}
