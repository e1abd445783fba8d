/* test_stall_leader.c — a leader that stalls (SIGSTOP) for several
 * election timeouts: the others elect a new leader and writes go on, also
 * those that were waiting on the stalled leader through a follower; once
 * it resumes (SIGCONT) it steps down and catches up, nothing acknowledged
 * is lost, and what was sent to it while it was stopped was answered with
 * an error or applied, never acknowledged falsely. */
#include "tests/fault/fault.h"

#define STALL_MS 8000

static void resume(void *arg)
{
    pid_t *pid = arg;
    if (*pid > 0) kill(*pid, SIGCONT);
}

TEST_T(stalled_leader_steps_down_and_catches_up, 120)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    static struct writers w;
    static pid_t stopped;
    char role[32];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    fault_writers(&w, &c);
    w.attempt_timeout_ms = 20000; /* longer than any wait the members impose */
    writers_start(&w, 8);
    test_sleep_ms(1000);
    int lead = cluster_leader(&c, 10000);
    CHECK(lead >= 0);
    uint64_t t = test_now_ms();
    stopped = c.m[lead].pid;
    test_defer(resume, &stopped); /* never leave a stopped process behind */
    CHECK(kill(stopped, SIGSTOP) == 0);
    unsigned resumed = fault_wait_writable(&w, t, 20000);
    int next = cluster_leader_except(&c, lead, 5000);
    CHECKF(next >= 0 && next != lead, "no new leader while member %d is stopped", lead);
    while (test_now_ms() - t < STALL_MS) test_sleep_ms(20);
    size_t during = writers_acks_after(&w, t, NULL);
    CHECK(kill(stopped, SIGCONT) == 0);
    stopped = 0;
    uint64_t cont = test_now_ms();
    for (;;) {
        member_role(&c, lead, role, sizeof role);
        if (strcmp(role, "follower") == 0) break;
        CHECKF(test_now_ms() - cont < 10000, "member %d still says \"%s\" 10 s after SIGCONT", lead, role);
        test_sleep_ms(20);
    }
    fprintf(stderr, "# stopped %d ms; writes resumed %.2f s after the stop (%zu acknowledged "
            "meanwhile); it was a follower again %llu ms after SIGCONT\n",
            STALL_MS, resumed / 1000.0, during, (unsigned long long)(test_now_ms() - cont));
    test_sleep_ms(1500);
    writers_stop(&w);
    /* A request through another member waits for the election, not for the
     * stopped leader (its forwarded txns are given up once another leads). */
    for (int i = 0; i < c.n; i++) {
        fprintf(stderr, "# longest wait for an answer from member %d%s: %.2f s\n", i,
                i == lead ? " (the stopped one)" : "", w.st.max_wait_ms[i] / 1000.0);
        CHECKF(i == lead || w.st.max_wait_ms[i] <= 5000, "a request to member %d waited %.2f s", i,
               w.st.max_wait_ms[i] / 1000.0);
    }
    CHECKF(resumed <= 5000, "writes resumed only %.2f s after the leader stopped", resumed / 1000.0);
    member_wait_revision(&c, lead, member_revision(&c, next), 15000);
    fault_verify(&c, &w);
    writers_free(&w);
}
