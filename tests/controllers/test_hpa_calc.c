/* test_hpa_calc.c — the HorizontalPodAutoscaler's arithmetic on numbers:
 * the replica counts Kubernetes' replica calculator gives for the same
 * pods (its tests' cases where they are known), the tolerance, missing and
 * unready pods, and the normalization by stabilization windows, policies
 * and min/max on a fake clock. */
#include <string.h>

#include "controllers/hpa_calc.h"
#include "lib/json.h"
#include "tests/harness/test.h"

#define S 1000LL /* ms */

static struct hpa_pod ready(int64_t usage, int64_t request)
{
    return (struct hpa_pod){HPA_POD_READY, usage, request};
}

static int32_t propose(const struct hpa_pod *p, size_t n, int32_t current, int32_t percent,
                       struct hpa_result *r)
{
    struct hpa_target t = {true, percent, 0};
    char msg[200] = "";
    int rv = hpa_replicas(current, p, n, &t, HPA_TOLERANCE, r, msg, sizeof msg);
    CHECKF(rv == 0, "hpa_replicas: %d %s", rv, msg);
    return r->replicas;
}

TEST(scale_up_by_utilization)
{
    struct hpa_pod p[] = {ready(300, 1000), ready(500, 1000), ready(700, 1000)};
    struct hpa_result r;
    CHECK_INT(propose(p, 3, 3, 30, &r), ==, 5);
    CHECK_INT(r.utilization, ==, 50);
    CHECK_INT(r.average, ==, 500);
}

TEST(scale_down_by_utilization)
{
    struct hpa_pod p[] = {ready(100, 1000), ready(300, 1000), ready(500, 1000), ready(250, 1000),
                          ready(250, 1000)};
    struct hpa_result r;
    CHECK_INT(propose(p, 5, 5, 50, &r), ==, 3);
    CHECK_INT(r.utilization, ==, 28);
}

TEST(within_tolerance_keeps_the_count)
{
    struct hpa_pod p[] = {ready(1050, 1000), ready(1050, 1000), ready(1050, 1000)};
    struct hpa_result r;
    CHECK_INT(propose(p, 3, 3, 100, &r), ==, 3);
    CHECK_INT(r.utilization, ==, 105);
}

TEST(unready_pods_count_as_idle_when_scaling_up)
{
    struct hpa_pod p[] = {{HPA_POD_UNREADY, 300, 1000}, ready(500, 1000), ready(700, 1000)};
    struct hpa_result r;
    CHECK_INT(propose(p, 3, 3, 30, &r), ==, 4);
    CHECK_INT(r.utilization, ==, 60);
}

TEST(missing_metrics_damp_both_directions)
{
    struct hpa_pod down[] = {ready(100, 1000), ready(100, 1000), ready(100, 1000),
                             {HPA_POD_MISSING, 0, 1000}};
    struct hpa_pod up[] = {ready(900, 1000), ready(900, 1000), ready(900, 1000),
                           {HPA_POD_MISSING, 0, 1000}};
    struct hpa_result r;
    CHECK_INT(propose(down, 4, 4, 50, &r), ==, 3); /* 4 without the missing one's fallback: 1 */
    CHECK_INT(propose(up, 4, 4, 50, &r), ==, 6);
}

TEST(ignored_pods_are_left_out)
{
    struct hpa_pod p[] = {ready(500, 1000), {HPA_POD_IGNORED, 0, -1}};
    struct hpa_result r;
    CHECK_INT(propose(p, 2, 2, 50, &r), ==, 2);
}

TEST(average_value_targets)
{
    struct hpa_pod p[] = {ready(200, -1), ready(400, -1)};
    struct hpa_target t = {false, 0, 100};
    struct hpa_result r;
    char msg[200];
    CHECK(hpa_replicas(2, p, 2, &t, HPA_TOLERANCE, &r, msg, sizeof msg) == 0);
    CHECK_INT(r.replicas, ==, 6);
    CHECK_INT(r.utilization, ==, -1);
    CHECK_INT(r.average, ==, 300);
}

