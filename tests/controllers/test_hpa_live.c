/* test_hpa_live.c — the HorizontalPodAutoscaler controller live against a
 * real orcd: a Deployment below minReplicas is scaled up to it and one
 * above maxReplicas down, through its scale subresource, with Kubernetes'
 * Events, conditions and status; without usable metrics the HPA says so
 * (ScalingActive False) and leaves the count alone. Scaling on real CPU
 * load is tests/e2e/test_hpa.c. */
#include <stdlib.h>
#include <string.h>

#include "controllers/hpa.h"
#include "tests/controllers/live.h"

#define DEPLOYS "/apis/apps/v1/namespaces/default/deployments"
#define HPAS "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"

static struct live l;

static bool replicas_are(struct live *lv, const void *arg)
{
    json_t *d = live_call(lv, "GET", DEPLOYS "/web", NULL, NULL, 200);
    bool ok = json_integer_value(orc_json_get(d, "spec.replicas")) == *(const int *)arg;
    json_decref(d);
    return ok;
}

static bool condition_is(struct live *lv, const void *arg)
{
    const char *const *want = arg; /* type, status, reason */
    json_t *h = live_call(lv, "GET", HPAS "/web", NULL, NULL, 200);
    const json_t *conds = orc_json_get(h, "status.conditions"), *c;
    bool ok = false;
    size_t i;

    json_array_foreach (conds, i, c)
        ok |= strcmp(orc_json_str(c, "type"), want[0]) == 0 && strcmp(orc_json_str(c, "status"), want[1]) == 0
              && strcmp(orc_json_str(c, "reason"), want[2]) == 0;
    json_decref(h);
    return ok;
}

static bool rescale_event(struct live *lv, const void *arg)
{
    json_t *items = live_items(lv, "/api/v1/namespaces/default/events");
    const json_t *e;
    bool ok = false;
    size_t i;

    json_array_foreach (items, i, e)
        ok |= strcmp(orc_json_str(e, "reason"), "SuccessfulRescale") == 0
              && strcmp(orc_json_str(e, "message"), (const char *)arg) == 0
              && strcmp(orc_json_str(e, "involvedObject.kind"), "HorizontalPodAutoscaler") == 0;
    json_decref(items);
    return ok;
}

TEST_T(min_and_max_replicas_are_enforced_live, 60)
{
    static const char *const no_metrics[] = {"ScalingActive", "False", "FailedGetResourceMetric"};
    static const char *const got_scale[] = {"AbleToScale", "True", "SucceededRescale"};
    int three = 3, two = 2;

    live_start(&l, &ctl_hpa, NULL);
    l.opts.hpa_sync_ms = 1000;
    live_do(&l, "POST", DEPLOYS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":"
            "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":"
            "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":"
            "{\"cpu\":\"100m\"}}}]}}}}", 201);
    live_do(&l, "POST", HPAS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\","
            "\"kind\":\"Deployment\",\"name\":\"web\"},\"minReplicas\":3,\"maxReplicas\":5}}", 201);
    live_until(&l, replicas_are, &three, 10000, "the Deployment scaled up to minReplicas");
    live_until(&l, rescale_event, "New size: 3; reason: Current number of replicas below Spec.MinReplicas",
               10000, "the SuccessfulRescale event");
    live_until(&l, condition_is, got_scale, 10000, "AbleToScale SucceededRescale");

    live_do(&l, "PATCH", HPAS "/web", "application/merge-patch+json",
            "{\"spec\":{\"minReplicas\":1,\"maxReplicas\":2}}", 200);
    live_until(&l, replicas_are, &two, 10000, "the Deployment scaled down to maxReplicas");
    live_until(&l, rescale_event, "New size: 2; reason: Current number of replicas above Spec.MaxReplicas",
               10000, "the second SuccessfulRescale event");

    /* Within bounds the count comes from metrics; pods without any (no
     * pods run here) give no count, and the HPA says why. */
    live_until(&l, condition_is, no_metrics, 10000, "ScalingActive False");
    live_run(&l, 1500);
    CHECK(replicas_are(&l, &two));
    json_t *h = live_call(&l, "GET", HPAS "/web", NULL, NULL, 200);
    CHECK_INT(json_integer_value(orc_json_get(h, "status.currentReplicas")), ==, 2);
    CHECK(orc_json_str(h, "status.lastScaleTime") != NULL);
    json_decref(h);
    live_stop(&l);
}
