/* http.h — asynchronous HTTP/1.1 client on libuv + llhttp, used by every
 * component that talks to the API (orctl, agents, controllers, followers
 * forwarding to the leader). HTTPS (lib/tls) or plain HTTP over TCP;
 * keep-alive connections (each keeping its TLS session) are pooled per
 * client; responses may be read whole or streamed (watches).
 *
 * All calls happen on the client's loop thread; callbacks fire on it. A
 * callback is never called when the function that took it returned an error. */
#ifndef ORC_CLIENT_HTTP_H
#define ORC_CLIENT_HTTP_H

#include <stddef.h>
#include <uv.h>

typedef struct http_client http_client;
typedef struct http_call http_call;
struct orc_tls_ctx;

struct http_header {
    const char *name;
    const char *value;
};

struct http_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* "/api/v1/namespaces/default/pods?watch=1" */
    const char *content_type; /* NULL when no body */
    const void *body;         /* copied before return */
    size_t body_len;
    const struct http_header *headers; /* extra headers; copied */
    size_t n_headers;
    unsigned timeout_ms; /* whole request for http_request(); time to
                            response headers for http_stream(); 0 = none */
    const char *host;    /* Host header to send instead of the URL's (a proxy
                            keeping its client's); NULL: the URL's host:port */
};

struct http_response {
    int status;
    const struct http_header *headers; /* names lower-cased */
    size_t n_headers;
    const char *body; /* NUL-terminated; NULL for streams */
    size_t body_len;
};

/* Looks up a response header by lower-case name; NULL if absent. When a
 * header repeats (Warning), returns the first; see http_header_next. */
const char *http_header_get(const struct http_response *r, const char *name);

/* Iterates every value of a header that may repeat (Warning), in the order
 * the server sent them: set *iter = 0, then call until NULL.
 *     size_t it = 0;
 *     for (const char *w; (w = http_header_next(r, "warning", &it)); ) ...
 * The values belong to `r`. */
const char *http_header_next(const struct http_response *r, const char *name, size_t *iter);

/* base_url: "http://HOST:PORT" or "https://HOST:PORT" (copied; the port
 * defaults to 80 / 443). bearer_token: sent as "Authorization: Bearer T" on
 * every request, or NULL (copied; never logged). ORC_EINVAL for a URL that
 * is not one of those. Sets SIGPIPE to ignored when it is still at its
 * default, so a peer closing a socket yields EPIPE. Idle pooled connections
 * do not keep the loop alive (they are unref'd). An https:// client made
 * here trusts the system's CA store; see http_client_new_tls. */
int http_client_new(uv_loop_t *loop, const char *base_url, const char *bearer_token,
                    http_client **out);

/* Whom an https:// client trusts: at most one field set; none (or tls NULL)
 * means the system's CA store. Every mode but insecure_skip_verify checks
 * that the server's certificate names the URL's host (name or IP). Ignored
 * for http:// URLs. */
struct http_tls {
    const char *ca_pem;         /* PEM CA certificate(s) (copied) */
    const char *ca_fingerprint; /* SHA-256 hex of the CA certificate, which the
                                   server must send along: how a member joins
                                   a cluster knowing only its token */
    int insecure_skip_verify;   /* trust anything (orctl's flag of that name) */
    struct orc_tls_ctx *ctx;    /* a client context from lib/tls, shared by
                                   many clients (the client takes a reference) */
};

/* http_client_new with explicit trust. ORC_EINVAL also for an unreadable CA
 * or fingerprint, or more than one field set. */
int http_client_new_tls(uv_loop_t *loop, const char *base_url, const char *bearer_token,
                        const struct http_tls *tls, http_client **out);

/* The API servers of one cluster, for failover: base URLs as for
 * http_client_new, all with the client's scheme (and so its trust and
 * token). When a connection to the server in use cannot be made (nothing of
 * the call was sent), the client moves to the next one and sends the call
 * there, each server tried at most once per call; it then stays with the
 * one that answered. The server in use is kept when listed; n = 0 (or only
 * the server in use) turns failover off. 0, or ORC_EINVAL (a URL that
 * cannot be used: nothing changed), ORC_ENOMEM. */
