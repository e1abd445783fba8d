/* backup_load.c — loading a backup into a new cluster through the Raft log.
 * The rows of the backup's database travel as load entries (about 1 MiB
 * each, a few in flight) that every member applies alike: each row is
 * upserted with its own create/mod revision and version, and the last
 * entry sets the store's revision to the backup's. Since it all goes
 * through the log, members that join later get the same state by snapshot
 * or by log, and nothing writes raft's own files.
 *
 * load body:  u8 version=1, u8 flags (1: last), u16 0, u32 n_rows,
 *             i64 revision (used by the last), rows
 * row:        u32 key_len, key, NUL, u32 value_len, value,
 *             i64 create_rev, i64 mod_rev, i64 version */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/backup_int.h"
#include "store/le.h"

#define LOAD_VERSION 1
#define LOAD_LAST 1
#define LOAD_HEAD 16
#define ROW_FIXED (4 + 1 + 4 + 24)
#define CHUNK_BYTES (1u << 20)
#define WINDOW 4 /* entries in flight */
/* Entries kept after the snapshot that follows a load: the load entries
 * are large, and raft keeps its log in memory. */
#define LOAD_TRAILING 8

static const char upsert_sql[] =
    "INSERT INTO kv(key, value, create_rev, mod_rev, version) VALUES(?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT(key) DO UPDATE SET value=excluded.value, create_rev=excluded.create_rev,"
    " mod_rev=excluded.mod_rev, version=excluded.version";

/* ---- applying (every member) ---- */

struct load_row {
    const char *key;
    const void *value;
    uint32_t value_len;
    int64_t create_rev, mod_rev, version;
};

/* Reads the row at *p (bounds already checked by load_check). */
static const unsigned char *row_read(const unsigned char *p, struct load_row *r)
{
    uint32_t klen = store__get_u32(p);

    r->key = (const char *)p + 4;
    p += 4 + klen + 1;
    r->value_len = store__get_u32(p);
    r->value = p + 4;
    p += 4 + r->value_len;
    r->create_rev = (int64_t)store__get_u64(p);
    r->mod_rev = (int64_t)store__get_u64(p + 8);
    r->version = (int64_t)store__get_u64(p + 16);
    return p + 24;
}

/* Validates a whole body before anything is applied. */
static int load_check(const unsigned char *p, size_t len)
{
    const unsigned char *end = p + len;
    uint32_t n, klen, vlen;

    if (len < LOAD_HEAD || len > STORE_LOAD_MAX || p[0] != LOAD_VERSION || p[1] > LOAD_LAST
        || p[2] || p[3])
        return ORC_EPROTO;
    n = store__get_u32(p + 4);
    p += LOAD_HEAD;
    if (n > len / ROW_FIXED) return ORC_EPROTO;
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < 4) return ORC_EPROTO;
        klen = store__get_u32(p);
        if (klen == 0 || (size_t)(end - p - 4) < (size_t)klen + 1 + 4) return ORC_EPROTO;
        if (memchr(p + 4, 0, klen) != NULL || p[4 + klen] != 0) return ORC_EPROTO;
        p += 4 + klen + 1;
        vlen = store__get_u32(p);
        if ((size_t)(end - p - 4) < (size_t)vlen + 24) return ORC_EPROTO;
        p += 4 + vlen + 24;
    }
    return p == end ? 0 : ORC_EPROTO;
}

