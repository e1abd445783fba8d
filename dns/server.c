/* server.c — the resolver's sockets on a libuv loop: UDP and TCP (two-byte
 * length framing, RFC 1035 4.2.2) on one address, answers from the zone,
 * the rest forwarded (forward.c). Memory is bounded: caps on TCP
 * connections and forwards, in all and per client address, and idle TCP
 * connections closed. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns/server_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define TCP_FRAME_MAX (2 + 65535)

struct dns_peer *dns_peer_get(struct dns_server *s, const struct sockaddr *sa)
{
    char key[INET6_ADDRSTRLEN] = "";
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, key, sizeof key);
    else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, key, sizeof key);
    struct dns_peer *p = (struct dns_peer *)orc_hmap_get(&s->peers, key);
    if (p) return p;
    if (!(p = calloc(1, sizeof *p))) return NULL;
    memcpy(p->key, key, sizeof key);
    p->node.key = p->key;
    if (orc_hmap_put(&s->peers, &p->node) != 0) return free(p), NULL;
    return p;
}

void dns_peer_put(struct dns_server *s, struct dns_peer *p)
{
    if (p->forwards || p->tcp) return;
    orc_hmap_del(&s->peers, &p->node);
    free(p);
}

void dns_send_udp(struct dns_server *s, const struct sockaddr *to, const uint8_t *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    /* a full socket buffer drops the answer, as a lost datagram: the
     * client asks again */
    if (uv_udp_try_send(&s->udp, &b, 1, to) < 0) s->st.dropped++;
}

static void conn_close(struct dns_conn *c);

struct wreq {
    uv_write_t req;
    uint8_t data[];
};

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

void dns_send_tcp(struct dns_conn *c, const uint8_t *p, size_t n)
{
    if (c->closing || n > 65535) return;
    /* a client that asks without reading its answers is cut off */
    if (c->h.write_queue_size > 4 * TCP_FRAME_MAX) {
        conn_close(c);
        return;
    }
    struct wreq *w = malloc(sizeof *w + 2 + n);
    if (!w) return;
    w->data[0] = (uint8_t)(n >> 8);
    w->data[1] = (uint8_t)n;
    memcpy(w->data + 2, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(n + 2));
    if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_written) != 0) free(w);
}

/* Answers one query; forward_to/conn say where a forward's answer goes. */
static void handle(struct dns_server *s, const uint8_t *q, size_t len, const struct sockaddr *from,
                   struct dns_conn *c)
{
    uint8_t *out;
    size_t n;
    s->st.queries++;
    switch (dns_query_handle(s->z, q, len, c ? DNS_TCP : DNS_UDP, &out, &n)) {
    case DNS_REPLY:
        s->st.answered++;
        if (c) dns_send_tcp(c, out, n);
        else dns_send_udp(s, from, out, n);
        free(out);
        break;
    case DNS_FORWARD:
        if (dns_cache_get(s->cache, q, len, c != NULL, uv_now(s->loop), &out, &n)) {
            s->st.answered++;
            s->st.cache_hits++;
            if (c) dns_send_tcp(c, out, n);
            else dns_send_udp(s, from, out, n);
            free(out);
            break;
        }
        dns_forward_start(s, q, len, from, c);
        break;
    case DNS_DROP:
        s->st.dropped++;
        break;
    }
}

static void on_alloc_shared(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct dns_server *s = h->data;
    (void)size;
    *buf = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

static void on_udp(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
    (void)buf;
    if (n <= 0 || !from || (flags & UV_UDP_PARTIAL)) return;
    handle(h->data, ((struct dns_server *)h->data)->rbuf, (size_t)n, from, NULL);
}

/* One handle fewer open; the last one frees the server. */
void dns_server_release(struct dns_server *s)
{
    if (--s->open_handles > 0) return;
    void (*cb)(void *) = s->stop_cb;
    void *arg = s->stop_arg;
    dns_cache_free(s->cache);
    free(s->byid);
    free(s);
    if (cb) cb(arg);
}

/* ---- TCP ------------------------------------------------------------------ */

static void conn_closed(uv_handle_t *h)
{
    struct dns_conn *c = h->data;
    struct dns_server *s = c->s;
    free(c->buf);
    free(c);
    dns_server_release(s);
}

static void conn_close(struct dns_conn *c)
{
    struct dns_server *s = c->s;
    if (c->closing) return;
    c->closing = 1;
    dns_forward_detach(s, c);
    orc_list_remove(&c->link);
    s->ntcp--;
    c->peer->tcp--;
    dns_peer_put(s, c->peer);
    uv_close((uv_handle_t *)&c->h, conn_closed);
}

static void on_conn_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct dns_conn *c = h->data;
    (void)size;
    /* one frame at most is ever buffered: read only what completes it */
    size_t want = TCP_FRAME_MAX - c->len;
    if (!c->buf && !(c->buf = malloc(TCP_FRAME_MAX))) want = 0;
    *buf = uv_buf_init(want ? (char *)c->buf + c->len : NULL, (unsigned)want);
}

