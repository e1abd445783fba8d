/* hpa_calc.c — the HorizontalPodAutoscaler's arithmetic (hpa_calc.h), in
 * the order and with the rounding of Kubernetes' replica_calculator.go and
 * horizontal.go, so the same load gives the same replica counts. */
#include "controllers/hpa_calc.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/quantity.h"
#include "lib/timeutil.h"

/* ---- pods ---- */

static int64_t time_ms(const json_t *obj, const char *path)
{
    const char *s = orc_json_str(obj, path);
    int64_t t;
    return s && orc_time_parse(s, &t) == 0 ? t * 1000 : -1;
}

static const json_t *ready_condition(const json_t *pod)
{
    const json_t *conds = orc_json_get(pod, "status.conditions"), *c;
    size_t i;

    json_array_foreach (conds, i, c) {
        const char *type = orc_json_str(c, "type");
        if (type && strcmp(type, "Ready") == 0) return c;
    }
    return NULL;
}

/* Kubernetes ignores a cpu sample while a pod may still be starting up: the
 * first 5 minutes unless ready for a whole metric window, and a pod that
 * has never been ready. */
static bool cpu_unready(const json_t *pod, int64_t metric_ms, int64_t window_ms, int64_t now_ms)
{
    const json_t *cond = ready_condition(pod);
    int64_t start = time_ms(pod, "status.startTime"), changed;
    bool is_false;

    if (cond == NULL || start < 0) return true;
    changed = time_ms(cond, "lastTransitionTime");
    is_false = orc_json_str(cond, "status") && strcmp(orc_json_str(cond, "status"), "False") == 0;
    if (start + HPA_CPU_INIT_PERIOD_MS > now_ms) return is_false || metric_ms < changed + window_ms;
    return is_false && start + HPA_INITIAL_READINESS_MS > changed;
}

enum hpa_pod_state hpa_pod_group(const json_t *pod, bool cpu, bool has_metric, int64_t metric_ms,
                                 int64_t window_ms, int64_t now_ms)
{
    const char *phase = orc_json_str(pod, "status.phase");

    if (orc_json_get(pod, "metadata.deletionTimestamp") || (phase && strcmp(phase, "Failed") == 0))
        return HPA_POD_IGNORED;
    if (phase && strcmp(phase, "Pending") == 0) return HPA_POD_UNREADY;
    if (!has_metric) return HPA_POD_MISSING;
    if (cpu && cpu_unready(pod, metric_ms, window_ms, now_ms)) return HPA_POD_UNREADY;
    return HPA_POD_READY;
}

int hpa_pod_request(const json_t *pod, const char *resource, const char *container,
                    int64_t *milli, char *msg, size_t n)
{
    const json_t *cs = orc_json_get(pod, "spec.containers"), *c;
    size_t i;

    *milli = 0;
    json_array_foreach (cs, i, c) {
        const char *name = orc_json_str(c, "name");
        const json_t *q = json_object_get(orc_json_get(c, "resources.requests"), resource);
        int64_t v;

        if (container && (!name || strcmp(name, container) != 0)) continue;
        if (!json_is_string(q) || orc_quantity_parse(json_string_value(q), &v) != 0)
            return orc_errf(msg, n, ORC_ENOENT, "missing request for %s in container %s of Pod %s",
                            resource, name ? name : "", orc_json_str(pod, "metadata.name"));
        *milli += v;
    }
    return 0;
}

/* ---- one metric ---- */

struct ratio {
    double ratio;
    int32_t utilization;
    int64_t average;
};

/* GetResourceUtilizationRatio / GetMetricUsageRatio over the pods counted
 * (used[i]) with their usages u[i]. */
static int usage_ratio(const struct hpa_pod *pods, const int64_t *u, const bool *used, size_t n,
                       const struct hpa_target *t, struct ratio *r, char *msg, size_t mn)
{
    int64_t total = 0, requests = 0, count = 0;

    for (size_t i = 0; i < n; i++) {
        if (!used[i]) continue;
        total += u[i];
        requests += pods[i].request > 0 ? pods[i].request : 0;
        count++;
    }
    if (count == 0) return orc_errf(msg, mn, ORC_ENOENT, "no metrics returned matched known pods");
    r->average = total / count;
    if (!t->utilization) {
        r->utilization = -1;
        r->ratio = (double)r->average / (double)t->average;
        return 0;
    }
    if (requests == 0) return orc_errf(msg, mn, ORC_ENOENT, "no metrics returned matched known pods");
    r->utilization = (int32_t)(total * 100 / requests);
    r->ratio = (double)r->utilization / (double)t->percent;
    return 0;
}

static bool target_valid(const struct hpa_target *t)
{
    return t->utilization ? t->percent > 0 : t->average > 0;
}

