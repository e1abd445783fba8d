/* proxy.h — the node's HTTP reverse proxy for Ingress: listens on the node
 * address (HTTP and HTTPS), routes each request by the current routing
 * table (ingress/route.h) to one of the backend's ready endpoints in round
 * robin, and streams the answer back.
 *
 * Transport is orc's own: lib/httpd (llhttp, keep-alive, timeouts and
 * per-client limits, TLS from lib/tls with the certificate chosen by SNI)
 * in front, client/http behind (one keep-alive pool per endpoint, up to 64
 * connections each). Requests carry X-Forwarded-For/-Proto/-Host/-Port and
 * X-Real-IP; Host is kept. Answers: 404 when no rule matches, 503 when the
 * Service or a ready endpoint is missing, 502 when the upstream fails (504
 * when it does not answer in time), each with a plain-text body saying so.
 *
 * Request bodies are read whole before forwarding (lib/httpd caps them at
 * ORC_HTTPD_MAX_BODY); responses stream through, bounded per client by the
 * stream queue (a client reading slower than the upstream writes is cut
 * off past it, never buffered without bound).
 *
 * Everything runs on one libuv loop (the agent's): the proxy does no
 * blocking work, so it shares the loop rather than taking a thread. */
#ifndef ORC_INGRESS_PROXY_H
#define ORC_INGRESS_PROXY_H

#include <stdint.h>
#include <uv.h>

#include "ingress/route.h"

#define INGRESS_HTTP_PORT 80
#define INGRESS_HTTPS_PORT 443

struct ingress_proxy_config {
    const char *address;   /* the node address to listen on ("10.0.0.5", "::1") */
    int http_port;         /* 0: no plain HTTP listener */
    int https_port;        /* 0: no HTTPS listener */
    /* The certificate for names no Ingress TLS Secret covers (PEM; both
     * NULL: a self-signed one is made). */
    const char *fallback_cert_pem, *fallback_key_pem;
    unsigned upstream_timeout_ms; /* to the upstream's response head; 0 = 60 s */
    unsigned idle_timeout_ms;     /* keep-alive client with no request; 0 = 60 s */
    unsigned header_timeout_ms;   /* a client's TLS handshake or request head; 0 = 10 s */
};

struct ingress_proxy;

/* Listens (each port that is not 0; one that cannot be opened is logged
 * and left off, an error only when none opens). Until a table is set
 * every request gets 404. errmsg: 256 bytes. */
int ingress_proxy_start(uv_loop_t *loop, const struct ingress_proxy_config *cfg,
                        struct ingress_proxy **out, char *errmsg);

/* Looks up a kubernetes.io/tls Secret's PEM pair (borrowed for the call);
 * false when it is missing or not of that type. */
typedef bool (*ingress_secret_fn)(void *arg, const char *ns, const char *name,
                                  const char **cert_pem, const char **key_pem);

/* Swaps in a new routing table (the proxy takes ownership and frees the
 * old one) and reloads the certificates of the TLS Secrets it names
 * through `secret` (a Secret that fails to load is logged and its hosts
 * get the fallback certificate). Upstream pools of endpoints the table no
 * longer has are closed. */
void ingress_proxy_set_table(struct ingress_proxy *p, struct ingress_table *t,
                             ingress_secret_fn secret, void *arg);

/* The ports listened on (-1 when off). */
int ingress_proxy_http_port(const struct ingress_proxy *p);
int ingress_proxy_https_port(const struct ingress_proxy *p);
uint64_t ingress_proxy_requests(const struct ingress_proxy *p);

/* Stops listening, drops every connection and upstream call, frees the
 * proxy and its table, then cb (may be NULL) from the loop. */
void ingress_proxy_stop(struct ingress_proxy *p, void (*cb)(void *arg), void *arg);

#endif
