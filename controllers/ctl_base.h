/* ctl_base.h — the part every controller has the same: its context, queue,
 * event recorder, the informers it reads (with its handlers on them), a
 * reference count (the controller's own plus one per reconcile in flight)
 * and the stopped flag. A controller embeds one `struct ctl_base` and
 * starts, stops and holds itself through these helpers, so start() is a
 * list of ctl_base_watch calls and stop() one ctl_base_stop.
 *
 * Single-threaded, on the controller manager's loop. */
#ifndef ORC_CONTROLLERS_CTL_BASE_H
#define ORC_CONTROLLERS_CTL_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "lib/kinds.h"

#define CTL_BASE_MAX_WATCH 8 /* informers one controller reads */

struct ctl_base {
    struct ctl_ctx *ctx;        /* borrowed from the manager */
    workqueue *q;               /* owned; freed by ctl_base_stop (runs in
                                   flight still end their keys on it) */
    event_recorder *rec;        /* owned; NULL once stopped */
    informer *watched[CTL_BASE_MAX_WATCH]; /* borrowed from ctx->informers */
    size_t n_watched;
    void *self;                 /* the embedding controller: the handlers',
                                   reconcile's and free_self's argument */
    void (*free_self)(void *self); /* frees the controller at the last put */
    unsigned refs;
    bool stopped;
};

/* What ctl_base_start sets up: a queue named `name` with `workers` (0: the
 * default) calling reconcile(self, key), and a recorder for Events from
 * `component` (e.g. "job-controller"). */
struct ctl_base_config {
    const char *name;
    unsigned workers;
    const char *component;
    workqueue_fn reconcile;
    void (*free_self)(void *self);
};

/* An informer the controller reads: the shared one of `kind`, with `cbs`
 * (NULL: none, read only) added for self; *out (may be NULL) gets it. */
struct ctl_watch {
    const struct orc_kind *kind;
    const struct informer_cbs *cbs;
    informer **out;
};

/* Fills b (zeroed by the caller, e.g. with calloc) for controller `self`
 * with one reference, and watches the n informers of w. On failure b is
 * stopped and released, which calls free_self: the caller must not free
 * self again. 0, ORC_EINVAL (an unknown kind), ORC_ENOMEM. */
int ctl_base_start(struct ctl_base *b, struct ctl_ctx *ctx, void *self,
                   const struct ctl_base_config *cfg, const struct ctl_watch *w, size_t n);
/* Stopped: no handler runs and no key is taken any more, the recorder is
 * freed, and the controller's own reference is dropped. NULL ignored. */
void ctl_base_stop(struct ctl_base *b);
/* A controller's stop() (struct ctl_controller) when its start() gave the
 * manager its base as the state: ctl_base_stop(state). */
void ctl_base_stop_state(void *state);
/* One more reference (a reconcile whose calls are in flight) / one less:
 * the last calls free_self. */
void ctl_base_hold(struct ctl_base *b);
void ctl_base_put(struct ctl_base *b);
/* The reconcile prologue: true when `key` may be worked on now. Otherwise
 * the key was ended: at once when stopped, or again after not_synced_ms
 * while an informer read is not synced yet. */
bool ctl_base_ready(struct ctl_base *b, const char *key, int64_t not_synced_ms);
/* Writes `field` of `cached` (the informer's object for `key`) as `value`
 * (stolen) through kind k's status subresource, as the reconcile's one
 * step: the key ends when the write is answered (409 or 404 are not
 * failures: the object's own update or deletion queues it again), WQ_RETRY
 * on any other failure or ENOMEM. */
void ctl_base_write_status(struct ctl_base *b, const struct orc_kind *k, const char *key,
                           const json_t *cached, const char *field, json_t *value);

/* Adds the key ("ns/name", or "name") of obj to the queue unless stopped. */
void ctl_base_enqueue(struct ctl_base *b, const json_t *obj);

#endif
