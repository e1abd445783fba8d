/* agentcall.c — reaching a node's agent from the API server: its URL from
 * the Node object, and a one-shot GET over HTTPS with the agent-port
 * token, for the node proxy and the metrics collector. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/orc.h"

int api_agent_url(struct api_server *s, const char *node, char *out, size_t n)
{
    struct orc_buf key = ORC_BUF_INIT;
    struct store_kv kv = {0};
    json_t *obj = NULL, *addr;
    const char *ip = NULL;
    int64_t port = 0;
    size_t i;
    int rv = ORC_ENOENT;

    api_key(orc_kind_by_resource("", "nodes"), NULL, node, &key);
    if (store_get(s->st, key.data, &kv) == 0) obj = orc_json_loadb(kv.value, kv.value_len, JSON_ALLOW_NUL, NULL);
    json_array_foreach(orc_json_get(obj, "status.addresses"), i, addr) {
        const char *t = orc_json_str(addr, "type");
        if (t && strcmp(t, "InternalIP") == 0) ip = orc_json_str(addr, "address");
    }
    orc_json_int(obj, "status.daemonEndpoints.kubeletEndpoint.Port", &port);
    if (ip && port > 0 && port < 65536) {
        snprintf(out, n, strchr(ip, ':') ? "https://[%s]:%d" : "https://%s:%d", ip, (int)port);
        rv = 0;
    }
    json_decref(obj);
    store_kv_clear(&kv);
    orc_buf_free(&key);
    return rv;
}

struct api_agent_call {
    struct api_server *s;
    http_client *client;
    http_call *call;
    api_agent_cb cb;
    void *arg;
};

static void on_response(void *arg, int err, const struct http_response *resp)
{
    struct api_agent_call *c = arg;
    struct api_server *s = c->s;

    c->call = NULL;
    c->cb(c->arg, err, resp);
    http_client_close(c->client, NULL, NULL);
    free(c);
    api_release(s);
}

int api_agent_get(struct api_server *s, const char *node, const char *path, unsigned timeout_ms,
                  api_agent_cb cb, void *arg, struct api_agent_call **out)
{
    struct http_tls tls = {.ca_pem = s->ca_pem};
    struct http_request req = {.method = "GET", .path = path, .timeout_ms = timeout_ms};
    struct api_agent_call *c;
    char url[300];
    int rv;

    if ((rv = api_agent_url(s, node, url, sizeof url)) != 0) return rv;
    if ((c = calloc(1, sizeof *c)) == NULL) return ORC_ENOMEM;
    c->s = s;
    c->cb = cb;
    c->arg = arg;
    rv = s->ca_pem ? http_client_new_tls(s->loop, url, s->agent_port_token, &tls, &c->client)
                   : http_client_new(s->loop, url, s->agent_port_token, &c->client);
    if (rv == 0 && (rv = http_request(c->client, &req, on_response, c, &c->call)) != 0)
        http_client_close(c->client, NULL, NULL);
    if (rv != 0) {
        free(c);
        return rv;
    }
    api_hold(s);
    if (out) *out = c;
    return 0;
}

void api_agent_call_cancel(struct api_agent_call *c)
{
    if (c->call) http_call_cancel(c->call);
}