static int upsert_rows(store *s, const unsigned char *p, uint32_t n)
{
    sqlite3_stmt *st = NULL;
    struct load_row r;
    int rc = sqlite3_prepare_v2(s->db.conn, upsert_sql, -1, &st, NULL);

    for (uint32_t i = 0; rc == SQLITE_OK && i < n; i++) {
        p = row_read(p, &r);
        sqlite3_bind_text(st, 1, r.key, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 2, r.value_len ? r.value : "", r.value_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, r.create_rev);
        sqlite3_bind_int64(st, 4, r.mod_rev);
        sqlite3_bind_int64(st, 5, r.version);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        log_error("store", "%s: loading backup rows: %s", s->db.path, sqlite3_errmsg(s->db.conn));
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : rc == SQLITE_NOMEM ? ORC_ENOMEM : ORC_EIO;
}

/* The loaded state replaces the history: watches end as after a snapshot
 * install, and revisions go on from the backup's. Raft snapshots right
 * after this apply (fsm_snapshot sets the threshold back), so the large
 * load entries leave its log, which it keeps in memory, and its segments,
 * and a restart does not apply them again. */
static void load_finished(store *s, int64_t rev)
{
    raft_set_snapshot_threshold(&s->raft, 1);
    raft_set_snapshot_trailing(&s->raft, LOAD_TRAILING);
    s->load_trailing = true;
    s->revision = rev;
    store__hist_reset(&s->hist, rev);
    store__watch_end_all(s, ORC_ECOMPACTED);
    store__rev_reached(s);
    log_info("store", "member %llu: loaded a backup; revision %lld", (unsigned long long)s->id,
             (long long)rev);
}

int store__load_apply(store *s, const void *body, size_t len, struct store_txn_result *res)
{
    const unsigned char *p = body;
    bool last;
    int64_t rev;
    int rc;

    if (load_check(p, len) != 0) {
        log_error("store", "skipping malformed load entry after index %llu (%zu bytes)",
                  (unsigned long long)s->raft.last_applied, len);
        return 0;
    }
    last = p[1] & LOAD_LAST;
    rev = (int64_t)store__get_u64(p + 8);
    if (rev < s->revision) rev = s->revision;
    if ((rc = store__batch_begin(s)) != 0 || (rc = store__db_exec(&s->db, STMT_SAVEPOINT)) != 0)
        return rc;
    rc = upsert_rows(s, p + LOAD_HEAD, store__get_u32(p + 4));
    if (rc == 0 && last) rc = store__db_set_revision(&s->db, rev);
    if (rc == 0) rc = store__db_exec(&s->db, STMT_RELEASE);
    if (rc != 0) {
        store__db_exec(&s->db, STMT_ROLLBACK_TO);
        store__db_exec(&s->db, STMT_RELEASE);
        return rc;
    }
    s->batch_n++;
    if (last) {
        store__count_rebuild(s);
        load_finished(s, rev);
    }
    res->succeeded = true;
    res->revision = s->revision;
    return 0;
}

void store__load_snapshot_done(store *s)
{
    if (!s->load_trailing) return;
    s->load_trailing = false;
    raft_set_snapshot_trailing(&s->raft, s->cfg.snapshot_trailing);
}

/* ---- submitting (the restoring member) ---- */

struct load_op {
    store *s;
    sqlite3 *src;       /* the backup's database, read in place */
    sqlite3_stmt *rows; /* every key, in the order they were created */
    bool have_row;      /* rows stands on a row not sent yet */
    bool rows_done, last_sent;
    char *skip;
    int64_t revision;
    size_t objects;
    unsigned inflight;
    int status;
    struct orc_buf body;
    uv_timer_t done; /* the caller hears back from the loop, not from an apply */
    store_load_cb cb;
    void *arg;
};

/* The caller may free the payload once told: the source goes first. */
static void close_source(struct load_op *op)
{
    sqlite3_finalize(op->rows);
    sqlite3_close(op->src);
    op->rows = NULL;
    op->src = NULL;
}

static void op_closed(uv_handle_t *h)
{
    struct load_op *op = h->data;
    store *s = op->s;

    orc_buf_free(&op->body);
    free(op->skip);
    free(op);
    store__release(s);
}

static void on_done(uv_timer_t *t)
{
    struct load_op *op = t->data;
    struct store_load_result res = {op->objects, op->s->revision};

    close_source(op);
    op->cb(op->arg, op->status, op->status == 0 ? &res : NULL);
    uv_close((uv_handle_t *)&op->done, op_closed);
}

static void finish(struct load_op *op) { uv_timer_start(&op->done, on_done, 0, 0); }

/* Moves to the next row to send (skipping those the caller leaves out). */
static int next_row(struct load_op *op)
{
    int rc;

    for (;;) {
        rc = sqlite3_step(op->rows);
        if (rc == SQLITE_DONE) {
            op->rows_done = true;
            op->have_row = false;
            return 0;
        }
        if (rc != SQLITE_ROW) {
            log_error("store", "reading the backup: %s", sqlite3_errmsg(op->src));
            return ORC_ECORRUPT;
        }
        const char *key = (const char *)sqlite3_column_text(op->rows, 0);
        if (key == NULL) return ORC_ECORRUPT;
        if (op->skip == NULL || strncmp(key, op->skip, strlen(op->skip)) != 0) break;
    }
    op->have_row = true;
    return 0;
}

static int append_row(struct load_op *op)
{
    sqlite3_stmt *st = op->rows;
    const char *key = (const char *)sqlite3_column_text(st, 0);
    size_t klen = (size_t)sqlite3_column_bytes(st, 0);
    const void *value = sqlite3_column_blob(st, 1);
    size_t vlen = (size_t)sqlite3_column_bytes(st, 1);
    unsigned char fixed[24], *q;

    if (orc_buf_reserve(&op->body, ROW_FIXED + klen + vlen) != 0) return ORC_ENOMEM;
    q = (unsigned char *)op->body.data + op->body.len;
    q = store__put_u32(q, (uint32_t)klen);
    memcpy(q, key, klen);
    q[klen] = 0;
    q = store__put_u32(q + klen + 1, (uint32_t)vlen);
    if (vlen) memcpy(q, value, vlen);
    op->body.len += 9 + klen + vlen;
    q = store__put_u64(fixed, (uint64_t)sqlite3_column_int64(st, 2));
    q = store__put_u64(q, (uint64_t)sqlite3_column_int64(st, 3));
    store__put_u64(q, (uint64_t)sqlite3_column_int64(st, 4));
    return orc_buf_append(&op->body, fixed, sizeof fixed) == 0 ? 0 : ORC_ENOMEM;
}

/* The body of the next entry: rows until about CHUNK_BYTES (at least one),
 * or none for the last entry, which carries the revision. */
static int build_body(struct load_op *op, bool last, uint32_t *n)
{
    unsigned char head[LOAD_HEAD] = {LOAD_VERSION, last ? LOAD_LAST : 0, 0, 0};
    int rv;

    orc_buf_reset(&op->body);
    store__put_u64(head + 8, (uint64_t)op->revision);
    if (orc_buf_append(&op->body, head, sizeof head) != 0) return ORC_ENOMEM;
    for (*n = 0; !last && op->have_row; (*n)++) {
        size_t row = ROW_FIXED + (size_t)sqlite3_column_bytes(op->rows, 0)
                     + (size_t)sqlite3_column_bytes(op->rows, 1);
        if (*n > 0 && op->body.len + row > CHUNK_BYTES) break;
        if (op->body.len + row > STORE_LOAD_MAX) return ORC_ETOOBIG;
        if ((rv = append_row(op)) != 0 || (rv = next_row(op)) != 0) return rv;
    }
    store__put_u32((unsigned char *)op->body.data + 4, *n);
    return 0;
}

static void pump(struct load_op *op);

static void on_applied(void *arg, int status, const struct store_txn_result *res)
{
    struct load_op *op = arg;

    op->inflight--;
    if (op->status == 0 && (status != 0 || !res->succeeded)) {
        op->status = status ? status : ORC_EIO;
        log_error("store", "loading the backup: an entry %s", status ? orc_strerror(status)
                                                                     : "was refused");
    }
    pump(op);
}

static int submit(struct load_op *op, bool last)
{
    uint32_t n = 0;
    void *entry;
    int rv;

    if ((rv = build_body(op, last, &n)) != 0) return rv;
    if ((entry = raft_malloc(store__entry_size(op->body.len))) == NULL) return ORC_ENOMEM;
    memcpy((char *)entry + STORE_ENTRY_HEADER, op->body.data, op->body.len);
    if ((rv = store__entry_queue(op->s, entry, op->body.len, STORE_ENTRY_LOAD, on_applied, op)) != 0)
        return rv;
    op->objects += n;
    op->inflight++;
    return 0;
}

/* The last entry, with the revision, goes once every row is applied. */
static int submit_last(struct load_op *op)
{
    op->last_sent = true;
    return submit(op, true);
}

static void pump(struct load_op *op)
{
    int rv = op->status;

    while (rv == 0 && op->inflight < WINDOW && !op->rows_done) rv = submit(op, false);
    if (rv == 0 && op->rows_done && op->inflight == 0 && !op->last_sent) rv = submit_last(op);
    if (rv != 0 && op->status == 0) op->status = rv;
    if (op->inflight == 0 && (op->status != 0 || op->last_sent)) finish(op);
}

static int open_source(struct load_op *op, const void *payload, size_t len)
{
    int rc = sqlite3_open_v2(":memory:", &op->src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_deserialize(op->src, "main", (unsigned char *)payload, (sqlite3_int64)len,
                                 (sqlite3_int64)len, SQLITE_DESERIALIZE_READONLY);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(op->src,
                                "SELECT key, value, create_rev, mod_rev, version FROM kv ORDER BY id",
                                -1, &op->rows, NULL);
    if (rc != SQLITE_OK) {
        log_error("store", "opening the backup: %s",
                  op->src ? sqlite3_errmsg(op->src) : sqlite3_errstr(rc));
        return rc == SQLITE_NOMEM ? ORC_ENOMEM : ORC_ECORRUPT;
    }
    return 0;
}

static int read_revision(struct load_op *op)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(op->src, "SELECT value FROM meta WHERE name='revision'", -1, &st,
                                NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        op->revision = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : ORC_ECORRUPT;
}

int store_backup_load(store *s, const void *payload, size_t len, const char *skip_prefix,
                      store_load_cb cb, void *arg)
{
    struct load_op *op;
    int rv;

    if (s == NULL || payload == NULL || cb == NULL) return ORC_EINVAL;
    if ((rv = store__writable(s)) != 0) return rv;
    if ((op = calloc(1, sizeof *op)) == NULL) return ORC_ENOMEM;
    op->s = s;
    op->cb = cb;
    op->arg = arg;
    if (skip_prefix && (op->skip = strdup(skip_prefix)) == NULL) rv = ORC_ENOMEM;
    if (rv == 0) rv = open_source(op, payload, len);
    if (rv == 0) rv = read_revision(op);
    if (rv == 0) rv = next_row(op);
    if (rv != 0) {
        close_source(op);
        free(op->skip);
        free(op);
        return rv;
    }
    uv_timer_init(s->loop, &op->done);
    op->done.data = op;
    store__hold(s);
    pump(op);
    return 0;
}
