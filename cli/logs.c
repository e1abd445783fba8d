/* logs.c — `orctl logs` as `kubectl logs`: the output of a pod's
 * containers, read (or followed, -f) from the agent of the pod's node
 * through the API server's pods/{name}/log. The pod is named (POD,
 * pod/NAME), picked from a workload or Service (deploy/NAME, sts/, rs/,
 * ds/, job/, svc/: its most active pod, as kubectl picks), or several are
 * selected (-l); --all-containers reads each container, --prefix tags
 * each line "[pod/NAME/CONTAINER] ", and several followed streams are
 * interleaved a whole line at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define DEFAULT_CONTAINER_ANNOTATION "kubectl.kubernetes.io/default-container"

struct logs_opts {
    const char *container, *since, *since_time, *selector;
    bool follow, previous, timestamps, all_containers, prefix;
    long long tail, limit, max_requests;
};

struct stream {
    char *path;
    char *prefix;       /* "[pod/NAME/CONTAINER] " or NULL */
    struct orc_buf carry; /* a line not yet ended */
};

struct streams {
    cli_ctx *x;
    struct stream *v;
    size_t n;
};

/* "90s", "5m", "2h", "1h30m" (kubectl's --since) into seconds; -1 when malformed. */
static long long parse_since(const char *s)
{
    uint64_t ms;
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end != s && v >= 0 && *end == '\0') return v;
    if (orc_duration_parse(s, &ms) != 0) return -1;
    return (long long)((ms + 999) / 1000);
}

static int build_path(cli_ctx *x, const char *pod, const char *container, const struct logs_opts *o,
                      struct orc_buf *p)
{
    char num[32];
    int rv = cli_object_path(orc_kind_lookup("pods"), x->ns, pod, "log", p);

    if (rv == 0 && container) rv = cli_query_add(p, "container", container);
    if (rv == 0 && o->follow) rv = cli_query_add(p, "follow", "true");
    if (rv == 0 && o->previous) rv = cli_query_add(p, "previous", "true");
    if (rv == 0 && o->timestamps) rv = cli_query_add(p, "timestamps", "true");
    if (rv == 0 && o->tail >= 0) {
        snprintf(num, sizeof num, "%lld", o->tail);
        rv = cli_query_add(p, "tailLines", num);
    }
    if (rv == 0 && o->limit > 0) {
        snprintf(num, sizeof num, "%lld", o->limit);
        rv = cli_query_add(p, "limitBytes", num);
    }
    if (rv == 0 && o->since) {
        snprintf(num, sizeof num, "%lld", parse_since(o->since));
        rv = cli_query_add(p, "sinceSeconds", num);
    }
    if (rv == 0 && o->since_time) rv = cli_query_add(p, "sinceTime", o->since_time);
    return rv;
}

/* ---- output: whole lines, prefixed ---- */

static void put_lines(cli_ctx *x, struct stream *s, const char *data, size_t len, bool flush)
{
    const char *p = data, *end = data + len, *nl;

    if (s->prefix == NULL) {
        fwrite(data, 1, len, x->out);
        fflush(x->out);
        return;
    }
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            if (orc_buf_append(&s->carry, p, (size_t)(end - p)) != 0) s->carry.len = 0;
            break;
        }
        fputs(s->prefix, x->out);
        if (s->carry.len) fwrite(s->carry.data, 1, s->carry.len, x->out);
        fwrite(p, 1, (size_t)(nl - p) + 1, x->out);
        s->carry.len = 0;
        p = nl + 1;
    }
    if (flush && s->carry.len) {
        fprintf(x->out, "%s%.*s\n", s->prefix, (int)s->carry.len, s->carry.data);
        s->carry.len = 0;
    }
    fflush(x->out);
}

/* Several followed streams: a line goes out only once it is whole, so two
 * containers' lines never mix. */
