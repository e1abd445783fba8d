/* backup_take.c — taking a backup: the loop pins the applied state in a
 * read transaction of a connection of the backup's own (applies go on into
 * the WAL, unseen by it), a worker thread serializes that view, checksums
 * it and, for a scheduled snapshot, writes the file. Nothing proportional
 * to the data runs on the loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/backup_int.h"

struct backup_job {
    uv_work_t work;
    store *s;
    sqlite3 *conn; /* holds the pinned read transaction until serialized */
    struct store_backup *out;
    char *path; /* save: the file to write */
    void (*after_write)(void *arg);
    void *after_arg;
    store_backup_cb cb;
    store_backup_saved_cb saved_cb;
    void *arg;
    int status;
    char err[STORE_BACKUP_ERRLEN];
};

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- loop: pin ---- */

static int pin(store *s, struct backup_job *j)
{
    sqlite3_stmt *st = NULL;
    int rc;

    store__batch_commit(s); /* the pinned view must hold everything applied */
    if (s->fsm_failed) return ORC_EIO;
    rc = sqlite3_open_v2(s->db.path, &j->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    /* A new connection's first read can meet a lock held for an instant
     * (another connection closing, a checkpoint finishing): wait for it
     * briefly rather than fail the backup with "database is locked". */
    if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(j->conn, 200);
    if (rc == SQLITE_OK) rc = sqlite3_exec(j->conn, "PRAGMA cache_size=-500; BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(j->conn, "SELECT value FROM meta WHERE name='revision'", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        j->out->info.revision = sqlite3_column_int64(st, 0); /* the read starts here */
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        log_error("store", "%s: backup read: %s", s->db.path,
                  j->conn ? sqlite3_errmsg(j->conn) : sqlite3_errstr(rc));
        return rc == SQLITE_NOMEM ? ORC_ENOMEM : ORC_EIO;
    }
    j->out->info.raft_index = s->raft.last_applied;
    j->out->info.member_id = s->id;
    j->out->info.created_ms = wall_ms();
    return 0;
}

/* ---- worker ---- */

static void unpin(struct backup_job *j)
{
    if (j->conn == NULL) return;
    sqlite3_exec(j->conn, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(j->conn);
    j->conn = NULL;
}

static int save_fail(struct backup_job *j, const char *what, const char *path)
{
    int err = errno;
    return orc_errf(j->err, sizeof j->err, err == ENOSPC || err == EDQUOT ? ORC_ENOSPC : ORC_EIO,
                    "%s %s: %s", what, path, strerror(err));
}

static void sync_dir(const char *path)
{
    char dir[4200];
    char *slash;
    int fd;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) return;
    fsync(fd);
    close(fd);
}

/* Header and payload into a temp file beside path, fsync'd, renamed. */
static int write_file(struct backup_job *j)
{
    const struct store_backup *b = j->out;
    char tmp[4200];
    int fd, rv = 0;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", j->path) >= sizeof tmp)
        return orc_errf(j->err, sizeof j->err, ORC_EINVAL, "path too long: %s", j->path);
    unlink(tmp); /* one a crash left */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return save_fail(j, "create", tmp);
    if (orc_write_all(fd, b->header, sizeof b->header) != 0
        || orc_write_all(fd, b->payload, b->payload_len) != 0)
        rv = save_fail(j, "write", tmp);
    else if (fsync(fd) != 0)
        rv = save_fail(j, "fsync", tmp);
    if (close(fd) != 0 && rv == 0) rv = save_fail(j, "close", tmp);
    if (rv == 0 && rename(tmp, j->path) != 0) rv = save_fail(j, "rename to", j->path);
    if (rv != 0) {
        unlink(tmp);
        return rv;
    }
    sync_dir(j->path);
    return 0;
}

static int build(void *arg)
{
    struct backup_job *j = arg;
    struct store_backup *b = j->out;
    sqlite3_int64 size = 0;

    b->payload = sqlite3_serialize(j->conn, "main", &size, 0);
    unpin(j); /* the WAL may be checkpointed past this view again */
    if (b->payload == NULL)
        return orc_errf(j->err, sizeof j->err, ORC_ENOMEM, "serializing the database failed");
    b->payload_len = (size_t)size;
    /* A WAL-mode image must read as a plain database file. */
    if (b->payload_len >= 100) b->payload[18] = b->payload[19] = 1;
    b->info.payload_size = b->payload_len;
    if (store__backup_header(b->header, &b->info, b->payload, b->payload_len) != 0)
        return orc_errf(j->err, sizeof j->err, ORC_ENOMEM, "checksumming the backup failed");
    if (j->path == NULL) return 0;
    int rv = write_file(j);
    if (rv == 0 && j->after_write) j->after_write(j->after_arg);
    return rv;
}

static void job_work(uv_work_t *w)
{
    struct backup_job *j = w->data;
    j->status = store__background(build, j);
}

/* ---- loop: hand over ---- */

static void job_free(struct backup_job *j)
{
    unpin(j);
    store_backup_free(j->out);
    free(j->path);
    free(j);
}

static void job_done(uv_work_t *w, int cancelled)
{
    struct backup_job *j = w->data;
    store *s = j->s;
    int status = cancelled ? orc_errf(j->err, sizeof j->err, ORC_ECANCELED, "cancelled") : j->status;

    s->backups--;
    if (j->saved_cb) { /* the file is written or not, closing or not */
        j->saved_cb(j->arg, status, &j->out->info, status ? j->err : "");
    } else if (status == 0 && s->closing) {
        j->cb(j->arg, ORC_ESHUTDOWN, NULL);
    } else if (status == 0) {
        struct store_backup *b = j->out;
        j->out = NULL;
        j->cb(j->arg, 0, b);
    } else {
        j->cb(j->arg, status, NULL);
    }
    job_free(j);
    store__release(s);
}

static int job_start(store *s, struct backup_job *j)
{
    int rv;

    j->s = s;
    j->work.data = j;
    if (s->closing) rv = ORC_ESHUTDOWN;
    else if (s->backups >= STORE_BACKUP_MAX) rv = ORC_ECONFLICT;
    else if ((j->out = calloc(1, sizeof *j->out)) == NULL) rv = ORC_ENOMEM;
    else if ((rv = pin(s, j)) == 0 && uv_queue_work(s->loop, &j->work, job_work, job_done) != 0)
        rv = ORC_ENOMEM;
    if (rv != 0) {
        job_free(j);
        return rv;
    }
    s->backups++;
    store__hold(s);
    return 0;
}

int store_backup_take(store *s, store_backup_cb cb, void *arg)
{
    struct backup_job *j;

    if (s == NULL || cb == NULL) return ORC_EINVAL;
    if ((j = calloc(1, sizeof *j)) == NULL) return ORC_ENOMEM;
    j->cb = cb;
    j->arg = arg;
    return job_start(s, j);
}

int store_backup_save(store *s, const char *path, void (*after_write)(void *after_arg),
                      void *after_arg, store_backup_saved_cb cb, void *arg)
{
    struct backup_job *j;

    if (s == NULL || path == NULL || *path == '\0' || cb == NULL) return ORC_EINVAL;
    if ((j = calloc(1, sizeof *j)) == NULL) return ORC_ENOMEM;
    if ((j->path = strdup(path)) == NULL) {
        free(j);
        return ORC_ENOMEM;
    }
    j->after_write = after_write;
    j->after_arg = after_arg;
    j->saved_cb = cb;
    j->arg = arg;
    return job_start(s, j);
}
