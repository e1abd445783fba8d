/* httpd_limits.c — what keeps one client from exhausting the HTTP server:
 * connection caps (in total and per client address; past a cap a new
 * connection is accepted and reset at once, so the listen backlog never
 * fills and nothing is spent on its TLS handshake), deadlines (TLS
 * handshake, a request's head and body, idle keep-alive, a response the
 * client stopped reading, the lingering close), log lines when a limit
 * bites (at most one per kind every 10 s, naming the client), and giving
 * memory back to the system after a burst of connections. */
#include "lib/httpd_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/orc.h"

#define LOG_EVERY_MS 10000
#define TRIM_AFTER_CLOSES 64 /* connections closed since the last trim */

/* ---- defaults ---- */

void orc_httpd_limits_default(struct orc_httpd_limits *l, unsigned long nofile)
{
    /* Descriptors for everything else: Raft, SQLite, the agent's files. */
    unsigned long reserve = nofile / 8 < 64 ? 64 : nofile / 8 > 1024 ? 1024 : nofile / 8;
    unsigned long room = nofile > reserve + 64 ? nofile - reserve : 64;

    if (l->max_conns == 0) l->max_conns = (unsigned)(room > 16384 ? 16384 : room);
    if (l->max_conns_per_client == 0)
        l->max_conns_per_client = l->max_conns / 8 < 64 ? 64 : l->max_conns / 8;
    if (l->max_conns_per_client > l->max_conns) l->max_conns_per_client = l->max_conns;
    if (l->header_timeout_ms == 0) l->header_timeout_ms = 10000;
    if (l->idle_timeout_ms == 0) l->idle_timeout_ms = 90000;
    if (l->tunnel_idle_ms == 0) l->tunnel_idle_ms = 4u * 3600 * 1000;
    if (l->body_timeout_ms == 0) l->body_timeout_ms = 60000;
    if (l->stream_queue == 0) l->stream_queue = 4u << 20;
    if (l->streams_memory == 0) l->streams_memory = 256u << 20;
}

/* ---- log lines that may repeat ---- */

void orc_httpd__log_limited(struct orc_httpd *h, struct orc_httpd_log_limit *lim, const char *fmt, ...)
{
    uint64_t now = uv_now(h->loop);
    char msg[512];
    va_list ap;

    if (lim->last_ms != 0 && now - lim->last_ms < LOG_EVERY_MS) {
        lim->skipped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lim->skipped) log_warn(h->mod, "%s (and %u more like it since the last such line)", msg, lim->skipped);
    else log_warn(h->mod, "%s", msg);
    lim->last_ms = now ? now : 1;
    lim->skipped = 0;
}

/* ---- connections per client address ---- */

static void peer_key(const struct sockaddr_storage *sa, unsigned char key[16], char *text, size_t n)
{
    memset(key, 0, 16);
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            memcpy(key, s6->sin6_addr.s6_addr + 12, 4);
            inet_ntop(AF_INET, key, text, (socklen_t)n);
        } else {
            memcpy(key, s6->sin6_addr.s6_addr, 16);
            inet_ntop(AF_INET6, key, text, (socklen_t)n);
        }
    } else if (sa->ss_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        inet_ntop(AF_INET, key, text, (socklen_t)n);
    } else {
        snprintf(text, n, "unknown");
    }
}

static size_t bucket_of(const struct orc_httpd *h, const unsigned char key[16])
{
    return (size_t)orc_fnv1a(ORC_FNV_OFFSET, key, 16) & (h->n_buckets - 1);
}

static int grow_buckets(struct orc_httpd *h)
{
    size_t n = h->n_buckets * 2;
    struct orc_httpd_client **b = calloc(n, sizeof *b);

    if (b == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < h->n_buckets; i++) {
        while (h->clients[i]) {
            struct orc_httpd_client *cl = h->clients[i];
            size_t j = (size_t)orc_fnv1a(ORC_FNV_OFFSET, cl->addr, 16) & (n - 1);
            h->clients[i] = cl->next;
            cl->next = b[j];
            b[j] = cl;
        }
    }
    free(h->clients);
    h->clients = b;
    h->n_buckets = n;
    return 0;
}

static struct orc_httpd_client *client_get(struct orc_httpd *h, const unsigned char key[16])
{
    struct orc_httpd_client *cl;
    size_t i = bucket_of(h, key);

    for (cl = h->clients[i]; cl; cl = cl->next)
        if (memcmp(cl->addr, key, 16) == 0) return cl;
    if (h->n_clients >= h->n_buckets && grow_buckets(h) == 0) i = bucket_of(h, key);
    if ((cl = calloc(1, sizeof *cl)) == NULL) return NULL;
    memcpy(cl->addr, key, 16);
    cl->next = h->clients[i];
    h->clients[i] = cl;
    h->n_clients++;
    return cl;
}

static void client_put(struct orc_httpd *h, struct orc_httpd_client *cl)
{
    struct orc_httpd_client **p = &h->clients[bucket_of(h, cl->addr)];

    if (--cl->conns > 0) return;
    while (*p != cl) p = &(*p)->next;
    *p = cl->next;
    h->n_clients--;
    free(cl);
}

