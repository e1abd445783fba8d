/* table.h — Kubernetes' printers (pkg/printers/internalversion): for each
 * kind, the columns `kubectl get` shows and the cells of one object. One
 * implementation shared by the API server (meta.k8s.io Tables) and orctl
 * get. Pure: objects are only read, the current time is a parameter, and
 * the printers are static rows, never freed. Adding a kind's columns is
 * one row in a table_*.c file's list (see lib/table_int.h). */
#ifndef ORC_TABLE_H
#define ORC_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* A meta.k8s.io/v1 TableColumnDefinition. */
struct orc_table_column {
    const char *name;        /* "Name", "Ready" (kubectl upper-cases it) */
    const char *type;        /* "string", "integer", "boolean", "date", "number" */
    const char *format;      /* "name" for the object's name column, else "" */
    const char *description;
    int priority;            /* 0: always shown; 1: only with -o wide */
};

struct orc_table_printer {
    const char *group;    /* "" for the core group */
    const char *resource; /* "pods" */
    const struct orc_table_column *columns;
    size_t n_columns;
};

/* The printer of a resource; a resource without one gets the default
 * (Name, Age). Never NULL. */
const struct orc_table_printer *orc_table_printer_for(const char *group, const char *resource);

/* columnDefinitions: a new JSON array (NULL: no memory). */
json_t *orc_table_columns_json(const struct orc_table_printer *p);

/* The cells of obj: a new JSON array with one value per column (NULL: no
 * memory). now: Unix seconds, for ages. */
json_t *orc_table_cells(const struct orc_table_printer *p, const json_t *obj, int64_t now);

/* A row's conditions as Kubernetes sets them (a finished pod's
 * "Completed"), a new array, or NULL when the row has none. */
json_t *orc_table_conditions(const struct orc_table_printer *p, const json_t *obj);

/* Appends a cell as kubectl prints it: strings as they are, integers in
 * decimal, booleans "true"/"false"; tabs and newlines become spaces. */
int orc_table_cell_text(const json_t *cell, struct orc_buf *out);

/* ---- the pod STATUS column, as kubectl computes it ---- */

struct orc_pod_summary {
    char reason[128];         /* "Running", "Completed", "Init:0/1", "CrashLoopBackOff" ... */
    int64_t restarts, ready, total;
    const char *last_restart; /* borrowed from the pod: latest lastState.terminated.finishedAt */
};
void orc_pod_summarize(const json_t *pod, struct orc_pod_summary *out);

/* ---- formatting shared with orctl's describe ---- */

/* kubectl's age of an RFC 3339 timestamp at `now`: "5m10s" (Kubernetes'
 * duration.HumanDuration), "<unknown>" when ts is NULL or unreadable. */
void orc_table_age(const char *ts, int64_t now, char *out, size_t n);
/* "a=1,b=2" from a string map, keys sorted; "<none>" when empty or NULL. */
int orc_table_labels(const json_t *map, struct orc_buf *out);
/* A LabelSelector ({matchLabels, matchExpressions}) as kubectl prints it:
 * "app=web,tier in (a,b),!legacy"; "<none>" when empty or NULL. */
int orc_table_selector(const json_t *sel, struct orc_buf *out);
/* A node's roles from its node-role.kubernetes.io/<role> labels (and the
 * older kubernetes.io/role), sorted and comma-separated; "<none>". */
int orc_table_node_roles(const json_t *node, struct orc_buf *out);

#endif
