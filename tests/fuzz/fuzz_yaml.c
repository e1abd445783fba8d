/* fuzz_yaml.c — libFuzzer target for lib/yaml.c: manifests sent as
 * application/yaml and read by orctl. Whatever parses must emit as YAML
 * that parses back to the same documents (how `-o yaml` output is meant to
 * be applied again). */
#include <stdint.h>
#include <stdlib.h>

#include "lib/buf.h"
#include "lib/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_t *docs = orc_yaml_parse((const char *)data, size, err, sizeof err);
    json_t *doc;
    size_t i;

    if (docs == NULL) return 0;
    json_array_foreach(docs, i, doc) {
        struct orc_buf out = ORC_BUF_INIT;
        if (orc_yaml_emit(doc, &out) != 0) abort();
        json_t *back = orc_yaml_parse(out.data, out.len, err, sizeof err);
        if (back == NULL || json_array_size(back) != 1 || !json_equal(doc, json_array_get(back, 0)))
            abort(); /* our own output must read back as the same document */
        json_decref(back);
        orc_buf_free(&out);
    }
    json_decref(docs);
    return 0;
}
