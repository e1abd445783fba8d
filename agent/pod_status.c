/* pod_status.c — the status a worker reports for its pod, by the
 * kubelet's rules: the phase from the containers' states and the restart
 * policy, the four conditions (keeping their transition times while they
 * hold), container statuses with waiting / running / terminated and the
 * last termination, pod and host IPs, start time. */
#include <stdio.h>
#include <string.h>

#include "agent/worker_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

/* ---- phase ---- */

struct tally {
    int running, waiting, succeeded, failed;
};

/* A container restarting for a new image counts as running: it is never
 * done, whatever the restart policy (else a Never pod would turn Failed). */
static void count(const struct ctr *c, struct tally *t)
{
    if (c->st == CS_RUNNING || c->respawn) t->running++;
    else if (c->st == CS_EXITED || c->ever_ran) {
        if (c->exited.set && c->exited.exit_code == 0) t->succeeded++;
        else t->failed++;
    } else t->waiting++;
}

const char *pod_phase(const struct worker *w)
{
    const char *policy = worker_restart_policy(w);
    struct tally t = {0};

    for (size_t i = 0; i < w->n_init; i++) {
        const struct ctr *c = &w->ctrs[i];
        if (c->st == CS_EXITED && c->exited.exit_code == 0) continue;
        if (c->st == CS_EXITED && strcmp(policy, "Never") == 0) return "Failed";
        return "Pending";
    }
    for (size_t i = w->n_init; i < w->n_ctrs; i++) count(&w->ctrs[i], &t);
    if (t.waiting > 0) return "Pending";
    if (t.running > 0) return "Running";
    if (strcmp(policy, "Always") == 0) return "Running";
    if (strcmp(policy, "OnFailure") == 0) return t.failed ? "Running" : "Succeeded";
    return t.failed ? "Failed" : "Succeeded";
}

/* ---- container statuses ---- */

static void fmt_ns(int64_t ns, char out[ORC_TIME_LEN])
{
    orc_time_format(ns > 0 ? ns / 1000000000LL : orc_time_unix(), out);
}

static json_t *terminated(const struct ctr_exit *e)
{
    char started[ORC_TIME_LEN], finished[ORC_TIME_LEN], cid[CTR_ID_LEN + 8];
    const char *reason = e->oom ? "OOMKilled" : e->exit_code == 0 ? "Completed" : "Error";

    fmt_ns(e->started_ns, started);
    fmt_ns(e->finished_ns, finished);
    snprintf(cid, sizeof cid, "orc://%s", e->id);
    return json_pack("{s:{s:i, s:s, s:s, s:s, s:s}}", "terminated", "exitCode", e->exit_code,
                     "reason", reason, "startedAt", started, "finishedAt", finished, "containerID", cid);
}

static json_t *waiting(const char *reason, const char *message)
{
    json_t *wt = json_pack("{s:s}", "reason", reason);
    if (message && *message) json_object_set_new(wt, "message", json_string(message));
    return json_pack("{s:o}", "waiting", wt);
}

static json_t *state_of(const struct ctr *c, bool inits_done)
{
    char started[ORC_TIME_LEN];
    bool will_restart = c->init ? c->exited.exit_code != 0 && strcmp(worker_restart_policy(c->w), "Never") != 0
                                : ctr_should_restart(c);

    if (c->st == CS_RUNNING) {
        fmt_ns(c->started_ns, started);
        return json_pack("{s:{s:s}}", "running", "startedAt", started);
    }
    if (c->start_failed && c->st != CS_STARTING && c->st != CS_PULLING) return waiting(c->reason, c->message);
    if (c->st == CS_EXITED && !(will_restart && strcmp(c->reason, "CrashLoopBackOff") == 0))
        return terminated(&c->exited);
    if (c->reason[0] && strcmp(c->reason, "ContainerCreating") != 0) return waiting(c->reason, c->message);
    if (!c->init && !inits_done) return waiting("PodInitializing", NULL);
    return waiting("ContainerCreating", c->message);
}

static json_t *last_state(const struct ctr *c)
{
    if (c->st != CS_RUNNING && c->st != CS_EXITED && c->exited.set) return terminated(&c->exited);
    if (c->st == CS_EXITED && strcmp(c->reason, "CrashLoopBackOff") == 0) return terminated(&c->exited);
    if (c->previous.set) return terminated(&c->previous);
    return json_object();
}

/* The image of the run the status describes, as the kubelet reports the
 * runtime's: the spec's until the changed container started again. */
static const char *running_image(const struct ctr *c)
{
    if (c->st == CS_RUNNING && c->run_image) return c->run_image;
    return orc_json_str(c->spec, "image") ?: "";
}

