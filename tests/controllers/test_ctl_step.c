/* test_ctl_step.c — a reconcile's calls counted to the last (controllers/
 * ctl_op.h) on a fake clock: the key ends once, after the last call; a
 * requeue delay brings it back exactly then (a CronJob's next schedule, a
 * Job's back-off); a failed call retries it with the queue's back-off; the
 * owner is released once. */
#include <string.h>

#include "client/workqueue.h"
#include "controllers/ctl_op.h"
#include "tests/harness/test.h"

struct fx {
    orc_clock *c;
    workqueue *q;
    int runs;
    uint64_t last_ms;
    struct ctl_step *held;  /* the step of the current run, left open */
    int released;
};

static void release(void *arg)
{
    ((struct fx *)arg)->released++;
}

static void handler(void *arg, const char *key)
{
    struct fx *f = arg;
    f->runs++;
    f->last_ms = orc_clock_now(f->c);
    f->held = ctl_step_new(f->q, key, NULL, release, f);
    CHECK(f->held != NULL);
}

static void fx_init(struct fx *f)
{
    const struct workqueue_config cfg = {.name = "test", .workers = 1, .base_delay_ms = 100, .max_delay_ms = 1000};
    memset(f, 0, sizeof *f);
    f->c = orc_clock_fake(0);
    CHECK_INT(workqueue_new(f->c, &cfg, handler, f, &f->q), ==, 0);
}

static void fx_done(struct fx *f)
{
    workqueue_free(f->q);
    orc_clock_free(f->c);
}

TEST(key_ends_after_the_last_call_and_comes_back_when_asked)
{
    struct fx f;
    fx_init(&f);
    workqueue_add(f.q, "ns/cj");
    orc_clock_fake_advance(f.c, 0);
    CHECK_INT(f.runs, ==, 1);
    struct ctl_step *s = f.held;
    ctl_step_hold(s); /* two calls in flight */
    ctl_step_hold(s);
    s->requeue_ms = 60100;
    ctl_step_put(s); /* the reconcile returns */
    CHECK_INT(workqueue_pending(f.q), ==, 1); /* still processing */
    ctl_step_put(s);
    CHECK_INT(f.released, ==, 0);
    ctl_step_put(s); /* the last answer */
    CHECK_INT(f.released, ==, 1);
    orc_clock_fake_advance(f.c, 60099);
    CHECK_INT(f.runs, ==, 1);
    orc_clock_fake_advance(f.c, 1);
    CHECK_INT(f.runs, ==, 2);
    CHECK_INT(f.last_ms, ==, 60100);
    ctl_step_put(f.held);
    fx_done(&f);
}

TEST(a_failed_call_retries_with_back_off)
{
    struct fx f;
    fx_init(&f);
    workqueue_add(f.q, "ns/job");
    orc_clock_fake_advance(f.c, 0);
    struct ctl_step *s = f.held;
    ctl_step_hold(s);
    s->requeue_ms = 50000; /* a failure wins over a requeue */
    s->op.failed = true;
    ctl_step_put(s);
    ctl_step_put(s);
    CHECK_INT(workqueue_failures(f.q, "ns/job"), ==, 1);
    orc_clock_fake_advance(f.c, 1000);
    CHECK_INT(f.runs, ==, 2);
    CHECK(f.last_ms <= 1000);
    ctl_step_put(f.held); /* success: forgotten */
    CHECK_INT(workqueue_failures(f.q, "ns/job"), ==, 0);
    CHECK_INT(workqueue_pending(f.q), ==, 0);
    fx_done(&f);
}

TEST(status_ok_accepts_the_named_extras)
{
    CHECK(ctl_status_ok(200, 0, 0));
    CHECK(ctl_status_ok(201, 0, 0));
    CHECK(!ctl_status_ok(404, 0, 0));
    CHECK(ctl_status_ok(404, 404, 0));
    CHECK(ctl_status_ok(409, 404, 409));
    CHECK(!ctl_status_ok(-1000, 404, 409));
}
