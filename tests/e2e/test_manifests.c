/* test_manifests.c — a corpus of real-world-shaped manifests
 * (tests/e2e/manifests/: RBAC, ServiceAccounts, Deployments, Services,
 * autoscalers in both versions, NetworkPolicies, a PodDisruptionBudget, a
 * quota and limit range, a ReplicationController) applies whole with
 * `orctl apply -f` and with stock `kubectl apply --validate=false -f`,
 * every document reads back, and deletes. Also: the HorizontalPodAutoscaler
 * through autoscaling/v1 and v2 alike, the Warning headers of kinds orc
 * does not act on yet, an immutable roleRef, and `kubectl scale
 * --current-replicas`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/yaml.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CORPUS "tests/e2e/manifests/"
#define HPA_V1 "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
#define HPA_V2 "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
#define MERGE "application/merge-patch+json"

static const char *const files[] = {"guestbook.yaml", "shop.yaml", "legacy.yaml"};

static struct cluster c;

static void start_one(void)
{
    cluster_init(&c, 1);
    c.no_controllers = true; /* the objects stay as applied */
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
}

static bool have_kubectl(void) { return run_have_kubectl(); }

static int kubectl(char **out, char **err, const char *const *words)
{
    return run_kubectl(&c, out, err, words);
}

static json_t *req(const char *method, const char *path, const char *ctype, const char *body,
                   int want, char **warning)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, ctype, body, &resp, warning);
    json_t *j = resp ? json_loads(resp, 0, NULL) : NULL;
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    free(resp);
    return j;
}

/* The documents of a corpus file. */
static json_t *corpus(const char *file)
{
    char path[256], err[256];
    struct orc_buf text = ORC_BUF_INIT;
    snprintf(path, sizeof path, CORPUS "%s", file);
    CHECKF(orc_file_read(path, 1 << 20, &text) == 0, "cannot read %s", path);
    json_t *docs = orc_yaml_parse(text.data, text.len, err, sizeof err);
    CHECKF(docs != NULL, "%s: %s", path, err);
    orc_buf_free(&text);
    return docs;
}

static void doc_path(const json_t *doc, struct orc_buf *out)
{
    const struct orc_kind *k =
        orc_kind_by_gvk(orc_json_str(doc, "apiVersion"), orc_json_str(doc, "kind"));
    const char *ns = orc_json_str(doc, "metadata.namespace");
    CHECKF(k != NULL, "no kind for %s %s", orc_json_str(doc, "apiVersion"),
           orc_json_str(doc, "kind"));
    orc_buf_reset(out);
    CHECK(orc_kind_path(k, ns ? ns : "default", orc_json_str(doc, "metadata.name"), NULL, out) == 0);
}

/* Every document is there (want 200) or gone (want 404, waiting for a
 * namespace's contents to go with it). */
static void check_docs(const json_t *docs, int want)
{
    struct orc_buf path = ORC_BUF_INIT;
    const json_t *doc;
    size_t i;

    json_array_foreach(docs, i, doc) {
        doc_path(doc, &path);
        int st = 0;
        for (int tries = 0; tries < 100; tries++) {
            st = t_http(&c, 0, "GET", path.data, NULL, NULL, NULL, NULL);
            if (st == want || want == 200) break;
            test_sleep_ms(100);
        }
        CHECKF(st == want, "GET %s: HTTP %d, want %d", path.data, st, want);
        if (want != 200) continue;
        json_t *got = req("GET", path.data, NULL, NULL, 200, NULL);
        CHECK_STR(orc_json_str(got, "kind"), orc_json_str(doc, "kind"));
        CHECK_STR(orc_json_str(got, "apiVersion"), orc_json_str(doc, "apiVersion"));
        json_decref(got);
    }
    orc_buf_free(&path);
}

static size_t count_lines_with(const char *text, const char *word)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, word)) != NULL; p += strlen(word)) n++;
    return n;
}

TEST_T(corpus_applies_with_orctl, 60)
{
    start_one();
    for (size_t f = 0; f < ORC_ARRAY_LEN(files); f++) {
        char path[256], *out = NULL, *err = NULL;
        json_t *docs = corpus(files[f]);
        snprintf(path, sizeof path, CORPUS "%s", files[f]);
        CHECKF(run_orctl(&c, &out, &err, "apply", "-f", path, NULL) == 0, "apply %s: %s%s",
               files[f], out, err);
        CHECK_INT(count_lines_with(out, " created"), ==, json_array_size(docs));
        free(out);
        free(err);
        check_docs(docs, 200);
        CHECKF(run_orctl(&c, &out, &err, "apply", "-f", path, NULL) == 0, "re-apply %s: %s",
               files[f], err);
        free(out);
        free(err);
        CHECKF(run_orctl(&c, &out, &err, "delete", "--ignore-not-found", "-f", path, NULL) == 0,
               "delete %s: %s", files[f], err);
        free(out);
        free(err);
        check_docs(docs, 404);
        json_decref(docs);
    }
}

