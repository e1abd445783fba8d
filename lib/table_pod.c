/* table_pod.c — the Pod printer: READY, STATUS and RESTARTS computed as
 * kubectl's printPod does (init containers, waiting and terminated
 * reasons, Terminating), and the wide IP, NODE, NOMINATED NODE, READINESS
 * GATES. */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "lib/table_int.h"
#include "lib/timeutil.h"

/* Restarts so far, and the last one's time, of some containers. */
struct restarts {
    int64_t count;
    const char *last; /* latest lastState.terminated.finishedAt */
};

static void note_restart(struct restarts *rs, const json_t *cs)
{
    const char *t = orc_json_str(cs, "lastState.terminated.finishedAt");
    int64_t a, b;

    rs->count += orc__num(cs, "restartCount", 0);
    if (t == NULL || orc_time_parse(t, &a) != 0) return;
    if (rs->last == NULL || orc_time_parse(rs->last, &b) != 0 || a > b) rs->last = t;
}

/* "Reason", "Signal:N" or "ExitCode:N" of a terminated state. */
static void terminated_reason(const json_t *term, const char *prefix, char *out, size_t n)
{
    const char *reason = orc_json_str(term, "reason");
    int64_t sig = orc__num(term, "signal", 0);

    if (reason && *reason) snprintf(out, n, "%s%s", prefix, reason);
    else if (sig != 0) snprintf(out, n, "%sSignal:%lld", prefix, (long long)sig);
    else snprintf(out, n, "%sExitCode:%lld", prefix, (long long)orc__num(term, "exitCode", 0));
}

/* A sidecar: an init container with restartPolicy Always. */
static bool restartable(const json_t *pod, const char *name)
{
    const json_t *c;
    size_t i;

    json_array_foreach (orc_json_get(pod, "spec.initContainers"), i, c) {
        const char *n = orc_json_str(c, "name"), *policy = orc_json_str(c, "restartPolicy");
        if (n && name && strcmp(n, name) == 0) return policy && strcmp(policy, "Always") == 0;
    }
    return false;
}

/* kubectl's init-container pass; true while the pod is still initializing.
 * side: the sidecars' restarts, which count once the pod has started. */
static bool pod_init_status(const json_t *pod, struct orc_pod_summary *ps, struct restarts *all,
                            struct restarts *side)
{
    json_t *statuses = orc_json_get(pod, "status.initContainerStatuses"), *cs;
    size_t i, n_init = json_array_size(orc_json_get(pod, "spec.initContainers"));

    json_array_foreach (statuses, i, cs) {
        json_t *term = orc_json_get(cs, "state.terminated");
        const char *wait = orc_json_str(cs, "state.waiting.reason");
        bool sidecar = restartable(pod, orc_json_str(cs, "name"));
        note_restart(all, cs);
        if (sidecar) note_restart(side, cs);
        if (term && orc__num(term, "exitCode", 0) == 0) continue;
        if (sidecar && json_is_true(json_object_get(cs, "started"))) {
            if (json_is_true(json_object_get(cs, "ready"))) ps->ready++;
            continue;
        }
        if (term) terminated_reason(term, "Init:", ps->reason, sizeof ps->reason);
        else if (wait && *wait && strcmp(wait, "PodInitializing") != 0)
            snprintf(ps->reason, sizeof ps->reason, "Init:%s", wait);
        else snprintf(ps->reason, sizeof ps->reason, "Init:%zu/%zu", i, n_init);
        return true;
    }
    return false;
}

static void pod_container_status(const json_t *pod, struct orc_pod_summary *ps,
                                 struct restarts *rs)
{
    json_t *statuses = orc_json_get(pod, "status.containerStatuses");
    bool running = false;

    for (size_t i = json_array_size(statuses); i > 0; i--) {
        json_t *cs = json_array_get(statuses, i - 1), *term = orc_json_get(cs, "state.terminated");
        const char *wait = orc_json_str(cs, "state.waiting.reason");
        note_restart(rs, cs);
        if (wait && *wait) snprintf(ps->reason, sizeof ps->reason, "%s", wait);
        else if (term) terminated_reason(term, "", ps->reason, sizeof ps->reason);
        else if (json_is_true(json_object_get(cs, "ready")) && orc_json_get(cs, "state.running")) {
            running = true;
            ps->ready++;
        }
    }
    /* A pod whose only finished containers completed but others still run
     * is Running (or NotReady), not Completed. */
    if (strcmp(ps->reason, "Completed") == 0 && running)
        snprintf(ps->reason, sizeof ps->reason, "%s",
                 orc__has_condition(pod, "Ready") ? "Running" : "NotReady");
}

