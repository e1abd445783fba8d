/* test_set_image.c — `orctl set image`: the patch it decides (only the
 * containers whose image changes, init containers, "*", an unknown
 * container refused), then end to end against a real `orcd server` running
 * the Deployment controller: a Deployment rolls out to a new ReplicaSet
 * whose template has the new image, an unknown container changes nothing,
 * -l and --all pick every object they select, and a bare `--cascade` on
 * delete means background. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/jsq.h"
#include "tests/harness/test.h"

static void decref(void *arg)
{
    json_decref(arg);
}

static const char deploy_json[] =
    "{'kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{"
    "'initContainers':[{'name':'init','image':'busybox:1'}],"
    "'containers':[{'name':'app','image':'app:1'},{'name':'side','image':'proxy:1'}]}}}}";

static json_t *patch_for(const char *obj_text, char *const *pairs, size_t n, int want_rv, char *err)
{
    json_t *obj = js(obj_text), *patch = NULL;
    int rv = cli_set_image_patch(obj, pairs, n, &patch, err, 256);
    json_decref(obj);
    CHECK_INT(rv, ==, want_rv);
    if (patch) test_defer(decref, patch);
    return patch;
}

TEST(patch_names_only_changed_containers)
{
    char err[256] = "";
    char *pairs[] = {"app=app:2", "side=proxy:1"};
    json_t *p = patch_for(deploy_json, pairs, 2, 0, err);
    const json_t *cs = orc_json_get(p, "spec.template.spec.containers");

    CHECK_INT(json_array_size(cs), ==, 1); /* side already runs proxy:1 */
    CHECK_STR(orc_json_str(json_array_get(cs, 0), "name"), "app");
    CHECK_STR(orc_json_str(json_array_get(cs, 0), "image"), "app:2");
    CHECK(orc_json_get(p, "spec.template.spec.initContainers") == NULL);
    CHECK_INT(json_object_size(p), ==, 1); /* nothing else */
}

TEST(star_sets_every_container_init_included)
{
    char err[256] = "";
    char *pairs[] = {"*=all:9"};
    json_t *p = patch_for(deploy_json, pairs, 1, 0, err);

    CHECK_INT(json_array_size(orc_json_get(p, "spec.template.spec.containers")), ==, 2);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "spec.template.spec.initContainers"), 0),
                           "image"),
              "all:9");
    char *init[] = {"init=busybox:2"};
    p = patch_for(deploy_json, init, 1, 0, err);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "spec.template.spec.initContainers"), 0),
                           "name"),
              "init");
    CHECK(orc_json_get(p, "spec.template.spec.containers") == NULL);
}

TEST(unknown_container_or_bad_pair_is_refused)
{
    char err[256] = "";
    char *pairs[] = {"app=app:2", "nope=x:1"};
    CHECK(patch_for(deploy_json, pairs, 2, ORC_EINVAL, err) == NULL);
    CHECK_STR(err, "unable to find container named \"nope\"");
    char *bad[] = {"=x:1"};
    CHECK(patch_for(deploy_json, bad, 1, ORC_EINVAL, err) == NULL);
    CHECK(strstr(err, "invalid CONTAINER=IMAGE") != NULL);
    char *same[] = {"app=app:1"};
    CHECK(patch_for(deploy_json, same, 1, 0, err) == NULL); /* nothing to change */
}

TEST(pod_spec_paths_per_kind)
{
    char err[256] = "";
    char *pairs[] = {"c=i:2"};
    CHECK_STR(cli_pod_spec_path("Pod"), "spec");
    CHECK_STR(cli_pod_spec_path("DaemonSet"), "spec.template.spec");
    CHECK_STR(cli_pod_spec_path("CronJob"), "spec.jobTemplate.spec.template.spec");
    CHECK(cli_pod_spec_path("ConfigMap") == NULL);
    json_t *p = patch_for("{'kind':'CronJob','spec':{'jobTemplate':{'spec':{'template':{'spec':{"
                          "'containers':[{'name':'c','image':'i:1'}]}}}}}}",
                          pairs, 1, 0, err);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "spec.jobTemplate.spec.template.spec."
                                                          "containers"),
                                          0),
                           "image"),
              "i:2");
    p = patch_for("{'kind':'Pod','spec':{'containers':[{'name':'c','image':'i:1'}]}}", pairs, 1, 0,
                  err);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(p, "spec.containers"), 0), "image"), "i:2");
    CHECK(patch_for("{'kind':'ConfigMap','data':{}}", pairs, 1, ORC_EINVAL, err) == NULL);
}

/* ---- end to end ---- */

static struct cluster c;

static void start_one(void)
{
    static const char *const ctls[] = {"--controllers", "deployment,garbagecollector", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, ctls);
    member_wait_ready(&c, 0, 10000);
}

