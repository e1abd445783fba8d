/* sched_int.h — internal to scheduler/: the per-pod precomputations of
 * inter-pod (anti-)affinity and topology spread shared by filter.c,
 * schedule.c and preempt.c, and the cache's spread counters. */
#ifndef ORC_SCHEDULER_SCHED_INT_H
#define ORC_SCHEDULER_SCHED_INT_H

#include "lib/labels.h"
#include "scheduler/sched.h"

/* For one pod: the topology domains (node label values, per topology key)
 * that satisfy or forbid its required pod (anti-)affinity terms, and those
 * forbidden by existing pods' anti-affinity. Sets are JSON objects used as
 * string sets keyed "topologyKey=value". */
struct sched_affinity_ctx {
    json_t *aff_terms;    /* array of required podAffinity terms (borrowed refs) */
    json_t *aff_ok;       /* per term i: object set of domains with a match */
    bool *aff_self;       /* per term: no match anywhere, but the pod matches itself */
    size_t naff;
    json_t *anti_terms;
    json_t *anti_bad;     /* union: "key=value" domains with a matching pod */
    json_t *existing_bad; /* "key=value" domains forbidden by existing pods */
    json_t *existing_keys; /* topology keys of existing_bad */
    bool active;          /* anything to check at all */
    json_t *preferred;    /* [[topologyKey, +-weight, domain set], ...] of the
                             preferred (anti-)affinity terms: scores only */
};
int sched_affinity_ctx_init(struct sched_affinity_ctx *ax, const sched_cache *c,
                            const sched_pod *p);
void sched_affinity_ctx_fini(struct sched_affinity_ctx *ax);
/* Preferred pod (anti-)affinity on n: 100 x (weights of affinity terms
 * whose domain on n holds a selected pod, minus those of anti-affinity
 * terms), within -10000..10000. */
int64_t sched_affinity_score(const struct sched_affinity_ctx *ax, const sched_node *n);
/* Sets the node's failures among SR_POD_AFFINITY, SR_POD_ANTI_AFFINITY and
 * SR_EXISTING_ANTI. */
void sched_affinity_check(const struct sched_affinity_ctx *ax, const sched_node *n,
                          bool reasons[SR_COUNT]);

/* The node object's Ready condition is True. */
bool sched_node_ready(const json_t *node);

/* spec.nodeSelector and required node affinity hold on n. */
bool sched_node_rules_ok(const sched_node *n, const sched_pod *p);
/* Sum of the weights of the pod's preferred node affinity terms n matches. */
int64_t sched_preferred_weight(const sched_node *n, const sched_pod *p);

/* Requests fit and ports are free on n when the pods in skip[0..nskip) are
 * gone: sets SR_CPU, SR_MEMORY, SR_PODS, SR_PORTS. */
void sched_fit_check(const sched_node *n, const sched_pod *p, sched_pod *const *skip,
                     size_t nskip, bool reasons[SR_COUNT]);

/* ---- topology spread: the cache's counters (spread_index.c) ---- */

/* Per node (by sched_node.idx): how many pods counted there, in namespace
 * ns and not terminating, the selector picks. */
struct sched_spread_counter {
    struct orc_hnode hnode;  /* in the index (key: key) */
    char *key;               /* "ns\nselector", owned */
    char *ns;                /* owned */
    orc_selector *sel;       /* owned */
    int32_t *counts;         /* by node index; past ncounts: 0 */
    size_t ncounts;
    bool used;               /* by a decision since the last sweep */
};

/* Per node (by sched_node.idx): its domain for a topology key, as an id
 * 1..nnames (0: the node lacks the label). */
struct sched_topo_key {
    struct orc_hnode hnode;  /* in the index (key: key) */
    char *key;               /* owned */
    uint32_t *dom;           /* by node index; past ndom: 0 */
    size_t ndom;
    struct orc_hmap names;   /* domain -> id (records owned) */
    size_t nnames;
    bool used;
};

