/* pdb.h — PodDisruptionBudget arithmetic, shared by the eviction
 * subresource (apiserver/evict.c) and the disruption controller
 * (controllers/disruption.c), so that both count a budget alike. */
#ifndef ORC_PDB_H
#define ORC_PDB_H

#include <jansson.h>
#include <stdbool.h>

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

#endif
