/* test_cluster.c — three members on one loop over loopback TCP
 * (127.0.0.11-14): replication, follower reads after a revision wait,
 * writes refused on followers, leader failover and rejoin, a fresh member
 * caught up by snapshot install, member removal, throughput. */
#include "tests/store/util.h"

static void barrier_cb(void *arg, int status, int64_t rev)
{
    (void)arg, (void)status, (void)rev;
}

/* Raft election timeout for cluster_up, when not 0 (the default is short,
 * for fast failovers). */
static unsigned election_ms;

/* Members 1..n up, 1 bootstrapped and leading, the others added as voters. */
static void cluster_up(struct member *ms, int n, unsigned threshold, unsigned trailing)
{
    for (int i = 0; i < n; i++) {
        member_init(&ms[i], i + 1);
        ms[i].cfg.snapshot_threshold = threshold;
        ms[i].cfg.snapshot_trailing = trailing;
        if (election_ms) ms[i].cfg.election_timeout_ms = election_ms;
        member_open(&ms[i]);
    }
    members_up(ms, n, 5000);
}

static void cluster_down(struct member *ms, int n)
{
    for (int i = 0; i < n; i++) member_close(&ms[i]);
}

static void fill(store *s, int n, const char *tag)
{
    char key[32], val[64];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "/f/%03d", i % 50);
        snprintf(val, sizeof val, "%s-%d", tag, i);
        put_ok(s, key, val);
    }
}

struct counter {
    int n;
    int64_t last;
    bool in_order;
};

static void count_cb(void *arg, const struct store_event *ev, int err)
{
    struct counter *c = arg;
    (void)err;
    if (ev == NULL) return;
    if (ev->revision != c->last + 1 && c->n > 0) c->in_order = false;
    c->last = ev->revision;
    c->n++;
}

TEST_T(replicate_and_follower_reads, 120)
{
    struct member ms[3];
    struct store_member *list;
    size_t n;
    char *v;

    loop_setup();
    cluster_up(ms, 3, 0, 0);
    CHECK_INT(store_members(ms[0].s, &list, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(list[i].role, ==, STORE_ROLE_VOTER);
        CHECK_STR(list[i].address, ms[list[i].id - 1].addr);
    }
    free(list);

    int64_t rev = put_ok(ms[0].s, "/k", "hello");
    for (int i = 1; i < 3; i++) {
        CHECK_INT(wait_rev(ms[i].s, rev, 5000), ==, 0);
        v = get_value(ms[i].s, "/k");
        CHECK(v != NULL);
        CHECK_STR(v, "hello");
        free(v);
        uint64_t lid = 0;
        const char *addr = NULL;
        CHECK_INT(store_leader(ms[i].s, &lid, &addr), ==, 0);
        CHECK_INT(lid, ==, 1);
        CHECK_STR(addr, ms[0].addr);
        CHECK(!store_is_leader(ms[i].s));
    }
    /* writes and barriers on a follower are refused at once */
    struct store_op op = {STORE_PUT, "/k", "x", 1};
    struct store_txn t = {NULL, 0, &op, 1};
    CHECK_INT(store_txn(ms[1].s, &t, txn_wait_cb, NULL), ==, ORC_ENOTLEADER);
    CHECK_INT(store_barrier(ms[2].s, barrier_cb, NULL), ==, ORC_ENOTLEADER);
    CHECK_INT(store_add_member(ms[1].s, 9, "127.0.0.19:1", done_cb, NULL), ==, ORC_ENOTLEADER);

    /* a watch on a follower sees the leader's writes, in order */
    struct counter c = {0, 0, true};
    store_watch *w;
    CHECK_INT(store_watch_start(ms[2].s, "/f/", store_revision(ms[2].s), count_cb, &c, &w), ==, 0);
    fill(ms[0].s, 200, "a");
    rev = store_revision(ms[0].s);
    for (int i = 1; i < 3; i++) {
        CHECK_INT(wait_rev(ms[i].s, rev, 5000), ==, 0);
        check_same(ms[0].s, ms[i].s, "members");
    }
    CHECK_INT(c.n, ==, 200);
    CHECK(c.in_order);
    store_watch_stop(w);
    cluster_down(ms, 3);
    loop_teardown();
}

struct flight {
    int done, failed;
};

static void flight_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct flight *f = arg;
    f->done++;
    if (status != 0 || !res->succeeded) f->failed++;
}

static bool flight_done(void *arg) { return ((struct flight *)arg)->done == 20000; }

