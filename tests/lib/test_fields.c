/* test_fields.c — field selector parsing, escapes and matching. */
#include <jansson.h>

#include "lib/fields.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static json_t *pod(void)
{
    json_t *o = json_loads("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\"},"
                           "\"spec\":{\"nodeName\":\"n1\",\"priority\":5,\"hostNetwork\":true},"
                           "\"status\":{\"phase\":\"Running\"}}", 0, NULL);
    CHECK(o != NULL);
    return o;
}

static bool match(const char *sel, const json_t *obj)
{
    orc_fieldsel *fs;
    char msg[256];
    CHECKF(orc_fieldsel_parse(sel, &fs, msg, sizeof msg) == 0, "%s: %s", sel, msg);
    bool m = orc_fieldsel_matches(fs, obj);
    orc_fieldsel_free(fs);
    return m;
}

TEST(fields_match)
{
    json_t *o = pod();
    CHECK(match("", o));
    CHECK(match("metadata.name=web-1", o));
    CHECK(match("metadata.name==web-1", o));
    CHECK(!match("metadata.name!=web-1", o));
    CHECK(match("status.phase!=Pending,metadata.namespace=prod", o));
    CHECK(!match("status.phase=Running,metadata.namespace=dev", o));
    CHECK(match("spec.priority=5", o));
    CHECK(match("spec.hostNetwork=true", o));
    CHECK(match("spec.missing=", o));
    CHECK(!match("spec.missing=x", o));
    CHECK(match("spec.missing!=x", o));
    CHECK(match("spec=", o)); /* objects compare as "" */
    json_decref(o);
}

TEST(fields_parse_terms_and_escapes)
{
    orc_fieldsel *fs;
    char msg[256];
    CHECK_INT(orc_fieldsel_parse("a=b\\,c,d!=e\\=f,g==", &fs, msg, sizeof msg), ==, 0);
    CHECK_INT(orc_fieldsel_count(fs), ==, 3);
    CHECK_STR(orc_fieldsel_path(fs, 0), "a");
    CHECK_STR(orc_fieldsel_path(fs, 1), "d");
    CHECK_STR(orc_fieldsel_path(fs, 2), "g");
    CHECK(orc_fieldsel_path(fs, 3) == NULL);
    json_t *o = json_pack("{s:s, s:s, s:s}", "a", "b,c", "d", "x", "g", "");
    CHECK(orc_fieldsel_matches(fs, o));
    json_object_set_new(o, "d", json_string("e=f"));
    CHECK(!orc_fieldsel_matches(fs, o));
    json_decref(o);
    orc_fieldsel_free(fs);
}

TEST(fields_parse_errors)
{
    const char *bad[] = {"metadata.name", "=x", "a=b,", "a=b\\x", "a=b,,c=d"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
        orc_fieldsel *fs = (orc_fieldsel *)1;
        char msg[256] = "";
        CHECKF(orc_fieldsel_parse(bad[i], &fs, msg, sizeof msg) == ORC_EINVAL, "%s", bad[i]);
        CHECK(fs == NULL);
        CHECKF(strstr(msg, "invalid field selector") != NULL, "%s: %s", bad[i], msg);
    }
}
