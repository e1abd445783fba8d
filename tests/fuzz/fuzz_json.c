/* fuzz_json.c — libFuzzer target for lib/json.c: the JSON text of every
 * request body. Whatever parses must serialize (compact and indented) and
 * parse back to the same value, and the path helpers must not trip on it. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/json.h"

static void roundtrip(const json_t *v, struct orc_buf *text)
{
    char err[256];
    json_t *back = orc_json_parse(text->data, text->len, err, sizeof err);

    if (back == NULL || !json_equal(v, back)) abort(); /* our own output must read back */
    json_decref(back);
}

static void paths(const json_t *v)
{
    static const char *const probe[] = {"metadata.name", "metadata", "spec.replicas", "a..b", ".", ""};
    int64_t n;

    for (size_t i = 0; i < sizeof probe / sizeof *probe; i++) {
        (void)orc_json_str(v, probe[i]);
        (void)orc_json_int(v, probe[i], &n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct orc_buf out = ORC_BUF_INIT;
    json_t *v = orc_json_parse((const char *)data, size, err, sizeof err);

    if (v == NULL) return 0;
    if (orc_json_dump(v, &out) != 0) abort();
    roundtrip(v, &out);
    orc_buf_free(&out);
    if (orc_json_dump_pretty(v, &out) != 0) abort();
    roundtrip(v, &out);
    orc_buf_free(&out);
    json_t *sorted = orc_json_sorted_copy(v);
    if (sorted == NULL || !json_equal(v, sorted)) abort();
    json_decref(sorted);
    paths(v);
    json_decref(v);
    return 0;
}
