/* watch.c — ?watch=1: newline-delimited JSON events over a chunked response.
 * Without resourceVersion (or "0") the current objects come first as ADDED;
 * with resourceVersion R, every change after R, or a 410 ERROR event when R
 * is older than the retained history. Selectors see objects move in and
 * out (ADDED/DELETED), as Kubernetes' watch cache does. A client too slow to
 * drain its backlog is cut off with an ERROR event. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/fields.h"
#include "lib/labels.h"
#include "lib/orc.h"

#define BOOKMARK_MS 10000

struct watch_op {
    struct api_server *s;
    struct api_req *r;
    struct api_route *rt;
    store_watch *w;
    struct api_filter f;
    uv_timer_t timer; /* bookmarks and timeoutSeconds */
    bool bookmarks;
    uint64_t end_at; /* loop time to end at, or 0 */
    bool ended;
    struct orc_buf line; /* reused per event */
};

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void watch_op_free(void *p)
{
    struct watch_op *op = p;

    api_filter_clear(&op->f);
    orc_buf_free(&op->line);
    api_release(op->s);
    uv_close((uv_handle_t *)&op->timer, timer_closed);
}

static void watch_end(struct watch_op *op)
{
    if (op->ended) return;
    op->ended = true;
    if (op->w) store_watch_stop(op->w);
    op->w = NULL;
    uv_timer_stop(&op->timer);
    if (op->r->streaming || api_req_gone(op->r)) api_http_stream_end(op->r);
    else api_respond_error(op->r, ORC_ESHUTDOWN, "watch");
}

static void on_gone(struct api_req *r) { watch_end(r->op); }

/* Sends op->line; a client that cannot keep up is told so and cut off. */
static void send_line(struct watch_op *op)
{
    int rv = api_http_stream_write(op->r, op->line.data, op->line.len, op->s->watch_queue);

    if (rv == ORC_ETOOBIG) {
        static const char msg[] =
            "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
            "\"metadata\":{},\"status\":\"Failure\",\"message\":\"watch closed: the client is "
            "not reading events fast enough\",\"reason\":\"Expired\",\"code\":410}}\n";
        api_http_stream_write(op->r, msg, sizeof msg - 1, SIZE_MAX);
    }
    if (rv != 0) watch_end(op);
}

static void send_error(struct watch_op *op, int code, const char *reason, const char *message)
{
    json_t *ev = json_pack("{s:s, s:{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}}", "type", "ERROR",
                           "object", "kind", "Status", "apiVersion", "v1", "metadata", "status",
                           "Failure", "message", message, "reason", reason, "code", code);
    orc_buf_reset(&op->line);
    if (ev && orc_json_dump(ev, &op->line) == 0 && orc_buf_append(&op->line, "\n", 1) == 0)
        send_line(op);
    json_decref(ev);
}

static void send_event(struct watch_op *op, const char *type, const struct store_kv *kv,
                       int64_t rev)
{
    orc_buf_reset(&op->line);
    orc_buf_printf(&op->line, "{\"type\":\"%s\",\"object\":", type);
    if (api_obj_append(&op->line, kv->value, kv->value_len, rev) != 0) return;
    orc_buf_puts(&op->line, "}\n");
    send_line(op);
}

static void on_event(void *arg, const struct store_event *ev, int err)
{
    struct watch_op *op = arg;
    bool now, before;

    if (ev == NULL) {
        op->w = NULL; /* the store frees it */
        if (err == ORC_ECOMPACTED)
            send_error(op, 410, "Expired",
                       "watch history was reset on this member; list again and re-watch");
        watch_end(op);
        return;
    }
    if (ev->type == STORE_EVENT_DELETE) {
        if (api_filter_match_kv(&op->f, ev->kv)) send_event(op, "DELETED", ev->kv, ev->revision);
        return;
    }
    now = api_filter_match_kv(&op->f, ev->kv);
    before = ev->prev != NULL && api_filter_match_kv(&op->f, ev->prev);
    if (now && before) send_event(op, "MODIFIED", ev->kv, ev->revision);
    else if (now) send_event(op, "ADDED", ev->kv, ev->revision);
    else if (before) send_event(op, "DELETED", ev->kv, ev->revision);
}

static void on_timer(uv_timer_t *t)
{
    struct watch_op *op = t->data;

    if (op->end_at && uv_now(op->s->loop) >= op->end_at) {
        watch_end(op);
        return;
    }
    if (!op->bookmarks) return;
    orc_buf_reset(&op->line);
    orc_buf_printf(&op->line,
                   "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
                   "\"metadata\":{\"resourceVersion\":\"%" PRId64 "\"}}}\n",
                   op->rt->kind->kind, orc_kind_api_version(op->rt->kind),
                   store_revision(op->s->st));
    send_line(op);
}

