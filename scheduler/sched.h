/* sched.h — the scheduler: places unbound pods on nodes (filter -> score ->
 * bind), as kube-scheduler's default profile does. It runs in the controller
 * manager like any controller (`ctl_scheduler`, controllers/ctl.h); this
 * header is also the contract of its pure core — the node info cache, the
 * filters, the scores, the failure message and preemption — which unit tests
 * drive on in-memory JSON and a fake clock.
 *
 * Single-threaded: a cache and everything reached from it belong to one
 * loop. Objects handed in are borrowed for the call; the cache keeps its own
 * references (json_incref) to what it stores. */
#ifndef ORC_SCHEDULER_SCHED_H
#define ORC_SCHEDULER_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/ctl.h"
#include "lib/hmap.h"

extern const struct ctl_controller ctl_scheduler;

#define SCHED_NAME "default-scheduler"

/* ---- a pod, as the scheduler sees it ---- */

struct sched_port {
    int port;          /* hostPort */
    char proto[8];     /* TCP, UDP, SCTP */
    const char *ip;    /* hostIP, borrowed from the pod; "" or "0.0.0.0" = any */
};

struct sched_node;

typedef struct sched_pod {
    struct orc_hnode hnode; /* in the cache's pods_by_key (key: key) */
    json_t *obj;            /* own reference */
    char *key;              /* "ns/name", owned */
    const char *ns, *name, *uid;  /* borrowed from obj */
    int64_t cpu, mem;       /* requests: millicores, bytes */
    int64_t cpu_nz, mem_nz; /* with Kubernetes' non-zero defaults (100m,
                               200Mi) for a container asking nothing: scores */
    struct sched_port *ports;
    size_t nports;
    int32_t priority;
    bool preempt_never;     /* preemptionPolicy: Never */
    bool terminating;
    bool anti_affinity;     /* has required podAntiAffinity terms */
    bool node_rules;        /* has a nodeSelector or required node affinity */
    const char *owner_uid;  /* controller ownerReference's uid, or NULL */
    const json_t *labels;   /* borrowed from obj */
    const json_t *affinity; /* spec.affinity, borrowed from obj */
    const json_t *tolerations; /* spec.tolerations, borrowed from obj */
    const json_t *spread;   /* spec.topologySpreadConstraints, borrowed (may be NULL) */

    /* cache state */
    struct sched_node *node; /* node it counts on, or NULL */
    size_t node_idx;         /* index in node->pods */
    bool assumed;            /* counted from our bind until the informer shows it */
    bool nominated;          /* a preemptor's reservation (status.nominatedNodeName) */
    uint64_t assumed_until;  /* clock ms: forget an unconfirmed assumption then */
    size_t anti_idx;         /* index in the cache's anti-affinity list */
} sched_pod;

/* Resolves spec.priorityClassName: 0 with *value set, or ORC_ENOENT. With
 * name NULL: the globalDefault class's value, or ORC_ENOENT. */
typedef int (*sched_prio_fn)(void *arg, const char *name, int32_t *value);

/* Parses a pod: requests (max of the containers' sum and each init
 * container, as Kubernetes counts them), host ports, priority (spec.priority,
 * else the class through prio (may be NULL), else 0), owner. 0, ORC_EINVAL
 * (not a pod with a name), ORC_ENOMEM. *out owned by the caller. */
int sched_pod_parse(const json_t *obj, sched_prio_fn prio, void *prio_arg, sched_pod **out);
void sched_pod_free(sched_pod *p);

/* Whether this scheduler should place the pod: no nodeName, schedulerName
 * empty or "default-scheduler", not terminating, not finished. */
bool sched_pod_wanted(const json_t *pod);

/* The pod's priority as sched_pod_parse reads it (prio may be NULL): the
 * scheduling queue hands out higher priorities first. */
int32_t sched_pod_priority(const json_t *pod, sched_prio_fn prio, void *prio_arg);

/* spec.schedulingGates is not empty: the pod waits, PodScheduled=False
 * reason SchedulingGated, until an update removes the last gate. */
bool sched_pod_gated(const json_t *pod);
#define SCHED_GATED_MSG "Scheduling is blocked due to non-empty scheduling gates"

