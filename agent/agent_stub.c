/* agent_stub.c — placeholder until the agent core lands (branch agentcore):
 * the agent refuses to start. Removed when agent/agent.c arrives. */
#include "agent/agent.h"
#include "lib/orc.h"

#include <stdio.h>

int agent_start(uv_loop_t *loop, const struct agent_config *cfg, agent **out, char *errmsg)
{
    (void)loop;
    (void)cfg;
    (void)out;
    snprintf(errmsg, 256, "the node agent is not built in yet");
    return ORC_EINVAL;
}

void agent_stop(agent *a, void (*cb)(void *arg), void *arg)
{
    (void)a;
    if (cb) cb(arg);
}
