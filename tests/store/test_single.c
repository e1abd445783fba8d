/* test_single.c — a one-member cluster: election, txns with guards,
 * revisions, reads, barriers, revision waits, many txns in flight, and
 * shutdown with requests pending. */
#include "tests/store/util.h"

TEST(bootstrap_leads_quickly)
{
    struct member m;
    uint64_t t0, id = 0;
    const char *addr = NULL;

    loop_setup();
    member_init(&m, 1);
    member_open(&m);
    CHECK(store_is_fresh(m.s));
    member_bootstrap(&m);
    CHECK(!store_is_fresh(m.s));
    t0 = test_now_ms();
    member_start(&m);
    CHECK(run_until(is_leader_cond, &m, 2000));
    printf("# time to leader: %llu ms\n", (unsigned long long)(test_now_ms() - t0));
    CHECK(test_now_ms() - t0 < 200);
    CHECK_INT(store_leader(m.s, &id, &addr), ==, 0);
    CHECK_INT(id, ==, 1);
    CHECK_STR(addr, m.addr);
    CHECK_INT(store_revision(m.s), ==, 0);
    member_close(&m);
    loop_teardown();
}

TEST(txn_guards_and_revisions)
{
    struct member m;
    struct store_txn_result res;
    struct store_kv kv;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);

    /* create with ABSENT guard */
    struct store_guard absent = {STORE_GUARD_ABSENT, "/pods/a", 0};
    struct store_op put_a = {STORE_PUT, "/pods/a", "v1", 2};
    struct store_txn t = {&absent, 1, &put_a, 1};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    CHECK(res.succeeded);
    CHECK_INT(res.revision, ==, 1);
    CHECK_INT(res.failed_guard, ==, -1);
    CHECK_INT(store_revision(m.s), ==, 1);

    /* same create again: guard fails, nothing changes, no revision */
    put_a.value = "v2";
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    CHECK(!res.succeeded);
    CHECK_INT(res.failed_guard, ==, 0);
    CHECK_INT(res.failed_mod_rev, ==, 1);
    CHECK_INT(res.revision, ==, 1);
    CHECK_INT(store_revision(m.s), ==, 1);
    CHECK_INT(store_get(m.s, "/pods/a", &kv), ==, 0);
    CHECK_STR(kv.value, "v1");
    store_kv_clear(&kv);

    /* update with MODREV guard */
    struct store_guard modrev = {STORE_GUARD_MODREV, "/pods/a", 1};
    t = (struct store_txn){&modrev, 1, &put_a, 1};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    CHECK(res.succeeded);
    CHECK_INT(res.revision, ==, 2);
    CHECK_INT(store_get(m.s, "/pods/a", &kv), ==, 0);
    CHECK_STR(kv.value, "v2");
    CHECK_INT(kv.value_len, ==, 2);
    CHECK_INT(kv.create_rev, ==, 1);
    CHECK_INT(kv.mod_rev, ==, 2);
    CHECK_INT(kv.version, ==, 2);
    store_kv_clear(&kv);

    /* stale MODREV fails at the right guard and reports the current mod_rev */
    struct store_guard two[] = {{STORE_GUARD_EXISTS, "/pods/a", 0},
                                {STORE_GUARD_MODREV, "/pods/a", 1}};
    t = (struct store_txn){two, 2, &put_a, 1};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    CHECK(!res.succeeded);
    CHECK_INT(res.failed_guard, ==, 1);
    CHECK_INT(res.failed_mod_rev, ==, 2);
    CHECK_INT(store_revision(m.s), ==, 2);

    /* MODREV and EXISTS on a missing key fail with mod_rev 0 */
    struct store_guard missing = {STORE_GUARD_EXISTS, "/pods/zz", 0};
    t = (struct store_txn){&missing, 1, &put_a, 1};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    CHECK(!res.succeeded);
    CHECK_INT(res.failed_mod_rev, ==, 0);

    /* several ops in one txn make one revision; ops apply in order */
    struct store_op multi[] = {{STORE_PUT, "/pods/b", "b1", 2},
                               {STORE_PUT, "/pods/b", "b2", 2},
                               {STORE_DELETE, "/pods/a", NULL, 0},
                               {STORE_DELETE, "/pods/none", NULL, 0}};
    t = (struct store_txn){NULL, 0, multi, 4};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    CHECK(res.succeeded);
    CHECK_INT(res.revision, ==, 3);
    CHECK_INT(store_get(m.s, "/pods/a", &kv), ==, ORC_ENOENT);
    CHECK_INT(store_get(m.s, "/pods/b", &kv), ==, 0);
    CHECK_STR(kv.value, "b2");
    CHECK_INT(kv.create_rev, ==, 3);
    CHECK_INT(kv.mod_rev, ==, 3);
    CHECK_INT(kv.version, ==, 2);
    store_kv_clear(&kv);

    /* re-create after delete starts a new life: version 1 */
    CHECK_INT(put_ok(m.s, "/pods/a", "again"), ==, 4);
    CHECK_INT(store_get(m.s, "/pods/a", &kv), ==, 0);
    CHECK_INT(kv.create_rev, ==, 4);
    CHECK_INT(kv.version, ==, 1);
    store_kv_clear(&kv);

    /* a delete of a missing key still makes a revision (the txn committed) */
    CHECK_INT(del_ok(m.s, "/nothing"), ==, 5);
    CHECK_INT(store_revision(m.s), ==, 5);

    size_t n = 0;
    CHECK_INT(store_count(m.s, "/pods/", &n), ==, 0);
    CHECK_INT(n, ==, 2);
    member_close(&m);
    loop_teardown();
}

