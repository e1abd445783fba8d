/* test_kubectl_openapi.c — stock kubectl against a real `orcd server`
 * with no --validate flag: it reads /openapi/v3, finds fieldValidation on
 * each kind's PATCH and leaves validation to the server (unknown fields
 * refused, or warned of with --validate=warn); apply, create -f,
 * replace -f and edit work; a `kind: List` is validated by kubectl from
 * the v2 document; explain reads the same documents. And the documents'
 * HTTP: hashes, ETags, immutable caching, content negotiation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/http.h"
#include "lib/file.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static void free_json(void *j) { json_decref(j); }

static void free_resp(void *r)
{
    http_response_free(r);
    free(r);
}

static bool have_kubectl(void) { return run_have_kubectl(); }

static void start_one(void) { run_start_one(&c); }

/* kubectl with the member's admin.conf; checks the exit status, returns
 * stdout and stderr together (free it). */
static char *kubectl(int want_rc, const char *const *words)
{
    char *err, *out = run_kubectl_rc(&c, want_rc, &err, words), *both = NULL;

    CHECK(asprintf(&both, "%s%s", out, err) > 0);
    free(out);
    free(err);
    return both;
}

#define KUBECTL(rc, ...) kubectl(rc, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, __VA_ARGS__))

static char *manifest(const char *name, const char *text)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    return path;
}

static char *cm_yaml(const char *value)
{
    char text[256];
    snprintf(text, sizeof text,
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: \"%s\"\n",
             value);
    return manifest("cm.yaml", text);
}

static char *deploy_yaml(int replicas, int port, const char *extra)
{
    char text[1024];
    snprintf(text, sizeof text,
             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
             "  replicas: %d\n  selector:\n    matchLabels: {app: web}\n  template:\n"
             "    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
             "      - name: app\n        image: nginx:1.27\n%s        ports:\n"
             "        - containerPort: %d\n",
             replicas, extra, port);
    return manifest("web.yaml", text);
}

static json_t *get_json(const char *what)
{
    int st;
    json_t *j = t_json(&c, 0, "GET", what, NULL, &st);
    CHECKF(st == 200 && j, "GET %s: %d", what, st);
    test_defer(free_json, j);
    return j;
}

