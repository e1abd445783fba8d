/* cache.c — the scheduler's node info cache: per node its allocatable, the
 * sums of the requests of the pods counted on it (bound ones from the
 * informer, plus assumed binds in flight and preemptors' nominations), its
 * labels and taints. Deciding for a pod never scans all pods. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/list.h"
#include "lib/orc.h"
#include "lib/quantity.h"
#include "scheduler/sched_int.h"

#define DEFAULT_ASSUME_TTL_MS 30000
#define SPREAD_SWEEP_MS (5 * 60 * 1000)

int sched_cache_init(sched_cache *c)
{
    memset(c, 0, sizeof *c);
    c->assume_ttl_ms = DEFAULT_ASSUME_TTL_MS;
    return sched_spread_index_new(&c->spread);
}

#define POD_OF(h) ORC_CONTAINER(h, sched_pod, hnode)
#define NODE_OF(h) ORC_CONTAINER(h, sched_node, hnode)

static void node_free(sched_node *n)
{
    if (n == NULL) return;
    json_decref(n->obj);
    free(n->name_buf);
    free(n->pods);
    free(n);
}

void sched_cache_fini(sched_cache *c)
{
    struct orc_hnode *h = orc_hmap_first(&c->pods_by_key), *next;
    for (; h; h = next) {
        next = orc_hmap_next(&c->pods_by_key, h);
        sched_pod_free(POD_OF(h));
    }
    for (size_t i = 0; i < c->nnodes; i++) node_free(c->nodes[i]);
    sched_spread_index_free(c->spread);
    orc_hmap_free(&c->pods_by_key);
    orc_hmap_free(&c->nodes_by_name);
    free(c->nodes);
    free(c->anti);
    memset(c, 0, sizeof *c);
}

sched_node *sched_cache_node(const sched_cache *c, const char *name)
{
    struct orc_hnode *h = orc_hmap_get(&c->nodes_by_name, name);
    return h ? NODE_OF(h) : NULL;
}

sched_pod *sched_cache_pod(const sched_cache *c, const char *key)
{
    struct orc_hnode *h = orc_hmap_get(&c->pods_by_key, key);
    return h ? POD_OF(h) : NULL;
}

/* ---- nodes ---- */

static int64_t alloc_of(const json_t *node, const char *res, int64_t div)
{
    const json_t *a = orc_json_get(node, "status.allocatable");
    const json_t *v = json_object_get(a, res);
    int64_t milli = 0;
    if (v == NULL) v = json_object_get(orc_json_get(node, "status.capacity"), res);
    if (json_is_string(v)) {
        if (orc_quantity_parse(json_string_value(v), &milli) != 0) milli = 0;
    } else if (json_is_integer(v)) {
        milli = json_integer_value(v) * 1000;
    }
    return div > 1 ? milli / div : milli;
}

static void node_conditions(sched_node *n)
{
    const json_t *cond;
    size_t i;
    n->ready = false;
    n->ready_unknown = true;
    json_array_foreach(orc_json_get(n->obj, "status.conditions"), i, cond) {
        const char *type = orc_json_str(cond, "type"), *st = orc_json_str(cond, "status");
        if (type == NULL || st == NULL || strcmp(type, "Ready") != 0) continue;
        n->ready = strcmp(st, "True") == 0;
        n->ready_unknown = strcmp(st, "Unknown") == 0;
    }
}

bool sched_node_ready(const json_t *node)
{
    const json_t *cond;
    size_t i;
    json_array_foreach(orc_json_get(node, "status.conditions"), i, cond)
        if (orc_json_str(cond, "type") && strcmp(orc_json_str(cond, "type"), "Ready") == 0)
            return orc_json_str(cond, "status") && strcmp(orc_json_str(cond, "status"), "True") == 0;
    return false;
}

