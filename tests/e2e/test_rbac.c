/* test_rbac.c — RBAC against a real `orcd server`, with stock kubectl as
 * other users through impersonation (--as, --as-group: the admin's
 * credential, allowed to impersonate as system:masters): the default roles
 * and their aggregation, denials worded as Kubernetes words them, rule
 * shapes through real bindings, escalation refused and allowed with
 * escalate/bind, `kubectl auth can-i` and `--list`, SubjectAccessReview. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static void start_one(void) { run_start_one(&c); }

static int kubectl(char **out, char **err, const char *const *words)
{
    return run_kubectl(&c, out, err, words);
}

#define K(rc, ...) run_kubectl_rc(&c, rc, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define K_OK(...) free(K(0, __VA_ARGS__))

/* stderr of a kubectl that must fail. */
static char *k_fails(const char *const *words)
{
    char *out = NULL, *err = NULL;
    int rc = kubectl(&out, &err, words);
    CHECKF(rc != 0, "kubectl %s %s succeeded:\n%s", words[0], words[1], out);
    free(out);
    return err;
}
#define K_ERR(...) k_fails((const char *const[]){__VA_ARGS__, NULL})

/* `kubectl auth can-i` as user: "yes" or "no". */
static bool can_i(const char *user, const char *verb, const char *what, const char *ns)
{
    char *out = NULL, *err = NULL;
    const char *w[] = {"auth", "can-i", verb, what, "--as", user, "-n", ns ? ns : "default", NULL};
    kubectl(&out, &err, w);
    bool yes = strncmp(out, "yes", 3) == 0;
    CHECKF(yes || strncmp(out, "no", 2) == 0, "can-i %s %s: %s%s", verb, what, out, err);
    free(out);
    free(err);
    return yes;
}

static void apply(const char *yaml)
{
    char path[600];
    snprintf(path, sizeof path, "%s/m-%d.yaml", test_tmpdir(), rand());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(yaml, f);
    fclose(f);
    K_OK("apply", "-f", path);
}

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

static bool wait_role_has(const char *role, const char *resource, bool want)
{
    for (int i = 0; i < 100; i++) {
        if (role_has_resource(role, resource) == want) return true;
        test_sleep_ms(100);
    }
    return false;
}

TEST_T(default_roles_exist_and_aggregate, 60)
{
    start_one();
    json_t *ca = get_json("clusterrole", "cluster-admin");
    CHECK(json_is_object(json_object_get(json_object_get(ca, "metadata"), "labels")));
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(ca, "metadata"), "labels"), "kubernetes.io/bootstrapping")),
              "rbac-defaults");
    json_decref(ca);
    json_t *crb = get_json("clusterrolebinding", "cluster-admin");
    CHECK_STR(orc_json_str(crb, "roleRef.name"), "cluster-admin");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(crb, "subjects"), 0), "name")),
              "system:masters");
    json_decref(crb);
    static const char *const names[] = {"admin", "edit", "view", "system:basic-user", "system:discovery",
                                        "system:public-info-viewer", "system:node",
                                        "system:kube-scheduler", "system:kube-controller-manager"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(names); i++) free(K(0, "get", "clusterrole", names[i]));

    /* view <- system:aggregate-to-view; edit <- view; admin <- edit. */
    CHECK(wait_role_has("view", "pods", true));
    CHECK(!role_has_resource("view", "secrets"));
    CHECK(wait_role_has("edit", "secrets", true));
    CHECK(wait_role_has("edit", "pods/log", true)); /* view's, through edit */
    CHECK(wait_role_has("admin", "rolebindings", true));
    CHECK(wait_role_has("admin", "pods/log", true));

    /* A new ClusterRole labelled for view joins view, and edit and admin
     * after it; removing it takes its rules away again. */
    apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: widgets-view\n"
          "  labels: {rbac.authorization.k8s.io/aggregate-to-view: \"true\"}\n"
          "rules:\n- {apiGroups: [example.com], resources: [widgets], verbs: [get, list, watch]}\n");
    CHECK(wait_role_has("view", "widgets", true));
    CHECK(wait_role_has("edit", "widgets", true));
    CHECK(wait_role_has("admin", "widgets", true));
    K_OK("delete", "clusterrole", "widgets-view");
    CHECK(wait_role_has("view", "widgets", false));
    CHECK(wait_role_has("admin", "widgets", false));
}

