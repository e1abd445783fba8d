/* test_faults.c — disk trouble: when Raft can no longer grow its log, or
 * state.db can no longer grow (a file size limit standing in for a full
 * disk), pending txns fail with an error instead of crashing, the member
 * reports itself degraded, and it rebuilds itself from its log and takes
 * writes again, with every acknowledged one, once there is room. */
#include <signal.h>
#include <sys/resource.h>

#include "store/store_int.h"
#include "tests/store/util.h"

struct tally {
    int ok, failed, unknown, last_err;
};

static void tally_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct tally *t = arg;
    (void)res;
    if (status == 0) {
        t->ok++;
    } else {
        t->failed++;
        t->unknown += status == ORC_ENOTLEADER; /* may have been committed */
        t->last_err = status;
    }
}

static bool healthy_leader(void *arg)
{
    store *s = arg;
    return store_health(s, NULL) == STORE_HEALTHY && store_is_leader(s);
}

static bool all_done(void *arg)
{
    struct tally *t = arg;
    return t->ok + t->failed == 256;
}

TEST_T(log_full_fails_txns_without_crash, 60)
{
    struct member m;
    static struct tally t;
    static char value[32 * 1024];
    struct rlimit lim;

    signal(SIGXFSZ, SIG_IGN);
    loop_setup();
    member_init(&m, 1);
    m.cfg.segment_size = 256 * 1024;
    single_up(&m);
    put_ok(m.s, "/k", "before");

    /* Files may not grow past 128 KiB: new 256 KiB segments cannot be made. */
    CHECK_INT(getrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    struct rlimit small = {128 * 1024, lim.rlim_max};
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
    memset(value, 'x', sizeof value);
    struct store_op op = {STORE_PUT, "/k", value, sizeof value};
    struct store_txn txn = {NULL, 0, &op, 1};
    for (int i = 0; i < 256; i++) {
        int rc = store_txn(m.s, &txn, tally_cb, &t);
        if (rc != 0) { /* already not leader: count as failed at once */
            t.failed++;
            t.last_err = rc;
        }
        if (i % 16 == 15) run_for(20);
    }
    CHECK(run_until(all_done, &t, 30000));
    printf("# %d committed, %d failed (last: %s)\n", t.ok, t.failed, orc_strerror(t.last_err));
    CHECK(t.failed > 0);
    const char *why = NULL;
    CHECK_INT(store_health(m.s, &why), ==, STORE_DEGRADED);
    printf("# degraded: %s\n", why);
    CHECK(strstr(why, "Raft log") != NULL);
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    /* with room again, the member rebuilds itself and writes go through */
    CHECK(run_until(healthy_leader, m.s, 20000));
    struct store_txn_result res;
    op.value_len = 16;
    CHECK_INT(txn_sync(m.s, &txn, &res), ==, 0);
    CHECK(res.succeeded);
    /* acknowledged txns are all there; those refused outright left nothing */
    printf("# revision %lld after %d acknowledged, %d of unknown outcome\n",
           (long long)res.revision, t.ok, t.unknown);
    CHECK(res.revision >= 2 + t.ok && res.revision <= 2 + t.ok + t.unknown);
    member_close(&m);
    loop_teardown();
}

static void raw_cb(struct raft_apply *req, int status, void *result)
{
    (void)result;
    *(int *)req->data = status == 0 ? 1 : status;
}

static bool raw_done(void *arg) { return *(int *)arg != 0; }

TEST(malformed_entry_is_a_noop)
{
    struct member m;
    struct raft_apply req;
    struct raft_buffer buf;
    int done = 0;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    CHECK_INT(put_ok(m.s, "/a", "1"), ==, 1);
    /* bytes that never came from store_txn, straight into the Raft log */
    buf.len = 64;
    buf.base = raft_malloc(buf.len);
    CHECK(buf.base != NULL);
    memset(buf.base, 0xAB, buf.len);
    req.data = &done;
    CHECK_INT(raft_apply(&m.s->raft, &req, &buf, 1, raw_cb), ==, 0);
    CHECK(run_until(raw_done, &done, 5000));
    CHECK_INT(done, ==, 1);
    CHECK_INT(store_revision(m.s), ==, 1);
    CHECK_INT(put_ok(m.s, "/a", "2"), ==, 2);
    member_close(&m);
    loop_teardown();
}

/* Whether raft has written a snapshot's data file (it does so in the
 * background once past the threshold: a loaded machine may lag). */
static bool has_snapshot(void *arg)
{
    char cmd[700];

    snprintf(cmd, sizeof cmd, "ls '%s'/snapshot-*[0-9] 2>/dev/null | grep -qv meta", (const char *)arg);
    return system(cmd) == 0;
}

/* Overwrites bytes inside the newest snapshot's data file. */
static void corrupt_snapshot(const char *raft_dir)
{
    char cmd[1200];

    snprintf(cmd, sizeof cmd,
             "f=$(ls -t '%s'/snapshot-*[0-9] 2>/dev/null | grep -v meta | head -1); "
             "test -n \"$f\" && printf 'garbage garbage garbage' | "
             "dd of=\"$f\" bs=1 seek=40 conv=notrunc status=none",
             raft_dir);
    CHECK_INT(system(cmd), ==, 0);
}

TEST(corrupt_snapshot_refused_at_start)
{
    struct member m;
    char raft_dir[600], err[256];

    loop_setup();
    member_init(&m, 1);
    m.cfg.snapshot_threshold = 16;
    m.cfg.snapshot_trailing = 4;
    single_up(&m);
    for (int i = 0; i < 40; i++) put_ok(m.s, "/k", "v");
    snprintf(raft_dir, sizeof raft_dir, "%s/raft", m.dir);
    CHECKF(run_until(has_snapshot, raft_dir, 10000), "no snapshot in %s", raft_dir);
    member_close(&m);
    corrupt_snapshot(raft_dir);
    int rc = store_open(&test_loop, &m.cfg, &m.s, err);
    if (rc == 0) {
#ifdef __SANITIZE_ADDRESS__
        /* raft 0.15 leaks the snapshot's decoded configuration (41 bytes)
         * when the snapshot data then fails to load: not ours to free. */
        __lsan_disable();
#endif
        rc = store_start(m.s, err);
#ifdef __SANITIZE_ADDRESS__
        __lsan_enable();
#endif
        member_close(&m);
    }
    printf("# %s\n", err);
    CHECK(rc < 0);
    CHECK(strstr(err, m.dir) != NULL);
    loop_teardown();
}

struct acked {
    int n; /* acknowledged */
    int failed;
};

static void acked_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct acked *a = arg;
    (void)res;
    if (status == 0) a->n++;
    else a->failed++;
}

