/* watch_hub.c — live fan-out of store events to watchers: one store watch
 * per key prefix (a group), and each event encoded at most once per type
 * (ADDED, MODIFIED, DELETED) however many watchers get it, the encoding a
 * reference-counted chunk every watcher's stream shares. Watchers with the
 * same selectors share a bucket, whose selectors are evaluated once per
 * event, on an object parsed once per event: a thousand watchers whose
 * selector an event does not match cost it one evaluation. A delivery is a
 * queue append; the bytes are copied once more per connection when its
 * stream is flushed (and encrypted there, which no sharing can avoid). */
#include <stdlib.h>
#include <string.h>

#include "apiserver/encrypt.h"
#include "apiserver/server.h"
#include "lib/log.h"
#include "lib/json.h"
#include "lib/orc.h"

struct api_watch_bucket {
    struct orc_link link; /* in group.buckets */
    struct orc_link watchers;
    char key[];           /* the selectors, as given */
};

struct api_watch_group {
    struct orc_link link; /* in hub.groups */
    struct api_server *s;
    store_watch *w;
    struct orc_link buckets;
    int delivering; /* > 0 while an event is fanned out: nothing is freed */
    const struct orc_kind *view; /* served_only version its events are in, or NULL */
    size_t prefix_len;
    char prefix[];
};

struct api_watch_hub {
    struct orc_link groups;
};

struct api_watch_event {
    const struct store_event *ev;
    struct orc_httpd_chunk *chunk[3]; /* per type, made on demand */
    json_t *obj[2];             /* the new and the previous object, parsed on demand */
    bool parsed[2];
};

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED"};

/* ---- what an event is for a watcher ---- */

int api_watch_type(const struct api_filter *f, const struct store_event *ev,
                   bool (*match)(void *ctx, bool prev), void *ctx)
{
    bool any = api_filter_empty(f), now, before;

    if (ev->type == STORE_EVENT_DELETE) return any || match(ctx, false) ? API_WATCH_DELETED : -1;
    now = any || match(ctx, false);
    before = ev->prev != NULL && (any || match(ctx, true));
    if (now && before) return API_WATCH_MODIFIED;
    if (now) return API_WATCH_ADDED;
    return before ? API_WATCH_DELETED : -1;
}

const char *api_watch_type_name(int type) { return type_names[type]; }

/* ---- one event ---- */

static const json_t *event_object(struct api_watch_event *e, bool prev)
{
    const struct store_kv *kv = prev ? e->ev->prev : e->ev->kv;
    int i = prev ? 1 : 0;

    if (!e->parsed[i] && kv != NULL) e->obj[i] = orc_json_loadb(kv->value, kv->value_len, 0, NULL);
    e->parsed[i] = true;
    return e->obj[i];
}

struct match_ctx {
    const struct api_filter *f;
    struct api_watch_event *e;
};

static bool parsed_match(void *ctx, bool prev)
{
    struct match_ctx *m = ctx;
    const json_t *obj = event_object(m->e, prev);
    return obj != NULL && api_filter_match(m->f, obj);
}

/* A watch never shows a value no key here opens: an ERROR event instead,
 * after which clients list again (and get the error with the object). */
static int encode_sealed(const struct store_kv *kv, struct orc_buf *out)
{
    char why[256];
    json_t *st;
    int rv;

    api_enc_describe(kv->value, kv->value_len, why, sizeof why);
    st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                   "metadata", "status", "Failure", "message", why, "reason", "InternalError",
                   "code", 500);
    orc_buf_reset(out);
    rv = st && orc_buf_puts(out, "{\"type\":\"ERROR\",\"object\":") == 0 ? orc_json_dump(st, out)
                                                                       : ORC_ENOMEM;
    json_decref(st);
    return rv == 0 ? orc_buf_puts(out, "}\n") : rv;
}

