/* rt_logs.c — the log reader behind `kubectl logs`: reads a container's CRI
 * log across its rotated files on the thread pool, a chunk per work item,
 * delivering kubectl's text; when following, waits for the file to change
 * (inotify on its directory, and a timer) and follows it through rotation
 * until the container exited and everything was delivered. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/podlogs.h"
#include "agent/rt_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define CHUNK 65536
#define MAX_FILES 64
#define FOLLOW_POLL_MS 250
#define FOLLOW_SAFETY_MS 1000

struct rt_log_reader {
    rt *r;
    char *path;
    const char *base;          /* file name within its directory */
    struct rt_log_opts o;
    void (*on_data)(void *arg, const char *data, size_t len);
    void (*on_end)(void *arg, int err);
    void *arg;

    /* worker side: touched by one work item at a time */
    int fds[MAX_FILES];
    int nf, cur;
    off_t off;
    ino_t live_ino;
    bool opened, draining_old, at_eof, limit_hit, in_line;
    struct orc_buf carry;      /* a record not yet complete */
    struct orc_buf out;        /* what the last work produced */
    int64_t produced;
    int werr;

    /* loop side */
    uv_work_t work;
    uv_fs_event_t ev;
    uv_timer_t timer;
    int handles;
    bool working, dirty, eof, eof_snapshot, ended;
    struct rt_log_reader *next;
};

static void queue_read(struct rt_log_reader *lr);

/* ---- worker ---- */

static int open_file(const char *path, ino_t *ino)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0 && ino) *ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
    return fd;
}

/* The live file and the plain rotated ones (podlogs.h), oldest first;
 * compressed ones are not read, as the kubelet reads none. */
static int open_all(struct rt_log_reader *lr)
{
    char **names;
    size_t n, first;
    int live;
    ino_t ino;

    if ((live = open_file(lr->path, &lr->live_ino)) < 0) return errno == ENOENT ? ORC_ENOENT : ORC_EIO;
    if (podlogs_rotated(lr->path, false, &names, &n) != 0) n = 0, names = NULL;
    first = n > MAX_FILES - 1 ? n - (MAX_FILES - 1) : 0;
    for (size_t i = first; i < n; i++) {
        int fd = open_file(names[i], &ino);
        if (fd < 0) continue; /* pruned while we looked */
        if (ino == lr->live_ino) { /* rotated while we opened: the same file */
            close(fd);
            continue;
        }
        lr->fds[lr->nf++] = fd;
    }
    podlogs_strv_free(names, n);
    lr->fds[lr->nf++] = live;
    return 0;
}

static int position(struct rt_log_reader *lr)
{
    struct rt_logpos pos;
    int rv = rt_logscan_start(lr->fds, lr->nf, lr->o.tail_lines, lr->o.since_ns, &pos);

    lr->cur = pos.file;
    lr->off = pos.off;
    return rv;
}

/* Formats the complete records of carry + data. */
static int consume(struct rt_log_reader *lr, const char *data, size_t n)
{
    const char *p, *nl;
    int rv = 0;

    if (orc_buf_append(&lr->carry, data, n) != 0) return ORC_ENOMEM;
    p = lr->carry.data;
    while (rv == 0 && (nl = memchr(p, '\n', lr->carry.len - (size_t)(p - lr->carry.data))) != NULL) {
        rv = rt_logfmt(&lr->out, p, (size_t)(nl - p), lr->o.timestamps, lr->o.since_ns, &lr->in_line);
        p = nl + 1;
    }
    lr->carry.len -= (size_t)(p - lr->carry.data);
    memmove(lr->carry.data, p, lr->carry.len);
    return rv;
}

/* The live file was renamed away: continue in the new one. */
static int switch_live(struct rt_log_reader *lr)
{
    ino_t ino;
    int fd = open_file(lr->path, &ino);

    if (fd < 0) return 0;
    for (int i = 0; i < lr->nf; i++) close(lr->fds[i]);
    lr->fds[0] = fd;
    lr->nf = 1;
    lr->cur = 0;
    lr->off = 0;
    lr->live_ino = ino;
    lr->carry.len = 0; /* a torn record at the old end */
    return 1;
}

