/* test_validation.c — names, keys, int32 fields and type metadata as a
 * client sends them to a real orcd server: a NUL or any other character
 * Kubernetes refuses never reaches a store key (no object stored under a
 * name cut short, none squatting a shorter name), int32 fields past their
 * range are 422 naming the field, and kind/apiVersion are checked against
 * the URL as the Kubernetes API server checks them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define CM "/api/v1/namespaces/default/configmaps"
#define NS "/api/v1/namespaces"
#define DEP "/apis/apps/v1/namespaces/default/deployments"

static struct cluster c;

static void start_one(void)
{
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 5000);
}

/* One request that must answer `want` with a Status whose message holds
 * `has` (when not NULL). Returns the message (malloc'd) for more checks. */
static char *expect(const char *method, const char *path, const char *body, int want,
                    const char *has)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, NULL, body, &resp, NULL);
    json_t *s = resp ? json_loads(resp, 0, NULL) : NULL;
    const char *msg = s ? orc_json_str(s, "message") : NULL;
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    if (has) {
        CHECKF(msg && strstr(msg, has), "%s %s: message \"%s\" lacks \"%s\"", method, path,
               msg ? msg : "", has);
    }
    char *out = strdup(msg ? msg : "");
    json_decref(s);
    free(resp);
    return out;
}

static void expect_ok(const char *method, const char *path, const char *body, int want)
{
    free(expect(method, path, body, want, NULL));
}

static size_t count(const char *path)
{
    int st;
    json_t *l = t_json(&c, 0, "GET", path, NULL, &st);
    CHECK_INT(st, ==, 200);
    size_t n = json_array_size(json_object_get(l, "items"));
    json_decref(l);
    return n;
}

TEST(nul_in_a_name_is_refused_as_kubernetes_words_it)
{
    start_one();
    long long rev = member_wait_quiet(&c, 0, 500);
    char *msg = expect("POST", CM, "{\"metadata\":{\"name\":\"a\\u0000b\"}}", 422, NULL);
    CHECKF(strstr(msg, "metadata.name: Invalid value: \"a\\x00b\": a lowercase RFC 1123 "
                       "subdomain must consist of") != NULL, "%s", msg);
    free(msg);
    free(expect("POST", NS, "{\"metadata\":{\"name\":\"x\\u0000y\"}}", 422,
                "a lowercase RFC 1123 label must consist of"));
    free(expect("POST", CM, "{\"metadata\":{\"generateName\":\"g\\u0000-\"}}", 422,
                "metadata.generateName"));
    free(expect("POST", CM, "{\"metadata\":{\"name\":\"l\",\"labels\":{\"k\":\"v\\u0000w\"}}}",
                422, "metadata.labels"));
    free(expect("POST", CM,
                "{\"metadata\":{\"name\":\"f\",\"finalizers\":[\"example.com/f\\u0000\"]}}", 422,
                "metadata.finalizers[0]"));
    /* A NUL in an object key cannot even be decoded. */
    free(expect("POST", CM, "{\"metadata\":{\"name\":\"k\",\"labels\":{\"k\\u0000\":\"v\"}}}", 400,
                NULL));
    CHECK_INT(count(CM), ==, 0);
    CHECK_INT(member_revision(&c, 0), ==, rev);

    /* Nothing squats the shorter names. */
    expect_ok("POST", CM, "{\"metadata\":{\"name\":\"a\"}}", 201);
    expect_ok("GET", CM "/a", NULL, 200);
    expect_ok("DELETE", CM "/a", NULL, 200);
    expect_ok("POST", NS, "{\"metadata\":{\"name\":\"x\"}}", 201);
}

TEST(names_in_bodies_must_match_the_url_to_the_byte)
{
    start_one();
    expect_ok("POST", CM, "{\"metadata\":{\"name\":\"a\"},\"data\":{\"k\":\"1\"}}", 201);
    free(expect("PUT", CM "/a", "{\"metadata\":{\"name\":\"a\\u0000b\"},\"data\":{\"k\":\"2\"}}",
                400, "does not match the name on the URL"));
    free(expect("POST", CM,
                "{\"metadata\":{\"name\":\"b\",\"namespace\":\"default\\u0000x\"}}", 400,
                "namespace"));
    int st;
    json_t *a = t_json(&c, 0, "GET", CM "/a", NULL, &st);
    CHECK_INT(st, ==, 200);
    CHECK_STR(orc_json_str(a, "data.k"), "1");
    json_decref(a);
}

