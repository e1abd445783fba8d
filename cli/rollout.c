/* rollout.c — `orctl rollout status|history|undo|restart|pause|resume
 * deploy/NAME`, as kubectl does them: status follows the Deployment's
 * status until rolled out (non-zero on ProgressDeadlineExceeded); undo is
 * client-side, copying an old ReplicaSet's template into the Deployment;
 * restart stamps the template with kubectl.kubernetes.io/restartedAt. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/print.h"
#include "lib/table.h"
#include "controllers/ctl_util.h"
#include "controllers/deployment.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

struct rollout_opts {
    long long to_revision, revision;
    const char *timeout;
    bool watch;
};

struct rollout_sub {
    const char *name;
    int (*run)(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
               const char *name);
};

static int fail(cli_ctx *x, const char *fmt, const char *a, const char *b)
{
    fputs("error: ", x->err);
    fprintf(x->err, fmt, a, b ? b : "");
    fputc('\n', x->err);
    return CLI_EXIT_FAIL;
}

static int print_ref(cli_ctx *x, const struct orc_kind *k, const char *name, const char *what)
{
    struct orc_buf ref = ORC_BUF_INIT;
    if (cli_ref_name(k, name, &ref) != 0) return CLI_EXIT_FAIL;
    fprintf(x->out, "%s %s\n", ref.data, what);
    fflush(x->out);
    orc_buf_free(&ref);
    return CLI_EXIT_OK;
}

static int patch(cli_ctx *x, const struct orc_kind *k, const char *name, const char *ctype,
                 json_t *body)
{
    struct orc_buf path = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0;
    int rv = body ? cli_object_path(k, x->ns, name, NULL, &path) : ORC_ENOMEM;
    if (rv == 0) rv = cli_request_json(x, "PATCH", path.data, ctype, body, &status, &reply);
    if (rv == 0 && status != 200) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(reply);
    json_decref(body);
    orc_buf_free(&path);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- status ---- */

static int rollout_status(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
                          const char *name)
{
    uint64_t timeout_ms = 0, start = orc_time_mono_ms();
    char msg[512], last[512] = "";

    if (o->timeout && orc_duration_parse(o->timeout, &timeout_ms) != 0)
        return cli_usage_error(x, "invalid --timeout \"%s\"", o->timeout);
    for (;;) {
        json_t *d = NULL;
        if (cli_get_object(x, k, x->ns, name, &d) != 0) return CLI_EXIT_FAIL;
        int st = dep_rollout_status(d, msg, sizeof msg);
        json_decref(d);
        if (st == ORC_ETIMEDOUT) return fail(x, "%s", msg, NULL);
        if (st == 1 || strcmp(msg, last) != 0) {
            fputs(msg, x->out);
            fflush(x->out);
            snprintf(last, sizeof last, "%s", msg);
        }
        if (st == 1 || !o->watch) return CLI_EXIT_OK;
        if (timeout_ms && orc_time_mono_ms() - start >= timeout_ms)
            return fail(x, "timed out waiting for the condition%s", "", NULL);
        usleep(250 * 1000);
    }
}

/* ---- the Deployment's ReplicaSets ---- */

static int cmp_rev(const void *a, const void *b)
{
    int64_t x = dep_revision_of(*(json_t *const *)a), y = dep_revision_of(*(json_t *const *)b);
    return x < y ? -1 : x > y;
}

/* The ReplicaSets d controls, sorted by revision (a new array). */
static int owned_sets(cli_ctx *x, const json_t *d, json_t **out)
{
    const struct orc_kind *rk = orc_kind_lookup("replicasets.apps");
    const char *uid = orc_json_str(d, "metadata.uid");
    json_t *items = NULL, *rs, *v;
    size_t i, n = 0;
    char *list_rv = NULL;
    int rv = cli_list(x, rk, x->ns, NULL, NULL, &items, &list_rv);

    free(list_rv);
    if (rv != 0) return rv;
    json_t **arr = calloc(json_array_size(items) + 1, sizeof *arr);
    if (!arr || !(v = json_array())) {
        free(arr);
        json_decref(items);
        return ORC_ENOMEM;
    }
    json_array_foreach (items, i, rs) {
        const char *owner = ctl_controller_uid(rs);
        if (owner && uid && strcmp(owner, uid) == 0) arr[n++] = rs;
    }
    qsort(arr, n, sizeof *arr, cmp_rev);
    for (i = 0; i < n; i++) json_array_append(v, arr[i]);
    free(arr);
    json_decref(items);
    *out = v;
    return 0;
}

static const char *annotation(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(orc_json_get(o, "metadata.annotations"), key));
}

