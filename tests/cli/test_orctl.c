/* test_orctl.c — orctl end to end against real `orcd server` processes: the
 * binary is run as a user runs it (HOME holding the ~/.orc/config the server
 * wrote) and the tests check what that user sees — and that stock kubectl
 * reads the same cluster. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/config.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/disk.h"
#include "tests/harness/test.h"

/* The Deployment from the Kubernetes documentation. */
static const char nginx_yaml[] =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: nginx-deployment\n"
    "  labels:\n"
    "    app: nginx\n"
    "spec:\n"
    "  replicas: %d\n"
    "  selector:\n"
    "    matchLabels:\n"
    "      app: nginx\n"
    "  template:\n"
    "    metadata:\n"
    "      labels:\n"
    "        app: nginx\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: nginx\n"
    "        image: nginx:1.14.2\n"
    "        ports:\n"
    "        - containerPort: 80\n"
    "%s";

static struct cluster c;

static void start_one(void)
{
    /* Tables show exactly what the test wrote: of the controllers only the
     * garbage collector runs (orphan deletes wait for it). */
    static const char *const gc_only[] = {"--controllers", "garbagecollector", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, gc_only);
    member_wait_ready(&c, 0, 10000);
}

static char *write_manifest(const char *name, const char *text)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    return path;
}

static char *nginx_manifest(int replicas, const char *extra)
{
    char *text = NULL, *path;

    CHECK(asprintf(&text, nginx_yaml, replicas, extra) > 0);
    path = write_manifest("nginx.yaml", text);
    free(text);
    return path;
}

/* Runs orctl and checks exit status and stdout; returns stderr (free it). */
static char *expect(int want_rc, const char *want_out, const char *arg, ...)
{
    char *out, *err;
    va_list ap;
    int rc;

    va_start(ap, arg);
    rc = run_orctl_v(c.home, NULL, &out, &err, arg, ap);
    va_end(ap);
    CHECKF(rc == want_rc, "orctl %s...: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", arg, rc, want_rc,
           out, err);
    if (want_out) CHECKF(strcmp(out, want_out) == 0, "orctl %s...: stdout:\n%s---- want:\n%s", arg, out, want_out);
    free(out);
    return err;
}

/* Runs orctl expecting success; returns stdout (free it). */
static char *ok(const char *arg, ...)
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

static json_t *get_json(const char *kind, const char *name)
{
    char *out = ok("get", kind, name, "-o", "json", NULL);
    json_t *j = json_loads(out, 0, NULL);
    CHECKF(j != NULL, "not JSON:\n%s", out);
    free(out);
    return j;
}

static int http_status(const char *method, const char *path)
{
    return t_http(&c, 0, method, path, NULL, NULL, NULL, NULL);
}

/* ---- apply ---- */

TEST_T(apply_creates_then_unchanged_then_configured, 120)
{
    start_one();
    char *path = nginx_manifest(3, "");
    free(expect(0, "deployment.apps/nginx-deployment created\n", "apply", "-f", path, NULL));
    free(expect(0, "deployment.apps/nginx-deployment unchanged\n", "apply", "-f", path, NULL));
    free(path);
    path = nginx_manifest(5, "");
    free(expect(0, "deployment.apps/nginx-deployment configured\n", "apply", "-f", path, NULL));
    json_t *d = get_json("deploy", "nginx-deployment");
    int64_t replicas = 0;
    CHECK(orc_json_int(d, "spec.replicas", &replicas) == 0 && replicas == 5);
    /* The annotation holds the manifest, as kubectl writes it. */
    const char *last = json_string_value(json_object_get(
        orc_json_get(d, "metadata.annotations"), "kubectl.kubernetes.io/last-applied-configuration"));
    CHECK(last != NULL);
    CHECK_HAS(last, "\"replicas\":5");
    CHECK_HAS(last, "\"namespace\":\"default\"");
    json_decref(d);
    free(path);
}