TEST(encoded_txn_and_size_limits)
{
    struct member m;
    struct orc_buf b = ORC_BUF_INIT;
    struct txn_wait w = {0};
    size_t big_len = 3u << 20;
    char *big = malloc(big_len);

    CHECK(big != NULL);
    memset(big, 'x', big_len);
    loop_setup();
    member_init(&m, 1);
    single_up(&m);

    struct store_op op = {STORE_PUT, "/enc", "data", 4};
    struct store_txn t = {NULL, 0, &op, 1};
    CHECK_INT(store_txn_encode(&t, &b), ==, 0);
    CHECK_INT(store_txn_encoded(m.s, b.data, b.len, txn_wait_cb, &w), ==, 0);
    orc_buf_free(&b); /* the store copied the bytes */
    CHECK(run_until(txn_done_cond, &w, 5000));
    CHECK_INT(w.status, ==, 0);
    CHECK(w.res.succeeded);
    CHECK_INT(store_txn_encoded(m.s, "garbage", 7, txn_wait_cb, &w), ==, ORC_EPROTO);

    /* a 3 MiB value goes through; over 4 MiB is refused at once */
    op = (struct store_op){STORE_PUT, "/big", big, big_len};
    CHECK_INT(txn_sync(m.s, &t, NULL), ==, 0);
    struct store_kv kv;
    CHECK_INT(store_get(m.s, "/big", &kv), ==, 0);
    CHECK_INT(kv.value_len, ==, big_len);
    store_kv_clear(&kv);
    op.value_len = (4u << 20) + 10;
    big = realloc(big, op.value_len);
    op.value = big;
    CHECK_INT(store_txn(m.s, &t, txn_wait_cb, &w), ==, ORC_ETOOBIG);
    free(big);
    member_close(&m);
    loop_teardown();
}

/* Many txns in flight: each callback sees its own result. */
struct flight {
    int done, failed;
    int64_t last_rev;
    bool out_of_order;
};

static void flight_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct flight *f = arg;
    f->done++;
    if (status != 0 || !res->succeeded) {
        f->failed++;
        return;
    }
    if (res->revision != f->last_rev + 1) f->out_of_order = true;
    f->last_rev = res->revision;
}

static bool flight_done(void *arg) { return ((struct flight *)arg)->done == 20000; }

TEST(many_in_flight_throughput)
{
    struct member m;
    struct flight f = {0};
    char key[64], value[256];
    uint64_t t0;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    memset(value, 'v', sizeof value);
    t0 = test_now_ms();
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "/bench/%05d", i % 1000);
        struct store_op op = {STORE_PUT, key, value, sizeof value};
        struct store_txn t = {NULL, 0, &op, 1};
        CHECK_INT(store_txn(m.s, &t, flight_cb, &f), ==, 0);
        if (i % 256 == 255) uv_run(&test_loop, UV_RUN_NOWAIT);
    }
    CHECK(run_until(flight_done, &f, 60000));
    uint64_t ms = test_now_ms() - t0;
    printf("# single member: 20000 txns in %llu ms = %.0f txn/s\n", (unsigned long long)ms,
           20000.0 * 1000 / (double)(ms ? ms : 1));
    CHECK_INT(f.failed, ==, 0);
    CHECK(!f.out_of_order);
    CHECK_INT(f.last_rev, ==, 20000);
    CHECK_INT(store_revision(m.s), ==, 20000);
    member_close(&m);
    loop_teardown();
}

