/* restore.c — `orcd server --restore FILE` before and after the load (see
 * restore.h): the backup is read and verified and the data dir checked
 * before anything is created, and while the backup goes through the new
 * cluster's log, a marker file keeps a start without --restore from
 * serving a partial state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "orcd/restore.h"

#define MARKER "restore-incomplete"

static int read_file(struct orcd_restore *r)
{
    struct stat st;
    size_t got = 0;
    int fd = open(r->file, O_RDONLY | O_CLOEXEC), rv = 0;

    if (fd < 0 || fstat(fd, &st) != 0) {
        rv = errno == ENOENT ? ORC_ENOENT : ORC_EIO;
        log_error("orcd", "cannot restore from %s: %s", r->file, strerror(errno));
        if (fd >= 0) close(fd);
        return rv;
    }
    if (!S_ISREG(st.st_mode)) {
        log_error("orcd", "cannot restore from %s: not a regular file", r->file);
        close(fd);
        return ORC_EINVAL;
    }
    r->len = (size_t)st.st_size;
    if ((r->data = malloc(r->len ? r->len : 1)) == NULL) rv = ORC_ENOMEM;
    while (rv == 0 && got < r->len) {
        ssize_t n = read(fd, r->data + got, r->len - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) rv = ORC_EIO;
        else got += (size_t)n;
    }
    close(fd);
    if (rv != 0) log_error("orcd", "cannot read %s: %s", r->file, orc_strerror(rv));
    return rv;
}

/* Raft state (or a restore in progress) in dir: its path into what. */
static bool has_state(const char *dir, char *what, size_t n)
{
    char path[4200];
    struct dirent *e;
    struct stat st;
    DIR *d;
    bool found = false;

    snprintf(path, sizeof path, "%s/" MARKER, dir);
    if (stat(path, &st) == 0) {
        snprintf(what, n, "%s", path);
        return true;
    }
    snprintf(path, sizeof path, "%s/raft", dir);
    if ((d = opendir(path)) == NULL) return false;
    while (!found && (e = readdir(d)) != NULL)
        found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    if (found) snprintf(what, n, "%s", path);
    return found;
}

int orcd_restore_prepare(const char *file, const char *dir, struct orcd_restore **out)
{
    struct orcd_restore *r = calloc(1, sizeof *r);
    char err[STORE_BACKUP_ERRLEN], what[4200], when[ORC_TIME_LEN];
    int rv;

    *out = NULL;
    if (r == NULL) return ORC_ENOMEM;
    snprintf(r->file, sizeof r->file, "%s", file);
    if ((rv = read_file(r)) != 0) goto fail;
    rv = store_backup_verify(r->data, r->len, &r->info, &r->payload, &r->objects, err);
    if (rv != 0) {
        log_error("orcd", "cannot restore from %s: %s", file, err);
        goto fail;
    }
    if (has_state(dir, what, sizeof what)) {
        log_error("orcd", "cannot restore into %s: it already holds a cluster's state (%s). "
                          "To start that member, leave out --restore; to restore, stop it and "
                          "move %s away, or give another --data-dir",
                  dir, what, dir);
        rv = ORC_EEXIST;
        goto fail;
    }
    orc_time_format(r->info.created_ms / 1000, when);
    log_info("orcd", "restoring %s: %zu keys at revision %" PRId64 ", taken by member %" PRIu64
                     " at %s", file, r->objects, r->info.revision, r->info.member_id, when);
    *out = r;
    return 0;
fail:
    orcd_restore_free(r);
    return rv;
}

void orcd_restore_free(struct orcd_restore *r)
{
    if (r == NULL) return;
    free(r->data);
    free(r);
}

int orcd_restore_mark(const struct orcd_restore *r, const char *dir)
{
    char path[4200];
    int rv;

    snprintf(path, sizeof path, "%s/" MARKER, dir);
    rv = orc_file_write(path, r->file, strlen(r->file), 0600);
    if (rv != 0) log_error("orcd", "cannot write %s: %s", path, orc_strerror(rv));
    return rv;
}

int orcd_restore_unmark(const char *dir)
{
    char path[4200];
    int fd;

    snprintf(path, sizeof path, "%s/" MARKER, dir);
    if (unlink(path) != 0 && errno != ENOENT) {
        log_error("orcd", "cannot remove %s: %s", path, strerror(errno));
        return ORC_EIO;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

int orcd_restore_check_unmarked(const char *dir)
{
    char path[4200];
    struct orc_buf from = ORC_BUF_INIT;

    snprintf(path, sizeof path, "%s/" MARKER, dir);
    if (orc_file_read(path, 4096, &from) == ORC_ENOENT) {
        orc_buf_free(&from);
        return 0;
    }
    log_error("orcd", "%s holds an interrupted restore (from %s): its state is partial. Remove "
                      "%s and run orcd server --restore again",
              dir, from.data && *from.data ? from.data : "an unknown file", dir);
    orc_buf_free(&from);
    return ORC_EEXIST;
}