TEST_T(apply_removes_what_the_manifest_dropped, 120)
{
    start_one();
    const char *v1 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                     "  labels: {app: web, tier: frontend}\n  annotations: {team: blue}\n"
                     "data:\n  color: red\n  size: L\n";
    const char *v2 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                     "  labels: {app: web}\ndata:\n  color: red\n";
    char *p1 = write_manifest("cm1.yaml", v1), *p2 = write_manifest("cm2.yaml", v2);

    free(expect(0, "configmap/settings created\n", "apply", "-f", p1, NULL));
    /* A field the server set stays: it was never in a manifest. */
    CHECK_INT(t_http(&c, 0, "PATCH", "/api/v1/namespaces/default/configmaps/settings",
                     "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"owner\":\"ops\"}}}",
                     NULL, NULL), ==, 200);
    free(expect(0, "configmap/settings configured\n", "apply", "-f", p2, NULL));
    json_t *cm = get_json("cm", "settings");
    CHECK(orc_json_get(cm, "metadata.labels.tier") == NULL);
    CHECK(orc_json_get(cm, "metadata.annotations.team") == NULL);
    CHECK(orc_json_get(cm, "data.size") == NULL);
    CHECK_STR(orc_json_str(cm, "data.color"), "red");
    CHECK_STR(orc_json_str(cm, "metadata.labels.app"), "web");
    CHECK_STR(orc_json_str(cm, "metadata.labels.owner"), "ops");
    json_decref(cm);
    free(p1);
    free(p2);
}

TEST_T(apply_warns_about_a_typo_field, 120)
{
    start_one();
    char *path = nginx_manifest(2, "  progressDeadlineSecond: 600\n");
    char *err = expect(0, "deployment.apps/nginx-deployment created\n", "apply", "-f", path, NULL);
    CHECK_HAS(err, "Warning: ");
    CHECK_HAS(err, "progressDeadlineSecond");
    free(err);
    /* Every apply shows it again: the PATCH is always sent. */
    err = expect(0, "deployment.apps/nginx-deployment unchanged\n", "apply", "-f", path, NULL);
    CHECK_HAS(err, "progressDeadlineSecond");
    free(err);
    free(path);
}

