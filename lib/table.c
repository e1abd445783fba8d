/* table.c — the printers' registry, the default printer (Name, Age), the
 * cell helpers, and the formatting shared with orctl (labels, selectors,
 * ages). */
#include "lib/table.h"
#include "lib/table_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

static const char *or_str(const char *s, const char *dflt) { return s ? s : dflt; }

/* ---- cells ---- */

static void add(struct orc_row *r, json_t *v)
{
    if (r->rv == 0 && json_array_append_new(r->cells, v) != 0) r->rv = ORC_ENOMEM;
}

void orc__cell(struct orc_row *r, const char *fmt, ...)
{
    struct orc_buf b = ORC_BUF_INIT;
    va_list ap;

    if (r->rv != 0) return;
    va_start(ap, fmt);
    r->rv = orc_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (r->rv == 0) add(r, json_stringn(b.data ? b.data : "", b.len));
    orc_buf_free(&b);
}

void orc__cell_str(struct orc_row *r, const char *s, const char *dflt)
{
    add(r, json_string(s && *s ? s : dflt));
}

void orc__cell_int(struct orc_row *r, int64_t v) { add(r, json_integer((json_int_t)v)); }

void orc__cell_bool(struct orc_row *r, bool v) { add(r, json_boolean(v)); }

void orc__cell_buf(struct orc_row *r, int (*fn)(const json_t *, struct orc_buf *), const json_t *v)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (r->rv == 0) r->rv = fn(v, &b);
    if (r->rv == 0) add(r, json_stringn(b.data ? b.data : "", b.len));
    orc_buf_free(&b);
}

void orc__cell_age(struct orc_row *r, const json_t *obj, int64_t now)
{
    char age[32];
    orc_table_age(orc_json_str(obj, "metadata.creationTimestamp"), now, age, sizeof age);
    orc__cell(r, "%s", age);
}

void orc__cell_since(struct orc_row *r, const json_t *obj, const char *path, int64_t now,
                     const char *dflt)
{
    const char *ts = orc_json_str(obj, path);
    char age[32];

    if (ts == NULL) {
        orc__cell(r, "%s", dflt);
        return;
    }
    orc_table_age(ts, now, age, sizeof age);
    orc__cell(r, "%s", age);
}

int64_t orc__num(const json_t *o, const char *path, int64_t dflt)
{
    int64_t v;
    return orc_json_int(o, path, &v) == 0 ? v : dflt;
}

bool orc__has_condition(const json_t *obj, const char *type)
{
    json_t *conds = orc_json_get(obj, "status.conditions"), *c;
    size_t i;

    json_array_foreach (conds, i, c) {
        const char *t = orc_json_str(c, "type"), *s = orc_json_str(c, "status");
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0) return true;
    }
    return false;
}

int orc__join_field(const json_t *arr, const char *field, struct orc_buf *out)
{
    size_t i, n = 0;
    json_t *e;
    int rv = 0;

    json_array_foreach (arr, i, e) {
        const char *s = orc_json_str(e, field);
        if (s && rv == 0) rv = orc_buf_printf(out, "%s%s", n++ ? "," : "", s);
    }
    return rv ? rv : n ? 0 : orc_buf_puts(out, "<none>");
}

int orc_table_cell_text(const json_t *cell, struct orc_buf *out)
{
    size_t start = out->len;
    int rv;

    if (json_is_string(cell))
        rv = orc_buf_append(out, json_string_value(cell), json_string_length(cell));
    else if (json_is_integer(cell))
        rv = orc_buf_printf(out, "%lld", (long long)json_integer_value(cell));
    else if (json_is_real(cell)) rv = orc_buf_printf(out, "%g", json_real_value(cell));
    else if (json_is_boolean(cell)) rv = orc_buf_puts(out, json_is_true(cell) ? "true" : "false");
    else rv = orc_buf_puts(out, "");
    /* A tab or newline inside a value would break the columns. */
    for (size_t i = start; rv == 0 && i < out->len; i++)
        if (out->data[i] == '\t' || out->data[i] == '\n') out->data[i] = ' ';
    return rv;
}

/* ---- registry ---- */

static void default_row(struct orc_row *r, const json_t *obj, int64_t now)
{
    orc__cell_age(r, obj, now);
}

static const struct orc_table_column default_cols[] = {ORC_COL_NAME, ORC_COL_AGE};
static const struct orc_printer_row default_printer = {{"", "", ORC_COLS(default_cols)},
                                                       default_row, false, NULL};

static const struct orc_printer_row *const lists[] = {orc__table_pod, orc__table_workloads,
                                                      orc__table_core, orc__table_kinds};

const struct orc_table_printer *orc_table_printer_for(const char *group, const char *resource)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(lists); i++)
        for (const struct orc_printer_row *p = lists[i]; p->p.resource; p++)
            if (strcmp(p->p.resource, resource) == 0 && strcmp(p->p.group, group) == 0)
                return &p->p;
    return &default_printer.p;
}

