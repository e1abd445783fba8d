/* hpa_calc.h — the HorizontalPodAutoscaler's arithmetic, as Kubernetes'
 * podautoscaler computes it (replica_calculator.go, horizontal.go): pods
 * grouped by readiness and metrics, the replica count one metric proposes
 * (with the 10 % tolerance and the missing/unready pod rules), and the
 * normalization by stabilization windows, scaling policies and min/max.
 * Pure functions of numbers and the controller's memory of recent
 * recommendations and rescales, so unit tests drive them on a fake clock. */
#ifndef ORC_CONTROLLERS_HPA_CALC_H
#define ORC_CONTROLLERS_HPA_CALC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPA_TOLERANCE 0.1
#define HPA_CPU_INIT_PERIOD_MS (5 * 60 * 1000)  /* --horizontal-pod-autoscaler-cpu-initialization-period */
#define HPA_INITIAL_READINESS_MS (30 * 1000)    /* ...-initial-readiness-delay */
#define HPA_DOWNSCALE_WINDOW_S 300              /* ...-downscale-stabilization */
#define HPA_MEMORY 64                           /* samples kept per list */

/* ---- one metric's proposal ---- */

enum hpa_pod_state {
    HPA_POD_READY,   /* counted, with a metric */
    HPA_POD_UNREADY, /* pending, or (cpu) not ready / still initializing */
    HPA_POD_MISSING, /* no metric */
    HPA_POD_IGNORED, /* being deleted, or failed */
};

struct hpa_pod {
    enum hpa_pod_state state;
    int64_t usage;   /* milli-units (cpu millicores, memory milli-bytes) */
    int64_t request; /* the pod's request of the resource, milli; < 0: none */
};

/* How Kubernetes' groupPods files one pod: `cpu` for the cpu resource,
 * has_metric with the metric's timestamp and window (ms). */
enum hpa_pod_state hpa_pod_group(const json_t *pod, bool cpu, bool has_metric, int64_t metric_ms,
                                 int64_t window_ms, int64_t now_ms);

/* The sum of the pod's containers' requests of `resource` (only
 * `container` when not NULL), milli. 0, or ORC_ENOENT with msg naming the
 * container without one ("missing request for cpu in container x of Pod y"). */
int hpa_pod_request(const json_t *pod, const char *resource, const char *container,
                    int64_t *milli, char *msg, size_t n);

struct hpa_target {
    bool utilization; /* percent of requests; else an average value */
    int32_t percent;
    int64_t average;  /* milli */
};

struct hpa_result {
    int32_t replicas;
    int32_t utilization; /* the current average utilization (percent); -1 for values */
    int64_t average;     /* the current average usage per pod, milli */
};

/* The replica count the pods' metrics propose against target t, from
 * `current` replicas. 0, or a negative ORC_E* with msg (no pods, no
 * metrics, a missing request). */
int hpa_replicas(int32_t current, const struct hpa_pod *pods, size_t n, const struct hpa_target *t,
                 double tolerance, struct hpa_result *out, char *msg, size_t mn);

/* ---- normalization ---- */

enum hpa_select { HPA_SELECT_MAX, HPA_SELECT_MIN, HPA_SELECT_DISABLED };

struct hpa_policy {
    bool percent; /* Percent, else Pods */
    int32_t value;
    int32_t period_s;
};

struct hpa_rules {
    int32_t window_s; /* stabilizationWindowSeconds */
    enum hpa_select select;
    struct hpa_policy p[8];
    size_t n;
};

struct hpa_behavior {
    struct hpa_rules up, down;
};

/* spec.behavior with Kubernetes' defaults filled in (scale up: no window,
 * Max of 4 pods or 100 % per 15 s; scale down: down_window_s, 100 % per
 * 15 s). *given is false when the HPA has no behavior (the controller then
 * uses the older normalization). 0, ORC_EINVAL for a malformed one. */
int hpa_behavior_parse(const json_t *behavior, int32_t down_window_s, struct hpa_behavior *out,
                       bool *given);

struct hpa_sample {
    int64_t at_ms;
    int32_t value; /* a recommendation, or a rescale's change */
};

/* What the controller remembers of one HPA between syncs. */
struct hpa_memory {
    struct hpa_sample recs[HPA_MEMORY], ups[HPA_MEMORY], downs[HPA_MEMORY];
    size_t n_recs, n_ups, n_downs;
};

struct hpa_decision {
    int32_t replicas;
    const char *able_reason, *able_msg;   /* AbleToScale (True) */
    bool limited;                         /* ScalingLimited */
    const char *limit_reason, *limit_msg;
};

/* From the metrics' proposal to the replica count to set: stabilized over
 * the windows (recording the proposal in m), limited by the policies'
 * rates and by min/max. b NULL: the older rules (the highest
 * recommendation of the last down_window_ms, at most double or 4). */
void hpa_normalize(struct hpa_memory *m, const struct hpa_behavior *b, int32_t current,
                   int32_t proposed, int32_t min, int32_t max, int64_t down_window_ms,
                   int64_t now_ms, struct hpa_decision *out);

/* Remembers a rescale from prev to next for the policies' periods. */
void hpa_record_scale(struct hpa_memory *m, const struct hpa_behavior *b, int32_t prev,
                      int32_t next, int64_t now_ms);

#endif
