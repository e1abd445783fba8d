/* yaml.h — YAML <-> JSON (jansson) for manifests and `-o yaml` output.
 * Scalars follow the YAML 1.2 core schema: true/false, null/~/empty,
 * integers (decimal, 0x, 0o), floats (incl. .inf/.nan); quoted scalars and
 * everything else are strings. Anchors/aliases and `<<` merge keys work. */
#ifndef ORC_YAML_H
#define ORC_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "lib/buf.h"

/* Parses a stream of one or more documents (JSON is accepted too: it is
 * YAML). Returns a new JSON array with one element per non-empty document.
 * On error returns NULL and writes "document N, line L, column C: why" into
 * errmsg. Duplicate mapping keys are an error. */
json_t *orc_yaml_parse(const char *text, size_t len, char *errmsg, size_t errlen);

/* Appends `v` as a YAML block document, the way kubectl prints it: keys in
 * object order, 2-space indent, sequences of mappings as "- key: v",
 * strings quoted only when they would otherwise read as another type or
 * contain special characters, multi-line strings as "|" blocks. */
int orc_yaml_emit(const json_t *v, struct orc_buf *out);

#endif
