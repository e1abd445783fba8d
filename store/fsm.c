/* fsm.c — the raft_fsm: applies committed txns to SQLite (guards, revision,
 * history events, watch delivery), and snapshots/restores the database.
 * Apply runs on every member, so it only reads the entry and the state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/backup_int.h"
#include "store/store_int.h"

static int scratch_reserve(store *s)
{
    struct store_hist_ev *p;
    size_t cap;

    if (s->scratch_n < s->scratch_cap) return 0;
    cap = s->scratch_cap ? s->scratch_cap * 2 : 16;
    p = realloc(s->scratch, cap * sizeof *p);
    if (p == NULL) return ORC_ENOMEM;
    s->scratch = p;
    s->scratch_cap = cap;
    return 0;
}

static void scratch_discard(store *s)
{
    for (size_t i = 0; i < s->scratch_n; i++) {
        store__blob_unref(s->scratch[i].kv);
        store__blob_unref(s->scratch[i].prev);
    }
    s->scratch_n = 0;
}

/* Earlier put of the same key in the txn being applied. */
static struct store_blob *scratch_find_put(store *s, const char *key)
{
    for (size_t i = s->scratch_n; i-- > 0;) {
        struct store_hist_ev *ev = &s->scratch[i];
        if (ev->type == STORE_EVENT_PUT && strcmp(ev->kv->key, key) == 0) return ev->kv;
    }
    return NULL;
}

/* The entry a put or delete replaces, shared with the event that wrote it
 * when that event is still retained, else copied out of SQLite. */
static int prev_blob(store *s, const char *key, const struct store_row *row, int64_t rev,
                     struct store_blob **out)
{
    struct store_blob *b;
    const void *value;
    size_t len;
    int rc;

    b = row->mod_rev == rev ? scratch_find_put(s, key)
                            : store__hist_find_put(&s->hist, key, row->mod_rev);
    if (b != NULL) {
        *out = store__blob_ref(b);
        return 0;
    }
    if ((rc = store__db_value(&s->db, row->id, &value, &len)) != 0) return rc;
    *out = store__blob_new(key, value, len, row->create_rev, row->mod_rev, row->version);
    return *out ? 0 : ORC_ENOMEM;
}

static int apply_op(store *s, const struct store_op *op, int64_t rev)
{
    struct store_hist_ev ev = {.rev = rev};
    struct store_row row;
    int rc;

    if ((rc = store__db_lookup(&s->db, op->key, &row)) != 0) return rc;
    if (op->type == STORE_DELETE && !row.exists) return 0;
    if ((rc = scratch_reserve(s)) != 0) return rc;
    if (row.exists && (rc = prev_blob(s, op->key, &row, rev, &ev.prev)) != 0) return rc;
    if (op->type == STORE_PUT) {
        ev.type = STORE_EVENT_PUT;
        ev.kv = store__blob_new(op->key, op->value, op->value_len,
                                row.exists ? row.create_rev : rev, rev,
                                row.exists ? row.version + 1 : 1);
        if (ev.kv == NULL) rc = ORC_ENOMEM;
        else if (row.exists)
            rc = store__db_update(&s->db, row.id, op->value, op->value_len, rev, row.version + 1);
        else if ((rc = store__db_insert(&s->db, op->key, op->value, op->value_len, rev)) == 0)
            store__count_key(s, op->key, 1);
    } else {
        ev.type = STORE_EVENT_DELETE;
        if ((rc = store__db_delete(&s->db, row.id)) == 0) store__count_key(s, op->key, -1);
        store__hint_deleted(s, op->key);
    }
    s->scratch[s->scratch_n++] = ev; /* released by scratch_discard on failure */
    return rc;
}

/* ---- block allocation (STORE_PUT_ALLOC) ---- */

