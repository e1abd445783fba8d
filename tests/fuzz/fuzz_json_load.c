/* fuzz_json_load.c — libFuzzer target for lib/json_load.c and
 * lib/json_dump.c, differential: whatever the fast parser takes, jansson
 * takes too and builds the same tree (same dump, key order included);
 * orc_json_loadb answers as json_loadb; orc_json_dump writes jansson's
 * compact text. The first byte picks the flags. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"

static const size_t flag_sets[] = {
    0, JSON_ALLOW_NUL, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
    JSON_REJECT_DUPLICATES, JSON_DISABLE_EOF_CHECK,
};

static int same(const json_t *a, const json_t *b)
{
    char *x = json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT);
    char *y = json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT);
    int eq = x && y && strcmp(x, y) == 0 && json_equal(a, b);
    free(x);
    free(y);
    return eq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t flags = flag_sets[data[0] % (sizeof flag_sets / sizeof *flag_sets)];
    const char *text = (const char *)data + 1;
    json_error_t e1, e2;
    json_t *ref = json_loadb(text, size - 1, flags, &e1);
    json_t *fast = orc_json_loadb_fast(text, size - 1, flags);
    json_t *both = orc_json_loadb(text, size - 1, flags, &e2);

    if (fast && (!ref || !same(ref, fast))) abort();
    if ((ref == NULL) != (both == NULL)) abort();
    if (ref && !same(ref, both)) abort();
    if (!ref && strcmp(e1.text, e2.text) != 0) abort();
    if (ref) {
        char *text = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        struct orc_buf out = {NULL, 0, 0};
        if (text && (orc_json_dump(ref, &out) != 0 || strcmp(out.data, text) != 0)) abort();
        free(text);
        orc_buf_free(&out);
    }
    json_decref(ref);
    json_decref(fast);
    json_decref(both);
    return 0;
}
