/* disruption.h — the disruption controller: keeps each
 * PodDisruptionBudget's status (expected, healthy and desired pods, the
 * disruptions allowed, the DisruptionAllowed condition) true to the pods
 * it selects, so `kubectl get pdb` shows ALLOWED DISRUPTIONS as on
 * Kubernetes. Evictions count the budget themselves from the stored pods
 * (apiserver/evict.c); both count through lib/pdb.c. */
#ifndef ORC_CONTROLLERS_DISRUPTION_H
#define ORC_CONTROLLERS_DISRUPTION_H

#include <jansson.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_disruption;

/* The status `pdb` should have given the pods of its namespace (`pods`, n,
 * borrowed) at wall time now_s (Unix seconds): a new object, or NULL when
 * the current status already says it (or on ENOMEM). */
json_t *disruption_status(const json_t *pdb, const json_t *const *pods, size_t n, int64_t now_s);

#endif
