/* cronjob_logic.c — the CronJob controller's decisions (see cronjob.h):
 * which scheduled time is due, missed schedules and the starting deadline,
 * concurrencyPolicy, the Job to create, status.active / lastScheduleTime /
 * lastSuccessfulTime, and the history limits. Nothing here talks to the API. */
#include "controllers/cronjob.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cron.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/tz.h"

/* Kubernetes requeues 100 ms past the next schedule time. */
#define NEXT_DELTA_MS 100

struct cj_in {
    const json_t *cj, *spec, *old;
    const json_t *const *jobs;
    size_t n;
    int64_t now_ms, now;
    orc_cron *cron;
    orc_tz *tz;
};

void cronjob_job_name(const char *cronjob, int64_t t, char *out, size_t n)
{
    snprintf(out, n, "%s-%lld", cronjob, (long long)(t / 60));
}

int64_t cronjob_most_recent(const struct orc_cron *c, const struct orc_tz *z, int64_t earliest,
                            int64_t now, int *missed)
{
    static const int64_t windows[] = {60, 3600, 86400, 31 * 86400, 366 * 86400};
    int64_t t = earliest, last = -1;
    *missed = 0;
    while (*missed <= CRONJOB_MAX_MISSED) {
        t = orc_tz_cron_next(c, z, t);
        if (t < 0 || t > now) return last;
        last = t;
        (*missed)++;
    }
    /* Too many to walk: look back from now through growing windows; the
     * first one holding a scheduled time holds few. */
    for (size_t i = 0; i <= ORC_ARRAY_LEN(windows); i++) {
        int64_t from = i < ORC_ARRAY_LEN(windows) ? now - windows[i] : last;
        if (from < last) from = last;
        t = orc_tz_cron_next(c, z, from);
        if (t < 0 || t > now) continue;
        while (t >= 0 && t <= now) {
            last = t;
            t = orc_tz_cron_next(c, z, t);
        }
        break;
    }
    return last;
}

