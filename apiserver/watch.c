/* watch.c — ?watch=1: newline-delimited JSON events over a chunked response.
 * Without resourceVersion (or "0") the current objects come first as ADDED;
 * with resourceVersion R, every change after R, or a 410 ERROR event when R
 * is older than the retained history. Selectors see objects move in and
 * out (ADDED/DELETED), as Kubernetes' watch cache does.
 *
 * A watch moves through three phases, each producing only as fast as the
 * client reads: the initial objects (from one list, sent as the stream
 * drains), the catch-up (its own store watch from the list's or the
 * client's revision, paused while the stream is full), and, once caught up,
 * live events from the shared fan-out (watch_hub.c), where each event is
 * encoded once for all watchers. A client that falls too far behind is
 * ended (an ERROR event, then the stream closes) and re-lists, as with
 * Kubernetes and etcd. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/encrypt.h"
#include "apiserver/server.h"
#include "lib/fields.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/orc.h"

#define WATCH_WAIT_RV_MS 3000
#define HIGH_WATER (256u * 1024) /* a phase that produces stops here until the stream drains */

enum watch_phase { PH_WAIT, PH_INITIAL, PH_CATCHUP, PH_LIVE };

struct watch_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    struct api_route *rt;
    struct api_filter f;
    struct orc_buf prefix;
    enum watch_phase phase;
    uv_timer_t timer; /* bookmarks and timeoutSeconds */
    bool bookmarks;
    bool initial_end; /* a BOOKMARK marks the end of the initial objects */
    bool want_initial;
    int64_t after; /* without the initial objects: changes after this, or -1 for now */
    uint64_t end_at; /* loop time to end at, or 0 */
    bool ended;
    struct store_list init; /* PH_INITIAL: the objects, sent from init_next on */
    size_t init_next;
    store_watch *priv; /* PH_CATCHUP */
    bool paused;
    int64_t seen_rev; /* the client has every change up to this revision */
    struct api_watcher live;
    char *filter_key; /* the selectors as given, for live.filter_key */
    struct orc_buf line; /* reused per event */
    bool as_table;       /* events carry Tables of one row (server-side printing) */
    bool columns_sent;   /* the first Table carried the column definitions */
    struct api_table table;
};

static const char slow_farewell[] =
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
    "\"metadata\":{},\"status\":\"Failure\",\"message\":\"watch closed: the client is "
    "not reading events fast enough\",\"reason\":\"Expired\",\"code\":410}}\n";

static void on_drain(struct orc_httpd_req *r);

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void watch_op_free(void *p)
{
    struct watch_op *op = p;

    api_filter_clear(&op->f);
    free(op->filter_key);
    orc_buf_free(&op->line);
    orc_buf_free(&op->prefix);
    store_list_clear(&op->init);
    api_release(op->s);
    uv_close((uv_handle_t *)&op->timer, timer_closed);
}

static void watch_end(struct watch_op *op)
{
    if (op->ended) return;
    op->ended = true;
    if (op->priv) store_watch_stop(op->priv);
    op->priv = NULL;
    api_watch_leave(&op->live);
    store_list_clear(&op->init);
    uv_timer_stop(&op->timer);
    op->r->on_drain = NULL;
    if (op->r->streaming || orc_httpd_req_gone(op->r)) orc_httpd_stream_end(op->r);
    else api_respond_error(op->r, ORC_ESHUTDOWN, "watch");
}

static void on_gone(struct orc_httpd_req *r) { watch_end(r->op); }

