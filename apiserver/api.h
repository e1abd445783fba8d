/* api.h — the Kubernetes-shaped API server in front of the store. One per
 * `orcd server` member, on the store's loop. Serves /api, /apis, discovery,
 * health, and orc's member-to-member endpoints under /internal/v1.
 * Writes reaching a follower are forwarded to the leader's /internal/v1/txn;
 * reads are served from the local store. */
#ifndef ORC_API_H
#define ORC_API_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "apiserver/audit.h"
#include "store/store.h"

typedef struct api_server api_server;

/* What the API servers show agents' logs/exec ports: HMAC-SHA256 of the
 * cluster token with this label (orc_tls_derive_token), so that an agent
 * holds no credential of the API; agents learn it with their node
 * certificate. */
#define API_AGENT_PORT_LABEL "orc agent port"

struct api_config {
    const char *listen;        /* "HOST:PORT" to listen on; copied */
    const char *advertise_url; /* "https://HOST:PORT" peers and clients reach this member at; copied */
    const char *token;         /* cluster bearer token; copied, never logged */
    const char *agent_token;   /* a new cluster's agent token "<id>.<secret>", stored
                                  as a bootstrap token when this member leads;
                                  NULL: none to store. Copied, never logged */
    /* HTTPS: the certificate chain this member serves (leaf first, then the
     * CA, so a joining member can match the CA against its token) and its
     * key. Both NULL: plain HTTP. Read during the call. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    /* The cluster CA: trusted when calling other members (NULL: the system
     * store), and with its key handed to a member that joins, so it can
     * issue its own certificate (NULL key: joins get no CA). Copied; the
     * key is never logged and is wiped when the server is freed. */
    const char *ca_pem;
    const char *ca_key_pem;
    /* Limits of the API port (lib/httpd.h); 0 takes the default. */
    unsigned max_connections;            /* open connections; from RLIMIT_NOFILE */
    unsigned max_connections_per_client; /* from one address; max_connections / 8 */
    unsigned header_timeout_ms;          /* TLS handshake, a request's head; 10 s */
    unsigned idle_timeout_ms;            /* keep-alive without a request; 90 s */
    size_t watch_queue_bytes;  /* a watcher with more output waiting is ended; 4 MiB */
    size_t watch_memory_bytes; /* all watchers' waiting output; past it the largest
                                  are ended; 256 MiB */
    unsigned watch_bookmark_ms; /* between BOOKMARK events (allowWatchBookmarks); 0 = 60 s */
    unsigned event_ttl_s;       /* Events are deleted this long after their last
                                   occurrence (--event-ttl); 0 = 1 h */
    const char *cluster_cidr;   /* pods' addresses, a block per Node; NULL = 10.42.0.0/16 */
    unsigned node_cidr_mask;    /* prefix length of each Node's block; 0 = 24 */
    const char *service_cidr;   /* Services' clusterIPs; NULL = 10.43.0.0/16 */
    const char *node_port_range; /* Services' nodePorts; NULL = 30000-32767 */
    /* tolerationSeconds of the not-ready and unreachable NoExecute
     * tolerations every new pod gets (DefaultTolerationSeconds); 0 = 30 s */
    unsigned pod_eviction_timeout_ms;
    /* ServiceAccount tokens: the audiences a token must name one of
     * (comma-separated; NULL: the issuer), and the shortest expiry a
     * TokenRequest may ask for in seconds (0: 600, as Kubernetes). */
    const char *api_audiences;
    unsigned sa_min_expiration;
    /* Lifetime of the node certificates an agent gets at registration, in
     * seconds (0: API_NODE_CERT_DAYS). */
    unsigned node_cert_ttl_s;
    /* The audit log (audit.h): log_path NULL: none. Copied at start. */
    struct api_audit_config audit;
    /* An EncryptionConfiguration file (apiserver.config.k8s.io/v1): the
     * resources it names (Secrets) are stored encrypted. NULL: stored as
     * written. Read during the call. */
    const char *encryption_config;
    /* metrics.k8s.io (metrics.h): how often each Ready node's agent is
     * scraped; 0 = 15 s. metrics_off: no collector, no metrics API. */
    unsigned metric_resolution_ms;
    bool metrics_off;
};

/* Secrets encrypted at rest (encrypt_config.c): reads and checks an
 * EncryptionConfiguration file (mode 0600 or refused; keys are never
 * logged). errmsg: 256 bytes, never holds a key. */
typedef struct api_encryption api_encryption;
int api_encryption_load(const char *path, api_encryption **out, char *errmsg);
void api_encryption_free(api_encryption *e); /* wipes the keys; NULL is fine */

/* Starts serving. `st` must outlive the server. errmsg: 256 bytes. */
int api_server_start(uv_loop_t *loop, store *st, const struct api_config *cfg, api_server **out,
                     char *errmsg);

/* Keys of the member records (API_MEMBER_PREFIX "<id>"). A backup's are
 * the old cluster's: a restore leaves them out. */
#define API_MEMBER_PREFIX "/orc/members/"

/* Records this member's API URL in the store (key /orc/members/<id>), so
 * followers can find the leader's API. Safe to call repeatedly; the leader
 * calls it when elected. */
void api_server_publish_member(api_server *s);

/* True once this member knows a leader and has applied what it has seen
 * committed: what /readyz reports. */
int api_server_ready(const api_server *s);

/* Closes every connection (ending watches) and frees the server; then cb. */
void api_server_stop(api_server *s, void (*cb)(void *arg), void *arg);

#endif