static int replicas(int32_t current, const struct hpa_pod *pods, size_t n, const struct hpa_target *t,
                 double tolerance, int64_t *u, bool *used, struct hpa_result *out, char *msg,
                 size_t mn)
{
    bool unready = false, missing = false;
    size_t ready = 0, counted = 0;
    struct ratio first, again;
    int rv;

    if (n == 0)
        return orc_errf(msg, mn, ORC_ENOENT, "no pods returned by selector while calculating replica count");
    if (!target_valid(t)) return orc_errf(msg, mn, ORC_EINVAL, "invalid metric target");
    for (size_t i = 0; i < n; i++) {
        u[i] = pods[i].usage;
        used[i] = pods[i].state == HPA_POD_READY;
        ready += used[i];
        unready |= pods[i].state == HPA_POD_UNREADY;
        missing |= pods[i].state == HPA_POD_MISSING;
        if (t->utilization && pods[i].state != HPA_POD_IGNORED && pods[i].request < 0)
            return orc_errf(msg, mn, ORC_ENOENT, "missing request for a container of a targeted pod");
    }
    if (ready == 0)
        return orc_errf(msg, mn, ORC_ENOENT, "did not receive metrics for targeted pods (pods might be unready)");
    if ((rv = usage_ratio(pods, u, used, n, t, &first, msg, mn)) != 0) return rv;
    out->utilization = first.utilization;
    out->average = first.average;
    out->replicas = current;

    bool up_with_unready = unready && first.ratio > 1.0;
    if (!up_with_unready && !missing) {
        if (fabs(1.0 - first.ratio) > tolerance)
            out->replicas = (int32_t)ceil(first.ratio * (double)ready);
        return 0;
    }
    /* Missing pods count at the target (scale down) or at zero (scale up);
     * unready ones at zero when scaling up: the move is only ever damped. */
    for (size_t i = 0; i < n; i++) {
        if (pods[i].state == HPA_POD_MISSING && first.ratio != 1.0) {
            used[i] = true;
            if (first.ratio > 1.0) u[i] = 0;
            else if (t->utilization) u[i] = pods[i].request * (t->percent > 100 ? t->percent : 100) / 100;
            else u[i] = t->average;
        }
        if (pods[i].state == HPA_POD_UNREADY && up_with_unready) {
            used[i] = true;
            u[i] = 0;
        }
        counted += used[i];
    }
    if ((rv = usage_ratio(pods, u, used, n, t, &again, msg, mn)) != 0) return rv;
    if (fabs(1.0 - again.ratio) <= tolerance || (first.ratio < 1.0 && again.ratio > 1.0)
        || (first.ratio > 1.0 && again.ratio < 1.0))
        return 0;
    int32_t next = (int32_t)ceil(again.ratio * (double)counted);
    if ((again.ratio < 1.0 && next > current) || (again.ratio > 1.0 && next < current)) return 0;
    out->replicas = next;
    return 0;
}

int hpa_replicas(int32_t current, const struct hpa_pod *pods, size_t n, const struct hpa_target *t,
                 double tolerance, struct hpa_result *out, char *msg, size_t mn)
{
    int64_t *u = malloc((n ? n : 1) * sizeof *u);
    bool *used = malloc((n ? n : 1) * sizeof *used);
    int rv = u && used ? replicas(current, pods, n, t, tolerance, u, used, out, msg, mn)
                       : orc_errf(msg, mn, ORC_ENOMEM, "out of memory");
    free(u);
    free(used);
    return rv;
}

/* ---- behavior ---- */

static int parse_select(const json_t *rules, enum hpa_select *out)
{
    const char *s = orc_json_str(rules, "selectPolicy");

    if (s == NULL || strcmp(s, "Max") == 0) *out = HPA_SELECT_MAX;
    else if (strcmp(s, "Min") == 0) *out = HPA_SELECT_MIN;
    else if (strcmp(s, "Disabled") == 0) *out = HPA_SELECT_DISABLED;
    else return ORC_EINVAL;
    return 0;
}

static int parse_rules(const json_t *rules, struct hpa_rules *r)
{
    const json_t *ps = json_object_get(rules, "policies"), *p, *w;
    size_t i;

    if (rules == NULL) return 0; /* the defaults the caller set */
    if ((w = json_object_get(rules, "stabilizationWindowSeconds")) && json_is_integer(w))
        r->window_s = (int32_t)json_integer_value(w);
    if (parse_select(rules, &r->select) != 0) return ORC_EINVAL;
    if (json_array_size(ps) == 0) return 0;
    if (json_array_size(ps) > ORC_ARRAY_LEN(r->p)) return ORC_EINVAL;
    r->n = 0;
    json_array_foreach (ps, i, p) {
        const char *type = orc_json_str(p, "type");
        struct hpa_policy *d = &r->p[r->n++];
        if (!type || (strcmp(type, "Percent") != 0 && strcmp(type, "Pods") != 0)) return ORC_EINVAL;
        d->percent = strcmp(type, "Percent") == 0;
        d->value = (int32_t)json_integer_value(json_object_get(p, "value"));
        d->period_s = (int32_t)json_integer_value(json_object_get(p, "periodSeconds"));
        if (d->value <= 0 || d->period_s <= 0) return ORC_EINVAL;
    }
    return 0;
}

