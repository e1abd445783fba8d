/* test_range.c — store_range: prefixes, paging with start_after/limit,
 * more/remaining, and pages at a past revision that stay one snapshot while
 * later puts and deletes land. */
#include "tests/store/util.h"

static void check_keys(const struct store_list *l, const char *const *want, size_t n)
{
    CHECK_INT(l->n, ==, n);
    for (size_t i = 0; i < n; i++) CHECK_STR(l->kvs[i].key, want[i]);
}

TEST(prefix_limit_and_paging)
{
    struct member m;
    struct store_list l;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    put_ok(m.s, "/pods/ns1/a", "1");
    put_ok(m.s, "/pods/ns1/b", "2");
    put_ok(m.s, "/pods/ns1/c", "3");
    put_ok(m.s, "/pods/ns2/a", "4");
    put_ok(m.s, "/pods/ns10/a", "5");
    put_ok(m.s, "/podsX", "6");
    put_ok(m.s, "/nodes/n1", "7");

    CHECK_INT(store_range(m.s, "/pods/ns1/", NULL, 0, 0, &l), ==, 0);
    check_keys(&l, (const char *[]){"/pods/ns1/a", "/pods/ns1/b", "/pods/ns1/c"}, 3);
    CHECK(!l.more);
    CHECK_INT(l.revision, ==, 7);
    CHECK_STR(l.kvs[1].value, "2");
    CHECK_INT(l.kvs[1].mod_rev, ==, 2);
    store_list_clear(&l);

    CHECK_INT(store_range(m.s, "/pods/", NULL, 0, 2, &l), ==, 0);
    check_keys(&l, (const char *[]){"/pods/ns1/a", "/pods/ns1/b"}, 2);
    CHECK(l.more);
    CHECK_INT(l.remaining, ==, 3);
    store_list_clear(&l);

    CHECK_INT(store_range(m.s, "/pods/", "/pods/ns1/b", 0, 2, &l), ==, 0);
    check_keys(&l, (const char *[]){"/pods/ns1/c", "/pods/ns10/a"}, 2);
    CHECK(l.more);
    CHECK_INT(l.remaining, ==, 1);
    store_list_clear(&l);

    CHECK_INT(store_range(m.s, "/pods/", "/pods/ns10/a", 0, 2, &l), ==, 0);
    check_keys(&l, (const char *[]){"/pods/ns2/a"}, 1);
    CHECK(!l.more);
    store_list_clear(&l);

    /* exactly limit keys left: no more */
    CHECK_INT(store_range(m.s, "/pods/ns1/", NULL, 0, 3, &l), ==, 0);
    CHECK_INT(l.n, ==, 3);
    CHECK(!l.more);
    CHECK_INT(l.remaining, ==, 0);
    store_list_clear(&l);

    /* empty prefix: everything */
    CHECK_INT(store_range(m.s, "", NULL, 0, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 7);
    CHECK_STR(l.kvs[0].key, "/nodes/n1");
    store_list_clear(&l);
    CHECK_INT(store_range(m.s, "/none/", NULL, 0, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 0);
    store_list_clear(&l);

    /* a prefix ending in 0xFF bytes still bounds the range correctly */
    put_ok(m.s, "/x\xff\xff" "a", "8");
    put_ok(m.s, "/y", "9");
    CHECK_INT(store_range(m.s, "/x\xff\xff", NULL, 0, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 1);
    store_list_clear(&l);
    CHECK_INT(store_range(m.s, "/x\xff", NULL, 0, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 1);
    store_list_clear(&l);

    size_t n = 0;
    CHECK_INT(store_count(m.s, "/pods/", &n), ==, 0);
    CHECK_INT(n, ==, 5);
    member_close(&m);
    loop_teardown();
}

TEST(range_at_past_revision)
{
    struct member m;
    struct store_list l;
    char key[32], val[32];

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "/r/%02d", i);
        snprintf(val, sizeof val, "v%d", i);
        put_ok(m.s, key, val);
    }
    int64_t r0 = store_revision(m.s); /* 10 keys, all v<i> */

    /* first page at r0 */
    CHECK_INT(store_range(m.s, "/r/", NULL, 0, 4, &l), ==, 0);
    CHECK_INT(l.revision, ==, r0);
    CHECK_INT(l.remaining, ==, 6);
    store_list_clear(&l);

    /* churn: update, delete, create before and after the page boundary */
    put_ok(m.s, "/r/05", "changed");
    put_ok(m.s, "/r/05", "changed twice");
    del_ok(m.s, "/r/06");
    del_ok(m.s, "/r/01");
    put_ok(m.s, "/r/045", "new");
    put_ok(m.s, "/r/99", "new");
    del_ok(m.s, "/r/045");
    put_ok(m.s, "/s/other", "x");

    /* next page at r0 still shows the old snapshot */
    CHECK_INT(store_range(m.s, "/r/", "/r/03", r0, 4, &l), ==, 0);
    CHECK_INT(l.revision, ==, r0);
    check_keys(&l, (const char *[]){"/r/04", "/r/05", "/r/06", "/r/07"}, 4);
    CHECK_STR(l.kvs[1].value, "v5");
    CHECK_INT(l.kvs[1].mod_rev, ==, 6);
    CHECK_INT(l.kvs[1].version, ==, 1);
    CHECK_STR(l.kvs[2].value, "v6");
    CHECK(l.more);
    CHECK_INT(l.remaining, ==, 2);
    store_list_clear(&l);

    CHECK_INT(store_range(m.s, "/r/", NULL, r0, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 10);
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "/r/%02d", i);
        snprintf(val, sizeof val, "v%d", i);
        CHECK_STR(l.kvs[i].key, key);
        CHECK_STR(l.kvs[i].value, val);
    }
    CHECK(!l.more);
    store_list_clear(&l);

    /* an intermediate revision: after the first update of /r/05 only */
    CHECK_INT(store_range(m.s, "/r/05", NULL, r0 + 1, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 1);
    CHECK_STR(l.kvs[0].value, "changed");
    CHECK_INT(l.kvs[0].version, ==, 2);
    store_list_clear(&l);

    /* the current state for comparison */
    CHECK_INT(store_range(m.s, "/r/", NULL, 0, 0, &l), ==, 0);
    check_keys(&l, (const char *[]){"/r/00", "/r/02", "/r/03", "/r/04", "/r/05", "/r/07",
                                    "/r/08", "/r/09", "/r/99"},
               9);
    store_list_clear(&l);

    /* above the current revision */
    CHECK_INT(store_range(m.s, "/r/", NULL, store_revision(m.s) + 1, 0, &l), ==, ORC_EINVAL);
    member_close(&m);
    loop_teardown();
}

TEST(compacted_revision_refused)
{
    struct member m;
    struct store_list l;
    char key[32];

    loop_setup();
    member_init(&m, 1);
    m.cfg.watch_history = 16;
    single_up(&m);
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "/c/%d", i % 5);
        put_ok(m.s, key, "v");
    }
    int64_t compact = store_compact_revision(m.s);
    CHECK_INT(compact, ==, 40 - 16);
    CHECK_INT(store_range(m.s, "/c/", NULL, compact - 1, 0, &l), ==, ORC_ECOMPACTED);
    CHECK_INT(store_range(m.s, "/c/", NULL, compact, 0, &l), ==, 0);
    CHECK_INT(l.n, ==, 5);
    CHECK_INT(l.revision, ==, compact);
    store_list_clear(&l);
    member_close(&m);
    loop_teardown();
}

