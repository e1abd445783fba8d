/* test_yaml.c — YAML parsing (core schema, anchors, merges, errors, bombs)
 * and kubectl-shaped emitting, with parse(emit(x)) == x round trips. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/yaml.h"
#include "tests/harness/test.h"

static char errbuf[256];

static json_t *parse_ok(const char *y)
{
    json_t *docs = orc_yaml_parse(y, strlen(y), errbuf, sizeof errbuf);
    CHECKF(docs != NULL, "parse failed: %s\n%s", errbuf, y);
    return docs;
}

/* The single document of y, compact JSON, checked against want. */
static void check_doc(const char *y, const char *want)
{
    json_t *docs = parse_ok(y);
    CHECKF(json_array_size(docs) == 1, "%zu documents in\n%s", json_array_size(docs), y);
    char *s = orc_json_dumps(json_array_get(docs, 0));
    CHECKF(strcmp(s, want) == 0, "\n%s\nparsed as %s\nwant      %s", y, s, want);
    free(s);
    json_decref(docs);
}

static void check_error(const char *y, const char *want_substr)
{
    json_t *docs = orc_yaml_parse(y, strlen(y), errbuf, sizeof errbuf);
    CHECKF(docs == NULL, "accepted:\n%s", y);
    CHECKF(strstr(errbuf, want_substr) != NULL, "error \"%s\" lacks \"%s\"", errbuf, want_substr);
}

static void check_emit(const char *json, const char *want)
{
    char err[128];
    json_t *v = orc_json_parse(json, strlen(json), err, sizeof err);
    struct orc_buf b = ORC_BUF_INIT;

    CHECKF(v != NULL, "%s", err);
    CHECK_INT(orc_yaml_emit(v, &b), ==, 0);
    CHECKF(strcmp(b.data, want) == 0, "emitted:\n%s---- want:\n%s", b.data, want);
    orc_buf_free(&b);
    json_decref(v);
}

TEST(yaml_core_schema_scalars)
{
    check_doc("a: 1\nb: -2\nc: +3\nd: 0x1F\ne: 0o17\nf: 0644\ng: 08\n",
              "{\"a\":1,\"b\":-2,\"c\":3,\"d\":31,\"e\":15,\"f\":420,\"g\":8}");
    check_doc("a: 1.5\nb: .5\nc: 1e3\nd: -2.5E-1\ne: 1.\n",
              "{\"a\":1.5,\"b\":0.5,\"c\":1000.0,\"d\":-0.25,\"e\":1.0}");
    check_doc("a: true\nb: False\nc: TRUE\nd: yes\ne: on\nf: n\n",
              "{\"a\":true,\"b\":false,\"c\":true,\"d\":\"yes\",\"e\":\"on\",\"f\":\"n\"}");
    check_doc("a: null\nb: ~\nc:\nd: Null\ne: nULL\n",
              "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":\"nULL\"}");
    check_doc("a: '1'\nb: \"true\"\nc: !!str 5\nd: ! 6\ne: !!int \"7\"\nf: 1_000\ng: 1:30\n",
              "{\"a\":\"1\",\"b\":\"true\",\"c\":\"5\",\"d\":\"6\",\"e\":7,\"f\":\"1_000\",\"g\":\"1:30\"}");
    check_doc("big: 123456789012345678901234567890\n", "{\"big\":1.2345678901234568e29}");
    check_doc("v: 9223372036854775807\nw: -9223372036854775808\n",
              "{\"v\":9223372036854775807,\"w\":-9223372036854775808}");
    check_doc("1: a\ntrue: b\nnull: c\n", "{\"1\":\"a\",\"true\":\"b\",\"null\":\"c\"}");
}

TEST(yaml_block_scalars_and_quoting)
{
    check_doc("a: |\n  line1\n  line2\nb: |-\n  x\n\n  y\nc: >\n  folded\n  text\n\nd: |+\n  k\n\n",
              "{\"a\":\"line1\\nline2\\n\",\"b\":\"x\\n\\ny\",\"c\":\"folded text\\n\","
              "\"d\":\"k\\n\\n\"}");
    check_doc("a: 'it''s'\nb: \"tab\\there \\u00e9 \\x41\"\nc: plain text # comment\n",
              "{\"a\":\"it's\",\"b\":\"tab\\there é A\",\"c\":\"plain text\"}");
    check_doc("s: \"\\0nul\"\n", "{\"s\":\"\\u0000nul\"}");
}

