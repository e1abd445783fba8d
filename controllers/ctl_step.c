/* ctl_step.c — one reconcile's API calls counted to the last (ctl_step.h). */
#include "controllers/ctl_step.h"

#include <stdlib.h>
#include <string.h>

struct ctl_step *ctl_step_new(workqueue *q, const char *key, const json_t *obj,
                              void (*release)(void *), void *owner)
{
    struct ctl_step *s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return NULL;
    }
    s->q = q;
    s->obj = obj ? json_incref((json_t *)obj) : NULL;
    s->pending = 1;
    s->release = release;
    s->owner = owner;
    return s;
}

void ctl_step_hold(struct ctl_step *s)
{
    s->pending++;
}

void ctl_step_put(struct ctl_step *s)
{
    if (--s->pending > 0) return;
    workqueue_done(s->q, s->key, s->failed ? WQ_RETRY : s->requeue_ms > 0 ? s->requeue_ms : WQ_DONE);
    if (s->release) s->release(s->owner);
    json_decref(s->obj);
    free(s->key);
    free(s);
}

bool ctl_status_ok(int status, int also1, int also2)
{
    return (status >= 200 && status < 300) || (also1 && status == also1)
           || (also2 && status == also2);
}