/* value with every marker replaced by block; malloc'd into *out. */
static int fill_marker(const void *value, size_t value_len, const char *m, const char *block,
                       char **out, size_t *len)
{
    const char *v = value, *end = v + value_len;
    size_t mlen = strlen(m), blen = strlen(block), n = 0;
    char *buf = malloc(value_len * (blen > mlen ? blen / mlen + 2 : 1) + 1);

    if (buf == NULL) return ORC_ENOMEM;
    while (v < end) {
        const char *hit = memmem(v, (size_t)(end - v), m, mlen);
        size_t plain = hit ? (size_t)(hit - v) : (size_t)(end - v);
        memcpy(buf + n, v, plain);
        n += plain;
        v += plain;
        if (!hit) break;
        memcpy(buf + n, block, blen);
        n += blen;
        v += mlen;
    }
    *out = buf;
    *len = n;
    return 0;
}

#define ITEM_LEN 24

struct pick {
    const struct store_alloc_slot *slot;
    char item[ITEM_LEN];
};

/* Taken by an earlier slot of this op (same pool, same reservations). */
static bool picked(const struct pick *p, size_t n, const struct store_alloc_slot *sl,
                   const char *item)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].slot->prefix, sl->prefix) == 0 && strcmp(p[i].item, item) == 0)
            return true;
    return false;
}

/* The first value of the slot's pool whose reservation key is absent and
 * that no earlier slot took, into picks[n].item ("" if none). */
static int find_free(store *s, struct pick *picks, size_t n)
{
    const struct store_alloc_slot *sl = picks[n].slot;
    char *item = picks[n].item, key[512];
    struct orc_pool pool;
    struct store_row row;
    uint64_t *hint = store__hint_for(s, sl);
    int rc;

    item[0] = '\0';
    if (orc_pool_parse(sl->range, sl->bits, &pool) != 0) return 0; /* nothing to hand out */
    for (uint64_t i = hint ? *hint : 0; i < pool.size; i++) {
        orc_pool_item(&pool, i, item, ITEM_LEN);
        if (picked(picks, n, sl, item)) continue;
        snprintf(key, sizeof key, "%s%s", sl->prefix, item);
        if ((rc = store__db_lookup(&s->db, key, &row)) != 0) return rc;
        if (!row.exists) {
            if (hint) *hint = i; /* taken next, unless the txn fails: then reset */
            return 0;
        }
    }
    if (hint) *hint = pool.size;
    item[0] = '\0';
    return 0;
}

static int apply_op(store *s, const struct store_op *op, int64_t rev);

/* Reserves each pick and puts the value with its markers filled. */
static int put_filled(store *s, const struct store_op *op, const struct store_alloc *a,
                      const struct pick *picks, size_t n, int64_t rev)
{
    char key[512], *value = NULL, *next;
    const void *cur = a->value;
    size_t len = a->value_len;
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf(key, sizeof key, "%s%s", picks[i].slot->prefix, picks[i].item);
        struct store_op reserve = {STORE_PUT, key, op->key, strlen(op->key)};
        if ((rc = apply_op(s, &reserve, rev)) != 0) break;
        if ((rc = fill_marker(cur, len, picks[i].slot->marker, picks[i].item, &next, &len)) != 0)
            break;
        free(value);
        cur = value = next;
    }
    struct store_op put = {STORE_PUT, op->key, cur, len};
    if (rc == 0) rc = apply_op(s, &put, rev);
    free(value);
    return rc;
}

/* ORC_ENOSPC: a slot's pool is full and the op has no value_none, which
 * fails the txn (apply_txn). */
static int apply_alloc(store *s, const struct store_op *op, int64_t rev,
                       struct store_txn_result *res)
{
    struct store_alloc alloc, *a = &alloc;
    struct pick picks[STORE_ALLOC_SLOTS];
    struct store_alloc_slot first;
    size_t n = 0;
    int rc;

