/* history.c — the in-memory ring of recent events that serves watch backlogs
 * and ranges at a past revision. Values are refcounted blobs shared between
 * the event that wrote a version and the event that replaced it. */
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "store/store_int.h"

struct store_blob *store__blob_new(const char *key, const void *value, size_t len,
                                   int64_t create_rev, int64_t mod_rev, int64_t version)
{
    size_t klen = strlen(key);
    struct store_blob *b = malloc(sizeof *b + klen + 1 + len + 1);

    if (b == NULL) return NULL;
    b->refs = 1;
    b->create_rev = create_rev;
    b->mod_rev = mod_rev;
    b->version = version;
    b->value_len = len;
    b->key = b->data;
    memcpy(b->key, key, klen + 1);
    b->value = b->data + klen + 1;
    if (len) memcpy(b->value, value, len);
    b->value[len] = '\0';
    return b;
}

void store__blob_unref(struct store_blob *b)
{
    if (b != NULL && --b->refs == 0) free(b);
}

int store__hist_init(struct store_history *h, size_t cap)
{
    memset(h, 0, sizeof *h);
    h->ring = calloc(cap, sizeof *h->ring);
    if (h->ring == NULL) return ORC_ENOMEM;
    h->cap = cap;
    h->next_seq = 1;
    return 0;
}

static void drop_oldest(struct store_history *h)
{
    struct store_hist_ev *ev = &h->ring[h->head];

    if (ev->rev > h->compact_rev) h->compact_rev = ev->rev;
    store__blob_unref(ev->kv);
    store__blob_unref(ev->prev);
    memset(ev, 0, sizeof *ev);
    h->head = (h->head + 1) % h->cap;
    h->n--;
}

void store__hist_reset(struct store_history *h, int64_t compact_rev)
{
    while (h->n > 0) drop_oldest(h);
    h->head = 0;
    h->compact_rev = compact_rev;
}

void store__hist_free(struct store_history *h)
{
    if (h->ring != NULL) store__hist_reset(h, 0);
    free(h->ring);
    h->ring = NULL;
}

void store__hist_push(struct store_history *h, const struct store_hist_ev *ev)
{
    if (h->n == h->cap) drop_oldest(h);
    h->ring[(h->head + h->n) % h->cap] = *ev;
    h->n++;
    h->next_seq++;
}

const struct store_hist_ev *store__hist_at(const struct store_history *h, uint64_t seq)
{
    uint64_t first = store__hist_first_seq(h);

    if (seq < first || seq >= h->next_seq) return NULL;
    return &h->ring[(h->head + (size_t)(seq - first)) % h->cap];
}

uint64_t store__hist_seek(const struct store_history *h, int64_t rev)
{
    uint64_t lo = store__hist_first_seq(h), hi = h->next_seq;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (store__hist_at(h, mid)->rev > rev)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

struct store_blob *store__hist_find_put(const struct store_history *h, const char *key,
                                        int64_t mod_rev)
{
    struct store_blob *found = NULL;
    const struct store_hist_ev *ev;

    /* A txn may put the same key twice: the last put of that revision wins. */
    for (uint64_t seq = store__hist_seek(h, mod_rev - 1);
         (ev = store__hist_at(h, seq)) != NULL && ev->rev == mod_rev; seq++) {
        if (ev->type == STORE_EVENT_PUT && strcmp(ev->kv->key, key) == 0) found = ev->kv;
    }
    return found;
}

static void blob_view(const struct store_blob *b, struct store_kv *kv)
{
    kv->key = b->key;
    kv->value = b->value;
    kv->value_len = b->value_len;
    kv->create_rev = b->create_rev;
    kv->mod_rev = b->mod_rev;
    kv->version = b->version;
}

void store__hist_view(const struct store_hist_ev *ev, struct store_event *out, struct store_kv *kv,
                      struct store_kv *prev)
{
    out->type = ev->type;
    out->revision = ev->rev;
    out->prev = NULL;
    if (ev->prev != NULL) {
        blob_view(ev->prev, prev);
        out->prev = prev;
    }
    if (ev->type == STORE_EVENT_PUT) {
        blob_view(ev->kv, kv);
    } else {
        blob_view(ev->prev, kv);
        kv->mod_rev = ev->rev;
    }
    out->kv = kv;
}
