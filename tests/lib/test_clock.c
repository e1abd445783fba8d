/* test_clock.c — the fake clock fires timers in due order with the time set
 * to each due time; the real clock's timers run on a libuv loop. */
#include "lib/clock.h"
#include "lib/hmap.h"
#include "lib/list.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

#include <stdio.h>
#include <stdlib.h>

struct rec {
    orc_clock *c;
    int fired[16];
    uint64_t at[16];
    int n;
};

struct tmr {
    struct rec *r;
    int id;
    orc_timer *t;
    int restart_ms; /* > 0: start another timer from the callback */
    orc_timer *other;
    bool close_self;
};

static void on_fire(void *arg)
{
    struct tmr *x = arg;

    x->r->fired[x->r->n] = x->id;
    x->r->at[x->r->n++] = orc_clock_now(x->r->c);
    if (x->restart_ms > 0) orc_timer_start(x->other, (uint64_t)x->restart_ms);
    if (x->close_self) {
        orc_timer_close(x->t);
        x->t = NULL;
    }
}

TEST(clock_fake_fires_in_due_order)
{
    struct rec r = {0};
    struct tmr x[4];
    uint64_t next;

    r.c = orc_clock_fake(1700000000000);
    CHECK(r.c != NULL);
    CHECK_INT(orc_clock_wall(r.c), ==, 1700000000000);
    for (int i = 0; i < 4; i++) {
        x[i] = (struct tmr){&r, i, NULL, 0, NULL, false};
        CHECK_INT(orc_timer_new(r.c, on_fire, &x[i], &x[i].t), ==, 0);
    }
    CHECK(!orc_clock_fake_next(r.c, &next));
    orc_timer_start(x[0].t, 10);
    orc_timer_start(x[0].t, 300); /* re-arming the only (head and tail) timer */
    orc_timer_start(x[1].t, 100);
    orc_timer_start(x[2].t, 100); /* same due as 1: start order */
    orc_timer_start(x[3].t, 50);
    orc_timer_start(x[3].t, 200); /* re-arm replaces */
    CHECK(orc_timer_armed(x[3].t));
    CHECK(orc_clock_fake_next(r.c, &next));
    CHECK_INT(next, ==, 100);
    orc_clock_fake_advance(r.c, 99);
    CHECK_INT(r.n, ==, 0);
    orc_clock_fake_advance(r.c, 151);
    CHECK_INT(r.n, ==, 3);
    CHECK_INT(r.fired[0], ==, 1);
    CHECK_INT(r.fired[1], ==, 2);
    CHECK_INT(r.fired[2], ==, 3);
    CHECK_INT(r.at[0], ==, 100);
    CHECK_INT(r.at[2], ==, 200);
    CHECK_INT(orc_clock_now(r.c), ==, 250);
    CHECK_INT(orc_clock_wall(r.c), ==, 1700000000250);
    CHECK(!orc_timer_armed(x[1].t));
    orc_timer_stop(x[0].t);
    orc_clock_fake_advance(r.c, 1000);
    CHECK_INT(r.n, ==, 3);
    for (int i = 0; i < 4; i++) orc_timer_close(x[i].t);
    orc_clock_free(r.c);
}

TEST(clock_fake_callback_starts_and_closes_timers)
{
    struct rec r = {0};
    struct tmr a, b;

    r.c = orc_clock_fake(0);
    a = (struct tmr){&r, 1, NULL, 30, NULL, true};
    b = (struct tmr){&r, 2, NULL, 0, NULL, false};
    CHECK_INT(orc_timer_new(r.c, on_fire, &a, &a.t), ==, 0);
    CHECK_INT(orc_timer_new(r.c, on_fire, &b, &b.t), ==, 0);
    a.other = b.t;
    orc_timer_start(a.t, 10);
    orc_clock_fake_advance(r.c, 100); /* a at 10 starts b for 40: same advance */
    CHECK_INT(r.n, ==, 2);
    CHECK_INT(r.at[0], ==, 10);
    CHECK_INT(r.at[1], ==, 40);
    CHECK(a.t == NULL);
    orc_timer_start(b.t, 0);
    orc_clock_fake_advance(r.c, 0); /* due now fires now */
    CHECK_INT(r.n, ==, 3);
    CHECK_INT(r.at[2], ==, 100);
    orc_timer_close(b.t);
    orc_clock_free(r.c);
}

static void stop_loop(void *arg)
{
    struct tmr *x = arg;

    x->r->fired[x->r->n] = x->id;
    x->r->at[x->r->n++] = orc_clock_now(x->r->c);
}

TEST(clock_real_timer_on_loop)
{
    uv_loop_t loop;
    struct rec r = {0};
    struct tmr a = {&r, 1, NULL, 0, NULL, false}, b = {&r, 2, NULL, 0, NULL, false};
    uint64_t t0, w0;

    CHECK_INT(uv_loop_init(&loop), ==, 0);
    r.c = orc_clock_real(&loop);
    CHECK(r.c != NULL);
    w0 = (uint64_t)orc_clock_wall(r.c);
    CHECK(w0 > 1600000000000ull);
    t0 = orc_clock_now(r.c);
    CHECK_INT(orc_timer_new(r.c, stop_loop, &a, &a.t), ==, 0);
    CHECK_INT(orc_timer_new(r.c, stop_loop, &b, &b.t), ==, 0);
    orc_timer_start(a.t, 40);
    orc_timer_start(b.t, 10);
    CHECK(orc_timer_armed(a.t));
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(r.n, ==, 2);
    CHECK_INT(r.fired[0], ==, 2);
    CHECK_INT(r.fired[1], ==, 1);
    CHECK(r.at[1] - t0 >= 40);
    CHECK(!orc_timer_armed(a.t));
    orc_timer_start(a.t, 1000);
    orc_timer_stop(a.t);
    orc_timer_close(a.t);
    orc_timer_close(b.t);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(r.n, ==, 2);
    orc_clock_free(r.c);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
}

struct ent {
    struct orc_hnode node;
    char key[16];
};

TEST(hmap_put_get_delete_iterate)
{
    enum { N = 5000 };
    struct orc_hmap m = ORC_HMAP_INIT;
    struct ent *e = calloc(N, sizeof *e);
    size_t seen = 0;

    CHECK(e != NULL);
    CHECK(orc_hmap_get(&m, "x") == NULL);
    for (int i = 0; i < N; i++) {
        snprintf(e[i].key, sizeof e[i].key, "k%d", i);
        e[i].node.key = e[i].key;
        CHECK_INT(orc_hmap_put(&m, &e[i].node), ==, 0);
    }
    CHECK_INT(m.size, ==, N);
    for (int i = 0; i < N; i++) CHECK(orc_hmap_get(&m, e[i].key) == &e[i].node);
    for (struct orc_hnode *n = orc_hmap_first(&m), *next; n; n = next) {
        next = orc_hmap_next(&m, n);
        seen++;
        if ((ORC_CONTAINER(n, struct ent, node) - e) % 2) orc_hmap_del(&m, n);
    }
    CHECK_INT(seen, ==, N);
    CHECK_INT(m.size, ==, N / 2);
    CHECK(orc_hmap_get(&m, "k1") == NULL);
    CHECK(orc_hmap_get(&m, "k2") == &e[2].node);
    orc_hmap_free(&m);
    free(e);
}