    if (store__alloc_parse(op->value, op->value_len, a) != 0) return ORC_EPROTO;
    first = (struct store_alloc_slot){a->range, a->bits, a->prefix, a->marker};
    for (n = 0; n <= a->n_more; n++) {
        picks[n].slot = n == 0 ? &first : &a->more[n - 1];
        if ((rc = find_free(s, picks, n)) != 0) return rc;
        if (picks[n].item[0] == '\0') break;
    }
    if (n <= a->n_more) {
        if (a->value_none_len == 0) return ORC_ENOSPC;
        struct store_op none = {STORE_PUT, op->key, a->value_none, a->value_none_len};
        return apply_op(s, &none, rev);
    }
    if ((rc = put_filled(s, op, a, picks, n, rev)) != 0) return rc;
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof res->block; i++)
        used += (size_t)snprintf(res->block + used, sizeof res->block - used, "%s%s",
                                 i ? "," : "", picks[i].item);
    return 0;
}

/* Fills res and returns 0 when a guard fails, or a db error. */
static int eval_guards(store *s, struct store_txn_reader *r, struct store_txn_result *res)
{
    struct store_guard g;
    struct store_row row;
    int rc;

    for (int i = 0; r->guards_left > 0; i++) {
        store__txn_next_guard(r, &g);
        if ((rc = store__db_lookup(&s->db, g.key, &row)) != 0) return rc;
        bool ok = g.type == STORE_GUARD_ABSENT   ? !row.exists
                  : g.type == STORE_GUARD_EXISTS ? row.exists
                                                 : row.exists && row.mod_rev == g.mod_rev;
        if (!ok) {
            res->failed_guard = i;
            res->failed_mod_rev = row.exists ? row.mod_rev : 0;
            while (r->guards_left > 0) store__txn_next_guard(r, &g);
            return 0;
        }
    }
    return 0;
}

/* ---- apply batches ---- */

#define BATCH_MAX 1024 /* entries per SQLite transaction, bounding its size */

static void on_commit_prepare(uv_prepare_t *p)
{
    uv_prepare_stop(p);
    store__batch_commit(p->data);
}

void store__batch_init(store *s)
{
    uv_prepare_init(s->loop, &s->commit_prepare);
    s->commit_prepare.data = s;
}

void store__batch_commit(store *s)
{
    if (!s->batch_open) return;
    s->batch_open = false;
    s->batch_n = 0;
    if (store__db_exec(&s->db, STMT_COMMIT) != 0) {
        /* Raft has these entries as applied; this member's database lost
         * them. It must not serve until it is rebuilt from the log. */
        char why[200];
        snprintf(why, sizeof why, "commit: %s", sqlite3_errmsg(s->db.conn));
        if (!sqlite3_get_autocommit(s->db.conn)) store__db_exec(&s->db, STMT_ROLLBACK);
        store__fsm_fail(s, why);
    }
}

int store__batch_begin(store *s)
{
    int rc;

    if (s->batch_open && s->batch_n >= BATCH_MAX) store__batch_commit(s);
    if (s->batch_open) return 0;
    if ((rc = store__db_exec(&s->db, STMT_BEGIN)) != 0) return rc;
    s->batch_open = true;
    if (!s->closing) uv_prepare_start(&s->commit_prepare, on_commit_prepare);
    return 0;
}

/* One txn inside the batch, all or nothing through a savepoint. */
static int apply_ops(store *s, struct store_txn_reader *r, int64_t rev,
                     struct store_txn_result *res)
{
    struct store_op op;
    int rc;

    if ((rc = store__batch_begin(s)) != 0) return rc;
    if ((rc = store__db_exec(&s->db, STMT_SAVEPOINT)) != 0) return rc;
    while (r->ops_left > 0) {
        store__txn_next_op(r, &op);
        rc = op.type == STORE_PUT_ALLOC ? apply_alloc(s, &op, rev, res) : apply_op(s, &op, rev);
        if (rc != 0) goto err;
    }
    if ((rc = store__db_set_revision(&s->db, rev)) != 0) goto err;
    if ((rc = store__db_exec(&s->db, STMT_RELEASE)) != 0) goto err;
    s->batch_n++;
    return 0;
err:
    store__db_exec(&s->db, STMT_ROLLBACK_TO);
    store__db_exec(&s->db, STMT_RELEASE);
    scratch_discard(s);
    store__hint_reset(s); /* what the txn deleted or reserved is back as it was */
    return rc;
}

