/* run.c — `orctl run NAME --image=IMG [-i] [-t] [--rm] [--restart=..]
 * [--env K=V] [--labels k=v,..] [--command] [-- ARGS...]`, as kubectl run:
 * creates a one-container Pod (labels run=NAME unless --labels); with -i
 * (or --attach) waits for it to run and attaches (cli_attach), then with
 * --restart=Never or OnFailure waits for it to end and exits with its
 * container's exit code; --rm deletes it after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "client/http.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define POD_WAIT_MS 60000 /* kubectl's --pod-running-timeout default (1m) */
#define POLL_MS 200

struct run_opts {
    const char *image, *restart, *labels;
    bool in, tty, rm, attach, command, leave_open, quiet;
    struct cli_strv env;
};

/* "k=v,k2=v2" into an object; kubectl's message for a bad one. */
static json_t *parse_labels(cli_ctx *x, const char *spec, const char *name)
{
    json_t *l = json_object();
    char *copy, *save = NULL;

    if (l == NULL) return NULL;
    if (spec == NULL || *spec == '\0') {
        json_object_set_new(l, "run", json_string(name));
        return l;
    }
    if ((copy = strdup(spec)) == NULL) {
        json_decref(l);
        return NULL;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (eq == NULL || eq == t) {
            fprintf(x->err, "error: invalid label spec: %s\n", t);
            json_decref(l);
            l = NULL;
            break;
        }
        *eq = '\0';
        json_object_set_new(l, t, json_string(eq + 1));
    }
    free(copy);
    return l;
}

static json_t *env_list(cli_ctx *x, const struct cli_strv *env)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < env->n; i++) {
        const char *eq = strchr(env->v[i], '=');
        if (eq == NULL || eq == env->v[i]) {
            fprintf(x->err, "error: invalid env: %s\n", env->v[i]);
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_pack("{s:o, s:s}", "name",
                                           json_stringn(env->v[i], (size_t)(eq - env->v[i])), "value", eq + 1));
    }
    return a;
}

/* The Pod kubectl run's generator makes. */
static json_t *build_pod(cli_ctx *x, const struct run_opts *o, const char *policy, const struct cli_strv *pos)
{
    json_t *labels = parse_labels(x, o->labels, pos->v[0]), *env = env_list(x, &o->env), *argv, *c;

    if (labels == NULL || env == NULL || (argv = json_array()) == NULL) {
        json_decref(labels);
        json_decref(env);
        return NULL;
    }
    for (size_t i = 1; i < pos->n; i++) json_array_append_new(argv, json_string(pos->v[i]));
    c = json_pack("{s:s, s:s}", "name", pos->v[0], "image", o->image);
    if (c && json_array_size(argv) > 0) json_object_set(c, o->command ? "command" : "args", argv);
    if (c && json_array_size(env) > 0) json_object_set(c, "env", env);
    if (c && o->in) {
        json_object_set_new(c, "stdin", json_true());
        if (!o->leave_open) json_object_set_new(c, "stdinOnce", json_true());
    }
    if (c && o->tty) json_object_set_new(c, "tty", json_true());
    json_decref(argv);
    json_decref(env);
    return json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:[o], s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata",
                     "name", pos->v[0], "labels", labels, "spec", "containers", c, "restartPolicy", policy);
}

/* Polls the pod until done(phase) or POD_WAIT_MS; the pod (new
 * reference) or NULL (printed). */
static json_t *wait_pod(cli_ctx *x, const char *path, bool (*done)(const char *phase))
{
    uint64_t end = orc_time_mono_ms() + POD_WAIT_MS;

    for (;;) {
        json_t *pod = NULL;
        int status = 0;
        if (cli_request_json(x, "GET", path, NULL, NULL, &status, &pod) != 0) return NULL;
        if (status != 200) {
            cli_print_failure(x, status, pod);
            json_decref(pod);
            return NULL;
        }
        if (done(orc_json_str(pod, "status.phase") ?: "")) return pod;
        json_decref(pod);
        if (orc_time_mono_ms() >= end) {
            fprintf(x->err, "error: timed out waiting for the condition\n");
            return NULL;
        }
        usleep(POLL_MS * 1000);
    }
}

