/* apply.c — `orctl apply -f`: create what is missing, patch what exists with
 * kubectl's three-way merge patch, and say which objects changed; with
 * --server-side, send each object as a server-side apply instead. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

struct apply_opts {
    struct cli_strv files;
    bool dry_run;
    const char *output; /* "" or "name" */
    bool server_side, force_conflicts;
    const char *field_manager; /* server-side apply's; "orctl" when not given */
};

/* Outcome of one object: ok, failed (go on), or the server is unreachable
 * (stop: every other object would fail the same way). */
enum { APPLY_OK = 0, APPLY_FAILED = 1, APPLY_ABORT = 2 };

static void report(cli_ctx *x, const struct apply_opts *o, const struct orc_kind *k,
                   const char *name, const char *what)
{
    struct orc_buf ref = ORC_BUF_INIT;

    if (cli_ref_name(k, name, &ref) != 0) return;
    if (o->output && strcmp(o->output, "name") == 0) fprintf(x->out, "%s\n", ref.data);
    else fprintf(x->out, "%s %s%s\n", ref.data, what, o->dry_run ? " (server dry run)" : "");
    fflush(x->out);
    orc_buf_free(&ref);
}

/* A server failure naming the document it was for, as kubectl's "error
 * when creating \"app.yaml\": ..." with the document's number added. */
static void print_failure(cli_ctx *x, const struct cli_doc *d, const char *verb, int status,
                          const json_t *reply)
{
    const char *msg = orc_json_str(reply, "message");
    json_t *named = json_is_object(reply) ? json_deep_copy(reply) : json_object();
    struct orc_buf m = ORC_BUF_INIT;

    if (named && orc_buf_printf(&m, "error when %s \"%s\" (document %d): %s", verb, d->source,
                                d->index, msg ? msg : "the server refused it") == 0
        && json_object_set_new(named, "message", json_string(m.data)) == 0)
        cli_print_failure(x, status, named);
    else cli_print_failure(x, status, reply);
    json_decref(named);
    orc_buf_free(&m);
}

static int call(cli_ctx *x, const char *method, struct orc_buf *path, const char *ctype,
                const json_t *body, const struct apply_opts *o, int *status, json_t **reply)
{
    if (o->dry_run && strcmp(method, "GET") != 0 && cli_query_add(path, "dryRun", "All") != 0)
        return ORC_ENOMEM;
    return cli_request_json(x, method, path->data, ctype, body, status, reply);
}

static int create_object(cli_ctx *x, const struct apply_opts *o, const struct cli_doc *d,
                         const char *ns, const json_t *modified)
{
    struct orc_buf path = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0, rv;

    rv = cli_object_path(d->kind, ns, NULL, NULL, &path);
    if (rv == 0) rv = call(x, "POST", &path, NULL, modified, o, &status, &reply);
    orc_buf_free(&path);
    if (rv != 0) return rv == ORC_ENOMEM ? APPLY_FAILED : APPLY_ABORT;
    if (status == 201 || status == 200)
        report(x, o, d->kind, orc_json_str(modified, "metadata.name"), "created");
    else print_failure(x, d, "creating", status, reply);
    json_decref(reply);
    return status == 201 || status == 200 ? APPLY_OK : APPLY_FAILED;
}

static int patch_object(cli_ctx *x, const struct apply_opts *o, const struct cli_doc *d,
                        struct orc_buf *path, const json_t *modified, const json_t *live)
{
    json_t *patch = cli_apply_patch(modified, live), *reply = NULL;
    const char *before = orc_json_str(live, "metadata.resourceVersion"), *after;
    int status = 0, rv;

    if (patch == NULL) return APPLY_FAILED;
    /* Sent even when empty: the server's warnings about the object are
     * what the user should see on every apply. */
    rv = call(x, "PATCH", path, "application/merge-patch+json", patch, o, &status, &reply);
    json_decref(patch);
    if (rv != 0) return APPLY_ABORT;
    if (status != 200) {
        print_failure(x, d, "patching", status, reply);
        json_decref(reply);
        return APPLY_FAILED;
    }
    after = orc_json_str(reply, "metadata.resourceVersion");
    bool same = before && after && strcmp(before, after) == 0;
    if (o->dry_run) same = json_equal(reply, live);
    report(x, o, d->kind, orc_json_str(modified, "metadata.name"), same ? "unchanged" : "configured");
    json_decref(reply);
    return APPLY_OK;
}

/* The manifest as it will be sent: namespace filled in (or dropped for a
 * cluster-scoped kind) and the last-applied annotation set. */
static json_t *prepare(const struct cli_doc *d, const char *ns)
{
    json_t *obj = json_deep_copy(d->obj), *modified;

    if (obj == NULL) return NULL;
    if (ns) orc_json_set(obj, "metadata.namespace", json_string(ns));
    else orc_json_del(obj, "metadata.namespace");
    modified = cli_apply_modified(obj);
    json_decref(obj);
    return modified;
}

/* Server-side apply: the manifest itself, merged by the server, which
 * records this manager's fields and answers 409 on conflicts. */
