/* test_disruption.c — the disruption controller: its status decision on
 * pods built in memory (expected, healthy, desired, allowed, the
 * DisruptionAllowed condition, nothing written when nothing changed), and
 * the controller live against a real orcd, following pods' readiness. */
#include <stdlib.h>
#include <string.h>

#include "controllers/disruption.h"
#include "lib/pdb.h"
#include "tests/controllers/live.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */
#define PODS "/api/v1/namespaces/default/pods"
#define PDBS "/apis/policy/v1/namespaces/default/poddisruptionbudgets"

static json_t *pod(const char *app, const char *phase, bool ready, bool deleting)
{
    json_t *p = json_pack("{s:{s:s, s:{s:s}}, s:{s:s, s:[{s:s, s:s}]}}", "metadata", "name", "p",
                          "labels", "app", app, "status", "phase", phase, "conditions", "type",
                          "Ready", "status", ready ? "True" : "False");
    if (deleting) orc_json_set(p, "metadata.deletionTimestamp", json_string("2026-01-01T00:00:00Z"));
    return p;
}

static json_t *pdb(const char *budget)
{
    char text[256];
    snprintf(text, sizeof text,
             "{\"metadata\":{\"name\":\"web\",\"generation\":3},\"spec\":{%s,\"selector\":"
             "{\"matchLabels\":{\"app\":\"web\"}}}}", budget);
    return json_loads(text, 0, NULL);
}

static long long num(const json_t *st, const char *key)
{
    return (long long)json_integer_value(json_object_get(st, key));
}

TEST(status_counts_selected_expected_and_healthy_pods)
{
    json_t *pods[] = {
        pod("web", "Running", true, false),   pod("web", "Running", true, false),
        pod("web", "Running", false, false),  /* not ready: expected, not healthy */
        pod("web", "Running", true, true),    /* being deleted: expected, not healthy */
        pod("web", "Succeeded", true, false), /* finished: not expected */
        pod("db", "Running", true, false),    /* not selected */
    };
    size_t n = sizeof pods / sizeof *pods;
    json_t *b = pdb("\"minAvailable\":1");
    json_t *st = disruption_status(b, (const json_t *const *)pods, n, NOW);

    CHECK(st != NULL);
    CHECK_INT(num(st, "expectedPods"), ==, 4);
    CHECK_INT(num(st, "currentHealthy"), ==, 2);
    CHECK_INT(num(st, "desiredHealthy"), ==, 1);
    CHECK_INT(num(st, "disruptionsAllowed"), ==, 1);
    CHECK_INT(num(st, "observedGeneration"), ==, 3);
    json_t *cond = json_array_get(json_object_get(st, "conditions"), 0);
    CHECK_STR(orc_json_str(cond, "type"), "DisruptionAllowed");
    CHECK_STR(orc_json_str(cond, "status"), "True");
    CHECK_STR(orc_json_str(cond, "reason"), "SufficientPods");

    /* Written back, the same pods change nothing. */
    json_object_set_new(b, "status", st);
    CHECK(disruption_status(b, (const json_t *const *)pods, n, NOW + 60) == NULL);
    json_decref(b);

    /* maxUnavailable 50% of 4 expected: 2 desired, 2 healthy, none to spare. */
    b = pdb("\"maxUnavailable\":\"50%\"");
    st = disruption_status(b, (const json_t *const *)pods, n, NOW);
    CHECK_INT(num(st, "desiredHealthy"), ==, 2);
    CHECK_INT(num(st, "disruptionsAllowed"), ==, 0);
    cond = json_array_get(json_object_get(st, "conditions"), 0);
    CHECK_STR(orc_json_str(cond, "status"), "False");
    CHECK_STR(orc_json_str(cond, "reason"), "InsufficientPods");
    json_decref(st);
    json_decref(b);

    /* A null selector selects nothing. */
    b = json_loads("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"minAvailable\":0}}", 0, NULL);
    st = disruption_status(b, (const json_t *const *)pods, n, NOW);
    CHECK_INT(num(st, "expectedPods"), ==, 0);
    json_decref(st);
    json_decref(b);
    for (size_t i = 0; i < n; i++) json_decref(pods[i]);
}

