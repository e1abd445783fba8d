/* rt_metered.h — a runtime (rt_ops) that counts and times every operation
 * of the runtime it wraps under the kubelet's metric names
 * (kubelet_runtime_operations_total, _errors_total, _duration_seconds by
 * operation_type, as the CRI names them: pull_image, start_container,
 * container_status, stop_container, remove_container, remove_pod_sandbox,
 * list_containers, exec_sync) plus image pulls (orc_image_pulls_total by
 * result, orc_image_pull_duration_seconds). Loop only, as the runtime. */
#ifndef ORC_AGENT_RT_METERED_H
#define ORC_AGENT_RT_METERED_H

#include "agent/rt_ops.h"

struct orc_metrics;

/* *out wraps inner (which it then owns: closing *out closes inner, then
 * frees the wrapper). The families go into m, which must outlive the
 * wrapper. ORC_ENOMEM. */
int rt_metered_wrap(const struct rt_handle *inner, struct orc_metrics *m, struct rt_handle *out);

#endif
