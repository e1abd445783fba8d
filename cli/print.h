/* print.h — orctl's output: kubectl-style tables, `-o name`, and `describe`
 * text. Pure functions from API objects (jansson) to text; no I/O, and the
 * current time is a parameter so output is testable. Every function appends
 * to `out` (the caller owns it) and returns 0 or a negative ORC_E* code;
 * objects are only read. */
#ifndef ORC_CLI_PRINT_H
#define ORC_CLI_PRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/kinds.h"

enum {
    CLI_WIDE = 1 << 0,           /* -o wide: the extra columns */
    CLI_ALL_NAMESPACES = 1 << 1, /* -A: a NAMESPACE column first */
    CLI_NO_HEADERS = 1 << 2,     /* --no-headers */
    CLI_SHOW_KIND = 1 << 3,      /* NAME as "deployment.apps/web" (several kinds listed) */
};

/* The table `kubectl get` prints for `items` (an array of objects of kind
 * k), from lib/table.h's columns and cells (the same printers the API
 * server's Tables use): upper-case headers, columns padded to line up with 3 spaces between,
 * "<none>" where kubectl prints it. now: Unix seconds, for AGE columns.
 * An empty array prints nothing (the caller says "No resources found"). */
int cli_print_table(const struct orc_kind *k, const json_t *items, unsigned flags, int64_t now,
                    struct orc_buf *out);

/* `-o name`: one "deployment.apps/web" line per item. */
int cli_print_names(const struct orc_kind *k, const json_t *items, struct orc_buf *out);

/* `kubectl describe` text for one object: metadata, kind-specific sections
 * (Deployment, ReplicaSet, Pod, Service, ConfigMap, Secret, Node,
 * Namespace), a generic spec/status dump otherwise. Secret values are
 * never printed, only their sizes. events: the object's Events (an array)
 * for the trailing "Events:" section, or NULL to leave it out. related:
 * for a Service its EndpointSlices (an array; its "Endpoints:" lines), else
 * NULL. */
int cli_describe(const struct orc_kind *k, const json_t *obj, const json_t *events, const json_t *related,
                 int64_t now, struct orc_buf *out);

/* Helpers shared by the table and describe code. */

/* Aligns tab-separated cells the way Go's text/tabwriter (which kubectl
 * uses) does: a column spans consecutive lines that have a cell in it, is as
 * wide as its widest cell plus `padding` (at least `minwidth`), and the last
 * cell of a line is never padded. */
int cli_tabwrite(const char *text, size_t len, int minwidth, int padding, struct orc_buf *out);

/* An Event's last sighting: series.lastObservedTime, lastTimestamp,
 * eventTime or firstTimestamp, the first present (borrowed; may be NULL). */
const char *cli_event_last(const json_t *e);
/* Sorts n Events (borrowed) oldest first by their last sighting, as
 * `kubectl events` and describe order them. */
void cli_sort_events(const json_t **evs, size_t n);

/* `kubectl events`' table of n Events (in that order): LAST SEEN ("5m",
 * "10s (x3 over 5m)"), TYPE, REASON, OBJECT (Kind/name), MESSAGE; with
 * all_ns a NAMESPACE column first; headers: the header line too. */
int cli_events_lines(const json_t *const *evs, size_t n, bool all_ns, bool headers, int64_t now,
                     struct orc_buf *out);

/* Ages, labels, selectors and node roles are formatted by lib/table.h
 * (orc_table_age, orc_table_labels, orc_table_selector,
 * orc_table_node_roles), which the API server's Tables share. */

#endif
