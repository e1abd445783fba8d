/* live.h — one controller run in the test process against a real `orcd
 * server`, on the test's own loop with a real clock, shared informers and
 * an HTTP client: what the controller manager gives it, without the
 * manager. The test writes objects through the API as an agent or a user
 * would, and runs the loop until what it expects shows in the API. */
#ifndef ORC_TEST_CONTROLLERS_LIVE_H
#define ORC_TEST_CONTROLLERS_LIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "controllers/ctl.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "scheduler/sched.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define LIVE_MAX_CTL 4

struct live {
    struct cluster own; /* the cluster live_start starts */
    struct cluster *c;  /* the one the controllers talk to */
    uv_loop_t loop;
    uv_timer_t tick; /* bounds each UV_RUN_ONCE wait */
    http_client *cl;
    informer_set *set;
    orc_clock *clock;
    struct ctl_options opts;
    struct ctl_ctx ctx;
    const struct ctl_controller *ctl[LIVE_MAX_CTL];
    void *state[LIVE_MAX_CTL];
    int n;
};

static inline void live_on_tick(uv_timer_t *t) { (void)t; }

/* Controllers ctls (NULL-terminated) on their own loop, talking to member
 * 0 of cluster c (running; start it with --controllers=-* so that its own
 * manager does not run them too). */
static inline void live_attach(struct live *l, struct cluster *c, const struct ctl_controller *const *ctls)
{
    l->c = c;
    CHECK(uv_loop_init(&l->loop) == 0);
    uv_timer_init(&l->loop, &l->tick);
    uv_timer_start(&l->tick, live_on_tick, 10, 10);
    CHECK_INT(http_client_new_tls(&l->loop, c->m[0].url, c->token, cluster_tls(c), &l->cl), ==, 0);
    CHECK_INT(informer_set_new(&l->loop, l->cl, &l->set), ==, 0);
    CHECK((l->clock = orc_clock_real(&l->loop)) != NULL);
    l->opts.host = "test";
    l->ctx = (struct ctl_ctx){&l->loop, l->clock, l->cl, l->set, &l->opts, NULL, NULL};
    for (l->n = 0; ctls[l->n] && l->n < LIVE_MAX_CTL; l->n++) {
        l->ctl[l->n] = ctls[l->n];
        CHECK_INT(ctls[l->n]->start(&l->ctx, &l->state[l->n]), ==, 0);
    }
}

/* orcd (with `extra` flags, up to 8, may be NULL; its own controller
 * manager runs none) and the controller started, after the scheduler. */
static inline void live_start(struct live *l, const struct ctl_controller *ctl,
                              const char *const *extra)
{
    const struct ctl_controller *ctls[] = {&ctl_scheduler, ctl, NULL};
    const char *flags[12] = {"--controllers", "-*"};
    int n = 2;

    for (int i = 0; extra && extra[i] && n < 10; i++) flags[n++] = extra[i];
    flags[n] = NULL;
    cluster_init(&l->own, 1);
    member_start(&l->own, 0, false, flags);
    member_wait_ready(&l->own, 0, 10000);
    live_attach(l, &l->own, ctls);
}

static inline void live_run(struct live *l, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) uv_run(&l->loop, UV_RUN_ONCE);
}

/* Stops the controller, then everything under it, leak-checked. */
static inline void live_stop(struct live *l)
{
    for (int i = l->n; i > 0; i--) l->ctl[i - 1]->stop(l->state[i - 1]);
    informer_set_free(l->set);
    live_run(l, 100);
    http_client_close(l->cl, NULL, NULL);
    uv_close((uv_handle_t *)&l->tick, NULL);
    uv_run(&l->loop, UV_RUN_DEFAULT);
    orc_clock_free(l->clock);
    CHECK_INT(uv_loop_close(&l->loop), ==, 0);
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

/* ---- the API, synchronously, from the test ---- */

static inline json_t *live_call(struct live *l, const char *method, const char *path,
                                const char *ctype, const char *body, int want)
{
    char *resp = NULL;
    int st = t_http(l->c, 0, method, path, ctype, body, &resp, NULL);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;

    CHECKF(want == 0 || st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want,
           resp ? resp : "");
    free(resp);
    return j;
}

static inline void live_do(struct live *l, const char *method, const char *path, const char *ctype,
                           const char *body, int want)
{
    json_decref(live_call(l, method, path, ctype, body, want));
}

/* The items of a list (new reference). */
static inline json_t *live_items(struct live *l, const char *path)
{
    json_t *list = live_call(l, "GET", path, NULL, NULL, 200);
    json_t *items = json_incref(json_object_get(list, "items"));
    json_decref(list);
    return items;
}

/* Runs the loop until pred(l, arg) holds, at most ms; fails the case then. */
static inline void live_until(struct live *l, bool (*pred)(struct live *, const void *),
                              const void *arg, unsigned ms, const char *what)
{
    uint64_t end = test_now_ms() + ms;
    while (!pred(l, arg)) {
        CHECKF(test_now_ms() < end, "%u ms without %s", ms, what);
        live_run(l, 50);
    }
}

#endif
