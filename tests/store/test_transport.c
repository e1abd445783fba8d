/* test_transport.c — the store's Raft transport (mutual TLS between
 * members): a store refuses to open without a member certificate of its
 * own id; large entries (past the relay's back-pressure bounds) replicate
 * intact; a member whose certificate comes from another CA is never
 * reached, and the cluster keeps serving; a plaintext store (benchmark
 * only) still works. */
#include <sys/resource.h>

#include "tests/store/util.h"

static void expect_refused(struct member *m, const char *why)
{
    char err[256] = "";
    store *s = NULL;
    int rc = store_open(&test_loop, &m->cfg, &s, err);

    CHECKF(rc == ORC_EINVAL, "%s: store_open gave %s (%s)", why, orc_strerror(rc), err);
    CHECK(s == NULL);
    fprintf(stderr, "# %s: %s\n", why, err);
}

TEST(open_needs_this_members_certificate)
{
    struct member m;
    struct store_raft_tls wrong;
    char *cert, *key, err[ORC_TLS_ERRLEN];

    loop_setup();
    member_init(&m, 1);
    m.cfg.raft_tls = NULL;
    expect_refused(&m, "no TLS");
    member_init(&m, 2); /* makes member 2's certificate */
    member_init(&m, 1);
    wrong = m.tls;
    wrong.cert_pem = test_pki.cert[2];
    wrong.key_pem = test_pki.key[2];
    m.cfg.raft_tls = &wrong;
    expect_refused(&m, "member 2's certificate");
    wrong.cert_pem = test_pki.cert[1];
    wrong.key_pem = test_pki.key[2];
    expect_refused(&m, "a key that is not the certificate's");
    CHECKF(orc_tls_make_cert(test_pki.ca, test_pki.ca_key, "orcd", NULL, 0, 10, &cert, &key, err) == 0,
           "%s", err);
    wrong.cert_pem = cert;
    wrong.key_pem = key;
    expect_refused(&m, "a serving certificate");
    free(cert);
    free(key);
    loop_teardown();
}

static bool caught_up(void *arg)
{
    struct member *ms = arg;
    return store_revision(ms[1].s) == store_revision(ms[0].s)
           && store_revision(ms[2].s) == store_revision(ms[0].s);
}

/* Timeouts with room for a loaded machine: 3 MiB entries take a while to
 * write and relay, and a lost leadership is not what these cases test. */
static void three_up(struct member *ms, bool plaintext)
{
    for (int i = 0; i < 3; i++) {
        member_init(&ms[i], i + 1);
        ms[i].cfg.election_timeout_ms = 2000;
        ms[i].cfg.heartbeat_timeout_ms = 100;
        ms[i].cfg.raft_plaintext = plaintext;
        if (plaintext) strncat(ms[i].dir, "-plain", sizeof ms[i].dir - strlen(ms[i].dir) - 1);
        member_open(&ms[i]);
    }
    members_up(ms, 3, 10000);
}

TEST_T(large_entries_cross_the_relay_intact, 120)
{
    struct member ms[3];
    size_t big = 3u << 20; /* three times the relay's high-water mark */
    char *value = malloc(big + 1), *got;

    CHECK(value != NULL);
    for (size_t i = 0; i < big; i++) value[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    value[big] = '\0';
    loop_setup();
    three_up(ms, false);
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "/big/%d", i);
        value[0] = (char)('A' + i);
        put_ok(ms[0].s, key, value);
    }
    CHECK(run_until(caught_up, ms, 20000));
    for (int m = 1; m < 3; m++)
        for (int i = 0; i < 3; i++) {
            char key[32];
            snprintf(key, sizeof key, "/big/%d", i);
            value[0] = (char)('A' + i);
            got = get_value(ms[m].s, key);
            CHECKF(got && strlen(got) == big && memcmp(got, value, big) == 0, "member %d: %s differs", m + 1,
                   key);
            free(got);
        }
    for (int i = 0; i < 3; i++) member_close(&ms[i]);
    loop_teardown();
    free(value);
}