int hpa_behavior_parse(const json_t *behavior, int32_t down_window_s, struct hpa_behavior *out,
                       bool *given)
{
    memset(out, 0, sizeof *out);
    out->up = (struct hpa_rules){0, HPA_SELECT_MAX, {{false, 4, 15}, {true, 100, 15}}, 2};
    out->down = (struct hpa_rules){down_window_s, HPA_SELECT_MAX, {{true, 100, 15}}, 1};
    *given = json_is_object(behavior);
    if (!*given) return 0;
    if (parse_rules(json_object_get(behavior, "scaleUp"), &out->up) != 0
        || parse_rules(json_object_get(behavior, "scaleDown"), &out->down) != 0)
        return ORC_EINVAL;
    return 0;
}

/* ---- memory ---- */

/* Puts s in place of the sample marked old (old >= 0), else appends; a
 * full list drops its oldest. */
static void remember(struct hpa_sample *v, size_t *n, long old, struct hpa_sample s)
{
    if (old >= 0) {
        v[old] = s;
        return;
    }
    if (*n == HPA_MEMORY) {
        size_t oldest = 0;
        for (size_t i = 1; i < *n; i++)
            if (v[i].at_ms < v[oldest].at_ms) oldest = i;
        v[oldest] = s;
        return;
    }
    v[(*n)++] = s;
}

static int32_t change_within(const struct hpa_sample *v, size_t n, int32_t period_s, int64_t now_ms)
{
    int64_t cutoff = now_ms - (int64_t)period_s * 1000;
    int32_t sum = 0;

    for (size_t i = 0; i < n; i++)
        if (v[i].at_ms > cutoff) sum += v[i].value;
    return sum;
}

static int32_t longest_period(const struct hpa_rules *r)
{
    int32_t longest = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->p[i].period_s > longest) longest = r->p[i].period_s;
    return longest;
}

void hpa_record_scale(struct hpa_memory *m, const struct hpa_behavior *b, int32_t prev,
                      int32_t next, int64_t now_ms)
{
    bool up = next > prev;
    struct hpa_sample *v = up ? m->ups : m->downs;
    size_t *n = up ? &m->n_ups : &m->n_downs;
    int64_t cutoff;
    long old = -1;

    if (b == NULL || next == prev) return;
    cutoff = now_ms - (int64_t)longest_period(up ? &b->up : &b->down) * 1000;
    for (size_t i = 0; i < *n; i++)
        if (v[i].at_ms <= cutoff) old = (long)i;
    remember(v, n, old, (struct hpa_sample){now_ms, up ? next - prev : prev - next});
}

/* ---- normalization ---- */

static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

/* stabilizeRecommendationWithBehaviors */
static int32_t stabilize(struct hpa_memory *m, const struct hpa_behavior *b, int32_t current,
                         int32_t proposed, int64_t now_ms)
{
    int64_t up_cut = now_ms - (int64_t)b->up.window_s * 1000;
    int64_t down_cut = now_ms - (int64_t)b->down.window_s * 1000;
    int32_t up = proposed, down = proposed, rec = current;
    long old = -1;

    for (size_t i = 0; i < m->n_recs; i++) {
        const struct hpa_sample *s = &m->recs[i];
        if (s->at_ms > up_cut) up = min32(up, s->value);
        if (s->at_ms > down_cut) down = max32(down, s->value);
        if (s->at_ms < up_cut && s->at_ms < down_cut) old = (long)i;
    }
    if (rec < up) rec = up;
    if (rec > down) rec = down;
    remember(m->recs, &m->n_recs, old, (struct hpa_sample){now_ms, proposed});
    return rec;
}

static int32_t rate_limit(const struct hpa_memory *m, const struct hpa_rules *r, int32_t current,
                          bool up, int64_t now_ms)
{
    int32_t result = (up == (r->select == HPA_SELECT_MIN)) ? INT32_MAX : INT32_MIN;

    if (r->select == HPA_SELECT_DISABLED) return current;
    for (size_t i = 0; i < r->n; i++) {
        const struct hpa_policy *p = &r->p[i];
        int32_t start = current - change_within(m->ups, m->n_ups, p->period_s, now_ms)
                        + change_within(m->downs, m->n_downs, p->period_s, now_ms);
        int32_t proposed;
        if (up)
            proposed = p->percent ? (int32_t)ceil((double)start * (1 + (double)p->value / 100))
                                  : start + p->value;
        else
            proposed = p->percent ? (int32_t)((double)start * (1 - (double)p->value / 100))
                                  : start - p->value;
        /* up: Max takes the largest; down: Max (the largest change) the smallest */
        result = (up == (r->select == HPA_SELECT_MAX)) ? max32(result, proposed)
                                                       : min32(result, proposed);
    }
    return result;
}

