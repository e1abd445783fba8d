/* test_kubectl_lifecycle.c — stock kubectl (and orctl) against a real
 * `orcd server` for an object's life: delete --cascade=orphan and
 * foreground, --grace-period=0 --force, DeleteOptions preconditions (409
 * worded as Kubernetes), `kubectl wait --for=condition=Available` and
 * `kubectl rollout status` on a Deployment whose pods the test marks Ready
 * (no agent runs them), and a multi-document apply with one bad document:
 * the others are applied, the bad one named, the exit status non-zero.
 * (kubectl runs with --validate=false: these cases test deletion, not validation.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define MERGE "application/merge-patch+json"
#define NS "/api/v1/namespaces/default"
#define APPS "/apis/apps/v1/namespaces/default"

static struct cluster c;

static bool have_kubectl(void) { return run_have_kubectl(); }

static void start_one(void) { run_start_one(&c); }

/* kubectl with the member's admin.conf; checks the exit status; *err
 * (may be NULL) gets stderr. Returns stdout (free it). */
static char *kubectl(int want_rc, char **err_out, const char *const *words)
{
    return run_kubectl_rc(&c, want_rc, err_out, words);
}

#define KUBECTL(rc, err, ...) kubectl(rc, err, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, NULL, __VA_ARGS__))

static const char *manifest(const char *name, const char *text)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    return path;
}

static json_t *get(const char *path, int want)
{
    int st;
    json_t *j = t_json(&c, 0, "GET", path, NULL, &st);
    CHECKF(st == want, "GET %s: HTTP %d, want %d", path, st, want);
    return j;
}

static void http_ok(const char *method, const char *path, const char *ctype, const char *body,
                    int want, char **resp_out)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, ctype, body, &resp, NULL);
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    if (resp_out) *resp_out = resp;
    else free(resp);
}

static size_t count(const char *path)
{
    json_t *l = get(path, 200);
    size_t n = json_array_size(json_object_get(l, "items"));
    json_decref(l);
    return n;
}

/* Polls until `path` answers `status` (200 or 404). */
static void wait_status(const char *path, int status, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    int st;
    for (;;) {
        json_t *j = t_json(&c, 0, "GET", path, NULL, &st);
        json_decref(j);
        if (st == status) return;
        CHECKF(test_now_ms() < end, "GET %s: still %d, want %d", path, st, status);
        usleep(100 * 1000);
    }
}

static size_t wait_count(const char *path, size_t want, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    size_t n;
    while ((n = count(path)) != want && test_now_ms() < end) usleep(100 * 1000);
    CHECKF(n == want, "%s: %zu items, want %zu", path, n, want);
    return n;
}

#define DEPLOY                                                                                   \
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n"      \
    "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"  \
    "    spec: {containers: [{name: c, image: busybox}]}\n"

/* The one ReplicaSet's name (static). */
static const char *the_rs(void)
{
    static char name[128];
    json_t *l;
    uint64_t end = test_now_ms() + 10000;
    while ((l = get(APPS "/replicasets", 200)) && json_array_size(json_object_get(l, "items")) == 0
           && test_now_ms() < end) {
        json_decref(l);
        usleep(100 * 1000);
    }
    const char *n = orc_json_str(json_array_get(json_object_get(l, "items"), 0), "metadata.name");
    CHECK(n != NULL);
    snprintf(name, sizeof name, "%s", n);
    json_decref(l);
    return name;
}