static void many_bytes(void *arg, size_t i, const char *data, size_t len)
{
    struct streams *ss = arg;
    struct stream *s = &ss->v[i];
    const char *nl = memrchr(data, '\n', len);

    if (s->prefix) {
        put_lines(ss->x, s, data, len, false);
        return;
    }
    if (nl == NULL) {
        orc_buf_append(&s->carry, data, len);
        return;
    }
    if (s->carry.len) fwrite(s->carry.data, 1, s->carry.len, ss->x->out);
    fwrite(data, 1, (size_t)(nl - data) + 1, ss->x->out);
    fflush(ss->x->out);
    s->carry.len = 0;
    orc_buf_append(&s->carry, nl + 1, (size_t)(data + len - nl - 1));
}

struct one {
    cli_ctx *x;
    struct stream *s;
};

static void one_bytes(void *arg, const char *data, size_t len)
{
    struct one *o = arg;
    put_lines(o->x, o->s, data, len, false);
}

static int show(cli_ctx *x, struct stream *s)
{
    struct http_response resp = {0};
    int rv = cli_request(x, "GET", s->path, NULL, NULL, 0, &resp);

    if (rv != 0) return CLI_EXIT_FAIL;
    if (resp.status == 200) {
        put_lines(x, s, resp.body ? resp.body : "", resp.body_len, true);
    } else {
        json_t *st = resp.body ? orc_json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
        cli_print_failure(x, resp.status, st);
        json_decref(st);
        rv = ORC_EINVAL;
    }
    http_response_free(&resp);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* ---- what to read ---- */

const char *cli_pod_name(const char *arg)
{
    const char *slash = strchr(arg, '/');
    return slash ? slash + 1 : arg;
}

static int add_stream(struct streams *ss, cli_ctx *x, const char *pod, const char *container,
                      const struct logs_opts *o)
{
    struct stream *v = realloc(ss->v, (ss->n + 1) * sizeof *v);
    struct orc_buf path = ORC_BUF_INIT, pfx = ORC_BUF_INIT;

    if (v == NULL) return ORC_ENOMEM;
    ss->v = v;
    memset(&v[ss->n], 0, sizeof *v);
    if (build_path(x, pod, container, o, &path) != 0
        || (o->prefix && orc_buf_printf(&pfx, "[pod/%s/%s] ", pod, container ? container : "") != 0)) {
        orc_buf_free(&path);
        orc_buf_free(&pfx);
        return ORC_ENOMEM;
    }
    v[ss->n].path = path.data;
    v[ss->n].prefix = pfx.data;
    ss->n++;
    return 0;
}

/* "a, b, setup (init), dbg (ephem)", as kubectl lists them. */
static void container_names(const json_t *pod, struct orc_buf *out)
{
    static const char *const lists[] = {"spec.initContainers", "spec.containers", "spec.ephemeralContainers"};
    static const char *const tags[] = {" (init)", "", " (ephem)"};
    const json_t *c;
    size_t i;

    for (size_t l = 0; l < 3; l++)
        json_array_foreach(orc_json_get(pod, lists[l]), i, c)
            orc_buf_printf(out, "%s%s%s", out->len ? ", " : "", orc_json_str(c, "name") ?: "", tags[l]);
}

/* kubectl's default: the annotated container, else the first one (said
 * when there are others). */
static const char *default_container(cli_ctx *x, const json_t *pod)
{
    const char *ann = json_string_value(json_object_get(orc_json_get(pod, "metadata.annotations"),
                                                        DEFAULT_CONTAINER_ANNOTATION));
    const json_t *ctrs = orc_json_get(pod, "spec.containers");
    const char *first = orc_json_str(json_array_get(ctrs, 0), "name");

    if (ann && *ann) return ann;
    if (first && (json_array_size(ctrs) > 1 || json_array_size(orc_json_get(pod, "spec.initContainers")) > 0
                  || json_array_size(orc_json_get(pod, "spec.ephemeralContainers")) > 0)) {
        struct orc_buf names = ORC_BUF_INIT;
        container_names(pod, &names);
        fprintf(x->err, "Defaulted container \"%s\" out of: %s\n", first, names.data ? names.data : "");
        orc_buf_free(&names);
    }
    return first;
}

static int pod_streams(struct streams *ss, cli_ctx *x, const json_t *pod, const struct logs_opts *o)
{
    static const char *const lists[] = {"spec.initContainers", "spec.containers", "spec.ephemeralContainers"};
    const char *name = orc_json_str(pod, "metadata.name");
    const json_t *c;
    size_t i;
    int rv = 0;

    if (name == NULL) return ORC_EINVAL;
    if (!o->all_containers) return add_stream(ss, x, name, o->container ? o->container : default_container(x, pod), o);
    for (size_t l = 0; l < 3 && rv == 0; l++)
        json_array_foreach(orc_json_get(pod, lists[l]), i, c) if (rv == 0)
            rv = add_stream(ss, x, name, orc_json_str(c, "name"), o);
    return rv;
}

static int collect(struct streams *ss, cli_ctx *x, const char *target, const struct logs_opts *o)
{
    json_t *items = NULL, *pod;
    char *list_rv = NULL;
    size_t i;
    int rv = 0;

    if (o->selector == NULL) {
        if ((pod = cli_pod_for(x, target, false, NULL)) == NULL) return CLI_EXIT_FAIL;
        rv = pod_streams(ss, x, pod, o);
        json_decref(pod);
        return rv == 0 ? 0 : CLI_EXIT_FAIL;
    }
    if (cli_list(x, orc_kind_lookup("pods"), x->ns, o->selector, NULL, &items, &list_rv) != 0) return CLI_EXIT_FAIL;
    free(list_rv);
    json_array_foreach(items, i, pod) if (rv == 0) rv = pod_streams(ss, x, pod, o);
    json_decref(items);
    return rv == 0 ? 0 : CLI_EXIT_FAIL;
}

static int run(cli_ctx *x, struct streams *ss, const struct logs_opts *o)
{
    int rv = CLI_EXIT_OK;

    if (o->follow && ss->n > 1) {
        const char **paths = calloc(ss->n, sizeof *paths);
        if (ss->n > (size_t)o->max_requests) {
            fprintf(x->err, "error: you are attempting to follow %zu log streams, but maximum allowed "
                            "concurrency is %lld, use --max-log-requests to increase the limit\n",
                    ss->n, o->max_requests);
            free(paths);
            return CLI_EXIT_FAIL;
        }
        if (paths == NULL) return CLI_EXIT_FAIL;
        for (size_t i = 0; i < ss->n; i++) paths[i] = ss->v[i].path;
        rv = cli_stream_many(x, paths, ss->n, cli_timeout_ms(x), many_bytes, ss);
        for (size_t i = 0; i < ss->n; i++) {
            if (ss->v[i].prefix) put_lines(x, &ss->v[i], "", 0, true);
            else if (ss->v[i].carry.len) fwrite(ss->v[i].carry.data, 1, ss->v[i].carry.len, x->out);
        }
        free(paths);
        return rv;
    }
    for (size_t i = 0; i < ss->n && rv == CLI_EXIT_OK; i++) {
        if (o->follow) {
            struct one one = {x, &ss->v[i]};
            rv = cli_stream(x, ss->v[i].path, cli_timeout_ms(x), one_bytes, &one);
            put_lines(x, &ss->v[i], "", 0, true);
        } else {
            rv = show(x, &ss->v[i]);
        }
    }
    return rv;
}

static int check(cli_ctx *x, struct logs_opts *o, struct cli_strv *pos)
{
    int64_t t;

    if (pos->n == 0 && o->selector == NULL)
        return cli_usage_error(x, "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
                                  "POD or TYPE/NAME is a required argument for the logs command");
    if (o->selector && pos->n > 0) return cli_usage_error(x, "only a selector (-l) or a POD name is allowed");
    if (pos->n > 2) return cli_usage_error(x, "expected one pod and at most one container");
    if (pos->n == 2) {
        if (o->container) return cli_usage_error(x, "only one of -c or an inline [CONTAINER] arg is allowed");
        o->container = pos->v[1];
    }
    if (o->all_containers && o->container)
        return cli_usage_error(x, "--all-containers=true should not be specified with container name %s",
                               o->container);
    if (o->since && o->since_time) return cli_usage_error(x, "at most one of `sinceTime` or `sinceSeconds` may be specified");
    if (o->since && parse_since(o->since) < 0)
        return cli_usage_error(x, "invalid --since \"%s\": want a duration like 10s, 5m or 2h", o->since);
    if (o->since_time && orc_time_parse(o->since_time, &t) != 0)
        return cli_usage_error(x, "--since-time must be a valid RFC3339 timestamp, not \"%s\"", o->since_time);
    if (o->max_requests < 1) return cli_usage_error(x, "--max-log-requests must be greater than 0");
    /* kubectl: all lines of one pod, the last 10 of each selected one */
    if (o->tail == -2) o->tail = o->selector ? 10 : -1;
    return 0;
}

int cli_cmd_logs(cli_ctx *x, int argc, char **argv)
{
    struct logs_opts o = {.tail = -2, .max_requests = 5};
    struct cli_strv pos = {0};
    struct streams ss = {x, NULL, 0};
    const struct cli_flag flags[] = {
        {"container", 'c', CLI_FLAG_STRING, &o.container, "NAME", "The container (default: the pod's default or first one)"},
        {"all-containers", 0, CLI_FLAG_BOOL, &o.all_containers, NULL, "Every container of the pod(s), init containers first"},
        {"selector", 'l', CLI_FLAG_STRING, &o.selector, "SELECTOR", "The pods these labels select (app=web,tier!=db)"},
        {"prefix", 0, CLI_FLAG_BOOL, &o.prefix, NULL, "Start each line with [pod/NAME/CONTAINER]"},
        {"follow", 'f', CLI_FLAG_BOOL, &o.follow, NULL, "Keep printing output as it comes"},
        {"max-log-requests", 0, CLI_FLAG_INT, &o.max_requests, "N", "Most streams followed at once with -l or --all-containers (default 5)"},
        {"previous", 'p', CLI_FLAG_BOOL, &o.previous, NULL, "The output of the previous run of the container"},
        {"timestamps", 0, CLI_FLAG_BOOL, &o.timestamps, NULL, "Prefix each line with its time"},
        {"tail", 0, CLI_FLAG_INT, &o.tail, "N", "Only the last N lines (default: all; 10 per pod with -l)"},
        {"since", 0, CLI_FLAG_STRING, &o.since, "DURATION", "Only lines newer than this (5s, 2m, 3h)"},
        {"since-time", 0, CLI_FLAG_STRING, &o.since_time, "TIME", "Only lines from this RFC 3339 time on"},
        {"limit-bytes", 0, CLI_FLAG_INT, &o.limit, "N", "At most N bytes"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if ((rv = check(x, &o, &pos)) != 0) rv = CLI_EXIT_USAGE;
    else if (cli_connect(x) != 0 || collect(&ss, x, pos.n ? pos.v[0] : NULL, &o) != 0) {
        rv = CLI_EXIT_FAIL;
    } else if (ss.n == 0) {
        fprintf(x->err, "No resources found in %s namespace.\n", x->ns);
    } else {
        rv = run(x, &ss, &o);
    }
    for (size_t i = 0; i < ss.n; i++) {
        free(ss.v[i].path);
        free(ss.v[i].prefix);
        orc_buf_free(&ss.v[i].carry);
    }
    free(ss.v);
    cli_strv_free(&pos);
    return rv;
}
