/* test_rbac_match.c — the pure parts of authorization: a request's
 * attributes as Kubernetes' RequestInfoFactory reads them, every rule shape
 * allowed and denied, subjects, the 403 wording, and impersonation's
 * checks (apiserver/rbac_match.c, authz.c). */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/rbac.h"
#include "lib/httpd.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static struct rbac_attrs attrs(int method, const char *target)
{
    struct rbac_attrs a;
    CHECK(rbac_attrs_from_request(method, target, &a) == 0);
    return a;
}

#define CHECK_ATTRS(a, verb_, group_, res_, sub_, ns_, name_)                   \
    do {                                                                      \
        CHECK((a).resource_request);                                          \
        CHECK_STR((a).verb, verb_);                                           \
        CHECK_STR((a).group, group_);                                         \
        CHECK_STR((a).resource, res_);                                        \
        CHECK_STR((a).sub, sub_);                                             \
        CHECK_STR((a).ns, ns_);                                               \
        CHECK_STR((a).name, name_);                                           \
    } while (0)

TEST(request_attributes_as_kubernetes_reads_them)
{
    struct rbac_attrs a = attrs(HTTP_GET, "/api/v1/namespaces/default/pods");
    CHECK_ATTRS(a, "list", "", "pods", "", "default", "");
    a = attrs(HTTP_GET, "/api/v1/namespaces/default/pods?watch=true&resourceVersion=5");
    CHECK_ATTRS(a, "watch", "", "pods", "", "default", "");
    a = attrs(HTTP_GET, "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dweb");
    CHECK_ATTRS(a, "list", "", "pods", "", "default", "web");
    a = attrs(HTTP_GET, "/api/v1/namespaces/default/pods/web");
    CHECK_ATTRS(a, "get", "", "pods", "", "default", "web");
    a = attrs(HTTP_GET, "/api/v1/namespaces/default/pods/web/log");
    CHECK_ATTRS(a, "get", "", "pods", "log", "default", "web");
    a = attrs(HTTP_GET, "/api/v1/namespaces/default/pods/web/exec?command=sh");
    CHECK_ATTRS(a, "create", "", "pods", "exec", "default", "web");
    a = attrs(HTTP_POST, "/apis/apps/v1/namespaces/ns1/deployments");
    CHECK_ATTRS(a, "create", "apps", "deployments", "", "ns1", "");
    a = attrs(HTTP_PUT, "/apis/apps/v1/namespaces/ns1/deployments/web/scale");
    CHECK_ATTRS(a, "update", "apps", "deployments", "scale", "ns1", "web");
    a = attrs(HTTP_PATCH, "/api/v1/nodes/n1/status");
    CHECK_ATTRS(a, "patch", "", "nodes", "status", "", "n1");
    a = attrs(HTTP_DELETE, "/api/v1/namespaces/x/configmaps");
    CHECK_ATTRS(a, "deletecollection", "", "configmaps", "", "x", "");
    a = attrs(HTTP_DELETE, "/api/v1/namespaces/x/configmaps/c");
    CHECK_ATTRS(a, "delete", "", "configmaps", "", "x", "c");
    /* A namespace is its own namespace; its status and finalize too. */
    a = attrs(HTTP_GET, "/api/v1/namespaces/team");
    CHECK_ATTRS(a, "get", "", "namespaces", "", "team", "team");
    a = attrs(HTTP_PUT, "/api/v1/namespaces/team/finalize");
    CHECK_ATTRS(a, "update", "", "namespaces", "finalize", "team", "team");
    a = attrs(HTTP_GET, "/api/v1/namespaces");
    CHECK_ATTRS(a, "list", "", "namespaces", "", "", "");
    /* Discovery, OpenAPI and anything else: paths. */
    static const char *const paths[] = {"/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1",
                                        "/openapi/v2", "/metrics", "/"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(paths); i++) {
        a = attrs(HTTP_GET, paths[i]);
        CHECKF(!a.resource_request, "%s is a resource request", paths[i]);
        CHECK_STR(a.verb, "get");
        CHECK_STR(a.path, paths[i]);
    }
    a = attrs(HTTP_POST, "/logs?x=1");
    CHECK_STR(a.verb, "post");
    CHECK_STR(a.path, "/logs");
}

static json_t *rule(const char *text)
{
    json_t *r = json_loads(text, 0, NULL);
    CHECKF(r != NULL, "bad rule %s", text);
    return r;
}

static bool allows(const char *rule_text, int method, const char *target)
{
    json_t *r = rule(rule_text);
    struct rbac_attrs a = attrs(method, target);
    bool ok = rbac_rule_allows(r, &a);
    json_decref(r);
    return ok;
}

#define PODS "/api/v1/namespaces/default/pods"

