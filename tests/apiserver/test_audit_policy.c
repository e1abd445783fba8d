/* test_audit_policy.c — audit Policy parsing and Kubernetes' rule matching:
 * users, userGroups, verbs, resources (groups, subresources, names,
 * wildcards), namespaces, nonResourceURLs, first match wins, omitStages. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/audit.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static struct api_audit_policy *parse(const char *text)
{
    struct api_audit_policy *p = NULL;
    char err[256] = "";
    int rv = api_audit_policy_parse(text, strlen(text), &p, err, sizeof err);

    CHECKF(rv == 0, "policy refused: %s\n%s", err, text);
    return p;
}

static void refused(const char *text, const char *want)
{
    struct api_audit_policy *p = NULL;
    char err[256] = "";

    CHECKF(api_audit_policy_parse(text, strlen(text), &p, err, sizeof err) == ORC_EINVAL,
           "accepted:\n%s", text);
    CHECKF(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
    api_audit_policy_free(p);
}

static char *admin_groups[] = {"system:masters", "system:authenticated"};
static char *dev_groups[] = {"devs", "system:authenticated"};

static struct api_audit_attrs res(const char *user, const char *verb, const char *ns, const char *group,
                                  const char *resource, const char *sub, const char *name)
{
    bool admin = user && strcmp(user, "system:admin") == 0;
    return (struct api_audit_attrs){
        .user = user, .groups = admin ? admin_groups : dev_groups, .n_groups = user ? 2 : 0,
        .verb = verb, .resource_request = true, .ns = ns, .group = group, .resource = resource,
        .sub = sub, .name = name, .path = "/api/v1/x"};
}

static struct api_audit_attrs url(const char *user, const char *path)
{
    return (struct api_audit_attrs){.user = user, .groups = dev_groups, .n_groups = user ? 2 : 0,
                                    .verb = "get", .ns = "", .group = "", .resource = "", .sub = "",
                                    .name = "", .path = path};
}

static int level(const struct api_audit_policy *p, struct api_audit_attrs a)
{
    unsigned omit;
    return (int)api_audit_policy_eval(p, &a, &omit);
}

TEST(audit_policy_no_file_is_metadata_for_all)
{
    unsigned omit = 99;
    struct api_audit_attrs a = url(NULL, "/healthz");

    CHECK_INT(api_audit_policy_eval(NULL, &a, &omit), ==, AUDIT_METADATA);
    CHECK_INT(omit, ==, 0);
}

TEST(audit_policy_first_match_wins)
{
    struct api_audit_policy *p = parse("apiVersion: audit.k8s.io/v1\n"
                                       "kind: Policy\n"
                                       "omitStages: [RequestReceived]\n"
                                       "rules:\n"
                                       "- level: None\n"
                                       "  users: [system:kube-proxy]\n"
                                       "- level: None\n"
                                       "  userGroups: [system:nodes]\n"
                                       "  verbs: [get, list, watch]\n"
                                       "- level: Metadata\n"
                                       "  resources:\n"
                                       "  - group: \"\"\n"
                                       "    resources: [secrets, configmaps]\n"
                                       "- level: None\n"
                                       "  nonResourceURLs: [/healthz*, /version, /readyz]\n"
                                       "- level: Request\n"
                                       "  verbs: [create]\n"
                                       "  omitStages: [ResponseStarted]\n"
                                       "- level: Metadata\n");
    unsigned omit;
    struct api_audit_attrs a = res("alice", "create", "default", "apps", "deployments", "", "");

    CHECK_INT(level(p, res("system:kube-proxy", "list", "", "", "pods", "", "")), ==, AUDIT_NONE);
    CHECK_INT(level(p, res("alice", "list", "", "", "secrets", "", "")), ==, AUDIT_METADATA);
    CHECK_INT(level(p, url("alice", "/healthz")), ==, AUDIT_NONE);
    CHECK_INT(level(p, url("alice", "/healthz/etcd")), ==, AUDIT_NONE);
    CHECK_INT(level(p, url("alice", "/versions")), ==, AUDIT_METADATA);
    CHECK_INT(api_audit_policy_eval(p, &a, &omit), ==, AUDIT_REQUEST);
    CHECK_INT(omit, ==, AUDIT_STAGE_RECEIVED | AUDIT_STAGE_STARTED);
    a.verb = "delete";
    CHECK_INT(api_audit_policy_eval(p, &a, &omit), ==, AUDIT_METADATA);
    CHECK_INT(omit, ==, AUDIT_STAGE_RECEIVED);
    api_audit_policy_free(p);
}

TEST(audit_policy_groups_and_unauthenticated)
{
    struct api_audit_policy *p = parse("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                                       "- level: RequestResponse\n  userGroups: [devs]\n"
                                       "- level: Metadata\n  users: [system:admin]\n");

    CHECK_INT(level(p, res("bob", "get", "x", "", "pods", "", "p")), ==, AUDIT_REQUEST_RESPONSE);
    CHECK_INT(level(p, res("system:admin", "get", "x", "", "pods", "", "p")), ==, AUDIT_METADATA);
    /* no user: no users/userGroups rule matches, and no rule: None */
    CHECK_INT(level(p, res(NULL, "get", "x", "", "pods", "", "p")), ==, AUDIT_NONE);
    api_audit_policy_free(p);
}

