/* delete.c — `orctl delete`: by name, by label selector or --all, or every
 * object of a manifest, with DeleteOptions for grace period and cascade. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

struct delete_opts {
    struct cli_strv files;
    const char *labels, *cascade;
    long long grace, timeout;
    bool all, ignore_missing, now, wait;
    json_t *options; /* the DeleteOptions body */
};

/* --cascade values to propagationPolicy; "true"/"false" are kubectl's old spellings. */
static const char *propagation(const char *cascade)
{
    static const struct { const char *flag, *policy; } map[] = {
        {"background", "Background"}, {"true", "Background"}, {"foreground", "Foreground"},
        {"orphan", "Orphan"}, {"false", "Orphan"},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(map); i++)
        if (strcmp(cascade, map[i].flag) == 0) return map[i].policy;
    return NULL;
}

static json_t *delete_options(const struct delete_opts *o)
{
    json_t *opts = json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1",
                             "propagationPolicy", propagation(o->cascade ? o->cascade : "background"));

    if (opts && o->grace >= 0) json_object_set_new(opts, "gracePeriodSeconds", json_integer(o->grace));
    return opts;
}

/* As kubectl does: an object the API kept (a pod deleted gracefully, until
 * its node agent has stopped it; an object held by finalizers, such as
 * the garbage collector's foregroundDeletion and orphan, until they are
 * done) is waited for until it is gone, up to its grace period plus a
 * minute, or --timeout seconds. */
static int wait_gone(cli_ctx *x, const struct delete_opts *o, const char *path, const json_t *obj)
{
    const char *uid = orc_json_str(obj, "metadata.uid");
    int64_t grace = 0;
    uint64_t end;

    if (!o->wait || orc_json_get(obj, "metadata.deletionTimestamp") == NULL) return 0;
    orc_json_int(obj, "metadata.deletionGracePeriodSeconds", &grace);
    end = orc_time_mono_ms() + (uint64_t)(o->timeout > 0 ? o->timeout : grace + 60) * 1000;
    while (orc_time_mono_ms() < end) {
        json_t *cur = NULL;
        int status = 0, rv = cli_request_json(x, "GET", path, NULL, NULL, &status, &cur);
        const char *now_uid = orc_json_str(cur, "metadata.uid");
        bool gone = rv == 0 && (status == 404 || (status == 200 && uid && now_uid && strcmp(uid, now_uid)));
        json_decref(cur);
        if (rv != 0 || gone) return rv;
        usleep(200 * 1000);
    }
    fprintf(x->err, "error: timed out waiting for the deletion of %s\n", path);
    return ORC_ETIMEDOUT;
}

/* Returns 0, ORC_ENOENT/ORC_EINVAL (printed, go on), or a transport error. */
static int delete_one(cli_ctx *x, const struct delete_opts *o, const struct orc_kind *k,
                      const char *ns, const char *name)
{
    struct orc_buf path = ORC_BUF_INIT, kind = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0;
    int rv = cli_object_path(k, ns, name, NULL, &path);

    if (rv == 0) rv = orc_kind_qualified(k, &kind);
    if (rv == 0) rv = cli_request_json(x, "DELETE", path.data, NULL, o->options, &status, &reply);
    if (rv == 0 && (status == 200 || status == 202)) {
        fprintf(x->out, "%s \"%s\" deleted\n", kind.data, name);
        fflush(x->out);
        rv = wait_gone(x, o, path.data, reply);
    } else if (rv == 0 && status == 404 && o->ignore_missing) {
        rv = 0;
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = status == 404 ? ORC_ENOENT : ORC_EINVAL;
    }
    json_decref(reply);
    orc_buf_free(&path);
    orc_buf_free(&kind);
    return rv;
}

static int delete_named(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *name,
                        const void *o)
{
    return delete_one(x, o, k, ns, name);
}

/* Every object of the target's kind that the selector (or --all) picks. */
static int delete_selected(cli_ctx *x, const struct delete_opts *o, const struct orc_kind *k,
                           bool *failed)
{
    return cli_each_selected(x, k, o->labels, o->ignore_missing, delete_named, o, failed);
}

