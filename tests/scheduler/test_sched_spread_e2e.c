/* test_sched_spread_e2e.c — the scheduler's Kubernetes behaviours beyond
 * fit, inside a real `orcd server --no-agent`: a set of like pods with a
 * hostname DoNotSchedule constraint (maxSkew 1) spreads evenly over three
 * nodes and one that cannot satisfy it stays Pending with Kubernetes'
 * message, retried as soon as a matching pod placed elsewhere allows it; a pod with schedulingGates stays Pending with SchedulingGated
 * and is bound once an update removes them (adding a gate is refused); a
 * high-priority pod created after 200 low-priority pending pods is bound
 * before most of them. */
#include "tests/scheduler/schede2e.h"

#define WEB_META ",\"labels\":{\"app\":\"web\"}"
#define SPREAD(key)                                                                     \
    ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"" key "\","        \
    "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}}}]"

static void patch(const char *path, const char *body, int want)
{
    CHECK_INT(t_http(&c, at, "PATCH", path, "application/merge-patch+json", body, NULL, NULL), ==, want);
}

TEST_T(hostname_spread_is_even_and_unsatisfiable_waits, 60)
{
    char name[32];
    int per[4] = {0};
    start();
    add_node("n1", "8", "16Gi", NULL);
    add_node("n2", "8", "16Gi", NULL);
    add_node("n3", "8", "16Gi", NULL);
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "web-%d", i);
        add_pod_with(name, "100m", SPREAD("kubernetes.io/hostname"), WEB_META);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "web-%d", i);
        char *node = wait_bound(name, 15000);
        CHECKF(*node, "%s not bound", name);
        per[node[1] - '0']++;
        free(node);
    }
    /* Bin-packing alone would stack them on one node. */
    CHECK_INT(per[1], ==, 2);
    CHECK_INT(per[2], ==, 2);
    CHECK_INT(per[3], ==, 2);

    /* No node has the zone key. */
    add_pod_with("zoned", "100m", SPREAD("topology.kubernetes.io/zone"), WEB_META);
    char *msg = wait_unschedulable("zoned");
    CHECK_STR(msg, "0/3 nodes are available: 3 node(s) didn't match pod topology spread "
                   "constraints (missing required label).");
    free(msg);

    /* A cordoned node is still an (empty) domain: every other node would
     * hold 2 more than it. */
    add_node("n4", "8", "16Gi", "{\"unschedulable\":true}");
    add_pod_with("web-6", "100m", SPREAD("kubernetes.io/hostname"), WEB_META);
    msg = wait_unschedulable("web-6");
    CHECK_STR(msg, "0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't "
                   "match pod topology spread constraints.");
    free(msg);
    CHECK(has_event("web-6", "FailedScheduling", "didn't match pod topology spread constraints"));
    char *still = wait_bound("web-6", 500);
    CHECK_STR(still, "");
    free(still);
    /* Two matching pods placed on n4 by hand raise the emptiest domain to
     * 2: the waiting pod is retried at once (not after its 30 s) and fits
     * on n1..n3 again. */
    add_pod_with("pinned-1", "100m", ",\"nodeName\":\"n4\"", WEB_META);
    add_pod_with("pinned-2", "100m", ",\"nodeName\":\"n4\"", WEB_META);
    char *node = wait_bound("web-6", 10000);
    CHECKF(*node && strcmp(node, "n4") != 0, "web-6 on \"%s\"", node);
    free(node);
}

