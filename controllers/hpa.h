/* hpa.h — the HorizontalPodAutoscaler controller: scales Deployments,
 * ReplicaSets and StatefulSets on their pods' CPU and memory from
 * metrics.k8s.io, with Kubernetes' algorithm, behaviors, conditions and
 * Events (the arithmetic is hpa_calc.h). */
#ifndef ORC_CONTROLLERS_HPA_H
#define ORC_CONTROLLERS_HPA_H

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_hpa;

#endif
