/* test_json_fast.c — lib/json_load.c and lib/json_dump.c against jansson:
 * for every input (a table of edge cases, then random documents and random
 * mutations of them) the fast parser either declines or builds exactly
 * jansson's tree, orc_json_loadb answers what json_loadb answers, and the
 * fast dump writes jansson's compact text byte for byte. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "tests/harness/test.h"

static const size_t flag_sets[] = {
    0, JSON_ALLOW_NUL, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
    JSON_REJECT_DUPLICATES, JSON_DISABLE_EOF_CHECK, JSON_DECODE_INT_AS_REAL,
};

/* Same tree, same key order, same number types: dumped alike. */
static bool same(const json_t *a, const json_t *b)
{
    char *x = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
    char *y = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
    bool eq = x && y && strcmp(x, y) == 0 && json_equal(a, b);
    free(x);
    free(y);
    return eq;
}

/* The fast dump of v is jansson's compact dump, or declines (and refuses
 * whatever jansson refuses); orc_json_dump always writes jansson's text. */
static void check_dump(const json_t *v)
{
    char *ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    struct orc_buf out = ORC_BUF_INIT;
    int rv = orc_json_dump_fast(v, &out);

    if (ref == NULL) CHECKF(rv != 0, "the fast dump took what jansson refuses: %s", out.data);
    if (ref && rv == 0) CHECK_STR(out.data, ref);
    orc_buf_free(&out);
    if (ref && orc_json_dump(v, &out) == 0) CHECK_STR(out.data, ref);
    else CHECK(ref == NULL);
    free(ref);
    orc_buf_free(&out);
}

/* Returns 1 when the fast path took the text, 0 when it declined; *ok
 * (if given) counts what jansson took. */
static int compare_n(const char *text, size_t len, size_t flags, size_t *ok)
{
    json_error_t e1, e2;
    json_t *ref = json_loadb(text, len, flags, &e1);
    json_t *fast = orc_json_loadb_fast(text, len, flags);
    json_t *both = orc_json_loadb(text, len, flags, &e2);
    int took = fast != NULL;

    if (fast) CHECKF(ref && same(ref, fast), "fast path differs on %.*s (flags %zx)", (int)len, text, flags);
    CHECKF((ref == NULL) == (both == NULL), "outcome differs on %.*s", (int)len, text);
    if (ref && both) CHECKF(same(ref, both), "tree differs on %.*s", (int)len, text);
    if (!ref && !both) CHECK_STR(e2.text, e1.text);
    if (ok && ref) ++*ok;
    if (ref) check_dump(ref);
    json_decref(ref);
    json_decref(fast);
    json_decref(both);
    return took;
}

static int compare(const char *text, size_t len, size_t flags)
{
    return compare_n(text, len, flags, NULL);
}

static int compare_all_flags(const char *text, size_t len)
{
    int took = 0;
    for (size_t i = 0; i < sizeof flag_sets / sizeof *flag_sets; i++)
        took += compare(text, len, flag_sets[i]);
    return took;
}

static const char *const cases[] = {
    "{}", "[]", " { } ", "\t[\n]\r", "{\"a\":1}", "{\"a\":1,}", "[1,]", "[,1]", "{,}",
    "{\"a\" 1}", "{\"a\":}", "{1:2}", "{\"a\":1 \"b\":2}", "[1 2]", "[", "]", "{", "}", "",
    "   ", "null", "true", "false", "1", "\"s\"", "-1", "[truex]", "[nul]", "[True]",
    "[1x]", "[1.]", "[.5]", "[01]", "[-01]", "[-0]", "[-]", "[0.0]", "[1e5]", "[1E+5]",
    "[1e-5]", "[1e]", "[1e+]", "[--1]", "[+1]", "[0x10]", "[1.5e308]", "[1e309]", "[-1e309]",
    "[1e-400]", "[9223372036854775807]", "[-9223372036854775808]", "[9223372036854775808]",
    "[-9223372036854775809]", "[123456789012345678]", "[1234567890123456789]",
    "[0.1,0.2,3.14159265358979]", "[\"\\u0000\"]", "{\"\\u0000\":1}", "{\"a\\u0000b\":1}",
    "[\"\\ud83d\\ude00\"]", "[\"\\ud83d\"]", "[\"\\ude00\"]", "[\"\\ud83d\\u0041\"]",
    "[\"\\ud83dx\"]", "[\"\\u12\"]", "[\"\\uZZZZ\"]", "[\"\\x\"]", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
    "[\"a\tb\"]", "[\"a\nb\"]", "[\"\x7f\"]", "[\"\xc3\xa9\"]", "[\"\xc3\"]", "[\"\xc0\x80\"]",
    "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xf0\x9f\x98\x80\"]", "[\"\xe2\x82\xac\"]",
    "[\"\xe0\x80\xaf\"]", "[\"\xff\"]", "[\"\x80\"]", "\xef\xbb\xbf{}", "{\"a\":1,\"a\":2}",
    "{\"a\":{\"a\":[1,{\"b\":null}]}}", "[\"unterminated]", "{\"k\\n\":\"v\\n\"}",
    "{\"x\":\"\\u00e9\\u20ac\",\"y\":\"\\u0041\"}", "[1]   x", "[1] [2]", "{} ", "[\"\"]",
    "{\"\":\"\"}", "[[[[[]]]]]", "[\"a\\\"b\"]", "[1,\n2 ,\t3]",
};

