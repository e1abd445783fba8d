/* job_logic.c — the Job controller's decisions (see job.h): pod counting
 * through the tracking finalizer, completion, failure (backoffLimit,
 * activeDeadlineSeconds), suspend, TTL, and how many pods (which indexes)
 * to create or delete. Nothing here talks to the API. */
#include "controllers/job.h"

#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

/* Kubernetes creates at most this many pods of one Job per sync. */
#define JOB_CREATE_BURST 500

enum pod_state { POD_ACTIVE, POD_SUCCEEDED, POD_FAILED, POD_TERMINATING };

struct job_in {
    const json_t *job, *spec, *old; /* old: the cached status, may be NULL */
    bool indexed, suspend, finished;
    int64_t completions; /* -1: unset (work-queue Job) */
    int64_t parallelism, backoff_limit;
    int64_t now_ms;
};

/* A sorted set of uids (borrowed strings), for lookups in big Jobs. */
struct uidset {
    const char **v;
    size_t n;
};

/* Everything one step builds. */
struct job_work {
    json_t *st;                 /* the new status */
    json_t *us, *uf;            /* uncountedTerminatedPods lists in st */
    unsigned char *set;         /* completed indexes (Indexed) */
    size_t nset;
    const json_t **active;      /* active pods, borrowed */
    size_t nactive, nready;
    int64_t last_failure_ms;    /* latest finish of a failed pod, 0 if none */
    int64_t restarts;           /* container restarts of Pending/Running pods */
    struct uidset unc;          /* uids in the stored uncountedTerminatedPods */
    struct uidset held;         /* uids of pods holding the tracking finalizer */
};

uint64_t job_backoff_ms(int64_t failures)
{
    uint64_t d = JOB_BACKOFF_BASE_MS;
    if (failures <= 0) return 0;
    for (int64_t i = 1; i < failures && d < JOB_BACKOFF_MAX_MS; i++) d *= 2;
    return d < JOB_BACKOFF_MAX_MS ? d : JOB_BACKOFF_MAX_MS;
}

/* ---- index sets ---- */

static int parse_num(const char **p, long *out)
{
    char *end;
    if (**p < '0' || **p > '9') return ORC_EINVAL;
    long v = strtol(*p, &end, 10);
    if (v < 0) return ORC_EINVAL;
    *p = end;
    *out = v;
    return 0;
}

int job_indexes_parse(const char *s, unsigned char *set, size_t n)
{
    const char *p = s;
    memset(set, 0, n);
    if (!s || !*s) return 0;
    for (;;) {
        long a, b;
        if (parse_num(&p, &a) != 0) return ORC_EINVAL;
        b = a;
        if (*p == '-') {
            p++;
            if (parse_num(&p, &b) != 0 || b < a) return ORC_EINVAL;
        }
        for (long i = a; i <= b && (size_t)i < n; i++) set[i] = 1;
        if (*p == '\0') return 0;
        if (*p++ != ',') return ORC_EINVAL;
    }
}

char *job_indexes_format(const unsigned char *set, size_t n)
{
    struct orc_buf b = ORC_BUF_INIT;
    int rv = orc_buf_puts(&b, "");
    for (size_t i = 0; i < n && rv == 0;) {
        size_t j = i;
        if (!set[i]) {
            i++;
            continue;
        }
        while (j + 1 < n && set[j + 1]) j++;
        rv = orc_buf_printf(&b, "%s%zu", b.len ? "," : "", i);
        if (rv == 0 && j > i) rv = orc_buf_printf(&b, "-%zu", j);
        i = j + 1;
    }
    if (rv != 0) {
        orc_buf_free(&b);
        return NULL;
    }
    return orc_buf_steal(&b, NULL);
}

long job_pod_index(const json_t *pod)
{
    const json_t *ann = orc_json_get(pod, "metadata.annotations");
    const char *s = json_string_value(json_object_get(ann, JOB_INDEX_KEY));
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 && v < JOB_MAX_INDEXES ? v : -1;
}

