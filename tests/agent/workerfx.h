/* workerfx.h — the pod worker (agent/worker*.c) alone, unprivileged and in
 * milliseconds: a bare agent whose runtime is tests/agent/fakert.h, whose
 * clock is fake, and whose API calls (status writes, Events, the final
 * DELETE) are answered by this fixture, which keeps them for the checks.
 * Every answer, like every runtime callback, comes from a timer of the
 * fake clock: wfx_advance(ms) moves the whole pod along.
 *
 * Pods here use hostNetwork (the pod network needs root) and no volumes. */
#ifndef ORC_TESTS_WORKERFX_H
#define ORC_TESTS_WORKERFX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/worker_int.h"
#include "lib/json.h"
#include "lib/file.h"
#include "tests/agent/fakert.h"
#include "tests/harness/test.h"

#define WFX_UID "0f0f0f0f-1111-2222-3333-444444444444"
#define WFX_WALL_START 1790000000000LL /* 2026-09-21: any fixed wall time */

struct wfx {
    orc_clock *clock;
    struct fakert *rt;
    struct agent *a;
    json_t *calls;   /* [{method, path, body}] in the order the agent made them */
    int answers;     /* in flight */
    int event_seq;
    struct worker *w;
};

static struct wfx X;

struct wfx_answer {
    orc_timer *t;
    agent_api_cb cb;
    void *arg;
    int status;
    json_t *body;
};

static void wfx_answered(void *arg)
{
    struct wfx_answer *an = arg;

    X.answers--;
    an->cb(an->arg, an->status, an->body);
    json_decref(an->body);
    orc_timer_close(an->t);
    free(an);
}

/* The API server's side: 200 with the written status, 201 with a name for
 * a new Event, 200 for the rest. */
static int wfx_api(void *hook_arg, const char *method, const char *path, const char *content_type,
                   const json_t *body, agent_api_cb cb, void *arg)
{
    struct wfx_answer *an = calloc(1, sizeof *an);

    (void)hook_arg, (void)content_type;
    if (an == NULL || orc_timer_new(X.clock, wfx_answered, an, &an->t) != 0) {
        free(an);
        return ORC_ENOMEM;
    }
    json_array_append_new(X.calls, json_pack("{s:s, s:s, s:O?}", "method", method, "path", path, "body", body));
    an->cb = cb;
    an->arg = arg;
    an->status = 200;
    if (strcmp(method, "PATCH") == 0 && strstr(path, "/status"))
        an->body = json_pack("{s:O}", "status", json_object_get(json_array_get(body, 0), "value"));
    else if (strcmp(method, "POST") == 0 && strstr(path, "/events")) {
        an->status = 201;
        an->body = json_pack("{s:{s:o}}", "metadata", "name", json_sprintf("ev-%d", ++X.event_seq));
    } else an->body = json_object();
    X.answers++;
    orc_timer_start(an->t, 0);
    return 0;
}

static const json_t *wfx_lookup(void *arg, const char *kind, const char *ns, const char *name)
{
    (void)arg, (void)kind, (void)ns, (void)name;
    return NULL;
}

/* As agent.c routes exits: by the pod uid the container id starts with. */
static void wfx_exited(void *arg, const char *id)
{
    struct agent *a = arg;
    char uid[AGENT_UID_LEN + 1];
    struct worker *w;

    if (strlen(id) <= AGENT_UID_LEN) return;
    memcpy(uid, id, AGENT_UID_LEN);
    uid[AGENT_UID_LEN] = '\0';
    if ((w = agent_worker(a, uid)) != NULL) worker_container_exited(w, id);
}

/* ---- moving time ---- */

/* Runs everything due now (answers, runtime callbacks, syncs). */
static inline void wfx_settle(void) { orc_clock_fake_advance(X.clock, 0); }
static inline void wfx_advance(uint64_t ms) { orc_clock_fake_advance(X.clock, ms); }
static inline uint64_t wfx_now(void) { return orc_clock_now(X.clock); }

/* ---- setup ---- */

static void wfx_teardown(void *arg)
{
    struct worker *w, *next;
    uint64_t d;
    int guard = 0;

    (void)arg;
    for (w = X.a->workers; w; w = next) {
        next = worker_next(w);
        worker_shutdown(w);
    }
    /* Deliver what is still in flight: it holds worker references. */
    while (orc_clock_fake_next(X.clock, &d) && guard++ < 10000) orc_clock_fake_advance(X.clock, d);
    fakert_free(X.rt);
    orc_clock_free(X.clock);
    json_decref(X.calls);
    free(X.a);
    memset(&X, 0, sizeof X);
}

