/* test_restart_all.c — every member killed at once (SIGKILL, no clean
 * shutdown) under 8 writers and all started again together: every
 * acknowledged write is there, none twice, and the cluster is writable
 * again within a few seconds. Twice over. */
#include "tests/fault/fault.h"

#define ROUNDS 2

TEST_T(all_members_killed_at_once_and_restarted, 120)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    static struct writers w;
    unsigned writable[ROUNDS];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    fault_writers(&w, &c);
    writers_start(&w, 8);
    test_sleep_ms(1500);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < c.n; i++) member_kill(&c, i);
        test_sleep_ms(300);
        uint64_t t = test_now_ms();
        for (int i = 0; i < c.n; i++) member_start(&c, i, false, NULL);
        writable[r] = fault_wait_writable(&w, t, 20000);
        for (int i = 0; i < c.n; i++) member_wait_ready(&c, i, 20000);
        test_sleep_ms(1000);
    }
    writers_stop(&w);
    fault_print_ms("writable again after all three started", writable, ROUNDS);
    for (int r = 0; r < ROUNDS; r++)
        CHECKF(writable[r] <= 10000, "round %d: writable only after %u ms", r, writable[r]);
    fault_verify(&c, &w);
    writers_free(&w);
}
