/* test_close.c — closing a member is safe whatever the timing of Raft's own
 * disk work: a loop iteration slowed down while raft_uv closes (a loaded
 * machine) must not make the member crash on its way out. */
#include "tests/store/util.h"

/* Stalls the loop in its prepare phase (after the timers, before the poll)
 * while armed: the worker threads then finish their file work before the
 * loop looks for it, as they do when the loop thread loses its CPU. */
struct stall {
    uv_prepare_t prepare;
    unsigned ms;
    int left; /* iterations still to stall */
};

static void stall_cb(uv_prepare_t *p)
{
    struct stall *st = p->data;

    if (st->left <= 0) return;
    st->left--;
    usleep(st->ms * 1000);
}

static void stall_start(struct stall *st, unsigned ms, int iterations)
{
    st->ms = ms;
    st->left = iterations;
    uv_prepare_init(&test_loop, &st->prepare);
    st->prepare.data = st;
    uv_prepare_start(&st->prepare, stall_cb);
    uv_unref((uv_handle_t *)&st->prepare);
}

static void stall_stop(struct stall *st) { uv_close((uv_handle_t *)&st->prepare, NULL); }

/* A member with a few entries in its open segment, and the segment it
 * prepares next already made, so that closing finalizes one segment and
 * waits for nothing else. */
static void member_with_entries(struct member *m, int i, int n)
{
    char val[32];

    member_init(m, i);
    single_up(m);
    for (int i = 0; i < n; i++) {
        snprintf(val, sizeof val, "%d", i);
        put_ok(m->s, "/close/k", val);
    }
    run_for(300);
}

/* raft 0.15 reports its I/O closed once the open segment is finalized on a
 * worker thread, then its segment writer's handles report again from the
 * same loop iteration: with the finalize done before the loop polled, that
 * second report reached freed memory (signal 11 in a loaded `make test`). */
TEST_T(close_while_the_loop_is_slow, 60)
{
    static const unsigned stalls_ms[] = {0, 5, 20, 60};

    for (size_t i = 0; i < sizeof stalls_ms / sizeof stalls_ms[0]; i++) {
        struct member m;
        struct stall st;
        bool closed = false;

        loop_setup();
        member_with_entries(&m, (int)i + 1, 20); /* a fresh data dir each */
        stall_start(&st, stalls_ms[i], 3);
        store_close(m.s, closed_cb, &closed);
        CHECKF(run_until(flag_set, &closed, 10000), "close with %u ms stalls", stalls_ms[i]);
        m.s = NULL;
        stall_stop(&st);
        loop_teardown();
    }
}
