/* test_backup.c — backups at the store level: a backup taken while writes
 * go on shows one revision exactly; loaded into a new one-member cluster it
 * gives every key back with its revisions and versions, the revision goes
 * on from the backup's, and a member joining later gets the same state;
 * damaged or truncated files are refused naming the problem; saved files
 * are 0600 and a failed save leaves nothing behind. */
#include <sys/stat.h>

#include "lib/file.h"
#include "store/backup_int.h"
#include "tests/store/util.h"

struct took {
    bool done;
    int status;
    struct store_backup *b;
};

static void took_cb(void *arg, int status, struct store_backup *b)
{
    struct took *t = arg;
    t->done = true;
    t->status = status;
    t->b = b;
}

static bool took_cond(void *arg) { return ((struct took *)arg)->done; }

static struct store_backup *take(store *s)
{
    struct took t = {0};

    CHECK_INT(store_backup_take(s, took_cb, &t), ==, 0);
    CHECK(run_until(took_cond, &t, 20000));
    CHECKF(t.status == 0, "backup: %s", orc_strerror(t.status));
    return t.b;
}

/* The backup as a file's bytes (malloc'd). */
static unsigned char *file_bytes(const struct store_backup *b, size_t *len)
{
    unsigned char *f = malloc(STORE_BACKUP_HEADER + b->payload_len);

    CHECK(f != NULL);
    memcpy(f, b->header, STORE_BACKUP_HEADER);
    memcpy(f + STORE_BACKUP_HEADER, b->payload, b->payload_len);
    *len = STORE_BACKUP_HEADER + b->payload_len;
    return f;
}

/* Keys of several sizes, rewritten and deleted, so revisions, versions and
 * create revisions all differ; one value large enough to fill an entry. */
static void fill(store *s)
{
    char key[64], *val = malloc(2u << 20);

    CHECK(val != NULL);
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "/registry/core/configmaps/ns%d/cm%03d", i % 3, i);
        memset(val, 'a' + i % 26, 4000);
        val[4000 + i % 7] = '\0';
        memset(val + 4000, 'z', (size_t)(i % 7));
        put_ok(s, key, val);
        if (i % 5 == 0) put_ok(s, key, "rewritten");
        if (i % 11 == 0) del_ok(s, key);
    }
    memset(val, 'L', (2u << 20) - 1);
    val[(2u << 20) - 1] = '\0';
    put_ok(s, "/registry/core/secrets/default/large", val);
    put_ok(s, "/orc/members/77", "{\"id\":\"77\"}");
    put_ok(s, "/registry/core/namespaces/last", "{}");
    free(val);
}

struct loaded {
    bool done;
    int status;
    struct store_load_result res;
};

static void loaded_cb(void *arg, int status, const struct store_load_result *res)
{
    struct loaded *l = arg;
    l->done = true;
    l->status = status;
    if (res) l->res = *res;
}

static bool loaded_cond(void *arg) { return ((struct loaded *)arg)->done; }

static bool has_snapshot(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls '%s/raft' | grep -q '^snapshot-'", dir);
    return system(cmd) == 0;
}

