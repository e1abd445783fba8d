/* httpd_int.h — what the HTTP transport's files share: the server and
 * connection structs. httpd.c accepts, reads and parses; httpd_out.c writes
 * (responses, coalesced stream output, shared chunks); httpd_limits.c holds
 * the limits (connection caps, timeouts, rate-limited log lines, memory
 * given back after bursts). Internal to these files. */
#ifndef ORC_HTTPD_INT_H
#define ORC_HTTPD_INT_H

#include <netinet/in.h>

#include "lib/httpd.h"
#include "lib/httpd_parse.h"
#include "lib/list.h"

#define ORC_HTTPD_READ_BUF (64 * 1024)
#define ORC_HTTPD_LINGER_MS 2000 /* a closing connection drains the client's bytes this long */

struct orc_tls;
struct orc_tls_ctx;

/* A log line that may repeat is written at most every 10 s, saying how
 * many were left out. */
struct orc_httpd_log_limit {
    uint64_t last_ms;
    unsigned skipped;
};

/* Connections open from one client address. */
struct orc_httpd_client {
    struct orc_httpd_client *next; /* hash chain */
    unsigned char addr[16];  /* IPv4 in the first 4 bytes, or IPv6 */
    unsigned conns;
};

enum orc_httpd_deadline {
    DL_NONE,
    DL_HANDSHAKE, /* TLS handshake */
    DL_HEADER,    /* a request's head */
    DL_BODY,      /* a request's body */
    DL_IDLE,      /* keep-alive, waiting for a request */
    DL_DRAIN,     /* a response still being written: no progress in idle_timeout */
    DL_LINGER,    /* closing, after the last byte */
    DL_TUNNEL,    /* a tunnel: no byte either way for tunnel_idle_ms */
};

struct orc_httpd {
    uv_loop_t *loop;
    uv_tcp_t listener;
    orc_httpd_handler handler;
    orc_httpd_authorize authorize;
    void *arg;
    struct orc_httpd_limits limits;
    const char *mod; /* log module */
    struct orc_link conns;
    unsigned n_conns;
    int open_handles; /* listener, timers, connections still closing */
    bool stopping;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    uint64_t requests;
    struct orc_tls_ctx *tls; /* NULL: plain HTTP */
    /* Output: connections with queued stream output, flushed in the check
     * phase, a time slice per loop iteration (the idle handle keeps the loop
     * from blocking meanwhile). */
    uv_check_t flush_check;
    uv_idle_t flush_idle;
    struct orc_link dirty;
    size_t chunk_bytes; /* bytes of the chunks queued on streams, each counted once */
    size_t wq_bytes;    /* bytes waiting in the sockets' write queues */
    /* Limits. */
    uv_timer_t sweep;
    struct orc_httpd_client **clients;
    size_t n_buckets, n_clients;
    struct orc_httpd_log_limit log_total, log_client, log_accept, log_timeout, log_cut;
    unsigned closed_since_trim;
    /* TLS connections read ciphertext here (one read at a time on the loop
     * thread), and keep only plaintext of their own. */
    char rbuf[ORC_HTTPD_READ_BUF];
};

struct orc_httpd_conn {
    uv_tcp_t tcp;
    struct orc_httpd *http;
    struct orc_link link;
    struct orc_httpd_parser parser;
    struct orc_buf in; /* bytes received and not yet parsed */
    size_t in_off;
    struct orc_httpd_req *active; /* request owned by a handler */
    /* The response (or batch of chunks) being written. Plain HTTP hands it
     * to the write; with TLS it is encrypted into a new block and this
     * memory is reused. */
    struct orc_buf wbuf;
    struct orc_tls *tls; /* NULL: plain HTTP */
    struct orc_httpd_client *client;
    char peer[48];
    /* Stream output not yet written: references to chunks. */
    struct orc_httpd_chunk **q;
    size_t q_head, q_len, q_cap;
    size_t q_off;   /* bytes of the first chunk already written */
    size_t q_bytes; /* bytes queued and not yet written */
    size_t cut_bound; /* the bound a pending cut passed */
    struct orc_link dirty_link; /* in http->dirty, or alone */
    uint64_t dirty_since;       /* uv_hrtime() it went into http->dirty */
    enum orc_httpd_deadline dl;
    uint64_t deadline;   /* loop time */
    uint64_t body_since; /* loop time the current request's body began */
    size_t wq_seen;    /* write queue size at the last sweep (DL_DRAIN) */
    uv_shutdown_t shutdown_req;
    bool processing;
    bool closing;
    bool reading;
    bool got_bytes;
    bool lingering;   /* the last byte is out or queued; discard what comes */
    bool cut_pending; /* a stream over its bound, ended at the next flush */
    bool shutting;    /* shutdown_req in flight */
    bool reset;       /* close with a reset (orc_httpd__conn_abort) */
    bool paused;      /* a tunnel's handler stopped reading (orc_httpd_tunnel_pause) */
};

/* http.c */
void orc_httpd__conn_close(struct orc_httpd_conn *c);
void orc_httpd__conn_abort(struct orc_httpd_conn *c); /* with a reset */
void orc_httpd__conn_process(struct orc_httpd_conn *c);
void orc_httpd__read_on(struct orc_httpd_conn *c, bool on);

/* httpd_out.c */
int orc_httpd__send_raw(struct orc_httpd_conn *c, char *data, size_t len, bool close_after);
int orc_httpd__send_tls_out(struct orc_httpd_conn *c, bool close_after);
int orc_httpd__flush_wbuf(struct orc_httpd_conn *c, bool close_after);
void orc_httpd__queue_drop(struct orc_httpd_conn *c);
int orc_httpd__out_init(struct orc_httpd *h);
void orc_httpd__out_close(struct orc_httpd *h, uv_close_cb cb);
/* Ends a stream now: farewell and last chunk, close after (a reset for a
 * whole_or_nothing stream), on_gone fires unless the handler is ending the
 * request itself (`ending`). */
void orc_httpd__cut(struct orc_httpd_conn *c, bool ending);

/* httpd_limits.c */
int orc_httpd__limits_init(struct orc_httpd *h);
void orc_httpd__limits_close(struct orc_httpd *h, uv_close_cb cb);
/* At accept: whether the connection may stay (else it was logged). */
bool orc_httpd__admit(struct orc_httpd_conn *c, const struct sockaddr_storage *peer);
void orc_httpd__release(struct orc_httpd_conn *c);
void orc_httpd__deadline(struct orc_httpd_conn *c, enum orc_httpd_deadline dl);
void orc_httpd__log_limited(struct orc_httpd *h, struct orc_httpd_log_limit *lim, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
