/* workqueue.c — the keyed work queue (see workqueue.h). Every key known to the
 * queue has one record in a hash map; a record sits on the ready list (a heap
 * by rank when the queue has a rank function), in the min-heap of delayed
 * keys (ordered by due time, served by one timer), or is
 * processing (with `dirty` when added meanwhile), and lingers while it has
 * recorded failures. Dispatch runs from a zero-delay timer. */
#include "client/workqueue.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/hmap.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/orc.h"

#define DEF_WORKERS 4
#define DEF_BASE_MS 5
#define DEF_MAX_MS 60000

struct wq_item {
    struct orc_hnode node;
    struct orc_link link; /* in q->ready while queued */
    uint64_t due;         /* while delayed */
    size_t heap_at;       /* index in q->delayed or q->ranked */
    int64_t rank;         /* while ready in q->ranked */
    uint64_t seq;         /* when it became ready, for equal ranks */
    uint64_t ready_ns, start_ns; /* metrics: when it became ready, began processing */
    unsigned failures;
    bool queued, delayed, processing, dirty;
    char key[];
};

struct wq_heap {
    struct wq_item **a;
    size_t n, cap;
    bool (*before)(const struct wq_item *a, const struct wq_item *b);
};

struct workqueue {
    orc_clock *clock;
    workqueue_fn fn;
    void *arg;
    char *name;
    unsigned workers, base_ms, max_ms;
    struct orc_hmap items;
    struct orc_link ready; /* without rank: first in, first out */
    struct wq_heap ranked; /* with rank: highest first */
    int64_t (*rank)(void *arg, const char *key);
    uint64_t seq;
    size_t nready, npending, nprocessing;
    struct wq_heap delayed; /* earliest first */
    orc_timer *dispatch;   /* zero-delay: runs handlers */
    orc_timer *delay;      /* at the earliest delayed key's due time */
    int busy;              /* dispatching: freeing waits */
    bool shutdown;
    /* client-go's workqueue metrics, labelled with the queue's name */
    struct orc_series *m_depth, *m_adds, *m_retries, *m_queue, *m_work;
};

/* ---- metrics ---- */

/* client-go's buckets: 10 ns to 10 s, by tens. */
static const double wq_buckets[] = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct orc_series *wq_series(const char *name, const char *help, enum orc_metric_type t,
                                    const char *queue)
{
    static const char *const labels[] = {"name", NULL};
    struct orc_metric_opts o = {.name = name, .help = help, .type = t, .labels = labels, .max_series = 100};

    if (t == ORC_METRIC_HISTOGRAM) {
        o.buckets = wq_buckets;
        o.n_buckets = sizeof wq_buckets / sizeof *wq_buckets;
    }
    return orc_metric_withv(orc_metric_register(orc_metrics_default(), &o), queue);
}

static void metrics_init(workqueue *q)
{
    q->m_depth = wq_series("workqueue_depth", "Current depth of workqueue", ORC_METRIC_GAUGE, q->name);
    q->m_adds = wq_series("workqueue_adds_total", "Total number of adds handled by workqueue",
                          ORC_METRIC_COUNTER, q->name);
    q->m_retries = wq_series("workqueue_retries_total", "Total number of retries handled by workqueue",
                             ORC_METRIC_COUNTER, q->name);
    q->m_queue = wq_series("workqueue_queue_duration_seconds",
                           "How long in seconds an item stays in workqueue before being requested.",
                           ORC_METRIC_HISTOGRAM, q->name);
    q->m_work = wq_series("workqueue_work_duration_seconds",
                          "How long in seconds processing an item from workqueue takes.",
                          ORC_METRIC_HISTOGRAM, q->name);
}

/* ---- records ---- */

static bool is_pending(const struct wq_item *it)
{
    return it->queued || it->delayed || it->processing;
}

static struct wq_item *item_find(const workqueue *q, const char *key)
{
    struct orc_hnode *n = orc_hmap_get(&q->items, key);

    return n ? ORC_CONTAINER(n, struct wq_item, node) : NULL;
}

static struct wq_item *item_get(workqueue *q, const char *key)
{
    struct wq_item *it = item_find(q, key);
    size_t len;

