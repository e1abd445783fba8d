/* test_cronjob.c — the CronJob controller's decisions (controllers/
 * cronjob.h) at chosen wall times: runs on time with Kubernetes' Job names,
 * missed schedules (only the most recent runs, none past the starting
 * deadline, TooManyMissedTimes), Allow/Forbid/Replace, Jobs already made
 * by another leader, completed Jobs, history limits, suspend, timeZone,
 * unusable zones and schedules. No server, no sleeping. */
#include <stdlib.h>
#include <string.h>

#include "controllers/cronjob.h"
#include "lib/cron.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/harness/jsq.h"
#include "tests/harness/test.h"

static int64_t ms(const char *rfc3339)
{
    int64_t t = 0;
    if (orc_time_parse(rfc3339, &t) != 0) test_fail(__FILE__, __LINE__, "bad time %s", rfc3339);
    return t * 1000;
}

static json_t *cronjob(const char *spec_extra, const char *status)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'apiVersion':'batch/v1','kind':'CronJob','metadata':{'name':'hello','namespace':"
             "'default','uid':'cj-uid','creationTimestamp':'2026-01-01T00:00:00Z'},'spec':{%s"
             "'jobTemplate':{'metadata':{'labels':{'app':'hello'}},'spec':{'template':{'spec':{"
             "'restartPolicy':'OnFailure','containers':[{'name':'c','image':'busybox'}]}}}}},"
             "'status':%s}",
             spec_extra, status ? status : "{}");
    return js(buf);
}

struct jobs {
    json_t *v[16];
    size_t n;
};

/* how: "" running, "Complete" or "Failed". */
static void job_add(struct jobs *j, const char *name, const char *how, const char *start)
{
    char buf[1024], cond[256] = "";
    if (*how)
        snprintf(cond, sizeof cond,
                 ",'conditions':[{'type':'%s','status':'True'}],'completionTime':'%s'", how,
                 start);
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'%s','namespace':'default','uid':'uid-%s'},'status':{"
             "'startTime':'%s'%s}}",
             name, name, start, cond);
    j->v[j->n++] = js(buf);
}

static void jobs_free(struct jobs *j)
{
    for (size_t i = 0; i < j->n; i++) json_decref(j->v[i]);
    j->n = 0;
}

static void plan(const json_t *cj, struct jobs *j, int64_t now, struct cronjob_plan *out)
{
    if (cronjob_plan(cj, (const json_t *const *)j->v, j->n, now, out) != 0)
        test_fail(__FILE__, __LINE__, "cronjob_plan failed");
}

static const struct cronjob_event *find_event(const struct cronjob_plan *p, const char *reason)
{
    for (size_t i = 0; i < p->nevents; i++)
        if (!strcmp(p->events[i].reason, reason)) return &p->events[i];
    return NULL;
}

static const char *st_str(const struct cronjob_plan *p, const char *key)
{
    return json_string_value(json_object_get(p->status, key));
}

TEST(job_name_is_minutes_since_the_epoch)
{
    char name[64];
    cronjob_job_name("hello", ms("2026-01-01T00:05:00Z") / 1000, name, sizeof name);
    CHECK_STR(name, "hello-29453765");
}

TEST(runs_on_time_and_requeues_for_the_next)
{
    json_t *cj = cronjob("'schedule':'*/5 * * * *',", NULL);
    struct jobs j = {0};
    struct cronjob_plan p;
    /* Not due yet: look again just past 00:05. */
    plan(cj, &j, ms("2026-01-01T00:03:00Z"), &p);
    CHECK(p.create == NULL);
    CHECK_INT(p.requeue_ms, ==, 120100);
    cronjob_plan_free(&p);
    /* Due: the Job for 00:05. */
    plan(cj, &j, ms("2026-01-01T00:05:00.250Z") / 1000 * 1000 + 250, &p);
    CHECK(p.create != NULL);
    CHECK_STR(orc_json_str(p.create, "metadata.name"), "hello-29453765");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(p.create, "metadata.annotations"),
                                                CRONJOB_SCHEDULED_KEY)),
              "2026-01-01T00:05:00Z");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(p.create, "metadata.labels"), "app")),
              "hello");
    json_t *ref = json_array_get(orc_json_get(p.create, "metadata.ownerReferences"), 0);
    CHECK_STR(orc_json_str(ref, "kind"), "CronJob");
    CHECK_STR(orc_json_str(ref, "uid"), "cj-uid");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK_STR(orc_json_str(p.create, "spec.template.spec.restartPolicy"), "OnFailure");
    CHECK_STR(st_str(&p, "lastScheduleTime"), "2026-01-01T00:05:00Z");
    CHECK_INT(p.requeue_ms, ==, 5 * 60000 - 250 + 100);
    cronjob_plan_free(&p);
    json_decref(cj);
}

