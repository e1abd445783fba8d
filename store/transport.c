/* transport.c — raft_uv's transport interface over mutual TLS: the member's
 * TLS contexts, the listening socket, dialling members, rate-limited logs
 * of refused connections, and closing. One connection's life is in
 * transport_conn.c. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/orc.h"
#include "store/transport_int.h"

#define TR_LOG_WINDOW_MS 10000
#define TR_LOG_BURST 10

void tr__refused(struct tconn *c, const char *fmt, ...)
{
    struct tr *tr = c->tr;
    uint64_t now = uv_now(tr->loop);
    char why[300];
    va_list ap;

    if (now - tr->log_window >= TR_LOG_WINDOW_MS) {
        if (tr->log_dropped)
            log_warn("store", "%u more Raft connections refused in the last %u s (not logged one by one)",
                     tr->log_dropped, TR_LOG_WINDOW_MS / 1000);
        tr->log_window = now;
        tr->log_n = tr->log_dropped = 0;
    }
    if (tr->log_n >= TR_LOG_BURST) {
        tr->log_dropped++;
        return;
    }
    tr->log_n++;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    log_warn("store", "refused Raft connection %s %s: %s", c->inbound ? "from" : "to", c->peer_name,
             why);
}

/* ---- the raft_uv_transport methods ---- */

static int tr_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct tr *tr = t->impl;

    tr->id = id;
    if (strlen(address) > STORE_HELLO_ADDR_MAX) {
        snprintf(t->errmsg, sizeof t->errmsg, "raft address too long: %.200s...", address);
        return RAFT_INVALID;
    }
    snprintf(tr->address, sizeof tr->address, "%s", address);
    return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tr *tr = server->data;

    if (status != 0 || tr->closing) return;
    tconn__accept(tr);
}

static int tr_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct tr *tr = t->impl;
    struct sockaddr_storage sa;
    int rv;

    tr->accept_cb = cb;
    if (orc_netaddr_parse(tr->address, &sa) != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "bad raft address %.200s", tr->address);
        return RAFT_INVALID;
    }
    uv_tcp_init(tr->loop, &tr->listener);
    tr->listener.data = tr;
    tr->listening = true;
    if ((rv = uv_tcp_bind(&tr->listener, (struct sockaddr *)&sa, 0)) != 0 ||
        (rv = uv_listen((uv_stream_t *)&tr->listener, 128, on_connection)) != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "listen on %.200s: %s", tr->address, uv_strerror(rv));
        return RAFT_IOERR;
    }
    return 0;
}

static int tr_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    struct tr *tr = t->impl;

    if (tr->closing) return RAFT_CANCELED;
    return tconn__connect(tr, req, id, address, cb);
}

void tr__maybe_closed(struct tr *tr)
{
    raft_uv_transport_close_cb cb = tr->close_cb;

    if (!tr->closing || tr->listening || !orc_list_empty(&tr->conns) || cb == NULL) return;
    tr->close_cb = NULL;
    cb(tr->t);
}

static void listener_closed(uv_handle_t *h)
{
    struct tr *tr = h->data;

    tr->listening = false;
    tr__maybe_closed(tr);
}

/* raft_uv has stopped its clients and servers first: every connection
 * left is closed (a pending connect gets RAFT_CANCELED from its close
 * callback, never from inside this call). */
static void tr_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct tr *tr = t->impl;
    struct orc_link *l, *next;

    tr->closing = true;
    tr->close_cb = cb;
    if (tr->listening) uv_close((uv_handle_t *)&tr->listener, listener_closed);
    for (l = tr->conns.next; l != &tr->conns; l = next) {
        next = l->next;
        tconn__close(ORC_CONTAINER(l, struct tconn, link), RAFT_CANCELED);
    }
    tr__maybe_closed(tr);
}

/* ---- setting up and freeing ---- */

