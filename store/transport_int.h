/* transport_int.h — what transport.c (the raft_uv_transport: listening,
 * dialling, refusing, closing) and transport_conn.c (one connection: TLS,
 * hello, relay to raft's socketpair end) share. Internal to store/. */
#ifndef ORC_STORE_TRANSPORT_INT_H
#define ORC_STORE_TRANSPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "lib/buf.h"
#include "lib/tls.h"
#include "store/store_int.h"
#include "store/transport.h"

#define TR_HANDSHAKE_MS 5000  /* TCP connect + TLS + hello/ack, or the connection goes */
#define TR_FLUSH_MS 2000      /* a closing connection's last bytes, at most */
#define TR_UNAUTH_MAX 64      /* inbound connections not yet authenticated, in all */
#define TR_UNAUTH_PER_IP 8    /* ... and from one address */
#define TR_HIGH_WATER (1u << 20) /* bytes queued towards one side before the other is paused */
#define TR_LOW_WATER (256u << 10)
#define TR_READ_BUF 65536

struct tr {
    struct raft_uv_transport *t;
    uv_loop_t *loop;
    raft_id id;
    char address[STORE_HELLO_ADDR_MAX + 1];
    struct orc_tls_ctx *server_ctx, *client_ctx;
    uv_tcp_t listener;
    bool listening;
    raft_uv_accept_cb accept_cb;
    bool (*gone)(void *arg, uint64_t id); /* store__transport_set_members */
    void (*told)(void *arg, uint64_t by);
    void *members_arg;
    struct orc_link conns; /* every struct tconn not yet freed */
    unsigned n_unauth;
    bool closing;
    raft_uv_transport_close_cb close_cb;
    /* refusals are logged at most TR_LOG_BURST per TR_LOG_WINDOW_MS */
    uint64_t log_window;
    unsigned log_n, log_dropped;
    char rbuf[TR_READ_BUF]; /* every read lands here and is consumed at once */
    struct orc_buf plain;   /* what one read decrypts to, likewise */
};

enum tconn_state { TC_CONNECTING, TC_HANDSHAKE, TC_RELAY, TC_FLUSHING, TC_CLOSING };

struct tconn {
    struct orc_link link; /* in tr.conns */
    struct tr *tr;
    bool inbound;
    bool unauth_counted;
    enum tconn_state state;
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    uv_timer_t timer;
    uv_pipe_t pipe;      /* our end of the socketpair, once authenticated */
    bool pipe_open;
    struct orc_tls *tls;
    struct orc_buf plain; /* decrypted bytes of the hello/ack phase */
    uint64_t peer_id;     /* the id dialled, or the one in the peer's certificate */
    bool hello_sent;      /* outbound: our hello went out */
    char peer_name[STORE_HELLO_ADDR_MAX + 1]; /* "IP:PORT" (accepted) or the address dialled */
    struct raft_uv_connect *req; /* outbound, until raft has been told */
    raft_uv_connect_cb cb;
    int status;           /* what raft's connect callback gets if it closes first */
    size_t tcp_queued, pipe_queued; /* bytes being written to each side */
    bool tcp_paused, pipe_paused;   /* reads stopped for back-pressure */
    int handles;          /* open libuv handles; the conn is freed at 0 */
};

/* ---- transport.c ---- */

/* Logs a refused or failed connection (rate-limited), naming the peer. */
void tr__refused(struct tconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A connection was freed: the transport may finish closing. */
void tr__maybe_closed(struct tr *tr);

/* ---- transport_conn.c ---- */

/* Accepts one pending connection of the listener (refusing it at once
 * when over the unauthenticated caps). */
void tconn__accept(struct tr *tr);
/* Dials a member; the result reaches cb (asynchronously). */
int tconn__connect(struct tr *tr, struct raft_uv_connect *req, raft_id id, const char *address,
                   raft_uv_connect_cb cb);
/* Closes the connection (a pending connect gets `status`); idempotent. */
void tconn__close(struct tconn *c, int status);

#endif
