/* set.c — `orctl set image`: changes container images of a workload's pod
 * template (or of a pod) with a strategic merge patch, as kubectl does:
 * CONTAINER=IMAGE pairs, "*" for every container, init containers too; a
 * container the object lacks is an error and nothing of that object
 * changes; an object already at those images is left alone, silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

/* Where the pod spec of an object of `kind` is, or NULL when it has none. */
const char *cli_pod_spec_path(const char *kind)
{
    static const struct { const char *kind, *path; } map[] = {
        {"Pod", "spec"},
        {"Deployment", "spec.template.spec"},
        {"ReplicaSet", "spec.template.spec"},
        {"StatefulSet", "spec.template.spec"},
        {"DaemonSet", "spec.template.spec"},
        {"Job", "spec.template.spec"},
        {"ReplicationController", "spec.template.spec"},
        {"CronJob", "spec.jobTemplate.spec.template.spec"},
    };
    for (size_t i = 0; kind && i < ORC_ARRAY_LEN(map); i++)
        if (strcmp(kind, map[i].kind) == 0) return map[i].path;
    return NULL;
}

/* Appends {name, image} to the patch's list `field` when the container's
 * image differs. 0, ORC_ENOMEM. */
static int change(json_t *spec_patch, const char *field, const json_t *c, const char *image)
{
    const char *name = orc_json_str(c, "name"), *have = orc_json_str(c, "image");
    json_t *list = json_object_get(spec_patch, field);

    if (!name || (have && strcmp(have, image) == 0)) return 0;
    if (!list) {
        if (!(list = json_array()) || json_object_set_new(spec_patch, field, list) != 0)
            return ORC_ENOMEM;
    }
    return json_array_append_new(list, json_pack("{s:s,s:s}", "name", name, "image", image)) == 0
               ? 0
               : ORC_ENOMEM;
}

/* Sets `image` on container `name` ("*": all) of the spec's lists into the
 * patch; false when no container has that name. */
static int set_one(const json_t *spec, json_t *spec_patch, const char *name, const char *image,
                   bool *found)
{
    static const char *const lists[] = {"initContainers", "containers"};
    *found = false;
    for (size_t k = 0; k < ORC_ARRAY_LEN(lists); k++) {
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(spec, lists[k]), i, c) {
            const char *cn = orc_json_str(c, "name");
            if (strcmp(name, "*") != 0 && (!cn || strcmp(cn, name) != 0)) continue;
            *found = true;
            if (change(spec_patch, lists[k], c, image) != 0) return ORC_ENOMEM;
        }
    }
    return 0;
}

/* Wraps the pod spec patch into the object's shape at `path`. */
static json_t *wrap(json_t *spec_patch, const char *path)
{
    json_t *patch = json_object();
    if (!patch || orc_json_set(patch, path, spec_patch) != 0) {
        json_decref(patch);
        return NULL;
    }
    return patch;
}

int cli_set_image_patch(const json_t *obj, char *const *pairs, size_t n, json_t **patch,
                        char *err, size_t errlen)
{
    const char *path = cli_pod_spec_path(orc_json_str(obj, "kind"));
    const json_t *spec = path ? orc_json_get(obj, path) : NULL;
    json_t *sp = json_object();
    int rv = 0;

    *patch = NULL;
    if (!sp) return ORC_ENOMEM;
    if (!path || !json_is_object(spec)) {
        json_decref(sp);
        return orc_errf(err, errlen, ORC_EINVAL, "%s has no pod template",
                        orc_json_str(obj, "kind") ?: "the object");
    }
    for (size_t i = 0; i < n && rv == 0; i++) {
        const char *eq = strchr(pairs[i], '=');
        char name[256];
        bool found;
        if (!eq || eq == pairs[i] || !eq[1] || (size_t)(eq - pairs[i]) >= sizeof name) {
            rv = orc_errf(err, errlen, ORC_EINVAL, "invalid CONTAINER=IMAGE pair \"%s\"", pairs[i]);
            break;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - pairs[i]), pairs[i]);
        if ((rv = set_one(spec, sp, name, eq + 1, &found)) == 0 && !found)
            rv = orc_errf(err, errlen, ORC_EINVAL, "unable to find container named \"%s\"", name);
    }
    if (rv == 0 && json_object_size(sp) > 0) {
        json_incref(sp);
        if (!(*patch = wrap(sp, path))) rv = ORC_ENOMEM;
    }
    json_decref(sp);
    return rv;
}

/* ---- the command ---- */

struct image_opts {
    struct cli_strv files;
    struct cli_strv pairs; /* CONTAINER=IMAGE */
    const char *labels;    /* -l: every object of the kind it selects */
    bool all;              /* --all: every object of the kind */
};