TEST_T(corpus_applies_with_kubectl, 60)
{
    if (!have_kubectl()) return;
    start_one();
    for (size_t f = 0; f < ORC_ARRAY_LEN(files); f++) {
        char path[256], *out = NULL, *err = NULL;
        json_t *docs = corpus(files[f]);
        snprintf(path, sizeof path, CORPUS "%s", files[f]);
        const char *apply[] = {"apply", "--validate=false", "-f", path, NULL};
        CHECKF(kubectl(&out, &err, apply) == 0, "kubectl apply %s: %s%s", files[f], out, err);
        CHECK_INT(count_lines_with(out, " created"), ==, json_array_size(docs));
        if (strcmp(files[f], "guestbook.yaml") == 0) {
            CHECK(strstr(err, "enforce RBAC") == NULL); /* enforced now */
            CHECK(strstr(err, "HorizontalPodAutoscaler controller") == NULL); /* one runs now */
        }
        free(out);
        free(err);
        check_docs(docs, 200);
        const char *del[] = {"delete", "--ignore-not-found", "-f", path, NULL};
        CHECKF(kubectl(&out, &err, del) == 0, "kubectl delete %s: %s", files[f], err);
        free(out);
        free(err);
        check_docs(docs, 404);
        json_decref(docs);
    }
}

TEST_T(hpa_served_in_v1_and_v2, 60)
{
    char *warn = NULL;
    start_one();
    json_t *g = req("GET", "/apis/autoscaling", NULL, NULL, 200, NULL);
    CHECK_STR(orc_json_str(orc_json_get(g, "preferredVersion"), "version"), "v2");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(g, "versions"), 1), "groupVersion"),
              "autoscaling/v1");
    json_decref(g);

    json_decref(req("POST", HPA_V1, NULL,
                    "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\","
                    "\"metadata\":{\"name\":\"web\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":"
                    "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"},\"maxReplicas\":5,"
                    "\"targetCPUUtilizationPercentage\":60}}",
                    201, &warn));
    CHECK(warn == NULL || strstr(warn, "HorizontalPodAutoscaler") == NULL);
    free(warn);
    json_t *v2 = req("GET", HPA_V2 "/web", NULL, NULL, 200, NULL);
    CHECK_STR(orc_json_str(v2, "apiVersion"), "autoscaling/v2");
    const json_t *m0 = json_array_get(orc_json_get(v2, "spec.metrics"), 0);
    CHECK_INT(json_integer_value(orc_json_get(m0, "resource.target.averageUtilization")), ==, 60);
    json_decref(v2);

    /* A metric v1 cannot say, added in v2, rides in v1's annotation and
     * survives an update made through v1. */
    json_decref(req("PATCH", HPA_V2 "/web", "application/json-patch+json",
                    "[{\"op\":\"add\",\"path\":\"/spec/metrics/-\",\"value\":{\"type\":\"Resource\","
                    "\"resource\":{\"name\":\"memory\",\"target\":{\"type\":\"AverageValue\","
                    "\"averageValue\":\"256Mi\"}}}}]",
                    200, NULL));
    json_t *v1 = req("GET", HPA_V1 "/web", NULL, NULL, 200, NULL);
    CHECK_STR(orc_json_str(v1, "apiVersion"), "autoscaling/v1");
    CHECK_INT(json_integer_value(orc_json_get(v1, "spec.targetCPUUtilizationPercentage")), ==, 60);
    CHECK(orc_json_get(v1, "spec.metrics") == NULL);
    const char *ann = json_string_value(json_object_get(
        orc_json_get(v1, "metadata.annotations"), "autoscaling.alpha.kubernetes.io/metrics"));
    CHECK_HAS(ann, "\"targetAverageValue\":\"256Mi\"");
    orc_json_set(v1, "spec.maxReplicas", json_integer(8));
    char *body = json_dumps(v1, JSON_COMPACT);
    json_decref(req("PUT", HPA_V1 "/web", NULL, body, 200, NULL));
    free(body);
    json_decref(v1);
    v2 = req("GET", HPA_V2 "/web", NULL, NULL, 200, NULL);
    CHECK_INT(json_integer_value(orc_json_get(v2, "spec.maxReplicas")), ==, 8);
    CHECK_INT(json_array_size(orc_json_get(v2, "spec.metrics")), ==, 2);
    CHECK(orc_json_get(v2, "metadata.annotations") == NULL);
    json_decref(v2);

    /* A merge patch through v1 sets the CPU target, other metrics kept. */
    json_decref(req("PATCH", HPA_V1 "/web", MERGE,
                    "{\"spec\":{\"targetCPUUtilizationPercentage\":45}}", 200, NULL));
    v2 = req("GET", HPA_V2 "/web", NULL, NULL, 200, NULL);
    m0 = json_array_get(orc_json_get(v2, "spec.metrics"), 0);
    CHECK_INT(json_integer_value(orc_json_get(m0, "resource.target.averageUtilization")), ==, 45);
    CHECK_INT(json_array_size(orc_json_get(v2, "spec.metrics")), ==, 2);
    json_decref(v2);

    json_t *list = req("GET", "/apis/autoscaling/v1/horizontalpodautoscalers", NULL, NULL, 200, NULL);
    CHECK_STR(orc_json_str(list, "apiVersion"), "autoscaling/v1");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(list, "items"), 0), "apiVersion"),
              "autoscaling/v1");
    json_decref(list);

    /* A watch through v1 sees v1 objects; one through v2, v2 objects. */
    char *w1 = NULL, *w2 = NULL;
    CHECK_INT(t_http(&c, 0, "GET", HPA_V1 "?watch=1&timeoutSeconds=1", NULL, NULL, &w1, NULL), ==,
              200);
    CHECK_INT(t_http(&c, 0, "GET", HPA_V2 "?watch=1&timeoutSeconds=1", NULL, NULL, &w2, NULL), ==,
              200);
    CHECK_HAS(w1, "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"autoscaling/v1\"");
    CHECK_HAS(w1, "\"targetCPUUtilizationPercentage\":45");
    CHECK_HAS(w2, "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"autoscaling/v2\"");
    free(w1);
    free(w2);

    /* A v2 body on the v1 path is refused, as Kubernetes refuses it. */
    json_t *st = req("POST", HPA_V1, NULL,
                     "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\","
                     "\"metadata\":{\"name\":\"x\"},\"spec\":{}}", 400, NULL);
    CHECK_HAS(orc_json_str(st, "message"), "the API version in the data (autoscaling/v2) does "
                                           "not match the expected API version (autoscaling/v1)");
    json_decref(st);
    /* Errors in v1 name the fields Kubernetes names: the v2 ones. */
    st = req("POST", HPA_V1, NULL,
             "{\"metadata\":{\"name\":\"y\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\","
             "\"name\":\"y\"},\"maxReplicas\":2,\"targetCPUUtilizationPercentage\":0}}", 422, NULL);
    CHECK_HAS(orc_json_str(st, "message"), "spec.metrics[0].resource.target.averageUtilization: "
                                           "Invalid value: 0: must be greater than 0");
    json_decref(st);
    json_decref(req("DELETE", HPA_V1 "/web", NULL, NULL, 200, NULL));
    json_decref(req("GET", HPA_V2 "/web", NULL, NULL, 404, NULL));
}