static void on_conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct dns_conn *c = st->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->last_ms = uv_now(c->s->loop);
    while (c->len >= 2 && !c->closing) {
        size_t flen = (size_t)c->buf[0] << 8 | c->buf[1];
        if (c->len < 2 + flen) break;
        handle(c->s, c->buf + 2, flen, NULL, c);
        memmove(c->buf, c->buf + 2 + flen, c->len - 2 - flen);
        c->len -= 2 + flen;
    }
}

static void on_connection(uv_stream_t *srv, int status)
{
    struct dns_server *s = srv->data;
    if (status < 0) return;
    struct dns_conn *c = calloc(1, sizeof *c);
    if (!c || uv_tcp_init(s->loop, &c->h) != 0) {
        free(c);
        return;
    }
    c->h.data = c;
    c->s = s;
    orc_list_init(&c->link);
    s->open_handles++;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    struct dns_peer *p = NULL;
    if (uv_accept(srv, (uv_stream_t *)&c->h) != 0 || uv_tcp_getpeername(&c->h, (struct sockaddr *)&ss, &sl) != 0 ||
        !(p = dns_peer_get(s, (struct sockaddr *)&ss)) || s->ntcp >= s->cfg.max_tcp ||
        p->tcp >= s->cfg.max_tcp_peer) {
        s->st.refused_tcp++;
        if (p) dns_peer_put(s, p);
        c->closing = 1;
        uv_close((uv_handle_t *)&c->h, conn_closed);
        return;
    }
    c->peer = p;
    p->tcp++;
    s->ntcp++;
    c->last_ms = uv_now(s->loop);
    orc_list_push(&s->conns, &c->link);
    if (uv_read_start((uv_stream_t *)&c->h, on_conn_alloc, on_conn_read) != 0) conn_close(c);
}

static void on_tick(uv_timer_t *t)
{
    struct dns_server *s = t->data;
    uint64_t now = uv_now(s->loop);
    dns_forward_expire(s, now);
    struct orc_link *l, *next;
    for (l = s->conns.next; l != &s->conns; l = next) {
        next = l->next;
        struct dns_conn *c = ORC_CONTAINER(l, struct dns_conn, link);
        if (c->pending == 0 && now - c->last_ms >= s->cfg.tcp_idle_ms) conn_close(c);
    }
}

/* ---- start and stop --------------------------------------------------------- */

static void defaults(struct dns_server_config *c)
{
    if (!c->timeout_ms) c->timeout_ms = 2000;
    if (!c->max_forwards) c->max_forwards = 1024;
    if (!c->max_forwards_peer) c->max_forwards_peer = 64;
    if (!c->max_tcp) c->max_tcp = 256;
    if (!c->max_tcp_peer) c->max_tcp_peer = 16;
    if (!c->tcp_idle_ms) c->tcp_idle_ms = 10000;
    if (!c->upstream_port) c->upstream_port = 53;
}

static int parse_addr(const char *ip, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) == 0) return 0;
    return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss) == 0 ? 0 : ORC_EINVAL;
}

static void load_upstreams(struct dns_server *s)
{
    char *addrs[DNS_MAX_UPSTREAMS];
    int n = dns_resolv_conf_read(s->cfg.resolv_conf, addrs, DNS_MAX_UPSTREAMS);
    if (n < 0) log_warn("dns", "%s: %s; names outside the cluster will fail",
                        s->cfg.resolv_conf ? s->cfg.resolv_conf : "/etc/resolv.conf", orc_strerror(n));
    for (int i = 0; i < n; i++) {
        if (parse_addr(addrs[i], s->cfg.upstream_port, &s->ups[s->nups]) == 0) s->nups++;
        free(addrs[i]);
    }
}

static void server_handle_closed(uv_handle_t *h) { dns_server_release(h->data); }

