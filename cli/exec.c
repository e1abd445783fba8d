/* exec.c — `orctl exec POD [-c C] [-i] [-t] -- CMD ARGS...`: runs a
 * command in a running container, its output streamed as it comes over a
 * WebSocket as kubectl's is (exec_stream.c); orctl then exits with the
 * command's exit code, as kubectl does. And `orctl attach`. */
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/orc.h"

static int build_path(cli_ctx *x, const char *pod, const char *container,
                      const struct cli_strv *pos, struct orc_buf *p, bool in, bool tty)
{
    int rv = cli_object_path(orc_kind_lookup("pods"), x->ns, pod, "exec", p);

    if (rv == 0 && container) rv = cli_query_add(p, "container", container);
    if (rv == 0) {
        rv = cli_query_add(p, "stdout", "true");
        if (rv == 0) rv = cli_query_add(p, "stderr", tty ? "false" : "true");
        if (rv == 0 && in) rv = cli_query_add(p, "stdin", "true");
        if (rv == 0 && tty) rv = cli_query_add(p, "tty", "true");
    }
    for (size_t i = 1; rv == 0 && i < pos->n; i++) rv = cli_query_add(p, "command", pos->v[i]);
    return rv;
}

int cli_cmd_exec(cli_ctx *x, int argc, char **argv)
{
    const char *container = NULL;
    bool in = false, tty = false;
    struct cli_strv pos = {0};
    struct orc_buf path = ORC_BUF_INIT;
    const struct cli_flag flags[] = {
        {"container", 'c', CLI_FLAG_STRING, &container, "NAME",
         "The container (needed when the pod has several)"},
        {"stdin", 'i', CLI_FLAG_BOOL, &in, NULL, "Pass stdin to the command (streams over a WebSocket)"},
        {"tty", 't', CLI_FLAG_BOOL, &tty, NULL, "Run the command on a terminal (stdin a terminal too)"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n < 2) rv = cli_usage_error(x, "expected a pod and a command: orctl exec POD -- CMD [ARGS...]");
    else if (tty && !isatty(0) && (tty = false, fprintf(x->err, "Unable to use a TTY - input is not a terminal\n")) < 0)
        rv = CLI_EXIT_FAIL;
    else if (cli_connect(x) != 0 || build_path(x, cli_pod_name(pos.v[0]), container, &pos, &path, in, tty) != 0)
        rv = CLI_EXIT_FAIL;
    else {
        struct cli_stream_io io = {in ? 0 : -1, fileno(x->out), fileno(x->err), tty};
        fflush(x->out);
        rv = cli_exec_stream(x, path.data, &io);
    }
    orc_buf_free(&path);
    cli_strv_free(&pos);
    return rv;
}

int cli_attach(cli_ctx *x, const char *pod, const char *container, bool in, bool tty)
{
    struct orc_buf path = ORC_BUF_INIT;
    int rv;

    if (tty && !isatty(0)) {
        fprintf(x->err, "Unable to use a TTY - input is not a terminal or the right kind of file\n");
        tty = false;
    }
    if (cli_object_path(orc_kind_lookup("pods"), x->ns, pod, "attach", &path) != 0
        || (container && cli_query_add(&path, "container", container) != 0)
        || cli_query_add(&path, "stdout", "true") != 0
        || cli_query_add(&path, "stderr", tty ? "false" : "true") != 0
        || (in && cli_query_add(&path, "stdin", "true") != 0)
        || (tty && cli_query_add(&path, "tty", "true") != 0)) {
        rv = CLI_EXIT_FAIL;
    } else {
        struct cli_stream_io io = {in ? 0 : -1, fileno(x->out), fileno(x->err), tty};
        if (tty) fprintf(x->err, "If you don't see a command prompt, try pressing enter.\n");
        fflush(x->out);
        rv = cli_exec_stream(x, path.data, &io);
    }
    orc_buf_free(&path);
    return rv;
}

/* `orctl attach POD [-c C] [-i] [-t]`: the container's own output from now
 * on (and its stdin with -i, for a container with stdin: true; its
 * terminal with -t, for one with tty: true), until it ends. */
int cli_cmd_attach(cli_ctx *x, int argc, char **argv)
{
    const char *container = NULL;
    bool in = false, tty = false;
    struct cli_strv pos = {0};
    const struct cli_flag flags[] = {
        {"container", 'c', CLI_FLAG_STRING, &container, "NAME",
         "The container (needed when the pod has several)"},
        {"stdin", 'i', CLI_FLAG_BOOL, &in, NULL, "Pass stdin to the container's process"},
        {"tty", 't', CLI_FLAG_BOOL, &tty, NULL, "Stdin is a terminal (the container has tty: true)"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);

    if (rv != 0) rv = cli_stop_status(rv);
    else if (pos.n != 1) rv = cli_usage_error(x, "expected a pod: orctl attach POD [-c CONTAINER] [-i] [-t]");
    else if (cli_connect(x) != 0) rv = CLI_EXIT_FAIL;
    else rv = cli_attach(x, cli_pod_name(pos.v[0]), container, in, tty);
    cli_strv_free(&pos);
    return rv;
}
