/* cronjob.h — the CronJob controller's decisions as pure functions of (the
 * CronJob, the Jobs it owns, the wall clock), unit-tested on chosen times;
 * controllers/cronjob.c wires them to informers, a workqueue and the API.
 *
 * A Job is named "<cronjob>-<scheduled time in minutes since the epoch>",
 * as Kubernetes names it, so two controllers (an old and a new leader) can
 * never create two Jobs for one scheduled time: the second create gets 409
 * AlreadyExists, which counts as done. */
#ifndef ORC_CONTROLLERS_CRONJOB_H
#define ORC_CONTROLLERS_CRONJOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controllers/ctl.h"

extern const struct ctl_controller ctl_cronjob;

#define CRONJOB_SCHEDULED_KEY "batch.kubernetes.io/cronjob-scheduled-timestamp"
/* Kubernetes' limit before it warns TooManyMissedTimes. */
#define CRONJOB_MAX_MISSED 100
#define CRONJOB_MAX_EVENTS 8

struct cronjob_event {
    const char *type, *reason; /* static */
    char msg[256];
};

struct cronjob_plan {
    json_t *status;      /* the status to write (new ref), NULL when unchanged */
    json_t *create;      /* the Job to create (new ref), NULL for none; write the
                            status after it was created (or already existed) */
    const json_t **del;  /* Jobs to delete, Background (borrowed from the jobs given):
                            replaced by concurrencyPolicy Replace, or past the
                            history limits */
    size_t ndel;
    int64_t requeue_ms;  /* > 0: look again then (the next schedule time) */
    struct cronjob_event events[CRONJOB_MAX_EVENTS];
    size_t nevents;
};

/* Decides the next step for `cj` given the Jobs it controls (`jobs`, n,
 * borrowed) at wall time now_ms (Unix ms). Reads spec.timeZone's zone
 * from the system zone database; a zone or schedule it cannot use gives an
 * event (UnknownTimeZone, InvalidSchedule) and no run, never an error.
 * 0 or ORC_ENOMEM. Free with cronjob_plan_free. */
int cronjob_plan(const json_t *cj, const json_t *const *jobs, size_t n, int64_t now_ms,
                 struct cronjob_plan *out);
void cronjob_plan_free(struct cronjob_plan *p);

/* The name of the Job for scheduled time t (Unix seconds), into out. */
void cronjob_job_name(const char *cronjob, int64_t t, char *out, size_t n);

/* The most recent scheduled time in (earliest, now] (Unix seconds) of
 * schedule c on zone z (NULL: UTC), or -1 when none; *missed gets how
 * many there were, counted up to CRONJOB_MAX_MISSED + 1. */
struct orc_cron;
struct orc_tz;
int64_t cronjob_most_recent(const struct orc_cron *c, const struct orc_tz *z, int64_t earliest,
                            int64_t now, int *missed);

#endif
