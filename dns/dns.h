/* dns.h — the cluster DNS resolver: records computed from Services and
 * EndpointSlices (Kubernetes' DNS specification, CoreDNS's kubernetes
 * plugin), a pure query handler, and a UDP/TCP server on a libuv loop that
 * forwards every other name to the node's upstream resolvers.
 *
 * Packets are encoded and decoded with libldns. Nothing here is
 * thread-safe: a zone and its server live on one loop's thread. */
#ifndef ORC_DNS_H
#define ORC_DNS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/buf.h"

#define DNS_TTL 5             /* CoreDNS kubernetes plugin's default */
#define DNS_DEFAULT_DOMAIN "cluster.local"

/* ---- records ------------------------------------------------------------ */

struct dns_zone;

/* A zone for `domain` ("cluster.local"; NULL for the default). NULL on
 * allocation failure or a domain that is not a valid DNS name. */
struct dns_zone *dns_zone_new(const char *domain);
void dns_zone_free(struct dns_zone *z);

/* Adds or replaces a core/v1 Service (borrowed; the zone keeps its own
 * reference), and recomputes that Service's records alone. 0, ORC_EINVAL
 * (no metadata.namespace/name) or ORC_ENOMEM. */
int dns_zone_set_service(struct dns_zone *z, json_t *svc);
int dns_zone_del_service(struct dns_zone *z, const char *ns, const char *name);
/* The same for a discovery.k8s.io/v1 EndpointSlice, tied to its Service by
 * the label kubernetes.io/service-name. */
int dns_zone_set_slice(struct dns_zone *z, json_t *slice);
int dns_zone_del_slice(struct dns_zone *z, const char *ns, const char *name);

/* Until a zone is set ready, names under its domain answer SERVFAIL (the
 * client asks again) rather than a false NXDOMAIN it would cache: its
 * feed has not listed every Service yet. dns_zone_new's zone is ready;
 * the agent clears it until its informers synced (at most 5 s, as
 * CoreDNS waits). */
void dns_zone_set_ready(struct dns_zone *z, int ready);

/* The number of names that hold at least one record (for tests). */
size_t dns_zone_names(const struct dns_zone *z);
const char *dns_zone_domain(const struct dns_zone *z); /* "cluster.local." */

/* ---- queries ------------------------------------------------------------ */

enum dns_verdict {
    DNS_DROP,    /* not worth an answer (too short, a response, ...) */
    DNS_REPLY,   /* *out holds the answer */
    DNS_FORWARD, /* not ours: send the query upstream */
};

enum dns_transport { DNS_UDP, DNS_TCP };

/* Answers one raw query. On DNS_REPLY, *out is a malloc'd wire packet
 * (free()) of *outlen bytes, which over UDP fits the client's buffer (512
 * bytes, or its EDNS0 size up to 4,096), truncated with TC set when the
 * answer does not. Never crashes on any input. */
enum dns_verdict dns_query_handle(const struct dns_zone *z, const uint8_t *wire, size_t len,
                                  enum dns_transport tr, uint8_t **out, size_t *outlen);

/* A SERVFAIL (rcode 2) answer to the query `wire` (header and question
 * echoed), for forwards that failed. DNS_REPLY or DNS_DROP as above. */
enum dns_verdict dns_query_servfail(const uint8_t *wire, size_t len, uint8_t **out,
                                    size_t *outlen);

/* ---- server ------------------------------------------------------------- */

struct dns_server_config {
    const char *address;     /* listen address, IPv4 or IPv6 literal */
    int port;                /* 53 */
    const char *resolv_conf; /* upstreams' file; NULL: /etc/resolv.conf */
    int upstream_port;       /* 0: 53 (tests point elsewhere) */
    unsigned timeout_ms;     /* per upstream attempt; 0: 2,000 */
    unsigned max_forwards;   /* outstanding forwards in all; 0: 1,024 */
    unsigned max_forwards_peer; /* per client address; 0: 64 */
    unsigned max_tcp;        /* TCP connections in all; 0: 256 */
    unsigned max_tcp_peer;   /* per client address; 0: 16 */
    unsigned tcp_idle_ms;    /* idle TCP connections closed; 0: 10,000 */
    unsigned cache_entries;  /* forwarded answers kept; 0: 10,000 */
    unsigned cache_ttl_s;    /* at most this long; 0: 30 (NodeLocal DNSCache's) */
    int no_cache;            /* forward every time */
};

