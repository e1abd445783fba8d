/* json.h — small helpers over jansson used everywhere objects are handled.
 * Paths are dotted object keys ("metadata.name"); no array indexing. */
#ifndef ORC_JSON_H
#define ORC_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* Borrowed reference to the value at `path`, or NULL. */
json_t *orc_json_get(const json_t *root, const char *path);
/* String at path, or NULL when absent or not a string. Borrowed. */
const char *orc_json_str(const json_t *root, const char *path);
/* Integer at path into *out; returns 0, or ORC_ENOENT / ORC_EINVAL. */
int orc_json_int(const json_t *root, const char *path, int64_t *out);
/* Sets `value` at path, creating intermediate objects; steals `value`
 * (also on error). Returns 0 or ORC_EINVAL when a step is not an object. */
int orc_json_set(json_t *root, const char *path, json_t *value);
/* Removes the key at path if present. */
void orc_json_del(json_t *root, const char *path);

/* The keys of an object sorted bytewise (as Go's sort.Strings, which
 * kubectl's output follows). The array is malloc'd (free() it, not the
 * strings, which belong to obj); NULL with *n = 0 when obj is empty,
 * absent or not an object. */
const char **orc_json_sorted_keys(const json_t *obj, size_t *n);

/* A deep copy whose objects have their keys sorted, at every depth: how
 * kubectl prints objects it did not compile in (-o yaml/json). New
 * reference, NULL on allocation failure. */
json_t *orc_json_sorted_copy(const json_t *v);

/* Equal as Kubernetes' Semantic.DeepEqual compares Go objects: a field
 * absent, null, {} or [] is the same (in Go, a struct field one client
 * omits and another sends as `resources: {}` decodes alike). Else as
 * json_equal, at every depth. NULL is absent. */
bool orc_json_semantic_equal(const json_t *a, const json_t *b);

/* json_loadb, faster (json_load.c): the same tree for the same text, and for
 * text it does not take (errors, JSON_DISABLE_EOF_CHECK,
 * JSON_DECODE_INT_AS_REAL, numbers that overflow, nesting past 1,024) it is
 * json_loadb itself, error and all. New reference. */
json_t *orc_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err);
/* Length of the valid UTF-8 sequence starting at s (s < end), or 0: RFC
 * 3629 as jansson checks it (no overlong forms, no surrogates, nothing past
 * U+10FFFF). */
size_t orc_utf8_len(const unsigned char *s, const unsigned char *end);
/* Its fast path alone: NULL for whatever it leaves to json_loadb (for the
 * differential fuzz target and tests). */
json_t *orc_json_loadb_fast(const char *buf, size_t len, size_t flags);

/* Parses JSON text. On error returns NULL and writes "line L column C: why"
 * into errmsg (errlen bytes). New reference. */
json_t *orc_json_parse(const char *text, size_t len, char *errmsg, size_t errlen);
/* Compact serialization (key order preserved) appended to out. */
int orc_json_dump(const json_t *v, struct orc_buf *out);
/* Its fast path alone (json_dump.c): the same bytes as jansson's compact
 * dump, or an error with out as it was (invalid UTF-8, nesting past 512:
 * left to jansson). For tests. */
int orc_json_dump_fast(const json_t *v, struct orc_buf *out);
/* Same, as a malloc'd string (free()), or NULL on error. */
char *orc_json_dumps(const json_t *v);
/* Indented (4 spaces) serialization, as `kubectl -o json` prints, with a
 * trailing newline. */
int orc_json_dump_pretty(const json_t *v, struct orc_buf *out);

#endif