TEST_T(gated_pod_waits_until_its_gates_are_removed, 60)
{
    start();
    add_node("n1", "8", "16Gi", NULL);
    add_pod("gated", "100m", ",\"schedulingGates\":[{\"name\":\"example.com/quota\"}]");
    char *msg = wait_not_scheduled("gated", "SchedulingGated");
    CHECK_STR(msg, "Scheduling is blocked due to non-empty scheduling gates");
    free(msg);
    char *node = wait_bound("gated", 1000);
    CHECK_STR(node, "");
    free(node);
    /* Gates can only be removed after creation. */
    char *resp = NULL;
    int st = t_http(&c, at, "PATCH", "/api/v1/namespaces/default/pods/gated",
                    "application/merge-patch+json",
                    "{\"spec\":{\"schedulingGates\":[{\"name\":\"example.com/quota\"},"
                    "{\"name\":\"example.com/more\"}]}}",
                    &resp, NULL);
    CHECK_INT(st, ==, 422);
    CHECKF(resp && strstr(resp, "spec.schedulingGates[1].name: Forbidden: only deletion is "
                                "allowed, but found new scheduling gate 'example.com/more'"),
           "%s", resp ? resp : "");
    free(resp);
    /* Nobody binds a gated pod, not even by hand. */
    resp = NULL;
    st = t_http(&c, at, "POST", "/api/v1/namespaces/default/pods/gated/binding", NULL,
                "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"gated\"},"
                "\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}",
                &resp, NULL);
    CHECK_INT(st, ==, 409);
    CHECKF(resp && strstr(resp, "non-empty .spec.schedulingGates"), "%s", resp ? resp : "");
    free(resp);
    patch("/api/v1/namespaces/default/pods/gated", "{\"spec\":{\"schedulingGates\":[]}}", 200);
    node = wait_bound("gated", 15000);
    CHECK_STR(node, "n1");
    free(node);
}

/* How many of the namespace's pods have PodScheduled False, and how many a
 * node. */
static void count_pods(int *waiting, int *bound)
{
    int st;
    json_t *list = t_json(&c, at, "GET", "/api/v1/namespaces/default/pods", NULL, &st), *p, *cond;
    size_t i, j;
    *waiting = *bound = 0;
    json_array_foreach(json_object_get(list, "items"), i, p) {
        const char *n = orc_json_str(p, "spec.nodeName");
        if (n && *n) (*bound)++;
        json_array_foreach(orc_json_get(p, "status.conditions"), j, cond) {
            const char *t = orc_json_str(cond, "type"), *s = orc_json_str(cond, "status");
            if (t && s && !strcmp(t, "PodScheduled") && !strcmp(s, "False")) (*waiting)++;
        }
    }
    json_decref(list);
}

static void wait_counts(int want_waiting, int want_bound, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    int waiting, bound;
    do {
        count_pods(&waiting, &bound);
        if (waiting >= want_waiting && bound >= want_bound) return;
        test_sleep_ms(200);
    } while (test_now_ms() < end);
    test_fail(__FILE__, __LINE__, "%d waiting, %d bound; wanted %d and %d", waiting, bound,
              want_waiting, want_bound);
}

TEST_T(high_priority_pod_is_bound_before_a_low_backlog, 60)
{
    char name[32];
    int st, before = 0;
    start();
    /* Cordoned: every pod waits, then all are retried at once. */
    add_node_with("n1", "64", "64Gi", "{\"unschedulable\":true}", NULL, 500);
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "low-%03d", i);
        add_pod(name, "10m", ",\"priority\":1");
    }
    add_pod("high", "10m", ",\"priority\":1000");
    wait_counts(201, 0, 30000);
    patch("/api/v1/nodes/n1", "{\"spec\":{\"unschedulable\":false}}", 200);
    wait_counts(0, 201, 30000);

    /* Binding order is write order: the pods' resourceVersions (nothing
     * writes them after the bind without an agent). */
    json_t *list = t_json(&c, at, "GET", "/api/v1/namespaces/default/pods", NULL, &st), *p;
    long long high = 0;
    size_t i;
    json_array_foreach(json_object_get(list, "items"), i, p)
        if (!strcmp(orc_json_str(p, "metadata.name"), "high"))
            high = strtoll(orc_json_str(p, "metadata.resourceVersion"), NULL, 10);
    CHECK(high > 0);
    json_array_foreach(json_object_get(list, "items"), i, p) {
        const char *n = orc_json_str(p, "metadata.name");
        if (strncmp(n, "low-", 4) == 0
            && strtoll(orc_json_str(p, "metadata.resourceVersion"), NULL, 10) < high)
            before++;
    }
    json_decref(list);
    printf("# %d of 200 low-priority pods were bound before the high-priority one\n", before);
    CHECK_INT(before, <, 20);
}
