/* events.c — the event recorder (see events.h). Recent events sit in a
 * bounded LRU keyed by (object, type, reason, message); a repeat within ten
 * minutes of the last one becomes a merge PATCH of count and lastTimestamp
 * on the stored Event, anything else a POST of a new one. Few writes are in
 * flight at once, the rest wait in a bounded FIFO: events yield the client's
 * connections to the component's own writes (a burst of bindings goes first,
 * its Scheduled events follow), as Kubernetes' broadcaster queues them. */
#include "client/events.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define MERGE_WINDOW_MS (10 * 60 * 1000)
#define LRU_MAX 4096
#define MSG_MAX 1024
#define FAIL_LOG_EVERY_MS 10000
#define NAME_MAX_LEN 254
#define IN_FLIGHT_MAX 8     /* writes on the wire at once */
#define QUEUED_MAX 16384    /* past this, events are dropped (and counted in the log) */

struct ev_entry {
    struct orc_hnode node; /* in r->recent, keyed by `key` */
    struct orc_link lru;   /* in r->lru, most recent last */
    char name[NAME_MAX_LEN]; /* the stored Event's name; "" until the POST answered */
    char ns[64];
    int count;       /* occurrences so far */
    int sent;        /* count the server has */
    int64_t first_ms, last_ms;
    int writing;     /* writes in flight about it */
    bool evicted;    /* out of the LRU; freed when no write needs it */
    char key[];
};

struct event_recorder {
    http_client *c;
    orc_clock *clk;
    char *component, *host;
    struct orc_hmap recent;
    struct orc_link lru;
    size_t n;
    int refs;           /* the owner's, and one per write in flight */
    bool closed;
    uint64_t last_fail_log; /* failures are logged once per FAIL_LOG_EVERY_MS */
    bool logged_fail;
    uint64_t seq;           /* makes names unique within a millisecond */
    unsigned fails_unlogged;
    unsigned inflight;      /* writes on the wire */
    size_t nqueued;
    struct orc_link queue;  /* struct ev_write waiting for a place, oldest first */
};

struct ev_write {
    event_recorder *r;
    struct ev_entry *e;
    int count; /* the count this write carries */
    bool post;
    /* while queued */
    struct orc_link link;
    const char *method, *ctype; /* static strings */
    char *path;
    char *body; /* compact JSON text: a fraction of the tree's memory */
};

/* ---- lifetime ---- */

static void entry_free(struct ev_entry *e) { free(e); }

static void recorder_release(event_recorder *r)
{
    struct orc_link *l;

    if (--r->refs > 0) return;
    while (!orc_list_empty(&r->lru)) {
        l = r->lru.next;
        orc_list_remove(l);
        entry_free(ORC_CONTAINER(l, struct ev_entry, lru));
    }
    orc_hmap_free(&r->recent);
    free(r->component);
    free(r->host);
    free(r);
}

int events_new(http_client *c, orc_clock *clk, const char *component, const char *host,
               event_recorder **out)
{
    event_recorder *r;

    if (c == NULL || clk == NULL || component == NULL || out == NULL) return ORC_EINVAL;
    r = calloc(1, sizeof *r);
    if (r == NULL) return ORC_ENOMEM;
    r->c = c;
    r->clk = clk;
    r->refs = 1;
    orc_list_init(&r->lru);
    orc_list_init(&r->queue);
    r->component = strdup(component);
    r->host = host ? strdup(host) : NULL;
    if (r->component == NULL || (host && r->host == NULL)) {
        recorder_release(r);
        return ORC_ENOMEM;
    }
    *out = r;
    return 0;
}

static void write_free(struct ev_write *w)
{
    struct ev_entry *e = w->e;
    event_recorder *r = w->r;

    e->writing--;
    if (e->evicted && e->writing == 0) entry_free(e);
    free(w->path);
    free(w->body);
    free(w);
    recorder_release(r);
}

void events_free(event_recorder *r)
{
    if (r == NULL || r->closed) return;
    r->closed = true;
    r->refs++; /* dropping the queue must not free r under us */
    while (!orc_list_empty(&r->queue)) { /* best effort: never sent */
        struct ev_write *w = ORC_CONTAINER(r->queue.next, struct ev_write, link);
        orc_list_remove(&w->link);
        r->nqueued--;
        write_free(w);
    }
    recorder_release(r);
    recorder_release(r);
}

/* ---- the LRU ---- */

static void evict(event_recorder *r, struct ev_entry *e)
{
    orc_hmap_del(&r->recent, &e->node);
    orc_list_remove(&e->lru);
    r->n--;
    e->evicted = true;
    if (e->writing == 0) entry_free(e);
}

static struct ev_entry *entry_get(event_recorder *r, const char *key, bool *fresh)
{
    struct orc_hnode *n = orc_hmap_get(&r->recent, key);
    struct ev_entry *e;
    size_t len;