static void publish(store *s)
{
    for (size_t i = 0; i < s->scratch_n; i++) store__hist_push(&s->hist, &s->scratch[i]);
    s->scratch_n = 0;
    store__watch_deliver(s);
    store__rev_reached(s);
}

/* Evaluates and applies one txn into res; a nonzero return is a local
 * failure (disk, memory) that must not advance the FSM. */
static int apply_txn(store *s, const void *txn, size_t len, struct store_txn_result *res)
{
    struct store_txn_reader r;
    int rc;

    store__txn_reader_init(&r, txn, len);
    if ((rc = eval_guards(s, &r, res)) != 0 || res->failed_guard >= 0) return rc;
    if ((rc = apply_ops(s, &r, s->revision + 1, res)) != 0) {
        res->block[0] = '\0';
        /* A full pool fails the txn like a guard would, on every member. */
        return rc == ORC_ENOSPC ? 0 : rc;
    }
    s->revision++;
    res->succeeded = true;
    res->revision = s->revision;
    publish(s);
    return 0;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    store *s = fsm->data;
    struct store_txn_result *res = &s->apply_result;
    uint64_t nonce = 0, seq = 0;
    unsigned kind = 0;
    const void *txn;
    size_t len;
    int rc;

    /* Followers never free *result: point it at the store's own. */
    *result = res;
    s->entry_bytes = s->entry_bytes ? (s->entry_bytes * 15 + buf->len) / 16 : buf->len;
    res->succeeded = false;
    res->revision = s->revision;
    res->failed_guard = -1;
    res->block[0] = '\0';
    res->failed_mod_rev = 0;
    if (s->closing) return 0;
    /* Nothing more goes into a database that lost entries: raft keeps the
     * rest unapplied until the store rebuilds from the log. */
    if (s->fsm_failed) return RAFT_IOERR;
    if (store__entry_split(buf->base, buf->len, &kind, &nonce, &seq, &txn, &len) == 0
        && kind == STORE_ENTRY_LOAD) {
        store__hint_reset(s);
        rc = store__load_apply(s, txn, len, res);
    } else if (store__entry_parse(buf->base, buf->len, &nonce, &seq, &txn, &len) != 0) {
        log_error("store", "skipping malformed entry after index %llu (%zu bytes)",
                  (unsigned long long)s->raft.last_applied, buf->len);
        rc = 0;
    } else {
        rc = apply_txn(s, txn, len, res);
    }
    if (rc != 0) {
        /* Never skipped, or this member would diverge from the others: the
         * entry stays unapplied in raft until the store is rebuilt. */
        char why[200];
        snprintf(why, sizeof why, "apply: %s (%s)", orc_strerror(rc), sqlite3_errmsg(s->db.conn));
        store__fsm_fail(s, why);
        return rc == ORC_ENOMEM ? RAFT_NOMEM : RAFT_IOERR;
    }
    store__txn_resolve(s, nonce, seq, res);
    store__checkpoint_maybe(s);
    return 0;
}

/* Snapshot cost grows with the data (the whole database is written, and
 * that write competes with the log's small synchronous writes), so the log
 * grows to twice the database's size between snapshots: each byte written
 * pays a constant share of snapshotting. Never fewer entries than
 * configured; never more log than SNAPSHOT_MAX_LOG_BYTES, because Raft
 * keeps the log since the last snapshot in memory. */
#define SNAPSHOT_MAX_LOG_BYTES (64 << 20)