static bool ended(const char *ph) { return strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0; }
static bool running_or_ended(const char *ph) { return strcmp(ph, "Running") == 0 || ended(ph); }
static bool succeeded(const char *ph) { return strcmp(ph, "Succeeded") == 0; }

/* A pod that already ended has no process to attach to: its log instead. */
static int print_log(cli_ctx *x, const char *path)
{
    struct orc_buf p = ORC_BUF_INIT;
    struct http_response resp;
    int rv = CLI_EXIT_FAIL;

    if (orc_buf_printf(&p, "%s/log", path) == 0 && cli_request(x, "GET", p.data, NULL, NULL, 0, &resp) == 0) {
        if (resp.status == 200) {
            fwrite(resp.body, 1, resp.body_len, x->out);
            rv = CLI_EXIT_OK;
        } else {
            fprintf(x->err, "error: %.*s\n", (int)resp.body_len, resp.body ? resp.body : "");
        }
        http_response_free(&resp);
    }
    orc_buf_free(&p);
    return rv;
}

/* The container's exit code as kubectl run returns it (printing why). */
static int exit_code(cli_ctx *x, const json_t *pod, struct orc_buf *why)
{
    const json_t *t = orc_json_get(json_array_get(orc_json_get(pod, "status.containerStatuses"), 0),
                                   "state.terminated");
    json_int_t rc = json_integer_value(json_object_get(t, "exitCode"));

    if (succeeded(orc_json_str(pod, "status.phase") ?: "")) return CLI_EXIT_OK;
    if (t == NULL || rc == 0) {
        orc_buf_printf(why, "error: pod %s/%s failed with unknown exit code\n", x->ns,
                       orc_json_str(pod, "metadata.name"));
        return CLI_EXIT_FAIL;
    }
    orc_buf_printf(why, "pod %s/%s terminated (%s)\n%s\n", x->ns, orc_json_str(pod, "metadata.name"),
                   orc_json_str(t, "reason") ?: "", orc_json_str(t, "message") ?: "");
    return (int)rc;
}

static void remove_pod(cli_ctx *x, const char *path, const char *name)
{
    json_t *reply = NULL;
    int status = 0;

    if (cli_request_json(x, "DELETE", path, NULL, NULL, &status, &reply) != 0) return;
    if (status == 200 || status == 202) {
        fprintf(x->out, "pod \"%s\" deleted\n", name);
    } else if (status != 404) {
        cli_print_failure(x, status, reply);
    }
    json_decref(reply);
}

/* Attached: wait for it to run, attach, then its exit code (Never,
 * OnFailure) and --rm. */
static int attached(cli_ctx *x, const struct run_opts *o, const char *policy, const char *name, const char *path)
{
    struct orc_buf why = ORC_BUF_INIT;
    json_t *pod = wait_pod(x, path, running_or_ended);
    int rv = CLI_EXIT_FAIL;

    if (pod && ended(orc_json_str(pod, "status.phase") ?: "")) {
        rv = print_log(x, path);
    } else if (pod && (rv = cli_attach(x, name, name, o->in, o->tty)) != CLI_EXIT_OK) {
        /* as kubectl: the process may have ended before the attach */
        fprintf(x->err, "warning: couldn't attach to pod/%s, falling back to streaming logs\n", name);
        rv = print_log(x, path);
    }
    json_decref(pod);
    pod = NULL;
    if (rv == CLI_EXIT_OK && !o->leave_open && strcmp(policy, "Always") != 0) {
        pod = wait_pod(x, path, strcmp(policy, "Never") == 0 ? ended : succeeded);
        rv = pod ? exit_code(x, pod, &why) : CLI_EXIT_FAIL;
        json_decref(pod);
    } else if (rv == CLI_EXIT_OK && o->in && o->tty && !o->rm && strcmp(policy, "Always") == 0) {
        fprintf(x->err,
                "Session ended, resume using 'orctl attach %s -c %s -i -t' command when the pod is running\n",
                name, name);
    }
    fflush(x->out);
    if (o->rm) remove_pod(x, path, name);
    if (why.len) fputs(why.data, x->err);
    orc_buf_free(&why);
    return rv;
}

