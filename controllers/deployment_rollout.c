/* deployment_rollout.c — plans one sync of a Deployment (see deployment.h):
 * finds or creates the new ReplicaSet and syncs revisions, then either scales
 * (a replica count change, a paused Deployment) or makes one rollout step
 * (RollingUpdate: scale the new set up within maxSurge, else the old ones
 * down within maxUnavailable; Recreate: old ones to zero, then the new one
 * up), cleans up old history, and computes the status and conditions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/deployment.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

struct plan {
    const json_t *d;
    struct dep_plan *p;
    int64_t now, want, surge, unavail;
    struct dep_rs **all; /* old sets then the new one (if any) */
    size_t n_all;
    struct dep_rs *newrs; /* in all[], or NULL */
    struct dep_rs created;
    json_t *conds; /* the status being built */
};

void dep_rs_init(struct dep_rs *rs, const json_t *obj)
{
    memset(rs, 0, sizeof *rs);
    rs->obj = obj;
    rs->replicas = rs->old_replicas = ctl_int(obj, "spec.replicas", 1);
    rs->status_replicas = ctl_int(obj, "status.replicas", 0);
    rs->ready = ctl_int(obj, "status.readyReplicas", 0);
    rs->available = ctl_int(obj, "status.availableReplicas", 0);
    rs->revision = dep_revision_of(obj);
    rs->created = ctl_created(obj);
    rs->deleting = orc_json_get(obj, "metadata.deletionTimestamp") != NULL;
    rs->pods = -1;
}

static const char *rs_name(const struct dep_rs *r)
{
    const char *n = orc_json_str(r->obj, "metadata.name");
    return n ? n : "";
}

/* ---- sums and orders over sets ---- */

static int64_t sum_spec(struct dep_rs *const *v, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += v[i]->replicas;
    return s;
}

static int64_t sum_available(struct dep_rs *const *v, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += v[i]->available;
    return s;
}

static int by_created(const void *a, const void *b)
{
    const struct dep_rs *x = *(struct dep_rs *const *)a, *y = *(struct dep_rs *const *)b;
    if (x->created != y->created) return x->created < y->created ? -1 : 1;
    return strcmp(rs_name(x), rs_name(y));
}

static int by_size_newer(const void *a, const void *b)
{
    const struct dep_rs *x = *(struct dep_rs *const *)a, *y = *(struct dep_rs *const *)b;
    if (x->replicas != y->replicas) return x->replicas > y->replicas ? -1 : 1;
    return -by_created(a, b);
}

static int by_size_older(const void *a, const void *b)
{
    const struct dep_rs *x = *(struct dep_rs *const *)a, *y = *(struct dep_rs *const *)b;
    if (x->replicas != y->replicas) return x->replicas > y->replicas ? -1 : 1;
    return by_created(a, b);
}

static int by_revision(const void *a, const void *b)
{
    const struct dep_rs *x = *(struct dep_rs *const *)a, *y = *(struct dep_rs *const *)b;
    if (x->revision != y->revision) return x->revision < y->revision ? -1 : 1;
    return by_created(a, b);
}

/* The old sets (all but the new one), sorted by `cmp`, into a new array. */
static struct dep_rs **old_sets(const struct plan *c, size_t *n, int (*cmp)(const void *, const void *))
{
    struct dep_rs **v = malloc((c->n_all + 1) * sizeof *v);
    *n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < c->n_all; i++)
        if (c->all[i] != c->newrs) v[(*n)++] = c->all[i];
    if (cmp) qsort(v, *n, sizeof *v, cmp);
    return v;
}

/* ---- changes to sets ---- */

static int patch_set(struct dep_rs *r, const char *path, json_t *v)
{
    if (!r->patch) {
        const char *rv = orc_json_str(r->obj, "metadata.resourceVersion");
        if (!(r->patch = json_object())) {
            json_decref(v);
            return ORC_ENOMEM;
        }
        if (rv) orc_json_set(r->patch, "metadata.resourceVersion", json_string(rv));
    }
    return orc_json_set(r->patch, path, v);
}

static const char *annotation(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(orc_json_get(obj, "metadata.annotations"), key));
}

