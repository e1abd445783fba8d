/* test_workqueue.c — the work queue on a fake clock: dedup, a key added while
 * processing runs again after, back-off doubling to its cap, delayed adds in
 * due order, forget, a look-again delay, workers, and freeing with keys still
 * processing, and ranked keys highest first. */
#include "client/workqueue.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#include <stdio.h>
#include <stdlib.h>

struct fx {
    orc_clock *c;
    workqueue *q;
    char seen[64][32];
    uint64_t at[64];
    int n;
    int64_t outcome; /* used when finishing at once */
    bool hold;       /* keep keys processing */
    char held[64][32];
    int nheld;
};

static void handler(void *arg, const char *key)
{
    struct fx *f = arg;

    if (f->n < 64) {
        snprintf(f->seen[f->n], sizeof f->seen[0], "%s", key);
        f->at[f->n] = orc_clock_now(f->c);
    }
    f->n++;
    if (f->hold) snprintf(f->held[f->nheld++], sizeof f->held[0], "%s", key);
    else workqueue_done(f->q, key, f->outcome);
}

static void fx_init(struct fx *f, const struct workqueue_config *cfg)
{
    memset(f, 0, sizeof *f);
    f->c = orc_clock_fake(0);
    CHECK(f->c != NULL);
    CHECK_INT(workqueue_new(f->c, cfg, handler, f, &f->q), ==, 0);
}

static void fx_done(struct fx *f)
{
    workqueue_free(f->q);
    orc_clock_free(f->c);
}

TEST(workqueue_dedups_and_dispatches_from_timer)
{
    struct fx f;

    fx_init(&f, NULL);
    CHECK_INT(workqueue_add(f.q, "ns/a"), ==, 0);
    CHECK_INT(workqueue_add(f.q, "ns/b"), ==, 0);
    CHECK_INT(workqueue_add(f.q, "ns/a"), ==, 0);
    CHECK_INT(f.n, ==, 0); /* never from inside add */
    CHECK_INT(workqueue_len(f.q), ==, 2);
    CHECK_INT(workqueue_pending(f.q), ==, 2);
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 2);
    CHECK_STR(f.seen[0], "ns/a");
    CHECK_STR(f.seen[1], "ns/b");
    CHECK_INT(workqueue_len(f.q), ==, 0);
    CHECK_INT(workqueue_pending(f.q), ==, 0);
    fx_done(&f);
}

TEST(workqueue_dirty_key_runs_again_after_processing)
{
    struct fx f;

    fx_init(&f, NULL);
    f.hold = true;
    workqueue_add(f.q, "k");
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 1);
    workqueue_add(f.q, "k");
    workqueue_add(f.q, "k");
    orc_clock_fake_advance(f.c, 10);
    CHECK_INT(f.n, ==, 1); /* never twice at once */
    CHECK_INT(workqueue_len(f.q), ==, 0);
    CHECK_INT(workqueue_pending(f.q), ==, 1);
    f.hold = false;
    workqueue_done(f.q, "k", WQ_DONE);
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 2);
    orc_clock_fake_advance(f.c, 1000);
    CHECK_INT(f.n, ==, 2);
    CHECK_INT(workqueue_pending(f.q), ==, 0);
    fx_done(&f);
}

TEST(workqueue_backoff_doubles_to_cap_and_forget_resets)
{
    struct workqueue_config cfg = {.name = "t", .base_delay_ms = 10, .max_delay_ms = 100};
    struct fx f;
    uint64_t want[] = {0, 10, 30, 70, 150, 250, 350};

    fx_init(&f, &cfg);
    f.outcome = WQ_RETRY;
    workqueue_add(f.q, "k");
    orc_clock_fake_advance(f.c, 400);
    CHECK_INT(f.n, >=, 7);
    for (int i = 0; i < 7; i++) CHECK_INT(f.at[i], ==, want[i]); /* 10,20,40,80,100,100 */
    CHECK_INT(workqueue_failures(f.q, "k"), >=, 7);
    workqueue_forget(f.q, "k");
    CHECK_INT(workqueue_failures(f.q, "k"), ==, 0);
    f.outcome = WQ_DONE;
    orc_clock_fake_advance(f.c, 200);
    CHECK_INT(workqueue_pending(f.q), ==, 0);
    /* failures counted by add_rate_limited alone, forgotten by WQ_DONE */
    f.n = 0;
    workqueue_add_rate_limited(f.q, "j");
    workqueue_add_rate_limited(f.q, "j");
    CHECK_INT(workqueue_failures(f.q, "j"), ==, 2);
    orc_clock_fake_advance(f.c, 9);
    CHECK_INT(f.n, ==, 0);
    orc_clock_fake_advance(f.c, 1); /* the earlier pending add (10 ms) wins */
    CHECK_INT(f.n, ==, 1);
    CHECK_INT(workqueue_failures(f.q, "j"), ==, 0);
    fx_done(&f);
}

