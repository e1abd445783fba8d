/* watch_hub.c — live fan-out of store events to watchers: one store watch
 * per key prefix (a group), and each event encoded at most once per type
 * (ADDED, MODIFIED, DELETED) however many watchers get it, the encoding a
 * reference-counted chunk every watcher's stream shares. Selectors filter
 * per watcher on an object parsed once per event. So the cost of an event
 * grows with the watchers only by a queue append each; the bytes are
 * copied once more per connection when its stream is flushed (and
 * encrypted there, which no sharing can avoid). */
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/log.h"
#include "lib/orc.h"

struct api_watch_group {
    struct orc_link link; /* in hub.groups */
    struct api_server *s;
    store_watch *w;
    struct orc_link watchers;
    int delivering; /* > 0 while an event is fanned out: the group stays */
    size_t prefix_len;
    char prefix[];
};

struct api_watch_hub {
    struct orc_link groups;
};

struct api_watch_event {
    const struct store_event *ev;
    struct api_chunk *chunk[3]; /* per type, made on demand */
    json_t *obj[2];             /* the new and the previous object, parsed on demand */
    bool parsed[2];
};

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED"};

/* ---- one event ---- */

const struct store_event *api_watch_event_store(const struct api_watch_event *e) { return e->ev; }

const json_t *api_watch_event_object(struct api_watch_event *e, bool prev)
{
    const struct store_kv *kv = prev ? e->ev->prev : e->ev->kv;
    int i = prev ? 1 : 0;

    if (!e->parsed[i] && kv != NULL) e->obj[i] = json_loadb(kv->value, kv->value_len, 0, NULL);
    e->parsed[i] = true;
    return e->obj[i];
}

/* The event line for `type`: {"type":...,"object":...}\n, framed as a chunk. */
int api_watch_encode(const char *type, const struct store_kv *kv, int64_t rev, struct orc_buf *out)
{
    orc_buf_reset(out);
    if (orc_buf_printf(out, "{\"type\":\"%s\",\"object\":", type) != 0
        || api_obj_append(out, kv->value, kv->value_len, rev) != 0 || orc_buf_puts(out, "}\n") != 0)
        return ORC_ENOMEM;
    return 0;
}

struct api_chunk *api_watch_event_chunk(struct api_watch_event *e, enum api_watch_type t)
{
    struct orc_buf line = ORC_BUF_INIT;

    if (e->chunk[t] == NULL && api_watch_encode(type_names[t], e->ev->kv, e->ev->revision, &line) == 0)
        e->chunk[t] = api_chunk_new(line.data, line.len);
    orc_buf_free(&line);
    return e->chunk[t];
}

/* ---- groups ---- */

static void group_free(struct api_watch_group *g)
{
    if (g->w) store_watch_stop(g->w);
    orc_list_remove(&g->link);
    free(g);
}

static void group_maybe_free(struct api_watch_group *g)
{
    if (g->delivering == 0 && orc_list_empty(&g->watchers)) group_free(g);
}

static void fan_out(struct api_watch_group *g, const struct store_event *ev)
{
    struct api_watch_event e = {.ev = ev};
    struct orc_link *l = g->watchers.next;

    g->delivering++;
    while (l != &g->watchers) {
        struct api_watcher *w = ORC_CONTAINER(l, struct api_watcher, link);
        l = l->next; /* w may leave */
        if (ev->revision > w->after_rev) w->on_event(w, &e);
    }
    g->delivering--;
    for (int i = 0; i < 3; i++) api_chunk_unref(e.chunk[i]);
    for (int i = 0; i < 2; i++) json_decref(e.obj[i]);
}

static void on_group_event(void *arg, const struct store_event *ev, int err)
{
    struct api_watch_group *g = arg;

    if (ev != NULL) {
        fan_out(g, ev);
        group_maybe_free(g);
        return;
    }
    g->w = NULL; /* the store frees it */
    g->delivering++;
    while (!orc_list_empty(&g->watchers)) {
        struct api_watcher *w = ORC_CONTAINER(g->watchers.next, struct api_watcher, link);
        orc_list_remove(&w->link);
        w->group = NULL;
        w->on_end(w, err);
    }
    g->delivering--;
    group_free(g);
}

static struct api_watch_group *group_get(struct api_server *s, const char *prefix, int *rv)
{
    struct api_watch_hub *hub = s->watch_hub;
    size_t plen = strlen(prefix);
    struct api_watch_group *g;

    for (struct orc_link *l = hub->groups.next; l != &hub->groups; l = l->next) {
        g = ORC_CONTAINER(l, struct api_watch_group, link);
        if (g->prefix_len == plen && memcmp(g->prefix, prefix, plen) == 0) return g;
    }
    if ((g = calloc(1, sizeof *g + plen + 1)) == NULL) {
        *rv = ORC_ENOMEM;
        return NULL;
    }
    g->s = s;
    g->prefix_len = plen;
    memcpy(g->prefix, prefix, plen + 1);
    orc_list_init(&g->watchers);
    /* Every event applied so far was delivered: the group starts at now. */
    *rv = store_watch_start(s->st, prefix, store_revision(s->st), on_group_event, g, &g->w);
    if (*rv != 0) {
        free(g);
        return NULL;
    }
    orc_list_push(&hub->groups, &g->link);
    return g;
}

int api_watch_join(struct api_server *s, const char *prefix, struct api_watcher *w)
{
    int rv = 0;
    struct api_watch_group *g = group_get(s, prefix, &rv);

    if (g == NULL) return rv;
    w->group = g;
    orc_list_push(&g->watchers, &w->link);
    return 0;
}

void api_watch_leave(struct api_watcher *w)
{
    struct api_watch_group *g = w->group;

    if (g == NULL) return;
    orc_list_remove(&w->link);
    w->group = NULL;
    group_maybe_free(g);
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
        while (!orc_list_empty(&g->watchers)) {
            struct api_watcher *w = ORC_CONTAINER(g->watchers.next, struct api_watcher, link);
            orc_list_remove(&w->link);
            w->group = NULL;
        }
        group_free(g);
    }
    free(hub);
    s->watch_hub = NULL;
}
