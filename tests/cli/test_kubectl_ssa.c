/* test_kubectl_ssa.c — server-side apply with stock kubectl against a real
 * `orcd server`: kubectl apply --server-side, a second field manager's
 * conflict (409 in Kubernetes' words) and --force-conflicts, managedFields
 * shown with --show-managed-fields, a field a manager stops applying
 * removed, client-side apply migrated to server-side apply, and kubectl
 * diff --server-side changing nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static bool have_kubectl(void) { return run_have_kubectl(); }

static void start_one(void) { run_start_one(&c); }

/* kubectl with the member's admin.conf; checks the exit status; *err gets
 * stderr when asked (free both). */
static char *kubectl(int want_rc, char **err_out, const char *const *words)
{
    return run_kubectl_rc(&c, want_rc, err_out, words);
}

#define KUBECTL(rc, ...) kubectl(rc, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_ERR(rc, err, ...) kubectl(rc, err, (const char *const[]){__VA_ARGS__, NULL})
#define KUBECTL_OK(...) free(KUBECTL(0, __VA_ARGS__))

static char *manifest(const char *name, const char *text)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    return path;
}

static char *deploy_yaml(const char *file, int replicas, const char *labels)
{
    char *text = NULL, *path;

    CHECK(asprintf(&text,
                   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                   "  labels: {%s}\nspec:\n  replicas: %d\n  selector:\n"
                   "    matchLabels: {app: web}\n  template:\n    metadata:\n"
                   "      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n"
                   "        image: nginx:1.25\n        ports:\n        - containerPort: 80\n",
                   labels, replicas) > 0);
    path = manifest(file, text);
    free(text);
    return path;
}

static json_t *get_json(const char *what)
{
    char *out = KUBECTL(0, "get", what, "-o", "json", "--show-managed-fields");
    json_t *j = json_loads(out, 0, NULL);
    CHECKF(j != NULL, "not JSON: %s", out);
    free(out);
    return j;
}

/* The managedFields entry of `manager` with `operation`, or NULL. */
static json_t *entry(json_t *obj, const char *manager, const char *operation)
{
    size_t i;
    json_t *e;

    json_array_foreach(orc_json_get(obj, "metadata.managedFields"), i, e)
        if (strcmp(orc_json_str(e, "manager"), manager) == 0
            && strcmp(orc_json_str(e, "operation"), operation) == 0)
            return e;
    return NULL;
}

static bool owns_replicas(json_t *obj, const char *manager, const char *operation)
{
    json_t *e = entry(obj, manager, operation);
    return e && orc_json_get(orc_json_get(e, "fieldsV1"), "f:spec") != NULL
           && json_object_get(orc_json_get(orc_json_get(e, "fieldsV1"), "f:spec"), "f:replicas");
}

TEST_T(server_side_apply_conflicts_and_force_takes_over, 120)
{
    if (!have_kubectl()) return;
    start_one();
    char *one = deploy_yaml("one.yaml", 2, "app: web"), *three = deploy_yaml("three.yaml", 3, "app: web");
    char *out = KUBECTL(0, "apply", "--server-side", "--validate=false", "-f", one), *err;
    CHECK_STR(out, "deployment.apps/web serverside-applied\n");
    free(out);
    json_t *d = get_json("deploy/web");
    json_t *e = entry(d, "kubectl", "Apply");
    CHECKF(e != NULL, "no Apply entry for kubectl");
    CHECK_STR(orc_json_str(e, "fieldsType"), "FieldsV1");
    CHECK_STR(orc_json_str(e, "apiVersion"), "apps/v1");
    CHECK(json_object_get(orc_json_get(orc_json_get(e, "fieldsV1"), "f:spec.f:template.f:spec"),
                          "f:containers") != NULL);
    json_decref(d);
    /* Another manager changing replicas conflicts: 409, nothing changes. */
    free(KUBECTL_ERR(1, &err, "apply", "--server-side", "--validate=false", "--field-manager=other",
                     "-f", three));
    CHECK_HAS(err, "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas");
    free(err);
    d = get_json("deploy/web");
    CHECK_INT(json_integer_value(orc_json_get(d, "spec.replicas")), ==, 2);
    json_decref(d);
    /* --force-conflicts takes the field. */
    KUBECTL_OK("apply", "--server-side", "--validate=false", "--field-manager=other",
               "--force-conflicts", "-f", three);
    d = get_json("deploy/web");
    CHECK_INT(json_integer_value(orc_json_get(d, "spec.replicas")), ==, 3);
    CHECK(owns_replicas(d, "other", "Apply"));
    CHECK(!owns_replicas(d, "kubectl", "Apply"));
    json_decref(d);
    /* Both managers listed by -o yaml --show-managed-fields, hidden without. */
    out = KUBECTL(0, "get", "deploy/web", "-o", "yaml", "--show-managed-fields");
    CHECK_HAS(out, "manager: kubectl\n");
    CHECK_HAS(out, "manager: other\n");
    CHECK_HAS(out, "operation: Apply\n");
    free(out);
    out = KUBECTL(0, "get", "deploy/web", "-o", "yaml");
    CHECK(strstr(out, "managedFields") == NULL);
    free(out);
    free(one);
    free(three);
}