struct dns_server;

/* Binds UDP and TCP on cfg->address:port and starts serving from z
 * (borrowed: it must outlive the server; the caller may update it between
 * loop turns). 0 and *out, or ORC_EINVAL / ORC_EIO / ORC_ENOMEM with a
 * message in errmsg. The resolv.conf is read once here; no nameserver in it
 * is not an error (forwards then answer SERVFAIL). */
int dns_server_start(uv_loop_t *loop, struct dns_zone *z, const struct dns_server_config *cfg,
                     struct dns_server **out, char *errmsg, size_t errlen);
/* Closes every handle; cb(arg) (may be NULL) once the loop ran their close
 * callbacks and the memory is freed. Pending forwards are dropped. */
void dns_server_stop(struct dns_server *s, void (*cb)(void *arg), void *arg);
/* The bound port (useful with port 0). */
int dns_server_port(const struct dns_server *s);

/* Counters, for tests and the benchmark. */
struct dns_server_stats {
    uint64_t queries, answered, forwarded, servfail, dropped, refused_tcp;
    uint64_t cache_hits; /* forwarded names answered from the cache */
};
void dns_server_stats(const struct dns_server *s, struct dns_server_stats *st);

/* ---- the cache of forwarded answers (cache.c) ---- */

struct dns_cache;
/* Up to max_entries answers (0: 10,000), each kept at most max_ttl_s
 * (0: 30). NULL on ENOMEM. */
struct dns_cache *dns_cache_new(size_t max_entries, unsigned max_ttl_s);
void dns_cache_free(struct dns_cache *c);
/* Keeps upstream answer a (alen bytes) to query q when it may be cached:
 * NOERROR with records for their smallest TTL, NXDOMAIN or NODATA for
 * their SOA's; never a truncated or failed one, nor one over 4,096 bytes.
 * The oldest entry goes when full. */
void dns_cache_put(struct dns_cache *c, const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen,
                   uint64_t now_ms);
/* 1 with a malloc'd answer to q in *out and *n (q's id and question, TTLs
 * less the time kept) when one is cached, unexpired and fits the client
 * (UDP: its EDNS size, else 512); 0 otherwise. */
int dns_cache_get(struct dns_cache *c, const uint8_t *q, size_t qlen, int tcp, uint64_t now_ms, uint8_t **out,
                  size_t *n);
size_t dns_cache_size(const struct dns_cache *c);

/* ---- pods' resolv.conf ------------------------------------------------- */

/* Appends to out the /etc/resolv.conf the kubelet would write for pod:
 * dnsPolicy ClusterFirst (the default; on hostNetwork it falls back to
 * Default) and ClusterFirstWithHostNet give `nameserver cluster_dns`,
 * `search <ns>.svc.<domain> svc.<domain> <domain>` then host_text's search
 * domains, `options ndots:5`; Default gives host_text (the node's
 * resolv.conf text) as it is; None gives nothing; spec.dnsConfig's
 * nameservers, searches and options are then added (an option replaces
 * one of its name). A ClusterFirst pod without cluster_dns (NULL or "")
 * gets Default. At most 3 nameservers and 32 search domains. 0 or
 * ORC_ENOMEM. */
int dns_pod_resolv_conf(const json_t *pod, const char *cluster_dns, const char *domain, const char *host_text,
                        struct orc_buf *out);

/* Appends to out the pod's /etc/hosts as the kubelet writes it: localhost
 * lines, the pod's own address with its hostname (and
 * <hostname>.<subdomain>.<ns>.svc.<domain> when spec.subdomain is set),
 * then spec.hostAliases. 0 or ORC_ENOMEM. */
int dns_pod_hosts(const json_t *pod, const char *pod_ip, const char *domain, struct orc_buf *out);

/* Reads up to `max` nameserver addresses from a resolv.conf into addrs
 * (each malloc'd; free them). The count, or a negative ORC_E* code. */
int dns_resolv_conf_read(const char *path, char **addrs, int max);

#endif
