/* pf_stream.c — the client side of port-forward, as kubectl speaks it: one
 * SPDY/3.1 connection (lib/spdy.h) upgraded at pods/NAME/portforward; for
 * each local connection accepted, an error stream and a data stream
 * (streamtype, port, requestid), the data relayed both ways, the error
 * stream's text printed. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "cli/cli.h"
#include "client/tunnel.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/spdy.h"

#define MAX_HEAD (64u * 1024)
#define MAX_FRAME (16u << 20) /* the server's frame payload (the agent sends 64 KiB at most) */
#define MAX_ERROR_TEXT 4096
#define READ_SIZE (32u * 1024)
#define MAX_PORTS 16

struct pfc;

struct pf_listener {
    struct pfc *c;
    uv_tcp_t srv;
    int local, remote;
};

/* A local connection and its two streams. */
struct pf_conn {
    struct pfc *c;
    struct pf_conn *next;
    uv_tcp_t tcp;
    uv_shutdown_t shut;
    uint32_t data_id, error_id;
    int local, remote;
    struct orc_buf errtext;
    bool closing;
};

struct pfc {
    cli_ctx *x;
    uv_loop_t loop;
    http_tunnel *t;
    orc_spdy_zlib *z;
    struct orc_buf head, in;
    bool upgraded, ended, paused;
    uint32_t next_id;
    unsigned next_req;
    const char *address;
    struct pf_listener l[MAX_PORTS];
    size_t n_l;
    struct pf_conn *conns;
    uv_signal_t sigint, sigterm;
    int code;
};

static void finish(struct pfc *c, int code)
{
    if (c->ended) return;
    c->ended = true;
    if (code) c->code = code;
    uv_stop(&c->loop);
}

static void send_frames(struct pfc *c, struct orc_buf *b)
{
    if (c->ended || b->len == 0) return;
    int rv = http_tunnel_write(c->t, b->data, b->len);
    if (rv < 0) finish(c, CLI_EXIT_FAIL);
    else if (rv == 1 && !c->paused) {
        c->paused = true;
        for (struct pf_conn *p = c->conns; p; p = p->next)
            if (!p->closing) uv_read_stop((uv_stream_t *)&p->tcp);
    }
}

/* ---- local connections ---- */

static void on_conn_closed(uv_handle_t *h)
{
    struct pf_conn *p = h->data;
    orc_buf_free(&p->errtext);
    free(p);
}

static void conn_close(struct pf_conn *p, bool reset)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (p->closing) return;
    p->closing = true;
    for (struct pf_conn **pp = &p->c->conns; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    if (reset && orc_spdy_put_rst(&b, p->data_id, ORC_SPDY_CANCEL) == 0
        && orc_spdy_put_rst(&b, p->error_id, ORC_SPDY_CANCEL) == 0)
        send_frames(p->c, &b);
    orc_buf_free(&b);
    uv_close((uv_handle_t *)&p->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    buf->base = malloc(READ_SIZE);
    buf->len = buf->base ? READ_SIZE : 0;
}

static void on_local_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct pf_conn *p = st->data;
    struct orc_buf b = ORC_BUF_INIT;

    if (n > 0 && orc_spdy_put_data(&b, p->data_id, 0, buf->base, (size_t)n) == 0) send_frames(p->c, &b);
    free(buf->base);
    if (n < 0) { /* the local side is done sending: so is the data stream */
        uv_read_stop(st);
        if (orc_spdy_put_data(&b, p->data_id, ORC_SPDY_FLAG_FIN, NULL, 0) == 0) send_frames(p->c, &b);
    }
    orc_buf_free(&b);
}

