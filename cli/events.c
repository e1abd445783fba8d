/* events.c — `orctl events` as `kubectl events`: a namespace's Events (or
 * every namespace's, -A) oldest first with LAST SEEN, TYPE, REASON, OBJECT
 * and MESSAGE; --for KIND/NAME as a field selector on involvedObject,
 * --types Normal,Warning, and -w to print them as they happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "lib/timeutil.h"

struct events_opts {
    bool all_ns, watch, no_headers;
    const char *for_obj;
    struct cli_strv types;
    bool header_done;
    struct orc_buf fields;
};

/* Newlines end a cell, as kubectl's escapeCell cuts them ("..."). */
static int cell(struct orc_buf *b, const char *s)
{
    size_t n = strcspn(s ? s : "", "\f\n\r");
    int rv = orc_buf_append(b, s ? s : "", n);
    if (rv == 0 && s && s[n]) rv = orc_buf_puts(b, "...");
    return rv == 0 ? orc_buf_puts(b, "\t") : rv;
}

/* "5m", or "5m (x3 over 20m)" for a repeated one (kubectl's interval). */
static void interval(const json_t *e, int64_t now, char *out, size_t n)
{
    const char *first = orc_json_str(e, "eventTime") ?: orc_json_str(e, "firstTimestamp");
    char a[32], b[32];
    int64_t count = 0;

    orc_table_age(first, now, b, sizeof b);
    if (orc_json_get(e, "series")) {
        orc_json_int(e, "series.count", &count);
        orc_table_age(orc_json_str(e, "series.lastObservedTime"), now, a, sizeof a);
    } else if (orc_json_int(e, "count", &count) == 0 && count > 1) {
        orc_table_age(orc_json_str(e, "lastTimestamp"), now, a, sizeof a);
    } else {
        snprintf(out, n, "%s", b);
        return;
    }
    snprintf(out, n, "%s (x%lld over %s)", a, (long long)count, b);
}

int cli_events_lines(const json_t *const *evs, size_t n, bool all_ns, bool headers, int64_t now,
                     struct orc_buf *out)
{
    struct orc_buf text = ORC_BUF_INIT;
    char when[96], obj[600];
    int rv = 0;

    if (headers) rv = orc_buf_puts(&text, all_ns ? "NAMESPACE\tLAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n"
                                                 : "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\n");
    for (size_t i = 0; i < n && rv == 0; i++) {
        const json_t *e = evs[i];
        const char *msg = orc_json_str(e, "message") ?: "";
        size_t ml;
        interval(e, now, when, sizeof when);
        snprintf(obj, sizeof obj, "%.250s/%.300s", orc_json_str(e, "involvedObject.kind") ?: "",
                 orc_json_str(e, "involvedObject.name") ?: "");
        if (all_ns) rv = cell(&text, orc_json_str(e, "metadata.namespace"));
        if (rv == 0) rv = orc_buf_printf(&text, "%s\t", when);
        if (rv == 0) rv = cell(&text, orc_json_str(e, "type"));
        if (rv == 0) rv = cell(&text, orc_json_str(e, "reason"));
        if (rv == 0) rv = cell(&text, obj);
        while (*msg == ' ' || *msg == '\t' || *msg == '\n') msg++;
        ml = strlen(msg);
        while (ml > 0 && (msg[ml - 1] == ' ' || msg[ml - 1] == '\t' || msg[ml - 1] == '\n')) ml--;
        if (rv == 0) {
            char *m = strndup(msg, ml);
            rv = m ? cell(&text, m) : ORC_ENOMEM;
            free(m);
        }
        if (rv == 0) text.data[text.len - 1] = '\n'; /* the last cell's tab */
    }
    if (rv == 0 && text.len) rv = cli_tabwrite(text.data, text.len, 6, 3, out);
    orc_buf_free(&text);
    return rv;
}

static bool type_wanted(const struct events_opts *o, const char *type)
{
    if (o->types.n == 0) return true;
    for (size_t i = 0; i < o->types.n; i++)
        if (type && strcasecmp(o->types.v[i], type) == 0) return true;
    return false;
}

static int print_watched(void *arg, const char *type, json_t *obj)
{
    cli_ctx *x = ((void **)arg)[0];
    struct events_opts *o = ((void **)arg)[1];
    struct orc_buf out = ORC_BUF_INIT;
    const json_t *one = obj;
    int rv;

    /* deleted ones are expired ones: nothing to show */
    if (strcmp(type, "DELETED") == 0 || !type_wanted(o, orc_json_str(obj, "type"))) return 0;
    rv = cli_events_lines(&one, 1, o->all_ns, !o->no_headers && !o->header_done, orc_time_unix(), &out);
    o->header_done = true;
    if (rv == 0) {
        fwrite(out.data, 1, out.len, x->out);
        fflush(x->out);
    }
    orc_buf_free(&out);
    return rv == 0 ? 0 : -1;
}

