/* audit_int.h — the audit log's file writer (audit_log.c), shared with
 * audit.c and the tests. Internal to apiserver/. */
#ifndef ORC_API_AUDIT_INT_H
#define ORC_API_AUDIT_INT_H

#include <stddef.h>
#include <stdint.h>

struct audit_log;

struct audit_log_config {
    const char *path;     /* a file, or "-": stdout (never rotated) */
    uint64_t max_bytes;   /* rotate before the file grows past it; 0: never */
    unsigned max_backup;  /* rotated files kept; 0: all */
    unsigned max_age_days; /* rotated files older are removed; 0: kept */
    size_t bound;         /* bytes waiting for the writer; past it lines are refused */
};

/* Opens (creating with mode 0600, appending) and starts the writer thread.
 * errmsg: 256 bytes. */
int audit_log_open(const struct audit_log_config *cfg, struct audit_log **out, char *errmsg);
/* Queues one line (with its '\n'); any thread. ORC_ETOOBIG when the buffer
 * is full (the line is dropped: the caller counts it). */
int audit_log_put(struct audit_log *l, const char *line, size_t len);
/* Writes everything queued, stops the thread, closes. NULL: nothing. */
void audit_log_close(struct audit_log *l);

#endif
