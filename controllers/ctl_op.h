/* ctl_op.h — a group of API calls a reconcile issues at once: each call's
 * answer goes to the op, and `done` runs once after the last one ended (or
 * at once when none was started). The op holds the first failure's message.
 * Single-threaded, on the controller's loop. */
#ifndef ORC_CONTROLLERS_CTL_OP_H
#define ORC_CONTROLLERS_CTL_OP_H

#include <jansson.h>
#include <stdbool.h>

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

#endif
