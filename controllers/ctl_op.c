/* ctl_op.c — counting a reconcile's API calls down to one continuation, and
 * the step that ends a workqueue key with it (see ctl_op.h). */
#include "controllers/ctl_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "lib/orc.h"

static void maybe_done(struct ctl_op *op)
{
    if (op->armed && op->pending == 0) {
        op->armed = false;
        op->done(op);
    }
}

void ctl_op_fail(struct ctl_op *op, const char *msg)
{
    if (!op->failed) snprintf(op->err, sizeof op->err, "%s", msg);
    op->failed = true;
}

struct ctl_call *ctl_op_call(struct ctl_op *op, void *tag)
{
    struct ctl_call *c = malloc(sizeof *c);
    if (!c) {
        ctl_op_fail(op, "out of memory");
        return NULL;
    }
    c->op = op;
    c->tag = tag;
    op->pending++;
    return c;
}

void ctl_op_answer(void *arg, int status, const json_t *body)
{
    struct ctl_call *c = arg;
    struct ctl_op *op = c->op;
    bool ok = op->check ? op->check(op, c->tag, status, body) : status >= 200 && status < 300;

    if (!ok) ctl_op_fail(op, rest_message(status, body));
    if (!ok && status == 409) op->conflict = true;
    free(c);
    op->pending--;
    maybe_done(op);
}

void ctl_op_unstarted(struct ctl_call *c, int err)
{
    struct ctl_op *op = c->op;
    ctl_op_fail(op, orc_strerror(err));
    free(c);
    op->pending--;
}

void ctl_op_arm(struct ctl_op *op)
{
    op->armed = true;
    maybe_done(op);
}

void ctl_op_hold(struct ctl_op *op)
{
    op->pending++;
}

void ctl_op_put(struct ctl_op *op)
{
    op->pending--;
    maybe_done(op);
}

static void step_done(struct ctl_op *op)
{
    struct ctl_step *s = (struct ctl_step *)op; /* op is the first member */

    workqueue_done(s->q, s->key, op->failed ? WQ_RETRY : s->requeue_ms > 0 ? s->requeue_ms : WQ_DONE);
    if (s->release) s->release(s->owner);
    json_decref(s->obj);
    free(s->key);
    free(s);
}

struct ctl_step *ctl_step_new(workqueue *q, const char *key, const json_t *obj,
                              void (*release)(void *), void *owner)
{
    struct ctl_step *s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return NULL;
    }
    s->op.done = step_done;
    s->op.armed = true;
    s->op.pending = 1;
    s->q = q;
    s->obj = obj ? json_incref((json_t *)obj) : NULL;
    s->release = release;
    s->owner = owner;
    return s;
}

void ctl_step_hold(struct ctl_step *s)
{
    ctl_op_hold(&s->op);
}

void ctl_step_put(struct ctl_step *s)
{
    ctl_op_put(&s->op);
}

bool ctl_status_ok(int status, int also1, int also2)
{
    return (status >= 200 && status < 300) || (also1 && status == also1)
           || (also2 && status == also2);
}