    if (it) return it;
    len = strlen(key);
    it = calloc(1, sizeof *it + len + 1);
    if (it == NULL) return NULL;
    memcpy(it->key, key, len + 1);
    it->node.key = it->key;
    orc_list_init(&it->link);
    if (orc_hmap_put(&q->items, &it->node) != 0) {
        free(it);
        return NULL;
    }
    return it;
}

/* After a change of `it`'s state (`was`: pending before): keeps the pending
 * count and drops a record nothing refers to any more. */
static void item_settle(workqueue *q, struct wq_item *it, bool was)
{
    bool now = is_pending(it);

    if (was && !now) q->npending--;
    if (!was && now) q->npending++;
    if (!now && (it->failures == 0 || q->shutdown)) {
        orc_hmap_del(&q->items, &it->node);
        free(it);
    }
}

/* ---- heaps: the delayed keys (earliest due first) and, with a rank
 * function, the ready keys (highest rank first, then first come). A key is
 * never delayed and ready at once, so one index serves both. ---- */

static bool due_before(const struct wq_item *a, const struct wq_item *b)
{
    return a->due < b->due;
}

static bool rank_before(const struct wq_item *a, const struct wq_item *b)
{
    return a->rank > b->rank || (a->rank == b->rank && a->seq < b->seq);
}

static void heap_set(struct wq_heap *h, size_t i, struct wq_item *it)
{
    h->a[i] = it;
    it->heap_at = i;
}

static void heap_up(struct wq_heap *h, size_t i)
{
    struct wq_item *it = h->a[i];

    while (i > 0 && h->before(it, h->a[(i - 1) / 2])) {
        heap_set(h, i, h->a[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(h, i, it);
}

static void heap_down(struct wq_heap *h, size_t i)
{
    struct wq_item *it = h->a[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && h->before(h->a[c + 1], h->a[c])) c++;
        if (!h->before(h->a[c], it)) break;
        heap_set(h, i, h->a[c]);
        i = c;
    }
    heap_set(h, i, it);
}

static int heap_push(struct wq_heap *h, struct wq_item *it)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct wq_item **a = realloc(h->a, cap * sizeof *a);
        if (a == NULL) return ORC_ENOMEM;
        h->a = a;
        h->cap = cap;
    }
    heap_set(h, h->n++, it);
    heap_up(h, h->n - 1);
    return 0;
}

static void heap_remove(struct wq_heap *h, struct wq_item *it)
{
    size_t i = it->heap_at;
    struct wq_item *last = h->a[--h->n];

    if (i == h->n) return;
    heap_set(h, i, last);
    heap_up(h, i);
    heap_down(h, last->heap_at);
}

/* The delay timer follows the earliest due time. */
static void arm_delay(workqueue *q)
{
    uint64_t now;

    if (q->delayed.n == 0) {
        orc_timer_stop(q->delay);
        return;
    }
    now = orc_clock_now(q->clock);
    orc_timer_start(q->delay, q->delayed.a[0]->due > now ? q->delayed.a[0]->due - now : 0);
}

/* ---- state changes ---- */

static void kick(workqueue *q)
{
    if (!q->shutdown && !orc_timer_armed(q->dispatch)) orc_timer_start(q->dispatch, 0);
}

/* Makes `it` ready: in the rank heap when the queue ranks keys (out of
 * memory there, it waits on the list, served after every ranked key). */
static void make_ready(workqueue *q, struct wq_item *it)
{
    it->queued = true;
    q->nready++;
    it->ready_ns = now_ns();
    orc_series_inc(q->m_adds);
    orc_series_set(q->m_depth, (double)q->nready);
    if (q->rank) {
        it->rank = q->rank(q->arg, it->key);
        it->seq = q->seq++;
        if (heap_push(&q->ranked, it) == 0) return;
    }
    orc_list_push(&q->ready, &it->link);
}

/* The next ready key: the highest ranked, else the list's first. */
static struct wq_item *take_ready(workqueue *q)
{
    struct wq_item *it;

