/* test_replicaset_logic.c — the ReplicaSet controller's decisions: which pods
 * go first on scale-down, slow-start batches, the status it reports, the
 * pods it creates, and expectations on a fake clock. */
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/expectations.h"
#include "controllers/replicaset.h"
#include "lib/json.h"
#include "lib/timeutil.h"
#include "tests/harness/test.h"

#define T0 1800000000

static json_t *pod(const char *name, const char *node, const char *phase, int ready_ago,
                   int created_ago, int restarts)
{
    char created[ORC_TIME_LEN], since[ORC_TIME_LEN];
    orc_time_format(T0 - created_ago, created);
    orc_time_format(T0 - (ready_ago >= 0 ? ready_ago : 0), since);
    json_t *p = json_pack("{s:{s:s,s:s,s:{s:s}},s:{},s:{s:s,s:[{s:s,s:s,s:s}],s:[{s:i}]}}",
                          "metadata", "name", name, "creationTimestamp", created, "labels", "app",
                          "web", "spec", "status", "phase", phase, "conditions", "type", "Ready",
                          "status", ready_ago >= 0 ? "True" : "False", "lastTransitionTime", since,
                          "containerStatuses", "restartCount", restarts);
    CHECK(p != NULL);
    if (node) orc_json_set(p, "spec.nodeName", json_string(node));
    return p;
}

static void decref_all(void *arg)
{
    json_t **v = arg;
    for (size_t i = 0; v[i]; i++) json_decref(v[i]);
}

TEST(scale_down_order_follows_active_pods)
{
    static json_t *v[16];
    test_defer(decref_all, v);
    size_t n = 0;
    v[n++] = pod("ready-old", "n1", "Running", 500, 1000, 0);
    v[n++] = pod("unscheduled", NULL, "Pending", -1, 10, 0);
    v[n++] = pod("pending", "n2", "Pending", -1, 10, 0);
    v[n++] = pod("notready", "n2", "Running", -1, 10, 0);
    v[n++] = pod("ready-new", "n3", "Running", 5, 1000, 0);
    v[n++] = pod("unknown", "n3", "Unknown", -1, 10, 0);
    const json_t *order[16];
    for (size_t i = 0; i < n; i++) order[i] = v[i];
    rs_sort_for_deletion(order, n);
    const char *want[] = {"unscheduled", "pending", "unknown", "notready", "ready-new", "ready-old"};
    for (size_t i = 0; i < n; i++) CHECK_STR(orc_json_str(order[i], "metadata.name"), want[i]);
}

TEST(scale_down_prefers_crowded_nodes_restarts_and_newer_pods)
{
    static json_t *v[16];
    test_defer(decref_all, v);
    size_t n = 0;
    v[n++] = pod("alone", "n1", "Running", 100, 100, 0);
    v[n++] = pod("crowd-a", "n2", "Running", 100, 100, 0);
    v[n++] = pod("crowd-b", "n2", "Running", 100, 100, 3);
    v[n++] = pod("crowd-c", "n2", "Running", 100, 50, 0);
    const json_t *order[16];
    for (size_t i = 0; i < n; i++) order[i] = v[i];
    rs_sort_for_deletion(order, n);
    CHECK_STR(orc_json_str(order[0], "metadata.name"), "crowd-b"); /* restarts */
    CHECK_STR(orc_json_str(order[1], "metadata.name"), "crowd-c"); /* newer */
    CHECK_STR(orc_json_str(order[2], "metadata.name"), "crowd-a");
    CHECK_STR(orc_json_str(order[3], "metadata.name"), "alone");
}

TEST(slow_start_batches_double)
{
    size_t remaining = 20, last = 0, got[8], k = 0;
    while (remaining > 0) {
        last = rs_next_batch(remaining, last);
        got[k++] = last;
        remaining -= last;
    }
    size_t want[] = {1, 2, 4, 8, 5};
    CHECK_INT(k, ==, 5);
    for (size_t i = 0; i < k; i++) CHECK_INT(got[i], ==, want[i]);
}

