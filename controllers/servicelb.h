/* servicelb.h — the service load-balancer controller, as k3s's ServiceLB on
 * bare metal: every node's service proxy answers a LoadBalancer Service on
 * the node's addresses, so its status.loadBalancer.ingress lists the Ready
 * nodes' addresses (ExternalIP when a node has one, else InternalIP), and
 * `kubectl get svc` shows them as EXTERNAL-IP. Services with a
 * spec.loadBalancerClass belong to another implementation and are left
 * alone; a Service no longer of type LoadBalancer has its ingress cleared. */
#ifndef ORC_CONTROLLERS_SERVICELB_H
#define ORC_CONTROLLERS_SERVICELB_H

#include <jansson.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_servicelb;

/* The load-balancer addresses of `nodes` (n, borrowed): [{"ip": addr}]
 * for each Ready node, sorted and without repeats; a new array, NULL on
 * ENOMEM. */
json_t *servicelb_node_ingress(const json_t *const *nodes, size_t n);

/* The status.loadBalancer `svc` should have, given the ingress list from
 * servicelb_node_ingress (borrowed): a new object, or NULL when the
 * current status already says it, the Service is another implementation's,
 * or on ENOMEM. */
json_t *servicelb_status(const json_t *svc, const json_t *ingress);

#endif