    q->nready--;
    if (q->ranked.n > 0) {
        it = q->ranked.a[0];
        heap_remove(&q->ranked, it);
    } else {
        it = ORC_CONTAINER(q->ready.next, struct wq_item, link);
        orc_list_remove(&it->link);
    }
    it->queued = false;
    it->start_ns = now_ns();
    orc_series_observe(q->m_queue, (double)(it->start_ns - it->ready_ns) / 1e9);
    orc_series_set(q->m_depth, (double)q->nready);
    return it;
}

/* Queues `it` now: behind its processing when processing (dirty), else
 * ready; a delayed add of it is dropped. */
static void enqueue(workqueue *q, struct wq_item *it)
{
    if (it->delayed) {
        heap_remove(&q->delayed, it);
        it->delayed = false;
        arm_delay(q);
    }
    if (it->processing) {
        it->dirty = true;
    } else if (!it->queued) {
        make_ready(q, it);
        kick(q);
    }
}

static int delay_item(workqueue *q, struct wq_item *it, uint64_t delay_ms)
{
    uint64_t due = orc_clock_now(q->clock) + delay_ms;

    if (it->queued || (it->processing && it->dirty)) return 0; /* sooner already */
    if (it->delayed) {
        if (due >= it->due) return 0;
        it->due = due;
        heap_up(&q->delayed, it->heap_at);
    } else {
        it->due = due;
        if (heap_push(&q->delayed, it) != 0) return ORC_ENOMEM;
        it->delayed = true;
    }
    arm_delay(q);
    return 0;
}

static void on_delay(void *arg)
{
    workqueue *q = arg;
    uint64_t now = orc_clock_now(q->clock);

    while (q->delayed.n > 0 && q->delayed.a[0]->due <= now) {
        struct wq_item *it = q->delayed.a[0];
        heap_remove(&q->delayed, it);
        it->delayed = false;
        enqueue(q, it);
    }
    arm_delay(q);
}

static void maybe_release(workqueue *q);

static void on_dispatch(void *arg)
{
    workqueue *q = arg;
    size_t budget = q->nready; /* keys a handler re-adds at once wait a tick */

    q->busy++;
    while (!q->shutdown && budget-- > 0 && q->nready > 0 && q->nprocessing < q->workers) {
        struct wq_item *it = take_ready(q);
        it->processing = true;
        q->nprocessing++;
        q->fn(q->arg, it->key);
    }
    q->busy--;
    if (q->shutdown) maybe_release(q);
    else if (q->nready > 0 && q->nprocessing < q->workers) kick(q);
}

/* ---- public ---- */

int workqueue_new(orc_clock *c, const struct workqueue_config *cfg, workqueue_fn fn, void *arg,
                  workqueue **out)
{
    workqueue *q;

    if (c == NULL || fn == NULL || out == NULL) return ORC_EINVAL;
    q = calloc(1, sizeof *q);
    if (q == NULL) return ORC_ENOMEM;
    q->clock = c;
    q->fn = fn;
    q->arg = arg;
    q->workers = cfg && cfg->workers ? cfg->workers : DEF_WORKERS;
    q->base_ms = cfg && cfg->base_delay_ms ? cfg->base_delay_ms : DEF_BASE_MS;
    q->max_ms = cfg && cfg->max_delay_ms ? cfg->max_delay_ms : DEF_MAX_MS;
    q->name = strdup(cfg && cfg->name ? cfg->name : "workqueue");
    orc_list_init(&q->ready);
    q->delayed.before = due_before;
    q->ranked.before = rank_before;
    q->rank = cfg ? cfg->rank : NULL;
    if (q->name == NULL || orc_timer_new(c, on_dispatch, q, &q->dispatch) != 0 ||
        orc_timer_new(c, on_delay, q, &q->delay) != 0) {
        orc_timer_close(q->dispatch);
        free(q->name);
        free(q);
        return ORC_ENOMEM;
    }
    metrics_init(q);
    *out = q;
    return 0;
}

int workqueue_add(workqueue *q, const char *key)
{
    struct wq_item *it;
    bool was;

    assert(q != NULL && key != NULL);
    if (q->shutdown) return ORC_ESHUTDOWN;
    it = item_get(q, key);
    if (it == NULL) return ORC_ENOMEM;
    was = is_pending(it);
    enqueue(q, it);
    item_settle(q, it, was);
    return 0;
}

