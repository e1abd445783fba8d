/* test_quota_usage.c — what one object adds to its namespace's quota
 * usage, by Kubernetes' evaluators: pods (requests/limits, init containers,
 * finished pods), Services, claims, and count/<resource>[.<group>]. */
#include <jansson.h>
#include <string.h>

#include "apiserver/quota.h"
#include "lib/kinds.h"
#include "tests/harness/test.h"

static struct quota_usage usage(const char *resource, const char *group, const char *json)
{
    struct quota_usage u = {0};
    json_t *obj = json_loads(json, 0, NULL);

    CHECKF(obj != NULL, "bad JSON: %s", json);
    quota_usage_of(orc_kind_by_resource(group, resource), obj, &u);
    json_decref(obj);
    return u;
}

TEST(quota_usage_pod_requests_limits_and_init)
{
    struct quota_usage u = usage("pods", "",
                                 "{\"spec\":{\"containers\":["
                                 "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},"
                                 "\"limits\":{\"cpu\":\"200m\"}}},"
                                 "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"150m\"}}}],"
                                 "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}");

    CHECK_INT(quota_get(&u, "pods"), ==, 1000);
    CHECK_INT(quota_get(&u, "count/pods"), ==, 1000);
    CHECK_INT(quota_get(&u, "requests.cpu"), ==, 1000); /* the init container's 1 beats 250m */
    CHECK_INT(quota_get(&u, "cpu"), ==, 1000);
    CHECK_INT(quota_get(&u, "requests.memory"), ==, 64LL * 1024 * 1024 * 1000);
    CHECK_INT(quota_get(&u, "limits.cpu"), ==, 200);
    CHECK_INT(quota_get(&u, "limits.memory"), ==, 0);
}

TEST(quota_usage_finished_pods_count_nothing)
{
    struct quota_usage u = usage("pods", "", "{\"spec\":{\"containers\":[]},\"status\":{\"phase\":\"Succeeded\"}}");
    CHECK_INT(u.n, ==, 0);
    u = usage("pods", "", "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{}}");
    CHECK_INT(u.n, ==, 0);
}

TEST(quota_usage_services_claims_counts)
{
    struct quota_usage u = usage("services", "", "{\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{},{}]}}");
    CHECK_INT(quota_get(&u, "services"), ==, 1000);
    CHECK_INT(quota_get(&u, "services.loadbalancers"), ==, 1000);
    CHECK_INT(quota_get(&u, "services.nodeports"), ==, 2000);
    u = usage("persistentvolumeclaims", "", "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}");
    CHECK_INT(quota_get(&u, "persistentvolumeclaims"), ==, 1000);
    CHECK_INT(quota_get(&u, "count/persistentvolumeclaims"), ==, 1000);
    CHECK_INT(quota_get(&u, "requests.storage"), ==, 1024LL * 1024 * 1024 * 1000);
    u = usage("deployments", "apps", "{}");
    CHECK_INT(quota_get(&u, "count/deployments.apps"), ==, 1000);
    CHECK_INT(u.n, ==, 1);
    u = usage("configmaps", "", "{}");
    CHECK_INT(quota_get(&u, "configmaps"), ==, 1000);
    CHECK_INT(quota_get(&u, "count/configmaps"), ==, 1000);
}

static bool covers(const char *quota, const char *resource, const char *obj)
{
    json_t *q = json_loads(quota, 0, NULL), *o = json_loads(obj, 0, NULL);
    CHECKF(q && o, "bad JSON: %s / %s", quota, obj);
    bool r = quota_covers(q, orc_kind_by_resource("", resource), o);
    json_decref(q);
    json_decref(o);
    return r;
}

#define BE_POD "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}"
#define BU_POD "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}"
#define TERM_POD "{\"spec\":{\"activeDeadlineSeconds\":30,\"containers\":[{\"name\":\"a\"}]}}"
#define HIGH_POD                                                                                      \
    "{\"spec\":{\"priorityClassName\":\"high\",\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":" \
    "{\"memory\":1}}}]}}"

/* Scopes as Kubernetes' pod evaluator matches them; a scoped quota
 * covers pods only; an unscoped one everything. */
TEST(quota_scopes_cover_the_pods_they_name)
{
    CHECK(covers("{\"spec\":{}}", "services", "{}"));
    CHECK(covers("{\"spec\":{}}", "pods", BE_POD));
    CHECK(!covers("{\"spec\":{\"scopes\":[\"NotTerminating\"]}}", "services", "{}"));
    CHECK(covers("{\"spec\":{\"scopes\":[\"BestEffort\"]}}", "pods", BE_POD));
    CHECK(!covers("{\"spec\":{\"scopes\":[\"BestEffort\"]}}", "pods", BU_POD));
    CHECK(covers("{\"spec\":{\"scopes\":[\"NotBestEffort\"]}}", "pods", BU_POD));
    CHECK(covers("{\"spec\":{\"scopes\":[\"NotBestEffort\"]}}", "pods", HIGH_POD)); /* a limit counts */
    CHECK(covers("{\"spec\":{\"scopes\":[\"Terminating\"]}}", "pods", TERM_POD));
    CHECK(!covers("{\"spec\":{\"scopes\":[\"Terminating\"]}}", "pods", BE_POD));
    CHECK(covers("{\"spec\":{\"scopes\":[\"NotTerminating\"]}}", "pods", BE_POD));
    /* every scope must match */
    CHECK(covers("{\"spec\":{\"scopes\":[\"Terminating\",\"BestEffort\"]}}", "pods", TERM_POD));
    CHECK(!covers("{\"spec\":{\"scopes\":[\"NotTerminating\",\"BestEffort\"]}}", "pods", TERM_POD));
    /* scopeSelector with PriorityClass */
    const char *in_high = "{\"spec\":{\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":\"PriorityClass\","
                          "\"operator\":\"In\",\"values\":[\"high\",\"top\"]}]}}}";
    CHECK(covers(in_high, "pods", HIGH_POD));
    CHECK(!covers(in_high, "pods", BE_POD));
    const char *notin = "{\"spec\":{\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":\"PriorityClass\","
                        "\"operator\":\"NotIn\",\"values\":[\"high\"]}]}}}";
    CHECK(!covers(notin, "pods", HIGH_POD));
    CHECK(covers(notin, "pods", BE_POD));
    const char *exists = "{\"spec\":{\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":\"PriorityClass\","
                         "\"operator\":\"Exists\"}]}}}";
    CHECK(covers(exists, "pods", HIGH_POD));
    CHECK(!covers(exists, "pods", BE_POD));
    CHECK(covers("{\"spec\":{\"scopes\":[\"PriorityClass\"]}}", "pods", HIGH_POD));
    CHECK(covers("{\"spec\":{\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":\"CrossNamespacePodAffinity\","
                 "\"operator\":\"Exists\"}]}}}", "pods",
                 "{\"spec\":{\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                 "[{\"topologyKey\":\"k\",\"namespaceSelector\":{}}]}}}}"));
    CHECK(!covers("{\"spec\":{\"scopes\":[\"CrossNamespacePodAffinity\"]}}", "pods", BE_POD));
}