static int delete_targets(cli_ctx *x, const struct delete_opts *o, const struct cli_targets *t)
{
    bool failed = false;

    for (size_t i = 0; i < t->n; i++) {
        const struct orc_kind *k = t->v[i].kind;
        int rv = t->v[i].name ? delete_one(x, o, k, k->namespaced ? x->ns : NULL, t->v[i].name)
                              : delete_selected(x, o, k, &failed);
        if (cli_unreachable(rv)) return CLI_EXIT_FAIL;
        failed |= rv != 0;
    }
    return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int delete_doc(cli_ctx *x, const struct cli_doc *d, const char *ns, const void *arg)
{
    const char *name = orc_json_str(d->obj, "metadata.name");
    return name ? delete_one(x, arg, d->kind, ns, name) : ORC_EINVAL;
}

static int delete_files(cli_ctx *x, const struct delete_opts *o)
{
    return cli_each_doc(x, &o->files, delete_doc, o);
}

/* Which of the three ways to name objects was used, and only one. */
static int check_usage(cli_ctx *x, const struct delete_opts *o, const struct cli_strv *pos)
{
    bool selecting = (o->labels && *o->labels) || o->all;

    if (o->cascade && propagation(o->cascade) == NULL)
        return cli_usage_error(x, "invalid --cascade \"%s\": want background, orphan or foreground",
                               o->cascade);
    if (o->files.n && pos->n)
        return cli_usage_error(x, "use either -f FILE or KIND NAME, not both");
    if (o->files.n == 0 && pos->n == 0)
        return cli_usage_error(x, "you must specify -f FILE, or KIND with NAME, -l SELECTOR or --all");
    if (o->files.n == 0 && pos->n == 1 && !strchr(pos->v[0], '/') && !selecting)
        return cli_usage_error(x, "resource(s) were provided, but no name was specified; give "
                                  "a NAME, -l SELECTOR or --all");
    if (selecting && (pos->n > 1 || (pos->n && strchr(pos->v[0], '/'))))
        return cli_usage_error(x, "name cannot be provided when a selector or --all is specified");
    return 0;
}

/* A bare --cascade means background, as in kubectl (pflag's NoOptDefVal):
 * a mode then needs "=", and the next word stays a name. */
static void bare_cascade(int argc, char **argv)
{
    static char background[] = "--cascade=background";
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--cascade") == 0) argv[i] = background;
}

int cli_cmd_delete(cli_ctx *x, int argc, char **argv)
{
    struct delete_opts o = {.grace = -1, .wait = true};
    struct cli_strv pos = {0};
    struct cli_targets t = {0};
    const struct cli_flag flags[] = {
        {"filename", 'f', CLI_FLAG_LIST, &o.files, "FILE", "Delete the objects of these manifests"},
        {"selector", 'l', CLI_FLAG_STRING, &o.labels, "SEL", "Delete the objects matching a label selector"},
        {"all", 0, CLI_FLAG_BOOL, &o.all, NULL, "Delete every object of the kind in the namespace"},
        {"grace-period", 0, CLI_FLAG_INT, &o.grace, "SECONDS",
         "Seconds pods get to stop (-1: the object's own)"},
        {"now", 0, CLI_FLAG_BOOL, &o.now, NULL, "Same as --grace-period=1"},
        {"cascade", 0, CLI_FLAG_STRING, &o.cascade, "MODE",
         "background (default; also a bare --cascade), foreground or orphan: what happens to "
         "dependents (--cascade=MODE)"},
        {"ignore-not-found", 0, CLI_FLAG_BOOL, &o.ignore_missing, NULL,
         "Treat a missing object as deleted"},
        {"wait", 0, CLI_FLAG_BOOL, &o.wait, NULL,
         "Wait until a gracefully deleted object is gone (default true; --wait=false returns at once)"},
        {"timeout", 0, CLI_FLAG_INT, &o.timeout, "SECONDS",
         "How long --wait waits (0: the object's grace period plus a minute)"},
    };
    int rv;

    bare_cascade(argc, argv);
    rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);
    if (rv != 0 || (rv = check_usage(x, &o, &pos)) != 0) {
        rv = cli_stop_status(rv);
        goto out;
    }
    if (o.now && o.grace < 0) o.grace = 1;
    rv = CLI_EXIT_FAIL;
    if ((o.options = delete_options(&o)) == NULL) goto out;
    if (o.files.n) {
        rv = delete_files(x, &o);
    } else if (cli_targets_parse(x, pos.v, pos.n, &t) == 0 && cli_connect(x) == 0) {
        rv = delete_targets(x, &o, &t);
    }
out:
    json_decref(o.options);
    cli_targets_free(&t);
    cli_strv_free(&pos);
    cli_strv_free(&o.files);
    return rv;
}
