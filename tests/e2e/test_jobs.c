/* test_jobs.c — Jobs end to end: one `orcd server` with its embedded agent
 * running real containers from the local registry and, in its controller
 * manager, the Job controller. Three Jobs at once: one that
 * succeeds completes 3/3; one that fails honours backoffLimit (Failed,
 * BackoffLimitExceeded, exactly limit+1 pods, the second after the 10 s
 * back-off); an Indexed one runs each index once with
 * JOB_COMPLETION_INDEX and hostname <job>-<index>. Pods carry no
 * tracking finalizer once counted. Then suspend/resume, activeDeadlineSeconds
 * and ttlSecondsAfterFinished. */
#include "tests/e2e/jobfx.h"

/* ---- the case ---- */

static void check_succeeded(void)
{
    json_t *j = wait_job("ok", "Complete", 40000), *pods = pods_of("ok"), *p;
    size_t i;
    char *out = NULL, *err = NULL;
    CHECK_INT(json_integer_value(orc_json_get(j, "status.succeeded")), ==, 3);
    CHECK(orc_json_str(j, "status.completionTime") != NULL);
    CHECK_INT(json_array_size(pods), ==, 3);
    json_array_foreach (pods, i, p) {
        CHECK_STR(orc_json_str(p, "status.phase"), "Succeeded");
        CHECK(!has_tracking_finalizer(p));
    }
    CHECK(has_event("ok", "Completed"));
    CHECK(has_event("ok", "SuccessfulCreate"));
    CHECK_INT(run_orctl(&C, &out, &err, "get", "jobs", "ok", NULL), ==, 0);
    CHECKF(out && strstr(out, "Complete") && strstr(out, "3/3"), "orctl get jobs: %s", out);
    free(out);
    free(err);
    json_decref(pods);
    json_decref(j);
}

static void check_failed(void)
{
    json_t *j = wait_job("fail", "Failed", 60000), *pods = pods_of("fail"), *p;
    size_t i;
    int64_t first = 0, second = 0;
    CHECK_STR(condition_reason(j, "Failed"), "BackoffLimitExceeded");
    CHECK_INT(json_integer_value(orc_json_get(j, "status.failed")), ==, 2);
    CHECK_INT(json_array_size(pods), ==, 2); /* backoffLimit 1: exactly 2 */
    json_array_foreach (pods, i, p) {
        int64_t t = 0;
        CHECK_STR(orc_json_str(p, "status.phase"), "Failed");
        CHECK(!has_tracking_finalizer(p));
        orc_time_parse(orc_json_str(p, "metadata.creationTimestamp"), &t);
        if (!first || t < first) second = first, first = t;
        else second = t;
    }
    /* The second pod waited the back-off (10 s after the first failed). */
    CHECKF(second - first >= 9, "pods created %lld s apart", (long long)(second - first));
    CHECK(has_event("fail", "BackoffLimitExceeded"));
    json_decref(pods);
    json_decref(j);
}

static void check_indexed(void)
{
    json_t *j = wait_job("idx", "Complete", 40000), *pods = pods_of("idx"), *p;
    size_t i;
    bool seen[3] = {false, false, false};
    CHECK_STR(orc_json_str(j, "status.completedIndexes"), "0-2");
    CHECK_INT(json_integer_value(orc_json_get(j, "status.succeeded")), ==, 3);
    CHECK_INT(json_array_size(pods), ==, 3);
    json_array_foreach (pods, i, p) {
        char path[512], want[128], *log = NULL;
        long idx = job_pod_index(p);
        CHECKF(idx >= 0 && idx < 3 && !seen[idx], "pod index %ld twice or out of range", idx);
        seen[idx] = true;
        snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/log",
                 orc_json_str(p, "metadata.name"));
        CHECK_INT(t_http(&C, 0, "GET", path, NULL, NULL, &log, NULL), ==, 200);
        snprintf(want, sizeof want, "index=%ld host=idx-%ld\n", idx, idx);
        CHECK_STR(log, want);
        free(log);
    }
    json_decref(pods);
    json_decref(j);
}

TEST_T(jobs_complete_fail_and_index, 150)
{
    start_cluster();
    uint64_t t0 = test_now_ms();
    create_job("ok", "\"completions\":3,\"parallelism\":2,", "echo done");
    create_job("fail", "\"backoffLimit\":1,", "exit 1");
    create_job("idx", "\"completionMode\":\"Indexed\",\"completions\":3,\"parallelism\":3,",
               "echo index=$JOB_COMPLETION_INDEX host=$(hostname)");
    check_succeeded();
    fprintf(stderr, "# job ok (3 pods, 2 at a time) Complete %llu ms after its create\n",
            (unsigned long long)(test_now_ms() - t0));
    check_indexed();
    check_failed();
    fprintf(stderr, "# job fail (backoffLimit 1) Failed %llu ms after its create\n",
            (unsigned long long)(test_now_ms() - t0));
}

static bool job_gone(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    json_t *j;
    while ((j = job_get(name)) != NULL && test_now_ms() < end) {
        json_decref(j);
        test_sleep_ms(200);
    }
    json_decref(j);
    return j == NULL;
}

/* suspend holds pods back and resuming runs them; activeDeadlineSeconds
 * fails a Job that runs too long and stops its pod; ttlSecondsAfterFinished
 * deletes a finished Job (its pods are left to the garbage collector, with
 * their finalizer released). */
TEST_T(jobs_suspend_deadline_and_ttl, 90)
{
    start_cluster();
    create_job("susp", "\"suspend\":true,", "echo resumed");
    create_job("late", "\"activeDeadlineSeconds\":3,", "sleep 600");
    create_job("ttl", "\"ttlSecondsAfterFinished\":2,", "echo bye");

    json_t *j = wait_job("susp", "Suspended", 10000), *pods;
    pods = pods_of("susp");
    CHECK_INT(json_array_size(pods), ==, 0);
    json_decref(pods);
    CHECK(orc_json_get(j, "status.startTime") == NULL);
    json_decref(j);
    CHECK_INT(t_http(&C, 0, "PATCH", "/apis/batch/v1/namespaces/default/jobs/susp",
                     "application/merge-patch+json", "{\"spec\":{\"suspend\":false}}", NULL, NULL),
              ==, 200);
    json_decref(wait_job("susp", "Complete", 30000));
    CHECK(has_event("susp", "Suspended"));
    CHECK(has_event("susp", "Resumed"));

    j = wait_job("late", "Failed", 20000);
    CHECK_STR(condition_reason(j, "Failed"), "DeadlineExceeded");
    json_decref(j);
    /* Its pod was deleted, released and is gone. */
    uint64_t end = test_now_ms() + 15000;
    while ((pods = pods_of("late")) && json_array_size(pods) > 0 && test_now_ms() < end) {
        json_decref(pods);
        test_sleep_ms(200);
    }
    CHECKF(json_array_size(pods) == 0, "job late's pod still there");
    json_decref(pods);
    CHECK(has_event("late", "DeadlineExceeded"));

    CHECKF(job_gone("ttl", 20000), "job ttl still there 20 s on");
    pods = pods_of("ttl");
    for (size_t i = 0; i < json_array_size(pods); i++) {
        test_sleep_ms(500); /* the release follows the Job's deletion */
        json_decref(pods);
        pods = pods_of("ttl");
        if (!has_tracking_finalizer(json_array_get(pods, 0))) break;
    }
    CHECK(json_array_size(pods) <= 1);
    CHECK(json_array_size(pods) == 0 || !has_tracking_finalizer(json_array_get(pods, 0)));
    json_decref(pods);
}
