/* snapshots.c — scheduled snapshots (see snapshots.h). A wall-clock slot
 * from the cron expression (lib/cron) or a fixed interval ("@every 30m",
 * as k3s' cron library accepts) arms a timer; the store writes the file on
 * a worker thread, which then applies the retention to this member's files
 * in the directory; the loop only logs. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/cron.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "orcd/snapshots.h"
#include "store/backup.h"

#define EVERY_MAX_S (366u * 24 * 3600)
#define KEEP_MAX 128 /* names the retention sorts; more are removed oldest first over runs */

struct orcd_snapshots {
    uv_loop_t *loop;
    store *st;
    orc_cron *cron;    /* NULL with an interval */
    unsigned every_s;  /* "@every" interval */
    unsigned retention;
    char dir[4096];
    char prefix[64];   /* orc-snapshot-<member id>- */
    char path[4300];   /* the file being written */
    uv_timer_t timer;
    int64_t due_ms;    /* wall-clock time of the next slot */
    bool saving, stopping, timer_closed;
    /* Set by prune() on the worker, read on the loop after the save. */
    unsigned removed;
    int prune_errno;
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static bool is_off(const char *spec) { return spec == NULL || *spec == '\0' || strcmp(spec, "off") == 0; }

/* "@every 1h30m": one or more <number><s|m|h>. */
static int parse_every(const char *spec, unsigned *out)
{
    const char *p = spec + strlen("@every");
    unsigned long total = 0;

    if (*p != ' ') return ORC_EINVAL;
    while (*p == ' ') p++;
    if (*p == '\0') return ORC_EINVAL;
    while (*p) {
        char *end;
        unsigned long n = strtoul(p, &end, 10);
        unsigned long unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 0;
        if (end == p || unit == 0 || n > EVERY_MAX_S) return ORC_EINVAL;
        total += n * unit;
        if (total > EVERY_MAX_S) return ORC_EINVAL;
        p = end + 1;
    }
    if (total == 0) return ORC_EINVAL;
    *out = (unsigned)total;
    return 0;
}

static int parse(const char *spec, orc_cron **cron, unsigned *every, char *msg, size_t n)
{
    *cron = NULL;
    *every = 0;
    if (strncmp(spec, "@every", 6) == 0) {
        if (parse_every(spec, every) == 0) return 0;
        return orc_errf(msg, n, ORC_EINVAL, "\"%s\": want @every followed by a duration such as "
                                            "30m or 1h30m (at least 1s, at most a year)", spec);
    }
    return orc_cron_parse(spec, cron, msg, n) == 0 ? 0 : ORC_EINVAL;
}

int orcd_snapshots_check(const char *schedule, char *msg, size_t n)
{
    orc_cron *cron;
    unsigned every;
    int rv;

    if (is_off(schedule)) return 0;
    rv = parse(schedule, &cron, &every, msg, n);
    orc_cron_free(cron);
    return rv;
}

/* ---- retention, on the worker thread after a file is written ---- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_tmp(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

/* This member's files, oldest first (the UTC time in the name sorts). A
 * temp file one of them left behind in a crash goes too. */
static void prune(void *arg)
{
    struct orcd_snapshots *sn = arg;
    char *names[KEEP_MAX], path[4400];
    size_t n = 0, plen = strlen(sn->prefix);
    struct dirent *e;
    DIR *d = opendir(sn->dir);

    sn->removed = 0;
    sn->prune_errno = 0;
    if (d == NULL) {
        sn->prune_errno = errno;
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, sn->prefix, plen) != 0) continue;
        if (is_tmp(e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", sn->dir, e->d_name);
            unlink(path);
        } else if (n < KEEP_MAX && (names[n] = strdup(e->d_name)) != NULL) {
            n++;
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", sn->dir, names[i]);
        if (i + sn->retention < n) {
            if (unlink(path) == 0) sn->removed++;
            else sn->prune_errno = errno;
        }
        free(names[i]);
    }
}

/* ---- the schedule, on the loop ---- */

static void arm(struct orcd_snapshots *sn);
static void maybe_free(struct orcd_snapshots *sn);

static void next_slot_text(const struct orcd_snapshots *sn, char out[ORC_TIME_LEN])
{
    if (sn->due_ms > 0) orc_time_format(sn->due_ms / 1000, out);
    else snprintf(out, ORC_TIME_LEN, "never");
}

static void on_saved(void *arg, int status, const struct store_backup_info *info, const char *err)
{
    struct orcd_snapshots *sn = arg;
    char next[ORC_TIME_LEN];

    sn->saving = false;
    next_slot_text(sn, next);
    if (status != 0) {
        log_error("orcd", "scheduled snapshot failed: %s; the next is due at %s", err, next);
    } else {
        log_info("orcd", "snapshot %s: revision %" PRId64 ", %" PRIu64 " bytes; %u older removed",
                 sn->path, info->revision, info->payload_size, sn->removed);
        if (sn->prune_errno)
            log_warn("orcd", "removing old snapshots in %s: %s", sn->dir, strerror(sn->prune_errno));
    }
    if (sn->stopping) maybe_free(sn);
}

static void take(struct orcd_snapshots *sn)
{
    char when[32];
    time_t t = (time_t)(wall_ms() / 1000);
    struct tm tm;
    int rv;

    if (sn->saving) {
        log_warn("orcd", "snapshot %s is still being written: skipping this slot", sn->path);
        return;
    }
    if (orc_mkdirs(sn->dir, 0700) != 0) {
        log_error("orcd", "scheduled snapshot failed: cannot create %s: %s", sn->dir, strerror(errno));
        return;
    }
    if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm) == 0)
        snprintf(when, sizeof when, "%lld", (long long)t);
    snprintf(sn->path, sizeof sn->path, "%s/%s%s", sn->dir, sn->prefix, when);
    rv = store_backup_save(sn->st, sn->path, prune, sn, on_saved, sn);
    if (rv != 0) log_error("orcd", "scheduled snapshot %s failed: %s", sn->path, orc_strerror(rv));
    else sn->saving = true;
}

