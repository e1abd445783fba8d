/* test_threads.c — three members each on its own loop and thread, as on
 * three machines: replication under many txns in flight, and the throughput
 * it reaches. */
#include <pthread.h>
#include <stdatomic.h>

#include "tests/store/util.h"

struct follower {
    struct member m;
    pthread_t thread;
    uv_loop_t loop;
    uv_timer_t poll;
    atomic_int started;
    atomic_int stop;
    atomic_llong revision;
    int status;
};

static void follower_poll(uv_timer_t *t)
{
    struct follower *f = t->data;

    atomic_store(&f->revision, store_revision(f->m.s));
    if (!atomic_load(&f->stop)) return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
    store_close(f->m.s, NULL, NULL);
}

static void *follower_main(void *arg)
{
    struct follower *f = arg;
    char err[256];

    uv_loop_init(&f->loop);
    f->status = store_open(&f->loop, &f->m.cfg, &f->m.s, err);
    if (f->status == 0) f->status = store_start(f->m.s, err);
    if (f->status != 0) {
        fprintf(stderr, "# follower %llu: %s\n", (unsigned long long)f->m.id, err);
        atomic_store(&f->started, -1);
        return NULL;
    }
    uv_timer_init(&f->loop, &f->poll);
    f->poll.data = f;
    uv_timer_start(&f->poll, follower_poll, 5, 5);
    atomic_store(&f->started, 1);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    f->status = uv_loop_close(&f->loop);
    return NULL;
}

static bool followers_started(void *arg)
{
    struct follower *fs = arg;
    return atomic_load(&fs[0].started) != 0 && atomic_load(&fs[1].started) != 0;
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

/* Sanitizers slow each member several times over: with 50,000 txns in
 * flight a leader there misses heartbeats and loses leadership. */
#ifdef __SANITIZE_ADDRESS__
#define FLIGHT 5000
#else
#define FLIGHT 50000
#endif

static bool flight_done(void *arg) { return ((struct flight *)arg)->done == FLIGHT; }

struct catchup {
    struct follower *fs;
    int64_t rev;
};

static bool followers_caught_up(void *arg)
{
    struct catchup *c = arg;
    return atomic_load(&c->fs[0].revision) >= c->rev && atomic_load(&c->fs[1].revision) >= c->rev;
}

TEST_T(three_threads_throughput, 120)
{
    struct member leader;
    static struct follower fs[2];
    struct flight fl = {0};
    char key[64], value[256];

    loop_setup();
    member_init(&leader, 1);
    for (int i = 0; i < 2; i++) member_init(&fs[i].m, i + 2);
    /* production timeouts: two CPUs run three busy members here */
    struct member *all[] = {&leader, &fs[0].m, &fs[1].m};
    for (int i = 0; i < 3; i++) all[i]->cfg.election_timeout_ms = all[i]->cfg.heartbeat_timeout_ms = 0;
    single_up(&leader);
    for (int i = 0; i < 2; i++) CHECK_INT(pthread_create(&fs[i].thread, NULL, follower_main, &fs[i]), ==, 0);
    CHECK(run_until(followers_started, fs, 5000));
    for (int i = 0; i < 2; i++) {
        CHECK_INT(atomic_load(&fs[i].started), ==, 1);
        add_member(&leader, &fs[i].m, 20000);
    }
    memset(value, 'v', sizeof value);
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < FLIGHT; i++) {
        snprintf(key, sizeof key, "/bench/%05d", i % 1000);
        struct store_op op = {STORE_PUT, key, value, sizeof value};
        struct store_txn t = {NULL, 0, &op, 1};
        CHECK_INT(store_txn(leader.s, &t, flight_cb, &fl), ==, 0);
        if (i % 512 == 511) uv_run(&test_loop, UV_RUN_NOWAIT);
    }
    CHECK(run_until(flight_done, &fl, 90000));
    uint64_t ms = test_now_ms() - t0;
    printf("# three members on three threads: %d txns (256 B) in %llu ms = %.0f txn/s\n", FLIGHT,
           (unsigned long long)ms, FLIGHT * 1000.0 / (double)(ms ? ms : 1));
    CHECK_INT(fl.failed, ==, 0);
    struct catchup c = {fs, store_revision(leader.s)};
    CHECK(run_until(followers_caught_up, &c, 20000));
    for (int i = 0; i < 2; i++) atomic_store(&fs[i].stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(fs[i].thread, NULL);
        CHECK_INT(fs[i].status, ==, 0);
    }
    member_close(&leader);
    loop_teardown();
}