/* Runs orctl; checks its exit status; returns stdout, *err_out stderr (or
 * freed when NULL). */
static char *orctl(int want_rc, char **err_out, const char *arg, ...)
{
    char *out, *err;
    va_list ap;
    int rc;

    va_start(ap, arg);
    rc = run_orctl_v(c.home, NULL, &out, &err, arg, ap);
    va_end(ap);
    CHECKF(rc == want_rc, "orctl %s...: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", arg, rc,
           want_rc, out, err);
    if (err_out) *err_out = err;
    else free(err);
    return out;
}

static json_t *get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&c, 0, "GET", path, NULL, &status);
    CHECKF(status == 200, "GET %s: %d", path, status);
    return j;
}

/* The image of the first container of the ReplicaSet owned by Deployment
 * web whose template has `image`, waiting up to timeout_ms for it. */
static bool rs_with_image(const char *image, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    do {
        json_t *l = get("/apis/apps/v1/namespaces/default/replicasets"), *rs;
        size_t i;
        bool found = false;
        json_array_foreach (orc_json_get(l, "items"), i, rs) {
            const json_t *ref = json_array_get(orc_json_get(rs, "metadata.ownerReferences"), 0);
            const json_t *c0 = json_array_get(orc_json_get(rs, "spec.template.spec.containers"), 0);
            found = found || (ref && strcmp(orc_json_str(ref, "name") ?: "", "web") == 0
                              && strcmp(orc_json_str(c0, "image") ?: "", image) == 0);
        }
        json_decref(l);
        if (found) return true;
        test_sleep_ms(100);
    } while (test_now_ms() < end);
    return false;
}

TEST_T(set_image_rolls_a_deployment_out_and_refuses_unknown_containers, 90)
{
    char *err = NULL, *out;

    start_one();
    free(orctl(0, NULL, "create", "deployment", "web", "--image=nginx:1.25", "--replicas=0", NULL));
    CHECKF(rs_with_image("nginx:1.25", 20000), "no ReplicaSet for the first template");

    out = orctl(0, NULL, "set", "image", "deployment/web", "nginx=nginx:1.26", NULL);
    CHECK_STR(out, "deployment.apps/web image updated\n");
    free(out);
    CHECKF(rs_with_image("nginx:1.26", 20000), "no ReplicaSet with the new image");
    json_t *d = get("/apis/apps/v1/namespaces/default/deployments/web");
    int64_t gen = json_integer_value(orc_json_get(d, "metadata.generation"));
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(d, "spec.template.spec.containers"), 0), "image"),
              "nginx:1.26");
    json_decref(d);

    /* Unknown container: an error naming it, exit 1, nothing changed. */
    out = orctl(1, &err, "set", "image", "deploy", "web", "nginx=nginx:9", "ghost=x:1", NULL);
    CHECK_STR(out, "");
    CHECKF(strstr(err, "unable to find container named \"ghost\"") != NULL, "stderr: %s", err);
    free(out);
    free(err);
    d = get("/apis/apps/v1/namespaces/default/deployments/web");
    CHECK_INT(json_integer_value(orc_json_get(d, "metadata.generation")), ==, gen);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(d, "spec.template.spec.containers"), 0), "image"),
              "nginx:1.26");
    json_decref(d);

    /* The same image again changes nothing and prints nothing (kubectl). */
    out = orctl(0, NULL, "-n", "default", "set", "image", "deploy/web", "*=nginx:1.26", NULL);
    CHECK_STR(out, "");
    free(out);
    out = orctl(1, &err, "set", "image", "deploy/ghost", "nginx=nginx:1", NULL);
    CHECKF(strstr(err, "NotFound") != NULL, "stderr: %s", err);
    free(out);
    free(err);

    /* -l and --all: every Deployment they pick; unchanged ones silently. */
    free(orctl(0, NULL, "create", "deployment", "web2", "--image=busybox:1", "--replicas=0", NULL));
    out = orctl(0, NULL, "set", "image", "deploy", "-l", "app=web2", "busybox=busybox:2", NULL);
    CHECK_STR(out, "deployment.apps/web2 image updated\n");
    free(out);
    out = orctl(0, NULL, "set", "image", "deployments", "--all", "*=nginx:1.26", NULL);
    CHECK_STR(out, "deployment.apps/web2 image updated\n");
    free(out);
    free(orctl(2, NULL, "set", "image", "deploy", "web", "-l", "app=web", "nginx=nginx:1", NULL));
    free(orctl(2, NULL, "set", "image", "deploy", "nginx=nginx:1", NULL));

    /* A bare --cascade is background; the next word stays a name. */
    out = orctl(0, NULL, "delete", "deploy", "--cascade", "web", NULL);
    CHECK_STR(out, "deployment.apps \"web\" deleted\n");
    free(out);
}