struct barrier_rec {
    int n;
    int status[8];
    int64_t rev[8];
};

static void barrier_cb(void *arg, int status, int64_t rev)
{
    struct barrier_rec *r = arg;
    r->status[r->n] = status;
    r->rev[r->n] = rev;
    r->n++;
}

static bool barriers_done(void *arg) { return ((struct barrier_rec *)arg)->n == 4; }

TEST(barrier_and_wait_revision)
{
    struct member m;
    struct barrier_rec br = {0};
    struct done w1 = {0}, w2 = {0}, w3 = {0};

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    put_ok(m.s, "/x", "1");
    for (int i = 0; i < 4; i++) CHECK_INT(store_barrier(m.s, barrier_cb, &br), ==, 0);
    CHECK(run_until(barriers_done, &br, 5000));
    for (int i = 0; i < 4; i++) {
        CHECK_INT(br.status[i], ==, 0);
        CHECK_INT(br.rev[i], ==, 1);
    }
    /* already reached: fires inside the call */
    CHECK_INT(store_wait_revision(m.s, 1, 1000, done_cb, &w1), ==, 0);
    CHECK(w1.done);
    CHECK_INT(w1.status, ==, 0);
    /* reached later */
    CHECK_INT(store_wait_revision(m.s, 3, 5000, done_cb, &w2), ==, 0);
    CHECK_INT(store_wait_revision(m.s, 100, 100, done_cb, &w3), ==, 0);
    put_ok(m.s, "/x", "2");
    CHECK(!w2.done);
    put_ok(m.s, "/x", "3");
    CHECK(w2.done);
    CHECK_INT(w2.status, ==, 0);
    uint64_t t0 = test_now_ms();
    CHECK(run_until(done_cond, &w3, 2000));
    CHECK_INT(w3.status, ==, ORC_ETIMEDOUT);
    CHECK(test_now_ms() - t0 < 1000);
    member_close(&m);
    loop_teardown();
}

struct shut {
    int txn_status[3];
    int txn_n;
    int barrier_status;
    int wait_status;
    bool closed;
};

static void shut_txn_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct shut *s = arg;
    (void)res;
    CHECK(!s->closed);
    s->txn_status[s->txn_n++] = status;
}

static void shut_barrier_cb(void *arg, int status, int64_t rev)
{
    (void)rev;
    ((struct shut *)arg)->barrier_status = status;
}

static void shut_wait_cb(void *arg, int status) { ((struct shut *)arg)->wait_status = status; }

static void shut_closed(void *arg) { ((struct shut *)arg)->closed = true; }

TEST(close_fails_pending_with_shutdown)
{
    struct member m;
    struct shut sh = {{0}, 0, 1, 1, false};
    struct store_op op = {STORE_PUT, "/p", "v", 1};
    struct store_txn t = {NULL, 0, &op, 1};

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    for (int i = 0; i < 3; i++) CHECK_INT(store_txn(m.s, &t, shut_txn_cb, &sh), ==, 0);
    CHECK_INT(store_barrier(m.s, shut_barrier_cb, &sh), ==, 0);
    CHECK_INT(store_wait_revision(m.s, 1000, 60000, shut_wait_cb, &sh), ==, 0);
    store_close(m.s, shut_closed, &sh);
    CHECK_INT(sh.txn_n, ==, 3);
    for (int i = 0; i < 3; i++) CHECK_INT(sh.txn_status[i], ==, ORC_ESHUTDOWN);
    CHECK_INT(sh.barrier_status, ==, ORC_ESHUTDOWN);
    CHECK_INT(sh.wait_status, ==, ORC_ESHUTDOWN);
    CHECK_INT(store_txn(m.s, &t, shut_txn_cb, &sh), ==, ORC_ESHUTDOWN);
    CHECK(run_until(flag_set, &sh.closed, 5000));
    loop_teardown();
}

