/* shim_log.c — the container log as the shim writes it: CRI records
 * ("2026-11-23T16:44:05.123456789Z stdout F text"), one write(2) each,
 * rotated by size (LOG -> LOG.1 -> LOG.2 ...). A log that cannot be
 * written (disk full, directory gone) drops output: the container must
 * never block or die because of its log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    l->max_files = max_files ? max_files : 2;
    reopen(l);
}

static void rotate(struct shim_log *l)
{
    char from[RT_PATH], to[RT_PATH];

    close(l->fd);
    l->fd = -1;
    for (unsigned i = l->max_files; i > 1; i--) {
        if (rt_path(from, "%s.%u", l->path, i - 1) == 0 && rt_path(to, "%s.%u", l->path, i) == 0)
            rename(from, to);
    }
    if (rt_path(to, "%s.1", l->path) == 0) rename(l->path, to);
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