static bool ann_is(const json_t *obj, const char *key, int64_t v)
{
    const char *s = annotation(obj, key);
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return s && strcmp(s, buf) == 0;
}

static int set_ann(struct dep_rs *r, const char *key, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    /* Keys hold dots, which orc_json_set would split on. */
    if (!r->patch || !orc_json_get(r->patch, "metadata.annotations")) {
        int rv = patch_set(r, "metadata.annotations", json_object());
        if (rv != 0) return rv;
    }
    return json_object_set_new(orc_json_get(r->patch, "metadata.annotations"), key,
                               json_string(buf)) == 0 ? 0 : ORC_ENOMEM;
}

/* Kubernetes' scaleReplicaSet: the count and the desired/max annotations. */
static int scale_to(struct plan *c, struct dep_rs *r, int64_t n)
{
    int rv = 0;
    if (n < 0) n = 0;
    if (r == &c->created) {
        r->replicas = c->p->create_replicas = n;
        return orc_json_set(c->p->create, "spec.replicas", json_integer(n));
    }
    bool ann_ok = ann_is(r->obj, DEP_DESIRED, c->want) && ann_is(r->obj, DEP_MAX, c->want + c->surge);
    if (r->replicas == n && ann_ok) return 0;
    if (r->replicas != n) r->scaled = true;
    r->replicas = n;
    if (rv == 0) rv = patch_set(r, "spec.replicas", json_integer(n));
    if (rv == 0) rv = set_ann(r, DEP_DESIRED, c->want);
    if (rv == 0) rv = set_ann(r, DEP_MAX, c->want + c->surge);
    return rv;
}

/* ---- new set and revisions (getAllReplicaSetsAndSyncRevision) ---- */

static int64_t new_replicas(struct plan *c)
{
    if (dep_is_recreate(c->d)) return c->want;
    int64_t cur = sum_spec(c->all, c->n_all), max_total = c->want + c->surge;
    int64_t have = c->newrs ? c->newrs->replicas : 0;
    if (cur >= max_total) return have;
    int64_t up = max_total - cur;
    if (up > c->want - have) up = c->want - have;
    return have + (up > 0 ? up : 0);
}

static int set_dep_revision(struct plan *c, int64_t rev)
{
    char buf[32];
    if (dep_revision_of(c->d) == rev) return 0;
    snprintf(buf, sizeof buf, "%" PRId64, rev);
    if (!c->p->dep_patch &&
        !(c->p->dep_patch = json_pack("{s:{s:{}}}", "metadata", "annotations")))
        return ORC_ENOMEM;
    return json_object_set_new(orc_json_get(c->p->dep_patch, "metadata.annotations"), DEP_REVISION,
                               json_string(buf)) == 0 ? 0 : ORC_ENOMEM;
}

static int cond(struct plan *c, const char *type, const char *st, const char *reason,
                const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return ctl_cond_set(c->conds, type, st, reason, msg, c->now, true);
}

static bool has_deadline(const json_t *d)
{
    int64_t pd = ctl_int(d, "spec.progressDeadlineSeconds", 600);
    return pd > 0 && pd < 2147483647;
}

