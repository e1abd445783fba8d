/* test_quota.c — ResourceQuota against a real `orcd server` with stock
 * kubectl: creates past a quota refused with 403 in Kubernetes' words,
 * requests missing where a quota needs them refused, `kubectl describe
 * quota` showing used/hard, a deletion freeing its share, an update that
 * grows usage checked too, and concurrent
 * creates racing past a quota never all passing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

#define KUBECTL(rc, err, ...) run_kubectl_rc(&c, rc, err, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, NULL, __VA_ARGS__))

static char *pod_with_cpu(const char *name, const char *cpu)
{
    char *s = NULL;
    if (cpu)
        CHECK(asprintf(&s, "{\"spec\":{\"containers\":[{\"name\":\"%s\",\"image\":\"nginx\","
                           "\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"64Mi\"}}}]}}", name, cpu) > 0);
    else
        CHECK(asprintf(&s, "{\"spec\":{\"containers\":[{\"name\":\"%s\",\"image\":\"nginx\"}]}}", name) > 0);
    return s;
}

/* kubectl run NAME with an override; want_rc 0 or 1; stderr returned. */
static char *run_pod(int want_rc, const char *name, const char *cpu)
{
    char *ov = pod_with_cpu(name, cpu), *arg = NULL, *err = NULL;
    CHECK(asprintf(&arg, "--overrides=%s", ov) > 0);
    free(KUBECTL(want_rc, &err, "run", name, "-n", "team", "--image=nginx", arg));
    free(arg);
    free(ov);
    return err;
}

/* The quota's status as `kubectl describe quota` prints it, once it says `want`. */
static void wait_describe(const char *want)
{
    char *out = NULL;
    for (int i = 0; i < 60; i++) {
        free(out);
        out = KUBECTL(0, NULL, "describe", "quota", "q1", "-n", "team");
        if (out && strstr(out, want)) break;
        usleep(200000);
    }
    CHECK_HAS(out, want);
    free(out);
}

TEST_T(quota_refuses_counts_and_frees, 60)
{
    char *err;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL_OK("create", "namespace", "team");
    KUBECTL_OK("create", "quota", "q1", "-n", "team", "--hard=pods=2,requests.cpu=1,configmaps=2");

    free(run_pod(0, "p1", "300m"));
    err = run_pod(1, "p2", NULL);
    CHECK_HAS(err, "pods \"p2\" is forbidden: failed quota: q1: must specify requests.cpu for: p2");
    free(err);
    char *err2 = NULL;
    free(KUBECTL(1, &err2, "run", "two", "-n", "team", "--image=nginx",
                 "--overrides={\"spec\":{\"containers\":[{\"name\":\"zeta\",\"image\":\"nginx\"},"
                 "{\"name\":\"alpha\",\"image\":\"nginx\"}]}}"));
    CHECK_HAS(err2, "failed quota: q1: must specify requests.cpu for: alpha,zeta");
    free(err2);
    err = run_pod(1, "p3", "800m");
    CHECK_HAS(err, "pods \"p3\" is forbidden: exceeded quota: q1, requested: requests.cpu=800m, "
                   "used: requests.cpu=300m, limited: requests.cpu=1");
    free(err);
    free(run_pod(0, "p4", "200m"));
    err = run_pod(1, "p5", "100m");
    CHECK_HAS(err, "exceeded quota: q1, requested: pods=1, used: pods=2, limited: pods=2");
    free(err);
    wait_describe("requests.cpu  500m  1");
    wait_describe("pods          2     2");

    /* a deletion frees its share */
    KUBECTL_OK("delete", "pod", "p1", "-n", "team", "--wait=false");
    wait_describe("pods          1     2");
    free(run_pod(0, "p6", "100m"));

    KUBECTL_OK("create", "configmap", "a", "-n", "team");
    KUBECTL_OK("create", "configmap", "b", "-n", "team");
    free(KUBECTL(1, &err, "create", "configmap", "c", "-n", "team"));
    CHECK_HAS(err, "configmaps \"c\" is forbidden: exceeded quota: q1, requested: configmaps=1, used: "
                   "configmaps=2, limited: configmaps=2");
    free(err);
    /* other namespaces are not limited */
    KUBECTL_OK("create", "configmap", "c", "-n", "default");

    /* an update that grows usage is checked too (a Service turned NodePort) */
    KUBECTL_OK("create", "quota", "np", "-n", "team", "--hard=services.nodeports=1");
    KUBECTL_OK("create", "service", "clusterip", "web", "--tcp=80,81", "-n", "team");
    free(KUBECTL(1, &err, "patch", "service", "web", "-n", "team", "-p", "{\"spec\":{\"type\":\"NodePort\"}}"));
    CHECK_HAS(err, "services \"web\" is forbidden: exceeded quota: np, requested: services.nodeports=2, used: "
                   "services.nodeports=0, limited: services.nodeports=1");
    free(err);
    KUBECTL_OK("label", "service", "web", "-n", "team", "tier=front"); /* growing nothing passes */

    /* status.hard and status.used as Kubernetes' controller keeps them */
    char *out = KUBECTL(0, NULL, "get", "quota", "q1", "-n", "team", "-o", "json");
    json_t *q = json_loads(out, 0, NULL);
    CHECK(q && strcmp(orc_json_str(q, "status.hard.pods") ? orc_json_str(q, "status.hard.pods") : "", "2") == 0);
    CHECK(q && strcmp(orc_json_str(q, "status.used.configmaps") ? orc_json_str(q, "status.used.configmaps") : "",
                      "2") == 0);
    json_decref(q);
    free(out);
}