json_t *orc_table_columns_json(const struct orc_table_printer *p)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < p->n_columns; i++) {
        const struct orc_table_column *c = &p->columns[i];
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type", c->type,
                              "format", c->format, "description", c->description, "priority",
                              c->priority);
        if (d == NULL || json_array_append_new(a, d) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *orc_table_cells(const struct orc_table_printer *p, const json_t *obj, int64_t now)
{
    const struct orc_printer_row *pr = (const struct orc_printer_row *)p;
    struct orc_row r = {json_array(), 0};

    if (r.cells == NULL) return NULL;
    if (!pr->own_name) orc__cell_str(&r, orc_json_str(obj, "metadata.name"), "");
    pr->row(&r, obj, now);
    if (r.rv != 0) {
        json_decref(r.cells);
        return NULL;
    }
    return r.cells;
}

json_t *orc_table_conditions(const struct orc_table_printer *p, const json_t *obj)
{
    const struct orc_printer_row *pr = (const struct orc_printer_row *)p;
    return pr->conditions ? pr->conditions(obj) : NULL;
}

/* ---- formatting ---- */

void orc_table_age(const char *ts, int64_t now, char *out, size_t n)
{
    int64_t t;

    if (ts == NULL || orc_time_parse(ts, &t) != 0) snprintf(out, n, "<unknown>");
    else orc_time_age(now - t, out, n);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int orc_table_labels(const json_t *map, struct orc_buf *out)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(map, &n);
    int rv = 0;

    if (n == 0) return orc_buf_puts(out, "<none>");
    for (size_t i = 0; i < n && rv == 0; i++)
        rv = orc_buf_printf(out, "%s%s=%s", i ? "," : "", keys[i],
                            or_str(json_string_value(json_object_get(map, keys[i])), ""));
    free(keys);
    return rv;
}

struct req {
    const char *key;
    char *text;
};

static int cmp_req(const void *a, const void *b)
{
    return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

/* One matchExpressions entry: "k in (a,b)", "k notin (a,b)", "k", "!k". */
static char *expr_text(const json_t *e)
{
    const char *key = or_str(json_string_value(json_object_get(e, "key")), "");
    const char *op = or_str(json_string_value(json_object_get(e, "operator")), "");
    json_t *vals = json_object_get(e, "values"), *v;
    struct orc_buf b = ORC_BUF_INIT;
    const char **sorted = NULL;
    size_t i, n = json_array_size(vals);

    if (strcmp(op, "Exists") == 0) orc_buf_puts(&b, key);
    else if (strcmp(op, "DoesNotExist") == 0) orc_buf_printf(&b, "!%s", key);
    else {
        orc_buf_printf(&b, "%s %s (", key, strcmp(op, "NotIn") == 0 ? "notin" : "in");
        if (n > 0 && (sorted = malloc(n * sizeof *sorted)) != NULL) {
            json_array_foreach (vals, i, v) sorted[i] = or_str(json_string_value(v), "");
            qsort(sorted, n, sizeof *sorted, cmp_str);
            for (i = 0; i < n; i++) orc_buf_printf(&b, "%s%s", i ? "," : "", sorted[i]);
        }
        orc_buf_puts(&b, ")");
        free(sorted);
    }
    return orc_buf_steal(&b, NULL);
}

int orc_table_selector(const json_t *sel, struct orc_buf *out)
{
    json_t *ml = json_object_get(sel, "matchLabels"),
           *exprs = json_object_get(sel, "matchExpressions");
    size_t n = 0, cap = json_object_size(ml) + json_array_size(exprs), i;
    struct req *reqs;
    const char *k;
    json_t *v;
    int rv = 0;

    if (cap == 0) return orc_buf_puts(out, "<none>");
    if ((reqs = calloc(cap, sizeof *reqs)) == NULL) return ORC_ENOMEM;
    json_object_foreach (ml, k, v) {
        struct orc_buf b = ORC_BUF_INIT;
        orc_buf_printf(&b, "%s=%s", k, or_str(json_string_value(v), ""));
        reqs[n++] = (struct req){k, orc_buf_steal(&b, NULL)};
    }
    json_array_foreach (exprs, i, v)
        reqs[n++] =
            (struct req){or_str(json_string_value(json_object_get(v, "key")), ""), expr_text(v)};
    qsort(reqs, n, sizeof *reqs, cmp_req);
    for (i = 0; i < n; i++) {
        if (reqs[i].text == NULL) rv = ORC_ENOMEM;
        if (rv == 0) rv = orc_buf_printf(out, "%s%s", i ? "," : "", reqs[i].text);
        free(reqs[i].text);
    }
    free(reqs);
    return rv;
}

int orc_table_node_roles(const json_t *node, struct orc_buf *out)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    json_t *labels = orc_json_get(node, "metadata.labels");
    size_t n, count = 0;
    const char **keys = orc_json_sorted_keys(labels, &n);
    int rv = 0;

    for (size_t i = 0; i < n && rv == 0; i++) {
        const char *role = NULL;
        if (strncmp(keys[i], prefix, sizeof prefix - 1) == 0) role = keys[i] + sizeof prefix - 1;
        else if (strcmp(keys[i], "kubernetes.io/role") == 0)
            role = json_string_value(json_object_get(labels, keys[i]));
        if (role && *role) rv = orc_buf_printf(out, "%s%s", count++ ? "," : "", role);
    }
    free(keys);
    return rv ? rv : count ? 0 : orc_buf_puts(out, "<none>");
}