struct sched_spread_index {
    struct orc_hmap by_key;
    struct sched_spread_counter **all; /* owned */
    size_t n, cap;
    struct orc_hmap topo_by_key;
    struct sched_topo_key **topo;      /* owned */
    size_t ntopo, topo_cap;
};

int sched_spread_index_new(struct sched_spread_index **out);
void sched_spread_index_free(struct sched_spread_index *ix);
/* p was counted on (+1) or taken off (-1) p->node. */
void sched_spread_pod_moved(struct sched_spread_index *ix, const sched_pod *p, int delta);
/* n was added or its labels changed (or it became a placeholder). */
void sched_spread_node_set(struct sched_spread_index *ix, const sched_node *n);
/* The node at index `from` (the last) moved to `to` (whose node had no pods
 * left and is gone). */
void sched_spread_node_moved(struct sched_spread_index *ix, size_t from, size_t to);
/* Drops the counters no decision used since the previous sweep. */
void sched_spread_sweep(struct sched_spread_index *ix);
/* The counter of (ns, sel), made from the cache's pods when new: the cache
 * is const to decisions, its index a memo. Takes sel (freed when a counter
 * exists or on error). 0 or ORC_ENOMEM. */
int sched_spread_counter_get(const sched_cache *c, const char *ns, orc_selector *sel,
                             struct sched_spread_counter **out);
/* Count on n; k NULL (a selector picking nothing): 0. */
int32_t sched_spread_count(const struct sched_spread_counter *k, const sched_node *n);
/* The domains of topology key `key`, made from the cache's nodes when new
 * (a memo, as counters are). 0 or ORC_ENOMEM. */
int sched_topo_key_get(const sched_cache *c, const char *key, struct sched_topo_key **out);
static inline uint32_t sched_topo_domain(const struct sched_topo_key *t, const sched_node *n)
{
    return n->idx < t->ndom ? t->dom[n->idx] : 0;
}

/* ---- topology spread: one decision (spread.c) ---- */

struct sched_spread_constraint;

/* A pod's topologySpreadConstraints, split into DoNotSchedule (filter) and
 * ScheduleAnyway (score), with the per-domain counts the filter needs. */
struct sched_spread_ctx {
    struct sched_spread_constraint *hard, *soft; /* owned arrays */
    size_t nhard, nsoft;
};
/* 0 or ORC_ENOMEM; a pod without constraints costs nothing. */
int sched_spread_ctx_init(struct sched_spread_ctx *sx, const sched_cache *c, const sched_pod *p);
void sched_spread_ctx_fini(struct sched_spread_ctx *sx);
/* Sets SR_SPREAD_LABEL or SR_SPREAD when n fails a DoNotSchedule
 * constraint (sx may be NULL). */
void sched_spread_check(const struct sched_spread_ctx *sx, const sched_node *n,
                        bool reasons[SR_COUNT]);
/* The ScheduleAnyway part of the score of each feasible node (nodes[i] ->
 * out[i], 0..100 as Kubernetes normalizes it, 0 for a node lacking a
 * topology key). 0 or ORC_ENOMEM. */
int sched_spread_scores(const struct sched_spread_ctx *sx, const sched_cache *c,
                        const sched_pod *p, sched_node *const *nodes, size_t n, int64_t *out);

/* The node's NoSchedule/NoExecute taints (and the implied not-ready one)
 * are tolerated; taint_out as sched_filter_node's (may be NULL). */
bool sched_taints_ok(const sched_node *n, const sched_pod *p, char *taint_out);

/* ---- metrics.c ---- */

/* A monotonic clock in ns (a real one: attempts are timed as they run). */
uint64_t sched_metrics_now(void);
/* One scheduling attempt ended: result "scheduled", "unschedulable" or
 * "error", started at start_ns. Any thread. */
void sched_metrics_attempt(const char *result, uint64_t start_ns);

#endif
