/* schedrun.h — runs ctl_scheduler against a real orcd on a loop of its own
 * thread, as the controller manager would, while the test drives the API
 * synchronously. */
#ifndef ORC_TESTS_SCHEDRUN_H
#define ORC_TESTS_SCHEDRUN_H

#include <pthread.h>
#include <stdlib.h>
#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "lib/clock.h"
#include "scheduler/sched.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

struct schedrun {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    http_client *api;
    orc_clock *clock;
    informer_set *set;
    struct ctl_options opts;
    struct ctl_ctx ctx;
    void *state;
    int start_rc;
    bool running;
};

static void schedrun_closed(void *arg)
{
    (void)arg;
}

static void schedrun_on_stop(uv_async_t *a)
{
    struct schedrun *r = a->data;
    if (r->state) ctl_scheduler.stop(r->state);
    informer_set_free(r->set);
    http_client_close(r->api, schedrun_closed, NULL);
    uv_close((uv_handle_t *)&r->stop, NULL);
}

static void *schedrun_main(void *arg)
{
    struct schedrun *r = arg;
    r->start_rc = ctl_scheduler.start(&r->ctx, &r->state);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void schedrun_stop(void *arg)
{
    struct schedrun *r = arg;
    if (!r->running) return;
    r->running = false;
    uv_async_send(&r->stop);
    pthread_join(r->thread, NULL);
    orc_clock_free(r->clock);
    uv_loop_close(&r->loop);
    free(r);
}

/* Starts the scheduler on member i; stopped when the case ends. */
static inline struct schedrun *schedrun_start(struct cluster *c, int i)
{
    struct schedrun *r = calloc(1, sizeof *r);
    CHECK(r != NULL);
    CHECK_INT(uv_loop_init(&r->loop), ==, 0);
    CHECK_INT(uv_async_init(&r->loop, &r->stop, schedrun_on_stop), ==, 0);
    r->stop.data = r;
    CHECK_INT(http_client_new_tls(&r->loop, c->m[i].url, c->token, cluster_tls(c), &r->api), ==, 0);
    r->clock = orc_clock_real(&r->loop);
    CHECK(r->clock != NULL);
    CHECK_INT(informer_set_new(&r->loop, r->api, &r->set), ==, 0);
    r->opts.host = "test";
    r->ctx = (struct ctl_ctx){&r->loop, r->clock, r->api, r->set, &r->opts};
    CHECK_INT(pthread_create(&r->thread, NULL, schedrun_main, r), ==, 0);
    r->running = true;
    test_defer(schedrun_stop, r);
    return r;
}

#endif
