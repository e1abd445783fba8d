/* get.c — `orctl get`: tables, -o wide|yaml|json|name, several kinds at
 * once, and -w to keep printing changes as the server reports them. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/yaml.h"

enum get_format { FMT_TABLE, FMT_WIDE, FMT_YAML, FMT_JSON, FMT_NAME };

struct get_opts {
    bool all_ns, watch, watch_only, no_headers, show_kind, show_managed;
    const char *output, *labels, *fields;
    enum get_format fmt;
};

/* The objects found for one kind, in the order kinds were named. */
struct group {
    const struct orc_kind *k;
    json_t *items;
};

struct result {
    struct group g[32];
    size_t n;
    size_t found;
    bool failed;    /* an object or list could not be read */
    bool listed;    /* at least one whole collection was asked for */
};

static int parse_format(const char *o, enum get_format *fmt)
{
    static const struct { const char *name; enum get_format fmt; } fmts[] = {
        {"", FMT_TABLE}, {"wide", FMT_WIDE}, {"yaml", FMT_YAML}, {"json", FMT_JSON},
        {"name", FMT_NAME},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(fmts); i++)
        if (strcmp(o ? o : "", fmts[i].name) == 0) return *fmt = fmts[i].fmt, 0;
    return ORC_EINVAL;
}

static const char *ns_for(const cli_ctx *x, const struct get_opts *o, const struct orc_kind *k)
{
    if (!k->namespaced || o->all_ns) return NULL;
    return x->ns;
}

static struct group *group_for(struct result *r, const struct orc_kind *k)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->g[i].k == k) return &r->g[i];
    if (r->n == ORC_ARRAY_LEN(r->g)) return NULL;
    r->g[r->n].k = k;
    r->g[r->n].items = json_array();
    return r->g[r->n].items ? &r->g[r->n++] : NULL;
}

/* Reads one target into its group. Returns a transport error to stop. */
static int gather_one(cli_ctx *x, const struct get_opts *o, const struct cli_target *t,
                      struct result *r)
{
    struct group *g = group_for(r, t->kind);
    json_t *got = NULL;
    char *rvs = NULL;
    int rv;

    if (g == NULL) return ORC_ENOMEM;
    if (t->name) {
        rv = cli_get_object(x, t->kind, ns_for(x, o, t->kind), t->name, &got);
        if (rv == 0) rv = json_array_append(g->items, got);
    } else {
        r->listed = true;
        rv = cli_list(x, t->kind, ns_for(x, o, t->kind), o->labels, o->fields, &got, &rvs);
        if (rv == 0) rv = json_array_extend(g->items, got);
    }
    free(rvs);
    json_decref(got);
    if (rv != 0 && cli_unreachable(rv)) return rv;
    r->failed |= rv != 0;
    return 0;
}

static void result_free(struct result *r)
{
    for (size_t i = 0; i < r->n; i++) json_decref(r->g[i].items);
}

/* ---- printing ---- */

static unsigned table_flags(const struct get_opts *o, bool several_kinds)
{
    return (o->fmt == FMT_WIDE ? CLI_WIDE : 0) | (o->all_ns ? CLI_ALL_NAMESPACES : 0)
           | (o->no_headers ? CLI_NO_HEADERS : 0) | (o->show_kind || several_kinds ? CLI_SHOW_KIND : 0);
}

/* Keys sorted at every depth, as kubectl prints objects it has no Go type
 * for (and as it prints orc's, then). */
static int print_doc(const json_t *v, enum get_format fmt, bool show_managed, struct orc_buf *out)
{
    json_t *sorted = orc_json_sorted_copy(v), *item;
    size_t i;
    int rv;

    if (sorted == NULL) return ORC_ENOMEM;
    if (!show_managed) { /* as kubectl: managedFields only when asked for */
        orc_json_del(sorted, "metadata.managedFields");
        json_array_foreach(json_object_get(sorted, "items"), i, item)
            orc_json_del(item, "metadata.managedFields");
    }
    rv = fmt == FMT_YAML ? orc_yaml_emit(sorted, out) : orc_json_dump_pretty(sorted, out);
    json_decref(sorted);
    return rv;
}

