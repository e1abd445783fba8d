/* yaml_scalar.h — internal to lib/yaml*.c: how a plain YAML scalar resolves,
 * shared by the parser (to type values) and the emitter (to know when a
 * string must be quoted to stay a string). */
#ifndef ORC_YAML_SCALAR_H
#define ORC_YAML_SCALAR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Resolves a plain scalar by the YAML 1.2 core schema, plus Kubernetes'
 * octal ("0644" -> 420, as its YAML 1.1 reader does). On success *out is a
 * new null/boolean/integer/real, or NULL when the scalar is a string.
 * ORC_EINVAL for .inf/.nan (JSON cannot hold them); ORC_ENOMEM. */
int orc_yaml_resolve_plain(const char *s, size_t len, json_t **out);

/* True when a plain scalar `s` would be read as something other than this
 * string by our parser or by a YAML 1.1 reader (yes/no/on/off, 1_000,
 * 0b101, 1:30, ...): such strings must be quoted. */
bool orc_yaml_plain_is_typed(const char *s, size_t len);

#endif
