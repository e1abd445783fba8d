/* preempt.c — preemption, as Kubernetes' DefaultPreemption picks it: on
 * each node refused only for room (cpu, memory, pod count, host ports),
 * remove every pod of lower priority, check the pod fits, then give back as
 * many of them as still lets it fit, highest priority first. The node whose
 * victims are least important wins. */
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "scheduler/sched_int.h"

struct plan {
    bool ok;      /* the pod fits on the node with the victims (maybe none) gone */
    sched_pod **victims;
    size_t n;
    int32_t top;  /* highest victim priority */
    int64_t sum;  /* sum of victim priorities */
};

static bool fits_without(const sched_node *n, const sched_pod *p, sched_pod *const *skip, size_t nskip)
{
    bool reasons[SR_COUNT] = {0};
    sched_fit_check(n, p, skip, nskip, reasons);
    return !reasons[SR_PORTS] && !reasons[SR_PODS] && !reasons[SR_CPU] && !reasons[SR_MEMORY];
}

static int by_priority_desc(const void *a, const void *b)
{
    const sched_pod *x = *(sched_pod *const *)a, *y = *(sched_pod *const *)b;
    return (x->priority < y->priority) - (x->priority > y->priority);
}

/* Victims on n for p in plan (allocated; none when the room is already
 * being freed), plan->ok false when preempting there does not help. */
static int plan_node(const sched_node *n, const sched_pod *p, struct plan *plan)
{
    sched_pod **cand = calloc(n->npods + 1, sizeof *cand);
    sched_pod **skip = calloc(n->npods + 1, sizeof *skip);
    size_t nc = 0, nskip, nfree = 0;
    int rc = ORC_ENOMEM;

    memset(plan, 0, sizeof *plan);
    if (cand == NULL || skip == NULL) goto out;
    rc = 0;
    /* A lower-priority preemptor's reservation yields its room but is no
     * victim (it is not running there), and a lower-priority pod already
     * terminating needs no second deletion: skip[0..nfree) always. */
    for (size_t i = 0; i < n->npods; i++) {
        if (n->pods[i]->priority >= p->priority) continue;
        if (n->pods[i]->nominated || n->pods[i]->terminating)
            skip[nfree++] = n->pods[i];
        else
            cand[nc++] = n->pods[i];
    }
    if (nfree > 0 && fits_without(n, p, skip, nfree)) {
        plan->ok = true;
        plan->top = INT32_MIN;
        goto out;
    }
    for (size_t i = 0; i < nc; i++) skip[nfree + i] = cand[i];
    if (nc == 0 || !fits_without(n, p, skip, nfree + nc)) goto out;
    plan->ok = true;
    qsort(cand, nc, sizeof *cand, by_priority_desc);
    /* Give back the most important first: each stays a victim only when the
     * pod no longer fits with it (and the victims kept so far) back. */
    for (size_t i = 0; i < nc; i++) {
        nskip = nfree;
        for (size_t j = i + 1; j < nc; j++) skip[nskip++] = cand[j];
        for (size_t j = 0; j < plan->n; j++) skip[nskip++] = plan->victims[j];
        if (fits_without(n, p, skip, nskip)) continue;
        if (plan->victims == NULL) plan->victims = calloc(nc, sizeof *cand);
        if (plan->victims == NULL) {
            rc = ORC_ENOMEM;
            goto out;
        }
        plan->victims[plan->n++] = cand[i];
    }
    plan->top = INT32_MIN;
    for (size_t i = 0; i < plan->n; i++) {
        if (plan->victims[i]->priority > plan->top) plan->top = plan->victims[i]->priority;
        plan->sum += plan->victims[i]->priority;
    }
out:
    free(cand);
    free(skip);
    if (rc != 0) {
        free(plan->victims);
        memset(plan, 0, sizeof *plan);
    }
    return rc;
}

static bool better(const struct plan *a, const struct plan *b)
{
    if (a->top != b->top) return a->top < b->top;
    if (a->sum != b->sum) return a->sum < b->sum;
    return a->n < b->n;
}

/* Only room can be made by deleting pods: a node refused for anything else
 * stays refused. */
static bool refused_for_room_only(const sched_cache *c, const sched_node *n, const sched_pod *p)
{
    struct sched_affinity_ctx *none = NULL;
    bool reasons[SR_COUNT];
    bool room = false;
    if (sched_filter_node(c, n, p, NULL, none, NULL, reasons, NULL) == 0) return false;
    for (int r = 0; r < SR_COUNT; r++) {
        if (!reasons[r]) continue;
        if (r != SR_PORTS && r != SR_CPU && r != SR_MEMORY && r != SR_PODS) return false;
        room = true;
    }
    return room;
}

int sched_preempt(const sched_cache *c, const sched_pod *p, const struct sched_result *failed,
                  struct sched_preemption *out)
{
    struct plan best = {0}, cur;
    sched_node *where = NULL;

    memset(out, 0, sizeof *out);
    if (p->preempt_never || (failed && !failed->resolvable)) return 0;
    for (size_t i = 0; i < c->nnodes; i++) {
        sched_node *n = c->nodes[i];
        if (n->obj == NULL || !refused_for_room_only(c, n, p)) continue;
        if (plan_node(n, p, &cur) != 0) {
            free(best.victims);
            return ORC_ENOMEM;
        }
        if (!cur.ok) continue;
        if (where == NULL || better(&cur, &best)) {
            free(best.victims);
            best = cur;
            where = n;
        } else {
            free(cur.victims);
        }
    }
    out->node = where;
    out->victims = best.victims;
    out->nvictims = best.n;
    return 0;
}

void sched_preemption_fini(struct sched_preemption *pr)
{
    free(pr->victims);
    memset(pr, 0, sizeof *pr);
}