TEST_T(rbac_roleref_is_immutable_and_missing_service_accounts_do_not_fail, 60)
{
    char *warn = NULL;
    const char *rb = "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings";
    start_one();
    json_decref(req("POST", rb, NULL,
                    "{\"metadata\":{\"name\":\"b\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
                    "\"jane\"}],\"roleRef\":{\"kind\":\"Role\",\"name\":\"reader\"}}",
                    201, &warn));
    CHECK(warn == NULL || strstr(warn, "enforce RBAC") == NULL);
    free(warn);
    json_t *st = req("PATCH", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/b",
                     MERGE, "{\"roleRef\":{\"name\":\"admin\"}}", 422, NULL);
    CHECK_HAS(orc_json_str(st, "message"),
              "RoleBinding.rbac.authorization.k8s.io \"b\" is invalid: roleRef: Invalid value: "
              "rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", "
              "Name:\"admin\"}: cannot change roleRef");
    json_decref(st);
    /* Default ServiceAccounts are issue 11's: a pod naming one that does
     * not exist is still accepted. */
    json_decref(req("POST", "/api/v1/namespaces/default/pods", NULL,
                    "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"serviceAccountName\":\"nosuch\","
                    "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                    201, NULL));
}

TEST_T(kubectl_scale_with_preconditions, 60)
{
    char *out = NULL, *err = NULL;
    if (!have_kubectl()) return;
    start_one();
    const char *apply[] = {"apply", "--validate=false", "-f", CORPUS "guestbook.yaml", NULL};
    CHECK(kubectl(&out, &err, apply) == 0);
    free(out);
    free(err);
    const char *ok[] = {"scale", "--current-replicas=3", "--replicas=4", "deploy/frontend", NULL};
    CHECKF(kubectl(&out, &err, ok) == 0, "%s", err);
    CHECK_HAS(out, "deployment.apps/frontend scaled");
    free(out);
    free(err);
    const char *stale[] = {"scale", "--current-replicas=3", "--replicas=5", "deploy/frontend", NULL};
    CHECK(kubectl(&out, &err, stale) != 0);
    CHECK_HAS(err, "Expected replicas to be 3, was 4");
    free(out);
    free(err);
    json_t *d = req("GET", "/apis/apps/v1/namespaces/default/deployments/frontend", NULL, NULL,
                    200, NULL);
    CHECK_INT(json_integer_value(orc_json_get(d, "spec.replicas")), ==, 4);
    json_decref(d);
    /* A stale resourceVersion on the scale subresource: Kubernetes' 409. */
    json_t *st = req("PUT", "/apis/apps/v1/namespaces/default/deployments/frontend/scale", NULL,
                     "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":"
                     "\"frontend\",\"resourceVersion\":\"1\"},\"spec\":{\"replicas\":6}}",
                     409, NULL);
    CHECK_HAS(orc_json_str(st, "message"), "Operation cannot be fulfilled on deployments.apps "
                                           "\"frontend\": the object has been modified");
    json_decref(st);
    const char *rc[] = {"apply", "--validate=false", "-f", CORPUS "legacy.yaml", NULL};
    CHECK(kubectl(&out, &err, rc) == 0);
    free(out);
    free(err);
    const char *rcs[] = {"scale", "--current-replicas=3", "--replicas=1", "rc/nginx", NULL};
    CHECKF(kubectl(&out, &err, rcs) == 0, "%s", err);
    free(out);
    free(err);
    json_t *s = req("GET", "/api/v1/namespaces/default/replicationcontrollers/nginx/scale", NULL,
                    NULL, 200, NULL);
    CHECK_INT(json_integer_value(orc_json_get(s, "spec.replicas")), ==, 1);
    CHECK_STR(orc_json_str(s, "status.selector"), "app=nginx");
    json_decref(s);
}

/* One bad field per kind, refused with 422 and Kubernetes' words. */
TEST_T(bad_fields_are_422, 60)
{
    static const struct {
        const char *path, *body, *message;
    } cases[] = {
        {"/api/v1/namespaces/default/serviceaccounts", "{\"metadata\":{\"name\":\"Robot\"}}",
         "ServiceAccount \"Robot\" is invalid: metadata.name: Invalid value: \"Robot\": a lowercase "
         "RFC 1123 subdomain"},
        {"/api/v1/namespaces/default/replicationcontrollers",
         "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{\"app\":\"x\"},\"template\":{"
         "\"metadata\":{\"labels\":{\"app\":\"y\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
         "\"image\":\"i\"}]}}}}",
         "spec.template.metadata.labels: Invalid value: {\"app\":\"y\"}: `selector` does not match "
         "template `labels`"},
        {"/api/v1/namespaces/default/limitranges",
         "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"limits\":[{\"type\":\"Pod\",\"default\":"
         "{\"cpu\":\"1\"}}]}}",
         "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"},
        {"/api/v1/namespaces/default/resourcequotas",
         "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"-1\"}}}",
         "spec.hard[pods]: Invalid value: \"-1\": must be greater than or equal to 0"},
        {"/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
         "{\"metadata\":{\"name\":\"r\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":"
         "[\"pods\"]}]}",
         "rules[0].verbs: Required value: verbs must contain at least one value"},
        {"/apis/rbac.authorization.k8s.io/v1/clusterroles",
         "{\"metadata\":{\"name\":\"c\"},\"aggregationRule\":{}}",
         "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector "
         "required if aggregationRule is non-nil"},
        {"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
         "{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"}}",
         "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\""},
        {"/apis/networking.k8s.io/v1/namespaces/default/networkpolicies",
         "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"podSelector\":{},\"policyTypes\":"
         "[\"Sideways\"]}}",
         "spec.policyTypes[0]: Unsupported value: \"Sideways\": supported values: \"Ingress\", "
         "\"Egress\""},
        {HPA_V2,
         "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\","
         "\"name\":\"w\"},\"minReplicas\":0,\"maxReplicas\":3}}",
         "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"},
    };
    start_one();
    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        json_t *st = req("POST", cases[i].path, NULL, cases[i].body, 422, NULL);
        CHECK_STR(orc_json_str(st, "reason"), "Invalid");
        CHECK_HAS(orc_json_str(st, "message"), cases[i].message);
        json_decref(st);
    }
}
