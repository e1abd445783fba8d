/* workqueue.h — the keyed, de-duplicating work queue every controller and the
 * scheduler feed from their informers (client-go's rate-limited workqueue):
 * a key added many times before it is processed is processed once; a key
 * being processed is never processed twice at once (an add meanwhile makes
 * it run again after); failures come back with per-key exponential back-off.
 * One timer (from lib/clock) serves every delayed key.
 *
 * Single-threaded, on the clock's loop. Keys are strings ("ns/name", or
 * "name" for cluster-scoped objects), copied. */
#ifndef ORC_CLIENT_WORKQUEUE_H
#define ORC_CLIENT_WORKQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/clock.h"

typedef struct workqueue workqueue;

/* Called with a key to process; the key is valid until workqueue_done is
 * called for it. The handler may finish at once or later (after API calls);
 * either way it must call workqueue_done exactly once per call. */
typedef void (*workqueue_fn)(void *arg, const char *key);

struct workqueue_config {
    const char *name;          /* for logs ("replicaset"); copied */
    unsigned workers;          /* keys processed at once; 0 = 4 */
    unsigned base_delay_ms;    /* first back-off after a failure; 0 = 5 */
    unsigned max_delay_ms;     /* back-off cap; 0 = 60000 */
    /* Optional order of the ready keys (the scheduler's PrioritySort): asked
     * once for a key each time it becomes ready (an add, a delay ending),
     * with the queue's arg; higher ranks are handed out first, equal ranks
     * in the order they became ready, at O(log n) a key. NULL: first in,
     * first out. It must not call back into the queue. */
    int64_t (*rank)(void *arg, const char *key);
};

/* 0, ORC_EINVAL (no clock or fn), ORC_ENOMEM. `c` is borrowed and must
 * outlive the queue. fn is never called from inside a workqueue_* call:
 * dispatch happens from a zero-delay timer on the clock. */
int workqueue_new(orc_clock *c, const struct workqueue_config *cfg, workqueue_fn fn, void *arg,
                  workqueue **out);

/* Queues the key now (a no-op when already queued and not yet processing;
 * when processing, it runs once more after). Replaces a later delayed add. */
int workqueue_add(workqueue *q, const char *key);
/* Queues the key after `delay_ms` (an earlier pending add wins). */
int workqueue_add_after(workqueue *q, const char *key, uint64_t delay_ms);
/* Queues the key after its back-off: base_delay * 2^failures, capped. */
int workqueue_add_rate_limited(workqueue *q, const char *key);
/* Resets the key's failure count. */
void workqueue_forget(workqueue *q, const char *key);
/* Failures recorded for the key since the last forget. */
unsigned workqueue_failures(const workqueue *q, const char *key);

/* How a handler ends a key:
 *   WQ_DONE    success: forget its back-off;
 *   WQ_RETRY   failure: re-add rate-limited (back-off grows);
 *   n > 0      success, but look again in n milliseconds (a deadline,
 *              minReadySeconds, a cron time): forget, then add_after(n). */
enum { WQ_DONE = 0, WQ_RETRY = -1 };
void workqueue_done(workqueue *q, const char *key, int64_t outcome);

/* Keys queued now (not delayed, not processing): the depth metric. */
size_t workqueue_len(const workqueue *q);
/* Keys queued, delayed or processing. */
size_t workqueue_pending(const workqueue *q);

/* Shuts the queue down: pending and delayed keys are dropped and fn is never
 * called again. Keys still processing may (and must) still be ended with
 * workqueue_done; the memory is freed after the last of them, or at once
 * when none is processing. NULL ignored. */
void workqueue_free(workqueue *q);

#endif
