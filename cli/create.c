/* create.c — `orctl create`: POST manifests (an existing object is an
 * error, unlike apply), or build a namespace, ConfigMap or Deployment from
 * flags the way kubectl's generators do; `create token SA` asks for a
 * ServiceAccount token (TokenRequest) and prints it. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/yaml.h"

struct create_opts {
    struct cli_strv files, literals, audiences;
    const char *output, *image, *dry_run, *duration;
    long long replicas;
};

static int print_created(cli_ctx *x, const struct create_opts *o, const struct orc_kind *k,
                         const json_t *obj)
{
    struct orc_buf out = ORC_BUF_INIT;
    const char *name = orc_json_str(obj, "metadata.name") ?: "";
    int rv;

    if (o->output && strcmp(o->output, "yaml") == 0) rv = orc_yaml_emit(obj, &out);
    else if (o->output && strcmp(o->output, "json") == 0) rv = orc_json_dump_pretty(obj, &out);
    else if ((rv = cli_ref_name(k, name, &out)) == 0)
        rv = orc_buf_printf(&out, "%s\n", o->output && *o->output ? ""
                                          : o->dry_run ? " created (server dry run)" : " created");
    if (rv == 0) cli_write(x, &out);
    orc_buf_free(&out);
    return rv;
}

/* POSTs obj; returns 0, ORC_EINVAL (failure printed) or a transport error. */
static int post(cli_ctx *x, const struct create_opts *o, const struct orc_kind *k, const char *ns,
                const json_t *obj)
{
    struct orc_buf path = ORC_BUF_INIT;
    json_t *reply = NULL;
    int status = 0;
    int rv = cli_object_path(k, ns, NULL, NULL, &path);

    if (rv == 0 && o->dry_run) rv = cli_query_add(&path, "dryRun", "All");
    if (rv == 0) rv = cli_request_json(x, "POST", path.data, NULL, obj, &status, &reply);
    if (rv == 0 && (status == 201 || status == 200)) {
        print_created(x, o, k, json_is_object(reply) ? reply : obj);
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    json_decref(reply);
    orc_buf_free(&path);
    return rv;
}

static int create_doc(cli_ctx *x, const struct cli_doc *d, const char *ns, const void *arg)
{
    json_t *obj = json_deep_copy(d->obj);
    int one;

    if (obj == NULL) return ORC_ENOMEM;
    if (ns) orc_json_set(obj, "metadata.namespace", json_string(ns));
    one = post(x, arg, d->kind, ns, obj);
    json_decref(obj);
    return one;
}

static int create_files(cli_ctx *x, const struct create_opts *o)
{
    return cli_each_doc(x, &o->files, create_doc, o);
}

/* ---- generators ---- */

static json_t *gen_namespace(cli_ctx *x, const struct create_opts *o, const char *name)
{
    (void)x;
    (void)o;
    return json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                     "name", name);
}

static json_t *gen_configmap(cli_ctx *x, const struct create_opts *o, const char *name)
{
    json_t *data = json_object();

    for (size_t i = 0; i < o->literals.n && data; i++) {
        const char *kv = o->literals.v[i], *eq = strchr(kv, '=');
        if (eq == NULL || eq == kv) {
            fprintf(x->err, "error: invalid --from-literal \"%s\": want KEY=VALUE\n", kv);
            json_decref(data);
            return NULL;
        }
        char *key = strndup(kv, (size_t)(eq - kv));
        if (key == NULL || json_object_set_new(data, key, json_string(eq + 1)) != 0) {
            json_decref(data);
            data = NULL;
        }
        free(key);
    }
    return data ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
                            "metadata", "name", name, "namespace", x->ns, "data", data)
                : NULL;
}

/* kubectl's generator: label app=NAME on the Deployment, its selector and
 * pod template; one container named after the image's last path part. */
static json_t *gen_deployment(cli_ctx *x, const struct create_opts *o, const char *name)
{
    const char *img = o->image, *slash;
    char cname[64];

    if (img == NULL || *img == '\0') {
        fprintf(x->err, "error: required flag(s) \"image\" not set\n");
        return NULL;
    }
    slash = strrchr(img, '/');
    snprintf(cname, sizeof cname, "%.*s", (int)strcspn(slash ? slash + 1 : img, ":@"),
             slash ? slash + 1 : img);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:I, s:{s:{s:s}}, "
                     "s:{s:{s:{s:s}}, s:{s:[{s:s, s:s}]}}}}",
                     "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", name,
                     "namespace", x->ns, "labels", "app", name, "spec", "replicas",
                     (json_int_t)o->replicas, "selector", "matchLabels", "app", name, "template",
                     "metadata", "labels", "app", name, "spec", "containers", "name", cname,
                     "image", img);
}

struct generator {
    const char *what; /* as typed: kind name or short name */
    const char *kind;
    json_t *(*build)(cli_ctx *x, const struct create_opts *o, const char *name);
};

static const struct generator generators[] = {
    {"namespace", "namespaces", gen_namespace}, {"ns", "namespaces", gen_namespace},
    {"configmap", "configmaps", gen_configmap}, {"cm", "configmaps", gen_configmap},
    {"deployment", "deployments", gen_deployment}, {"deploy", "deployments", gen_deployment},
};