/* ---- reading objects ---- */

bool job_has_condition(const json_t *job, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach (orc_json_get(job, "status.conditions"), i, c) {
        if (strcmp(orc_json_str(c, "type") ?: "", type) == 0)
            return strcmp(orc_json_str(c, "status") ?: "", "True") == 0;
    }
    return false;
}

static int64_t int_or(const json_t *o, const char *path, int64_t dflt)
{
    int64_t v;
    return orc_json_int(o, path, &v) == 0 ? v : dflt;
}

static int64_t time_ms(const char *s)
{
    int64_t t;
    return s && orc_time_parse(s, &t) == 0 ? t * 1000 : 0;
}

static bool has_finalizer(const json_t *pod)
{
    size_t i;
    json_t *f;
    json_array_foreach (orc_json_get(pod, "metadata.finalizers"), i, f)
        if (strcmp(json_string_value(f) ?: "", JOB_TRACKING_FINALIZER) == 0) return true;
    return false;
}

static enum pod_state pod_state(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase") ?: "";
    if (strcmp(phase, "Succeeded") == 0) return POD_SUCCEEDED;
    if (strcmp(phase, "Failed") == 0) return POD_FAILED;
    if (orc_json_get(pod, "metadata.deletionTimestamp")) return POD_TERMINATING;
    return POD_ACTIVE;
}

static bool pod_ready(const json_t *pod)
{
    size_t i;
    json_t *c;
    json_array_foreach (orc_json_get(pod, "status.conditions"), i, c)
        if (strcmp(orc_json_str(c, "type") ?: "", "Ready") == 0)
            return strcmp(orc_json_str(c, "status") ?: "", "True") == 0;
    return false;
}

/* When a failed pod finished: its last container's finishedAt, else its
 * deletion time; 0 when unknown. */