TEST(only_the_most_recent_missed_time_runs)
{
    json_t *cj = cronjob("'schedule':'* * * * *',", "{'lastScheduleTime':'2026-01-01T10:00:00Z'}");
    struct jobs j = {0};
    struct cronjob_plan p;
    plan(cj, &j, ms("2026-01-01T10:05:30Z"), &p);
    CHECK(p.create != NULL);
    CHECK_STR(orc_json_str(p.create, "metadata.name"), "hello-29454365");
    CHECK_STR(st_str(&p, "lastScheduleTime"), "2026-01-01T10:05:00Z");
    CHECK(find_event(&p, "TooManyMissedTimes") == NULL);
    cronjob_plan_free(&p);
    json_decref(cj);
}

TEST(none_past_the_starting_deadline)
{
    json_t *cj = cronjob("'schedule':'0 * * * *','startingDeadlineSeconds':600,",
                         "{'lastScheduleTime':'2026-01-01T09:00:00Z'}");
    struct jobs j = {0};
    struct cronjob_plan p;
    plan(cj, &j, ms("2026-01-01T10:30:00Z"), &p);
    CHECK(p.create == NULL);
    CHECK(find_event(&p, "MissSchedule") != NULL);
    CHECK(strstr(find_event(&p, "MissSchedule")->msg, "2026-01-01T10:00:00Z") != NULL);
    CHECK_INT(p.requeue_ms, ==, 30 * 60000 + 100);
    cronjob_plan_free(&p);
    /* Within the deadline it still runs, late. */
    plan(cj, &j, ms("2026-01-01T10:09:00Z"), &p);
    CHECK(p.create != NULL);
    cronjob_plan_free(&p);
    json_decref(cj);
}

TEST(too_many_missed_times_warns_and_runs_the_latest)
{
    /* Down for two days with a schedule every minute. */
    json_t *cj = cronjob("'schedule':'* * * * *',", "{'lastScheduleTime':'2026-01-01T00:00:00Z'}");
    struct jobs j = {0};
    struct cronjob_plan p;
    plan(cj, &j, ms("2026-01-03T00:00:30Z"), &p);
    CHECK(find_event(&p, "TooManyMissedTimes") != NULL);
    CHECK(p.create != NULL);
    CHECK_STR(st_str(&p, "lastScheduleTime"), "2026-01-03T00:00:00Z");
    cronjob_plan_free(&p);
    json_decref(cj);
    /* A short starting deadline keeps the count low: no warning. */
    cj = cronjob("'schedule':'* * * * *','startingDeadlineSeconds':120,",
                 "{'lastScheduleTime':'2026-01-01T00:00:00Z'}");
    plan(cj, &j, ms("2026-01-03T00:00:30Z"), &p);
    CHECK(find_event(&p, "TooManyMissedTimes") == NULL);
    CHECK(p.create != NULL);
    cronjob_plan_free(&p);
    json_decref(cj);
    /* Direct: a monthly schedule missed for 36 years walks windows. */
    orc_cron *c;
    char msg[64];
    int missed;
    CHECK_INT(orc_cron_parse("0 0 1 * *", &c, msg, sizeof msg), ==, 0);
    int64_t t = cronjob_most_recent(c, NULL, ms("1990-06-01T00:00:00Z") / 1000,
                                    ms("2026-06-10T00:00:00Z") / 1000, &missed);
    CHECK_INT(t, ==, ms("2026-06-01T00:00:00Z") / 1000);
    CHECK_INT(missed, ==, CRONJOB_MAX_MISSED + 1);
    orc_cron_free(c);
}

TEST(forbid_allow_replace)
{
    struct jobs j = {0};
    struct cronjob_plan p;
    const char *st = "{'lastScheduleTime':'2026-01-01T10:00:00Z','active':[{'kind':'Job',"
                     "'namespace':'default','name':'hello-29454360','uid':'uid-hello-29454360',"
                     "'apiVersion':'batch/v1'}]}";
    job_add(&j, "hello-29454360", "", "2026-01-01T10:00:01Z");
    json_t *cj = cronjob("'schedule':'* * * * *','concurrencyPolicy':'Forbid',", st);
    plan(cj, &j, ms("2026-01-01T10:01:00Z"), &p);
    CHECK(p.create == NULL);
    CHECK(find_event(&p, "JobAlreadyActive") != NULL);
    CHECK(p.status == NULL); /* lastScheduleTime stays: the run waits */
    CHECK_INT(p.requeue_ms, ==, 60100);
    cronjob_plan_free(&p);
    json_decref(cj);

    cj = cronjob("'schedule':'* * * * *','concurrencyPolicy':'Allow',", st);
    plan(cj, &j, ms("2026-01-01T10:01:00Z"), &p);
    CHECK(p.create != NULL);
    CHECK_INT(p.ndel, ==, 0);
    cronjob_plan_free(&p);
    json_decref(cj);

    cj = cronjob("'schedule':'* * * * *','concurrencyPolicy':'Replace',", st);
    plan(cj, &j, ms("2026-01-01T10:01:00Z"), &p);
    CHECK(p.create != NULL);
    CHECK_INT(p.ndel, ==, 1);
    CHECK(p.del[0] == j.v[0]);
    CHECK(find_event(&p, "SuccessfulDelete") != NULL);
    CHECK(json_object_get(p.status, "active") == NULL);
    cronjob_plan_free(&p);
    json_decref(cj);

    /* Forbid, the running Job finishes: the waiting run starts late. */
    jobs_free(&j);
    job_add(&j, "hello-29454360", "Complete", "2026-01-01T10:01:20Z");
    cj = cronjob("'schedule':'* * * * *','concurrencyPolicy':'Forbid',", st);
    plan(cj, &j, ms("2026-01-01T10:01:30Z"), &p);
    CHECK(p.create != NULL);
    CHECK_STR(orc_json_str(p.create, "metadata.name"), "hello-29454361");
    CHECK(find_event(&p, "SawCompletedJob") != NULL);
    CHECK_STR(st_str(&p, "lastSuccessfulTime"), "2026-01-01T10:01:20Z");
    cronjob_plan_free(&p);
    json_decref(cj);
    jobs_free(&j);
}

