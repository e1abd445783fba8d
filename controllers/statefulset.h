/* statefulset.h — the StatefulSet controller's decisions, kept apart from its
 * wiring (controllers/statefulset.c) so tests drive them with plain objects
 * and a wall time: which pod to create or delete next, the objects it creates
 * (pods, claims, ControllerRevisions) and the status it reports. Internal to
 * controllers/statefulset*.c and their tests.
 *
 * Objects are borrowed during a call; functions returning json_t * return a
 * new reference (NULL on allocation failure). */
#ifndef ORC_CONTROLLERS_STATEFULSET_H
#define ORC_CONTROLLERS_STATEFULSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_LABEL_POD_NAME "statefulset.kubernetes.io/pod-name"
#define STS_LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define STS_LABEL_REVISION "controller-revision-hash"
#define STS_LABEL_HASH "controller.kubernetes.io/hash"
#define STS_NAME_MAX 254

/* The controller, for the manager's table (controllers/statefulset.c). */
struct ctl_controller;
extern const struct ctl_controller ctl_statefulset;

/* ---- pods (statefulset_pod.c) ---- */

/* The ordinal of a pod named "<set>-<n>", or -1 when the name is not one. */
int sts_ordinal(const char *set, const char *pod_name);
/* metadata.deletionTimestamp is set. */
bool sts_pod_terminating(const json_t *pod);
/* status.phase is Failed or Succeeded: the pod will not run again. */
bool sts_pod_finished(const json_t *pod);
/* Running with condition Ready=True. */
bool sts_pod_ready(const json_t *pod);
/* Ready for at least min_ready_s seconds at wall time now_ms; when ready but
 * not yet available, *wait_ms (may be NULL) is the time left. */
bool sts_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now_ms, int64_t *wait_ms);
/* The pod's controller-revision-hash label, or "". */
const char *sts_pod_revision(const json_t *pod);

/* "<template>-<set>-<ordinal>" into out (STS_NAME_MAX bytes). */
void sts_claim_name(const char *tmpl, const char *set, int ordinal, char *out);
/* The PVC of volumeClaimTemplate `vct` for `ordinal`: labels of the template
 * and of the set's selector; owned by the set only when the retention policy
 * says whenDeleted: Delete (Retain, the default, leaves it unowned). */
json_t *sts_claim_new(const json_t *set, const json_t *vct, int ordinal);
/* Pod `ordinal` from `tmpl` (a pod template) at revision `revision`: name,
 * hostname, subdomain = serviceName, the identity labels, the controller
 * ownerReference, and a persistentVolumeClaim volume per claim template. */
json_t *sts_pod_new(const json_t *set, const json_t *tmpl, const char *revision, int ordinal);

/* ---- revisions (statefulset_rev.c) ---- */

/* The hash naming the revision of `tmpl` (Kubernetes' shape: FNV-32a of the
 * revision's data, its decimal digits in a vowel-free alphabet), bumped by
 * collision_count. out: 16 bytes. 0 or ORC_ENOMEM. */
int sts_revision_hash(const json_t *tmpl, uint32_t collision_count, char out[16]);
/* The apps/v1 ControllerRevision "<set>-<hash>" holding spec.template,
 * revision `number`, owned by the set. */
json_t *sts_revision_new(const json_t *set, const char *hash, int64_t number);
/* The pod template a ControllerRevision holds (borrowed), or NULL. */
const json_t *sts_revision_template(const json_t *rev);
/* Which of `revs` (owned by the set, n of them) to delete so that at most
 * `limit` are kept besides the live ones (current, update, and any a pod
 * still uses): the oldest by .revision first. Writes up to n indexes into
 * out, returns how many. */
size_t sts_revision_prune(const json_t *const *revs, size_t n, const json_t *const *pods,
                          size_t n_pods, const char *current, const char *update, int64_t limit,
                          size_t *out);

/* ---- the plan (statefulset_plan.c) ---- */

enum sts_op_kind { STS_CREATE, STS_DELETE };

struct sts_op {
    enum sts_op_kind kind;
    int ordinal;
    const json_t *pod; /* STS_DELETE: the pod (borrowed from the input) */
    bool update;       /* STS_CREATE: at the update revision (else current) */
};

struct sts_counts {
    int64_t replicas, ready, available, current, updated;
};

struct sts_input {
    const json_t *set;
    const json_t *const *pods; /* the pods the set owns */
    size_t n_pods;
    const char *current_rev;   /* revision names ("<set>-<hash>") */
    const char *update_rev;
    int64_t now_ms;            /* wall time */
};

struct sts_plan {
    struct sts_op *ops;
    size_t n_ops;
    struct sts_counts counts;
    bool rollout_done;  /* every replica at the update revision and ready:
                           the update revision becomes the current one */
    int64_t requeue_ms; /* > 0: look again then (minReadySeconds) */
};

/* One step toward `in->set`'s spec, as Kubernetes' StatefulSet controller
 * takes it: missing ordinals created (in order and one at a time under
 * OrderedReady, each waiting for the one before to be Running and Ready; at
 * once under Parallel), failed pods deleted to be recreated, ordinals past
 * spec.replicas deleted from the highest, and under RollingUpdate the
 * highest ordinal >= partition not at the update revision deleted (to come
 * back updated) once all are healthy. 0 or ORC_ENOMEM. */
int sts_plan_make(const struct sts_input *in, struct sts_plan *out);
void sts_plan_free(struct sts_plan *p);

/* The status the set should report: counts, revisions, observedGeneration,
 * collisionCount kept. New reference. */
json_t *sts_status_new(const json_t *set, const struct sts_plan *p, const char *current_rev,
                       const char *update_rev);

#endif