TEST_T(backup_loads_into_a_new_cluster_that_others_join, 120)
{
    struct member a, b, c;
    struct store_backup_info info;
    struct loaded l = {0};
    const void *payload;
    size_t len, objects;
    char err[STORE_BACKUP_ERRLEN];

    loop_setup();
    member_init(&a, 1);
    single_up(&a);
    fill(a.s);
    int64_t rev = store_revision(a.s);
    char *before = dump_at(a.s, "/orc/members/", 0);
    struct store_backup *bk = take(a.s);
    put_ok(a.s, "/after/backup", "x"); /* not in it */
    unsigned char *file = file_bytes(bk, &len);
    CHECK_INT(bk->info.revision, ==, rev);
    CHECK_INT(bk->info.member_id, ==, 1);
    CHECKF(store_backup_verify(file, len, &info, &payload, &objects, err) == 0, "verify: %s", err);
    CHECK_INT(info.revision, ==, rev);
    CHECK_INT(objects, ==, 300 - 28 + 3);
    member_close(&a);

    /* A new one-member cluster takes it in through its log. */
    member_init(&b, 2);
    single_up(&b);
    CHECK_INT(store_backup_load(b.s, payload, info.payload_size, "/orc/members/", loaded_cb, &l), ==, 0);
    CHECK(run_until(loaded_cond, &l, 60000));
    CHECKF(l.status == 0, "load: %s", orc_strerror(l.status));
    CHECK_INT(l.res.objects, ==, objects - 1);
    CHECK_INT(l.res.revision, ==, rev);
    CHECK_INT(store_revision(b.s), ==, rev);
    char *after = dump(b.s);
    CHECKF(strcmp(before, after) == 0, "restored state differs:\n%s\nvs\n%s", before, after);
    CHECK(get_value(b.s, "/after/backup") == NULL);
    CHECK_INT(put_ok(b.s, "/new", "1"), ==, rev + 1);
    /* raft snapshots right after the load, so its large entries leave the log. */
    for (int i = 0; i < 200 && !has_snapshot(b.dir); i++) run_for(10);
    CHECKF(has_snapshot(b.dir), "no snapshot after the load in %s/raft", b.dir);
    /* A restart rebuilds the same state from raft's snapshot and log. */
    char *live = dump(b.s);
    member_close(&b);
    member_open(&b);
    member_start(&b);
    CHECK(run_until(is_leader_cond, &b, 5000));
    char *again = dump(b.s);
    CHECKF(strcmp(live, again) == 0, "differs after a restart:\n%s\nvs\n%s", live, again);
    free(live);
    free(again);

    /* A member that joins later gets every key (by snapshot). */
    member_init(&c, 3);
    member_open(&c);
    member_start(&c);
    add_member(&b, &c, 30000);
    CHECK_INT(wait_rev(c.s, rev + 1, 10000), ==, 0);
    check_same(b.s, c.s, "the joined member and the leader");
    free(before);
    free(after);
    free(file);
    store_backup_free(bk);
    member_close(&c);
    member_close(&b);
    loop_teardown();
}

/* A member joining while the load entries are still in the log replays
 * them alike. */
TEST_T(joined_member_replays_load_entries, 60)
{
    struct member a, b, c;
    struct store_backup_info info;
    struct loaded l = {0};
    const void *payload;
    size_t len, objects;
    char err[STORE_BACKUP_ERRLEN];

    loop_setup();
    member_init(&a, 1);
    single_up(&a);
    for (int i = 0; i < 50; i++) {
        char key[32];
        snprintf(key, sizeof key, "/k/%d", i);
        put_ok(a.s, key, "v");
    }
    struct store_backup *bk = take(a.s);
    unsigned char *file = file_bytes(bk, &len);
    CHECK_INT(store_backup_verify(file, len, &info, &payload, &objects, err), ==, 0);
    member_close(&a);
    member_init(&b, 2);
    member_init(&c, 3);
    single_up(&b);
    member_open(&c);
    member_start(&c);
    add_member(&b, &c, 30000);
    CHECK_INT(store_backup_load(b.s, payload, info.payload_size, NULL, loaded_cb, &l), ==, 0);
    CHECK(run_until(loaded_cond, &l, 30000));
    CHECK_INT(l.status, ==, 0);
    CHECK_INT(wait_rev(c.s, info.revision, 10000), ==, 0);
    CHECK_INT(store_revision(c.s), ==, info.revision);
    check_same(b.s, c.s, "the follower and the leader");
    free(file);
    store_backup_free(bk);
    member_close(&c);
    member_close(&b);
    loop_teardown();
}

/* Writes keep coming while the backup is taken: it shows exactly the state
 * at the revision its header names, nothing later, nothing missing. */
struct flood {
    store *s;
    int issued, done;
    bool stop;
};

static void flood_cb(void *arg, int status, const struct store_txn_result *res);

static void flood_one(struct flood *f)
{
    char key[32], val[32];
    snprintf(key, sizeof key, "/flood/%d", f->issued % 97);
    snprintf(val, sizeof val, "v%d", f->issued);
    struct store_op op = {STORE_PUT, key, val, strlen(val)};
    struct store_txn t = {NULL, 0, &op, 1};
    CHECK_INT(store_txn(f->s, &t, flood_cb, f), ==, 0);
    f->issued++;
}

static void flood_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct flood *f = arg;
    (void)res;
    CHECK_INT(status, ==, 0);
    f->done++;
    if (!f->stop) flood_one(f);
}