TEST(every_rule_shape_allows_and_denies)
{
    /* verbs */
    CHECK(allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", HTTP_GET, PODS));
    CHECK(!allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", HTTP_GET, PODS));
    CHECK(allows("{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", HTTP_DELETE, PODS));
    /* apiGroups */
    CHECK(!allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"apps\"],\"resources\":[\"pods\"]}", HTTP_GET, PODS));
    CHECK(allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"*\"],\"resources\":[\"pods\"]}", HTTP_GET, PODS));
    CHECK(allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"apps\"],\"resources\":[\"deployments\"]}",
                 HTTP_GET, "/apis/apps/v1/deployments"));
    CHECK(!allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"deployments\"]}",
                  HTTP_GET, "/apis/apps/v1/deployments"));
    /* resources, subresources, wildcards */
    CHECK(!allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"secrets\"]}", HTTP_GET, PODS));
    CHECK(allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"*\"]}", HTTP_GET, PODS));
    CHECK(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}", HTTP_GET, PODS "/w/log"));
    CHECK(!allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", HTTP_GET, PODS "/w/log"));
    CHECK(!allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}", HTTP_GET, PODS "/w"));
    CHECK(allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}",
                 HTTP_PUT, "/apis/apps/v1/namespaces/d/deployments/w/scale"));
    CHECK(!allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}",
                  HTTP_PUT, "/apis/apps/v1/namespaces/d/deployments/w/status"));
    CHECK(!allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}",
                  HTTP_PUT, "/apis/apps/v1/namespaces/d/deployments/w"));
    CHECK(allows("{\"verbs\":[\"create\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/exec\"]}",
                 HTTP_GET, PODS "/w/exec?command=ls"));
    /* resourceNames */
    CHECK(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\",\"w\"]}",
                 HTTP_GET, PODS "/w"));
    CHECK(!allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"a\"]}",
                  HTTP_GET, PODS "/w"));
    CHECK(!allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"w\"]}",
                  HTTP_GET, PODS));
    CHECK(allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"resourceNames\":[\"w\"]}",
                 HTTP_GET, PODS "?fieldSelector=metadata.name=w"));
    /* nonResourceURLs, exact and trailing '*' */
    CHECK(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\"]}", HTTP_GET, "/metrics"));
    CHECK(!allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\"]}", HTTP_GET, "/metrics/x"));
    CHECK(!allows("{\"verbs\":[\"post\"],\"nonResourceURLs\":[\"/metrics\"]}", HTTP_GET, "/metrics"));
    CHECK(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/apis/*\"]}", HTTP_GET, "/apis/apps/v1"));
    CHECK(!allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/apis/*\"]}", HTTP_GET, "/apis"));
    CHECK(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"*\"]}", HTTP_GET, "/anything"));
    /* a resource rule never allows a path, nor a path rule a resource */
    CHECK(!allows("{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}", HTTP_GET, "/metrics"));
    CHECK(!allows("{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}", HTTP_GET, PODS));
}

TEST(subjects_name_users_groups_and_service_accounts)
{
    static const char *const groups[] = {"devs", NULL};
    struct api_user *u = api_user_new("alice", groups);
    struct api_user *sa = api_user_new("system:serviceaccount:team:bot", NULL);
    json_t *s;

    CHECK(u && sa);
    s = rule("{\"kind\":\"User\",\"name\":\"alice\"}");
    CHECK(rbac_subject_matches(s, u, ""));
    CHECK(!rbac_subject_matches(s, sa, ""));
    json_decref(s);
    s = rule("{\"kind\":\"Group\",\"name\":\"devs\"}");
    CHECK(rbac_subject_matches(s, u, "x"));
    json_decref(s);
    s = rule("{\"kind\":\"Group\",\"name\":\"system:authenticated\"}");
    CHECK(rbac_subject_matches(s, sa, "x"));
    json_decref(s);
    s = rule("{\"kind\":\"ServiceAccount\",\"name\":\"bot\"}"); /* the binding's namespace */
    CHECK(rbac_subject_matches(s, sa, "team"));
    CHECK(!rbac_subject_matches(s, sa, "other"));
    json_decref(s);
    s = rule("{\"kind\":\"ServiceAccount\",\"name\":\"bot\",\"namespace\":\"team\"}");
    CHECK(rbac_subject_matches(s, sa, ""));
    CHECK(!rbac_subject_matches(s, u, ""));
    json_decref(s);
    api_user_free(u);
    api_user_free(sa);
}

static void check_denial(int method, const char *target, const char *msg, const char *kind,
                         const char *group, const char *name)
{
    static const char *const groups[] = {"devs", NULL};
    struct api_user *u = api_user_new("alice", groups);
    struct rbac_attrs a = attrs(method, target);
    a.user = u;
    json_t *st = rbac_forbidden_status(&a, NULL);

    CHECK(st != NULL);
    CHECK_STR(orc_json_str(st, "kind"), "Status");
    CHECK_STR(orc_json_str(st, "status"), "Failure");
    CHECK_STR(orc_json_str(st, "reason"), "Forbidden");
    CHECK_INT(json_integer_value(json_object_get(st, "code")), ==, 403);
    CHECK_STR(orc_json_str(st, "message"), msg);
    CHECK(json_is_object(json_object_get(st, "details")));
    CHECK_STR(orc_json_str(st, "details.kind") ? orc_json_str(st, "details.kind") : "", kind);
    CHECK_STR(orc_json_str(st, "details.group") ? orc_json_str(st, "details.group") : "", group);
    CHECK_STR(orc_json_str(st, "details.name") ? orc_json_str(st, "details.name") : "", name);
    json_decref(st);
    api_user_free(u);
}

