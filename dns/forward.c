/* forward.c — names outside the cluster go to the upstream resolvers over
 * UDP, under an id of our own (random, so an off-path answer must guess
 * it), from one socket; an answer is taken only from the upstream asked
 * and for the question asked. An attempt that times out moves to the next
 * upstream; after the last, the client gets SERVFAIL. */
#include <stdlib.h>
#include <string.h>

#include "dns/server_int.h"
#include "lib/rand.h"

static void uptcp_closed(uv_handle_t *h)
{
    struct dns_uptcp *u = h->data;
    struct dns_server *s = u->s;
    free(u->out);
    free(u->in);
    free(u);
    dns_server_release(s);
}

static void uptcp_close(struct dns_uptcp *u)
{
    if (u->closing) return;
    u->closing = 1;
    if (u->f) u->f->uptcp = NULL;
    u->f = NULL;
    uv_close((uv_handle_t *)&u->h, uptcp_closed);
}

static void fwd_free(struct dns_server *s, struct dns_fwd *f)
{
    if (f->uptcp) uptcp_close(f->uptcp);
    orc_list_remove(&f->link);
    s->byid[f->id] = NULL;
    s->nfwd--;
    if (f->conn) f->conn->pending--;
    f->peer->forwards--;
    dns_peer_put(s, f->peer);
    free(f->query);
    free(f);
}

static void servfail(struct dns_server *s, const uint8_t *q, size_t len, const struct sockaddr *to,
                     struct dns_conn *c)
{
    uint8_t *out;
    size_t n;
    s->st.servfail++;
    if (dns_query_servfail(q, len, &out, &n) != DNS_REPLY) return;
    if (c) dns_send_tcp(c, out, n);
    else dns_send_udp(s, to, out, n);
    free(out);
}

/* Ends f, then sends p (the answer, or SERVFAIL when p is NULL) to its
 * client: in that order, since a send may close a TCP connection and so
 * end its forwards. */
static void finish(struct dns_server *s, struct dns_fwd *f, const uint8_t *p, size_t n)
{
    struct sockaddr_storage to = f->client;
    struct dns_conn *c = f->conn;
    int tcp = f->tcp;
    uint8_t *q = f->query;
    size_t qlen = f->len;
    f->query = NULL;
    q[0] = f->client_id >> 8;
    q[1] = f->client_id & 0xff;
    fwd_free(s, f);
    if (!tcp || c) {
        if (!p) servfail(s, q, qlen, (const struct sockaddr *)&to, c);
        else if (c) dns_send_tcp(c, p, n);
        else dns_send_udp(s, (const struct sockaddr *)&to, p, n);
    }
    free(q);
}

static int send_attempt(struct dns_server *s, struct dns_fwd *f)
{
    uv_buf_t b = uv_buf_init((char *)f->query, (unsigned)f->len);
    int rc = uv_udp_try_send(&s->up, &b, 1, (const struct sockaddr *)&s->ups[f->upstream]);
    f->deadline_ms = uv_now(s->loop) + s->cfg.timeout_ms;
    orc_list_remove(&f->link);
    orc_list_push(&s->fwds, &f->link);
    return rc < 0 ? rc : 0;
}

static int free_id(struct dns_server *s, uint16_t *id)
{
    for (int tries = 0; tries < 64; tries++) {
        uint16_t v = (uint16_t)orc_rand_u64();
        if (!s->byid[v]) return *id = v, 0;
    }
    return -1;
}

void dns_forward_start(struct dns_server *s, const uint8_t *q, size_t len, const struct sockaddr *to,
                       struct dns_conn *c)
{
    struct dns_peer *peer = c ? c->peer : dns_peer_get(s, to);
    struct dns_fwd *f = NULL;
    uint16_t id;
    if (!peer || s->nups == 0 || s->nfwd >= s->cfg.max_forwards ||
        peer->forwards >= s->cfg.max_forwards_peer || free_id(s, &id) != 0 ||
        !(f = calloc(1, sizeof *f)) || !(f->query = malloc(len))) {
        free(f);
        if (peer && !c) dns_peer_put(s, peer);
        servfail(s, q, len, to, c);
        return;
    }
    memcpy(f->query, q, len);
    f->len = len;
    f->client_id = (uint16_t)(q[0] << 8 | q[1]);
    f->id = id;
    f->query[0] = id >> 8;
    f->query[1] = id & 0xff;
    f->peer = peer;
    peer->forwards++;
    if (c) {
        f->conn = c;
        f->tcp = 1;
        c->pending++;
    } else {
        memcpy(&f->client, to, to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    }
    orc_list_init(&f->link);
    s->byid[id] = f;
    s->nfwd++;
    s->st.forwarded++;
    send_attempt(s, f); /* a failed send is retried at the deadline */
}

static int same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family) return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static size_t question_len(const uint8_t *q, size_t len);

/* Whether p (n bytes) answers f: its id and the same question. */
static int answers(const struct dns_fwd *f, const uint8_t *p, size_t n)
{
    if (n < 12 || (uint16_t)(p[0] << 8 | p[1]) != f->id) return 0;
    size_t ql = question_len(f->query, f->len);
    /* an answer to another question (or a forged one) is not ours */
    return !ql || (n >= 12 + ql && memcmp(p + 12, f->query + 12, ql) == 0 && memcmp(p + 4, f->query + 4, 2) == 0);
}

