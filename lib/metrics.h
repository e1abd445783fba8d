/* metrics.h — a small Prometheus metrics registry in the shape of the
 * Prometheus client libraries: counter, gauge and histogram families, each
 * with an optional label vector of bounded cardinality, written out in the
 * text exposition format 0.0.4. Prefix orc_metric(s)_.
 *
 * Threads: every function may be called from any thread. Updating a
 * series (add, set, observe) is a few relaxed atomic operations, with no
 * lock and no allocation. Finding a family's series by label values takes
 * the family's mutex and allocates only the first time those values are
 * seen. Writing the exposition takes each family's mutex in turn and runs
 * the collect hooks first, on the calling thread.
 *
 * Cardinality: a family holds at most max_series series; label values seen
 * after that all go to one series whose every label is "overflow" (logged
 * once per family), so a client choosing label values cannot grow memory.
 *
 * Lifetime: families and series live as long as their registry; pointers
 * returned stay valid until orc_metrics_free. The process registry
 * (orc_metrics_default) is never freed. */
#ifndef ORC_METRICS_H
#define ORC_METRICS_H

#include <stddef.h>

#include "lib/buf.h"

#define ORC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define ORC_METRICS_MAX_LABELS 10
#define ORC_METRICS_MAX_BUCKETS 40
#define ORC_METRICS_DEFAULT_MAX_SERIES 1000

enum orc_metric_type { ORC_METRIC_COUNTER, ORC_METRIC_GAUGE, ORC_METRIC_HISTOGRAM };

struct orc_metrics;
struct orc_metric; /* a family: one name, one type, its label names */
struct orc_series; /* one set of label values within a family */

struct orc_metric_opts {
    const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]* */
    const char *help;
    enum orc_metric_type type;
    const char *const *labels; /* NULL-terminated label names; NULL: none */
    const double *buckets;     /* histograms: upper bounds, increasing, +Inf implied */
    size_t n_buckets;
    unsigned max_series; /* 0: ORC_METRICS_DEFAULT_MAX_SERIES */
};

/* Prometheus' default buckets (.005 .. 10 s), for histograms of seconds. */
extern const double orc_metrics_default_buckets[11];

/* The registry every part of this process shares (made at the first call). */
struct orc_metrics *orc_metrics_default(void);
/* A registry of one's own (tests). NULL when out of memory. */
struct orc_metrics *orc_metrics_new(void);
void orc_metrics_free(struct orc_metrics *m);

/* Registers a family, or returns the one of that name already registered
 * when its type and label names are the same (so parts that start and stop
 * may register again). NULL, with a log line, for bad options, a clash with
 * a different family of the same name, or no memory; every update function
 * accepts NULL and does nothing. The strings are copied. */
struct orc_metric *orc_metric_register(struct orc_metrics *m, const struct orc_metric_opts *o);

/* The series of these label values (one per label name, in order; NULL
 * reads as ""), made on first use. The family's only series when it has no
 * labels (values NULL). NULL only when f is NULL or out of memory. */
struct orc_series *orc_metric_with(struct orc_metric *f, const char *const *values);
/* The same, with the label values as arguments (exactly as many as labels). */
struct orc_series *orc_metric_withv(struct orc_metric *f, ...);

/* Counters only grow (a negative add is ignored); gauges go both ways. */
void orc_series_add(struct orc_series *s, double v);
void orc_series_inc(struct orc_series *s);
void orc_series_set(struct orc_series *s, double v);
double orc_series_value(const struct orc_series *s);
/* Histograms: counts v in the first bucket whose bound is >= v. */
void orc_series_observe(struct orc_series *s, double v);

/* A hook run at the start of every orc_metrics_write, to set gauges read at
 * scrape time (sizes, indexes). Runs on the writing thread: it must take
 * care of its own thread safety. Remove it before arg goes away. */
typedef void (*orc_metrics_collect_fn)(void *arg);
int orc_metrics_on_collect(struct orc_metrics *m, orc_metrics_collect_fn fn, void *arg);
void orc_metrics_on_collect_remove(struct orc_metrics *m, orc_metrics_collect_fn fn, void *arg);

/* Appends the text exposition (format 0.0.4) of every family with at least
 * one series, families in registration order. 0 or ORC_ENOMEM. */
int orc_metrics_write(struct orc_metrics *m, struct orc_buf *out);

/* Process metrics as the Prometheus clients name them
 * (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_start_time_seconds,
 * process_open_fds, process_max_fds), read from /proc at each write. */
void orc_metrics_process(struct orc_metrics *m);

#endif