TEST(denials_are_worded_as_kubernetes)
{
    check_denial(HTTP_GET, PODS,
                 "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in "
                 "the namespace \"default\"",
                 "pods", "", "");
    check_denial(HTTP_GET, "/api/v1/nodes",
                 "nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group \"\" at "
                 "the cluster scope",
                 "nodes", "", "");
    check_denial(HTTP_DELETE, "/apis/apps/v1/namespaces/d/deployments/web",
                 "deployments.apps \"web\" is forbidden: User \"alice\" cannot delete resource "
                 "\"deployments\" in API group \"apps\" in the namespace \"d\"",
                 "deployments", "apps", "web");
    check_denial(HTTP_GET, PODS "/web/log",
                 "pods \"web\" is forbidden: User \"alice\" cannot get resource \"pods/log\" in API "
                 "group \"\" in the namespace \"default\"",
                 "pods", "", "web");
    check_denial(HTTP_GET, "/metrics", "forbidden: User \"alice\" cannot get path \"/metrics\"", "", "", "");
}

/* ---- impersonation ---- */

struct grants {
    const char *const *allowed; /* "resource/name" pairs the fake authorizer allows */
    int asked;
};

static bool fake_allowed(void *arg, const struct rbac_attrs *a)
{
    struct grants *g = arg;
    char what[700];

    g->asked++;
    CHECK_STR(a->verb, "impersonate");
    snprintf(what, sizeof what, "%s%s%s/%s", a->resource, a->ns[0] ? "@" : "", a->ns, a->name);
    for (size_t i = 0; g->allowed[i]; i++)
        if (strcmp(g->allowed[i], what) == 0) return true;
    return false;
}

static void add_header(struct orc_httpd_req *r, const char *name, const char *value)
{
    r->headers[r->n_headers].name = (char *)name;
    r->headers[r->n_headers].value = (char *)value;
    r->n_headers++;
}

TEST(impersonation_needs_the_impersonate_verb_on_each_part)
{
    static const char *const admin_groups[] = {"system:masters", NULL};
    struct api_user *bob = api_user_new("bob", admin_groups), *out = NULL;
    struct orc_httpd_req r;
    struct rbac_attrs denied;
    static const char *const none[] = {NULL};
    static const char *const users_only[] = {"users/alice", NULL};
    static const char *const all[] = {"users/alice", "groups/devs", "serviceaccounts@team/bot", NULL};
    struct grants g = {none, 0};

    memset(&r, 0, sizeof r);
    /* No headers: nobody impersonated, nothing asked. */
    CHECK_INT(rbac_impersonate(&r, bob, fake_allowed, &g, &denied, &out), ==, 0);
    CHECK_INT(g.asked, ==, 0);

    add_header(&r, "impersonate-user", "alice");
    add_header(&r, "impersonate-group", "devs");
    CHECK_INT(rbac_impersonate(&r, bob, fake_allowed, &g, &denied, &out), ==, ORC_EPERM);
    CHECK(out == NULL);
    json_t *st = rbac_forbidden_status(&denied, NULL);
    CHECK_STR(orc_json_str(st, "message"),
              "users \"alice\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in "
              "API group \"\" at the cluster scope");
    json_decref(st);

    g.allowed = users_only; /* the user, not the group */
    CHECK_INT(rbac_impersonate(&r, bob, fake_allowed, &g, &denied, &out), ==, ORC_EPERM);
    CHECK_STR(denied.resource, "groups");
    CHECK_STR(denied.name, "devs");

    g.allowed = all;
    CHECK_INT(rbac_impersonate(&r, bob, fake_allowed, &g, &denied, &out), ==, 1);
    CHECK(out != NULL);
    CHECK_STR(out->name, "alice");
    CHECK(api_user_in_group(out, "devs"));
    CHECK(api_user_in_group(out, "system:authenticated"));
    CHECK(!api_user_in_group(out, "system:masters"));
    api_user_free(out);

    /* A service account: checked as serviceaccounts in its namespace, and
     * given its groups. */
    memset(&r, 0, sizeof r);
    add_header(&r, "impersonate-user", "system:serviceaccount:team:bot");
    CHECK_INT(rbac_impersonate(&r, bob, fake_allowed, &g, &denied, &out), ==, 1);
    CHECK(api_user_in_group(out, "system:serviceaccounts"));
    CHECK(api_user_in_group(out, "system:serviceaccounts:team"));
    api_user_free(out);

    /* Groups without a user are refused. */
    memset(&r, 0, sizeof r);
    add_header(&r, "impersonate-group", "devs");
    CHECK_INT(rbac_impersonate(&r, bob, fake_allowed, &g, &denied, &out), ==, ORC_EINVAL);
    api_user_free(bob);
}