static int sync_revision(struct plan *c, bool create)
{
    int64_t max_old = 0;
    int rv = 0;

    for (size_t i = 0; i < c->n_all; i++)
        if (c->all[i] != c->newrs && c->all[i]->revision > max_old) max_old = c->all[i]->revision;
    int64_t rev = max_old + 1;
    if (c->newrs) {
        struct dep_rs *r = c->newrs;
        if (r->revision < rev) {
            char hist[512], buf[32];
            const char *old_hist = annotation(r->obj, DEP_REVISION_HISTORY);
            snprintf(buf, sizeof buf, "%" PRId64, rev);
            if (r->revision > 0) {
                snprintf(hist, sizeof hist, "%s%s%" PRId64, old_hist ? old_hist : "",
                         old_hist && *old_hist ? "," : "", r->revision);
                rv = set_ann(r, DEP_REVISION_HISTORY, 0);
                if (rv == 0)
                    json_object_set_new(orc_json_get(r->patch, "metadata.annotations"),
                                        DEP_REVISION_HISTORY, json_string(hist));
            }
            if (rv == 0) rv = set_ann(r, DEP_REVISION, rev);
            r->revision = rev;
        }
        if (rv == 0) rv = set_dep_revision(c, r->revision);
        if (rv == 0 && has_deadline(c->d) && !ctl_cond_get(c->conds, "Progressing"))
            rv = cond(c, "Progressing", "True", "FoundNewReplicaSet", "Found new replica set \"%s\"",
                      rs_name(r));
        return rv;
    }
    if (!create) return 0;
    int64_t coll = ctl_int(c->d, "status.collisionCount", 0);
    int64_t n = new_replicas(c);
    if (!(c->p->create = dep_new_rs(c->d, coll, rev, n))) return ORC_ENOMEM;
    dep_rs_init(&c->created, c->p->create);
    c->created.revision = rev;
    c->created.replicas = c->p->create_replicas = n;
    c->created.scaled = n > 0;
    c->newrs = &c->created;
    c->all[c->n_all++] = &c->created;
    rv = set_dep_revision(c, rev);
    if (rv == 0 && has_deadline(c->d))
        rv = cond(c, "Progressing", "True", "NewReplicaSetCreated", "Created new replica set \"%s\"",
                  orc_json_str(c->p->create, "metadata.name"));
    return rv;
}

/* ---- rolling update ---- */

static int reconcile_new(struct plan *c, bool *scaled)
{
    struct dep_rs *r = c->newrs;
    *scaled = false;
    if (!r || r->replicas == c->want) return 0;
    int64_t n = r->replicas > c->want ? c->want : new_replicas(c);
    *scaled = n != r->replicas;
    return *scaled ? scale_to(c, r, n) : 0;
}

/* Old sets with unavailable pods shrink first (cleanupUnhealthyReplicas). */
static int cleanup_unhealthy(struct plan *c, struct dep_rs **old, size_t n, int64_t max, int64_t *done)
{
    int rv = 0;
    *done = 0;
    for (size_t i = 0; i < n && rv == 0 && *done < max; i++) {
        struct dep_rs *r = old[i];
        if (r->replicas == 0 || r->replicas <= r->available) continue;
        int64_t down = r->replicas - r->available;
        if (down > max - *done) down = max - *done;
        rv = scale_to(c, r, r->replicas - down);
        *done += down;
    }
    return rv;
}

static int scale_down_old(struct plan *c, struct dep_rs **old, size_t n, int64_t *done)
{
    int64_t min_avail = c->want - dep_max_unavailable(c->d);
    int64_t avail = sum_available(c->all, c->n_all);
    int rv = 0;

    *done = 0;
    if (avail <= min_avail) return 0;
    int64_t total = avail - min_avail;
    for (size_t i = 0; i < n && rv == 0 && *done < total; i++) {
        struct dep_rs *r = old[i];
        if (r->replicas == 0) continue;
        int64_t down = r->replicas < total - *done ? r->replicas : total - *done;
        rv = scale_to(c, r, r->replicas - down);
        *done += down;
    }
    return rv;
}

static int reconcile_old(struct plan *c, bool *scaled)
{
    size_t n;
    struct dep_rs **old = old_sets(c, &n, by_created);
    int64_t cleaned = 0, down = 0;
    int rv = 0;

    *scaled = false;
    if (!old) return ORC_ENOMEM;
    if (sum_spec(old, n) > 0) {
        int64_t min_avail = c->want - dep_max_unavailable(c->d);
        int64_t new_unavail = c->newrs ? c->newrs->replicas - c->newrs->available : 0;
        int64_t max_down = sum_spec(c->all, c->n_all) - min_avail - new_unavail;
        if (max_down > 0) {
            rv = cleanup_unhealthy(c, old, n, max_down, &cleaned);
            if (rv == 0) rv = scale_down_old(c, old, n, &down);
            *scaled = cleaned + down > 0;
        }
    }
    free(old);
    return rv;
}

/* ---- scaling (a replica count change, or paused) ---- */

