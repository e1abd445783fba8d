/* api.c — the agent's JSON calls to the API server: client/rest.h's
 * rest_call, with the agent held until the answer arrives. */
#include <stdlib.h>

#include "agent/agent_int.h"
#include "client/rest.h"
#include "lib/orc.h"

struct api_call {
    struct agent *a;
    agent_api_cb cb;
    void *arg;
};

static void on_answer(void *arg, int status, const json_t *body)
{
    struct api_call *c = arg;

    if (c->cb) c->cb(c->arg, status, body);
    agent_release(c->a);
    free(c);
}

int agent_api_call(struct agent *a, const char *method, const char *path, const char *content_type,
                   const json_t *body, agent_api_cb cb, void *arg)
{
    struct api_call *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->a = a;
    c->cb = cb;
    c->arg = arg;
    agent_hold(a);
    rv = a->api_hook ? a->api_hook(a->hook_arg, method, path, content_type, body, on_answer, c)
                     : rest_call(a->api, method, path, content_type, body, 0, on_answer, c);
    if (rv != 0) {
        agent_release(a);
        free(c);
    }
    return rv;
}