TEST(errors_name_what_is_missing)
{
    struct hpa_pod none[] = {{HPA_POD_MISSING, 0, 1000}};
    struct hpa_target t = {true, 50, 0};
    struct hpa_result r;
    char msg[200];
    CHECK(hpa_replicas(1, none, 0, &t, HPA_TOLERANCE, &r, msg, sizeof msg) != 0);
    CHECK(strstr(msg, "no pods returned by selector") != NULL);
    CHECK(hpa_replicas(1, none, 1, &t, HPA_TOLERANCE, &r, msg, sizeof msg) != 0);
    CHECK(strstr(msg, "did not receive metrics for targeted pods") != NULL);

    json_t *pod = json_loads("{\"metadata\":{\"name\":\"web-1\"},\"spec\":{\"containers\":["
                             "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"250m\"}}},"
                             "{\"name\":\"b\"}]}}", 0, NULL);
    int64_t req;
    CHECK(hpa_pod_request(pod, "cpu", NULL, &req, msg, sizeof msg) != 0);
    CHECK_STR(msg, "missing request for cpu in container b of Pod web-1");
    CHECK(hpa_pod_request(pod, "cpu", "a", &req, msg, sizeof msg) == 0);
    CHECK_INT(req, ==, 250);
    json_decref(pod);
}

TEST(pods_are_grouped_as_kubernetes_groups_them)
{
    const int64_t now = 1767225600LL * S; /* 2026-01-01T00:00:00Z */
    json_t *old_ready = json_loads(
        "{\"status\":{\"phase\":\"Running\",\"startTime\":\"2025-12-31T23:00:00Z\",\"conditions\":"
        "[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2025-12-31T23:00:20Z\"}]}}",
        0, NULL);
    json_t *young = json_loads(
        "{\"status\":{\"phase\":\"Running\",\"startTime\":\"2025-12-31T23:59:00Z\",\"conditions\":"
        "[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2025-12-31T23:59:50Z\"}]}}",
        0, NULL);
    json_t *pending = json_loads("{\"status\":{\"phase\":\"Pending\"}}", 0, NULL);
    json_t *gone = json_loads("{\"metadata\":{\"deletionTimestamp\":\"2025-12-31T23:59:00Z\"},"
                              "\"status\":{\"phase\":\"Running\"}}", 0, NULL);

    CHECK(hpa_pod_group(old_ready, true, true, now, 15 * S, now) == HPA_POD_READY);
    CHECK(hpa_pod_group(old_ready, true, false, 0, 0, now) == HPA_POD_MISSING);
    /* ready 10 s ago, within its first 5 minutes: a 15 s window is not whole yet */
    CHECK(hpa_pod_group(young, true, true, now, 15 * S, now) == HPA_POD_UNREADY);
    CHECK(hpa_pod_group(young, false, true, now, 15 * S, now) == HPA_POD_READY);
    CHECK(hpa_pod_group(pending, true, true, now, 15 * S, now) == HPA_POD_UNREADY);
    CHECK(hpa_pod_group(gone, true, true, now, 15 * S, now) == HPA_POD_IGNORED);
    json_decref(old_ready);
    json_decref(young);
    json_decref(pending);
    json_decref(gone);
}

static struct hpa_behavior behavior(const char *json, int32_t down_window)
{
    struct hpa_behavior b;
    bool given;
    json_t *j = json ? json_loads(json, 0, NULL) : NULL;
    CHECK(hpa_behavior_parse(j, down_window, &b, &given) == 0);
    CHECK(given == (j != NULL));
    json_decref(j);
    return b;
}

TEST(default_scale_up_rate_is_four_pods_or_double)
{
    struct hpa_behavior b = behavior("{}", 300);
    struct hpa_memory m = {0};
    struct hpa_decision d;

    hpa_normalize(&m, &b, 1, 10, 1, 20, 300 * S, 1000 * S, &d);
    CHECK_INT(d.replicas, ==, 5);
    CHECK(d.limited);
    CHECK_STR(d.limit_reason, "ScaleUpLimit");
    hpa_record_scale(&m, &b, 1, 5, 1000 * S);
    /* 5 s later the same 15 s period still counts the first 4 */
    hpa_normalize(&m, &b, 5, 10, 1, 20, 300 * S, 1005 * S, &d);
    CHECK_INT(d.replicas, ==, 5);
    hpa_normalize(&m, &b, 5, 10, 1, 20, 300 * S, 1016 * S, &d);
    CHECK_INT(d.replicas, ==, 10);
    CHECK(!d.limited);
    CHECK_STR(d.limit_reason, "DesiredWithinRange");
}

