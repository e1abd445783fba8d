/* pdb.h — PodDisruptionBudget arithmetic, shared by the eviction
 * subresource (apiserver/evict.c) and the disruption controller
 * (controllers/disruption.c), so that both count a budget alike. */
#ifndef ORC_PDB_H
#define ORC_PDB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* policy/v1: a null selector selects nothing, an empty one every pod; an
 * invalid one nothing. */
bool orc_pdb_selects(const json_t *pdb, const json_t *pod);
/* A pod a budget expects: not Succeeded or Failed. */
bool orc_pdb_pod_expected(const json_t *pod);
/* A pod a budget counts as healthy: expected, Ready and not being deleted. */
bool orc_pdb_pod_healthy(const json_t *pod);
/* How many healthy pods the budget wants among `expected`: the replicas
 * less maxUnavailable, or minAvailable (a percentage of `expected` rounds
 * up, as Kubernetes does); 0 when neither is set. */
long long orc_pdb_desired_healthy(const json_t *pdb, long long expected);

/* How long an eviction's mark in status.disruptedPods keeps a pod out of
 * the healthy count while its deletion is on its way to the disruption
 * controller's cache (Kubernetes' DeletionTimeout). */
#define ORC_PDB_DISRUPTED_TTL_S 120
/* Marks `pod_name` in status.disruptedPods (an object the caller owns) at
 * now_s. 0 or ORC_ENOMEM. */
int orc_pdb_mark_disrupted(json_t *status, const char *pod_name, int64_t now_s);
/* True while the budget's mark for the pod holds: named in
 * status.disruptedPods less than the TTL before now_s and not yet being
 * deleted. */
bool orc_pdb_pod_disrupted(const json_t *pdb, const json_t *pod, int64_t now_s);

#endif
