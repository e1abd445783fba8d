/* test_cronjob_ha.c — a CronJob due while the member running the
 * controllers dies still runs, once: three members (no agents: the Job's
 * pods need not run), the leader killed a second before the scheduled
 * minute; the next leader's CronJob controller makes the missed run late,
 * under the name Kubernetes gives it, and no second Job appears. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "controllers/cronjob.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster C;

/* The Jobs of CronJob "tick", asked of member i (a new reference). */
static json_t *jobs_of_tick(int i)
{
    int st = 0;
    json_t *list = t_json(&C, i, "GET", "/apis/batch/v1/namespaces/default/jobs", NULL, &st);
    json_t *out = json_array(), *j;
    size_t k;
    json_array_foreach (orc_json_get(list, "items"), k, j) {
        json_t *ref = json_array_get(orc_json_get(j, "metadata.ownerReferences"), 0);
        if (ref && !strcmp(orc_json_str(ref, "name") ?: "", "tick")) json_array_append(out, j);
    }
    json_decref(list);
    return out;
}

TEST_T(cronjob_due_while_the_leader_dies_runs_once, 150)
{
    static const char *const no_agent[] = {"--no-agent", NULL};
    char want[128];
    int st = 0;

    cluster_init(&C, 3);
    cluster_start(&C, no_agent);
    int lead = cluster_leader(&C, 10000);
    CHECKF(lead >= 0, "no leader");
    /* Far enough from a boundary to set up before the next one. */
    if (time(NULL) % 60 > 55) test_sleep_ms((unsigned)(61 - time(NULL) % 60) * 1000);
    json_decref(t_json(&C, lead, "POST", "/apis/batch/v1/namespaces/default/cronjobs",
                       "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":"
                       "\"tick\"},\"spec\":{\"schedule\":\"* * * * *\",\"jobTemplate\":{\"spec\":{"
                       "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{"
                       "\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}",
                       &st));
    CHECKF(st == 201, "create cronjob: %d", st);

    int64_t boundary = (time(NULL) / 60 + 1) * 60;
    cronjob_job_name("tick", boundary, want, sizeof want);
    while (time(NULL) < boundary - 1) test_sleep_ms(50);
    member_kill(&C, lead); /* a second before it is due: the old leader never made it */
    int next = cluster_leader_except(&C, lead, 15000);
    CHECKF(next >= 0, "no new leader");

    json_t *jobs = NULL;
    uint64_t end = test_now_ms() + 30000;
    for (;;) {
        jobs = jobs_of_tick(next);
        if (json_array_size(jobs) > 0 || test_now_ms() > end) break;
        json_decref(jobs);
        test_sleep_ms(200);
    }
    CHECKF(json_array_size(jobs) == 1, "%zu jobs for tick", json_array_size(jobs));
    json_t *j = json_array_get(jobs, 0);
    CHECK_STR(orc_json_str(j, "metadata.name"), want);
    int64_t created = 0;
    orc_time_parse(orc_json_str(j, "metadata.creationTimestamp"), &created);
    fprintf(stderr, "# job %s created %lld s after its scheduled time, the leader killed 1 s "
                    "before it\n", want, (long long)(created - boundary));
    json_decref(jobs);

    /* A few seconds later, still one (the next minute has not come yet). */
    test_sleep_ms(3000);
    jobs = jobs_of_tick(next);
    if (time(NULL) < boundary + 60)
        CHECKF(json_array_size(jobs) == 1, "%zu jobs for tick", json_array_size(jobs));
    json_decref(jobs);
    json_t *cj = t_json(&C, next, "GET", "/apis/batch/v1/namespaces/default/cronjobs/tick", NULL, &st);
    char ts[ORC_TIME_LEN];
    orc_time_format(boundary, ts);
    CHECK_STR(orc_json_str(cj, "status.lastScheduleTime"), ts);
    json_decref(cj);
}
