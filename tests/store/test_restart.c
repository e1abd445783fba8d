/* test_restart.c — closing and reopening a data dir brings back every key
 * and the revision, through log replay alone and through snapshot + log;
 * state.db is rebuilt at each start. */
#include "tests/store/util.h"

static void fill(store *s, int n, int keys)
{
    char key[32], val[64];

    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "/d/%03d", i % keys);
        snprintf(val, sizeof val, "value-%d", i);
        if (i % 11 == 10)
            del_ok(s, key);
        else
            put_ok(s, key, val);
    }
}

static void restart_keeps_everything(unsigned threshold, unsigned trailing, int n)
{
    struct member m;
    char *before, *after;

    loop_setup();
    member_init(&m, 1);
    m.cfg.snapshot_threshold = threshold;
    m.cfg.snapshot_trailing = trailing;
    single_up(&m);
    fill(m.s, n, 40);
    int64_t rev = store_revision(m.s);
    before = dump(m.s);
    member_close(&m);

    for (int round = 0; round < 2; round++) {
        member_open(&m);
        CHECK(!store_is_fresh(m.s));
        member_start(&m);
        CHECK(run_until(is_leader_cond, &m, 5000));
        CHECK_INT(store_revision(m.s), ==, rev);
        after = dump(m.s);
        CHECKF(strcmp(before, after) == 0, "state differs after restart:\n%s\nvs\n%s", before,
               after);
        free(after);
        /* writes continue from the restored revision */
        rev = put_ok(m.s, "/after", "restart");
        CHECK_INT(rev, ==, store_revision(m.s));
        free(before);
        before = dump(m.s);
        member_close(&m);
    }
    free(before);
    loop_teardown();
}

TEST(restart_log_replay_only) { restart_keeps_everything(100000, 100000, 300); }

TEST(restart_snapshot_and_log) { restart_keeps_everything(32, 8, 300); }

static void count_events(void *arg, const struct store_event *ev, int err)
{
    (void)err;
    if (ev) (*(int *)arg)++;
}

TEST(restart_history_is_compacted)
{
    int n = 0;
    struct member m;
    store_watch *w;

    loop_setup();
    member_init(&m, 1);
    m.cfg.snapshot_threshold = 16;
    m.cfg.snapshot_trailing = 4;
    single_up(&m);
    fill(m.s, 100, 10);
    member_close(&m);
    member_open(&m);
    member_start(&m);
    CHECK(run_until(is_leader_cond, &m, 5000));
    /* history restarts at the snapshot: older watches must re-list */
    int64_t compact = store_compact_revision(m.s);
    CHECK(compact > 0);
    CHECK(compact <= store_revision(m.s));
    CHECK_INT(store_watch_start(m.s, "", 0, count_events, &n, &w), ==, ORC_ECOMPACTED);
    CHECK_INT(store_watch_start(m.s, "", compact, count_events, &n, &w), ==, 0);
    CHECK_INT(n, ==, store_revision(m.s) - compact); /* replayed entries are retained */
    store_watch_stop(w);
    member_close(&m);
    loop_teardown();
}