TEST(yaml_multi_document_and_json)
{
    json_t *docs = parse_ok("---\n# only a comment\n---\na: 1\n---\n---\n- x\n...\n---\nnull\n");
    CHECK_INT(json_array_size(docs), ==, 2);
    CHECK(json_is_object(json_array_get(docs, 0)));
    CHECK(json_is_array(json_array_get(docs, 1)));
    json_decref(docs);
    docs = parse_ok("");
    CHECK_INT(json_array_size(docs), ==, 0);
    json_decref(docs);
    check_doc("{\n\t\"kind\": \"Pod\",\n\t\"n\": [1, 2.5, \"\\/x\"]\n}\n",
              "{\"kind\":\"Pod\",\"n\":[1,2.5,\"/x\"]}");
    check_doc("{\"a\": {\"b\": [true, null]}, \"c\": \"d\"}", "{\"a\":{\"b\":[true,null]},\"c\":\"d\"}");
    check_doc("{a: 1, b: [x, 'y']}", "{\"a\":1,\"b\":[\"x\",\"y\"]}");
}

TEST(yaml_anchors_aliases_merge)
{
    check_doc("base: &b {cpu: 1, mem: 2}\nx: *b\ny: &s hello\nz: [*s, *s]\n",
              "{\"base\":{\"cpu\":1,\"mem\":2},\"x\":{\"cpu\":1,\"mem\":2},\"y\":\"hello\","
              "\"z\":[\"hello\",\"hello\"]}");
    check_doc("d: &d {a: 1, b: 2}\ne: &e {b: 3, c: 4}\nm:\n  <<: [*d, *e]\n  c: 5\n",
              "{\"d\":{\"a\":1,\"b\":2},\"e\":{\"b\":3,\"c\":4},\"m\":{\"a\":1,\"b\":2,\"c\":5}}");
    check_doc("d: &d {a: 1}\nm:\n  a: 0\n  <<: *d\n  z: 1\n", "{\"d\":{\"a\":1},\"m\":{\"a\":0,\"z\":1}}");
    check_doc("m:\n  '<<': literal\n", "{\"m\":{\"<<\":\"literal\"}}");
    /* An anchor may be redefined; aliases see the latest. */
    check_doc("a: &x 1\nb: &x 2\nc: *x\n", "{\"a\":1,\"b\":2,\"c\":2}");
    /* Copies are independent values. */
    json_t *docs = parse_ok("a: &x {k: [1]}\nb: *x\n");
    json_t *a = json_array_get(docs, 0);
    CHECK(json_object_get(a, "a") != json_object_get(a, "b"));
    json_decref(docs);
    check_error("a: *nope\n", "unknown anchor \"nope\"");
    check_error("a: &x [1, *x]\n", "unknown anchor");
    check_error("a: &x 1\n---\nb: *x\n", "document 2, line 3, column 4: unknown anchor");
    check_error("m:\n  <<: 5\n", "merge key");
}

TEST(yaml_errors_name_document_line_column)
{
    check_error("a: 1\nb: 2\na: 3\n", "document 1, line 3, column 1: duplicate key \"a\"");
    check_error("ok: 1\n---\nx:\n  y: 1\n  y: 2\n", "document 2, line 5, column 3: duplicate key \"y\"");
    check_error("a: 1\n  b: 2\n", "document 1, line 2, column 4: mapping values are not allowed");
    check_error("a: [1, 2\n", "document 1, line 2, column 1:");
    check_error("a: \"unterminated\n", "document 1, line");
    check_error("? [a]\n: 1\n", "mapping keys must be");
    check_error("a: .inf\n", "line 1, column 4: \".inf\" cannot be represented in JSON");
    check_error("a: !!int abc\n", "cannot read \"abc\" as tag:yaml.org,2002:int");
    check_error("a: \xff\xfe\n", "document 1, line 1");
    check_error("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"");
}

TEST(yaml_alias_bomb_and_depth_are_refused)
{
    struct orc_buf b = ORC_BUF_INIT;

    orc_buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++) {
        orc_buf_printf(&b, "a%d: &a%d [", i, i);
        for (int k = 0; k < 10; k++) orc_buf_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
        orc_buf_puts(&b, "]\n");
    }
    uint64_t t0 = test_now_ms();
    check_error(b.data, "too many nodes");
    CHECK(test_now_ms() - t0 < 5000);
    orc_buf_reset(&b);
    for (int i = 0; i < 2000; i++) orc_buf_puts(&b, "[");
    check_error(b.data, "nesting deeper than");
    orc_buf_free(&b);
}

