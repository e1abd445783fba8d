/* restore.h — `orcd server --restore FILE`: the checks made before a data
 * dir is touched, and the marker that keeps a half-restored data dir from
 * starting as if it were whole. Loading itself is store_backup_load. */
#ifndef ORC_ORCD_RESTORE_H
#define ORC_ORCD_RESTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/backup.h"

struct orcd_restore {
    char file[4096];
    unsigned char *data; /* the whole file */
    size_t len;
    struct store_backup_info info;
    const void *payload; /* the database, inside data */
    size_t objects;
};

/* Reads and verifies FILE (header, checksum, SQLite integrity, schema) and
 * checks that `dir` holds no Raft state, writing nothing. Logs why and
 * returns an ORC_E* code otherwise. *out: free with orcd_restore_free. */
int orcd_restore_prepare(const char *file, const char *dir, struct orcd_restore **out);
void orcd_restore_free(struct orcd_restore *r);

/* DIR/restore-incomplete names the backup while it is being loaded. */
int orcd_restore_mark(const struct orcd_restore *r, const char *dir);
int orcd_restore_unmark(const char *dir);
/* A start without --restore on a marked dir: logs what to do and returns
 * ORC_EEXIST; 0 when the dir is not marked. */
int orcd_restore_check_unmarked(const char *dir);

#endif
