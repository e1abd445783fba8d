/* test_rbac_cache.c — the RBAC cache fed as the store watch feeds it
 * (apiserver/rbac_cache.c): the default policy, bindings added, changed and
 * deleted, Roles versus ClusterRoles, and what one authorization costs with
 * a thousand RoleBindings in a namespace and a thousand namespaces. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/rbac.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "store/store.h"
#include "tests/harness/test.h"

#define PFX "/registry/rbac.authorization.k8s.io/"

static void put(struct api_rbac *c, const char *key, const char *json)
{
    struct store_kv kv = {.key = (char *)key, .value = (char *)json, .value_len = strlen(json), .mod_rev = 1};
    rbac_cache_note(c, &kv, false);
}

static void del(struct api_rbac *c, const char *key)
{
    struct store_kv kv = {.key = (char *)key};
    rbac_cache_note(c, &kv, true);
}

static void load_defaults(struct api_rbac *c)
{
    json_t *policy = json_loads(rbac_default_policy, 0, NULL), *obj;
    size_t i;

    CHECK(policy != NULL);
    json_array_foreach(policy, i, obj) {
        char key[300];
        const char *kind = orc_json_str(obj, "kind");
        snprintf(key, sizeof key, PFX "%s/%s", strcmp(kind, "ClusterRole") == 0 ? "clusterroles" : "clusterrolebindings",
                 orc_json_str(obj, "metadata.name"));
        char *text = json_dumps(obj, JSON_COMPACT);
        put(c, key, text);
        free(text);
    }
    json_decref(policy);
}

static bool may(struct api_rbac *c, const struct api_user *u, int method, const char *target)
{
    struct rbac_attrs a;
    CHECK(rbac_attrs_from_request(method, target, &a) == 0);
    a.user = u;
    return rbac_cache_allowed(c, &a, NULL, 0);
}

static const char *binding(char *buf, size_t n, const char *kind, const char *role, const char *subject)
{
    snprintf(buf, n,
             "{\"kind\":\"RoleBinding\",\"roleRef\":{\"kind\":\"%s\",\"name\":\"%s\"},"
             "\"subjects\":[{\"kind\":\"User\",\"name\":\"%s\"}]}",
             kind, role, subject);
    return buf;
}

TEST(defaults_and_changes_decide)
{
    struct api_rbac *c = rbac_cache_new();
    struct api_user *alice = api_user_new("alice", NULL);
    static const char *const masters[] = {"system:masters", NULL};
    struct api_user *admin = api_user_new("system:admin", masters);
    char b[512];

    CHECK(c && alice && admin);
    load_defaults(c);
    CHECK(may(c, admin, HTTP_DELETE, "/api/v1/nodes/n1"));
    CHECK(may(c, alice, HTTP_GET, "/apis"));                  /* system:discovery */
    CHECK(may(c, alice, HTTP_GET, "/version"));               /* public info */
    CHECK(!may(c, alice, HTTP_GET, "/metrics"));
    CHECK(may(c, alice, HTTP_POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"));
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/team/pods"));

    /* A Role in team, bound: pods there, not elsewhere. */
    put(c, PFX "roles/team/reader",
        "{\"kind\":\"Role\",\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"list\"]}]}");
    put(c, PFX "rolebindings/team/alice", binding(b, sizeof b, "Role", "reader", "alice"));
    CHECK(may(c, alice, HTTP_GET, "/api/v1/namespaces/team/pods"));
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/other/pods"));
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/pods")); /* all namespaces needs a cluster grant */
    /* A RoleBinding cannot reach a Role of another namespace. */
    put(c, PFX "rolebindings/other/alice", binding(b, sizeof b, "Role", "reader", "alice"));
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/other/pods"));
    /* The Role changes: the grant follows. */
    put(c, PFX "roles/team/reader",
        "{\"kind\":\"Role\",\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],\"verbs\":[\"list\"]}]}");
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/team/pods"));
    CHECK(may(c, alice, HTTP_GET, "/api/v1/namespaces/team/secrets"));
    /* The binding goes: nothing left. */
    del(c, PFX "rolebindings/team/alice");
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/team/secrets"));
    /* A ClusterRoleBinding to a ClusterRole applies everywhere. */
    put(c, PFX "clusterrolebindings/alice-view",
        "{\"kind\":\"ClusterRoleBinding\",\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"system:aggregate-to-view\"},"
        "\"subjects\":[{\"kind\":\"User\",\"name\":\"alice\"}]}");
    CHECK(may(c, alice, HTTP_GET, "/api/v1/pods"));
    CHECK(may(c, alice, HTTP_GET, "/apis/apps/v1/namespaces/x/deployments/web"));
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/x/secrets"));
    /* A binding to a role that does not exist grants nothing. */
    put(c, PFX "rolebindings/x/ghost", binding(b, sizeof b, "ClusterRole", "no-such-role", "alice"));
    CHECK(!may(c, alice, HTTP_GET, "/api/v1/namespaces/x/secrets"));
    rbac_cache_free(c);
    api_user_free(alice);
    api_user_free(admin);
}

static double per_call_ns(struct api_rbac *c, const struct rbac_attrs *a, bool want, int n)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) CHECK(rbac_cache_allowed(c, a, NULL, 0) == want);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
}

