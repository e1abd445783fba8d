/* ctlhost.h — runs controllers (a ctl_controller table) in the test process
 * against a real orcd, the way the controller manager runs them in orcd:
 * one loop, one HTTP client as the cluster admin, one informer set, the
 * real clock. Until orcd runs the manager itself, the Job and CronJob e2e
 * tests host their controllers here. The loop runs while the test waits
 * (host_run_for); the test's synchronous API calls (t_json) do not need it. */
#ifndef ORC_TESTS_E2E_CTLHOST_H
#define ORC_TESTS_E2E_CTLHOST_H

#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "controllers/ctl.h"
#include "lib/clock.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define HOST_MAX 4

struct ctlhost {
    uv_loop_t loop;
    uv_timer_t tick;
    http_client *api;
    informer_set *set;
    orc_clock *clock;
    struct ctl_options opts;
    struct ctl_ctx ctx;
    const struct ctl_controller *ctl[HOST_MAX];
    void *state[HOST_MAX];
    size_t n;
    bool up;
};

static inline void host_tick(uv_timer_t *t) { (void)t; }

static inline void host_run_for(struct ctlhost *h, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) uv_run(&h->loop, UV_RUN_ONCE);
}

/* Starts the controllers given (NULL-terminated) against member 0 of c. */
static inline void host_start(struct ctlhost *h, struct cluster *c,
                              const struct ctl_controller *const *ctls)
{
    memset(h, 0, sizeof *h);
    CHECK(uv_loop_init(&h->loop) == 0);
    uv_timer_init(&h->loop, &h->tick);
    uv_timer_start(&h->tick, host_tick, 10, 10);
    CHECK_INT(http_client_new_tls(&h->loop, c->m[0].url, c->token, cluster_tls(c), &h->api), ==, 0);
    CHECK_INT(informer_set_new(&h->loop, h->api, &h->set), ==, 0);
    CHECK((h->clock = orc_clock_real(&h->loop)) != NULL);
    h->opts.host = "test";
    h->ctx = (struct ctl_ctx){&h->loop, h->clock, h->api, h->set, &h->opts};
    for (; ctls[h->n] && h->n < HOST_MAX; h->n++) {
        h->ctl[h->n] = ctls[h->n];
        CHECK_INT(ctls[h->n]->start(&h->ctx, &h->state[h->n]), ==, 0);
    }
    h->up = true;
}

/* Stops them as the manager does: controllers, then the informers, then
 * the client, then whatever is left on the loop. */
static inline void host_stop(struct ctlhost *h)
{
    if (!h->up) return;
    h->up = false;
    for (size_t i = h->n; i-- > 0;) h->ctl[i]->stop(h->state[i]);
    informer_set_free(h->set);
    host_run_for(h, 300); /* calls in flight end */
    http_client_close(h->api, NULL, NULL);
    uv_close((uv_handle_t *)&h->tick, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    orc_clock_free(h->clock);
    CHECK_INT(uv_loop_close(&h->loop), ==, 0);
}

#endif