TEST(status_counts_ready_available_and_failure)
{
    static json_t *v[8];
    test_defer(decref_all, v);
    json_t *rs = json_pack("{s:{s:s,s:s,s:s,s:i},s:{s:i,s:i,s:{s:{s:s}},s:{s:{s:{s:s,s:s}},s:{}}}}",
                           "metadata", "name", "web-x", "namespace", "ns1", "uid", "u1",
                           "generation", 4, "spec", "replicas", 3, "minReadySeconds", 30,
                           "selector", "matchLabels", "app", "web", "template", "metadata",
                           "labels", "app", "web", "tier", "fe", "spec");
    v[0] = rs;
    v[1] = pod("a", "n1", "Running", 100, 200, 0); /* available */
    v[2] = pod("b", "n1", "Running", 10, 200, 0);  /* ready, not yet available */
    v[3] = pod("c", "n1", "Pending", -1, 200, 0);
    orc_json_set(v[1], "metadata.labels", json_pack("{s:s,s:s}", "app", "web", "tier", "fe"));
    const json_t *pods[] = {v[1], v[2], v[3]};
    json_t *st = rs_status(rs, pods, 3, T0, NULL, false);
    CHECK_INT(ctl_int(st, "replicas", -1), ==, 3);
    CHECK_INT(ctl_int(st, "fullyLabeledReplicas", -1), ==, 1);
    CHECK_INT(ctl_int(st, "readyReplicas", -1), ==, 2);
    CHECK_INT(ctl_int(st, "availableReplicas", -1), ==, 1);
    CHECK_INT(ctl_int(st, "observedGeneration", -1), ==, 4);
    CHECK(json_object_get(st, "conditions") == NULL);
    CHECK_INT(rs_available_after_ms(rs, pods, 3, T0), ==, 20000);
    json_object_set_new(rs, "status", st);
    st = rs_status(rs, pods, 3, T0, "pods \"web-x-\" is forbidden: exceeded quota", true);
    const json_t *c = ctl_cond_get(st, "ReplicaFailure");
    CHECK(c != NULL);
    CHECK_STR(orc_json_str(c, "reason"), "FailedCreate");
    json_object_set_new(rs, "status", st);
    st = rs_status(rs, pods, 3, T0, NULL, false);
    CHECK(ctl_cond_get(st, "ReplicaFailure") == NULL);
    json_decref(st);

    json_t *p = rs_new_pod(rs);
    CHECK_STR(orc_json_str(p, "metadata.generateName"), "web-x-");
    CHECK_STR(orc_json_str(p, "metadata.namespace"), "ns1");
    CHECK_STR(orc_json_str(p, "metadata.labels.tier"), "fe");
    CHECK_STR(ctl_controller_uid(p), "u1");
    json_decref(p);
}

/* Times are monotonic milliseconds as the controller passes them from its
 * clock (lib/clock.h). */
TEST(expectations_hold_until_seen_or_expired)
{
    uint64_t now = 1000;
    ctl_expectations *e = ctl_exp_new();
    CHECK(e != NULL);
    CHECK(ctl_exp_satisfied(e, "ns/a", now));
    CHECK(ctl_exp_expect(e, "ns/a", 2, 0, now) == 0);
    CHECK(!ctl_exp_satisfied(e, "ns/a", now));
    ctl_exp_observe_add(e, "ns/a");
    CHECK(!ctl_exp_satisfied(e, "ns/a", now));
    ctl_exp_observe_add(e, "ns/a");
    CHECK(ctl_exp_satisfied(e, "ns/a", now));
    CHECK(ctl_exp_expect(e, "ns/a", 0, 1, now) == 0);
    CHECK(ctl_exp_expect(e, "ns/b", 1, 0, now) == 0);
    CHECK(!ctl_exp_satisfied(e, "ns/a", now + CTL_EXPECTATIONS_TIMEOUT_MS - 1));
    CHECK(ctl_exp_satisfied(e, "ns/a", now + CTL_EXPECTATIONS_TIMEOUT_MS));
    ctl_exp_forget(e, "ns/a");
    CHECK(ctl_exp_satisfied(e, "ns/a", now));
    CHECK(!ctl_exp_satisfied(e, "ns/b", now));
    ctl_exp_free(e);
}
