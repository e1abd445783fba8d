/* schema_patch.c — the field tables seen by lib/smp: each field's patch
 * strategy and merge key come from its table entry (schema_*.c), so one
 * table says how a field is checked, pruned and patched. */
#include "apiserver/schema.h"

#include <string.h>

static void lookup(const void *type, const char *key, struct orc_smp_field *out)
{
    const struct api_struct *st = type;

    for (const struct api_field *f = st->fields; f->name; f++) {
        if (strcmp(f->name, key) != 0) continue;
        out->strategy = f->patch;
        out->merge_key = f->merge_key;
        out->type = f->obj;
        return;
    }
}

bool api_schema_smp(const struct orc_kind *k, struct orc_smp_schema *out)
{
    out->lookup = lookup;
    out->root = api_schema_root(k);
    return out->root != NULL;
}
