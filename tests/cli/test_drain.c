/* test_drain.c — orctl cordon, uncordon and drain against a real `orcd
 * server`: a Node and pods bound to it written through the API (no agent:
 * evictions with --grace-period=0 delete at once); drain refuses DaemonSet,
 * bare and emptyDir pods unless told, evicts the rest, leaves DaemonSet pods
 * and says what it did as kubectl does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"

static struct cluster c;

static void start_one(void)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
}

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&c, 0, "POST", path, "application/json", body, &resp, NULL);
    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

/* A pod on n1; owner: NULL (bare) or a kind ("DaemonSet", "ReplicaSet"). */
static void pod(const char *name, const char *owner, bool emptydir)
{
    char body[1024], refs[256] = "";
    if (owner)
        snprintf(refs, sizeof refs, ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"%s\","
                                    "\"name\":\"o\",\"uid\":\"u-%s\",\"controller\":true}]", owner, name);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"%s},"
             "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]%s}}",
             name, refs, emptydir ? ",\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]" : "");
    post(PODS, body);
}

static bool exists(const char *path)
{
    char *resp = NULL;
    int st = t_http(&c, 0, "GET", path, NULL, NULL, &resp, NULL);
    free(resp);
    return st == 200;
}

static bool unschedulable(void)
{
    int st = 0;
    json_t *n = t_json(&c, 0, "GET", "/api/v1/nodes/n1", NULL, &st);
    CHECK_INT(st, ==, 200);
    bool u = json_is_true(orc_json_get(n, "spec.unschedulable"));
    json_decref(n);
    return u;
}

static void has(const char *text, const char *part)
{
    CHECKF(strstr(text, part) != NULL, "no \"%s\" in:\n%s", part, text);
}

TEST(cordon_uncordon)
{
    char *out = NULL, *err = NULL;

    start_one();
    post("/api/v1/nodes", "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"}}");
    CHECK_INT(run_orctl(&c, &out, &err, "cordon", "n1", NULL), ==, 0);
    CHECK_STR(out, "node/n1 cordoned\n");
    CHECK(unschedulable());
    free(out), free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "cordon", "n1", NULL), ==, 0);
    CHECK_STR(out, "node/n1 already cordoned\n");
    free(out), free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "get", "nodes", NULL), ==, 0);
    has(out, "SchedulingDisabled");
    free(out), free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "uncordon", "n1", NULL), ==, 0);
    CHECK_STR(out, "node/n1 uncordoned\n");
    CHECK(!unschedulable());
    free(out), free(err);
    CHECK(run_orctl(&c, &out, &err, "cordon", "nope", NULL) != 0);
    has(err, "NotFound");
    free(out), free(err);
}

TEST(drain)
{
    char *out = NULL, *err = NULL;

    start_one();
    post("/api/v1/nodes", "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"}}");
    pod("ds", "DaemonSet", false);
    pod("rs", "ReplicaSet", false);
    pod("bare", NULL, false);
    pod("scratch", "ReplicaSet", true);

    /* Refused: nothing is evicted, the node stays cordoned. */
    CHECK(run_orctl(&c, &out, &err, "drain", "n1", NULL) != 0);
    has(out, "node/n1 cordoned");
    has(err, "cannot delete Pods declare no controller (use --force to override): default/bare");
    has(err, "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/ds");
    has(err, "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/scratch");
    CHECK(exists(PODS "/rs"));
    CHECK(unschedulable());
    free(out), free(err);

    CHECK_INT(run_orctl(&c, &out, &err, "drain", "n1", "--ignore-daemonsets", "--force",
                        "--delete-emptydir-data", "--grace-period=0", "--timeout=20s", NULL), ==, 0);
    has(out, "node/n1 already cordoned");
    has(out, "evicting pod default/rs\n");
    has(out, "pod/rs evicted\n");
    has(out, "pod/bare evicted\n");
    has(out, "pod/scratch evicted\n");
    has(out, "node/n1 drained\n");
    has(err, "Warning: ignoring DaemonSet-managed Pods: default/ds");
    has(err, "Warning: deleting Pods that declare no controller: default/bare");
    CHECK(!exists(PODS "/rs"));
    CHECK(!exists(PODS "/bare"));
    CHECK(!exists(PODS "/scratch"));
    CHECK(exists(PODS "/ds"));
    free(out), free(err);
}

TEST(drain_times_out)
{
    char *out = NULL, *err = NULL;

    start_one();
    post("/api/v1/nodes", "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"}}");
    pod("slow", "ReplicaSet", false);
    /* No agent confirms a graceful deletion: the pod stays Terminating. */
    CHECK(run_orctl(&c, &out, &err, "drain", "n1", "--timeout=2s", NULL) != 0);
    has(out, "evicting pod default/slow");
    has(err, "timed out waiting for the eviction of pod default/slow");
    free(out), free(err);
}
