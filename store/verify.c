/* verify.c — the Raft dir checked before raft loads it. raft 0.15 truncates
 * an open segment at its first bad batch and renames a bad last closed
 * segment aside, then starts without them: a member came back empty,
 * silently. Here every closed segment, every batch of the open ones and
 * the newest snapshot's metadata are checked first (formats: segment.c).
 * A torn tail (the last write cut short by a crash) is cut as Raft allows;
 * anything else may be entries this member acknowledged: refused when no
 * other voter holds them, else moved aside so the leader sends them again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "store/store_int.h"

struct seg {
    char name[64];
    bool open;
    uint64_t counter;     /* open */
    uint64_t first, last; /* closed: from the name; open: as loaded */
};

struct problem {
    size_t seg;           /* index in v->segs, or SIZE_MAX for the snapshot */
    size_t offset;
    const char *why;
    uint64_t first_lost;  /* first entry index the damage takes */
    unsigned bad_n;       /* entries of the bad batch, when known */
};

struct verify {
    store *s;
    struct seg *segs;
    size_t n_segs;
    char snap[96]; /* newest snapshot's data file name, "" = none */
    uint64_t snap_index;
    bool snap_meta_bad; /* the damage is in its .meta, not its image */
    /* the newest configuration readable, from the snapshot or the log */
    uint64_t conf_index;
    bool conf_known, self_voter;
    unsigned other_voters;
    /* walking the log */
    uint64_t next;     /* index of the next entry */
    bool counting;     /* past the damage: counting what would be lost */
    uint64_t lost_other; /* entries past the damage that are not writes */
    bool tail_unknown;   /* an open segment's rest past the damage is unreadable */
    size_t covered;      /* segments [0, covered) go: damage the snapshot makes up for */
    const char *covered_why;
    uint64_t last;     /* last index the log holds, damaged part included */
    bool found;
    struct problem bad;
    unsigned char *buf; /* the segment being read */
    size_t len;
    unsigned char *bad_buf; /* the damaged segment, its good batches first */
    size_t bad_good_end;    /* bytes of those good batches, header included */
    uint64_t bad_good_n;    /* entries in them */
};

/* ---- reading ---- */

static int read_file(const char *dir, const char *name, unsigned char **out, size_t *len)
{
    char path[4200];
    struct stat st;
    unsigned char *b;
    size_t got = 0;
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return ORC_EIO;
    if (fstat(fd, &st) != 0 || (b = malloc((size_t)st.st_size + 1)) == NULL) {
        close(fd);
        return ORC_EIO;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    *out = b;
    *len = got;
    return 0;
}

/* ---- listing ---- */

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return false;
    return true;
}

static bool parse_segment_name(const char *name, struct seg *g)
{
    size_t n = strlen(name);

    memset(g, 0, sizeof *g);
    if (n == 33 && name[16] == '-' && all_digits(name, 16) && all_digits(name + 17, 16)) {
        g->first = strtoull(name, NULL, 10);
        g->last = strtoull(name + 17, NULL, 10);
    } else if (n > 5 && n < 26 && strncmp(name, "open-", 5) == 0 && all_digits(name + 5, n - 5)) {
        g->open = true;
        g->counter = strtoull(name + 5, NULL, 10);
    } else {
        return false;
    }
    snprintf(g->name, sizeof g->name, "%s", name);
    return true;
}

/* raft keeps the snapshot with the highest (term, index, timestamp) whose
 * data file exists and is not empty. */
static void consider_snapshot(struct verify *v, const char *dir, const char *meta,
                              uint64_t best[3])
{
    unsigned long long t, i, ts;
    char data[96], path[4200];
    struct stat st;
    int used = 0;

    if (sscanf(meta, "snapshot-%llu-%llu-%llu.meta%n", &t, &i, &ts, &used) != 3 ||
        (size_t)used != strlen(meta) || strlen(meta) >= sizeof data + 5)
        return;
    snprintf(data, sizeof data, "%.*s", (int)(strlen(meta) - 5), meta);
    snprintf(path, sizeof path, "%s/%s", dir, data);
    if (stat(path, &st) != 0 || st.st_size == 0) return;
    bool older = t < best[0] || (t == best[0] && (i < best[1] || (i == best[1] && ts < best[2])));
    if (v->snap[0] && older) return;
    best[0] = t, best[1] = i, best[2] = ts;
    snprintf(v->snap, sizeof v->snap, "%s", data);
    v->snap_index = i;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;

    if (x->open != y->open) return x->open ? 1 : -1;
    if (x->open) return x->counter < y->counter ? -1 : x->counter > y->counter;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int list_dir(struct verify *v, const char *dir)
{
    uint64_t best[3] = {0, 0, 0};
    size_t cap = 0;
    struct dirent *e;
    struct seg g;
    DIR *d;

    if ((d = opendir(dir)) == NULL) return ORC_EIO;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "snapshot-", 9) == 0) consider_snapshot(v, dir, e->d_name, best);
        if (!parse_segment_name(e->d_name, &g)) continue;
        if (v->n_segs == cap) {
            struct seg *n = realloc(v->segs, (cap = cap ? cap * 2 : 16) * sizeof *n);
            if (n == NULL) {
                closedir(d);
                return ORC_ENOMEM;
            }
            v->segs = n;
        }
        v->segs[v->n_segs++] = g;
    }
    closedir(d);
    if (v->n_segs > 1) qsort(v->segs, v->n_segs, sizeof *v->segs, cmp_seg);
    return 0;
}

