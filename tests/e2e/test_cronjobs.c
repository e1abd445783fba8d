/* test_cronjobs.c — CronJobs end to end, at the next minute boundary (so the
 * case takes up to a minute): a CronJob due every minute creates its Job on
 * time, named <cronjob>-<minutes since the epoch>, whose pod runs a real
 * container; one with concurrencyPolicy Forbid whose earlier Job still runs
 * creates none and says JobAlreadyActive. The controllers are orcd's. */
#include "controllers/cronjob.h"
#include "tests/e2e/jobfx.h"

static void create_cronjob(const char *name, const char *spec_extra, const char *cmd)
{
    char body[2048], *log = NULL;
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"schedule\":\"* * * * *\",%s\"jobTemplate\":{\"spec\":{\"template\":{"
             "\"spec\":{\"nodeName\":\"%s\",\"restartPolicy\":\"Never\","
             "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sh\",\"-c\",\"%s\"]}]}}}}}}",
             name, spec_extra, node, F.image, cmd);
    int status = t_http(&C, 0, "POST", "/apis/batch/v1/namespaces/default/cronjobs", NULL, body,
                        &log, NULL);
    CHECKF(status == 201, "create cronjob %s: %d %s", name, status, log ? log : "");
    free(log);
}

static json_t *cronjob_get(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/apis/batch/v1/namespaces/default/cronjobs/%s", name);
    return wl_get(path);
}

/* A Job owned by CronJob `cj` as if an earlier run made it, still running. */
static void create_owned_job(const char *cj, const char *name)
{
    json_t *c = cronjob_get(cj);
    char body[2048], *log = NULL;
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"%s\","
             "\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\","
             "\"name\":\"%s\",\"uid\":\"%s\",\"controller\":true}]},"
             "\"spec\":{\"template\":{\"spec\":{\"nodeName\":\"%s\",\"restartPolicy\":\"Never\","
             "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
             "\"command\":[\"sleep\",\"600\"]}]}}}}",
             name, cj, orc_json_str(c, "metadata.uid"), node, F.image);
    json_decref(c);
    int status = t_http(&C, 0, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, body, &log, NULL);
    CHECKF(status == 201, "create job %s: %d %s", name, status, log ? log : "");
    free(log);
}

/* The Jobs owned by CronJob `cj` (names, a new reference). */
static json_t *jobs_of(const char *cj)
{
    json_t *list = wl_get("/apis/batch/v1/namespaces/default/jobs"), *out = json_array(), *j;
    size_t i;
    json_array_foreach (orc_json_get(list, "items"), i, j) {
        json_t *ref = json_array_get(orc_json_get(j, "metadata.ownerReferences"), 0);
        if (ref && !strcmp(orc_json_str(ref, "name") ?: "", cj))
            json_array_append_new(out, json_string(orc_json_str(j, "metadata.name")));
    }
    json_decref(list);
    return out;
}

static bool has_name(const json_t *names, const char *name)
{
    size_t i;
    json_t *n;
    json_array_foreach (names, i, n)
        if (!strcmp(json_string_value(n), name)) return true;
    return false;
}

TEST_T(cronjob_runs_on_time_and_forbid_holds, 150)
{
    char want[128], ts[ORC_TIME_LEN], *out = NULL, *err = NULL;

    start_cluster();
    /* Too close to a boundary to set up "forbid" (three creates) before it:
     * wait it out. */
    if (time(NULL) % 60 > 55) test_sleep_ms((unsigned)(61 - time(NULL) % 60) * 1000);
    create_cronjob("forbid", "\"concurrencyPolicy\":\"Forbid\",", "echo never");
    create_owned_job("forbid", "forbid-earlier");
    create_cronjob("every", "", "echo tick");

    int64_t boundary = (time(NULL) / 60 + 1) * 60;
    cronjob_job_name("every", boundary, want, sizeof want);
    /* Runs the controllers until the Job shows (at most the minute + 15 s). */
    json_t *job = NULL;
    while (!job && time(NULL) < boundary + 15) {
        test_sleep_ms(200);
        job = job_get(want);
    }
    CHECKF(job != NULL, "no job %s 15 s after %lld", want, (long long)boundary);
    int64_t created = 0;
    orc_time_parse(orc_json_str(job, "metadata.creationTimestamp"), &created);
    CHECKF(created >= boundary && created <= boundary + 5, "job %s created at %lld, due %lld", want,
           (long long)created, (long long)boundary);
    fprintf(stderr, "# job %s created %lld s after its scheduled time (1 s resolution)\n", want,
            (long long)(created - boundary));
    orc_time_format(boundary, ts);
    CHECK_STR(json_string_value(json_object_get(orc_json_get(job, "metadata.annotations"),
                                                CRONJOB_SCHEDULED_KEY)),
              ts);
    json_decref(job);

    /* Its pod ran; the CronJob shows the run. */
    json_decref(wait_job(want, "Complete", 30000));
    json_t *cj = cronjob_get("every");
    for (uint64_t end = test_now_ms() + 5000; !orc_json_str(cj, "status.lastSuccessfulTime") && test_now_ms() < end;) {
        test_sleep_ms(100);
        json_decref(cj);
        cj = cronjob_get("every");
    }
    CHECK_STR(orc_json_str(cj, "status.lastScheduleTime"), ts);
    CHECK(orc_json_str(cj, "status.lastSuccessfulTime") != NULL);
    json_decref(cj);
    CHECK(has_event("every", "SuccessfulCreate"));

    /* Forbid: the earlier Job still runs, so nothing new, and it says so. */
    json_t *names = jobs_of("forbid");
    CHECKF(json_array_size(names) == 1 && has_name(names, "forbid-earlier"),
           "forbid has %zu jobs", json_array_size(names));
    json_decref(names);
    CHECK(has_event("forbid", "JobAlreadyActive"));
    cj = cronjob_get("forbid");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(cj, "status.active"), 0), "name"),
              "forbid-earlier");
    CHECK(orc_json_get(cj, "status.lastScheduleTime") == NULL);
    json_decref(cj);

    CHECK_INT(run_orctl(&C, &out, &err, "get", "cronjobs", "forbid", NULL), ==, 0);
    CHECKF(out && strstr(out, "* * * * *") && strstr(out, "False"), "orctl get cronjobs: %s", out);
    free(out);
    free(err);
}
