/* test_verify.c — a damaged Raft log never makes a member start with less
 * than it acknowledged: one flipped byte in the newest segment (closed or
 * open) refuses the start of a single member, naming the file; with
 * discard_corrupt_log it starts without the damaged entries; a torn tail
 * (a crash mid-write) is cut and the rest kept; a follower with a damaged
 * log sets it aside and catches up from the leader; a damaged snapshot is
 * refused. Also: orc's reading of raft's formats matches raft's files. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "store/store_int.h"
#include "tests/harness/disk.h"
#include "tests/store/util.h"

#define N_PUTS 2000

/* ---- files ---- */

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;

    CHECKF(f != NULL, "open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    CHECK(b != NULL && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spill(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL && fwrite(b, 1, len, f) == len);
    fclose(f);
}

static void raft_dir_of(const struct member *m, char *out, size_t n)
{
    snprintf(out, n, "%s/raft", m->dir);
}

/* ---- members ---- */

static void put_many(store *s, int n)
{
    char key[32], val[256];

    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "/k/%05d", i);
        put_ok(s, key, val);
    }
}

static size_t count_keys(store *s)
{
    size_t n = 0;
    CHECK_INT(store_count(s, "/k/", &n), ==, 0);
    return n;
}

/* Opens and starts; returns store_start's code (the member is left open on
 * success, closed on failure). */
static int try_start(struct member *m, char *err)
{
    int rc = store_open(&test_loop, &m->cfg, &m->s, err);

    CHECKF(rc == 0, "store_open: %s", err);
    rc = store_start(m->s, err);
    if (rc != 0) member_close(m);
    return rc;
}

static bool healthy_leader(void *arg)
{
    store *s = ((struct member *)arg)->s;
    return store_health(s, NULL) == STORE_HEALTHY && store_is_leader(s);
}

/* A single member writes N_PUTS keys, cleanly closed (closed segments) or,
 * in a child process that exits without closing, as after kill -9 (the
 * newest entries in an open segment). Sets up the case's loop. */
static void single_with_data(struct member *m, bool crash)
{
    pid_t pid;
    int status;

    member_init(m, 1);
    if (!crash) {
        loop_setup();
        single_up(m);
        put_many(m->s, N_PUTS);
        member_close(m);
        return;
    }
    CHECK((pid = fork()) >= 0);
    if (pid == 0) {
        loop_setup();
        single_up(m);
        put_many(m->s, N_PUTS);
        _exit(0);
    }
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer child failed: %d", status);
    loop_setup();
}

/* ---- formats ---- */

static void on_server(void *arg, uint64_t id, const char *address, int role)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 200 - n, "%llu@%s/%d;", (unsigned long long)id, address, role);
}

TEST(configuration_encoding_read_as_raft_writes_it)
{
    struct raft_configuration c;
    struct raft_buffer b;
    char seen[200] = "";

    raft_configuration_init(&c);
    CHECK_INT(raft_configuration_add(&c, 0x1122334455667788ULL, "10.0.0.1:6444", RAFT_VOTER),
              ==, 0);
    CHECK_INT(raft_configuration_add(&c, 2, "h:1", RAFT_STANDBY), ==, 0);
    CHECK_INT(raft_configuration_encode(&c, &b), ==, 0);
    CHECK_INT(store__conf_scan(b.base, b.len, on_server, seen), ==, 0);
    CHECK_STR(seen, "1234605616436508552@10.0.0.1:6444/1;2@h:1/0;");
    CHECK(store__conf_scan(b.base, 8, NULL, NULL) == ORC_ECORRUPT); /* cut short */
    raft_free(b.base);
    raft_configuration_close(&c);
}

struct tally {
    size_t entries, changes;
};

static void on_entry(void *arg, uint64_t term, unsigned type, const void *data, size_t len)
{
    struct tally *t = arg;
    (void)term, (void)data, (void)len;
    t->entries++;
    t->changes += type == RAFT_CHANGE;
}

TEST(raft_files_pass_the_checks)
{
    struct member m;
    char dir[600], path[900];
    struct dirent *e;
    struct tally t = {0};
    int files = 0;
    DIR *d;

    single_with_data(&m, false);
    raft_dir_of(&m, dir, sizeof dir);
    CHECK((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) != 33 && strncmp(e->d_name, "open-", 5) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        unsigned char *b = slurp(path, &len);
        struct store_seg_scan sc = {.data = b, .len = len};
        store__seg_scan(&sc, 0, on_entry, &t);
        CHECKF(sc.stop != STORE_SEG_BAD, "%s: %s at %zu", path, sc.why, sc.bad_offset);
        free(b);
        files++;
    }
    closedir(d);
    printf("# %d segments, %zu entries, %zu configurations\n", files, t.entries, t.changes);
    CHECK(t.entries >= N_PUTS && t.changes >= 1);
    loop_teardown();
}