TEST_T(three_member_throughput, 120)
{
    struct member ms[3];
    struct flight f = {0};
    char key[64], value[256];

    loop_setup();
    /* Three members share this loop: a burst of 20,000 txns makes its
     * iterations long, and each message crosses it several times (TLS
     * relays): leave room so the leader is not deposed on a loaded machine. */
    election_ms = 1500;
    cluster_up(ms, 3, 0, 0);
    memset(value, 'v', sizeof value);
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "/bench/%05d", i % 1000);
        struct store_op op = {STORE_PUT, key, value, sizeof value};
        struct store_txn t = {NULL, 0, &op, 1};
        CHECK_INT(store_txn(ms[0].s, &t, flight_cb, &f), ==, 0);
        if (i % 256 == 255) uv_run(&test_loop, UV_RUN_NOWAIT);
    }
    CHECK(run_until(flight_done, &f, 90000));
    uint64_t ms_ = test_now_ms() - t0;
    printf("# three members: 20000 txns in %llu ms = %.0f txn/s\n", (unsigned long long)ms_,
           20000.0 * 1000 / (double)(ms_ ? ms_ : 1));
    CHECK_INT(f.failed, ==, 0);
    int64_t rev = store_revision(ms[0].s);
    for (int i = 1; i < 3; i++) CHECK_INT(wait_rev(ms[i].s, rev, 10000), ==, 0);
    cluster_down(ms, 3);
    loop_teardown();
}

TEST_T(failover_and_rejoin, 120)
{
    struct member ms[3];
    char *v;

    loop_setup();
    cluster_up(ms, 3, 64, 16);
    fill(ms[0].s, 100, "before");
    uint64_t t0 = test_now_ms();
    member_close(&ms[0]);

    int l = wait_leader(ms, 3, 10000);
    CHECK(l == 1 || l == 2);
    printf("# new leader: member %d, %llu ms after the old one closed (election timeout %u ms)\n",
           l + 1, (unsigned long long)(test_now_ms() - t0), ms[1].cfg.election_timeout_ms);
    int64_t rev = put_ok(ms[l].s, "/after", "failover");
    fill(ms[l].s, 200, "after"); /* enough for snapshots while member 1 is away */
    rev = store_revision(ms[l].s);

    /* the old leader comes back as a follower and catches up */
    member_open(&ms[0]);
    member_start(&ms[0]);
    CHECK_INT(wait_rev(ms[0].s, rev, 20000), ==, 0);
    v = get_value(ms[0].s, "/after");
    CHECK(v != NULL);
    CHECK_STR(v, "failover");
    free(v);
    check_same(ms[l].s, ms[0].s, "members");
    CHECK(!store_is_leader(ms[0].s));

    /* and it keeps following new writes */
    rev = put_ok(ms[l].s, "/later", "x");
    CHECK_INT(wait_rev(ms[0].s, rev, 5000), ==, 0);
    cluster_down(ms, 3);
    loop_teardown();
}

static void end_cb(void *arg, const struct store_event *ev, int err)
{
    if (ev == NULL) *(int *)arg = err;
}

TEST_T(fresh_member_by_snapshot_then_remove, 120)
{
    struct member ms[4];
    int ended = 0;
    store_watch *w;

    loop_setup();
    cluster_up(ms, 3, 32, 8);
    fill(ms[0].s, 500, "x");
    int64_t rev = store_revision(ms[0].s);

    /* member 4 starts empty; its log starts long after the leader's trailing */
    member_init(&ms[3], 4);
    ms[3].cfg.snapshot_threshold = 32;
    ms[3].cfg.snapshot_trailing = 8;
    member_open(&ms[3]);
    CHECK(store_is_fresh(ms[3].s));
    member_start(&ms[3]);
    CHECK_INT(store_watch_start(ms[3].s, "", 0, end_cb, &ended, &w), ==, 0);
    add_member(&ms[0], &ms[3], 20000);
    CHECK_INT(wait_rev(ms[3].s, rev, 20000), ==, 0);
    check_same(ms[0].s, ms[3].s, "members");
    /* the install reset its history: the early watch was told to re-list */
    CHECK_INT(ended, ==, ORC_ECOMPACTED);
    CHECK(store_compact_revision(ms[3].s) > 0);

    struct store_member *list;
    size_t n;
    CHECK_INT(store_members(ms[0].s, &list, &n), ==, 0);
    CHECK_INT(n, ==, 4);
    free(list);

    /* remove member 3: the other three go on */
    struct done d = {0};
    CHECK_INT(store_remove_member(ms[0].s, 3, done_cb, &d), ==, 0);
    CHECK(run_until(done_cond, &d, 10000));
    CHECK_INT(d.status, ==, 0);
    CHECK_INT(store_members(ms[0].s, &list, &n), ==, 0);
    CHECK_INT(n, ==, 3);
    for (size_t i = 0; i < n; i++) CHECK(list[i].id != 3);
    free(list);
    CHECK_INT(store_remove_member(ms[0].s, 3, done_cb, &d), ==, ORC_ENOENT);
    member_close(&ms[2]);
    rev = put_ok(ms[0].s, "/after-remove", "y");
    CHECK_INT(wait_rev(ms[3].s, rev, 5000), ==, 0);
    cluster_down(ms, 4);
    loop_teardown();
}
