/* tunnel.h — a raw byte stream over TLS to a server that accepted an
 * Upgrade: the API server's relay of exec/attach (and later port-forward)
 * to the node agent. The caller writes the request head itself and then
 * relays bytes both ways without parsing them; the answer's head arrives
 * through on_data like everything after it. Loop thread only; callbacks
 * never fire after http_tunnel_close, nor when open failed. */
#ifndef ORC_CLIENT_TUNNEL_H
#define ORC_CLIENT_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct http_tunnel http_tunnel;

/* Output waiting to be written past which http_tunnel_write says so. */
#define HTTP_TUNNEL_HIGH (1u << 20)

struct http_tunnel_cbs {
    void (*on_data)(void *arg, const char *data, size_t len); /* valid during the call */
    /* The output waiting went below HTTP_TUNNEL_HIGH / 4 after a write said
     * it was high. May be NULL. */
    void (*on_drain)(void *arg);
    /* Once: the server closed (0), or the connection or TLS failed
     * (ORC_EUNAVAIL, ORC_ETLS, ORC_EIO). The caller then closes. */
    void (*on_end)(void *arg, int err);
};

struct http_tunnel_opts {
    const char *url;         /* https://IP:PORT (an IP literal: no lookup here) */
    const char *server_name; /* the name the certificate must carry; NULL: the IP */
    const char *ca_pem;      /* whom to trust; NULL: the system's store */
    bool insecure;           /* trust any certificate (orctl's flag) */
};

/* Connects, starts TLS and sends `head` (copied) once connected. */
int http_tunnel_open(uv_loop_t *loop, const struct http_tunnel_opts *o, const char *head, size_t head_len,
                     const struct http_tunnel_cbs *cbs, void *arg, http_tunnel **out);
/* Queues a copy: 0, 1 when over HTTP_TUNNEL_HIGH now waits (on_drain follows),
 * or ORC_ECANCELED when the tunnel has ended. */
int http_tunnel_write(http_tunnel *t, const char *data, size_t len);
/* Stops (or resumes) reading from the server: back-pressure. */
void http_tunnel_pause(http_tunnel *t, bool paused);
/* Closes at once (queued output is dropped); frees the tunnel later. */
void http_tunnel_close(http_tunnel *t);

#endif
