/* test_nodelifecycle_plan.c — the node lifecycle controller's decisions on
 * plain clock values: a lease not renewed for the grace turns the node's
 * conditions Unknown and taints it unreachable:NoExecute; renewed again, both
 * go; Ready=False taints not-ready; unschedulable nodes are tainted; pods
 * leave at once or after their tolerationSeconds, DaemonSet pods never. */
#include <jansson.h>

#include "controllers/daemonset.h"
#include "controllers/nodelifecycle.h"
#include "controllers/nodematch.h"
#include "lib/json.h"
#include "tests/harness/test.h"

#define NOW_S "2026-12-06T10:00:00Z"
#define NOW_MS 1796551200000LL
#define GRACE 20000

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CHECKF(v != NULL, "bad JSON in test: %s: %s", text, e.text);
    return v;
}

static json_t *lease(const char *renew)
{
    return json_pack("{s:{s:s, s:s}, s:{s:s, s:i}}", "metadata", "name", "n1", "namespace",
                     NL_LEASE_NS, "spec", "renewTime", renew, "leaseDurationSeconds", 15);
}

TEST(lease_grace)
{
    struct nl_health h;
    json_t *l1 = lease("2026-12-06T09:59:59.000001Z"), *l2 = lease("2026-12-06T10:00:05.000001Z");

    nl_health_init(&h, l1, 1000);
    CHECK_INT(nl_health_left_ms(&h, 1000, GRACE), ==, GRACE);
    nl_health_observe(&h, l1, 15000); /* the same renewTime: no news */
    CHECK_INT(nl_health_left_ms(&h, 15000, GRACE), ==, 6000);
    CHECK_INT(nl_health_left_ms(&h, 21000, GRACE), ==, 0);
    nl_health_observe(&h, l2, 22000); /* renewed: a whole grace again */
    CHECK_INT(nl_health_left_ms(&h, 22000, GRACE), ==, GRACE);
    nl_health_observe(&h, NULL, 30000);
    CHECK_INT(nl_health_left_ms(&h, 30000, GRACE), ==, 12000);
    json_decref(l1);
    json_decref(l2);
}

#define READY_NODE                                                                              \
    "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[{\"key\":\"own\",\"effect\":\"NoSchedule\"}]}," \
    "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","  \
    "\"lastHeartbeatTime\":\"2026-12-06T09:00:00Z\",\"lastTransitionTime\":\"2026-12-06T09:00:00Z\"}]}}"

static const json_t *ready_of(const json_t *conds)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) if (strcmp(orc_json_str(c, "type"), "Ready") == 0) return c;
    return NULL;
}

static bool has_taint(const json_t *taints, const char *key, const char *effect)
{
    size_t i;
    json_t *t;
    json_array_foreach(taints, i, t) {
        if (strcmp(orc_json_str(t, "key"), key) == 0 && strcmp(orc_json_str(t, "effect"), effect) == 0)
            return true;
    }
    return false;
}

