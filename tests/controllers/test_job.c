/* test_job.c — the Job controller's decisions (controllers/job.h) on
 * objects built in memory at chosen wall times: counting through the
 * tracking finalizer, completions, parallelism, back-off delays,
 * backoffLimit, activeDeadlineSeconds, suspend, TTL and Indexed
 * bookkeeping. No server, no sleeping. */
#include <stdlib.h>
#include <string.h>

#include "controllers/job.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/harness/jsq.h"
#include "tests/harness/test.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

static json_t *job(const char *spec_extra, const char *status)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'pi','namespace':'default',"
             "'uid':'job-uid'},'spec':{'backoffLimit':6,%s'template':{'metadata':{'labels':{'a':'b'}},"
             "'spec':{'restartPolicy':'Never','containers':[{'name':'c','image':'busybox'}]}}},"
             "'status':%s}",
             spec_extra, status ? status : "{}");
    return js(buf);
}

struct pods {
    json_t *v[64];
    size_t n;
};

static void pod_add(struct pods *p, const char *uid, const char *phase, bool fin, long index,
                    const char *extra_meta)
{
    char buf[1024], ann[128] = "";
    if (index >= 0)
        snprintf(ann, sizeof ann, ",'annotations':{'" JOB_INDEX_KEY "':'%ld'}", index);
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'p-%s','namespace':'default','uid':'%s','creationTimestamp':"
             "'2026-01-01T00:00:00Z'%s%s%s},'status':{'phase':'%s','containerStatuses':[{'state':"
             "{'terminated':{'finishedAt':'2026-01-01T00:00:10Z'}}}]}}",
             uid, uid, fin ? ",'finalizers':['" JOB_TRACKING_FINALIZER "']" : "", ann,
             extra_meta ? extra_meta : "", phase);
    p->v[p->n++] = js(buf);
}

static void pods_free(struct pods *p)
{
    for (size_t i = 0; i < p->n; i++) json_decref(p->v[i]);
    p->n = 0;
}

static void plan(const json_t *j, struct pods *p, int64_t now, struct job_plan *out)
{
    char msg[256];
    int rv = job_plan(j, (const json_t *const *)p->v, p->n, now, out, msg, sizeof msg);
    if (rv != 0) test_fail(__FILE__, __LINE__, "job_plan: %d %s", rv, msg);
}

static int64_t st_int(const struct job_plan *p, const char *key)
{
    int64_t v = -1;
    orc_json_int(json_object_get(p->status, key), "", &v);
    json_t *x = json_object_get(p->status, key);
    return x ? json_integer_value(x) : v;
}

static const char *cond_reason(const json_t *st, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(st, "conditions"), i, c)
        if (!strcmp(orc_json_str(c, "type"), type) && !strcmp(orc_json_str(c, "status"), "True"))
            return orc_json_str(c, "reason");
    return NULL;
}

TEST(backoff_delays)
{
    CHECK_INT(job_backoff_ms(0), ==, 0);
    CHECK_INT(job_backoff_ms(1), ==, 10000);
    CHECK_INT(job_backoff_ms(2), ==, 20000);
    CHECK_INT(job_backoff_ms(3), ==, 40000);
    CHECK_INT(job_backoff_ms(6), ==, 320000);
    CHECK_INT(job_backoff_ms(7), ==, 360000); /* capped at 6 min */
    CHECK_INT(job_backoff_ms(1000), ==, 360000);
}

TEST(index_sets_parse_and_format)
{
    unsigned char set[8];
    CHECK_INT(job_indexes_parse("0-2,4", set, 8), ==, 0);
    CHECK(set[0] && set[1] && set[2] && !set[3] && set[4] && !set[5]);
    char *s = job_indexes_format(set, 8);
    CHECK_STR(s, "0-2,4");
    free(s);
    CHECK_INT(job_indexes_parse("", set, 8), ==, 0);
    s = job_indexes_format(set, 8);
    CHECK_STR(s, "");
    free(s);
    CHECK_INT(job_indexes_parse("1,3-9", set, 8), ==, 0); /* past n ignored */
    s = job_indexes_format(set, 8);
    CHECK_STR(s, "1,3-7");
    free(s);
    CHECK(job_indexes_parse("3-1", set, 8) != 0);
    CHECK(job_indexes_parse("a", set, 8) != 0);
    CHECK(job_indexes_parse("1,", set, 8) != 0);
}