/* Quotas with scopes count and check only the pods they cover: BestEffort
 * pods in one, pods of PriorityClass "high" in another. */
TEST_T(quota_scopes_count_only_their_pods, 60)
{
    char *err, path[600];

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    KUBECTL_OK("create", "namespace", "team");
    KUBECTL_OK("create", "priorityclass", "high", "--value=1000");
    KUBECTL_OK("create", "quota", "be", "-n", "team", "--hard=pods=1", "--scopes=BestEffort");
    static const char hi[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":\"hi\",\"namespace\":\"team\"},"
        "\"spec\":{\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":"
        "\"PriorityClass\",\"operator\":\"In\",\"values\":[\"high\"]}]}}}";
    snprintf(path, sizeof path, "%s/hi.json", test_tmpdir());
    CHECK(orc_file_write(path, hi, strlen(hi), 0600) == 0);
    KUBECTL_OK("apply", "-f", path);

    free(run_pod(0, "be1", NULL));
    err = run_pod(1, "be2", NULL);
    CHECK_HAS(err, "pods \"be2\" is forbidden: exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1");
    free(err);
    free(run_pod(0, "burst1", "100m")); /* not BestEffort: not be's */
    free(run_pod(0, "burst2", "100m"));
    char *e2 = NULL;
    const char *high = "--overrides={\"spec\":{\"priorityClassName\":\"high\",\"containers\":[{\"name\":\"h\","
                       "\"image\":\"nginx\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}";
    free(KUBECTL(0, NULL, "run", "h1", "-n", "team", "--image=nginx", high));
    free(KUBECTL(1, &e2, "run", "h2", "-n", "team", "--image=nginx", high));
    CHECK_HAS(e2, "pods \"h2\" is forbidden: exceeded quota: hi, requested: pods=1, used: pods=1, limited: pods=1");
    free(e2);
    /* the leader's status counts the same pods */
    char *out = NULL;
    for (int i = 0; i < 60; i++) {
        free(out);
        out = KUBECTL(0, NULL, "get", "quota", "be", "hi", "-n", "team", "-o",
                      "jsonpath={.items[*].status.used.pods}");
        if (out && strcmp(out, "1 1") == 0) break;
        usleep(200000);
    }
    CHECK_STR(out, "1 1");
    free(out);
}

TEST_T(quota_racing_creates_never_overshoot, 60)
{
    enum { N = 16, LIMIT = 5 };
    pid_t kids[N];
    int created = 0;

    run_start_one(&c);
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/namespaces", "application/json",
                     "{\"metadata\":{\"name\":\"race\"}}", NULL, NULL), ==, 201);
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/namespaces/race/resourcequotas", "application/json",
                     "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"count/configmaps\":\"5\"}}}", NULL,
                     NULL), ==, 201);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            char body[128];
            snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"cm%d\"}}", i);
            int st = t_http(&c, 0, "POST", "/api/v1/namespaces/race/configmaps", "application/json", body,
                            NULL, NULL);
            _exit(st == 201 ? 0 : st == 403 ? 1 : 2);
        }
    }
    for (int i = 0; i < N; i++) {
        int st = 0;
        CHECK(waitpid(kids[i], &st, 0) == kids[i]);
        CHECKF(WIFEXITED(st) && WEXITSTATUS(st) < 2, "create %d: neither 201 nor 403 (%d)", i, st);
        created += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    CHECK_INT(created, ==, LIMIT);
    char *resp = NULL;
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/race/configmaps", NULL, NULL, &resp, NULL), ==, 200);
    json_t *l = json_loads(resp ? resp : "", 0, NULL);
    CHECK_INT(json_array_size(orc_json_get(l, "items")), ==, LIMIT);
    json_decref(l);
    free(resp);
}