static int64_t pod_finish_ms(const json_t *pod)
{
    int64_t best = 0;
    size_t i;
    json_t *cs;
    json_array_foreach (orc_json_get(pod, "status.containerStatuses"), i, cs) {
        int64_t t = time_ms(orc_json_str(cs, "state.terminated.finishedAt"));
        if (t > best) best = t;
    }
    if (best == 0) best = time_ms(orc_json_str(pod, "metadata.deletionTimestamp"));
    return best;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool uid_in(const struct uidset *s, const char *uid)
{
    return s->n && bsearch(&uid, s->v, s->n, sizeof *s->v, str_cmp) != NULL;
}

static int uidset_add(struct uidset *s, const char *uid, size_t cap)
{
    if (s->n == cap) return ORC_EINVAL;
    s->v[s->n++] = uid;
    return 0;
}

/* The uids of the stored uncounted lists, and of the pods still holding
 * the finalizer. */
static int build_sets(const json_t *old, const json_t *const *pods, size_t n,
                      struct uidset *unc, struct uidset *held)
{
    const json_t *u = orc_json_get(old, "uncountedTerminatedPods");
    const json_t *us = json_object_get(u, "succeeded"), *uf = json_object_get(u, "failed"), *v;
    size_t cap = json_array_size(us) + json_array_size(uf), i;

    unc->v = calloc(cap ? cap : 1, sizeof *unc->v);
    held->v = calloc(n ? n : 1, sizeof *held->v);
    if (!unc->v || !held->v) return ORC_ENOMEM;
    json_array_foreach (us, i, v)
        if (json_is_string(v)) uidset_add(unc, json_string_value(v), cap);
    json_array_foreach (uf, i, v)
        if (json_is_string(v)) uidset_add(unc, json_string_value(v), cap);
    for (i = 0; i < n; i++)
        if (has_finalizer(pods[i]) && orc_json_str(pods[i], "metadata.uid"))
            uidset_add(held, orc_json_str(pods[i], "metadata.uid"), n);
    qsort(unc->v, unc->n, sizeof *unc->v, str_cmp);
    qsort(held->v, held->n, sizeof *held->v, str_cmp);
    return 0;
}

static void read_job(const json_t *job, int64_t now_ms, struct job_in *in)
{
    memset(in, 0, sizeof *in);
    in->job = job;
    in->spec = json_object_get(job, "spec");
    in->old = json_object_get(job, "status");
    in->indexed = strcmp(orc_json_str(in->spec, "completionMode") ?: "", "Indexed") == 0;
    in->suspend = json_is_true(json_object_get(in->spec, "suspend"));
    in->finished = job_has_condition(job, "Complete") || job_has_condition(job, "Failed");
    in->completions = int_or(in->spec, "completions", -1);
    in->parallelism = int_or(in->spec, "parallelism", 1);
    in->backoff_limit = int_or(in->spec, "backoffLimit", 6);
    in->now_ms = now_ms;
}

/* ---- status building ---- */

static void now_str(const struct job_in *in, char out[ORC_TIME_LEN])
{
    orc_time_format(in->now_ms / 1000, out);
}

/* Sets condition `type` (replacing one of that type) and says whether the
 * status changed; lastTransitionTime moves only when the status does. */
static int set_condition(const struct job_in *in, json_t *st, const char *type, const char *status,
                         const char *reason, const char *message)
{
    json_t *conds = json_object_get(st, "conditions"), *c, *nc;
    char ts[ORC_TIME_LEN];
    size_t i;

    now_str(in, ts);
    if (!json_is_array(conds)) {
        conds = json_array();
        if (!conds || json_object_set_new(st, "conditions", conds) != 0) return ORC_ENOMEM;
    }
    nc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status, "reason",
                   reason, "message", message, "lastProbeTime", ts, "lastTransitionTime", ts);
    if (!nc) return ORC_ENOMEM;
    json_array_foreach (conds, i, c) {
        if (strcmp(orc_json_str(c, "type") ?: "", type) != 0) continue;
        if (strcmp(orc_json_str(c, "status") ?: "", status) == 0
            && strcmp(orc_json_str(c, "reason") ?: "", reason) == 0) {
            json_decref(nc);
            return 0;
        }
        return json_array_set_new(conds, i, nc) == 0 ? 0 : ORC_ENOMEM;
    }
    return json_array_append_new(conds, nc) == 0 ? 0 : ORC_ENOMEM;
}

static int set_int(json_t *st, const char *key, int64_t v)
{
    return json_object_set_new(st, key, json_integer(v)) == 0 ? 0 : ORC_ENOMEM;
}

/* Copies the uncounted uids still waiting (their pod still carries the
 * finalizer) and moves the others into the counters. */
static int carry_uncounted(const struct job_in *in, struct job_work *w, int64_t *succeeded,
                           int64_t *failed)
{
    static const char *const which[] = {"succeeded", "failed"};
    const json_t *unc = orc_json_get(in->old, "uncountedTerminatedPods");

    for (size_t k = 0; k < 2; k++) {
        json_t *dst = k == 0 ? w->us : w->uf, *v;
        size_t i;
        json_array_foreach (json_object_get(unc, which[k]), i, v) {
            const char *uid = json_string_value(v) ?: "";
            if (uid_in(&w->held, uid)) {
                if (json_array_append(dst, v) != 0) return ORC_ENOMEM;
            } else if (k == 0) {
                (*succeeded)++;
            } else {
                (*failed)++;
            }
        }
    }
    return 0;
}

/* A finished pod still holding the finalizer: record it (first step) or,
 * when the stored status already records it, release its finalizer. */