    *fresh = false;
    if (n) {
        e = ORC_CONTAINER(n, struct ev_entry, node);
        orc_list_remove(&e->lru);
        orc_list_push(&r->lru, &e->lru);
        return e;
    }
    if (r->n >= LRU_MAX) evict(r, ORC_CONTAINER(r->lru.next, struct ev_entry, lru));
    len = strlen(key);
    e = calloc(1, sizeof *e + len + 1);
    if (e == NULL) return NULL;
    memcpy(e->key, key, len + 1);
    e->node.key = e->key;
    if (orc_hmap_put(&r->recent, &e->node) != 0) {
        free(e);
        return NULL;
    }
    orc_list_push(&r->lru, &e->lru);
    r->n++;
    *fresh = true;
    return e;
}

/* ---- writes ---- */

static void log_failure(event_recorder *r, const char *what, int status, const json_t *body)
{
    uint64_t now = orc_clock_now(r->clk);

    if (r->logged_fail && now < r->last_fail_log + FAIL_LOG_EVERY_MS) {
        r->fails_unlogged++;
        return;
    }
    log_warn("events", "%s: cannot %s an event (%d): %s; %u failures since the last report", r->component,
             what, status, rest_message(status, body), r->fails_unlogged);
    r->last_fail_log = now;
    r->logged_fail = true;
    r->fails_unlogged = 0;
}

static void send_patch(event_recorder *r, struct ev_entry *e);
static void pump(event_recorder *r);

static void on_written(void *arg, int status, const json_t *body)
{
    struct ev_write *w = arg;
    event_recorder *r = w->r;
    struct ev_entry *e = w->e;
    bool ok = status >= 200 && status < 300;
    const char *name = orc_json_str(body, "metadata.name");

    e->writing--;
    r->inflight--;
    if (!ok && !r->closed) log_failure(r, w->post ? "create" : "update", status, body);
    if (ok) {
        if (w->post && name) snprintf(e->name, sizeof e->name, "%s", name);
        if (w->count > e->sent) e->sent = w->count;
    } else if (!w->post && status == 404) {
        e->name[0] = '\0'; /* gone (expired): the next repeat writes a new one */
        e->count = e->sent = 0;
    }
    if (!r->closed && !e->evicted && ok && e->count > e->sent && e->name[0] && e->writing == 0)
        send_patch(r, e); /* repeats that came while the POST was in flight */
    if (e->evicted && e->writing == 0) entry_free(e);
    free(w);
    if (!r->closed) pump(r);
    recorder_release(r);
}

/* Puts w on the wire; false (w freed, failure logged) when it cannot go. */
static bool send_write(event_recorder *r, struct ev_write *w, const char *path, const json_t *body)
{
    int rv = rest_call(r->c, w->method, path, w->ctype, body, 0, on_written, w);

    if (rv == 0) {
        r->inflight++;
        return true;
    }
    log_failure(r, w->post ? "create" : "update", rv, NULL);
    write_free(w);
    return false;
}

/* Sends queued writes while there is room, oldest first. */
static void pump(event_recorder *r)
{
    while (r->inflight < IN_FLIGHT_MAX && !orc_list_empty(&r->queue)) {
        struct ev_write *w = ORC_CONTAINER(r->queue.next, struct ev_write, link);
        char *path = w->path, *text = w->body;
        json_t *body = json_loads(text, 0, NULL);

        orc_list_remove(&w->link);
        r->nqueued--;
        w->path = NULL;
        w->body = NULL;
        if (body) {
            send_write(r, w, path, body);
        } else {
            log_failure(r, w->post ? "create" : "update", ORC_ENOMEM, NULL);
            write_free(w);
        }
        free(path);
        free(text);
        json_decref(body);
    }
}

static void start_write(event_recorder *r, struct ev_entry *e, const char *method,
                        const char *path, const char *ctype, const json_t *body, bool post)
{
    struct ev_write *w = calloc(1, sizeof *w);

    if (w == NULL) {
        log_failure(r, post ? "create" : "update", ORC_ENOMEM, NULL);
        return;
    }
    *w = (struct ev_write){.r = r, .e = e, .count = e->count, .post = post, .method = method,
                           .ctype = ctype};
    e->writing++;
    r->refs++;
    if (r->inflight < IN_FLIGHT_MAX) {
        send_write(r, w, path, body);
        return;
    }
    if (r->nqueued >= QUEUED_MAX || (w->path = strdup(path)) == NULL
        || (w->body = orc_json_dumps(body)) == NULL) {
        log_failure(r, post ? "create" : "update", r->nqueued >= QUEUED_MAX ? 429 : ORC_ENOMEM,
                    NULL);
        write_free(w);
        return;
    }
    orc_list_push(&r->queue, &w->link);
    r->nqueued++;
}

static void stamp(int64_t wall_ms, char out[ORC_TIME_LEN])
{
    orc_time_format(wall_ms / 1000, out);
}

