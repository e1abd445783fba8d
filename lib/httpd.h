/* httpd.h — the HTTP/1.1 server transport (libuv + llhttp, over TLS from
 * lib/tls or plain) below both the API server and the agent's logs/exec
 * port: one request at a time per keep-alive connection, requests
 * authorized on their headers before any body is read, bodies capped, whole
 * or chunked (streamed) responses, and the limits that keep one client from
 * exhausting the server: connections in total and per client address,
 * header, handshake and idle timeouts, bounded stream output (per stream and
 * for all streams together). Prefix orc_httpd_. */
#ifndef ORC_HTTPD_H
#define ORC_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/buf.h"

struct orc_tls_ctx;

#define ORC_HTTPD_MAX_BODY (3u * 1024 * 1024)
#define ORC_HTTPD_MAX_HEADERS 48
/* A streaming handler with more to send waits until its queued output is
 * below this (see on_drain). */
#define ORC_HTTPD_STREAM_LOW_WATER (64u * 1024)

struct orc_httpd_conn;
struct orc_httpd_req;

/* Called for every complete request. The handler owns `req` until it calls
 * one of the orc_httpd_respond* functions (or ends a stream). */
typedef void (*orc_httpd_handler)(void *arg, struct orc_httpd_req *req);

/* Called when a request's headers are complete, before its body (req->conn
 * set for the call): whether
 * the request may go on (a valid token, or a path that needs none). A
 * refused request with a body reaches the handler at once, with
 * authorized = false and no body, and its connection closes after the
 * answer, so no byte of the body is ever buffered. */
typedef bool (*orc_httpd_authorize)(void *arg, struct orc_httpd_req *req);

struct orc_httpd_header {
    char *name; /* lower-cased */
    char *value;
};

struct orc_httpd_req {
    struct orc_httpd_conn *conn; /* NULL once the client is gone */
    void *server;          /* the handler's arg */
    int method;            /* llhttp_method_t */
    char *target;          /* raw request target: path + "?" + query */
    struct orc_httpd_header headers[ORC_HTTPD_MAX_HEADERS];
    int n_headers;
    struct orc_buf body;
    struct orc_buf warnings; /* "Warning: ..." header lines to send */
    bool authorized;         /* what the authorize hook said (true without one) */
    /* A request the server makes of itself (no connection, as each DELETE
     * of a deletecollection): a response's body is appended here, if set,
     * before the request is freed. Not owned. */
    struct orc_buf *capture;
    /* Who made the request, as the authorize hook found it (the server's
     * type; NULL when nobody was found). Owned by the request: user_free
     * releases it with the request. */
    void *user;
    void (*user_free)(void *user);
    bool streaming;          /* a chunked response has started */
    bool keep_alive;
    uint64_t start_ms;
    int64_t received_us;     /* wall clock (Unix microseconds) of its first byte */
    int status;              /* the status answered (101 for a tunnel); 0 before */
    /* An observer of the request's life (the audit log): on_started fires
     * when a stream or tunnel begins, on_done first thing when the request
     * is freed, however it ended (status 0: no answer was sent), with the
     * request whole; on_done owns and releases `observer`. */
    void *observer;
    void (*on_started)(struct orc_httpd_req *req);
    void (*on_done)(struct orc_httpd_req *req);
    /* The handler's own end hook (metrics), after on_done, with the
     * request and its state whole. */
    void (*on_end)(struct orc_httpd_req *req);
    /* Handler state, released with the request (also when the client goes
     * away first). on_gone fires when the connection closes while the
     * request is still owned by a handler; the handler must stop any work
     * that would touch the connection, and still end the request later
     * (respond* on a gone request only frees it). */
    void *state; /* the dispatcher's (the parsed route) */
    void (*state_free)(void *state);
    void *op;    /* the handler's */
    void (*op_free)(void *op);
    void (*on_gone)(struct orc_httpd_req *req);
    /* Streams: set by a handler that has more to send than it queued; called
     * from the loop (never inside a write call) once the stream's queued
     * output is below ORC_HTTPD_STREAM_LOW_WATER. Clear it when done. */
    void (*on_drain)(struct orc_httpd_req *req);
    /* Streams: the last chunk sent when the server ends a stream whose
     * client does not keep up (a watch's ERROR event); static, not owned. */
    const char *farewell;
    size_t farewell_len;
    /* Streams whose end means they are whole (a download): when the server
     * ends one early (its bounds, stopping), the connection is reset, with
     * no farewell and no last chunk, so that no client takes it for
     * complete. Set before the stream begins. */
    bool whole_or_nothing;
    /* A proxying handler's reply: the server adds no Cache-Control and no
     * Content-Type of its own (content_type NULL: none); the upstream's
     * headers go in with orc_httpd_req_add_header. */
    bool proxy;
    /* A tunnel (orc_httpd_tunnel_begin): the connection's bytes both ways
     * belong to the handler. */
    bool tunnel;
    void (*on_input)(struct orc_httpd_req *req, const char *data, size_t len);
};

