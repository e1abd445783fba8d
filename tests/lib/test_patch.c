/* test_patch.c — RFC 7386 merge patches (the RFC's own examples), diffs,
 * kubectl's three-way patch, and RFC 6902 operations and errors. */
#include <stdlib.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/patch.h"
#include "tests/harness/test.h"

static json_t *J(const char *s)
{
    char err[128];
    json_t *v = orc_json_parse(s, strlen(s), err, sizeof err);
    CHECKF(v != NULL, "bad test JSON %s: %s", s, err);
    return v;
}

static void check_json(const json_t *got, const char *want)
{
    json_t *w = J(want);
    char *g = orc_json_dumps(got);
    CHECKF(json_equal(got, w), "got %s, want %s", g, want);
    free(g);
    json_decref(w);
}

/* RFC 7386 appendix A. */
TEST(merge_patch_rfc7386_examples)
{
    static const char *const cases[][3] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"}};

    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        json_t *patch = J(cases[i][1]);
        json_t *out = orc_merge_patch_apply(J(cases[i][0]), patch);
        CHECK(out != NULL);
        check_json(out, cases[i][2]);
        json_decref(out);
        json_decref(patch);
    }
    /* A NULL target is an absent one. */
    json_t *patch = J("{\"a\":1}");
    json_t *out = orc_merge_patch_apply(NULL, patch);
    check_json(out, "{\"a\":1}");
    json_decref(out);
    json_decref(patch);
}

TEST(merge_patch_create_round_trips)
{
    static const char *const cases[][3] = {
        {"{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"l\":[1,2]}", "{\"a\":1,\"b\":{\"c\":5},\"l\":[1],\"n\":{}}",
         "{\"b\":{\"c\":5,\"d\":null},\"l\":[1],\"n\":{}}"},
        {"{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}", "{}"},
        {"{\"a\":{\"b\":1}}", "{\"a\":\"s\"}", "{\"a\":\"s\"}"},
        {"{\"a\":1}", "{\"a\":1.0}", "{\"a\":1.0}"},
        {"{\"a\":1,\"b\":2}", "{}", "{\"a\":null,\"b\":null}"}};

    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        json_t *from = J(cases[i][0]), *to = J(cases[i][1]);
        json_t *p = orc_merge_patch_create(from, to);
        check_json(p, cases[i][2]);
        json_t *applied = orc_merge_patch_apply(json_deep_copy(from), p);
        check_json(applied, cases[i][1]);
        json_decref(applied);
        json_decref(p);
        json_decref(from);
        json_decref(to);
    }
}

TEST(merge_patch_three_way_like_kubectl_apply)
{
    /* original: last-applied; modified: the new manifest; current: live. */
    json_t *orig = J("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
                     "\"spec\":{\"replicas\":2,\"paused\":false,\"template\":{\"image\":\"a:1\"}}}");
    json_t *mod = J("{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                    "\"spec\":{\"replicas\":3,\"template\":{\"image\":\"a:2\"},\"new\":{}}}");
    json_t *cur = J("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\",\"added-by\":\"hand\"},"
                    "\"uid\":\"u1\"},\"spec\":{\"replicas\":5,\"paused\":false,"
                    "\"template\":{\"image\":\"a:1\",\"pull\":\"Always\"}},\"status\":{\"ready\":1}}");
    json_t *p = orc_merge_patch_three_way(orig, mod, cur);

    check_json(p, "{\"metadata\":{\"labels\":{\"tier\":null}},"
                  "\"spec\":{\"paused\":null,\"replicas\":3,\"template\":{\"image\":\"a:2\"},\"new\":{}}}");
    json_t *live = orc_merge_patch_apply(json_deep_copy(cur), p);
    check_json(live, "{\"metadata\":{\"labels\":{\"app\":\"web\",\"added-by\":\"hand\"},\"uid\":\"u1\"},"
                     "\"spec\":{\"replicas\":3,\"template\":{\"image\":\"a:2\",\"pull\":\"Always\"},"
                     "\"new\":{}},\"status\":{\"ready\":1}}");
    /* Applying the same manifest again changes nothing. */
    json_t *again = orc_merge_patch_three_way(mod, mod, live);
    check_json(again, "{}");
    /* No last-applied (first apply over a created object): no deletions. */
    json_t *first = orc_merge_patch_three_way(NULL, mod, cur);
    check_json(first, "{\"spec\":{\"replicas\":3,\"template\":{\"image\":\"a:2\"},\"new\":{}}}");
    json_decref(first);
    json_decref(again);
    json_decref(live);
    json_decref(p);
    json_decref(orig);
    json_decref(mod);
    json_decref(cur);
}

static int jp(json_t **doc, const char *patch, char *err, size_t n)
{
    json_t *p = J(patch);
    int rv = orc_json_patch_apply(doc, p, err, n);
    json_decref(p);
    return rv;
}

