/* ctl_op.c — counting a reconcile's API calls down to one continuation (see
 * ctl_op.h). */
#include "controllers/ctl_op.h"

#include <stdio.h>
#include <stdlib.h>

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
