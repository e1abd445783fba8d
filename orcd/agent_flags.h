/* agent_flags.h — node agent flags parsed alike by `orcd agent` and
 * `orcd server` (for its embedded agent): the on|off switches
 * (--cluster-dns, --service-proxy, --ingress) and the Ingress proxy's
 * ports (--ingress-http-port N, --ingress-https-port N; 0 turns one off). */
#ifndef ORCD_AGENT_FLAGS_H
#define ORCD_AGENT_FLAGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/* --FLAG on|off: sets *off. 0, or -1 with a message on stderr naming
 * `prog`. */
int orcd_onoff_flag(const char *prog, const char *flag, const char *value, bool *off);

/* Parses one flag's value: "ingress" sets *off; a port flag sets *port
 * (1..65535, or -1 for 0: off). 0, or -1 with a message on stderr naming
 * `prog`. */
int orcd_ingress_flag(const char *prog, const char *flag, const char *value, bool *off,
                      long *port);

/* The agent_config ports (0: default, negative: off) from the flags. */
void orcd_ingress_ports(bool off, long http, long https, int *cfg_http, int *cfg_https);

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

#endif