TEST_T(denials_are_403_in_kubernetes_words, 60)
{
    start_one();
    char *err = K_ERR("get", "pods", "--as", "alice");
    CHECK_HAS(err, "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list "
                   "resource \"pods\" in API group \"\" in the namespace \"default\"");
    free(err);
    err = K_ERR("get", "nodes", "--as", "alice", "--as-group", "devs");
    CHECK_HAS(err, "nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group "
                   "\"\" at the cluster scope");
    free(err);
    err = K_ERR("get", "deployments.apps", "web", "-n", "team", "--as", "alice");
    CHECK_HAS(err, "deployments.apps \"web\" is forbidden: User \"alice\" cannot get resource "
                   "\"deployments\" in API group \"apps\" in the namespace \"team\"");
    free(err);
    err = K_ERR("get", "--raw", "/metrics", "--as", "alice");
    CHECK_HAS(err, "forbidden: User \"alice\" cannot get path \"/metrics\"");
    free(err);
    /* An unknown path is 404 only for whoever may look (the admin). */
    err = K_ERR("get", "--raw", "/nosuchpath");
    CHECK_HAS(err, "NotFound");
    free(err);
    /* Discovery and health are every authenticated user's. */
    free(K(0, "api-versions", "--as", "alice"));
    free(K(0, "get", "--raw", "/healthz", "--as", "alice"));
    free(K(0, "get", "--raw", "/version", "--as", "alice"));
}

TEST_T(bindings_grant_by_user_group_and_rule_shape, 60)
{
    start_one();
    K_OK("create", "namespace", "team");
    K_OK("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team");
    free(K(0, "get", "pods", "-n", "team", "--as", "alice"));
    CHECK(can_i("alice", "list", "pods", "team"));
    CHECK(can_i("alice", "watch", "deployments.apps", "team"));
    CHECK(can_i("alice", "list", "events.events.k8s.io", "team")); /* as Kubernetes 1.35's view */
    CHECK(!can_i("alice", "list", "pods", "default"));
    CHECK(!can_i("alice", "create", "pods", "team"));
    CHECK(!can_i("alice", "get", "secrets", "team"));

    /* A group subject. */
    K_OK("create", "rolebinding", "devs-edit", "--clusterrole=edit", "--group=devs", "-n", "team");
    CHECK(!can_i("bob", "create", "pods", "team"));
    char *out = K(0, "auth", "can-i", "create", "pods", "-n", "team", "--as", "bob", "--as-group", "devs");
    CHECK_HAS(out, "yes");
    free(out);

    /* resourceNames and a subresource. */
    apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: one-cm, namespace: team}\n"
          "rules:\n- {apiGroups: [\"\"], resources: [configmaps], resourceNames: [a], verbs: [get]}\n"
          "- {apiGroups: [\"\"], resources: [pods/log], verbs: [get]}\n"
          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
          "metadata: {name: carol-one-cm, namespace: team}\n"
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: one-cm}\n"
          "subjects:\n- {kind: User, name: carol}\n");
    K_OK("create", "configmap", "a", "-n", "team");
    K_OK("create", "configmap", "b", "-n", "team");
    free(K(0, "get", "configmap", "a", "-n", "team", "--as", "carol"));
    char *err = K_ERR("get", "configmap", "b", "-n", "team", "--as", "carol");
    CHECK_HAS(err, "configmaps \"b\" is forbidden: User \"carol\" cannot get resource \"configmaps\"");
    free(err);
    err = K_ERR("get", "configmaps", "-n", "team", "--as", "carol");
    CHECK_HAS(err, "cannot list resource \"configmaps\"");
    free(err);
    out = K(0, "auth", "can-i", "get", "pods", "--subresource=log", "-n", "team", "--as", "carol");
    CHECK_HAS(out, "yes");
    free(out);
    CHECK(!can_i("carol", "get", "pods", "team"));

    /* A ClusterRoleBinding of nonResourceURLs with a trailing '*'. */
    apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: metrics}\n"
          "rules:\n- {nonResourceURLs: [\"/metrics\", \"/logs/*\"], verbs: [get]}\n"
          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: dave-metrics}\n"
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}\n"
          "subjects:\n- {kind: User, name: dave}\n");
    /* allowed, then served */
    CHECK_HAS(out = K(0, "get", "--raw", "/metrics", "--as", "dave"), "# TYPE apiserver_request_total counter");
    free(out);
    err = K_ERR("get", "--raw", "/logs/x", "--as", "dave");
    CHECK_HAS(err, "NotFound");
    free(err);
    err = K_ERR("get", "--raw", "/logsx", "--as", "dave");
    CHECK_HAS(err, "cannot get path \"/logsx\"");
    free(err);
    /* Deleting the binding takes the grant away. */
    K_OK("delete", "rolebinding", "alice-view", "-n", "team");
    CHECK(!can_i("alice", "list", "pods", "team"));
}

