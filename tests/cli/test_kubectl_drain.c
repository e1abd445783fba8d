/* test_kubectl_drain.c — stock `kubectl drain` against a real `orcd
 * server`: it finds pods/eviction in discovery (policy/v1), cordons the
 * node and evicts its pods; a PodDisruptionBudget keeps the last healthy
 * pod (429, drain times out), and without it the node empties. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define MERGE "application/merge-patch+json"
#define PODS "/api/v1/namespaces/default/pods"

static struct cluster c;

static int kubectl(char **out, char **err, const char *const *words)
{
    return run_kubectl(&c, out, err, words);
}

static void http_ok(const char *method, const char *path, const char *ctype, const char *body,
                    int want)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, ctype, body, &resp, NULL);
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    free(resp);
}

static void ready_pod_on_n1(const char *name)
{
    char body[512], path[256];
    snprintf(body, sizeof body,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
             "\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}", name);
    http_ok("POST", PODS, NULL, body, 201);
    snprintf(path, sizeof path, PODS "/%s/status", name);
    http_ok("PATCH", path, MERGE,
            "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
            "\"status\":\"True\"}]}}", 200);
}

static size_t pods_left(void)
{
    int st;
    json_t *l = t_json(&c, 0, "GET", PODS, NULL, &st);
    size_t n = json_array_size(json_object_get(l, "items"));
    json_decref(l);
    return n;
}

TEST_T(drain_evicts_within_the_disruption_budget, 90)
{
    char *out = NULL, *err = NULL;
    if (access("/usr/bin/kubectl", X_OK) != 0) {
        fprintf(stderr, "# SKIP: /usr/bin/kubectl is not installed on this machine\n");
        return;
    }
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    http_ok("POST", "/api/v1/nodes", NULL, "{\"metadata\":{\"name\":\"n1\"}}", 201);
    ready_pod_on_n1("web-1");
    ready_pod_on_n1("web-2");
    http_ok("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", NULL,
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"minAvailable\":1,"
            "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}", 201);

    int rc = kubectl(&out, &err, (const char *const[]){"drain", "n1", "--force", "--grace-period=0",
                                                      "--timeout=8s", NULL});
    CHECKF(rc != 0, "drain should time out on the budget:\n%s\n%s", out, err);
    CHECKF(strstr(err, "disruption budget") != NULL, "stderr:\n%s", err);
    free(out);
    free(err);
    CHECK_INT(pods_left(), ==, 1);
    int st;
    json_t *node = t_json(&c, 0, "GET", "/api/v1/nodes/n1", NULL, &st);
    CHECK(json_is_true(orc_json_get(node, "spec.unschedulable")));
    json_decref(node);

    http_ok("DELETE", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web", NULL, NULL, 200);
    rc = kubectl(&out, &err, (const char *const[]){"drain", "n1", "--force", "--grace-period=0",
                                                  "--timeout=20s", NULL});
    CHECKF(rc == 0, "drain:\n%s\n%s", out, err);
    CHECKF(strstr(out, "evicted") != NULL, "stdout:\n%s", out);
    free(out);
    free(err);
    CHECK_INT(pods_left(), ==, 0);
}
