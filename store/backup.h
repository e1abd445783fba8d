/* backup.h — backups of the store: one file holding a short header and the
 * SQLite FSM database at one consistent point; taking one (for the API and
 * for scheduled snapshots), checking one, and loading one into a new
 * one-member cluster through the Raft log.
 *
 * File format (little-endian), STORE_BACKUP_HEADER bytes then the payload:
 *    0  magic "ORCBACK\n"            8 bytes
 *    8  format version (1)          u32
 *   12  header size (96)            u32
 *   16  payload size                u64
 *   24  revision the backup shows   i64
 *   32  Raft index it was taken at  u64
 *   40  member id that took it      u64
 *   48  creation time, Unix ms      i64
 *   56  reserved, zero              8 bytes
 *   64  SHA-256 of bytes 0..63 and the payload   32 bytes
 *   96  payload: a SQLite database (rollback-journal mode, so the sqlite3
 *       shell opens it once the header is cut off)
 *
 * Store functions run on the store's loop thread, as in store.h; the format
 * functions are pure and may run anywhere. */
#ifndef ORC_STORE_BACKUP_H
#define ORC_STORE_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_BACKUP_HEADER 96
#define STORE_BACKUP_VERSION 1
#define STORE_BACKUP_ERRLEN 256

struct store_backup_info {
    int64_t revision;
    uint64_t raft_index;
    uint64_t member_id;
    int64_t created_ms;
    uint64_t payload_size;
};

/* ---- checking a file ---- */

/* Reads and checks a header (the first STORE_BACKUP_HEADER bytes): magic,
 * version, size, reserved bytes. Does not check the checksum. ORC_ECORRUPT
 * (or ORC_EINVAL for a version this build cannot read) with a message
 * naming the problem in errmsg (STORE_BACKUP_ERRLEN bytes). */
int store_backup_header_parse(const void *hdr, size_t len, struct store_backup_info *info,
                              char *errmsg);

/* Checks a file as it streams by (orctl downloads): feed every byte in
 * order, then finish. Finish says whether the file is whole and undamaged:
 * header, length, checksum. The SQLite content is checked by
 * store_backup_verify. */
struct store_backup_check;
int store_backup_check_new(struct store_backup_check **out);
/* Returns ORC_ECORRUPT once the bytes cannot be a backup (message kept). */
int store_backup_check_feed(struct store_backup_check *c, const void *data, size_t len);
int store_backup_check_finish(struct store_backup_check *c, struct store_backup_info *info,
                              char *errmsg);
void store_backup_check_free(struct store_backup_check *c);

/* A whole file in memory: header, length, checksum, then the payload as a
 * database (SQLite integrity check, orc's schema, the revision agreeing
 * with the header). On success *payload points into data at the database
 * and *objects counts its keys. ORC_ECORRUPT / ORC_EINVAL with errmsg. */
int store_backup_verify(const void *data, size_t len, struct store_backup_info *info,
                        const void **payload, size_t *objects, char *errmsg);

/* ---- taking one ---- */

/* A backup in memory: the file is header then payload. Owned by whoever
 * got it from a callback; free with store_backup_free. */
struct store_backup {
    struct store_backup_info info;
    unsigned char header[STORE_BACKUP_HEADER];
    unsigned char *payload; /* the database (SQLite's allocation) */
    size_t payload_len;
};
void store_backup_free(struct store_backup *b);

/* Pins the state applied so far (a read transaction on a connection of its
 * own, so applies go on) and builds the file on a worker thread, at low CPU
 * priority. cb fires on the loop with status 0 and the backup (now the
 * caller's), or an ORC_E* code and NULL: ORC_EIO when this member's
 * database is behind its log, ORC_ENOMEM, ORC_ESHUTDOWN when the store
 * closed meanwhile (store_close waits for the worker). At most
 * STORE_BACKUP_MAX run at once: ORC_ECONFLICT beyond. */
#define STORE_BACKUP_MAX 4
typedef void (*store_backup_cb)(void *arg, int status, struct store_backup *b);
int store_backup_take(store *s, store_backup_cb cb, void *arg);

/* The same, written to `path` (mode 0600; a temp file beside it, fsync'd,
 * renamed) on the worker thread, which then runs after_write(after_arg)
 * when not NULL (the caller's retention of older files: it must touch
 * nothing the loop changes). cb gets 0 and the info, or ORC_EIO / ORC_ENOSPC
 * with a message (STORE_BACKUP_ERRLEN) naming the file; no partial file is
 * left behind. */
typedef void (*store_backup_saved_cb)(void *arg, int status, const struct store_backup_info *info,
                                      const char *errmsg);
int store_backup_save(store *s, const char *path, void (*after_write)(void *after_arg),
                      void *after_arg, store_backup_saved_cb cb, void *arg);

/* ---- loading one into a new cluster ---- */

struct store_load_result {
    size_t objects;   /* keys loaded */
    int64_t revision; /* the store's revision afterwards: the backup's */
};

/* Loads a database (a payload store_backup_verify accepted; read during
 * the call and the loop turns until cb, so it must stay valid until then)
 * into this store through the Raft log, in entries under 4 MiB that every
 * member applies alike, so members joining later get the same state (by
 * snapshot or by log). Keys beginning with skip_prefix (may be NULL) are
 * left out. Each key keeps its create/mod revision and version; the last
 * entry sets the store's revision to the backup's. For a freshly
 * bootstrapped store that leads (store_is_leader) and holds nothing else.
 * cb fires once, with 0 when every entry was applied, or an ORC_E* code. */
typedef void (*store_load_cb)(void *arg, int status, const struct store_load_result *res);
int store_backup_load(store *s, const void *payload, size_t len, const char *skip_prefix,
                      store_load_cb cb, void *arg);

#endif
