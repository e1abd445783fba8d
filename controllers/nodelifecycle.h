/* nodelifecycle.h — the node lifecycle controller's decisions, apart from its
 * wiring so unit tests drive them on a fake clock: when a node's Lease went
 * stale, the conditions and taints a node should carry, and when a pod on a
 * tainted node must go. Objects borrowed unless said. */
#ifndef ORC_CONTROLLERS_NODELIFECYCLE_H
#define ORC_CONTROLLERS_NODELIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_nodelifecycle;

#define NL_LEASE_NS "kube-node-lease"
#define NL_REASON_UNKNOWN "NodeStatusUnknown"
#define NL_MSG_UNKNOWN "Kubelet stopped posting node status."
#define NL_REASON_NEVER "NodeStatusNeverUpdated"
#define NL_MSG_NEVER "Kubelet never posted node status."

/* What the controller saw of a node's Lease: the last renewTime and when (on
 * its own monotonic clock) it saw it change; the grace runs from there, as
 * Kubernetes' probeTimestamp, so agents' clocks do not matter. */
struct nl_health {
    char renew[48];
    uint64_t probe_ms;
};

/* Starts tracking at `now_ms` (a node first seen gets a whole grace). */
void nl_health_init(struct nl_health *h, const json_t *lease, uint64_t now_ms);
/* Notes the lease (NULL: none yet); a changed renewTime restarts the grace. */
void nl_health_observe(struct nl_health *h, const json_t *lease, uint64_t now_ms);
/* Milliseconds left before the lease counts as stale (0: stale now). */
uint64_t nl_health_left_ms(const struct nl_health *h, uint64_t now_ms, uint64_t grace_ms);

/* The node's status.conditions as they should be: with a stale lease every
 * condition not yet Unknown turns Unknown (NodeStatusUnknown; a node without
 * a Ready condition gets one, NodeStatusNeverUpdated); with a fresh one a
 * Ready condition this controller made Unknown turns back to True. `now` is
 * an RFC 3339 time. A new array when something changes, else NULL. */
json_t *nl_conditions(const json_t *node, bool stale, const char *now);

/* The node's spec.taints as they should be given its Ready status (taken
 * from `conditions`, or the node's own when NULL): unreachable:NoExecute for
 * Unknown, not-ready:NoExecute for False, unschedulable:NoSchedule for
 * spec.unschedulable; other taints are kept, a kept taint keeps its
 * timeAdded. A new array when something changes, else NULL. */
json_t *nl_taints(const json_t *node, const json_t *conditions, const char *now);

/* The Ready condition's status of a node ("True", "False", "Unknown"), or
 * NULL when it has none. */
const char *nl_ready_status(const json_t *conditions);

/* When must `pod` leave `node` (a NoExecute taint it does not tolerate, or
 * tolerates only for tolerationSeconds): milliseconds from now_wall_ms, 0
 * for at once, -1 for never. */
int64_t nl_pod_eviction_ms(const json_t *node, const json_t *pod, int64_t now_wall_ms);

#endif