TEST(scale_down_waits_for_the_stabilization_window)
{
    struct hpa_behavior b = behavior("{\"scaleDown\":{\"stabilizationWindowSeconds\":60}}", 300);
    struct hpa_memory m = {0};
    struct hpa_decision d;

    hpa_normalize(&m, &b, 10, 10, 1, 20, 300 * S, 0, &d);
    hpa_normalize(&m, &b, 10, 2, 1, 20, 300 * S, 30 * S, &d);
    CHECK_INT(d.replicas, ==, 10);
    CHECK_STR(d.able_reason, "ScaleDownStabilized");
    hpa_normalize(&m, &b, 10, 2, 1, 20, 300 * S, 61 * S, &d);
    CHECK_INT(d.replicas, ==, 2);
    CHECK_STR(d.able_reason, "ReadyForNewScale");
}

TEST(scale_down_policies_limit_the_rate)
{
    struct hpa_behavior b = behavior(
        "{\"scaleDown\":{\"stabilizationWindowSeconds\":0,\"policies\":"
        "[{\"type\":\"Pods\",\"value\":1,\"periodSeconds\":60}]}}", 300);
    struct hpa_memory m = {0};
    struct hpa_decision d;

    hpa_normalize(&m, &b, 5, 1, 1, 20, 300 * S, 0, &d);
    CHECK_INT(d.replicas, ==, 4);
    CHECK_STR(d.limit_reason, "ScaleDownLimit");
    hpa_record_scale(&m, &b, 5, 4, 0);
    hpa_normalize(&m, &b, 4, 1, 1, 20, 300 * S, 30 * S, &d);
    CHECK_INT(d.replicas, ==, 4);
    hpa_normalize(&m, &b, 4, 1, 1, 20, 300 * S, 61 * S, &d);
    CHECK_INT(d.replicas, ==, 3);
}

TEST(select_policy_min_and_disabled)
{
    struct hpa_behavior min = behavior("{\"scaleUp\":{\"selectPolicy\":\"Min\"}}", 300);
    struct hpa_behavior off = behavior("{\"scaleUp\":{\"selectPolicy\":\"Disabled\"}}", 300);
    struct hpa_memory m = {0}, m2 = {0};
    struct hpa_decision d;

    hpa_normalize(&m, &min, 10, 40, 1, 100, 300 * S, 0, &d);
    CHECK_INT(d.replicas, ==, 14); /* min(10 + 4, 2 x 10) */
    hpa_normalize(&m2, &off, 10, 40, 1, 100, 300 * S, 0, &d);
    CHECK_INT(d.replicas, ==, 10);
}

TEST(min_and_max_replicas_bound_the_count)
{
    struct hpa_behavior b = behavior("{\"scaleDown\":{\"stabilizationWindowSeconds\":0}}", 300);
    struct hpa_memory m = {0};
    struct hpa_decision d;

    hpa_normalize(&m, &b, 3, 0, 2, 10, 300 * S, 0, &d);
    CHECK_INT(d.replicas, ==, 2);
    CHECK_STR(d.limit_reason, "TooFewReplicas");
    hpa_normalize(&m, &b, 8, 12, 2, 10, 300 * S, 100 * S, &d);
    CHECK_INT(d.replicas, ==, 10);
    CHECK_STR(d.limit_reason, "TooManyReplicas");
}

TEST(without_behavior_the_older_rules_apply)
{
    struct hpa_memory m = {0};
    struct hpa_decision d;

    hpa_normalize(&m, NULL, 3, 20, 1, 50, 300 * S, 0, &d);
    CHECK_INT(d.replicas, ==, 6);
    CHECK_STR(d.limit_reason, "ScaleUpLimit");
    /* the highest recommendation of the last 5 minutes holds a scale down */
    hpa_normalize(&m, NULL, 6, 2, 1, 50, 300 * S, 100 * S, &d);
    CHECK_INT(d.replicas, ==, 12); /* 20, at most double 6 */
    CHECK_STR(d.able_reason, "ScaleDownStabilized");
}

TEST(malformed_behavior_is_refused)
{
    struct hpa_behavior b;
    bool given;
    json_t *j = json_loads("{\"scaleUp\":{\"selectPolicy\":\"Often\"}}", 0, NULL);
    CHECK(hpa_behavior_parse(j, 300, &b, &given) != 0);
    json_decref(j);
}
