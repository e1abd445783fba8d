/* sched_int.h — internal to scheduler/: the per-pod precomputation of inter-pod (anti-)affinity shared by filter.c,
 * schedule.c and preempt.c. */
#ifndef ORC_SCHEDULER_SCHED_INT_H
#define ORC_SCHEDULER_SCHED_INT_H

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
};
int sched_affinity_ctx_init(struct sched_affinity_ctx *ax, const sched_cache *c,
                            const sched_pod *p);
void sched_affinity_ctx_fini(struct sched_affinity_ctx *ax);
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

#endif