/* kubectl's List wrapper for -o yaml/json of anything but one named object. */
static int print_list(const struct result *r, enum get_format fmt, bool show_managed,
                      struct orc_buf *out)
{
    json_t *items = json_array(), *list;
    int rv = 0;

    for (size_t i = 0; i < r->n && items; i++) json_array_extend(items, r->g[i].items);
    list = json_pack("{s:s, s:o, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind", "List",
                     "metadata", "resourceVersion", "");
    rv = list ? print_doc(list, fmt, show_managed, out) : ORC_ENOMEM;
    json_decref(list);
    return rv;
}

static void no_resources(cli_ctx *x, const struct get_opts *o, const struct result *r)
{
    bool namespaced = false;

    for (size_t i = 0; i < r->n; i++) namespaced |= r->g[i].k->namespaced;
    if (namespaced && !o->all_ns) fprintf(x->err, "No resources found in %s namespace.\n", x->ns);
    else fprintf(x->err, "No resources found\n");
}

static int print_tables(cli_ctx *x, const struct get_opts *o, const struct result *r,
                        struct orc_buf *out)
{
    unsigned flags = table_flags(o, r->n > 1);
    int64_t now = orc_time_unix();
    bool first = true;
    int rv = 0;

    for (size_t i = 0; i < r->n && rv == 0; i++) {
        if (json_array_size(r->g[i].items) == 0) continue;
        if (!first) rv = orc_buf_puts(out, "\n");
        first = false;
        if (rv == 0) rv = cli_print_table(r->g[i].k, r->g[i].items, flags, now, out);
    }
    if (rv == 0 && r->found == 0 && r->listed && !r->failed) no_resources(x, o, r);
    return rv;
}

static int print_result(cli_ctx *x, const struct get_opts *o, const struct cli_targets *t,
                        const struct result *r)
{
    struct orc_buf out = ORC_BUF_INIT;
    int rv = 0;

    if (o->fmt == FMT_YAML || o->fmt == FMT_JSON) {
        bool one = t->n == 1 && t->v[0].name != NULL;
        if (one && r->found == 1)
            rv = print_doc(json_array_get(r->g[0].items, 0), o->fmt, o->show_managed, &out);
        else if (!one) rv = print_list(r, o->fmt, o->show_managed, &out);
    } else if (o->fmt == FMT_NAME) {
        for (size_t i = 0; i < r->n && rv == 0; i++) rv = cli_print_names(r->g[i].k, r->g[i].items, &out);
    } else {
        rv = print_tables(x, o, r, &out);
    }
    if (rv == 0) cli_write(x, &out);
    else fprintf(x->err, "error: cannot format the output: %s\n", orc_strerror(rv));
    orc_buf_free(&out);
    return rv;
}

/* ---- watching ---- */

struct watch_printer {
    cli_ctx *x;
    const struct get_opts *o;
    const struct orc_kind *k;
    bool header_done; /* the table header was printed already */
    size_t printed;   /* objects printed (yaml separators) */
    json_t *reference; /* rows already shown, so new rows line up with them */
};

#define MAX_REFERENCE_ROWS 500

/* Appends the last line of text[0..len) to out. */
static int last_line(const char *text, size_t len, struct orc_buf *out)
{
    size_t start = len > 0 ? len - 1 : 0;

    while (start > 0 && text[start - 1] != '\n') start--;
    return orc_buf_append(out, text + start, len - start);
}

/* One table row for a watch event, padded like the rows printed before it:
 * the table is laid out again with them and only the new line is kept. */
