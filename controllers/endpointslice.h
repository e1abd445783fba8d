/* endpointslice.h — the EndpointSlice controller (Kubernetes'
 * endpointslice-controller, also keeping the legacy core/v1 Endpoints as
 * the endpoints-controller does): for each Service with a selector, the
 * addresses of the pods it selects, in slices of at most
 * EPS_MAX_PER_SLICE endpoints labelled kubernetes.io/service-name and
 * endpointslice.kubernetes.io/managed-by, owned by the Service.
 *
 * The decisions are pure functions of the cached objects (json in, new
 * references out; NULL on ENOMEM), tested without a server. */
#ifndef ORC_CONTROLLERS_ENDPOINTSLICE_H
#define ORC_CONTROLLERS_ENDPOINTSLICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "controllers/ctl.h"

#define EPS_MAX_PER_SLICE 100
#define EPS_LABEL_SERVICE "kubernetes.io/service-name"
#define EPS_LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define EPS_MANAGER "endpointslice-controller.k8s.io"

extern const struct ctl_controller ctl_endpointslice;

/* The Service's spec.selector (a map) selects these labels; a Service
 * without a selector selects nothing. */
bool eps_selects(const json_t *svc, const json_t *pod);

/* The pod's endpoint for svc: addresses [podIP], conditions ready/serving/
 * terminating as Kubernetes sets them, nodeName, targetRef, hostname; NULL
 * when the pod is not listed (no IP yet, Succeeded or Failed). */
json_t *eps_endpoint(const json_t *svc, const json_t *pod);

/* The Service's ports resolved for the pod ([{name, port, protocol}]):
 * a named targetPort is looked up among the pod's container ports; a port
 * the pod does not have is left out. */
json_t *eps_pod_ports(const json_t *svc, const json_t *pod);

/* What the slices should hold: an array of {"ports": [...], "endpoints":
 * [...]}, pods grouped by their resolved ports, each group cut into chunks
 * of at most `max` endpoints, in a stable order (pods by name). `pods`: the
 * pods of the Service's namespace (an array, any order; the selector is
 * applied here). No pod listed: one empty placeholder chunk. */
json_t *eps_desired(const json_t *svc, const json_t *pods, size_t max);

/* The writes that turn `existing` (the Service's slices, an array) into
 * `desired`: {"create": [slice...], "update": [slice...], "delete":
 * [name...]}. Slices already right are left alone; an update keeps the
 * slice's metadata (resourceVersion). */
json_t *eps_plan(const json_t *svc, const json_t *desired, const json_t *existing);

/* A new EndpointSlice for svc holding `chunk` (generateName "<svc>-"). */
json_t *eps_slice_new(const json_t *svc, const json_t *chunk);

/* The legacy Endpoints' subsets: per port set, ready pods in addresses and
 * the others (not terminating) in notReadyAddresses. */
json_t *eps_subsets(const json_t *svc, const json_t *pods);

#endif