static bool flood_idle(void *arg)
{
    struct flood *f = arg;
    return f->done == f->issued;
}

TEST_T(backup_under_writes_shows_one_revision, 60)
{
    struct member a, b;
    struct flood f = {0};
    struct store_backup_info info;
    struct loaded l = {0};
    const void *payload;
    size_t len, objects;
    char err[STORE_BACKUP_ERRLEN];

    loop_setup();
    member_init(&a, 1);
    a.cfg.watch_history = 1000000; /* to read the state at the backup's revision afterwards */
    single_up(&a);
    f.s = a.s;
    for (int i = 0; i < 64; i++) flood_one(&f);
    run_for(300);
    struct store_backup *bk = take(a.s);
    run_for(300);
    f.stop = true;
    CHECK(run_until(flood_idle, &f, 10000));
    CHECKF(store_revision(a.s) > bk->info.revision + 50, "writes stopped during the backup (%lld vs %lld)",
           (long long)store_revision(a.s), (long long)bk->info.revision);
    char *then = dump_at(a.s, NULL, bk->info.revision);
    unsigned char *file = file_bytes(bk, &len);
    CHECK_INT(store_backup_verify(file, len, &info, &payload, &objects, err), ==, 0);
    member_close(&a);
    member_init(&b, 2);
    single_up(&b);
    CHECK_INT(store_backup_load(b.s, payload, info.payload_size, NULL, loaded_cb, &l), ==, 0);
    CHECK(run_until(loaded_cond, &l, 30000));
    CHECK_INT(l.status, ==, 0);
    char *restored = dump(b.s);
    CHECKF(strcmp(then, restored) == 0, "backup differs from revision %lld:\n%s\nvs\n%s",
           (long long)info.revision, then, restored);
    free(then);
    free(restored);
    free(file);
    store_backup_free(bk);
    member_close(&b);
    loop_teardown();
}

static void expect_refused(const unsigned char *f, size_t len, const char *what, const char *words)
{
    struct store_backup_info info;
    const void *payload;
    size_t objects;
    char err[STORE_BACKUP_ERRLEN] = "";
    int rv = store_backup_verify(f, len, &info, &payload, &objects, err);

    CHECKF(rv != 0, "%s: accepted", what);
    CHECKF(strstr(err, words) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err, words);
}

TEST(damaged_backups_are_refused_naming_the_problem)
{
    struct member a;
    size_t len;

    loop_setup();
    member_init(&a, 1);
    single_up(&a);
    for (int i = 0; i < 40; i++) put_ok(a.s, "/k", "value");
    struct store_backup *bk = take(a.s);
    unsigned char *f = file_bytes(bk, &len);
    member_close(&a);

    static const struct {
        size_t at;
        const char *words;
    } flips[] = {
        {0, "bad magic"},        {9, "version"},           {13, "header size"},
        {16, "truncated"},       {24, "checksum mismatch"}, {40, "checksum mismatch"},
        {57, "reserved"},        {70, "checksum mismatch"}, {96, "checksum mismatch"},
        {96 + 2000, "checksum mismatch"},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(flips); i++) {
        char what[64];
        snprintf(what, sizeof what, "byte %zu flipped", flips[i].at);
        f[flips[i].at] ^= 0x40;
        expect_refused(f, len, what, flips[i].words);
        f[flips[i].at] ^= 0x40;
    }
    f[len - 1] ^= 1;
    expect_refused(f, len, "last byte flipped", "checksum mismatch");
    f[len - 1] ^= 1;
    expect_refused(f, 0, "empty", "truncated");
    expect_refused(f, 50, "50 bytes", "shorter than the 96-byte header");
    expect_refused(f, STORE_BACKUP_HEADER, "header only", "truncated: the payload has 0");
    expect_refused(f, len - 1, "one byte short", "truncated");

    /* A sound checksum over a damaged database: SQLite's checks catch it. */
    unsigned char *bad = malloc(len);
    memcpy(bad, f, len);
    CHECK(len >= STORE_BACKUP_HEADER + 3 * 4096);
    memset(bad + STORE_BACKUP_HEADER + 4096, 0xEE, 16);     /* page 2's header */
    memset(bad + STORE_BACKUP_HEADER + 2 * 4096, 0xEE, 16); /* page 3's */
    store__backup_header(bad, &bk->info, bad + STORE_BACKUP_HEADER, len - STORE_BACKUP_HEADER);
    expect_refused(bad, len, "damaged database", "database inside");
    free(bad);

    /* The streaming check agrees, fed in odd pieces. */
    struct store_backup_check *c;
    struct store_backup_info info;
    char err[STORE_BACKUP_ERRLEN];
    CHECK_INT(store_backup_check_new(&c), ==, 0);
    for (size_t off = 0; off < len; off += 7)
        CHECK_INT(store_backup_check_feed(c, f + off, len - off < 7 ? len - off : 7), ==, 0);
    CHECKF(store_backup_check_finish(c, &info, err) == 0, "stream check: %s", err);
    CHECK_INT(info.revision, ==, bk->info.revision);
    store_backup_check_free(c);
    CHECK_INT(store_backup_check_new(&c), ==, 0);
    f[3] = 'X';
    CHECK_INT(store_backup_check_feed(c, f, len), ==, ORC_ECORRUPT);
    CHECK(store_backup_check_finish(c, &info, err) != 0);
    CHECK(strstr(err, "bad magic") != NULL);
    store_backup_check_free(c);
    free(f);
    store_backup_free(bk);
    loop_teardown();
}

