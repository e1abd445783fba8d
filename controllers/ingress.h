/* ingress.h — the ingress status controller: writes each orc-class
 * Ingress's status.loadBalancer.ingress as the InternalIPs of the Ready
 * nodes whose agent runs the ingress proxy (the Node annotation
 * orc.dev/ingress-proxy, set by agent/ingress.c), as k3s's ServiceLB and
 * Traefik report the node addresses. Runs on the Raft leader. */
#ifndef ORC_CONTROLLERS_INGRESS_H
#define ORC_CONTROLLERS_INGRESS_H

#include <jansson.h>
#include <stddef.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_ingress;

/* The status `ing` should have given the Nodes (borrowed, n of them): a new
 * object, or NULL when its status already says it (or on ENOMEM). The
 * addresses are sorted and distinct, so the answer is stable. */
json_t *ingress_lb_status(const json_t *ing, const json_t *const *nodes, size_t n);

#endif
