/* read.c — serializable reads of this member's applied state: get, count,
 * and ranges, either current or as of a past revision rebuilt from the
 * event history (so paged lists stay one snapshot). */
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "store/store_int.h"

void store_kv_clear(struct store_kv *kv)
{
    if (kv == NULL) return;
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof *kv);
}

void store_list_clear(struct store_list *l)
{
    if (l == NULL) return;
    for (size_t i = 0; i < l->n; i++) store_kv_clear(&l->kvs[i]);
    free(l->kvs);
    memset(l, 0, sizeof *l);
}

void store_set_decoder(store *s, store_decode_fn fn, void *arg)
{
    s->decode = fn;
    s->decode_arg = arg;
}

char *store__decode(store *s, struct store_kv *kv)
{
    char *out = NULL;
    size_t len = 0;

    kv->stale = kv->sealed = false;
    if (s->decode == NULL) return NULL;
    if (s->decode(s->decode_arg, kv->key, kv->value, kv->value_len, &out, &len, &kv->stale) != 0) {
        free(out);
        kv->sealed = true;
        return NULL;
    }
    if (out != NULL) {
        kv->value = out;
        kv->value_len = len;
    }
    return out;
}

/* store__decode for a kv that owns its value. */
static void decode_owned(store *s, struct store_kv *kv)
{
    char *old = kv->value;

    if (store__decode(s, kv) != NULL) free(old);
}

static int kv_fill(struct store_kv *kv, const char *key, const void *value, size_t len,
                   int64_t create_rev, int64_t mod_rev, int64_t version)
{
    kv->key = strdup(key);
    kv->value = malloc(len + 1);
    if (kv->key == NULL || kv->value == NULL) {
        store_kv_clear(kv);
        return ORC_ENOMEM;
    }
    if (len) memcpy(kv->value, value, len);
    kv->value[len] = '\0';
    kv->value_len = len;
    kv->create_rev = create_rev;
    kv->mod_rev = mod_rev;
    kv->version = version;
    return 0;
}

static int kv_from_row(struct store_kv *kv, sqlite3_stmt *st, int first)
{
    const void *v = sqlite3_column_blob(st, first + 1);
    size_t len = (size_t)sqlite3_column_bytes(st, first + 1);
    const char *key = (const char *)sqlite3_column_text(st, first);

    if (key == NULL) return ORC_ENOMEM;
    return kv_fill(kv, key, v, len, sqlite3_column_int64(st, first + 2),
                   sqlite3_column_int64(st, first + 3), sqlite3_column_int64(st, first + 4));
}

int store_get(store *s, const char *key, struct store_kv *out)
{
    sqlite3_stmt *st;
    int rc;

    if (s == NULL || key == NULL || out == NULL) return ORC_EINVAL;
    memset(out, 0, sizeof *out);
    if (s->db.conn == NULL) return ORC_EUNAVAIL; /* a rebuild could not reopen it */
    st = s->db.stmt[STMT_GET];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = kv_fill(out, key, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                     sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                     sqlite3_column_int64(st, 3));
        if (rc == 0) decode_owned(s, out);
    } else {
        rc = rc == SQLITE_DONE ? ORC_ENOENT : ORC_EIO;
    }
    sqlite3_reset(st);
    return rc;
}

static int count_range(store *s, const char *prefix, const char *start_after, size_t *out)
{
    sqlite3_stmt *st = store__db_range_stmt(&s->db, STMT_COUNT, prefix, start_after);
    int rc;

    if (st == NULL) return ORC_ENOMEM;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : ORC_EIO;
}

int store_count(store *s, const char *prefix, size_t *out)
{
    if (s == NULL || prefix == NULL || out == NULL) return ORC_EINVAL;
    if (s->db.conn == NULL) return ORC_EUNAVAIL;
    return count_range(s, prefix, NULL, out);
}

/* ---- building a page ---- */

struct page {
    store *s;
    struct store_list *out;
    size_t cap, limit;
};

static bool page_full(const struct page *p) { return p->limit && p->out->n >= p->limit; }

static struct store_kv *page_slot(struct page *p)
{
    struct store_list *l = p->out;

    if (l->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct store_kv *kvs = realloc(l->kvs, cap * sizeof *kvs);
        if (kvs == NULL) return NULL;
        l->kvs = kvs;
        p->cap = cap;
    }
    memset(&l->kvs[l->n], 0, sizeof l->kvs[l->n]);
    return &l->kvs[l->n];
}

static int page_add_row(struct page *p, sqlite3_stmt *st)
{
    struct store_kv *kv = page_slot(p);
    int rc;

    if (kv == NULL) return ORC_ENOMEM;
    if ((rc = kv_from_row(kv, st, 0)) == 0) {
        decode_owned(p->s, kv);
        p->out->n++;
    }
    return rc;
}

static int page_add_blob(struct page *p, const struct store_blob *b)
{
    struct store_kv *kv = page_slot(p);
    int rc;

    if (kv == NULL) return ORC_ENOMEM;
    rc = kv_fill(kv, b->key, b->value, b->value_len, b->create_rev, b->mod_rev, b->version);
    if (rc == 0) {
        decode_owned(p->s, kv);
        p->out->n++;
    }
    return rc;
}