static struct dep_rs *active_or_latest(struct plan *c)
{
    struct dep_rs *active = NULL, *latest = NULL;
    size_t n_active = 0;
    for (size_t i = 0; i < c->n_all; i++) {
        struct dep_rs *r = c->all[i];
        if (r->replicas > 0) {
            active = r;
            n_active++;
        }
        if (r != c->newrs && (!latest || by_created(&r, &latest) > 0)) latest = r;
    }
    if (n_active == 1) return active;
    if (n_active == 0) return c->newrs ? c->newrs : latest;
    return NULL;
}

static bool saturated(const struct plan *c)
{
    const struct dep_rs *r = c->newrs;
    return r && ann_is(r->obj, DEP_DESIRED, c->want) && r->replicas == c->want &&
           r->available == c->want;
}

static int64_t proportion(struct plan *c, const struct dep_rs *r, int64_t to_add, int64_t added)
{
    if (r->replicas == 0 || to_add == 0 || to_add == added) return 0;
    int64_t frac;
    if (c->want == 0) {
        frac = -r->replicas;
    } else {
        const char *s = annotation(r->obj, DEP_MAX);
        int64_t annotated = s ? strtoll(s, NULL, 10) : ctl_int(c->d, "status.replicas", 0);
        if (annotated <= 0) annotated = r->replicas;
        double size = (double)(r->replicas * (c->want + c->surge)) / (double)annotated;
        frac = (int64_t)(size + (size >= 0 ? 0.5 : -0.5)) - r->replicas;
    }
    int64_t allowed = to_add - added;
    if (to_add > 0) return frac < allowed ? frac : allowed;
    return frac > allowed ? frac : allowed;
}

static int scale_proportionally(struct plan *c)
{
    struct dep_rs **v = malloc((c->n_all + 1) * sizeof *v);
    int64_t *size = malloc((c->n_all + 1) * sizeof *size);
    size_t n = 0;
    int rv = 0;

    if (!v || !size) rv = ORC_ENOMEM;
    for (size_t i = 0; rv == 0 && i < c->n_all; i++)
        if (c->all[i]->replicas > 0) v[n++] = c->all[i];
    if (rv == 0) {
        int64_t allowed = c->want > 0 ? c->want + c->surge : 0;
        int64_t to_add = allowed - sum_spec(v, n), added = 0;
        if (to_add != 0) qsort(v, n, sizeof *v, to_add > 0 ? by_size_newer : by_size_older);
        for (size_t i = 0; i < n; i++) {
            int64_t p = proportion(c, v[i], to_add, added);
            size[i] = v[i]->replicas + p;
            added += p;
        }
        if (n > 0 && to_add != 0) size[0] += to_add - added;
        for (size_t i = 0; i < n && rv == 0; i++) rv = scale_to(c, v[i], size[i]);
    }
    free(v);
    free(size);
    return rv;
}

static int scale(struct plan *c)
{
    struct dep_rs *one = active_or_latest(c);
    if (one) return one->replicas == c->want ? 0 : scale_to(c, one, c->want);
    if (saturated(c)) {
        int rv = 0;
        for (size_t i = 0; i < c->n_all && rv == 0; i++)
            if (c->all[i] != c->newrs && c->all[i]->replicas > 0) rv = scale_to(c, c->all[i], 0);
        return rv;
    }
    return dep_is_recreate(c->d) ? 0 : scale_proportionally(c);
}

static bool scaling_event(const struct plan *c)
{
    for (size_t i = 0; i < c->n_all; i++) {
        const struct dep_rs *r = c->all[i];
        const char *s = annotation(r->obj, DEP_DESIRED);
        if (r->replicas > 0 && s && strtoll(s, NULL, 10) != c->want) return true;
    }
    return false;
}

/* ---- history cleanup ---- */

static int cleanup_history(struct plan *c)
{
    int64_t limit = ctl_int(c->d, "spec.revisionHistoryLimit", 10);
    size_t n, alive = 0;
    struct dep_rs **old = old_sets(c, &n, by_revision);

    if (!old) return ORC_ENOMEM;
    for (size_t i = 0; i < n; i++) alive += !old[i]->deleting;
    for (size_t i = 0; i < n && limit >= 0 && (int64_t)alive > limit; i++) {
        struct dep_rs *r = old[i];
        int64_t gen = ctl_int(r->obj, "metadata.generation", 0);
        int64_t seen = ctl_int(r->obj, "status.observedGeneration", 0);
        if (r->deleting || r->replicas != 0 || r->status_replicas != 0 || gen > seen) continue;
        r->remove = true;
        alive--;
    }
    free(old);
    return 0;
}