int workqueue_add_after(workqueue *q, const char *key, uint64_t delay_ms)
{
    struct wq_item *it;
    bool was;
    int rv;

    assert(q != NULL && key != NULL);
    if (delay_ms == 0) return workqueue_add(q, key);
    if (q->shutdown) return ORC_ESHUTDOWN;
    it = item_get(q, key);
    if (it == NULL) return ORC_ENOMEM;
    was = is_pending(it);
    rv = delay_item(q, it, delay_ms);
    item_settle(q, it, was);
    return rv;
}

static uint64_t backoff_ms(const workqueue *q, unsigned failures)
{
    uint64_t d = q->base_ms;

    for (unsigned i = 0; i < failures && d < q->max_ms; i++) d *= 2;
    return d < q->max_ms ? d : q->max_ms;
}

/* Records one more failure and delays the key by its back-off. */
static int retry_item(workqueue *q, struct wq_item *it)
{
    uint64_t delay = backoff_ms(q, it->failures);

    it->failures++;
    orc_series_inc(q->m_retries);
    log_debug("workqueue", "%s: %s failed %u times; again in %llu ms", q->name, it->key,
              it->failures, (unsigned long long)delay);
    return delay_item(q, it, delay);
}

int workqueue_add_rate_limited(workqueue *q, const char *key)
{
    struct wq_item *it;
    bool was;
    int rv;

    assert(q != NULL && key != NULL);
    if (q->shutdown) return ORC_ESHUTDOWN;
    it = item_get(q, key);
    if (it == NULL) return ORC_ENOMEM;
    was = is_pending(it);
    rv = retry_item(q, it);
    item_settle(q, it, was);
    return rv;
}

void workqueue_forget(workqueue *q, const char *key)
{
    struct wq_item *it = item_find(q, key);

    if (it == NULL) return;
    it->failures = 0;
    item_settle(q, it, is_pending(it));
}

unsigned workqueue_failures(const workqueue *q, const char *key)
{
    const struct wq_item *it = item_find(q, key);

    return it ? it->failures : 0;
}

static void maybe_release(workqueue *q)
{
    if (q->nprocessing > 0 || q->busy > 0) return;
    orc_hmap_free(&q->items);
    free(q->delayed.a);
    free(q->ranked.a);
    free(q->name);
    free(q);
}

void workqueue_done(workqueue *q, const char *key, int64_t outcome)
{
    struct wq_item *it = item_find(q, key);

    if (it == NULL || !it->processing) {
        log_error("workqueue", "%s: done for %s, which is not processing", q->name, key);
        return;
    }
    it->processing = false;
    q->nprocessing--;
    orc_series_observe(q->m_work, (double)(now_ns() - it->start_ns) / 1e9);
    if (q->shutdown) {
        item_settle(q, it, true);
        maybe_release(q);
        return;
    }
    if (it->dirty) {
        it->dirty = false;
        enqueue(q, it);
    }
    if (outcome < 0) { /* WQ_RETRY */
        retry_item(q, it);
    } else {
        it->failures = 0;
        if (outcome > 0) delay_item(q, it, (uint64_t)outcome);
    }
    item_settle(q, it, true);
    if (q->nready > 0) kick(q); /* a worker is free */
}

size_t workqueue_len(const workqueue *q) { return q->nready; }

size_t workqueue_pending(const workqueue *q) { return q->npending; }

void workqueue_free(workqueue *q)
{
    struct orc_hnode *n, *next;

    if (q == NULL || q->shutdown) return;
    q->shutdown = true;
    orc_series_set(q->m_depth, 0);
    orc_timer_close(q->dispatch);
    orc_timer_close(q->delay);
    for (n = orc_hmap_first(&q->items); n; n = next) {
        struct wq_item *it = ORC_CONTAINER(n, struct wq_item, node);
        next = orc_hmap_next(&q->items, n);
        if (it->processing) continue;
        orc_hmap_del(&q->items, n);
        free(it);
    }
    orc_list_init(&q->ready);
    q->nready = q->delayed.n = q->ranked.n = 0;
    maybe_release(q);
}