int api_watch_encode_as(const struct orc_kind *view, const char *type, const struct store_kv *kv,
                        int64_t rev, struct orc_buf *out)
{
    int rv;
    if (api_enc_sealed(kv->value, kv->value_len, kv->sealed)) return encode_sealed(kv, out);
    orc_buf_reset(out);
    if (orc_buf_printf(out, "{\"type\":\"%s\",\"object\":", type) != 0) return ORC_ENOMEM;
    rv = view ? api_obj_append_as(view, out, kv->value, kv->value_len, rev)
              : api_obj_append(out, kv->value, kv->value_len, rev);
    if (rv != 0 || orc_buf_puts(out, "}\n") != 0) return rv ? rv : ORC_ENOMEM;
    return 0;
}

int api_watch_encode(const char *type, const struct store_kv *kv, int64_t rev, struct orc_buf *out)
{
    return api_watch_encode_as(NULL, type, kv, rev, out);
}

static struct orc_httpd_chunk *event_chunk(struct api_watch_group *g, struct api_watch_event *e,
                                           int type)
{
    struct orc_buf line = ORC_BUF_INIT;

    if (e->chunk[type] == NULL
        && api_watch_encode_as(g->view, type_names[type], e->ev->kv, e->ev->revision, &line) == 0)
        e->chunk[type] = orc_httpd_chunk_new(line.data, line.len);
    orc_buf_free(&line);
    return e->chunk[type];
}

/* ---- groups ---- */

static void group_free(struct api_watch_group *g)
{
    if (g->w) store_watch_stop(g->w);
    orc_list_remove(&g->link);
    free(g);
}

/* Empty buckets go, and the group with its last one. */
static void group_tidy(struct api_watch_group *g)
{
    struct orc_link *l = g->buckets.next;

    if (g->delivering > 0) return;
    while (l != &g->buckets) {
        struct api_watch_bucket *b = ORC_CONTAINER(l, struct api_watch_bucket, link);
        l = l->next;
        if (orc_list_empty(&b->watchers)) {
            orc_list_remove(&b->link);
            free(b);
        }
    }
    if (orc_list_empty(&g->buckets)) group_free(g);
}

static void bucket_deliver(struct api_watch_group *g, struct api_watch_bucket *b,
                           struct api_watch_event *e)
{
    struct api_watcher *first = ORC_CONTAINER(b->watchers.next, struct api_watcher, link);
    struct match_ctx m = {first->filter, e};
    int type = api_watch_type(first->filter, e->ev, parsed_match, &m);
    struct orc_httpd_chunk *ch;
    struct orc_link *l = b->watchers.next;

    if (type < 0) return;
    /* NULL: out of memory, and the watchers end; or a bucket of watchers
     * that encode each event themselves. */
    ch = first->on_kv ? NULL : event_chunk(g, e, type);
    while (l != &b->watchers) {
        struct api_watcher *w = ORC_CONTAINER(l, struct api_watcher, link);
        l = l->next; /* w may leave */
        if (e->ev->revision <= w->after_rev) continue;
        if (w->on_kv) w->on_kv(w, type, e->ev->kv, e->ev->revision);
        else w->on_event(w, ch);
    }
}

static void fan_out(struct api_watch_group *g, const struct store_event *ev)
{
    struct api_watch_event e = {.ev = ev};

    g->delivering++;
    for (struct orc_link *l = g->buckets.next; l != &g->buckets; l = l->next) {
        struct api_watch_bucket *b = ORC_CONTAINER(l, struct api_watch_bucket, link);
        if (!orc_list_empty(&b->watchers)) bucket_deliver(g, b, &e);
    }
    g->delivering--;
    for (int i = 0; i < 3; i++) orc_httpd_chunk_unref(e.chunk[i]);
    for (int i = 0; i < 2; i++) json_decref(e.obj[i]);
}

static void on_group_event(void *arg, const struct store_event *ev, int err)
{
    struct api_watch_group *g = arg;

    if (ev != NULL) {
        fan_out(g, ev);
        group_tidy(g);
        return;
    }
    g->w = NULL; /* the store frees it */
    g->delivering++;
    for (struct orc_link *l = g->buckets.next; l != &g->buckets; l = l->next) {
        struct api_watch_bucket *b = ORC_CONTAINER(l, struct api_watch_bucket, link);
        while (!orc_list_empty(&b->watchers)) {
            struct api_watcher *w = ORC_CONTAINER(b->watchers.next, struct api_watcher, link);
            orc_list_remove(&w->link);
            w->bucket = NULL;
            w->group = NULL;
            w->on_end(w, err);
        }
    }
    g->delivering--;
    group_tidy(g);
}