/* RFC 6902 appendix A, the interesting ones. */
TEST(json_patch_operations)
{
    static const char *const cases[][3] = {
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
         "{\"foo\":\"bar\",\"baz\":\"qux\"}"},
        {"{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
         "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"},
        {"{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"x\"]}]",
         "{\"foo\":[\"bar\",[\"x\"]]}"},
        {"{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":1}]", "{\"foo\":[\"bar\",1]}"},
        {"{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}"},
        {"{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
         "{\"foo\":[\"bar\",\"baz\"]}"},
        {"{\"foo\":[1,2]}", "[{\"op\":\"replace\",\"path\":\"/foo/0\",\"value\":9}]", "{\"foo\":[9,2]}"},
        {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
         "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
         "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}"},
        {"{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
         "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
         "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}"},
        {"{\"a\":{\"b\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/c\"},"
                                 "{\"op\":\"add\",\"path\":\"/c/b/-\",\"value\":2}]",
         "{\"a\":{\"b\":[1]},\"c\":{\"b\":[1,2]}}"},
        {"{\"/\":1,\"~\":2,\"a~/b\":3}",
         "[{\"op\":\"replace\",\"path\":\"/~1\",\"value\":10},{\"op\":\"remove\",\"path\":\"/~0\"},"
         "{\"op\":\"test\",\"path\":\"/a~0~1b\",\"value\":3.0}]",
         "{\"/\":10,\"a~/b\":3}"},
        {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]"},
        {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/n\",\"value\":null},{\"op\":\"test\",\"path\":\"/n\","
                      "\"value\":null}]", "{\"a\":1,\"n\":null}"},
        {"{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]", "{\"a\":{\"b\":1}}"},
        {"{\"\":{\"\":1}}", "[{\"op\":\"replace\",\"path\":\"//\",\"value\":2}]", "{\"\":{\"\":2}}"},
        {"{}", "[]", "{}"}};
    char err[256];

    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        json_t *doc = J(cases[i][0]);
        CHECKF(jp(&doc, cases[i][1], err, sizeof err) == 0, "case %zu: %s", i, err);
        check_json(doc, cases[i][2]);
        json_decref(doc);
    }
}

TEST(json_patch_errors_are_all_or_nothing)
{
    static const struct { const char *patch; int code; const char *msg; } cases[] = {
        {"[{\"op\":\"add\",\"path\":\"/x\",\"value\":1},{\"op\":\"remove\",\"path\":\"/nope\"}]", ORC_EINVAL,
         "patch[1] (remove \"/nope\"): path does not exist"},
        {"[{\"op\":\"add\",\"path\":\"/l/3\",\"value\":1}]", ORC_EINVAL,
         "patch[0] (add \"/l/3\"): array index \"3\" out of bounds (size 2)"},
        {"[{\"op\":\"add\",\"path\":\"/l/01\",\"value\":1}]", ORC_EINVAL, "out of bounds"},
        {"[{\"op\":\"remove\",\"path\":\"/l/-\"}]", ORC_EINVAL, "path does not exist"},
        {"[{\"op\":\"replace\",\"path\":\"/l/2\",\"value\":1}]", ORC_EINVAL, "path does not exist"},
        {"[{\"op\":\"add\",\"path\":\"/a/b/c\",\"value\":1}]", ORC_EINVAL, "a parent does not exist"},
        {"[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", ORC_EINVAL, "must start with \"/\""},
        {"[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", ORC_EINVAL, "bad \"~\" escape"},
        {"[{\"op\":\"add\",\"path\":\"/x\"}]", ORC_EINVAL, "\"value\" is missing"},
        {"[{\"op\":\"jump\",\"path\":\"/x\"}]", ORC_EINVAL, "patch[0] (jump \"/x\"): unknown op"},
        {"[{\"path\":\"/x\"}]", ORC_EINVAL, "\"op\" is missing"},
        {"[{\"op\":\"add\",\"value\":1}]", ORC_EINVAL, "\"path\" is missing"},
        {"[5]", ORC_EINVAL, "not an object"},
        {"{\"op\":\"add\"}", ORC_EINVAL, "must be an array"},
        {"[{\"op\":\"move\",\"from\":\"/m\",\"path\":\"/m/x\"}]", ORC_EINVAL, "into itself"},
        {"[{\"op\":\"copy\",\"path\":\"/x\"}]", ORC_EINVAL, "\"from\" is missing"},
        {"[{\"op\":\"copy\",\"from\":\"/zz\",\"path\":\"/x\"}]", ORC_EINVAL, "from \"/zz\" does not exist"},
        {"[{\"op\":\"remove\",\"path\":\"\"}]", ORC_EINVAL, "whole document"},
        {"[{\"op\":\"add\",\"path\":\"/s/x\",\"value\":1}]", ORC_EINVAL, "not an object or array"},
        {"[{\"op\":\"test\",\"path\":\"/s\",\"value\":\"t\"}]", ORC_ECONFLICT,
         "patch[0] (test \"/s\"): test failed: value differs"},
        {"[{\"op\":\"test\",\"path\":\"/q\",\"value\":1}]", ORC_ECONFLICT, "does not exist"}};
    char err[256];

    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        json_t *doc = J("{\"l\":[1,2],\"m\":{\"k\":1},\"s\":\"str\"}");
        json_t *before = doc, *copy = json_deep_copy(doc);
        int rv = jp(&doc, cases[i].patch, err, sizeof err);
        CHECKF(rv == cases[i].code, "case %zu: rv %d (%s)", i, rv, err);
        CHECKF(strstr(err, cases[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].msg);
        CHECK(doc == before);
        CHECKF(json_equal(doc, copy), "case %zu changed the document", i);
        json_decref(copy);
        json_decref(doc);
    }
}
