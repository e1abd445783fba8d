/* smp_int.h — shared by smp.c (objects, directives, the entry point) and
 * smp_list.c (lists: merging by key or as sets, element order). Internal to
 * lib/. Every function works on private copies of the document and the
 * patch, changing them in place; json_t ** slots hold a reference the
 * function may replace. */
#ifndef ORC_SMP_INT_H
#define ORC_SMP_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/smp.h"

struct smp {
    orc_smp_lookup_fn lookup;
    char *err;
    size_t errlen;
};

/* Records a message and returns code. */
int smp_fail(struct smp *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Compact text of v for messages, at most ~200 bytes; malloc'd or NULL. */
char *smp_show(const json_t *v);

/* What is known of field `key` below `type` (zeroed when nothing). */
void smp_field(struct smp *s, const void *type, const char *key, struct orc_smp_field *f);

/* Makes a value taken whole from the patch fit to store: drops null
 * members and directives, recursively. False when v itself is a directive
 * ({"$patch": ...}) and must not be kept at all. */
bool smp_clean(json_t *v);

/* Merges patch object p into the object *o (replaced for $patch). */
int smp_merge_map(struct smp *s, json_t **o, json_t *p, const void *type);

/* A list member of an object: *ol (the live list) merged with pl as f
 * says; del_list: pl lists scalars to delete ($deleteFromPrimitiveList). */
int smp_merge_list(struct smp *s, json_t **ol, json_t *pl, const struct orc_smp_field *f,
                   bool del_list);

/* $setElementOrder/<name> of patch object p: merges p[name] into o[name]
 * (both may be absent), orders the result by `order` and removes p[name]. */
int smp_order_list(struct smp *s, json_t *o, json_t *p, const char *name, json_t *order,
                   const void *type);

#endif
