/* podspec_int.h — helpers shared by agent/podspec*.c and agent/volume.c:
 * growable string arrays, $(VAR) expansion, quantities in JSON. */
#ifndef ORC_AGENT_PODSPEC_INT_H
#define ORC_AGENT_PODSPEC_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* A NULL-terminated array of malloc'd strings under construction. */
struct podspec_strv {
    char **v;
    size_t n, cap;
};

/* Appends s, which it takes (freed on failure; NULL means an allocation
 * already failed): 0 or ORC_ENOMEM. */
int podspec_strv_push(struct podspec_strv *s, char *str);

/* Value of variable name[0..len) or NULL when unknown. */
typedef const char *(*podspec_map_fn)(void *arg, const char *name, size_t len);

/* podspec_map_fn over "NAME=value" strings (arg: char *const *, NULL-
 * terminated, may be NULL); the last entry of a name wins. */
const char *podspec_env_lookup(void *arg, const char *name, size_t len);

/* Kubernetes' $(VAR) expansion of in into a malloc'd string (NULL on
 * ORC_ENOMEM): $$ is a literal $, unknown or unterminated references stay
 * as written. */
char *podspec_expand(const char *in, podspec_map_fn map, void *arg);

struct podspec_lookup;
/* Appends the Service environment variables of the pod (podspec.h's
 * podspec_env says which) to out, sorted by Service. 0 or ORC_ENOMEM. */
int podspec_service_env(const json_t *pod, const struct podspec_lookup *lk, struct podspec_strv *out);

/* A resource quantity (string, or JSON number of whole units) in
 * thousandths. *present false and 0 when v is NULL; ORC_EINVAL when it
 * does not parse. */
int podspec_qty(const json_t *v, int64_t *milli, bool *present);

/* The buffer's text as a malloc'd string ("" when empty), or NULL on
 * ORC_ENOMEM; the buffer is left empty either way. */
char *podspec_buf_str(struct orc_buf *b);

#endif