TEST(an_authorization_costs_microseconds)
{
    struct api_rbac *c = rbac_cache_new();
    static const char *const groups[] = {"devs", NULL};
    struct api_user *bench = api_user_new("bench", groups);
    char key[256], b[512];
    struct rbac_attrs a;

    load_defaults(c);
    /* 1,000 RoleBindings of other users in the namespace asked about, and
     * 1,000 of bench's own, one per namespace. */
    for (int i = 0; i < 1000; i++) {
        char user[32];
        snprintf(user, sizeof user, "user-%d", i);
        snprintf(key, sizeof key, PFX "rolebindings/busy/b-%d", i);
        put(c, key, binding(b, sizeof b, "ClusterRole", "system:aggregate-to-edit", user));
        snprintf(key, sizeof key, PFX "rolebindings/ns-%d/bench", i);
        put(c, key, binding(b, sizeof b, "ClusterRole", "system:aggregate-to-view", "bench"));
    }
    snprintf(key, sizeof key, PFX "rolebindings/busy/bench");
    put(c, key, binding(b, sizeof b, "ClusterRole", "system:aggregate-to-view", "bench"));

    CHECK(rbac_attrs_from_request(HTTP_GET, "/apis/apps/v1/namespaces/busy/deployments", &a) == 0);
    a.user = bench;
    double allowed = per_call_ns(c, &a, true, 20000);
    CHECK(rbac_attrs_from_request(HTTP_DELETE, "/api/v1/namespaces/busy/secrets/s", &a) == 0);
    a.user = bench;
    double denied = per_call_ns(c, &a, false, 20000);
    CHECK(rbac_attrs_from_request(HTTP_GET, "/api/v1/namespaces/ns-500/pods", &a) == 0);
    a.user = bench;
    double small_ns = per_call_ns(c, &a, true, 20000);
    fprintf(stderr, "# authorization with 2,001 RoleBindings: %.2f us allowed (binding last of 1,001 in "
                    "its namespace), %.2f us denied, %.2f us in a namespace of one binding\n",
            allowed / 1000, denied / 1000, small_ns / 1000);
    /* Microseconds, with slack for a loaded machine and sanitizers. */
    CHECKF(denied < 500000, "a denial took %.0f ns", denied);
    rbac_cache_free(c);
    api_user_free(bench);
}

/* A user bound a thousand times to the same role and once to another:
 * both roles count, and each binding's removal is felt only once the last
 * binding of its role goes (the cache visits each role once). */
TEST(many_bindings_to_one_role)
{
    struct api_rbac *c = rbac_cache_new();
    struct api_user *bob = api_user_new("bob", NULL);
    char b[512], key[200];

    CHECK(c && bob);
    put(c, PFX "roles/team/cm-reader",
        "{\"kind\":\"Role\",\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"verbs\":[\"get\"]}]}");
    put(c, PFX "roles/team/secret-reader",
        "{\"kind\":\"Role\",\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],\"verbs\":[\"get\"]}]}");
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, PFX "rolebindings/team/rb-%d", i);
        put(c, key, binding(b, sizeof b, "Role", "cm-reader", "bob"));
    }
    put(c, PFX "rolebindings/team/rb-secret", binding(b, sizeof b, "Role", "secret-reader", "bob"));
    CHECK(may(c, bob, HTTP_GET, "/api/v1/namespaces/team/configmaps/x"));
    CHECK(may(c, bob, HTTP_GET, "/api/v1/namespaces/team/secrets/x"));
    CHECK(!may(c, bob, HTTP_DELETE, "/api/v1/namespaces/team/secrets/x"));
    del(c, PFX "rolebindings/team/rb-secret");
    CHECK(!may(c, bob, HTTP_GET, "/api/v1/namespaces/team/secrets/x"));
    for (int i = 0; i < 999; i++) {
        snprintf(key, sizeof key, PFX "rolebindings/team/rb-%d", i);
        del(c, key);
        if (i % 100 == 0) CHECK(may(c, bob, HTTP_GET, "/api/v1/namespaces/team/configmaps/x"));
    }
    CHECK(may(c, bob, HTTP_GET, "/api/v1/namespaces/team/configmaps/x"));
    del(c, PFX "rolebindings/team/rb-999");
    CHECK(!may(c, bob, HTTP_GET, "/api/v1/namespaces/team/configmaps/x"));
    /* a binding changed to the other role moves with it */
    put(c, PFX "rolebindings/team/rb-0", binding(b, sizeof b, "Role", "cm-reader", "bob"));
    put(c, PFX "rolebindings/team/rb-0", binding(b, sizeof b, "Role", "secret-reader", "bob"));
    CHECK(may(c, bob, HTTP_GET, "/api/v1/namespaces/team/secrets/x"));
    CHECK(!may(c, bob, HTTP_GET, "/api/v1/namespaces/team/configmaps/x"));
    rbac_cache_free(c);
    api_user_free(bob);
}