static int range_current(store *s, const char *prefix, const char *start_after, struct page *p)
{
    sqlite3_stmt *st = store__db_range_stmt(&s->db, STMT_RANGE, prefix, start_after);
    size_t remaining = 0;
    int rc = 0, step;

    if (st == NULL) return ORC_ENOMEM;
    if (p->limit) sqlite3_bind_int64(st, 4, (sqlite3_int64)p->limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = page_add_row(p, st)) != 0) break;
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE) rc = ORC_EIO;
    if (rc != 0 || !page_full(p)) return rc;
    rc = count_range(s, prefix, p->out->kvs[p->out->n - 1].key, &remaining);
    p->out->more = remaining > 0;
    p->out->remaining = remaining;
    return rc;
}

/* ---- ranges at a past revision ---- */

/* A key changed after the wanted revision: its state then, and whether it
 * exists now (i.e. is among the current rows). */
struct touched {
    const char *key;
    uint64_t seq;
    const struct store_blob *then; /* NULL: absent at the revision */
    bool exists_now;
};

static int cmp_touched(const void *a, const void *b)
{
    const struct touched *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool in_range(const char *key, const char *prefix, size_t plen, const char *start_after)
{
    return strncmp(key, prefix, plen) == 0 && (start_after == NULL || strcmp(key, start_after) > 0);
}

/* Collects, sorted by key, one entry per key changed after rev. */
static int collect_touched(store *s, int64_t rev, const char *prefix, const char *start_after,
                           struct touched **out, size_t *n_out)
{
    const struct store_hist_ev *ev;
    struct touched *t = NULL;
    size_t n = 0, cap = 0, plen = strlen(prefix), w = 0;

    for (uint64_t seq = store__hist_seek(&s->hist, rev); (ev = store__hist_at(&s->hist, seq));
         seq++) {
        const char *key = ev->kv ? ev->kv->key : ev->prev->key;
        if (!in_range(key, prefix, plen, start_after)) continue;
        if (n == cap) {
            struct touched *nt = realloc(t, (cap = cap ? cap * 2 : 64) * sizeof *t);
            if (nt == NULL) {
                free(t);
                return ORC_ENOMEM;
            }
            t = nt;
        }
        t[n++] = (struct touched){key, seq, ev->prev, ev->type == STORE_EVENT_PUT};
    }
    if (n > 1) qsort(t, n, sizeof *t, cmp_touched);
    /* Per key: the state then is the prev of its first later event; it
     * exists now when its last event is a put. */
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && strcmp(t[w - 1].key, t[i].key) == 0) {
            t[w - 1].exists_now = t[i].exists_now;
            continue;
        }
        t[w++] = t[i];
    }
    *out = t;
    *n_out = w;
    return 0;
}

/* Merges current rows with the touched keys' old states, in key order. */
static int merge_page(sqlite3_stmt *st, const struct touched *t, size_t nt, struct page *p)
{
    size_t i = 0;
    int step = sqlite3_step(st), rc = 0;

    while (rc == 0 && !page_full(p) && (step == SQLITE_ROW || i < nt)) {
        const char *row_key = NULL;
        if (step == SQLITE_ROW && (row_key = (const char *)sqlite3_column_text(st, 0)) == NULL) {
            rc = ORC_ENOMEM;
            break;
        }
        /* c < 0: the row comes first; c > 0: the touched key; 0: same key */
        int c = row_key == NULL ? 1 : i == nt ? -1 : strcmp(row_key, t[i].key);
        if (c < 0) {
            rc = page_add_row(p, st);
        } else if (t[i].then != NULL) {
            rc = page_add_blob(p, t[i].then);
        }
        if (c >= 0) i++;
        if (c <= 0) step = sqlite3_step(st);
    }
    if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE) rc = ORC_EIO;
    return rc;
}

static int range_past(store *s, int64_t rev, const char *prefix, const char *start_after,
                      struct page *p)
{
    struct touched *t = NULL;
    size_t nt = 0, total = 0;
    sqlite3_stmt *st;
    int rc;

    if ((rc = collect_touched(s, rev, prefix, start_after, &t, &nt)) != 0) return rc;
    if ((rc = count_range(s, prefix, start_after, &total)) != 0) goto out;
    for (size_t i = 0; i < nt; i++) total += (t[i].then != NULL) - (size_t)t[i].exists_now;
    if ((st = store__db_range_stmt(&s->db, STMT_RANGE, prefix, start_after)) == NULL) {
        rc = ORC_ENOMEM;
        goto out;
    }
    rc = merge_page(st, t, nt, p);
    sqlite3_reset(st);
    p->out->remaining = total - p->out->n;
    p->out->more = p->out->remaining > 0;
out:
    free(t);
    return rc;
}

int store_range(store *s, const char *prefix, const char *start_after, int64_t at_revision,
                size_t limit, struct store_list *out)
{
    struct page p = {s, out, 0, limit};
    int rc;

    if (s == NULL || out == NULL) return ORC_EINVAL;
    memset(out, 0, sizeof *out);
    if (s->db.conn == NULL) return ORC_EUNAVAIL;
    if (prefix == NULL) prefix = "";
    if (at_revision < 0 || at_revision > s->revision) return ORC_EINVAL;
    if (at_revision > 0 && at_revision < s->hist.compact_rev) return ORC_ECOMPACTED;
    if (at_revision == 0 || at_revision == s->revision) {
        out->revision = s->revision;
        rc = range_current(s, prefix, start_after, &p);
    } else {
        out->revision = at_revision;
        rc = range_past(s, at_revision, prefix, start_after, &p);
    }
    if (rc != 0) store_list_clear(out);
    return rc;
}
