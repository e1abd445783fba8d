/* metrics.c — the scheduler's Prometheus metrics under kube-scheduler's
 * names: each scheduling attempt counted and timed by its result
 * (scheduled, unschedulable, error) for the one profile orc has. */
#include <time.h>

#include "lib/metrics.h"
#include "scheduler/sched_int.h"

#define PROFILE "default-scheduler"

/* kube-scheduler's: exponential from 1 ms, doubling, 15 buckets. */
static const double attempt_buckets[] = {0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128,
                                         0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384};

uint64_t sched_metrics_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sched_metrics_attempt(const char *result, uint64_t start_ns)
{
    static const char *const labels[] = {"result", "profile", NULL};
    struct orc_metrics *m = orc_metrics_default();
    struct orc_metric *total = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "scheduler_schedule_attempts_total",
                                     .help = "Number of attempts to schedule pods, by the result. "
                                             "'unschedulable' means a pod could not be scheduled, while "
                                             "'error' means an internal scheduler problem.",
                                     .type = ORC_METRIC_COUNTER, .labels = labels});
    struct orc_metric *dur = orc_metric_register(
        m, &(struct orc_metric_opts){.name = "scheduler_scheduling_attempt_duration_seconds",
                                     .help = "Scheduling attempt latency in seconds (scheduling algorithm "
                                             "+ binding)",
                                     .type = ORC_METRIC_HISTOGRAM, .labels = labels,
                                     .buckets = attempt_buckets,
                                     .n_buckets = sizeof attempt_buckets / sizeof *attempt_buckets});

    orc_series_inc(orc_metric_withv(total, result, PROFILE));
    orc_series_observe(orc_metric_withv(dur, result, PROFILE),
                       (double)(sched_metrics_now() - start_ns) / 1e9);
}
