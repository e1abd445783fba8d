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

/* A Service's clusterIP and two nodePorts in one op: addresses and ports
 * pools, distinct values from one pool, and a full pool without value_none
 * failing the txn (nothing written, failed_guard -1). */
static void svc_put(struct member *m, const char *key, struct store_txn_result *res)
{
    struct store_alloc a = {"{\"ip\":\"@I@\",\"p\":[@P1@,@P2@]}", 29, NULL, 0,
                            "ip:10.96.0.0/30", 32, "/orc/serviceips/", "@I@",
                            {{"port:30000-30002", 32, "/orc/nodeports/", "@P1@"},
                             {"port:30000-30002", 32, "/orc/nodeports/", "@P2@"}},
                            2};
    struct orc_buf v = ORC_BUF_INIT;
    CHECK_INT(store_alloc_value(&a, &v), ==, 0);
    struct store_op op = {STORE_PUT_ALLOC, key, v.data, v.len};
    struct store_txn t = {NULL, 0, &op, 1};
    CHECK_INT(txn_sync(m->s, &t, res), ==, 0);
    orc_buf_free(&v);
}

TEST(alloc_several_slots_and_a_full_pool_fails)
{
    struct member m;
    struct store_txn_result res;
    struct store_kv kv;
    size_t n;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    svc_put(&m, "/svc/a", &res);
    CHECK(res.succeeded);
    CHECK_STR(res.block, "10.96.0.1,30000,30001");
    check_value(&m, "/svc/a", "{\"ip\":\"10.96.0.1\",\"p\":[30000,30001]}");
    check_value(&m, "/orc/nodeports/30001", "/svc/a");
    /* Only 30002 is left for two ports: the txn fails, nothing is kept. */
    svc_put(&m, "/svc/b", &res);
    CHECK(!res.succeeded);
    CHECK_INT(res.failed_guard, ==, -1);
    CHECK_STR(res.block, "");
    CHECK_INT(store_get(m.s, "/svc/b", &kv), ==, ORC_ENOENT);
    CHECK_INT(store_count(m.s, "/orc/serviceips/", &n), ==, 0);
    CHECK_INT(n, ==, 1);
    CHECK_INT(store_count(m.s, "/orc/nodeports/", &n), ==, 0);
    CHECK_INT(n, ==, 2);
    member_close(&m);
    loop_teardown();
}

/* The search starts where the last one ended (a hint kept in memory), yet
 * always finds the lowest free value: after a delete, and after a txn that
 * reserved a value by hand and then failed (rolled back, the hand-reserved
 * value is free again), as a member without any hint (restarted) would. */
TEST(alloc_hint_never_skips_a_free_value)
{
    struct member m;
    struct store_txn_result res;
    char key[32];

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "/nodes/n%d", i);
        alloc_put(&m, key, &res, NULL);
    }
    CHECK_STR(res.block, ""); /* /29 in /30s: two blocks only */

    /* one block freed: handed out again */
    struct store_op del = {STORE_DELETE, "/orc/podcidrs/10.9.0.0/30", NULL, 0};
    struct store_txn t = {NULL, 0, &del, 1};
    CHECK_INT(txn_sync(m.s, &t, &res), ==, 0);
    alloc_put(&m, "/nodes/x", &res, NULL);
    CHECK_STR(res.block, "10.9.0.0/30");

    /* a Service pool (10.96.0.1-2, ports 30000-30002): a gets .1 and
     * 30000/30001; .1 freed. Then one txn reserves .1 by hand and
     * allocates (.2; only one port left for two: rolled back). .1 is free
     * again and must be the next one handed out, whatever the search
     * remembered of .2. */
    svc_put(&m, "/svc/a", &res);
    CHECK_STR(res.block, "10.96.0.1,30000,30001");
    struct store_op del_ip = {STORE_DELETE, "/orc/serviceips/10.96.0.1", NULL, 0};
    struct store_txn t4 = {NULL, 0, &del_ip, 1};
    CHECK_INT(txn_sync(m.s, &t4, &res), ==, 0);
    struct store_op ops[2] = {{STORE_PUT, "/orc/serviceips/10.96.0.1", "/svc/z", 6}, {0}};
    struct store_alloc a = {"{\"ip\":\"@I@\",\"p\":[@P1@,@P2@]}", 29, NULL, 0,
                            "ip:10.96.0.0/30", 32, "/orc/serviceips/", "@I@",
                            {{"port:30000-30002", 32, "/orc/nodeports/", "@P1@"},
                             {"port:30000-30002", 32, "/orc/nodeports/", "@P2@"}},
                            2};
    struct orc_buf v = ORC_BUF_INIT;
    CHECK_INT(store_alloc_value(&a, &v), ==, 0);
    ops[1] = (struct store_op){STORE_PUT_ALLOC, "/svc/b", v.data, v.len};
    struct store_txn t2 = {NULL, 0, ops, 2};
    CHECK_INT(txn_sync(m.s, &t2, &res), ==, 0);
    CHECK(!res.succeeded);
    orc_buf_free(&v);
    struct store_kv kv;
    CHECK_INT(store_get(m.s, "/orc/serviceips/10.96.0.1", &kv), ==, ORC_ENOENT);
    struct store_op free_ports[2] = {{STORE_DELETE, "/orc/nodeports/30000", NULL, 0},
                                     {STORE_DELETE, "/orc/nodeports/30001", NULL, 0}};
    struct store_txn t3 = {NULL, 0, free_ports, 2};
    CHECK_INT(txn_sync(m.s, &t3, &res), ==, 0);
    svc_put(&m, "/svc/c", &res);
    CHECK_STR(res.block, "10.96.0.1,30000,30001");
    member_close(&m);
    loop_teardown();
}
