/* transport_conn.c — one Raft connection between members: TCP, then TLS
 * with both certificates checked, then orc's hello (transport.h), and only
 * then a socketpair whose other end raft reads and writes as its stream.
 * Plaintext is relayed both ways with back-pressure: reading one side
 * stops while more than TR_HIGH_WATER bytes wait to be written to the
 * other. A connection that does not authenticate within TR_HANDSHAKE_MS is
 * closed; until then it holds a TLS session and a hello of at most
 * STORE_HELLO_MAX bytes. Closing either side closes the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/netaddr.h"
#include "lib/orc.h"
#include "store/transport_int.h"

/* A write libuv could not finish at once: the rest of the bytes, copied. */
struct twrite {
    uv_write_t req;
    struct tconn *c;
    size_t len;
    char data[];
};

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- life and death ---- */

static void conn_free(struct tconn *c)
{
    struct tr *tr = c->tr;
    struct raft_uv_connect *req = c->req;

    orc_list_remove(&c->link);
    orc_tls_free(c->tls);
    orc_buf_free(&c->plain);
    if (req) /* raft's client is closing once the transport is: it expects CANCELED then */
        c->cb(req, NULL, tr->closing ? RAFT_CANCELED : c->status);
    free(c);
    tr__maybe_closed(tr);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct tconn *c = h->data;

    if (--c->handles == 0) conn_free(c);
}

void tconn__close(struct tconn *c, int status)
{
    if (c->state == TC_CLOSING) return;
    if (c->unauth_counted) c->tr->n_unauth--;
    c->unauth_counted = false;
    c->state = TC_CLOSING;
    c->status = status ? status : RAFT_NOCONNECTION;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (c->pipe_open) uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
}

static struct tconn *conn_new(struct tr *tr, bool inbound)
{
    struct tconn *c = calloc(1, sizeof *c);

    if (c == NULL) return NULL;
    c->tr = tr;
    c->inbound = inbound;
    c->status = RAFT_NOCONNECTION;
    uv_tcp_init(tr->loop, &c->tcp);
    uv_timer_init(tr->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    orc_list_push(&tr->conns, &c->link);
    return c;
}

/* ---- writing ---- */

static void written(uv_write_t *req, int status, bool to_pipe)
{
    struct twrite *w = req->data;
    struct tconn *c = w->c;

    *(to_pipe ? &c->pipe_queued : &c->tcp_queued) -= w->len;
    free(w);
    if (c->state == TC_CLOSING) return;
    if (status != 0) {
        tconn__close(c, RAFT_NOCONNECTION);
    } else if (c->state == TC_FLUSHING) {
        if (c->tcp_queued == 0) tconn__close(c, c->status);
    } else if (to_pipe && c->tcp_paused && c->pipe_queued <= TR_LOW_WATER) {
        c->tcp_paused = false;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_tcp_read);
    } else if (!to_pipe && c->pipe_paused && c->tcp_queued <= TR_LOW_WATER) {
        c->pipe_paused = false;
        uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_pipe_read);
    }
}

static void on_tcp_written(uv_write_t *req, int status) { written(req, status, false); }
static void on_pipe_written(uv_write_t *req, int status) { written(req, status, true); }

/* Writes len bytes to the TCP side or the pipe: at once when the socket
 * takes them (nothing queued before), the rest copied and queued. The
 * caller keeps data. */
static int send_bytes(struct tconn *c, const char *data, size_t len, bool to_pipe)
{
    uv_stream_t *s = to_pipe ? (uv_stream_t *)&c->pipe : (uv_stream_t *)&c->tcp;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(s, &b, 1);
    struct twrite *w;

    if (n == (int)len) return 0;
    if (n < 0 && n != UV_EAGAIN) return ORC_EIO;
    if (n < 0) n = 0;
    len -= (size_t)n;
    if ((w = malloc(sizeof *w + len)) == NULL) return ORC_ENOMEM;
    memcpy(w->data, data + n, len);
    w->c = c;
    w->len = len;
    w->req.data = w;
    b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, s, &b, 1, to_pipe ? on_pipe_written : on_tcp_written) != 0) {
        free(w);
        return ORC_EIO;
    }
    *(to_pipe ? &c->pipe_queued : &c->tcp_queued) += len;
    return 0;
}