static json_t *container_status(const struct ctr *c, bool inits_done)
{
    char image_id[1200] = "", cid[CTR_ID_LEN + 8] = "";
    json_t *s;

    if (c->have_image) snprintf(image_id, sizeof image_id, "%s@%s", c->image_ref, c->image_digest);
    if (c->ever_ran) snprintf(cid, sizeof cid, "orc://%s", c->id);
    s = json_pack("{s:s, s:s, s:s, s:b, s:i, s:o, s:o}", "name", c->name, "image",
                  running_image(c), "imageID", image_id, "ready",
                  c->st == CS_RUNNING && c->is_ready, "restartCount", c->run, "state",
                  state_of(c, inits_done), "lastState", last_state(c));
    if (s && cid[0]) json_object_set_new(s, "containerID", json_string(cid));
    if (s && !c->init) json_object_set_new(s, "started", json_boolean(c->st == CS_RUNNING && c->started));
    return s;
}

/* ---- conditions ---- */

static void add_condition(json_t *conds, const json_t *old, const char *now, const char *type, bool ok,
                          const char *reason, const char *message)
{
    const char *status = ok ? "True" : "False", *since = NULL;
    size_t i;
    json_t *c, *o;

    json_array_foreach(old, i, o) {
        const char *t = orc_json_str(o, "type"), *s = orc_json_str(o, "status");
        if (t && s && strcmp(t, type) == 0 && strcmp(s, status) == 0)
            since = orc_json_str(o, "lastTransitionTime");
    }
    c = json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status", status, "lastProbeTime",
                  "lastTransitionTime", since ? since : now);
    if (!ok && reason) json_object_set_new(c, "reason", json_string(reason));
    if (!ok && message && *message) json_object_set_new(c, "message", json_string(message));
    json_array_append_new(conds, c);
}

static void unready_list(const struct worker *w, bool init, struct orc_buf *b)
{
    orc_buf_puts(b, init ? "containers with incomplete status: [" : "containers with unready status: [");
    size_t from = init ? 0 : w->n_init, to = init ? w->n_init : w->n_ctrs, n = 0;
    for (size_t i = from; i < to; i++) {
        const struct ctr *c = &w->ctrs[i];
        bool ok = init ? c->st == CS_EXITED && c->exited.exit_code == 0 : c->st == CS_RUNNING && c->is_ready;
        if (!ok) orc_buf_printf(b, "%s%s", n++ ? " " : "", c->name);
    }
    orc_buf_puts(b, "]");
}

static json_t *conditions(const struct worker *w, bool inits_done, bool terminal)
{
    const json_t *old = orc_json_get(w->reported, "conditions");
    struct orc_buf ib = ORC_BUF_INIT, rb = ORC_BUF_INIT;
    json_t *conds = json_array();
    bool ready = !terminal;
    char now[ORC_TIME_LEN];

    orc_time_format(worker_wall_s(w), now);

    for (size_t i = w->n_init; i < w->n_ctrs; i++)
        ready &= w->ctrs[i].st == CS_RUNNING && w->ctrs[i].is_ready;
    unready_list(w, true, &ib);
    unready_list(w, false, &rb);
    add_condition(conds, old, now, "Initialized", inits_done, "ContainersNotInitialized", ib.data);
    add_condition(conds, old, now, "Ready", ready, terminal ? "PodCompleted" : "ContainersNotReady",
                  terminal ? NULL : rb.data);
    add_condition(conds, old, now, "ContainersReady", ready, terminal ? "PodCompleted" : "ContainersNotReady",
                  terminal ? NULL : rb.data);
    add_condition(conds, old, now, "PodScheduled", true, NULL, NULL);
    orc_buf_free(&ib);
    orc_buf_free(&rb);
    return conds;
}

/* ---- the whole status ---- */

json_t *pod_status_build(struct worker *w)
{
    const json_t *cur = orc_json_get(w->pod, "status");
    json_t *st = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    json_t *ics = json_array(), *cs = json_array();
    const char *phase = pod_phase(w);
    if (strcmp(phase, "Running") == 0) agent_metrics_pod_running(w);
    bool inits_done = true, terminal = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");

    if (st == NULL || ics == NULL || cs == NULL) {
        json_decref(st);
        json_decref(ics);
        json_decref(cs);
        return NULL;
    }
    for (size_t i = 0; i < w->n_init; i++)
        inits_done &= w->ctrs[i].st == CS_EXITED && w->ctrs[i].exited.exit_code == 0;
    for (size_t i = 0; i < w->n_ctrs; i++)
        json_array_append_new(i < w->n_init ? ics : cs, container_status(&w->ctrs[i], inits_done));
    json_object_set_new(st, "phase", json_string(phase));
    json_object_set_new(st, "conditions", conditions(w, inits_done, terminal));
    json_object_set_new(st, "hostIP", json_string(w->a->node_ip));
    json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", w->a->node_ip));
    if (w->pod_ip[0]) {
        json_object_set_new(st, "podIP", json_string(w->pod_ip));
        json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", w->pod_ip));
    }
    if (w->start_time[0]) json_object_set_new(st, "startTime", json_string(w->start_time));
    if (w->n_init) json_object_set_new(st, "initContainerStatuses", ics);
    else json_decref(ics);
    json_object_set_new(st, "containerStatuses", cs);
    return st;
}
