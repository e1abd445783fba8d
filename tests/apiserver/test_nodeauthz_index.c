/* test_nodeauthz_index.c — the Node authorizer's pod index fed as the
 * store watch feeds it (apiserver/authz_node.c): every way a pod names a
 * Secret or ConfigMap, references shared by pods and dropped with the last
 * one, a pod moving between versions, the NodeRestriction path rules, and
 * what one decision costs with 10,000 pods. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/rbac.h"
#include "store/store.h"
#include "tests/harness/test.h"

#define PFX "/registry/core/pods/"

static void put(struct api_nodeauthz *z, const char *key, const char *json)
{
    struct store_kv kv = {.key = (char *)key, .value = (char *)json, .value_len = strlen(json), .mod_rev = 1};
    nodeauthz_note(z, &kv, false);
}

static void del(struct api_nodeauthz *z, const char *key)
{
    struct store_kv kv = {.key = (char *)key};
    nodeauthz_note(z, &kv, true);
}

static const char *const node_groups[] = {"system:nodes", "system:authenticated", NULL};

static enum api_node_decision ask(struct api_nodeauthz *z, const char *node, int method, const char *target)
{
    char user[128], why[600];
    struct api_user *u;
    struct rbac_attrs a;
    enum api_node_decision d;

    snprintf(user, sizeof user, "system:node:%s", node);
    u = api_user_new(user, node_groups);
    CHECK(u != NULL);
    CHECK(rbac_attrs_from_request(method, target, &a) == 0);
    a.user = u;
    d = nodeauthz_decide(z, &a, why, sizeof why);
    api_user_free(u);
    return d;
}

#define ALLOW API_NODE_ALLOW
#define DENY API_NODE_DENY
#define NONE API_NODE_NO_OPINION

static const char pod_a[] =
    "{\"metadata\":{\"name\":\"pa\",\"namespace\":\"ns\"},\"spec\":{\"nodeName\":\"a\","
    "\"serviceAccountName\":\"sa1\",\"imagePullSecrets\":[{\"name\":\"pull\"}],"
    "\"initContainers\":[{\"name\":\"i\",\"envFrom\":[{\"secretRef\":{\"name\":\"s-init\"}}]}],"
    "\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"X\",\"valueFrom\":{\"configMapKeyRef\":"
    "{\"name\":\"cm-env\",\"key\":\"k\"}}}]}],"
    "\"volumes\":[{\"name\":\"v1\",\"secret\":{\"secretName\":\"s-vol\"}},"
    "{\"name\":\"v2\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}},"
    "{\"name\":\"v3\",\"projected\":{\"sources\":[{\"configMap\":{\"name\":\"cm-proj\"}},"
    "{\"secret\":{\"name\":\"s-proj\"}}]}}]}}";

TEST(every_reference_of_a_pod)
{
    struct api_nodeauthz *z = nodeauthz_new();
    static const char *const own[] = {"secrets/pull", "secrets/s-init", "configmaps/cm-env",
                                      "secrets/s-vol", "persistentvolumeclaims/data",
                                      "configmaps/cm-proj", "secrets/s-proj"};
    char t[200];

    CHECK(z != NULL);
    put(z, PFX "ns/pa", pod_a);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        snprintf(t, sizeof t, "/api/v1/namespaces/ns/%s", own[i]);
        CHECKF(ask(z, "a", HTTP_GET, t) == ALLOW, "node a: get %s", t);
        CHECKF(ask(z, "b", HTTP_GET, t) == NONE, "node b: get %s", t);
    }
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/other/secrets/s-vol") == NONE);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/ns/secrets/nope") == NONE);
    CHECK(ask(z, "a", HTTP_POST, "/api/v1/namespaces/ns/serviceaccounts/sa1/token") == ALLOW);
    CHECK(ask(z, "a", HTTP_POST, "/api/v1/namespaces/ns/serviceaccounts/default/token") == NONE);
    /* Lists without a name stay RBAC's (which grants a node none). */
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/ns/secrets") == NONE);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/secrets") == NONE);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/secrets?fieldSelector=metadata.name%3Ds-vol") == NONE);
    nodeauthz_free(z);
}

/* The kubelet's watch-based manager: list and watch of one object by
 * fieldSelector metadata.name=X, only of one the node's pods use. */