static void arm_timer(struct watch_op *op)
{
    uint64_t every = op->bookmarks ? BOOKMARK_MS : 0;
    uint64_t first = every;

    if (op->end_at) {
        uint64_t left = op->end_at - uv_now(op->s->loop);
        if (first == 0 || left < first) first = left;
        if (every == 0) every = left;
    }
    if (first) uv_timer_start(&op->timer, on_timer, first, every);
}

/* The current objects as ADDED events, returning the revision they show. */
static int send_initial(struct watch_op *op, const char *prefix, int64_t *rev)
{
    struct store_list l = {0};
    int rv = store_range(op->s->st, prefix, NULL, 0, 0, &l);

    if (rv != 0) return rv;
    *rev = l.revision;
    for (size_t i = 0; i < l.n && !op->ended; i++)
        if (api_filter_match_kv(&op->f, &l.kvs[i])) send_event(op, "ADDED", &l.kvs[i], l.kvs[i].mod_rev);
    store_list_clear(&l);
    return 0;
}

static void watch_start(struct watch_op *op, bool initial, int64_t after)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    char msg[160];
    int rv;

    if (api_req_gone(op->r) || api_http_stream_begin(op->r, 200, "application/json") != 0) {
        watch_end(op);
        return;
    }
    op->r->on_gone = on_gone;
    api_prefix(op->rt->kind, op->rt->ns[0] ? op->rt->ns : NULL, &prefix);
    rv = initial ? send_initial(op, prefix.data, &after) : 0;
    if (rv == 0 && !op->ended)
        rv = store_watch_start(op->s->st, prefix.data, after, on_event, op, &op->w);
    orc_buf_free(&prefix);
    if (op->ended) return;
    if (rv == ORC_ECOMPACTED) {
        snprintf(msg, sizeof msg, "too old resource version: %" PRId64 " (%" PRId64 ")", after,
                 store_compact_revision(op->s->st));
        send_error(op, 410, "Expired", msg);
        watch_end(op);
    } else if (rv != 0) {
        op->w = NULL;
        send_error(op, 500, "InternalError", orc_strerror(rv));
        watch_end(op);
    } else {
        arm_timer(op);
    }
}

static void start_after_barrier(void *arg, int status)
{
    struct watch_op *op = arg;

    if (status != 0) {
        op->ended = true;
        api_respond_error(op->r, status, "starting the watch");
        return;
    }
    watch_start(op, true, 0);
}

void api_handle_watch(struct api_server *s, struct api_req *r, struct api_route *rt)
{
    const char *rvq = api_query_get(rt, "resourceVersion");
    const char *tmo = api_query_get(rt, "timeoutSeconds");
    struct watch_op *op;
    char *end;

    if (rt->type != ROUTE_COLLECTION && !(rt->type == ROUTE_OBJECT && rt->sub[0] == '\0')) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "watch is not supported on this resource");
        return;
    }
    op = calloc(1, sizeof *op);
    if (op == NULL) {
        api_respond_error(r, ORC_ENOMEM, "watch");
        return;
    }
    op->s = s;
    op->r = r;
    op->rt = rt;
    uv_timer_init(s->loop, &op->timer);
    op->timer.data = op;
    api_hold(s);
    r->op = op;
    r->op_free = watch_op_free;
    if (api_filter_parse(r, rt, &op->f) != 0) return;
    if (rt->type == ROUTE_OBJECT) {
        /* A watch on one object: Kubernetes' metadata.name field selector. */
        char sel[300];
        char msg[128];
        snprintf(sel, sizeof sel, "metadata.name=%s", rt->name);
        if (op->f.fields) orc_fieldsel_free(op->f.fields);
        op->f.fields = NULL;
        if (orc_fieldsel_parse(sel, &op->f.fields, msg, sizeof msg) != 0) {
            api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
            return;
        }
    }
    op->bookmarks = api_query_bool(rt, "allowWatchBookmarks");
    if (tmo && *tmo) {
        long long t = strtoll(tmo, &end, 10);
        if (*end == '\0' && t > 0) op->end_at = uv_now(s->loop) + (uint64_t)t * 1000;
    }
    if (rvq == NULL || *rvq == '\0') {
        int rv = api_read_barrier(s, start_after_barrier, op);
        if (rv != 0) api_respond_error(r, rv, "starting the watch");
        return;
    }
    long long after = strtoll(rvq, &end, 10);
    if (*end || after < 0) {
        api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL,
                           "resourceVersion must be a number, not \"%s\"", rvq);
        return;
    }
    watch_start(op, after == 0, after);
}
