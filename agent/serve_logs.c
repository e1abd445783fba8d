/* serve_logs.c — GET /containerLogs/{ns}/{pod}/{container}: kubectl's log
 * options from the query, the runtime's log reader streamed out as chunked
 * text/plain; the reader is canceled when the client leaves or falls too far
 * behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/serve_int.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define LOG_QUEUE_BYTES (4u << 20)

struct log_op {
    struct orc_httpd_req *r;
    struct rt_handle rt;   /* the server's runtime, for the cancel */
    rt_log_reader *reader; /* NULL once on_end fired */
    bool in_write;         /* the transport may report the client gone meanwhile */
    bool gone;
    bool canceling;
    bool opening;          /* inside rt_log_open: an early on_end waits */
    bool ended_early;
    int early_err;
    char container[256];
};

/* ---- options ---- */

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"", "1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};

    for (size_t i = 0; i < ORC_ARRAY_LEN(yes); i++)
        if (strcmp(v, yes[i]) == 0) return *out = true, 0;
    for (size_t i = 0; i < ORC_ARRAY_LEN(no); i++)
        if (strcmp(v, no[i]) == 0) return *out = false, 0;
    return ORC_EINVAL;
}

static int parse_int(const char *v, int64_t min, int64_t *out)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min) return ORC_EINVAL;
    *out = n;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The query into o; on error the name of the parameter at fault. */
static const char *parse_opts(const struct serve_query *q, struct rt_log_opts *o, bool *previous)
{
    const char *v;
    int64_t n;

    *o = (struct rt_log_opts){.tail_lines = -1};
    *previous = false;
    if ((v = serve_query_get(q, "follow")) && parse_bool(v, &o->follow) != 0) return "follow";
    if ((v = serve_query_get(q, "timestamps")) && parse_bool(v, &o->timestamps) != 0) return "timestamps";
    if ((v = serve_query_get(q, "previous")) && parse_bool(v, previous) != 0) return "previous";
    if ((v = serve_query_get(q, "tailLines")) && parse_int(v, -1, &o->tail_lines) != 0) return "tailLines";
    if ((v = serve_query_get(q, "limitBytes")) && parse_int(v, 1, &o->limit_bytes) != 0) return "limitBytes";
    if ((v = serve_query_get(q, "sinceSeconds"))) {
        if (parse_int(v, 1, &n) != 0 || n > 100LL * 365 * 86400) return "sinceSeconds";
        o->since_ns = now_ns() - n * 1000000000;
    }
    if ((v = serve_query_get(q, "sinceTime"))) {
        if (serve_query_get(q, "sinceSeconds")) return "sinceTime";
        if (orc_time_parse(v, &n) != 0 || n < 0) return "sinceTime";
        o->since_ns = n * 1000000000;
    }
    return NULL;
}

/* ---- streaming ---- */

/* Ends the reader; its on_end runs now and frees op. */
static void cancel(struct log_op *op)
{
    if (op->canceling || op->reader == NULL) return;
    op->canceling = true;
    rth_log_cancel(&op->rt, op->reader);
}

static void on_gone(struct orc_httpd_req *r)
{
    struct log_op *op = r->op;

    op->gone = true;
    if (!op->in_write) cancel(op);
}

/* Starts the chunked answer; false when the reader must end. */
static bool begin(struct log_op *op)
{
    int rv;

    if (op->r->streaming) return true;
    op->in_write = true;
    rv = orc_httpd_stream_begin(op->r, 200, "text/plain; charset=utf-8");
    op->in_write = false;
    return rv == 0 && !op->gone;
}

static void on_data(void *arg, const char *data, size_t len)
{
    struct log_op *op = arg;
    int rv;

    if (op->canceling) return;
    if (!begin(op)) {
        cancel(op);
        return;
    }
    op->in_write = true;
    rv = orc_httpd_stream_write(op->r, data, len, LOG_QUEUE_BYTES);
    op->in_write = false;
    if (rv != 0 || op->gone) cancel(op); /* ORC_ETOOBIG: the client reads too slowly */
}

static void on_end(void *arg, int err)
{
    struct log_op *op = arg;
    struct orc_httpd_req *r = op->r;

    op->reader = NULL;
    if (op->opening) {
        op->ended_early = true;
        op->early_err = err;
        return;
    }
    if (r->streaming) orc_httpd_stream_end(r);
    else if (err == 0) orc_httpd_respond(r, 200, "text/plain; charset=utf-8", "", 0, NULL);
    else if (err == ORC_ENOENT)
        serve_status(r, 404, "NotFound", "no log for container \"%s\"", op->container);
    else serve_status(r, err == ORC_ECANCELED ? 503 : 500, "InternalError", "reading the log: %s",
                      orc_strerror(err));
}

void serve_logs(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                const struct serve_query *q)
{
    char id[SERVE_ID_LEN], path[SERVE_PATH_LEN];
    struct rt_log_opts o;
    struct log_op *op;
    rt_log_reader *lr = NULL;
    const char *bad;
    bool previous;
    int rv;

    if ((bad = parse_opts(q, &o, &previous)) != NULL) {
        serve_status(r, 400, "BadRequest", "invalid value for %s: \"%s\"", bad, serve_query_get(q, bad));
        return;
    }
    if (serve_find(s, r, ref, previous, id, path) != 0) return;
    if ((op = calloc(1, sizeof *op)) == NULL) {
        serve_status(r, 500, "InternalError", "out of memory");
        return;
    }
    op->r = r;
    op->rt = s->r;
    snprintf(op->container, sizeof op->container, "%s", ref->container);
    r->op = op;
    r->op_free = free;
    r->on_gone = on_gone;
    op->opening = true;
    rv = rth_log_open(&s->r, path, &o, on_data, on_end, op, &lr);
    op->opening = false;
    if (rv == 0 && op->ended_early) {
        on_end(op, op->early_err);
        return;
    }
    op->reader = lr;
    if (rv != 0) {
        op->reader = NULL;
        serve_status(r, rv == ORC_ESHUTDOWN ? 503 : 500, "InternalError", "reading the log: %s",
                     orc_strerror(rv));
        return;
    }
    /* a follower answers at once (the API server waits for the head), others
     * at their first bytes, so a missing log is still a 404 */
    if (o.follow && !begin(op)) cancel(op);
}