static int track_pod(const struct job_in *in, struct job_plan *p, struct job_work *w,
                     const json_t *pod, enum pod_state s)
{
    const char *uid = orc_json_str(pod, "metadata.uid") ?: "";

    if (uid_in(&w->unc, uid) || in->finished || (s == POD_TERMINATING && in->suspend)) {
        /* Already recorded, or not to be counted (the Job is over, or its
         * suspension deleted the pod). */
        p->unfinal[p->nunfinal++] = pod;
        return 0;
    }
    if (s == POD_SUCCEEDED) {
        long idx = job_pod_index(pod);
        if (in->indexed && idx >= 0 && (size_t)idx < w->nset) w->set[idx] = 1;
        return json_array_append_new(w->us, json_string(uid)) == 0 ? 0 : ORC_ENOMEM;
    }
    return json_array_append_new(w->uf, json_string(uid)) == 0 ? 0 : ORC_ENOMEM;
}

int64_t job_pod_restarts(const json_t *pod)
{
    static const char *const lists[] = {"status.initContainerStatuses", "status.containerStatuses"};
    const char *phase = orc_json_str(pod, "status.phase") ?: "";
    int64_t sum = 0;

    if (strcmp(phase, "Pending") != 0 && strcmp(phase, "Running") != 0) return 0;
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *cs;
        json_array_foreach (orc_json_get(pod, lists[k]), i, cs) sum += int_or(cs, "restartCount", 0);
    }
    return sum;
}

bool job_past_backoff_on_failure(const json_t *job, int64_t restarts)
{
    int64_t limit = int_or(job, "spec.backoffLimit", 6);
    if (strcmp(orc_json_str(job, "spec.template.spec.restartPolicy") ?: "", "OnFailure") != 0)
        return false;
    return limit == 0 ? restarts > 0 : restarts >= limit;
}

static int classify(const struct job_in *in, const json_t *const *pods, size_t n,
                    struct job_plan *p, struct job_work *w)
{
    for (size_t i = 0; i < n; i++) {
        enum pod_state s = pod_state(pods[i]);
        int rv;
        w->restarts += job_pod_restarts(pods[i]);
        if (s == POD_ACTIVE) {
            w->active[w->nactive++] = pods[i];
            if (pod_ready(pods[i])) w->nready++;
            continue;
        }
        if (s != POD_SUCCEEDED) {
            int64_t t = pod_finish_ms(pods[i]);
            if (t > w->last_failure_ms) w->last_failure_ms = t;
        }
        if (has_finalizer(pods[i]) && (rv = track_pod(in, p, w, pods[i], s)) != 0) return rv;
    }
    return 0;
}

/* ---- decisions ---- */

static void delete_all_active(struct job_plan *p, struct job_work *w)
{
    for (size_t i = 0; i < w->nactive; i++) p->del[p->ndel++] = w->active[i];
    w->nactive = 0;
    w->nready = 0;
}

static void requeue(struct job_plan *p, int64_t ms)
{
    if (ms <= 0) ms = 1;
    if (p->requeue_ms == 0 || ms < p->requeue_ms) p->requeue_ms = ms;
}

static void event(struct job_plan *p, const char *type, const char *reason, const char *msg)
{
    p->event_type = type;
    p->event_reason = reason;
    p->event_msg = msg;
}

/* Active pods in the order to keep them: running first, then the oldest;
 * the tail goes when there are too many (Kubernetes' ActivePods order,
 * reduced). */
static int keep_cmp(const void *a, const void *b)
{
    const json_t *pa = *(const json_t *const *)a, *pb = *(const json_t *const *)b;
    bool ra = strcmp(orc_json_str(pa, "status.phase") ?: "", "Running") == 0;
    bool rb = strcmp(orc_json_str(pb, "status.phase") ?: "", "Running") == 0;
    if (ra != rb) return ra ? -1 : 1;
    return strcmp(orc_json_str(pa, "metadata.creationTimestamp") ?: "",
                  orc_json_str(pb, "metadata.creationTimestamp") ?: "");
}

/* Creates are held back while the last failure's back-off runs. */
static size_t after_backoff(const struct job_in *in, struct job_plan *p, const struct job_work *w,
                            int64_t failed, size_t want)
{
    if (want == 0 || failed <= 0 || w->last_failure_ms == 0) return want;
    int64_t due = w->last_failure_ms + (int64_t)job_backoff_ms(failed);
    if (in->now_ms >= due) return want;
    requeue(p, due - in->now_ms);
    return 0;
}

