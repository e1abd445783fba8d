/* snapshots.h — scheduled snapshots of this member's store into files
 * (`orcd server --snapshot-schedule`, `--snapshot-retention`,
 * `--snapshot-dir`), as k3s snapshots etcd: by default every 12 hours,
 * keeping 5. Runs on the server's loop. */
#ifndef ORC_ORCD_SNAPSHOTS_H
#define ORC_ORCD_SNAPSHOTS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store/store.h"

#define ORCD_SNAPSHOT_SCHEDULE "0 */12 * * *"
#define ORCD_SNAPSHOT_RETENTION 5

struct orcd_snapshots_config {
    const char *schedule; /* cron (5 fields or a macro), "@every 1h30m", or "off" */
    unsigned retention;   /* files of this member kept, >= 1 */
    const char *dir;      /* made (0700) when the first snapshot is due */
    uint64_t member_id;   /* names the files: orc-snapshot-<id>-<UTC time> */
};

/* Checks a schedule: 0, or ORC_EINVAL with a message in msg (n bytes). */
int orcd_snapshots_check(const char *schedule, char *msg, size_t n);

/* Starts the schedule (*out NULL when it is "off"). Each slot writes a
 * snapshot (store_backup_save) and removes this member's oldest beyond the
 * retention; a failure is logged and the next slot tries again. A slot
 * that comes while the previous file is still being written is skipped. */
struct orcd_snapshots;
int orcd_snapshots_start(uv_loop_t *loop, store *st, const struct orcd_snapshots_config *cfg,
                         struct orcd_snapshots **out);
/* Stops the timer; cb (may be NULL) once no snapshot is being written, which
 * may take until the store has closed (it waits for the writing thread). */
void orcd_snapshots_stop(struct orcd_snapshots *sn, void (*cb)(void *arg), void *arg);

#endif
