/* audit_log.c — the audit log's file: lines queued by the loop into a
 * bounded buffer, written by a thread of their own (the loop never waits on
 * the disk), rotated by size as Kubernetes' lumberjack does
 * (NAME-2006-01-02T15-04-05.000.EXT), keeping max_backup files and none
 * older than max_age_days. */
#include "apiserver/audit_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define PATH_MAX_LEN 4096
/* The writer wakes for this much, or after FLUSH_MS: one write per batch,
 * not a wake-up and a write(2) per request. */
#define BATCH_BYTES (64u * 1024)
#define FLUSH_MS 100
#define STAMP_LEN 23 /* 2006-01-02T15-04-05.000 */

struct audit_log {
    struct audit_log_config cfg;
    char path[PATH_MAX_LEN];
    char dir[PATH_MAX_LEN];
    char stem[256]; /* the file name without its extension */
    char ext[64];   /* ".log", or "" */
    int fd;
    bool own_fd;
    uint64_t size;
    int64_t last_backup_ms;
    bool failing; /* a write failed; said once until one succeeds */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct orc_buf pending; /* under mu */
    bool stopping;          /* under mu */
};

static void split_path(struct audit_log *l)
{
    const char *slash = strrchr(l->path, '/');
    const char *base = slash ? slash + 1 : l->path;
    const char *dot = strrchr(base, '.');

    if (slash) snprintf(l->dir, sizeof l->dir, "%.*s", (int)(slash - l->path), l->path);
    else snprintf(l->dir, sizeof l->dir, ".");
    if (slash == l->path) snprintf(l->dir, sizeof l->dir, "/");
    if (dot == NULL || dot == base) dot = base + strlen(base);
    snprintf(l->stem, sizeof l->stem, "%.*s", (int)(dot - base), base);
    snprintf(l->ext, sizeof l->ext, "%s", dot);
}

static int open_file(struct audit_log *l, char *errmsg)
{
    struct stat st;

    l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0 || fchmod(l->fd, 0600) != 0 || fstat(l->fd, &st) != 0) {
        if (errmsg) snprintf(errmsg, 256, "audit log %.180s: %s", l->path, strerror(errno));
        if (l->fd >= 0) close(l->fd);
        l->fd = -1;
        return ORC_EIO;
    }
    l->size = (uint64_t)st.st_size;
    return 0;
}

/* ---- backups ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stamp(int64_t ms, char out[STAMP_LEN + 1])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(out, STAMP_LEN + 1, "%Y-%m-%dT%H-%M-%S", &tm);
    snprintf(out + 19, STAMP_LEN + 1 - 19, ".%03u", (unsigned)(ms % 1000) % 1000u);
}

/* The stamp of a backup's name, or NULL when `name` is not one of ours. */
static const char *backup_stamp(const struct audit_log *l, const char *name)
{
    size_t ls = strlen(l->stem), le = strlen(l->ext), n = strlen(name);

    if (n != ls + 1 + STAMP_LEN + le || strncmp(name, l->stem, ls) != 0 || name[ls] != '-'
        || strcmp(name + n - le, l->ext) != 0)
        return NULL;
    return name + ls + 1;
}

static int64_t stamp_seconds(const char *s)
{
    int y, mo, d, h, mi, se;

    if (sscanf(s, "%4d-%2d-%2dT%2d-%2d-%2d", &y, &mo, &d, &h, &mi, &se) != 6) return 0;
    return orc_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

static void remove_backup(const struct audit_log *l, const char *name)
{
    char p[PATH_MAX_LEN + 256];

    snprintf(p, sizeof p, "%s/%s", l->dir, name);
    if (unlink(p) != 0 && errno != ENOENT)
        log_warn("audit", "cannot remove the old audit log %s: %s", p, strerror(errno));
}

/* Newest first (the stamps sort as text): the ones past max_backup, or
 * older than max_age_days, go. */
static void prune(struct audit_log *l)
{
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int64_t oldest = l->cfg.max_age_days ? orc_time_unix() - (int64_t)l->cfg.max_age_days * 86400 : 0;

    if ((l->cfg.max_backup == 0 && l->cfg.max_age_days == 0) || (d = opendir(l->dir)) == NULL) return;
    while ((e = readdir(d)) != NULL) {
        if (backup_stamp(l, e->d_name) == NULL) continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *nn);
            if (nn == NULL) break;
            names = nn;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) break;
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_desc);
    for (size_t i = 0; i < n; i++) {
        bool too_many = l->cfg.max_backup && i >= l->cfg.max_backup;
        bool too_old = oldest && stamp_seconds(backup_stamp(l, names[i])) < oldest;
        if (too_many || too_old) remove_backup(l, names[i]);
        free(names[i]);
    }
    free(names);
}

