/* rt_file.c — the runtime's small files (atomic JSON state without fsync,
 * rm -rf that stays on one file system) and process identity by pid and
 * start time. Shared by the runtime and the shim. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/rt_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"

int rt_path(char out[RT_PATH], const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, RT_PATH, fmt, ap);
    va_end(ap);
    return n < 0 || n >= RT_PATH ? ORC_EINVAL : 0;
}

int rt_write_file(const char *path, const void *data, size_t len)
{
    static atomic_uint seq;
    char tmp[RT_PATH];
    int fd, rv;

    if (rt_path(tmp, "%s.tmp.%d.%u", path, (int)getpid(), atomic_fetch_add(&seq, 1)) != 0)
        return ORC_EINVAL;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ORC_EIO;
    rv = orc_write_all(fd, data, len);
    if (close(fd) != 0 && rv == 0) rv = ORC_EIO;
    if (rv == 0 && rename(tmp, path) != 0) rv = ORC_EIO;
    if (rv != 0) unlink(tmp);
    return rv;
}

int rt_write_json(const char *path, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    int rv;

    if (text == NULL) return ORC_ENOMEM;
    rv = rt_write_file(path, text, strlen(text));
    free(text);
    return rv;
}

json_t *rt_read_json(const char *path)
{
    struct orc_buf b = ORC_BUF_INIT;
    json_t *v = NULL;

    if (orc_file_read(path, 1 << 20, &b) == 0) {
        v = orc_json_loadb(b.data, b.len, 0, NULL);
        if (v && !json_is_object(v)) {
            json_decref(v);
            v = NULL;
        }
    }
    orc_buf_free(&b);
    return v;
}

static _Thread_local int rmrf_failed;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR) {
        if (rmdir(path) != 0 && errno != ENOENT) rmrf_failed = 1;
    } else if (unlink(path) != 0 && errno != ENOENT) {
        rmrf_failed = 1;
    }
    return 0;
}

int rt_rm_rf(const char *path)
{
    rmrf_failed = 0;
    if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0 && errno != ENOENT)
        return ORC_EIO;
    return rmrf_failed ? ORC_EIO : 0;
}

uint64_t rt_pid_start(int pid)
{
    char path[64], buf[1024];
    const char *p;
    ssize_t n;
    int fd;

    if (pid <= 0) return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and parens */
    if (p == NULL || p[1] != ' ') return 0;
    p += 2;
    if (*p == 'Z' || *p == 'X') return 0; /* exited, not yet reaped: gone for us */
    /* p is field 3 (state); starttime is field 22 */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p) p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

bool rt_pid_alive(int pid, uint64_t start)
{
    uint64_t now = rt_pid_start(pid);
    return now != 0 && (start == 0 || now == start);
}

static int64_t json_i64(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

void rt_disk_state_read(const char *cdir, struct rt_disk_state *st)
{
    char path[RT_PATH];
    json_t *s, *e;

    memset(st, 0, sizeof *st);
    if (rt_path(path, "%s/state.json", cdir) == 0 && (s = rt_read_json(path)) != NULL) {
        st->has_state = true;
        st->shim_pid = (int)json_i64(s, "shimPid");
        st->shim_start = (uint64_t)json_i64(s, "shimStart");
        st->pid = (int)json_i64(s, "pid");
        st->pid_start = (uint64_t)json_i64(s, "pidStart");
        st->started_ns = json_i64(s, "startedNs");
        json_decref(s);
    }
    if (rt_path(path, "%s/exit.json", cdir) == 0 && (e = rt_read_json(path)) != NULL) {
        st->has_exit = true;
        st->exit_code = (int)json_i64(e, "exitCode");
        st->oom_killed = json_is_true(json_object_get(e, "oomKilled"));
        st->finished_ns = json_i64(e, "finishedNs");
        if (st->started_ns == 0) st->started_ns = json_i64(e, "startedNs");
        json_decref(e);
    }
}