/* Sends what TLS has for the peer; pauses raft's side when the peer is slow. */
static int flush(struct tconn *c)
{
    size_t len;
    const char *data = orc_tls_peek(c->tls, &len);
    int rv;

    if (data == NULL) return 0;
    rv = send_bytes(c, data, len, false);
    orc_tls_drop(c->tls, len);
    if (rv != 0) return rv;
    if (c->state == TC_RELAY && !c->pipe_paused && c->tcp_queued > TR_HIGH_WATER) {
        c->pipe_paused = true;
        uv_read_stop((uv_stream_t *)&c->pipe);
    }
    return 0;
}

static void on_timeout(uv_timer_t *t);

/* Ends the connection after its last TLS bytes (an alert, close_notify)
 * have gone out, or TR_FLUSH_MS at most. */
static void finish(struct tconn *c, int status)
{
    if (c->state == TC_CLOSING || c->state == TC_FLUSHING) return;
    c->status = status ? status : RAFT_NOCONNECTION;
    c->state = TC_FLUSHING;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (c->pipe_open) uv_read_stop((uv_stream_t *)&c->pipe);
    if (c->tls == NULL || flush(c) != 0 || c->tcp_queued == 0) {
        tconn__close(c, c->status);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, TR_FLUSH_MS, 0);
}

static void on_timeout(uv_timer_t *t)
{
    struct tconn *c = t->data;

    if (c->state == TC_FLUSHING) {
        tconn__close(c, c->status);
        return;
    }
    if (c->state != TC_CONNECTING) /* an unreachable member is raft's to log */
        tr__refused(c, "not authenticated within %u s", TR_HANDSHAKE_MS / 1000);
    tconn__close(c, RAFT_NOCONNECTION);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct tconn *c = h->data;

    (void)suggested;
    *buf = uv_buf_init(c->tr->rbuf, sizeof c->tr->rbuf);
}

/* ---- relay ---- */