/* ---- status ---- */

static bool complete(const struct plan *c, const json_t *st)
{
    return ctl_int(st, "updatedReplicas", 0) == c->want && ctl_int(st, "replicas", 0) == c->want &&
           ctl_int(st, "availableReplicas", 0) == c->want &&
           ctl_int(st, "observedGeneration", 0) >= ctl_int(c->d, "metadata.generation", 0);
}

static bool progressing(const struct plan *c, const json_t *st)
{
    const json_t *old = json_object_get(c->d, "status");
    int64_t old_old = ctl_int(old, "replicas", 0) - ctl_int(old, "updatedReplicas", 0);
    int64_t new_old = ctl_int(st, "replicas", 0) - ctl_int(st, "updatedReplicas", 0);
    return new_old < old_old || ctl_int(st, "updatedReplicas", 0) > ctl_int(old, "updatedReplicas", 0) ||
           ctl_int(st, "readyReplicas", 0) > ctl_int(old, "readyReplicas", 0) ||
           ctl_int(st, "availableReplicas", 0) > ctl_int(old, "availableReplicas", 0);
}

static int64_t cond_time(const json_t *cnd, const char *key)
{
    const char *s = cnd ? orc_json_str(cnd, key) : NULL;
    int64_t t;
    return s && orc_time_parse(s, &t) == 0 ? t : -1;
}

static int progress_cond(struct plan *c, const char *st, const char *reason, const char *fmt)
{
    const json_t *old = ctl_cond_get(c->conds, "Progressing");
    const char *name = c->newrs ? rs_name(c->newrs) : orc_json_str(c->d, "metadata.name");
    char keep[ORC_TIME_LEN] = "";
    char msg[512];
    int rv;

    if (old && strcmp(orc_json_str(old, "status") ? orc_json_str(old, "status") : "", "True") == 0 &&
        orc_json_str(old, "lastTransitionTime"))
        snprintf(keep, sizeof keep, "%s", orc_json_str(old, "lastTransitionTime"));
    snprintf(msg, sizeof msg, fmt, c->newrs ? "ReplicaSet" : "Deployment", name ? name : "");
    ctl_cond_del(c->conds, "Progressing");
    rv = ctl_cond_set(c->conds, "Progressing", st, reason, msg, c->now, true);
    if (rv == 0 && *keep && strcmp(st, "True") == 0)
        orc_json_set(ctl_cond_get(c->conds, "Progressing"), "lastTransitionTime", json_string(keep));
    return rv;
}

static bool reason_is(const json_t *cnd, const char *reason)
{
    const char *r = cnd ? orc_json_str(cnd, "reason") : NULL;
    return r && strcmp(r, reason) == 0;
}

static bool timed_out(const struct plan *c)
{
    const json_t *cur = ctl_cond_get(c->conds, "Progressing");
    if (!has_deadline(c->d) || !cur || reason_is(cur, "NewReplicaSetAvailable")) return false;
    if (reason_is(cur, "ProgressDeadlineExceeded")) return true;
    int64_t from = cond_time(cur, "lastUpdateTime");
    return from >= 0 && from + ctl_int(c->d, "spec.progressDeadlineSeconds", 600) < c->now;
}

static int calc_status(struct plan *c)
{
    json_t *st = c->conds;
    int64_t replicas = 0, ready = 0, avail = 0, spec = sum_spec(c->all, c->n_all);
    int rv;

    for (size_t i = 0; i < c->n_all; i++) {
        replicas += c->all[i]->status_replicas;
        ready += c->all[i]->ready;
        avail += c->all[i]->available;
    }
    json_object_set_new(st, "observedGeneration",
                        json_integer(ctl_int(c->d, "metadata.generation", 0)));
    json_object_set_new(st, "replicas", json_integer(replicas));
    json_object_set_new(st, "updatedReplicas",
                        json_integer(c->newrs ? c->newrs->status_replicas : 0));
    json_object_set_new(st, "readyReplicas", json_integer(ready));
    json_object_set_new(st, "availableReplicas", json_integer(avail));
    json_object_set_new(st, "unavailableReplicas", json_integer(spec > avail ? spec - avail : 0));
    if (avail >= c->want - dep_max_unavailable(c->d))
        rv = cond(c, "Available", "True", "MinimumReplicasAvailable",
                  "Deployment has minimum availability.%s", "");
    else
        rv = cond(c, "Available", "False", "MinimumReplicasUnavailable",
                  "Deployment does not have minimum availability.%s", "");
    return rv;
}

