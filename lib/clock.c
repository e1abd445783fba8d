/* clock.c — the real clock (libuv's loop time and uv_timers) and the fake one
 * (a list of armed timers sorted by due time, moved only by tests). */
#include "lib/clock.h"

#include <assert.h>
#include <stdlib.h>
#include <time.h>

#include "lib/list.h"
#include "lib/orc.h"

struct orc_clock {
    uv_loop_t *loop;      /* real clock; NULL for a fake one */
    uint64_t now;         /* fake: monotonic ms */
    int64_t wall_start;   /* fake: wall time at now == 0 */
    struct orc_link armed; /* fake: armed timers by (due, seq) */
    uint64_t seq;         /* fake: start order, ties broken by it */
    size_t timers;        /* timers not yet closed (checked at free) */
};

struct orc_timer {
    orc_clock *c;
    orc_timer_cb cb;
    void *arg;
    uv_timer_t uv;        /* real clock */
    struct orc_link link; /* fake clock: in c->armed while armed */
    uint64_t due, seq;
    bool armed;           /* fake clock */
};

orc_clock *orc_clock_real(uv_loop_t *loop)
{
    orc_clock *c;

    if (loop == NULL) return NULL;
    c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->loop = loop;
    orc_list_init(&c->armed);
    return c;
}

orc_clock *orc_clock_fake(int64_t wall_start_ms)
{
    orc_clock *c = calloc(1, sizeof *c);

    if (c == NULL) return NULL;
    c->wall_start = wall_start_ms;
    orc_list_init(&c->armed);
    return c;
}

void orc_clock_free(orc_clock *c)
{
    if (c == NULL) return;
    assert(c->timers == 0);
    free(c);
}

uint64_t orc_clock_now(const orc_clock *c) { return c->loop ? uv_now(c->loop) : c->now; }

int64_t orc_clock_wall(const orc_clock *c)
{
    struct timespec ts;

    if (c->loop == NULL) return c->wall_start + (int64_t)c->now;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- fake clock ---- */

static bool fires_before(const orc_timer *a, const orc_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void fake_arm(orc_timer *t, uint64_t delay_ms)
{
    orc_clock *c = t->c;
    struct orc_link *l;

    if (t->armed) orc_list_remove(&t->link);
    l = c->armed.prev;
    t->due = c->now + delay_ms;
    t->seq = c->seq++;
    t->armed = true;
    /* From the tail: timers are mostly started in due order. */
    while (l != &c->armed && fires_before(t, ORC_CONTAINER(l, orc_timer, link))) l = l->prev;
    orc_list_push_head(l, &t->link);
}

static void fake_disarm(orc_timer *t)
{
    if (!t->armed) return;
    orc_list_remove(&t->link);
    t->armed = false;
}

void orc_clock_fake_advance(orc_clock *c, uint64_t ms)
{
    uint64_t target = c->now + ms;

    assert(c->loop == NULL);
    while (!orc_list_empty(&c->armed)) {
        orc_timer *t = ORC_CONTAINER(c->armed.next, orc_timer, link);
        if (t->due > target) break;
        fake_disarm(t);
        if (t->due > c->now) c->now = t->due;
        t->cb(t->arg); /* may close t */
    }
    c->now = target;
}

bool orc_clock_fake_next(const orc_clock *c, uint64_t *delay_ms)
{
    const orc_timer *t;

    if (c->loop != NULL || orc_list_empty(&c->armed)) return false;
    t = ORC_CONTAINER(c->armed.next, orc_timer, link);
    if (delay_ms) *delay_ms = t->due > c->now ? t->due - c->now : 0;
    return true;
}

/* ---- timers ---- */

static void on_uv_timer(uv_timer_t *h)
{
    orc_timer *t = h->data;

    t->cb(t->arg);
}

int orc_timer_new(orc_clock *c, orc_timer_cb cb, void *arg, orc_timer **out)
{
    orc_timer *t = calloc(1, sizeof *t);

    if (t == NULL) return ORC_ENOMEM;
    t->c = c;
    t->cb = cb;
    t->arg = arg;
    orc_list_init(&t->link);
    if (c->loop) {
        uv_timer_init(c->loop, &t->uv);
        t->uv.data = t;
    }
    c->timers++;
    *out = t;
    return 0;
}

void orc_timer_start(orc_timer *t, uint64_t delay_ms)
{
    if (t->c->loop) uv_timer_start(&t->uv, on_uv_timer, delay_ms, 0);
    else fake_arm(t, delay_ms);
}

void orc_timer_stop(orc_timer *t)
{
    if (t->c->loop) uv_timer_stop(&t->uv);
    else fake_disarm(t);
}

bool orc_timer_armed(const orc_timer *t)
{
    return t->c->loop ? uv_is_active((const uv_handle_t *)&t->uv) != 0 : t->armed;
}

static void on_uv_closed(uv_handle_t *h) { free(h->data); }

void orc_timer_close(orc_timer *t)
{
    if (t == NULL) return;
    t->c->timers--;
    if (t->c->loop) {
        uv_close((uv_handle_t *)&t->uv, on_uv_closed);
        return;
    }
    fake_disarm(t);
    free(t);
}
