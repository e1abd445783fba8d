/* lastapplied.c — kubectl apply's bookkeeping: the manifest recorded in the
 * last-applied-configuration annotation, and the three-way merge patch that
 * also removes what was dropped from the manifest since the last apply. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/patch.h"

/* The annotations object of obj, created when missing. Borrowed. */
static json_t *annotations_of(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata"), *ann;

    if (!json_is_object(meta)) {
        if ((meta = json_object()) == NULL || json_object_set_new(obj, "metadata", meta) != 0)
            return NULL;
    }
    ann = json_object_get(meta, "annotations");
    if (!json_is_object(ann)) {
        if ((ann = json_object()) == NULL || json_object_set_new(meta, "annotations", ann) != 0)
            return NULL;
    }
    return ann;
}

json_t *cli_apply_modified(const json_t *manifest)
{
    json_t *obj = json_deep_copy(manifest), *ann;
    char *text = NULL, *value = NULL;

    if (obj == NULL || (ann = annotations_of(obj)) == NULL) goto fail;
    /* kubectl serializes the manifest without the annotation itself (an
     * empty annotations map stays), keys sorted, newline-terminated, so
     * annotations written by either tool read the same. */
    json_object_del(ann, CLI_LAST_APPLIED);
    text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL || (value = malloc(strlen(text) + 2)) == NULL) goto fail;
    strcpy(value, text);
    strcat(value, "\n");
    if (json_object_set_new(ann, CLI_LAST_APPLIED, json_string(value)) != 0) goto fail;
    free(text);
    free(value);
    return obj;
fail:
    free(text);
    free(value);
    json_decref(obj);
    return NULL;
}

json_t *cli_apply_patch(const json_t *modified, const json_t *live)
{
    json_t *original = NULL, *patch;
    const char *last = json_string_value(json_object_get(orc_json_get(live, "metadata.annotations"),
                                             CLI_LAST_APPLIED));
    /* An unreadable annotation is treated as absent, as kubectl does. */
    if (last) original = json_loads(last, 0, NULL);
    if (original && !json_is_object(original)) {
        json_decref(original);
        original = NULL;
    }
    patch = orc_merge_patch_three_way(original, modified, live);
    json_decref(original);
    return patch;
}
