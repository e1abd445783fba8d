/* backup.c — `orctl cluster backup FILE`: downloads a backup of the member
 * orctl talks to (GET /internal/v1/backup), checking it as it streams in
 * (header, length, SHA-256), into FILE.tmp (mode 0600), renamed to FILE
 * only once whole and undamaged. "-" writes to stdout; the verdict then
 * goes to stderr and the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "store/backup.h"

struct download {
    int fd;
    struct store_backup_check *check;
    uint64_t bytes;
    int write_errno; /* first failed write, or 0 */
};

static void on_bytes(void *arg, const char *data, size_t len)
{
    struct download *d = arg;

    if (d->write_errno) return;
    store_backup_check_feed(d->check, data, len); /* a verdict comes at the end */
    if (orc_write_all(d->fd, data, len) != 0) d->write_errno = errno ? errno : EIO;
    d->bytes += len;
}

static int open_tmp(cli_ctx *x, const char *tmp)
{
    int fd;

    unlink(tmp); /* one an interrupted run left */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) fprintf(x->err, "error: cannot create %s: %s\n", tmp, strerror(errno));
    return fd;
}

/* FILE.tmp becomes FILE, durably; closes fd, and removes tmp on failure. */
static int commit(cli_ctx *x, int fd, const char *tmp, const char *file)
{
    char dir[4096];
    char *slash;
    int dfd, synced = fsync(fd);

    if (close(fd) != 0 || synced != 0) {
        fprintf(x->err, "error: writing %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, file) != 0) {
        fprintf(x->err, "error: cannot rename %s to %s: %s\n", tmp, file, strerror(errno));
        unlink(tmp);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", file);
    slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void report(FILE *to, const struct store_backup_info *info, uint64_t bytes,
                   const char *file)
{
    char when[ORC_TIME_LEN];

    orc_time_format(info->created_ms / 1000, when);
    fprintf(to, "backup of revision %" PRId64 " (member %" PRIu64 ", taken %s, %" PRIu64
                " bytes) written to %s\n",
            info->revision, info->member_id, when, bytes, file);
}

static int download(cli_ctx *x, struct download *d, const char *file, const char *tmp)
{
    struct store_backup_info info;
    char err[STORE_BACKUP_ERRLEN];
    bool out = tmp == NULL;
    int rv;

    rv = cli_stream(x, "/internal/v1/backup", cli_timeout_ms(x), on_bytes, d);
    if (rv != CLI_EXIT_OK) return rv; /* printed */
    if (d->write_errno) {
        fprintf(x->err, "error: writing %s: %s\n", out ? "stdout" : tmp, strerror(d->write_errno));
        return CLI_EXIT_FAIL;
    }
    if (store_backup_check_finish(d->check, &info, err) != 0) {
        fprintf(x->err, "error: the backup from %s is unusable: %s%s%s\n", x->server, err,
                out ? "" : "; nothing was written to ", out ? "" : file);
        return CLI_EXIT_FAIL;
    }
    if (!out && commit(x, d->fd, tmp, file) != 0) {
        d->fd = -1;
        return CLI_EXIT_FAIL;
    }
    d->fd = -1;
    report(out ? x->err : x->out, &info, d->bytes, out ? "stdout" : file);
    return CLI_EXIT_OK;
}

int cli_cluster_backup(cli_ctx *x, const char *file)
{
    struct download d = {.fd = -1};
    struct orc_buf tmp = ORC_BUF_INIT;
    bool out = strcmp(file, "-") == 0;
    int rv = CLI_EXIT_FAIL;

    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    if (store_backup_check_new(&d.check) != 0 || (!out && orc_buf_printf(&tmp, "%s.tmp", file) != 0)) {
        fprintf(x->err, "error: out of memory\n");
        goto done;
    }
    if (out) {
        fflush(x->out);
        d.fd = fileno(x->out);
    } else if ((d.fd = open_tmp(x, tmp.data)) < 0) {
        goto done;
    }
    rv = download(x, &d, file, out ? NULL : tmp.data);
    if (!out && d.fd >= 0) {
        close(d.fd);
        unlink(tmp.data);
    }
done:
    store_backup_check_free(d.check);
    orc_buf_free(&tmp);
    return rv;
}