static void rotate(struct audit_log *l)
{
    char st[STAMP_LEN + 1], to[PATH_MAX_LEN + 512];
    int64_t ms = now_ms();

    /* Two rotations in one millisecond must not share a name. */
    if (ms <= l->last_backup_ms) ms = l->last_backup_ms + 1;
    l->last_backup_ms = ms;
    stamp(ms, st);
    snprintf(to, sizeof to, "%s/%s-%s%s", l->dir, l->stem, st, l->ext);
    close(l->fd);
    l->fd = -1;
    if (rename(l->path, to) != 0)
        log_warn("audit", "cannot rotate the audit log to %s: %s", to, strerror(errno));
    if (open_file(l, NULL) != 0) {
        log_error("audit", "cannot reopen the audit log %s: %s", l->path, strerror(errno));
        return;
    }
    prune(l);
}

/* ---- writing ---- */

static void write_run(struct audit_log *l, const char *data, size_t len)
{
    if (l->fd < 0 && open_file(l, NULL) != 0) return;
    if (orc_write_all(l->fd, data, len) != 0) {
        if (!l->failing) log_error("audit", "cannot write the audit log %s: %s", l->path, strerror(errno));
        l->failing = true;
        return;
    }
    if (l->failing) log_info("audit", "writing the audit log %s again", l->path);
    l->failing = false;
    l->size += len;
}

/* Whole lines, the file rotated before a line would take it past its
 * size (a line alone in a file may be bigger). */
static void write_batch(struct audit_log *l, const char *data, size_t len)
{
    uint64_t max = l->own_fd ? l->cfg.max_bytes : 0;
    size_t off = 0;

    while (off < len) {
        size_t run = 0;
        while (off + run < len) {
            const char *p = data + off + run;
            const char *nl = memchr(p, '\n', len - off - run);
            size_t ll = nl ? (size_t)(nl - p) + 1 : len - off - run;
            if (max && l->size + run > 0 && l->size + run + ll > max) break;
            run += ll;
        }
        if (run == 0) {
            rotate(l);
            continue;
        }
        write_run(l, data + off, run);
        off += run;
        if (off < len) rotate(l);
    }
}

static void *writer_main(void *arg)
{
    struct audit_log *l = arg;
    struct orc_buf batch = {0};

    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (l->pending.len == 0 && !l->stopping) pthread_cond_wait(&l->cond, &l->mu);
        if (l->pending.len == 0) break;
        if (l->pending.len < BATCH_BYTES && !l->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += FLUSH_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (l->pending.len < BATCH_BYTES && !l->stopping
                   && pthread_cond_timedwait(&l->cond, &l->mu, &until) == 0) {}
        }
        struct orc_buf t = batch;
        batch = l->pending;
        l->pending = t;
        pthread_mutex_unlock(&l->mu);
        write_batch(l, batch.data, batch.len);
        orc_buf_reset(&batch);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    orc_buf_free(&batch);
    return NULL;
}

int audit_log_put(struct audit_log *l, const char *line, size_t len)
{
    int rv = 0;

    pthread_mutex_lock(&l->mu);
    size_t was = l->pending.len;

    if (was + len > l->cfg.bound) rv = ORC_ETOOBIG;
    else if (orc_buf_append(&l->pending, line, len) != 0) rv = ORC_ENOMEM;
    /* the writer waits for a first line, then for a batch */
    else if (was == 0 || (was < BATCH_BYTES && l->pending.len >= BATCH_BYTES)) pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mu);
    return rv;
}

int audit_log_open(const struct audit_log_config *cfg, struct audit_log **out, char *errmsg)
{
    struct audit_log *l = calloc(1, sizeof *l);
    int rv;

    if (l == NULL) return ORC_ENOMEM;
    l->cfg = *cfg;
    l->cfg.path = NULL;
    snprintf(l->path, sizeof l->path, "%s", cfg->path);
    split_path(l);
    l->own_fd = strcmp(cfg->path, "-") != 0;
    l->fd = STDOUT_FILENO;
    if (l->own_fd && (rv = open_file(l, errmsg)) != 0) {
        free(l);
        return rv;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (pthread_create(&l->thread, NULL, writer_main, l) != 0) {
        snprintf(errmsg, 256, "audit log: cannot start its writer thread");
        l->stopping = true;
        audit_log_close(l);
        return ORC_EIO;
    }
    *out = l;
    return 0;
}

void audit_log_close(struct audit_log *l)
{
    if (l == NULL) return;
    pthread_mutex_lock(&l->mu);
    bool running = !l->stopping;
    l->stopping = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->mu);
    if (running) pthread_join(l->thread, NULL);
    if (l->own_fd && l->fd >= 0) close(l->fd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cond);
    orc_buf_free(&l->pending);
    free(l);
}