TEST(url_paths_and_queries_never_make_another_key)
{
    start_one();
    expect_ok("POST", CM, "{\"metadata\":{\"name\":\"a\"}}", 201);
    /* %00 and %2F in a name segment, and names that are path tricks. */
    expect_ok("GET", CM "/a%00b", NULL, 400);
    expect_ok("DELETE", CM "/a%00b", NULL, 400);
    expect_ok("PUT", CM "/a%00", "{\"metadata\":{\"name\":\"a\"}}", 400);
    expect_ok("GET", CM "/a%2Fb", NULL, 400);
    expect_ok("GET", "/api/v1/namespaces/default%00/configmaps/a", NULL, 400);
    expect_ok("GET", CM "/%2E%2E", NULL, 400);
    expect_ok("GET", CM "/..", NULL, 400);
    expect_ok("POST", "/api/v1/namespaces/default%2Fx/configmaps", "{\"metadata\":{\"name\":\"b\"}}",
              400);
    /* Selectors too. */
    expect_ok("GET", CM "?fieldSelector=metadata.name%3Da%00b", NULL, 400);
    expect_ok("GET", CM "?labelSelector=a%3Db%00", NULL, 400);
    CHECK_INT(count(CM), ==, 1);
    expect_ok("GET", CM "/a", NULL, 200);
}

/* A Deployment with `extra` spliced into its spec. */
static char *deployment(const char *name, const char *extra)
{
    char *s = NULL;
    CHECK(asprintf(&s,
                   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\"},"
                   "\"spec\":{%s\"selector\":{\"matchLabels\":{\"app\":\"a\"}},\"template\":{"
                   "\"metadata\":{\"labels\":{\"app\":\"a\"}},\"spec\":{\"containers\":[{\"name\":"
                   "\"c\",\"image\":\"busybox\",\"ports\":[{\"containerPort\":80}]}]}}}}",
                   name, extra) > 0);
    return s;
}

TEST(int32_fields_past_their_range_are_422_naming_the_field)
{
    static const struct {
        const char *extra, *field;
    } cases[] = {
        {"\"replicas\":2147483648,", "spec.replicas"},
        {"\"replicas\":-2147483649,", "spec.replicas"},
        {"\"replicas\":4294967296,", "spec.replicas"},
        {"\"replicas\":3e9,", "spec.replicas"},
        {"\"minReadySeconds\":9999999999,", "spec.minReadySeconds"},
        {"\"revisionHistoryLimit\":2147483648,", "spec.revisionHistoryLimit"},
        {"\"strategy\":{\"rollingUpdate\":{\"maxSurge\":2147483648}},",
         "spec.strategy.rollingUpdate.maxSurge"},
    };
    start_one();
    long long rev = member_wait_quiet(&c, 0, 500);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = deployment("d", cases[i].extra);
        free(expect("POST", DEP, body, 422, cases[i].field));
        free(body);
    }
    /* Deeper: a container port, a pod's int64 grace period is fine. */
    free(expect("POST", "/api/v1/namespaces/default/pods",
                "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                "\"i\",\"ports\":[{\"containerPort\":4294967377}]}]}}",
                422, "spec.containers[0].ports[0].containerPort"));
    CHECK_INT(count(DEP), ==, 0);
    CHECK_INT(member_revision(&c, 0), ==, rev);
    expect_ok("POST", "/api/v1/namespaces/default/pods",
              "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"terminationGracePeriodSeconds\":"
              "4294967296,\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
              201);
    char *body = deployment("d", "\"replicas\":2147483647,");
    expect_ok("POST", DEP, body, 201);
    free(body);
    /* Updates and patches go through the same check. */
    char *resp = NULL;
    CHECK_INT(t_http(&c, 0, "PATCH", DEP "/d", "application/merge-patch+json",
                     "{\"spec\":{\"replicas\":2147483648}}", &resp, NULL), ==, 422);
    CHECKF(strstr(resp, "spec.replicas") != NULL, "%s", resp);
    free(resp);
}

