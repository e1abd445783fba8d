/* embedded.h — the node agent inside `orcd server`, on a thread of its own. */
#ifndef ORC_ORCD_EMBEDDED_H
#define ORC_ORCD_EMBEDDED_H

#include <stdbool.h>
#include <stdint.h>

#include "orcd/agent_flags.h"

struct orcd_embedded;

struct orcd_embedded_config {
    const char *server_url; /* this member's API */
    const char *token;
    const char *ca_pem;
    const char *ca_key_pem; /* the member issues its own agent's certificate */
    const char *node_name;
    const char *data_dir;   /* the agent's state (inside the member's data dir) */
    const char *node_ip;
    const char *registries;
    struct orcd_node_flags node; /* the node's flags, as `orcd agent` takes them */
};

/* Starts the agent thread (all strings copied). 0, or ORC_E* with a message
 * logged (the server goes on without an agent). */
int orcd_embedded_start(const struct orcd_embedded_config *cfg, struct orcd_embedded **out);
/* Stops the agent (its containers keep running) and joins the thread. */
void orcd_embedded_stop(struct orcd_embedded *e);

#endif
