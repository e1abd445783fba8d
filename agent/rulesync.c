/* rulesync.c — the batched, one-at-a-time rule sync loop (rulesync.h). */
#include "agent/rulesync.h"

#include "agent/agent_int.h"
#include "lib/orc.h"

static void tick(uv_timer_t *t);

/* The next run in ms, unless one is due sooner. */
static void schedule(struct agent_rulesync *s, uint64_t ms)
{
    if (s->stopping || !s->timer_open) return;
    if (uv_is_active((uv_handle_t *)&s->timer) && uv_timer_get_due_in(&s->timer) <= ms) return;
    uv_timer_start(&s->timer, tick, ms, 0);
}

void agent_rulesync_changed(struct agent_rulesync *s)
{
    s->dirty = true;
    schedule(s, s->batch_ms);
}

static void on_add(void *arg, const json_t *obj)
{
    (void)obj;
    agent_rulesync_changed(arg);
}

static void on_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    (void)obj;
    agent_rulesync_changed(arg);
}

static void on_synced(void *arg) { agent_rulesync_changed(arg); }

const struct informer_cbs agent_rulesync_cbs = {on_add, on_update, on_add, on_synced};

void agent_rulesync_collect(void *arg, const json_t *obj) { json_array_append((json_t *)arg, (json_t *)obj); }

static void work_cb(uv_work_t *w)
{
    struct agent_rulesync *s = w->data;
    s->ops->work(s->owner);
}

static void done_cb(uv_work_t *w, int status)
{
    struct agent_rulesync *s = w->data;
    struct agent *a = s->a;
    uint64_t next = s->ops->done(s->owner, status);

    s->busy = false;
    if (s->stopping) {
        if (s->closed) s->ops->free(s->owner); /* else timer_closed frees it */
    } else {
        schedule(s, s->dirty && next > s->batch_ms ? s->batch_ms : next);
    }
    agent_release(a);
}

static void tick(uv_timer_t *t)
{
    struct agent_rulesync *s = t->data;
    uint64_t later;

    if (s->busy) return; /* done_cb schedules the next */
    if ((later = s->ops->begin(s->owner)) != 0) {
        schedule(s, later);
        return;
    }
    s->dirty = false;
    s->busy = true;
    s->work.data = s;
    agent_hold(s->a);
    if (uv_queue_work(s->a->loop, &s->work, work_cb, done_cb) != 0) {
        s->busy = false;
        s->dirty = true;
        schedule(s, s->ops->done(s->owner, UV_ENOMEM)); /* a failed run's retry */
        agent_release(s->a);
    }
}

int agent_rulesync_init(struct agent_rulesync *s, struct agent *a, unsigned batch_ms,
                        const struct agent_rulesync_ops *ops, void *owner)
{
    *s = (struct agent_rulesync){.a = a, .ops = ops, .owner = owner, .batch_ms = batch_ms};
    if (uv_timer_init(a->loop, &s->timer) != 0) return ORC_ENOMEM;
    s->timer.data = s;
    s->timer_open = true;
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    struct agent_rulesync *s = h->data;
    struct agent *a = s->a;

    s->closed = true;
    if (!s->busy) s->ops->free(s->owner); /* else done_cb frees it */
    agent_release(a);
}

void agent_rulesync_stop(struct agent_rulesync *s)
{
    s->stopping = true;
    s->timer_open = false;
    agent_hold(s->a);
    uv_close((uv_handle_t *)&s->timer, timer_closed);
}