TEST(first_sync_creates_parallelism_pods_and_sets_start)
{
    json_t *j = job("'completions':5,'parallelism':2,", NULL);
    struct pods p = {0};
    struct job_plan pl;
    plan(j, &p, T0, &pl);
    CHECK_INT(pl.ncreate, ==, 2);
    CHECK_INT(pl.create[0], ==, -1);
    CHECK_STR(json_string_value(json_object_get(pl.status, "startTime")), "2026-01-01T00:00:00Z");
    CHECK_INT(st_int(&pl, "active"), ==, 0);
    job_plan_free(&pl);
    json_decref(j);
}

TEST(success_is_counted_once_through_the_finalizer)
{
    json_t *j = job("'completions':2,'parallelism':2,",
                    "{'startTime':'2026-01-01T00:00:00Z','active':2,'succeeded':0,'failed':0}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "u1", "Succeeded", true, -1, NULL);
    pod_add(&p, "u2", "Running", true, -1, NULL);
    /* Step 1: recorded as uncounted, no finalizer removed yet. */
    plan(j, &p, T0 + 20000, &pl);
    CHECK_INT(pl.nunfinal, ==, 0);
    CHECK_INT(pl.ncreate, ==, 0); /* one done, one running: completions 2 covered */
    CHECK_INT(st_int(&pl, "succeeded"), ==, 0); /* not counted yet */
    CHECK_INT(st_int(&pl, "active"), ==, 1);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(pl.status, "uncountedTerminatedPods.succeeded"), 0)), "u1");
    json_object_set(j, "status", pl.status);
    job_plan_free(&pl);
    /* Step 2: the stored status names u1: its finalizer goes; the count holds. */
    plan(j, &p, T0 + 21000, &pl);
    CHECK_INT(pl.nunfinal, ==, 1);
    CHECK(pl.unfinal[0] == p.v[0]);
    CHECK(pl.status == NULL); /* nothing changed */
    job_plan_free(&pl);
    /* Step 3: u1 shows without the finalizer: moved into succeeded, once. */
    json_object_set_new(json_object_get(p.v[0], "metadata"), "finalizers", json_array());
    plan(j, &p, T0 + 22000, &pl);
    CHECK_INT(pl.nunfinal, ==, 0);
    CHECK_INT(st_int(&pl, "succeeded"), ==, 1);
    CHECK(orc_json_get(pl.status, "uncountedTerminatedPods.succeeded") == NULL);
    json_object_set(j, "status", pl.status);
    job_plan_free(&pl);
    /* The pod disappearing later changes nothing. */
    json_decref(p.v[0]);
    p.v[0] = p.v[1];
    p.n = 1;
    plan(j, &p, T0 + 23000, &pl);
    CHECK(pl.status == NULL);
    job_plan_free(&pl);
    /* u2 succeeds: recorded, but Complete waits until it is counted. */
    json_object_set_new(json_object_get(p.v[0], "status"), "phase", json_string("Succeeded"));
    plan(j, &p, T0 + 30000, &pl);
    CHECK(cond_reason(pl.status, "Complete") == NULL);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK_INT(st_int(&pl, "succeeded"), ==, 1); /* + u2, uncounted */
    json_object_set(j, "status", pl.status);
    job_plan_free(&pl);
    plan(j, &p, T0 + 31000, &pl);
    CHECK_INT(pl.nunfinal, ==, 1);
    CHECK(cond_reason(pl.status, "Complete") == NULL);
    job_plan_free(&pl);
    /* Counted: now Complete, with completionTime and the final count. */
    json_object_set_new(json_object_get(p.v[0], "metadata"), "finalizers", json_array());
    plan(j, &p, T0 + 32000, &pl);
    CHECK_INT(st_int(&pl, "succeeded"), ==, 2);
    CHECK_STR(cond_reason(pl.status, "Complete"), "CompletionsReached");
    CHECK_STR(json_string_value(json_object_get(pl.status, "completionTime")), "2026-01-01T00:00:32Z");
    CHECK_STR(pl.event_reason, "Completed");
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

