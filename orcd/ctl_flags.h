/* ctl_flags.h — `orcd server` flags of the scheduler and the controllers,
 * parsed apart from the other flags, and the part of orcd that runs the
 * controller manager while this member leads. */
#ifndef ORC_ORCD_CTL_FLAGS_H
#define ORC_ORCD_CTL_FLAGS_H

#include <getopt.h>
#include <uv.h>

#include "controllers/manager.h"
#include "store/store.h"

/* getopt_long entries, every one returning `val`: tell them apart by name. */
#define ORCD_CTL_OPTIONS(val)                                                                   \
    {"controllers", required_argument, 0, (val)},                                               \
    {"horizontal-pod-autoscaler-sync-period", required_argument, 0, (val)},                     \
    {"horizontal-pod-autoscaler-downscale-stabilization", required_argument, 0, (val)},         \
    {"node-monitor-grace-period", required_argument, 0, (val)},                                 \
    {"pod-eviction-timeout", required_argument, 0, (val)},                                      \
    {"scheduler-weight-cpu", required_argument, 0, (val)},                                      \
    {"scheduler-weight-memory", required_argument, 0, (val)},                                   \
    {"scheduler-weight-spread", required_argument, 0, (val)}

#define ORCD_CTL_USAGE                                                                          \
    "  --controllers LIST     which controllers run on the leader: \"*\" (default) is all,\n"  \
    "                         \"-name\" leaves one out, \"name\" adds one (as\n"                \
    "                         kube-controller-manager); \"-*\" runs none\n"                     \
    "  --horizontal-pod-autoscaler-sync-period D  how often each HPA is looked at\n"          \
    "                         (default 15s)\n"                                                   \
    "  --horizontal-pod-autoscaler-downscale-stabilization D  the scale-down window\n"         \
    "                         of HPAs that set none (default 5m)\n"                             \
    "  --node-monitor-grace-period D  a node whose Lease is not renewed for D is\n"           \
    "                         NotReady/Unknown and tainted unreachable (default 20s)\n"         \
    "  --pod-eviction-timeout D  how long pods stay on an unreachable or not-ready\n"          \
    "                         node unless they tolerate it otherwise (default 30s)\n"           \
    "  --scheduler-weight-cpu N, --scheduler-weight-memory N\n"                                 \
    "                         weights of the bin-packing score (default 1 each)\n"              \
    "  --scheduler-weight-spread N  weight of spreading one owner's pods (default 1)\n"

/* One flag into cfg (value strings borrowed from argv): 0, or -1 after
 * printing why the value is refused. */
int orcd_ctl_flag(const char *name, const char *value, struct ctl_manager_config *cfg);

/* Runs the controller manager while `st` reports this member as leader:
 * started on gaining leadership, stopped on losing it. cfg is copied (its
 * strings too). 0, ORC_ENOSPC (no role watcher free), ORC_ENOMEM. */
struct orcd_ctl;
int orcd_ctl_start(store *st, const struct ctl_manager_config *cfg, struct orcd_ctl **out);
/* Stops the manager if it runs and stops watching. NULL ignored. */
void orcd_ctl_stop(struct orcd_ctl *c);

#endif