TEST(workqueue_add_after_in_due_order)
{
    struct fx f;
    char key[8];

    fx_init(&f, NULL);
    workqueue_add_after(f.q, "c", 300);
    workqueue_add_after(f.q, "a", 100);
    workqueue_add_after(f.q, "b", 200);
    workqueue_add_after(f.q, "b", 50);   /* earlier wins */
    workqueue_add_after(f.q, "a", 500);  /* later loses */
    for (int i = 0; i < 20; i++) {       /* many, to exercise the heap */
        snprintf(key, sizeof key, "z%02d", i);
        workqueue_add_after(f.q, key, (uint64_t)(1000 + (i * 7919) % 20 * 10));
    }
    CHECK_INT(workqueue_len(f.q), ==, 0);
    CHECK_INT(workqueue_pending(f.q), ==, 23);
    orc_clock_fake_advance(f.c, 400);
    CHECK_INT(f.n, ==, 3);
    CHECK_STR(f.seen[0], "b");
    CHECK_INT(f.at[0], ==, 50);
    CHECK_STR(f.seen[1], "a");
    CHECK_INT(f.at[1], ==, 100);
    CHECK_STR(f.seen[2], "c");
    CHECK_INT(f.at[2], ==, 300);
    workqueue_add_after(f.q, "d", 100);
    workqueue_add(f.q, "d"); /* add now replaces the delayed add */
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 4);
    orc_clock_fake_advance(f.c, 2000);
    CHECK_INT(f.n, ==, 24);
    for (int i = 5; i < 24; i++) CHECK(f.at[i] >= f.at[i - 1]);
    CHECK_INT(f.at[4], ==, 1000);
    CHECK_INT(f.at[23], ==, 1190);
    CHECK_INT(workqueue_pending(f.q), ==, 0);
    fx_done(&f);
}

TEST(workqueue_outcome_delay_looks_again)
{
    struct fx f;

    fx_init(&f, NULL);
    f.outcome = 250;
    workqueue_add_rate_limited(f.q, "k");
    orc_clock_fake_advance(f.c, 5);
    CHECK_INT(f.n, ==, 1);
    CHECK_INT(workqueue_failures(f.q, "k"), ==, 0); /* success forgets */
    f.outcome = WQ_DONE;
    orc_clock_fake_advance(f.c, 249);
    CHECK_INT(f.n, ==, 1);
    orc_clock_fake_advance(f.c, 1);
    CHECK_INT(f.n, ==, 2);
    CHECK_INT(f.at[1], ==, 255);
    fx_done(&f);
}

TEST(workqueue_workers_limit_concurrency)
{
    struct workqueue_config cfg = {.workers = 2};
    struct fx f;

    fx_init(&f, &cfg);
    f.hold = true;
    workqueue_add(f.q, "a");
    workqueue_add(f.q, "b");
    workqueue_add(f.q, "c");
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 2);
    CHECK_INT(workqueue_len(f.q), ==, 1);
    workqueue_done(f.q, "a", WQ_DONE);
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 3);
    CHECK_STR(f.seen[2], "c");
    workqueue_done(f.q, "b", WQ_DONE);
    workqueue_done(f.q, "c", WQ_DONE);
    CHECK_INT(workqueue_pending(f.q), ==, 0);
    fx_done(&f);
}

/* The key's rank is the number after its last '-' ("low-1", "high-9"). */
static int64_t rank_of(void *arg, const char *key)
{
    const char *dash = strrchr(key, '-');
    (void)arg;
    return dash ? atoll(dash + 1) : 0;
}

TEST(workqueue_rank_orders_ready_keys)
{
    struct workqueue_config cfg = {.workers = 1, .rank = rank_of};
    struct fx f;
    char key[32];

    fx_init(&f, &cfg);
    f.hold = true;
    /* The first low key starts at once; the rest wait behind the worker. */
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "low%02d-1", i);
        workqueue_add(f.q, key);
    }
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 1);
    workqueue_add(f.q, "high-9");
    workqueue_add(f.q, "mid-5");
    workqueue_add_after(f.q, "later-9", 100);
    /* Each done frees the worker for the best ready key. */
    for (int i = 0; i < 23; i++) {
        if (i == 3) orc_clock_fake_advance(f.c, 100); /* later-9 becomes ready */
        workqueue_done(f.q, f.held[f.nheld - 1], WQ_DONE);
        orc_clock_fake_advance(f.c, 0);
    }
    CHECK_INT(f.n, ==, 23);
    CHECK_STR(f.seen[1], "high-9");
    CHECK_STR(f.seen[2], "mid-5");
    CHECK_STR(f.seen[3], "low01-1");
    CHECK_STR(f.seen[4], "later-9");
    /* Equal ranks in the order they became ready. */
    for (int i = 5; i < 23; i++) {
        snprintf(key, sizeof key, "low%02d-1", i - 3);
        CHECK_STR(f.seen[i], key);
    }
    fx_done(&f);
}