static void node_fill(sched_node *n, const json_t *obj)
{
    const json_t *t;
    size_t i;
    json_decref(n->obj);
    n->obj = json_incref((json_t *)obj);
    n->labels = orc_json_get(obj, "metadata.labels");
    n->taints = orc_json_get(obj, "spec.taints");
    n->unschedulable = json_is_true(orc_json_get(obj, "spec.unschedulable"));
    n->alloc_cpu = alloc_of(obj, "cpu", 1);
    n->alloc_mem = alloc_of(obj, "memory", 1000);
    n->alloc_pods = alloc_of(obj, "pods", 1000);
    n->prefer_taints = false;
    json_array_foreach(n->taints, i, t) {
        const char *eff = orc_json_str(t, "effect");
        if (eff && strcmp(eff, "PreferNoSchedule") == 0) n->prefer_taints = true;
    }
    node_conditions(n);
}

/* A node known only from a pod bound to it (the node informer has not shown
 * it yet, or it was deleted with pods left): counts the pods, never chosen. */
static sched_node *node_get_or_add(sched_cache *c, const char *name)
{
    sched_node *n = sched_cache_node(c, name);
    if (n) return n;
    if (c->nnodes == c->ncap) {
        size_t cap = c->ncap ? c->ncap * 2 : 64;
        sched_node **a = realloc(c->nodes, cap * sizeof *a);
        if (a == NULL) return NULL;
        c->nodes = a;
        c->ncap = cap;
    }
    n = calloc(1, sizeof *n);
    if (n == NULL || (n->name_buf = strdup(name)) == NULL) {
        free(n);
        return NULL;
    }
    n->name = n->name_buf;
    n->hnode.key = n->name;
    if (orc_hmap_put(&c->nodes_by_name, &n->hnode) != 0) {
        node_free(n);
        return NULL;
    }
    n->idx = c->nnodes;
    c->nodes[c->nnodes++] = n;
    return n;
}

int sched_cache_set_node(sched_cache *c, const json_t *node)
{
    const char *name = orc_json_str(node, "metadata.name");
    sched_node *n;
    if (name == NULL || *name == '\0') return ORC_EINVAL;
    n = node_get_or_add(c, name);
    if (n == NULL) return ORC_ENOMEM;
    node_fill(n, node);
    if (c->spread->ntopo > 0) sched_spread_node_set(c->spread, n);
    return 0;
}

static void node_drop(sched_cache *c, sched_node *n)
{
    orc_hmap_del(&c->nodes_by_name, &n->hnode);
    c->nodes[n->idx] = c->nodes[--c->nnodes];
    c->nodes[n->idx]->idx = n->idx;
    if (c->spread->n > 0 || c->spread->ntopo > 0)
        sched_spread_node_moved(c->spread, c->nnodes, n->idx);
    node_free(n);
}

void sched_cache_remove_node(sched_cache *c, const char *name)
{
    sched_node *n = sched_cache_node(c, name);
    if (n == NULL) return;
    if (n->npods > 0) {
        /* Its pods still count until they are gone: keep a placeholder. */
        json_decref(n->obj);
        n->obj = NULL;
        n->labels = n->taints = NULL;
        n->ready = false;
        if (c->spread->ntopo > 0) sched_spread_node_set(c->spread, n);
        return;
    }
    node_drop(c, n);
}

/* ---- pods on nodes ---- */

