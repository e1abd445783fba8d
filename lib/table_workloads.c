/* table_workloads.c — printers of the workload kinds: Deployments,
 * ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
 * ControllerRevisions, ReplicationControllers and HorizontalPodAutoscalers
 * (the last two wait for the API server to serve them), with kubectl's
 * wide CONTAINERS IMAGES SELECTOR. */
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

/* A ReplicationController's selector is a plain label map. */
static void replicationcontroller_row(struct orc_row *r, const json_t *rc, int64_t now)
{
    json_t *containers = orc_json_get(rc, "spec.template.spec.containers");

    orc__cell_int(r, orc__num(rc, "spec.replicas", 1));
    orc__cell_int(r, orc__num(rc, "status.replicas", 0));
    orc__cell_int(r, orc__num(rc, "status.readyReplicas", 0));
    orc__cell_age(r, rc, now);
    orc__cell_buf(r, container_names, containers);
    orc__cell_buf(r, container_images, containers);
    orc__cell_buf(r, orc_table_labels, orc_json_get(rc, "spec.selector"));
}

/* ---- HorizontalPodAutoscalers (autoscaling/v2) ---- */

/* A quantity or percentage as the metric shows it: "50%", "500m". */
static void metric_value(const json_t *v, bool percent, char *out, size_t n)
{
    const char *s = json_string_value(v);

    if (percent && json_is_integer(v)) snprintf(out, n, "%lld%%", (long long)json_integer_value(v));
    else if (s) snprintf(out, n, "%s", s);
    else if (json_is_integer(v)) snprintf(out, n, "%lld", (long long)json_integer_value(v));
    else snprintf(out, n, "%s", percent ? "<auto>" : "<unknown>");
}

/* One metric as kubectl's TARGETS shows it: "cpu: 50%/80%", "1k/2k". */
static int hpa_metric(const json_t *spec, const json_t *status, struct orc_buf *out)
{
    const char *type = orc_json_str(spec, "type");
    char cur[48] = "<unknown>", want[48];

    if (type && (strcmp(type, "Resource") == 0 || strcmp(type, "ContainerResource") == 0)) {
        const char *key = strcmp(type, "Resource") == 0 ? "resource" : "containerResource";
        const json_t *sp = json_object_get(spec, key), *st = json_object_get(status, key);
        const char *name = orc_json_str(sp, "name");
        bool value = orc_json_get(sp, "target.averageValue") != NULL;
        if (value) {
            metric_value(orc_json_get(sp, "target.averageValue"), false, want, sizeof want);
            if (orc_json_get(st, "current.averageValue"))
                metric_value(orc_json_get(st, "current.averageValue"), false, cur, sizeof cur);
        } else {
            metric_value(orc_json_get(sp, "target.averageUtilization"), true, want, sizeof want);
            if (orc_json_get(st, "current.averageUtilization"))
                metric_value(orc_json_get(st, "current.averageUtilization"), true, cur, sizeof cur);
        }
        return orc_buf_printf(out, "%s: %s/%s", name ? name : "", cur, want);
    }
    if (type && (strcmp(type, "Pods") == 0 || strcmp(type, "Object") == 0
                 || strcmp(type, "External") == 0)) {
        char key[16];
        snprintf(key, sizeof key, "%c%s", type[0] + 32, type + 1);
        const json_t *t = orc_json_get(json_object_get(spec, key), "target");
        const json_t *c = orc_json_get(json_object_get(status, key), "current");
        const char *field = json_object_get(t, "averageValue") ? "averageValue" : "value";
        metric_value(json_object_get(t, field), false, want, sizeof want);
        if (json_object_get(c, field)) metric_value(json_object_get(c, field), false, cur, sizeof cur);
        return orc_buf_printf(out, "%s/%s%s", cur, want,
                              strcmp(field, "averageValue") == 0 && type[0] != 'P' ? " (avg)" : "");
    }
    return orc_buf_puts(out, "<unknown type>");
}

static int hpa_targets(const json_t *hpa, struct orc_buf *out)
{
    const json_t *specs = orc_json_get(hpa, "spec.metrics");
    const json_t *statuses = orc_json_get(hpa, "status.currentMetrics");
    size_t n = json_array_size(specs), shown = n > 2 ? 2 : n;
    int rv = 0;

    if (n == 0) return orc_buf_puts(out, "<none>");
    for (size_t i = 0; i < shown && rv == 0; i++) {
        if (i) rv = orc_buf_puts(out, ", ");
        if (rv == 0)
            rv = hpa_metric(json_array_get(specs, i), json_array_get(statuses, i), out);
    }
    if (rv == 0 && n > shown) rv = orc_buf_printf(out, " + %zu more...", n - shown);
    return rv;
}

static void hpa_row(struct orc_row *r, const json_t *hpa, int64_t now)
{
    const char *kind = orc_json_str(hpa, "spec.scaleTargetRef.kind");
    const char *name = orc_json_str(hpa, "spec.scaleTargetRef.name");
    int64_t min;

    orc__cell(r, "%s/%s", kind ? kind : "", name ? name : "");
    orc__cell_buf(r, hpa_targets, hpa);
    if (orc_json_int(hpa, "spec.minReplicas", &min) == 0) orc__cell(r, "%lld", (long long)min);
    else orc__cell(r, "%s", "<unset>");
    orc__cell_int(r, orc__num(hpa, "spec.maxReplicas", 0));
    orc__cell_int(r, orc__num(hpa, "status.currentReplicas", 0));
    orc__cell_age(r, hpa, now);
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
static const struct orc_table_column replicationcontroller_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Desired", "integer", "Replicas is the number of desired replicas."),
    ORC_COL("Current", "integer", "Replicas is the most recently observed number of replicas."),
    ORC_COL("Ready", "integer", "The number of ready replicas for this replication controller."),
    ORC_COL_AGE, TEMPLATE_COLS,
    ORC_WIDE("Selector", "string", "Selector is a label query over pods that should match the "
                                   "Replicas count."),
};
static const struct orc_table_column hpa_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Reference", "string", "reference to scaled resource; horizontal pod autoscaler "
                                   "will learn the current resource consumption and will set "
                                   "the desired number of pods by using its Scale subresource."),
    ORC_COL("Targets", "string", "the target value of the metrics"),
    ORC_COL("MinPods", "string", "minReplicas is the lower limit for the number of replicas to "
                                 "which the autoscaler can scale down."),
    ORC_COL("MaxPods", "integer", "maxReplicas is the upper limit for the number of replicas to "
                                  "which the autoscaler can scale up."),
    ORC_COL("Replicas", "integer", "currentReplicas is current number of replicas of pods "
                                   "managed by this autoscaler."),
    ORC_COL_AGE,
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
    {{"", "replicationcontrollers", ORC_COLS(replicationcontroller_cols)},
     replicationcontroller_row, false, NULL},
    {{"autoscaling", "horizontalpodautoscalers", ORC_COLS(hpa_cols)}, hpa_row, false, NULL},
    {{0}, NULL, false, NULL},
};