TEST_T(delete_cascade_orphan_and_foreground, 90)
{
    char path[256];
    const char *rs;
    json_t *o;

    if (!have_kubectl()) return;
    start_one();
    KUBECTL_OK("apply", "--validate=false", "-f", manifest("deploy.yaml", DEPLOY));
    rs = the_rs();
    wait_count(NS "/pods", 2, 10000);

    /* orphan: the ReplicaSet stays, its ownerReference to the Deployment gone */
    KUBECTL_OK("delete", "deployment", "web", "--cascade=orphan");
    snprintf(path, sizeof path, APPS "/replicasets/%s", rs);
    uint64_t end = test_now_ms() + 10000;
    for (;;) {
        o = get(path, 200);
        if (json_array_size(orc_json_get(o, "metadata.ownerReferences")) == 0) break;
        json_decref(o);
        CHECKF(test_now_ms() < end, "%s still owned", rs);
        usleep(100 * 1000);
    }
    json_decref(o);
    CHECK_INT(count(NS "/pods"), ==, 2);

    /* foreground: the owner waits, marked, until its dependents are gone
     * (one pod is held by a finalizer meanwhile) */
    json_t *pods = get(NS "/pods", 200);
    char held[256];
    snprintf(held, sizeof held, NS "/pods/%s",
             orc_json_str(json_array_get(json_object_get(pods, "items"), 0), "metadata.name"));
    json_decref(pods);
    http_ok("PATCH", held, MERGE, "{\"metadata\":{\"finalizers\":[\"example.com/hold\"]}}", 200, NULL);
    KUBECTL_OK("delete", "replicaset", rs, "--cascade=foreground", "--wait=false");
    wait_count(NS "/pods", 1, 10000);
    o = get(path, 200);
    CHECK(orc_json_str(o, "metadata.deletionTimestamp") != NULL);
    CHECK_STR(json_string_value(json_array_get(orc_json_get(o, "metadata.finalizers"), 0)),
              "foregroundDeletion");
    json_decref(o);
    http_ok("PATCH", held, MERGE, "{\"metadata\":{\"finalizers\":null}}", 200, NULL);
    wait_status(path, 404, 10000);
    CHECK_INT(count(NS "/pods"), ==, 0);
}

TEST_T(force_delete_and_preconditions, 60)
{
    char *out, *err, *resp;
    json_t *cm, *st;

    if (!have_kubectl()) return;
    start_one();
    /* a pod bound to a node that never confirms goes at once with --force */
    http_ok("POST", NS "/pods", NULL,
            "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"gone\",\"containers\":"
            "[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
            201, NULL);
    out = KUBECTL(0, &err, "delete", "pod", "p1", "--grace-period=0", "--force");
    CHECKF(strstr(out, "pod \"p1\" force deleted") != NULL, "stdout: %s", out);
    CHECKF(strstr(err, "Immediate deletion does not wait") != NULL, "stderr: %s", err);
    free(out);
    free(err);
    wait_status(NS "/pods/p1", 404, 5000);

    /* preconditions that do not hold: 409, worded as Kubernetes, nothing deleted */
    http_ok("POST", NS "/configmaps", NULL, "{\"metadata\":{\"name\":\"pc\"}}", 201, NULL);
    cm = get(NS "/configmaps/pc", 200);
    char want[512];
    http_ok("DELETE", NS "/configmaps/pc", NULL, "{\"preconditions\":{\"uid\":\"wrong\"}}", 409, &resp);
    st = json_loads(resp, 0, NULL);
    snprintf(want, sizeof want, "Precondition failed: UID in precondition: wrong, UID in object meta: %s",
             orc_json_str(cm, "metadata.uid"));
    CHECK_STR(orc_json_str(st, "message"), want);
    CHECK_STR(orc_json_str(st, "reason"), "Conflict");
    json_decref(st);
    free(resp);
    http_ok("DELETE", NS "/configmaps/pc", NULL, "{\"preconditions\":{\"resourceVersion\":\"1\"}}",
            409, &resp);
    st = json_loads(resp, 0, NULL);
    snprintf(want, sizeof want,
             "Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object "
             "meta: %s",
             orc_json_str(cm, "metadata.resourceVersion"));
    CHECK_STR(orc_json_str(st, "message"), want);
    json_decref(st);
    free(resp);
    json_decref(get(NS "/configmaps/pc", 200));
    /* and ones that hold delete it */
    char body[256];
    snprintf(body, sizeof body, "{\"preconditions\":{\"uid\":\"%s\",\"resourceVersion\":\"%s\"}}",
             orc_json_str(cm, "metadata.uid"), orc_json_str(cm, "metadata.resourceVersion"));
    http_ok("DELETE", NS "/configmaps/pc", NULL, body, 200, NULL);
    json_decref(cm);
    json_decref(get(NS "/configmaps/pc", 404));
}

/* Marks every pod Running and Ready, as a kubelet would. */
static void pods_ready(void)
{
    json_t *l = get(NS "/pods", 200), *p;
    size_t i;
    json_array_foreach(json_object_get(l, "items"), i, p) {
        char path[300];
        snprintf(path, sizeof path, NS "/pods/%s/status", orc_json_str(p, "metadata.name"));
        http_ok("PATCH", path, MERGE,
                "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                "\"status\":\"True\"}]}}",
                200, NULL);
    }
    json_decref(l);
}

