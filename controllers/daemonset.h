/* daemonset.h — the DaemonSet controller's decisions, kept apart from its
 * wiring so unit tests drive them without a server: which nodes a
 * DaemonSet's pods belong on, the pod it creates for a node, and one
 * reconcile step (pods to create and delete, the status) from the cached
 * DaemonSet, nodes and pods at a wall time. Everything borrowed unless said. */
#ifndef ORC_CONTROLLERS_DAEMONSET_H
#define ORC_CONTROLLERS_DAEMONSET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_daemonset;

#define DS_HASH_LABEL "controller-revision-hash"
#define DS_HASH_LEN 11

/* The template's hash (hex of FNV-1a over its canonical JSON, then
 * status.collisionCount when above 0), the value of the
 * controller-revision-hash label on the pods made from it and the suffix of
 * its ControllerRevision's name. */
void ds_template_hash(const json_t *ds, char out[DS_HASH_LEN]);

/* Kubernetes' nodeShouldRunDaemonPod: should a pod be created on the node
 * (name, node affinity and taints fit, with the DaemonSet tolerations), and
 * may one already there stay (it tolerates every NoExecute taint)? */
void ds_node_fit(const json_t *ds, const json_t *node, bool *should_run, bool *should_continue);

/* Adds to a pod spec the tolerations every DaemonSet pod gets (not-ready and
 * unreachable NoExecute forever; disk, memory and pid pressure and
 * unschedulable NoSchedule; network-unavailable for hostNetwork pods),
 * replacing one with the same key and effect. */
int ds_add_tolerations(json_t *spec);

/* A new pod for `node`: the template with the hash label, the tolerations,
 * a required node affinity on metadata.name=node (the scheduler binds it),
 * and with `bind` also spec.nodeName set (bound at once); owned by the
 * DaemonSet (controller, blockOwnerDeletion). New reference; NULL on ENOMEM. */
json_t *ds_new_pod(const json_t *ds, const char *node, const char *hash, bool bind);

/* An ownerReference to the DaemonSet (controller, blockOwnerDeletion). New
 * reference; NULL on ENOMEM. */
json_t *ds_owner_ref(const json_t *ds);

/* The DaemonSet's history as ControllerRevisions named <ds>-<hash>, holding
 * the template (data.spec.template, "$patch": "replace") and a revision
 * number: the current template's is created, or renumbered past the others
 * when an older template comes back (a rollback); revisions no pod uses
 * beyond spec.revisionHistoryLimit (10) are removed, oldest first.
 * `revisions`: the DaemonSet's own; `pods` its pods. */
struct ds_history {
    json_t *create; /* a ControllerRevision to create, or NULL */
    json_t *update; /* one to write with a new revision number, or NULL */
    json_t *remove; /* array of revisions to delete */
};
int ds_history_plan(const json_t *ds, const json_t *revisions, const json_t *pods,
                    struct ds_history *out);
void ds_history_clear(struct ds_history *h);

/* Kubernetes' hash collision for the DaemonSet's current template: a
 * ControllerRevision named "<ds>-<hash>" (`existing`, the cached one of that
 * name, NULL when none) is another owner's or holds another template. The
 * status to write then (a new reference: status.collisionCount one higher),
 * else NULL. */
json_t *ds_collision_status(const json_t *ds, const json_t *existing);

/* The node a DaemonSet pod is for: spec.nodeName, else its affinity's
 * metadata.name field. Borrowed; NULL when none. */
const char *ds_pod_node(const json_t *pod);

/* Is the pod Ready, and available (Ready for minReadySeconds) at now? When
 * ready but not yet available, *wait_ms (when not NULL) says how long. */
bool ds_pod_ready(const json_t *pod);
bool ds_pod_available(const json_t *pod, int64_t min_ready_ms, int64_t now_ms, int64_t *wait_ms);

struct ds_plan {
    json_t *create;      /* array of node names to create a pod for */
    json_t *remove;      /* array of pods to delete (references) */
    json_t *status;      /* the status to write (full object) */
    int64_t requeue_ms;  /* > 0: look again then (a pod turning available) */
};

/* One step for `ds`: nodes and pods are arrays of the cached Nodes and the
 * DaemonSet's own pods (terminating ones included). Fills *out (cleared
 * first; free with ds_plan_clear). 0 or ORC_ENOMEM. */
int ds_plan(const json_t *ds, const json_t *nodes, const json_t *pods, int64_t now_ms,
            struct ds_plan *out);
void ds_plan_clear(struct ds_plan *p);

#endif