/* The TokenRequest body, as kubectl create token builds it. */
static json_t *token_request(cli_ctx *x, const struct create_opts *o)
{
    json_t *spec = json_object(), *aud = json_array();
    uint64_t ms = 0;

    if (o->duration && (orc_duration_parse(o->duration, &ms) != 0 || ms % 1000 != 0)) {
        cli_usage_error(x, "invalid --duration \"%s\": want whole seconds, like 1h or 10m", o->duration);
        json_decref(spec);
        json_decref(aud);
        return NULL;
    }
    for (size_t i = 0; i < o->audiences.n; i++) json_array_append_new(aud, json_string(o->audiences.v[i]));
    json_object_set_new(spec, "audiences", aud);
    if (ms) json_object_set_new(spec, "expirationSeconds", json_integer((json_int_t)(ms / 1000)));
    return json_pack("{s:s, s:s, s:o}", "apiVersion", "authentication.k8s.io/v1", "kind",
                     "TokenRequest", "spec", spec);
}

/* `orctl create token SA`: prints the token of a TokenRequest. */
static int create_token(cli_ctx *x, const struct create_opts *o, const char *sa)
{
    struct orc_buf path = ORC_BUF_INIT, out = ORC_BUF_INIT;
    json_t *body, *reply = NULL;
    int status = 0, rv;

    if ((body = token_request(x, o)) == NULL) return CLI_EXIT_USAGE;
    if (cli_connect(x) != 0) {
        json_decref(body);
        return CLI_EXIT_FAIL;
    }
    rv = cli_object_path(orc_kind_lookup("serviceaccounts"), x->ns, sa, "token", &path);
    if (rv == 0) rv = cli_request_json(x, "POST", path.data, NULL, body, &status, &reply);
    if (rv == 0 && status == 201 && orc_json_str(reply, "status.token")) {
        orc_buf_printf(&out, "%s\n", orc_json_str(reply, "status.token"));
        cli_write(x, &out);
    } else if (rv == 0) {
        cli_print_failure(x, status, reply);
        rv = ORC_EINVAL;
    }
    if (out.data) explicit_bzero(out.data, out.len);
    orc_buf_free(&out);
    orc_buf_free(&path);
    json_decref(reply);
    json_decref(body);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int create_generated(cli_ctx *x, const struct create_opts *o, const struct cli_strv *pos)
{
    const struct generator *g = NULL;
    json_t *obj;
    int rv;

    if (strcmp(pos->v[0], "token") == 0) {
        if (pos->n != 2) return cli_usage_error(x, "exactly one SERVICEACCOUNT is required");
        return create_token(x, o, pos->v[1]);
    }
    for (size_t i = 0; i < ORC_ARRAY_LEN(generators); i++)
        if (strcmp(pos->v[0], generators[i].what) == 0) g = &generators[i];
    if (g == NULL)
        return cli_usage_error(x, "cannot create \"%s\" from flags: use namespace, configmap, "
                                  "deployment, token, or -f FILE", pos->v[0]);
    if (pos->n != 2) return cli_usage_error(x, "exactly one NAME is required, got %zu", pos->n - 1);
    if (cli_connect(x) != 0) return CLI_EXIT_FAIL;
    if ((obj = g->build(x, o, pos->v[1])) == NULL) return CLI_EXIT_FAIL;
    const struct orc_kind *k = orc_kind_lookup(g->kind);
    rv = post(x, o, k, k->namespaced ? x->ns : NULL, obj);
    json_decref(obj);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int check_output(cli_ctx *x, const struct create_opts *o)
{
    static const char *const ok[] = {"", "yaml", "json", "name"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(ok); i++)
        if (strcmp(o->output ? o->output : "", ok[i]) == 0) return 0;
    return cli_usage_error(x, "unsupported output format \"%s\": want yaml, json or name", o->output);
}

int cli_cmd_create(cli_ctx *x, int argc, char **argv)
{
    struct create_opts o = {.replicas = 1};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"filename", 'f', CLI_FLAG_LIST, &o.files, "FILE", "Create the objects of these manifests"},
        {"from-literal", 0, CLI_FLAG_ARRAY, &o.literals, "KEY=VALUE", "configmap: a data entry; repeatable"},
        {"image", 0, CLI_FLAG_STRING, &o.image, "IMAGE", "deployment: the container image"},
        {"replicas", 'r', CLI_FLAG_INT, &o.replicas, "N", "deployment: replica count (default 1)"},
        {"output", 'o', CLI_FLAG_STRING, &o.output, "FMT", "yaml, json or name"},
        {"dry-run", 0, CLI_FLAG_STRING, &o.dry_run, "server", "Check and default without storing"},
        {"duration", 0, CLI_FLAG_STRING, &o.duration, "D", "token: how long it lasts (default 1h)"},
        {"audience", 0, CLI_FLAG_ARRAY, &o.audiences, "A", "token: an audience; repeatable"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0 || (rv = check_output(x, &o)) != 0) rv = cli_stop_status(rv);
    else if (o.dry_run && strcmp(o.dry_run, "server") && strcmp(o.dry_run, "none"))
        rv = cli_usage_error(x, "invalid --dry-run \"%s\": want server or none", o.dry_run);
    else {
        if (o.dry_run && strcmp(o.dry_run, "none") == 0) o.dry_run = NULL;
        if (o.files.n && pos.n) rv = cli_usage_error(x, "use either -f FILE or KIND NAME, not both");
        else if (o.files.n) rv = create_files(x, &o);
        else if (pos.n) rv = create_generated(x, &o, &pos);
        else rv = cli_usage_error(x, "you must specify -f FILE, namespace|configmap|deployment NAME, or token SERVICEACCOUNT");
    }
    cli_strv_free(&pos);
    cli_strv_free(&o.files);
    cli_strv_free(&o.literals);
    cli_strv_free(&o.audiences);
    return rv;
}
