/* pvc.h — the volume binder's decisions (controllers/pvc_bind.c), apart from
 * its wiring (controllers/pvc.c): which PersistentVolume a claim binds,
 * the volume the local-path provisioner makes for a claim, the phases both
 * report. Internal to controllers/pvc*.c, the agent and their tests; the
 * names of annotations are Kubernetes' (the scheduler sets selected-node).
 *
 * Objects are borrowed during a call; json_t * results are new references
 * (NULL on allocation failure). */
#ifndef ORC_CONTROLLERS_PVC_H
#define ORC_CONTROLLERS_PVC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/storageclass.h"

#define PVC_ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define PVC_ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"
#define PVC_ANN_BIND_COMPLETED "pv.kubernetes.io/bind-completed"
#define PVC_ANN_BOUND_BY_CONTROLLER "pv.kubernetes.io/bound-by-controller"
#define PVC_ANN_STORAGE_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define PVC_ANN_DEFAULT_CLASS ORC_SC_ANN_DEFAULT
/* on a Node: where its agent keeps local volumes (DATA/volumes) */
#define PVC_ANN_VOLUMES_DIR "orc.dev/local-volumes-dir"
#define PVC_LOCAL_PROVISIONER ORC_SC_PROVISIONER
#define PVC_DEFAULT_CLASS ORC_SC_DEFAULT
#define PVC_DEFAULT_VOLUMES_DIR "/var/lib/orc-agent/volumes"

/* The controller, for the manager's table (controllers/pvc.c). */
struct ctl_controller;
extern const struct ctl_controller ctl_pvc;

/* The default StorageClass among n (annotation is-default-class "true"; the
 * newest by creationTimestamp, then name, when several), or NULL. */
const json_t *pvc_default_class(const json_t *const *classes, size_t n);

/* The class a claim asks for: spec.storageClassName when set (even ""),
 * else the default class's name, else "". Borrowed. */
const char *pvc_class_of(const json_t *claim, const json_t *default_class);

/* Whether `pv` can satisfy `claim` of class `cls`: not claimed by another
 * claim (a claimRef naming this claim pre-binds it), Available or new,
 * same class and volumeMode, every access mode asked for, capacity at least
 * the request, and the claim's selector matching the PV's labels. */
bool pvc_pv_fits(const json_t *claim, const json_t *pv, const char *cls);

/* The PV to bind `claim` to among n: one pre-bound to it by claimRef first,
 * else the smallest that fits. NULL when none. */
const json_t *pvc_pick(const json_t *claim, const json_t *const *pvs, size_t n, const char *cls);

/* Whether pv's claimRef names claim (namespace, name, and uid when set). */
bool pvc_claimref_is(const json_t *pv, const json_t *claim);

/* The PV the local-path provisioner makes for `claim` on `node`:
 * "pvc-<claim uid>", hostPath <volumes_dir>/pvc-<uid>_<ns>_<name>
 * (DirectoryOrCreate), nodeAffinity kubernetes.io/hostname In [node],
 * capacity the request, the claim's access modes, the class's reclaim
 * policy (Delete when unset), claimRef to the claim. */
json_t *pvc_provision(const json_t *claim, const json_t *cls, const char *node,
                      const char *volumes_dir);

/* The phase a PV should show given the claim its claimRef names (NULL when
 * that claim is gone): Available without claimRef, Bound while the claim
 * (same uid) exists, Released after. */
const char *pvc_pv_phase(const json_t *pv, const json_t *claim);

/* The status a claim should show: Bound to pv (capacity, accessModes) when
 * pv is non-NULL, else Pending. */
json_t *pvc_claim_status(const json_t *pv);

/* The local directory of a volume: spec.hostPath.path or spec.local.path,
 * or NULL. Borrowed. */
const char *pvc_pv_path(const json_t *pv);

#endif
