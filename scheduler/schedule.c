/* schedule.c — one scheduling decision: every node filtered, the feasible
 * ones scored (most-allocated bin-packing weighted by cpu and memory,
 * PreferNoSchedule taints, preferred node affinity, ScheduleAnyway topology
 * spread, then spread of the owner's pods as a tie-breaker), and Kubernetes'
 * FitError message when none is left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "scheduler/sched_int.h"

/* Each score part spans 0..SCALE (Kubernetes' 0..100 with two decimals);
 * the owner spread spans 0..100 times its weight, so with weight 1 it only
 * decides between nodes whose other parts are within 1% of each other. */
#define SCALE 10000
/* Kubernetes' default profile weighs PodTopologySpread twice. */
#define SPREAD_WEIGHT 2

static int64_t frac(int64_t used, int64_t alloc)
{
    if (alloc <= 0) return 0;
    if (used >= alloc) return SCALE;
    return used * SCALE / alloc;
}

static unsigned prefer_taints_untolerated(const sched_node *n, const sched_pod *p)
{
    const json_t *tols = p->tolerations, *t;
    unsigned count = 0;
    size_t i;
    json_array_foreach(n->taints, i, t) {
        const char *eff = orc_json_str(t, "effect");
        if (eff && strcmp(eff, "PreferNoSchedule") == 0 && !sched_tolerates(tols, t)) count++;
    }
    return count;
}

static unsigned owner_pods(const sched_node *n, const sched_pod *p)
{
    unsigned count = 0;
    for (size_t i = 0; i < n->npods; i++)
        if (n->pods[i]->owner_uid && strcmp(n->pods[i]->owner_uid, p->owner_uid) == 0) count++;
    return count;
}

int64_t sched_score_node(const sched_node *n, const sched_pod *p, const struct sched_weights *w)
{
    unsigned wc = w && w->cpu ? w->cpu : 1, wm = w && w->memory ? w->memory : 1;
    unsigned ws = w && w->spread ? w->spread : 1;
    int64_t pack, score, pref;

    pack = (wc * frac(n->nz_cpu + p->cpu_nz, n->alloc_cpu)
            + wm * frac(n->nz_mem + p->mem_nz, n->alloc_mem)) / (wc + wm);
    score = pack;
    score += n->prefer_taints ? SCALE / (1 + prefer_taints_untolerated(n, p)) : SCALE;
    if (p->affinity) {
        pref = sched_preferred_weight(n, p) * 100;
        score += pref > SCALE ? SCALE : pref;
    }
    if (p->owner_uid) score += (int64_t)ws * (100 / (1 + owner_pods(n, p)));
    return score;
}

static void count_failure(struct sched_result *res, const bool reasons[SR_COUNT], const char *taint)
{
    bool only_resolvable = true;
    for (int r = 0; r < SR_COUNT; r++) {
        if (!reasons[r]) continue;
        res->counts[r]++;
        /* Preemption here makes room; it does not even out spreads. */
        if (r < SR_PORTS || r == SR_VOLUME || r == SR_SPREAD_LABEL || r == SR_SPREAD)
            only_resolvable = false;
    }
    if (only_resolvable) res->resolvable = true;
    if (reasons[SR_TAINT] && res->taints_seen) {
        json_t *c = json_object_get(res->taints_seen, taint);
        json_object_set_new(res->taints_seen, taint, json_integer(c ? json_integer_value(c) + 1 : 1));
    }
}

static void consider(struct sched_result *res, sched_node *n, int64_t score)
{
    if (res->node == NULL || score > res->score) {
        res->node = n;
        res->score = score;
    }
}

/* The feasible nodes with ScheduleAnyway constraints: their spread score
 * (normalized over all of them) joins the rest. */
static int choose_spread(const sched_cache *c, const sched_pod *p, const struct sched_spread_ctx *sx,
                         sched_node **feas, const int64_t *base, size_t n, struct sched_result *res)
{
    int64_t *spread = calloc(n + 1, sizeof *spread);
    int rc = spread ? sched_spread_scores(sx, c, p, feas, n, spread) : ORC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        consider(res, feas[i], base[i] + SPREAD_WEIGHT * spread[i] * (SCALE / 100));
    free(spread);
    return rc;
}

