/* test_alloc.c — STORE_PUT_ALLOC applied by the FSM: the lowest free block
 * of the range goes into the value and is reserved in the same revision; a
 * freed block is handed out again; an exhausted range stores value_none
 * and reserves nothing; the reservation follows the guards' verdict. */
#include "tests/store/util.h"

static void alloc_put(struct member *m, const char *key, struct store_txn_result *res,
                      const struct store_guard *guard)
{
    struct store_alloc a = {"{\"cidr\":\"@B@\",\"cidrs\":[\"@B@\"]}", 30, "{}", 2,
                            "10.9.0.0/29", 30, "/orc/podcidrs/", "@B@", {{0}}, 0};
    struct orc_buf v = ORC_BUF_INIT;
    CHECK_INT(store_alloc_value(&a, &v), ==, 0);
    struct store_op op = {STORE_PUT_ALLOC, key, v.data, v.len};
    struct store_txn t = {guard, guard ? 1 : 0, &op, 1};
    CHECK_INT(txn_sync(m->s, &t, res), ==, 0);
    orc_buf_free(&v);
}

static void check_value(struct member *m, const char *key, const char *want)
{
    struct store_kv kv;
    CHECK_INT(store_get(m->s, key, &kv), ==, 0);
    CHECK_STR(kv.value, want);
    store_kv_clear(&kv);
}

TEST(alloc_hands_out_lowest_free_block)
{
    struct member m;
    struct store_txn_result res;
    struct store_kv kv;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    alloc_put(&m, "/nodes/a", &res, NULL);
    CHECK(res.succeeded);
    CHECK_STR(res.block, "10.9.0.0/30");
    check_value(&m, "/nodes/a", "{\"cidr\":\"10.9.0.0/30\",\"cidrs\":[\"10.9.0.0/30\"]}");
    check_value(&m, "/orc/podcidrs/10.9.0.0/30", "/nodes/a");
    CHECK_INT(store_get(m.s, "/orc/podcidrs/10.9.0.0/30", &kv), ==, 0);
    CHECK_INT(kv.mod_rev, ==, res.revision);
    store_kv_clear(&kv);

    alloc_put(&m, "/nodes/b", &res, NULL);
    CHECK_STR(res.block, "10.9.0.4/30");
    alloc_put(&m, "/nodes/c", &res, NULL);
    CHECK(res.succeeded);
    CHECK_STR(res.block, "");
    check_value(&m, "/nodes/c", "{}");
    size_t n;
    CHECK_INT(store_count(m.s, "/orc/podcidrs/", &n), ==, 0);
    CHECK_INT(n, ==, 2);

    /* A failed guard allocates nothing. */
    struct store_guard absent = {STORE_GUARD_ABSENT, "/nodes/a", 0};
    struct store_op del = {STORE_DELETE, "/orc/podcidrs/10.9.0.0/30", NULL, 0};
    struct store_txn t = {NULL, 0, &del, 1};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    alloc_put(&m, "/nodes/a", &res, &absent);
    CHECK(!res.succeeded);
    CHECK_STR(res.block, "");
    CHECK_INT(store_count(m.s, "/orc/podcidrs/", &n), ==, 0);
    CHECK_INT(n, ==, 1);
    alloc_put(&m, "/nodes/d", &res, NULL);
    CHECK_STR(res.block, "10.9.0.0/30");
    member_close(&m);
    loop_teardown();
}
