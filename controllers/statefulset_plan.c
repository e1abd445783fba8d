/* statefulset_plan.c — the StatefulSet controller's next step, as Kubernetes'
 * updateStatefulSet takes it: replicas first (create, recreate failed),
 * then ordinals past spec.replicas from the highest, then the rolling update
 * from the highest ordinal down to the partition. */
#include <stdlib.h>
#include <string.h>

#include "controllers/statefulset.h"
#include "lib/json.h"
#include "lib/orc.h"

struct planner {
    const struct sts_input *in;
    struct sts_plan *out;
    const json_t **slots;      /* [replicas]: the pod of each ordinal */
    const json_t **condemned;  /* ordinals >= replicas, highest first */
    size_t n_condemned;
    int64_t replicas, min_ready, partition;
    bool monotonic, rolling;
    const json_t *first_unhealthy;
};

static int64_t spec_int(const json_t *set, const char *path, int64_t dflt)
{
    int64_t v;
    return orc_json_int(set, path, &v) == 0 ? v : dflt;
}

static int add_op(struct planner *p, enum sts_op_kind kind, int ordinal, const json_t *pod,
                  bool update)
{
    struct sts_op *ops = realloc(p->out->ops, (p->out->n_ops + 1) * sizeof *ops);

    if (ops == NULL) return ORC_ENOMEM;
    ops[p->out->n_ops++] = (struct sts_op){kind, ordinal, pod, update};
    p->out->ops = ops;
    return 0;
}

static void wait_for(struct planner *p, int64_t ms)
{
    if (ms > 0 && (p->out->requeue_ms == 0 || ms < p->out->requeue_ms)) p->out->requeue_ms = ms;
}

/* Healthy as the controller waits for it: Running, Ready for minReadySeconds
 * and not being deleted. */
static bool healthy(struct planner *p, const json_t *pod)
{
    int64_t wait = 0;
    bool ok = !sts_pod_terminating(pod)
              && sts_pod_available(pod, p->min_ready, p->in->now_ms, &wait);
    wait_for(p, wait);
    return ok;
}

static int cmp_ordinal_desc(const void *a, const void *b, void *set)
{
    int oa = sts_ordinal(set, orc_json_str(*(const json_t *const *)a, "metadata.name"));
    int ob = sts_ordinal(set, orc_json_str(*(const json_t *const *)b, "metadata.name"));
    return ob - oa;
}

static int sort_pods(struct planner *p)
{
    const char *set = orc_json_str(p->in->set, "metadata.name");

    p->slots = calloc(p->replicas > 0 ? (size_t)p->replicas : 1, sizeof *p->slots);
    p->condemned = calloc(p->in->n_pods + 1, sizeof *p->condemned);
    if (p->slots == NULL || p->condemned == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < p->in->n_pods; i++) {
        const json_t *pod = p->in->pods[i];
        const char *name = orc_json_str(pod, "metadata.name");
        int ord = name ? sts_ordinal(set, name) : -1;

        if (ord < 0) continue; /* not one of ours by name: left alone */
        if (ord < p->replicas) p->slots[ord] = pod;
        else p->condemned[p->n_condemned++] = pod;
    }
    qsort_r(p->condemned, p->n_condemned, sizeof *p->condemned, cmp_ordinal_desc, (void *)set);
    return 0;
}

static void count(struct planner *p, const json_t *pod)
{
    struct sts_counts *c = &p->out->counts;
    const char *rev = sts_pod_revision(pod);

    c->replicas++;
    if (sts_pod_ready(pod)) c->ready++;
    if (sts_pod_available(pod, p->min_ready, p->in->now_ms, NULL)) c->available++;
    if (sts_pod_terminating(pod)) return;
    if (strcmp(rev, p->in->current_rev) == 0) c->current++;
    if (strcmp(rev, p->in->update_rev) == 0) c->updated++;
}

/* A new pod takes the current revision below the partition of a rolling
 * update, the update revision otherwise. */
static bool created_updated(struct planner *p, int ordinal)
{
    return !(p->rolling && ordinal < p->partition);
}

/* Replicas in ordinal order. Returns 1 when the step ends here. */
static int plan_replicas(struct planner *p, int *rv)
{
    for (int64_t i = 0; i < p->replicas; i++) {
        const json_t *pod = p->slots[i];
        bool ok;

        if (pod == NULL) {
            *rv = add_op(p, STS_CREATE, (int)i, NULL, created_updated(p, (int)i));
            if (p->first_unhealthy == NULL) p->first_unhealthy = json_null();
            if (*rv != 0 || p->monotonic) return 1;
            continue;
        }
        if (sts_pod_finished(pod) && !sts_pod_terminating(pod)) {
            *rv = add_op(p, STS_DELETE, (int)i, pod, false);
            if (p->first_unhealthy == NULL) p->first_unhealthy = pod;
            if (*rv != 0 || p->monotonic) return 1;
            continue;
        }
        ok = healthy(p, pod);
        if (!ok && p->first_unhealthy == NULL) p->first_unhealthy = pod;
        if (!ok && p->monotonic) return 1;
    }
    return 0;
}