TEST_T(escalation_is_refused_unless_held_or_escalate_and_bind, 60)
{
    start_one();
    K_OK("create", "namespace", "team");
    K_OK("create", "rolebinding", "alice-admin", "--clusterrole=admin", "--user=alice", "-n", "team");
    CHECK(wait_role_has("admin", "roles", true));
    /* Rules alice holds in team: fine. */
    K_OK("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", "team", "--as", "alice");
    /* Rules she does not hold. */
    char *err = K_ERR("create", "role", "node-reader", "--verb=get,list", "--resource=nodes", "-n", "team",
                      "--as", "alice");
    CHECK_HAS(err, "roles.rbac.authorization.k8s.io \"node-reader\" is forbidden: user \"alice\" "
                   "(groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not "
                   "currently held:\n{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\" \"list\"]}");
    free(err);
    /* Binding a role with more than she holds. */
    err = K_ERR("create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--user=alice", "-n", "team",
                "--as", "alice");
    CHECK_HAS(err, "rolebindings.rbac.authorization.k8s.io \"grab\" is forbidden: user \"alice\"");
    CHECK_HAS(err, "{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}");
    free(err);
    /* Binding what she holds: fine. */
    K_OK("create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob", "-n", "team", "--as", "alice");

    /* escalate on roles lets her write any Role; bind on cluster-admin
     * lets her bind it. */
    apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: escalator, namespace: team}\n"
          "rules:\n- {apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [escalate]}\n"
          "- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], resourceNames: [cluster-admin], verbs: [bind]}\n"
          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
          "metadata: {name: alice-escalator, namespace: team}\n"
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: escalator}\n"
          "subjects:\n- {kind: User, name: alice}\n");
    K_OK("create", "role", "node-reader", "--verb=get,list", "--resource=nodes", "-n", "team", "--as", "alice");
    K_OK("create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--user=alice", "-n", "team",
         "--as", "alice");
    /* She now holds cluster-admin in team, and only there. */
    CHECK(can_i("alice", "delete", "secrets", "team"));
    CHECK(!can_i("alice", "delete", "secrets", "default"));
    /* Cluster-wide writes stay out of reach. */
    err = K_ERR("create", "clusterrole", "mine", "--verb=get", "--resource=pods", "--as", "alice");
    CHECK_HAS(err, "clusterroles.rbac.authorization.k8s.io is forbidden: User \"alice\" cannot create "
                   "resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope");
    free(err);

    /* Allowed to create ClusterRoles: only with rules she holds, and an
     * aggregationRule needs cluster-admin. */
    apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr-writer}\n"
          "rules:\n- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [create]}\n"
          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: alice-cr-writer}\n"
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cr-writer}\n"
          "subjects:\n- {kind: User, name: alice}\n");
    K_OK("create", "clusterrole", "mine", "--verb=create", "--resource=clusterroles.rbac.authorization.k8s.io",
         "--as", "alice");
    err = K_ERR("create", "clusterrole", "mine2", "--verb=get", "--resource=pods", "--as", "alice");
    CHECK_HAS(err, "clusterroles.rbac.authorization.k8s.io \"mine2\" is forbidden: user \"alice\"");
    CHECK_HAS(err, "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}");
    free(err);
    err = K_ERR("create", "clusterrole", "agg", "--aggregation-rule=team=x", "--as", "alice");
    CHECK_HAS(err, "clusterroles.rbac.authorization.k8s.io \"agg\" is forbidden: must have cluster-admin "
                   "privileges to use the aggregationRule");
    free(err);
}