TEST(list_and_watch_by_name)
{
    struct api_nodeauthz *z = nodeauthz_new();
    static const char *const q[] = {"?fieldSelector=metadata.name%3D", "?fieldSelector=metadata.name%3D%3D",
                                    "?watch=true&fieldSelector=metadata.name%3D",
                                    "?watch=1&resourceVersion=5&fieldSelector=metadata.name%3D"};
    char t[300];

    CHECK(z != NULL);
    put(z, PFX "ns/pa", pod_a);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        snprintf(t, sizeof t, "/api/v1/namespaces/ns/secrets%ss-vol", q[i]);
        CHECKF(ask(z, "a", HTTP_GET, t) == ALLOW, "node a: %s", t);
        CHECKF(ask(z, "b", HTTP_GET, t) == NONE, "node b: %s", t);
        snprintf(t, sizeof t, "/api/v1/namespaces/ns/configmaps%scm-proj", q[i]);
        CHECKF(ask(z, "a", HTTP_GET, t) == ALLOW, "node a: %s", t);
        snprintf(t, sizeof t, "/api/v1/namespaces/ns/persistentvolumeclaims%sdata", q[i]);
        CHECKF(ask(z, "a", HTTP_GET, t) == ALLOW, "node a: %s", t);
        snprintf(t, sizeof t, "/api/v1/namespaces/ns/secrets%snope", q[i]);
        CHECKF(ask(z, "a", HTTP_GET, t) == NONE, "node a: %s", t);
    }
    /* Not a write, not another namespace, not a watch of everything. */
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/ns/secrets?watch=true") == NONE);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/other/secrets?fieldSelector=metadata.name%3Ds-vol") == NONE);
    CHECK(ask(z, "a", HTTP_DELETE, "/api/v1/namespaces/ns/secrets/s-vol") == NONE);
    CHECK(ask(z, "a", HTTP_PUT, "/api/v1/namespaces/ns/secrets/s-vol") == NONE);
    nodeauthz_free(z);
}

/* Every node is an Ingress proxy: an Ingress's TLS Secrets are every
 * node's to read by name, while the Ingress names them. */
TEST(ingress_tls_secrets_are_every_nodes)
{
    struct api_nodeauthz *z = nodeauthz_new();
    const char *ing = "/registry/networking.k8s.io/ingresses/web/site";
    const char *get = "/api/v1/namespaces/web/secrets/site-tls";
    const char *watch = "/api/v1/namespaces/web/secrets?watch=true&fieldSelector=metadata.name%3Dsite-tls";

    CHECK(z != NULL);
    CHECK(ask(z, "a", HTTP_GET, get) == NONE);
    put(z, ing, "{\"metadata\":{\"name\":\"site\",\"namespace\":\"web\"},\"spec\":{\"tls\":"
                "[{\"hosts\":[\"x\"],\"secretName\":\"site-tls\"},{\"hosts\":[\"y\"]}]}}");
    CHECK(ask(z, "a", HTTP_GET, get) == ALLOW);
    CHECK(ask(z, "b", HTTP_GET, watch) == ALLOW);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/other/secrets/site-tls") == NONE);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/namespaces/web/configmaps/site-tls") == NONE);
    del(z, ing);
    CHECK(ask(z, "a", HTTP_GET, get) == NONE);
    nodeauthz_free(z);
}

TEST(references_are_counted_and_follow_the_pod)
{
    struct api_nodeauthz *z = nodeauthz_new();
    const char *s = "/api/v1/namespaces/ns/secrets/shared";
    const char *p1 = "{\"spec\":{\"nodeName\":\"a\",\"volumes\":[{\"secret\":{\"secretName\":\"shared\"}}]}}";
    const char *p2 = "{\"spec\":{\"nodeName\":\"b\",\"volumes\":[{\"secret\":{\"secretName\":\"shared\"}}]}}";
    const char *unbound = "{\"spec\":{\"volumes\":[{\"secret\":{\"secretName\":\"shared\"}}]}}";

    CHECK(z != NULL);
    put(z, PFX "ns/p1", p1);
    put(z, PFX "ns/p2", p1);
    del(z, PFX "ns/p1");
    CHECK(ask(z, "a", HTTP_GET, s) == ALLOW); /* p2 still uses it */
    put(z, PFX "ns/p2", p2);                  /* rebound to b */
    CHECK(ask(z, "a", HTTP_GET, s) == NONE);
    CHECK(ask(z, "b", HTTP_GET, s) == ALLOW);
    put(z, PFX "ns/p3", unbound);
    del(z, PFX "ns/p2");
    CHECK(ask(z, "b", HTTP_GET, s) == NONE);
    CHECK(ask(z, "a", HTTP_GET, s) == NONE);
    nodeauthz_free(z);
}