/* Sends op->line; a stream that cannot take it ends the watch. */
static void send_line(struct watch_op *op)
{
    if (orc_httpd_stream_write(op->r, op->line.data, op->line.len, 0) != 0) watch_end(op);
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

/* An event whose object is a Table of one row; only the first carries
 * the column definitions, as Kubernetes' watch does. */
static int encode_table_event(struct watch_op *op, const char *type, const struct store_kv *kv,
                              int64_t rev)
{
    int rv;

    orc_buf_reset(&op->line);
    op->table.now = (int64_t)time(NULL);
    rv = orc_buf_printf(&op->line, "{\"type\":\"%s\",\"object\":", type);
    if (rv == 0) rv = api_table_single(&op->table, kv, rev, !op->columns_sent, &op->line);
    if (rv == 0) rv = orc_buf_puts(&op->line, "}\n");
    if (rv == 0) op->columns_sent = true;
    return rv;
}

static void send_event(struct watch_op *op, const char *type, const struct store_kv *kv, int64_t rev)
{
    bool sealed = api_enc_sealed(kv->value, kv->value_len, kv->sealed);
    int rv = op->as_table && !sealed ? encode_table_event(op, type, kv, rev)
                          : api_watch_encode_as(op->rt->kind, type, kv, rev, &op->line);
    if (rv == 0) send_line(op);
    else watch_end(op);
}

/* A bookmark promises every change up to its revision was sent. */
static void send_bookmark(struct watch_op *op, int64_t rev, bool initial_end)
{
    orc_buf_reset(&op->line);
    orc_buf_printf(&op->line,
                   "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
                   "\"metadata\":{\"resourceVersion\":\"%" PRId64 "\"%s}}}\n",
                   op->rt->kind->kind, orc_kind_api_version(op->rt->kind), rev,
                   initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
    send_line(op);
}

/* ---- live: the shared fan-out ---- */

static void on_live_event(struct api_watcher *w, struct orc_httpd_chunk *ch)
{
    struct watch_op *op = ORC_CONTAINER(w, struct watch_op, live);

    if (ch == NULL || orc_httpd_stream_chunk(op->r, ch, 0) != 0) watch_end(op);
}

static void on_live_kv(struct api_watcher *w, int type, const struct store_kv *kv, int64_t rev)
{
    send_event(ORC_CONTAINER(w, struct watch_op, live), api_watch_type_name(type), kv, rev);
}

static void on_live_end(struct api_watcher *w, int err)
{
    struct watch_op *op = ORC_CONTAINER(w, struct watch_op, live);

    if (err == ORC_ECOMPACTED)
        send_error(op, 410, "Expired", "watch history was reset on this member; list again and re-watch");
    watch_end(op);
}

static void go_live(struct watch_op *op)
{
    int rv;

    if (op->priv) store_watch_stop(op->priv);
    op->priv = NULL;
    op->r->on_drain = NULL;
    op->live.after_rev = op->seen_rev;
    op->live.filter = &op->f;
    op->live.filter_key = op->filter_key;
    op->live.view = op->rt->kind;
    op->live.on_event = on_live_event;
    if (op->as_table) op->live.on_kv = on_live_kv;
    op->live.on_end = on_live_end;
    rv = api_watch_join(op->s, op->prefix.data, &op->live);
    if (rv != 0) {
        send_error(op, 500, "InternalError", orc_strerror(rv));
        watch_end(op);
        return;
    }
    op->phase = PH_LIVE;
}

/* ---- catch-up: a store watch of its own, paused while the stream is full ---- */

struct priv_ctx {
    const struct api_filter *f;
    const struct store_event *ev;
};

static bool kv_match(void *ctx, bool prev)
{
    const struct priv_ctx *c = ctx;
    return api_filter_match_kv(c->f, prev ? c->ev->prev : c->ev->kv);
}

static void on_priv_event(void *arg, const struct store_event *ev, int err)
{
    struct watch_op *op = arg;
    struct priv_ctx ctx = {&op->f, ev};
    int type;

    if (ev == NULL) {
        op->priv = NULL; /* the store frees it */
        if (err == ORC_ECOMPACTED)
            send_error(op, 410, "Expired",
                       "the watch fell behind the retained history on this member; list again and re-watch");
        watch_end(op);
        return;
    }
    op->seen_rev = ev->revision;
    type = api_watch_type(&op->f, ev, kv_match, &ctx);
    if (type >= 0) send_event(op, api_watch_type_name(type), ev->kv, ev->revision);
    if (!op->ended && orc_httpd_stream_pending(op->r) >= HIGH_WATER) {
        store_watch_pause(op->priv);
        op->paused = true;
    }
}

static void start_catchup(struct watch_op *op)
{
    char msg[160];
    int64_t after = op->seen_rev;
    int rv;

    op->phase = PH_CATCHUP;
    op->paused = false;
    rv = store_watch_start(op->s->st, op->prefix.data, after, on_priv_event, op, &op->priv);
    if (op->ended) return;
    if (rv == ORC_ECOMPACTED) {
        op->priv = NULL;
        snprintf(msg, sizeof msg, "too old resource version: %" PRId64 " (%" PRId64 ")", after,
                 store_compact_revision(op->s->st));
        send_error(op, 410, "Expired", msg);
        watch_end(op);
    } else if (rv != 0) {
        op->priv = NULL;
        send_error(op, 500, "InternalError", orc_strerror(rv));
        watch_end(op);
    } else if (op->paused) {
        op->r->on_drain = on_drain;
    } else {
        go_live(op);
    }
}

/* ---- the initial objects ---- */

static void send_initial(struct watch_op *op)
{
    struct store_list *l = &op->init;

    while (op->init_next < l->n && !op->ended && orc_httpd_stream_pending(op->r) < HIGH_WATER) {
        const struct store_kv *kv = &l->kvs[op->init_next++];
        if (api_filter_match_kv(&op->f, kv)) send_event(op, "ADDED", kv, kv->mod_rev);
    }
    if (op->ended) return;
    if (op->init_next < l->n) {
        op->r->on_drain = on_drain;
        return;
    }
    store_list_clear(l);
    if (op->initial_end) send_bookmark(op, op->seen_rev, true);
    if (!op->ended) start_catchup(op);
}

static void on_drain(struct orc_httpd_req *r)
{
    struct watch_op *op = r->op;

    r->on_drain = NULL;
    if (op->ended) return;
    if (op->phase == PH_INITIAL) {
        send_initial(op);
    } else if (op->phase == PH_CATCHUP && op->paused && op->priv) {
        op->paused = false;
        bool caught_up = store_watch_resume(op->priv);
        if (op->ended) return;
        if (caught_up) go_live(op);
        else if (op->paused) r->on_drain = on_drain;
    }
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
    struct watch_op *op = t->data;

    if (op->end_at && uv_now(op->s->loop) >= op->end_at) {
        watch_end(op);
        return;
    }
    if (op->bookmarks && op->phase == PH_LIVE) send_bookmark(op, store_revision(op->s->st), false);
}

static void arm_timer(struct watch_op *op)
{
    uint64_t every = op->bookmarks ? op->s->watch_bookmark_ms : 0;
    uint64_t first = every;

    if (op->end_at) {
        uint64_t left = op->end_at - uv_now(op->s->loop);
        if (first == 0 || left < first) first = left;
        if (every == 0) every = left;
    }
    if (first) uv_timer_start(&op->timer, on_timer, first, every);
}

/* ---- start ---- */

static void watch_start(struct watch_op *op, bool initial, int64_t after)
{
    int rv;

    if (orc_httpd_req_gone(op->r) || orc_httpd_stream_begin(op->r, 200, "application/json") != 0) {
        watch_end(op);
        return;
    }
    op->r->on_gone = on_gone;
    op->r->farewell = slow_farewell;
    op->r->farewell_len = sizeof slow_farewell - 1;
    /* A watch of one object follows only its key (its name selects it). */
    if (op->rt->type == ROUTE_OBJECT)
        rv = api_key(op->rt->kind, op->rt->ns[0] ? op->rt->ns : NULL, op->rt->name, &op->prefix);
    else
        rv = api_prefix(op->rt->kind, op->rt->ns[0] ? op->rt->ns : NULL, &op->prefix);
    if (rv != 0) {
        watch_end(op);
        return;
    }
    arm_timer(op);
    if (!initial) {
        op->seen_rev = after;
        start_catchup(op);
        return;
    }
    rv = store_range(op->s->st, op->prefix.data, NULL, 0, 0, &op->init);
    if (rv != 0) {
        send_error(op, 500, "InternalError", orc_strerror(rv));
        watch_end(op);
        return;
    }
    op->seen_rev = op->init.revision;
    op->phase = PH_INITIAL;
    send_initial(op);
}

/* Once this member has the state the client asked for (a read point, or
 * the resourceVersion it gave). */
static void start_when_ready(void *arg, int status)
{
    struct watch_op *op = arg;

    if (status != 0) {
        op->ended = true;
        if (status == ORC_ETIMEDOUT && op->after > 0)
            api_respond_rv_too_large(op->r, op->after, store_revision(op->s->st));
        else api_respond_error(op->r, status, "starting the watch");
        return;
    }
    watch_start(op, op->want_initial, op->after < 0 ? store_revision(op->s->st) : op->after);
}

/* Where the watch starts, as Kubernetes: without resourceVersion at the
 * latest state, with "0" at any, with N after N; the current objects come
 * first as ADDED unless N was given, or sendInitialEvents says otherwise
 * (with N it then means the state at least as new as N). */
static int plan_start(struct watch_op *op, const struct api_list_opts *lo)
{
    struct api_server *s = op->s;

    op->want_initial = lo->send_initial >= 0 ? lo->send_initial == 1 : !lo->rv_given || lo->rv == 0;
    op->initial_end = lo->send_initial == 1 && lo->bookmarks;
    op->after = lo->rv_given && lo->rv > 0 && !op->want_initial ? lo->rv : -1;
    if (!lo->rv_given) return api_read_barrier(s, start_when_ready, op);
    if (lo->rv > 0 && op->want_initial) {
        op->after = lo->rv; /* for the too-large answer only */
        int rv = store_wait_revision(s->st, lo->rv, WATCH_WAIT_RV_MS, start_when_ready, op);
        return rv;
    }
    start_when_ready(op, 0);
    return 0;
}

/* The selectors as given: watchers with equal keys share their evaluation
 * (and Table watchers a bucket of their own, as they encode per watcher). */
static char *filter_key(const struct api_route *rt, bool as_table)
{
    const char *ls = api_query_get(rt, "labelSelector"), *fs = api_query_get(rt, "fieldSelector");
    struct orc_buf b = ORC_BUF_INIT;

    if (as_table) orc_buf_puts(&b, "Table\n");
    if (rt->type == ROUTE_OBJECT) orc_buf_printf(&b, "%s\nmetadata.name=%s", ls ? ls : "", rt->name);
    else orc_buf_printf(&b, "%s\n%s", ls ? ls : "", fs ? fs : "");
    return orc_buf_steal(&b, NULL);
}

void api_handle_watch(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    const char *tmo = api_query_get(rt, "timeoutSeconds");
    struct api_list_opts lo;
    struct watch_op *op;
    char *end;

    if (rt->type != ROUTE_COLLECTION && !(rt->type == ROUTE_OBJECT && rt->sub[0] == '\0')) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "watch is not supported on this resource");
        return;
    }
    if (api_list_opts_parse(r, rt, true, &lo) != 0) return;
    op = calloc(1, sizeof *op);
    if (op == NULL) {
        api_respond_error(r, ORC_ENOMEM, "watch");
        return;
    }
    op->s = s;
    op->r = r;
    op->rt = rt;
    orc_list_init(&op->live.link);
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
    int as_table = api_table_negotiate(r, rt, &op->table);
    if (as_table < 0) return;
    op->as_table = as_table == 1;
    if ((op->filter_key = filter_key(rt, op->as_table)) == NULL) {
        api_respond_error(r, ORC_ENOMEM, "watch");
        return;
    }
    op->bookmarks = lo.bookmarks;
    if (tmo && *tmo) {
        long long t = strtoll(tmo, &end, 10);
        if (*end == '\0' && t > 0) op->end_at = uv_now(s->loop) + (uint64_t)t * 1000;
    }
    int rv = plan_start(op, &lo);
    if (rv != 0 && !op->ended) api_respond_error(r, rv, "starting the watch");
}