TEST(audit_policy_resources_subresources_names)
{
    struct api_audit_policy *p = parse("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                                       "- level: RequestResponse\n  resources:\n"
                                       "  - group: \"\"\n    resources: [pods/log]\n"
                                       "- level: Request\n  resources:\n"
                                       "  - group: \"\"\n    resources: [\"*/status\"]\n"
                                       "- level: Metadata\n  resources:\n"
                                       "  - group: apps\n    resources: [\"deployments/*\"]\n"
                                       "- level: Metadata\n  resources:\n"
                                       "  - group: \"\"\n    resources: [configmaps]\n"
                                       "    resourceNames: [controller-leader]\n"
                                       "- level: Metadata\n  namespaces: [kube-system]\n"
                                       "- level: None\n");

    CHECK_INT(level(p, res("a", "get", "d", "", "pods", "log", "p")), ==, AUDIT_REQUEST_RESPONSE);
    CHECK_INT(level(p, res("a", "get", "d", "", "pods", "", "p")), ==, AUDIT_NONE);
    CHECK_INT(level(p, res("a", "update", "d", "", "nodes", "status", "n")), ==, AUDIT_REQUEST);
    CHECK_INT(level(p, res("a", "update", "d", "apps", "deployments", "status", "n")), ==, AUDIT_METADATA);
    CHECK_INT(level(p, res("a", "update", "d", "apps", "deployments", "", "n")), ==, AUDIT_METADATA);
    CHECK_INT(level(p, res("a", "update", "d", "apps", "replicasets", "", "n")), ==, AUDIT_NONE);
    CHECK_INT(level(p, res("a", "get", "d", "", "configmaps", "", "controller-leader")), ==, AUDIT_METADATA);
    CHECK_INT(level(p, res("a", "get", "d", "", "configmaps", "", "other")), ==, AUDIT_NONE);
    CHECK_INT(level(p, res("a", "get", "kube-system", "", "configmaps", "", "o")), ==, AUDIT_METADATA);
    /* a URL never matches a rule about namespaces or resources */
    CHECK_INT(level(p, url("a", "/api")), ==, AUDIT_NONE);
    api_audit_policy_free(p);
}

TEST(audit_policy_bad_input)
{
    refused("apiVersion: v1\nkind: Policy\nrules: []\n", "audit.k8s.io/v1");
    refused("apiVersion: audit.k8s.io/v1\nkind: Policy\n", "rules");
    refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Verbose\n", "rules[0].level");
    refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  omitStages: [Later]\n",
            "rules[0].omitStages[0]");
    refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n"
            "  nonResourceURLs: [/x]\n  namespaces: [a]\n", "both regular resources and non-resource");
    refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: alice\n",
            "rules[0].users");
    refused("a: [", "line");
}