static int anti_add(sched_cache *c, sched_pod *p)
{
    if (c->nanti == c->acap) {
        size_t cap = c->acap ? c->acap * 2 : 16;
        sched_pod **a = realloc(c->anti, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        c->anti = a;
        c->acap = cap;
    }
    p->anti_idx = c->nanti;
    c->anti[c->nanti++] = p;
    return 0;
}

static int count_on(sched_cache *c, sched_pod *p, sched_node *n)
{
    if (n->npods == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 16;
        sched_pod **a = realloc(n->pods, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        n->pods = a;
        n->cap = cap;
    }
    if (p->anti_affinity && anti_add(c, p) != 0) return ORC_ENOMEM;
    p->hnode.key = p->key;
    if (orc_hmap_put(&c->pods_by_key, &p->hnode) != 0) {
        if (p->anti_affinity) c->nanti--;
        return ORC_ENOMEM;
    }
    p->node = n;
    p->node_idx = n->npods;
    n->pods[n->npods++] = p;
    n->req_cpu += p->cpu;
    n->req_mem += p->mem;
    n->nz_cpu += p->cpu_nz;
    n->nz_mem += p->mem_nz;
    if (c->spread->n > 0) sched_spread_pod_moved(c->spread, p, 1);
    return 0;
}

/* Takes p out of the cache and frees it. */
static void uncount(sched_cache *c, sched_pod *p)
{
    sched_node *n = p->node;
    if (c->spread->n > 0) sched_spread_pod_moved(c->spread, p, -1);
    orc_hmap_del(&c->pods_by_key, &p->hnode);
    if (p->anti_affinity) {
        c->anti[p->anti_idx] = c->anti[--c->nanti];
        c->anti[p->anti_idx]->anti_idx = p->anti_idx;
    }
    n->pods[p->node_idx] = n->pods[--n->npods];
    n->pods[p->node_idx]->node_idx = p->node_idx;
    n->req_cpu -= p->cpu;
    n->req_mem -= p->mem;
    n->nz_cpu -= p->cpu_nz;
    n->nz_mem -= p->mem_nz;
    if (n->obj == NULL && n->npods == 0) node_drop(c, n);
    sched_pod_free(p);
}

int sched_cache_assume(sched_cache *c, sched_pod *p, sched_node *node, bool nominated,
                       uint64_t now_ms)
{
    sched_pod *old = sched_cache_pod(c, p->key);
    int rc;
    if (old) uncount(c, old);
    p->assumed = !nominated;
    p->nominated = nominated;
    p->assumed_until = now_ms + c->assume_ttl_ms;
    rc = count_on(c, p, node);
    if (rc != 0) sched_pod_free(p);
    return rc;
}

void sched_cache_forget(sched_cache *c, const char *key)
{
    sched_pod *p = sched_cache_pod(c, key);
    if (p && (p->assumed || p->nominated)) uncount(c, p);
}

static bool finished(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

int sched_cache_observe_pod(sched_cache *c, const json_t *pod, sched_prio_fn prio, void *arg)
{
    const char *node = orc_json_str(pod, "spec.nodeName");
    sched_pod *p, *old;
    sched_node *n;
    int rc;

    rc = sched_pod_parse(pod, prio, arg, &p);
    if (rc != 0) return rc;
    old = sched_cache_pod(c, p->key);
    if (node == NULL || *node == '\0' || finished(pod)) {
        /* An unbound pod keeps our assumption or nomination: the informer
         * simply has not seen the bind yet. */
        if (old && !((old->assumed || old->nominated) && !finished(pod))) uncount(c, old);
        sched_pod_free(p);
        return 0;
    }
    if (old) uncount(c, old);
    n = node_get_or_add(c, node);
    if (n == NULL) {
        sched_pod_free(p);
        return ORC_ENOMEM;
    }
    rc = count_on(c, p, n);
    if (rc != 0) sched_pod_free(p);
    return rc;
}

void sched_cache_pod_gone(sched_cache *c, const char *ns, const char *name)
{
    char key[512];
    sched_pod *p;
    snprintf(key, sizeof key, "%s/%s", ns ? ns : "default", name);
    p = sched_cache_pod(c, key);
    if (p) uncount(c, p);
}

size_t sched_cache_expire(sched_cache *c, uint64_t now_ms)
{
    struct orc_hnode *h = orc_hmap_first(&c->pods_by_key), *next;
    size_t n = 0;
    for (; h; h = next) {
        sched_pod *p = POD_OF(h);
        next = orc_hmap_next(&c->pods_by_key, h);
        if ((p->assumed || p->nominated) && p->assumed_until <= now_ms) {
            uncount(c, p);
            n++;
        }
    }
    if (now_ms >= c->spread_swept_ms + SPREAD_SWEEP_MS) {
        sched_spread_sweep(c->spread);
        c->spread_swept_ms = now_ms;
    }
    return n;
}
