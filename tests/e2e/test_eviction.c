/* test_eviction.c — a real `orcd server` serving pods/{name}/eviction (what
 * drain uses): 201 Status and the pod deleted with the Eviction's
 * deleteOptions; a mismatched name or body refused; a missing pod 404; and
 * new pods getting the default not-ready/unreachable tolerations from
 * --pod-eviction-timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"

static struct cluster c;

static void start_one(void)
{
    static const char *const extra[] = {"--pod-eviction-timeout", "7s", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 10000);
}

static int call(const char *method, const char *path, const char *body, char **resp)
{
    return t_http(&c, 0, method, path, body ? "application/json" : NULL, body, resp, NULL);
}

static void make_pod(const char *name)
{
    char body[512], *resp = NULL;
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"nodeName\":\"nowhere\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
             name);
    int st = call("POST", PODS, body, &resp);
    CHECKF(st == 201, "create %s: %d %s", name, st, resp ? resp : "");
    free(resp);
}

TEST(evict_deletes_the_pod)
{
    char *resp = NULL;
    int st;

    start_one();
    make_pod("a");
    st = call("POST", PODS "/a/eviction",
              "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"a\","
              "\"namespace\":\"default\"},\"deleteOptions\":{\"gracePeriodSeconds\":0}}", &resp);
    CHECKF(st == 201, "eviction: %d %s", st, resp ? resp : "");
    json_t *j = json_loads(resp, 0, NULL);
    CHECK_STR(orc_json_str(j, "kind"), "Status");
    CHECK_STR(orc_json_str(j, "status"), "Success");
    json_decref(j);
    free(resp);
    resp = NULL;
    st = call("GET", PODS "/a", NULL, &resp);
    CHECKF(st == 404, "the evicted pod is still there: %d %s", st, resp ? resp : "");
    free(resp);
}

TEST(evict_graceful_marks_deletion)
{
    char *resp = NULL;
    start_one();
    make_pod("b");
    int st = call("POST", PODS "/b/eviction", "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\","
                                              "\"metadata\":{\"name\":\"b\"}}", &resp);
    CHECKF(st == 201, "eviction: %d %s", st, resp ? resp : "");
    free(resp);
    resp = NULL;
    st = call("GET", PODS "/b", NULL, &resp);
    CHECK_INT(st, ==, 200);
    json_t *j = json_loads(resp, 0, NULL);
    CHECK(orc_json_get(j, "metadata.deletionTimestamp") != NULL);
    json_decref(j);
    free(resp);
}

TEST(evict_refusals)
{
    char *resp = NULL;
    start_one();
    make_pod("c");
    CHECK_INT(call("POST", PODS "/c/eviction", "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\","
                                                "\"metadata\":{\"name\":\"other\"}}", &resp), ==, 400);
    free(resp);
    resp = NULL;
    CHECK_INT(call("POST", PODS "/c/eviction", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", &resp), ==, 400);
    free(resp);
    resp = NULL;
    CHECK_INT(call("POST", PODS "/none/eviction", "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\","
                                                   "\"metadata\":{\"name\":\"none\"}}", &resp), ==, 404);
    free(resp);
}

TEST(default_tolerations_on_create)
{
    char *resp = NULL;
    start_one();
    make_pod("d");
    CHECK_INT(call("GET", PODS "/d", NULL, &resp), ==, 200);
    json_t *j = json_loads(resp, 0, NULL);
    json_t *tols = orc_json_get(j, "spec.tolerations");
    CHECK_INT(json_array_size(tols), ==, 2);
    CHECK_STR(orc_json_str(json_array_get(tols, 1), "key"), "node.kubernetes.io/unreachable");
    json_int_t secs = json_integer_value(json_object_get(json_array_get(tols, 1), "tolerationSeconds"));
    CHECK_INT(secs, ==, 7);
    json_decref(j);
    free(resp);
}
