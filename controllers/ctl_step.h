/* ctl_step.h — one reconcile's API calls, counted until the last answers,
 * then the key ended on the workqueue once (WQ_RETRY when any call failed,
 * else the requeue delay asked for). Used by the Job and CronJob
 * controllers; a step holds a reference on its controller through the
 * release callback so calls in flight outlive a stop.
 *
 * Single-threaded, on the controller's loop. */
#ifndef ORC_CONTROLLERS_CTL_STEP_H
#define ORC_CONTROLLERS_CTL_STEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/workqueue.h"

struct ctl_step {
    workqueue *q;
    char *key;             /* owned */
    json_t *obj;           /* the object reconciled (a reference), or NULL */
    unsigned pending;      /* calls in flight + 1 while the reconcile runs */
    bool failed;
    int64_t requeue_ms;    /* > 0: look again then */
    void (*release)(void *owner); /* called once the step ends */
    void *owner;
};

/* A step for `key` (copied) holding `obj` (a new reference taken; NULL
 * allowed), with pending = 1. NULL on ENOMEM. */
struct ctl_step *ctl_step_new(workqueue *q, const char *key, const json_t *obj,
                              void (*release)(void *), void *owner);
/* One more call in flight. */
void ctl_step_hold(struct ctl_step *s);
/* One call answered (or the reconcile's own hold ended): the last one ends
 * the key on the queue, releases the owner and frees the step. */
void ctl_step_put(struct ctl_step *s);

/* True for an answer meaning success (2xx), or one of the extra statuses
 * named (e.g. 404 for a delete, 409 for a create of a fixed name). */
bool ctl_status_ok(int status, int also1, int also2);

#endif