static void event(struct cronjob_plan *p, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void event(struct cronjob_plan *p, const char *type, const char *reason, const char *fmt, ...)
{
    va_list ap;
    if (p->nevents == CRONJOB_MAX_EVENTS) return;
    struct cronjob_event *e = &p->events[p->nevents++];
    e->type = type;
    e->reason = reason;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

static int64_t time_of(const json_t *o, const char *path)
{
    int64_t t;
    const char *s = orc_json_str(o, path);
    return s && orc_time_parse(s, &t) == 0 ? t : -1;
}

/* "Complete", "Failed", or NULL while the Job runs. */
static const char *finished_as(const json_t *job)
{
    size_t i;
    json_t *c;
    json_array_foreach (orc_json_get(job, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type") ?: "";
        if ((!strcmp(t, "Complete") || !strcmp(t, "Failed"))
            && !strcmp(orc_json_str(c, "status") ?: "", "True"))
            return !strcmp(t, "Complete") ? "Complete" : "Failed";
    }
    return NULL;
}

static bool in_active(const json_t *old, const char *uid)
{
    size_t i;
    json_t *r;
    json_array_foreach (json_object_get(old, "active"), i, r)
        if (!strcmp(orc_json_str(r, "uid") ?: "", uid)) return true;
    return false;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(orc_json_str(*(const json_t *const *)a, "metadata.name") ?: "",
                  orc_json_str(*(const json_t *const *)b, "metadata.name") ?: "");
}

/* status.active is every owned Job still running; Jobs seen finishing give
 * SawCompletedJob and move lastSuccessfulTime. */
static int track_jobs(const struct cj_in *in, struct cronjob_plan *p, json_t *st,
                      const json_t **running, size_t *nrunning)
{
    json_t *active = json_array();
    int64_t last_ok = time_of(in->old, "lastSuccessfulTime");
    char ts[ORC_TIME_LEN];

    if (!active) return ORC_ENOMEM;
    *nrunning = 0;
    for (size_t i = 0; i < in->n; i++) {
        const json_t *j = in->jobs[i];
        const char *how = finished_as(j), *uid = orc_json_str(j, "metadata.uid") ?: "";
        if (!how) {
            if (!orc_json_get(j, "metadata.deletionTimestamp")) running[(*nrunning)++] = j;
            continue;
        }
        if (in_active(in->old, uid))
            event(p, "Normal", "SawCompletedJob", "Saw completed job: %s, status: %s",
                  orc_json_str(j, "metadata.name") ?: "", how);
        int64_t done = time_of(j, "status.completionTime");
        if (!strcmp(how, "Complete") && done > last_ok) last_ok = done;
    }
    qsort(running, *nrunning, sizeof *running, name_cmp);
    for (size_t i = 0; i < *nrunning; i++) {
        json_t *ref = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "Job", "namespace",
                                orc_json_str(running[i], "metadata.namespace") ?: "", "name",
                                orc_json_str(running[i], "metadata.name") ?: "", "uid",
                                orc_json_str(running[i], "metadata.uid") ?: "", "apiVersion",
                                "batch/v1");
        if (!ref || json_array_append_new(active, ref) != 0) {
            json_decref(active);
            return ORC_ENOMEM;
        }
    }
    if (json_array_size(active)) json_object_set_new(st, "active", active);
    else {
        json_decref(active);
        json_object_del(st, "active");
    }
    if (last_ok >= 0) {
        orc_time_format(last_ok, ts);
        if (json_object_set_new(st, "lastSuccessfulTime", json_string(ts)) != 0) return ORC_ENOMEM;
    }
    return 0;
}

/* Finished Jobs past successfulJobsHistoryLimit (3) / failedJobsHistoryLimit
 * (1) go, oldest first. */
static int start_cmp(const void *a, const void *b)
{
    const json_t *ja = *(const json_t *const *)a, *jb = *(const json_t *const *)b;
    int64_t ta = time_of(ja, "status.startTime"), tb = time_of(jb, "status.startTime");
    if (ta < 0) ta = time_of(ja, "metadata.creationTimestamp");
    if (tb < 0) tb = time_of(jb, "metadata.creationTimestamp");
    return ta < tb ? -1 : ta > tb ? 1 : name_cmp(a, b);
}

static int prune_history(const struct cj_in *in, struct cronjob_plan *p)
{
    static const char *const kinds[] = {"Complete", "Failed"};
    static const char *const limits[] = {"successfulJobsHistoryLimit", "failedJobsHistoryLimit"};
    static const int64_t dflt[] = {3, 1};
    const json_t **list = calloc(in->n ? in->n : 1, sizeof *list);
    if (!list) return ORC_ENOMEM;
    for (size_t k = 0; k < 2; k++) {
        size_t m = 0;
        int64_t limit;
        if (orc_json_int(in->spec, limits[k], &limit) != 0) limit = dflt[k];
        for (size_t i = 0; i < in->n; i++) {
            const char *how = finished_as(in->jobs[i]);
            if (how && !strcmp(how, kinds[k])
                && !orc_json_get(in->jobs[i], "metadata.deletionTimestamp"))
                list[m++] = in->jobs[i];
        }
        if ((int64_t)m <= limit) continue;
        qsort(list, m, sizeof *list, start_cmp);
        for (size_t i = 0; i < m - (size_t)(limit < 0 ? 0 : limit); i++) {
            p->del[p->ndel++] = list[i];
            event(p, "Normal", "SuccessfulDelete", "Deleted job %s",
                  orc_json_str(list[i], "metadata.name") ?: "");
        }
    }
    free(list);
    return 0;
}

static json_t *job_for(const struct cj_in *in, int64_t t, const char *name)
{
    const json_t *tmpl = orc_json_get(in->spec, "jobTemplate");
    char ts[ORC_TIME_LEN];
    json_t *ann = json_deep_copy(orc_json_get(tmpl, "metadata.annotations"));
    if (!ann) ann = json_object();
    orc_time_format(t, ts);
    if (!ann || json_object_set_new(ann, CRONJOB_SCHEDULED_KEY, json_string(ts)) != 0) {
        json_decref(ann);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:o*, s:o, s:[{s:s, s:s, s:s, s:s, s:b, s:b}]},"
                     " s:o}",
                     "apiVersion", "batch/v1", "kind", "Job", "metadata", "name", name,
                     "namespace", orc_json_str(in->cj, "metadata.namespace") ?: "default",
                     "labels", json_deep_copy(orc_json_get(tmpl, "metadata.labels")),
                     "annotations", ann, "ownerReferences", "apiVersion", "batch/v1", "kind",
                     "CronJob", "name", orc_json_str(in->cj, "metadata.name") ?: "", "uid",
                     orc_json_str(in->cj, "metadata.uid") ?: "", "controller", 1,
                     "blockOwnerDeletion", 1, "spec",
                     json_deep_copy(orc_json_get(tmpl, "spec")));
}

static void requeue_next(const struct cj_in *in, struct cronjob_plan *p)
{
    int64_t next = orc_tz_cron_next(in->cron, in->tz, in->now);
    if (next >= 0) p->requeue_ms = next * 1000 - in->now_ms + NEXT_DELTA_MS;
    if (next >= 0 && p->requeue_ms <= 0) p->requeue_ms = NEXT_DELTA_MS;
}

static bool owns_name(const struct cj_in *in, const char *name)
{
    for (size_t i = 0; i < in->n; i++)
        if (!strcmp(orc_json_str(in->jobs[i], "metadata.name") ?: "", name)) return true;
    return false;
}

/* The due scheduled time, if any: create its Job (concurrencyPolicy
 * permitting), or say why not. */
static int schedule(const struct cj_in *in, struct cronjob_plan *p, json_t *st,
                    const json_t *const *running, size_t nrunning)
{
    int64_t earliest = time_of(in->old, "lastScheduleTime"), sds = -1, clamped;
    const char *policy = orc_json_str(in->spec, "concurrencyPolicy") ?: "Allow";
    char name[320], ts[ORC_TIME_LEN];
    int missed;

    if (earliest < 0) earliest = time_of(in->cj, "metadata.creationTimestamp");
    if (earliest < 0) earliest = in->now;
    orc_json_int(in->spec, "startingDeadlineSeconds", &sds);
    int64_t t = cronjob_most_recent(in->cron, in->tz, earliest, in->now, &missed);
    requeue_next(in, p);
    if (t < 0) return 0;
    clamped = sds >= 0 && in->now - sds > earliest ? in->now - sds : earliest;
    if (clamped != earliest) cronjob_most_recent(in->cron, in->tz, clamped, in->now, &missed);
    if (missed > CRONJOB_MAX_MISSED)
        event(p, "Warning", "TooManyMissedTimes",
              "too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds "
              "or check clock skew", missed);
    orc_time_format(t, ts);
    if (sds >= 0 && t + sds < in->now) {
        event(p, "Warning", "MissSchedule", "Missed scheduled time to start a job: %s", ts);
        return 0;
    }
    cronjob_job_name(orc_json_str(in->cj, "metadata.name") ?: "", t, name, sizeof name);
    if (owns_name(in, name)) /* made already (by us before a restart, or another leader) */
        return json_object_set_new(st, "lastScheduleTime", json_string(ts)) ? ORC_ENOMEM : 0;
    if (!strcmp(policy, "Forbid") && nrunning > 0) {
        event(p, "Normal", "JobAlreadyActive",
              "Not starting job because prior execution is running and concurrency policy is "
              "Forbid");
        return 0;
    }
    if (!strcmp(policy, "Replace")) {
        for (size_t i = 0; i < nrunning; i++) {
            p->del[p->ndel++] = running[i];
            event(p, "Normal", "SuccessfulDelete", "Deleted job %s",
                  orc_json_str(running[i], "metadata.name") ?: "");
        }
        json_object_del(st, "active");
    }
    if (!(p->create = job_for(in, t, name))) return ORC_ENOMEM;
    return json_object_set_new(st, "lastScheduleTime", json_string(ts)) ? ORC_ENOMEM : 0;
}

/* Zone and schedule: an event and no run when either cannot be used. */
static bool load_schedule(struct cj_in *in, struct cronjob_plan *p)
{
    const char *tz = orc_json_str(in->spec, "timeZone");
    const char *sched = orc_json_str(in->spec, "schedule") ?: "";
    char msg[200];
    if (tz && orc_tz_load(tz, &in->tz, msg, sizeof msg) != 0) {
        event(p, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": %s", tz, msg);
        return false;
    }
    if (orc_cron_parse(sched, &in->cron, msg, sizeof msg) != 0) {
        event(p, "Warning", "InvalidSchedule", "invalid schedule: %s : %s", sched, msg);
        return false;
    }
    return true;
}

int cronjob_plan(const json_t *cj, const json_t *const *jobs, size_t n, int64_t now_ms,
                 struct cronjob_plan *out)
{
    struct cj_in in = {.cj = cj, .jobs = jobs, .n = n, .now_ms = now_ms, .now = now_ms / 1000};
    const json_t **running = calloc(n ? n : 1, sizeof *running);
    size_t nrunning = 0;
    json_t *st;
    int rv;

    memset(out, 0, sizeof *out);
    in.spec = json_object_get(cj, "spec");
    in.old = json_object_get(cj, "status");
    st = in.old ? json_deep_copy(in.old) : json_object();
    out->del = calloc(2 * n + 1, sizeof *out->del);
    if (!running || !st || !out->del) {
        rv = ORC_ENOMEM;
        goto done;
    }
    rv = track_jobs(&in, out, st, running, &nrunning);
    if (rv == 0 && !orc_json_get(cj, "metadata.deletionTimestamp")) rv = prune_history(&in, out);
    if (rv == 0 && !orc_json_get(cj, "metadata.deletionTimestamp")
        && !json_is_true(json_object_get(in.spec, "suspend")) && load_schedule(&in, out))
        rv = schedule(&in, out, st, running, nrunning);
    if (rv == 0 && (!in.old || !json_equal(st, in.old))) out->status = json_incref(st);
done:
    json_decref(st);
    free(running);
    orc_cron_free(in.cron);
    orc_tz_free(in.tz);
    if (rv != 0) cronjob_plan_free(out);
    return rv;
}

void cronjob_plan_free(struct cronjob_plan *p)
{
    json_decref(p->status);
    json_decref(p->create);
    free(p->del);
    memset(p, 0, sizeof *p);
}
