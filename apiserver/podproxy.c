/* podproxy.c — pods/{name}/log, exec, attach and portforward: the API server finds
 * the node agent that runs the pod (the Node's InternalIP and
 * daemonEndpoints.kubeletEndpoint.Port, as Kubernetes finds a kubelet) and
 * relays the request over HTTPS, trusting the cluster CA and sending the
 * cluster token. Logs stream through as they come (follow); exec is orc's
 * non-interactive form (output and exit code in one JSON answer), or with
 * a WebSocket upgrade kubectl's streaming one (podstream.c), as is
 * portforward's SPDY/3.1 upgrade. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/ws.h"

#define LOG_QUEUE_BYTES (4u << 20)

struct proxy_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    http_client *client;
    http_call *call;
    bool exec, attach;
    int status;          /* agent's answer status */
    struct orc_buf body; /* a non-200 answer (or exec's), kept whole */
    struct orc_buf path;
    bool ended;
};

static void op_client_closed(void *arg) { (void)arg; }

static void op_free(void *p)
{
    struct proxy_op *op = p;

    if (op->call) http_call_cancel(op->call);
    if (op->client) http_client_close(op->client, op_client_closed, NULL);
    orc_buf_free(&op->body);
    orc_buf_free(&op->path);
    api_release(op->s);
    free(op);
}

static void on_gone(struct orc_httpd_req *r)
{
    struct proxy_op *op = r->op;
    if (op->call) http_call_cancel(op->call); /* on_end then ends the request */
}

static void bad_request(struct orc_httpd_req *r, const char *fmt, const char *a, const char *b)
{
    api_respond_status(r, 400, "BadRequest", NULL, NULL, NULL, fmt, a, b);
}

/* The container a request names: ?container=, or the pod's only one. */
static const char *pick_container(struct orc_httpd_req *r, const json_t *pod, const char *want,
                                  const char *name)
{
    json_t *cs = orc_json_get(pod, "spec.containers"), *ics = orc_json_get(pod, "spec.initContainers"), *c;
    struct orc_buf names = ORC_BUF_INIT;
    size_t i;

    if ((want == NULL || *want == '\0') && json_array_size(cs) == 1)
        return orc_json_str(json_array_get(cs, 0), "name");
    json_array_foreach(cs, i, c) {
        const char *n = orc_json_str(c, "name");
        if (want && n && strcmp(n, want) == 0) goto found;
        orc_buf_printf(&names, "%s%s", names.len ? " " : "", n ? n : "");
    }
    json_array_foreach(ics, i, c) {
        const char *n = orc_json_str(c, "name");
        if (want && n && strcmp(n, want) == 0) goto found;
    }
    if (want && *want)
        bad_request(r, "container %s is not valid for pod %s", want, name);
    else
        bad_request(r, "a container name must be specified for pod %s, choose one of: [%s]", name,
                    names.data ? names.data : "");
    orc_buf_free(&names);
    return NULL;
found:
    orc_buf_free(&names);
    return want;
}

/* ---- relaying ---- */

static void finish(struct proxy_op *op, int err)
{
    struct orc_httpd_req *r = op->r;

    if (op->ended) return;
    op->ended = true;
    op->call = NULL;
    if (r->streaming) {
        orc_httpd_stream_end(r);
    } else if (err != 0) {
        api_respond_status(r, 502, "InternalError", NULL, NULL, NULL,
                           "the node agent did not answer: %s", orc_strerror(err));
    } else {
        const char *ct = op->exec || op->status != 200 ? "application/json" : "text/plain";
        orc_httpd_respond(r, op->status, ct, op->body.data ? op->body.data : "", op->body.len, NULL);
    }
}

static void on_head(void *arg, const struct http_response *resp)
{
    struct proxy_op *op = arg;

    op->status = resp->status;
    if (!op->exec && resp->status == 200
        && orc_httpd_stream_begin(op->r, 200, "text/plain; charset=utf-8") != 0)
        http_call_cancel(op->call);
}

static void on_data(void *arg, const char *data, size_t len)
{
    struct proxy_op *op = arg;

    if (!op->r->streaming) {
        if (op->body.len + len <= (8u << 20)) orc_buf_append(&op->body, data, len);
        return;
    }
    if (orc_httpd_stream_write(op->r, data, len, LOG_QUEUE_BYTES) != 0 && op->call)
        http_call_cancel(op->call); /* the client reads too slowly or left */
}

static void on_end(void *arg, int err) { finish(arg, err == ORC_ECANCELED ? 0 : err); }