/* Many random ops, then every past revision in the window is checked
 * against a model built from the same ops. */
TEST(range_at_revision_matches_model)
{
    enum { KEYS = 30, OPS = 400 };
    struct member m;
    static char model[OPS + 1][KEYS][16]; /* value per key per revision; "" = absent */
    char key[32];
    unsigned seed = 12345;

    loop_setup();
    member_init(&m, 1);
    m.cfg.watch_history = 2 * OPS;
    single_up(&m);
    for (int r = 1; r <= OPS; r++) {
        int k = (int)((seed = seed * 1103515245 + 12345) >> 8) % KEYS;
        bool del = ((seed >> 4) % 4) == 0;
        memcpy(model[r], model[r - 1], sizeof model[r]);
        snprintf(key, sizeof key, "/m/%02d", k);
        if (del) {
            del_ok(m.s, key);
            model[r][k][0] = '\0';
        } else {
            snprintf(model[r][k], sizeof model[r][k], "r%d", r);
            put_ok(m.s, key, model[r][k]);
        }
    }
    for (int r = 1; r <= OPS; r += 7) {
        for (size_t limit = 0; limit <= 7; limit += 7) {
            const char *after = NULL;
            char after_buf[32];
            int k = 0, pages = 0;
            for (;;) {
                struct store_list l;
                CHECK_INT(store_range(m.s, "/m/", after, r, limit, &l), ==, 0);
                for (size_t i = 0; i < l.n; i++) {
                    while (k < KEYS && model[r][k][0] == '\0') k++;
                    CHECK(k < KEYS);
                    snprintf(key, sizeof key, "/m/%02d", k);
                    CHECK_STR(l.kvs[i].key, key);
                    CHECK_STR(l.kvs[i].value, model[r][k]);
                    k++;
                }
                bool more = l.more;
                size_t remaining = l.remaining;
                if (l.n) snprintf(after_buf, sizeof after_buf, "%s", l.kvs[l.n - 1].key);
                after = after_buf;
                store_list_clear(&l);
                pages++;
                int left = 0;
                for (int j = k; j < KEYS; j++) left += model[r][j][0] != '\0';
                CHECK_INT(more, ==, left > 0);
                if (!more) break;
                CHECK_INT(remaining, ==, left);
            }
            while (k < KEYS && model[r][k][0] == '\0') k++;
            CHECK_INT(k, ==, KEYS);
            CHECK(pages >= 1);
        }
    }
    member_close(&m);
    loop_teardown();
}