static const char *restart_policy(cli_ctx *x, const struct run_opts *o)
{
    if (o->restart == NULL || *o->restart == '\0') return o->in ? "OnFailure" : "Always";
    if (strcmp(o->restart, "Always") == 0 || strcmp(o->restart, "OnFailure") == 0
        || strcmp(o->restart, "Never") == 0)
        return o->restart;
    fprintf(x->err, "error: invalid restart policy: %s\n", o->restart);
    return NULL;
}

/* kubectl's checks, in its order and words; the restart policy, or NULL
 * after printing what is wrong. */
static const char *check(cli_ctx *x, const struct run_opts *o, const struct cli_strv *pos)
{
    const char *policy, *msg = NULL;

    if (pos->n == 0) msg = "NAME is required for run";
    else if (o->image == NULL || *o->image == '\0') msg = "--image is required";
    else if (o->tty && !o->in) msg = "-i/--stdin is required for containers with -t/--tty=true";
    if (msg) {
        fprintf(x->err, "error: %s\n", msg);
        return NULL;
    }
    if ((policy = restart_policy(x, o)) == NULL) return NULL;
    if (o->rm && !o->attach) {
        fprintf(x->err, "error: --rm should only be used for attached containers\n");
        return NULL;
    }
    return policy;
}

static int create_and_run(cli_ctx *x, const struct run_opts *o, const char *policy, const struct cli_strv *pos)
{
    struct orc_buf coll = ORC_BUF_INIT, path = ORC_BUF_INIT;
    json_t *pod = build_pod(x, o, policy, pos), *reply = NULL;
    int status = 0, rv = CLI_EXIT_FAIL;

    if (pod == NULL || cli_object_path(orc_kind_lookup("pods"), x->ns, NULL, NULL, &coll) != 0
        || cli_object_path(orc_kind_lookup("pods"), x->ns, pos->v[0], NULL, &path) != 0
        || cli_request_json(x, "POST", coll.data, "application/json", pod, &status, &reply) != 0)
        goto out;
    if (status != 201 && status != 200) {
        cli_print_failure(x, status, reply);
        goto out;
    }
    if (o->attach) {
        rv = attached(x, o, policy, pos->v[0], path.data);
    } else {
        fprintf(x->out, "pod/%s created\n", pos->v[0]);
        rv = CLI_EXIT_OK;
    }
out:
    json_decref(pod);
    json_decref(reply);
    orc_buf_free(&coll);
    orc_buf_free(&path);
    return rv;
}

int cli_cmd_run(cli_ctx *x, int argc, char **argv)
{
    struct run_opts o = {0};
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"image", 0, CLI_FLAG_STRING, &o.image, "IMAGE", "The image for the container to run"},
        {"restart", 0, CLI_FLAG_STRING, &o.restart, "POLICY",
         "The pod's restart policy: Always, OnFailure or Never (default Always; OnFailure with -i)"},
        {"stdin", 'i', CLI_FLAG_BOOL, &o.in, NULL, "Keep stdin open on the container and attach to it"},
        {"tty", 't', CLI_FLAG_BOOL, &o.tty, NULL, "Allocate a TTY for the container (needs -i)"},
        {"attach", 0, CLI_FLAG_BOOL, &o.attach, NULL, "Wait for the pod to run and attach (default with -i)"},
        {"rm", 0, CLI_FLAG_BOOL, &o.rm, NULL, "Delete the pod after it exits (attached only)"},
        {"env", 0, CLI_FLAG_ARRAY, &o.env, "K=V", "An environment variable of the container (repeatable)"},
        {"labels", 'l', CLI_FLAG_STRING, &o.labels, "k=v,...", "The pod's labels (default run=NAME)"},
        {"command", 0, CLI_FLAG_BOOL, &o.command, NULL, "The arguments after -- are the command, not its args"},
        {"leave-stdin-open", 0, CLI_FLAG_BOOL, &o.leave_open, NULL,
         "Keep stdin open after the first attach ends (default: closed, stdinOnce)"},
    };
    const char *policy;
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    o.attach = o.attach || o.in;
    if (rv != 0) rv = cli_stop_status(rv);
    else if ((policy = check(x, &o, &pos)) == NULL) rv = CLI_EXIT_FAIL;
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    else rv = create_and_run(x, &o, policy, &pos);
    cli_strv_free(&o.env);
    cli_strv_free(&pos);
    return rv;
}