/* state.db cannot grow (the file size limit again) while Raft's small
 * segments still can: the apply fails, the member stops serving instead of
 * answering from a database that lost entries, and rebuilds it from the
 * log once the limit is lifted, with every acknowledged write. */
TEST_T(database_full_is_rebuilt_from_the_log, 60)
{
    struct member m;
    static struct acked a;
    static char value[8 * 1024];
    struct rlimit lim;
    const char *why = NULL;
    char key[32];
    int sent = 0;

    signal(SIGXFSZ, SIG_IGN);
    loop_setup();
    member_init(&m, 1);
    m.cfg.segment_size = 64 * 1024;
    single_up(&m);
    memset(value, 'x', sizeof value);
    CHECK_INT(getrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    struct rlimit small = {2u << 20, lim.rlim_max}; /* state.db-wal stops at 2 MiB */
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
    for (int i = 0; i < 1000 && store_health(m.s, NULL) == STORE_HEALTHY; i++) {
        snprintf(key, sizeof key, "/big/%04d", i);
        struct store_op op = {STORE_PUT, key, value, sizeof value};
        struct store_txn txn = {NULL, 0, &op, 1};
        if (store_txn(m.s, &txn, acked_cb, &a) == 0) sent++;
        run_for(2);
    }
    run_for(200);
    CHECK_INT(store_health(m.s, &why), ==, STORE_DEGRADED);
    printf("# after %d sent, %d acknowledged: %s\n", sent, a.n, why);
    CHECK(strstr(why, "state.db") != NULL);
    CHECK_INT(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    CHECK(run_until(healthy_leader, m.s, 20000));
    size_t n = 0;
    CHECK_INT(store_count(m.s, "/big/", &n), ==, 0);
    printf("# %zu keys after the rebuild\n", n);
    CHECK((int)n >= a.n); /* every acknowledged write, in order: the first n keys */
    snprintf(key, sizeof key, "/big/%04zu", n - 1);
    char *v = get_value(m.s, key);
    CHECK(v != NULL);
    free(v);
    member_close(&m);
    loop_teardown();
}
