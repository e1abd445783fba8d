/* informer_sync.c — the informer's calls: LIST (delivered as a diff against
 * the cache), then WATCH from its resourceVersion, parsing event lines out of
 * the stream; deciding after each call what comes next. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/informer_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define WATCH_HEAD_TIMEOUT_MS 30000
#define WATCH_IDLE_MS 45000 /* the server sends a bookmark every 10 s */
#define WATCH_CHECK_MS 15000
#define LINE_MAX_BYTES (64u << 20)
#define LIST_TIMEOUT_MS 60000

/* The client was closed under us: nothing to retry on. */
static void go_idle(informer *inf)
{
    log_warn("informer", "%s: the HTTP client is closed; the informer stays idle", inf->path);
}

static char *make_path(const informer *inf, const char *extra)
{
    struct orc_buf p = ORC_BUF_INIT;
    char sep = strchr(inf->path, '?') ? '&' : '?';
    bool q = inf->query[0] != '\0';
    int rv = orc_buf_puts(&p, inf->path);

    if (rv == 0 && (q || extra))
        rv = orc_buf_printf(&p, "%c%s%s%s", sep, inf->query, q && extra ? "&" : "",
                            extra ? extra : "");
    if (rv != 0) {
        orc_buf_free(&p);
        return NULL;
    }
    return orc_buf_steal(&p, NULL);
}

/* ---- list ---- */

/* The list is the new truth: what it shows is upserted, cached keys it did
 * not show go away. */
static int apply_list(informer *inf, json_t *items)
{
    char key[INF_KEY_MAX];
    json_t *obj;
    size_t i;
    int rv = 0;

    inf->list_gen++;
    json_array_foreach(items, i, obj) {
        if (rv != 0 || inf->stopped) break;
        if (!json_is_object(obj) || inf__key(obj, key, sizeof key) != 0) continue;
        rv = inf__upsert(inf, key, obj);
    }
    if (rv == 0 && !inf->stopped) inf__drop_unlisted(inf);
    return rv;
}

static void list_done(informer *inf, int err, const struct http_response *resp)
{
    json_t *l, *items;
    const char *rvs;
    int rv = ORC_EPROTO;

    if (err == ORC_ECANCELED || err == ORC_ESHUTDOWN) {
        go_idle(inf);
        return;
    }
    if (err != 0 || resp->status != 200) {
        inf__failed(inf, INF_LIST, err, err ? 0 : resp->status);
        return;
    }
    l = orc_json_loadb(resp->body, resp->body_len, JSON_ALLOW_NUL, NULL);
    items = json_object_get(l, "items");
    rvs = orc_json_str(l, "metadata.resourceVersion");
    if (json_is_array(items) && rvs) {
        inf->rv = strtoll(rvs, NULL, 10); /* the list is the new truth */
        rv = apply_list(inf, items);
    }
    json_decref(l);
    if (inf->stopped) return;
    if (rv != 0) {
        inf__failed(inf, INF_LIST, rv, 0);
        return;
    }
    inf__succeeded(inf, INF_LIST);
    if (!inf->synced) {
        inf->synced = true;
        inf__emit_synced(inf);
        if (inf->stopped) return;
    }
    inf__watch(inf);
}

static void on_list(void *arg, int err, const struct http_response *resp)
{
    informer *inf = arg;

    inf->call = NULL;
    inf->canceled = false;
    if (!inf->stopped) list_done(inf, err, resp);
    inf__release(inf); /* the call's */
}

int inf__list_begin(informer *inf)
{
    struct http_request req = {.method = "GET", .timeout_ms = LIST_TIMEOUT_MS};
    char *path = make_path(inf, NULL);
    int rv;

    if (path == NULL) return ORC_ENOMEM;
    req.path = path;
    rv = http_request(inf->c, &req, on_list, inf, &inf->call);
    free(path);
    if (rv == 0) inf__hold(inf);
    return rv;
}

void inf__list(informer *inf)
{
    int rv = inf__list_begin(inf);

    if (rv == ORC_ESHUTDOWN) go_idle(inf);
    else if (rv != 0) inf__failed(inf, INF_LIST, rv, 0);
}

/* ---- watch ---- */

/* Ends the current watch early; on_end decides what follows from the flags. */
static void cut(informer *inf)
{
    if (inf->call == NULL || inf->canceled) return;
    inf->canceled = true;
    http_call_cancel(inf->call);
}

static void on_error_event(informer *inf, const json_t *status)
{
    int64_t code = 0;
    const char *msg = orc_json_str(status, "message");

    orc_json_int(status, "code", &code);
    if (code == 410) {
        inf->want_relist = true;
    } else {
        inf->error_code = code ? (int)code : 500;
        if (inf->error_code != inf->last_cause) /* else a repeat: once is enough */
            log_warn("informer", "%s: watch error %d: %s", inf->path, inf->error_code,
                     msg ? msg : "(no message)");
    }
    cut(inf);
}

static void apply_event(informer *inf, const char *type, json_t *obj)
{
    char key[INF_KEY_MAX];

    inf__saw_version(inf, orc_json_str(obj, "metadata.resourceVersion"));
    if (strcmp(type, "BOOKMARK") == 0 || inf__key(obj, key, sizeof key) != 0) return;
    if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
        if (inf__upsert(inf, key, obj) != 0) {
            inf->want_relist = true; /* the cache missed a change */
            cut(inf);
        }
    } else if (strcmp(type, "DELETED") == 0) {
        inf__remove(inf, key, obj);
    }
}