static void uptcp_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct dns_uptcp *u = h->data;
    (void)size;
    size_t want = 2 + 65535 - u->in_len;
    if (!u->in && !(u->in = malloc(2 + 65535))) want = 0;
    *buf = uv_buf_init(want ? (char *)u->in + u->in_len : NULL, (unsigned)want);
}

static void uptcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    struct dns_uptcp *u = st->data;
    struct dns_fwd *f = u->f;
    (void)buf;
    if (!f) return;
    if (n < 0) {
        finish(u->s, f, NULL, 0);
        return;
    }
    u->in_len += (size_t)n;
    if (u->in_len < 2) return;
    size_t flen = (size_t)u->in[0] << 8 | u->in[1];
    if (u->in_len < 2 + flen) return;
    if (!answers(f, u->in + 2, flen)) {
        finish(u->s, f, NULL, 0);
        return;
    }
    u->in[2] = f->client_id >> 8;
    u->in[3] = f->client_id & 0xff;
    u->s->st.answered++;
    dns_cache_put(u->s->cache, f->query, f->len, u->in + 2, flen, uv_now(u->s->loop));
    finish(u->s, f, u->in + 2, flen);
}

static void uptcp_connected(uv_connect_t *req, int status)
{
    struct dns_uptcp *u = req->data;
    if (!u->f) return;
    uv_buf_t b = uv_buf_init((char *)u->out, (unsigned)(2 + u->f->len));
    if (status < 0 || uv_write(&u->wr, (uv_stream_t *)&u->h, &b, 1, NULL) != 0 ||
        uv_read_start((uv_stream_t *)&u->h, uptcp_alloc, uptcp_read) != 0)
        finish(u->s, u->f, NULL, 0);
}

/* The same upstream again, over TCP (RFC 7766): a TCP client must not get
 * a truncated answer. 0, or -1 when it cannot start. */
static int retry_over_tcp(struct dns_server *s, struct dns_fwd *f)
{
    struct dns_uptcp *u = calloc(1, sizeof *u);
    if (!u || !(u->out = malloc(2 + f->len))) {
        free(u);
        return -1;
    }
    u->out[0] = (uint8_t)(f->len >> 8);
    u->out[1] = (uint8_t)f->len;
    memcpy(u->out + 2, f->query, f->len);
    u->s = s;
    if (uv_tcp_init(s->loop, &u->h) != 0) {
        free(u->out);
        free(u);
        return -1;
    }
    u->h.data = u;
    u->conn.data = u;
    s->open_handles++;
    u->f = f;
    f->uptcp = u;
    if (uv_tcp_connect(&u->conn, &u->h, (const struct sockaddr *)&s->ups[f->upstream], uptcp_connected) != 0) {
        uptcp_close(u);
        return -1;
    }
    f->deadline_ms = uv_now(s->loop) + s->cfg.timeout_ms;
    orc_list_remove(&f->link);
    orc_list_push(&s->fwds, &f->link);
    return 0;
}

/* Bytes of the question section of a query (header excluded): its name's
 * labels, uncompressed as every stub sends them, then type and class. 0
 * when it cannot tell. */
static size_t question_len(const uint8_t *q, size_t len)
{
    size_t o = 12;
    while (o < len && q[o] != 0) {
        if (q[o] & 0xc0) return 0;
        o += 1 + q[o];
    }
    o += 5;
    return o <= len ? o - 12 : 0;
}

void dns_forward_on_upstream(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                             unsigned flags)
{
    struct dns_server *s = h->data;
    (void)flags;
    (void)buf;
    if (n < 12 || !from) return;
    uint8_t *p = s->rbuf;
    struct dns_fwd *f = s->byid[(uint16_t)(p[0] << 8 | p[1])];
    if (!f || f->uptcp || !same_addr(from, &s->ups[f->upstream]) || !answers(f, p, (size_t)n)) return;
    if ((p[2] & 0x02) && f->tcp && retry_over_tcp(s, f) == 0) return; /* TC */
    p[0] = f->client_id >> 8;
    p[1] = f->client_id & 0xff;
    s->st.answered++;
    dns_cache_put(s->cache, f->query, f->len, p, (size_t)n, uv_now(s->loop));
    finish(s, f, p, (size_t)n);
}

void dns_forward_expire(struct dns_server *s, uint64_t now)
{
    while (!orc_list_empty(&s->fwds)) {
        struct dns_fwd *f = ORC_CONTAINER(s->fwds.next, struct dns_fwd, link);
        if (f->deadline_ms > now) break;
        if (f->upstream + 1 >= s->nups || f->uptcp) {
            finish(s, f, NULL, 0);
            continue;
        }
        f->upstream++;
        send_attempt(s, f);
    }
}

void dns_forward_detach(struct dns_server *s, struct dns_conn *c)
{
    struct orc_link *l, *next;
    for (l = s->fwds.next; l != &s->fwds; l = next) {
        next = l->next;
        struct dns_fwd *f = ORC_CONTAINER(l, struct dns_fwd, link);
        if (f->conn == c) fwd_free(s, f);
    }
}

void dns_forward_drop_all(struct dns_server *s)
{
    while (!orc_list_empty(&s->fwds)) fwd_free(s, ORC_CONTAINER(s->fwds.next, struct dns_fwd, link));
}
