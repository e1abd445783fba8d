/* print_int.h — what print.c shares with the files holding more of its
 * rows (print_kinds.c): the row being built and the cell helpers. Internal
 * to cli/print*.c. */
#ifndef ORC_CLI_PRINT_INT_H
#define ORC_CLI_PRINT_INT_H

#include <jansson.h>
#include <stdint.h>

#include "lib/buf.h"

/* One table row being appended to text; rv keeps the first error. */
struct row {
    struct orc_buf *text;
    int rv;
};

/* Appends one cell (tabs and newlines inside become spaces). */
void cli__cell(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s, or dflt when s is NULL or empty. */
void cli__cell_str(struct row *r, const char *s, const char *dflt);
/* What fn writes from v. */
void cli__cell_buf(struct row *r, int (*fn)(const json_t *, struct orc_buf *), const json_t *v);
/* The object's age as kubectl prints it. */
void cli__cell_age(struct row *r, const json_t *obj, int64_t now);
/* The integer at path, or dflt. */
int64_t cli__num(const json_t *o, const char *path, int64_t dflt);

/* Rows of print_kinds.c. */
void cli__pv_row(struct row *r, const json_t *pv, unsigned flags, int64_t now);
void cli__pvc_row(struct row *r, const json_t *pvc, unsigned flags, int64_t now);
void cli__storageclass_row(struct row *r, const json_t *sc, unsigned flags, int64_t now);
void cli__priorityclass_row(struct row *r, const json_t *pc, unsigned flags, int64_t now);
void cli__pdb_row(struct row *r, const json_t *pdb, unsigned flags, int64_t now);
void cli__controllerrevision_row(struct row *r, const json_t *cr, unsigned flags, int64_t now);
/* Rows of print_discovery.c. */
void cli__endpoints_row(struct row *r, const json_t *ep, unsigned flags, int64_t now);
void cli__endpointslice_row(struct row *r, const json_t *s, unsigned flags, int64_t now);
/* Rows of print_networking.c. */
void cli__ingress_row(struct row *r, const json_t *ing, unsigned flags, int64_t now);
void cli__ingressclass_row(struct row *r, const json_t *ic, unsigned flags, int64_t now);

#endif
