/* serve_exec.c — POST /exec/{ns}/{pod}/{container}?command=..: orc's
 * non-interactive exec. The command runs in the container through the
 * runtime and the answer carries its exit code and base64 output, as
 * `orctl exec` (cli/exec.c) expects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/serve_int.h"
#include "lib/base64.h"
#include "lib/orc.h"

#define DEFAULT_TIMEOUT_S 60
#define MAX_TIMEOUT_S 86400

struct exec_op {
    struct orc_httpd_req *r;
    unsigned timeout_s;
    char container[256];
    char pod[256];
};

static void not_running(struct orc_httpd_req *r, const char *container, const char *pod)
{
    serve_status(r, 409, "Conflict", "container \"%s\" in pod \"%s\" is not running", container, pod);
}

static void reply(struct orc_httpd_req *r, int code, const char *out, size_t out_len, const char *err,
                  size_t err_len)
{
    struct orc_buf o = ORC_BUF_INIT, e = ORC_BUF_INIT;
    json_t *j = NULL;
    char *body = NULL;

    if (orc_base64_encode(out ? out : "", out_len, false, &o) == 0
        && orc_base64_encode(err ? err : "", err_len, false, &e) == 0)
        j = json_pack("{s:i,s:s,s:s}", "exitCode", code, "stdout", o.data ? o.data : "", "stderr",
                      e.data ? e.data : "");
    if (j && (body = json_dumps(j, JSON_COMPACT)) != NULL)
        orc_httpd_respond(r, 200, "application/json", body, strlen(body), NULL);
    else serve_status(r, 500, "InternalError", "out of memory");
    free(body);
    json_decref(j);
    orc_buf_free(&o);
    orc_buf_free(&e);
}

static void on_exec(void *arg, int err, int code, const char *out, size_t out_len,
                    const char *errout, size_t err_len)
{
    struct exec_op *op = arg;
    struct orc_httpd_req *r = op->r;

    if (err == 0) reply(r, code, out, out_len, errout, err_len);
    else if (err == ORC_ETIMEDOUT)
        serve_status(r, 504, "Timeout", "command timed out after %us", op->timeout_s);
    else if (err == ORC_ENOENT) not_running(r, op->container, op->pod);
    else if (err == ORC_ECANCELED) serve_status(r, 503, "ServiceUnavailable", "the node agent is stopping");
    else serve_status(r, 500, "InternalError", "exec: %s", orc_strerror(err));
}

/* "30" or "30s"; 0 when bad. */
static unsigned parse_timeout(const char *v)
{
    char *end;
    long n;

    if (v == NULL) return DEFAULT_TIMEOUT_S;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || (*end && strcmp(end, "s") != 0) || n < 1 || n > MAX_TIMEOUT_S) return 0;
    return (unsigned)n;
}

static void start(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref, char **argv,
                  unsigned timeout_s)
{
    char id[SERVE_ID_LEN], path[SERVE_PATH_LEN];
    struct exec_op *op;
    int rv;

    if (serve_find(s, r, ref, false, id, path) != 0) return;
    if ((op = calloc(1, sizeof *op)) == NULL) {
        serve_status(r, 500, "InternalError", "out of memory");
        return;
    }
    op->r = r;
    op->timeout_s = timeout_s;
    snprintf(op->container, sizeof op->container, "%s", ref->container);
    snprintf(op->pod, sizeof op->pod, "%s", ref->pod);
    r->op = op;
    r->op_free = free; /* once answered; a client that left is answered too */
    rv = rth_exec(&s->r, id, argv, timeout_s * 1000u, on_exec, op);
    if (rv == ORC_ENOENT) not_running(r, ref->container, ref->pod);
    else if (rv == ORC_ESHUTDOWN) serve_status(r, 503, "ServiceUnavailable", "the node agent is stopping");
    else if (rv != 0) serve_status(r, 500, "InternalError", "exec: %s", orc_strerror(rv));
}

void serve_exec(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                const struct serve_query *q)
{
    char *argv[SERVE_MAX_QUERY + 1];
    unsigned timeout_s = parse_timeout(serve_query_get(q, "timeout"));
    int n = 0;

    for (int i = 0; i < q->n; i++)
        if (strcmp(q->key[i], "command") == 0) argv[n++] = q->val[i];
    argv[n] = NULL;
    if (n == 0 || argv[0][0] == '\0')
        serve_status(r, 400, "BadRequest", "you must specify at least 1 command");
    else if (timeout_s == 0)
        serve_status(r, 400, "BadRequest", "invalid value for timeout: \"%s\"", serve_query_get(q, "timeout"));
    else start(s, r, ref, argv, timeout_s);
}
