/* rulesync.h — the loop of a node's kernel rule set kept from informers
 * (the Service proxy's, the NetworkPolicy table's): changes batched on a
 * timer, the rules built and applied on the thread pool one run at a time,
 * the next run scheduled from the last's outcome, and a stop that waits
 * for the run in flight. The owner embeds a struct agent_rulesync and says
 * what a run does through agent_rulesync_ops. Loop thread only. */
#ifndef ORC_AGENT_RULESYNC_H
#define ORC_AGENT_RULESYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "client/informer.h"

struct agent;

struct agent_rulesync_ops {
    /* On the loop: takes the run's input (the informers' objects). 0 to
     * run `work`; else the ms until it is tried again (informers not yet
     * synced, no memory). */
    uint64_t (*begin)(void *owner);
    /* On the thread pool: builds and applies the rules. */
    void (*work)(void *owner);
    /* On the loop: the run's outcome (status: libuv's); returns the ms
     * until the next run when nothing changes (a retry, or a resync).
     * A change seen meanwhile brings the next run to batch_ms. */
    uint64_t (*done)(void *owner, int status);
    /* Frees the owner, once stopped and no run is in flight. */
    void (*free)(void *owner);
};

struct agent_rulesync {
    struct agent *a;
    const struct agent_rulesync_ops *ops;
    void *owner;
    unsigned batch_ms;
    uv_timer_t timer;
    uv_work_t work;
    bool busy, dirty, stopping, timer_open, closed;
};

/* Informer callbacks that mark the rules dirty; their arg is the
 * struct agent_rulesync. */
extern const struct informer_cbs agent_rulesync_cbs;

/* 0, or ORC_E* (the timer). */
int agent_rulesync_init(struct agent_rulesync *s, struct agent *a, unsigned batch_ms,
                        const struct agent_rulesync_ops *ops, void *owner);
/* Something changed: a run within batch_ms. */
void agent_rulesync_changed(struct agent_rulesync *s);
/* Stops: no run starts after; ops->free is called once the timer is
 * closed and any run in flight has ended. */
void agent_rulesync_stop(struct agent_rulesync *s);
/* informer_each callback appending each object to the json array arg. */
void agent_rulesync_collect(void *arg, const json_t *obj);

#endif
