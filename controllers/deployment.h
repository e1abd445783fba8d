/* deployment.h — the Deployment controller's decisions, pure functions of a
 * Deployment, the ReplicaSets it owns and a wall time (Unix seconds), shared
 * with its unit tests. The controller itself is `ctl_deployment`
 * (deployment.c) and only carries out a dep_plan.
 *
 * Kubernetes' pkg/controller/deployment in spirit: ReplicaSets named
 * "<deploy>-<pod-template-hash>", revisions in annotations, RollingUpdate
 * and Recreate, proportional scaling, history cleanup, Progressing and
 * Available conditions. */
#ifndef ORC_CONTROLLERS_DEPLOYMENT_H
#define ORC_CONTROLLERS_DEPLOYMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_deployment;

#define DEP_HASH_LABEL "pod-template-hash"
#define DEP_REVISION "deployment.kubernetes.io/revision"
#define DEP_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define DEP_DESIRED "deployment.kubernetes.io/desired-replicas"
#define DEP_MAX "deployment.kubernetes.io/max-replicas"
#define DEP_HASH_LEN 16

/* ---- helpers (deployment_util.c) ---- */

/* The pod-template-hash of a template (its canonical JSON, FNV-1a, then the
 * collision count) in Kubernetes' safe alphabet. */
void dep_template_hash(const json_t *tmpl, int64_t collision_count, char out[DEP_HASH_LEN]);
/* Templates equal once the pod-template-hash label is ignored, absent and
 * empty fields alike (orc_json_semantic_equal, as Kubernetes compares). */
bool dep_templates_equal(const json_t *a, const json_t *b);
/* spec.replicas (default 1). */
int64_t dep_replicas(const json_t *d);
/* Resolved maxSurge and maxUnavailable (RollingUpdate; Recreate gives 0, 0):
 * surge rounds up, unavailable down, both 0 makes unavailable 1. */
void dep_fenceposts(const json_t *d, int64_t *surge, int64_t *unavailable);
/* maxUnavailable capped at replicas (0 for Recreate or 0 replicas). */
int64_t dep_max_unavailable(const json_t *d);
bool dep_is_recreate(const json_t *d);
/* Annotations a Deployment keeps to itself (last-applied, revision,
 * desired/max replicas ...): not copied to its ReplicaSets, nor back by a
 * rollback. */
bool dep_annotation_skipped(const char *key);
/* The revision annotation of an object, 0 when absent or malformed. */
int64_t dep_revision_of(const json_t *obj);
/* A ReplicaSet for d's current template: name "<d>-<hash>", the hash label
 * in selector and template, d's annotations (less the ones Kubernetes
 * skips), revision, desired and max replicas, a controller ownerReference.
 * New reference; NULL on ENOMEM. */
json_t *dep_new_rs(const json_t *d, int64_t collision_count, int64_t revision, int64_t replicas);

/* ---- planning (deployment_rollout.c) ---- */

struct dep_rs {
    const json_t *obj; /* borrowed cached ReplicaSet */
    int64_t replicas;  /* spec.replicas: what the plan wants */
    int64_t status_replicas, ready, available;
    int64_t revision, created;
    bool deleting;
    /* Outputs of dep_plan: */
    json_t *patch; /* merge patch (replicas, annotations) or NULL */
    bool remove;   /* delete it (history cleanup) */
    bool scaled;   /* replicas changed: event ScalingReplicaSet */
    /* Input: pods of the set not yet gone (terminating ones too), or -1 to
     * go by status.replicas (Recreate waits for them). */
    int64_t pods;
    int64_t old_replicas;
};

struct dep_plan {
    json_t *create; /* a new ReplicaSet to create, or NULL */
    int64_t create_replicas;
    json_t *dep_patch;  /* merge patch of the Deployment (revision), or NULL */
    json_t *status;     /* the new status when it changed, or NULL */
    int64_t requeue_ms; /* look again then (progress deadline, minReadySeconds) */
};

/* Fills rs[i] from the cached ReplicaSet objects. */
void dep_rs_init(struct dep_rs *rs, const json_t *obj);
/* Plans one sync of d over the n ReplicaSets it owns (rs is modified: the
 * plan's patches and deletions are in it). 0, ORC_ENOMEM. */
int dep_plan(const json_t *d, struct dep_rs *rs, size_t n, int64_t now_s, struct dep_plan *p);
/* Releases what dep_plan allocated (the plan's and the rs' json). */
void dep_plan_free(struct dep_plan *p, struct dep_rs *rs, size_t n);

/* ---- what kubectl and orctl rollout status print ---- */

/* kubectl's rollout status line for d ("Waiting for deployment \"web\"
 * rollout to finish: 1 out of 3 new replicas have been updated...\n").
 * Returns 1 when rolled out, 0 when still waiting, ORC_ETIMEDOUT when
 * the progress deadline was exceeded (the message says so). */
int dep_rollout_status(const json_t *d, char *msg, size_t n);

#endif
