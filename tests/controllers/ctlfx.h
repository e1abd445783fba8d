/* ctlfx.h — one controller run on a thread of the test against a real
 * `orcd server` member, the way the controller manager runs it (its own
 * loop, real clock, one HTTP client, shared informers): for end-to-end
 * tests of a controller while orcd does not run it itself. ctlfx_stop
 * (deferred by ctlfx_start) stops it and frees everything. */
#ifndef ORC_TESTS_CONTROLLERS_CTLFX_H
#define ORC_TESTS_CONTROLLERS_CTLFX_H

#include <pthread.h>
#include <string.h>
#include <uv.h>

#include "client/informer.h"
#include "controllers/ctl.h"
#include "lib/clock.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

struct ctlfx {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop;
    http_client *cl;
    informer_set *set;
    orc_clock *clock;
    struct ctl_options opts;
    struct ctl_ctx ctx;
    const struct ctl_controller *ctl;
    void *state;
    struct cluster *c;
    int member;
    int start_rv;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool ready;
};

static inline void ctlfx_on_stop(uv_async_t *a)
{
    struct ctlfx *f = a->data;

    if (f->state) f->ctl->stop(f->state);
    f->state = NULL;
    informer_set_free(f->set);
    f->set = NULL;
    http_client_close(f->cl, NULL, NULL);
    f->cl = NULL;
    uv_close((uv_handle_t *)&f->stop, NULL);
}

static inline void ctlfx_ready(struct ctlfx *f, int rv)
{
    pthread_mutex_lock(&f->mu);
    f->start_rv = rv;
    f->ready = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static inline void *ctlfx_main(void *arg)
{
    struct ctlfx *f = arg;
    int rv = uv_loop_init(&f->loop);

    if (rv == 0) rv = http_client_new_tls(&f->loop, f->c->m[f->member].url, f->c->token, cluster_tls(f->c), &f->cl);
    if (rv == 0 && (f->clock = orc_clock_real(&f->loop)) == NULL) rv = -1;
    if (rv == 0) rv = informer_set_new(&f->loop, f->cl, &f->set);
    if (rv == 0) {
        f->opts.host = "ctlfx";
        f->ctx = (struct ctl_ctx){&f->loop, f->clock, f->cl, f->set, &f->opts};
        rv = f->ctl->start(&f->ctx, &f->state);
    }
    if (rv == 0) rv = uv_async_init(&f->loop, &f->stop, ctlfx_on_stop);
    f->stop.data = f;
    ctlfx_ready(f, rv);
    if (rv != 0) return NULL; /* the case fails; the process ends with it */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    orc_clock_free(f->clock);
    uv_loop_close(&f->loop);
    return NULL;
}

static inline void ctlfx_stop(void *arg)
{
    struct ctlfx *f = arg;

    uv_async_send(&f->stop);
    pthread_join(f->th, NULL);
    free(f);
}

/* Starts `ctl` against member i of c (running); stops it when the case ends. */
static inline void ctlfx_start(struct cluster *c, int i, const struct ctl_controller *ctl)
{
    struct ctlfx *f = calloc(1, sizeof *f);

    CHECK(f != NULL);
    f->c = c;
    f->member = i;
    f->ctl = ctl;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    CHECK_INT(pthread_create(&f->th, NULL, ctlfx_main, f), ==, 0);
    pthread_mutex_lock(&f->mu);
    while (!f->ready) pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    CHECKF(f->start_rv == 0, "controller %s did not start: %d", ctl->name, f->start_rv);
    test_defer(ctlfx_stop, f);
}

#endif