static void print_template(cli_ctx *x, const json_t *tmpl)
{
    const json_t *labels = orc_json_get(tmpl, "metadata.labels"), *c;
    struct orc_buf b = ORC_BUF_INIT;
    size_t i;

    orc_table_labels(labels, &b);
    fprintf(x->out, "Pod Template:\n  Labels:\t%s\n  Containers:\n", b.data ? b.data : "<none>");
    json_array_foreach (orc_json_get(tmpl, "spec.containers"), i, c)
        fprintf(x->out, "   %s:\n    Image:\t%s\n",
                orc_json_str(c, "name") ? orc_json_str(c, "name") : "",
                orc_json_str(c, "image") ? orc_json_str(c, "image") : "");
    fputc('\n', x->out);
    orc_buf_free(&b);
}

static int rollout_history(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
                           const char *name)
{
    json_t *d = NULL, *sets = NULL, *rs = NULL;
    struct orc_buf ref = ORC_BUF_INIT;
    size_t i;
    int rv = CLI_EXIT_FAIL;

    if (cli_get_object(x, k, x->ns, name, &d) != 0 || owned_sets(x, d, &sets) != 0) goto out;
    cli_ref_name(k, name, &ref);
    if (o->revision > 0) {
        json_array_foreach (sets, i, rs)
            if (dep_revision_of(rs) == o->revision) break;
        if (i == json_array_size(sets)) {
            rv = fail(x, "unable to find the specified revision%s%s", "", NULL);
            goto out;
        }
        fprintf(x->out, "%s with revision #%lld\n", ref.data, o->revision);
        print_template(x, orc_json_get(rs, "spec.template"));
        rv = CLI_EXIT_OK;
        goto out;
    }
    fprintf(x->out, "%s \nREVISION  CHANGE-CAUSE\n", ref.data);
    json_array_foreach (sets, i, rs) {
        int64_t r = dep_revision_of(rs);
        const char *cause = annotation(rs, "kubernetes.io/change-cause");
        if (r > 0) fprintf(x->out, "%-9" PRId64 " %s\n", r, cause ? cause : "<none>");
    }
    fputc('\n', x->out);
    fflush(x->out);
    rv = CLI_EXIT_OK;
out:
    orc_buf_free(&ref);
    json_decref(sets);
    json_decref(d);
    return rv;
}

/* ---- undo ---- */

/* The Deployment's annotations after a rollback to rs: its own skipped ones
 * kept, the others taken from rs (kubectl's rollback). */
static json_t *undo_annotations(const json_t *d, const json_t *rs)
{
    json_t *out = json_object(), *v;
    const char *key;
    json_object_foreach (orc_json_get(d, "metadata.annotations"), key, v)
        if (dep_annotation_skipped(key)) json_object_set(out, key, v);
    json_object_foreach (orc_json_get(rs, "metadata.annotations"), key, v)
        if (!dep_annotation_skipped(key)) json_object_set(out, key, v);
    return out;
}

static const json_t *pick_revision(const json_t *sets, long long to)
{
    const json_t *rs, *prev = NULL;
    size_t i;
    if (to > 0) {
        json_array_foreach (sets, i, rs)
            if (dep_revision_of(rs) == to) return rs;
        return NULL;
    }
    /* The one before the latest revision. */
    size_t n = json_array_size(sets);
    if (n >= 2) prev = json_array_get(sets, n - 2);
    return prev;
}

static int rollout_undo(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
                        const char *name)
{
    json_t *d = NULL, *sets = NULL;
    int rv = CLI_EXIT_FAIL;
    char rev[32];

    if (cli_get_object(x, k, x->ns, name, &d) != 0) goto out;
    if (json_is_true(orc_json_get(d, "spec.paused"))) {
        fprintf(x->err,
                "error: you cannot rollback a paused deployment; resume it first with "
                "'orctl rollout resume deployment/%s' and try again\n",
                name);
        goto out;
    }
    if (owned_sets(x, d, &sets) != 0) goto out;
    const json_t *rs = pick_revision(sets, o->to_revision);
    if (!rs && o->to_revision > 0) {
        snprintf(rev, sizeof rev, "%lld", o->to_revision);
        rv = fail(x, "unable to find specified revision %s in history%s", rev, NULL);
        goto out;
    }
    if (!rs) {
        rv = fail(x, "no rollout history found for deployment \"%s\"%s", name, NULL);
        goto out;
    }
    snprintf(rev, sizeof rev, "%" PRId64, dep_revision_of(rs));
    if (dep_templates_equal(orc_json_get(rs, "spec.template"), orc_json_get(d, "spec.template"))) {
        char what[128];
        snprintf(what, sizeof what,
                 "skipped rollback (current template already matches revision %s)", rev);
        rv = print_ref(x, k, name, what);
        goto out;
    }
    json_t *tmpl = json_deep_copy(orc_json_get(rs, "spec.template"));
    orc_json_del(orc_json_get(tmpl, "metadata.labels"), DEP_HASH_LABEL);
    json_t *ops = json_pack("[{s:s,s:s,s:o},{s:s,s:s,s:o}]", "op", "replace", "path",
                            "/spec/template", "value", tmpl, "op", "replace", "path",
                            "/metadata/annotations", "value", undo_annotations(d, rs));
    rv = patch(x, k, name, "application/json-patch+json", ops);
    if (rv == CLI_EXIT_OK) rv = print_ref(x, k, name, "rolled back");
out:
    json_decref(sets);
    json_decref(d);
    return rv;
}

