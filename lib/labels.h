/* labels.h — label selectors: the string form used in ?labelSelector= and
 * `orctl get -l`, and the LabelSelector object form used in specs. */
#ifndef ORC_LABELS_H
#define ORC_LABELS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

typedef struct orc_selector orc_selector;

/* Parses "a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j". An empty string is
 * the selector that matches everything. On error returns ORC_EINVAL with a
 * message naming the offending term. *out is owned by the caller. */
int orc_selector_parse(const char *s, orc_selector **out, char *msg, size_t n);

/* From a LabelSelector object {matchLabels:{}, matchExpressions:[{key,
 * operator: In|NotIn|Exists|DoesNotExist, values:[]}]}; keys and values are
 * validated. NULL or {} matches everything. */
int orc_selector_from_json(const json_t *sel, orc_selector **out, char *msg, size_t n);

/* `labels` is an object of string values, or NULL (no labels). */
bool orc_selector_matches(const orc_selector *sel, const json_t *labels);
bool orc_selector_is_empty(const orc_selector *sel);
/* Canonical string form ("app=web,tier in (a,b)"). */
int orc_selector_string(const orc_selector *sel, struct orc_buf *out);
void orc_selector_free(orc_selector *sel);

#endif