TEST(yaml_emit_kubectl_shape)
{
    check_emit("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
               "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3,\"template\":{\"spec\":"
               "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\",\"args\":[\"--port=80\",\"-v\"],"
               "\"ports\":[{\"containerPort\":80}],\"env\":[]}],\"nodeSelector\":{}}}}}",
               "apiVersion: apps/v1\n"
               "kind: Deployment\n"
               "metadata:\n"
               "  name: web\n"
               "  labels:\n"
               "    app: web\n"
               "spec:\n"
               "  replicas: 3\n"
               "  template:\n"
               "    spec:\n"
               "      containers:\n"
               "      - name: c\n"
               "        image: nginx:1.25\n"
               "        args:\n"
               "        - --port=80\n"
               "        - -v\n"
               "        ports:\n"
               "        - containerPort: 80\n"
               "        env: []\n"
               "      nodeSelector: {}\n");
    check_emit("[[1, [2, 3]], {\"a\": [{}]}, [], \"x\"]",
               "- - 1\n  - - 2\n    - 3\n- a:\n  - {}\n- []\n- x\n");
    check_emit("{}", "{}\n");
    check_emit("\"top\"", "top\n");
    check_emit("{\"f\":1.0,\"g\":0.1,\"h\":1e300,\"i\":-0.0,\"j\":true,\"k\":null}",
               "f: 1.0\ng: 0.1\nh: 1e+300\ni: -0.0\nj: true\nk: null\n");
}

TEST(yaml_emit_quoting)
{
    check_emit("{\"a\":\"true\",\"b\":\"123\",\"c\":\"1.5\",\"d\":\"null\",\"e\":\"\",\"f\":\"yes\","
               "\"g\":\"0x10\",\"h\":\"~\",\"i\":\" lead\",\"j\":\"trail \",\"k\":\"a: b\","
               "\"l\":\"a #b\",\"m\":\"a#b\",\"n\":\"*\",\"o\":\"- x\",\"p\":\"-x\",\"q\":\"it's\","
               "\"r\":\"@home\",\"s\":\"%x\",\"t\":\"`x\",\"u\":\"{x}\",\"v\":\"end:\",\"w\":\"a:b\","
               "\"x\":\"tab\\tx\",\"y\":\"\\u0001\",\"z\":\"caf\\u00e9\"}",
               "a: \"true\"\nb: \"123\"\nc: \"1.5\"\nd: \"null\"\ne: \"\"\nf: \"yes\"\n"
               "g: \"0x10\"\nh: \"~\"\ni: ' lead'\nj: 'trail '\nk: 'a: b'\nl: 'a #b'\nm: a#b\n"
               "\"n\": '*'\no: '- x'\np: -x\nq: it's\nr: '@home'\ns: '%x'\nt: '`x'\nu: '{x}'\n"
               "v: 'end:'\nw: a:b\nx: \"tab\\tx\"\n\"y\": \"\\x01\"\nz: café\n");
    check_emit("{\"t\":\"2024-05-01T12:00:00Z\",\"d\":\"2024-06-01\",\"v\":\"v1.30\",\"i\":\"10.0.0.1\"}",
               "t: \"2024-05-01T12:00:00Z\"\nd: \"2024-06-01\"\nv: v1.30\ni: 10.0.0.1\n");
    check_emit("{\"123\":1,\"true\":2,\"<<\":3,\"a b\":4,\"\":5,\"k: v\":6}",
               "\"123\": 1\n\"true\": 2\n\"<<\": 3\na b: 4\n\"\": 5\n'k: v': 6\n");
}

TEST(yaml_emit_literal_blocks)
{
    check_emit("{\"a\":\"l1\\nl2\\n\",\"b\":\"l1\\n\\nl2\",\"c\":\"x\\n\\n\",\"d\":[\"p\\nq\"]}",
               "a: |\n  l1\n  l2\nb: |-\n  l1\n\n  l2\nc: |+\n  x\n\nd:\n- |-\n  p\n  q\n");
    check_emit("{\"s\":\" lead\\nx\",\"t\":\"\\nx\",\"u\":\"a\\r\\nb\"}",
               "s: \" lead\\nx\"\nt: \"\\nx\"\nu: \"a\\r\\nb\"\n");
}

