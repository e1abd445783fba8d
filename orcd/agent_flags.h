/* agent_flags.h — node agent flags parsed alike by `orcd agent` and
 * `orcd server` (for its embedded agent): the network, DNS, proxies and
 * log layout (struct orcd_node_flags, one parser for both programs). */
#ifndef ORCD_AGENT_FLAGS_H
#define ORCD_AGENT_FLAGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/* The container log layout and rotation (agent_config's), alike on
 * `orcd agent` and `orcd server`. */
struct orcd_log_flags {
    const char *pod_log_dir, *container_log_dir; /* borrowed from argv */
    int64_t max_bytes;  /* 0: the agent's default (10Mi) */
    unsigned max_files; /* 0: the agent's default (5) */
};

#define ORCD_LOG_DEFAULT_POD_DIR "/var/log/pods"
#define ORCD_LOG_DEFAULT_CTR_DIR "/var/log/containers"

/* getopt_long entries, every one returning `val`: tell them apart by name. */
#define ORCD_LOG_OPTIONS(val)                                                                   \
    {"pod-log-dir", required_argument, 0, (val)},                                               \
    {"container-log-dir", required_argument, 0, (val)},                                         \
    {"container-log-max-size", required_argument, 0, (val)},                                    \
    {"container-log-max-files", required_argument, 0, (val)}

#define ORCD_LOG_USAGE                                                                          \
    "  --pod-log-dir DIR      containers' logs, as the kubelet lays them out:\n"                \
    "                         DIR/<ns>_<pod>_<uid>/<container>/<n>.log (default\n"              \
    "                         /var/log/pods)\n"                                                 \
    "  --container-log-dir DIR  links DIR/<pod>_<ns>_<container>-<id>.log to them, for\n"      \
    "                         log shippers (default /var/log/containers)\n"                     \
    "  --container-log-max-size Q   rotate a container's log past this (default 10Mi)\n"       \
    "  --container-log-max-files N  a container's log files, the live one too; older\n"      \
    "                         rotated ones are gzipped (default 5, at least 2)\n"

/* One of ORCD_LOG_OPTIONS. 0, or -1 with a message on stderr naming prog. */
int orcd_log_flag(const char *prog, const char *flag, const char *value, struct orcd_log_flags *out);

/* The node's flags both programs take; strings borrowed from argv. */
struct orcd_node_flags {
    const char *network_backend; /* NULL: auto */
    const char *cluster_domain, *resolv_conf;
    const char *cni_conf_dir, *cni_bin_dir; /* CNI mode */
    bool no_cluster_dns, no_service_proxy, no_network_policy, no_ingress;
    long ingress_http_port, ingress_https_port; /* 0: unset (80, 443), -1: off */
    struct orcd_log_flags logs;
};

/* getopt_long entries, every one returning `val`: tell them apart by name. */
#define ORCD_NODE_OPTIONS(val)                                                                  \
    {"network-backend", required_argument, 0, (val)},                                           \
    {"cluster-dns", required_argument, 0, (val)},                                               \
    {"cluster-domain", required_argument, 0, (val)},                                            \
    {"resolv-conf", required_argument, 0, (val)},                                               \
    {"cni-conf-dir", required_argument, 0, (val)},                                              \
    {"cni-bin-dir", required_argument, 0, (val)},                                               \
    {"service-proxy", required_argument, 0, (val)},                                             \
    {"network-policy", required_argument, 0, (val)},                                            \
    {"ingress", required_argument, 0, (val)},                                                   \
    {"ingress-http-port", required_argument, 0, (val)},                                         \
    {"ingress-https-port", required_argument, 0, (val)},                                        \
    ORCD_LOG_OPTIONS(val)

/* One of ORCD_NODE_OPTIONS. 0, or -1 with a message on stderr naming prog. */
int orcd_node_flag(const char *prog, const char *flag, const char *value, struct orcd_node_flags *out);

struct agent_config;
/* Sets cfg's fields the node flags choose (strings borrowed from f). */
void orcd_node_config(const struct orcd_node_flags *f, struct agent_config *cfg);

#endif
