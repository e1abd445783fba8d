/* ctl_op.h — a reconcile's API calls counted down to the last: each call's
 * answer goes to the op, and `done` runs once after the last one ended (or
 * at once when none was started). The op holds the first failure's message.
 * A ctl_step is an op whose `done` ends the reconcile's key on the workqueue
 * (WQ_RETRY when any call failed, else the requeue delay asked for) and
 * releases the controller (the Job, CronJob, DaemonSet, node lifecycle and
 * StatefulSet controllers use it).
 * Single-threaded, on the controller's loop. */
#ifndef ORC_CONTROLLERS_CTL_OP_H
#define ORC_CONTROLLERS_CTL_OP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/workqueue.h"

struct ctl_op;
/* Called for each answer; returns true when it counts as success. NULL: 2xx
 * succeeds. */
typedef bool (*ctl_op_check)(struct ctl_op *op, void *tag, int status, const json_t *body);

struct ctl_op {
    unsigned pending;
    bool failed, armed;
    bool conflict; /* a failure was a 409 (a stale cache: retried, not logged) */
    char err[256];
    ctl_op_check check;
    void (*done)(struct ctl_op *op);
};

struct ctl_call {
    struct ctl_op *op;
    void *tag;
};

/* A call slot for the next request (pending + 1); NULL on ENOMEM (the op is
 * marked failed). Pass ctl_op_answer and the slot to the rest_* function;
 * when that returns an error, give the slot back with ctl_op_unstarted. */
struct ctl_call *ctl_op_call(struct ctl_op *op, void *tag);
void ctl_op_answer(void *call, int status, const json_t *body);
void ctl_op_unstarted(struct ctl_call *call, int err);
/* Records a failure message (the first one is kept). */
void ctl_op_fail(struct ctl_op *op, const char *msg);
/* Every call was started: `done` runs once the last ends (now if none). */
void ctl_op_arm(struct ctl_op *op);

/* One more call in flight, counted by hand (no ctl_call slot) / that call
 * ended: the last one ends an armed op. */
void ctl_op_hold(struct ctl_op *op);
void ctl_op_put(struct ctl_op *op);

/* One reconcile's step: an op armed from the start, whose own hold is the
 * reconcile's (ended by its last ctl_step_put). A step holds a reference on
 * its controller through `release` so calls in flight outlive a stop. */
struct ctl_step {
    struct ctl_op op;      /* op.failed: a call failed, the key is retried */
    workqueue *q;
    char *key;             /* owned */
    json_t *obj;           /* the object reconciled (a reference), or NULL */
    int64_t requeue_ms;    /* > 0: look again then */
    void (*release)(void *owner); /* called once the step ends */
    void *owner;
};

/* A step for `key` (copied) holding `obj` (a new reference taken; NULL
 * allowed), with the reconcile's own hold. NULL on ENOMEM. */
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
