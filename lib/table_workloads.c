/* table_workloads.c — printers of the workload kinds: Deployments,
 * ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and
 * ControllerRevisions, with kubectl's wide CONTAINERS IMAGES SELECTOR. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "lib/table_int.h"
#include "lib/timeutil.h"

static int container_names(const json_t *containers, struct orc_buf *out)
{
    return orc__join_field(containers, "name", out);
}

static int container_images(const json_t *containers, struct orc_buf *out)
{
    return orc__join_field(containers, "image", out);
}

/* CONTAINERS IMAGES [SELECTOR] of a workload's pod template. */
static void template_cells(struct orc_row *r, const json_t *spec, bool selector)
{
    json_t *containers = orc_json_get(spec, "template.spec.containers");

    orc__cell_buf(r, container_names, containers);
    orc__cell_buf(r, container_images, containers);
    if (selector) orc__cell_buf(r, orc_table_selector, json_object_get(spec, "selector"));
}

static void deployment_row(struct orc_row *r, const json_t *d, int64_t now)
{
    orc__cell(r, "%lld/%lld", (long long)orc__num(d, "status.readyReplicas", 0),
              (long long)orc__num(d, "spec.replicas", 1));
    orc__cell_int(r, orc__num(d, "status.updatedReplicas", 0));
    orc__cell_int(r, orc__num(d, "status.availableReplicas", 0));
    orc__cell_age(r, d, now);
    template_cells(r, json_object_get(d, "spec"), true);
}

static void replicaset_row(struct orc_row *r, const json_t *rs, int64_t now)
{
    orc__cell_int(r, orc__num(rs, "spec.replicas", 1));
    orc__cell_int(r, orc__num(rs, "status.replicas", 0));
    orc__cell_int(r, orc__num(rs, "status.readyReplicas", 0));
    orc__cell_age(r, rs, now);
    template_cells(r, json_object_get(rs, "spec"), true);
}

static void statefulset_row(struct orc_row *r, const json_t *s, int64_t now)
{
    orc__cell(r, "%lld/%lld", (long long)orc__num(s, "status.readyReplicas", 0),
              (long long)orc__num(s, "spec.replicas", 1));
    orc__cell_age(r, s, now);
    template_cells(r, json_object_get(s, "spec"), false);
}

static void daemonset_row(struct orc_row *r, const json_t *d, int64_t now)
{
    static const char *const fields[] = {"desiredNumberScheduled", "currentNumberScheduled",
                                         "numberReady", "updatedNumberScheduled",
                                         "numberAvailable"};
    char path[64];

    for (size_t i = 0; i < ORC_ARRAY_LEN(fields); i++) {
        snprintf(path, sizeof path, "status.%s", fields[i]);
        orc__cell_int(r, orc__num(d, path, 0));
    }
    orc__cell_buf(r, orc_table_labels, orc_json_get(d, "spec.template.spec.nodeSelector"));
    orc__cell_age(r, d, now);
    template_cells(r, json_object_get(d, "spec"), true);
}