TEST_T(can_i_list_and_subject_access_review, 60)
{
    start_one();
    K_OK("create", "namespace", "team");
    K_OK("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "team");
    CHECK(wait_role_has("view", "pods", true));
    char *out = K(0, "auth", "can-i", "--list", "-n", "team", "--as", "alice");
    CHECK_HAS(out, "selfsubjectaccessreviews.authorization.k8s.io");
    CHECK_HAS(out, "[/api/*]");
    CHECK_HAS(out, "pods ");
    CHECK_HAS(out, "[get list watch]");
    CHECK_LACKS(out, "secrets");
    free(out);
    out = K(0, "auth", "can-i", "--list", "-n", "default", "--as", "alice");
    CHECK_LACKS(out, "pods ");
    free(out);
    /* kubectl auth can-i exits 1 for no. */
    out = K(1, "auth", "can-i", "delete", "pods", "-n", "team", "--as", "alice");
    CHECK_HAS(out, "no");
    free(out);
    out = K(0, "auth", "can-i", "get", "/healthz", "--as", "alice");
    CHECK_HAS(out, "yes");
    free(out);

    /* The admin asks about someone else. */
    int st = 0;
    json_t *r = t_json(&c, 0, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                       "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\","
                       "\"spec\":{\"user\":\"alice\",\"resourceAttributes\":{\"namespace\":\"team\","
                       "\"verb\":\"list\",\"resource\":\"pods\"}}}",
                       &st);
    CHECK_INT(st, ==, 201);
    CHECK(json_is_true(orc_json_get(r, "status.allowed")));
    CHECK_HAS(orc_json_str(r, "status.reason"), "RoleBinding \"alice-view/team\" of ClusterRole \"view\"");
    json_decref(r);
    r = t_json(&c, 0, "POST", "/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews",
               "{\"spec\":{\"user\":\"alice\",\"resourceAttributes\":{\"namespace\":\"default\","
               "\"verb\":\"list\",\"resource\":\"pods\"}}}",
               &st);
    CHECK_INT(st, ==, 201);
    CHECK(!json_is_true(orc_json_get(r, "status.allowed")));
    json_decref(r);
    r = t_json(&c, 0, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
               "{\"spec\":{\"user\":\"alice\"}}", &st);
    CHECK_INT(st, ==, 422);
    json_decref(r);
}

static int orctl(char **out, const char *const *words)
{
    char *err = NULL;
    const char *argv[RUN_MAX_ARGS];
    int n = 0, rc;

    argv[n++] = t_bin("orctl");
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    rc = run_prog(c.home, NULL, out, &err, argv);
    free(err);
    return rc;
}
#define ORCTL(out, ...) orctl(out, (const char *const[]){__VA_ARGS__, NULL})

TEST_T(orctl_auth_can_i_and_as, 60)
{
    char *out = NULL;

    start_one();
    K_OK("create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice", "-n", "default");
    CHECK(wait_role_has("view", "pods", true));
    CHECK_INT(ORCTL(&out, "auth", "can-i", "list", "pods", "--as", "alice"), ==, 0);
    CHECK_STR(out, "yes\n");
    free(out);
    CHECK_INT(ORCTL(&out, "auth", "can-i", "list", "pods", "-n", "kube-system", "--as", "alice"), ==, 1);
    CHECK_STR(out, "no\n");
    free(out);
    CHECK_INT(ORCTL(&out, "auth", "can-i", "get", "pods", "--subresource=log", "--as", "alice"), ==, 0);
    free(out);
    CHECK_INT(ORCTL(&out, "auth", "can-i", "get", "/metrics", "--as", "alice"), ==, 1);
    free(out);
    CHECK_INT(ORCTL(&out, "auth", "can-i", "delete", "nodes"), ==, 0); /* the admin */
    free(out);
    CHECK_INT(ORCTL(&out, "auth", "can-i", "--list", "--as", "alice"), ==, 0);
    CHECK_HAS(out, "Resources");
    CHECK_HAS(out, "pods ");
    CHECK_HAS(out, "[get list watch]");
    free(out);
    /* --as on other commands: alice's view of the world. */
    CHECK_INT(ORCTL(&out, "get", "pods", "-n", "kube-system", "--as", "alice"), !=, 0);
    free(out);
    CHECK_INT(ORCTL(&out, "get", "pods", "--as", "alice"), ==, 0);
    free(out);
    CHECK_INT(ORCTL(&out, "get", "pods", "-n", "kube-system", "--as", "alice", "--as-group", "system:masters"), ==, 0);
    free(out);
}
