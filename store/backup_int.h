/* backup_int.h — what the backup files of store/ share (prefix store__),
 * beside store_int.h. Nothing outside store/ includes this. */
#ifndef ORC_STORE_BACKUP_INT_H
#define ORC_STORE_BACKUP_INT_H

#include "store/backup.h"
#include "store/store_int.h"

/* Writes the header of a payload (checksum included) into hdr. */
int store__backup_header(unsigned char hdr[STORE_BACKUP_HEADER],
                         const struct store_backup_info *info, const void *payload, size_t len);

/* ---- load entries (backup_load.c) ---- */

/* Largest load body: one row as large as the largest txn allows, plus the
 * row's own fields. */
#define STORE_LOAD_MAX (STORE_TXN_MAX + 4096)

/* fsm.c: applies the body of an entry of kind STORE_ENTRY_LOAD (rows
 * upserted with their revisions; the last entry sets the revision). A
 * malformed body is skipped (res->succeeded stays false); a nonzero
 * return is a local failure that must not advance the FSM. */
int store__load_apply(store *s, const void *buf, size_t len, struct store_txn_result *res);
/* fsm.c, at the end of a snapshot: the trailing a load lowered goes back. */
void store__load_snapshot_done(store *s);

#endif
