/* scale.c — `orctl scale`: sets spec.replicas through the scale subresource,
 * optionally only when the current count is what the user expects. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

struct scale_opts {
    struct cli_strv files;
    long long replicas, current;
};

/* --current-replicas: reads the Scale and pins the patch to its
 * resourceVersion, so a concurrent change makes the server refuse. */
static int precondition(cli_ctx *x, const struct scale_opts *o, const char *path, json_t *patch)
{
    json_t *scale = NULL;
    int64_t have = -1;
    int status = 0;
    int rv = cli_request_json(x, "GET", path, NULL, NULL, &status, &scale);

    if (rv != 0) return rv;
    if (status != 200) {
        cli_print_failure(x, status, scale);
        rv = ORC_EINVAL;
    } else if (orc_json_int(scale, "spec.replicas", &have), have != o->current) {
        fprintf(x->err, "error: Expected replicas to be %lld, was %" PRId64 "\n", o->current, have);
        rv = ORC_ECONFLICT;
    } else {
        const char *rvs = orc_json_str(scale, "metadata.resourceVersion");
        if (rvs) orc_json_set(patch, "metadata.resourceVersion", json_string(rvs));
    }
    json_decref(scale);
    return rv;
}

static int scale_one(cli_ctx *x, const struct scale_opts *o, const struct orc_kind *k,
                     const char *ns, const char *name)
{
    struct orc_buf path = ORC_BUF_INIT, ref = ORC_BUF_INIT;
    json_t *patch = json_pack("{s:{s:I}}", "spec", "replicas", (json_int_t)o->replicas), *reply = NULL;
    int status = 0, rv;

    if (!k->has_scale) {
        fprintf(x->err, "error: %s cannot be scaled: it has no scale subresource\n", k->resource);
        json_decref(patch);
        return ORC_EINVAL;
    }
    rv = patch ? cli_object_path(k, ns, name, "scale", &path) : ORC_ENOMEM;
    if (rv == 0 && o->current >= 0) rv = precondition(x, o, path.data, patch);
    if (rv == 0)
        rv = cli_request_json(x, "PATCH", path.data, "application/merge-patch+json", patch, &status,
                              &reply);
    if (rv == 0 && status == 200 && cli_ref_name(k, name, &ref) == 0) {
        fprintf(x->out, "%s scaled\n", ref.data);
        fflush(x->out);
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(patch);
    json_decref(reply);
    orc_buf_free(&path);
    orc_buf_free(&ref);
    return rv;
}

static int scale_doc(cli_ctx *x, const struct cli_doc *d, const char *ns, const void *arg)
{
    const char *name = orc_json_str(d->obj, "metadata.name");
    return name ? scale_one(x, arg, d->kind, ns, name) : ORC_EINVAL;
}

static int scale_files(cli_ctx *x, const struct scale_opts *o)
{
    return cli_each_doc(x, &o->files, scale_doc, o);
}

static int scale_targets(cli_ctx *x, const struct scale_opts *o, const struct cli_strv *pos)
{
    struct cli_targets t = {0};
    bool failed = false;
    int rv = CLI_EXIT_FAIL;

    if (cli_targets_parse(x, pos->v, pos->n, &t) != 0) goto out;
    for (size_t i = 0; i < t.n; i++) {
        if (t.v[i].name == NULL) {
            rv = cli_usage_error(x, "you must name the objects to scale (KIND NAME or KIND/NAME)");
            goto out;
        }
    }
    if (cli_connect(x) != 0) goto out;
    for (size_t i = 0; i < t.n; i++) {
        const struct orc_kind *k = t.v[i].kind;
        int one = scale_one(x, o, k, k->namespaced ? x->ns : NULL, t.v[i].name);
        if (cli_unreachable(one)) goto out;
        failed |= one != 0;
    }
    rv = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    cli_targets_free(&t);
    return rv;
}

int cli_cmd_scale(cli_ctx *x, int argc, char **argv)
{
    struct scale_opts o = {.replicas = -1, .current = -1};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"replicas", 0, CLI_FLAG_INT, &o.replicas, "N", "The new replica count (required)"},
        {"current-replicas", 0, CLI_FLAG_INT, &o.current, "N",
         "Only scale when the count is now N"},
        {"filename", 'f', CLI_FLAG_LIST, &o.files, "FILE", "Scale the objects of these manifests"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (o.replicas < 0)
        rv = cli_usage_error(x, "--replicas=COUNT is required, and COUNT must be greater than or "
                                "equal to 0");
    else if (o.files.n && pos.n) rv = cli_usage_error(x, "use either -f FILE or KIND NAME, not both");
    else if (o.files.n) rv = scale_files(x, &o);
    else if (pos.n) rv = scale_targets(x, &o, &pos);
    else rv = cli_usage_error(x, "you must specify the objects to scale (KIND/NAME or -f FILE)");
    cli_strv_free(&pos);
    cli_strv_free(&o.files);
    return rv;
}