/* ---- the configuration ---- */

struct voters {
    uint64_t self;
    bool self_voter;
    unsigned others;
};

static void on_server(void *arg, uint64_t id, const char *address, int role)
{
    struct voters *t = arg;

    (void)address;
    if (role != RAFT_VOTER) return;
    if (id == t->self) t->self_voter = true;
    else t->others++;
}

static void take_conf(struct verify *v, uint64_t index, const void *conf, size_t len)
{
    struct voters t = {.self = v->s->id};

    if (v->conf_known && index < v->conf_index) return;
    if (store__conf_scan(conf, len, on_server, &t) != 0) return;
    v->self_voter = t.self_voter;
    v->other_voters = t.others;
    v->conf_known = true;
    v->conf_index = index;
}

static int check_snapshot(struct verify *v)
{
    char meta[128];
    const void *conf;
    const char *why;
    unsigned char *b;
    size_t len, conf_len;

    snprintf(v->s->snapshot_name, sizeof v->s->snapshot_name, "%s", v->snap);
    if (v->snap[0] == '\0') return 0;
    snprintf(meta, sizeof meta, "%s.meta", v->snap);
    if (read_file(v->s->raft_dir, meta, &b, &len) != 0) {
        why = "cannot be read";
    } else {
        if (store__snapshot_meta_check(b, len, &conf, &conf_len, &why) == 0) {
            uint64_t conf_index = 0;
            for (int i = 7; i >= 0; i--) conf_index = conf_index << 8 | b[16 + i];
            take_conf(v, conf_index, conf, conf_len);
        }
        free(b);
    }
    v->snap_meta_bad = why != NULL;
    if (why == NULL && read_file(v->s->raft_dir, v->snap, &b, &len) != 0) {
        why = "its image cannot be read";
    } else if (why == NULL) {
        if (store__db_image_check(b, len, &len) != 0) why = "its image's checksum does not match";
        free(b);
    }
    if (why == NULL) return 0;
    v->found = true;
    v->counting = true;
    v->bad = (struct problem){SIZE_MAX, 0, why, 1, 0};
    return 0;
}

/* ---- the log ---- */

static void on_entry(void *arg, uint64_t term, unsigned type, const void *data, size_t len)
{
    struct verify *v = arg;

    (void)term;
    if (type == RAFT_CHANGE) take_conf(v, v->next, data, len);
    if (v->counting && type != RAFT_COMMAND) v->lost_other++;
    v->next++;
}

/* Closed segments before a gap are ones raft no longer uses (it keeps the
 * newest contiguous run): the walk starts at that run. */
static size_t first_used(const struct verify *v)
{
    size_t i = 0, last_closed = SIZE_MAX;

    for (size_t k = 0; k < v->n_segs && !v->segs[k].open; k++) last_closed = k;
    if (last_closed == SIZE_MAX) return 0;
    for (i = last_closed; i > 0 && v->segs[i - 1].last + 1 == v->segs[i].first; i--) {}
    return i;
}

static void record(struct verify *v, size_t seg, const struct store_seg_scan *sc, const char *why)
{
    const struct seg *g = &v->segs[seg];

    if (!g->open && v->snap[0] && g->last <= v->snap_index) {
        /* every entry in it is also in the snapshot: it and those before
         * it go, nothing is lost, and the walk goes on */
        v->covered = seg + 1;
        v->covered_why = why ? why : sc->why;
        return;
    }
    v->found = true;
    v->bad = (struct problem){seg, sc ? sc->bad_offset : 0, why ? why : sc->why,
                              v->next, sc ? sc->bad_n : 0};
    v->counting = true;
}