struct orc_httpd;

/* What the server presents over TLS (PEM text, read during the call). */
struct orc_httpd_tls {
    const char *cert_pem; /* leaf first, then chain certificates to send along */
    const char *key_pem;
    struct orc_tls_ctx *ctx; /* or a server context made by the caller (one with an
                                SNI choice, lib/tls.h); the server takes a reference */
    const char *client_ca_pem; /* with cert_pem: ask clients for a certificate, whose
                                  identity orc_httpd_req_tls_client checks against
                                  this CA (NULL: ask for none) */
};

/* Limits; 0 takes the default. */
struct orc_httpd_limits {
    unsigned max_conns;            /* open connections; default from RLIMIT_NOFILE */
    unsigned max_conns_per_client; /* from one address; default max_conns / 8 (at least 64) */
    unsigned header_timeout_ms; /* TLS handshake, a request's head from its first byte, and a
                                   stall of its body; 10 s */
    unsigned idle_timeout_ms;   /* keep-alive connection with no request; 90 s */
    unsigned body_timeout_ms;   /* a request's body in all, after its head; 60 s */
    size_t stream_queue;           /* output waiting on one stream; 4 MiB */
    size_t streams_memory;         /* output waiting on all streams together; 256 MiB */
    unsigned tunnel_idle_ms;       /* a tunnel with no byte either way; 4 h (the kubelet's
                                      streaming connection idle timeout) */
};

/* The defaults, for a server whose process may open `nofile` descriptors. */
void orc_httpd_limits_default(struct orc_httpd_limits *l, unsigned long nofile);

struct orc_httpd_config {
    const char *listen;            /* "HOST:PORT" */
    const struct orc_httpd_tls *tls; /* NULL: plain HTTP */
    orc_httpd_handler handler;
    orc_httpd_authorize authorize; /* NULL: every request is authorized */
    void *arg;                    /* for handler and authorize */
    struct orc_httpd_limits limits;
    const char *log_module;       /* names the server in log lines */
};

/* Listens: HTTPS with cfg->tls, plain HTTP without. Over TLS, bytes that
 * are not a TLS handshake close the connection (a plain HTTP request first
 * gets a plain 400 saying so). errmsg: 256 bytes. */
int orc_httpd_start(uv_loop_t *loop, const struct orc_httpd_config *cfg, struct orc_httpd **out,
                   char *errmsg);
/* Stops accepting, closes every connection (gone hooks fire), then cb. */
void orc_httpd_stop(struct orc_httpd *h, void (*cb)(void *arg), void *arg);

const char *orc_httpd_req_header(const struct orc_httpd_req *r, const char *lower_name);
/* Whether the request carries "Authorization: Bearer <token>" (the scheme
 * in any case), compared in constant time. */
bool orc_httpd_req_bearer_is(const struct orc_httpd_req *r, const char *token);
bool orc_httpd_req_gone(const struct orc_httpd_req *r);
/* The client's address ("127.0.0.1" or "::1"), "" once gone. */
const char *orc_httpd_req_peer(const struct orc_httpd_req *r);

/* The request's TLS client certificate (lib/tls.h orc_tls_peer_client):
 * 0 with its verified identity (owned by the connection, valid while the
 * request is), ORC_ENOENT when there is none (plain HTTP, a server that does
 * not ask, a gone client), ORC_EPERM/ORC_EINVAL when it does not verify,
 * *why saying why. */
struct orc_tls_identity;
int orc_httpd_req_tls_client(const struct orc_httpd_req *r, const struct orc_tls_identity **out,
                             const char **why);

/* Adds a "Warning: 299 - \"text\"" header to the reply. */
void orc_httpd_req_warn(struct orc_httpd_req *r, const char *text);

/* Adds a "Name: value" line to the reply (any header but the framing ones,
 * which the server writes). ORC_EINVAL for CR/LF in either. */