TEST(edge_cases_match_jansson)
{
    int took = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        took += compare_all_flags(cases[i], strlen(cases[i]));
    /* An embedded NUL byte, outside and inside a string. */
    compare_all_flags("[1,\0 2]", 7);
    compare_all_flags("[\"a\0b\"]", 7);
    CHECK_INT(took, >, 100); /* the fast path does take the ordinary inputs */
}

TEST(dump_escapes_numbers_and_odd_strings_as_jansson)
{
    json_t *v = json_pack("{s:s#, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:[b,n,{}], s:{}}", "nul",
                          "a\0b\x01\x1f\x7f", (size_t)6, "esc", "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80",
                          "min", (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX, "r1", 1.0,
                          "r2", 0.1, "r3", 1e300, "r4", -2.5e-7, "arr", 0, "empty");
    CHECK(v != NULL);
    check_dump(v);
    /* A key with a NUL, and invalid UTF-8 (json_stringn_nocheck takes it). */
    json_object_setn_new_nocheck(v, "k\0ey", 4, json_stringn_nocheck("bad\xff", 4));
    check_dump(v);
    json_decref(v);
}

TEST(nesting_is_left_to_jansson_past_its_limit)
{
    for (size_t depth = 1000; depth <= 2100; depth += 50) {
        struct orc_buf b = ORC_BUF_INIT;
        for (size_t i = 0; i < depth; i++) CHECK_INT(orc_buf_append(&b, "[", 1), ==, 0);
        for (size_t i = 0; i < depth; i++) CHECK_INT(orc_buf_append(&b, "]", 1), ==, 0);
        compare_all_flags(b.data, b.len);
        orc_buf_free(&b);
    }
}

/* ---- random documents and mutations ---- */

static unsigned long long rng = 88172645463325252ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const atoms[] = {
    "\"name\"", "\"\\u00e9t\\u00e9\"", "\"\\ud83d\\ude00\"", "\"a\\nb\"", "\"\xc3\xa9\"", "\"\"",
    "0", "-7", "9223372036854775807", "3.25", "-1e-3", "1E2", "true", "false", "null",
};

static void gen(struct orc_buf *b, int depth)
{
    unsigned k = depth > 4 ? 2 : rnd(4);
    if (k == 0 || k == 1) {
        bool obj = k == 0;
        unsigned n = rnd(5);
        orc_buf_append(b, obj ? "{" : "[", 1);
        for (unsigned i = 0; i < n; i++) {
            if (i) {
                const char *sep = rnd(8) ? "," : " , ";
                orc_buf_append(b, sep, strlen(sep));
            }
            if (obj) orc_buf_printf(b, "\"k%u%s\":", rnd(6), rnd(10) ? "" : "\\t");
            gen(b, depth + 1);
        }
        orc_buf_append(b, obj ? "}" : "]", 1);
    } else {
        const char *a = atoms[rnd(sizeof atoms / sizeof *atoms)];
        orc_buf_append(b, a, strlen(a));
    }
}

static void mutate(struct orc_buf *b)
{
    static const char bytes[] = "{}[]\",:\\u0-1e.+ tfn\x80\xc3\xff\x00";
    unsigned n = 1 + rnd(3);
    for (unsigned i = 0; i < n && b->len; i++) {
        size_t at = rnd((unsigned)b->len);
        switch (rnd(3)) {
        case 0: b->data[at] = bytes[rnd(sizeof bytes - 1)]; break;
        case 1: memmove(b->data + at, b->data + at + 1, b->len - at - 1), b->len--; break;
        default:
            if (orc_buf_append(b, " ", 1) == 0) {
                memmove(b->data + at + 1, b->data + at, b->len - at - 1);
                b->data[at] = bytes[rnd(sizeof bytes - 1)];
            }
        }
    }
}

TEST(random_documents_and_mutations_match_jansson)
{
    size_t took = 0, ok = 0;
    for (int i = 0; i < 20000; i++) {
        struct orc_buf b = ORC_BUF_INIT;
        gen(&b, 0);
        took += (size_t)compare_n(b.data, b.len, flag_sets[rnd(3)], &ok);
        mutate(&b);
        compare(b.data, b.len, flag_sets[rnd(sizeof flag_sets / sizeof *flag_sets)]);
        orc_buf_free(&b);
    }
    /* Every well-formed document jansson takes, the fast path takes too. */
    CHECK_INT(took, ==, ok);
    CHECK_INT(took, >, 5000);
}