static int member_certificate(const struct store_raft_tls *tls, uint64_t id, char *errmsg)
{
    struct orc_tls_subject sub;
    char err[ORC_TLS_ERRLEN];
    uint64_t cert_id;

    if (orc_tls_cert_subject(tls->cert_pem, &sub, err) != 0) {
        store__errf(errmsg, "raft certificate: %s", err);
        return ORC_EINVAL;
    }
    if ((cert_id = store__member_id(sub.org, sub.n_org, sub.cn)) != id) {
        store__errf(errmsg, "raft certificate: O=%s, CN=%s is not the certificate of member %llu "
                            "(want O=%s, CN=%s%llu)", sub.org, sub.cn, (unsigned long long)id,
                    STORE_MEMBER_ORG, STORE_MEMBER_CN, (unsigned long long)id);
        return ORC_EINVAL;
    }
    if (orc_tls_key_check(tls->cert_pem, tls->key_pem, err) != 0) {
        store__errf(errmsg, "raft certificate key: %s", err);
        return ORC_EINVAL;
    }
    return 0;
}

static int tls_contexts(struct tr *tr, uint64_t id, const struct store_raft_tls *tls, char *errmsg)
{
    struct orc_tls_mutual m = {tls->cert_pem, tls->key_pem, tls->ca_pem};
    char err[ORC_TLS_ERRLEN];
    int rv;

    if (tls->ca_pem == NULL || tls->cert_pem == NULL || tls->key_pem == NULL) {
        store__errf(errmsg, "raft over TLS needs the CA, a member certificate and its key");
        return ORC_EINVAL;
    }
    if ((rv = member_certificate(tls, id, errmsg)) != 0) return rv;
    if (orc_tls_mutual_ctx(&m, true, &tr->server_ctx, err) != 0 ||
        orc_tls_mutual_ctx(&m, false, &tr->client_ctx, err) != 0) {
        store__errf(errmsg, "raft TLS: %s", err);
        return ORC_EINVAL;
    }
    return 0;
}

static void tr_free(struct tr *tr)
{
    if (tr == NULL) return;
    orc_buf_free(&tr->plain);
    orc_tls_ctx_unref(tr->server_ctx);
    orc_tls_ctx_unref(tr->client_ctx);
    free(tr);
}

int store__transport_init(struct raft_uv_transport *t, uv_loop_t *loop, uint64_t id,
                          const struct store_raft_tls *tls, char *errmsg)
{
    struct tr *tr;
    int rv;

    if (tls == NULL) { /* benchmark only: raft's own transport */
        if ((rv = raft_uv_tcp_init(t, loop)) != 0) {
            store__errf(errmsg, "raft transport: %s", raft_strerror(rv));
            return store__raft_err(rv);
        }
        return 0;
    }
    /* raft writes to its socketpair end with write(2): a relay that closed
     * must give it EPIPE, not end the process. */
    orc_ignore_sigpipe();
    memset(t, 0, sizeof *t);
    if ((tr = calloc(1, sizeof *tr)) == NULL) {
        store__errf(errmsg, "out of memory");
        return ORC_ENOMEM;
    }
    if ((rv = tls_contexts(tr, id, tls, errmsg)) != 0) {
        tr_free(tr);
        return rv;
    }
    tr->t = t;
    tr->loop = loop;
    orc_list_init(&tr->conns);
    t->impl = tr;
    t->init = tr_init;
    t->listen = tr_listen;
    t->connect = tr_connect;
    t->close = tr_close;
    return 0;
}

void store__transport_set_members(struct raft_uv_transport *t,
                                  bool (*gone)(void *arg, uint64_t id),
                                  void (*told)(void *arg, uint64_t by), void *arg)
{
    struct tr *tr = t->impl;

    if (t->connect != tr_connect) return; /* raft's plain TCP transport */
    tr->gone = gone;
    tr->told = told;
    tr->members_arg = arg;
}

void store__transport_drop_gone(struct raft_uv_transport *t)
{
    struct tr *tr = t->impl;
    struct orc_link *l, *next;

    if (t->connect != tr_connect || tr->gone == NULL || tr->closing) return;
    for (l = tr->conns.next; l != &tr->conns; l = next) {
        struct tconn *c = ORC_CONTAINER(l, struct tconn, link);
        next = l->next;
        if (c->inbound && c->state == TC_RELAY && tr->gone(tr->members_arg, c->peer_id)) {
            log_info("store", "closing the Raft connection of removed member %" PRIu64, c->peer_id);
            tconn__close(c, RAFT_NOCONNECTION);
        }
    }
}

void store__transport_free(struct raft_uv_transport *t)
{
    if (t->close != tr_close) {
        raft_uv_tcp_close(t);
        return;
    }
    tr_free(t->impl);
    t->impl = NULL;
}
