/* fuzz_smp.c — libFuzzer target for strategic merge patch (lib/smp.c)
 * with the API server's own merge keys (apiserver/schema*.c). The first
 * input byte picks the kind; the rest is the live object and the patch,
 * as JSON, separated by a NUL byte. Checked beyond "no crash": the patch
 * is never changed, a failure leaves the document as it was, and a patch
 * applied to a document without directives leaves none behind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/schema.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/smp.h"

static bool is_directive(const char *key)
{
    return strcmp(key, "$patch") == 0 || strcmp(key, "$retainKeys") == 0
           || strncmp(key, "$setElementOrder/", 17) == 0
           || strncmp(key, "$deleteFromPrimitiveList/", 25) == 0;
}

static bool has_directive(const json_t *v)
{
    const char *key;
    json_t *m;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, m) if (is_directive(key) || has_directive(m)) return true;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m) if (has_directive(m)) return true;
    }
    return false;
}

static void fail(const char *what, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_ENCODE_ANY | JSON_COMPACT);
    fprintf(stderr, "fuzz_smp: %s: %s\n", what, s ? s : "?");
    free(s);
    abort();
}

static void apply(const struct orc_kind *k, json_t *doc, json_t *patch)
{
    struct orc_smp_schema sch;
    json_t *before = json_deep_copy(doc), *patch_before = json_deep_copy(patch);
    bool clean = !has_directive(doc);
    char err[512];
    int rv;

    api_schema_smp(k, &sch);
    rv = orc_smp_apply(&doc, patch, &sch, err, sizeof err);
    if (rv != 0 && rv != ORC_EINVAL && rv != ORC_EPROTO) fail("unexpected error code", doc);
    if (rv != 0 && !json_equal(doc, before)) fail("a failed patch changed the document", doc);
    if (rv == 0 && !json_is_object(doc)) fail("the result is not an object", doc);
    if (rv == 0 && clean && has_directive(doc)) fail("a directive was stored", doc);
    if (!json_equal(patch, patch_before)) fail("the patch was changed", patch);
    json_decref(before);
    json_decref(patch_before);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1, *sep;
    const struct orc_kind *kinds;
    size_t n, len;
    char err[256];
    json_t *doc, *patch;

    if (size < 2) return 0;
    kinds = orc_kinds(&n);
    len = size - 1;
    if ((sep = memchr(text, '\0', len)) == NULL) return 0;
    doc = orc_json_parse(text, (size_t)(sep - text), err, sizeof err);
    patch = orc_json_parse(sep + 1, len - (size_t)(sep - text) - 1, err, sizeof err);
    if (json_is_object(doc) && patch) apply(&kinds[data[0] % n], json_incref(doc), patch);
    json_decref(doc);
    json_decref(patch);
    return 0;
}
