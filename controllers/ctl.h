/* ctl.h — what every controller (and the scheduler) gets and gives: the
 * shared context on the controller manager's loop, and one table entry per
 * controller. Each controller has the same shape: informers from the shared
 * set -> handlers adding keys ("ns/name") to its workqueue -> reconcile(key)
 * reading the caches and making one idempotent step toward the desired state
 * through client/rest, ending with workqueue_done (WQ_RETRY on failure).
 *
 * Decisions are kept in functions of (cached objects, clock time) so unit
 * tests drive them on a fake clock (lib/clock.h); the wiring is tested end
 * to end against real orcd processes. */
#ifndef ORC_CONTROLLERS_CTL_H
#define ORC_CONTROLLERS_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "client/events.h"
#include "client/http.h"
#include "client/informer.h"
#include "lib/clock.h"

/* Settings from orcd's flags; zero fields take the defaults named. */
struct ctl_options {
    unsigned node_monitor_grace_ms;    /* lease not renewed -> Ready=Unknown; 20000 */
    unsigned pod_eviction_timeout_ms;  /* default toleration of the unreachable/
                                          not-ready NoExecute taints; 30000 */
    unsigned sched_weight_cpu;         /* most-allocated score weights; 1 */
    unsigned sched_weight_memory;      /* 1 */
    unsigned sched_weight_spread;      /* owner spread tie-breaker; 1 */
    unsigned hpa_sync_ms;              /* each HPA looked at this often; 15000 */
    unsigned hpa_downscale_window_ms;  /* scale-down window of HPAs that set none;
                                          300000 */
    const char *host;                  /* this member's name, for Events */
};

/* Everything is borrowed from the manager and lives until every controller
 * stopped. */
struct ctl_ctx {
    uv_loop_t *loop;
    orc_clock *clock;
    http_client *api;          /* this member's API, as the cluster admin */
    informer_set *informers;   /* shared caches: get one per kind */
    const struct ctl_options *opts;
    const char *ca_pem;        /* the cluster CA's PEM; NULL on plain HTTP */
};

struct ctl_controller {
    const char *name; /* "replicaset": logs, metrics, --controllers */
    /* Sets up informer handlers, queue and recorder; *state is the
     * controller's. 0, or ORC_E* (the manager logs it and goes on without
     * this controller). */
    int (*start)(struct ctl_ctx *ctx, void **state);
    /* Stops: no API call is started after it returns; calls in flight end
     * on the loop (their callbacks must cope with a stopped controller,
     * e.g. by holding a reference). */
    void (*stop)(void *state);
};

/* The controllers the manager runs, in start order; NULL-terminated.
 * (controllers/manager.c holds the table; each controller file exports one
 * `const struct ctl_controller ctl_<name>`, declared in its header, and
 * builds it on controllers/ctl_base.h.) */
extern const struct ctl_controller *const ctl_all[];

#endif
