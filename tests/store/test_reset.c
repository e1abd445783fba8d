/* test_reset.c — quorum loss: one surviving member of a three-member
 * cluster is reset into a one-member cluster that keeps all the data. */
#include "tests/store/util.h"

TEST_T(reset_cluster_keeps_data, 120)
{
    struct member ms[3];
    char key[32], val[32], err[256];
    struct store_member *list;
    size_t n;

    loop_setup();
    for (int i = 0; i < 3; i++) {
        member_init(&ms[i], i + 1);
        ms[i].cfg.snapshot_threshold = 64;
        ms[i].cfg.snapshot_trailing = 16;
        member_open(&ms[i]);
    }
    members_up(ms, 3, 5000);
    for (int i = 0; i < 150; i++) {
        snprintf(key, sizeof key, "/r/%02d", i % 40);
        snprintf(val, sizeof val, "v%d", i);
        put_ok(ms[0].s, key, val);
    }
    int64_t rev = store_revision(ms[0].s);
    CHECK_INT(wait_rev(ms[1].s, rev, 5000), ==, 0);
    for (int i = 0; i < 3; i++) member_close(&ms[i]);

    /* only member 2 survives; alone it cannot elect itself */
    member_open(&ms[1]);
    CHECK_INT(store_bootstrap(ms[1].s, err), ==, ORC_EEXIST);
    CHECK_INT(store_reset_cluster(ms[1].s, err), ==, 0);
    member_start(&ms[1]);
    CHECK_INT(store_reset_cluster(ms[1].s, err), ==, ORC_EINVAL);
    CHECK(run_until(is_leader_cond, &ms[1], 5000));
    CHECK(store_revision(ms[1].s) >= rev);
    for (int i = 110; i < 150; i++) {
        snprintf(key, sizeof key, "/r/%02d", i % 40);
        snprintf(val, sizeof val, "v%d", i);
        char *v = get_value(ms[1].s, key);
        CHECK(v != NULL);
        CHECK_STR(v, val);
        free(v);
    }
    CHECK_INT(store_members(ms[1].s, &list, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(list[0].id, ==, 2);
    CHECK_STR(list[0].address, ms[1].addr);
    free(list);
    int64_t r2 = put_ok(ms[1].s, "/after", "reset");
    CHECK_INT(r2, ==, store_revision(ms[1].s));

    /* and it restarts as a one-member cluster */
    member_close(&ms[1]);
    member_open(&ms[1]);
    member_start(&ms[1]);
    CHECK(run_until(is_leader_cond, &ms[1], 5000));
    CHECK_INT(store_revision(ms[1].s), ==, r2);
    member_close(&ms[1]);
    loop_teardown();
}