static void manage_nonindexed(const struct job_in *in, struct job_plan *p, struct job_work *w,
                              int64_t succeeded, int64_t failed)
{
    int64_t want = in->parallelism;
    if (in->completions >= 0 && in->completions - succeeded < want)
        want = in->completions - succeeded;
    if (in->completions < 0 && succeeded > 0) want = (int64_t)w->nactive;
    if (want < 0) want = 0;
    if ((int64_t)w->nactive > want) {
        qsort(w->active, w->nactive, sizeof *w->active, keep_cmp);
        while ((int64_t)w->nactive > want) p->del[p->ndel++] = w->active[--w->nactive];
        return;
    }
    size_t n = after_backoff(in, p, w, failed, (size_t)(want - (int64_t)w->nactive));
    for (size_t i = 0; i < n && p->ncreate < JOB_CREATE_BURST; i++) p->create[p->ncreate++] = -1;
}

static void manage_indexed(const struct job_in *in, struct job_plan *p, struct job_work *w,
                           int64_t failed)
{
    unsigned char *busy = calloc(w->nset ? w->nset : 1, 1);
    size_t keep = 0, room, i;
    if (!busy) return;
    /* An active pod with a bad, finished or duplicate index goes. */
    for (i = 0; i < w->nactive; i++) {
        long idx = job_pod_index(w->active[i]);
        if (idx < 0 || (size_t)idx >= w->nset || w->set[idx] || busy[idx]) {
            p->del[p->ndel++] = w->active[i];
            continue;
        }
        busy[idx] = 1;
        w->active[keep++] = w->active[i];
    }
    w->nactive = keep;
    room = in->parallelism > (int64_t)keep ? (size_t)(in->parallelism - (int64_t)keep) : 0;
    size_t missing = 0;
    for (i = 0; i < w->nset; i++) missing += !w->set[i] && !busy[i];
    room = after_backoff(in, p, w, failed, room < missing ? room : missing);
    for (i = 0; i < w->nset && room > 0 && p->ncreate < JOB_CREATE_BURST; i++) {
        if (w->set[i] || busy[i]) continue;
        p->create[p->ncreate++] = (long)i;
        room--;
    }
    free(busy);
}

static size_t count_set(const struct job_work *w)
{
    size_t c = 0;
    for (size_t i = 0; i < w->nset; i++) c += w->set[i];
    return c;
}

