/* describe_cmd.c — `orctl describe`: fetches the objects named (or selected)
 * and their Events, and prints them through cli_describe. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

struct describe_opts {
    bool all_ns;
    const char *labels;
};

/* Events naming obj (involvedObject name and namespace); kinds sharing a
 * name are told apart here, since not every event writer sets the kind. */
static json_t *events_for(cli_ctx *x, const struct orc_kind *k, const json_t *obj)
{
    const struct orc_kind *ev = orc_kind_lookup("events");
    const char *name = orc_json_str(obj, "metadata.name") ?: "";
    const char *ns = k->namespaced ? orc_json_str(obj, "metadata.namespace") ?: "" : "";
    struct orc_buf sel = ORC_BUF_INIT;
    json_t *items = NULL, *out = json_array(), *e;
    char *rvs = NULL;
    size_t i;

    if (out == NULL || orc_buf_printf(&sel, "involvedObject.name=%s,involvedObject.namespace=%s",
                                      name, ns) != 0)
        goto done;
    if (cli_list(x, ev, *ns ? ns : NULL, NULL, sel.data, &items, &rvs) != 0) goto done;
    json_array_foreach(items, i, e)
    {
        const char *kind = orc_json_str(e, "involvedObject.kind");
        if (kind == NULL || *kind == '\0' || strcmp(kind, k->kind) == 0) json_array_append(out, e);
    }
done:
    orc_buf_free(&sel);
    json_decref(items);
    free(rvs);
    return out;
}

/* A Service's EndpointSlices (by their kubernetes.io/service-name label),
 * for its "Endpoints:" lines; NULL for other kinds. */
static json_t *related_for(cli_ctx *x, const struct orc_kind *k, const json_t *obj)
{
    struct orc_buf sel = ORC_BUF_INIT;
    json_t *items = NULL;
    char *rvs = NULL;

    if (strcmp(k->resource, "services") != 0) return NULL;
    if (orc_buf_printf(&sel, "kubernetes.io/service-name=%s", orc_json_str(obj, "metadata.name") ?: "") == 0
        && cli_list(x, orc_kind_lookup("endpointslices.discovery.k8s.io"), orc_json_str(obj, "metadata.namespace"),
                    sel.data, NULL, &items, &rvs) != 0) {
        json_decref(items);
        items = NULL;
    }
    orc_buf_free(&sel);
    free(rvs);
    return items ? items : json_array();
}

static int describe_object(cli_ctx *x, const struct orc_kind *k, const json_t *obj, bool *first)
{
    struct orc_buf out = ORC_BUF_INIT;
    json_t *events = events_for(x, k, obj), *related = related_for(x, k, obj);
    int rv = 0;

    if (!*first) rv = orc_buf_puts(&out, "\n\n");
    *first = false;
    if (rv == 0) rv = cli_describe(k, obj, events, related, orc_time_unix(), &out);
    if (rv == 0) cli_write(x, &out);
    else fprintf(x->err, "error: cannot describe: %s\n", orc_strerror(rv));
    orc_buf_free(&out);
    json_decref(events);
    json_decref(related);
    return rv;
}

/* One target: a named object, or every object of the kind (-l filters). */
static int describe_target(cli_ctx *x, const struct describe_opts *o, const struct cli_target *t,
                           bool *first, bool *failed)
{
    const char *ns = t->kind->namespaced && !o->all_ns ? x->ns : NULL;
    json_t *items = NULL, *obj;
    char *rvs = NULL;
    size_t i;
    int rv;

    if (t->name) {
        rv = cli_get_object(x, t->kind, ns, t->name, &obj);
        if (rv == 0) items = json_pack("[o]", obj);
    } else {
        rv = cli_list(x, t->kind, ns, o->labels, NULL, &items, &rvs);
        if (rv == 0 && json_array_size(items) == 0) {
            if (ns) fprintf(x->err, "No resources found in %s namespace.\n", ns);
            else fprintf(x->err, "No resources found\n");
        }
    }
    free(rvs);
    json_array_foreach(items, i, obj)
    {
        if (describe_object(x, t->kind, obj, first) != 0) *failed = true;
    }
    json_decref(items);
    *failed |= rv != 0;
    return cli_unreachable(rv) ? rv : 0;
}

int cli_cmd_describe(cli_ctx *x, int argc, char **argv)
{
    struct describe_opts o = {0};
    struct cli_strv pos = {0};
    struct cli_targets t = {0};
    const struct cli_flag flags[] = {
        {"all-namespaces", 'A', CLI_FLAG_BOOL, &o.all_ns, NULL, "Describe across all namespaces"},
        {"selector", 'l', CLI_FLAG_STRING, &o.labels, "SEL", "Label selector (app=web)"},
    };
    bool first = true, failed = false;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) {
        rv = cli_stop_status(rv);
        goto out;
    }
    if (pos.n == 0) {
        rv = cli_usage_error(x, "you must specify the type of resource to describe");
        goto out;
    }
    rv = CLI_EXIT_FAIL;
    if (cli_targets_parse(x, pos.v, pos.n, &t) != 0
        || cli_targets_check(x, &t, o.labels, o.all_ns) != 0 || cli_connect(x) != 0)
        goto out;
    for (size_t i = 0; i < t.n; i++)
        if (describe_target(x, &o, &t.v[i], &first, &failed) != 0) break;
    rv = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    cli_targets_free(&t);
    cli_strv_free(&pos);
    return rv;
}
