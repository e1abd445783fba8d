/* test_gc.c — garbage collection end to end: a real `orcd server` whose
 * controller manager runs ctl_gc, owners and dependents (ConfigMaps and a
 * bare pod with ownerReferences), deleted through the API, orctl and stock
 * kubectl with each propagation: Background removes the dependents,
 * Foreground keeps the owner until the dependents that block it are gone,
 * Orphan leaves them without the reference; a dependent of a missing uid
 * is collected, one of a live owner is not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CM "/api/v1/namespaces/default/configmaps"
#define GC_WAIT_MS 15000

static struct cluster c;

/* orcd's controller manager runs ctl_gc on the leader. */
static void start_one(void)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
}

static json_t *get(const char *collection, const char *name)
{
    char path[512];
    int status = 0;
    json_t *j;

    snprintf(path, sizeof path, "%s/%s", collection, name);
    j = t_json(&c, 0, "GET", path, NULL, &status);
    if (status == 200) return j;
    CHECKF(status == 404, "GET %s: %d", path, status);
    json_decref(j);
    return NULL;
}

/* An ownerReference to a ConfigMap (kind/apiVersion overridable). */
static char *ref_json(const char *kind, const char *name, const char *uid, bool block)
{
    char *s = NULL;
    CHECK(asprintf(&s,
                   "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"uid\":\"%s\"%s}",
                   strcmp(kind, "Widget") == 0 ? "example.com/v1" : "v1", kind, name, uid,
                   block ? ",\"blockOwnerDeletion\":true" : "")
          > 0);
    return s;
}

/* Creates ConfigMap `name` with the given ownerReferences (a JSON array's
 * inside, "" for none) and finalizers; returns its uid (static buffer per call site). */
static void cm_create(const char *name, const char *refs, const char *finalizers, char *uid, size_t n)
{
    char body[2048], *resp = NULL;
    int status;
    json_t *j;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\""
             ",\"ownerReferences\":[%s],\"finalizers\":[%s]},\"data\":{\"k\":\"v\"}}",
             name, refs, finalizers);
    status = t_http(&c, 0, "POST", CM, "application/json", body, &resp, NULL);
    CHECKF(status == 201, "create %s: %d %s", name, status, resp ? resp : "");
    j = json_loads(resp, 0, NULL);
    if (uid) snprintf(uid, n, "%s", orc_json_str(j, "metadata.uid") ?: "");
    json_decref(j);
    free(resp);
}

static void owned_cm(const char *name, const char *owner, const char *owner_uid, bool block)
{
    char *r = ref_json("ConfigMap", owner, owner_uid, block);
    cm_create(name, r, "", NULL, 0);
    free(r);
}

static bool gone(const char *collection, const char *name, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    json_t *j;

    while ((j = get(collection, name)) != NULL && test_now_ms() < end) {
        json_decref(j);
        usleep(50 * 1000);
    }
    json_decref(j);
    return j == NULL;
}

static void patch(const char *collection, const char *name, const char *merge)
{
    char path[512], *resp = NULL;
    int status;

    snprintf(path, sizeof path, "%s/%s", collection, name);
    status = t_http(&c, 0, "PATCH", path, "application/merge-patch+json", merge, &resp, NULL);
    CHECKF(status == 200, "PATCH %s: %d %s", path, status, resp ? resp : "");
    free(resp);
}

static char *orctl_ok(const char *arg, ...)
{
    char *out, *err;
    va_list ap;
    int rc;

    va_start(ap, arg);
    rc = run_orctl_v(c.home, NULL, &out, &err, arg, ap);
    va_end(ap);
    CHECKF(rc == 0, "orctl %s...: exit %d\nstdout:\n%s\nstderr:\n%s", arg, rc, out, err);
    free(err);
    return out;
}

static bool has_event(const char *object, const char *reason)
{
    int status = 0;
    json_t *list = t_json(&c, 0, "GET", "/api/v1/namespaces/default/events", NULL, &status), *e;
    size_t i;
    bool found = false;

    json_array_foreach(orc_json_get(list, "items"), i, e)
        found |= strcmp(orc_json_str(e, "involvedObject.name") ?: "", object) == 0
                 && strcmp(orc_json_str(e, "reason") ?: "", reason) == 0
                 && strcmp(orc_json_str(e, "type") ?: "", "Warning") == 0;
    json_decref(list);
    return found;
}

