/* table_int.h — what the printer files (lib/table_*.c) share: the row
 * being built, the cell helpers and the column rows every printer
 * repeats. Internal to lib/table*.c. */
#ifndef ORC_TABLE_INT_H
#define ORC_TABLE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/table.h"

/* One row's cells being appended; rv keeps the first error. */
struct orc_row {
    json_t *cells;
    int rv;
};

/* One printer's parts: its columns and the cells after the Name cell
 * (which table.c appends first, unless own_name: the row writes its name
 * cell where its columns put it, as Events do). */
typedef void (*orc_row_fn)(struct orc_row *r, const json_t *obj, int64_t now);

struct orc_printer_row {
    struct orc_table_printer p;
    orc_row_fn row;
    bool own_name;
    json_t *(*conditions)(const json_t *obj); /* NULL: rows carry none */
};

#define ORC_COLS(a) (a), (sizeof(a) / sizeof((a)[0]))

#define ORC_DESC_NAME                                                                        \
    "Name must be unique within a namespace. Is required when creating resources, although " \
    "some resources may allow a client to request the generation of an appropriate name "   \
    "automatically. Name is primarily intended for creation idempotence and configuration "  \
    "definition. Cannot be updated. More info: "                                             \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define ORC_DESC_AGE                                                                          \
    "CreationTimestamp is a timestamp representing the server time when this object was "    \
    "created. It is not guaranteed to be set in happens-before order across separate "       \
    "operations. Clients may not set this value. It is represented in RFC3339 form and is "  \
    "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "             \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

#define ORC_COL_NAME {"Name", "string", "name", ORC_DESC_NAME, 0}
#define ORC_COL_AGE {"Age", "string", "", ORC_DESC_AGE, 0}
#define ORC_COL(n, t, d) {n, t, "", d, 0}
#define ORC_WIDE(n, t, d) {n, t, "", d, 1}

/* The printers of each file, an array ended by a row without resource. */
extern const struct orc_printer_row orc__table_pod[];
extern const struct orc_printer_row orc__table_workloads[];
extern const struct orc_printer_row orc__table_core[];
extern const struct orc_printer_row orc__table_kinds[];

/* ---- cells (table.c) ---- */

void orc__cell(struct orc_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s, or dflt when s is NULL or empty. */
void orc__cell_str(struct orc_row *r, const char *s, const char *dflt);
void orc__cell_int(struct orc_row *r, int64_t v);
void orc__cell_bool(struct orc_row *r, bool v);
/* What fn writes from v. */
void orc__cell_buf(struct orc_row *r, int (*fn)(const json_t *, struct orc_buf *), const json_t *v);
/* The object's age (metadata.creationTimestamp). */
void orc__cell_age(struct orc_row *r, const json_t *obj, int64_t now);
/* The age of the timestamp at path, or dflt when it is absent. */
void orc__cell_since(struct orc_row *r, const json_t *obj, const char *path, int64_t now,
                     const char *dflt);
/* The integer at path, or dflt. */
int64_t orc__num(const json_t *o, const char *path, int64_t dflt);
/* Whether status.conditions has one of `type` with status True. */
bool orc__has_condition(const json_t *obj, const char *type);
/* "a,b" from `field` of each element of arr; "<none>" when none. */
int orc__join_field(const json_t *arr, const char *field, struct orc_buf *out);

#endif
