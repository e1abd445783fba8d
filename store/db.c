/* db.c — the SQLite side of the FSM: schema, prepared statements, and the
 * snapshot image (serialize / deserialize + backup). state.db is derived data
 * rebuilt at every start, so it runs without fsync. It is in WAL mode so a
 * second, reading connection can hold a consistent view for a snapshot
 * while the loop keeps applying: the snapshot is serialized on a worker
 * thread instead of stalling every request. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/orc.h"
#include "store/store_int.h"

/* A rowid table rather than WITHOUT ROWID: rows over ~1 KiB (most objects)
 * would spill into a 4 KiB overflow page each in an index b-tree, making
 * the file ~3x larger. The revision lives in meta so snapshots carry it. */
static const char schema_sql[] =
    "PRAGMA page_size=4096;"
    "PRAGMA auto_vacuum=INCREMENTAL;"
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=OFF;"
    "PRAGMA cache_size=-2000;"
    "PRAGMA wal_autocheckpoint=0;" /* checkpoints run off the loop, see store__db_checkpoint */
    "PRAGMA journal_size_limit=4194304;"
    "PRAGMA secure_delete=OFF;"
    "PRAGMA temp_store=MEMORY;"
    "CREATE TABLE kv(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, value BLOB NOT NULL,"
    " create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL);"
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO meta VALUES('revision', 0);";

static const char *const stmt_sql[STMT__N] = {
    [STMT_BEGIN] = "BEGIN",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT entry",
    [STMT_RELEASE] = "RELEASE entry",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO entry",
    [STMT_LOOKUP] = "SELECT id, create_rev, mod_rev, version FROM kv WHERE key=?1",
    [STMT_GET] = "SELECT value, create_rev, mod_rev, version FROM kv WHERE key=?1",
    [STMT_VALUE] = "SELECT value FROM kv WHERE id=?1",
    [STMT_INSERT] = "INSERT INTO kv(key, value, create_rev, mod_rev, version)"
                    " VALUES(?1, ?2, ?3, ?3, 1)",
    [STMT_UPDATE] = "UPDATE kv SET value=?2, mod_rev=?3, version=?4 WHERE id=?1",
    [STMT_DELETE] = "DELETE FROM kv WHERE id=?1",
    [STMT_SET_REV] = "UPDATE meta SET value=?1 WHERE name='revision'",
    [STMT_GET_REV] = "SELECT value FROM meta WHERE name='revision'",
    /* ?2 is a zero-length BLOB for "no upper bound": any TEXT sorts before it. */
    [STMT_RANGE] = "SELECT key, value, create_rev, mod_rev, version FROM kv"
                   " WHERE key >= ?1 AND key < ?2 AND key > ?3 ORDER BY key LIMIT ?4",
    [STMT_COUNT] = "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2 AND key > ?3",
};

static int sqlite_to_orc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return 0;
    case SQLITE_NOMEM: return ORC_ENOMEM;
    case SQLITE_CORRUPT: case SQLITE_NOTADB: return ORC_ECORRUPT;
    case SQLITE_TOOBIG: return ORC_ETOOBIG;
    default: return ORC_EIO;
    }
}

static int db_fail(struct store_db *db, int rc, const char *what)
{
    log_error("store", "%s: %s: %s", db->path, what, sqlite3_errmsg(db->conn));
    return sqlite_to_orc(rc);
}

static int remove_file(const char *path, char *errmsg)
{
    if (unlink(path) == 0 || errno == ENOENT) return 0;
    store__errf(errmsg, "remove %s: %s", path, strerror(errno));
    return ORC_EIO;
}

static int remove_old(const char *path, char *errmsg)
{
    char p[4200];
    int rc = remove_file(path, errmsg);

    snprintf(p, sizeof p, "%s-wal", path);
    if (rc == 0) rc = remove_file(p, errmsg);
    snprintf(p, sizeof p, "%s-shm", path);
    if (rc == 0) rc = remove_file(p, errmsg);
    snprintf(p, sizeof p, "%s-journal", path);
    if (rc == 0) rc = remove_file(p, errmsg);
    return rc;
}

/* SQLite creates a database 0644 (less the umask), and its -wal, -shm and
 * -journal with the database's own mode: made empty and 0600 first, all
 * four stay private (the store holds Secrets). */
static int create_private(const char *path, char *errmsg)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0 || fchmod(fd, 0600) != 0) {
        store__errf(errmsg, "create %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return ORC_EIO;
    }
    close(fd);
    return 0;
}

