/* fault.h — helpers shared by the fault tests (header-only: each .c in
 * tests/fault/ is its own program; tests/bench/fault.c uses it too):
 * writers aimed at a test cluster, a kill of the leader, and the end-of-run
 * check. */
#ifndef ORC_TEST_FAULT_H
#define ORC_TEST_FAULT_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/harness/writers.h"

/* Writers over every member of c (started or not). */
static inline void fault_writers(struct writers *w, struct cluster *c)
{
    memset(w, 0, sizeof *w);
    w->dialect = WRITERS_ORC;
    w->n_ep = c->n;
    for (int i = 0; i < c->n; i++) snprintf(w->url[i], sizeof w->url[i], "%s", c->m[i].url);
    w->token = c->token;
    w->tls = cluster_tls(c);
}

/* Waits until a write sent at or after t is acknowledged; returns ms from
 * t to that acknowledgement, failing the case after timeout_ms. */
static inline unsigned fault_wait_writable(struct writers *w, uint64_t t, unsigned timeout_ms)
{
    uint64_t first = 0;

    while (writers_acks_after(w, t, &first) == 0) {
        CHECKF(test_now_ms() - t < timeout_ms, "no write acknowledged %u ms after the fault", timeout_ms);
        test_sleep_ms(5);
    }
    return (unsigned)(first - t);
}

/* One round of kill -9 of the leader under w: returns ms from the kill to
 * the next acknowledged write (failing the case after timeout_ms), then
 * starts the killed member again and lets the cluster settle. */
static inline unsigned fault_kill_leader(struct cluster *c, struct writers *w, unsigned timeout_ms)
{
    int lead = cluster_leader(c, 10000);
    unsigned ms;

    CHECKF(lead >= 0, "no leader to kill");
    uint64_t t = test_now_ms();
    member_kill(c, lead);
    ms = fault_wait_writable(w, t, timeout_ms);
    test_sleep_ms(500);
    member_start(c, lead, false, NULL);
    member_wait_ready(c, lead, 20000);
    test_sleep_ms(1000);
    return ms;
}

/* After writers_stop: through every running member (linearizable lists),
 * no acknowledged write is lost and none was applied twice. */
static inline void fault_verify(struct cluster *c, struct writers *w)
{
    fprintf(stderr, "# writers: %zu attempts, %zu created, %zu already there after an unknown "
            "outcome; %zu unknown outcomes (HTTP 500: %zu, 503: %zu, 504: %zu, the rest connection "
            "errors and timeouts), %zu never reached a server; probes: %zu of %zu created\n",
            w->st.attempts, w->st.created, w->n_acks - w->st.created - w->st.probes_acked,
            w->st.unknown, w->st.status_500, w->st.status_503, w->st.status_504, w->st.refused,
            w->st.probes_acked, w->st.probes);
    CHECKF(w->st.other == 0, "%zu writes got an unexpected answer", w->st.other);
    CHECKF(w->duplicated == 0, "%zu writes applied more often than sent", w->duplicated);
    for (int i = 0; i < c->n; i++) {
        struct writers_stored *s = NULL;
        size_t n = 0;
        if (c->m[i].pid == 0) continue;
        CHECKF(writers_fetch(w, i, &s, &n) == 0, "cannot list through member %d", i);
        size_t lost = writers_lost(w, s, n);
        free(s);
        CHECKF(lost == 0, "member %d: %zu acknowledged writes lost", i, lost);
    }
}

static inline void fault_print_ms(const char *what, const unsigned *ms, int n)
{
    fprintf(stderr, "# %s:", what);
    for (int i = 0; i < n; i++) fprintf(stderr, " %.2f", ms[i] / 1000.0);
    fprintf(stderr, " s\n");
}

#endif