/* A torn tail: the file is cut just before the batch that never made it,
 * so raft reads it to its end (raft 0.15 fails a start on an open segment
 * that ends inside a batch). */
static int cut_torn(struct verify *v, const struct seg *g, const struct store_seg_scan *sc)
{
    char path[4200];
    int rv;

    snprintf(path, sizeof path, "%s/%s", v->s->raft_dir, g->name);
    log_warn("store", "%s: the write at byte %zu (%s) never fully reached the disk: the process "
             "or machine stopped mid-write. Entries from %" PRIu64 " on were never acknowledged "
             "by this member; cut off, as Raft allows", path, sc->bad_offset, sc->why, v->next);
    rv = sc->good_end > 8 ? truncate(path, (off_t)sc->good_end) : unlink(path);
    return rv == 0 ? 0 : ORC_EIO;
}

/* An open segment damaged in one batch: the entries after it, counted as
 * lost (closed segments say how many they hold in their name). */
static void count_past(struct verify *v, const struct store_seg_scan *bad)
{
    struct store_seg_scan sc = {.data = bad->data, .len = bad->len};

    if (bad->bad_end == 0) {
        v->tail_unknown = true;
        return;
    }
    v->next += bad->bad_n;
    store__seg_scan(&sc, bad->bad_end, on_entry, v);
    if (sc.stop == STORE_SEG_BAD) v->tail_unknown = true;
}

/* Whether any open segment after i holds data (format 1 rather than a
 * prepared, zeroed file). */
static bool newest_written_open(const struct verify *v, size_t i)
{
    unsigned char head[8] = {0};
    char path[4200];

    for (size_t k = i + 1; k < v->n_segs; k++) {
        int fd;
        snprintf(path, sizeof path, "%s/%s", v->s->raft_dir, v->segs[k].name);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) continue;
        ssize_t n = read(fd, head, sizeof head);
        close(fd);
        for (ssize_t b = 0; b < n; b++)
            if (head[b] != 0) return false;
    }
    return true;
}

static int walk_segment(struct verify *v, size_t i)
{
    struct seg *g = &v->segs[i];
    struct store_seg_scan sc = {0};
    uint64_t first = v->next;
    int rv;

    if (!g->open && g->first != v->next) {
        if (!v->counting) record(v, i, NULL, "entries are missing before it");
        v->next = g->first;
        first = g->first;
    }
    if ((rv = read_file(v->s->raft_dir, g->name, &v->buf, &v->len)) != 0) {
        if (!v->counting) record(v, i, NULL, "it cannot be read");
        v->next = g->open ? v->next : g->last + 1;
        return 0;
    }
    sc.data = v->buf;
    sc.len = v->len;
    store__seg_scan(&sc, 0, on_entry, v);
    if (g->open) {
        g->first = first;
        g->last = v->next - 1;
    }
    if (sc.stop == STORE_SEG_BAD && !v->counting) {
        if (g->open && sc.torn && newest_written_open(v, i)) rv = cut_torn(v, g, &sc);
        else record(v, i, &sc, NULL);
        if (g->open && !sc.torn) count_past(v, &sc);
    } else if (!g->open && !v->counting && (sc.stop != STORE_SEG_END || v->next != g->last + 1)) {
        record(v, i, &sc,
               sc.stop == STORE_SEG_BAD ? NULL : "it holds fewer entries than its name says");
    }
    if (v->found && v->bad.seg == i && v->bad_buf == NULL) {
        v->bad_buf = v->buf; /* kept: its good batches stay in the log */
        v->bad_good_end = sc.good_end;
        v->bad_good_n = sc.stop == STORE_SEG_BAD ? sc.n_entries : 0;
        v->buf = NULL;
    }
    if (!g->open) v->next = g->last + 1;
    free(v->buf);
    v->buf = NULL;
    return rv;
}

/* Open segments carry no index in format 1: they follow the last closed
 * segment, or the snapshot when there is none, as raft loads them. */
static int walk_log(struct verify *v)
{
    size_t i = first_used(v);
    int rv = 0;

    if (i < v->n_segs && !v->segs[i].open) v->next = v->segs[i].first;
    else v->next = v->snap[0] ? v->snap_index + 1 : 1;
    if (v->snap[0] && i < v->n_segs && !v->segs[i].open && v->segs[i].first > v->snap_index + 1) {
        v->next = v->snap_index + 1;
        if (!v->counting) record(v, i, NULL, "entries are missing between the snapshot and it");
    }
    for (; i < v->n_segs && rv == 0; i++) rv = walk_segment(v, i);
    v->last = v->next - 1;
    return rv;
}