static void limited(struct hpa_decision *d, int32_t stabilized, int32_t replicas,
                    const char *reason, const char *msg)
{
    d->replicas = replicas;
    d->limited = replicas != stabilized;
    d->limit_reason = d->limited ? reason : "DesiredWithinRange";
    d->limit_msg = d->limited ? msg : "the desired count is within the acceptable range";
}

#define MSG_UP_RATE "the desired replica count is increasing faster than the maximum scale rate"
#define MSG_DOWN_RATE "the desired replica count is decreasing faster than the maximum scale rate"
#define MSG_TOO_MANY "the desired replica count is more than the maximum replica count"
#define MSG_TOO_FEW "the desired replica count is less than the minimum replica count"

/* convertDesiredReplicasWithBehaviorRate */
static void with_behavior(const struct hpa_memory *m, const struct hpa_behavior *b,
                          int32_t current, int32_t want, int32_t min, int32_t max,
                          int64_t now_ms, struct hpa_decision *d)
{
    if (want > current) {
        int32_t limit = max32(rate_limit(m, &b->up, current, true, now_ms), current);
        bool by_rate = max > limit;
        int32_t top = by_rate ? limit : max;
        if (want > top) {
            limited(d, want, top, by_rate ? "ScaleUpLimit" : "TooManyReplicas",
                    by_rate ? MSG_UP_RATE : MSG_TOO_MANY);
            return;
        }
    } else if (want < current) {
        int32_t limit = min32(rate_limit(m, &b->down, current, false, now_ms), current);
        bool by_rate = min < limit;
        int32_t bottom = by_rate ? limit : min;
        if (want < bottom) {
            limited(d, want, bottom, by_rate ? "ScaleDownLimit" : "TooFewReplicas",
                    by_rate ? MSG_DOWN_RATE : MSG_TOO_FEW);
            return;
        }
    }
    limited(d, want, want, NULL, NULL);
}

/* stabilizeRecommendation + convertDesiredReplicasWithRules: HPAs without
 * a behavior. */
static void without_behavior(struct hpa_memory *m, int32_t current, int32_t proposed, int32_t min,
                             int32_t max, int64_t window_ms, int64_t now_ms,
                             struct hpa_decision *d)
{
    int64_t cut = now_ms - window_ms;
    int32_t want = proposed, up_limit = max32(2 * current, 4);
    long old = -1;

    for (size_t i = 0; i < m->n_recs; i++) {
        if (m->recs[i].at_ms < cut) old = (long)i;
        else if (m->recs[i].value > want) want = m->recs[i].value;
    }
    remember(m->recs, &m->n_recs, old, (struct hpa_sample){now_ms, proposed});
    if (want != proposed) {
        d->able_reason = "ScaleDownStabilized";
        d->able_msg = "recent recommendations were higher than current one, applying the highest recent recommendation";
    }
    if (want < min) limited(d, want, min, "TooFewReplicas", MSG_TOO_FEW);
    else if (want > min32(max, up_limit))
        limited(d, want, min32(max, up_limit), max > up_limit ? "ScaleUpLimit" : "TooManyReplicas",
                max > up_limit ? MSG_UP_RATE : MSG_TOO_MANY);
    else limited(d, want, want, NULL, NULL);
}

void hpa_normalize(struct hpa_memory *m, const struct hpa_behavior *b, int32_t current,
                   int32_t proposed, int32_t min, int32_t max, int64_t down_window_ms,
                   int64_t now_ms, struct hpa_decision *out)
{
    int32_t stable;

    out->able_reason = "ReadyForNewScale";
    out->able_msg = "recommended size matches current size";
    if (b == NULL) {
        without_behavior(m, current, proposed, min, max, down_window_ms, now_ms, out);
        return;
    }
    stable = stabilize(m, b, current, proposed, now_ms);
    if (stable != proposed) {
        bool up = proposed >= current;
        out->able_reason = up ? "ScaleUpStabilized" : "ScaleDownStabilized";
        out->able_msg = up ? "recent recommendations were lower than current one, applying the lowest recent recommendation"
                           : "recent recommendations were higher than current one, applying the highest recent recommendation";
    }
    with_behavior(m, b, current, stable, min, max, now_ms, out);
}
