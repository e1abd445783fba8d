/* test_apply.c — what `orctl apply` sends: the last-applied annotation (the
 * same text kubectl writes, so the two tools can take turns) and the
 * three-way patch that also removes fields dropped from the manifest. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    CHECKF(v != NULL, "fixture: %s", e.text);
    return v;
}

static const char *last_applied(const json_t *obj)
{
    return json_string_value(json_object_get(orc_json_get(obj, "metadata.annotations"), CLI_LAST_APPLIED));
}

static void check_patch(const char *modified_manifest, const char *live, const char *want)
{
    json_t *m = parse(modified_manifest), *mod = cli_apply_modified(m), *l = parse(live);
    json_t *patch = cli_apply_patch(mod, l), *w = parse(want);
    char *got = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);

    CHECKF(json_equal(patch, w), "patch %s", got);
    free(got);
    json_decref(m);
    json_decref(mod);
    json_decref(l);
    json_decref(patch);
    json_decref(w);
}

TEST(annotation_is_kubectls_text)
{
    json_t *m = parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"nginx\","
                      "\"namespace\":\"default\",\"labels\":{\"app\":\"nginx\"}},\"spec\":{\"replicas\":3}}");
    json_t *mod = cli_apply_modified(m);

    /* Keys sorted, compact, an empty annotations map, a trailing newline:
     * byte for byte what kubectl 1.x writes for this manifest. */
    CHECK_STR(last_applied(mod),
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},"
              "\"labels\":{\"app\":\"nginx\"},\"name\":\"nginx\",\"namespace\":\"default\"},"
              "\"spec\":{\"replicas\":3}}\n");
    /* The manifest itself is not changed. */
    CHECK(orc_json_get(m, "metadata.annotations") == NULL);
    CHECK_STR(orc_json_str(mod, "metadata.name"), "nginx");
    json_decref(m);
    json_decref(mod);
}

TEST(annotation_never_nests_a_previous_one)
{
    json_t *m = parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"annotations\":{"
                      "\"team\":\"a\",\"" CLI_LAST_APPLIED "\":\"{old}\"}}}");
    json_t *mod = cli_apply_modified(m);

    CHECK_STR(last_applied(mod), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":"
                                 "{\"team\":\"a\"},\"name\":\"c\"}}\n");
    CHECK_STR(orc_json_str(mod, "metadata.annotations.team"), "a");
    json_decref(m);
    json_decref(mod);
}

/* The live object as the server returns it after a first apply of `first`. */
static char *live_after(const char *first, const char *server_extra_spec)
{
    json_t *m = parse(first), *mod = cli_apply_modified(m);
    char *text;

    orc_json_set(mod, "metadata.uid", json_string("0b7c"));
    orc_json_set(mod, "metadata.resourceVersion", json_string("12"));
    orc_json_set(mod, "spec.strategy", parse(server_extra_spec));
    orc_json_set(mod, "status.replicas", json_integer(3));
    text = json_dumps(mod, JSON_COMPACT);
    json_decref(m);
    json_decref(mod);
    return text;
}

static const char v1[] = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
                         "\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},\"spec\":{\"replicas\":3,\"paused\":false}}";

TEST(unchanged_manifest_patches_nothing)
{
    char *live = live_after(v1, "{\"type\":\"RollingUpdate\"}");
    check_patch(v1, live, "{}");
    free(live);
}

TEST(changed_and_removed_fields_are_patched_server_fields_kept)
{
    char *live = live_after(v1, "{\"type\":\"RollingUpdate\"}");
    /* replicas changed, label tier and spec.paused dropped from the manifest. */
    const char *v2 = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
                     "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":5}}";
    json_t *m = parse(v2), *mod = cli_apply_modified(m);
    json_t *ann_value = json_object_get(orc_json_get(mod, "metadata.annotations"), CLI_LAST_APPLIED);
    char *want = NULL, *ann = json_dumps(ann_value, JSON_ENCODE_ANY);

    CHECK(asprintf(&want, "{\"metadata\":{\"labels\":{\"tier\":null},\"annotations\":{\"%s\":%s}},"
                          "\"spec\":{\"replicas\":5,\"paused\":null}}",
                   CLI_LAST_APPLIED, ann) > 0);
    check_patch(v2, live, want);
    free(ann);
    free(want);
    free(live);
    json_decref(m);
    json_decref(mod);
}

TEST(object_created_without_apply_loses_nothing)
{
    /* No last-applied annotation: nothing is known to be removed, so
     * fields only the live object has stay. */
    const char *live = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},"
                       "\"data\":{\"a\":\"1\",\"b\":\"2\"}}";
    const char *manifest = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},"
                           "\"data\":{\"a\":\"1\"}}";
    json_t *m = parse(manifest), *mod = cli_apply_modified(m), *l = parse(live);
    json_t *patch = cli_apply_patch(mod, l);

    CHECK(json_object_get(patch, "data") == NULL);
    CHECK(last_applied(patch) != NULL);
    json_decref(m);
    json_decref(mod);
    json_decref(l);
    json_decref(patch);
}

TEST(unreadable_annotation_counts_as_absent)
{
    const char *live = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"annotations\":"
                       "{\"" CLI_LAST_APPLIED "\":\"not json\"}},\"data\":{\"a\":\"1\",\"b\":\"2\"}}";
    const char *manifest = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},"
                           "\"data\":{\"a\":\"1\"}}";
    json_t *m = parse(manifest), *mod = cli_apply_modified(m), *l = parse(live);
    json_t *patch = cli_apply_patch(mod, l);

    CHECK(patch != NULL && json_object_get(patch, "data") == NULL);
    json_decref(m);
    json_decref(mod);
    json_decref(l);
    json_decref(patch);
}