/* The agent path with the request's own parameters passed on. */
static int build_path(struct proxy_op *op, const struct api_route *rt, const char *ns,
                      const char *pod, const char *container)
{
    static const char *const log_params[] = {"follow", "tailLines", "sinceSeconds", "sinceTime",
                                             "timestamps", "previous", "limitBytes", NULL};
    int rv = orc_buf_printf(&op->path, "/%s/%s/%s/%s", op->attach ? "attach" : op->exec ? "exec" : "containerLogs", ns,
                            pod, container);
    char sep = '?';

    for (int i = 0; rv == 0 && i < rt->n_query; i++) {
        const char *k = rt->query[i].key;
        bool pass = op->exec ? strcmp(k, "command") == 0 || strcmp(k, "timeout") == 0 || strcmp(k, "stdin") == 0
                                   || strcmp(k, "stdout") == 0 || strcmp(k, "stderr") == 0 || strcmp(k, "tty") == 0
                             : false;
        for (int j = 0; !op->exec && log_params[j]; j++) pass |= strcmp(k, log_params[j]) == 0;
        if (!pass) continue;
        rv = orc_buf_printf(&op->path, "%c%s=", sep, k);
        for (const char *v = rt->query[i].value; rv == 0 && *v; v++)
            rv = (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9')
                         || strchr("-._~", *v)
                     ? orc_buf_append(&op->path, v, 1)
                     : orc_buf_printf(&op->path, "%%%02X", (unsigned char)*v);
        sep = '&';
    }
    return rv;
}

static int start_call(struct proxy_op *op, const char *url)
{
    static const struct http_stream_cbs cbs = {on_head, on_data, on_end};
    struct http_tls tls = {.ca_pem = op->s->ca_pem};
    struct http_request req = {0};
    int rv = op->s->ca_pem ? http_client_new_tls(op->s->loop, url, op->s->agent_port_token, &tls, &op->client)
                           : http_client_new(op->s->loop, url, op->s->agent_port_token, &op->client);

    if (rv != 0) return rv;
    req.method = op->exec ? "POST" : "GET";
    req.path = op->path.data;
    req.timeout_ms = 15000; /* to the answer's head; a followed log then streams freely */
    return http_stream(op->client, &req, &cbs, op, &op->call);
}

/* portforward: SPDY/3.1, plain or inside a WebSocket (kubectl's first
 * try); the agent checks the rest of the handshake. */
static bool portforward_upgrade_ok(struct orc_httpd_req *r)
{
    const char *up = orc_httpd_req_header(r, "upgrade");

    if (up && (orc_ws_has_token(up, "SPDY/3.1") || orc_ws_has_token(up, "websocket"))) return true;
    bad_request(r, "port-forward needs an Upgrade to SPDY/3.1 (or to a WebSocket carrying it)%s%s", "", "");
    return false;
}

static void portforward(struct api_server *s, struct orc_httpd_req *r, const char *url, const char *ns,
                        const char *name)
{
    struct orc_buf path = ORC_BUF_INIT;

    /* both names passed validation as DNS labels: nothing to escape */
    if (orc_buf_printf(&path, "/portForward/%s/%s", ns, name) != 0)
        api_respond_error(r, ORC_ENOMEM, "port-forward");
    else api_pod_stream(s, r, url, path.data);
    orc_buf_free(&path);
}

void api_handle_pod_proxy(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    bool attach = strcmp(rt->sub, "attach") == 0, exec = attach || strcmp(rt->sub, "exec") == 0;
    bool pf = strcmp(rt->sub, "portforward") == 0;
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *pod = NULL;
    const char *node, *container = NULL;
    char url[128];
    struct proxy_op *op;

    if (((exec || pf) && r->method != HTTP_POST && r->method != HTTP_GET) || (!exec && !pf && r->method != HTTP_GET)) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL,
                           "the server does not allow this method on the requested resource");
        return;
    }
    if (attach && orc_httpd_req_header(r, "upgrade") == NULL) {
        bad_request(r, "attach streams over a WebSocket (an Upgrade request)%s%s", "", "");
        return;
    }
    if (pf && !portforward_upgrade_ok(r)) return;
    api_key(rt->kind, rt->ns, rt->name, &key);
    if (store_get(s->st, key.data, &kv) == 0) pod = orc_json_loadb(kv.value, kv.value_len, JSON_ALLOW_NUL, NULL);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    if (pod == NULL) {
        api_respond_not_found(r, rt->kind, rt->name);
        return;
    }
    node = orc_json_str(pod, "spec.nodeName");
    if (node == NULL || *node == '\0') {
        bad_request(r, "pod %s does not have a host assigned%s", rt->name, "");
        goto out;
    }
    if (!pf && (container = pick_container(r, pod, api_query_get(rt, "container"), rt->name)) == NULL) goto out;
    if (api_agent_url(s, node, url, sizeof url) != 0) {
        api_respond_status(r, 503, "ServiceUnavailable", NULL, NULL, NULL,
                           "node %s has no agent endpoint (is its agent running?)", node);
        goto out;
    }
    if (pf) {
        portforward(s, r, url, rt->ns, rt->name);
        goto out;
    }
    if ((op = calloc(1, sizeof *op)) == NULL) {
        api_respond_error(r, ORC_ENOMEM, "proxying");
        goto out;
    }
    op->s = s;
    op->r = r;
    op->exec = exec;
    op->attach = attach;
    api_hold(s);
    r->op = op;
    r->op_free = op_free;
    r->on_gone = on_gone;
    if (build_path(op, rt, rt->ns, rt->name, container) != 0) {
        finish(op, ORC_ENOMEM);
    } else if (exec && orc_httpd_req_header(r, "upgrade") != NULL) {
        /* The streaming form: the request goes to podstream.c, the path with it. */
        struct orc_buf path = op->path;
        op->path = (struct orc_buf)ORC_BUF_INIT;
        r->op = NULL;
        r->op_free = NULL;
        r->on_gone = NULL;
        op_free(op);
        api_pod_stream(s, r, url, path.data);
        orc_buf_free(&path);
    } else if (start_call(op, url) != 0) {
        finish(op, ORC_EUNAVAIL);
    }
out:
    json_decref(pod);
}