/* Called by SQLite after each commit on the writer with the WAL's length. */
static int count_wal_frames(void *arg, sqlite3 *conn, const char *name, int frames)
{
    (void)conn;
    (void)name;
    ((struct store_db *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

int store__db_open(struct store_db *db, const char *dir, char *errmsg)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc;

    memset(db, 0, sizeof *db);
    if ((size_t)snprintf(db->path, sizeof db->path, "%s/state.db", dir) >= sizeof db->path) {
        store__errf(errmsg, "data dir path too long");
        return ORC_EINVAL;
    }
    if ((rc = remove_old(db->path, errmsg)) != 0) return rc;
    if ((rc = create_private(db->path, errmsg)) != 0) return rc;
    rc = sqlite3_open_v2(db->path, &db->conn, flags, NULL);
    if (rc != SQLITE_OK) goto err;
    rc = sqlite3_exec(db->conn, schema_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) goto err;
    for (int i = 0; i < STMT__N; i++) {
        rc = sqlite3_prepare_v3(db->conn, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &db->stmt[i], NULL);
        if (rc != SQLITE_OK) goto err;
    }
    /* The snapshot reader and the checkpointer: each used by the loop and
     * one worker thread in turn, never at once, so no mutex of their own. */
    rc = sqlite3_open_v2(db->path, &db->reader, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db->reader, "PRAGMA cache_size=-500", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(db->path, &db->ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db->ckpt, "PRAGMA cache_size=-100", NULL, NULL, NULL);
    if (rc != SQLITE_OK) goto err;
    sqlite3_wal_hook(db->conn, count_wal_frames, db);
    return 0;
err:
    store__errf(errmsg, "%s: %s", db->path,
             db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
    store__db_close(db);
    return sqlite_to_orc(rc) ? sqlite_to_orc(rc) : ORC_EIO;
}

void store__db_close(struct store_db *db)
{
    for (int i = 0; i < STMT__N; i++) {
        sqlite3_finalize(db->stmt[i]);
        db->stmt[i] = NULL;
    }
    if (db->reader) sqlite3_close(db->reader);
    db->reader = NULL;
    if (db->ckpt) sqlite3_close(db->ckpt);
    db->ckpt = NULL;
    if (db->conn) sqlite3_close(db->conn);
    db->conn = NULL;
}

/* Runs a statement with no result rows and resets it. */
static int run(struct store_db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return db_fail(db, rc, what);
    return 0;
}

int store__db_exec(struct store_db *db, enum store_stmt which)
{
    sqlite3_reset(db->stmt[STMT_VALUE]);
    return run(db, db->stmt[which], stmt_sql[which]);
}

int store__db_lookup(struct store_db *db, const char *key, struct store_row *row)
{
    sqlite3_stmt *st = db->stmt[STMT_LOOKUP];
    int rc;

    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    row->exists = rc == SQLITE_ROW;
    if (row->exists) {
        row->id = sqlite3_column_int64(st, 0);
        row->create_rev = sqlite3_column_int64(st, 1);
        row->mod_rev = sqlite3_column_int64(st, 2);
        row->version = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(db, rc, "lookup");
    return 0;
}

int store__db_value(struct store_db *db, int64_t id, const void **value, size_t *len)
{
    sqlite3_stmt *st = db->stmt[STMT_VALUE];
    int rc;

    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? ORC_ENOENT : db_fail(db, rc, "read value");
    }
    *value = sqlite3_column_blob(st, 0);
    *len = (size_t)sqlite3_column_bytes(st, 0);
    if (*value == NULL) *value = "";
    return 0; /* left stepped: the pointer stays valid until the next call */
}

int store__db_insert(struct store_db *db, const char *key, const void *v, size_t vlen, int64_t rev)
{
    sqlite3_stmt *st = db->stmt[STMT_INSERT];

    sqlite3_reset(db->stmt[STMT_VALUE]);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, vlen ? v : "", vlen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rev);
    return run(db, st, "insert");
}

int store__db_update(struct store_db *db, int64_t id, const void *v, size_t vlen, int64_t rev,
                     int64_t version)
{
    sqlite3_stmt *st = db->stmt[STMT_UPDATE];

    sqlite3_reset(db->stmt[STMT_VALUE]);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob64(st, 2, vlen ? v : "", vlen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rev);
    sqlite3_bind_int64(st, 4, version);
    return run(db, st, "update");
}

int store__db_delete(struct store_db *db, int64_t id)
{
    sqlite3_stmt *st = db->stmt[STMT_DELETE];

    sqlite3_reset(db->stmt[STMT_VALUE]);
    sqlite3_bind_int64(st, 1, id);
    return run(db, st, "delete");
}

int store__db_set_revision(struct store_db *db, int64_t rev)
{
    sqlite3_stmt *st = db->stmt[STMT_SET_REV];

    sqlite3_bind_int64(st, 1, rev);
    return run(db, st, "set revision");
}

int store__db_get_revision(struct store_db *db, int64_t *rev)
{
    sqlite3_stmt *st = db->stmt[STMT_GET_REV];
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW) *rev = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? ORC_ECORRUPT : db_fail(db, rc, "revision");
    return 0;
}

/* The smallest string above every key starting with prefix: the prefix with
 * its last non-0xFF byte incremented. Empty when there is none. */
static size_t prefix_successor(const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix);

    if (n >= cap) return 0;
    memcpy(out, prefix, n);
    while (n > 0 && (unsigned char)out[n - 1] == 0xFF) n--;
    if (n > 0) out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
    return n;
}

sqlite3_stmt *store__db_range_stmt(struct store_db *db, enum store_stmt which, const char *prefix,
                                   const char *start_after)
{
    sqlite3_stmt *st = db->stmt[which];
    char stackbuf[512];
    char *succ = stackbuf;
    size_t plen = strlen(prefix), n;
    int rc;

    sqlite3_reset(st);
    if (plen >= sizeof stackbuf && (succ = malloc(plen + 1)) == NULL) return NULL;
    n = prefix_successor(prefix, succ, plen + 1);
    /* TRANSIENT binds copy and may fail: a NULL bound instead would
     * silently match nothing. */
    rc = sqlite3_bind_text(st, 1, prefix, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = n > 0 ? sqlite3_bind_text(st, 2, succ, (int)n, SQLITE_TRANSIENT)
                   : sqlite3_bind_zeroblob(st, 2, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, start_after ? start_after : "", -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK && which == STMT_RANGE) rc = sqlite3_bind_int64(st, 4, -1);
    if (succ != stackbuf) free(succ);
    if (rc != SQLITE_OK) {
        db_fail(db, rc, "range");
        return NULL;
    }
    return st;
}

/* Loop thread: pins the current state in a read transaction of the reader
 * connection. Later applies go to the WAL and are not seen by it. */
int store__db_snapshot_begin(struct store_db *db)
{
    int rc;

    store__db_maintain(db);
    rc = sqlite3_exec(db->reader, "BEGIN; SELECT value FROM meta WHERE name='revision'", NULL,
                      NULL, NULL);
    if (rc != SQLITE_OK) {
        log_error("store", "%s: snapshot read: %s", db->path, sqlite3_errmsg(db->reader));
        sqlite3_exec(db->reader, "ROLLBACK", NULL, NULL, NULL);
        return sqlite_to_orc(rc);
    }
    return 0;
}

/* A snapshot is the image, then a trailer: "orcsnap1", the image's length
 * (u64) and CRC-32 (u32, raft's), 4 zero bytes; little-endian. SQLite
 * itself checks no page's content, so without it a flipped bit would be
 * served as data. An image without the trailer (from an older orc) loads
 * unchecked. */
#define TRAILER 24
static const char trailer_magic[8] = {'o', 'r', 'c', 's', 'n', 'a', 'p', '1'};

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8) p[i] = (unsigned char)v;
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

int store__db_image_check(const void *data, size_t len, size_t *image_len)
{
    const unsigned char *t = (const unsigned char *)data + len - TRAILER;

    *image_len = len;
    if (len < TRAILER || memcmp(t, trailer_magic, sizeof trailer_magic) != 0) return 0;
    if (get_le(t + 8, 8) != len - TRAILER ||
        get_le(t + 16, 4) != store__crc32(data, len - TRAILER, 0))
        return ORC_ECORRUPT;
    *image_len = len - TRAILER;
    return 0;
}

/* Worker thread: the pinned state as an image and its trailer, both
 * sqlite3_malloc'd (out[0], out[1]). */
int store__db_snapshot_take(struct store_db *db, struct raft_buffer out[2])
{
    sqlite3_int64 size = 0;
    unsigned char *data = sqlite3_serialize(db->reader, "main", &size, 0), *t;

    if (data == NULL) return ORC_ENOMEM; /* logged by the loop at end */
    if ((t = sqlite3_malloc(TRAILER)) == NULL) {
        sqlite3_free(data);
        return ORC_ENOMEM;
    }
    memcpy(t, trailer_magic, sizeof trailer_magic);
    put_le(t + 8, (uint64_t)size, 8);
    put_le(t + 16, store__crc32(data, (size_t)size, 0), 4);
    put_le(t + 20, 0, 4);
    out[0].base = data;
    out[0].len = (size_t)size;
    out[1].base = t;
    out[1].len = TRAILER;
    return 0;
}

/* Loop thread: releases the image and the read transaction. */
void store__db_snapshot_end(struct store_db *db, struct raft_buffer *buf)
{
    if (buf && buf->base) sqlite3_free(buf->base);
    if (buf) buf->base = NULL;
    if (db->reader && !sqlite3_get_autocommit(db->reader))
        sqlite3_exec(db->reader, "COMMIT", NULL, NULL, NULL);
}

/* Worker thread: copies the WAL's committed pages into the database. A
 * passive checkpoint never blocks the writer, so applies go on meanwhile;
 * once it has caught up, the next write starts the WAL over. */
int store__db_checkpoint(struct store_db *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db->ckpt, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : sqlite_to_orc(rc);
}

/* Loop thread, after store__db_checkpoint: copies the few frames written
 * meanwhile, from the writer itself, so that its next transaction can start
 * the WAL over (a checkpointer racing a busy writer never catches up). */
void store__db_checkpoint_finish(struct store_db *db)
{
    sqlite3_wal_checkpoint_v2(db->conn, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

int store__db_each_key(struct store_db *db, void (*fn)(void *arg, const char *key), void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->conn, "SELECT key FROM kv", -1, &st, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if (key) fn(arg, key);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, rc, "counting keys");
}

/* Size of the database in bytes (pages in use times page size). */
int64_t store__db_bytes(struct store_db *db)
{
    sqlite3_stmt *st = NULL;
    int64_t pages = 0;

    if (sqlite3_prepare_v2(db->conn, "PRAGMA page_count", -1, &st, NULL) == SQLITE_OK
        && sqlite3_step(st) == SQLITE_ROW)
        pages = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return pages * 4096;
}

static int copy_into(struct store_db *db, sqlite3 *src)
{
    sqlite3_backup *b = sqlite3_backup_init(db->conn, "main", src, "main");
    int rc;

    if (b == NULL) return db_fail(db, sqlite3_errcode(db->conn), "restore");
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return db_fail(db, rc, "restore");
    return 0;
}

/* data must stay valid (and writable) until return; it is not freed. */
int store__db_restore(struct store_db *db, const void *data, size_t len)
{
    static const char magic[16] = "SQLite format 3";
    unsigned char *img = (unsigned char *)data;
    sqlite3 *tmp = NULL;
    int64_t rev;
    int rc;

    if (store__db_image_check(data, len, &len) != 0) {
        log_error("store", "snapshot image damaged: its checksum does not match (%zu bytes)", len);
        return ORC_ECORRUPT;
    }
    if (len < 100 || memcmp(img, magic, sizeof magic) != 0) {
        log_error("store", "snapshot is not a SQLite image (%zu bytes)", len);
        return ORC_ECORRUPT;
    }
    img[18] = img[19] = 1; /* an image from a WAL-mode file must read as rollback */
    rc = sqlite3_open_v2(":memory:", &tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) goto err;
    rc = sqlite3_deserialize(tmp, "main", img, (sqlite3_int64)len, (sqlite3_int64)len,
                             SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) goto err;
    /* Reject an image without our schema before it replaces the FSM. */
    rc = sqlite3_exec(tmp, "SELECT value FROM meta WHERE name='revision';"
                           "SELECT id, key, value, create_rev, mod_rev, version FROM kv LIMIT 1",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) goto err;
    rc = copy_into(db, tmp);
    sqlite3_close(tmp);
    if (rc != 0) return rc;
    return store__db_get_revision(db, &rev);
err:
    log_error("store", "snapshot image unreadable: %s",
              tmp ? sqlite3_errmsg(tmp) : sqlite3_errstr(rc));
    sqlite3_close(tmp);
    return ORC_ECORRUPT;
}

/* Gives freed pages back to the file system, so state.db tracks the live
 * data under churn. */
void store__db_maintain(struct store_db *db)
{
    if (sqlite3_exec(db->conn, "PRAGMA incremental_vacuum", NULL, NULL, NULL) != SQLITE_OK)
        log_warn("store", "%s: incremental_vacuum: %s", db->path, sqlite3_errmsg(db->conn));
}