TEST(failures_back_off_then_hit_the_limit)
{
    json_t *j = job("'completions':1,'parallelism':1,'backoffLimit':2,",
                    "{'startTime':'2026-01-01T00:00:00Z','failed':1}");
    struct pods p = {0};
    struct job_plan pl;
    /* One failure counted; the pod finished at T0+10 s: wait 10 s from then. */
    pod_add(&p, "f1", "Failed", false, -1, NULL);
    plan(j, &p, T0 + 12000, &pl);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK_INT(pl.requeue_ms, ==, 8000);
    job_plan_free(&pl);
    plan(j, &p, T0 + 20000, &pl);
    CHECK_INT(pl.ncreate, ==, 1);
    job_plan_free(&pl);
    /* Two failures: 20 s. */
    json_object_set_new(json_object_get(j, "status"), "failed", json_integer(2));
    plan(j, &p, T0 + 20000, &pl);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK_INT(pl.requeue_ms, ==, 10000);
    job_plan_free(&pl);
    /* A third failure (uncounted yet) passes backoffLimit 2: Failed. */
    pod_add(&p, "f3", "Failed", true, -1, NULL);
    pod_add(&p, "a1", "Running", true, -1, NULL);
    plan(j, &p, T0 + 40000, &pl);
    CHECK_STR(cond_reason(pl.status, "Failed"), "BackoffLimitExceeded");
    CHECK_STR(pl.event_reason, "BackoffLimitExceeded");
    CHECK_INT(st_int(&pl, "failed"), ==, 2); /* f3 waits in uncountedTerminatedPods */
    CHECK_STR(json_string_value(json_array_get(orc_json_get(pl.status, "uncountedTerminatedPods.failed"), 0)), "f3");
    CHECK_INT(pl.ndel, ==, 1); /* the active pod goes */
    CHECK(pl.del[0] == p.v[2]);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK(json_object_get(pl.status, "completionTime") == NULL);
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

/* A Running pod of an OnFailure Job whose containers restarted `n` times
 * (init container `init_n`). */
static void restarting_pod(struct pods *p, const char *uid, const char *phase, int n, int init_n)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'p-%s','namespace':'default','uid':'%s','creationTimestamp':"
             "'2026-01-01T00:00:00Z','finalizers':['" JOB_TRACKING_FINALIZER "']},'status':{"
             "'phase':'%s','initContainerStatuses':[{'name':'i','restartCount':%d}],"
             "'containerStatuses':[{'name':'c','restartCount':%d}]}}",
             uid, uid, phase, init_n, n);
    p->v[p->n++] = js(buf);
}

static void set_policy(json_t *j, const char *policy)
{
    json_object_set_new(orc_json_get(j, "spec.template.spec"), "restartPolicy", json_string(policy));
}