TEST(close_without_start_and_not_leader_refusals)
{
    struct member m;
    struct store_op op = {STORE_PUT, "/p", "v", 1};
    struct store_txn t = {NULL, 0, &op, 1};
    struct txn_wait w = {0};

    loop_setup();
    member_init(&m, 1);
    member_open(&m);
    CHECK_INT(store_txn(m.s, &t, txn_wait_cb, &w), ==, ORC_ENOTLEADER);
    CHECK_INT(store_barrier(m.s, shut_barrier_cb, NULL), ==, ORC_ENOTLEADER);
    CHECK_INT(store_leader(m.s, NULL, NULL), ==, ORC_EUNAVAIL);
    member_close(&m);
    /* started but never bootstrapped: waits to be added, never leads */
    member_open(&m);
    member_start(&m);
    run_for(500);
    CHECK(!store_is_leader(m.s));
    CHECK_INT(store_txn(m.s, &t, txn_wait_cb, &w), ==, ORC_ENOTLEADER);
    member_close(&m);
    loop_teardown();
}

TEST(bad_data_dir_reported)
{
    struct member m;
    char err[256], path[600];
    FILE *f;
    store *s = NULL;

    loop_setup();
    member_init(&m, 1);
    /* data dir is a regular file */
    f = fopen(m.dir, "w");
    CHECK(f != NULL);
    fclose(f);
    int rc = store_open(&test_loop, &m.cfg, &s, err);
    CHECK(rc < 0);
    CHECK(strstr(err, m.dir) != NULL);
    printf("# %s\n", err);
    unlink(m.dir);

    /* a data dir already open elsewhere is refused; missing parents are made */
    snprintf(m.dir, sizeof m.dir, "%s/deep/er/m1", test_tmpdir());
    member_open(&m);
    store *other = NULL;
    rc = store_open(&test_loop, &m.cfg, &other, err);
    CHECK_INT(rc, ==, ORC_EEXIST);
    CHECK(strstr(err, "in use") != NULL);
    printf("# %s\n", err);
    member_close(&m);

    /* corrupt Raft metadata: open or start fails with a message naming it */
    single_up(&m);
    put_ok(m.s, "/k", "v");
    member_close(&m);
    snprintf(path, sizeof path, "%s/raft/metadata1", m.dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("this is not raft metadata at all, not at all", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/raft/metadata2", m.dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("garbage garbage garbage garbage garbage garbage", f);
    fclose(f);
    /* raft reads its metadata at open (raft_init) */
    rc = store_open(&test_loop, &m.cfg, &m.s, err);
    if (rc == 0) {
        rc = store_start(m.s, err);
        member_close(&m);
    }
    printf("# %s\n", err);
    CHECK(rc < 0);
    CHECK(strstr(err, "metadata") != NULL);
    CHECK(strstr(err, m.dir) != NULL);
    loop_teardown();
}

static int role_changes[4];
static int n_role_changes;

static void role_cb(void *arg, bool leader)
{
    (void)arg;
    if (n_role_changes < 4) role_changes[n_role_changes++] = leader;
}

TEST(role_callback_fires)
{
    struct member m;

    loop_setup();
    member_init(&m, 1);
    member_open(&m);
    store_role_watch(m.s, role_cb, NULL);
    member_bootstrap(&m);
    member_start(&m);
    CHECK(run_until(is_leader_cond, &m, 2000));
    CHECK_INT(n_role_changes, ==, 1);
    CHECK_INT(role_changes[0], ==, 1);
    member_close(&m);
    CHECK_INT(n_role_changes, ==, 1); /* no callback once closing */
    loop_teardown();
}

static long rss_kib(void)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

TEST(idle_rss_is_small)
{
    struct member m;
    char key[32], value[1024];

    loop_setup();
    long before = rss_kib();
    member_init(&m, 1);
    single_up(&m);
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "/rss/%04d", i);
        put_ok(m.s, key, value);
    }
    run_for(500);
    long after = rss_kib();
    printf("# RSS: %ld KiB before open, %ld KiB idle with 1000 x 1 KiB keys\n", before, after);
#ifndef __SANITIZE_ADDRESS__ /* ASan's shadow memory and quarantine inflate RSS */
    CHECK(after - before < 32 * 1024);
#endif
    member_close(&m);
    loop_teardown();
}