TEST_T(kubectl_writes_validate_through_the_server, 90)
{
    char *out, *p;
    if (!have_kubectl()) return;
    start_one();

    /* apply: create, then a three-way patch from the v3 schema. */
    p = cm_yaml("one");
    KUBECTL_OK("apply", "-f", p);
    free(p);
    p = deploy_yaml(1, 80, "");
    out = KUBECTL(0, "apply", "-f", p);
    CHECK_HAS(out, "deployment.apps/web created");
    CHECK_LACKS(out, "openapi");
    free(out);
    free(p);
    p = deploy_yaml(2, 8080, "");
    out = KUBECTL(0, "apply", "-f", p);
    CHECK_HAS(out, "deployment.apps/web configured");
    CHECK_LACKS(out, "warning");
    free(out);
    free(p);
    json_t *d = get_json("/apis/apps/v1/namespaces/default/deployments/web");
    CHECK_INT(json_integer_value(orc_json_get(d, "spec.replicas")), ==, 2);
    json_t *ports = json_object_get(json_array_get(orc_json_get(d, "spec.template.spec.containers"), 0), "ports");
    CHECK_INT(json_array_size(ports), ==, 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(ports, 0), "containerPort")), ==, 8080);

    /* replace -f and create -f. */
    p = cm_yaml("two");
    out = KUBECTL(0, "replace", "-f", p);
    CHECK_HAS(out, "configmap/settings replaced");
    free(out);
    out = KUBECTL(1, "create", "-f", p);
    CHECK_HAS(out, "already exists");
    free(out);
    KUBECTL_OK("delete", "configmap", "settings");
    out = KUBECTL(0, "create", "-f", p);
    CHECK_HAS(out, "configmap/settings created");
    free(out);
    free(p);
    CHECK_STR(orc_json_str(get_json("/api/v1/namespaces/default/configmaps/settings"), "data.mode"), "two");

    /* An unknown field: refused by default (strict), naming it; with
     * --validate=warn the object is written and the field named. */
    p = deploy_yaml(2, 8080, "        colour: red\n");
    out = KUBECTL(1, "apply", "-f", p);
    CHECK_HAS(out, "unknown field \"spec.template.spec.containers[0].colour\"");
    free(out);
    out = KUBECTL(1, "create", "-f", p);
    CHECK_HAS(out, "unknown field \"spec.template.spec.containers[0].colour\"");
    free(out);
    out = KUBECTL(0, "apply", "--validate=warn", "-f", p);
    CHECK_HAS(out, "Warning: unknown field \"spec.template.spec.containers[0].colour\"");
    CHECK_HAS(out, "deployment.apps/web configured");
    free(out);
    free(p);

    /* A List: kubectl validates it itself, from the v2 document (in
     * protobuf), as Kubernetes' schema would. */
    p = manifest("list.yaml",
                 "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
                 "  metadata: {name: listed}\n  data: {a: b}\n  bogus: 1\n");
    out = KUBECTL(1, "apply", "-f", p);
    CHECK_HAS(out, "unknown field \"bogus\"");
    free(out);
    free(p);
    p = manifest("list.yaml",
                 "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
                 "  metadata: {name: listed}\n  data: {a: b}\n- apiVersion: apps/v1\n"
                 "  kind: Deployment\n  metadata: {name: listed}\n  spec:\n"
                 "    selector: {matchLabels: {a: b}}\n    template:\n"
                 "      metadata: {labels: {a: b}}\n      spec:\n        containers:\n"
                 "        - {name: c, image: nginx, resources: {limits: {cpu: 1, memory: 1Gi}}}\n"
                 "  status: {replicas: 3, observedGeneration: 1}\n");
    out = KUBECTL(0, "apply", "-f", p);
    CHECK_HAS(out, "configmap/listed created");
    CHECK_HAS(out, "deployment.apps/listed created");
    free(out);
    free(p);

    /* edit: the editor's change is patched in. */
    char *editor = manifest("editor.sh", "#!/bin/sh\nsed -i 's/mode: two/mode: edited/' \"$1\"\n");
    CHECK(chmod(editor, 0700) == 0);
    setenv("EDITOR", editor, 1);
    unsetenv("KUBE_EDITOR");
    out = KUBECTL(0, "edit", "configmap", "settings");
    CHECK_HAS(out, "configmap/settings edited");
    free(out);
    free(editor);
    CHECK_STR(orc_json_str(get_json("/api/v1/namespaces/default/configmaps/settings"), "data.mode"),
              "edited");
}

/* Kinds with lists and maps in their status, as written and as changed. */
static const struct {
    const char *resource, *yaml, *status, *changed;
} statuses[] = {
    {"cronjob/cj", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\nspec:\n  schedule: '0 0 1 1 *'\n"
     "  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: busybox}]}}}}\n",
     "{\"active\":[{\"kind\":\"Job\",\"name\":\"x\"}]}", "  active: [{kind: Job, name: y}]\n"},
    {"job/j", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  suspend: true\n"
     "  template: {spec: {restartPolicy: Never, containers: [{name: a, image: busybox}]}}\n",
     "{\"uncountedTerminatedPods\":{\"succeeded\":[\"a\"]}}", "  uncountedTerminatedPods: {succeeded: [b]}\n"},
    {"hpa/h", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n"
     "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}\n  maxReplicas: 3\n",
     "{\"desiredReplicas\":1,\"currentMetrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
     "\"current\":{\"averageUtilization\":5}}}]}",
     "  desiredReplicas: 1\n  currentMetrics: [{type: Resource, resource: {name: cpu, current: {averageUtilization: 6}}}]\n"},
    {"pdb/b", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nspec:\n  minAvailable: 1\n"
     "  selector: {matchLabels: {app: b}}\n",
     "{\"disruptedPods\":{\"a\":\"2024-01-01T00:00:00Z\"},\"disruptionsAllowed\":0,\"currentHealthy\":0,"
     "\"desiredHealthy\":1,\"expectedPods\":1}",
     "  disruptedPods: {b: '2024-01-01T00:00:00Z'}\n"},
    {"svc/s", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n",
     "{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]}}", "  loadBalancer: {ingress: [{ip: 192.0.2.2}]}\n"},
    {"pvc/c", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec:\n"
     "  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
     "{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"1Gi\"}}", "  phase: Bound\n  capacity: {storage: 2Gi}\n"},
    {"quota/q", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {pods: '9'}}\n",
     "{\"hard\":{\"pods\":\"9\"},\"used\":{\"pods\":\"1\"}}", "  used: {pods: '2'}\n"},
    {"pod/p", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  nodeName: nowhere\n"
     "  containers: [{name: a, image: busybox}]\n",
     "{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"image\":\"busybox\",\"imageID\":\"\","
     "\"ready\":true,\"restartCount\":0}]}",
     "  containerStatuses: [{name: a, image: busybox, imageID: '', ready: false, restartCount: 1}]\n"},
};