/* ---- restart, pause, resume ---- */

static int rollout_restart(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
                           const char *name)
{
    json_t *d = NULL;
    char now[ORC_TIME_LEN];
    (void)o;
    if (cli_get_object(x, k, x->ns, name, &d) != 0) return CLI_EXIT_FAIL;
    bool paused = json_is_true(orc_json_get(d, "spec.paused"));
    json_decref(d);
    if (paused) {
        fprintf(x->err,
                "error: %s \"%s\" can't restart paused deployment (run rollout resume first)\n",
                "deployments.apps", name);
        return CLI_EXIT_FAIL;
    }
    orc_time_now(now);
    json_t *p = json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template", "metadata", "annotations",
                          "kubectl.kubernetes.io/restartedAt", now);
    int rv = patch(x, k, name, "application/strategic-merge-patch+json", p);
    return rv == CLI_EXIT_OK ? print_ref(x, k, name, "restarted") : rv;
}

static int set_paused(cli_ctx *x, const struct orc_kind *k, const char *name, bool pause)
{
    json_t *d = NULL;
    if (cli_get_object(x, k, x->ns, name, &d) != 0) return CLI_EXIT_FAIL;
    bool is = json_is_true(orc_json_get(d, "spec.paused"));
    json_decref(d);
    if (is == pause) return print_ref(x, k, name, pause ? "already paused" : "already resumed");
    int rv = patch(x, k, name, "application/merge-patch+json",
                   json_pack("{s:{s:b}}", "spec", "paused", pause));
    return rv == CLI_EXIT_OK ? print_ref(x, k, name, pause ? "paused" : "resumed") : rv;
}

static int rollout_pause(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
                         const char *name)
{
    (void)o;
    return set_paused(x, k, name, true);
}

static int rollout_resume(cli_ctx *x, const struct rollout_opts *o, const struct orc_kind *k,
                          const char *name)
{
    (void)o;
    return set_paused(x, k, name, false);
}

static const struct rollout_sub subs[] = {
    {"status", rollout_status},   {"history", rollout_history}, {"undo", rollout_undo},
    {"restart", rollout_restart}, {"pause", rollout_pause},     {"resume", rollout_resume},
};

static int run_targets(cli_ctx *x, const struct rollout_sub *s, const struct rollout_opts *o,
                       struct cli_strv *pos)
{
    struct cli_targets t = {0};
    int rv = CLI_EXIT_FAIL;

    if (cli_targets_parse(x, pos->v + 1, pos->n - 1, &t) != 0) goto out;
    for (size_t i = 0; i < t.n; i++) {
        if (t.v[i].name == NULL) {
            rv = cli_usage_error(x, "you must name the deployment (deploy/NAME or deploy NAME)");
            goto out;
        }
        if (strcmp(t.v[i].kind->resource, "deployments") != 0) {
            fprintf(x->err, "error: no rollout support for %s (only deployments)\n",
                    t.v[i].kind->resource);
            goto out;
        }
    }
    if (cli_connect(x) != 0) goto out;
    rv = CLI_EXIT_OK;
    for (size_t i = 0; i < t.n && rv == CLI_EXIT_OK; i++)
        rv = s->run(x, o, t.v[i].kind, t.v[i].name);
out:
    cli_targets_free(&t);
    return rv;
}

int cli_cmd_rollout(cli_ctx *x, int argc, char **argv)
{
    struct rollout_opts o = {.watch = true};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"to-revision", 0, CLI_FLAG_INT, &o.to_revision, "N",
         "undo: the revision to go back to (0: the previous)"},
        {"revision", 0, CLI_FLAG_INT, &o.revision, "N", "history: show this revision's template"},
        {"timeout", 0, CLI_FLAG_STRING, &o.timeout, "DURATION",
         "status: give up after this long (0: never)"},
        {"watch", 'w', CLI_FLAG_BOOL, &o.watch, NULL,
         "status: wait until rolled out (default true)"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);
    const struct rollout_sub *s = NULL;

    if (rv != 0) {
        cli_strv_free(&pos);
        return cli_stop_status(rv);
    }
    for (size_t i = 0; pos.n > 0 && i < ORC_ARRAY_LEN(subs); i++)
        if (strcmp(pos.v[0], subs[i].name) == 0) s = &subs[i];
    if (!s)
        rv = cli_usage_error(x, "you must name a rollout command: status, history, undo, restart, "
                                "pause or resume");
    else if (pos.n < 2)
        rv = cli_usage_error(x, "you must name the deployment (deploy/NAME)");
    else
        rv = run_targets(x, s, &o, &pos);
    cli_strv_free(&pos);
    return rv;
}
