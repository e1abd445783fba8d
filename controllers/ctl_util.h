/* ctl_util.h — small decisions every workload controller shares: pod
 * readiness and availability, controller ownerReferences, conditions in a
 * status, int-or-percent fields, object keys. Pure functions of the objects
 * (and a wall time in Unix seconds where time matters). */
#ifndef ORC_CONTROLLERS_CTL_UTIL_H
#define ORC_CONTROLLERS_CTL_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/informer.h"
#include "lib/buf.h"

/* ---- pods ---- */

/* Not Succeeded, not Failed, not being deleted (Kubernetes' IsPodActive). */
bool ctl_pod_active(const json_t *pod);
/* The Ready condition is True. */
bool ctl_pod_ready(const json_t *pod);
/* Unix seconds the Ready condition last changed, or -1 when unknown. */
int64_t ctl_pod_ready_since(const json_t *pod);
/* Ready for at least min_ready_s seconds at now_s (IsPodAvailable). */
bool ctl_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now_s);
/* Sum of the containers' restartCount. */
int64_t ctl_pod_restarts(const json_t *pod);

/* ---- metadata ---- */

/* Unix seconds of metadata.creationTimestamp, or 0 when absent. */
int64_t ctl_created(const json_t *obj);
/* The ownerReference with controller: true, or NULL. Borrowed. */
const json_t *ctl_controller_ref(const json_t *obj);
/* The controller ownerReference's uid, or NULL. Borrowed. */
const char *ctl_controller_uid(const json_t *obj);
/* A new ownerReference naming `owner` (apiVersion and kind given, as the
 * cache's objects may lack them), controller and blockOwnerDeletion true.
 * New reference, NULL on ENOMEM. */
json_t *ctl_owner_ref(const json_t *owner, const char *api_version, const char *kind);
/* "ns/name" (or "name" when ns is empty) into out. 0, ORC_ENOMEM. */
int ctl_key_of(const json_t *obj, struct orc_buf *out);
/* Splits "ns/name" into ns (may be "") and name, copying into the buffers.
 * 0, ORC_EINVAL when a part does not fit. */
int ctl_key_split(const char *key, char *ns, size_t ns_n, char *name, size_t name_n);

/* ---- adoption and release (Kubernetes' ControllerRefManager) ---- */

enum ctl_claim {
    CTL_CLAIM_IGNORE,  /* another controller's, or nothing to do */
    CTL_CLAIM_KEEP,    /* ours and selected */
    CTL_CLAIM_ADOPT,   /* an orphan the owner selects: patch a controller ref on */
    CTL_CLAIM_RELEASE, /* ours but no longer selected: patch our ref off */
};
/* ClaimObject: what `owner` does with `obj` (a pod, a ReplicaSet) given
 * whether its selector `matches` obj's labels. Nothing is adopted or
 * released while either is being deleted (deletionTimestamp); an owner being
 * deleted keeps what it has. */
enum ctl_claim ctl_claim_decide(const json_t *owner, const json_t *obj, bool matches);
/* The merge patch adopting (a controller ownerReference to `owner`,
 * apiVersion and kind given, appended) or releasing (owner's references
 * removed) obj, pinned to obj's uid and resourceVersion so a changed object
 * is looked at again. `finalizer` (may be NULL) is added on adoption and
 * removed on release (the Job's tracking finalizer). New reference; NULL on
 * ENOMEM. */
json_t *ctl_owner_patch(const json_t *obj, const json_t *owner, const char *api_version,
                        const char *kind, bool adopt, const char *finalizer);

/* For an orphan (no controller ownerReference, not being deleted): calls
 * fn(arg, owner) for each object of `owners` (an informer with the
 * "namespace" index) in obj's namespace whose non-empty spec.selector
 * matches obj's labels — the owners that may adopt it (their keys go on a
 * queue). */
void ctl_each_adopter(informer *owners, const json_t *obj,
                      void (*fn)(void *arg, const json_t *owner), void *arg);

/* ---- ControllerRevisions ---- */

/* Kubernetes' hash collision: a ControllerRevision named after the
 * template hash exists (`existing`, NULL when none) but is not owner_uid's
 * or holds another template than `tmpl` (a "$patch" key in the stored
 * template ignored). The owner then bumps status.collisionCount, which
 * changes the hash. */
bool ctl_revision_collides(const json_t *existing, const char *owner_uid, const json_t *tmpl);

/* ---- status conditions ---- */

/* The condition of `type` in status.conditions, or NULL. Borrowed. */
json_t *ctl_cond_get(const json_t *status, const char *type);
/* Sets condition `type` in status.conditions the way Kubernetes'
 * Set*Condition does: nothing changes when status and reason are the same;
 * lastTransitionTime is kept when only the reason or message changed.
 * `with_update` adds lastUpdateTime (Deployments). 0, ORC_ENOMEM. */
int ctl_cond_set(json_t *status, const char *type, const char *cstatus, const char *reason,
                 const char *message, int64_t now_s, bool with_update);
/* Removes condition `type`. */
void ctl_cond_del(json_t *status, const char *type);

/* ---- numbers ---- */

/* An IntOrString (42 or "25%") scaled against total, percentages rounded up
 * or down. 0, ORC_EINVAL for a malformed value. NULL gives 0. */
int ctl_intstr_scaled(const json_t *v, int64_t total, bool round_up, int64_t *out);
/* Integer at path, or dflt. */
int64_t ctl_int(const json_t *obj, const char *path, int64_t dflt);

/* Objects gathered from an informer (borrowed from its cache: valid until
 * the loop next runs informer code); free v with free(). */
struct ctl_list {
    const json_t **v;
    size_t n, cap;
    bool fail; /* an append ran out of memory */
};
/* Appends obj (sets l->fail on ENOMEM). */
void ctl_list_push(struct ctl_list *l, const json_t *obj);
/* The same as an informer_each / informer_by_index callback (arg: the list). */
void ctl_list_add(void *list, const json_t *obj);

#endif