/* ---- nodes and the cache ---- */

typedef struct sched_node {
    struct orc_hnode hnode;  /* in the cache's nodes_by_name (key: name) */
    json_t *obj;             /* own reference */
    const char *name;        /* == name_buf */
    char *name_buf;          /* owned */
    /* obj NULL: a placeholder for pods bound to a node not (or no longer)
     * known; never chosen, not counted in "0/N nodes". */
    const json_t *labels;    /* borrowed from obj */
    const json_t *taints;    /* spec.taints, borrowed (may be NULL) */
    bool ready;              /* Ready condition True */
    bool ready_unknown;      /* Ready condition Unknown (or missing) */
    bool unschedulable;      /* spec.unschedulable (cordoned) */
    bool prefer_taints;      /* has PreferNoSchedule taints */
    int64_t alloc_cpu, alloc_mem, alloc_pods;
    int64_t req_cpu, req_mem;       /* sums of the pods counted here */
    int64_t nz_cpu, nz_mem;         /* same with non-zero defaults */
    sched_pod **pods;               /* counted here (not owned) */
    size_t npods, cap;
    size_t idx;                     /* index in the cache's node array */
} sched_node;

struct sched_spread_index;

typedef struct sched_cache {
    struct orc_hmap nodes_by_name;
    struct orc_hmap pods_by_key;    /* pods counted on a node, owned */
    sched_node **nodes;             /* all nodes, owned */
    size_t nnodes, ncap;
    sched_pod **anti;               /* counted pods with required anti-affinity */
    size_t nanti, acap;
    unsigned assume_ttl_ms;         /* how long an unconfirmed bind counts; 30000 */
    /* per-node counts of the pods each topology spread selector in use
     * picks (owned; a memo decisions extend) */
    struct sched_spread_index *spread;
    uint64_t spread_swept_ms;       /* clock ms of the last sweep of unused counters */
} sched_cache;

/* 0 or ORC_ENOMEM. */
int sched_cache_init(sched_cache *c);
void sched_cache_fini(sched_cache *c);

/* Adds or replaces a node from its object. 0, ORC_EINVAL, ORC_ENOMEM. */
int sched_cache_set_node(sched_cache *c, const json_t *node);
void sched_cache_remove_node(sched_cache *c, const char *name);
sched_node *sched_cache_node(const sched_cache *c, const char *name);

/* The informer's view of a pod: counted on spec.nodeName when bound and not
 * finished (an assumption of it is confirmed), dropped otherwise (unless
 * assumed or nominated and the object is still unbound). 0 or ORC_E*. */
int sched_cache_observe_pod(sched_cache *c, const json_t *pod, sched_prio_fn prio, void *arg);
/* The pod was deleted. */
void sched_cache_pod_gone(sched_cache *c, const char *ns, const char *name);

/* Counts `p` (ownership passes to the cache, also on error) on `node` from
 * now until confirmed by the informer, forgotten, or now_ms + assume_ttl.
 * nominated: a preemptor's reservation rather than a bind in flight. */
int sched_cache_assume(sched_cache *c, sched_pod *p, sched_node *node, bool nominated,
                       uint64_t now_ms);
/* Drops an assumption (the bind failed). A confirmed pod stays. */
void sched_cache_forget(sched_cache *c, const char *key);
/* The cached pod with this key, or NULL. */
sched_pod *sched_cache_pod(const sched_cache *c, const char *key);
/* Drops assumptions past their deadline; returns how many. Every few
 * minutes also drops the spread counters no decision used meanwhile. */
size_t sched_cache_expire(sched_cache *c, uint64_t now_ms);

/* ---- one decision ---- */

/* Why a node was refused; one pod may get several (cpu and memory). The
 * order is Kubernetes' filter order. */