/* A pod whose scheduling gates hold it says so. */
static bool scheduling_gated(const json_t *pod)
{
    const json_t *c;
    size_t i;

    json_array_foreach (orc_json_get(pod, "status.conditions"), i, c) {
        const char *t = orc_json_str(c, "type"), *r = orc_json_str(c, "reason");
        if (t && r && strcmp(t, "PodScheduled") == 0 && strcmp(r, "SchedulingGated") == 0)
            return true;
    }
    return false;
}

void orc_pod_summarize(const json_t *pod, struct orc_pod_summary *ps)
{
    const char *phase = orc_json_str(pod, "status.phase"),
               *reason = orc_json_str(pod, "status.reason");
    struct restarts all = {0}, side = {0};
    const json_t *ic;
    size_t i;

    memset(ps, 0, sizeof *ps);
    ps->total = (int64_t)json_array_size(orc_json_get(pod, "spec.containers"));
    json_array_foreach (orc_json_get(pod, "spec.initContainers"), i, ic)
        if (restartable(pod, orc_json_str(ic, "name"))) ps->total++;
    snprintf(ps->reason, sizeof ps->reason, "%s",
             reason && *reason ? reason
             : phase && *phase ? phase
                               : "Pending");
    if (scheduling_gated(pod)) snprintf(ps->reason, sizeof ps->reason, "SchedulingGated");
    bool initializing = pod_init_status(pod, ps, &all, &side);
    if (!initializing || orc__has_condition(pod, "Initialized")) {
        all = side; /* once started, the sidecars' restarts and the containers' */
        pod_container_status(pod, ps, &all);
    }
    ps->restarts = all.count;
    ps->last_restart = all.last;
    if (orc_json_get(pod, "metadata.deletionTimestamp")) {
        if (reason && strcmp(reason, "NodeLost") == 0)
            snprintf(ps->reason, sizeof ps->reason, "Unknown");
        else if (!phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0))
            snprintf(ps->reason, sizeof ps->reason, "Terminating");
    }
}

static int readiness_gates(const json_t *pod, struct orc_buf *out)
{
    json_t *gates = orc_json_get(pod, "spec.readinessGates"), *g, *c;
    json_t *conds = orc_json_get(pod, "status.conditions");
    size_t i, j, ok = 0;

    if (json_array_size(gates) == 0) return orc_buf_puts(out, "<none>");
    json_array_foreach (gates, i, g) {
        const char *type = orc_json_str(g, "conditionType");
        json_array_foreach (conds, j, c) {
            const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
            if (type && t && s && !strcmp(t, type) && !strcmp(s, "True")) ok++;
        }
    }
    return orc_buf_printf(out, "%zu/%zu", ok, json_array_size(gates));
}

static void pod_row(struct orc_row *r, const json_t *pod, int64_t now)
{
    struct orc_pod_summary ps;
    char age[32];

    orc_pod_summarize(pod, &ps);
    orc__cell(r, "%lld/%lld", (long long)ps.ready, (long long)ps.total);
    orc__cell(r, "%s", ps.reason);
    if (ps.restarts > 0 && ps.last_restart) {
        orc_table_age(ps.last_restart, now, age, sizeof age);
        orc__cell(r, "%lld (%s ago)", (long long)ps.restarts, age);
    } else {
        orc__cell(r, "%lld", (long long)ps.restarts);
    }
    orc__cell_age(r, pod, now);
    orc__cell_str(r, orc_json_str(pod, "status.podIP"), "<none>");
    orc__cell_str(r, orc_json_str(pod, "spec.nodeName"), "<none>");
    orc__cell_str(r, orc_json_str(pod, "status.nominatedNodeName"), "<none>");
    orc__cell_buf(r, readiness_gates, pod);
}

/* A finished pod's row says so, as Kubernetes' printer marks it. */
static json_t *pod_conditions(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    bool ok = phase && strcmp(phase, "Succeeded") == 0;

    if (!ok && !(phase && strcmp(phase, "Failed") == 0)) return NULL;
    return json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Completed", "status", "True", "reason",
                     phase, "message", ok ? "The pod has completed successfully." : "The pod failed.");
}

static const struct orc_table_column pod_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    ORC_COL("Status", "string", "The aggregate status of the containers in this pod."),
    ORC_COL("Restarts", "string",
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted."),
    ORC_COL_AGE,
    ORC_WIDE("IP", "string", "podIP is the IP address allocated to the pod."),
    ORC_WIDE("Node", "string", "NodeName indicates in which node this pod is scheduled."),
    ORC_WIDE("Nominated Node", "string",
             "nominatedNodeName is set only when this pod preempts other pods on the node."),
    ORC_WIDE("Readiness Gates", "string", "If specified, all readiness gates will be evaluated "
                                          "for pod readiness."),
};

const struct orc_printer_row orc__table_pod[] = {
    {{"", "pods", ORC_COLS(pod_cols)}, pod_row, false, pod_conditions},
    {{0}, NULL, false, NULL},
};
