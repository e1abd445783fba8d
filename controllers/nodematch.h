/* nodematch.h — does a pod fit a node by the node's labels, name and taints:
 * nodeSelector, required node affinity (matchExpressions on labels,
 * matchFields on metadata.name) and taints against tolerations, as
 * Kubernetes' component-helpers define them. Pure functions of the objects
 * (borrowed JSON); used by the DaemonSet and node lifecycle controllers. */
#ifndef ORC_CONTROLLERS_NODEMATCH_H
#define ORC_CONTROLLERS_NODEMATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CTL_TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define CTL_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define CTL_TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"
#define CTL_TAINT_DISK_PRESSURE "node.kubernetes.io/disk-pressure"
#define CTL_TAINT_MEMORY_PRESSURE "node.kubernetes.io/memory-pressure"
#define CTL_TAINT_PID_PRESSURE "node.kubernetes.io/pid-pressure"
#define CTL_TAINT_NETWORK_UNAVAILABLE "node.kubernetes.io/network-unavailable"

/* Does toleration `tol` tolerate `taint` (both Kubernetes objects)? An empty
 * effect tolerates every effect; operator Exists with an empty key tolerates
 * every taint; operator Equal (the default) compares values. */
bool ctl_tolerates(const json_t *tol, const json_t *taint);

/* The first taint of `taints` (array, may be NULL) whose effect is
 * `effect` ("NoSchedule", "NoExecute"; NULL: NoSchedule or NoExecute) that
 * no toleration in `tolerations` (array, may be NULL) tolerates, or NULL.
 * Borrowed from taints. */
const json_t *ctl_untolerated_taint(const json_t *taints, const json_t *tolerations,
                                    const char *effect);

/* Does `pod_spec` select `node` by spec.nodeSelector and
 * affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
 * (terms ORed, requirements within a term ANDed; an empty term matches
 * nothing)? */
bool ctl_node_affinity_matches(const json_t *pod_spec, const json_t *node);

/* A NoExecute eviction plan for a pod on a node with `taints`: the
 * milliseconds from `now_wall_ms` until the pod must go (0: at once, an
 * untolerated NoExecute taint or a toleration already run out), or -1 when
 * never (no NoExecute taint, or tolerated without tolerationSeconds). A
 * taint's clock starts at its timeAdded (now when absent); the shortest
 * tolerationSeconds among the tolerations used wins, as in Kubernetes'
 * taint manager. */
int64_t ctl_noexecute_delay_ms(const json_t *taints, const json_t *tolerations,
                               int64_t now_wall_ms);

/* RFC 3339 time, with its fraction, to Unix milliseconds. 0 or ORC_EINVAL. */
int ctl_time_ms(const char *s, int64_t *ms);

#endif
