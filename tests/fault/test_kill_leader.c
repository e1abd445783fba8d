/* test_kill_leader.c — kill -9 of the Raft leader under 8 concurrent
 * writers, three times over (the killed member restarted each time): no
 * acknowledged write is lost, none is applied twice, and writes resume. */
#include "tests/fault/fault.h"

#define ROUNDS 3

TEST_T(leader_killed_three_times_under_8_writers, 120)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    static struct writers w;
    unsigned recovery[ROUNDS];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    fault_writers(&w, &c);
    writers_start(&w, 8);
    test_sleep_ms(1000);
    for (int r = 0; r < ROUNDS; r++) recovery[r] = fault_kill_leader(&c, &w, 20000);
    writers_stop(&w);
    fault_print_ms("writes resumed after each kill", recovery, ROUNDS);
    /* An election takes 1.5 election timeouts (0.7 s) or so; slack for a loaded machine. */
    for (int r = 0; r < ROUNDS; r++)
        CHECKF(recovery[r] <= 4000, "round %d: writes resumed only after %u ms", r, recovery[r]);
    fault_verify(&c, &w);
    writers_free(&w);
}