TEST(stale_lease_unknown_and_tainted)
{
    json_t *node = J(READY_NODE), *conds, *taints;

    /* Fresh lease, Ready=True: nothing to change. */
    CHECK(nl_conditions(node, false, NOW_S) == NULL);
    CHECK(nl_taints(node, NULL, NOW_S) == NULL);

    conds = nl_conditions(node, true, NOW_S);
    CHECK(conds != NULL);
    const json_t *r = ready_of(conds);
    CHECK_STR(orc_json_str(r, "status"), "Unknown");
    CHECK_STR(orc_json_str(r, "reason"), NL_REASON_UNKNOWN);
    CHECK_STR(orc_json_str(r, "message"), "Kubelet stopped posting node status.");
    CHECK_STR(orc_json_str(r, "lastTransitionTime"), NOW_S);
    CHECK_STR(orc_json_str(r, "lastHeartbeatTime"), "2026-12-06T09:00:00Z");
    taints = nl_taints(node, conds, NOW_S);
    CHECK(taints != NULL);
    CHECK_INT(json_array_size(taints), ==, 2);
    CHECK(has_taint(taints, "own", "NoSchedule"));
    CHECK(has_taint(taints, CTL_TAINT_UNREACHABLE, "NoExecute"));
    CHECK_STR(orc_json_str(json_array_get(taints, 1), "timeAdded"), NOW_S);

    /* Stored as such, a second look changes nothing. */
    orc_json_set(node, "status.conditions", conds);
    orc_json_set(node, "spec.taints", taints);
    CHECK(nl_conditions(node, true, "2026-12-06T10:00:09Z") == NULL);
    CHECK(nl_taints(node, NULL, "2026-12-06T10:00:09Z") == NULL);

    /* Renewed: Ready again, the taint goes, the node's own stays. */
    conds = nl_conditions(node, false, "2026-12-06T10:01:00Z");
    CHECK(conds != NULL);
    CHECK_STR(orc_json_str(ready_of(conds), "status"), "True");
    taints = nl_taints(node, conds, "2026-12-06T10:01:00Z");
    CHECK(taints != NULL);
    CHECK_INT(json_array_size(taints), ==, 1);
    CHECK(has_taint(taints, "own", "NoSchedule"));
    json_decref(conds);
    json_decref(taints);
    json_decref(node);
}

TEST(never_posted_not_ready_and_unschedulable)
{
    json_t *bare = J("{\"metadata\":{\"name\":\"n1\"}}");
    json_t *conds = nl_conditions(bare, true, NOW_S);
    CHECK(conds != NULL);
    CHECK_STR(orc_json_str(ready_of(conds), "reason"), NL_REASON_NEVER);
    json_decref(conds);
    json_decref(bare);

    json_t *node = J("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"unschedulable\":true},"
                     "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
    json_t *taints = nl_taints(node, NULL, NOW_S);
    CHECK(taints != NULL);
    CHECK_INT(json_array_size(taints), ==, 2);
    CHECK(has_taint(taints, CTL_TAINT_NOT_READY, "NoExecute"));
    CHECK(has_taint(taints, CTL_TAINT_UNSCHEDULABLE, "NoSchedule"));
    json_decref(taints);
    /* Uncordoned: the NoSchedule taint goes. */
    orc_json_set(node, "spec.unschedulable", json_false());
    orc_json_set(node, "spec.taints", json_pack("[{s:s, s:s}]", "key", CTL_TAINT_UNSCHEDULABLE,
                                                "effect", "NoSchedule"));
    orc_json_set(node, "status.conditions", json_pack("[{s:s, s:s}]", "type", "Ready", "status", "True"));
    taints = nl_taints(node, NULL, NOW_S);
    CHECK(taints != NULL);
    CHECK_INT(json_array_size(taints), ==, 0);
    json_decref(taints);
    json_decref(node);
}

TEST(pod_eviction_timing)
{
    json_t *node = J("{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[{\"key\":"
                     "\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\",\"timeAdded\":\"" NOW_S "\"}]}}");
    json_t *bare = J("{\"spec\":{}}");
    json_t *defaulted = J("{\"spec\":{\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\","
                          "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":30}]}}");
    json_t *daemon = J("{\"spec\":{}}");

    CHECK_INT(ds_add_tolerations(json_object_get(daemon, "spec")), ==, 0);
    CHECK_INT(nl_pod_eviction_ms(node, bare, NOW_MS), ==, 0);
    CHECK_INT(nl_pod_eviction_ms(node, defaulted, NOW_MS), ==, 30000);
    CHECK_INT(nl_pod_eviction_ms(node, defaulted, NOW_MS + 25000), ==, 5000);
    CHECK_INT(nl_pod_eviction_ms(node, defaulted, NOW_MS + 30000), ==, 0);
    CHECK_INT(nl_pod_eviction_ms(node, daemon, NOW_MS + 3600000), ==, -1);
    json_decref(node);
    json_decref(bare);
    json_decref(defaulted);
    json_decref(daemon);
}
