/* describe_workloads.c — `orctl describe` of Deployments and ReplicaSets,
 * as kubectl's describers print them. */
#include <string.h>

#include "cli/describe.h"

void cli_describe_deployment(struct dw *w, const json_t *d)
{
    char mu[32], ms[32];
    const char *type = str_or(d, "spec.strategy.type", "RollingUpdate");

    cli_desc_name_namespace(w, d, true);
    cli_desc_creation(w, d);
    cli_desc_labels_annotations(w, d);
    cli_desc_selector_line(w, "Selector", orc_json_get(d, "spec.selector"), false);
    dw_write(
        w, 0,
        "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
        jnum(d, "spec.replicas", 1), jnum(d, "status.updatedReplicas", 0),
        jnum(d, "status.replicas", 0), jnum(d, "status.availableReplicas", 0),
        jnum(d, "status.unavailableReplicas", 0));
    dw_write(w, 0, "StrategyType:\t%s\n", type);
    dw_write(w, 0, "MinReadySeconds:\t%lld\n", jnum(d, "spec.minReadySeconds", 0));
    if (strcmp(type, "RollingUpdate") == 0) {
        int_or_string(orc_json_get(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%", mu,
                      sizeof mu);
        int_or_string(orc_json_get(d, "spec.strategy.rollingUpdate.maxSurge"), "25%", ms,
                      sizeof ms);
        dw_write(w, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", mu, ms);
    }
    cli_desc_pod_template(w, orc_json_get(d, "spec.template"));
    cli_desc_conditions(w, d, true);
}

void cli_describe_replicaset(struct dw *w, const json_t *rs)
{
    cli_desc_name_namespace(w, rs, true);
    cli_desc_selector_line(w, "Selector", orc_json_get(rs, "spec.selector"), false);
    cli_desc_labels_annotations(w, rs);
    cli_desc_controlled_by(w, rs);
    dw_write(w, 0, "Replicas:\t%lld current / %lld desired\n", jnum(rs, "status.replicas", 0),
             jnum(rs, "spec.replicas", 1));
    cli_desc_pod_template(w, orc_json_get(rs, "spec.template"));
    cli_desc_conditions(w, rs, true);
}