/* Decrypted bytes from the peer go to raft. */
static void to_raft(struct tconn *c, const struct orc_buf *plain)
{
    if (plain->len == 0) return;
    if (send_bytes(c, plain->data, plain->len, true) != 0) {
        tconn__close(c, RAFT_NOCONNECTION);
        return;
    }
    if (!c->tcp_paused && c->pipe_queued > TR_HIGH_WATER) {
        c->tcp_paused = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

/* Raft wrote: encrypt it for the peer. Raft closing its end closes ours. */
static void on_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tconn *c = s->data;

    if (c->state != TC_RELAY || nread == 0) return;
    if (nread < 0) {
        orc_tls_shutdown(c->tls);
        finish(c, RAFT_NOCONNECTION);
        return;
    }
    if (orc_tls_send(c->tls, buf->base, (size_t)nread) != 0 || flush(c) != 0)
        tconn__close(c, RAFT_NOCONNECTION);
}

/* The peer is who it says: a socketpair from here to raft. Returns raft's
 * end (raft_malloc'd, as raft frees it), or NULL after closing c. */
static uv_stream_t *start_relay(struct tconn *c, size_t used)
{
    uv_os_sock_t fds[2];
    uv_pipe_t *raft_end;
    struct orc_buf rest = ORC_BUF_INIT;

    if (uv_socketpair(SOCK_STREAM, 0, fds, 0, 0) != 0) goto fail;
    uv_pipe_init(c->tr->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->pipe_open = true;
    c->handles++;
    if (uv_pipe_open(&c->pipe, fds[0]) != 0) {
        close(fds[0]);
        close(fds[1]);
        goto fail;
    }
    if ((raft_end = raft_malloc(sizeof *raft_end)) == NULL) {
        close(fds[1]);
        goto fail;
    }
    uv_pipe_init(c->tr->loop, raft_end, 0);
    if (uv_pipe_open(raft_end, fds[1]) != 0) {
        close(fds[1]);
        uv_close((uv_handle_t *)raft_end, (uv_close_cb)raft_free);
        goto fail;
    }
    uv_timer_stop(&c->timer);
    if (c->unauth_counted) c->tr->n_unauth--;
    c->unauth_counted = false;
    c->state = TC_RELAY;
    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_pipe_read);
    orc_buf_append(&rest, c->plain.data + used, c->plain.len - used);
    orc_buf_free(&c->plain);
    to_raft(c, &rest);
    orc_buf_free(&rest);
    return (uv_stream_t *)raft_end;
fail:
    tconn__close(c, RAFT_NOCONNECTION);
    return NULL;
}

/* ---- authentication ---- */

/* The member id of the peer's certificate (0 when not a member's); `sub`
 * says who it is otherwise. */
static uint64_t peer_member(struct tconn *c, struct orc_tls_subject *sub)
{
    if (orc_tls_peer_subject(c->tls, sub) != 0) {
        snprintf(sub->cn, sizeof sub->cn, "(unreadable)");
        return 0;
    }
    return store__member_id(sub->org, sub->n_org, sub->cn);
}

static void refuse(struct tconn *c, const struct orc_tls_subject *sub, const char *why)
{
    if (sub) tr__refused(c, "%s (certificate O=%s, CN=%s)", why, sub->org, sub->cn);
    else tr__refused(c, "%s", why);
    finish(c, RAFT_NOCONNECTION);
}

/* Acceptor: a member certificate, then a hello claiming that same member. */
static void advance_inbound(struct tconn *c)
{
    struct orc_tls_subject sub;
    struct store_hello h;
    uv_stream_t *stream;
    size_t used;
    char why[128];

    if (c->peer_id == 0 && (c->peer_id = peer_member(c, &sub)) == 0) {
        refuse(c, &sub, "not a member certificate");
        return;
    }
    if (store__hello_parse(c->plain.data, c->plain.len, &h, &used) != 0) {
        refuse(c, NULL, "not an orc Raft hello");
        return;
    }
    if (used == 0) return; /* more to come; the hello parse bounds plain */
    if (h.id != c->peer_id) {
        snprintf(why, sizeof why, "claims member %llu with the certificate of member %llu",
                 (unsigned long long)h.id, (unsigned long long)c->peer_id);
        refuse(c, NULL, why);
        return;
    }
    if (c->tr->gone && c->tr->gone(c->tr->members_arg, h.id)) {
        /* It may not know it was removed: tell it, so it stops serving. */
        if (orc_tls_send(c->tls, STORE_HELLO_GONE, 8) == 0) flush(c);
        refuse(c, NULL, "it is no longer a member of the cluster (told it so)");
        return;
    }
    if (orc_tls_send(c->tls, STORE_HELLO_ACK, 8) != 0 || flush(c) != 0) {
        tconn__close(c, RAFT_NOCONNECTION);
        return;
    }
    if ((stream = start_relay(c, used)) != NULL) c->tr->accept_cb(c->tr->t, h.id, h.address, stream);
}

/* Connector: the acceptor's certificate names the member dialled, then our
 * hello, then its acknowledgement. */
static void advance_outbound(struct tconn *c)
{
    struct orc_tls_subject sub;
    unsigned char hello[STORE_HELLO_MAX];
    struct raft_uv_connect *req;
    uv_stream_t *stream;
    size_t n;

    if (!c->hello_sent) {
        if (peer_member(c, &sub) != c->peer_id) {
            refuse(c, &sub, "its certificate is not the one of the member dialled");
            return;
        }
        n = store__hello_encode(c->tr->id, c->tr->address, hello);
        if (n == 0 || orc_tls_send(c->tls, hello, n) != 0 || flush(c) != 0) {
            tconn__close(c, RAFT_NOCONNECTION);
            return;
        }
        c->hello_sent = true;
    }
    if (c->plain.len < 8) return;
    if (memcmp(c->plain.data, STORE_HELLO_GONE, 8) == 0) {
        if (c->tr->told) c->tr->told(c->tr->members_arg, c->peer_id);
        refuse(c, NULL, "it says this member is no longer in the cluster");
        return;
    }
    if (memcmp(c->plain.data, STORE_HELLO_ACK, 8) != 0) {
        refuse(c, NULL, "it answered the hello with something else");
        return;
    }
    if ((stream = start_relay(c, 8)) == NULL) return;
    req = c->req;
    c->req = NULL;
    c->cb(req, stream, 0);
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tconn *c = s->data;
    struct orc_buf *plain = &c->tr->plain; /* emptied before this returns */
    bool authenticating = c->state == TC_HANDSHAKE;

    if (nread == 0 || c->state == TC_CLOSING || c->state == TC_FLUSHING) return;
    if (nread < 0) {
        if (authenticating && c->hello_sent) /* its side says why */
            tr__refused(c, "the member closed the connection instead of acknowledging our hello");
        tconn__close(c, RAFT_NOCONNECTION);
        return;
    }
    orc_buf_reset(plain);
    if (orc_tls_recv(c->tls, buf->base, (size_t)nread, plain) != 0) {
        refuse(c, NULL, orc_tls_errmsg(c->tls));
    } else if (flush(c) != 0) {
        tconn__close(c, RAFT_NOCONNECTION);
    } else if (!authenticating) {
        to_raft(c, plain);
    } else if (c->plain.len + plain->len > STORE_HELLO_MAX + 8) {
        refuse(c, NULL, "too many bytes before authenticating");
    } else {
        orc_buf_append(&c->plain, plain->data ? plain->data : "", plain->len);
        if (orc_tls_handshake_done(c->tls)) c->inbound ? advance_inbound(c) : advance_outbound(c);
    }
    orc_buf_reset(plain);
    if (plain->cap > 4 * TR_READ_BUF) orc_buf_free(plain); /* after an odd burst */
    if (orc_tls_peer_closed(c->tls) && c->state != TC_CLOSING) finish(c, RAFT_NOCONNECTION);
}

/* ---- accepting ---- */

/* How many unauthenticated connections come from the host of `name`. */
static unsigned unauth_from(struct tr *tr, const char *name)
{
    const char *colon = strrchr(name, ':');
    size_t hl = colon ? (size_t)(colon - name) : strlen(name);
    unsigned n = 0;

    for (struct orc_link *l = tr->conns.next; l != &tr->conns; l = l->next) {
        struct tconn *o = ORC_CONTAINER(l, struct tconn, link);
        if (o->unauth_counted && strncmp(o->peer_name, name, hl) == 0 && o->peer_name[hl] == ':') n++;
    }
    return n;
}

static void name_peer(struct tconn *c)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;

    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len) == 0)
        orc_netaddr_format((struct sockaddr *)&sa, c->peer_name, sizeof c->peer_name);
    else
        snprintf(c->peer_name, sizeof c->peer_name, "(unknown address)");
}

