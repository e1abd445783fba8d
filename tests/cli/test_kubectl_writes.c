/* test_kubectl_writes.c — stock kubectl against a real `orcd server`, for
 * the writes kubectl builds itself: apply's three-way strategic merge
 * patch, set image, patch --type=strategic, and --dry-run=server on
 * create, apply and delete, and expose. (Written before orc served OpenAPI, so kubectl runs
 * with --validate=false.) Server-side apply: test_kubectl_ssa.c. */
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

/* kubectl with the member's admin.conf; checks the exit status, returns
 * stdout (free it). */
static char *kubectl(int want_rc, const char *const *words)
{
    return run_kubectl_rc(&c, want_rc, NULL, words);
}

#define KUBECTL(rc, ...) kubectl(rc, (const char *const[]){__VA_ARGS__, NULL})

static void kubectl_ok(const char *const *words)
{
    free(kubectl(0, words));
}

#define KUBECTL_OK(...) kubectl_ok((const char *const[]){__VA_ARGS__, NULL})

static char *manifest(const char *name, const char *text)
{
    char *path = NULL;

    CHECK(asprintf(&path, "%s/%s", test_tmpdir(), name) > 0);
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    return path;
}

/* The Deployment of the issue: app (ports, env) and a sidecar. */
static char *two_yaml(const char *image, bool sidecar)
{
    char *text = NULL, *path;

    CHECK(asprintf(&text,
                   "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: two\nspec:\n"
                   "  replicas: 1\n  selector:\n    matchLabels: {app: two}\n  template:\n"
                   "    metadata:\n      labels: {app: two}\n    spec:\n      containers:\n"
                   "      - name: app\n        image: %s\n        ports:\n        - containerPort: 80\n"
                   "        env:\n        - {name: MODE, value: prod}\n%s",
                   image, sidecar ? "      - name: sidecar\n        image: busybox:1.36\n" : "") > 0);
    path = manifest("two.yaml", text);
    free(text);
    return path;
}

static json_t *get_json(const char *what)
{
    char *out = KUBECTL(0, "get", what, "-o", "json");
    json_t *j = json_loads(out, 0, NULL);
    CHECKF(j != NULL, "not JSON: %s", out);
    free(out);
    return j;
}

static json_t *container(json_t *deploy, const char *name)
{
    size_t i;
    json_t *ct;

    json_array_foreach(orc_json_get(deploy, "spec.template.spec.containers"), i, ct)
        if (strcmp(orc_json_str(ct, "name"), name) == 0) return ct;
    return NULL;
}

static void check_app(json_t *d, const char *image)
{
    json_t *app = container(d, "app");
    char *text = json_dumps(orc_json_get(d, "spec.template.spec"), JSON_COMPACT);
    CHECKF(app != NULL, "no container app: %s", text);
    CHECKF(json_array_size(orc_json_get(app, "env")) == 1, "env lost: %s", text);
    free(text);
    CHECK_STR(orc_json_str(app, "image"), image);
    CHECK_INT(json_array_size(orc_json_get(app, "ports")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(app, "env"), 0), "value"), "prod");
}

TEST_T(kubectl_apply_set_image_and_patch_keep_list_items, 120)
{
    if (!have_kubectl()) return;
    start_one();
    char *path = two_yaml("nginx:1.25", true);
    free(KUBECTL(0, "apply", "--validate=false", "-f", path));
    free(path);
    /* A changed image: the container keeps its ports and env. */
    path = two_yaml("nginx:1.26", true);
    char *out = KUBECTL(0, "apply", "--validate=false", "-f", path);
    CHECK_STR(out, "deployment.apps/two configured\n");
    free(out);
    free(path);
    json_t *d = get_json("deploy/two");
    check_app(d, "nginx:1.26");
    CHECK(container(d, "sidecar") != NULL);
    json_decref(d);
    /* set image changes one container and keeps the other. */
    KUBECTL_OK("set", "image", "deploy/two", "app=nginx:1.27");
    d = get_json("deploy/two");
    check_app(d, "nginx:1.27");
    CHECK_STR(orc_json_str(container(d, "sidecar"), "image"), "busybox:1.36");
    json_decref(d);
    /* apply without the sidecar removes it. */
    path = two_yaml("nginx:1.27", false);
    free(KUBECTL(0, "apply", "--validate=false", "-f", path));
    free(path);
    d = get_json("deploy/two");
    check_app(d, "nginx:1.27");
    CHECK(container(d, "sidecar") == NULL);
    json_decref(d);
    /* patch --type=strategic with $patch: delete, by merge key. */
    KUBECTL_OK("patch", "deploy/two", "--type=strategic", "-p",
               "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"env\":"
               "[{\"name\":\"MODE\",\"$patch\":\"delete\"}]}]}}}}");
    d = get_json("deploy/two");
    json_t *app = container(d, "app");
    CHECK_INT(json_array_size(orc_json_get(app, "env")), ==, 0);
    CHECK_INT(json_array_size(orc_json_get(app, "ports")), ==, 1);
    json_decref(d);
}

TEST_T(kubectl_dry_run_server_changes_nothing, 120)
{
    if (!have_kubectl()) return;
    start_one();
    char *x = manifest("x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
                                 "data: {a: '1'}\n");
    char *y = manifest("y.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: why}\n"
                                 "data: {a: '1'}\n");
    free(KUBECTL(0, "create", "--validate=false", "-f", x));
    long long rev = member_revision(&c, 0);
    /* delete: kubectl sends the dry run in the DeleteOptions body. */
    char *out = KUBECTL(0, "delete", "cm", "x", "--dry-run=server");
    CHECK_HAS(out, "deleted (server dry run)");
    free(out);
    free(KUBECTL(0, "get", "cm", "x"));
    /* create and apply. */
    free(KUBECTL(0, "create", "--validate=false", "--dry-run=server", "-f", y));
    free(KUBECTL(1, "get", "cm", "why"));
    free(KUBECTL(0, "apply", "--validate=false", "--dry-run=server", "-f", y));
    free(KUBECTL(1, "get", "cm", "why"));
    /* A dry run still runs the checks: x exists. */
    free(KUBECTL(1, "create", "--validate=false", "--dry-run=server", "-f", x));
    CHECK_INT(member_revision(&c, 0), ==, rev);
    /* Without the dry run the delete happens. */
    free(KUBECTL(0, "delete", "cm", "x"));
    free(KUBECTL(1, "get", "cm", "x"));
    free(x);
    free(y);
}

/* The walkthrough's `kubectl expose deployment/my-nginx`: kubectl reads the
 * Deployment and posts the Service it builds. */
TEST_T(kubectl_expose_makes_a_service, 90)
{
    if (!have_kubectl()) return;
    start_one();
    char *path = two_yaml("nginx:1.25", false);
    KUBECTL_OK("apply", "--validate=false", "-f", path);
    free(path);
    char *out = KUBECTL(0, "expose", "deployment/two");
    CHECK_STR(out, "service/two exposed\n");
    free(out);
    json_t *svc = get_json("service/two");
    CHECK_STR(orc_json_str(svc, "spec.selector.app"), "two");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(orc_json_get(svc, "spec.ports"), 0), "port")), ==, 80);
    CHECK(orc_json_str(svc, "spec.clusterIP") != NULL);
    json_decref(svc);
}