enum sched_reason {
    SR_UNSCHEDULABLE,     /* node(s) were unschedulable */
    SR_TAINT,             /* node(s) had untolerated taint {k: v} */
    SR_NODE_AFFINITY,     /* node(s) didn't match Pod's node affinity/selector */
    SR_PORTS,             /* node(s) didn't have free ports for the requested pod ports */
    SR_CPU,               /* Insufficient cpu */
    SR_MEMORY,            /* Insufficient memory */
    SR_PODS,              /* Too many pods */
    SR_VOLUME,            /* node(s) had volume node affinity conflict */
    SR_SPREAD_LABEL,      /* node(s) didn't match pod topology spread constraints (missing required label) */
    SR_SPREAD,            /* node(s) didn't match pod topology spread constraints */
    SR_POD_AFFINITY,      /* node(s) didn't match pod affinity rules */
    SR_POD_ANTI_AFFINITY, /* node(s) didn't match pod anti-affinity rules */
    SR_EXISTING_ANTI,     /* node(s) didn't satisfy existing pods anti-affinity rules */
    SR_COUNT
};

struct sched_weights {
    unsigned cpu, memory, spread; /* 0 = 1; spread: the owner tie-breaker */
};

/* Volume node affinity of the pod's bound PersistentVolumes: the
 * nodeAffinity.required object of each, borrowed. */
struct sched_volumes {
    const json_t **required;
    size_t n;
};

struct sched_result {
    sched_node *node;          /* chosen node, or NULL when none fits */
    int64_t score;
    /* when none fits: */
    unsigned counts[SR_COUNT]; /* nodes refused for each reason */
    json_t *taints_seen;       /* {"{k: v}": count} of untolerated taints (owned) */
    size_t nnodes;
    bool resolvable;           /* some node failed only on resources/ports/
                                  pod affinity: preemption may help */
};

/* Filters and scores every node of the cache for `p` (the pod itself must
 * not be counted in the cache, except as a nomination, which is ignored).
 * vols may be NULL. Fills *res (release with sched_result_fini). 0 or
 * ORC_ENOMEM. */
int sched_schedule(const sched_cache *c, const sched_pod *p, const struct sched_volumes *vols,
                   const struct sched_weights *w, struct sched_result *res);
void sched_result_fini(struct sched_result *res);

/* Kubernetes' FitError text: "0/3 nodes are available: 2 Insufficient
 * memory, 1 node(s) had untolerated taint {k: v}." Malloc'd, or NULL. */
char *sched_result_message(const struct sched_result *res);

/* Filters of one node (exposed for tests): sets reasons[] for each failure
 * and returns how many failed. ax and sx are the pod's inter-pod affinity
 * and topology spread precomputations (scheduler/sched_int.h; NULL: not
 * checked). taint_out gets "{k: v}" of the first untolerated taint (at
 * least 512 bytes), when given. */
struct sched_affinity_ctx;
struct sched_spread_ctx;
unsigned sched_filter_node(const sched_cache *c, const sched_node *n, const sched_pod *p,
                           const struct sched_volumes *vols, const struct sched_affinity_ctx *ax,
                           const struct sched_spread_ctx *sx, bool reasons[SR_COUNT],
                           char *taint_out);

/* Score of a node that passed the filters (higher is better). */
int64_t sched_score_node(const sched_node *n, const sched_pod *p, const struct sched_weights *w);

/* Whether tolerations (array, may be NULL) tolerate the taint (one of them
 * does, by controllers/nodematch's ctl_tolerates). */
bool sched_tolerates(const json_t *tolerations, const json_t *taint);

/* ---- preemption ---- */

struct sched_preemption {
    sched_node *node;  /* NULL: no node where evicting lower-priority pods helps */
    sched_pod **victims; /* cached pods to delete (not owned; array owned) */
    size_t nvictims;
};

/* When `p` fits nowhere: the node where deleting pods of lower priority than
 * p makes room, with the fewest of them by Kubernetes' order (lowest highest
 * victim priority, then the smallest sum of priorities, then fewest victims).
 * Victims are reprieved highest priority first while the pod still fits.
 * Lower-priority pods already terminating (and lower preemptors'
 * reservations) count as gone and are never victims: a node where they
 * free enough comes back with no victims. 0 or ORC_ENOMEM; release with
 * sched_preemption_fini. */
int sched_preempt(const sched_cache *c, const sched_pod *p, const struct sched_result *failed,
                  struct sched_preemption *out);
void sched_preemption_fini(struct sched_preemption *pr);

#endif