TEST_T(a_label_no_longer_applied_is_removed, 90)
{
    if (!have_kubectl()) return;
    start_one();
    char *both = deploy_yaml("both.yaml", 1, "app: web, tier: front");
    char *app = deploy_yaml("app.yaml", 1, "app: web");
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", both);
    json_t *d = get_json("deploy/web");
    CHECK_STR(orc_json_str(orc_json_get(d, "metadata.labels"), "tier"), "front");
    json_decref(d);
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", app);
    d = get_json("deploy/web");
    CHECK(json_object_get(orc_json_get(d, "metadata.labels"), "tier") == NULL);
    CHECK_STR(orc_json_str(orc_json_get(d, "metadata.labels"), "app"), "web");
    json_decref(d);
    /* Owned by a second applier too, it stays when the first drops it. */
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", both);
    KUBECTL_OK("apply", "--server-side", "--validate=false", "--field-manager=other", "-f", both);
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", app);
    d = get_json("deploy/web");
    CHECK_STR(orc_json_str(orc_json_get(d, "metadata.labels"), "tier"), "front");
    json_decref(d);
    free(both);
    free(app);
}

TEST_T(client_side_apply_migrates_to_server_side, 120)
{
    if (!have_kubectl()) return;
    start_one();
    char *one = deploy_yaml("one.yaml", 1, "app: web"), *two = deploy_yaml("two.yaml", 2, "app: web");
    char *err;
    KUBECTL_OK("apply", "--validate=false", "-f", one);
    json_t *d = get_json("deploy/web");
    CHECK(owns_replicas(d, "kubectl-client-side-apply", "Update"));
    json_decref(d);
    /* Another manager meets client-side apply's ownership. */
    free(KUBECTL_ERR(1, &err, "apply", "--server-side", "--validate=false",
                     "--field-manager=other", "-f", two));
    CHECK_HAS(err, "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" "
                   "using apps/v1: .spec.replicas");
    free(err);
    /* kubectl itself takes over what it applied client-side. */
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", two);
    d = get_json("deploy/web");
    CHECK_INT(json_integer_value(orc_json_get(d, "spec.replicas")), ==, 2);
    CHECK(owns_replicas(d, "kubectl", "Apply"));
    CHECK(entry(d, "kubectl-client-side-apply", "Update") == NULL);
    json_decref(d);
    free(one);
    free(two);
}

static char *cm_yaml(const char *file, const char *value)
{
    char *text = NULL, *path;

    CHECK(asprintf(&text, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
                          "data: {mode: \"%s\"}\n", value) > 0);
    path = manifest(file, text);
    free(text);
    return path;
}

TEST_T(diff_server_side_shows_a_change_and_changes_nothing, 90)
{
    if (!have_kubectl()) return;
    start_one();
    char *one = cm_yaml("one.yaml", "one"), *two = cm_yaml("two.yaml", "two");
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", one);
    json_t *cm = get_json("cm/cfg");
    char *rv = strdup(orc_json_str(cm, "metadata.resourceVersion"));
    json_decref(cm);
    char *out = KUBECTL(1, "diff", "--server-side", "-f", two);
    CHECK_HAS(out, "-  mode: one");
    CHECK_HAS(out, "+  mode: two");
    free(out);
    free(KUBECTL(0, "diff", "--server-side", "-f", one));
    /* The same apply again writes nothing either. */
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", one);
    cm = get_json("cm/cfg");
    CHECK_STR(orc_json_str(cm, "metadata.resourceVersion"), rv);
    CHECK_STR(orc_json_str(cm, "data.mode"), "one");
    json_decref(cm);
    free(rv);
    free(one);
    free(two);
}