static size_t n_refs(const json_t *obj) { return json_array_size(orc_json_get(obj, "metadata.ownerReferences")); }

TEST_T(background_delete_removes_dependents, 60)
{
    char uid[64], body[1024], *out, *resp = NULL, *r;
    int status;

    start_one();
    cm_create("owner", "", "", uid, sizeof uid);
    owned_cm("dep-1", "owner", uid, false);
    owned_cm("dep-2", "owner", uid, true);
    r = ref_json("ConfigMap", "owner", uid, true);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"dep-pod\","
             "\"ownerReferences\":[%s]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
             r);
    free(r);
    status = t_http(&c, 0, "POST", "/api/v1/namespaces/default/pods", "application/json", body, &resp, NULL);
    CHECKF(status == 201, "pod: %d %s", status, resp ? resp : "");
    free(resp);
    /* a live owner keeps its dependents */
    usleep(1500 * 1000);
    json_t *d = get(CM, "dep-1");
    CHECK(d != NULL);
    json_decref(d);

    out = orctl_ok("delete", "configmap", "owner", NULL); /* kubectl's default: background */
    CHECK_STR(out, "configmap \"owner\" deleted\n");
    free(out);
    CHECK(gone(CM, "owner", 1000));
    CHECK(gone(CM, "dep-1", GC_WAIT_MS));
    CHECK(gone(CM, "dep-2", GC_WAIT_MS));
    CHECK(gone("/api/v1/namespaces/default/pods", "dep-pod", GC_WAIT_MS));
}

TEST_T(foreground_keeps_the_owner_until_blocking_dependents_are_gone, 60)
{
    char uid[64], *r, *out;
    json_t *o, *held;

    start_one();
    cm_create("fg", "", "", uid, sizeof uid);
    r = ref_json("ConfigMap", "fg", uid, true);
    cm_create("held", r, "\"example.com/hold\"", NULL, 0); /* blocks, and its own finalizer keeps it */
    free(r);
    owned_cm("loose", "fg", uid, false);

    out = orctl_ok("delete", "cm", "fg", "--cascade=foreground", "--wait=false", NULL);
    free(out);
    /* the dependents go first: "loose" at once, "held" is being deleted */
    CHECK(gone(CM, "loose", GC_WAIT_MS));
    for (int i = 0; i < 200; i++) {
        held = get(CM, "held");
        bool deleting = held && orc_json_get(held, "metadata.deletionTimestamp");
        json_decref(held);
        if (deleting) break;
        CHECKF(i < 199, "the blocking dependent was not deleted");
        usleep(50 * 1000);
    }
    usleep(1000 * 1000);
    o = get(CM, "fg");
    CHECKF(o != NULL, "the owner went before its blocking dependent");
    CHECK(orc_json_get(o, "metadata.deletionTimestamp") != NULL);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(o, "metadata.finalizers"), 0)),
              "foregroundDeletion");
    json_decref(o);
    patch(CM, "held", "{\"metadata\":{\"finalizers\":null}}");
    CHECK(gone(CM, "held", GC_WAIT_MS));
    CHECK(gone(CM, "fg", GC_WAIT_MS));
}

TEST_T(orphan_leaves_dependents_without_the_reference, 60)
{
    char uid[64], other[64], refs[512], *a, *b, *out;
    json_t *d;

    start_one();
    cm_create("parent", "", "", uid, sizeof uid);
    cm_create("other", "", "", other, sizeof other);
    owned_cm("kid-1", "parent", uid, true);
    a = ref_json("ConfigMap", "parent", uid, false);
    b = ref_json("ConfigMap", "other", other, false);
    snprintf(refs, sizeof refs, "%s,%s", a, b);
    free(a);
    free(b);
    cm_create("kid-2", refs, "", NULL, 0);

    out = orctl_ok("delete", "cm", "parent", "--cascade=orphan", NULL); /* waits until it is gone */
    CHECK_STR(out, "configmap \"parent\" deleted\n");
    free(out);
    CHECK(gone(CM, "parent", 1000));
    usleep(1000 * 1000);
    d = get(CM, "kid-1");
    CHECKF(d != NULL, "an orphaned dependent was deleted");
    CHECK_INT(n_refs(d), ==, 0);
    json_decref(d);
    d = get(CM, "kid-2");
    CHECK(d != NULL);
    CHECK_INT(n_refs(d), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(d, "metadata.ownerReferences"), 0), "name"), "other");
    json_decref(d);
}