static int bind_all(struct dns_server *s, const struct sockaddr_storage *addr, char *errmsg, size_t errlen)
{
    struct sockaddr_storage any;
    int rc;
    if ((rc = uv_udp_bind(&s->udp, (const struct sockaddr *)addr, 0)) != 0)
        return orc_errf(errmsg, errlen, ORC_EIO, "dns: udp bind %s:%d: %s", s->cfg.address, s->cfg.port, uv_strerror(rc));
    struct sockaddr_storage bound;
    int bl = sizeof bound;
    uv_udp_getsockname(&s->udp, (struct sockaddr *)&bound, &bl);
    s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    struct sockaddr_storage taddr = *addr;
    ((struct sockaddr_in *)&taddr)->sin_port = htons((uint16_t)s->port); /* same offset for v6 */
    if ((rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&taddr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&s->tcp, 128, on_connection)) != 0)
        return orc_errf(errmsg, errlen, ORC_EIO, "dns: tcp listen %s:%d: %s", s->cfg.address, s->port, uv_strerror(rc));
    parse_addr(addr->ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any);
    if ((rc = uv_udp_bind(&s->up, (const struct sockaddr *)&any, 0)) != 0)
        return orc_errf(errmsg, errlen, ORC_EIO, "dns: upstream socket: %s", uv_strerror(rc));
    if ((rc = uv_udp_recv_start(&s->udp, on_alloc_shared, on_udp)) != 0 ||
        (rc = uv_udp_recv_start(&s->up, on_alloc_shared, dns_forward_on_upstream)) != 0)
        return orc_errf(errmsg, errlen, ORC_EIO, "dns: recv: %s", uv_strerror(rc));
    uint64_t tick = s->cfg.timeout_ms / 4 ? s->cfg.timeout_ms / 4 : 1;
    if (tick > 100) tick = 100;
    uv_timer_start(&s->timer, on_tick, tick, tick);
    return 0;
}

int dns_server_start(uv_loop_t *loop, struct dns_zone *z, const struct dns_server_config *cfg,
                     struct dns_server **out, char *errmsg, size_t errlen)
{
    struct sockaddr_storage addr;
    if (!cfg->address || parse_addr(cfg->address, cfg->port, &addr) != 0)
        return orc_errf(errmsg, errlen, ORC_EINVAL, "dns: bad listen address \"%s\"", cfg->address ? cfg->address : "");
    struct dns_server *s = calloc(1, sizeof *s);
    if (!s || !(s->byid = calloc(65536, sizeof *s->byid))) {
        free(s);
        return orc_errf(errmsg, errlen, ORC_ENOMEM, "dns: out of memory");
    }
    s->loop = loop;
    s->z = z;
    s->cfg = *cfg;
    defaults(&s->cfg);
    /* without a cache the server still answers: every name is forwarded */
    if (!s->cfg.no_cache) s->cache = dns_cache_new(s->cfg.cache_entries, s->cfg.cache_ttl_s);
    orc_list_init(&s->fwds);
    orc_list_init(&s->conns);
    uv_udp_init(loop, &s->udp);
    uv_udp_init(loop, &s->up);
    uv_tcp_init(loop, &s->tcp);
    uv_timer_init(loop, &s->timer);
    s->udp.data = s->up.data = s->tcp.data = s->timer.data = s;
    s->open_handles = 4;
    load_upstreams(s);
    int rc = bind_all(s, &addr, errmsg, errlen);
    if (rc != 0) {
        dns_server_stop(s, NULL, NULL);
        return rc;
    }
    *out = s;
    return 0;
}

void dns_server_stop(struct dns_server *s, void (*cb)(void *arg), void *arg)
{
    if (!s) {
        if (cb) cb(arg);
        return;
    }
    s->stop_cb = cb;
    s->stop_arg = arg;
    dns_forward_drop_all(s);
    while (!orc_list_empty(&s->conns)) conn_close(ORC_CONTAINER(s->conns.next, struct dns_conn, link));
    orc_hmap_free(&s->peers);
    uv_close((uv_handle_t *)&s->udp, server_handle_closed);
    uv_close((uv_handle_t *)&s->up, server_handle_closed);
    uv_close((uv_handle_t *)&s->tcp, server_handle_closed);
    uv_close((uv_handle_t *)&s->timer, server_handle_closed);
}

int dns_server_port(const struct dns_server *s) { return s->port; }

void dns_server_stats(const struct dns_server *s, struct dns_server_stats *st) { *st = s->st; }