static int table_row(struct watch_printer *p, json_t *obj, struct orc_buf *out)
{
    struct orc_buf all = ORC_BUF_INIT;
    unsigned flags = table_flags(p->o, false);
    json_t *items = json_array();
    int rv;

    if (items == NULL || json_array_extend(items, p->reference) != 0 || json_array_append(items, obj) != 0) {
        json_decref(items);
        return ORC_ENOMEM;
    }
    rv = cli_print_table(p->k, items, flags, orc_time_unix(), &all);
    if (rv == 0 && !p->header_done) rv = orc_buf_append(out, all.data, all.len);
    else if (rv == 0) rv = last_line(all.data, all.len, out);
    if (rv == 0 && json_array_size(p->reference) < MAX_REFERENCE_ROWS)
        rv = json_array_append(p->reference, obj);
    orc_buf_free(&all);
    json_decref(items);
    return rv;
}

static int print_one(void *arg, const char *type, json_t *obj)
{
    struct watch_printer *p = arg;
    struct orc_buf out = ORC_BUF_INIT;
    json_t *items = json_pack("[O]", obj);
    int rv;

    (void)type;
    if (items == NULL) return ORC_ENOMEM;
    if (p->o->fmt == FMT_YAML && p->printed > 0) orc_buf_puts(&out, "---\n");
    if (p->o->fmt == FMT_YAML || p->o->fmt == FMT_JSON)
        rv = print_doc(obj, p->o->fmt, p->o->show_managed, &out);
    else if (p->o->fmt == FMT_NAME) rv = cli_print_names(p->k, items, &out);
    else rv = table_row(p, obj, &out);
    p->header_done = true;
    p->printed++;
    if (rv == 0) cli_write(p->x, &out);
    orc_buf_free(&out);
    json_decref(items);
    return rv;
}

/* The current objects as one table; the first of them then set the
 * column widths for the rows that follow. */
static int print_initial_table(struct watch_printer *p, json_t *items)
{
    struct orc_buf out = ORC_BUF_INIT;
    int rv = cli_print_table(p->k, items, table_flags(p->o, false), orc_time_unix(), &out);

    for (size_t i = 0; rv == 0 && i < json_array_size(items) && i < MAX_REFERENCE_ROWS; i++)
        rv = json_array_append(p->reference, json_array_get(items, i));
    if (rv == 0) cli_write(p->x, &out);
    p->header_done = true;
    orc_buf_free(&out);
    return rv;
}

static int watch_path(const struct get_opts *o, const struct orc_kind *k, const char *ns,
                      const char *name, const char *rv, struct orc_buf *path)
{
    struct orc_buf fields = ORC_BUF_INIT;
    int err = cli_object_path(k, ns, NULL, NULL, path);

    if (err == 0) err = cli_query_add(path, "watch", "1");
    if (err == 0 && rv) err = cli_query_add(path, "resourceVersion", rv);
    if (err == 0 && o->labels && *o->labels) err = cli_query_add(path, "labelSelector", o->labels);
    if (err == 0 && o->fields && *o->fields) err = orc_buf_puts(&fields, o->fields);
    if (err == 0 && name) err = orc_buf_printf(&fields, "%smetadata.name=%s", fields.len ? "," : "", name);
    if (err == 0 && fields.len) err = cli_query_add(path, "fieldSelector", fields.data);
    orc_buf_free(&fields);
    return err;
}

