/* server_int.h — the server's state, shared by server.c (listeners, TCP
 * connections) and forward.c (upstream queries). Internal to dns/. */
#ifndef ORC_DNS_SERVER_INT_H
#define ORC_DNS_SERVER_INT_H

#include <netinet/in.h>

#include "dns/dns.h"
#include "lib/hmap.h"
#include "lib/list.h"

#define DNS_MAX_UPSTREAMS 3 /* as glibc's MAXNS */

/* Per client address: what it holds, for the per-peer caps. */
struct dns_peer {
    struct orc_hnode node;
    char key[INET6_ADDRSTRLEN];
    unsigned forwards, tcp;
};

struct dns_conn {
    uv_tcp_t h;
    struct dns_server *s;
    struct dns_peer *peer;
    struct orc_link link; /* on s->conns */
    uint8_t *buf;         /* unframed bytes read so far */
    size_t len;
    uint64_t last_ms;
    unsigned pending; /* forwards whose answer goes here */
    int closing;
};

struct dns_fwd;

/* A forward retried over TCP after a truncated UDP answer (for a TCP
 * client, which must get the whole answer). */
struct dns_uptcp {
    uv_tcp_t h;
    uv_connect_t conn;
    uv_write_t wr;
    struct dns_server *s;
    struct dns_fwd *f; /* NULL once the forward ended */
    uint8_t *out, *in;  /* the framed query; the answer read so far */
    size_t in_len;
    int closing;
};

struct dns_fwd {
    struct orc_link link; /* on s->fwds, oldest deadline first */
    uint16_t id, client_id;
    uint8_t *query; /* with id rewritten */
    size_t len;
    int upstream; /* index into s->ups of the current attempt */
    uint64_t deadline_ms;
    struct sockaddr_storage client; /* a UDP client */
    struct dns_conn *conn;          /* or a TCP one; NULL once it closed */
    int tcp;
    struct dns_peer *peer;
    struct dns_uptcp *uptcp; /* while retried over TCP */
};

struct dns_server {
    uv_loop_t *loop;
    struct dns_zone *z;
    struct dns_server_config cfg;
    uv_udp_t udp, up;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int open_handles;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    int port;
    struct sockaddr_storage ups[DNS_MAX_UPSTREAMS];
    int nups;
    struct dns_fwd **byid; /* 65,536 slots: the forward by its upstream id */
    struct orc_link fwds, conns;
    unsigned nfwd, ntcp;
    struct orc_hmap peers;
    struct dns_server_stats st;
    struct dns_cache *cache; /* NULL: cfg.no_cache */
    uint8_t rbuf[65536];
};

/* One handle of the server's fewer open; the last frees it. */
void dns_server_release(struct dns_server *s);

struct dns_peer *dns_peer_get(struct dns_server *s, const struct sockaddr *sa);
void dns_peer_put(struct dns_server *s, struct dns_peer *p);

/* Sends a wire answer to a UDP client or a TCP connection. */
void dns_send_udp(struct dns_server *s, const struct sockaddr *to, const uint8_t *p, size_t n);
void dns_send_tcp(struct dns_conn *c, const uint8_t *p, size_t n);

/* forward.c: starts a forward of query (copied) for a UDP client (to) or a
 * TCP one (c); answers SERVFAIL at once when over a cap or no upstream. */
void dns_forward_start(struct dns_server *s, const uint8_t *q, size_t len, const struct sockaddr *to,
                       struct dns_conn *c);
void dns_forward_on_upstream(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                             unsigned flags);
void dns_forward_expire(struct dns_server *s, uint64_t now);
void dns_forward_drop_all(struct dns_server *s);
/* A connection closes: its forwards will answer nobody. */
void dns_forward_detach(struct dns_server *s, struct dns_conn *c);

#endif
