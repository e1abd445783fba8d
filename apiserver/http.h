/* http.h — the API server's HTTP/1.1 transport (libuv + llhttp, over TLS
 * from lib/tls or plain): one request at a time per keep-alive connection,
 * bodies capped, whole or chunked (streamed) responses. Internal to
 * apiserver/. */
#ifndef ORC_API_HTTP_H
#define ORC_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lib/buf.h"

#define API_MAX_BODY (3u * 1024 * 1024)
#define API_MAX_HEADERS 48

struct api_conn;
struct api_req;

/* Called for every complete request. The handler owns `req` until it calls
 * one of the api_http_respond* functions (or ends a stream). */
typedef void (*api_http_handler)(void *arg, struct api_req *req);

struct api_header {
    char *name; /* lower-cased */
    char *value;
};

struct api_req {
    struct api_conn *conn; /* NULL once the client is gone */
    void *server;          /* the handler's arg */
    int method;            /* llhttp_method_t */
    char *target;          /* raw request target: path + "?" + query */
    struct api_header headers[API_MAX_HEADERS];
    int n_headers;
    struct orc_buf body;
    struct orc_buf warnings; /* "Warning: ..." header lines to send */
    bool streaming;          /* a chunked response has started */
    bool keep_alive;
    uint64_t start_ms;
    /* Handler state, released with the request (also when the client goes
     * away first). on_gone fires when the connection closes while the
     * request is still owned by a handler; the handler must stop any work
     * that would touch the connection, and still end the request later
     * (respond* on a gone request only frees it). */
    void *state; /* the dispatcher's (the parsed route) */
    void (*state_free)(void *state);
    void *op;    /* the handler's */
    void (*op_free)(void *op);
    void (*on_gone)(struct api_req *req);
};

struct api_http;

/* What the server presents over TLS (PEM text, read during the call). */
struct api_http_tls {
    const char *cert_pem; /* leaf first, then chain certificates to send along */
    const char *key_pem;
};

/* Listens on "HOST:PORT": HTTPS with `tls`, plain HTTP when tls is NULL.
 * Over TLS, bytes that are not a TLS handshake close the connection (a
 * plain HTTP request first gets a plain 400 saying so). errmsg: 256 bytes. */
int api_http_start(uv_loop_t *loop, const char *listen_addr, const struct api_http_tls *tls,
                   api_http_handler handler, void *arg, struct api_http **out, char *errmsg);
/* Stops accepting, closes every connection (gone hooks fire), then cb. */
void api_http_stop(struct api_http *h, void (*cb)(void *arg), void *arg);

const char *api_req_header(const struct api_req *r, const char *lower_name);
bool api_req_gone(const struct api_req *r);

/* Adds a "Warning: 299 - \"text\"" header to the reply. */
void api_req_warn(struct api_req *r, const char *text);

/* Whole response; ends the request (frees it). `extra_headers` are complete
 * "Name: value\r\n" lines or NULL. */
void api_http_respond(struct api_req *r, int status, const char *content_type, const char *body,
                      size_t len, const char *extra_headers);

/* Chunked streaming response. write returns ORC_ETOOBIG when the client is
 * so far behind that more than `max_queue` bytes wait to be sent; the caller
 * then ends the stream. end sends the last chunk and ends the request. */
int api_http_stream_begin(struct api_req *r, int status, const char *content_type);
int api_http_stream_write(struct api_req *r, const char *data, size_t len, size_t max_queue);
void api_http_stream_end(struct api_req *r);

/* Requests served and connections open, for /metrics-like introspection. */
uint64_t api_http_requests(const struct api_http *h);
/* The port listened on (what port 0 became); -1 if unknown. */
int api_http_port(const struct api_http *h);

#endif
