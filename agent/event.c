/* event.c — the Events a kubelet records about a pod (Started, Killing,
 * Failed, BackOff, Unhealthy), so `orctl describe pod` tells what
 * happened. The same event again within ten minutes bumps the count of
 * the one already written instead of making another, as the kubelet's
 * recorder does. Events never hold up a pod: failures are only logged. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/worker_int.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define EVENT_MERGE_MS (10 * 60 * 1000)

struct event_call {
    struct worker *w;
    struct pod_event *slot;
    uint64_t key;
};

static void on_written(void *arg, int status, const json_t *body)
{
    struct event_call *c = arg;
    struct pod_event *e = c->slot;
    const char *name = orc_json_str(body, "metadata.name");

    if (e->key == c->key) {
        e->busy = false;
        if ((status == 200 || status == 201) && name) snprintf(e->name, sizeof e->name, "%s", name);
        else e->key = 0; /* write a new one next time */
    }
    if (status < 0 || status >= 300)
        log_debug(AGENT_LOG, "recording an event for pod %s/%s: %d %s", c->w->ns, c->w->name, status,
                  orc_json_str(body, "message") ?: "");
    worker_put(c->w);
    free(c);
}

static int write_event(struct worker *w, struct pod_event *e, const char *method, const char *path,
                const char *ctype, const json_t *body)
{
    struct event_call *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    *c = (struct event_call){w, e, e->key};
    e->busy = true;
    worker_hold(w);
    if ((rv = agent_api_call(w->a, method, path, ctype, body, on_written, c)) != 0) {
        e->busy = false;
        worker_put(w);
        free(c);
    }
    return rv;
}

static json_t *new_event(struct worker *w, const char *field, bool warning, const char *reason,
                         const char *msg, const char *now)
{
    json_t *ref = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "Pod", "apiVersion", "v1", "namespace",
                            w->ns, "name", w->name, "uid", w->uid);
    char name[300];

    if (ref && field) json_object_set_new(ref, "fieldPath", json_string(field));
    /* named as the kubelet names them: pod name and the time in hex ns */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, sizeof name, "%.230s.%llx", w->name,
             (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:s, s:s, s:s}",
                     "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace",
                     w->ns, "involvedObject", ref, "reason", reason, "message", msg, "source",
                     "component", "kubelet", "host", w->a->node_name, "firstTimestamp", now,
                     "lastTimestamp", now, "count", 1, "type", warning ? "Warning" : "Normal",
                     "reportingComponent", "kubelet", "reportingInstance", w->a->node_name);
}

/* The slot for this key: the same event, else a free or the oldest one. */
static struct pod_event *slot_for(struct worker *w, uint64_t key)
{
    struct pod_event *old = &w->events[0];

    for (size_t i = 0; i < WORKER_EVENTS; i++) {
        struct pod_event *e = &w->events[i];
        if (e->key == key) return e;
        if (e->last_ms < old->last_ms) old = e;
    }
    return old;
}

void worker_event(struct worker *w, const struct ctr *c, bool warning, const char *reason, const char *fmt, ...)
{
    char msg[600], field[96] = "", now[ORC_TIME_LEN], path[512];
    uint64_t key, t = worker_now(w);
    struct pod_event *e;
    json_t *body;
    va_list ap;

    if (w->shut) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c) snprintf(field, sizeof field, "spec.%s{%s}", c->init ? "initContainers" : "containers", c->name);
    key = orc_fnv1a(orc_fnv1a(orc_fnv1a(ORC_FNV_OFFSET, reason, strlen(reason) + 1), field, strlen(field) + 1),
                    msg, strlen(msg));
    e = slot_for(w, key);
    orc_time_format(worker_wall_s(w), now);
    if (e->key == key && e->busy) return; /* its first write is in flight */
    if (e->key == key && e->name[0] && t - e->first_ms < EVENT_MERGE_MS) {
        e->count++;
        e->last_ms = t;
        body = json_pack("{s:i, s:s}", "count", e->count, "lastTimestamp", now);
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/events/%s", w->ns, e->name);
        write_event(w, e, "PATCH", path, "application/merge-patch+json", body);
        json_decref(body);
        return;
    }
    *e = (struct pod_event){.key = key, .count = 1, .first_ms = t, .last_ms = t};
    body = new_event(w, c ? field : NULL, warning, reason, msg, now);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", w->ns);
    if (body) write_event(w, e, "POST", path, NULL, body);
    json_decref(body);
}