/* ---- a single member ---- */

static void refuses_then_discards(bool crash)
{
    struct member m;
    char dir[600], seg[900], err[256] = "";

    single_with_data(&m, crash);
    raft_dir_of(&m, dir, sizeof dir);
    disk_newest_segment(dir, seg, sizeof seg);
    disk_flip_middle(seg);
    /* no peer holds the entries: the start is refused, naming the file */
    CHECK_INT(try_start(&m, err), ==, ORC_ECORRUPT);
    printf("# %s\n", err);
    CHECK(strstr(err, seg) != NULL);
    CHECK_INT(disk_count_dirs(m.dir, "raft-corrupt-"), ==, 0); /* nothing moved */
    CHECK_INT(try_start(&m, err), ==, ORC_ECORRUPT);     /* and again: nothing changed */
    /* the operator accepts the loss */
    m.cfg.discard_corrupt_log = true;
    CHECKF(try_start(&m, err) == 0, "%s", err);
    CHECK(run_until(healthy_leader, &m, 5000));
    size_t n = count_keys(m.s);
    printf("# %zu of %d keys kept\n", n, N_PUTS);
    CHECK(n > 0 && n < N_PUTS);
    CHECK_INT(disk_count_dirs(m.dir, "raft-corrupt-"), ==, 1);
    put_ok(m.s, "/after", "x"); /* and it takes writes */
    member_close(&m);
    loop_teardown();
}

TEST_T(flipped_byte_in_closed_segment_refuses_then_discards, 60) { refuses_then_discards(false); }

TEST_T(flipped_byte_in_open_segment_refuses_then_discards, 60) { refuses_then_discards(true); }

/* Cuts (or zeroes) the newest open segment's last write. */
static void torn(bool zero_sector)
{
    struct member m;
    char dir[600], seg[900], err[256] = "";
    size_t len;

    single_with_data(&m, true);
    raft_dir_of(&m, dir, sizeof dir);
    disk_newest_segment(dir, seg, sizeof seg);
    unsigned char *b = slurp(seg, &len);
    size_t end = disk_data_end(seg);
    if (zero_sector) {
        size_t sector = (end - 1) / 512 * 512;
        memset(b + sector, 0, 512 < len - sector ? 512 : len - sector);
        spill(seg, b, len);
    } else {
        CHECK_INT(truncate(seg, (off_t)(end - 40)), ==, 0); /* inside the last batch */
    }
    free(b);
    CHECKF(try_start(&m, err) == 0, "%s", err);
    CHECK(run_until(healthy_leader, &m, 5000));
    size_t n = count_keys(m.s);
    printf("# %zu of %d keys kept\n", n, N_PUTS);
    /* only the last write (a batch of a few entries) is gone, and nothing
     * before it: the keys kept are exactly the first n */
    CHECK(n >= N_PUTS - 20 && n < N_PUTS);
    char key[32];
    snprintf(key, sizeof key, "/k/%05zu", n - 1);
    char *v = get_value(m.s, key);
    CHECK(v != NULL);
    free(v);
    CHECK_INT(disk_count_dirs(m.dir, "raft-corrupt-"), ==, 0);
    member_close(&m);
    loop_teardown();
}

TEST_T(torn_tail_cut_short_keeps_the_rest, 60) { torn(false); }

TEST_T(torn_tail_zeroed_sector_keeps_the_rest, 60) { torn(true); }

struct snap_file {
    char name[256], path[1024];
};

/* A single member that took snapshots, closed; *f is its newest snapshot's
 * metadata file (meta) or image. */