TEST_T(a_member_with_another_cas_certificate_is_never_reached, 60)
{
    struct member ms[2];
    struct store_raft_tls foreign;
    char *ca, *ca_key, *cert, *key, err[ORC_TLS_ERRLEN];
    struct done d = {0};
    uint64_t lid = 0;

    loop_setup();
    member_init(&ms[0], 1);
    member_init(&ms[1], 2);
    CHECKF(orc_tls_make_ca("other-ca", 10, &ca, &ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert_o(ca, ca_key, STORE_MEMBER_ORG, STORE_MEMBER_CN "2", NULL, 0, 10, &cert, &key,
                               err) == 0, "%s", err);
    foreign = (struct store_raft_tls){ca, cert, key};
    ms[1].cfg.raft_tls = &foreign;
    single_up(&ms[0]);
    member_open(&ms[1]);
    member_start(&ms[1]);
    CHECK_INT(store_add_member(ms[0].s, 2, ms[1].addr, done_cb, &d), ==, 0);
    run_for(2000);
    CHECK(!d.done || d.status != 0);
    CHECKF(store_leader(ms[1].s, &lid, NULL) != 0, "member 2 learned a leader (%llu)", (unsigned long long)lid);
    CHECK(store_is_leader(ms[0].s));
    put_ok(ms[0].s, "/still", "serving");
    member_close(&ms[1]);
    member_close(&ms[0]);
    loop_teardown();
    free(ca), free(ca_key), free(cert), free(key);
}

TEST_T(plaintext_mode_still_replicates, 60)
{
    struct member ms[3];
    char *got;

    loop_setup();
    three_up(ms, true);
    put_ok(ms[0].s, "/plain", "text");
    CHECK(run_until(caught_up, ms, 10000));
    got = get_value(ms[2].s, "/plain");
    CHECK_STR(got, "text");
    free(got);
    for (int i = 0; i < 3; i++) member_close(&ms[i]);
    loop_teardown();
}

/* ---- what TLS costs the store alone (printed, not asserted) ---- */

struct flight {
    int pending, failed;
};

static void flight_cb(void *arg, int status, const struct store_txn_result *res)
{
    struct flight *f = arg;
    (void)res;
    f->pending--;
    if (status != 0) f->failed++;
}

static bool flight_empty(void *arg) { return ((struct flight *)arg)->pending == 0; }

static double cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

struct rate {
    double per_s;  /* wall clock: noisy on a shared machine */
    double cpu_us; /* CPU of the whole process per txn: what the transport costs */
};

/* n 1 KiB puts on member 0, at most `window` in flight. */
static struct rate put_rate(struct member *ms, int n, int window)
{
    struct flight f = {0};
    char key[64], value[1024];
    uint64_t t0 = test_now_ms(), took;
    double c0 = cpu_us();

    memset(value, 'v', sizeof value);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "/rate/%05d", i % 1000);
        struct store_op op = {STORE_PUT, key, value, sizeof value};
        struct store_txn t = {NULL, 0, &op, 1};
        CHECK_INT(store_txn(ms[0].s, &t, flight_cb, &f), ==, 0);
        f.pending++;
        while (f.pending >= window) uv_run(&test_loop, UV_RUN_ONCE);
    }
    CHECK(run_until(flight_empty, &f, 60000));
    CHECK_INT(f.failed, ==, 0);
    took = test_now_ms() - t0;
    return (struct rate){n * 1000.0 / (double)(took ? took : 1), (cpu_us() - c0) / n};
}

TEST_T(tls_cost_in_process, 120)
{
    struct member ms[3];
    struct rate r[2][2];

    for (int plain = 0; plain < 2; plain++) {
        loop_setup();
        three_up(ms, plain);
        put_rate(ms, 500, 64); /* warm up */
        r[plain][0] = put_rate(ms, 5000, 64);
        r[plain][1] = put_rate(ms, 1000, 1);
        for (int i = 0; i < 3; i++) member_close(&ms[i]);
        loop_teardown();
    }
    for (int w = 0; w < 2; w++)
        printf("# three members on one loop, 1 KiB puts, %s: TLS %.0f txn/s, %.0f us CPU/txn; "
               "plaintext %.0f txn/s, %.0f us CPU/txn (TLS costs %.0f %% more CPU)\n",
               w ? "one at a time" : "64 in flight", r[0][w].per_s, r[0][w].cpu_us, r[1][w].per_s,
               r[1][w].cpu_us, (r[0][w].cpu_us / r[1][w].cpu_us - 1) * 100);
}