TEST_T(dependents_of_missing_owners_are_collected, 60)
{
    char real[64], refs[512], *a, *b;
    json_t *d;

    start_one();
    /* no object has this uid */
    owned_cm("stray", "ghost", "0b9b7c1e-0000-4000-8000-000000000001", false);
    /* an owner of that name exists, but it is another object (other uid) */
    cm_create("real", "", "", real, sizeof real);
    owned_cm("impostor", "real", "0b9b7c1e-0000-4000-8000-000000000002", false);
    /* a kind orc does not serve is never taken as gone */
    a = ref_json("Widget", "w", "0b9b7c1e-0000-4000-8000-000000000003", false);
    cm_create("unknown-kind", a, "", NULL, 0);
    free(a);
    /* one live owner and one gone: only the reference to the gone one goes */
    a = ref_json("ConfigMap", "real", real, false);
    b = ref_json("ConfigMap", "ghost", "0b9b7c1e-0000-4000-8000-000000000004", false);
    snprintf(refs, sizeof refs, "%s,%s", a, b);
    free(a);
    free(b);
    cm_create("half", refs, "", NULL, 0);

    /* a cluster-scoped object cannot be owned by a namespaced one:
     * Kubernetes keeps it and warns */
    a = ref_json("ConfigMap", "real", real, false);
    snprintf(refs, sizeof refs,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"gc-odd\","
             "\"ownerReferences\":[%s]}}", a);
    free(a);
    {
        char *resp = NULL;
        int status = t_http(&c, 0, "POST", "/api/v1/namespaces", "application/json", refs, &resp, NULL);
        CHECKF(status == 201, "namespace: %d %s", status, resp ? resp : "");
        free(resp);
    }

    CHECK(gone(CM, "stray", GC_WAIT_MS));
    CHECK(gone(CM, "impostor", GC_WAIT_MS));
    for (int i = 0; i < 300; i++) {
        d = get(CM, "half");
        CHECK(d != NULL);
        size_t n = n_refs(d);
        json_decref(d);
        if (n == 1) break;
        CHECKF(i < 299, "the reference to the gone owner stayed");
        usleep(50 * 1000);
    }
    d = get(CM, "half");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(d, "metadata.ownerReferences"), 0), "name"), "real");
    json_decref(d);
    d = get(CM, "real");
    CHECK(d != NULL);
    json_decref(d);
    d = get(CM, "unknown-kind");
    CHECK(d != NULL);
    json_decref(d);
    for (int i = 0; i < 200 && !has_event("gc-odd", "OwnerRefInvalidNamespace"); i++) usleep(50 * 1000);
    CHECK(has_event("gc-odd", "OwnerRefInvalidNamespace"));
    d = get("/api/v1/namespaces", "gc-odd");
    CHECK(d != NULL);
    json_decref(d);
}

TEST_T(kubectl_delete_cascade_orphan, 60)
{
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig"};
    char conf[700], uid[64], *out, *err;
    int rc;
    json_t *d;

    if (access("/usr/bin/kubectl", X_OK) != 0) {
        fprintf(stderr, "# SKIP: /usr/bin/kubectl is not installed on this machine\n");
        return;
    }
    start_one();
    cm_create("k-owner", "", "", uid, sizeof uid);
    owned_cm("k-dep", "k-owner", uid, true);
    snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
    argv[2] = conf;
    argv[3] = "delete";
    argv[4] = "configmap";
    argv[5] = "k-owner";
    argv[6] = "--cascade=orphan";
    argv[7] = NULL;
    rc = run_prog(c.home, NULL, &out, &err, argv);
    CHECKF(rc == 0, "kubectl delete: exit %d\n%s\n%s", rc, out, err);
    CHECK_STR(out, "configmap \"k-owner\" deleted\n");
    free(out);
    free(err);
    CHECK(gone(CM, "k-owner", GC_WAIT_MS));
    d = get(CM, "k-dep");
    CHECKF(d != NULL, "kubectl's orphan deletion took the dependent");
    CHECK_INT(n_refs(d), ==, 0);
    json_decref(d);
}

