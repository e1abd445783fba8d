/* yaml.h — YAML <-> JSON (jansson) for manifests and `-o yaml` output.
 * Scalars follow the YAML 1.2 core schema: true/false, null/~/empty,
 * integers (decimal, 0x, 0o), floats; quoted scalars and everything else
 * are strings. One exception keeps Kubernetes manifests meaning what they
 * mean there: a leading-zero integer is octal ("defaultMode: 0644" is 420).
 * .inf/.nan are errors (JSON cannot hold them). Anchors/aliases (copied,
 * with a size cap) and `<<` merge keys work. */
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
 * contain special characters, multi-line strings as "|" blocks. Strings a
 * YAML 1.1 reader (kubectl's) would take as bools, numbers or timestamps
 * ("yes", "1_000", "2024-06-01") are quoted too. On error nothing is
 * appended. */
int orc_yaml_emit(const json_t *v, struct orc_buf *out);

#endif