static int open_streams(struct pf_conn *p)
{
    const char *names[] = {"streamtype", "port", "requestid"};
    const char *values[3];
    char port[16], req[16];
    struct orc_buf b = ORC_BUF_INIT;
    int rv;

    snprintf(port, sizeof port, "%d", p->remote);
    snprintf(req, sizeof req, "%u", p->c->next_req++);
    values[1] = port;
    values[2] = req;
    p->error_id = p->c->next_id;
    p->data_id = p->c->next_id + 2;
    p->c->next_id += 4;
    values[0] = "error";
    rv = orc_spdy_put_headers(p->c->z, &b, ORC_SPDY_SYN_STREAM, p->error_id, ORC_SPDY_FLAG_FIN, names, values, 3);
    values[0] = "data";
    if (rv == 0) rv = orc_spdy_put_headers(p->c->z, &b, ORC_SPDY_SYN_STREAM, p->data_id, 0, names, values, 3);
    if (rv == 0) send_frames(p->c, &b);
    orc_buf_free(&b);
    return rv;
}

static void on_accept(uv_stream_t *srv, int status)
{
    struct pf_listener *l = srv->data;
    struct pfc *c = l->c;
    struct pf_conn *p;

    if (status < 0 || c->ended || (p = calloc(1, sizeof *p)) == NULL) return;
    p->c = c;
    p->local = l->local;
    p->remote = l->remote;
    uv_tcp_init(&c->loop, &p->tcp);
    p->tcp.data = p;
    if (uv_accept(srv, (uv_stream_t *)&p->tcp) != 0) {
        uv_close((uv_handle_t *)&p->tcp, on_conn_closed);
        return;
    }
    fprintf(c->x->out, "Handling connection for %d\n", l->local);
    fflush(c->x->out);
    p->next = c->conns;
    c->conns = p;
    if (open_streams(p) != 0) conn_close(p, false);
    else if (!c->paused) uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_local_read);
}

static int listen_all(struct pfc *c)
{
    for (size_t i = 0; i < c->n_l; i++) {
        struct pf_listener *l = &c->l[i];
        struct sockaddr_storage sa;
        int len = sizeof sa, rv;

        rv = strchr(c->address, ':') ? uv_ip6_addr(c->address, l->local, (struct sockaddr_in6 *)&sa)
                                      : uv_ip4_addr(c->address, l->local, (struct sockaddr_in *)&sa);
        if (rv == 0) {
            uv_tcp_init(&c->loop, &l->srv);
            l->srv.data = l;
            rv = uv_tcp_bind(&l->srv, (struct sockaddr *)&sa, 0);
        }
        if (rv == 0) rv = uv_listen((uv_stream_t *)&l->srv, 128, on_accept);
        if (rv == 0) rv = uv_tcp_getsockname(&l->srv, (struct sockaddr *)&sa, &len);
        if (rv != 0) {
            fprintf(c->x->err, "error: unable to listen on %s:%d: %s\n", c->address, l->local, uv_strerror(rv));
            return ORC_EIO;
        }
        l->local = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                                   : ((struct sockaddr_in *)&sa)->sin_port);
        fprintf(c->x->out, "Forwarding from %s%s%s:%d -> %d\n", strchr(c->address, ':') ? "[" : "", c->address,
                strchr(c->address, ':') ? "]" : "", l->local, l->remote);
    }
    fflush(c->x->out);
    return 0;
}

/* ---- frames from the server ---- */