bool orc_httpd__admit(struct orc_httpd_conn *c, const struct sockaddr_storage *peer)
{
    struct orc_httpd *h = c->http;
    const struct orc_httpd_limits *l = &h->limits;
    unsigned char key[16];
    struct orc_httpd_client *cl;

    peer_key(peer, key, c->peer, sizeof c->peer);
    if (h->stopping) return false;
    if (h->n_conns >= l->max_conns) {
        orc_httpd__log_limited(h, &h->log_total,
                              "refused a connection from %s: %u connections are open "
                              "(--max-connections %u)", c->peer, h->n_conns, l->max_conns);
        return false;
    }
    if ((cl = client_get(h, key)) == NULL) return false;
    if (cl->conns >= l->max_conns_per_client) {
        orc_httpd__log_limited(h, &h->log_client,
                              "refused a connection from %s: %u connections from that address are "
                              "open (--max-connections-per-client %u)", c->peer, cl->conns,
                              l->max_conns_per_client);
        return false;
    }
    cl->conns++;
    c->client = cl;
    return true;
}

void orc_httpd__release(struct orc_httpd_conn *c)
{
    struct orc_httpd *h = c->http;

    h->n_conns--;
    if (c->client) client_put(h, c->client);
    c->client = NULL;
}

/* ---- deadlines ---- */

static unsigned timeout_of(const struct orc_httpd_conn *c, enum orc_httpd_deadline dl)
{
    const struct orc_httpd *h = c->http;

    switch (dl) {
    case DL_HANDSHAKE:
    case DL_HEADER: return h->limits.header_timeout_ms;
    case DL_BODY: return h->limits.header_timeout_ms; /* a stall; see orc_httpd__deadline */
    case DL_IDLE: return h->limits.idle_timeout_ms;
    /* A closing connection whose client reads nothing goes soon. */
    case DL_DRAIN: return c->lingering ? ORC_HTTPD_LINGER_MS : h->limits.idle_timeout_ms;
    case DL_LINGER: return ORC_HTTPD_LINGER_MS;
    case DL_TUNNEL: return h->limits.tunnel_idle_ms;
    default: return 0;
    }
}

void orc_httpd__deadline(struct orc_httpd_conn *c, enum orc_httpd_deadline dl)
{
    uint64_t now = uv_now(c->http->loop);

    c->dl = dl;
    c->deadline = dl == DL_NONE ? 0 : now + timeout_of(c, dl);
    if (dl == DL_BODY && c->body_since + c->http->limits.body_timeout_ms < c->deadline)
        c->deadline = c->body_since + c->http->limits.body_timeout_ms;
    c->wq_seen = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

static void expire(struct orc_httpd_conn *c)
{
    struct orc_httpd *h = c->http;
    size_t wq = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    double secs = timeout_of(c, c->dl) / 1000.0;

    switch (c->dl) {
    case DL_DRAIN:
        if (wq < c->wq_seen) { /* the client reads, slowly */
            orc_httpd__deadline(c, DL_DRAIN);
            return;
        }
        log_debug(h->mod, "closed a connection from %s: the client stopped reading", c->peer);
        orc_httpd__conn_abort(c);
        return;
    case DL_HANDSHAKE:
        orc_httpd__log_limited(h, &h->log_timeout,
                              "closed a connection from %s: no TLS handshake within %.1f s "
                              "(--header-timeout)", c->peer, secs);
        break;
    case DL_HEADER:
        orc_httpd__log_limited(h, &h->log_timeout,
                              "closed a connection from %s: no complete request headers within "
                              "%.1f s (--header-timeout)", c->peer, secs);
        break;
    case DL_BODY:
        orc_httpd__log_limited(h, &h->log_timeout,
                              "closed a connection from %s: its request body stalled for %.1f s "
                              "(--header-timeout) or took over %.0f s in all", c->peer, secs,
                              h->limits.body_timeout_ms / 1000.0);
        break;
    default: break; /* idle keep-alive and lingering closes are routine */
    }
    orc_httpd__conn_close(c);
}

static void on_sweep(uv_timer_t *t)
{
    struct orc_httpd *h = t->data;
    uint64_t now = uv_now(h->loop);
    struct orc_link *l = h->conns.next;

    while (l != &h->conns) {
        struct orc_httpd_conn *c = ORC_CONTAINER(l, struct orc_httpd_conn, link);
        l = l->next; /* expire() unlinks c */
        if (c->deadline && now >= c->deadline) expire(c);
    }
    /* Counted when their memory is freed (close callbacks), so the trim
     * comes after. */
    if (h->closed_since_trim >= TRIM_AFTER_CLOSES) {
        h->closed_since_trim = 0;
        orc_mem_trim();
    }
}

static unsigned sweep_every(const struct orc_httpd_limits *l)
{
    unsigned m = l->header_timeout_ms;

    if (l->idle_timeout_ms < m) m = l->idle_timeout_ms;
    if (l->body_timeout_ms < m) m = l->body_timeout_ms;
    if (ORC_HTTPD_LINGER_MS < m) m = ORC_HTTPD_LINGER_MS;
    m /= 4;
    return m < 50 ? 50 : m > 1000 ? 1000 : m;
}

int orc_httpd__limits_init(struct orc_httpd *h)
{
    struct rlimit rl;

    uv_timer_init(h->loop, &h->sweep);
    h->sweep.data = h;
    h->open_handles++;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = 1024;
    orc_httpd_limits_default(&h->limits, rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (unsigned long)rl.rlim_cur);
    h->n_buckets = 64;
    if ((h->clients = calloc(h->n_buckets, sizeof *h->clients)) == NULL) return ORC_ENOMEM;
    uv_timer_start(&h->sweep, on_sweep, sweep_every(&h->limits), sweep_every(&h->limits));
    uv_unref((uv_handle_t *)&h->sweep);
    return 0;
}

void orc_httpd__limits_close(struct orc_httpd *h, uv_close_cb cb)
{
    uv_close((uv_handle_t *)&h->sweep, cb);
}