static int list_and_print(cli_ctx *x, struct events_opts *o, const char *ns)
{
    const struct orc_kind *k = orc_kind_lookup("events");
    json_t *items = NULL, *e;
    const json_t **evs;
    struct orc_buf out = ORC_BUF_INIT;
    size_t n = 0, i;
    char *list_rv = NULL;
    int rv;

    if (cli_list(x, k, ns, NULL, o->fields.len ? o->fields.data : NULL, &items, &list_rv) != 0) return CLI_EXIT_FAIL;
    free(list_rv);
    if ((evs = calloc(json_array_size(items) + 1, sizeof *evs)) == NULL) {
        json_decref(items);
        return CLI_EXIT_FAIL;
    }
    json_array_foreach (items, i, e)
        if (type_wanted(o, orc_json_str(e, "type"))) evs[n++] = e;
    if (n == 0) {
        if (o->all_ns) fprintf(x->err, "No events found.\n");
        else fprintf(x->err, "No events found in %s namespace.\n", x->ns);
        rv = 0;
    } else {
        cli_sort_events(evs, n);
        rv = cli_events_lines(evs, n, o->all_ns, !o->no_headers, orc_time_unix(), &out);
        if (rv == 0) fwrite(out.data, 1, out.len, x->out);
    }
    orc_buf_free(&out);
    free((void *)evs);
    json_decref(items);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int watch(cli_ctx *x, struct events_opts *o, const char *ns)
{
    struct orc_buf path = ORC_BUF_INIT;
    void *arg[2] = {x, o};
    int rv = cli_object_path(orc_kind_lookup("events"), ns, NULL, NULL, &path);

    if (rv == 0) rv = cli_query_add(&path, "watch", "1");
    if (rv == 0 && o->fields.len) rv = cli_query_add(&path, "fieldSelector", o->fields.data);
    rv = rv == 0 ? cli_watch(x, path.data, cli_timeout_ms(x), print_watched, arg) : CLI_EXIT_FAIL;
    orc_buf_free(&path);
    return rv;
}

/* --for KIND/NAME: involvedObject.kind=Kind,involvedObject.name=NAME. */
static int for_selector(cli_ctx *x, struct events_opts *o)
{
    const char *slash = strchr(o->for_obj, '/');
    const struct orc_kind *k;
    char res[128];

    if (slash == NULL || slash[1] == '\0' || slash == o->for_obj)
        return cli_usage_error(x, "--for must be in resource/name form");
    if (strchr(slash + 1, '/'))
        return cli_usage_error(x, "arguments in resource/name form may not have more than one slash");
    snprintf(res, sizeof res, "%.*s", (int)(slash - o->for_obj), o->for_obj);
    if ((k = orc_kind_lookup(res)) == NULL) {
        fprintf(x->err, "error: the server doesn't have a resource type \"%s\"\n", res);
        return CLI_EXIT_FAIL;
    }
    return orc_buf_printf(&o->fields, "involvedObject.kind=%s,involvedObject.name=%s", k->kind, slash + 1) == 0
               ? 0 : CLI_EXIT_FAIL;
}

int cli_cmd_events(cli_ctx *x, int argc, char **argv)
{
    struct events_opts o = {0};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"all-namespaces", 'A', CLI_FLAG_BOOL, &o.all_ns, NULL, "Events of every namespace"},
        {"watch", 'w', CLI_FLAG_BOOL, &o.watch, NULL, "Print events as they happen (those there already first)"},
        {"for", 0, CLI_FLAG_STRING, &o.for_obj, "KIND/NAME", "Only the events of this object (pod/web-0)"},
        {"types", 0, CLI_FLAG_LIST, &o.types, "T,T", "Only events of these types (Normal, Warning)"},
        {"no-headers", 0, CLI_FLAG_BOOL, &o.no_headers, NULL, "No header line"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) { /* --help, or a bad flag: said */
        rv = cli_stop_status(rv);
        goto out;
    }
    if (pos.n != 0) rv = cli_usage_error(x, "unexpected argument \"%s\": orctl events [--for KIND/NAME]", pos.v[0]);
    for (size_t i = 0; rv == 0 && i < o.types.n; i++)
        if (strcasecmp(o.types.v[i], "Normal") != 0 && strcasecmp(o.types.v[i], "Warning") != 0)
            rv = cli_usage_error(x, "valid --types are Normal or Warning");
    if (rv == 0 && o.for_obj) rv = for_selector(x, &o);
    if (rv == 0 && cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    if (rv == 0) rv = o.watch ? watch(x, &o, o.all_ns ? NULL : x->ns) : list_and_print(x, &o, o.all_ns ? NULL : x->ns);
out:
    orc_buf_free(&o.fields);
    cli_strv_free(&o.types);
    cli_strv_free(&pos);
    return rv;
}
