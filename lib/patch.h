/* patch.h — JSON merge patch (RFC 7386), kubectl-style three-way merge
 * patches, and JSON patch (RFC 6902). */
#ifndef ORC_PATCH_H
#define ORC_PATCH_H

#include <jansson.h>
#include <stddef.h>

/* Applies merge patch `patch` to `target` and returns the result. Steals
 * `target` (it may be modified in place and returned, or released);
 * `patch` is only read. NULL only on allocation failure. */
json_t *orc_merge_patch_apply(json_t *target, const json_t *patch);

/* The merge patch that turns `from` into `to` (keys missing in `to` become
 * null; arrays are replaced whole). Returns a new object, empty ({}) when
 * they are equal; NULL on allocation failure. Both must be objects. */
json_t *orc_merge_patch_create(const json_t *from, const json_t *to);

/* kubectl apply's patch: deletions of fields present in `original` (the
 * last-applied configuration, may be NULL) but absent from `modified`, plus
 * every value of `modified` that differs from `current` (the live object).
 * Fields only in `current` (server defaults, status) are left alone.
 * Returns a new object ({} when nothing changes). */
json_t *orc_merge_patch_three_way(const json_t *original, const json_t *modified,
                                  const json_t *current);

/* Applies an RFC 6902 patch (array of {op, path, value|from}) to *doc,
 * replacing *doc with the result. Ops: add, remove, replace, move, copy,
 * test; JSON pointers with ~0/~1 escapes and "-" for append. All or
 * nothing: on error *doc is unchanged, and errmsg says which op (by index)
 * and path failed and why. Returns 0, ORC_EINVAL (bad patch) or
 * ORC_ECONFLICT (a failed "test" op). */
int orc_json_patch_apply(json_t **doc, const json_t *patch, char *errmsg, size_t errlen);

#endif