TEST(type_meta_is_checked_against_the_url)
{
    start_one();
    /* As the Kubernetes API server does for its built-in kinds, a body
     * without kind/apiVersion takes them from the URL. */
    expect_ok("POST", CM, "{\"metadata\":{\"name\":\"bare\"}}", 201);
    free(expect("POST", CM, "{\"apiVersion\":\"v1\",\"kind\":7,\"metadata\":{\"name\":\"x\"}}", 400,
                "kind"));
    free(expect("POST", CM, "{\"apiVersion\":[\"v1\"],\"metadata\":{\"name\":\"x\"}}", 400,
                "apiVersion"));
    free(expect("POST", CM, "{\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"x\"}}", 400,
                "the API version in the data (apps/v1) does not match the expected API version "
                "(v1)"));
    free(expect("PUT", CM "/bare", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
                                   "{\"name\":\"bare\"}}",
                400, "kind"));
    CHECK_INT(count(CM), ==, 1);
}

TEST(a_binding_names_a_whole_node)
{
    start_one();
    expect_ok("POST", "/api/v1/namespaces/default/pods",
              "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
              "\"i\"}]}}",
              201);
    free(expect("POST", "/api/v1/namespaces/default/pods/p/binding",
                "{\"target\":{\"name\":\"n1\\u0000x\"}}", 422, "target.name"));
    free(expect("POST", "/api/v1/namespaces/default/pods/p/binding",
                "{\"target\":{\"name\":\"../n1\"}}", 422, "target.name"));
    int st;
    json_t *p = t_json(&c, 0, "GET", "/api/v1/namespaces/default/pods/p", NULL, &st);
    CHECK(orc_json_str(p, "spec.nodeName") == NULL);
    json_decref(p);
    expect_ok("POST", "/api/v1/namespaces/default/pods/p/binding", "{\"target\":{\"name\":\"n1\"}}",
              201);
}

/* A NUL where Kubernetes allows one (a ConfigMap value, an annotation
 * value) is stored, and the object stays readable, writable, deletable,
 * and its namespace deletable. */
TEST(nul_in_values_is_kept_and_never_corrupts)
{
    start_one();
    expect_ok("POST", NS, "{\"metadata\":{\"name\":\"t\"}}", 201);
    expect_ok("POST", "/api/v1/namespaces/t/configmaps",
              "{\"metadata\":{\"name\":\"c\",\"annotations\":{\"a\":\"x\\u0000y\"}},"
              "\"data\":{\"k\":\"a\\u0000b\"}}",
              201);
    int st;
    json_t *cm = t_json(&c, 0, "GET", "/api/v1/namespaces/t/configmaps/c", NULL, &st);
    CHECK_INT(st, ==, 200);
    /* Parsed by the harness without JSON_ALLOW_NUL: the text is the proof. */
    json_decref(cm);
    char *resp = NULL;
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/t/configmaps/c", NULL, NULL, &resp, NULL),
              ==, 200);
    CHECKF(strstr(resp, "a\\u0000b") != NULL, "%s", resp);
    free(resp);
    resp = NULL;
    CHECK_INT(t_http(&c, 0, "PATCH", "/api/v1/namespaces/t/configmaps/c",
                     "application/merge-patch+json", "{\"data\":{\"j\":\"2\"}}", &resp, NULL),
              ==, 200);
    CHECKF(strstr(resp, "a\\u0000b") != NULL, "%s", resp);
    free(resp);
    resp = NULL;
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/t/configmaps?labelSelector=x%3Dy", NULL,
                     NULL, &resp, NULL),
              ==, 200);
    free(resp);
    expect_ok("DELETE", "/api/v1/namespaces/t/configmaps/c", NULL, 200);
    expect_ok("POST", "/api/v1/namespaces/t/configmaps",
              "{\"metadata\":{\"name\":\"d\"},\"data\":{\"k\":\"a\\u0000b\"}}", 201);
    expect_ok("DELETE", NS "/t", NULL, 200);
    /* The namespace empties and goes away. */
    for (int i = 0; i < 100; i++) {
        if (t_http(&c, 0, "GET", NS "/t", NULL, NULL, NULL, NULL) == 404) return;
        test_sleep_ms(100);
    }
    CHECKF(false, "namespace t still there after 10 s");
}
