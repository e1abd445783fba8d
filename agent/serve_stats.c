/* serve_stats.c — the kubelet's resource metrics on the agent port:
 * /metrics/resource and /metrics/cadvisor (Prometheus text) and
 * /stats/summary (JSON), each read from the cgroups when asked; the
 * summary's CPU rates against the previous summary's readings. */
#include <llhttp.h>
#include <string.h>

#include "agent/serve_int.h"
#include "agent/stats.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "serve"
#define PROM_TEXT "text/plain; version=0.0.4; charset=utf-8"

void serve_stats(agent_server *s, struct orc_httpd_req *r, const char *path)
{
    struct agent_stats st = {0};
    struct orc_buf out = ORC_BUF_INIT;
    bool summary = strncmp(path, "/stats/", 7) == 0, cadvisor = strncmp(path, "/metrics/cadvisor", 17) == 0;
    int rv;

    if (r->method != HTTP_GET) {
        serve_status(r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return;
    }
    if (s->cbs.stats == NULL) {
        serve_status(r, 404, "NotFound", "the server could not find the requested resource");
        return;
    }
    rv = s->cbs.stats(s->arg, &st);
    /* usageNanoCores: without memory for it, the summary goes without */
    if (rv == 0 && summary && agent_stats_rates(&s->prev, &st) != 0) log_warn(MOD, "no memory for CPU rates");
    if (rv == 0)
        rv = summary ? agent_stats_summary_json(&st, &out)
             : cadvisor ? agent_stats_cadvisor_text(&st, &out)
                        : agent_stats_resource_text(&st, &out);
    if (rv != 0) serve_status(r, 500, "InternalError", "reading usage: %s", orc_strerror(rv));
    else orc_httpd_respond(r, 200, summary ? "application/json" : PROM_TEXT, out.data ? out.data : "", out.len, NULL);
    agent_stats_free(&st);
    orc_buf_free(&out);
}