static void adapt_threshold(store *s)
{
    int64_t per_entry = s->entry_bytes > 64 ? (int64_t)s->entry_bytes : 64;
    int64_t want = 2 * store__db_bytes(&s->db) / per_entry;
    int64_t cap = SNAPSHOT_MAX_LOG_BYTES / per_entry;

    if (want > cap) want = cap;
    if (want < (int64_t)s->cfg.snapshot_threshold) want = s->cfg.snapshot_threshold;
    raft_set_snapshot_threshold(&s->raft, (unsigned)want);
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs);

/* Loop: pin the state to snapshot; the image is made in fsm_snapshot_async
 * (or here, when the I/O backend cannot run work off the loop). */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    store *s = fsm->data;
    struct raft_buffer *b;

    if (s->snapshotting) return RAFT_BUSY;
    store__batch_commit(s); /* the reader must see everything applied */
    if (s->fsm_failed) return RAFT_BUSY; /* never a snapshot of a database that lost entries */
    b = raft_calloc(2, sizeof *b); /* the image, its trailer */
    if (b == NULL) return RAFT_NOMEM;
    if (store__db_snapshot_begin(&s->db) != 0) {
        raft_free(b);
        return RAFT_BUSY; /* raft tries again later */
    }
    s->snapshotting = true;
    s->snapshot_start = uv_hrtime();
    adapt_threshold(s);
    *bufs = b;
    *n_bufs = 2;
    if (fsm->snapshot_async == NULL && store__db_snapshot_take(&s->db, b) != 0) {
        unsigned n = 2;
        fsm_snapshot_finalize(fsm, bufs, &n);
        return RAFT_NOMEM;
    }
    return 0;
}

/* Worker thread: only the reader connection is touched here. */
struct take {
    store *s;
    struct raft_buffer *buf;
};

static int take_image(void *arg)
{
    struct take *t = arg;
    return store__db_snapshot_take(&t->s->db, t->buf);
}

static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct take t = {fsm->data, &(*bufs)[0]};
    (void)n_bufs;
    return store__background(take_image, &t) == 0 ? 0 : RAFT_NOMEM;
}

/* Loop: after the snapshot was stored, or after a failure on the way. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    store *s = fsm->data;

    for (unsigned i = 0; *bufs && i < *n_bufs; i++) store__db_snapshot_end(&s->db, &(*bufs)[i]);
    if (*bufs == NULL || *n_bufs == 0) store__db_snapshot_end(&s->db, NULL);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    s->snapshotting = false;
    store__metric_snapshot(s);
    store__load_snapshot_done(s);
    return 0;
}

/* At start, and when the leader installs a snapshot on this member: the
 * event history no longer connects, so every watch ends as compacted. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    store *s = fsm->data;
    int64_t rev = 0;
    int rc;

    store__batch_commit(s);
    store__hint_reset(s);
    if ((rc = store__db_restore(&s->db, buf->base, buf->len)) != 0 ||
        (rc = store__db_get_revision(&s->db, &rev)) != 0) {
        /* At start raft_start fails with it; installed from the leader, the
         * database may be half replaced. */
        if (s->started) store__fsm_fail(s, "installing the leader's snapshot failed");
        return rc == ORC_ENOMEM ? RAFT_NOMEM : RAFT_CORRUPT;
    }
    raft_free(buf->base);
    log_info("store", "member %llu: restored snapshot at revision %lld",
             (unsigned long long)s->id, (long long)rev);
    s->revision = rev;
    store__count_rebuild(s);
    store__hist_reset(&s->hist, rev);
    store__watch_end_all(s, ORC_ECOMPACTED);
    store__rev_reached(s);
    return 0;
}

void store__fsm_init(store *s)
{
    memset(&s->fsm, 0, sizeof s->fsm);
    s->fsm.version = 3;
    s->fsm.data = s;
    s->fsm.apply = fsm_apply;
    s->fsm.snapshot = fsm_snapshot;
    s->fsm.restore = fsm_restore;
    s->fsm.snapshot_finalize = fsm_snapshot_finalize;
    s->fsm.snapshot_async = s->io.version >= 2 && s->io.async_work ? fsm_snapshot_async : NULL;
}
