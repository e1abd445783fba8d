/* cp.c — `orctl cp SRC DST`, one side POD:PATH: copies a file into or out
 * of a container over the streaming exec (exec_stream.c), as kubectl cp
 * does, but with `cat` rather than tar on the container's side, so an image
 * without tar works too. Files only: a directory is refused, saying so. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/orc.h"

struct remote {
    char pod[256];
    const char *path;
};

/* "POD:PATH" (a leading "./" or "/" makes it local, as for kubectl). */
static bool parse_remote(const char *arg, struct remote *r)
{
    const char *colon = strchr(arg, ':');

    if (colon == NULL || colon == arg || arg[0] == '/' || arg[0] == '.' || (size_t)(colon - arg) >= sizeof r->pod)
        return false;
    snprintf(r->pod, sizeof r->pod, "%.*s", (int)(colon - arg), arg);
    r->path = colon + 1;
    return true;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int exec_path(cli_ctx *x, const struct remote *r, const char *container, const char *const *cmd, bool in,
                     struct orc_buf *p)
{
    int rv = cli_object_path(orc_kind_lookup("pods"), x->ns, r->pod, "exec", p);

    if (rv == 0 && container) rv = cli_query_add(p, "container", container);
    for (size_t i = 0; rv == 0 && cmd[i]; i++) rv = cli_query_add(p, "command", cmd[i]);
    if (rv == 0) rv = cli_query_add(p, "stdout", "true");
    if (rv == 0) rv = cli_query_add(p, "stderr", "true");
    if (rv == 0 && in) rv = cli_query_add(p, "stdin", "true");
    return rv;
}

static int copy_in(cli_ctx *x, const char *local, const struct remote *r, const char *container)
{
    struct orc_buf path = ORC_BUF_INIT, dest = ORC_BUF_INIT;
    struct stat st;
    int fd = open(local, O_RDONLY | O_CLOEXEC), rv;

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(x->err, "error: %s: %s\n", local, fd < 0 ? strerror(errno) : "not a regular file (orctl cp copies files)");
        if (fd >= 0) close(fd);
        return CLI_EXIT_FAIL;
    }
    /* A destination ending in "/" (or empty) is a directory: the file keeps its name. */
    orc_buf_printf(&dest, "%s", *r->path ? r->path : ".");
    if (dest.data[dest.len - 1] == '/' || strcmp(dest.data, ".") == 0)
        orc_buf_printf(&dest, "%s%s", dest.data[dest.len - 1] == '/' ? "" : "/", base_name(local));
    {
        const char *cmd[] = {"sh", "-c", "cat > \"$0\"", dest.data, NULL};
        struct cli_stream_io io = {fd, fileno(x->out), fileno(x->err), false};
        rv = exec_path(x, r, container, cmd, true, &path) != 0 ? CLI_EXIT_FAIL : cli_exec_stream(x, path.data, &io);
    }
    close(fd);
    orc_buf_free(&path);
    orc_buf_free(&dest);
    return rv;
}

static int copy_out(cli_ctx *x, const struct remote *r, const char *local, const char *container)
{
    const char *cmd[] = {"cat", r->path, NULL};
    struct orc_buf path = ORC_BUF_INIT, dest = ORC_BUF_INIT;
    struct stat st;
    int fd, rv;

    orc_buf_printf(&dest, "%s", local);
    if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) orc_buf_printf(&dest, "/%s", base_name(r->path));
    if ((fd = open(dest.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        fprintf(x->err, "error: %s: %s\n", dest.data, strerror(errno));
        orc_buf_free(&dest);
        return CLI_EXIT_FAIL;
    }
    {
        struct cli_stream_io io = {-1, fd, fileno(x->err), false};
        rv = exec_path(x, r, container, cmd, false, &path) != 0 ? CLI_EXIT_FAIL : cli_exec_stream(x, path.data, &io);
    }
    close(fd);
    if (rv != 0) unlink(dest.data); /* no partial file that looks whole */
    orc_buf_free(&path);
    orc_buf_free(&dest);
    return rv;
}

int cli_cmd_cp(cli_ctx *x, int argc, char **argv)
{
    const char *container = NULL;
    struct cli_strv pos = {0};
    struct remote src, dst;
    const struct cli_flag flags[] = {
        {"container", 'c', CLI_FLAG_STRING, &container, "NAME", "The container (needed when the pod has several)"},
    };
    int rv = cli_parse(x, flags, ORC_ARRAY_LEN(flags), argc, argv, &pos);
    bool rs, rd;

    if (rv != 0) {
        cli_strv_free(&pos);
        return cli_stop_status(rv);
    }
    rs = pos.n == 2 && parse_remote(pos.v[0], &src);
    rd = pos.n == 2 && parse_remote(pos.v[1], &dst);
    if (pos.n != 2 || rs == rd)
        rv = cli_usage_error(x, "expected one local path and one POD:PATH: orctl cp SRC DST");
    else if (rs && !*src.path)
        rv = cli_usage_error(x, "the container's file is missing: POD:PATH");
    else if (cli_connect(x) != 0)
        rv = CLI_EXIT_FAIL;
    else rv = rs ? copy_out(x, &src, pos.v[1], container) : copy_in(x, pos.v[0], &dst, container);
    cli_strv_free(&pos);
    return rv;
}