static void on_line(informer *inf, const char *line, size_t len)
{
    json_t *ev = orc_json_loadb(line, len, JSON_ALLOW_NUL, NULL);
    const char *type = orc_json_str(ev, "type");
    json_t *obj = json_object_get(ev, "object");

    if (type == NULL || !json_is_object(obj)) {
        log_warn("informer", "%s: unparsable watch event; relisting", inf->path);
        inf->want_relist = true;
        cut(inf);
    } else if (strcmp(type, "ERROR") == 0) {
        on_error_event(inf, obj);
    } else {
        if (!inf->got_events) {
            inf->got_events = true;
            inf__succeeded(inf, INF_WATCH);
        }
        apply_event(inf, type, obj);
    }
    json_decref(ev);
}

static void on_head(void *arg, const struct http_response *resp)
{
    informer *inf = arg;

    if (inf->stopped) return;
    inf->watch_status = resp->status;
    inf->last_data = uv_now(inf->loop);
    if (resp->status == 200) inf__arm_watchdog(inf, WATCH_CHECK_MS);
}

static void on_data(void *arg, const char *data, size_t len)
{
    informer *inf = arg;
    size_t start = 0;
    char *nl;

    if (inf->stopped || inf->canceled || inf->watch_status != 200) return;
    inf->last_data = uv_now(inf->loop);
    if (inf->pending.len + len > LINE_MAX_BYTES || orc_buf_append(&inf->pending, data, len) != 0) {
        log_warn("informer", "%s: watch event over %u bytes or out of memory; relisting",
                 inf->path, LINE_MAX_BYTES);
        inf->want_relist = true;
        cut(inf);
        return;
    }
    while (!inf->stopped && !inf->canceled &&
           (nl = memchr(inf->pending.data + start, '\n', inf->pending.len - start)) != NULL) {
        size_t n = (size_t)(nl - (inf->pending.data + start));
        if (n > 0) on_line(inf, inf->pending.data + start, n);
        start += n + 1;
    }
    if (inf->stopped) return;
    memmove(inf->pending.data, inf->pending.data + start, inf->pending.len - start);
    inf->pending.len -= start;
}

/* The first 410 relists at once (the usual case after a reconnect); 410s in
 * a row with no event between back off, and are logged once. */
static void relist_after_gone(informer *inf)
{
    unsigned delay = ++inf->gone_streak > 1 ? inf__backoff_step(inf) : 0;

    if (inf->gone_streak == 1)
        log_info("informer", "%s: resourceVersion %" PRId64 " is gone; relisting", inf->path,
                 inf->rv);
    else
        log_debug("informer", "%s: 410 again; relisting in %u ms", inf->path, delay);
    if (delay == 0) inf__list(inf);
    else inf__schedule(inf, INF_LIST, delay);
}

/* What follows a watch that ended with err (our own cancel included). */
static void watch_done(informer *inf, int err, bool by_us)
{
    if (!by_us && (err == ORC_ECANCELED || err == ORC_ESHUTDOWN)) {
        go_idle(inf);
    } else if (inf->want_relist || inf->watch_status == 410) {
        relist_after_gone(inf);
    } else if (inf->idle_cut) {
        inf__watch(inf);
    } else if (inf->watch_status != 200) {
        inf__failed(inf, INF_WATCH, inf->watch_status ? 0 : err, inf->watch_status);
    } else if (inf->error_code) {
        inf__failed(inf, INF_WATCH, 0, inf->error_code);
    } else if (inf->got_events) {
        inf__watch(inf); /* the server ended a stream that worked: resume at once */
    } else {
        inf__failed(inf, INF_WATCH, err ? err : ORC_EIO, 0);
    }
}

static void on_end(void *arg, int err)
{
    informer *inf = arg;
    bool by_us = inf->canceled;

    inf->call = NULL;
    inf->canceled = false;
    if (!inf->stopped) {
        inf__disarm(inf);
        watch_done(inf, err, by_us);
    }
    inf__release(inf); /* the call's */
}

void inf__watch(informer *inf)
{
    static const struct http_stream_cbs cbs = {on_head, on_data, on_end};
    struct http_request req = {.method = "GET", .timeout_ms = WATCH_HEAD_TIMEOUT_MS};
    char extra[96];
    int rv;

    snprintf(extra, sizeof extra, "watch=1&resourceVersion=%" PRId64 "&allowWatchBookmarks=true",
             inf->rv);
    req.path = make_path(inf, extra);
    if (req.path == NULL) {
        inf__failed(inf, INF_WATCH, ORC_ENOMEM, 0);
        return;
    }
    orc_buf_reset(&inf->pending);
    inf->watch_status = inf->error_code = 0;
    inf->got_events = inf->want_relist = inf->idle_cut = false;
    rv = http_stream(inf->c, &req, &cbs, inf, &inf->call);
    free((char *)req.path);
    if (rv == 0) inf__hold(inf);
    else if (rv == ORC_ESHUTDOWN) go_idle(inf);
    else inf__failed(inf, INF_WATCH, rv, 0);
}

void inf__watch_check(informer *inf)
{
    if (uv_now(inf->loop) - inf->last_data < WATCH_IDLE_MS) return;
    log_info("informer", "%s: no watch data for %u s; re-watching", inf->path,
             WATCH_IDLE_MS / 1000);
    inf->idle_cut = true;
    cut(inf);
}