static struct api_watch_group *group_get(struct api_server *s, const char *prefix,
                                         const struct orc_kind *view, int *rv)
{
    struct api_watch_hub *hub = s->watch_hub;
    size_t plen = strlen(prefix);
    struct api_watch_group *g;

    for (struct orc_link *l = hub->groups.next; l != &hub->groups; l = l->next) {
        g = ORC_CONTAINER(l, struct api_watch_group, link);
        if (g->prefix_len == plen && memcmp(g->prefix, prefix, plen) == 0 && g->view == view)
            return g;
    }
    if ((g = calloc(1, sizeof *g + plen + 1)) == NULL) {
        *rv = ORC_ENOMEM;
        return NULL;
    }
    g->s = s;
    g->view = view;
    g->prefix_len = plen;
    memcpy(g->prefix, prefix, plen + 1);
    orc_list_init(&g->buckets);
    /* Every event applied so far was delivered: the group starts at now. */
    *rv = store_watch_start(s->st, prefix, store_revision(s->st), on_group_event, g, &g->w);
    if (*rv != 0) {
        free(g);
        return NULL;
    }
    orc_list_push(&hub->groups, &g->link);
    return g;
}

static struct api_watch_bucket *bucket_get(struct api_watch_group *g, const char *key)
{
    struct api_watch_bucket *b;
    size_t klen = strlen(key);

    for (struct orc_link *l = g->buckets.next; l != &g->buckets; l = l->next) {
        b = ORC_CONTAINER(l, struct api_watch_bucket, link);
        if (strcmp(b->key, key) == 0) return b;
    }
    if ((b = calloc(1, sizeof *b + klen + 1)) == NULL) return NULL;
    memcpy(b->key, key, klen + 1);
    orc_list_init(&b->watchers);
    orc_list_push(&g->buckets, &b->link);
    return b;
}

int api_watch_join(struct api_server *s, const char *prefix, struct api_watcher *w)
{
    int rv = 0;
    const struct orc_kind *view = w->view && orc_kind_served_only(w->view) ? w->view : NULL;
    struct api_watch_group *g = group_get(s, prefix, view, &rv);
    struct api_watch_bucket *b;

    if (g == NULL) return rv;
    if ((b = bucket_get(g, w->filter_key ? w->filter_key : "")) == NULL) {
        group_tidy(g);
        return ORC_ENOMEM;
    }
    w->group = g;
    w->bucket = b;
    orc_list_push(&b->watchers, &w->link);
    return 0;
}

void api_watch_leave(struct api_watcher *w)
{
    struct api_watch_group *g = w->group;

    if (g == NULL) return;
    orc_list_remove(&w->link);
    w->group = NULL;
    w->bucket = NULL;
    group_tidy(g);
}

int api_watch_hub_start(struct api_server *s)
{
    if ((s->watch_hub = calloc(1, sizeof *s->watch_hub)) == NULL) return ORC_ENOMEM;
    orc_list_init(&s->watch_hub->groups);
    return 0;
}

/* After the HTTP server stopped, every watcher has left; a group left over
 * would be a bug, but its store watch is stopped all the same. */
void api_watch_hub_stop(struct api_server *s)
{
    struct api_watch_hub *hub = s->watch_hub;

    if (hub == NULL) return;
    while (!orc_list_empty(&hub->groups)) {
        struct api_watch_group *g = ORC_CONTAINER(hub->groups.next, struct api_watch_group, link);
        log_warn("apiserver", "watch group %s still had watchers at stop", g->prefix);
        while (!orc_list_empty(&g->buckets)) {
            struct api_watch_bucket *b = ORC_CONTAINER(g->buckets.next, struct api_watch_bucket, link);
            while (!orc_list_empty(&b->watchers)) {
                struct api_watcher *w = ORC_CONTAINER(b->watchers.next, struct api_watcher, link);
                orc_list_remove(&w->link);
                w->group = NULL;
                w->bucket = NULL;
            }
            orc_list_remove(&b->link);
            free(b);
        }
        group_free(g);
    }
    free(hub);
    s->watch_hub = NULL;
}
