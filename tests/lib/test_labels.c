/* test_labels.c — label selectors: string and object forms, matching, and the
 * canonical string. */
#include <jansson.h>

#include "lib/labels.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static orc_selector *parse(const char *s)
{
    orc_selector *sel;
    char msg[512] = "";
    CHECKF(orc_selector_parse(s, &sel, msg, sizeof msg) == 0, "\"%s\": %s", s, msg);
    return sel;
}

static void canon(const char *s, const char *want)
{
    orc_selector *sel = parse(s);
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(orc_selector_string(sel, &b), ==, 0);
    CHECKF(strcmp(b.data, want) == 0, "\"%s\" -> \"%s\", want \"%s\"", s, b.data, want);
    orc_buf_free(&b);
    orc_selector_free(sel);
}

static bool matches(const char *s, const char *labels_json)
{
    json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
    orc_selector *sel = parse(s);
    bool m = orc_selector_matches(sel, labels);
    orc_selector_free(sel);
    json_decref(labels);
    return m;
}

TEST(labels_parse_canonical)
{
    canon("", "");
    canon("app=web", "app=web");
    canon("app==web", "app=web");
    canon(" tier in (b, a ,a) , app = web ", "app=web,tier in (a,b)");
    canon("x notin (z),!y,w", "w,x notin (z),!y");
    canon("env!=prod", "env!=prod");
    canon("example.com/role=db", "example.com/role=db");
    canon("a=", "a=");
    canon("gen>3,gen<10", "gen>3,gen<10");
}

TEST(labels_matching)
{
    const char *l = "{\"app\":\"web\",\"tier\":\"front\",\"gen\":\"5\"}";
    CHECK(matches("", l));
    CHECK(matches("", NULL));
    CHECK(matches("app=web", l));
    CHECK(!matches("app=db", l));
    CHECK(matches("app!=db", l));
    CHECK(matches("env!=prod", l)); /* absent label: != matches */
    CHECK(matches("tier in (front,back)", l));
    CHECK(!matches("tier notin (front)", l));
    CHECK(matches("env notin (prod)", l));
    CHECK(matches("app", l));
    CHECK(!matches("!app", l));
    CHECK(matches("!env", l));
    CHECK(!matches("env", NULL));
    CHECK(matches("gen>4,gen<6", l));
    CHECK(!matches("gen>5", l));
    CHECK(!matches("app>1", l));
    CHECK(matches("app=web,tier=front", l));
    CHECK(!matches("app=web,tier=back", l));
}

static void parse_err(const char *s, const char *want)
{
    orc_selector *sel = (orc_selector *)1;
    char msg[1024] = "";
    CHECKF(orc_selector_parse(s, &sel, msg, sizeof msg) == ORC_EINVAL, "\"%s\" accepted", s);
    CHECK(sel == NULL);
    CHECKF(strstr(msg, want) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", s, msg, want);
}

TEST(labels_parse_errors)
{
    parse_err("app=web,", "trailing ','");
    parse_err("app web", "expected one of");
    parse_err("app in web", "expected '('");
    parse_err("app in (a,b", "expected ',' or ')'");
    parse_err("bad key!=x", "expected");
    parse_err("-app=x", "name part must consist of");
    parse_err("app=bad value", "expected ',' between terms");
    parse_err("app=-x", "a valid label must be");
    parse_err("=x", "missing key");
    parse_err("gen>x", "expected an integer value");
    parse_err("a=b c=d", "a=b c=d");
}

static int from_json(const char *js, orc_selector **sel, char *msg, size_t n)
{
    json_t *o = json_loads(js, 0, NULL);
    CHECKF(o != NULL, "bad test json %s", js);
    int rv = orc_selector_from_json(o, sel, msg, n);
    json_decref(o);
    return rv;
}

TEST(labels_from_json)
{
    orc_selector *sel;
    char msg[512];
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(from_json("{\"matchLabels\":{\"app\":\"nginx\"},\"matchExpressions\":[{\"key\":"
                        "\"tier\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]},{\"key\":\"x\","
                        "\"operator\":\"DoesNotExist\"}]}", &sel, msg, sizeof msg), ==, 0);
    CHECK_INT(orc_selector_string(sel, &b), ==, 0);
    CHECK_STR(b.data, "app=nginx,tier in (a,b),!x");
    CHECK(!orc_selector_is_empty(sel));
    json_t *l = json_pack("{s:s, s:s}", "app", "nginx", "tier", "a");
    CHECK(orc_selector_matches(sel, l));
    json_object_set_new(l, "x", json_string(""));
    CHECK(!orc_selector_matches(sel, l));
    json_decref(l);
    orc_selector_free(sel);
    orc_buf_free(&b);

    CHECK_INT(orc_selector_from_json(NULL, &sel, msg, sizeof msg), ==, 0);
    CHECK(orc_selector_is_empty(sel));
    orc_selector_free(sel);
    CHECK_INT(from_json("{}", &sel, msg, sizeof msg), ==, 0);
    CHECK(orc_selector_is_empty(sel));
    orc_selector_free(sel);
}

static void json_err(const char *js, const char *want)
{
    orc_selector *sel;
    char msg[1024] = "";
    CHECKF(from_json(js, &sel, msg, sizeof msg) == ORC_EINVAL, "%s accepted", js);
    CHECKF(strstr(msg, want) != NULL, "%s: message \"%s\" lacks \"%s\"", js, msg, want);
}

TEST(labels_from_json_errors)
{
    json_err("{\"matchLabels\":{\"bad key\":\"x\"}}", "matchLabels: Invalid value: \"bad key\"");
    json_err("{\"matchLabels\":{\"app\":\"-x\"}}", "a valid label must be");
    json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
             "matchExpressions[0].values: Required value");
    json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
             "matchExpressions[0].values: Forbidden");
    json_err("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
             "Unsupported value: \"Gt\"");
    json_err("{\"matchExpressions\":[{\"operator\":\"Exists\"}]}",
             "matchExpressions[0].key: Required value");
    json_err("[]", "must be an object");
}
