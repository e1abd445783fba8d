/* tunnel.c — a raw byte stream over TLS after an Upgrade (see tunnel.h):
 * connect, TLS (lib/tls), then bytes both ways with back-pressure. */
#include "client/tunnel.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define READ_BUF (64u * 1024)

struct http_tunnel {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    struct orc_tls_ctx *ctx;
    struct orc_tls *tls;
    struct orc_buf plain;
    char rbuf[READ_BUF];
    size_t queued; /* bytes handed to uv_write and not yet written */
    bool connected, paused, high, ended, closing;
    struct http_tunnel_cbs cbs;
    void *arg;
};

struct tunnel_write {
    uv_write_t req;
    http_tunnel *t;
    size_t len;
    char *data;
};

static void on_closed(uv_handle_t *h)
{
    http_tunnel *t = h->data;

    orc_tls_free(t->tls);
    orc_tls_ctx_unref(t->ctx);
    orc_buf_free(&t->plain);
    free(t);
}

void http_tunnel_close(http_tunnel *t)
{
    if (t->closing) return;
    t->closing = true;
    uv_close((uv_handle_t *)&t->tcp, on_closed);
}

static void end(http_tunnel *t, int err)
{
    if (t->ended || t->closing) return;
    t->ended = true;
    uv_read_stop((uv_stream_t *)&t->tcp);
    t->cbs.on_end(t->arg, err);
}

static void on_written(uv_write_t *w, int status)
{
    struct tunnel_write *tw = (struct tunnel_write *)w;
    http_tunnel *t = tw->t;

    t->queued -= tw->len;
    free(tw->data);
    free(tw);
    if (t->closing) return;
    if (status < 0) {
        end(t, ORC_EIO);
        return;
    }
    if (t->high && t->queued < HTTP_TUNNEL_HIGH / 4) {
        t->high = false;
        if (t->cbs.on_drain) t->cbs.on_drain(t->arg);
    }
}

/* The TLS session's ciphertext, in one write (kept until connected). */
static int flush(http_tunnel *t)
{
    struct tunnel_write *tw;
    uv_buf_t b;

    if (!t->connected || orc_tls_pending(t->tls) == 0) return 0;
    if ((tw = calloc(1, sizeof *tw)) == NULL) return ORC_ENOMEM;
    tw->t = t;
    tw->data = orc_tls_take(t->tls, &tw->len);
    b = uv_buf_init(tw->data, (unsigned)tw->len);
    if (uv_write(&tw->req, (uv_stream_t *)&t->tcp, &b, 1, on_written) != 0) {
        free(tw->data);
        free(tw);
        return ORC_EIO;
    }
    t->queued += tw->len;
    return 0;
}

int http_tunnel_write(http_tunnel *t, const char *data, size_t len)
{
    if (t->ended || t->closing) return ORC_ECANCELED;
    if (orc_tls_send(t->tls, data, len) != 0 || flush(t) != 0) {
        end(t, ORC_EIO);
        return ORC_ECANCELED;
    }
    if (t->queued > HTTP_TUNNEL_HIGH) t->high = true;
    return t->high ? 1 : 0;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    http_tunnel *t = h->data;
    (void)hint;
    *buf = uv_buf_init(t->rbuf, sizeof t->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    http_tunnel *t = s->data;
    int rv;

    if (n == 0 || t->ended || t->closing) return;
    if (n < 0) {
        end(t, n == UV_EOF ? 0 : ORC_EIO);
        return;
    }
    orc_buf_reset(&t->plain);
    rv = orc_tls_recv(t->tls, buf->base, (size_t)n, &t->plain);
    if (rv == 0) rv = flush(t);
    if (rv != 0) {
        log_debug("http", "tunnel: %s", orc_tls_errmsg(t->tls));
        end(t, orc_tls_handshake_done(t->tls) ? ORC_EIO : ORC_ETLS);
        return;
    }
    if (t->plain.len > 0) t->cbs.on_data(t->arg, t->plain.data, t->plain.len);
    if (!t->ended && !t->closing && orc_tls_peer_closed(t->tls)) end(t, 0);
}

void http_tunnel_pause(http_tunnel *t, bool paused)
{
    if (t->ended || t->closing || !t->connected || t->paused == paused) return;
    t->paused = paused;
    if (paused) uv_read_stop((uv_stream_t *)&t->tcp);
    else if (uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read) != 0) end(t, ORC_EIO);
}

static void on_connected(uv_connect_t *req, int status)
{
    http_tunnel *t = req->data;

    if (t->closing) return;
    if (status < 0) {
        end(t, ORC_EUNAVAIL);
        return;
    }
    t->connected = true;
    uv_tcp_nodelay(&t->tcp, 1);
    if ((!t->paused && uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read) != 0) || flush(t) != 0)
        end(t, ORC_EIO);
}

/* "https://HOST:PORT" into an address and the bare host (no brackets). */
static int parse_url(const char *url, struct sockaddr_storage *sa, char *host, size_t n)
{
    const char *hp = strncmp(url, "https://", 8) == 0 ? url + 8 : NULL;
    const char *colon = hp ? strrchr(hp, ':') : NULL;
    size_t len;

    if (colon == NULL || orc_netaddr_parse(hp, sa) != 0) return ORC_EINVAL;
    if (*hp == '[') hp++;
    len = (size_t)(colon - hp);
    if (len > 0 && hp[len - 1] == ']') len--;
    if (len == 0 || len >= n) return ORC_EINVAL;
    memcpy(host, hp, len);
    host[len] = '\0';
    return 0;
}

static int tls_setup(http_tunnel *t, const struct http_tunnel_opts *o, const char *host)
{
    struct orc_tls_trust trust = {.ca_pem = o->insecure ? NULL : o->ca_pem, .insecure = o->insecure};
    char err[ORC_TLS_ERRLEN];

    if (orc_tls_client_ctx(&trust, &t->ctx, err) != 0) {
        log_warn("http", "tunnel: %s", err);
        return ORC_ETLS;
    }
    if (orc_tls_new(t->ctx, o->server_name ? o->server_name : host, &t->tls) != 0) return ORC_ENOMEM;
    return orc_tls_handshake(t->tls);
}

int http_tunnel_open(uv_loop_t *loop, const struct http_tunnel_opts *o, const char *head, size_t head_len,
                     const struct http_tunnel_cbs *cbs, void *arg, http_tunnel **out)
{
    struct sockaddr_storage sa;
    char host[64];
    http_tunnel *t;
    int rv;

    if (parse_url(o->url, &sa, host, sizeof host) != 0 || cbs->on_data == NULL || cbs->on_end == NULL)
        return ORC_EINVAL;
    if ((t = calloc(1, sizeof *t)) == NULL) return ORC_ENOMEM;
    t->cbs = *cbs;
    t->arg = arg;
    if ((rv = tls_setup(t, o, host)) == 0) rv = orc_tls_send(t->tls, head, head_len);
    if (rv != 0) {
        orc_tls_free(t->tls);
        orc_tls_ctx_unref(t->ctx);
        free(t);
        return rv;
    }
    orc_ignore_sigpipe();
    uv_tcp_init(loop, &t->tcp);
    t->tcp.data = t;
    t->connect_req.data = t;
    if (uv_tcp_connect(&t->connect_req, &t->tcp, (struct sockaddr *)&sa, on_connected) != 0) {
        t->closing = true;
        uv_close((uv_handle_t *)&t->tcp, on_closed);
        return ORC_EUNAVAIL;
    }
    *out = t;
    return 0;
}