/* kubectl apply of a manifest whose status differs in a list or a map
 * from the stored one (a `get -o yaml` from elsewhere, an edited status)
 * computes its patch from /openapi/v3 without a warning: every list and
 * map of a status is described, as Kubernetes describes them. */
TEST_T(kubectl_patches_a_changed_status_without_warnings, 90)
{
    if (!have_kubectl()) return;
    start_one();
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char *path = manifest("s.yaml", statuses[i].yaml), *patch = NULL, *text = NULL, *out;
        KUBECTL_OK("apply", "-f", path);
        CHECK(asprintf(&patch, "{\"status\":%s}", statuses[i].status) > 0);
        KUBECTL_OK("patch", statuses[i].resource, "--subresource=status", "--type=merge", "-p", patch);
        CHECK(asprintf(&text, "%sstatus:\n%s", statuses[i].yaml, statuses[i].changed) > 0);
        free(path);
        path = manifest("s2.yaml", text);
        out = KUBECTL(0, "apply", "-f", path);
        CHECKF(strstr(out, " configured") && !strstr(out, "error calculating patch"), "apply of %s:\n%s",
               statuses[i].resource, out);
        free(out);
        free(path);
        free(patch);
        free(text);
    }
}

TEST_T(kubectl_explain_reads_the_generated_schemas, 60)
{
    char *out;
    if (!have_kubectl()) return;
    start_one();

    out = KUBECTL(0, "explain", "pods");
    CHECK_HAS(out, "KIND:       Pod");
    CHECK_HAS(out, "VERSION:    v1");
    CHECK_HAS(out, "Pod is a group of containers");
    CHECK_HAS(out, "spec\t<PodSpec>");
    CHECK_HAS(out, "status\t<Object>");
    free(out);
    out = KUBECTL(0, "explain", "deployment.spec.template.spec.containers");
    CHECK_HAS(out, "GROUP:      apps");
    CHECK_HAS(out, "FIELD: containers <[]Container>");
    CHECK_HAS(out, "image\t<string>");
    CHECK_HAS(out, "ports\t<[]ContainerPort>");
    CHECK_HAS(out, "name\t<string> -required-");
    free(out);
    out = KUBECTL(0, "explain", "--recursive", "svc");
    CHECK_HAS(out, "KIND:       Service");
    CHECK_HAS(out, "    ports\t<[]ServicePort>");
    CHECK_HAS(out, "      targetPort\t<IntOrString>");
    free(out);
    out = KUBECTL(0, "explain", "--api-version", "apps/v1", "deployments");
    CHECK_HAS(out, "KIND:       Deployment");
    CHECK_HAS(out, "VERSION:    v1");
    free(out);
    out = KUBECTL(0, "explain", "pod.spec.containers.resources.limits");
    CHECK_HAS(out, "FIELD: limits <map[string]Quantity>");
    free(out);
    out = KUBECTL(1, "explain", "pod.spec.nosuch");
    CHECK_HAS(out, "field \"nosuch\" does not exist");
    free(out);
}

