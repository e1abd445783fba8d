/* embedded.h — the node agent inside `orcd server`, on a thread of its own. */
#ifndef ORC_ORCD_EMBEDDED_H
#define ORC_ORCD_EMBEDDED_H

#include <stdbool.h>
#include <stdint.h>

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
    bool no_cluster_dns;    /* agent_config's cluster DNS settings */
    bool no_service_proxy;  /* agent_config's */
    bool no_network_policy; /* agent_config's */
    int ingress_http_port, ingress_https_port; /* agent_config's Ingress proxy ports */
    const char *cluster_domain;
    const char *resolv_conf;
    const char *network_backend; /* agent_config's; NULL: auto */
    const char *cni_conf_dir; /* agent_config's CNI mode (NULL: orc's own network) */
    const char *cni_bin_dir;
    const char *pod_log_dir, *container_log_dir; /* agent_config's log layout */
    int64_t log_max_bytes;  /* agent_config's rotation (0: defaults) */
    unsigned log_max_files;
};

/* Starts the agent thread (all strings copied). 0, or ORC_E* with a message
 * logged (the server goes on without an agent). */
int orcd_embedded_start(const struct orcd_embedded_config *cfg, struct orcd_embedded **out);
/* Stops the agent (its containers keep running) and joins the thread. */
void orcd_embedded_stop(struct orcd_embedded *e);

#endif
