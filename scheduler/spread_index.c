/* spread_index.c — what topology spread decisions read from the cache,
 * kept as pods and nodes change so that a decision is one pass over small
 * per-node arrays: per (namespace, selector) some constraint used, the
 * count of pods it picks on each node; per topology key some constraint
 * used, each node's domain as a small integer. Both are built from the
 * cache on first use; those no decision used for a sweep period are
 * dropped. */
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
#define TOPO_OF(h) ORC_CONTAINER(h, struct sched_topo_key, hnode)
#define NAME_OF(h) ORC_CONTAINER(h, struct topo_name, hnode)

struct topo_name {
    struct orc_hnode hnode; /* key: the domain (label value) */
    uint32_t id;
    char name[];
};

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

static void topo_free(struct sched_topo_key *t)
{
    struct orc_hnode *h, *next;
    if (t == NULL) return;
    for (h = orc_hmap_first(&t->names); h; h = next) {
        next = orc_hmap_next(&t->names, h);
        free(NAME_OF(h));
    }
    orc_hmap_free(&t->names);
    free(t->key);
    free(t->dom);
    free(t);
}

void sched_spread_index_free(struct sched_spread_index *ix)
{
    if (ix == NULL) return;
    for (size_t i = 0; i < ix->n; i++) counter_free(ix->all[i]);
    for (size_t i = 0; i < ix->ntopo; i++) topo_free(ix->topo[i]);
    orc_hmap_free(&ix->by_key);
    orc_hmap_free(&ix->topo_by_key);
    free(ix->all);
    free(ix->topo);
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

/* ---- topology keys: each node's domain as an id ---- */

static void topo_drop(struct sched_spread_index *ix, size_t i)
{
    struct sched_topo_key *t = ix->topo[i];
    orc_hmap_del(&ix->topo_by_key, &t->hnode);
    ix->topo[i] = ix->topo[--ix->ntopo];
    topo_free(t);
}

/* The id of domain `value` (a new one for a value not seen yet); 0 when
 * out of memory. */
static uint32_t topo_intern(struct sched_topo_key *t, const char *value)
{
    struct orc_hnode *h = orc_hmap_get(&t->names, value);
    struct topo_name *nm;
    size_t len;
    if (h) return NAME_OF(h)->id;
    len = strlen(value);
    nm = malloc(sizeof *nm + len + 1);
    if (nm == NULL) return 0;
    memcpy(nm->name, value, len + 1);
    nm->hnode.key = nm->name;
    nm->id = (uint32_t)t->nnames + 1;
    if (orc_hmap_put(&t->names, &nm->hnode) != 0) {
        free(nm);
        return 0;
    }
    t->nnames++;
    return nm->id;
}

/* Records n's domain for t (0: no such label). */
static int topo_set(struct sched_topo_key *t, const sched_node *n)
{
    const char *v = n->obj ? json_string_value(json_object_get(n->labels, t->key)) : NULL;
    uint32_t id = 0;
    if (v && (id = topo_intern(t, v)) == 0) return ORC_ENOMEM;
    if (n->idx >= t->ndom) {
        size_t cap = t->ndom ? t->ndom : 64;
        while (cap <= n->idx) cap *= 2;
        uint32_t *a = realloc(t->dom, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        memset(a + t->ndom, 0, (cap - t->ndom) * sizeof *a);
        t->dom = a;
        t->ndom = cap;
    }
    t->dom[n->idx] = id;
    return 0;
}

void sched_spread_node_set(struct sched_spread_index *ix, const sched_node *n)
{
    for (size_t i = 0; i < ix->ntopo; i++)
        if (topo_set(ix->topo[i], n) != 0) {
            log_warn("scheduler", "spread topology key dropped: out of memory");
            topo_drop(ix, i--);
        }
}

int sched_topo_key_get(const sched_cache *c, const char *key, struct sched_topo_key **out)
{
    struct sched_spread_index *ix = c->spread;
    struct orc_hnode *h = orc_hmap_get(&ix->topo_by_key, key);
    struct sched_topo_key *t;

    *out = NULL;
    if (h) {
        *out = TOPO_OF(h);
        (*out)->used = true;
        return 0;
    }
    if (ix->ntopo == ix->topo_cap) {
        size_t cap = ix->topo_cap ? ix->topo_cap * 2 : 8;
        struct sched_topo_key **a = realloc(ix->topo, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        ix->topo = a;
        ix->topo_cap = cap;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->key = strdup(key)) == NULL) goto fail;
    t->hnode.key = t->key;
    t->used = true;
    for (size_t i = 0; i < c->nnodes; i++)
        if (topo_set(t, c->nodes[i]) != 0) goto fail;
    if (orc_hmap_put(&ix->topo_by_key, &t->hnode) != 0) goto fail;
    ix->topo[ix->ntopo++] = t;
    *out = t;
    return 0;
fail:
    topo_free(t);
    return ORC_ENOMEM;
}

void sched_spread_node_moved(struct sched_spread_index *ix, size_t from, size_t to)
{
    for (size_t i = 0; i < ix->n; i++) {
        struct sched_spread_counter *k = ix->all[i];
        int32_t v = from < k->ncounts ? k->counts[from] : 0;
        if (from < k->ncounts) k->counts[from] = 0;
        if (to == from) continue; /* the last node itself went */
        if (to < k->ncounts) k->counts[to] = v;
        else if (v != 0 && slot_add(k, to, v) != 0) counter_drop(ix, i--);
    }
    /* `to` is below `from`, inside every array that holds `from`. */
    for (size_t i = 0; i < ix->ntopo; i++) {
        struct sched_topo_key *t = ix->topo[i];
        uint32_t v = from < t->ndom ? t->dom[from] : 0;
        if (from < t->ndom) t->dom[from] = 0;
        if (to != from && to < t->ndom) t->dom[to] = v;
    }
}

void sched_spread_sweep(struct sched_spread_index *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        if (!ix->all[i]->used) counter_drop(ix, i--);
        else ix->all[i]->used = false;
    }
    for (size_t i = 0; i < ix->ntopo; i++) {
        if (!ix->topo[i]->used) topo_drop(ix, i--);
        else ix->topo[i]->used = false;
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