/* ---- acting on damage ---- */

/* Entries from the damage on, less those the snapshot holds. */
static uint64_t lost_from(const struct verify *v)
{
    if (v->bad.seg == SIZE_MAX) return 1;
    uint64_t from = v->bad.first_lost;
    if (v->snap[0] && from <= v->snap_index) from = v->snap_index + 1;
    return from;
}

static int make_aside(struct verify *v, char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    for (int i = 0; i < 100; i++) {
        if (i == 0) snprintf(out, n, "%s/raft-corrupt-%s", v->s->data_dir, stamp);
        else snprintf(out, n, "%s/raft-corrupt-%s.%d", v->s->data_dir, stamp, i);
        if (mkdir(out, 0700) == 0) return 0;
        if (errno != EEXIST) return ORC_EIO;
    }
    return ORC_EEXIST;
}

static int move_aside(struct verify *v, const char *aside, const char *name)
{
    char from[4200], to[4200];

    snprintf(from, sizeof from, "%s/%s", v->s->raft_dir, name);
    snprintf(to, sizeof to, "%s/%s", aside, name);
    if (rename(from, to) == 0 || errno == ENOENT) return 0;
    log_error("store", "move %s to %s: %s", from, to, strerror(errno));
    return ORC_EIO;
}

/* The damaged segment's good batches go back into the log, as a closed
 * segment of their own (or the same open segment, whose index raft derives). */
static int keep_prefix(struct verify *v)
{
    const struct seg *g = &v->segs[v->bad.seg];
    char name[64], tmp[4200], path[4200];
    int fd, rv = 0;

    if (v->bad_buf == NULL || v->bad_good_n == 0) return 0;
    if (g->open) snprintf(name, sizeof name, "%s", g->name);
    else snprintf(name, sizeof name, "%016" PRIu64 "-%016" PRIu64, g->first,
                  g->first + v->bad_good_n - 1);
    snprintf(tmp, sizeof tmp, "%s/.keep.tmp", v->s->raft_dir);
    snprintf(path, sizeof path, "%s/%s", v->s->raft_dir, name);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) return ORC_EIO;
    rv = orc_write_all(fd, v->bad_buf, v->bad_good_end);
    if (rv == 0 && fsync(fd) != 0) rv = ORC_EIO;
    close(fd);
    if (rv == 0 && rename(tmp, path) != 0) rv = ORC_EIO;
    if (rv != 0) {
        unlink(tmp);
        log_warn("store", "%s: cannot keep its %" PRIu64 " good entries: %s", path,
                 v->bad_good_n, strerror(errno));
    }
    return 0; /* the entries came from a damaged file: losing them too is no worse */
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Moves the damaged file and everything newer (or, for a snapshot, all of
 * the log state but the metadata) into a new DIR/raft-corrupt-<time>/. */
static int set_aside(struct verify *v, char *aside, size_t n, size_t *moved)
{
    char meta[128];
    size_t from = v->bad.seg == SIZE_MAX ? 0 : v->bad.seg;
    int rv;

    *moved = 0;
    if ((rv = make_aside(v, aside, n)) != 0) {
        log_error("store", "cannot create %s/raft-corrupt-*: %s", v->s->data_dir, strerror(errno));
        return rv;
    }
    if (v->bad.seg == SIZE_MAX) {
        snprintf(meta, sizeof meta, "%s.meta", v->snap);
        if ((rv = move_aside(v, aside, v->snap)) != 0 || (rv = move_aside(v, aside, meta)) != 0)
            return rv;
        *moved += 2;
    }
    for (size_t i = from; i < v->n_segs; i++, (*moved)++)
        if ((rv = move_aside(v, aside, v->segs[i].name)) != 0) return rv;
    if (v->bad.seg != SIZE_MAX) keep_prefix(v);
    sync_dir(aside);
    sync_dir(v->s->raft_dir);
    return 0;
}

/* A damaged closed segment wholly inside the snapshot: raft would refuse
 * it, but needs neither it nor those before it. */
static int drop_covered(struct verify *v)
{
    char aside[4200];
    int rv = make_aside(v, aside, sizeof aside);

    for (size_t i = 0; rv == 0 && i < v->covered; i++) rv = move_aside(v, aside, v->segs[i].name);
    if (rv == 0) sync_dir(v->s->raft_dir);
    log_warn("store", "%s/%s: %s; every entry in it is also in the snapshot %s, so nothing is "
             "lost: moved it and %zu older segments to %s", v->s->raft_dir,
             v->segs[v->covered - 1].name, v->covered_why, v->snap, v->covered - 1, aside);
    return rv;
}

