/* http_int.h — internals shared by the HTTP client's files: http.c (client,
 * pool, calls), http_conn.c (one TCP connection, its TLS session and its
 * response parser), http_sync.c. Not a public header: nothing outside
 * client/ includes it. */
#ifndef ORC_CLIENT_HTTP_INT_H
#define ORC_CLIENT_HTTP_INT_H

#include <llhttp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "client/http.h"
#include "lib/buf.h"
#include "lib/list.h"
#include "lib/tls.h"

#define HTTP_MAX_CONNS 64                /* per client; calls beyond wait in a queue */
#define HTTP_MAX_BODY (64u << 20)        /* whole replies; streams have no limit */
#define HTTP_MAX_HEADER_BYTES (256u << 10)
#define HTTP_MAX_HEADERS 512
#define HTTP_READ_BUF (64u << 10)
#define HTTP_IDLE_TIMEOUT_MS 60000       /* idle pooled connections older than this close */
#define HTTP_SWEEP_MS 15000
#define HTTP_KEEP_BUF (1u << 20)         /* larger parse buffers are not kept for reuse */

enum http_call_state {
    CALL_QUEUED,   /* in c->queue, waiting for a connection */
    CALL_ACTIVE,   /* bound to call->conn (connecting, writing or reading) */
    CALL_DEFERRED, /* result decided; the callback fires from call->timer */
    CALL_DONE,     /* callback fired; memory goes when the timer handle closes */
};

struct http_call {
    http_client *c;
    struct orc_link link; /* c->queue while QUEUED */
    struct http_conn *conn;
    uv_timer_t timer; /* the timeout, then the deferred completion */
    enum http_call_state state;
    int deferred_err;
    unsigned idempotent : 1, retried : 1, fresh : 1, stream : 1, head : 1;
    unsigned hops; /* servers tried after the first could not be reached */
    http_response_cb cb;
    struct http_stream_cbs cbs;
    void *arg;
    size_t req_len;
    char req[]; /* request line, headers and body: one write, kept for a retry */
};

enum http_conn_state { CONN_RESOLVING, CONN_CONNECTING, CONN_BUSY, CONN_IDLE, CONN_CLOSING };

struct http_conn {
    http_client *c;
    struct orc_link all_link;  /* c->conns until closing */
    struct orc_link idle_link; /* c->idle while IDLE */
    enum http_conn_state state;
    uv_tcp_t tcp;
    uv_getaddrinfo_t gai;
    uv_connect_t connect_req;
    uv_write_t write_req; /* plain HTTP: the request, written from call->req */
    struct orc_tls *tls;  /* https: this connection's session, kept while pooled */
    llhttp_t parser;
    http_call *call;
    char *verify_host; /* the host dialled, which its certificate must name */
    unsigned server_gen; /* c->server_gen when dialled */
    unsigned tls_gen;    /* c->tls_gen when dialled: its session's identity */
    uint64_t idle_since;
    int refs;   /* the tcp handle plus a pending lookup; freed at 0 */
    int cb_err; /* error decided inside a parser callback */
    int writing; /* writes in flight (TLS may have a few: hello, then the request) */
    unsigned gai_pending : 1, reused : 1, got_bytes : 1, msg_done : 1,
        keep_alive : 1, skip_msg : 1, in_field : 1, head_done : 1;
    /* The reply being parsed. Buffers stay with the connection so that a
     * keep-alive connection parses reply after reply without allocating. */
    int status;
    struct orc_buf hdr; /* "name\0value\0" pairs */
    size_t field_off, value_off;
    size_t *hdr_off; /* name and value offsets into hdr, two per header */
    size_t n_hdr, cap_off;
    struct http_header *hdrs;
    size_t cap_hdrs;
    struct orc_buf body;
};

struct http_client {
    uv_loop_t *loop;
    char *host; /* as written in the URL (brackets kept for IPv6) */
    char *lookup_host; /* for getaddrinfo */
    char port[8];
    struct sockaddr_storage addr; /* when the host is a literal address */
    int literal;
    char *prefix; /* "Host: ...\r\nAuthorization: ...\r\n...": holds the token */
    size_t prefix_len;
    struct orc_tls_ctx *tls; /* https: whom to trust; NULL for http */
    char **servers;     /* http_client_set_servers: base URLs, the one in use first */
    size_t n_servers;
    size_t server;      /* index of the one in use */
    unsigned server_gen; /* bumped at each move to another server */
    unsigned tls_gen;    /* bumped at each http_client_renew_cert */
    char url[300];      /* http_client_server */
    char tls_err[ORC_TLS_ERRLEN];
    struct orc_buf plain; /* decrypted bytes of the read being parsed */
    struct orc_link queue, conns, idle;
    int n_conns; /* open or opening connections: counts toward the cap */
    int n_live;  /* calls and connections not yet freed, plus the sweep timer */
    int dispatching;
    int closing;
    uv_timer_t sweep;
    void (*close_cb)(void *arg);
    void *close_arg;
    char rbuf[HTTP_READ_BUF]; /* every read lands here and is parsed at once */
};

/* http_conn.c */
int http__conn_open(http_client *c, http_call *call);
int http__conn_start(struct http_conn *conn, http_call *call);
void http__conn_close(struct http_conn *conn);

/* http.c */
void http__dispatch(http_client *c);
void http__call_finish(http_call *call, int err, const struct http_response *resp);
void http__call_failed(http_call *call, int err, int retryable);
/* The call's connection could not be made (nothing was sent): on to the
 * next server when there is one it has not tried (moving the client there
 * if no other call has since), else it fails ORC_EUNAVAIL. */
void http__call_unreachable(http_call *call, unsigned server_gen);
void http__conn_idle(struct http_conn *conn);
void http__live_put(http_client *c);

#endif