static void send_patch(event_recorder *r, struct ev_entry *e)
{
    char path[512], last[ORC_TIME_LEN];
    json_t *p;

    stamp(e->last_ms, last);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events/%s", e->ns, e->name);
    p = json_pack("{s:i, s:s}", "count", e->count, "lastTimestamp", last);
    if (p == NULL) return;
    start_write(r, e, "PATCH", path, "application/merge-patch+json", p, false);
    json_decref(p);
}

static json_t *involved(const json_t *obj)
{
    static const char *const fields[][2] = {
        {"kind", "kind"},           {"apiVersion", "apiVersion"},
        {"metadata.namespace", "namespace"}, {"metadata.name", "name"},
        {"metadata.uid", "uid"},    {"metadata.resourceVersion", "resourceVersion"}};
    json_t *ref = json_object();

    for (size_t i = 0; ref && i < ORC_ARRAY_LEN(fields); i++) {
        const char *v = orc_json_str(obj, fields[i][0]);
        if (v && *v && json_object_set_new(ref, fields[i][1], json_string(v)) != 0) {
            json_decref(ref);
            return NULL;
        }
    }
    return ref;
}

static void send_post(event_recorder *r, struct ev_entry *e, const json_t *obj, const char *type,
                      const char *reason, const char *msg)
{
    char ts[ORC_TIME_LEN], name[NAME_MAX_LEN], path[128];
    const char *oname = orc_json_str(obj, "metadata.name");
    json_t *ev, *src;

    stamp(e->first_ms, ts);
    /* Named as Kubernetes' recorder names them: the object's name and the
     * time in hex nanoseconds (a generateName "<name>." is refused by the
     * API's name validation). */
    snprintf(name, sizeof name, "%.200s.%llx", oname ? oname : "event",
             (unsigned long long)e->first_ms * 1000000ull + r->seq++ % 1000000);
    src = json_pack("{s:s}", "component", r->component);
    if (src && r->host) json_object_set_new(src, "host", json_string(r->host));
    ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:o, s:s, s:s*, s:i, s:s, s:s}",
                   "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
                   "namespace", e->ns, "involvedObject", involved(obj), "type", type, "reason",
                   reason, "message", msg, "source", src, "reportingComponent", r->component,
                   "reportingInstance", r->host, "count", e->count, "firstTimestamp", ts,
                   "lastTimestamp", ts);
    if (ev == NULL) {
        log_failure(r, "create", ORC_ENOMEM, NULL);
        return;
    }
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", e->ns);
    start_write(r, e, "POST", path, NULL, ev, true);
    json_decref(ev);
}

/* ---- recording ---- */

/* What makes two events the same: object, type, reason, message. */
static int event_key(const json_t *obj, const char *type, const char *reason, const char *msg,
                     char **out)
{
    const char *uid = orc_json_str(obj, "metadata.uid");
    char *k = NULL;
    int n = asprintf(&k, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", orc_json_str(obj, "kind") ?: "",
                     orc_json_str(obj, "metadata.namespace") ?: "",
                     orc_json_str(obj, "metadata.name") ?: "", uid ? uid : "", type, reason, msg);

    if (n < 0) return ORC_ENOMEM;
    *out = k;
    return 0;
}

static void record(event_recorder *r, const json_t *obj, const char *type, const char *reason,
                   const char *msg)
{
    int64_t now = orc_clock_wall(r->clk);
    const char *ns = orc_json_str(obj, "metadata.namespace");
    struct ev_entry *e;
    char *key;
    bool fresh;

    if (event_key(obj, type, reason, msg, &key) != 0) {
        log_failure(r, "create", ORC_ENOMEM, NULL);
        return;
    }
    e = entry_get(r, key, &fresh);
    free(key);
    if (e == NULL) {
        log_failure(r, "create", ORC_ENOMEM, NULL);
        return;
    }
    if (!fresh && e->count > 0 && now - e->last_ms <= MERGE_WINDOW_MS) {
        e->count++;
        e->last_ms = now;
        /* while the POST is in flight, its answer sends the new count */
        if (e->name[0] && e->writing == 0) send_patch(r, e);
        else if (e->name[0] == '\0' && e->writing == 0) send_post(r, e, obj, type, reason, msg);
        return;
    }
    snprintf(e->ns, sizeof e->ns, "%s", ns && *ns ? ns : "default");
    e->name[0] = '\0';
    e->count = 1;
    e->sent = 0;
    e->first_ms = e->last_ms = now;
    send_post(r, e, obj, type, reason, msg);
}

void events_record(event_recorder *r, const json_t *obj, const char *type, const char *reason,
                   const char *fmt, ...)
{
    char msg[MSG_MAX + 1];
    va_list ap;

    if (r == NULL || r->closed || obj == NULL || type == NULL || reason == NULL || fmt == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    record(r, obj, type, reason, msg);
}