int http_client_set_servers(http_client *c, const char *const *urls, size_t n);
/* Renews the certificate a client made with tls->ctx presents (that
 * context is changed, for every client sharing it): new connections
 * present cert_pem with key_pem; idle ones close now and busy ones once
 * their call ends, so none keeps the old identity. 0, ORC_EINVAL (no TLS
 * context, or an unusable pair: errmsg, 256 bytes, says why). */
int http_client_renew_cert(http_client *c, const char *cert_pem, const char *key_pem, char *errmsg);

/* The base URL calls go to now ("https://HOST:PORT"). Owned by the client,
 * valid until the next call into it. */
const char *http_client_server(const http_client *c);

/* Why the last call that failed with ORC_ETLS failed ("certificate verify
 * failed: IP address mismatch", ...); "" when none has. Owned by the client. */
const char *http_client_tls_error(const http_client *c);

/* Closes idle connections and cancels calls in flight (their callbacks fire
 * with ORC_ECANCELED, from the loop), then frees the client and calls cb
 * (may be NULL) once every handle is closed. May be called from inside any
 * of the client's callbacks. */
void http_client_close(http_client *c, void (*cb)(void *arg), void *arg);

/* err: 0 with a response of any status, or ORC_ETIMEDOUT, ORC_EUNAVAIL
 * (the request never reached the server: lookup or connect failed),
 * ORC_ETLS (the TLS handshake failed, so nothing was sent: the server's
 * certificate was refused, or it does not speak TLS; see
 * http_client_tls_error),
 * ORC_EIO (the connection was lost after the request was sent: the server
 * may have acted on it), ORC_EPROTO
 * (unparsable reply), ORC_ETOOBIG (body over 64 MiB), ORC_ECANCELED.
 * `resp` (NULL when err != 0) and everything it points to are valid only
 * during the call. http_request and http_stream return ORC_EINVAL for a
 * malformed request (CR/LF in a field, a path not starting with '/', or an
 * extra Host/Content-Length/Transfer-Encoding header) and ORC_ESHUTDOWN once
 * http_client_close was called. */
typedef void (*http_response_cb)(void *arg, int err, const struct http_response *resp);

/* One request, reply read whole (up to 64 MiB). Connections are kept alive
 * and reused, up to 64 per client; calls beyond wait in FIFO order. A
 * request on a pooled connection that the server had closed is retried once
 * on a new one when it is idempotent (GET, PUT, DELETE, HEAD). *out (may be
 * NULL) lets the caller cancel; it is valid until the callback fires. */
int http_request(http_client *c, const struct http_request *req, http_response_cb cb, void *arg,
                 http_call **out);

/* Streaming reply (watch): on_head once with status and headers (body NULL),
 * then on_data per chunk of body bytes as they arrive (chunked framing
 * removed; chunks are not aligned to lines; bytes valid during the call),
 * then on_end exactly once with 0 when the server ended the body, or an
 * ORC_E* error, or ORC_ECANCELED after http_call_cancel. Nothing is called
 * after on_end. Any callback may be NULL. A stream holds a connection for its
 * whole life, and that connection counts toward the client's cap of 64 (so
 * keep well under 64 concurrent watches per client); it returns to the pool
 * only when the body ended cleanly. */
struct http_stream_cbs {
    void (*on_head)(void *arg, const struct http_response *resp);
    void (*on_data)(void *arg, const char *data, size_t len);
    void (*on_end)(void *arg, int err);
};
int http_stream(http_client *c, const struct http_request *req, const struct http_stream_cbs *cbs,
                void *arg, http_call **out);

/* Cancels a call; its callback (or on_end) fires with ORC_ECANCELED from
 * the loop, never from inside this function. */
void http_call_cancel(http_call *call);

/* Blocking convenience for command-line tools: runs a private loop until
 * the response arrives. On success *out holds a copy (headers and body in
 * one block) the caller frees with http_response_free; on error *out is
 * zeroed. Any thread may call it; each call makes its own connection. */
int http_sync_request(const char *base_url, const char *bearer_token,
                      const struct http_request *req, struct http_response *out);
/* The same with explicit trust (see http_tls). errmsg (256 bytes, may be
 * NULL) gets the reason of an ORC_ETLS failure. */
int http_sync_request_tls(const char *base_url, const char *bearer_token,
                          const struct http_tls *tls, const struct http_request *req,
                          struct http_response *out, char *errmsg);
void http_response_free(struct http_response *r);

#endif