static json_t *named(const char *name, bool deleting)
{
    json_t *p = pod("web", "Running", true, deleting);
    orc_json_set(p, "metadata.name", json_string(name));
    return p;
}

/* An eviction marks the pod in status.disruptedPods; the controller may see
 * that budget before the pod's deletion and must not count the pod back as
 * healthy (it did: disruptionsAllowed bounced to 1 after an eviction left
 * none). Marks of pods gone, being deleted or past the TTL are dropped. */
TEST(evicted_pods_marked_in_the_budget_are_not_counted_healthy)
{
    json_t *pods[] = {named("evicted", false), named("kept", false), named("going", true)};
    size_t n = sizeof pods / sizeof *pods;
    json_t *b = pdb("\"minAvailable\":1");
    json_t *st = json_object();
    CHECK(orc_pdb_mark_disrupted(st, "evicted", NOW - 10) == 0);
    CHECK(orc_pdb_mark_disrupted(st, "going", NOW - 10) == 0);
    CHECK(orc_pdb_mark_disrupted(st, "gone", NOW - 10) == 0);
    json_object_set_new(b, "status", st);

    st = disruption_status(b, (const json_t *const *)pods, n, NOW);
    CHECK_INT(num(st, "currentHealthy"), ==, 1);
    CHECK_INT(num(st, "disruptionsAllowed"), ==, 0);
    const json_t *marks = json_object_get(st, "disruptedPods");
    CHECK_INT(json_object_size(marks), ==, 1);
    CHECK(json_object_get(marks, "evicted") != NULL);
    json_decref(st);

    /* Past the TTL the pod counts again and its mark goes. */
    st = disruption_status(b, (const json_t *const *)pods, n, NOW - 10 + ORC_PDB_DISRUPTED_TTL_S);
    CHECK_INT(num(st, "currentHealthy"), ==, 2);
    CHECK(json_object_get(st, "disruptedPods") == NULL);
    json_decref(st);
    json_decref(b);
    for (size_t i = 0; i < n; i++) json_decref(pods[i]);
}

static struct live l;

static void ready_pod(const char *name, bool ready)
{
    char body[256], path[128];
    snprintf(path, sizeof path, PODS "/%s/status", name);
    snprintf(body, sizeof body,
             "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
             ready ? "True" : "False");
    live_do(&l, "PATCH", path, "application/strategic-merge-patch+json", body, 200);
}

static void add_pod(const char *name)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
             "[{\"name\":\"c\",\"image\":\"busybox\"}]}}", name);
    live_do(&l, "POST", PODS, NULL, body, 201);
    ready_pod(name, true);
}

static bool allowed_is(struct live *lv, const void *arg)
{
    json_t *b = live_call(lv, "GET", PDBS "/web", NULL, NULL, 200);
    int64_t v = -1, h = -1;
    orc_json_int(b, "status.disruptionsAllowed", &v);
    orc_json_int(b, "status.currentHealthy", &h);
    json_decref(b);
    return v == ((const int64_t *)arg)[0] && h == ((const int64_t *)arg)[1];
}

static void wait_allowed(int64_t allowed, int64_t healthy)
{
    int64_t want[2] = {allowed, healthy};
    char what[96];
    snprintf(what, sizeof what, "disruptionsAllowed %lld with %lld healthy", (long long)allowed,
             (long long)healthy);
    live_until(&l, allowed_is, want, 5000, what);
}

TEST(status_follows_readiness_live)
{
    live_start(&l, &ctl_disruption, NULL);
    add_pod("web-1");
    add_pod("web-2");
    add_pod("web-3");
    live_do(&l, "POST", PDBS, NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"minAvailable\":2,"
            "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}", 201);
    wait_allowed(1, 3);
    ready_pod("web-3", false);
    wait_allowed(0, 2);
    live_do(&l, "DELETE", PODS "/web-2", NULL, NULL, 0);
    wait_allowed(0, 1);
    ready_pod("web-3", true);
    wait_allowed(0, 2);
    live_stop(&l);
}