int sched_schedule(const sched_cache *c, const sched_pod *p, const struct sched_volumes *vols,
                   const struct sched_weights *w, struct sched_result *res)
{
    struct sched_affinity_ctx ax;
    struct sched_spread_ctx sx;
    bool reasons[SR_COUNT];
    char taint[512];
    sched_node **feas = NULL;
    int64_t *base = NULL;
    size_t nfeas = 0;
    int rc;

    memset(res, 0, sizeof *res);
    res->taints_seen = json_object();
    if (res->taints_seen == NULL) return ORC_ENOMEM;
    rc = sched_affinity_ctx_init(&ax, c, p);
    if (rc != 0) goto out_res;
    rc = sched_spread_ctx_init(&sx, c, p);
    if (rc != 0) goto out_ax;
    if (sx.nsoft > 0) {
        feas = calloc(c->nnodes + 1, sizeof *feas);
        base = calloc(c->nnodes + 1, sizeof *base);
        if (feas == NULL || base == NULL) {
            rc = ORC_ENOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < c->nnodes; i++) {
        sched_node *n = c->nodes[i];
        if (n->obj == NULL) continue;
        res->nnodes++;
        taint[0] = '\0';
        if (sched_filter_node(c, n, p, vols, &ax, &sx, reasons, taint) > 0) {
            count_failure(res, reasons, taint);
            continue;
        }
        int64_t s = sched_score_node(n, p, w) + sched_affinity_score(&ax, n);
        if (feas) {
            feas[nfeas] = n;
            base[nfeas++] = s;
        } else {
            consider(res, n, s);
        }
    }
    if (nfeas > 0) rc = choose_spread(c, p, &sx, feas, base, nfeas, res);
out:
    free(feas);
    free(base);
    sched_spread_ctx_fini(&sx);
out_ax:
    sched_affinity_ctx_fini(&ax);
out_res:
    if (rc != 0) sched_result_fini(res);
    return rc;
}

void sched_result_fini(struct sched_result *res)
{
    json_decref(res->taints_seen);
    res->taints_seen = NULL;
}

static const char *const reason_text[SR_COUNT] = {
    [SR_UNSCHEDULABLE] = "node(s) were unschedulable",
    [SR_TAINT] = NULL, /* one entry per taint */
    [SR_NODE_AFFINITY] = "node(s) didn't match Pod's node affinity/selector",
    [SR_PORTS] = "node(s) didn't have free ports for the requested pod ports",
    [SR_CPU] = "Insufficient cpu",
    [SR_MEMORY] = "Insufficient memory",
    [SR_PODS] = "Too many pods",
    [SR_VOLUME] = "node(s) had volume node affinity conflict",
    [SR_SPREAD_LABEL] = "node(s) didn't match pod topology spread constraints (missing required label)",
    [SR_SPREAD] = "node(s) didn't match pod topology spread constraints",
    [SR_POD_AFFINITY] = "node(s) didn't match pod affinity rules",
    [SR_POD_ANTI_AFFINITY] = "node(s) didn't match pod anti-affinity rules",
    [SR_EXISTING_ANTI] = "node(s) didn't satisfy existing pods anti-affinity rules",
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sched_result_message(const struct sched_result *res)
{
    char *items[SR_COUNT + 64];
    size_t n = 0;
    struct orc_buf out = {0};
    const char *k;
    json_t *v;
    char *text = NULL;

    for (int r = 0; r < SR_COUNT; r++)
        if (res->counts[r] && reason_text[r] && asprintf(&items[n], "%u %s", res->counts[r], reason_text[r]) >= 0)
            n++;
    json_object_foreach(res->taints_seen, k, v) {
        if (n == ORC_ARRAY_LEN(items)) break;
        if (asprintf(&items[n], "%lld node(s) had untolerated taint %s", (long long)json_integer_value(v), k) >= 0)
            n++;
    }
    /* Kubernetes sorts the "count reason" strings as Go's sort.Strings. */
    qsort(items, n, sizeof items[0], cmp_str);
    if (orc_buf_printf(&out, "0/%zu nodes are available", res->nnodes) != 0) goto out;
    for (size_t i = 0; i < n; i++)
        if (orc_buf_printf(&out, "%s%s", i ? ", " : ": ", items[i]) != 0) goto out;
    if (orc_buf_printf(&out, ".") != 0) goto out;
    text = orc_buf_steal(&out, NULL);
out:
    for (size_t i = 0; i < n; i++) free(items[i]);
    orc_buf_free(&out);
    return text;
}