TEST(a_job_made_by_another_leader_counts_as_done)
{
    json_t *cj = cronjob("'schedule':'* * * * *',", "{'lastScheduleTime':'2026-01-01T10:00:00Z'}");
    struct jobs j = {0};
    struct cronjob_plan p;
    job_add(&j, "hello-29454361", "", "2026-01-01T10:01:01Z");
    plan(cj, &j, ms("2026-01-01T10:01:10Z"), &p);
    CHECK(p.create == NULL);
    CHECK_STR(st_str(&p, "lastScheduleTime"), "2026-01-01T10:01:00Z");
    CHECK_STR(orc_json_str(json_array_get(json_object_get(p.status, "active"), 0), "name"),
              "hello-29454361");
    cronjob_plan_free(&p);
    jobs_free(&j);
    json_decref(cj);
}

TEST(history_limits_keep_the_newest)
{
    json_t *cj = cronjob("'schedule':'0 0 1 1 *','suspend':true,", NULL);
    struct jobs j = {0};
    struct cronjob_plan p;
    job_add(&j, "ok1", "Complete", "2026-01-01T01:00:00Z");
    job_add(&j, "ok5", "Complete", "2026-01-01T05:00:00Z");
    job_add(&j, "ok2", "Complete", "2026-01-01T02:00:00Z");
    job_add(&j, "ok4", "Complete", "2026-01-01T04:00:00Z");
    job_add(&j, "ok3", "Complete", "2026-01-01T03:00:00Z");
    job_add(&j, "bad1", "Failed", "2026-01-01T01:00:00Z");
    job_add(&j, "bad2", "Failed", "2026-01-01T02:00:00Z");
    job_add(&j, "run", "", "2026-01-01T00:30:00Z");
    plan(cj, &j, ms("2026-01-02T00:00:00Z"), &p);
    CHECK_INT(p.ndel, ==, 3);
    CHECK_STR(orc_json_str(p.del[0], "metadata.name"), "ok1");
    CHECK_STR(orc_json_str(p.del[1], "metadata.name"), "ok2");
    CHECK_STR(orc_json_str(p.del[2], "metadata.name"), "bad1");
    CHECK(p.create == NULL); /* suspended */
    CHECK_INT(p.requeue_ms, ==, 0);
    CHECK_STR(st_str(&p, "lastSuccessfulTime"), "2026-01-01T05:00:00Z");
    CHECK_INT(json_array_size(json_object_get(p.status, "active")), ==, 1);
    cronjob_plan_free(&p);
    jobs_free(&j);
    json_decref(cj);
}

TEST(time_zone_moves_the_run)
{
    /* 09:00 in Paris in winter is 08:00 UTC. */
    json_t *cj = cronjob("'schedule':'0 9 * * *','timeZone':'Europe/Paris',",
                         "{'lastScheduleTime':'2026-01-04T08:00:00Z'}");
    struct jobs j = {0};
    struct cronjob_plan p;
    plan(cj, &j, ms("2026-01-05T07:59:00Z"), &p);
    CHECK(p.create == NULL);
    CHECK_INT(p.requeue_ms, ==, 60100);
    cronjob_plan_free(&p);
    plan(cj, &j, ms("2026-01-05T08:00:00Z"), &p);
    CHECK(p.create != NULL);
    CHECK_STR(st_str(&p, "lastScheduleTime"), "2026-01-05T08:00:00Z");
    cronjob_plan_free(&p);
    json_decref(cj);
}

TEST(unusable_zone_or_schedule_is_an_event_not_an_error)
{
    json_t *cj = cronjob("'schedule':'* * * * *','timeZone':'Mars/Olympus_Mons',", NULL);
    struct jobs j = {0};
    struct cronjob_plan p;
    plan(cj, &j, ms("2026-01-05T08:00:00Z"), &p);
    CHECK(p.create == NULL);
    CHECK(find_event(&p, "UnknownTimeZone") != NULL);
    CHECK_INT(p.requeue_ms, ==, 0);
    cronjob_plan_free(&p);
    json_decref(cj);
    cj = cronjob("'schedule':'61 * * * *',", NULL);
    plan(cj, &j, ms("2026-01-05T08:00:00Z"), &p);
    CHECK(p.create == NULL);
    CHECK(find_event(&p, "InvalidSchedule") != NULL);
    cronjob_plan_free(&p);
    json_decref(cj);
}