/* parse(emit(x)) == x for values chosen to trip a naive emitter. */
TEST(yaml_round_trip_nasty_values)
{
    static const char *const strs[] = {
        "", " ", "true", "False", "NULL", "~", "yes", "No", "on", "y", "123", "-7", "+1", "0x1F",
        "0o7", "0644", "1e3", "1.", ".5", ".inf", "-.Inf", ".NaN", "1_000", "1:30", "0b101", "-",
        "--", "---", "...", "- a", "? x", ": x", ":x", "x:", "a: b", "a #b", "#c", "a#b", "&a", "*a",
        "!tag", "|", ">", "'", "\"", "%", "@", "`", "[", "]", "{", "}", ",", "a,b", "<<", "=",
        "\t", "a\tb", "x\n", "\n", "\n\n", "a\n\nb\n\n", " a\nb", "a\r\nb", "trailing \nspace ",
        "\xc2\x85", "\xe2\x80\xa8", "\xef\xbb\xbf", "\x7f", "\x01\x02", "é ü 日本",
        "{\"json\": true}", "a'b\"c\\d", "multi\n  indented\n\tlines\n", "#!/bin/sh\necho hi\n",
        "key: value\n- item\n", "   ", "x ", "0.0.0.0", "1.2.3", "2024-01-01", "12:30:00"};
    json_t *root = json_object(), *arr = json_array();
    struct orc_buf b = ORC_BUF_INIT;

    for (size_t i = 0; i < ORC_ARRAY_LEN(strs); i++) {
        json_array_append_new(arr, json_string(strs[i]));
        json_object_set_new(root, strs[i], json_string(strs[i]));
    }
    json_array_append_new(arr, json_stringn("nul\0byte", 8));
    json_object_set_new(root, "list", arr);
    json_object_set_new(root, "nested", json_pack("{s:[{s:[[],{}]},[[1]]],s:{s:{}}}", "a", "b", "c",
                                                  "d", "e"));
    json_object_set_new(root, "nums", json_pack("[i,f,f,f,I,I]", 0, 0.1, -1e-7, 1e21,
                                                (json_int_t)INT64_MAX, (json_int_t)INT64_MIN));
    CHECK_INT(orc_yaml_emit(root, &b), ==, 0);
    json_t *docs = orc_yaml_parse(b.data, b.len, errbuf, sizeof errbuf);
    CHECKF(docs != NULL, "%s\n%s", errbuf, b.data);
    CHECK_INT(json_array_size(docs), ==, 1);
    json_t *back = json_array_get(docs, 0);
    if (!json_equal(root, back)) {
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            json_t *w = json_object_get(back, k);
            char *a = orc_json_dumps(v), *c = w ? orc_json_dumps(w) : NULL;
            CHECKF(w && json_equal(v, w), "key %s: %s came back as %s\n%s", k, a, c ? c : "(missing)",
                   b.data);
            free(a);
            free(c);
        }
        CHECKF(0, "key count differs");
    }
    json_decref(docs);
    orc_buf_free(&b);
    json_decref(root);
}

/* What kubectl writes, we read: a fragment of `kubectl get -o yaml`. */
TEST(yaml_reads_kubectl_output)
{
    check_doc("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n"
              "    kubectl.kubernetes.io/last-applied-configuration: |\n"
              "      {\"apiVersion\":\"v1\",\"data\":{\"k\":\"v\"}}\n"
              "  creationTimestamp: \"2024-05-01T10:00:00Z\"\n  name: cfg\n  resourceVersion: \"42\"\n"
              "data:\n  k: v\n  port: \"8080\"\n",
              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":"
              "{\"kubectl.kubernetes.io/last-applied-configuration\":"
              "\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"v\\\"}}\\n\"},"
              "\"creationTimestamp\":\"2024-05-01T10:00:00Z\",\"name\":\"cfg\",\"resourceVersion\":\"42\"},"
              "\"data\":{\"k\":\"v\",\"port\":\"8080\"}}");
}