static int server_apply(cli_ctx *x, const struct apply_opts *o, const struct cli_doc *d,
                        const char *ns, struct orc_buf *path)
{
    json_t *obj = json_deep_copy(d->obj), *reply = NULL;
    int status = 0, rv = ORC_ENOMEM;

    if (obj && ns) orc_json_set(obj, "metadata.namespace", json_string(ns));
    else if (obj) orc_json_del(obj, "metadata.namespace");
    if (obj && cli_query_add(path, "fieldManager", o->field_manager ? o->field_manager : "orctl") == 0
        && (!o->force_conflicts || cli_query_add(path, "force", "true") == 0))
        rv = call(x, "PATCH", path, "application/apply-patch+yaml", obj, o, &status, &reply);
    json_decref(obj);
    if (rv != 0) return rv == ORC_ENOMEM ? APPLY_FAILED : APPLY_ABORT;
    if (status == 200 || status == 201)
        report(x, o, d->kind, orc_json_str(d->obj, "metadata.name"), "serverside-applied");
    else cli_print_failure(x, status, reply);
    json_decref(reply);
    return status == 200 || status == 201 ? APPLY_OK : APPLY_FAILED;
}

static int apply_one(cli_ctx *x, const struct apply_opts *o, const struct cli_doc *d)
{
    struct orc_buf path = ORC_BUF_INIT;
    const char *name = orc_json_str(d->obj, "metadata.name");
    json_t *modified = NULL, *live = NULL;
    bool ns_err;
    const char *ns = cli_doc_namespace(x, d, &ns_err);
    int status = 0, rv = APPLY_FAILED;

    if (ns_err) return APPLY_FAILED;
    if (name == NULL || *name == '\0') {
        fprintf(x->err, "error: %s: document %d: metadata.name not set (generateName cannot be "
                        "used with apply)\n", d->source, d->index);
        return APPLY_FAILED;
    }
    if (o->server_side) {
        rv = cli_object_path(d->kind, ns, name, NULL, &path) == 0 ? server_apply(x, o, d, ns, &path)
                                                                  : APPLY_FAILED;
        goto out;
    }
    if ((modified = prepare(d, ns)) == NULL || cli_object_path(d->kind, ns, name, NULL, &path) != 0) {
        fprintf(x->err, "error: out of memory\n");
        goto out;
    }
    if (cli_request_json(x, "GET", path.data, NULL, NULL, &status, &live) != 0) {
        rv = APPLY_ABORT;
    } else if (status == 404) {
        rv = create_object(x, o, d, ns, modified);
    } else if (status == 200 && json_is_object(live)) {
        rv = patch_object(x, o, d, &path, modified, live);
    } else {
        print_failure(x, d, "retrieving current configuration of", status, live);
    }
out:
    json_decref(modified);
    json_decref(live);
    orc_buf_free(&path);
    return rv;
}

static int apply_all(cli_ctx *x, const struct apply_opts *o, const struct cli_docs *docs)
{
    int failed = 0;

    for (size_t i = 0; i < docs->n; i++) {
        if (docs->v[i].err) continue;
        int rv = apply_one(x, o, &docs->v[i]);
        if (rv == APPLY_ABORT) return CLI_EXIT_FAIL;
        failed |= rv == APPLY_FAILED;
    }
    return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static const char *dry_run_value(const char *v, bool *on)
{
    *on = v && (strcmp(v, "server") == 0 || strcmp(v, "true") == 0);
    if (v == NULL || *on || strcmp(v, "none") == 0 || strcmp(v, "false") == 0) return NULL;
    return v;
}

int cli_cmd_apply(cli_ctx *x, int argc, char **argv)
{
    struct apply_opts o = {0};
    struct cli_strv pos = {0};
    struct cli_docs docs = {0};
    const char *dry = NULL;
    const struct cli_flag flags[] = {
        {"filename", 'f', CLI_FLAG_LIST, &o.files, "FILE",
         "File, directory (*.yaml, *.yml, *.json) or - for stdin; repeatable"},
        {"dry-run", 0, CLI_FLAG_STRING, &dry, "server", "Let the server check and default "
         "the objects without storing them (\"server\" or \"none\")"},
        {"output", 'o', CLI_FLAG_STRING, &o.output, "name", "Print only resource/name"},
        {"server-side", 0, CLI_FLAG_BOOL, &o.server_side, NULL,
         "Server-side apply: the server merges and records field ownership"},
        {"force-conflicts", 0, CLI_FLAG_BOOL, &o.force_conflicts, NULL,
         "With --server-side, take fields other managers own"},
        {"field-manager", 0, CLI_FLAG_STRING, &o.field_manager, "NAME",
         "With --server-side, the manager's name (default orctl)"},
    };
    bool bad = false;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) {
        rv = cli_stop_status(rv);
        goto out;
    }
    if (pos.n > 0) rv = cli_usage_error(x, "unexpected argument \"%s\"", pos.v[0]);
    else if (o.files.n == 0) rv = cli_usage_error(x, "must specify -f FILE");
    else if (dry_run_value(dry, &o.dry_run))
        rv = cli_usage_error(x, "invalid --dry-run \"%s\": want server or none", dry);
    else if (o.output && *o.output && strcmp(o.output, "name") != 0)
        rv = cli_usage_error(x, "unsupported output format \"%s\": apply prints only -o name", o.output);
    if (rv != 0) goto out;
    rv = CLI_EXIT_FAIL;
    if (cli_docs_load(x, &o.files, &docs, &bad) != 0) goto out;
    if (docs.n == 0) {
        fprintf(x->err, "error: no objects passed to apply\n");
        goto out;
    }
    if (cli_docs_usable(&docs) == 0 || cli_connect(x) != 0) goto out;
    rv = apply_all(x, &o, &docs);
    if (bad) rv = CLI_EXIT_FAIL;
out:
    cli_docs_free(&docs);
    cli_strv_free(&pos);
    cli_strv_free(&o.files);
    return rv;
}