TEST_T(wait_for_available_and_rollout_status, 90)
{
    char *out;

    if (!have_kubectl()) return;
    start_one();
    KUBECTL_OK("apply", "--validate=false", "-f", manifest("deploy.yaml", DEPLOY));
    wait_count(NS "/pods", 2, 10000);
    /* not yet: the pods are not Ready */
    free(KUBECTL(1, NULL, "wait", "--for=condition=Available", "deploy/web", "--timeout=1s"));
    pods_ready();
    out = KUBECTL(0, NULL, "wait", "--for=condition=Available", "deploy/web", "--timeout=20s");
    CHECKF(strstr(out, "deployment.apps/web condition met") != NULL, "stdout: %s", out);
    free(out);
    out = KUBECTL(0, NULL, "rollout", "status", "deploy/web", "--timeout=20s");
    CHECKF(strstr(out, "deployment \"web\" successfully rolled out") != NULL, "stdout: %s", out);
    free(out);
}

#define MULTI                                                                                    \
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m-one}\ndata: {a: \"1\"}\n---\n"         \
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\ndata: {a: \"1\"}\n---\n"      \
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m-three}\ndata: {a: \"1\"}\n"

TEST_T(multi_document_apply_with_one_bad_document, 60)
{
    const char *file;
    char *out, *err;

    if (!have_kubectl()) return;
    start_one();
    file = manifest("multi.yaml", MULTI);

    /* orctl: the others applied, the bad one named by file and document */
    int rc = run_orctl(&c, &out, &err, "apply", "-f", file, NULL);
    CHECK_INT(rc, !=, 0);
    CHECKF(strstr(out, "configmap/m-one created") && strstr(out, "configmap/m-three created"),
           "stdout: %s", out);
    char want[900];
    snprintf(want, sizeof want, "Error from server (Invalid): error when creating \"%s\" (document 2): "
                                "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value",
             file);
    CHECKF(strstr(err, want) != NULL, "stderr: %s", err);
    free(out);
    free(err);
    json_decref(get(NS "/configmaps/m-one", 200));
    json_decref(get(NS "/configmaps/m-three", 200));
    http_ok("DELETE", NS "/configmaps/m-one", NULL, NULL, 200, NULL);
    http_ok("DELETE", NS "/configmaps/m-three", NULL, NULL, 200, NULL);

    /* kubectl does the same itself */
    out = KUBECTL(1, &err, "apply", "--validate=false", "-f", file);
    CHECKF(strstr(out, "configmap/m-one created") && strstr(out, "configmap/m-three created"),
           "stdout: %s", out);
    CHECKF(strstr(err, "ConfigMap \"Bad_Name\" is invalid") != NULL, "stderr: %s", err);
    free(out);
    free(err);
    json_decref(get(NS "/configmaps/m-one", 200));
    json_decref(get(NS "/configmaps/m-three", 200));
}

/* kubectl rollout undo of a StatefulSet applies the old ControllerRevision's
 * data as a strategic merge patch: only the template goes back (its
 * "$patch": "replace" sits in the template, as Kubernetes writes it), and
 * that revision is renumbered the newest. */
TEST_T(statefulset_rollout_undo, 60)
{
    char *out;

    if (!have_kubectl()) return;
    start_one();
    KUBECTL_OK("apply", "-f", "manifests/examples/web.yaml");
    wait_count("/apis/apps/v1/namespaces/default/controllerrevisions", 1, 10000);
    KUBECTL_OK("set", "image", "sts/web", "nginx=registry.k8s.io/nginx-slim:0.22");
    wait_count("/apis/apps/v1/namespaces/default/controllerrevisions", 2, 10000);
    out = KUBECTL(0, NULL, "rollout", "undo", "sts/web");
    CHECK_HAS(out, "statefulset.apps/web rolled back");
    free(out);
    json_t *s = get(APPS "/statefulsets/web", 200);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(s, "spec.template.spec.containers"), 0), "image"),
              "registry.k8s.io/nginx-slim:0.21");
    CHECK_STR(orc_json_str(s, "spec.serviceName"), "nginx");
    CHECK(json_array_size(orc_json_get(s, "spec.volumeClaimTemplates")) == 1);
    json_decref(s);
    /* the old revision is the newest again: history lists 2 and 3 */
    uint64_t end = test_now_ms() + 10000;
    for (;;) {
        out = KUBECTL(0, NULL, "rollout", "history", "sts/web");
        if (strstr(out, "\n3 ") && !strstr(out, "\n1 ")) break;
        CHECKF(test_now_ms() < end, "history after undo:\n%s", out);
        free(out);
        usleep(200 * 1000);
    }
    free(out);
}