TEST(workqueue_rank_reads_the_key_when_ready_again)
{
    struct workqueue_config cfg = {.workers = 1, .rank = rank_of};
    struct fx f;

    fx_init(&f, &cfg);
    f.hold = true;
    workqueue_add(f.q, "a-1");
    orc_clock_fake_advance(f.c, 0);
    /* Added while processing (dirty) and a failure's back-off: each is
     * ranked when it becomes ready, behind better keys. */
    workqueue_add(f.q, "a-1");
    workqueue_add(f.q, "b-5");
    workqueue_done(f.q, "a-1", WQ_DONE);
    orc_clock_fake_advance(f.c, 0);
    CHECK_STR(f.seen[1], "b-5");
    workqueue_done(f.q, "b-5", WQ_RETRY);
    orc_clock_fake_advance(f.c, 0);
    CHECK_STR(f.seen[2], "a-1");
    workqueue_add(f.q, "c-3");
    workqueue_add(f.q, "d-0");
    workqueue_done(f.q, "a-1", WQ_DONE);
    orc_clock_fake_advance(f.c, 0);
    CHECK_STR(f.seen[3], "c-3");
    CHECK_INT(workqueue_len(f.q), ==, 1);
    /* Freed with ranked keys ready and one delayed: nothing leaks. */
    workqueue_done(f.q, "c-3", WQ_DONE);
    CHECK_INT(workqueue_pending(f.q), ==, 2);
    fx_done(&f);
}

TEST(workqueue_free_with_keys_processing)
{
    struct fx f;

    fx_init(&f, NULL);
    f.hold = true;
    workqueue_add(f.q, "a");
    workqueue_add(f.q, "b");
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.n, ==, 2);
    workqueue_add(f.q, "a");          /* dirty */
    workqueue_add_after(f.q, "x", 10); /* delayed */
    workqueue_add_rate_limited(f.q, "y");
    workqueue_free(f.q); /* a and b still processing */
    orc_clock_fake_advance(f.c, 100);
    CHECK_INT(f.n, ==, 2);
    workqueue_done(f.q, "a", WQ_RETRY);
    workqueue_done(f.q, "b", WQ_DONE); /* the last one frees the queue */
    orc_clock_fake_advance(f.c, 100);
    CHECK_INT(f.n, ==, 2);
    orc_clock_free(f.c);
}

static void free_inside(void *arg, const char *key)
{
    struct fx *f = arg;

    f->n++;
    workqueue_done(f->q, key, WQ_DONE);
    workqueue_free(f->q);
}

TEST(workqueue_free_from_handler)
{
    struct fx f;

    memset(&f, 0, sizeof f);
    f.c = orc_clock_fake(0);
    CHECK_INT(workqueue_new(f.c, NULL, free_inside, &f, &f.q), ==, 0);
    workqueue_add(f.q, "a");
    workqueue_add(f.q, "b");
    orc_clock_fake_advance(f.c, 10);
    CHECK_INT(f.n, ==, 1);
    orc_clock_free(f.c);
}

TEST(workqueue_rejects_missing_args)
{
    workqueue *q;
    orc_clock *c = orc_clock_fake(0);

    CHECK_INT(workqueue_new(NULL, NULL, handler, NULL, &q), ==, ORC_EINVAL);
    CHECK_INT(workqueue_new(c, NULL, NULL, NULL, &q), ==, ORC_EINVAL);
    orc_clock_free(c);
}

struct real {
    uv_loop_t loop;
    orc_clock *c;
    workqueue *q;
    int n;
    uint64_t first, last;
};

static void real_handler(void *arg, const char *key)
{
    struct real *r = arg;

    if (r->n++ == 0) r->first = orc_clock_now(r->c);
    r->last = orc_clock_now(r->c);
    workqueue_done(r->q, key, strcmp(key, "again") == 0 && r->n < 4 ? 30 : WQ_DONE);
    if (r->n == 4) workqueue_free(r->q); /* from the handler, on a real loop */
}

TEST(workqueue_on_a_real_loop)
{
    static struct real r;
    uint64_t t0;

    CHECK(uv_loop_init(&r.loop) == 0);
    r.c = orc_clock_real(&r.loop);
    CHECK_INT(workqueue_new(r.c, NULL, real_handler, &r, &r.q), ==, 0);
    t0 = orc_clock_now(r.c);
    workqueue_add(r.q, "again");        /* at once, then 30 ms later, then 30 ms later */
    workqueue_add_after(r.q, "late", 20);
    uv_run(&r.loop, UV_RUN_DEFAULT);    /* ends when the queue freed its timers */
    CHECK_INT(r.n, ==, 4);
    CHECK(r.last - t0 >= 60);
    orc_clock_free(r.c);
    CHECK_INT(uv_loop_close(&r.loop), ==, 0);
}