/* Ordinals past spec.replicas, highest first. */
static int plan_condemned(struct planner *p, int *rv)
{
    const char *set = orc_json_str(p->in->set, "metadata.name");

    for (size_t i = 0; i < p->n_condemned; i++) {
        const json_t *pod = p->condemned[i];
        bool ok = healthy(p, pod);

        if (!ok && p->first_unhealthy == NULL) p->first_unhealthy = pod;
        if (sts_pod_terminating(pod)) {
            if (p->monotonic) return 1;
            continue;
        }
        /* under OrderedReady an unhealthy pod goes only when it is the first
         * unhealthy one: the order is kept even while things break */
        if (!ok && p->monotonic && pod != p->first_unhealthy) return 1;
        *rv = add_op(p, STS_DELETE, sts_ordinal(set, orc_json_str(pod, "metadata.name")), pod, false);
        if (*rv != 0 || p->monotonic) return 1;
    }
    return 0;
}

/* RollingUpdate: one pod at a time, from the highest ordinal down to the
 * partition, each only once every pod above it is healthy again. */
static int plan_update(struct planner *p, int *rv)
{
    int64_t stop = p->partition > 0 ? p->partition : 0;

    if (!p->rolling) return 0;
    for (int64_t i = p->replicas - 1; i >= stop; i--) {
        const json_t *pod = p->slots[i];

        if (pod == NULL) return 1;
        if (strcmp(sts_pod_revision(pod), p->in->update_rev) != 0 && !sts_pod_terminating(pod)) {
            *rv = add_op(p, STS_DELETE, (int)i, pod, false);
            return 1;
        }
        if (!healthy(p, pod)) return 1;
    }
    return 0;
}

static void settle(struct planner *p)
{
    const struct sts_counts *c = &p->out->counts;

    p->out->rollout_done = p->rolling && c->updated == p->replicas && c->ready == p->replicas
                           && c->replicas == p->replicas;
}

int sts_plan_make(const struct sts_input *in, struct sts_plan *out)
{
    const char *policy = orc_json_str(in->set, "spec.podManagementPolicy");
    const char *strategy = orc_json_str(in->set, "spec.updateStrategy.type");
    struct planner p = {.in = in, .out = out};
    int rv = 0;

    memset(out, 0, sizeof *out);
    p.replicas = spec_int(in->set, "spec.replicas", 1);
    if (p.replicas < 0) p.replicas = 0;
    p.min_ready = spec_int(in->set, "spec.minReadySeconds", 0);
    p.partition = spec_int(in->set, "spec.updateStrategy.rollingUpdate.partition", 0);
    p.monotonic = policy == NULL || strcmp(policy, "Parallel") != 0;
    p.rolling = strategy == NULL || strcmp(strategy, "OnDelete") != 0;
    if ((rv = sort_pods(&p)) == 0) {
        for (size_t i = 0; i < in->n_pods; i++) count(&p, in->pods[i]);
        settle(&p);
        if (plan_replicas(&p, &rv) == 0 && plan_condemned(&p, &rv) == 0) plan_update(&p, &rv);
    }
    free(p.slots);
    free(p.condemned);
    if (rv != 0) sts_plan_free(out);
    return rv;
}

void sts_plan_free(struct sts_plan *p)
{
    free(p->ops);
    p->ops = NULL;
    p->n_ops = 0;
}

json_t *sts_status_new(const json_t *set, const struct sts_plan *p, const char *current_rev,
                       const char *update_rev)
{
    const struct sts_counts *c = &p->counts;
    int64_t gen = spec_int(set, "metadata.generation", 0);
    int64_t collisions = spec_int(set, "status.collisionCount", 0);
    bool done = p->rollout_done;

    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I}", "observedGeneration",
                     (json_int_t)gen, "replicas", (json_int_t)c->replicas, "readyReplicas",
                     (json_int_t)c->ready, "availableReplicas", (json_int_t)c->available,
                     "currentReplicas", (json_int_t)(done ? c->updated : c->current),
                     "updatedReplicas", (json_int_t)c->updated, "currentRevision",
                     done ? update_rev : current_rev, "updateRevision", update_rev,
                     "collisionCount", (json_int_t)collisions);
}
