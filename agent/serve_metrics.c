/* serve_metrics.c — GET /metrics on the agent's port: the agent's registry
 * in the Prometheus text format, gauges set first by the agent's collect
 * callback. */
#include <llhttp.h>

#include "agent/serve_int.h"
#include "lib/metrics.h"
#include "lib/orc.h"

void agent_serve_set_metrics(agent_server *s, struct orc_metrics *m, void (*collect)(void *arg), void *arg)
{
    s->metrics = m;
    s->collect = collect;
    s->collect_arg = arg;
}

void serve_metrics(agent_server *s, struct orc_httpd_req *r)
{
    struct orc_buf out = ORC_BUF_INIT;

    if (r->method != HTTP_GET) {
        serve_status(r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return;
    }
    if (s->collect) s->collect(s->collect_arg);
    if (orc_metrics_write(s->metrics, &out) != 0) {
        orc_buf_free(&out);
        serve_status(r, 500, "InternalError", "out of memory writing metrics");
        return;
    }
    orc_httpd_respond(r, 200, ORC_METRICS_CONTENT_TYPE, out.data ? out.data : "", out.len, NULL);
    orc_buf_free(&out);
}