static struct pf_conn *conn_by_stream(struct pfc *c, uint32_t id)
{
    for (struct pf_conn *p = c->conns; p; p = p->next)
        if (p->data_id == id || p->error_id == id) return p;
    return NULL;
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void to_local(struct pf_conn *p, const uint8_t *data, size_t len)
{
    uv_write_t *w = malloc(sizeof *w + len);
    uv_buf_t b;

    if (w == NULL) return;
    memcpy(w + 1, data, len);
    b = uv_buf_init((char *)(w + 1), (unsigned)len);
    if (uv_write(w, (uv_stream_t *)&p->tcp, &b, 1, on_written) != 0) free(w);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    conn_close(s->data, true); /* kubectl, too, drops both streams once the remote side ended */
}

static void on_error_text(struct pf_conn *p, const struct orc_spdy_frame *f)
{
    if (p->errtext.len + f->len <= MAX_ERROR_TEXT) orc_buf_append(&p->errtext, f->data, f->len);
    if (!(f->flags & ORC_SPDY_FLAG_FIN) || p->errtext.len == 0) return;
    fprintf(p->c->x->err, "error: an error occurred forwarding %d -> %d: %.*s\n", p->local, p->remote,
            (int)p->errtext.len, p->errtext.data);
    conn_close(p, true);
}

static void on_data(struct pfc *c, const struct orc_spdy_frame *f)
{
    struct pf_conn *p = conn_by_stream(c, f->stream_id);

    if (p == NULL || p->closing) return;
    if (f->stream_id == p->error_id) {
        on_error_text(p, f);
        return;
    }
    if (f->len) to_local(p, f->data, f->len);
    if (f->flags & ORC_SPDY_FLAG_FIN) {
        p->shut.data = p;
        if (uv_shutdown(&p->shut, (uv_stream_t *)&p->tcp, on_shutdown) != 0) conn_close(p, true);
    }
}

static int on_frame(struct pfc *c, const struct orc_spdy_frame *f)
{
    struct orc_spdy_headers h;
    struct orc_buf b = ORC_BUF_INIT;
    struct pf_conn *p;

    switch (f->type) {
    case ORC_SPDY_DATA: on_data(c, f); break;
    case ORC_SPDY_SYN_REPLY:
    case ORC_SPDY_HEADERS:
    case ORC_SPDY_SYN_STREAM: /* the zlib stream follows every block, wanted or not */
        if (orc_spdy_headers_decode(c->z, f->data, f->len, &h) != 0) return ORC_EPROTO;
        orc_spdy_headers_clear(&h);
        if (f->type == ORC_SPDY_SYN_STREAM && orc_spdy_put_rst(&b, f->stream_id, ORC_SPDY_REFUSED_STREAM) == 0)
            send_frames(c, &b);
        break;
    case ORC_SPDY_RST_STREAM:
        if ((p = conn_by_stream(c, f->stream_id)) != NULL) conn_close(p, false);
        break;
    case ORC_SPDY_PING:
        if (!(f->value & 1) && orc_spdy_put_ping(&b, f->value) == 0) send_frames(c, &b);
        break;
    case ORC_SPDY_GOAWAY: return ORC_ECANCELED;
    default: break;
    }
    orc_buf_free(&b);
    return 0;
}

static void on_frames(struct pfc *c, const char *data, size_t len)
{
    struct orc_spdy_frame f;
    size_t off = 0, used;
    int rv = orc_buf_append(&c->in, data, len);

    while (rv == 0
           && (rv = orc_spdy_parse((const uint8_t *)c->in.data + off, c->in.len - off, MAX_FRAME, &f, &used)) == 0
           && used > 0) {
        off += used;
        rv = on_frame(c, &f);
    }
    if (rv != 0) {
        if (rv != ORC_ECANCELED) fprintf(c->x->err, "error: lost connection to pod (%s)\n", orc_strerror(rv));
        finish(c, rv == ORC_ECANCELED ? 0 : CLI_EXIT_FAIL);
        return;
    }
    memmove(c->in.data, c->in.data + off, c->in.len - off);
    c->in.len -= off;
}

/* ---- the connection ---- */

static void refused(struct pfc *c, int status, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);

    if (j) cli_print_failure(c->x, status, j);
    else fprintf(c->x->err, "error: the server refused port-forward (HTTP %d): %s\n", status, body);
    json_decref(j);
    finish(c, CLI_EXIT_FAIL);
}

/* The answer's head; after a 101, the listeners open and the rest is frames. */
static void on_head(struct pfc *c, const char *data, size_t len)
{
    char *end;
    int status = 0;

    if (c->head.len + len > MAX_HEAD || orc_buf_append(&c->head, data, len) != 0) {
        refused(c, 502, "the answer is too large");
        return;
    }
    if ((end = strstr(c->head.data, "\r\n\r\n")) == NULL) return;
    sscanf(c->head.data, "HTTP/1.1 %d", &status);
    if (status != 101) {
        const char *body = end + 4, *cl = strcasestr(c->head.data, "\r\ncontent-length:");
        if (cl && cl < end && c->head.len - (size_t)(body - c->head.data) < strtoul(cl + 17, NULL, 10)) return;
        refused(c, status, body);
        return;
    }
    c->upgraded = true;
    if (listen_all(c) != 0) {
        finish(c, CLI_EXIT_FAIL);
        return;
    }
    on_frames(c, end + 4, c->head.len - (size_t)(end + 4 - c->head.data));
}