static int replica_failure(struct plan *c)
{
    for (size_t i = c->n_all; i-- > 0;) {
        /* The new set (last) first, as Kubernetes looks. */
        const json_t *f = ctl_cond_get(json_object_get(c->all[i]->obj, "status"), "ReplicaFailure");
        if (f && orc_json_str(f, "status") && orc_json_str(f, "reason"))
            return ctl_cond_set(c->conds, "ReplicaFailure", orc_json_str(f, "status"),
                                orc_json_str(f, "reason"),
                                orc_json_str(f, "message") ? orc_json_str(f, "message") : "",
                                c->now, true);
    }
    ctl_cond_del(c->conds, "ReplicaFailure");
    return 0;
}

/* syncRolloutStatus: counts, Available, Progressing, ReplicaFailure. */
static int rollout_status(struct plan *c)
{
    int rv = calc_status(c);
    const json_t *cur = ctl_cond_get(c->conds, "Progressing");

    if (rv != 0) return rv;
    if (!has_deadline(c->d)) ctl_cond_del(c->conds, "Progressing");
    bool done = ctl_int(c->conds, "replicas", 0) == ctl_int(c->conds, "updatedReplicas", 0) &&
                reason_is(cur, "NewReplicaSetAvailable");
    if (has_deadline(c->d) && !done) {
        if (complete(c, c->conds))
            rv = progress_cond(c, "True", "NewReplicaSetAvailable",
                               "%s \"%s\" has successfully progressed.");
        else if (progressing(c, c->conds))
            rv = progress_cond(c, "True", "ReplicaSetUpdated", "%s \"%s\" is progressing.");
        else if (timed_out(c) && !reason_is(cur, "ProgressDeadlineExceeded"))
            rv = progress_cond(c, "False", "ProgressDeadlineExceeded",
                               "%s \"%s\" has timed out progressing.");
    }
    return rv == 0 ? replica_failure(c) : rv;
}

/* checkPausedConditions */
static int paused_cond(struct plan *c)
{
    const json_t *cur = ctl_cond_get(c->conds, "Progressing");
    bool paused = json_is_true(orc_json_get(c->d, "spec.paused"));

    if (!has_deadline(c->d) || reason_is(cur, "ProgressDeadlineExceeded")) return 0;
    if (paused && !reason_is(cur, "DeploymentPaused"))
        return ctl_cond_set(c->conds, "Progressing", "Unknown", "DeploymentPaused",
                            "Deployment is paused", c->now, true);
    if (!paused && reason_is(cur, "DeploymentPaused"))
        return ctl_cond_set(c->conds, "Progressing", "Unknown", "DeploymentResumed",
                            "Deployment is resumed", c->now, true);
    return 0;
}

/* How long until the progress deadline passes (requeueStuckDeployment). */
static int64_t stuck_requeue_ms(const struct plan *c)
{
    const json_t *cur = ctl_cond_get(c->conds, "Progressing");
    if (!has_deadline(c->d) || !cur || reason_is(cur, "NewReplicaSetAvailable") ||
        reason_is(cur, "ProgressDeadlineExceeded") || complete(c, c->conds))
        return 0;
    int64_t from = cond_time(cur, "lastUpdateTime");
    if (from < 0) return 0;
    int64_t after = from + ctl_int(c->d, "spec.progressDeadlineSeconds", 600) - c->now;
    return after < 1 ? 1000 : (after + 1) * 1000;
}

/* ---- the strategies ---- */