/* At the end of the live file: true to read on (it was rotated). */
static bool rotated(struct rt_log_reader *lr)
{
    struct stat st;

    if (!lr->o.follow || stat(lr->path, &st) != 0 || st.st_ino == lr->live_ino) return false;
    if (!lr->draining_old) { /* the old file may have grown before its rename */
        lr->draining_old = true;
        return true;
    }
    lr->draining_old = false;
    return switch_live(lr) == 1;
}

static void read_some(struct rt_log_reader *lr)
{
    char *buf = malloc(CHUNK);
    ssize_t n;

    lr->at_eof = false;
    if (buf == NULL) {
        lr->werr = ORC_ENOMEM;
        return;
    }
    while (lr->werr == 0 && lr->out.len < CHUNK) {
        n = pread(lr->fds[lr->cur], buf, CHUNK, lr->off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            lr->werr = ORC_EIO;
            break;
        }
        if (n > 0) {
            lr->off += n;
            lr->werr = consume(lr, buf, (size_t)n);
            continue;
        }
        if (lr->cur + 1 < lr->nf) { /* on to the next newer file */
            lr->cur++;
            lr->off = 0;
            lr->carry.len = 0;
            continue;
        }
        if (!rotated(lr)) {
            lr->at_eof = true;
            break;
        }
    }
    free(buf);
}

static void read_work(uv_work_t *w)
{
    struct rt_log_reader *lr = w->data;

    orc_buf_reset(&lr->out);
    if (!lr->opened) {
        int rv = open_all(lr);
        if (rv == ORC_ENOENT && lr->o.follow) { /* not written yet: wait for it */
            lr->at_eof = true;
            return;
        }
        if (rv == 0) rv = position(lr);
        if (rv != 0) {
            lr->werr = rv;
            return;
        }
        lr->opened = true;
    }
    read_some(lr);
    if (lr->o.limit_bytes > 0 && lr->produced + (int64_t)lr->out.len >= lr->o.limit_bytes) {
        lr->out.len = (size_t)(lr->o.limit_bytes - lr->produced);
        lr->limit_hit = true;
    }
    lr->produced += (int64_t)lr->out.len;
}

/* ---- loop ---- */

static void unlist(struct rt_log_reader *lr)
{
    for (struct rt_log_reader **pp = &lr->r->readers; *pp; pp = &(*pp)->next) {
        if (*pp == lr) {
            *pp = lr->next;
            return;
        }
    }
}

static void on_closed(uv_handle_t *h)
{
    struct rt_log_reader *lr = h->data;
    rt *r = lr->r;

    if (--lr->handles > 0) return;
    for (int i = 0; i < lr->nf; i++) close(lr->fds[i]);
    orc_buf_free(&lr->carry);
    orc_buf_free(&lr->out);
    free(lr->path);
    free(lr);
    rt_unref(r);
}

static void close_reader(struct rt_log_reader *lr)
{
    lr->handles = 2;
    uv_close((uv_handle_t *)&lr->timer, on_closed);
    uv_close((uv_handle_t *)&lr->ev, on_closed);
}

/* on_end once, then the reader goes (after any work in flight). */
static void end(struct rt_log_reader *lr, int err)
{
    if (lr->ended) return;
    lr->ended = true;
    unlist(lr);
    lr->on_end(lr->arg, err);
    if (!lr->working) close_reader(lr); /* else after_read closes */
}

static void after_read(uv_work_t *w, int status)
{
    struct rt_log_reader *lr = w->data;
    rt *r = lr->r;

    (void)status;
    lr->working = false;
    if (lr->ended) { /* canceled while reading */
        close_reader(lr);
        rt_unref(r);
        return;
    }
    if (lr->out.len > 0) lr->on_data(lr->arg, lr->out.data, lr->out.len);
    if (!lr->ended) {
        if (lr->werr) end(lr, lr->werr);
        else if (lr->limit_hit) end(lr, 0);
        else if (!lr->at_eof || lr->dirty) queue_read(lr);
        else if (!lr->o.follow || lr->eof_snapshot) end(lr, 0);
    }
    rt_unref(r);
}