static void on_timer(uv_timer_t *t)
{
    struct orcd_snapshots *sn = t->data;
    int64_t now = wall_ms();

    if (now < sn->due_ms) { /* the monotonic timer ran ahead of the wall clock */
        uv_timer_start(&sn->timer, on_timer, (uint64_t)(sn->due_ms - now), 0);
        return;
    }
    take(sn);
    arm(sn);
}

static void arm(struct orcd_snapshots *sn)
{
    int64_t now = wall_ms(), next;

    if (sn->cron) {
        next = orc_cron_next(sn->cron, now / 1000);
        sn->due_ms = next < 0 ? 0 : next * 1000;
    } else {
        sn->due_ms = now + (int64_t)sn->every_s * 1000;
    }
    if (sn->due_ms == 0) {
        log_warn("orcd", "the snapshot schedule has no slot within five years: no snapshots");
        return;
    }
    uv_timer_start(&sn->timer, on_timer, (uint64_t)(sn->due_ms - now), 0);
}

int orcd_snapshots_start(uv_loop_t *loop, store *st, const struct orcd_snapshots_config *cfg,
                         struct orcd_snapshots **out)
{
    struct orcd_snapshots *sn;
    char msg[256], next[ORC_TIME_LEN];

    *out = NULL;
    if (is_off(cfg->schedule)) {
        log_info("orcd", "scheduled snapshots are off");
        return 0;
    }
    if (cfg->retention == 0 || cfg->dir == NULL) return ORC_EINVAL;
    if ((sn = calloc(1, sizeof *sn)) == NULL) return ORC_ENOMEM;
    if (parse(cfg->schedule, &sn->cron, &sn->every_s, msg, sizeof msg) != 0) {
        log_error("orcd", "--snapshot-schedule %s", msg);
        free(sn);
        return ORC_EINVAL;
    }
    sn->loop = loop;
    sn->st = st;
    sn->retention = cfg->retention;
    snprintf(sn->dir, sizeof sn->dir, "%s", cfg->dir);
    snprintf(sn->prefix, sizeof sn->prefix, "orc-snapshot-%" PRIu64 "-", cfg->member_id);
    uv_timer_init(loop, &sn->timer);
    sn->timer.data = sn;
    arm(sn);
    next_slot_text(sn, next);
    log_info("orcd", "snapshots \"%s\" into %s, keeping %u; the next at %s", cfg->schedule,
             sn->dir, sn->retention, next);
    *out = sn;
    return 0;
}

static void maybe_free(struct orcd_snapshots *sn)
{
    void (*cb)(void *) = sn->stop_cb;
    void *arg = sn->stop_arg;

    if (!sn->timer_closed || sn->saving) return;
    orc_cron_free(sn->cron);
    free(sn);
    if (cb) cb(arg);
}

static void timer_closed(uv_handle_t *h)
{
    struct orcd_snapshots *sn = h->data;
    sn->timer_closed = true;
    maybe_free(sn);
}

void orcd_snapshots_stop(struct orcd_snapshots *sn, void (*cb)(void *arg), void *arg)
{
    if (sn == NULL) {
        if (cb) cb(arg);
        return;
    }
    sn->stopping = true;
    sn->stop_cb = cb;
    sn->stop_arg = arg;
    uv_close((uv_handle_t *)&sn->timer, timer_closed);
}
