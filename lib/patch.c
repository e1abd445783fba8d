/* patch.c — RFC 7386 JSON merge patches: apply, create (diff), and
 * kubectl apply's three-way patch. RFC 6902 lives in jsonpatch.c. */
#include "lib/patch.h"

#include <stdbool.h>

#include "lib/orc.h"

json_t *orc_merge_patch_apply(json_t *target, const json_t *patch)
{
    const char *k;
    size_t klen;
    json_t *pv;

    if (!json_is_object(patch)) {
        json_decref(target);
        return json_deep_copy(patch);
    }
    if (!json_is_object(target)) {
        json_decref(target);
        if ((target = json_object()) == NULL) return NULL;
    }
    json_object_keylen_foreach ((json_t *)patch, k, klen, pv) {
        if (json_is_null(pv)) {
            json_object_deln(target, k, klen);
            continue;
        }
        /* The recursive call steals its target: lend it our reference. */
        json_t *merged = orc_merge_patch_apply(json_incref(json_object_getn(target, k, klen)), pv);
        if (merged == NULL || json_object_setn_new(target, k, klen, merged) != 0) {
            json_decref(target);
            return NULL;
        }
    }
    return target;
}

/* Adds key -> value (stolen) to patch; false on allocation failure. */
static bool put(json_t *patch, const char *k, size_t klen, json_t *value)
{
    return value != NULL && json_object_setn_new(patch, k, klen, value) == 0;
}

json_t *orc_merge_patch_create(const json_t *from, const json_t *to)
{
    json_t *patch = json_object(), *fv, *tv;
    const char *k;
    size_t klen;

    if (patch == NULL) return NULL;
    json_object_keylen_foreach ((json_t *)from, k, klen, fv)
        if (json_object_getn(to, k, klen) == NULL && !put(patch, k, klen, json_null())) goto err;
    json_object_keylen_foreach ((json_t *)to, k, klen, tv) {
        fv = json_object_getn(from, k, klen);
        if (fv && json_is_object(fv) && json_is_object(tv)) {
            json_t *sub = orc_merge_patch_create(fv, tv);
            if (sub == NULL) goto err;
            if (json_object_size(sub) == 0) json_decref(sub);
            else if (!put(patch, k, klen, sub)) goto err;
        } else if (fv == NULL || !json_equal(fv, tv)) {
            if (!put(patch, k, klen, json_deep_copy(tv))) goto err;
        }
    }
    return patch;
err:
    json_decref(patch);
    return NULL;
}

/* kubectl's keepOrDeleteNullInObj: keep_null keeps only deletions, else only
 * additions and changes. An explicitly empty object is a value, not an
 * empty sub-patch. Returns a new object or NULL. */
static json_t *filter_nulls(const json_t *patch, bool keep_null)
{
    json_t *out = json_object(), *v;
    const char *k;
    size_t klen;

    if (out == NULL) return NULL;
    json_object_keylen_foreach ((json_t *)patch, k, klen, v) {
        json_t *nv = NULL;
        if (json_is_null(v)) {
            if (!keep_null) continue;
            nv = json_null();
        } else if (json_is_object(v) && json_object_size(v) > 0) {
            if ((nv = filter_nulls(v, keep_null)) == NULL) goto err;
            if (json_object_size(nv) == 0) {
                json_decref(nv);
                continue;
            }
        } else {
            if (keep_null) continue;
            nv = json_incref(v);
        }
        if (!put(out, k, klen, nv)) goto err;
    }
    return out;
err:
    json_decref(out);
    return NULL;
}

/* Patch-to-patch merge: `extra` wins where both have a value; nested
 * objects merge. Steals base. */
static json_t *merge_patches(json_t *base, const json_t *extra)
{
    return orc_merge_patch_apply(base, extra);
}

json_t *orc_merge_patch_three_way(const json_t *original, const json_t *modified,
                                  const json_t *current)
{
    json_t *empty = NULL, *diff = NULL, *adds = NULL, *dels = NULL, *patch = NULL;

    if ((empty = json_object()) == NULL) return NULL;
    if (!json_is_object(original)) original = empty;
    if (!json_is_object(current)) current = empty;
    if ((diff = orc_merge_patch_create(current, modified)) == NULL) goto out;
    if ((adds = filter_nulls(diff, false)) == NULL) goto out;
    json_decref(diff);
    if ((diff = orc_merge_patch_create(original, modified)) == NULL) goto out;
    if ((dels = filter_nulls(diff, true)) == NULL) goto out;
    /* adds holds no nulls, so applying it to dels only adds and overrides. */
    patch = merge_patches(json_incref(dels), adds);
out:
    json_decref(diff);
    json_decref(adds);
    json_decref(dels);
    json_decref(empty);
    return patch;
}
