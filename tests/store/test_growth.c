/* test_growth.c — under endless churn the data dir stays within a small
 * multiple of the live data: 200,000 updates over 1,000 keys (1 KiB values,
 * 64 in flight) against the size after the first 1,000 puts. */
#include "tests/store/util.h"

enum { KEYS = 1000, UPDATES = 200000, IN_FLIGHT = 64, VALUE = 1024 };

struct churn {
    store *s;
    int submitted, done, failed;
    int limit; /* submit up to this many */
    char value[VALUE];
};

static void submit_one(struct churn *c);

static void churn_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct churn *c = arg;

    c->done++;
    if (status != 0 || !res->succeeded) c->failed++;
    while (c->submitted < c->limit && c->submitted - c->done < IN_FLIGHT) submit_one(c);
}

static void submit_one(struct churn *c)
{
    char key[32];
    int i = c->submitted++;

    snprintf(key, sizeof key, "/churn/%04d", i % KEYS);
    memcpy(c->value, &i, sizeof i); /* distinct values defeat compression */
    for (size_t k = sizeof i; k + 4 <= VALUE; k += 4) {
        uint32_t x = (uint32_t)i * 2654435761u + (uint32_t)k * 40503u;
        memcpy(c->value + k, &x, 4);
    }
    struct store_op op = {STORE_PUT, key, c->value, VALUE};
    struct store_txn t = {NULL, 0, &op, 1};
    CHECK_INT(store_txn(c->s, &t, churn_cb, c), ==, 0);
}

static bool reached(void *arg)
{
    struct churn *c = arg;
    return c->done == c->limit;
}

TEST_T(bounded_growth_under_churn, 300)
{
    struct member m;
    static struct churn c;

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    c.s = m.s;
    c.limit = KEYS; /* the first 1,000 puts, then measure */
    while (c.submitted < c.limit && c.submitted - c.done < IN_FLIGHT) submit_one(&c);
    CHECK(run_until(reached, &c, 60000));
    unsigned long long base = du_bytes(m.dir), peak = base;
    printf("# after %d puts: %llu KiB\n", KEYS, base / 1024);

    uint64_t t0 = test_now_ms();
    c.limit = UPDATES;
    while (c.submitted < c.limit && c.submitted - c.done < IN_FLIGHT) submit_one(&c);
    while (!reached(&c)) {
        run_for(250);
        unsigned long long now = du_bytes(m.dir);
        if (now > peak) peak = now;
    }
    uint64_t ms = test_now_ms() - t0;
    unsigned long long end = du_bytes(m.dir);
    printf("# after %d updates: %llu KiB (peak %llu KiB, %.2fx / %.2fx of base) in %llu ms, "
           "%.0f txn/s\n",
           UPDATES, end / 1024, peak / 1024, (double)end / (double)base,
           (double)peak / (double)base, (unsigned long long)ms,
           (UPDATES - KEYS) * 1000.0 / (double)(ms ? ms : 1));
    CHECK_INT(c.failed, ==, 0);
    CHECK_INT(store_revision(m.s), ==, UPDATES);
    size_t n = 0;
    CHECK_INT(store_count(m.s, "/churn/", &n), ==, 0);
    CHECK_INT(n, ==, KEYS);
    CHECK(end < 3 * base);
    CHECK(peak < 3 * base);
    member_close(&m);
    loop_teardown();
}
