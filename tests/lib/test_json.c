/* test_json.c — dotted paths, parse errors and serialization in lib/json. */
#include <stdlib.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static json_t *parse(const char *s)
{
    char err[128];
    json_t *v = orc_json_parse(s, strlen(s), err, sizeof err);
    CHECKF(v != NULL, "parse %s: %s", s, err);
    return v;
}

TEST(json_get_paths)
{
    json_t *o = parse("{\"metadata\":{\"name\":\"web\",\"generation\":3,\"labels\":{\"a.b/c\":\"x\"}},"
                      "\"spec\":{\"replicas\":2.0,\"paused\":true}}");
    int64_t n = 0;

    CHECK_STR(orc_json_str(o, "metadata.name"), "web");
    CHECK(orc_json_str(o, "metadata.generation") == NULL);
    CHECK(orc_json_str(o, "metadata.name.x") == NULL);
    CHECK(orc_json_get(o, "nope.deeper") == NULL);
    CHECK(orc_json_get(o, "") == o);
    CHECK_INT(orc_json_int(o, "metadata.generation", &n), ==, 0);
    CHECK_INT(n, ==, 3);
    CHECK_INT(orc_json_int(o, "spec.replicas", &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_INT(orc_json_int(o, "spec.paused", &n), ==, ORC_EINVAL);
    json_t *big = json_pack("{s:f,s:f}", "huge", 1e300, "frac", 2.5);
    CHECK_INT(orc_json_int(big, "huge", &n), ==, ORC_EINVAL);
    CHECK_INT(orc_json_int(big, "frac", &n), ==, ORC_EINVAL);
    json_decref(big);
    CHECK_INT(orc_json_int(o, "spec.missing", &n), ==, ORC_ENOENT);
    json_decref(o);
}

TEST(json_set_and_del)
{
    json_t *o = json_object();
    struct orc_buf b = ORC_BUF_INIT;

    CHECK_INT(orc_json_set(o, "metadata.labels.app", json_string("web")), ==, 0);
    CHECK_INT(orc_json_set(o, "metadata.name", json_string("x")), ==, 0);
    CHECK_INT(orc_json_set(o, "metadata.name.sub", json_string("y")), ==, ORC_EINVAL);
    CHECK_INT(orc_json_set(o, "metadata.name", NULL), ==, ORC_ENOMEM);
    CHECK_INT(orc_json_dump(o, &b), ==, 0);
    CHECK_STR(b.data, "{\"metadata\":{\"labels\":{\"app\":\"web\"},\"name\":\"x\"}}");
    orc_json_del(o, "metadata.labels.app");
    orc_json_del(o, "metadata.nothing.here");
    orc_json_del(o, "spec");
    orc_buf_reset(&b);
    CHECK_INT(orc_json_dump(o, &b), ==, 0);
    CHECK_STR(b.data, "{\"metadata\":{\"labels\":{},\"name\":\"x\"}}");
    orc_buf_free(&b);
    json_decref(o);
}

TEST(json_parse_errors_name_position)
{
    char err[128];
    const char *bad = "{\n  \"a\": 1,\n  \"b\": tru\n}";

    CHECK(orc_json_parse(bad, strlen(bad), err, sizeof err) == NULL);
    CHECKF(strncmp(err, "line 3 column ", 14) == 0, "%s", err);
    CHECK(orc_json_parse("{\"a\":1,\"a\":2}", 13, err, sizeof err) == NULL);
    CHECKF(strstr(err, "duplicate") != NULL, "%s", err);
    CHECK(orc_json_parse("", 0, err, sizeof err) == NULL);
    CHECK(strncmp(err, "line ", 5) == 0);
    /* Scalars are documents too (patch values, watch payloads). */
    json_t *v = orc_json_parse("42", 2, err, sizeof err);
    CHECK(json_integer_value(v) == 42);
    json_decref(v);
}

TEST(json_dump_pretty_and_dumps)
{
    json_t *o = parse("{\"kind\":\"Pod\",\"spec\":{\"a\":[1,{}],\"e\":{}}}");
    struct orc_buf b = ORC_BUF_INIT;
    char *s;

    CHECK_INT(orc_json_dump_pretty(o, &b), ==, 0);
    CHECK_STR(b.data, "{\n    \"kind\": \"Pod\",\n    \"spec\": {\n        \"a\": [\n            1,\n"
                      "            {}\n        ],\n        \"e\": {}\n    }\n}\n");
    s = orc_json_dumps(o);
    CHECK_STR(s, "{\"kind\":\"Pod\",\"spec\":{\"a\":[1,{}],\"e\":{}}}");
    free(s);
    orc_buf_reset(&b);
    json_t *str = json_string("x");
    CHECK_INT(orc_json_dump(str, &b), ==, 0);
    CHECK_STR(b.data, "\"x\"");
    json_decref(str);
    orc_buf_free(&b);
    json_decref(o);
}

/* Absent, null, {} and [] compare alike, as Kubernetes' Semantic.DeepEqual
 * compares the Go objects they decode to; values still differ. */
TEST(json_semantic_equal)
{
    json_t *a = parse("{\"c\":[{\"name\":\"n\",\"image\":\"x\"}],\"sc\":{}}");
    json_t *b = parse("{\"c\":[{\"name\":\"n\",\"image\":\"x\",\"resources\":{},\"env\":[]}],\"x\":null}");
    json_t *c = parse("{\"c\":[{\"name\":\"n\",\"image\":\"y\",\"resources\":{}}]}");
    json_t *d = parse("{\"c\":[{\"name\":\"n\",\"image\":\"x\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}");
    json_t *e = parse("{\"c\":[{\"name\":\"n\",\"image\":\"x\"},{}]}");

    CHECK(orc_json_semantic_equal(a, b) && orc_json_semantic_equal(b, a));
    CHECK(!orc_json_semantic_equal(a, c) && !orc_json_semantic_equal(c, b));
    CHECK(!orc_json_semantic_equal(a, d) && !orc_json_semantic_equal(d, b));
    CHECK(!orc_json_semantic_equal(a, e));
    CHECK(orc_json_semantic_equal(NULL, json_object_get(a, "sc")));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(e);
}