static const char *job_status(const json_t *j)
{
    if (orc__has_condition(j, "Complete")) return "Complete";
    if (orc__has_condition(j, "Failed")) return "Failed";
    if (orc_json_get(j, "metadata.deletionTimestamp")) return "Terminating";
    if (orc__has_condition(j, "Suspended")) return "Suspended";
    if (orc__has_condition(j, "FailureTarget")) return "FailureTarget";
    if (orc__has_condition(j, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
    return "Running";
}

static void job_row(struct orc_row *r, const json_t *j, int64_t now)
{
    int64_t ok = orc__num(j, "status.succeeded", 0), par = orc__num(j, "spec.parallelism", 0);
    int64_t start, end;
    char dur[32] = "";

    orc__cell(r, "%s", job_status(j));
    if (orc_json_get(j, "spec.completions"))
        orc__cell(r, "%lld/%lld", (long long)ok, (long long)orc__num(j, "spec.completions", 0));
    else if (par > 1) orc__cell(r, "%lld/1 of %lld", (long long)ok, (long long)par);
    else orc__cell(r, "%lld/1", (long long)ok);
    if (orc_time_parse(orc_json_str(j, "status.startTime"), &start) == 0) {
        if (orc_time_parse(orc_json_str(j, "status.completionTime"), &end) != 0) end = now;
        orc_time_age(end - start, dur, sizeof dur);
    }
    orc__cell(r, "%s", dur);
    orc__cell_age(r, j, now);
    template_cells(r, json_object_get(j, "spec"), true);
}

static void cronjob_row(struct orc_row *r, const json_t *c, int64_t now)
{
    orc__cell_str(r, orc_json_str(c, "spec.schedule"), "");
    orc__cell_str(r, orc_json_str(c, "spec.timeZone"), "<none>");
    /* The API server defaults suspend to false; an absent one means that. */
    orc__cell(r, "%s", json_is_true(orc_json_get(c, "spec.suspend")) ? "True" : "False");
    orc__cell_int(r, (int64_t)json_array_size(orc_json_get(c, "status.active")));
    orc__cell_since(r, c, "status.lastScheduleTime", now, "<none>");
    orc__cell_age(r, c, now);
    template_cells(r, orc_json_get(c, "spec.jobTemplate.spec"), true);
}

static void controllerrevision_row(struct orc_row *r, const json_t *cr, int64_t now)
{
    const json_t *refs = orc_json_get(cr, "metadata.ownerReferences"), *ref, *owner = NULL;
    size_t i;

    json_array_foreach (refs, i, ref)
        if (json_is_true(json_object_get(ref, "controller"))) owner = ref;
    const char *kind = orc_json_str(owner, "kind"), *av = orc_json_str(owner, "apiVersion");
    const char *slash = av ? strchr(av, '/') : NULL, *name = orc_json_str(owner, "name");
    char lower[64] = "";
    for (size_t j = 0; kind && kind[j] && j + 1 < sizeof lower; j++)
        lower[j] = (char)tolower((unsigned char)kind[j]), lower[j + 1] = '\0';
    if (owner && slash)
        orc__cell(r, "%s.%.*s/%s", lower, (int)(slash - av), av, name ? name : "");
    else if (owner) orc__cell(r, "%s/%s", lower, name ? name : "");
    else orc__cell(r, "%s", "<none>");
    orc__cell_int(r, orc__num(cr, "revision", 0));
    orc__cell_age(r, cr, now);
}

#define TEMPLATE_COLS                                                                        \
    ORC_WIDE("Containers", "string", "Names of each container in the template."),           \
        ORC_WIDE("Images", "string", "Images referenced by each container in the template.")
#define SELECTOR_COL \
    ORC_WIDE("Selector", "string", "Label selector for pods. Existing ReplicaSets whose pods " \
                                   "are selected by this will be the ones affected by this deployment.")

static const struct orc_table_column deployment_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Ready", "string", "Number of the pod with ready state"),
    ORC_COL("Up-to-date", "string", "Total number of non-terminated pods targeted by this "
                                    "deployment that have the desired template spec."),
    ORC_COL("Available", "string", "Total number of available pods (ready for at least "
                                   "minReadySeconds) targeted by this deployment."),
    ORC_COL_AGE, TEMPLATE_COLS, SELECTOR_COL,
};
static const struct orc_table_column replicaset_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Desired", "integer", "Replicas is the number of desired pods."),
    ORC_COL("Current", "integer", "Replicas is the most recently observed number of replicas."),
    ORC_COL("Ready", "integer", "The number of ready replicas for this replica set."),
    ORC_COL_AGE, TEMPLATE_COLS, SELECTOR_COL,
};
static const struct orc_table_column statefulset_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Ready", "string", "Number of the pod with ready state"),
    ORC_COL_AGE, TEMPLATE_COLS,
};
static const struct orc_table_column daemonset_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
    ORC_COL("Current", "integer", "The number of nodes that are running at least 1 daemon pod "
                                  "and are supposed to run the daemon pod."),
    ORC_COL("Ready", "integer", "The number of nodes that should be running the daemon pod and "
                                "have one or more of the daemon pod running and ready."),
    ORC_COL("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    ORC_COL("Available", "integer", "The number of nodes that should be running the daemon pod "
                                    "and have one or more of the daemon pod running and available."),
    ORC_COL("Node Selector", "string", "NodeSelector is a selector which must be true for the "
                                       "pod to fit on a node."),
    ORC_COL_AGE, TEMPLATE_COLS, SELECTOR_COL,
};
static const struct orc_table_column job_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Status", "string", "Status of the job."),
    ORC_COL("Completions", "string", "The completion status of the job"),
    ORC_COL("Duration", "string", "Time required to complete the job."),
    ORC_COL_AGE, TEMPLATE_COLS, SELECTOR_COL,
};
static const struct orc_table_column cronjob_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Schedule", "string", "The schedule in Cron format."),
    ORC_COL("Timezone", "string", "The time zone name for the given schedule."),
    ORC_COL("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
    ORC_COL("Active", "integer", "A list of pointers to currently running jobs."),
    ORC_COL("Last Schedule", "string", "Information when was the last time the job was "
                                       "successfully scheduled."),
    ORC_COL_AGE, TEMPLATE_COLS, SELECTOR_COL,
};
static const struct orc_table_column controllerrevision_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Controller", "string", "Controller of the object"),
    ORC_COL("Revision", "string", "Revision indicates the revision of the state represented by Data."),
    ORC_COL_AGE,
};

const struct orc_printer_row orc__table_workloads[] = {
    {{"apps", "deployments", ORC_COLS(deployment_cols)}, deployment_row, false, NULL},
    {{"apps", "replicasets", ORC_COLS(replicaset_cols)}, replicaset_row, false, NULL},
    {{"apps", "statefulsets", ORC_COLS(statefulset_cols)}, statefulset_row, false, NULL},
    {{"apps", "daemonsets", ORC_COLS(daemonset_cols)}, daemonset_row, false, NULL},
    {{"batch", "jobs", ORC_COLS(job_cols)}, job_row, false, NULL},
    {{"batch", "cronjobs", ORC_COLS(cronjob_cols)}, cronjob_row, false, NULL},
    {{"apps", "controllerrevisions", ORC_COLS(controllerrevision_cols)}, controllerrevision_row,
     false, NULL},
    {{0}, NULL, false, NULL},
};
