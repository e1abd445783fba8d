/* api_flags.h — `orcd server` flags for the limits of its API port
 * (connections, timeouts, watch output), parsed apart from the other flags. */
#ifndef ORC_ORCD_API_FLAGS_H
#define ORC_ORCD_API_FLAGS_H

#include <getopt.h>

#include "apiserver/api.h"

struct orcd_api_limits {
    unsigned max_connections, max_connections_per_client;
    unsigned header_timeout_ms, idle_timeout_ms;
    size_t watch_queue, watch_memory;
    unsigned watch_bookmark_ms;
    unsigned event_ttl_s;       /* --event-ttl */
    const char *api_audiences;  /* --api-audiences, NULL: the issuer */
    unsigned sa_min_expiration; /* --service-account-min-token-expiration, s */
    unsigned node_cert_ttl_s;   /* --node-cert-ttl, s (0: a year) */
    struct api_audit_config audit; /* strings borrowed from argv */
    unsigned metric_resolution_ms; /* --metric-resolution; 0: the default */
    bool metrics_off;              /* --metric-resolution 0 */
};

/* getopt_long entries, every one returning `val`: tell them apart by name. */
#define ORCD_API_LIMIT_OPTIONS(val)                                                             \
    {"max-connections", required_argument, 0, (val)},                                           \
    {"max-connections-per-client", required_argument, 0, (val)},                                \
    {"header-timeout", required_argument, 0, (val)},                                            \
    {"idle-timeout", required_argument, 0, (val)},                                              \
    {"watch-queue", required_argument, 0, (val)},                                               \
    {"watch-memory", required_argument, 0, (val)},                                              \
    {"watch-bookmark-interval", required_argument, 0, (val)},                                   \
    {"event-ttl", required_argument, 0, (val)},                                                 \
    {"api-audiences", required_argument, 0, (val)},                                             \
    {"service-account-min-token-expiration", required_argument, 0, (val)},                      \
    {"node-cert-ttl", required_argument, 0, (val)},                                             \
    {"audit-log-path", required_argument, 0, (val)},                                            \
    {"audit-policy-file", required_argument, 0, (val)},                                         \
    {"audit-log-maxsize", required_argument, 0, (val)},                                         \
    {"audit-log-maxbackup", required_argument, 0, (val)},                                       \
    {"audit-log-maxage", required_argument, 0, (val)},                                          \
    {"metric-resolution", required_argument, 0, (val)}

#define ORCD_API_LIMIT_USAGE                                                                    \
    "  --max-connections N    API connections open at once (default: from the\n"                \
    "                         open-file limit, at most 16384); more are reset at once\n"        \
    "  --max-connections-per-client N  from one address (default: an eighth of that)\n"      \
    "  --header-timeout D     for a TLS handshake, a request's headers, and any stall\n"        \
    "                         of its body (default 10s)\n"                                      \
    "  --idle-timeout D       keep-alive connection without a request (default 90s)\n"          \
    "  --watch-queue SIZE     a watcher with more output waiting is ended (default 4Mi)\n"      \
    "  --watch-memory SIZE    all watchers' waiting output; past it the largest are\n"          \
    "                         ended (default 256Mi)\n"                                        \
    "  --watch-bookmark-interval D  between BOOKMARK events to watchers that allow\n"      \
    "                         them (default 1m, as Kubernetes)\n"                              \
    "  --event-ttl D          Events are deleted this long after they last happened\n"     \
    "                         (default 1h, as Kubernetes)\n"                                  \
    "  --api-audiences A,B    audiences a service account token must name one of\n"          \
    "                         (default: the issuer, https://kubernetes.default.svc.cluster.local)\n" \
    "  --service-account-min-token-expiration D  shortest token a TokenRequest may ask\n"     \
    "                         for (default 10m; lower only to test token refresh)\n"          \
    "  --node-cert-ttl D      lifetime of node certificates, at registration and renewed\n"   \
    "                         (default 8760h; agents renew at 70-90%% of it)\n"               \
    "  --audit-log-path FILE  an audit.k8s.io/v1 Event per request, a JSON line each,\n"        \
    "                         to FILE (mode 0600) or - for stdout (default: none)\n"           \
    "  --audit-policy-file FILE  an audit.k8s.io/v1 Policy: the level of each request\n"       \
    "                         (default: Metadata for every request)\n"                        \
    "  --audit-log-maxsize MB rotate the audit log before it grows past MB MiB\n"              \
    "                         (default 0: never)\n"                                           \
    "  --audit-log-maxbackup N  rotated audit logs kept (default 0: all)\n"                    \
    "  --audit-log-maxage DAYS  rotated audit logs older are removed (default 0: kept)\n"        \
    "  --metric-resolution D  how often each node's usage is scraped for\n"                     \
    "                         metrics.k8s.io and `top` (default 15s; 0: off)\n"

/* For every flag of orcd server: prints why `value` is refused ("want ...")
 * and returns -1. */
int orcd_flag_bad(const char *name, const char *value, const char *want);
/* A duration from min_ms to 24h into *out (ms): 0, or orcd_flag_bad(want). */
int orcd_flag_duration(const char *name, const char *value, unsigned min_ms, const char *want,
                       unsigned *out);

/* One flag: 0, or -1 after printing why the value is refused. */
int orcd_api_limit_flag(const char *name, const char *value, struct orcd_api_limits *out);
void orcd_api_limits_apply(const struct orcd_api_limits *l, struct api_config *cfg);

/* Raises the open-file limit to its hard limit (a server's connections
 * need descriptors) and sets the heap policy (lib/mem.h). */
void orcd_process_setup(void);

#endif
