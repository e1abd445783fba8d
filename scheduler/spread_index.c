/* spread_index.c — the cache's per-node counts of the pods a topology spread
 * selector picks: one counter per (namespace, selector) some pod's
 * constraint used, built from the cache once and then kept by every pod
 * counted on or taken off a node, so a decision adds up per-node numbers
 * instead of matching every pod. Counters no decision used for a sweep
 * period are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/labels.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "scheduler/sched_int.h"

#define CTR_OF(h) ORC_CONTAINER(h, struct sched_spread_counter, hnode)

int sched_spread_index_new(struct sched_spread_index **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ORC_ENOMEM;
}

static void counter_free(struct sched_spread_counter *k)
{
    if (k == NULL) return;
    orc_selector_free(k->sel);
    free(k->key);
    free(k->ns);
    free(k->counts);
    free(k);
}

void sched_spread_index_free(struct sched_spread_index *ix)
{
    if (ix == NULL) return;
    for (size_t i = 0; i < ix->n; i++) counter_free(ix->all[i]);
    orc_hmap_free(&ix->by_key);
    free(ix->all);
    free(ix);
}

/* Whether pod p counts for k: same namespace, not terminating (as
 * Kubernetes' countPodsMatchSelector), selected. */
static bool counts_for(const struct sched_spread_counter *k, const sched_pod *p)
{
    return !p->terminating && strcmp(p->ns, k->ns) == 0 && orc_selector_matches(k->sel, p->labels);
}

static int slot_add(struct sched_spread_counter *k, size_t idx, int delta)
{
    if (idx >= k->ncounts) {
        size_t cap = k->ncounts ? k->ncounts : 64;
        while (cap <= idx) cap *= 2;
        int32_t *a = realloc(k->counts, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        memset(a + k->ncounts, 0, (cap - k->ncounts) * sizeof *a);
        k->counts = a;
        k->ncounts = cap;
    }
    k->counts[idx] += delta;
    return 0;
}

static void counter_drop(struct sched_spread_index *ix, size_t i)
{
    struct sched_spread_counter *k = ix->all[i];
    orc_hmap_del(&ix->by_key, &k->hnode);
    ix->all[i] = ix->all[--ix->n];
    counter_free(k);
}

void sched_spread_pod_moved(struct sched_spread_index *ix, const sched_pod *p, int delta)
{
    for (size_t i = 0; i < ix->n; i++) {
        struct sched_spread_counter *k = ix->all[i];
        if (!counts_for(k, p)) continue;
        if (slot_add(k, p->node->idx, delta) != 0) {
            /* A counter that missed a pod would be wrong: rebuild it later. */
            log_warn("scheduler", "spread counter dropped: out of memory");
            counter_drop(ix, i--);
        }
    }
}

void sched_spread_node_moved(struct sched_spread_index *ix, size_t from, size_t to)
{
    for (size_t i = 0; i < ix->n; i++) {
        struct sched_spread_counter *k = ix->all[i];
        int32_t v = from < k->ncounts ? k->counts[from] : 0;
        if (from < k->ncounts) k->counts[from] = 0;
        if (to < k->ncounts) k->counts[to] = v;
        else if (v != 0 && slot_add(k, to, v) != 0) counter_drop(ix, i--);
    }
}

void sched_spread_sweep(struct sched_spread_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        if (!ix->all[i]->used) counter_drop(ix, i--);
        else ix->all[i]->used = false;
    }
}

/* Counts every pod of the cache for a new counter. */
static int counter_fill(struct sched_spread_counter *k, const sched_cache *c)
{
    for (size_t i = 0; i < c->nnodes; i++) {
        const sched_node *n = c->nodes[i];
        for (size_t j = 0; j < n->npods; j++)
            if (counts_for(k, n->pods[j]) && slot_add(k, n->idx, 1) != 0) return ORC_ENOMEM;
    }
    return 0;
}

static int counter_add(struct sched_spread_index *ix, struct sched_spread_counter *k)
{
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 8;
        struct sched_spread_counter **a = realloc(ix->all, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        ix->all = a;
        ix->cap = cap;
    }
    k->hnode.key = k->key;
    if (orc_hmap_put(&ix->by_key, &k->hnode) != 0) return ORC_ENOMEM;
    ix->all[ix->n++] = k;
    return 0;
}

int sched_spread_counter_get(const sched_cache *c, const char *ns, orc_selector *sel,
                             struct sched_spread_counter **out)
{
    struct sched_spread_index *ix = c->spread;
    struct orc_buf key = {0};
    struct orc_hnode *h;
    struct sched_spread_counter *k;
    int rc;

    *out = NULL;
    rc = orc_buf_printf(&key, "%s\n", ns);
    if (rc == 0) rc = orc_selector_string(sel, &key);
    if (rc != 0) {
        orc_buf_free(&key);
        orc_selector_free(sel);
        return ORC_ENOMEM;
    }
    h = orc_hmap_get(&ix->by_key, key.data);
    if (h) {
        orc_buf_free(&key);
        orc_selector_free(sel);
        *out = CTR_OF(h);
        (*out)->used = true;
        return 0;
    }
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        orc_buf_free(&key);
        orc_selector_free(sel);
        return ORC_ENOMEM;
    }
    k->sel = sel;
    k->key = orc_buf_steal(&key, NULL);
    k->ns = strdup(ns);
    k->used = true;
    if (k->key == NULL || k->ns == NULL) goto fail;
    if (counter_fill(k, c) != 0 || counter_add(ix, k) != 0) goto fail;
    *out = k;
    return 0;
fail:
    orc_buf_free(&key);
    counter_free(k);
    return ORC_ENOMEM;
}

int32_t sched_spread_count(const struct sched_spread_counter *k, const sched_node *n)
{
    return k && n->idx < k->ncounts ? k->counts[n->idx] : 0;
}
