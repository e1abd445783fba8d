/* filter.c — the filters one node passes or fails for a pod, in Kubernetes'
 * plugin order (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts,
 * NodeResourcesFit, VolumeBinding's node affinity, PodTopologySpread,
 * InterPodAffinity). A node that is not Ready carries, as Kubernetes' node
 * lifecycle controller would add, the not-ready (or unreachable) NoSchedule
 * taint. */
#include <stdio.h>
#include <string.h>

#include "controllers/nodematch.h"
#include "lib/json.h"
#include "scheduler/sched_int.h"

static bool check_unschedulable(const sched_node *n, const sched_pod *p)
{
    json_t *taint;
    bool ok;
    if (!n->unschedulable) return true;
    taint = json_pack("{s:s, s:s}", "key", "node.kubernetes.io/unschedulable", "effect", "NoSchedule");
    ok = taint && sched_tolerates(p->tolerations, taint);
    json_decref(taint);
    return ok;
}

static void taint_text(const json_t *taint, char *out)
{
    const char *v = orc_json_str(taint, "value");
    if (out) snprintf(out, 512, "{%s: %s}", orc_json_str(taint, "key"), v ? v : "");
}

/* NoSchedule and NoExecute taints must be tolerated. */
bool sched_taints_ok(const sched_node *n, const sched_pod *p, char *taint_out)
{
    const json_t *tols = p->tolerations;
    const json_t *t;
    size_t i;

    if (n->ready && n->taints == NULL) return true;
    json_array_foreach(n->taints, i, t) {
        const char *eff = orc_json_str(t, "effect");
        if (eff == NULL || strcmp(eff, "PreferNoSchedule") == 0) continue;
        if (!sched_tolerates(tols, t)) {
            taint_text(t, taint_out);
            return false;
        }
    }
    if (!n->ready) {
        const char *key = n->ready_unknown ? "node.kubernetes.io/unreachable" : "node.kubernetes.io/not-ready";
        json_t *implied = json_pack("{s:s, s:s}", "key", key, "effect", "NoSchedule");
        bool ok = implied && sched_tolerates(tols, implied);
        if (!ok) taint_text(implied, taint_out);
        json_decref(implied);
        return ok;
    }
    return true;
}

static bool ips_overlap(const char *a, const char *b)
{
    bool any_a = a[0] == '\0' || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
    bool any_b = b[0] == '\0' || strcmp(b, "0.0.0.0") == 0 || strcmp(b, "::") == 0;
    return any_a || any_b || strcmp(a, b) == 0;
}

static bool skipped(const sched_pod *q, sched_pod *const *skip, size_t nskip)
{
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] == q) return true;
    return false;
}

static bool ports_free(const sched_node *n, const sched_pod *p, sched_pod *const *skip, size_t nskip)
{
    for (size_t i = 0; i < n->npods; i++) {
        const sched_pod *q = n->pods[i];
        if (q->nports == 0 || skipped(q, skip, nskip)) continue;
        for (size_t a = 0; a < p->nports; a++)
            for (size_t b = 0; b < q->nports; b++)
                if (p->ports[a].port == q->ports[b].port
                    && strcmp(p->ports[a].proto, q->ports[b].proto) == 0
                    && ips_overlap(p->ports[a].ip, q->ports[b].ip))
                    return false;
    }
    return true;
}

void sched_fit_check(const sched_node *n, const sched_pod *p, sched_pod *const *skip, size_t nskip,
                     bool reasons[SR_COUNT])
{
    int64_t cpu = n->req_cpu, mem = n->req_mem, pods = (int64_t)n->npods;
    for (size_t i = 0; i < nskip; i++) {
        cpu -= skip[i]->cpu;
        mem -= skip[i]->mem;
        pods--;
    }
    if (p->nports > 0 && !ports_free(n, p, skip, nskip)) reasons[SR_PORTS] = true;
    if (pods + 1 > n->alloc_pods) reasons[SR_PODS] = true;
    if (p->cpu > 0 && cpu + p->cpu > n->alloc_cpu) reasons[SR_CPU] = true;
    if (p->mem > 0 && mem + p->mem > n->alloc_mem) reasons[SR_MEMORY] = true;
}

static bool volumes_ok(const sched_node *n, const struct sched_volumes *vols)
{
    for (size_t i = 0; vols && i < vols->n; i++) {
        const json_t *req = vols->required[i], *term;
        size_t t;
        bool any = false;
        if (req == NULL) continue;
        json_array_foreach(json_object_get(req, "nodeSelectorTerms"), t, term)
            if (ctl_node_term_matches(term, n->obj)) any = true;
        if (!any) return false;
    }
    return true;
}

unsigned sched_filter_node(const sched_cache *c, const sched_node *n, const sched_pod *p,
                           const struct sched_volumes *vols, const struct sched_affinity_ctx *ax,
                           const struct sched_spread_ctx *sx, bool reasons[SR_COUNT],
                           char *taint_out)
{
    unsigned fails = 0;
    (void)c;
    memset(reasons, 0, SR_COUNT * sizeof reasons[0]);
    /* Kubernetes stops at the first plugin that fails a node. */
    if (!check_unschedulable(n, p))
        reasons[SR_UNSCHEDULABLE] = true;
    else if (!sched_taints_ok(n, p, taint_out))
        reasons[SR_TAINT] = true;
    else if (p->node_rules && !sched_node_rules_ok(n, p))
        reasons[SR_NODE_AFFINITY] = true;
    else {
        sched_fit_check(n, p, NULL, 0, reasons);
        for (int r = 0; r < SR_COUNT; r++) fails += reasons[r];
        if (fails) return fails;
        if (!volumes_ok(n, vols))
            reasons[SR_VOLUME] = true;
        else {
            sched_spread_check(sx, n, reasons);
            if (!reasons[SR_SPREAD] && !reasons[SR_SPREAD_LABEL])
                sched_affinity_check(ax, n, reasons);
        }
    }
    for (int r = 0; r < SR_COUNT; r++) fails += reasons[r];
    return fails;
}