static void on_tunnel_data(void *arg, const char *data, size_t len)
{
    struct pfc *c = arg;

    if (c->ended) return;
    if (!c->upgraded) on_head(c, data, len);
    else on_frames(c, data, len);
}

static void on_tunnel_drain(void *arg)
{
    struct pfc *c = arg;

    c->paused = false;
    for (struct pf_conn *p = c->conns; p; p = p->next)
        if (!p->closing) uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_local_read);
}

static void on_tunnel_end(void *arg, int err)
{
    struct pfc *c = arg;

    if (err && !c->upgraded) fprintf(c->x->err, "error: cannot reach the server: %s\n", orc_strerror(err));
    else if (!c->ended) fprintf(c->x->err, "error: lost connection to pod\n");
    finish(c, CLI_EXIT_FAIL);
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    finish(h->data, 0);
}

static int start(struct pfc *c, const char *path)
{
    static const struct http_tunnel_cbs cbs = {on_tunnel_data, on_tunnel_drain, on_tunnel_end};
    struct orc_buf head = ORC_BUF_INIT;
    char url[128], name[256];
    int rv = cli_stream_target(c->x, url, sizeof url, name, sizeof name);
    struct http_tunnel_opts o = {.url = url, .server_name = name, .ca_pem = c->x->ca_pem, .insecure = c->x->insecure};

    if (rv == 0) rv = orc_spdy_zlib_new(&c->z);
    if (rv == 0)
        rv = orc_buf_printf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: orctl\r\n%s%s%sContent-Length: 0\r\n"
                                   "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                                   "X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n",
                            path, name, c->x->token ? "Authorization: Bearer " : "", c->x->token ? c->x->token : "",
                            c->x->token ? "\r\n" : "");
    if (rv == 0) rv = http_tunnel_open(&c->loop, &o, head.data, head.len, &cbs, c, &c->t);
    if (head.data) explicit_bzero(head.data, head.cap);
    orc_buf_free(&head);
    if (rv != 0) return rv;
    uv_signal_init(&c->loop, &c->sigint);
    uv_signal_init(&c->loop, &c->sigterm);
    c->sigint.data = c->sigterm.data = c;
    uv_signal_start(&c->sigint, on_signal, SIGINT);
    uv_signal_start(&c->sigterm, on_signal, SIGTERM);
    return 0;
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL); /* listeners and signals: part of c */
}

int cli_port_forward(cli_ctx *x, const char *path, const char *address, const struct cli_pf_port *ports, size_t n)
{
    struct pfc *c = calloc(1, sizeof *c);
    int code;

    if (c == NULL || n > MAX_PORTS) {
        free(c);
        return CLI_EXIT_FAIL;
    }
    c->x = x;
    c->address = address;
    c->next_id = 1; /* a client's streams are odd */
    c->n_l = n;
    for (size_t i = 0; i < n; i++) c->l[i] = (struct pf_listener){c, {0}, ports[i].local, ports[i].remote};
    uv_loop_init(&c->loop);
    if (start(c, path) == 0) uv_run(&c->loop, UV_RUN_DEFAULT);
    else c->code = CLI_EXIT_FAIL;
    code = c->code;
    while (c->conns) conn_close(c->conns, false);
    if (c->t) http_tunnel_close(c->t);
    uv_walk(&c->loop, on_walk_close, NULL);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    uv_loop_close(&c->loop);
    orc_spdy_zlib_free(c->z);
    orc_buf_free(&c->head);
    orc_buf_free(&c->in);
    free(c);
    return code;
}