void tconn__accept(struct tr *tr)
{
    struct tconn *c = conn_new(tr, true);

    if (c == NULL) return; /* out of memory: it waits in the backlog */
    if (uv_accept((uv_stream_t *)&tr->listener, (uv_stream_t *)&c->tcp) != 0) {
        tconn__close(c, 0);
        return;
    }
    name_peer(c);
    if (tr->n_unauth >= TR_UNAUTH_MAX || unauth_from(tr, c->peer_name) >= TR_UNAUTH_PER_IP) {
        tr__refused(c, "too many connections not yet authenticated (%u)", tr->n_unauth);
        tconn__close(c, 0);
        return;
    }
    c->unauth_counted = true;
    tr->n_unauth++;
    if (orc_tls_new(tr->server_ctx, NULL, &c->tls) != 0) {
        tconn__close(c, 0);
        return;
    }
    c->state = TC_HANDSHAKE;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timeout, TR_HANDSHAKE_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_tcp_read);
}

/* ---- connecting ---- */

static void on_connected(uv_connect_t *req, int status)
{
    struct tconn *c = req->data;

    if (c->state != TC_CONNECTING) return; /* closed meanwhile */
    /* A member that is down or restarting is raft's to retry and log. */
    if (status != 0 || orc_tls_new(c->tr->client_ctx, NULL, &c->tls) != 0) {
        tconn__close(c, RAFT_NOCONNECTION);
        return;
    }
    c->state = TC_HANDSHAKE;
    uv_tcp_nodelay(&c->tcp, 1);
    if (orc_tls_handshake(c->tls) != 0 || flush(c) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_tcp_read) != 0)
        tconn__close(c, RAFT_NOCONNECTION);
}

int tconn__connect(struct tr *tr, struct raft_uv_connect *req, raft_id id, const char *address,
                   raft_uv_connect_cb cb)
{
    struct sockaddr_storage sa;
    struct tconn *c;

    if (orc_netaddr_parse(address, &sa) != 0 || strlen(address) > STORE_HELLO_ADDR_MAX)
        return RAFT_NOCONNECTION;
    if ((c = conn_new(tr, false)) == NULL) return RAFT_NOMEM;
    c->peer_id = id;
    snprintf(c->peer_name, sizeof c->peer_name, "%s", address);
    c->connect_req.data = c;
    if (uv_tcp_connect(&c->connect_req, &c->tcp, (struct sockaddr *)&sa, on_connected) != 0) {
        tconn__close(c, 0); /* no callback: this call fails */
        return RAFT_NOCONNECTION;
    }
    c->req = req;
    c->cb = req->cb = cb;
    c->state = TC_CONNECTING;
    uv_timer_start(&c->timer, on_timeout, TR_HANDSHAKE_MS, 0);
    return 0;
}
