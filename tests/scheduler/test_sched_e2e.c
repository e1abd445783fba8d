/* test_sched_e2e.c — the scheduler against a real `orcd server --no-agent`:
 * Node objects made Ready by the test, pods bound through the binding
 * subresource with a Scheduled event; a pod that fits nowhere gets
 * PodScheduled=False/Unschedulable, Kubernetes' message and a
 * FailedScheduling event, and is bound once a node that fits joins; pods of
 * another scheduler are left alone; a high-priority pod preempts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/scheduler/schedrun.h"

static struct cluster c; /* static: the harness's end-of-case cleanups use it */

static void start(void)
{
    /* The test runs the controllers in process: the member runs none. */
    static const char *const none[] = {"--controllers", "-*", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, none);
    member_wait_ready(&c, 0, 10000);
}

static void post(const char *path, const char *body)
{
    int st;
    json_t *r = t_json(&c, 0, "POST", path, body, &st);
    CHECKF(st == 201 || st == 200, "POST %s: %d %s", path, st, r ? orc_json_str(r, "message") : "");
    json_decref(r);
}

static void add_node(const char *name, const char *cpu, const char *mem, const char *spec)
{
    char body[2048], path[256];
    int st;
    json_t *r;
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":"
             "{\"kubernetes.io/hostname\":\"%s\"}},\"spec\":%s}",
             name, name, spec ? spec : "{}");
    post("/api/v1/nodes", body);
    snprintf(body, sizeof body,
             "{\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"},"
             "\"capacity\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"},"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}",
             cpu, mem, cpu, mem);
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", name);
    CHECK_INT(t_http(&c, 0, "PATCH", path, "application/merge-patch+json", body, NULL, NULL), ==, 200);
    (void)st;
    (void)r;
}

static void add_pod(const char *name, const char *cpu, const char *extra_spec)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},\"spec\":{"
             "\"terminationGracePeriodSeconds\":0,\"containers\":[{\"name\":\"c\",\"image\":\"x\","
             "\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]%s}}",
             name, cpu, extra_spec ? extra_spec : "");
    post("/api/v1/namespaces/default/pods", body);
}

static json_t *get_pod(const char *name)
{
    char path[256];
    int st;
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    json_t *p = t_json(&c, 0, "GET", path, NULL, &st);
    if (st != 200) {
        json_decref(p);
        return NULL;
    }
    return p;
}

/* The pod's node once bound within timeout_ms, else "" (malloc'd). */
static char *wait_bound(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    for (;;) {
        json_t *p = get_pod(name);
        const char *n = p ? orc_json_str(p, "spec.nodeName") : NULL;
        if (n && *n) {
            char *s = strdup(n);
            json_decref(p);
            return s;
        }
        json_decref(p);
        if (test_now_ms() > end) return strdup("");
        test_sleep_ms(50);
    }
}

/* The PodScheduled condition's message once it is False, within 10 s. */
static char *wait_unschedulable(const char *name)
{
    uint64_t end = test_now_ms() + 10000;
    while (test_now_ms() < end) {
        json_t *p = get_pod(name), *cond;
        size_t i;
        json_array_foreach(orc_json_get(p, "status.conditions"), i, cond) {
            const char *t = orc_json_str(cond, "type"), *s = orc_json_str(cond, "status");
            if (t && s && !strcmp(t, "PodScheduled") && !strcmp(s, "False")) {
                CHECK_STR(orc_json_str(cond, "reason"), "Unschedulable");
                char *m = strdup(orc_json_str(cond, "message"));
                json_decref(p);
                return m;
            }
        }
        json_decref(p);
        test_sleep_ms(50);
    }
    test_fail(__FILE__, __LINE__, "pod %s never marked unschedulable", name);
}

/* An event with this reason about the pod, whose message contains `text`. */
static bool has_event(const char *pod, const char *reason, const char *text)
{
    uint64_t end = test_now_ms() + 10000;
    while (test_now_ms() < end) {
        int st;
        json_t *list = t_json(&c, 0, "GET", "/api/v1/namespaces/default/events", NULL, &st), *e;
        size_t i;
        bool found = false;
        json_array_foreach(json_object_get(list, "items"), i, e) {
            const char *n = orc_json_str(e, "involvedObject.name"), *r = orc_json_str(e, "reason");
            const char *m = orc_json_str(e, "message");
            if (n && r && m && !strcmp(n, pod) && !strcmp(r, reason) && strstr(m, text)) found = true;
        }
        json_decref(list);
        if (found) return true;
        test_sleep_ms(100);
    }
    return false;
}

TEST_T(binds_pods_and_records_events, 60)
{
    start();
    add_node("n1", "2", "4Gi", NULL);
    add_node("n2", "2", "4Gi", NULL);
    schedrun_start(&c, 0);
    add_pod("a", "1", NULL);
    add_pod("b", "1", NULL);
    add_pod("d", "1", NULL);
    char *na = wait_bound("a", 10000), *nb = wait_bound("b", 10000), *nd = wait_bound("d", 10000);
    CHECK(*na && *nb && *nd);
    /* Bin-packing: two of them share a node (2 cpu each). */
    CHECK(!strcmp(na, nb) || !strcmp(na, nd) || !strcmp(nb, nd));
    CHECK(has_event("a", "Scheduled", "Successfully assigned default/a to "));
    json_t *p = get_pod("a");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "status.conditions"), 0), "type"), "PodScheduled");
    json_decref(p);
    free(na);
    free(nb);
    free(nd);
}

TEST_T(unschedulable_then_bound_when_a_node_fits, 60)
{
    start();
    add_node("small1", "1", "4Gi", NULL);
    add_node("small2", "1", "4Gi", NULL);
    add_node("tainted", "8", "4Gi", "{\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}");
    schedrun_start(&c, 0);
    add_pod("big", "4", NULL);
    char *msg = wait_unschedulable("big");
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.");
    free(msg);
    CHECK(has_event("big", "FailedScheduling", "0/3 nodes are available"));
    /* A node that fits joins: the pod is retried and bound there. */
    add_node("large", "8", "16Gi", NULL);
    char *n = wait_bound("big", 15000);
    CHECK_STR(n, "large");
    free(n);
}

TEST_T(other_schedulers_pods_left_alone, 60)
{
    start();
    add_node("n1", "2", "4Gi", NULL);
    schedrun_start(&c, 0);
    add_pod("mine", "100m", NULL);
    add_pod("theirs", "100m", ",\"schedulerName\":\"other\"");
    char *n = wait_bound("mine", 10000);
    CHECK_STR(n, "n1");
    free(n);
    n = wait_bound("theirs", 1000);
    CHECK_STR(n, "");
    free(n);
}

TEST_T(higher_priority_preempts, 60)
{
    start();
    add_node("n1", "2", "4Gi", NULL);
    schedrun_start(&c, 0);
    add_pod("low1", "1", ",\"priority\":1");
    add_pod("low2", "1", ",\"priority\":1");
    char *n = wait_bound("low1", 10000);
    CHECK_STR(n, "n1");
    free(n);
    n = wait_bound("low2", 10000);
    CHECK_STR(n, "n1");
    free(n);
    add_pod("high", "1", ",\"priority\":1000");
    n = wait_bound("high", 20000);
    CHECK_STR(n, "n1");
    free(n);
    /* Exactly one of the low pods made room. */
    json_t *l1 = get_pod("low1"), *l2 = get_pod("low2");
    CHECK((l1 == NULL) != (l2 == NULL));
    json_decref(l1);
    json_decref(l2);
    CHECK(has_event(l1 ? "low2" : "low1", "Preempted", "Preempted by default/high on node n1"));
}