static void queue_read(struct rt_log_reader *lr)
{
    if (lr->ended) return;
    if (lr->working) {
        lr->dirty = true;
        return;
    }
    lr->dirty = false;
    lr->eof_snapshot = lr->eof; /* a read that starts after the exit drains everything */
    lr->work.data = lr;
    if (rt_queue_work(lr->r, &lr->work, read_work, after_read) != 0) {
        end(lr, ORC_EIO);
        return;
    }
    lr->working = true;
}

static void on_change(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct rt_log_reader *lr = h->data;
    size_t n = strlen(lr->base);

    (void)events;
    if (status < 0 || (filename && strncmp(filename, lr->base, n) != 0)) return;
    queue_read(lr);
}

static void on_tick(uv_timer_t *t) { queue_read(t->data); }

static int start_follow(struct rt_log_reader *lr)
{
    char dir[RT_PATH];
    char *slash;

    snprintf(dir, sizeof dir, "%s", lr->path);
    slash = strrchr(dir, '/');
    if (slash == NULL) return ORC_EINVAL;
    *slash = slash == dir ? '/' : '\0';
    if (slash == dir) slash[1] = '\0';
    if (uv_fs_event_start(&lr->ev, on_change, dir, 0) != 0) {
        log_debug(RT_LOG, "no inotify watch on %s: polling", dir);
        uv_timer_start(&lr->timer, on_tick, FOLLOW_POLL_MS, FOLLOW_POLL_MS);
    } else { /* inotify tells; the timer is a safety net */
        uv_timer_start(&lr->timer, on_tick, FOLLOW_SAFETY_MS, FOLLOW_SAFETY_MS);
    }
    return 0;
}

/* A following reader of a container that already exited must not wait. */
static bool exited(rt *r, const char *path)
{
    for (struct rt_ctr *c = r->ctrs; c; c = c->next) {
        if (strcmp(c->log_path, path) == 0 && c->state != RT_EXITED && !c->starting) rt_watch_check(r, c);
        if (strcmp(c->log_path, path) == 0 && c->state != RT_EXITED) return false;
    }
    for (struct rt_ctr *c = r->ctrs; c; c = c->next)
        if (strcmp(c->log_path, path) == 0) return true;
    return false; /* unknown: follow until rt_log_eof or cancel */
}

int rt_log_open(rt *r, const char *log_path, const struct rt_log_opts *o,
                void (*on_data)(void *arg, const char *data, size_t len),
                void (*on_end)(void *arg, int err), void *arg, rt_log_reader **out)
{
    struct rt_log_reader *lr;

    if (r->closing) return ORC_ESHUTDOWN;
    if (log_path == NULL || log_path[0] != '/' || o == NULL) return ORC_EINVAL;
    if ((lr = calloc(1, sizeof *lr)) == NULL || (lr->path = strdup(log_path)) == NULL) {
        free(lr);
        return ORC_ENOMEM;
    }
    lr->r = r;
    lr->o = *o;
    lr->base = strrchr(lr->path, '/') + 1;
    lr->on_data = on_data;
    lr->on_end = on_end;
    lr->arg = arg;
    uv_timer_init(r->loop, &lr->timer);
    uv_fs_event_init(r->loop, &lr->ev);
    lr->timer.data = lr->ev.data = lr;
    rt_ref_hold(r);
    lr->next = r->readers;
    r->readers = lr;
    lr->eof = o->follow && exited(r, log_path);
    if (o->follow) start_follow(lr);
    queue_read(lr);
    if (out) *out = lr;
    return 0;
}

void rt_log_cancel(rt_log_reader *lr)
{
    end(lr, ORC_ECANCELED);
}

void rt_log_eof(rt *r, const char *log_path)
{
    for (struct rt_log_reader *lr = r->readers; lr; lr = lr->next) {
        if (strcmp(lr->path, log_path) != 0 || lr->eof) continue;
        lr->eof = true;
        queue_read(lr); /* one more pass to the end, then it ends */
    }
}

void rt_logs_exited(rt *r, const char *log_path) { rt_log_eof(r, log_path); }

void rt_logs_cancel_all(rt *r)
{
    while (r->readers) rt_log_cancel(r->readers);
}
