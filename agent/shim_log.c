/* shim_log.c — the container log as the shim writes it: CRI records
 * ("2026-11-23T16:44:05.123456789Z stdout F text"), one write(2) each,
 * rotated by size as the kubelet rotates (LOG -> LOG.<YYYYmmdd-HHMMSS>,
 * at most max_files files with the live one; the agent compresses the
 * older rotated ones, podlogs.h). A log that cannot be
 * written (disk full, directory gone) drops output: the container must
 * never block or die because of its log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/podlogs.h"
#include "agent/rt_int.h"

#define RETRY_NS 1000000000LL

static void reopen(struct shim_log *l)
{
    struct stat st;

    l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (l->fd < 0) {
        l->retry_ns = rt_now_ns() + RETRY_NS;
        return;
    }
    l->size = fstat(l->fd, &st) == 0 ? (size_t)st.st_size : 0;
    l->torn = false;
}

void shim_log_open(struct shim_log *l, const char *path, size_t max_bytes, unsigned max_files)
{
    memset(l, 0, sizeof *l);
    l->path = path;
    l->max_bytes = max_bytes ? max_bytes : 10 << 20;
    l->max_files = max_files >= 2 ? max_files : max_files ? 2 : 5;
    reopen(l);
}

/* Keeps the newest max_files - 1 rotated files. */
static void prune(struct shim_log *l)
{
    char **v;
    size_t n;

    if (podlogs_rotated(l->path, true, &v, &n) != 0) return;
    for (size_t i = 0; i + (l->max_files - 1) < n; i++) unlink(v[i]);
    podlogs_strv_free(v, n);
}

static void rotate(struct shim_log *l)
{
    char to[RT_PATH];

    close(l->fd);
    l->fd = -1;
    if (podlogs_rotate_name(l->path, time(NULL), to, sizeof to) == 0) rename(l->path, to);
    prune(l);
    reopen(l);
}

/* A write that stops mid-record (disk full) leaves the record torn. */
static void put(struct shim_log *l, const char *p, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(l->fd, p + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    l->size += done;
    if (done > 0 && done < len) l->torn = true;
}

void shim_log_write(struct shim_log *l, const char *stream, bool partial, const char *text,
                    size_t len)
{
    char ts[RT_TIME_LEN];

    if (l->fd < 0 && rt_now_ns() >= l->retry_ns) reopen(l);
    if (l->fd < 0) return;
    rt_time_fmt(rt_now_ns(), ts);
    orc_buf_reset(&l->rec);
    if (orc_buf_printf(&l->rec, "%s %s %c ", ts, stream, partial ? 'P' : 'F') != 0
        || orc_buf_append(&l->rec, text, len) != 0 || orc_buf_append(&l->rec, "\n", 1) != 0)
        return; /* out of memory: drop */
    if (l->size > 0 && l->size + l->rec.len > l->max_bytes) {
        rotate(l);
        if (l->fd < 0) return;
    }
    if (l->torn) { /* end the torn record first, so readers resync */
        size_t before = l->size;
        put(l, "\n", 1);
        if (l->size == before) return;
        l->torn = false;
    }
    put(l, l->rec.data, l->rec.len);
}

void shim_log_close(struct shim_log *l)
{
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
    orc_buf_free(&l->rec);
}