static void wfx_init(void)
{
    const char *dir = test_tmpdir();
    struct agent *a;

    memset(&X, 0, sizeof X);
    X.clock = orc_clock_fake(WFX_WALL_START);
    X.rt = fakert_new(X.clock);
    X.calls = json_array();
    X.a = a = calloc(1, sizeof *a);
    CHECK(X.clock && X.rt && X.calls && a);
    test_defer(wfx_teardown, NULL);
    a->clock = X.clock;
    a->rt = fakert_handle(X.rt);
    a->api_hook = wfx_api;
    a->node_name = (char *)"node-1";
    a->node_ip = (char *)"127.0.0.1";
    a->lookup.get = wfx_lookup;
    a->pods_listed = true;
    snprintf(a->pods_dir, sizeof a->pods_dir, "%s/pods", dir);
    snprintf(a->claims_dir, sizeof a->claims_dir, "%s/claims", dir);
    snprintf(a->volumes_dir, sizeof a->volumes_dir, "%s/volumes", dir);
    snprintf(a->pod_log_dir, sizeof a->pod_log_dir, "%s/log/pods", dir);
    snprintf(a->ctr_log_dir, sizeof a->ctr_log_dir, "%s/log/containers", dir);
    CHECK_INT(orc_mkdirs(a->ctr_log_dir, 0755), ==, 0); /* agent_start makes them */
    rth_on_exit(&a->rt, wfx_exited, a);
}

/* A pod with one container "app" (image `image`), hostNetwork, the given
 * restartPolicy; `extra` (JSON object text or NULL) is merged into spec. */
static inline json_t *wfx_pod(const char *image, const char *policy, const char *extra)
{
    json_t *pod = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:b, s:s, s:[{s:s, s:s, s:[s]}]}}", "metadata",
                            "name", "p", "namespace", "default", "uid", WFX_UID, "spec", "nodeName",
                            "node-1", "hostNetwork", 1, "restartPolicy", policy, "containers", "name",
                            "app", "image", image, "command", "/bin/app");

    if (extra) {
        json_t *e = json_loads(extra, 0, NULL);
        CHECKF(e, "bad extra JSON %s", extra);
        json_object_update(json_object_get(pod, "spec"), e);
        json_decref(e);
    }
    return pod;
}

/* The worker for `pod` (the pod reference is the caller's), settled. */
static inline struct worker *wfx_start(const json_t *pod)
{
    X.w = worker_new(X.a, pod);
    CHECK(X.w != NULL);
    wfx_settle();
    return X.w;
}

/* ---- what the agent wrote ---- */

/* The last status written (borrowed), or NULL. */
static inline const json_t *wfx_status(void)
{
    for (size_t i = json_array_size(X.calls); i-- > 0;) {
        const json_t *c = json_array_get(X.calls, i);
        if (strcmp(orc_json_str(c, "method"), "PATCH") == 0 && strstr(orc_json_str(c, "path"), "/status"))
            return json_object_get(json_array_get(json_object_get(c, "body"), 0), "value");
    }
    return NULL;
}

static inline const json_t *wfx_ctr_status(const char *name)
{
    size_t i;
    const json_t *cs;

    json_array_foreach(orc_json_get(wfx_status(), "containerStatuses"), i, cs)
        if (strcmp(orc_json_str(cs, "name"), name) == 0) return cs;
    return NULL;
}

/* "running", "waiting:<reason>", "terminated:<reason>" of container `name`
 * as last written; "" when not written. */
static inline const char *wfx_state(const char *name)
{
    static char buf[128];
    const json_t *st = json_object_get(wfx_ctr_status(name), "state");
    const char *k = NULL;
    const json_t *v;

    buf[0] = '\0';
    json_object_foreach((json_t *)st, k, v) {
        const char *r = orc_json_str(v, "reason");
        snprintf(buf, sizeof buf, "%s%s%s", k, r ? ":" : "", r ? r : "");
        break;
    }
    return buf;
}

static inline int64_t wfx_restarts(const char *name)
{
    int64_t n = -1;

    orc_json_int(wfx_ctr_status(name), "restartCount", &n);
    return n;
}

static inline const char *wfx_phase(void) { return orc_json_str(wfx_status(), "phase") ?: ""; }

/* How many Events with this reason were posted. */
static inline int wfx_events(const char *reason)
{
    size_t i;
    const json_t *c;
    int n = 0;

    json_array_foreach(X.calls, i, c) {
        const char *r = orc_json_str(c, "body.reason");
        if (strcmp(orc_json_str(c, "method"), "POST") == 0 && r && strcmp(r, reason) == 0) n++;
    }
    return n;
}

/* How many calls with this method and a path containing `part`. */
static inline int wfx_calls(const char *method, const char *part)
{
    size_t i;
    const json_t *c;
    int n = 0;

    json_array_foreach(X.calls, i, c)
        if (strcmp(orc_json_str(c, "method"), method) == 0 && strstr(orc_json_str(c, "path"), part)) n++;
    return n;
}

/* The id of the running "app"-like container `name`, or "" when none runs. */
static inline const char *wfx_running(const char *name)
{
    const struct fakert_ctr *c = fakert_running(X.rt, WFX_UID, name);
    return c ? c->id : "";
}

#endif
