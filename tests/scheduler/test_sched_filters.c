/* test_sched_filters.c — the scheduler's filters and Kubernetes' failure
 * message, on in-memory nodes and pods. */
#include <stdlib.h>
#include <string.h>

#include "tests/scheduler/schedfx.h"

static sched_cache *new_cache(void)
{
    static sched_cache c;
    CHECK_INT(sched_cache_init(&c), ==, 0);
    return &c;
}

TEST(requests_fit_and_message)
{
    sched_cache *c = new_cache();
    char *msg;
    fx_add_node(c, "a", "2", "1Gi", NULL, NULL);
    fx_add_node(c, "b", "2", "1Gi", NULL, NULL);
    fx_add_node(c, "c", "8", "32Gi", NULL, "{\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}");
    CHECK(fx_place(c, fx_pod("p", "1", "2Gi", "", ""), &msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient memory.");
    free(msg);
    CHECK(fx_place(c, fx_pod("p", "3", "2Gi", "", ""), &msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu, 2 Insufficient memory.");
    free(msg);
    CHECK_STR(fx_place(c, fx_pod("p", "1", "512Mi", "", ""), NULL), "a");
    /* Tolerating the taint opens the big node. */
    CHECK_STR(fx_place(c, fx_pod("p", "1", "2Gi", ",\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]", ""), NULL), "c");
    CHECK_STR(fx_place(c, fx_pod("p", "1", "2Gi", ",\"tolerations\":[{\"operator\":\"Exists\"}]", ""), NULL), "c");
    CHECK(fx_place(c, fx_pod("p", "1", "2Gi", ",\"tolerations\":[{\"key\":\"dedicated\",\"value\":\"cpu\"}]", ""), NULL) == NULL);
    sched_cache_fini(c);
}

TEST(pods_counted_on_a_node_use_its_room)
{
    sched_cache *c = new_cache();
    char *msg;
    fx_add_node(c, "a", "2", "4Gi", NULL, NULL);
    fx_bind(c, fx_pod("x", "1500m", "1Gi", "", ""), "a");
    CHECK_INT(sched_cache_node(c, "a")->req_cpu, ==, 1500);
    CHECK_INT(sched_cache_node(c, "a")->req_mem, ==, 1024LL * 1024 * 1024);
    CHECK(fx_place(c, fx_pod("p", "600m", "", "", ""), &msg) == NULL);
    CHECK_STR(msg, "0/1 nodes are available: 1 Insufficient cpu.");
    free(msg);
    CHECK_STR(fx_place(c, fx_pod("p", "500m", "", "", ""), NULL), "a");
    /* A finished pod no longer counts; a deleted one neither. */
    json_t *done = fx_pod("x", "1500m", "1Gi", "", "");
    json_object_set_new(done, "status", fx_json("{\"phase\":\"Succeeded\"}"));
    fx_bind(c, done, "a");
    CHECK_INT(sched_cache_node(c, "a")->req_cpu, ==, 0);
    fx_bind(c, fx_pod("y", "1", "", "", ""), "a");
    sched_cache_pod_gone(c, "default", "y");
    CHECK_INT(sched_cache_node(c, "a")->npods, ==, 0);
    sched_cache_fini(c);
}

TEST(pod_count_limit)
{
    sched_cache *c = new_cache();
    char *msg;
    json_t *n = fx_node("a", "100", "100Gi", NULL, NULL);
    json_object_set_new(orc_json_get(n, "status.allocatable"), "pods", json_string("2"));
    CHECK_INT(sched_cache_set_node(c, n), ==, 0);
    json_decref(n);
    fx_bind(c, fx_pod("x", "", "", "", ""), "a");
    fx_bind(c, fx_pod("y", "", "", "", ""), "a");
    CHECK(fx_place(c, fx_pod("p", "", "", "", ""), &msg) == NULL);
    CHECK_STR(msg, "0/1 nodes are available: 1 Too many pods.");
    free(msg);
    sched_cache_fini(c);
}

TEST(init_containers_and_limits)
{
    json_t *obj = fx_json("{\"metadata\":{\"name\":\"p\"},\"spec\":{"
                          "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"3\"}}}],"
                          "\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},"
                          "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"100Mi\"}}}]}}");
    sched_pod *p = fx_parse(obj);
    CHECK_INT(p->cpu, ==, 3000);
    CHECK_INT(p->mem, ==, 1124LL * 1024 * 1024);
    CHECK_STR(p->key, "default/p");
    sched_pod_free(p);
    p = fx_parse(fx_pod("q", "", "", "", ""));
    CHECK_INT(p->cpu, ==, 0);
    CHECK_INT(p->cpu_nz, ==, 100);
    CHECK_INT(p->mem_nz, ==, 200LL * 1024 * 1024);
    sched_pod_free(p);
}

TEST(cordoned_and_not_ready_nodes)
{
    sched_cache *c = new_cache();
    char *msg;
    fx_add_node(c, "a", "4", "4Gi", NULL, "{\"unschedulable\":true}");
    json_t *n = fx_node("b", "4", "4Gi", NULL, NULL);
    json_object_set_new(json_array_get(orc_json_get(n, "status.conditions"), 0), "status", json_string("False"));
    CHECK_INT(sched_cache_set_node(c, n), ==, 0);
    json_decref(n);
    n = fx_node("c", "4", "4Gi", NULL, NULL);
    json_object_set_new(json_array_get(orc_json_get(n, "status.conditions"), 0), "status", json_string("Unknown"));
    CHECK_INT(sched_cache_set_node(c, n), ==, 0);
    json_decref(n);
    CHECK(fx_place(c, fx_pod("p", "1", "", "", ""), &msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
                   "1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable.");
    free(msg);
    CHECK_STR(fx_place(c, fx_pod("p", "1", "", ",\"tolerations\":[{\"key\":\"node.kubernetes.io/unschedulable\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]", ""), NULL), "a");
    sched_cache_fini(c);
}

TEST(node_selector_and_affinity)
{
    sched_cache *c = new_cache();
    char *msg;
    fx_add_node(c, "a", "4", "4Gi", "{\"disk\":\"ssd\",\"gen\":\"3\"}", NULL);
    fx_add_node(c, "b", "4", "4Gi", "{\"disk\":\"hdd\",\"gen\":\"5\"}", NULL);
    CHECK_STR(fx_place(c, fx_pod("p", "", "", ",\"nodeSelector\":{\"disk\":\"hdd\"}", ""), NULL), "b");
    CHECK(fx_place(c, fx_pod("p", "", "", ",\"nodeSelector\":{\"disk\":\"nvme\"}", ""), &msg) == NULL);
    CHECK_STR(msg, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
    free(msg);
#define REQ(terms) ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":" terms "}}}"
    CHECK_STR(fx_place(c, fx_pod("p", "", "", REQ("[{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\",\"values\":[\"4\"]}]}]"), ""), NULL), "b");
    CHECK_STR(fx_place(c, fx_pod("p", "", "", REQ("[{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"NotIn\",\"values\":[\"hdd\"]}]}]"), ""), NULL), "a");
    CHECK_STR(fx_place(c, fx_pod("p", "", "", REQ("[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"b\"]}]}]"), ""), NULL), "b");
    /* Terms are ORed, expressions in a term ANDed. */
    CHECK(fx_place(c, fx_pod("p", "", "", REQ("[{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"In\",\"values\":[\"ssd\"]},{\"key\":\"gen\",\"operator\":\"Lt\",\"values\":[\"3\"]}]}]"), ""), NULL) == NULL);
    CHECK_STR(fx_place(c, fx_pod("p", "", "", REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"}]},{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"In\",\"values\":[\"5\"]}]}]"), ""), NULL), "b");
    /* Preferred terms steer the score. */
    CHECK_STR(fx_place(c, fx_pod("p", "", "", ",\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":50,\"preference\":{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"In\",\"values\":[\"hdd\"]}]}}]}}", ""), NULL), "b");
    sched_cache_fini(c);
}

TEST(prefer_no_schedule_is_a_score)
{
    sched_cache *c = new_cache();
    fx_add_node(c, "a", "4", "4Gi", NULL, "{\"taints\":[{\"key\":\"k\",\"effect\":\"PreferNoSchedule\"}]}");
    fx_add_node(c, "b", "4", "4Gi", NULL, NULL);
    CHECK_STR(fx_place(c, fx_pod("p", "", "", "", ""), NULL), "b");
    /* Only node a: still placed there. */
    sched_cache_remove_node(c, "b");
    CHECK_STR(fx_place(c, fx_pod("p", "", "", "", ""), NULL), "a");
    sched_cache_fini(c);
}

TEST(host_ports)
{
    sched_cache *c = new_cache();
    char *msg;
#define PORT(p, ip) ",\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":" p ip "}]}]"
    fx_add_node(c, "a", "4", "4Gi", NULL, NULL);
    json_t *x = fx_json("{\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}]}]}}");
    fx_bind(c, x, "a");
    json_t *p = fx_json("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080}]}]}}");
    CHECK(fx_place(c, p, &msg) == NULL);
    CHECK_STR(msg, "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
    free(msg);
    p = fx_json("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080,\"protocol\":\"UDP\"}]}]}}");
    CHECK_STR(fx_place(c, p, NULL), "a");
    p = fx_json("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8081}]}]}}");
    CHECK_STR(fx_place(c, p, NULL), "a");
    sched_cache_fini(c);
}

#define ANTI(sel) ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchLabels\":" sel "},\"topologyKey\":\"kubernetes.io/hostname\"}]}}"
#define AFF(sel, key) ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchLabels\":" sel "},\"topologyKey\":\"" key "\"}]}}"
#define LABELS(l) ",\"labels\":" l

TEST(pod_anti_affinity_on_hostname)
{
    sched_cache *c = new_cache();
    char *msg;
    fx_add_node(c, "a", "4", "4Gi", "{\"kubernetes.io/hostname\":\"a\"}", NULL);
    fx_add_node(c, "b", "4", "4Gi", NULL, NULL); /* no label: its name stands in */
    fx_bind(c, fx_pod("w1", "", "", ANTI("{\"app\":\"web\"}"), LABELS("{\"app\":\"web\"}")), "a");
    CHECK_STR(fx_place(c, fx_pod("w2", "", "", ANTI("{\"app\":\"web\"}"), LABELS("{\"app\":\"web\"}")), NULL), "b");
    fx_bind(c, fx_pod("w2", "", "", ANTI("{\"app\":\"web\"}"), LABELS("{\"app\":\"web\"}")), "b");
    /* The existing pods' rules are checked first, as Kubernetes does. */
    CHECK(fx_place(c, fx_pod("w3", "", "", ANTI("{\"app\":\"web\"}"), LABELS("{\"app\":\"web\"}")), &msg) == NULL);
    CHECK_STR(msg, "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.");
    free(msg);
    /* A pod not selected by their rules, but whose own rules select them. */
    CHECK(fx_place(c, fx_pod("w4", "", "", ANTI("{\"app\":\"web\"}"), LABELS("{\"app\":\"other\"}")), &msg) == NULL);
    CHECK_STR(msg, "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
    free(msg);
    /* A pod without rules of its own is kept off by the existing pods'. */
    CHECK(fx_place(c, fx_pod("plain", "", "", "", LABELS("{\"app\":\"web\"}")), &msg) == NULL);
    CHECK_STR(msg, "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.");
    free(msg);
    CHECK(fx_place(c, fx_pod("other", "", "", "", LABELS("{\"app\":\"db\"}")), NULL) != NULL);
    /* Another namespace is not affected. */
    json_t *o = fx_pod("ns2", "", "", "", LABELS("{\"app\":\"web\"}"));
    json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string("other"));
    CHECK(fx_place(c, o, NULL) != NULL);
    sched_cache_fini(c);
}

TEST(pod_affinity_by_zone_and_first_of_group)
{
    sched_cache *c = new_cache();
    char *msg;
    fx_add_node(c, "a", "4", "4Gi", "{\"zone\":\"z1\"}", NULL);
    fx_add_node(c, "b", "4", "4Gi", "{\"zone\":\"z2\"}", NULL);
    fx_add_node(c, "c", "4", "4Gi", "{\"zone\":\"z2\"}", NULL);
    /* No cache pod yet: the first of a self-affine group goes anywhere. */
    CHECK(fx_place(c, fx_pod("f", "", "", AFF("{\"app\":\"cache\"}", "zone"), LABELS("{\"app\":\"cache\"}")), NULL) != NULL);
    /* One that is not itself selected waits. */
    CHECK(fx_place(c, fx_pod("g", "", "", AFF("{\"app\":\"cache\"}", "zone"), ""), &msg) == NULL);
    CHECK_STR(msg, "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
    free(msg);
    fx_bind(c, fx_pod("cache1", "", "", "", LABELS("{\"app\":\"cache\"}")), "c");
    const char *where = fx_place(c, fx_pod("g", "1", "", AFF("{\"app\":\"cache\"}", "zone"), ""), NULL);
    CHECK(where != NULL && (strcmp(where, "b") == 0 || strcmp(where, "c") == 0));
    sched_cache_fini(c);
}

TEST(wanted_pods)
{
    json_t *p = fx_pod("p", "", "", "", "");
    CHECK(sched_pod_wanted(p));
    json_object_set_new(json_object_get(p, "spec"), "schedulerName", json_string("default-scheduler"));
    CHECK(sched_pod_wanted(p));
    json_object_set_new(json_object_get(p, "spec"), "schedulerName", json_string("other"));
    CHECK(!sched_pod_wanted(p));
    json_object_del(json_object_get(p, "spec"), "schedulerName");
    json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string("a"));
    CHECK(!sched_pod_wanted(p));
    json_object_del(json_object_get(p, "spec"), "nodeName");
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp", json_string("2026-01-01T00:00:00Z"));
    CHECK(!sched_pod_wanted(p));
    json_decref(p);
}

TEST(tolerations_match_rules)
{
    json_t *taint = fx_json("{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoExecute\"}");
    json_t *t;
#define TOL(s) (t = fx_json("[" s "]"), sched_tolerates(t, taint) ? (json_decref(t), true) : (json_decref(t), false))
    CHECK(TOL("{\"key\":\"k\",\"value\":\"v\"}"));
    CHECK(TOL("{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}"));
    CHECK(!TOL("{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}"));
    CHECK(!TOL("{\"key\":\"k\",\"value\":\"w\"}"));
    CHECK(TOL("{\"operator\":\"Exists\"}"));
    CHECK(!TOL("{\"key\":\"j\",\"operator\":\"Exists\"}"));
    json_decref(taint);
}