TEST_T(apply_reports_bad_documents_and_applies_the_rest, 120)
{
    start_one();
    char *bad = write_manifest("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                           "  labels: [unclosed\n");
    char *err = expect(1, "", "apply", "-f", bad, NULL);
    char want[1200];
    snprintf(want, sizeof want, "error: %s: document 1: line ", bad);
    CHECK_HAS(err, want);
    free(err);
    CHECK_INT(http_status("GET", "/api/v1/namespaces/default/configmaps/x"), ==, 404);

    char *mixed = write_manifest("mixed.yaml",
                                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\n"
                                 "apiVersion: v1\nkind: Gadget\nmetadata: {name: g}\n---\n"
                                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: third}\n");
    err = expect(1, "configmap/first created\nconfigmap/third created\n", "apply", "-f", mixed, NULL);
    snprintf(want, sizeof want, "error: %s: document 2: no matches for kind \"Gadget\" in version \"v1\"\n", mixed);
    CHECK_STR(err, want);
    free(err);

    /* Refused by the server's validation: Invalid, and nothing stored. */
    char *invalid = nginx_manifest(-1, "");
    err = expect(1, "", "apply", "-f", invalid, NULL);
    CHECK_HAS(err, "Error from server (Invalid): ");
    CHECK_HAS(err, "spec.replicas");
    free(err);
    CHECK_INT(http_status("GET", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment"), ==, 404);
    free(bad);
    free(mixed);
    free(invalid);
}

TEST_T(apply_from_stdin_directory_and_lists, 120)
{
    start_one();
    char *out, *err;
    char dir[700];

    CHECK_INT(run_orctl_in(&c, "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\n"
                               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: team-a}\n",
                           &out, &err, "apply", "-f", "-", NULL), ==, 0);
    CHECK_STR(out, "namespace/team-a created\nconfigmap/c1 created\n");
    free(out);
    free(err);
    snprintf(dir, sizeof dir, "%s/app", test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    free(write_manifest("app/20-cm.yaml", "apiVersion: v1\nkind: List\nitems:\n"
                                          "- {apiVersion: v1, kind: ConfigMap, metadata: {name: l1}}\n"
                                          "- {apiVersion: v1, kind: ConfigMap, metadata: {name: l2}}\n"));
    free(write_manifest("app/10-ns.json", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-b\"}}"));
    free(expect(0, "namespace/team-b created\nconfigmap/l1 created\nconfigmap/l2 created\n", "apply",
                "-f", dir, "-n", "team-b", NULL));
    CHECK_INT(http_status("GET", "/api/v1/namespaces/team-b/configmaps/l2"), ==, 200);
    /* -n that contradicts the manifest is refused. */
    err = expect(1, "", "apply", "-f", "-", "-n", "team-b", NULL);
    free(err);
}

/* ---- get ---- */

static void seed(void)
{
    char *path = nginx_manifest(3, "");
    free(expect(0, NULL, "apply", "-f", path, NULL));
    free(path);
    path = write_manifest("more.yaml",
                          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config, labels: {app: nginx}}\n"
                          "data: {a: '1', b: '2'}\n---\n"
                          "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n---\n"
                          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: prod-config, namespace: prod}\n---\n"
                          "apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, labels: {app: nginx}}\n"
                          "spec: {containers: [{name: web, image: 'nginx:1.25'}]}\n---\n"
                          "apiVersion: v1\nkind: Node\nmetadata: {name: node-1, labels: {node-role.kubernetes.io/worker: ''}}\n");
    free(expect(0, NULL, "apply", "-f", path, NULL));
    free(path);
}

/* The first line of the output, the header. */
static void check_header(const char *out, const char *want)
{
    size_t len = strcspn(out, "\n");
    CHECKF(strlen(want) == len && strncmp(out, want, len) == 0, "header:\n%.*s\nwant:\n%s", (int)len,
           out, want);
}

/* The same when column widths depend on data the test does not fix (the
 * bootstrap namespaces, member IDs): the words, single-spaced. */
static void check_header_words(const char *out, const char *want)
{
    char got[512];
    size_t n = 0;

    for (const char *p = out; *p && *p != '\n' && n < sizeof got - 1; p++)
        if (*p != ' ' || (n > 0 && got[n - 1] != ' ')) got[n++] = *p;
    got[n] = '\0';
    CHECK_STR(got, want);
}

TEST_T(get_tables_for_each_kind, 120)
{
    start_one();
    seed();
    char *out = ok("get", "deploy", NULL);
    check_header(out, "NAME               READY   UP-TO-DATE   AVAILABLE   AGE");
    CHECK_HAS(out, "\nnginx-deployment   0/3 ");
    free(out);
    out = ok("get", "po", NULL);
    check_header(out, "NAME    READY   STATUS    RESTARTS   AGE");
    CHECK_HAS(out, "\nweb-0   0/1     Pending   0          ");
    free(out);
    out = ok("get", "cm", "-l", "app=nginx", NULL);
    check_header(out, "NAME         DATA   AGE");
    CHECK_HAS(out, "\nweb-config   2      ");
    CHECK_LACKS(out, "prod-config");
    free(out);
    out = ok("get", "ns", NULL);
    check_header_words(out, "NAME STATUS AGE");
    CHECK_HAS(out, "\ndefault           Active   ");
    CHECK_HAS(out, "\nprod              Active   ");
    free(out);
    out = ok("get", "no", NULL);
    check_header(out, "NAME     STATUS    ROLES    AGE   VERSION");
    CHECK_HAS(out, "\nnode-1   Unknown   worker   ");
    free(out);
    out = ok("get", "deploy", "-o", "wide", NULL);
    check_header(out, "NAME               READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES         SELECTOR");
    CHECK_HAS(out, "   nginx        nginx:1.14.2   app=nginx\n");
    free(out);
    out = ok("get", "cm", "-A", "--field-selector", "metadata.name=prod-config", NULL);
    check_header(out, "NAMESPACE   NAME          DATA   AGE");
    CHECK_HAS(out, "\nprod        prod-config   0      ");
    free(out);
    out = ok("get", "cm", "--no-headers", "-n", "prod", NULL);
    CHECK(strncmp(out, "prod-config   0 ", 16) == 0);
    free(out);
}

TEST_T(get_several_kinds_and_names, 120)
{
    start_one();
    seed();
    char *out = ok("get", "deploy,cm", NULL);
    CHECK_HAS(out, "NAME                               READY   UP-TO-DATE   AVAILABLE   AGE\n"
                   "deployment.apps/nginx-deployment   0/3     0            0           ");
    CHECK_HAS(out, "\n\nNAME                   DATA   AGE\nconfigmap/web-config   2      ");
    free(out);
    out = ok("get", "deploy/nginx-deployment", "cm/web-config", "-o", "name", NULL);
    CHECK_STR(out, "deployment.apps/nginx-deployment\nconfigmap/web-config\n");
    free(out);
    out = ok("get", "deploy", "-o", "name", NULL);
    CHECK_STR(out, "deployment.apps/nginx-deployment\n");
    free(out);
    /* "all": the workload kinds, each table naming its kind. */
    out = ok("get", "all", NULL);
    CHECK(strncmp(out, "NAME        READY   STATUS    RESTARTS   AGE\npod/web-0   0/1     Pending   0 ", 62) == 0);
    CHECK_HAS(out, "\n\nNAME                               READY   UP-TO-DATE   AVAILABLE   AGE\n"
                   "deployment.apps/nginx-deployment   0/3 ");
    free(out);
}

TEST_T(get_yaml_and_json_like_kubectl, 120)
{
    start_one();
    seed();
    char *out = ok("get", "deploy", "nginx-deployment", "-o", "yaml", NULL);
    CHECK(strncmp(out, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n", 46) == 0);
    CHECK_HAS(out, "\n  name: nginx-deployment\n");
    free(out);
    json_t *d = get_json("deployments.apps", "nginx-deployment");
    CHECK_STR(orc_json_str(d, "kind"), "Deployment");
    CHECK(orc_json_str(d, "metadata.resourceVersion") != NULL);
    json_decref(d);
    /* A whole collection, or several objects, come as a v1 List. */
    out = ok("get", "cm,deploy", "-o", "json", NULL);
    json_t *l = json_loads(out, 0, NULL);
    CHECKF(l != NULL, "not JSON:\n%s", out);
    CHECK_STR(orc_json_str(l, "kind"), "List");
    CHECK_STR(orc_json_str(l, "apiVersion"), "v1");
    CHECK_STR(orc_json_str(l, "metadata.resourceVersion"), "");
    CHECK_INT(json_array_size(json_object_get(l, "items")), ==, 2);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(l, "items"), 1), "kind"), "Deployment");
    json_decref(l);
    free(out);
    out = ok("get", "deploy", "-o", "yaml", NULL);
    CHECK(strncmp(out, "apiVersion: v1\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n", 63) == 0);
    CHECK_HAS(out, "\nkind: List\nmetadata:\n  resourceVersion: \"\"\n");
    free(out);
}

TEST_T(get_missing_and_empty, 120)
{
    start_one();
    char *err = expect(1, "", "get", "deploy", "x", NULL);
    CHECK_STR(err, "Error from server (NotFound): deployments.apps \"x\" not found\n");
    free(err);
    err = expect(0, "", "get", "deploy", NULL);
    CHECK_STR(err, "No resources found in default namespace.\n");
    free(err);
    err = expect(0, "", "get", "po", "-n", "kube-system", NULL);
    CHECK_STR(err, "No resources found in kube-system namespace.\n");
    free(err);
    err = expect(0, "", "get", "deploy", "-A", NULL);
    CHECK_STR(err, "No resources found\n");
    free(err);
    err = expect(1, "", "get", "widgets", NULL);
    CHECK_STR(err, "error: the server doesn't have a resource type \"widgets\"\n");
    free(err);
}

TEST_T(get_pages_through_long_lists, 180)
{
    start_one();
    struct orc_buf m = ORC_BUF_INIT;
    for (int i = 0; i < 1203; i++)
        orc_buf_printf(&m, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%04d}\n", i);
    char *path = write_manifest("many.yaml", m.data);
    orc_buf_free(&m);
    free(expect(0, NULL, "create", "-f", path, "-o", "name", NULL));
    char *out = ok("get", "cm", "-o", "name", NULL);
    size_t lines = 0;
    for (const char *p = out; *p; p++) lines += *p == '\n';
    CHECK_INT(lines, ==, 1203);
    CHECK_HAS(out, "configmap/cm-0000\n");
    CHECK_HAS(out, "configmap/cm-1202\n");
    free(out);
    free(path);
}

TEST_T(get_watch_prints_changes_until_interrupted, 120)
{
    start_one();
    seed();
    char log[700];
    snprintf(log, sizeof log, "%s/watch.out", test_tmpdir());
    pid_t pid = spawn_orctl(c.home, log, (const char *const[]){"get", "cm", "-w", NULL});
    free(wait_for_output(log, "web-config", 10000));
    CHECK_INT(t_http(&c, 0, "POST", "/api/v1/namespaces/default/configmaps", NULL,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"late-arrival\"}}",
                     NULL, NULL), ==, 201);
    char *text = wait_for_output(log, "late-arrival", 10000);
    CHECK_INT(stop_orctl(pid, SIGINT), ==, 0);
    /* One header only, then rows. */
    CHECK(strncmp(text, "NAME         DATA   AGE\n", 24) == 0);
    CHECK(strstr(text + 1, "NAME ") == NULL);
    free(text);
    text = run_read_file(log);
    run_check_clean("orctl get -w", text);
    free(text);
}

/* ---- describe, delete, create, scale ---- */

TEST_T(describe_shows_the_object_and_its_events, 120)
{
    start_one();
    seed();
    char *ev = write_manifest("ev.yaml",
                              "apiVersion: v1\nkind: Event\nmetadata: {name: nginx-deployment.1}\n"
                              "involvedObject: {kind: Deployment, name: nginx-deployment, namespace: default,"
                              " apiVersion: apps/v1}\n"
                              "reason: ScalingReplicaSet\nmessage: Scaled up replica set nginx-deployment-abc to 3\n"
                              "type: Normal\nsource: {component: deployment-controller}\n"
                              "firstTimestamp: '2024-06-01T11:00:00Z'\nlastTimestamp: '2024-06-01T11:00:00Z'\ncount: 1\n");
    free(expect(0, NULL, "apply", "-f", ev, NULL));
    char *out = ok("describe", "deploy", "nginx-deployment", NULL);
    CHECK(strncmp(out, "Name:", 5) == 0);
    CHECK_HAS(out, "nginx-deployment");
    CHECK_HAS(out, "Replicas:");
    CHECK_HAS(out, "nginx:1.14.2");
    CHECK_HAS(out, "Events:");
    CHECK_HAS(out, "ScalingReplicaSet");
    CHECK_HAS(out, "Scaled up replica set nginx-deployment-abc to 3");
    free(out);
    out = ok("describe", "cm/web-config", NULL);
    CHECK_HAS(out, "web-config");
    CHECK_HAS(out, "Events:");
    CHECK_LACKS(out, "ScalingReplicaSet");
    free(out);
    char *err = expect(1, "", "describe", "deploy", "nope", NULL);
    CHECK_STR(err, "Error from server (NotFound): deployments.apps \"nope\" not found\n");
    free(err);
    free(ev);
}

TEST_T(delete_by_name_manifest_and_selector, 120)
{
    start_one();
    seed();
    free(expect(0, "deployment.apps \"nginx-deployment\" deleted\n", "delete", "deploy",
                "nginx-deployment", NULL));
    char *err = expect(1, "", "get", "deploy", "nginx-deployment", NULL);
    CHECK_HAS(err, "(NotFound)");
    free(err);
    err = expect(1, "", "delete", "deploy", "nginx-deployment", NULL);
    CHECK_STR(err, "Error from server (NotFound): deployments.apps \"nginx-deployment\" not found\n");
    free(err);
    free(expect(0, "", "delete", "deploy", "nginx-deployment", "--ignore-not-found", NULL));
    free(expect(0, "configmap \"web-config\" deleted\n", "delete", "cm", "-l", "app=nginx", NULL));
    free(expect(0, "pod \"web-0\" deleted\n", "delete", "po/web-0", "--grace-period=0", NULL));
    char *path = nginx_manifest(1, "");
    free(expect(0, NULL, "apply", "-f", path, NULL));
    free(expect(0, "deployment.apps \"nginx-deployment\" deleted\n", "delete", "-f", path,
                "--cascade=orphan", NULL));
    free(path);
    free(expect(0, "configmap \"prod-config\" deleted\n", "delete", "cm", "--all", "-n", "prod", NULL));
}

TEST_T(create_namespace_and_manifests, 120)
{
    start_one();
    free(expect(0, "namespace/team-a created\n", "create", "namespace", "team-a", NULL));
    char *err = expect(1, "", "create", "ns", "team-a", NULL);
    CHECK_STR(err, "Error from server (AlreadyExists): namespaces \"team-a\" already exists\n");
    free(err);
    char *path = nginx_manifest(2, "");
    free(expect(0, "deployment.apps/nginx-deployment created\n", "create", "-f", path, "-n", "team-a", NULL));
    err = expect(1, "", "create", "-f", path, "-n", "team-a", NULL);
    CHECK_STR(err, "Error from server (AlreadyExists): deployments.apps \"nginx-deployment\" already exists\n");
    free(err);
    free(expect(0, "configmap/flags created\n", "create", "configmap", "flags", "--from-literal=a=1,2",
                "--from-literal", "b=x", NULL));
    json_t *cm = get_json("cm", "flags");
    CHECK_STR(orc_json_str(cm, "data.a"), "1,2");
    CHECK_STR(orc_json_str(cm, "data.b"), "x");
    json_decref(cm);
    free(expect(0, "deployment.apps/web created\n", "create", "deployment", "web", "--image=nginx:1.25",
                "--replicas=2", NULL));
    free(path);
}

TEST_T(scale_through_the_subresource, 120)
{
    start_one();
    seed();
    free(expect(0, "deployment.apps/nginx-deployment scaled\n", "scale", "deploy/nginx-deployment",
                "--replicas=7", NULL));
    json_t *d = get_json("deploy", "nginx-deployment");
    int64_t n = 0;
    CHECK(orc_json_int(d, "spec.replicas", &n) == 0 && n == 7);
    json_decref(d);
    free(expect(0, "deployment.apps/nginx-deployment scaled\n", "scale", "deployment",
                "nginx-deployment", "--replicas", "2", "--current-replicas=7", NULL));
    char *err = expect(1, "", "scale", "deploy", "nginx-deployment", "--replicas=4", "--current-replicas=7", NULL);
    CHECK_STR(err, "error: Expected replicas to be 7, was 2\n");
    free(err);
    err = expect(1, "", "scale", "deploy/ghost", "--replicas=1", NULL);
    CHECK_STR(err, "Error from server (NotFound): deployments.apps \"ghost\" not found\n");
    free(err);
}

TEST_T(autoscale_makes_an_hpa_like_kubectl, 120)
{
    start_one();
    seed();
    free(expect(0, "horizontalpodautoscaler.autoscaling/nginx-deployment autoscaled\n", "autoscale",
                "deploy/nginx-deployment", "--min=2", "--max=6", "--cpu-percent=50", NULL));
    json_t *h = get_json("hpa", "nginx-deployment");
    int64_t n = 0;
    CHECK(orc_json_int(h, "spec.minReplicas", &n) == 0 && n == 2);
    CHECK(orc_json_int(h, "spec.maxReplicas", &n) == 0 && n == 6);
    CHECK_STR(orc_json_str(h, "spec.scaleTargetRef.kind"), "Deployment");
    const json_t *m = json_array_get(orc_json_get(h, "spec.metrics"), 0);
    CHECK(orc_json_int(m, "resource.target.averageUtilization", &n) == 0 && n == 50);
    json_decref(h);
    char *err = expect(2, "", "autoscale", "deploy/nginx-deployment", NULL);
    CHECK(strstr(err, "--max=MAXPODS is required") != NULL);
    free(err);
    err = expect(1, "", "autoscale", "deploy/ghost", "--max=3", NULL);
    CHECK_STR(err, "Error from server (NotFound): deployments.apps \"ghost\" not found\n");
    free(err);
}

/* ---- version, cluster, credentials ---- */

TEST_T(version_shows_client_and_server, 120)
{
    start_one();
    char *out = ok("version", NULL);
    CHECK(strncmp(out, "Client Version: v0.1.0\nServer Version: v1.", 41) == 0);
    free(out);
    out = ok("version", "-o", "json", NULL);
    json_t *v = json_loads(out, 0, NULL);
    CHECKF(v != NULL, "not JSON:\n%s", out);
    CHECK_STR(orc_json_str(v, "clientVersion.gitVersion"), "v0.1.0");
    CHECK(orc_json_str(v, "serverVersion.gitVersion") != NULL);
    json_decref(v);
    free(out);
}

TEST_T(cluster_members_and_removal, 180)
{
    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    char *out = ok("cluster", "members", NULL);
    check_header_words(out, "ID ADDRESS API ROLE APPLIED-INDEX REACHABLE STATUS");
    CHECK_HAS(out, c.m[0].url);
    CHECK_HAS(out, c.m[2].url);
    CHECK_HAS(out, " leader ");
    CHECK_HAS(out, " follower ");
    free(out);
    out = ok("cluster", "members", "-o", "json", NULL);
    json_t *list = json_loads(out, 0, NULL), *m;
    CHECK_STR(orc_json_str(list, "kind"), "MemberList");
    CHECK_INT(json_array_size(json_object_get(list, "members")), ==, 3);
    /* Remove a follower, by the ID the table shows. */
    int leader = cluster_leader(&c, 10000), victim = leader == 2 ? 1 : 2;
    char id[64] = "";
    size_t i;
    json_array_foreach(json_object_get(list, "members"), i, m)
    {
        if (strcmp(orc_json_str(m, "apiURL") ?: "", c.m[victim].url) == 0)
            snprintf(id, sizeof id, "%s", orc_json_str(m, "id"));
    }
    CHECK(id[0] != '\0');
    json_decref(list);
    free(out);
    char want[128];
    snprintf(want, sizeof want, "member %s removed\n", id);
    free(expect(0, want, "cluster", "remove-member", id, NULL));
    member_kill(&c, victim);
    out = ok("cluster", "members", NULL);
    CHECK_LACKS(out, c.m[victim].url);
    free(out);
    char *err = expect(1, "", "cluster", "remove-member", "12345", NULL);
    CHECK_STR(err, "Error from server (NotFound): member 12345 not found\n");
    free(err);
}

/* Waits until member 0's /readyz answers `want`. */
static void wait_readyz(int want, unsigned timeout_ms)
{
    uint64_t start = test_now_ms();
    int st;

    while ((st = t_http(&c, 0, "GET", "/readyz", NULL, NULL, NULL, NULL)) != want) {
        CHECKF(test_now_ms() - start < timeout_ms, "/readyz still %d after %u ms, want %d (log %s)",
               st, timeout_ms, want, c.m[0].log);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* The line of the members table naming member 0 (free it). */
static char *member_line(const char *table)
{
    const char *p = strstr(table, c.m[0].url), *b = p, *e;

    CHECKF(p != NULL, "member %s not in:\n%s", c.m[0].url, table);
    while (b > table && b[-1] != '\n') b--;
    e = strchr(p, '\n');
    return strndup(b, e ? (size_t)(e - b) : strlen(b));
}

/* A member out of disk space stops serving: the table says so and why, as
 * kubectl shows a node's condition, and says it serves again once there is
 * room. */
TEST_T(cluster_members_shows_a_member_that_does_not_serve, 120)
{
    cluster_init(&c, 1);
    if (!disk_tmpfs(c.m[0].dir, 128)) return;
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    char *out = ok("cluster", "members", NULL), *line = member_line(out);
    check_header_words(out, "ID ADDRESS API ROLE APPLIED-INDEX REACHABLE STATUS");
    CHECKF(strstr(line, " true ") && strstr(line, " serving"), "healthy member: %s", line);
    CHECK_LACKS(line, "not serving");
    free(line);
    free(out);

    disk_fill(c.m[0].dir);
    wait_readyz(503, 20000);
    out = ok("cluster", "members", NULL);
    line = member_line(out);
    printf("# %s\n", line);
    CHECK_HAS(line, " not serving: ");
    CHECKF(strstr(line, "disk") || strstr(line, "space"), "no reason in: %s", line);
    free(line);
    free(out);

    disk_unfill(c.m[0].dir);
    wait_readyz(200, 40000);
    out = ok("cluster", "members", NULL);
    line = member_line(out);
    CHECK_LACKS(line, "not serving");
    CHECK_HAS(line, " serving");
    free(line);
    free(out);
}

TEST_T(server_and_token_flags_override_the_config, 120)
{
    start_one();
    char empty[700], *out, *err;
    snprintf(empty, sizeof empty, "%s/empty-home", test_tmpdir());
    mkdir(empty, 0700);
    char ca[700];
    snprintf(ca, sizeof ca, "%s/ca.crt", c.m[0].dir);
    const char *ns_argv[] = {t_bin("orctl"), "get", "ns", "default", "-o", "name", "--server",
                             c.m[0].url, "--token", c.token, "--certificate-authority", ca, NULL};
    CHECK_INT(run_prog(empty, NULL, &out, &err, ns_argv), ==, 0);
    CHECK_STR(out, "namespace/default\n");
    free(out);
    free(err);
    /* Without the CA the server is not trusted, and the token is not sent;
     * --insecure-skip-tls-verify trusts it anyway. */
    ns_argv[10] = "--request-timeout";
    ns_argv[11] = "10s";
    CHECK_INT(run_prog(empty, NULL, &out, &err, ns_argv), ==, 1);
    CHECK_HAS(err, "Unable to connect to the server https://");
    CHECK_HAS(err, "tls: TLS handshake: certificate verify failed");
    CHECK_STR(out, "");
    free(out);
    free(err);
    ns_argv[10] = "--insecure-skip-tls-verify";
    ns_argv[11] = NULL;
    CHECK_INT(run_prog(empty, NULL, &out, &err, ns_argv), ==, 0);
    CHECK_STR(out, "namespace/default\n");
    free(out);
    free(err);
    /* A wrong token beats the config's good one, and is never echoed. */
    CHECK_INT(run_orctl(&c, &out, &err, "get", "ns", "--token", "wrong-t0ken", NULL), ==, 1);
    CHECK(strncmp(err, "Error from server (Unauthorized): ", 34) == 0);
    CHECK_LACKS(err, "wrong-t0ken");
    CHECK_LACKS(err, c.token);
    CHECK_STR(out, "");
    free(out);
    free(err);
    /* --config / --kubeconfig point at the member's admin.conf. */
    char conf[700];
    snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
    const char *cfg_argv[] = {t_bin("orctl"), "--kubeconfig", conf, "get", "ns", "kube-system", "-o", "name", NULL};
    CHECK_INT(run_prog(empty, NULL, &out, &err, cfg_argv), ==, 0);
    CHECK_STR(out, "namespace/kube-system\n");
    free(out);
    free(err);
}

/* Stock kubectl uses a member's admin.conf as it is: the https URL, the
 * cluster CA as certificate-authority-data, and the bearer token. */
static char *kubectl_with(const char *conf, int want_rc, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig"};
    char *out, *err;
    int n = 2, rc;

    argv[n++] = conf;
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    rc = run_prog(c.home, NULL, &out, &err, argv);
    CHECKF(rc == want_rc, "kubectl %s: exit %d\nstdout:\n%s\nstderr:\n%s", argv[3], rc, out, err);
    free(err);
    return out;
}

static char *kubectl(int want_rc, const char *const *words)
{
    char conf[700];

    snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
    return kubectl_with(conf, want_rc, words);
}

/* kubectl is not a Debian package: where it is missing, say so and skip. */
static bool have_kubectl(void)
{
    if (access("/usr/bin/kubectl", X_OK) == 0) return true;
    fprintf(stderr, "# SKIP: /usr/bin/kubectl is not installed on this machine\n");
    return false;
}

/* admin.conf with another token, or without the CA. */
static void kubectl_config_variant(const char *token, bool with_ca, char *path, size_t n)
{
    struct orc_client_config cfg;
    char admin[700], err[256];

    snprintf(admin, sizeof admin, "%s/admin.conf", c.m[0].dir);
    CHECKF(orc_config_load(admin, &cfg, err, sizeof err) == 0, "%s", err);
    CHECK(cfg.ca_pem != NULL && strncmp(cfg.server, "https://", 8) == 0);
    snprintf(path, n, "%s/kubectl-%s.conf", test_tmpdir(), with_ca ? "ca" : "noca");
    CHECK(orc_config_write(path, cfg.server, with_ca ? cfg.ca_pem : NULL, token) == 0);
    orc_config_clear(&cfg);
}

TEST_T(kubectl_reads_the_same_cluster, 120)
{
    if (!have_kubectl()) return;
    start_one();
    seed();
    char *out = kubectl(0, (const char *const[]){"get", "deploy,po,cm,ns", "-A", "-o", "wide", NULL});
    CHECK_HAS(out, "nginx-deployment");
    CHECK_HAS(out, "web-0");
    CHECK_HAS(out, "web-config");
    CHECK_HAS(out, "prod");
    free(out);
    out = kubectl(0, (const char *const[]){"get", "deploy,po,cm,ns", "-A", "-o", "yaml", NULL});
    CHECK_HAS(out, "kind: List");
    CHECK_HAS(out, "name: nginx-deployment");
    free(out);
    /* kubectl apply reads orctl's last-applied annotation: nothing to do;
     * and orctl reads kubectl's. (validation is not what this tests.) */
    char *path = nginx_manifest(3, "");
    out = kubectl(0, (const char *const[]){"apply", "--validate=false", "-f", path, NULL});
    CHECK_STR(out, "deployment.apps/nginx-deployment unchanged\n");
    free(out);
    free(path);
    path = nginx_manifest(4, "");
    out = kubectl(0, (const char *const[]){"apply", "--validate=false", "-f", path, NULL});
    CHECK_STR(out, "deployment.apps/nginx-deployment configured\n");
    free(out);
    free(expect(0, "deployment.apps/nginx-deployment unchanged\n", "apply", "-f", path, NULL));
    free(path);
    /* Any other token is refused; without the CA kubectl refuses the server. */
    char conf[700];
    kubectl_config_variant("not-the-token", true, conf, sizeof conf);
    free(kubectl_with(conf, 1, (const char *const[]){"get", "ns", NULL}));
    kubectl_config_variant(c.token, false, conf, sizeof conf);
    free(kubectl_with(conf, 1, (const char *const[]){"get", "ns", NULL}));
}
