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