static void with_snapshot(struct member *m, bool meta, struct snap_file *f)
{
    char dir[600];
    struct dirent *e;
    DIR *d;

    loop_setup();
    member_init(m, 1);
    m->cfg.snapshot_threshold = 64;
    m->cfg.snapshot_trailing = 8;
    single_up(m);
    put_many(m->s, 300);
    member_close(m);
    raft_dir_of(m, dir, sizeof dir);
    f->name[0] = '\0';
    CHECK((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        bool is_meta = n > 5 && strcmp(e->d_name + n - 5, ".meta") == 0;
        if (strncmp(e->d_name, "snapshot-", 9) == 0 && is_meta == meta &&
            strcmp(e->d_name, f->name) > 0)
            snprintf(f->name, sizeof f->name, "%s", e->d_name);
    }
    closedir(d);
    CHECK(f->name[0] != '\0');
    snprintf(f->path, sizeof f->path, "%s/%s", dir, f->name);
}

TEST_T(damaged_snapshot_metadata_refused, 60)
{
    struct member m;
    struct snap_file meta;
    char err[256] = "";
    size_t len;

    with_snapshot(&m, true, &meta);
    unsigned char *b = slurp(meta.path, &len);
    b[len - 3] ^= 0x01; /* inside the configuration */
    spill(meta.path, b, len);
    free(b);
    CHECK_INT(try_start(&m, err), ==, ORC_ECORRUPT);
    printf("# %s\n", err);
    CHECK(strstr(err, meta.name) != NULL);
    loop_teardown();
}

TEST_T(flipped_byte_in_snapshot_image_refused, 60)
{
    struct member m;
    struct snap_file data;
    char err[256] = "";

    with_snapshot(&m, false, &data);
    disk_flip_middle(data.path); /* inside a stored value: SQLite alone would not notice */
    CHECK_INT(try_start(&m, err), ==, ORC_ECORRUPT);
    printf("# %s\n", err);
    CHECK(strstr(err, data.name) != NULL);
    loop_teardown();
}

/* ---- a follower ---- */

static bool healthy(void *arg)
{
    return store_health(((struct member *)arg)->s, NULL) == STORE_HEALTHY;
}

TEST_T(follower_with_damaged_log_catches_up_from_the_leader, 90)
{
    struct member ms[3];
    char dir[600], seg[900], err[256] = "";
    const char *why = NULL;

    loop_setup();
    for (int i = 0; i < 3; i++) {
        member_init(&ms[i], i + 1);
        member_open(&ms[i]);
    }
    members_up(ms, 3, 5000);
    put_many(ms[0].s, N_PUTS);
    int64_t rev = store_revision(ms[0].s);
    CHECK_INT(wait_rev(ms[2].s, rev, 10000), ==, 0);
    member_close(&ms[2]);
    raft_dir_of(&ms[2], dir, sizeof dir);
    disk_newest_segment(dir, seg, sizeof seg);
    disk_flip_middle(seg);
    put_many(ms[0].s, 10); /* the cluster moves on meanwhile */
    CHECKF(try_start(&ms[2], err) == 0, "%s", err);
    CHECK_INT(disk_count_dirs(ms[2].dir, "raft-corrupt-"), ==, 1);
    CHECK_INT(store_health(ms[2].s, &why), ==, STORE_DEGRADED);
    printf("# right after the start: %s\n", why);
    CHECK(strstr(why, "catching up") != NULL);
    CHECK(run_until(healthy, &ms[2], 20000));
    CHECK_INT(count_keys(ms[2].s), ==, N_PUTS);
    CHECK(store_revision(ms[2].s) >= rev);
    for (int i = 0; i < 3; i++) member_close(&ms[i]);
    loop_teardown();
}

/* A damaged closed segment whose entries are all in the snapshot costs
 * nothing: it is moved aside and the member starts with everything. */
TEST_T(damage_the_snapshot_covers_loses_nothing, 60)
{
    struct member m;
    char dir[600], path[1200], victim[300] = "", err[256] = "";
    unsigned long long snap = 0, a, b, c;
    struct dirent *e;
    DIR *d;

    loop_setup();
    member_init(&m, 1);
    m.cfg.segment_size = 64 * 1024;
    m.cfg.snapshot_threshold = 1024;
    m.cfg.snapshot_trailing = 800;
    single_up(&m);
    put_many(m.s, N_PUTS);
    member_close(&m);
    raft_dir_of(&m, dir, sizeof dir);
    CHECK((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL)
        if (sscanf(e->d_name, "snapshot-%llu-%llu-%llu.meta", &a, &b, &c) == 3 && b > snap)
            snap = b;
    rewinddir(d);
    while ((e = readdir(d)) != NULL) /* the newest closed segment wholly in the snapshot */
        if (strlen(e->d_name) == 33 && sscanf(e->d_name, "%llu-%llu", &a, &b) == 2 && b <= snap &&
            strcmp(e->d_name, victim) > 0)
            snprintf(victim, sizeof victim, "%s", e->d_name);
    closedir(d);
    CHECKF(snap > 0 && victim[0], "no snapshot (%llu) or no segment inside it", snap);
    snprintf(path, sizeof path, "%s/%s", dir, victim);
    disk_flip_middle(path);
    CHECKF(try_start(&m, err) == 0, "%s", err);
    CHECK(run_until(healthy_leader, &m, 5000));
    CHECK_INT(count_keys(m.s), ==, N_PUTS);
    CHECK_INT(disk_count_dirs(m.dir, "raft-corrupt-"), ==, 1);
    member_close(&m);
    loop_teardown();
}
