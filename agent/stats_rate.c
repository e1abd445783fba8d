/* stats_rate.c — usageNanoCores (stats.h agent_stats_rates): each cgroup's
 * CPU rate between the previous /stats/summary's reading and this one, as
 * the kubelet computes it from its cached previous sample. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/stats.h"
#include "lib/orc.h"

struct agent_stats_sample {
    char key[168];   /* "n" the node, "p/UID" a pod, "c/ID" a container */
    int64_t time_ns;
    uint64_t cpu_ns;
};

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const struct agent_stats_sample *)a)->key, ((const struct agent_stats_sample *)b)->key);
}

/* The rate from old to st: CPU ns per wall second. */
static void rate(const struct agent_stats_sample *old, struct agent_cstats *st)
{
    if (old == NULL || st->time_ns <= old->time_ns || st->cpu_ns < old->cpu_ns) return;
    st->nano_cores = (uint64_t)((double)(st->cpu_ns - old->cpu_ns) * 1e9 / (double)(st->time_ns - old->time_ns));
    st->has_rate = true;
}

/* One reading: its rate from prev's reading under the same key, and the
 * reading appended to v (room made by the caller) for the next time. */
static void step(const struct agent_stats_prev *prev, struct agent_stats_sample *v, size_t *n, const char *kind,
                 const char *id, struct agent_cstats *st)
{
    struct agent_stats_sample *cur = &v[*n];

    if (!st->has_cpu) return;
    snprintf(cur->key, sizeof cur->key, "%s%s", kind, id);
    cur->time_ns = st->time_ns;
    cur->cpu_ns = st->cpu_ns;
    if (prev->n) rate(bsearch(cur, prev->v, prev->n, sizeof *cur, cmp_key), st);
    (*n)++;
}

int agent_stats_rates(struct agent_stats_prev *prev, struct agent_stats *s)
{
    size_t cap = 1 + s->n_pods, n = 0;
    struct agent_stats_sample *v;

    for (size_t i = 0; i < s->n_pods; i++) cap += s->pods[i].n_ctrs;
    if ((v = calloc(cap, sizeof *v)) == NULL) return ORC_ENOMEM;
    step(prev, v, &n, "n", "", &s->st);
    for (size_t i = 0; i < s->n_pods; i++) {
        struct agent_stat_pod *p = &s->pods[i];
        step(prev, v, &n, "p/", p->uid, &p->st);
        for (size_t j = 0; j < p->n_ctrs; j++) step(prev, v, &n, "c/", p->ctrs[j].id, &p->ctrs[j].st);
    }
    qsort(v, n, sizeof *v, cmp_key);
    free(prev->v);
    prev->v = v;
    prev->n = n;
    return 0;
}

void agent_stats_prev_free(struct agent_stats_prev *prev)
{
    free(prev->v);
    prev->v = NULL;
    prev->n = 0;
}