int orc_httpd_req_add_header(struct orc_httpd_req *r, const char *name, size_t name_len,
                             const char *value, size_t value_len);

/* Whole response; ends the request (frees it). `extra_headers` are complete
 * "Name: value\r\n" lines or NULL. */
void orc_httpd_respond(struct orc_httpd_req *r, int status, const char *content_type, const char *body,
                      size_t len, const char *extra_headers);

/* ---- chunked streaming responses ----
 * Writes queue output; it goes out once per loop iteration, coalesced into
 * one TLS record batch and one socket write per stream, and only as fast as
 * the client reads. A stream whose queued output passes its bound (the
 * max_queue of a write, or the server's stream_queue) is ended by the
 * server: the write returns ORC_ETOOBIG, the farewell chunk and the last
 * chunk are sent (a whole_or_nothing stream is reset instead), the
 * connection closes, and the handler must end the request (its on_gone
 * fires, or it calls orc_httpd_stream_end itself). When all streams together
 * hold more than streams_memory, the largest are ended the same way. */
int orc_httpd_stream_begin(struct orc_httpd_req *r, int status, const char *content_type);
/* Queues a copy of data as one chunk. max_queue 0: the server's bound.
 * ORC_ETOOBIG (ended, as above) or ORC_ECANCELED (gone). */
int orc_httpd_stream_write(struct orc_httpd_req *r, const char *data, size_t len, size_t max_queue);
/* Output waiting on the stream (queued and unwritten bytes). */
size_t orc_httpd_stream_pending(const struct orc_httpd_req *r);
/* Sends the last chunk and ends the request. */
void orc_httpd_stream_end(struct orc_httpd_req *r);
/* Ends the request without the last chunk: output still queued is dropped
 * and the connection reset, so that every client sees the response
 * incomplete (a download cut short). Frees a request already gone. */
void orc_httpd_stream_abort(struct orc_httpd_req *r);

/* A chunk with its framing, encoded once and queued on many streams (a watch
 * event for every watcher): reference counted, loop thread only. */
struct orc_httpd_chunk;
struct orc_httpd_chunk *orc_httpd_chunk_new(const char *data, size_t len); /* one reference; NULL: no memory */
void orc_httpd_chunk_unref(struct orc_httpd_chunk *ch);
size_t orc_httpd_chunk_len(const struct orc_httpd_chunk *ch); /* with framing */
/* As orc_httpd_stream_write, queueing a reference to ch. */
int orc_httpd_stream_chunk(struct orc_httpd_req *r, struct orc_httpd_chunk *ch, size_t max_queue);

/* ---- upgraded connections (tunnels) ----
 * After a request asking for an Upgrade (a WebSocket), the handler sends
 * `head` (its 101 answer, or the answer an upstream gave: bytes sent as
 * they are) and from then on owns the connection's bytes both ways: input
 * reaches on_input as it arrives (plaintext, over TLS too), output goes with
 * orc_httpd_tunnel_write under the stream bounds above (a tunnel is a
 * whole_or_nothing stream: one over its bound is reset and its on_gone
 * fires; on_drain says when output went below the low water). The
 * connection closes when the handler ends the tunnel or the client goes
 * (on_gone), or after limits.tunnel_idle_ms without a byte either way.
 * on_input may be called before tunnel_begin returns (bytes the client sent
 * right after its request). ORC_ECANCELED when the client is gone. */
int orc_httpd_tunnel_begin(struct orc_httpd_req *r, const char *head, size_t head_len,
                           void (*on_input)(struct orc_httpd_req *r, const char *data, size_t len));
/* Queues a copy of data: 0, ORC_ETOOBIG (the tunnel is being reset) or
 * ORC_ECANCELED (gone). */
int orc_httpd_tunnel_write(struct orc_httpd_req *r, const char *data, size_t len);
/* Stops (or resumes) reading the client: back-pressure when what its input
 * feeds is slow. */
void orc_httpd_tunnel_pause(struct orc_httpd_req *r, bool paused);
/* Sends what is queued, closes the connection and ends the request. */
void orc_httpd_tunnel_end(struct orc_httpd_req *r);

/* Requests served, for /metrics-like introspection. */
uint64_t orc_httpd_requests(const struct orc_httpd *h);
/* The port listened on (what port 0 became); -1 if unknown. */
int orc_httpd_port(const struct orc_httpd *h);

#endif
