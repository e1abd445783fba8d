/* test_unknown_outcome.c — writes whose outcome the server cannot know (the
 * leader stalled, lost its leadership or died mid-commit) are answered 504
 * "outcome unknown", never 500 nor a failure the client would retry: every
 * write answered with a failure is absent afterwards, and no write is
 * applied twice (a create retried behind the client's back would come back
 * 409 although its own first attempt was stored). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define WRITERS 8
#define MAX_WRITES 4000
#define CM "/api/v1/namespaces/default/configmaps"

struct write {
    char name[32];
    int member;
    int status; /* 0: no answer (connection lost) */
};

struct writers {
    struct cluster *c;
    int members[WRITERS]; /* the member each writer talks to */
    volatile int stop;
    pthread_mutex_t mu;
    struct write w[MAX_WRITES];
    size_t n;
    char first_500[512]; /* the body of the first 500 answer, to say why */
};

struct writer_arg {
    struct writers *ws;
    int id;
};

static void *writer_main(void *p)
{
    struct writer_arg *a = p;
    struct writers *ws = a->ws;
    for (int seq = 0; !ws->stop; seq++) {
        struct write w = {.member = ws->members[a->id]};
        char body[128];
        snprintf(w.name, sizeof w.name, "w%d-%d", a->id, seq);
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"},\"data\":{\"k\":\"v\"}}", w.name);
        if (ws->c->m[w.member].pid == 0) { /* its member is dead: talk to the next */
            ws->members[a->id] = (w.member + 1) % ws->c->n;
            continue;
        }
        char *resp = NULL;
        w.status = t_http(ws->c, w.member, "POST", CM, NULL, body, &resp, NULL);
        pthread_mutex_lock(&ws->mu);
        if (ws->n < MAX_WRITES) ws->w[ws->n++] = w;
        if (w.status == 500 && ws->first_500[0] == '\0')
            snprintf(ws->first_500, sizeof ws->first_500, "member %d: %s", w.member, resp ? resp : "");
        free(resp);
        pthread_mutex_unlock(&ws->mu);
        if (w.status == 0) test_sleep_ms(20);
    }
    return NULL;
}

static bool stored(struct cluster *c, int member, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, CM "/%s?resourceVersion=0", name);
    int st = t_http(c, member, "GET", path, NULL, NULL, NULL, NULL);
    CHECKF(st == 200 || st == 404, "GET %s: HTTP %d", name, st);
    return st == 200;
}

static void resume(void *arg)
{
    pid_t *pid = arg;
    if (*pid > 0) kill(*pid, SIGCONT);
}

TEST_T(writes_of_unknown_outcome_are_504_never_500, 90)
{
    static struct cluster c;
    static struct writers ws;
    static pid_t stopped;
    struct writer_arg args[WRITERS];
    pthread_t th[WRITERS];

    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    CHECK(cluster_tls(&c) != NULL); /* loaded once, before the threads share it */
    int lead = cluster_leader(&c, 10000);
    CHECK(lead >= 0);
    ws.c = &c;
    pthread_mutex_init(&ws.mu, NULL);
    /* Most writers on the leader itself (its own commit path), the rest
     * through the followers (the forwarding path). */
    for (int i = 0; i < WRITERS; i++) ws.members[i] = i < 5 ? lead : (lead + 1 + i % 2) % 3;
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (struct writer_arg){&ws, i};
        CHECK(pthread_create(&th[i], NULL, writer_main, &args[i]) == 0);
    }
    test_sleep_ms(1000);
    /* A stalled leader: its followers elect another; when it resumes, the
     * txns it had in flight fail with its lost leadership, though some were
     * replicated and are committed by the new leader. */
    stopped = c.m[lead].pid;
    test_defer(resume, &stopped);
    kill(stopped, SIGSTOP);
    test_sleep_ms(3000);
    kill(stopped, SIGCONT);
    stopped = 0;
    test_sleep_ms(1500);
    /* Then the (new) leader dies mid-commit. */
    int lead2 = cluster_leader(&c, 10000);
    CHECK(lead2 >= 0);
    member_kill(&c, lead2);
    test_sleep_ms(3500);
    ws.stop = 1;
    for (int i = 0; i < WRITERS; i++) pthread_join(th[i], NULL);

    int reader = (lead2 + 1) % 3, leader = cluster_leader(&c, 10000);
    CHECK(leader >= 0);
    member_wait_revision(&c, reader, member_revision(&c, leader), 15000);
    size_t by_status[600] = {0}, unknown_stored = 0, lost = 0, failed_stored = 0;
    const char *example = "";
    int example_status = 0;
    for (size_t i = 0; i < ws.n; i++) {
        const struct write *w = &ws.w[i];
        by_status[w->status < 600 && w->status >= 0 ? w->status : 599]++;
        bool present = stored(&c, reader, w->name);
        if (w->status == 201) {
            lost += !present;
        } else if (w->status == 504 || w->status == 0) {
            unknown_stored += present;
        } else if (present) {
            failed_stored++;
            example = w->name;
            example_status = w->status;
        }
    }
    fprintf(stderr, "# %zu writes: %zu 201, %zu 504 (%zu of them stored), %zu 503, %zu lost "
                    "connections, %zu 500, %zu 409; %zu answered as failed but stored\n",
            ws.n, by_status[201], by_status[504], unknown_stored, by_status[503], by_status[0],
            by_status[500], by_status[409], failed_stored);
    CHECKF(lost == 0, "%zu acknowledged writes not stored", lost);
    CHECKF(failed_stored == 0, "%zu writes answered as failed but stored (%s: %d)", failed_stored,
           example, example_status);
    CHECKF(by_status[500] == 0, "%zu writes answered 500, the first: %s", by_status[500], ws.first_500);
    CHECKF(by_status[409] == 0, "%zu writes applied twice (409 on a unique name)", by_status[409]);
    CHECK(by_status[201] > 0);
}
