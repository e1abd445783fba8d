/* test_read_failover.c — linearizable reads through every member while the
 * leader is killed and restarted: each answers 200, or 503/504 while no
 * leader is reachable, never a 500. Followers send their reads' read
 * index to the leader over one shared client; when one request finds that
 * leader gone, the client is closed and the others in flight on it must
 * be retried (a read has no side effect), not answered "canceled". */
#include <pthread.h>

#include "tests/fault/fault.h"

#define READERS 6
#define ROUNDS 3

struct reads {
    struct cluster *c;
    int stop; /* __atomic */
    pthread_mutex_t lock;
    size_t ok, unreachable, unavailable, failed;
    char first_failure[512];
};

static void count(struct reads *rd, int err, const struct http_response *r, int ep)
{
    pthread_mutex_lock(&rd->lock);
    if (err == 0 && r->status == 200) {
        rd->ok++;
    } else if (err != 0) {
        rd->unreachable++; /* the member was killed */
    } else if (r->status == 503 || r->status == 504) {
        rd->unavailable++; /* no leader right now */
    } else {
        if (rd->failed++ == 0)
            snprintf(rd->first_failure, sizeof rd->first_failure, "member %d: HTTP %d %.*s", ep,
                     r->status, r->body ? (int)(r->body_len > 300 ? 300 : r->body_len) : 0,
                     r->body ? r->body : "");
    }
    pthread_mutex_unlock(&rd->lock);
}

static void *reader(void *arg)
{
    struct reads *rd = arg;
    static int next;
    int ep = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % rd->c->n;

    while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
        struct http_request req = {.method = "GET",
                                   .path = "/api/v1/namespaces/default/configmaps?limit=5",
                                   .timeout_ms = 10000};
        struct http_response r = {0};
        /* a killed member refuses at once: a pause, not a busy loop */
        int err = http_sync_request_tls(rd->c->m[ep].url, rd->c->token, cluster_tls(rd->c), &req, &r,
                                        NULL);
        count(rd, err, &r, ep);
        if (err != 0) test_sleep_ms(5);
        http_response_free(&r);
    }
    return NULL;
}

TEST_T(linearizable_reads_through_a_leader_change_never_fail, 120)
{
    static struct cluster c; /* outlives the case body: its end-of-case cleanups use it */
    static struct reads rd;
    pthread_t th[READERS];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    rd.c = &c;
    pthread_mutex_init(&rd.lock, NULL);
    for (int i = 0; i < READERS; i++) CHECK(pthread_create(&th[i], NULL, reader, &rd) == 0);
    test_sleep_ms(500);
    for (int r = 0; r < ROUNDS; r++) {
        int lead = cluster_leader(&c, 10000);
        CHECKF(lead >= 0, "no leader in round %d", r);
        member_kill(&c, lead);
        CHECKF(cluster_leader_except(&c, lead, 10000) >= 0, "no new leader in round %d", r);
        test_sleep_ms(300);
        member_start(&c, lead, false, NULL);
        member_wait_ready(&c, lead, 20000);
        test_sleep_ms(300);
    }
    __atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < READERS; i++) pthread_join(th[i], NULL);
    fprintf(stderr, "# reads: %zu answered, %zu with no leader (503/504), %zu failed; %zu found "
            "their member killed\n", rd.ok, rd.unavailable, rd.failed, rd.unreachable);
    CHECKF(rd.failed == 0, "%zu reads failed; the first: %s", rd.failed, rd.first_failure);
    CHECK(rd.ok > 0);
}
