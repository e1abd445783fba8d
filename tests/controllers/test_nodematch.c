/* test_nodematch.c — taints against tolerations, nodeSelector and required
 * node affinity, and NoExecute eviction timing (controllers/nodematch). */
#include <jansson.h>

#include "controllers/nodematch.h"
#include "tests/harness/test.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CHECKF(v != NULL, "bad JSON in test: %s: %s", text, e.text);
    return v;
}

static bool tol(const char *t, const char *taint)
{
    json_t *a = J(t), *b = J(taint);
    bool r = ctl_tolerates(a, b);
    json_decref(a);
    json_decref(b);
    return r;
}

TEST(tolerations)
{
    const char *taint = "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}";
    CHECK(tol("{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}", taint));
    CHECK(tol("{\"key\":\"k\",\"operator\":\"Equal\",\"value\":\"v\"}", taint));
    CHECK(tol("{\"key\":\"k\",\"operator\":\"Exists\"}", taint));
    CHECK(tol("{\"operator\":\"Exists\"}", taint));
    CHECK(!tol("{\"key\":\"k\",\"value\":\"w\"}", taint));
    CHECK(!tol("{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}", taint));
    CHECK(!tol("{\"key\":\"other\",\"operator\":\"Exists\"}", taint));
    CHECK(!tol("{\"value\":\"v\"}", taint));
}

TEST(untolerated_taint_by_effect)
{
    json_t *taints = J("[{\"key\":\"a\",\"effect\":\"PreferNoSchedule\"},"
                       "{\"key\":\"b\",\"effect\":\"NoSchedule\"},"
                       "{\"key\":\"c\",\"effect\":\"NoExecute\"}]");
    json_t *tols = J("[{\"key\":\"c\",\"operator\":\"Exists\"}]");
    const json_t *t = ctl_untolerated_taint(taints, tols, NULL);
    CHECK(t != NULL);
    CHECK_STR(json_string_value(json_object_get(t, "key")), "b");
    CHECK(ctl_untolerated_taint(taints, tols, "NoExecute") == NULL);
    CHECK(ctl_untolerated_taint(taints, NULL, "NoExecute") != NULL);
    CHECK(ctl_untolerated_taint(NULL, NULL, NULL) == NULL);
    json_decref(taints);
    json_decref(tols);
}

static bool fits(const char *spec, const char *node)
{
    json_t *s = J(spec), *n = J(node);
    bool r = ctl_node_affinity_matches(s, n);
    json_decref(s);
    json_decref(n);
    return r;
}

#define NODE "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"zone\":\"a\",\"cores\":\"8\"}}}"
#define REQ(terms) \
    "{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":" \
    "{\"nodeSelectorTerms\":" terms "}}}}"

TEST(node_selector_and_affinity)
{
    CHECK(fits("{}", NODE));
    CHECK(fits("{\"nodeSelector\":{\"zone\":\"a\"}}", NODE));
    CHECK(!fits("{\"nodeSelector\":{\"zone\":\"b\"}}", NODE));
    CHECK(!fits("{\"nodeSelector\":{\"gpu\":\"yes\"}}", NODE));
    CHECK(fits(REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]}]"), NODE));
    CHECK(!fits(REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"a\"]}]}]"), NODE));
    CHECK(fits(REQ("[{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"DoesNotExist\"}]}]"), NODE));
    CHECK(!fits(REQ("[{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}]"), NODE));
    CHECK(fits(REQ("[{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"4\"]}]}]"), NODE));
    CHECK(!fits(REQ("[{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"4\"]}]}]"), NODE));
    /* Terms are ORed; an empty term matches nothing. */
    CHECK(fits(REQ("[{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]},"
                   "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n1\"]}]}]"), NODE));
    CHECK(!fits(REQ("[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n2\"]}]}]"), NODE));
    CHECK(!fits(REQ("[{}]"), NODE));
    CHECK(!fits(REQ("[]"), NODE));
}

static int64_t delay(const char *taints, const char *tols, int64_t now)
{
    json_t *a = J(taints), *b = J(tols);
    int64_t d = ctl_noexecute_delay_ms(a, b, now);
    json_decref(a);
    json_decref(b);
    return d;
}

TEST(noexecute_timing)
{
    /* 2026-12-06T10:00:00Z */
    int64_t t0 = 1796551200000LL, ms = 0;
    const char *taint = "[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\","
                        "\"timeAdded\":\"2026-12-06T10:00:00Z\"}]";

    CHECK_INT(ctl_time_ms("2026-12-06T10:00:00Z", &ms), ==, 0);
    CHECK_INT(ms, ==, t0);
    CHECK_INT(ctl_time_ms("2026-12-06T10:00:00.25Z", &ms), ==, 0);
    CHECK_INT(ms, ==, t0 + 250);
    CHECK_INT(delay(taint, "[]", t0), ==, 0);
    CHECK_INT(delay(taint, "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                           "\"effect\":\"NoExecute\"}]", t0), ==, -1);
    const char *t30 = "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                      "\"effect\":\"NoExecute\",\"tolerationSeconds\":30}]";
    CHECK_INT(delay(taint, t30, t0), ==, 30000);
    CHECK_INT(delay(taint, t30, t0 + 29000), ==, 1000);
    CHECK_INT(delay(taint, t30, t0 + 31000), ==, 0);
    /* The shortest of the tolerations used wins. */
    CHECK_INT(delay(taint, "[{\"operator\":\"Exists\",\"tolerationSeconds\":100},"
                           "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                           "\"tolerationSeconds\":10}]", t0), ==, 10000);
    CHECK_INT(delay("[{\"key\":\"x\",\"effect\":\"NoSchedule\"}]", "[]", t0), ==, -1);
}