TEST(on_failure_restarts_count_toward_backoff_limit)
{
    json_t *j = job("'completions':2,'parallelism':2,'backoffLimit':3,",
                    "{'startTime':'2026-01-01T00:00:00Z'}");
    struct pods p = {0};
    struct job_plan pl;

    set_policy(j, "OnFailure");
    restarting_pod(&p, "a", "Running", 1, 0);
    restarting_pod(&p, "b", "Pending", 0, 1);
    CHECK_INT(job_pod_restarts(p.v[0]), ==, 1);
    CHECK_INT(job_pod_restarts(p.v[1]), ==, 1);
    /* 2 restarts < backoffLimit 3: still running. */
    plan(j, &p, T0 + 1000, &pl);
    CHECK(cond_reason(pl.status, "Failed") == NULL);
    CHECK_INT(pl.ndel, ==, 0);
    job_plan_free(&pl);
    /* A third restart reaches it: Failed, BackoffLimitExceeded, both deleted. */
    json_object_set_new(json_array_get(orc_json_get(p.v[0], "status.containerStatuses"), 0),
                        "restartCount", json_integer(2));
    plan(j, &p, T0 + 2000, &pl);
    CHECK_STR(cond_reason(pl.status, "Failed"), "BackoffLimitExceeded");
    CHECK_STR(pl.event_reason, "BackoffLimitExceeded");
    CHECK_INT(pl.ndel, ==, 2);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK_INT(st_int(&pl, "active"), ==, 0);
    job_plan_free(&pl);
    /* The same restarts under restartPolicy Never count for nothing. */
    set_policy(j, "Never");
    plan(j, &p, T0 + 2000, &pl);
    CHECK(cond_reason(pl.status, "Failed") == NULL);
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

TEST(on_failure_restarts_of_finished_pods_do_not_count)
{
    json_t *j = job("'backoffLimit':1,", "{'startTime':'2026-01-01T00:00:00Z'}");
    struct pods p = {0};
    set_policy(j, "OnFailure");
    restarting_pod(&p, "s", "Succeeded", 5, 0);
    CHECK_INT(job_pod_restarts(p.v[0]), ==, 0);
    CHECK(!job_past_backoff_on_failure(j, 0));
    CHECK(job_past_backoff_on_failure(j, 1));
    /* backoffLimit 0: any restart fails the Job. */
    json_object_set_new(json_object_get(j, "spec"), "backoffLimit", json_integer(0));
    CHECK(!job_past_backoff_on_failure(j, 0));
    CHECK(job_past_backoff_on_failure(j, 1));
    pods_free(&p);
    json_decref(j);
}

TEST(finished_job_releases_finalizers_without_counting)
{
    json_t *j = job("", "{'startTime':'2026-01-01T00:00:00Z','failed':7,'conditions':[{'type':"
                        "'Failed','status':'True','reason':'BackoffLimitExceeded'}]}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "x", "Failed", true, -1, NULL);
    pod_add(&p, "y", "Running", true, -1, ",'deletionTimestamp':'2026-01-01T00:00:05Z'");
    plan(j, &p, T0 + 60000, &pl);
    CHECK_INT(pl.nunfinal, ==, 2);
    CHECK(pl.status == NULL || st_int(&pl, "failed") == 7);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK(pl.event_reason == NULL);
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

TEST(active_deadline_fails_and_deletes_active)
{
    json_t *j = job("'activeDeadlineSeconds':30,", "{'startTime':'2026-01-01T00:00:00Z'}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "a", "Running", true, -1, NULL);
    plan(j, &p, T0 + 10000, &pl);
    CHECK_INT(pl.requeue_ms, ==, 20000);
    CHECK_INT(pl.ndel, ==, 0);
    job_plan_free(&pl);
    plan(j, &p, T0 + 30000, &pl);
    CHECK_STR(cond_reason(pl.status, "Failed"), "DeadlineExceeded");
    CHECK_STR(pl.event_reason, "DeadlineExceeded");
    CHECK_INT(pl.ndel, ==, 1);
    CHECK_INT(st_int(&pl, "active"), ==, 0);
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

TEST(suspend_deletes_active_and_resume_restarts_the_clock)
{
    json_t *j = job("'suspend':true,'parallelism':2,'completions':4,",
                    "{'startTime':'2026-01-01T00:00:00Z','active':2}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "a", "Running", true, -1, NULL);
    pod_add(&p, "b", "Pending", true, -1, NULL);
    plan(j, &p, T0 + 5000, &pl);
    CHECK_INT(pl.ndel, ==, 2);
    CHECK_INT(pl.ncreate, ==, 0);
    CHECK_STR(cond_reason(pl.status, "Suspended"), "JobSuspended");
    CHECK_STR(pl.event_reason, "Suspended");
    json_object_set(j, "status", pl.status);
    job_plan_free(&pl);
    /* Deleted while suspended: not failures; finalizers simply released. */
    pods_free(&p);
    pod_add(&p, "a", "Running", true, -1, ",'deletionTimestamp':'2026-01-01T00:00:06Z'");
    plan(j, &p, T0 + 6000, &pl);
    CHECK_INT(pl.nunfinal, ==, 1);
    CHECK(pl.status == NULL || st_int(&pl, "failed") <= 0);
    job_plan_free(&pl);
    pods_free(&p);
    /* Resume: startTime moves to now, pods come back. */
    json_object_set_new(json_object_get(j, "spec"), "suspend", json_false());
    plan(j, &p, T0 + 100000, &pl);
    CHECK_INT(pl.ncreate, ==, 2);
    CHECK_STR(pl.event_reason, "Resumed");
    CHECK_STR(json_string_value(json_object_get(pl.status, "startTime")), "2026-01-01T00:01:40Z");
    CHECK(cond_reason(pl.status, "Suspended") == NULL);
    job_plan_free(&pl);
    json_decref(j);
}

TEST(ttl_after_finished_deletes_the_job_when_due)
{
    json_t *j = job("'ttlSecondsAfterFinished':100,",
                    "{'completionTime':'2026-01-01T00:00:10Z','succeeded':1,'conditions':[{'type':"
                    "'Complete','status':'True'}]}");
    struct pods p = {0};
    struct job_plan pl;
    plan(j, &p, T0 + 50000, &pl);
    CHECK(!pl.delete_job);
    CHECK_INT(pl.requeue_ms, ==, 60000);
    job_plan_free(&pl);
    plan(j, &p, T0 + 110000, &pl);
    CHECK(pl.delete_job);
    job_plan_free(&pl);
    json_decref(j);
}

TEST(work_queue_job_completes_when_one_succeeded_and_none_active)
{
    json_t *j = job("'parallelism':3,", "{'startTime':'2026-01-01T00:00:00Z','succeeded':1}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "a", "Running", true, -1, NULL);
    plan(j, &p, T0 + 1000, &pl);
    CHECK_INT(pl.ncreate, ==, 0); /* after a success, no new pods */
    CHECK_INT(pl.ndel, ==, 0);
    CHECK(cond_reason(pl.status, "Complete") == NULL);
    job_plan_free(&pl);
    pods_free(&p);
    plan(j, &p, T0 + 2000, &pl);
    CHECK_STR(cond_reason(pl.status, "Complete"), "CompletionsReached");
    job_plan_free(&pl);
    json_decref(j);
}

TEST(too_many_active_deletes_the_least_advanced)
{
    json_t *j = job("'parallelism':1,'completions':3,", "{'startTime':'2026-01-01T00:00:00Z'}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "run", "Running", true, -1, NULL);
    pod_add(&p, "pend", "Pending", true, -1, NULL);
    plan(j, &p, T0, &pl);
    CHECK_INT(pl.ndel, ==, 1);
    CHECK(pl.del[0] == p.v[1]);
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

TEST(indexed_runs_each_index_once)
{
    json_t *j = job("'completionMode':'Indexed','completions':5,'parallelism':2,",
                    "{'startTime':'2026-01-01T00:00:00Z','completedIndexes':'0,2'}");
    struct pods p = {0};
    struct job_plan pl;
    pod_add(&p, "i1", "Running", true, 1, NULL);
    pod_add(&p, "dup", "Pending", true, 1, NULL);   /* second pod of index 1 */
    pod_add(&p, "old", "Pending", true, 2, NULL);   /* index 2 is done */
    pod_add(&p, "bad", "Pending", true, 9, NULL);   /* out of range */
    plan(j, &p, T0, &pl);
    CHECK_INT(pl.ndel, ==, 3);
    CHECK_INT(pl.ncreate, ==, 1);
    CHECK_INT(pl.create[0], ==, 3);
    CHECK_INT(st_int(&pl, "succeeded"), ==, 2);
    job_plan_free(&pl);
    pods_free(&p);
    /* Index 1 succeeds, and so does a duplicate of index 0: counted once. */
    pod_add(&p, "i1", "Succeeded", true, 1, NULL);
    pod_add(&p, "d0", "Succeeded", true, 0, NULL);
    pod_add(&p, "i3", "Running", true, 3, NULL);
    plan(j, &p, T0, &pl);
    CHECK_STR(json_string_value(json_object_get(pl.status, "completedIndexes")), "0-2");
    CHECK_INT(st_int(&pl, "succeeded"), ==, 3);
    CHECK_INT(pl.ncreate, ==, 1);
    CHECK_INT(pl.create[0], ==, 4);
    json_object_set(j, "status", pl.status);
    job_plan_free(&pl);
    pods_free(&p);
    pod_add(&p, "i3", "Succeeded", true, 3, NULL);
    pod_add(&p, "i4", "Succeeded", true, 4, NULL);
    plan(j, &p, T0 + 5000, &pl);
    CHECK_STR(json_string_value(json_object_get(pl.status, "completedIndexes")), "0-4");
    CHECK(cond_reason(pl.status, "Complete") == NULL); /* i3, i4 not counted yet */
    CHECK_INT(pl.ncreate, ==, 0);
    json_object_set(j, "status", pl.status);
    job_plan_free(&pl);
    for (size_t k = 0; k < p.n; k++)
        json_object_set_new(json_object_get(p.v[k], "metadata"), "finalizers", json_array());
    plan(j, &p, T0 + 6000, &pl);
    CHECK_STR(cond_reason(pl.status, "Complete"), "CompletionsReached");
    job_plan_free(&pl);
    pods_free(&p);
    json_decref(j);
}

TEST(indexed_pod_carries_index_hostname_env_and_tracking)
{
    json_t *j = job("'completionMode':'Indexed','completions':3,", NULL);
    json_t *pod = job_pod_new(j, 2);
    CHECK(pod != NULL);
    CHECK_STR(orc_json_str(pod, "metadata.generateName"), "pi-2-");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(pod, "metadata.annotations"), JOB_INDEX_KEY)), "2");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(pod, "metadata.labels"), JOB_INDEX_KEY)), "2");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(pod, "metadata.labels"), "a")), "b");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(pod, "metadata.labels"), "job-name")), "pi");
    CHECK_STR(orc_json_str(pod, "spec.hostname"), "pi-2");
    CHECK_STR(json_string_value(json_array_get(orc_json_get(pod, "metadata.finalizers"), 0)),
              JOB_TRACKING_FINALIZER);
    json_t *ref = json_array_get(orc_json_get(pod, "metadata.ownerReferences"), 0);
    CHECK_STR(orc_json_str(ref, "uid"), "job-uid");
    CHECK(json_is_true(json_object_get(ref, "controller")));
    CHECK(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    json_t *env = json_array_get(orc_json_get(json_array_get(orc_json_get(pod, "spec.containers"), 0), "env"), 0);
    CHECK_STR(orc_json_str(env, "name"), "JOB_COMPLETION_INDEX");
    CHECK_STR(orc_json_str(env, "valueFrom.fieldRef.fieldPath"),
              "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    json_decref(pod);
    pod = job_pod_new(j, -1);
    CHECK_STR(orc_json_str(pod, "metadata.generateName"), "pi-");
    CHECK(orc_json_get(pod, "spec.hostname") == NULL);
    json_decref(pod);
    json_decref(j);
}

/* The cost of one step for a big Job: 10,000 pods, 1,000 of them just
 * finished (uncounted), 1,000 more waiting for their finalizer to go. */
TEST(plan_cost_at_scale)
{
    json_t *unc = json_array();
    for (int i = 0; i < 1000; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "w%d", i);
        json_array_append_new(unc, json_string(uid));
    }
    json_t *j = job("'completions':20000,'parallelism':9000,", "{'startTime':'2026-01-01T00:00:00Z'}");
    json_object_set_new(orc_json_get(j, "status"), "uncountedTerminatedPods",
                        json_pack("{s:o}", "succeeded", unc));
    json_t **pods = calloc(10000, sizeof *pods);
    char buf[512];
    for (int i = 0; i < 10000; i++) {
        const char *phase = i < 2000 ? "Succeeded" : "Running";
        snprintf(buf, sizeof buf,
                 "{'metadata':{'name':'p%d','uid':'%s%d','creationTimestamp':'2026-01-01T00:00:00Z',"
                 "'finalizers':['" JOB_TRACKING_FINALIZER "']},'status':{'phase':'%s'}}",
                 i, i < 1000 ? "w" : "u", i, phase);
        pods[i] = js(buf);
    }
    struct job_plan pl;
    char msg[128];
    uint64_t t0 = test_now_ms();
    int runs = 5;
    for (int r = 0; r < runs; r++) {
        CHECK_INT(job_plan(j, (const json_t *const *)pods, 10000, T0, &pl, msg, sizeof msg), ==, 0);
        CHECK_INT(pl.nunfinal, ==, 1000);
        CHECK_INT(json_array_size(orc_json_get(pl.status, "uncountedTerminatedPods.succeeded")), ==, 2000);
        CHECK_INT(pl.ncreate, ==, 500); /* 1,000 missing, one burst of 500 */
        job_plan_free(&pl);
    }
    uint64_t per = (test_now_ms() - t0) / (uint64_t)runs;
    fprintf(stderr, "# job_plan: 10,000 pods, 2,000 finished: %llu ms per step\n",
            (unsigned long long)per);
    CHECK(per < 2000);
    for (int i = 0; i < 10000; i++) json_decref(pods[i]);
    free(pods);
    json_decref(j);
}
