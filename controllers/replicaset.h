/* replicaset.h — the ReplicaSet controller's decisions, pure functions of
 * the cached objects and a wall time (Unix seconds), shared with its unit
 * tests. The controller itself is `ctl_replicaset` (replicaset.c). */
#ifndef ORC_CONTROLLERS_REPLICASET_H
#define ORC_CONTROLLERS_REPLICASET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/ctl.h"
#include "lib/labels.h"

extern const struct ctl_controller ctl_replicaset;

/* Most creates or deletes issued for one ReplicaSet in one sync (Kubernetes'
 * burstReplicas). */
#define RS_BURST 500

/* Sorts pods (borrowed) so the ones to delete first come first, as
 * Kubernetes' ActivePodsWithRanks: unscheduled before scheduled; Pending
 * before Unknown before Running; not ready before ready; more pods of the
 * set on the same node first; ready for less time first; more restarts
 * first; newer before older. */
void rs_sort_for_deletion(const json_t **pods, size_t n);

/* The size of the next slow-start batch: 1 first, then twice the last,
 * never more than what remains. */
size_t rs_next_batch(size_t remaining, size_t last);

/* The status for rs given its active pods (those it owns, borrowed) at now_s:
 * replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
 * (minReadySeconds), observedGeneration, and the ReplicaFailure condition:
 * set with reason FailedCreate/FailedDelete and `manage_err` as message
 * when given, removed when not. New reference; NULL on ENOMEM. */
json_t *rs_status(const json_t *rs, const json_t **pods, size_t n, int64_t now_s,
                  const char *manage_err, bool creating);

/* When pods are ready but some not yet available (minReadySeconds), the
 * milliseconds until the first becomes available, else 0. */
int64_t rs_available_after_ms(const json_t *rs, const json_t **pods, size_t n, int64_t now_s);

/* A pod to create for rs: the template's metadata and spec, generateName
 * "<rs>-", rs's namespace, a controller ownerReference. New reference;
 * NULL on ENOMEM or a missing name/uid. */
json_t *rs_new_pod(const json_t *rs);

/* The selector of rs (spec.selector). 0 or ORC_EINVAL with msg. */
int rs_selector(const json_t *rs, orc_selector **out, char *msg, size_t n);

#endif