static size_t count_cms(void)
{
    int status = 0;
    json_t *list = t_json(&c, 0, "GET", CM, NULL, &status);
    size_t n = json_array_size(orc_json_get(list, "items"));

    json_decref(list);
    return n;
}

/* A figure for docs/BENCHMARKS.md: how fast a background delete's
 * dependents go (one owner read at most, then a delete each). */
TEST_T(many_dependents_are_collected_quickly, 120)
{
    enum { N = 300 };
    char uid[64], name[32];
    uint64_t t0, ms;
    size_t left = N;

    start_one();
    cm_create("big-owner", "", "", uid, sizeof uid);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "big-%03d", i);
        owned_cm(name, "big-owner", uid, false);
    }
    CHECK_INT(count_cms(), ==, N + 1);
    t0 = test_now_ms();
    free(orctl_ok("delete", "cm", "big-owner", NULL));
    while ((left = count_cms()) > 0 && test_now_ms() - t0 < 60000) usleep(20 * 1000);
    ms = test_now_ms() - t0;
    CHECKF(left == 0, "%zu dependents left after 60 s", left);
    fprintf(stderr, "# gc: %d dependents of a deleted owner collected in %llu ms (%.0f/s)\n", N,
            (unsigned long long)ms, N * 1000.0 / (double)(ms ? ms : 1));
}

static size_t count(const char *collection, const char *selector)
{
    char path[512];
    int status = 0;
    json_t *list;
    size_t n;

    snprintf(path, sizeof path, "%s?labelSelector=%s", collection, selector);
    list = t_json(&c, 0, "GET", path, NULL, &status);
    CHECKF(status == 200, "GET %s: %d", path, status);
    n = json_array_size(orc_json_get(list, "items"));
    json_decref(list);
    return n;
}

#define DEPLOYS "/apis/apps/v1/namespaces/default/deployments"
#define RSS "/apis/apps/v1/namespaces/default/replicasets"
#define PODS "/api/v1/namespaces/default/pods"

static void deployment(const char *name)
{
    char body[1024], *resp = NULL;
    int status;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
             name, name, name);
    status = t_http(&c, 0, "POST", DEPLOYS, "application/json", body, &resp, NULL);
    CHECKF(status == 201, "deployment: %d %s", status, resp ? resp : "");
    free(resp);
}

static void wait_count(const char *collection, const char *selector, size_t want, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    size_t n;

    while ((n = count(collection, selector)) != want && test_now_ms() < end) usleep(50 * 1000);
    CHECKF(n == want, "%s?labelSelector=%s: %zu objects, want %zu", collection, selector, n, want);
}

/* With the real Deployment and ReplicaSet controllers: a Deployment's
 * ReplicaSet and pods go with it; in the foreground, before it. */
TEST_T(deployment_delete_cascades_to_replicasets_and_pods, 90)
{
    json_t *d;

    start_one();
    deployment("web");
    deployment("fgw");
    wait_count(PODS, "app%3Dweb", 2, 30000);
    wait_count(PODS, "app%3Dfgw", 2, 30000);

    free(orctl_ok("delete", "deploy", "web", NULL));
    wait_count(RSS, "app%3Dweb", 0, GC_WAIT_MS);
    wait_count(PODS, "app%3Dweb", 0, GC_WAIT_MS);

    /* orctl waits until the Deployment is gone, which the foreground
     * deletion allows only once its ReplicaSet (and so its pods) went */
    free(orctl_ok("delete", "deploy", "fgw", "--cascade=foreground", NULL));
    d = get(DEPLOYS, "fgw");
    CHECK(d == NULL);
    json_decref(d);
    CHECK_INT(count(RSS, "app%3Dfgw"), ==, 0);
    CHECK_INT(count(PODS, "app%3Dfgw"), ==, 0);
}