static int rolling(struct plan *c)
{
    bool scaled = false;
    int rv = sync_revision(c, true);
    if (rv == 0) rv = reconcile_new(c, &scaled);
    if (rv == 0 && !scaled) rv = reconcile_old(c, &scaled);
    if (rv == 0 && !scaled && complete(c, json_object_get(c->d, "status"))) rv = cleanup_history(c);
    return rv == 0 ? rollout_status(c) : rv;
}

static bool old_pods_running(const struct plan *c)
{
    for (size_t i = 0; i < c->n_all; i++) {
        const struct dep_rs *r = c->all[i];
        if (r != c->newrs && (r->pods >= 0 ? r->pods : r->status_replicas) > 0) return true;
    }
    return false;
}

static int recreate(struct plan *c)
{
    bool scaled = false;
    int rv = sync_revision(c, false);

    for (size_t i = 0; i < c->n_all && rv == 0; i++) {
        struct dep_rs *r = c->all[i];
        if (r == c->newrs || r->replicas == 0) continue;
        rv = scale_to(c, r, 0);
        scaled = true;
    }
    if (rv != 0 || scaled || old_pods_running(c)) return rv == 0 ? rollout_status(c) : rv;
    if (!c->newrs) rv = sync_revision(c, true);
    else if (c->newrs->replicas != c->want) rv = scale_to(c, c->newrs, c->want);
    if (rv == 0 && complete(c, json_object_get(c->d, "status"))) rv = cleanup_history(c);
    return rv == 0 ? rollout_status(c) : rv;
}

/* sync(): scaling and paused Deployments, no rollout step. */
static int sync_scale(struct plan *c)
{
    int rv = sync_revision(c, false);
    if (rv == 0) rv = scale(c);
    if (rv == 0 && json_is_true(orc_json_get(c->d, "spec.paused"))) rv = cleanup_history(c);
    if (rv == 0) rv = calc_status(c);
    return rv == 0 ? replica_failure(c) : rv;
}

static struct dep_rs *find_new(struct dep_rs *rs, size_t n, const json_t *d)
{
    const json_t *tmpl = orc_json_get(d, "spec.template");
    struct dep_rs *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!dep_templates_equal(orc_json_get(rs[i].obj, "spec.template"), tmpl)) continue;
        if (!best || rs[i].created < best->created ||
            (rs[i].created == best->created && strcmp(rs_name(&rs[i]), rs_name(best)) < 0))
            best = &rs[i];
    }
    return best;
}

int dep_plan(const json_t *d, struct dep_rs *rs, size_t n, int64_t now_s, struct dep_plan *p)
{
    struct plan c = {.d = d, .p = p, .now = now_s, .want = dep_replicas(d)};
    const json_t *old = json_object_get(d, "status");
    int rv;

    memset(p, 0, sizeof *p);
    dep_fenceposts(d, &c.surge, &c.unavail);
    c.conds = json_is_object(old) ? json_deep_copy(old) : json_object();
    c.all = malloc((n + 1) * sizeof *c.all);
    if (!c.conds || !c.all) {
        rv = ORC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) c.all[c.n_all++] = &rs[i];
    c.newrs = find_new(rs, n, d);
    rv = paused_cond(&c);
    if (rv != 0) goto out;
    if (orc_json_get(d, "metadata.deletionTimestamp")) rv = calc_status(&c);
    else if (json_is_true(orc_json_get(d, "spec.paused")) || scaling_event(&c)) rv = sync_scale(&c);
    else if (dep_is_recreate(d)) rv = recreate(&c);
    else rv = rolling(&c);
    if (rv != 0) goto out;
    if (json_array_size(json_object_get(c.conds, "conditions")) == 0)
        json_object_del(c.conds, "conditions");
    p->requeue_ms = stuck_requeue_ms(&c);
    if (!json_equal(c.conds, old)) {
        p->status = c.conds;
        c.conds = NULL;
    }
out:
    json_decref(c.conds);
    free(c.all);
    if (rv != 0) dep_plan_free(p, rs, n);
    return rv;
}

void dep_plan_free(struct dep_plan *p, struct dep_rs *rs, size_t n)
{
    json_decref(p->create);
    json_decref(p->dep_patch);
    json_decref(p->status);
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < n; i++) {
        json_decref(rs[i].patch);
        rs[i].patch = NULL;
    }
}