/* One GET with extra headers; the response is freed at the case's end. */
static struct http_response *get(const char *path, const char *token, const char *hname,
                                 const char *hvalue)
{
    struct http_response *resp = calloc(1, sizeof *resp);
    struct http_header h = {hname, hvalue};
    struct http_request req = {.method = "GET", .path = path, .headers = &h,
                               .n_headers = hname ? 1 : 0, .timeout_ms = 10000};
    char err[256] = "";

    CHECK(resp != NULL);
    int rv = http_sync_request_tls(c.m[0].url, token, cluster_tls(&c), &req, resp, err);
    CHECKF(rv == 0, "GET %s: %d %s", path, rv, err);
    test_defer(free_resp, resp);
    return resp;
}

static const char *header(const struct http_response *r, const char *name)
{
    const char *v = http_header_get(r, name);
    return v ? v : "";
}

TEST_T(documents_are_cached_by_hash_and_negotiated, 60)
{
    start_one();
    struct http_response *r = get("/openapi/v3", c.token, NULL, NULL);
    CHECK_INT(r->status, ==, 200);
    json_t *root = json_loads(r->body, 0, NULL);
    CHECK(root != NULL);
    test_defer(free_json, root);
    const char *url = orc_json_str(json_object_get(json_object_get(root, "paths"), "apis/apps/v1"),
                                   "serverRelativeURL");
    CHECKF(url && strncmp(url, "/openapi/v3/apis/apps/v1?hash=", 30) == 0, "%s", url ? url : "none");
    const char *hash = url + 30;

    /* The hashed URL: immutable, its ETag the hash. */
    r = get(url, c.token, "accept", "application/json");
    CHECK_INT(r->status, ==, 200);
    CHECK_STR(header(r, "cache-control"), "public, immutable");
    CHECK(strlen(header(r, "expires")) > 0);
    char etag[200];
    snprintf(etag, sizeof etag, "\"%s\"", hash);
    CHECK_STR(header(r, "etag"), etag);
    json_t *doc = json_loads(r->body, 0, NULL);
    CHECK(doc != NULL && json_object_get(orc_json_get(doc, "components.schemas"),
                                         "io.k8s.api.apps.v1.Deployment") != NULL);
    json_decref(doc);
    /* Without the hash: revalidated, 304 for the same ETag. */
    r = get("/openapi/v3/apis/apps/v1", c.token, NULL, NULL);
    CHECK_INT(r->status, ==, 200);
    CHECK_STR(header(r, "cache-control"), "no-cache, private");
    r = get("/openapi/v3/apis/apps/v1", c.token, "if-none-match", etag);
    CHECK_INT(r->status, ==, 304);
    /* A stale hash is sent on to the current one. */
    r = get("/openapi/v3/apis/apps/v1?hash=0123", c.token, NULL, NULL);
    CHECK_INT(r->status, ==, 301);
    CHECK_STR(header(r, "location"), url);
    /* v3 is JSON only; v2 is JSON or protobuf, which is all client-go
     * asks it for. */
    r = get(url, c.token, "accept", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf");
    CHECK_INT(r->status, ==, 406);
    r = get("/openapi/v2", c.token, "accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
    CHECK_INT(r->status, ==, 200);
    CHECK_STR(header(r, "content-type"), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    CHECK(r->body_len > 1000 && memcmp(r->body, "\x0a\x03" "2.0", 5) == 0);
    r = get("/openapi/v2", c.token, "accept", "text/html");
    CHECK_INT(r->status, ==, 406);
    r = get("/openapi/v2", c.token, "accept",
            "application/json;q=0.9, application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
    CHECK_INT(r->status, ==, 200);
    CHECK_STR(header(r, "content-type"), "application/json");
    doc = json_loads(r->body, 0, NULL);
    CHECK_STR(orc_json_str(doc, "swagger"), "2.0");
    json_decref(doc);
    r = get("/openapi/v3/apis/nosuch/v1", c.token, NULL, NULL);
    CHECK_INT(r->status, ==, 404);
    /* Authenticated as every other path. */
    r = get("/openapi/v3", NULL, NULL, NULL);
    CHECK_INT(r->status, ==, 401);
    r = get("/openapi/v2", NULL, NULL, NULL);
    CHECK_INT(r->status, ==, 401);
    /* A clean stop frees the documents (sanitizer builds check it). */
    member_stop(&c, 0);
}
