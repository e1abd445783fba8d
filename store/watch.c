/* watch.c — subscribers to key prefixes. Each watch keeps its own cursor into
 * the history ring, so backlog and live delivery share one path and a watch
 * started or stopped inside a callback never sees a gap or a duplicate. */
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "store/store_int.h"

struct store_watch {
    struct orc_link link; /* in store.watches */
    store *s;
    store_watch_cb cb;
    void *arg;
    uint64_t next_seq; /* next history event this watch has to look at */
    /* Events at or below this revision are never delivered: a client may
     * resume on a member that has not yet applied what it already saw. */
    int64_t after_rev;
    bool stopped;
    bool paused; /* the subscriber cannot take more now (store_watch_pause) */
    size_t prefix_len;
    char prefix[];
};

static void sweep(store *s)
{
    struct orc_link *l = s->watches.next;

    s->watch_garbage = false;
    while (l != &s->watches) {
        struct store_watch *w = ORC_CONTAINER(l, struct store_watch, link);
        l = l->next;
        if (w->stopped) {
            orc_list_remove(&w->link);
            free(w);
        }
    }
}

/* Frees at once unless a delivery loop may still hold it; then the sweep does. */
static void release(struct store_watch *w)
{
    store *s = w->s;

    w->stopped = true;
    if (s->delivering > 0) {
        s->watch_garbage = true;
        return;
    }
    orc_list_remove(&w->link);
    free(w);
}

static void end_watch(struct store_watch *w, int err)
{
    w->stopped = true;
    w->s->delivering++;
    w->cb(w->arg, NULL, err);
    w->s->delivering--;
    release(w);
}

/* Delivers every retained event this watch has not seen yet. */
static void catch_up(store *s, struct store_watch *w)
{
    const struct store_hist_ev *ev;
    struct store_event view;
    struct store_kv kv, prev;

    if (w->next_seq < store__hist_first_seq(&s->hist)) {
        /* one txn overflowed the ring, or a paused watch fell behind it */
        end_watch(w, ORC_ECOMPACTED);
        return;
    }
    while (!w->stopped && !w->paused && (ev = store__hist_at(&s->hist, w->next_seq)) != NULL) {
        w->next_seq++;
        const char *key = ev->kv ? ev->kv->key : ev->prev->key;
        if (ev->rev <= w->after_rev || strncmp(key, w->prefix, w->prefix_len) != 0) continue;
        store__hist_view(ev, &view, &kv, &prev);
        char *dkv = store__decode(s, &kv), *dprev = view.prev ? store__decode(s, &prev) : NULL;
        w->cb(w->arg, &view, 0);
        free(dkv);
        free(dprev);
    }
}

void store__watch_deliver(store *s)
{
    struct orc_link *l;

    s->delivering++;
    /* Watches appended during the loop are visited too; their cursor makes
     * that a no-op. */
    for (l = s->watches.next; l != &s->watches; l = l->next) {
        struct store_watch *w = ORC_CONTAINER(l, struct store_watch, link);
        if (!w->stopped) catch_up(s, w);
    }
    s->delivering--;
    if (s->delivering == 0 && s->watch_garbage) sweep(s);
}

void store__watch_end_all(store *s, int err)
{
    struct orc_link *l, *last = s->watches.prev;

    if (orc_list_empty(&s->watches)) return;
    s->delivering++;
    /* Watches started by these callbacks (a re-watch after a snapshot
     * install) come after `last` and are kept. */
    for (l = s->watches.next;; l = l->next) {
        struct store_watch *w = ORC_CONTAINER(l, struct store_watch, link);
        if (!w->stopped) end_watch(w, err);
        if (l == last) break;
    }
    s->delivering--;
    if (s->delivering == 0 && s->watch_garbage) sweep(s);
}

int store_watch_start(store *s, const char *prefix, int64_t after_revision, store_watch_cb cb,
                      void *arg, store_watch **out)
{
    struct store_watch *w;
    size_t plen;

    if (s == NULL || prefix == NULL || cb == NULL || out == NULL || after_revision < 0)
        return ORC_EINVAL;
    if (s->closing) return ORC_ESHUTDOWN;
    if (after_revision < s->hist.compact_rev) return ORC_ECOMPACTED;
    plen = strlen(prefix);
    w = malloc(sizeof *w + plen + 1);
    if (w == NULL) return ORC_ENOMEM;
    memset(w, 0, sizeof *w);
    memcpy(w->prefix, prefix, plen + 1);
    w->prefix_len = plen;
    w->s = s;
    w->cb = cb;
    w->arg = arg;
    w->next_seq = store__hist_seek(&s->hist, after_revision);
    w->after_rev = after_revision;
    orc_list_push(&s->watches, &w->link);
    *out = w;
    s->delivering++;
    catch_up(s, w);
    s->delivering--;
    if (s->delivering == 0 && s->watch_garbage) sweep(s);
    return 0;
}

void store_watch_stop(store_watch *w)
{
    if (w == NULL || w->stopped) return;
    release(w);
}

void store_watch_pause(store_watch *w) { w->paused = true; }

bool store_watch_resume(store_watch *w)
{
    store *s = w->s;

    if (w->stopped) return false;
    w->paused = false;
    s->delivering++;
    catch_up(s, w);
    s->delivering--;
    if (s->delivering == 0 && s->watch_garbage) sweep(s);
    return !w->stopped && !w->paused;
}