static int patch_object(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *name,
                        const json_t *patch)
{
    struct orc_buf path = ORC_BUF_INIT, ref = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0;
    int rv = cli_object_path(k, ns, name, NULL, &path);

    if (rv == 0)
        rv = cli_request_json(x, "PATCH", path.data, "application/strategic-merge-patch+json",
                              patch, &status, &reply);
    if (rv == 0 && status == 200 && cli_ref_name(k, name, &ref) == 0) {
        fprintf(x->out, "%s image updated\n", ref.data);
        fflush(x->out);
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(reply);
    orc_buf_free(&path);
    orc_buf_free(&ref);
    return rv;
}

/* Reads the object, decides the patch, sends it when something changes. */
static int image_one(cli_ctx *x, const struct image_opts *o, const struct orc_kind *k,
                     const char *ns, const char *name)
{
    json_t *obj = NULL, *patch = NULL;
    char err[512];
    int rv;

    if (!cli_pod_spec_path(k->kind)) {
        fprintf(x->err, "error: %s/%s: a %s has no pod template to set an image in\n", k->resource,
                name, k->kind);
        return ORC_EINVAL;
    }
    if ((rv = cli_get_object(x, k, ns, name, &obj)) != 0) return rv;
    if (!orc_json_str(obj, "kind")) json_object_set_new(obj, "kind", json_string(k->kind));
    rv = cli_set_image_patch(obj, o->pairs.v, o->pairs.n, &patch, err, sizeof err);
    if (rv == ORC_EINVAL) fprintf(x->err, "error: %s\n", err); /* kubectl's words */
    else if (rv == 0 && patch) rv = patch_object(x, k, ns, name, patch);
    json_decref(patch);
    json_decref(obj);
    return rv;
}

static int image_doc(cli_ctx *x, const struct cli_doc *d, const char *ns, const void *arg)
{
    const char *name = orc_json_str(d->obj, "metadata.name");
    return name ? image_one(x, arg, d->kind, ns, name) : ORC_EINVAL;
}

static int image_named(cli_ctx *x, const struct orc_kind *k, const char *ns, const char *name,
                       const void *o)
{
    return image_one(x, o, k, ns, name);
}

/* Every object of kind k that -l (or --all) picks, in the namespace. */
static int image_selected(cli_ctx *x, const struct image_opts *o, const struct orc_kind *k,
                          bool *failed)
{
    return cli_each_selected(x, k, o->labels, false, image_named, o, failed);
}

static int image_targets(cli_ctx *x, const struct image_opts *o, const struct cli_strv *targets)
{
    struct cli_targets t = {0};
    bool failed = false, selecting = (o->labels && *o->labels) || o->all;
    int rv = CLI_EXIT_FAIL;

    if (cli_targets_parse(x, targets->v, targets->n, &t) != 0) goto out;
    for (size_t i = 0; i < t.n; i++) {
        if ((t.v[i].name == NULL) == selecting) continue;
        rv = cli_usage_error(x, selecting ? "name cannot be provided when a selector or --all is specified"
                                          : "you must name the objects (KIND NAME or KIND/NAME), or "
                                            "use -l SELECTOR or --all");
        goto out;
    }
    if (cli_connect(x) != 0) goto out;
    for (size_t i = 0; i < t.n; i++) {
        const struct orc_kind *k = t.v[i].kind;
        int one = selecting ? image_selected(x, o, k, &failed)
                            : image_one(x, o, k, k->namespaced ? x->ns : NULL, t.v[i].name);
        if (cli_unreachable(one)) goto out;
        failed |= one != 0;
    }
    rv = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    cli_targets_free(&t);
    return rv;
}

/* Splits the words into objects and CONTAINER=IMAGE pairs (kubectl tells
 * them apart by the "="). */
static int split_words(const struct cli_strv *pos, size_t from, struct cli_strv *targets,
                       struct image_opts *o)
{
    for (size_t i = from; i < pos->n; i++) {
        struct cli_strv *to = strchr(pos->v[i], '=') ? &o->pairs : targets;
        if (cli_strv_push(to, pos->v[i], strlen(pos->v[i])) != 0) return ORC_ENOMEM;
    }
    return 0;
}

int cli_cmd_set(cli_ctx *x, int argc, char **argv)
{
    struct image_opts o = {0};
    struct cli_strv pos = {0}, targets = {0};
    const struct cli_flag flags[] = {
        {"filename", 'f', CLI_FLAG_LIST, &o.files, "FILE", "Set images in the objects of these manifests"},
        {"selector", 'l', CLI_FLAG_STRING, &o.labels, "SEL", "Set images in every object of the kind it selects"},
        {"all", 0, CLI_FLAG_BOOL, &o.all, NULL, "Set images in every object of the kind in the namespace"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n == 0 || strcmp(pos.v[0], "image") != 0)
        rv = cli_usage_error(x, pos.n ? "unknown subcommand \"%s\" for \"orctl set\" (want image)"
                                      : "you must name a subcommand%s: orctl set image ...",
                             pos.n ? pos.v[0] : "");
    else if (split_words(&pos, 1, &targets, &o) != 0) rv = cli_usage_error(x, "out of memory");
    else if (o.pairs.n == 0) rv = cli_usage_error(x, "at least one image update is required (CONTAINER=IMAGE)");
    else if (o.files.n && targets.n) rv = cli_usage_error(x, "use either -f FILE or KIND NAME, not both");
    else if (o.files.n) rv = cli_each_doc(x, &o.files, image_doc, &o);
    else if (targets.n) rv = image_targets(x, &o, &targets);
    else rv = cli_usage_error(x, "you must specify the objects (KIND/NAME or -f FILE)");
    cli_strv_free(&pos);
    cli_strv_free(&targets);
    cli_strv_free(&o.pairs);
    cli_strv_free(&o.files);
    return rv;
}