/* The current state first (unless --watch-only), then every change after it. */
static int get_watch(cli_ctx *x, const struct get_opts *o, const struct cli_target *t)
{
    struct watch_printer p = {x, o, t->kind, o->no_headers, 0, json_array()};
    struct orc_buf path = ORC_BUF_INIT;
    const char *ns = ns_for(x, o, t->kind);
    json_t *items = NULL, *it;
    char *rvs = NULL;
    size_t i;
    int rv;

    if (t->name) {
        rv = cli_get_object(x, t->kind, ns, t->name, &it);
        if (rv == 0 && (rvs = strdup(orc_json_str(it, "metadata.resourceVersion") ?: "")) == NULL)
            rv = ORC_ENOMEM;
        if (rv == 0) items = json_pack("[o]", it);
        else json_decref(it);
    } else {
        rv = cli_list(x, t->kind, ns, o->labels, o->fields, &items, &rvs);
    }
    if (rv != 0 || p.reference == NULL) goto out;
    if (!o->watch_only && (o->fmt == FMT_TABLE || o->fmt == FMT_WIDE) && json_array_size(items)) {
        rv = print_initial_table(&p, items);
    } else if (!o->watch_only) {
        json_array_foreach(items, i, it)
        {
            if ((rv = print_one(&p, "ADDED", it)) != 0) break;
        }
    }
    if (rv != 0) goto out;
    if ((rv = watch_path(o, t->kind, ns, t->name, rvs, &path)) != 0) goto out;
    rv = cli_watch(x, path.data, cli_timeout_ms(x), print_one, &p) == CLI_EXIT_OK ? 0 : ORC_EINVAL;
out:
    orc_buf_free(&path);
    json_decref(items);
    json_decref(p.reference);
    free(rvs);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- command ---- */

static int check_targets(cli_ctx *x, const struct get_opts *o, const struct cli_targets *t)
{
    if (cli_targets_check(x, t, o->labels, o->all_ns) != 0) return ORC_EINVAL;
    if (o->watch && (t->n_kinds > 1 || t->n > 1)) {
        fprintf(x->err, "error: you may only specify a single resource type%s to watch\n",
                t->n_kinds > 1 ? "" : " and name");
        return ORC_EINVAL;
    }
    return 0;
}

static int get_all(cli_ctx *x, const struct get_opts *o, const struct cli_targets *t)
{
    struct result r = {0};
    int rv = 0;

    for (size_t i = 0; i < t->n && rv == 0; i++) rv = gather_one(x, o, &t->v[i], &r);
    for (size_t i = 0; i < r.n; i++) r.found += json_array_size(r.g[i].items);
    if (rv == ORC_ENOMEM) fprintf(x->err, "error: out of memory\n");
    if (rv == 0 && print_result(x, o, t, &r) != 0) rv = ORC_ENOMEM;
    result_free(&r);
    return rv != 0 || r.failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_cmd_get(cli_ctx *x, int argc, char **argv)
{
    struct get_opts o = {0};
    struct cli_strv pos = {0};
    struct cli_targets t = {0};
    const struct cli_flag flags[] = {
        {"all-namespaces", 'A', CLI_FLAG_BOOL, &o.all_ns, NULL, "List across all namespaces"},
        {"selector", 'l', CLI_FLAG_STRING, &o.labels, "SEL", "Label selector (app=web,tier!=db)"},
        {"field-selector", 0, CLI_FLAG_STRING, &o.fields, "SEL", "Field selector (status.phase=Running)"},
        {"output", 'o', CLI_FLAG_STRING, &o.output, "FMT", "wide, yaml, json or name"},
        {"watch", 'w', CLI_FLAG_BOOL, &o.watch, NULL, "After listing, keep printing changes"},
        {"watch-only", 0, CLI_FLAG_BOOL, &o.watch_only, NULL, "Print only changes, not the list"},
        {"no-headers", 0, CLI_FLAG_BOOL, &o.no_headers, NULL, "Print tables without the header line"},
        {"show-kind", 0, CLI_FLAG_BOOL, &o.show_kind, NULL, "Print NAME as kind/name"},
        {"show-managed-fields", 0, CLI_FLAG_BOOL, &o.show_managed, NULL,
         "Keep metadata.managedFields in -o yaml/json"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) {
        rv = cli_stop_status(rv);
        goto out;
    }
    if (parse_format(o.output, &o.fmt) != 0) {
        rv = cli_usage_error(x, "unsupported output format \"%s\": want wide, yaml, json or name",
                             o.output);
        goto out;
    }
    if (pos.n == 0) {
        rv = cli_usage_error(x, "you must specify the type of resource to get (e.g. pods, "
                                "deployments, all)");
        goto out;
    }
    o.watch |= o.watch_only;
    rv = CLI_EXIT_FAIL;
    if (cli_targets_parse(x, pos.v, pos.n, &t) != 0 || check_targets(x, &o, &t) != 0
        || cli_connect(x) != 0)
        goto out;
    rv = o.watch ? get_watch(x, &o, &t.v[0]) : get_all(x, &o, &t);
out:
    cli_targets_free(&t);
    cli_strv_free(&pos);
    return rv;
}
