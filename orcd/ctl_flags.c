/* ctl_flags.c — the scheduler's and controllers' flags of `orcd server`, and
 * running the controller manager on the Raft leader only. */
#include "orcd/ctl_flags.h"

#include "orcd/api_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/orc.h"

static int duration(const char *name, const char *value, unsigned *out)
{
    return orcd_flag_duration(name, value, 1000, "a duration from 1s to 24h, like 20s", out);
}

static int weight(const char *name, const char *value, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(value, &end, 10);

    if (*value == '\0' || *end != '\0' || v > 100) return orcd_flag_bad(name, value, "a number from 0 to 100");
    *out = (unsigned)v;
    return 0;
}

int orcd_ctl_flag(const char *name, const char *value, struct ctl_manager_config *cfg)
{
    struct ctl_options *o = &cfg->opts;
    char msg[256];

    if (strcmp(name, "controllers") == 0) {
        if (ctl_manager_check_list(value, msg) != 0) {
            fprintf(stderr, "orcd server: %s\n", msg);
            return -1;
        }
        cfg->controllers = value;
        return 0;
    }
    if (strcmp(name, "horizontal-pod-autoscaler-sync-period") == 0)
        return duration(name, value, &o->hpa_sync_ms);
    if (strcmp(name, "horizontal-pod-autoscaler-downscale-stabilization") == 0)
        return duration(name, value, &o->hpa_downscale_window_ms);
    if (strcmp(name, "node-monitor-grace-period") == 0)
        return duration(name, value, &o->node_monitor_grace_ms);
    if (strcmp(name, "pod-eviction-timeout") == 0) return duration(name, value, &o->pod_eviction_timeout_ms);
    if (strcmp(name, "scheduler-weight-cpu") == 0) return weight(name, value, &o->sched_weight_cpu);
    if (strcmp(name, "scheduler-weight-memory") == 0) return weight(name, value, &o->sched_weight_memory);
    if (strcmp(name, "scheduler-weight-spread") == 0) return weight(name, value, &o->sched_weight_spread);
    return orcd_flag_bad(name, value, "a known flag");
}

/* ---- the manager on the leader ---- */

struct orcd_ctl {
    store *st;
    struct ctl_manager_config cfg;
    char *strs[5]; /* owned copies behind cfg */
    ctl_manager *m;
};

static void on_role(void *arg, bool leader)
{
    struct orcd_ctl *c = arg;

    if (leader && c->m == NULL) {
        log_info("orcd", "this member leads: starting the scheduler and controllers");
        if (ctl_manager_start(&c->cfg, &c->m) != 0) c->m = NULL;
    } else if (!leader && c->m) {
        log_info("orcd", "this member no longer leads: stopping the scheduler and controllers");
        ctl_manager_stop(c->m);
        c->m = NULL;
    }
}

static void free_ctl(struct orcd_ctl *c)
{
    if (c->strs[1]) explicit_bzero(c->strs[1], strlen(c->strs[1]));
    for (size_t i = 0; i < ORC_ARRAY_LEN(c->strs); i++) free(c->strs[i]);
    free(c);
}

static int copy(struct orcd_ctl *c, size_t i, const char **field)
{
    if (*field == NULL) return 0;
    if ((c->strs[i] = strdup(*field)) == NULL) return ORC_ENOMEM;
    *field = c->strs[i];
    return 0;
}

int orcd_ctl_start(store *st, const struct ctl_manager_config *cfg, struct orcd_ctl **out)
{
    struct orcd_ctl *c = calloc(1, sizeof *c);
    int rv = 0;

    if (c == NULL) return ORC_ENOMEM;
    c->st = st;
    c->cfg = *cfg;
    const char **fields[] = {&c->cfg.server_url, &c->cfg.token, &c->cfg.ca_pem,
                             &c->cfg.controllers, &c->cfg.opts.host};
    for (size_t i = 0; i < ORC_ARRAY_LEN(fields) && rv == 0; i++) rv = copy(c, i, fields[i]);
    if (rv == 0) rv = store_role_watch(st, on_role, c);
    if (rv != 0) {
        free_ctl(c);
        return rv;
    }
    *out = c;
    if (store_is_leader(st)) on_role(c, true);
    return 0;
}

void orcd_ctl_stop(struct orcd_ctl *c)
{
    if (c == NULL) return;
    store_role_unwatch(c->st, on_role, c);
    ctl_manager_stop(c->m);
    free_ctl(c);
}
