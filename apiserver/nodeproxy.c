/* nodeproxy.c — nodes/{name}/proxy/{path}, Kubernetes' way to reach a
 * kubelet through the API (RBAC: nodes/proxy): GETs of the agent's
 * /metrics/resource, /metrics/cadvisor, /metrics, /stats/summary and
 * /healthz are relayed with the agent-port token, the answer whole with
 * its status and content type. Other paths are refused here, so the port
 * token never reaches exec or logs through this door. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/orc.h"

#define PROXY_TIMEOUT_MS 15000

struct nodeproxy_op {
    struct orc_httpd_req *r;
    struct api_agent_call *call;
};

static bool path_allowed(const char *p)
{
    static const char *const ok[] = {"/metrics/resource", "/metrics/cadvisor", "/metrics", "/stats/summary",
                                     "/healthz"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(ok); i++)
        if (strcmp(p, ok[i]) == 0) return true;
    return false;
}

/* The request ends only in on_answer (or before the call starts), so no
 * call is left when it is freed. */
static void op_free(void *p) { free(p); }

static void on_gone(struct orc_httpd_req *r)
{
    struct nodeproxy_op *op = r->op;
    if (op->call) api_agent_call_cancel(op->call);
}

static void on_answer(void *arg, int err, const struct http_response *resp)
{
    struct nodeproxy_op *op = arg;
    const char *ct;

    op->call = NULL;
    if (err != 0) { /* ORC_ECANCELED: the client left; this only frees the request */
        api_respond_status(op->r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                           "the node agent did not answer: %s", orc_strerror(err));
        return;
    }
    ct = http_header_get(resp, "content-type");
    orc_httpd_respond(op->r, resp->status, ct ? ct : "text/plain", resp->body ? resp->body : "", resp->body_len,
                      NULL);
}

void api_handle_node_proxy(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    struct nodeproxy_op *op;
    int rv;

    if (r->method != HTTP_GET) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the node proxy relays GETs of the agent's metrics, stats and health only");
        return;
    }
    if (!path_allowed(rt->proxy_path)) {
        api_respond_status(r, 404, "NotFound", NULL, NULL, NULL,
                           "the node proxy serves /metrics, /metrics/resource, /metrics/cadvisor, "
                           "/stats/summary and /healthz; not \"%.100s\"", rt->proxy_path);
        return;
    }
    if ((op = calloc(1, sizeof *op)) == NULL) {
        api_respond_error(r, ORC_ENOMEM, "proxying");
        return;
    }
    op->r = r;
    r->op = op;
    r->op_free = op_free;
    r->on_gone = on_gone;
    rv = api_agent_get(s, rt->name, rt->proxy_path, PROXY_TIMEOUT_MS, on_answer, op, &op->call);
    if (rv == ORC_ENOENT) {
        op->call = NULL;
        api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                           "node %s has no agent endpoint (is it registered and its agent running?)", rt->name);
    } else if (rv != 0) {
        op->call = NULL;
        api_respond_error(r, rv, "proxying to the node agent");
    }
}