/* orctl apply --server-side: the same server path, manager "orctl"; and
 * plain orctl apply (client-side) keeps working beside it. */
TEST_T(orctl_apply_server_side, 90)
{
    start_one();
    char *one = cm_yaml("one.yaml", "one"), *two = cm_yaml("two.yaml", "two"), *out, *err;
    CHECK_INT(run_orctl(&c, &out, &err, "apply", "--server-side", "-f", one, NULL), ==, 0);
    CHECK_STR(out, "configmap/cfg serverside-applied\n");
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "apply", "--server-side", "--field-manager=ci", "-f", two,
                        NULL), ==, 1);
    CHECK_HAS(err, "Apply failed with 1 conflict: conflict with \"orctl\": .data.mode");
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "apply", "--server-side", "--field-manager=ci",
                        "--force-conflicts", "-f", two, NULL), ==, 0);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "get", "cm", "cfg", "-o", "yaml", NULL), ==, 0);
    CHECK_HAS(out, "mode: two");
    CHECK(strstr(out, "managedFields") == NULL);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "get", "cm", "cfg", "-o", "yaml", "--show-managed-fields",
                        NULL), ==, 0);
    CHECK_HAS(out, "manager: ci");
    free(out);
    free(err);
    /* Client-side apply over it: a merge patch, recorded as an Update. */
    CHECK_INT(run_orctl(&c, &out, &err, "apply", "-f", one, NULL), ==, 0);
    CHECK_STR(out, "configmap/cfg configured\n");
    free(out);
    free(err);
    CHECK_INT(run_orctl(&c, &out, &err, "apply", "-f", one, NULL), ==, 0);
    CHECK_STR(out, "configmap/cfg unchanged\n");
    free(out);
    free(err);
    free(one);
    free(two);
}

/* A client may reset managedFields ([{}]); a patch records its manager. */
TEST_T(managed_fields_reset_and_update_entries, 90)
{
    if (!have_kubectl()) return;
    start_one();
    char *one = cm_yaml("one.yaml", "one");
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", one);
    KUBECTL_OK("patch", "cm", "cfg", "--type=merge", "-p", "{\"data\":{\"extra\":\"x\"}}");
    json_t *cm = get_json("cm/cfg");
    json_t *e = entry(cm, "kubectl-patch", "Update");
    CHECKF(e != NULL, "no Update entry for kubectl-patch");
    CHECK(json_object_get(orc_json_get(orc_json_get(e, "fieldsV1"), "f:data"), "f:extra") != NULL);
    CHECK(entry(cm, "kubectl", "Apply") != NULL);
    json_decref(cm);
    KUBECTL_OK("patch", "cm", "cfg", "--type=merge", "-p", "{\"metadata\":{\"managedFields\":[{}]}}");
    cm = get_json("cm/cfg");
    CHECK(orc_json_get(cm, "metadata.managedFields") == NULL);
    CHECK_STR(orc_json_str(cm, "data.mode"), "one");
    json_decref(cm);
    free(one);
}

/* Apply to the status subresource owns only status, as subresource status. */
TEST_T(server_side_apply_of_status, 90)
{
    if (!have_kubectl()) return;
    start_one();
    char *ns = manifest("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n"
                                   "  labels: {team: a}\n");
    char *st = manifest("st.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"
                                   "status:\n  conditions:\n  - type: Audited\n"
                                   "    status: \"True\"\n    reason: Checked\n");
    KUBECTL_OK("apply", "--server-side", "--validate=false", "-f", ns);
    KUBECTL_OK("apply", "--server-side", "--validate=false", "--subresource=status",
               "--field-manager=auditor", "-f", st);
    json_t *n = get_json("ns/team");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(n, "status.conditions"), 0), "reason"),
              "Checked");
    CHECK_STR(orc_json_str(n, "status.phase"), "Active");
    json_t *e = entry(n, "auditor", "Apply");
    CHECKF(e != NULL, "no Apply entry for auditor");
    CHECK_STR(orc_json_str(e, "subresource"), "status");
    CHECK(json_object_get(orc_json_get(orc_json_get(e, "fieldsV1"), "f:status.f:conditions"),
                          "k:{\"type\":\"Audited\"}") != NULL);
    CHECK(json_object_get(orc_json_get(e, "fieldsV1"), "f:metadata") == NULL);
    json_decref(n);
    free(ns);
    free(st);
}