/* Failed or Complete now? Returns 1 when the Job finished in this step. */
static int check_finish(const struct job_in *in, struct job_plan *p, struct job_work *w,
                        int64_t succeeded, int64_t failed)
{
    int64_t start = time_ms(orc_json_str(w->st, "startTime"));
    int64_t ads = int_or(in->spec, "activeDeadlineSeconds", -1);
    char ts[ORC_TIME_LEN];
    int rv;

    if (failed > in->backoff_limit || job_past_backoff_on_failure(in->job, w->restarts)) {
        event(p, "Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
        rv = set_condition(in, w->st, "Failed", "True", p->event_reason, p->event_msg);
        return rv ? rv : 1;
    }
    if (ads >= 0 && start > 0 && !in->suspend) {
        if (in->now_ms >= start + ads * 1000) {
            event(p, "Warning", "DeadlineExceeded", "Job was active longer than specified deadline");
            rv = set_condition(in, w->st, "Failed", "True", p->event_reason, p->event_msg);
            return rv ? rv : 1;
        }
        requeue(p, start + ads * 1000 - in->now_ms);
    }
    bool done = in->indexed ? (int64_t)count_set(w) >= in->completions
                : in->completions >= 0 ? succeeded >= in->completions
                                       : succeeded > 0 && w->nactive == 0;
    /* Complete only once every finished pod is counted, so that the counts
     * are final when the condition shows (Kubernetes waits the same way). */
    if (!done || json_array_size(w->us) + json_array_size(w->uf) > 0) return 0;
    event(p, "Normal", "Completed", "Job completed");
    now_str(in, ts);
    if (json_object_set_new(w->st, "completionTime", json_string(ts)) != 0) return ORC_ENOMEM;
    rv = set_condition(in, w->st, "Complete", "True", "CompletionsReached",
                       "Reached expected number of succeeded pods");
    return rv ? rv : 1;
}

static int suspend_or_resume(const struct job_in *in, struct job_plan *p, struct job_work *w)
{
    char ts[ORC_TIME_LEN];
    if (in->suspend) {
        delete_all_active(p, w);
        if (!job_has_condition(in->job, "Suspended")) event(p, "Normal", "Suspended", "Job suspended");
        return set_condition(in, w->st, "Suspended", "True", "JobSuspended", "Job suspended");
    }
    if (!job_has_condition(in->job, "Suspended")) return 0;
    /* Resuming restarts the clock of activeDeadlineSeconds, as in Kubernetes. */
    event(p, "Normal", "Resumed", "Job resumed");
    now_str(in, ts);
    if (json_object_set_new(w->st, "startTime", json_string(ts)) != 0) return ORC_ENOMEM;
    return set_condition(in, w->st, "Suspended", "False", "JobResumed", "Job resumed");
}

static void ttl_step(const struct job_in *in, struct job_plan *p)
{
    int64_t ttl = int_or(in->spec, "ttlSecondsAfterFinished", -1), end = 0;
    size_t i;
    json_t *c;
    if (ttl < 0) return;
    end = time_ms(orc_json_str(in->old, "completionTime"));
    json_array_foreach (json_object_get(in->old, "conditions"), i, c) {
        const char *t = orc_json_str(c, "type") ?: "";
        if (end == 0 && (!strcmp(t, "Complete") || !strcmp(t, "Failed")))
            end = time_ms(orc_json_str(c, "lastTransitionTime"));
    }
    if (end == 0) return;
    if (in->now_ms >= end + ttl * 1000) p->delete_job = true;
    else requeue(p, end + ttl * 1000 - in->now_ms);
}

static int write_counts(const struct job_in *in, struct job_work *w, int64_t succeeded,
                        int64_t failed)
{
    json_t *unc = json_pack("{s:O, s:O}", "succeeded", w->us, "failed", w->uf);
    int rv = unc ? 0 : ORC_ENOMEM;
    if (rv == 0 && json_array_size(w->us) == 0) json_object_del(unc, "succeeded");
    if (rv == 0 && json_array_size(w->uf) == 0) json_object_del(unc, "failed");
    if (rv == 0 && json_object_set_new(w->st, "uncountedTerminatedPods", unc) != 0) rv = ORC_ENOMEM;
    if (rv == 0) rv = set_int(w->st, "succeeded", succeeded);
    if (rv == 0) rv = set_int(w->st, "failed", failed);
    if (rv == 0 && in->indexed) {
        char *s = job_indexes_format(w->set, w->nset);
        if (!s) return ORC_ENOMEM;
        if (*s) rv = json_object_set_new(w->st, "completedIndexes", json_string(s)) ? ORC_ENOMEM : 0;
        else json_object_del(w->st, "completedIndexes");
        free(s);
    }
    return rv;
}

static int alloc_work(const struct job_in *in, size_t n, struct job_plan *p, struct job_work *w,
                      char *msg, size_t msglen)
{
    memset(w, 0, sizeof *w);
    if (in->indexed && (in->completions < 0 || in->completions > JOB_MAX_INDEXES))
        return orc_errf(msg, msglen, ORC_EINVAL,
                        "an Indexed Job needs spec.completions between 0 and %d", JOB_MAX_INDEXES);
    w->nset = in->indexed ? (size_t)in->completions : 0;
    w->st = in->old ? json_deep_copy(in->old) : json_object();
    w->us = json_array();
    w->uf = json_array();
    w->set = calloc(w->nset ? w->nset : 1, 1);
    w->active = calloc(n ? n : 1, sizeof *w->active);
    p->del = calloc(n ? n : 1, sizeof *p->del);
    p->unfinal = calloc(n ? n : 1, sizeof *p->unfinal);
    p->create = calloc(JOB_CREATE_BURST, sizeof *p->create);
    if (!w->st || !json_is_object(w->st) || !w->us || !w->uf || !w->set || !w->active || !p->del
        || !p->unfinal || !p->create)
        return ORC_ENOMEM;
    if (in->indexed
        && job_indexes_parse(orc_json_str(in->old, "completedIndexes"), w->set, w->nset) != 0)
        return orc_errf(msg, msglen, ORC_EINVAL, "status.completedIndexes is malformed");
    return 0;
}

static void free_work(struct job_work *w)
{
    json_decref(w->st);
    json_decref(w->us);
    json_decref(w->uf);
    free(w->set);
    free(w->active);
    free(w->unc.v);
    free(w->held.v);
}

/* The steps of a Job not finished before this reconcile. */
static int run_job(const struct job_in *in, struct job_plan *p, struct job_work *w,
                   int64_t succeeded, int64_t failed)
{
    char ts[ORC_TIME_LEN];
    int rv;

    if (!in->suspend && !json_object_get(w->st, "startTime")) {
        now_str(in, ts);
        if (json_object_set_new(w->st, "startTime", json_string(ts)) != 0) return ORC_ENOMEM;
    }
    rv = check_finish(in, p, w, succeeded, failed);
    if (rv < 0) return rv;
    if (rv == 1) {
        delete_all_active(p, w);
        return 0;
    }
    if ((rv = suspend_or_resume(in, p, w)) != 0 || in->suspend) return rv;
    if (in->indexed) manage_indexed(in, p, w, failed);
    else manage_nonindexed(in, p, w, succeeded, failed);
    return 0;
}

int job_plan(const json_t *job, const json_t *const *pods, size_t n, int64_t now_ms,
             struct job_plan *out, char *msg, size_t msglen)
{
    struct job_in in;
    struct job_work w;
    int64_t succeeded, failed;
    int rv;

    memset(out, 0, sizeof *out);
    read_job(job, now_ms, &in);
    succeeded = int_or(in.old, "succeeded", 0);
    failed = int_or(in.old, "failed", 0);
    rv = alloc_work(&in, n, out, &w, msg, msglen);
    if (rv == 0) rv = build_sets(in.old, pods, n, &w.unc, &w.held);
    if (rv == 0) rv = carry_uncounted(&in, &w, &succeeded, &failed);
    if (rv == 0) rv = classify(&in, pods, n, out, &w);
    if (rv == 0 && in.finished) {
        delete_all_active(out, &w);
        ttl_step(&in, out);
    } else if (rv == 0) {
        /* Decisions count the uncounted too; the status keeps them apart. */
        int64_t s = in.indexed ? (int64_t)count_set(&w)
                               : succeeded + (int64_t)json_array_size(w.us);
        rv = run_job(&in, out, &w, s, failed + (int64_t)json_array_size(w.uf));
    }
    if (rv == 0) rv = write_counts(&in, &w, in.indexed ? (int64_t)count_set(&w) : succeeded, failed);
    if (rv == 0) rv = set_int(w.st, "active", (int64_t)w.nactive);
    if (rv == 0) rv = set_int(w.st, "ready", (int64_t)w.nready);
    if (rv == 0 && (!in.old || !json_equal(w.st, in.old))) out->status = json_incref(w.st);
    free_work(&w);
    if (rv != 0) job_plan_free(out);
    return rv;
}

void job_plan_free(struct job_plan *p)
{
    json_decref(p->status);
    free(p->del);
    free(p->unfinal);
    free(p->create);
    memset(p, 0, sizeof *p);
}
