/* http_int.h — what the HTTP transport's files share: the server and
 * connection structs. http.c accepts, reads and parses; http_out.c writes
 * (responses, coalesced stream output, shared chunks); http_limits.c holds
 * the limits (connection caps, timeouts, rate-limited log lines, memory
 * given back after bursts). Internal to these files. */
#ifndef ORC_API_HTTP_INT_H
#define ORC_API_HTTP_INT_H

#include <netinet/in.h>

#include "apiserver/http.h"
#include "apiserver/http_parse.h"
#include "lib/list.h"

#define API_READ_BUF (64 * 1024)
#define API_LINGER_MS 2000 /* a closing connection drains the client's bytes this long */

struct orc_tls;
struct orc_tls_ctx;

/* A log line that may repeat is written at most every 10 s, saying how
 * many were left out. */
struct api_log_limit {
    uint64_t last_ms;
    unsigned skipped;
};

/* Connections open from one client address. */
struct api_client {
    struct api_client *next; /* hash chain */
    unsigned char addr[16];  /* IPv4 in the first 4 bytes, or IPv6 */
    unsigned conns;
};

enum api_deadline {
    DL_NONE,
    DL_HANDSHAKE, /* TLS handshake */
    DL_HEADER,    /* a request's head */
    DL_BODY,      /* a request's body */
    DL_IDLE,      /* keep-alive, waiting for a request */
    DL_DRAIN,     /* a response still being written: no progress in idle_timeout */
    DL_LINGER,    /* closing, after the last byte */
};

struct api_http {
    uv_loop_t *loop;
    uv_tcp_t listener;
    api_http_handler handler;
    api_http_authorize authorize;
    void *arg;
    struct api_http_limits limits;
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
    struct api_client **clients;
    size_t n_buckets, n_clients;
    struct api_log_limit log_total, log_client, log_accept, log_timeout, log_cut;
    unsigned closed_since_trim;
    /* TLS connections read ciphertext here (one read at a time on the loop
     * thread), and keep only plaintext of their own. */
    char rbuf[API_READ_BUF];
};

struct api_conn {
    uv_tcp_t tcp;
    struct api_http *http;
    struct orc_link link;
    struct api_http_parser parser;
    struct orc_buf in; /* bytes received and not yet parsed */
    size_t in_off;
    struct api_req *active; /* request owned by a handler */
    /* The response (or batch of chunks) being written. Plain HTTP hands it
     * to the write; with TLS it is encrypted into a new block and this
     * memory is reused. */
    struct orc_buf wbuf;
    struct orc_tls *tls; /* NULL: plain HTTP */
    struct api_client *client;
    char peer[48];
    /* Stream output not yet written: references to chunks. */
    struct api_chunk **q;
    size_t q_head, q_len, q_cap;
    size_t q_off;   /* bytes of the first chunk already written */
    size_t q_bytes; /* bytes queued and not yet written */
    size_t cut_bound; /* the bound a pending cut passed */
    struct orc_link dirty_link; /* in http->dirty, or alone */
    uint64_t dirty_since;       /* uv_hrtime() it went into http->dirty */
    enum api_deadline dl;
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
    bool reset;       /* close with a reset (api_http__conn_abort) */
};

/* http.c */
void api_http__conn_close(struct api_conn *c);
void api_http__conn_abort(struct api_conn *c); /* with a reset */
void api_http__conn_process(struct api_conn *c);
void api_http__read_on(struct api_conn *c, bool on);

/* http_out.c */
int api_http__send_raw(struct api_conn *c, char *data, size_t len, bool close_after);
int api_http__send_tls_out(struct api_conn *c, bool close_after);
int api_http__flush_wbuf(struct api_conn *c, bool close_after);
void api_http__queue_drop(struct api_conn *c);
int api_http__out_init(struct api_http *h);
void api_http__out_close(struct api_http *h, uv_close_cb cb);
/* Ends a stream now: farewell and last chunk, close after (a reset for a
 * whole_or_nothing stream), on_gone fires unless the handler is ending the
 * request itself (`ending`). */
void api_http__cut(struct api_conn *c, bool ending);

/* http_limits.c */
int api_http__limits_init(struct api_http *h);
void api_http__limits_close(struct api_http *h, uv_close_cb cb);
/* At accept: whether the connection may stay (else it was logged). */
bool api_http__admit(struct api_conn *c, const struct sockaddr_storage *peer);
void api_http__release(struct api_conn *c);
void api_http__deadline(struct api_conn *c, enum api_deadline dl);
void api_http__log_limited(struct api_http *h, struct api_log_limit *lim, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