TEST(node_restriction_on_paths)
{
    struct api_nodeauthz *z = nodeauthz_new();

    CHECK(z != NULL);
    put(z, PFX "ns/pa", pod_a);
    CHECK(ask(z, "a", HTTP_PATCH, "/api/v1/nodes/a") == NONE);
    CHECK(ask(z, "a", HTTP_PATCH, "/api/v1/nodes/b/status") == DENY);
    CHECK(ask(z, "a", HTTP_DELETE, "/api/v1/nodes/b") == DENY);
    CHECK(ask(z, "a", HTTP_GET, "/api/v1/nodes/b") == NONE);
    CHECK(ask(z, "a", HTTP_PUT, "/api/v1/namespaces/ns/pods/pa/status") == NONE);
    CHECK(ask(z, "b", HTTP_PUT, "/api/v1/namespaces/ns/pods/pa/status") == DENY);
    CHECK(ask(z, "b", HTTP_DELETE, "/api/v1/namespaces/ns/pods/pa") == DENY);
    CHECK(ask(z, "b", HTTP_POST, "/api/v1/namespaces/ns/pods/pa/eviction") == DENY);
    CHECK(ask(z, "b", HTTP_DELETE, "/api/v1/namespaces/ns/pods/gone") == NONE); /* 404 then */
    CHECK(ask(z, "b", HTTP_PUT, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/a") == DENY);
    CHECK(ask(z, "a", HTTP_PUT, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/a") == NONE);
    nodeauthz_free(z);
}

TEST(not_a_node_is_not_decided)
{
    struct api_nodeauthz *z = nodeauthz_new();
    static const char *const groups[] = {"system:authenticated", NULL};
    struct api_user *u = api_user_new("system:node:a", groups); /* not in system:nodes */
    struct rbac_attrs a;
    char why[600];

    CHECK(z != NULL && u != NULL);
    put(z, PFX "ns/pa", pod_a);
    CHECK(rbac_attrs_from_request(HTTP_GET, "/api/v1/namespaces/ns/secrets/s-vol", &a) == 0);
    a.user = u;
    CHECK(nodeauthz_decide(z, &a, why, sizeof why) == NONE);
    api_user_free(u);
    nodeauthz_free(z);
}

/* 10,000 pods on 100 nodes, each with three Secrets: a decision is a hash
 * lookup whatever the number of pods. */
TEST(a_decision_costs_microseconds)
{
    struct api_nodeauthz *z = nodeauthz_new();
    char key[128], val[400], t[200], user[64];
    struct rbac_attrs a;
    struct timespec t0, t1;
    struct api_user *u;
    int n = 20000, hits = 0;
    double us;

    CHECK(z != NULL);
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, PFX "ns%d/p%d", i % 50, i);
        snprintf(val, sizeof val,
                 "{\"spec\":{\"nodeName\":\"n%d\",\"containers\":[{\"envFrom\":[{\"secretRef\":"
                 "{\"name\":\"e%d\"}}]}],\"volumes\":[{\"secret\":{\"secretName\":\"v%d\"}},"
                 "{\"secret\":{\"secretName\":\"w%d\"}}]}}",
                 i % 100, i, i, i);
        put(z, key, val);
    }
    snprintf(user, sizeof user, "system:node:n7");
    u = api_user_new(user, node_groups);
    CHECK(u != NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        char why[600];
        snprintf(t, sizeof t, "/api/v1/namespaces/ns%d/secrets/v%d", i % 10000 % 50, i % 10000);
        CHECK(rbac_attrs_from_request(HTTP_GET, t, &a) == 0);
        a.user = u;
        hits += nodeauthz_decide(z, &a, why, sizeof why) == ALLOW;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
    fprintf(stderr, "# %.2f us per decision (path parsed too), 10,000 pods\n", us);
    CHECK_INT(hits, ==, n / 100); /* the pods on n7 */
    CHECK(us < 200);              /* slack for a loaded machine */
    api_user_free(u);
    nodeauthz_free(z);
}