static void describe(const struct verify *v, char *path, size_t n, char *what, size_t wn)
{
    if (v->bad.seg == SIZE_MAX) {
        snprintf(path, n, "%s/%s%s", v->s->raft_dir, v->snap, v->snap_meta_bad ? ".meta" : "");
        snprintf(what, wn, "%s: the snapshot (entries up to %" PRIu64 ") cannot be loaded",
                 v->bad.why, v->snap_index);
        return;
    }
    snprintf(path, n, "%s/%s", v->s->raft_dir, v->segs[v->bad.seg].name);
    snprintf(what, wn, "%s in the batch at byte %zu", v->bad.why, v->bad.offset);
}

/* "a, b and 3 more": the files set_aside moved. */
static void moved_names(const struct verify *v, char *out, size_t n)
{
    size_t from = v->bad.seg == SIZE_MAX ? 0 : v->bad.seg, shown = 0, len = 0;

    out[0] = '\0';
    if (v->bad.seg == SIZE_MAX) {
        len += (size_t)snprintf(out, n, "%s(.meta)", v->snap);
        shown++;
    }
    for (size_t i = from; i < v->n_segs && len < n; i++) {
        if (shown == 6) {
            snprintf(out + len, n - len, " and %zu more", v->n_segs - i);
            return;
        }
        len += (size_t)snprintf(out + len, n - len, "%s%s", shown ? ", " : "", v->segs[i].name);
        shown++;
    }
}

static int act(struct verify *v, bool forced_alone, char *errmsg)
{
    char path[4300], what[300], aside[4200], names[600];
    uint64_t from = lost_from(v), to = v->last;
    bool alone = forced_alone || !v->conf_known || (v->self_voter && v->other_voters == 0);
    size_t moved = 0;
    int rv;

    describe(v, path, sizeof path, what, sizeof what);
    if (to < from) to = from; /* the damage is at the very end */
    uint64_t writes = to - from + 1 > v->lost_other ? to - from + 1 - v->lost_other : 0;
    const char *more = v->tail_unknown ? " and any after them" : "";
    if (alone && !v->s->cfg.discard_corrupt_log) {
        log_error("store", "%s: %s: entries %" PRIu64 "..%" PRIu64 "%s (about %" PRIu64 " writes "
                  "this member acknowledged) would be lost, and no other member holds them: "
                  "this member is its cluster's only voter. Not starting. Restore a backup "
                  "(orcd server --restore FILE), or start with --discard-corrupt-log to accept "
                  "the loss (the damaged files are then moved to %s/raft-corrupt-<time>/)",
                  path, what, from, to, more, writes, v->s->data_dir);
        store__errf(errmsg, "%s is damaged: see the error above", path);
        return ORC_ECORRUPT;
    }
    if ((rv = set_aside(v, aside, sizeof aside, &moved)) != 0) {
        store__errf(errmsg, "%s is damaged and could not be moved aside", path);
        return rv;
    }
    moved_names(v, names, sizeof names);
    if (alone) {
        log_error("store", "%s: %s: discarded entries %" PRIu64 "..%" PRIu64 "%s (about %" PRIu64
                  " acknowledged writes), as --discard-corrupt-log asks; moved %s to %s",
                  path, what, from, to, more, writes, names, aside);
        return 0;
    }
    log_warn("store", "%s: %s: entries %" PRIu64 "..%" PRIu64 " of this member's log are "
             "damaged; moved %s to %s. This member will catch up from the leader, and "
             "reports itself not ready until it has", path, what, from, to, names, aside);
    v->s->catchup_index = to;
    return 0;
}

int store__verify(store *s, bool alone, char *errmsg)
{
    struct verify v = {.s = s};
    int rv;

    if ((rv = list_dir(&v, s->raft_dir)) == 0 && (rv = check_snapshot(&v)) == 0 && !v.found)
        rv = walk_log(&v);
    else if (rv == 0)
        walk_log(&v); /* only to learn what the damage would take */
    if (rv == ORC_ENOMEM) store__errf(errmsg, "out of memory");
    else if (rv != 0) store__errf(errmsg, "read %s: %s", s->raft_dir, strerror(errno));
    if (rv == 0 && v.covered > 0 && (rv = drop_covered(&v)) != 0)
        store__errf(errmsg, "cannot move damaged segments out of %s", s->raft_dir);
    if (rv == 0 && v.found) rv = act(&v, alone, errmsg);
    free(v.buf);
    free(v.bad_buf);
    free(v.segs);
    return rv;
}
