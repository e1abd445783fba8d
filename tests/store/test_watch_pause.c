/* test_watch_pause.c — flow control of a store watch, as the API server's
 * watch catch-up uses it: a subscriber pauses inside its callback, nothing
 * more arrives until it resumes, resume delivers what was missed without
 * gaps or duplicates and says when the watch has caught up, and a paused
 * watch that falls out of the retained history ends with ORC_ECOMPACTED. */
#include "tests/store/util.h"

struct paced {
    store_watch *w;
    int n, pause_every, ended;
    int64_t last_rev;
    bool out_of_order;
};

static void paced_cb(void *arg, const struct store_event *ev, int err)
{
    struct paced *p = arg;

    if (ev == NULL) {
        p->ended = err;
        return;
    }
    if (ev->revision <= p->last_rev) p->out_of_order = true;
    p->last_rev = ev->revision;
    p->n++;
    if (p->pause_every && p->n % p->pause_every == 0) store_watch_pause(p->w);
}

TEST(paused_watch_gets_the_rest_on_resume_and_says_when_caught_up)
{
    struct member m;
    static struct paced p = {.pause_every = 10};

    loop_setup();
    member_init(&m, 1);
    single_up(&m);
    for (int i = 0; i < 35; i++) put_ok(m.s, "/k", "v");
    CHECK_INT(store_watch_start(m.s, "/", 0, paced_cb, &p, &p.w), ==, 0);
    CHECK_INT(p.n, ==, 10); /* paused inside the backlog */
    put_ok(m.s, "/k", "live");
    CHECK_INT(p.n, ==, 10); /* still paused: live events wait too */
    CHECK(!store_watch_resume(p.w));
    CHECK_INT(p.n, ==, 20);
    CHECK(!store_watch_resume(p.w));
    CHECK_INT(p.n, ==, 30);
    CHECK(store_watch_resume(p.w)); /* 31..36: caught up */
    CHECK_INT(p.n, ==, 36);
    CHECK(!p.out_of_order);
    put_ok(m.s, "/k", "after");
    CHECK_INT(p.n, ==, 37);
    CHECK_INT(p.last_rev, ==, store_revision(m.s));
    store_watch_stop(p.w);
    member_close(&m);
    loop_teardown();
}

TEST(paused_watch_that_falls_out_of_history_ends_compacted)
{
    struct member m;
    static struct paced p = {.pause_every = 1};

    loop_setup();
    member_init(&m, 1);
    m.cfg.watch_history = 8;
    single_up(&m);
    put_ok(m.s, "/k", "v");
    CHECK_INT(store_watch_start(m.s, "/", 0, paced_cb, &p, &p.w), ==, 0);
    CHECK_INT(p.n, ==, 1);
    for (int i = 0; i < 12; i++) put_ok(m.s, "/k", "v");
    CHECK_INT(p.n, ==, 1);
    CHECK_INT(p.ended, ==, ORC_ECOMPACTED);
    member_close(&m);
    loop_teardown();
}
