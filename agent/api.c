/* api.c — the agent's JSON calls to the API server: one request on the
 * shared client, the answer parsed for the caller. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

struct api_call {
    struct agent *a;
    agent_api_cb cb;
    void *arg;
};

static void on_answer(void *arg, int err, const struct http_response *resp)
{
    struct api_call *c = arg;
    json_t *body = NULL;

    if (err == 0 && resp->body && resp->body_len)
        body = json_loadb(resp->body, resp->body_len, JSON_ALLOW_NUL, NULL);
    if (c->cb) c->cb(c->arg, err ? err : resp->status, body);
    json_decref(body);
    agent_release(c->a);
    free(c);
}

int agent_api_call(struct agent *a, const char *method, const char *path, const char *content_type,
                   const json_t *body, agent_api_cb cb, void *arg)
{
    struct api_call *c = calloc(1, sizeof *c);
    struct orc_buf b = ORC_BUF_INIT;
    struct http_request req = {0};
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    if (body && (rv = orc_json_dump(body, &b)) != 0) {
        free(c);
        return rv;
    }
    c->a = a;
    c->cb = cb;
    c->arg = arg;
    req.method = method;
    req.path = path;
    req.content_type = body ? (content_type ? content_type : "application/json") : NULL;
    req.body = b.data;
    req.body_len = b.len;
    req.timeout_ms = 15000;
    agent_hold(a);
    rv = http_request(a->api, &req, on_answer, c, NULL);
    orc_buf_free(&b);
    if (rv != 0) {
        agent_release(a);
        free(c);
    }
    return rv;
}