struct saved {
    bool done;
    int status;
    char err[STORE_BACKUP_ERRLEN];
    struct store_backup_info info;
};

static void saved_cb(void *arg, int status, const struct store_backup_info *info, const char *err)
{
    struct saved *s = arg;
    s->done = true;
    s->status = status;
    s->info = *info;
    snprintf(s->err, sizeof s->err, "%s", err);
}

static bool saved_cond(void *arg) { return ((struct saved *)arg)->done; }

static void after_write(void *arg) { (*(int *)arg)++; }

TEST(saved_backups_are_private_and_failures_leave_nothing)
{
    struct member a;
    struct saved sv = {0};
    struct stat st;
    struct orc_buf b = ORC_BUF_INIT;
    struct store_backup_info info;
    const void *payload;
    size_t objects;
    char path[600], err[STORE_BACKUP_ERRLEN];
    int ran = 0;

    loop_setup();
    member_init(&a, 1);
    single_up(&a);
    put_ok(a.s, "/k", "v");
    snprintf(path, sizeof path, "%s/snap", test_tmpdir());
    CHECK_INT(store_backup_save(a.s, path, after_write, &ran, saved_cb, &sv), ==, 0);
    CHECK(run_until(saved_cond, &sv, 20000));
    CHECKF(sv.status == 0, "save: %s", sv.err);
    CHECK_INT(ran, ==, 1);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    CHECK_INT(orc_file_read(path, 64u << 20, &b), ==, 0);
    CHECKF(store_backup_verify(b.data, b.len, &info, &payload, &objects, err) == 0, "%s", err);
    CHECK_INT(objects, ==, 1);
    CHECK_INT(info.revision, ==, 1);
    orc_buf_free(&b);

    /* Into a directory that does not exist: an error naming the file. */
    memset(&sv, 0, sizeof sv);
    snprintf(path, sizeof path, "%s/missing/snap", test_tmpdir());
    CHECK_INT(store_backup_save(a.s, path, after_write, &ran, saved_cb, &sv), ==, 0);
    CHECK(run_until(saved_cond, &sv, 20000));
    CHECK_INT(sv.status, ==, ORC_EIO);
    CHECKF(strstr(sv.err, "missing/snap.tmp") != NULL, "message: %s", sv.err);
    CHECK_INT(ran, ==, 1);
    member_close(&a);
    loop_teardown();
}

TEST(close_with_backups_in_flight)
{
    struct member a;
    struct took t[3] = {{0}};

    loop_setup();
    member_init(&a, 1);
    single_up(&a);
    put_ok(a.s, "/k", "v");
    for (int i = 0; i < 3; i++) CHECK_INT(store_backup_take(a.s, took_cb, &t[i]), ==, 0);
    member_close(&a);
    for (int i = 0; i < 3; i++) {
        CHECK(t[i].done);
        CHECK(t[i].status == ORC_ESHUTDOWN || t[i].status == 0);
        store_backup_free(t[i].b);
    }
    loop_teardown();
}
