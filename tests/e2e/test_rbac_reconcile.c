/* test_rbac_reconcile.c — the default ClusterRoles and bindings are
 * brought back to orc's defaults when the leader starts, as
 * kube-apiserver's RBAC bootstrap does: a system:node role left wide by an
 * older orc (here: edited to be) is narrowed and its missing rules come
 * back, a binding's subjects are restored, and a role whose autoupdate
 * annotation an administrator set to "false" keeps the edit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

#define K(rc, ...) run_kubectl_rc(&c, rc, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define K_OK(...) free(K(0, __VA_ARGS__))

static json_t *get_json(const char *kind, const char *name)
{
    char *out = K(0, "get", kind, name, "-o", "json");
    json_t *v = json_loads(out, 0, NULL);
    CHECKF(v != NULL, "not JSON: %s", out);
    free(out);
    return v;
}

static bool role_has_resource(const char *role, const char *resource)
{
    json_t *cr = get_json("clusterrole", role);
    size_t i, j;
    json_t *r, *res;
    bool found = false;

    json_array_foreach(json_object_get(cr, "rules"), i, r)
        json_array_foreach(json_object_get(r, "resources"), j, res)
            if (strcmp(json_string_value(res), resource) == 0) found = true;
    json_decref(cr);
    return found;
}

static bool binding_has_subject(const char *binding, const char *name)
{
    json_t *b = get_json("clusterrolebinding", binding);
    size_t i;
    json_t *s;
    bool found = false;

    json_array_foreach(json_object_get(b, "subjects"), i, s)
        if (strcmp(orc_json_str(s, "name") ?: "", name) == 0) found = true;
    json_decref(b);
    return found;
}

static void restart(void)
{
    member_stop(&c, 0);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 20000);
}

TEST_T(defaults_are_restored_unless_autoupdate_is_false, 60)
{
    run_start_one(&c);
    /* What an older orc made: system:node reading every Secret, and no
     * events; its binding naming someone else. */
    K_OK("patch", "clusterrole", "system:node", "--type=json", "-p",
         "[{\"op\":\"replace\",\"path\":\"/rules\",\"value\":["
         "{\"apiGroups\":[\"\"],\"resources\":[\"nodes\"],\"verbs\":[\"get\"]},"
         "{\"apiGroups\":[\"\"],\"resources\":[\"secrets\",\"configmaps\"],\"verbs\":[\"list\",\"watch\"]}]}]");
    K_OK("patch", "clusterrolebinding", "system:node", "--type=json", "-p",
         "[{\"op\":\"replace\",\"path\":\"/subjects\",\"value\":[{\"apiGroup\":\"rbac.authorization.k8s.io\","
         "\"kind\":\"User\",\"name\":\"someone\"}]}]");
    /* An administrator's own edit, protected. */
    K_OK("annotate", "--overwrite", "clusterrole", "system:kube-scheduler",
         "rbac.authorization.kubernetes.io/autoupdate=false");
    K_OK("patch", "clusterrole", "system:kube-scheduler", "--type=json", "-p",
         "[{\"op\":\"remove\",\"path\":\"/rules/1\"}]");
    CHECK(role_has_resource("system:node", "secrets"));
    CHECK(!role_has_resource("system:node", "events"));
    CHECK(!binding_has_subject("system:node", "system:nodes"));
    CHECK(!role_has_resource("system:kube-scheduler", "pods/binding"));

    restart();
    bool restored = false;
    for (int i = 0; i < 100 && !restored; i++) {
        restored = !role_has_resource("system:node", "secrets");
        if (!restored) test_sleep_ms(100);
    }
    CHECKF(restored, "system:node still lists secrets after the restart");
    CHECK(role_has_resource("system:node", "events"));
    CHECK(!role_has_resource("system:node", "configmaps"));
    CHECK(binding_has_subject("system:node", "system:nodes"));
    CHECK(binding_has_subject("system:node", "someone")); /* extra subjects stay, as in Kubernetes */
    CHECK(!role_has_resource("system:kube-scheduler", "pods/binding"));

    /* Once reconciled, a restart writes nothing. */
    json_t *before = get_json("clusterrole", "system:node");
    restart();
    test_sleep_ms(1500);
    json_t *after = get_json("clusterrole", "system:node");
    CHECK_STR(orc_json_str(after, "metadata.resourceVersion"), orc_json_str(before, "metadata.resourceVersion"));
    json_decref(before);
    json_decref(after);
    member_stop(&c, 0);
}
