/* logs.c — `orctl logs POD`: a container's output as kubectl prints it,
 * read (or followed, -f) from the agent of the pod's node through the API
 * server's pods/{name}/log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/orc.h"

struct logs_opts {
    const char *container;
    const char *since;
    bool follow, previous, timestamps;
    long long tail, limit;
};

/* "90s", "5m", "2h" (kubectl's --since) into seconds; -1 when malformed. */
static long long parse_since(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || v < 0) return -1;
    if (strcmp(end, "s") == 0 || *end == '\0') return v;
    if (strcmp(end, "m") == 0) return v * 60;
    if (strcmp(end, "h") == 0) return v * 3600;
    return -1;
}

static int build_path(cli_ctx *x, const char *pod, const struct logs_opts *o, struct orc_buf *p)
{
    char num[32];
    int rv = cli_object_path(orc_kind_lookup("pods"), x->ns, pod, "log", p);

    if (rv == 0 && o->container) rv = cli_query_add(p, "container", o->container);
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
    return rv;
}

static void print_bytes(void *arg, const char *data, size_t len)
{
    cli_ctx *x = arg;
    fwrite(data, 1, len, x->out);
    fflush(x->out);
}

static int show(cli_ctx *x, const char *path)
{
    struct http_response resp = {0};
    int rv = cli_request(x, "GET", path, NULL, NULL, 0, &resp);

    if (rv != 0) return CLI_EXIT_FAIL;
    if (resp.status == 200) {
        print_bytes(x, resp.body ? resp.body : "", resp.body_len);
    } else {
        json_t *st = resp.body ? orc_json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
        cli_print_failure(x, resp.status, st);
        json_decref(st);
        rv = ORC_EINVAL;
    }
    http_response_free(&resp);
    return rv == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

const char *cli_pod_name(const char *arg)
{
    const char *slash = strchr(arg, '/');
    return slash ? slash + 1 : arg;
}

int cli_cmd_logs(cli_ctx *x, int argc, char **argv)
{
    struct logs_opts o = {.tail = -1};
    struct cli_strv pos = {0};
    struct orc_buf path = ORC_BUF_INIT;
    const struct cli_flag flags[] = {
        {"container", 'c', CLI_FLAG_STRING, &o.container, "NAME", "The container (needed when the pod has several)"},
        {"follow", 'f', CLI_FLAG_BOOL, &o.follow, NULL, "Keep printing output as it comes"},
        {"previous", 'p', CLI_FLAG_BOOL, &o.previous, NULL, "The output of the previous run of the container"},
        {"timestamps", 0, CLI_FLAG_BOOL, &o.timestamps, NULL, "Prefix each line with its time"},
        {"tail", 0, CLI_FLAG_INT, &o.tail, "N", "Only the last N lines"},
        {"since", 0, CLI_FLAG_STRING, &o.since, "DURATION", "Only lines newer than this (5s, 2m, 3h)"},
        {"limit-bytes", 0, CLI_FLAG_INT, &o.limit, "N", "At most N bytes"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n != 1) rv = cli_usage_error(x, "expected one pod: orctl logs POD [-c CONTAINER]");
    else if (o.since && parse_since(o.since) < 0)
        rv = cli_usage_error(x, "invalid --since \"%s\": want a duration like 10s, 5m or 2h", o.since);
    else if (cli_connect(x) != 0 || build_path(x, cli_pod_name(pos.v[0]), &o, &path) != 0)
        rv = CLI_EXIT_FAIL;
    else if (o.follow) rv = cli_stream(x, path.data, cli_timeout_ms(x), print_bytes, x);
    else rv = show(x, path.data);
    orc_buf_free(&path);
    cli_strv_free(&pos);
    return rv;
}
