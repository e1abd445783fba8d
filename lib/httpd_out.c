/* httpd_out.c — what the transport writes: whole responses (one write each),
 * chunked streams whose output is queued as references to chunks (shared
 * between streams when encoded once for many) and flushed in the loop's
 * check phase, coalesced into one TLS record and one socket write per
 * batch, and only while the socket keeps up; the bounds on that output;
 * and closing a connection after its last byte (a lingering close, so a
 * client still sending does not get a reset that destroys the answer). */
#include "lib/httpd_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/orc.h"
#include "lib/tls.h"

#define KEEP_WBUF (1u << 20)    /* larger response buffers are not kept for reuse */
/* Stream bytes per write: one TLS record (a little under 16 KiB, so that
 * a batch and its encryption fit buffers of that size). A client that stops
 * reading holds at most one batch in the socket's write queue. */
#define FLUSH_BATCH ((16u << 10) - 512)
#define FLUSH_BUDGET (1u << 20) /* stream bytes per connection per loop iteration */
#define LAST_CHUNK "0\r\n\r\n"
#define FLUSH_SLICE_NS (2u * 1000000)      /* flushing per loop iteration ... */
#define FLUSH_MAX_WAIT_NS (20u * 1000000)  /* ... unless output waited longer than this */

struct orc_httpd_chunk {
    int refs;
    struct orc_httpd *counted; /* whose chunk_bytes holds len, once queued */
    size_t len;
    char data[];
};

struct write_req {
    uv_write_t req;
    struct orc_httpd_conn *conn;
    size_t queued; /* bytes counted in http->wq_bytes */
    char *data;
};

/* ---- chunks ---- */

struct orc_httpd_chunk *orc_httpd_chunk_new(const char *data, size_t len)
{
    char head[24];
    int hl = snprintf(head, sizeof head, "%zx\r\n", len);
    struct orc_httpd_chunk *ch = malloc(sizeof *ch + (size_t)hl + len + 2);

    if (ch == NULL) return NULL;
    ch->refs = 1;
    ch->counted = NULL;
    ch->len = (size_t)hl + len + 2;
    memcpy(ch->data, head, (size_t)hl);
    memcpy(ch->data + hl, data, len);
    memcpy(ch->data + hl + len, "\r\n", 2);
    return ch;
}

static struct orc_httpd_chunk *chunk_raw(const char *data, size_t len)
{
    struct orc_httpd_chunk *ch = malloc(sizeof *ch + len);

    if (ch == NULL) return NULL;
    ch->refs = 1;
    ch->counted = NULL;
    ch->len = len;
    memcpy(ch->data, data, len);
    return ch;
}

void orc_httpd_chunk_unref(struct orc_httpd_chunk *ch)
{
    if (ch == NULL || --ch->refs > 0) return;
    if (ch->counted) ch->counted->chunk_bytes -= ch->len;
    free(ch);
}

size_t orc_httpd_chunk_len(const struct orc_httpd_chunk *ch) { return ch->len; }

/* ---- raw writes ---- */

static void start_linger(struct orc_httpd_conn *c);

/* Keeps the loop from blocking while output waits for the check phase. */
static void on_idle(uv_idle_t *idle) { (void)idle; }

static void mark_dirty(struct orc_httpd_conn *c)
{
    struct orc_httpd *h = c->http;

    if (!orc_list_empty(&c->dirty_link) || c->closing) return;
    orc_list_push(&h->dirty, &c->dirty_link);
    c->dirty_since = uv_hrtime();
    uv_idle_start(&h->flush_idle, on_idle);
}

static void on_write_done(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct orc_httpd_conn *c = wr->conn;

    c->http->wq_bytes -= wr->queued;
    free(wr->data);
    free(wr);
    if (status < 0) {
        orc_httpd__conn_close(c);
        return;
    }
    if (c->closing) return;
    if (!c->lingering && c->dl == DL_DRAIN && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
        orc_httpd__deadline(c, DL_IDLE);
    /* More stream output, or a handler waiting to produce it. */
    if (c->q_len > 0 || (c->active && c->active->on_drain)) mark_dirty(c);
}

/* Sends `data` (taking ownership), trying a synchronous write first; with
 * close_after, the connection then closes (lingering). */
int orc_httpd__send_raw(struct orc_httpd_conn *c, char *data, size_t len, bool close_after)
{
    struct write_req *wr;
    uv_buf_t buf;
    int n = 0;

    if (c->closing) {
        free(data);
        return ORC_EIO;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        buf = uv_buf_init(data, (unsigned)len);
        n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
        if (n < 0 && n != UV_EAGAIN) {
            free(data);
            orc_httpd__conn_close(c);
            return ORC_EIO;
        }
        if (n < 0) n = 0;
    }
    if ((size_t)n == len) {
        free(data);
    } else {
        wr = calloc(1, sizeof *wr);
        if (wr == NULL) {
            free(data);
            orc_httpd__conn_close(c);
            return ORC_ENOMEM;
        }
        wr->conn = c;
        wr->data = data;
        wr->queued = len - (size_t)n;
        buf = uv_buf_init(data + n, (unsigned)wr->queued);
        if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &buf, 1, on_write_done) != 0) {
            free(data);
            free(wr);
            orc_httpd__conn_close(c);
            return ORC_EIO;
        }
        c->http->wq_bytes += wr->queued;
    }
    if (close_after) start_linger(c);
    return 0;
}

/* Ciphertext the TLS session has for the peer (handshake replies). */
int orc_httpd__send_tls_out(struct orc_httpd_conn *c, bool close_after)
{
    size_t n;
    char *data = orc_tls_take(c->tls, &n);

    if (data == NULL) {
        if (close_after) start_linger(c);
        return 0;
    }
    return orc_httpd__send_raw(c, data, n, close_after);
}

/* Sends what was built in c->wbuf as one write: the buffer itself for plain
 * HTTP, its encryption (plus close_notify when closing) with TLS. */
int orc_httpd__flush_wbuf(struct orc_httpd_conn *c, bool close_after)
{
    size_t n;
    int rv;

    if (c->closing) return ORC_EIO;
    if (c->tls == NULL) {
        char *data = orc_buf_steal(&c->wbuf, &n);
        return orc_httpd__send_raw(c, data, n, close_after);
    }
    rv = orc_tls_send(c->tls, c->wbuf.data, c->wbuf.len);
    if (c->wbuf.cap > KEEP_WBUF) orc_buf_free(&c->wbuf);
    else orc_buf_reset(&c->wbuf);
    if (rv == 0 && close_after) rv = orc_tls_shutdown(c->tls);
    if (rv != 0) {
        orc_httpd__conn_close(c);
        return rv;
    }
    return orc_httpd__send_tls_out(c, close_after);
}

/* ---- closing after the last byte ---- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct orc_httpd_conn *c = req->data;

    c->shutting = false;
    if (c->closing) return;
    if (status < 0) orc_httpd__conn_close(c);
    else orc_httpd__deadline(c, DL_LINGER);
}

/* Sends FIN once the queued bytes are out, reads and drops whatever the
 * client still sends, and closes at its EOF or ORC_HTTPD_LINGER_MS after. */
static void start_linger(struct orc_httpd_conn *c)
{
    if (c->closing || c->shutting) return;
    c->lingering = true;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        orc_httpd__conn_close(c);
        return;
    }
    c->shutting = true;
    orc_httpd__deadline(c, DL_DRAIN);
    orc_httpd__read_on(c, true);
}

/* ---- whole responses ---- */

static void finish_request(struct orc_httpd_req *r, bool keep_alive)
{
    struct orc_httpd_conn *c = r->conn;

    orc_httpd_req_free(r);
    if (c == NULL) return;
    c->active = NULL;
    if (!keep_alive || c->closing || c->lingering) return; /* closes after the write */
    orc_httpd__deadline(c, uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) ? DL_DRAIN : DL_IDLE);
    orc_httpd__conn_process(c);
}

/* The server's own Content-Type and Cache-Control; a proxied reply carries
 * its upstream's headers instead (in r->warnings), and a Content-Type only
 * when the upstream sent one. */
static int own_headers(const struct orc_httpd_req *r, struct orc_buf *out, const char *ctype)
{
    if (r->proxy) return ctype ? orc_buf_printf(out, "Content-Type: %s\r\n", ctype) : 0;
    return orc_buf_printf(out, "Content-Type: %s\r\nCache-Control: no-cache, private\r\n",
                          ctype ? ctype : "text/plain");
}

void orc_httpd_respond(struct orc_httpd_req *r, int status, const char *content_type, const char *body,
                      size_t len, const char *extra_headers)
{
    struct orc_httpd_conn *c = r->conn;
    struct orc_buf *out;
    bool keep = r->keep_alive && !(c && (c->http->stopping || c->lingering));

    r->status = status;
    if (c == NULL || c->closing) {
        if (c == NULL && r->capture && len > 0) orc_buf_append(r->capture, body, len);
        finish_request(r, false);
        return;
    }
    c->http->requests++;
    out = &c->wbuf;
    orc_buf_reset(out);
    if (orc_buf_reserve(out, len + 256 + r->warnings.len) != 0
        || orc_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, orc_httpd_status_reason(status))
        || own_headers(r, out, content_type ? content_type : "text/plain")
        || orc_buf_printf(out, "Content-Length: %zu\r\n%s%s%s\r\n", len,
                          keep ? "" : "Connection: close\r\n",
                          r->warnings.data ? r->warnings.data : "",
                          extra_headers ? extra_headers : "") != 0
        || orc_buf_append(out, body, len) != 0) {
        orc_buf_free(out);
        c->active = NULL; /* the handler is ending it: no gone hook */
        r->conn = NULL;
        orc_httpd__conn_close(c);
        orc_httpd_req_free(r);
        return;
    }
    orc_httpd__flush_wbuf(c, !keep);
    finish_request(r, keep);
}

/* ---- streams ---- */

void orc_httpd__queue_drop(struct orc_httpd_conn *c)
{
    for (size_t i = 0; i < c->q_len; i++) orc_httpd_chunk_unref(c->q[(c->q_head + i) % c->q_cap]);
    c->q_head = c->q_len = 0;
    c->q_off = 0;
    c->q_bytes = 0;
}

static int queue_push(struct orc_httpd_conn *c, struct orc_httpd_chunk *ch)
{
    if (c->q_len == c->q_cap) {
        size_t cap = c->q_cap ? c->q_cap * 2 : 16;
        struct orc_httpd_chunk **q = malloc(cap * sizeof *q);
        if (q == NULL) return ORC_ENOMEM;
        for (size_t i = 0; i < c->q_len; i++) q[i] = c->q[(c->q_head + i) % c->q_cap];
        free(c->q);
        c->q = q;
        c->q_cap = cap;
        c->q_head = 0;
    }
    c->q[(c->q_head + c->q_len++) % c->q_cap] = ch;
    c->q_bytes += ch->len;
    ch->refs++;
    if (ch->counted == NULL) {
        ch->counted = c->http;
        c->http->chunk_bytes += ch->len;
    }
    mark_dirty(c);
    return 0;
}

/* Moves up to `max` queued bytes into c->wbuf (a chunk may be split). */
static int queue_take(struct orc_httpd_conn *c, size_t max)
{
    if (orc_buf_reserve(&c->wbuf, c->q_bytes < max ? c->q_bytes : max) != 0) return ORC_ENOMEM;
    while (c->q_len > 0 && max > 0) {
        struct orc_httpd_chunk *ch = c->q[c->q_head];
        size_t n = ch->len - c->q_off < max ? ch->len - c->q_off : max;

        if (orc_buf_append(&c->wbuf, ch->data + c->q_off, n) != 0) return ORC_ENOMEM;
        c->q_off += n;
        c->q_bytes -= n;
        max -= n;
        if (c->q_off == ch->len) {
            c->q_head = (c->q_head + 1) % c->q_cap;
            c->q_len--;
            c->q_off = 0;
            orc_httpd_chunk_unref(ch);
        }
    }
    return 0;
}

size_t orc_httpd_stream_pending(const struct orc_httpd_req *r)
{
    const struct orc_httpd_conn *c = r->conn;
    return c ? c->q_bytes + uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) : 0;
}

int orc_httpd_stream_begin(struct orc_httpd_req *r, int status, const char *content_type)
{
    struct orc_httpd_conn *c = r->conn;

    if (c == NULL || c->closing) return ORC_ECANCELED;
    orc_buf_reset(&c->wbuf);
    if (orc_buf_printf(&c->wbuf, "HTTP/1.1 %d %s\r\n", status, orc_httpd_status_reason(status))
        || own_headers(r, &c->wbuf, content_type)
        || orc_buf_printf(&c->wbuf, "Transfer-Encoding: chunked\r\n%s\r\n",
                          r->warnings.data ? r->warnings.data : "") != 0) {
        orc_buf_free(&c->wbuf);
        return ORC_ENOMEM;
    }
    r->streaming = true;
    r->status = status;
    if (r->on_started) r->on_started(r);
    c->http->requests++;
    if (orc_httpd__flush_wbuf(c, false) != 0) return ORC_EIO;
    orc_httpd__conn_process(c); /* resumes reading, so a client hanging up is noticed */
    return 0;
}

int orc_httpd_stream_chunk(struct orc_httpd_req *r, struct orc_httpd_chunk *ch, size_t max_queue)
{
    struct orc_httpd_conn *c = r->conn;
    size_t pending;

    if (c == NULL || c->closing) return ORC_ECANCELED;
    if (c->cut_pending) return ORC_ETOOBIG;
    if (max_queue == 0) max_queue = c->http->limits.stream_queue;
    pending = orc_httpd_stream_pending(r);
    /* An empty stream takes one chunk whatever its size: a big object does
     * not end a watcher that keeps up. */
    if (pending > 0 && pending + ch->len > max_queue) {
        c->cut_pending = true; /* ended at the next flush, or by the handler */
        c->cut_bound = max_queue;
        mark_dirty(c);
        return ORC_ETOOBIG;
    }
    return queue_push(c, ch);
}

int orc_httpd_stream_write(struct orc_httpd_req *r, const char *data, size_t len, size_t max_queue)
{
    struct orc_httpd_chunk *ch;
    int rv;

    if (r->conn == NULL || r->conn->closing) return ORC_ECANCELED;
    if ((ch = orc_httpd_chunk_new(data, len)) == NULL) return ORC_ENOMEM;
    rv = orc_httpd_stream_chunk(r, ch, max_queue);
    orc_httpd_chunk_unref(ch);
    return rv;
}

/* Moves queued output into writes of a batch each, while the socket keeps
 * up (all: everything, now). */
static void flush_queue(struct orc_httpd_conn *c, bool all)
{
    size_t budget = FLUSH_BUDGET;

    while (c->q_len > 0 && !c->closing) {
        if (!all && (budget == 0 || uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0)) break;
        orc_buf_reset(&c->wbuf);
        if (queue_take(c, all ? SIZE_MAX : FLUSH_BATCH) != 0) {
            orc_httpd__conn_close(c);
            return;
        }
        budget = c->wbuf.len >= budget ? 0 : budget - c->wbuf.len;
        if (orc_httpd__flush_wbuf(c, false) != 0) return;
    }
    /* A thousand streams must not each keep a buffer. */
    if (!c->closing) orc_buf_free(&c->wbuf);
}

/* bound: the stream's own, or 0 when all streams together were over theirs */
static void log_cut(struct orc_httpd_conn *c, size_t bound)
{
    struct orc_httpd *h = c->http;
    const char *target = c->active && c->active->target ? c->active->target : "";
    size_t waiting = c->active ? orc_httpd_stream_pending(c->active) : 0;

    if (bound)
        orc_httpd__log_limited(h, &h->log_cut,
                              "ended a stream to %s (%.200s): the client is not reading fast enough "
                              "(%zu KiB waiting, bound %zu KiB)",
                              c->peer, target, waiting / 1024, bound / 1024);
    else
        orc_httpd__log_limited(h, &h->log_cut,
                              "ended a stream to %s (%.200s), the one with the most waiting (%zu KiB): "
                              "clients not reading fast enough hold %zu MiB, bound %zu MiB",
                              c->peer, target, waiting / 1024, (h->chunk_bytes + h->wq_bytes) >> 20,
                              h->limits.streams_memory >> 20);
}

void orc_httpd__cut(struct orc_httpd_conn *c, bool ending)
{
    struct orc_httpd_req *r = c->active;
    struct orc_httpd_chunk *fw = NULL;

    if (c->closing || r == NULL) return;
    log_debug(c->http->mod, "ending the stream to %s: %zu bytes waiting", c->peer,
              orc_httpd_stream_pending(r));
    c->cut_pending = false;
    c->active = NULL;
    r->conn = NULL;
    if (r->whole_or_nothing) {
        orc_httpd__conn_abort(c);
    } else {
        orc_httpd__queue_drop(c);
        orc_buf_reset(&c->wbuf);
        if (r->farewell && (fw = orc_httpd_chunk_new(r->farewell, r->farewell_len)) != NULL) {
            orc_buf_append(&c->wbuf, fw->data, fw->len);
            orc_httpd_chunk_unref(fw);
        }
        orc_buf_append(&c->wbuf, LAST_CHUNK, sizeof LAST_CHUNK - 1);
        orc_httpd__flush_wbuf(c, true);
    }
    if (!ending && r->on_gone) r->on_gone(r);
}

void orc_httpd_stream_end(struct orc_httpd_req *r)
{
    struct orc_httpd_conn *c = r->conn;
    bool keep = r->keep_alive && c && !c->http->stopping && !c->lingering;

    if (c != NULL && !c->closing && c->cut_pending) {
        log_cut(c, c->cut_bound);
        orc_httpd__cut(c, true);
        finish_request(r, false);
        return;
    }
    if (c != NULL && !c->closing) {
        struct orc_httpd_chunk *last = chunk_raw(LAST_CHUNK, sizeof LAST_CHUNK - 1);
        if (last && queue_push(c, last) == 0) {
            flush_queue(c, true);
            if (!keep && !c->closing) start_linger(c);
        } else {
            keep = false;
            orc_httpd__conn_close(c);
        }
        orc_httpd_chunk_unref(last);
    }
    finish_request(r, keep);
}

void orc_httpd_stream_abort(struct orc_httpd_req *r)
{
    struct orc_httpd_conn *c = r->conn;

    if (c != NULL && !c->closing) {
        log_debug(c->http->mod, "resetting the stream to %s: %zu bytes waiting", c->peer,
                  orc_httpd_stream_pending(r));
        c->active = NULL; /* the handler is ending it: no gone hook */
        r->conn = NULL;
        orc_httpd__conn_abort(c);
    }
    finish_request(r, false);
}

/* ---- tunnels (their input side is in httpd.c) ---- */

int orc_httpd_tunnel_write(struct orc_httpd_req *r, const char *data, size_t len)
{
    struct orc_httpd_chunk *ch;
    int rv;

    if (r->conn == NULL || r->conn->closing) return ORC_ECANCELED;
    if ((ch = chunk_raw(data, len)) == NULL) return ORC_ENOMEM;
    rv = orc_httpd_stream_chunk(r, ch, 0);
    orc_httpd_chunk_unref(ch);
    if (rv == 0) orc_httpd__deadline(r->conn, DL_TUNNEL);
    return rv;
}

void orc_httpd_tunnel_end(struct orc_httpd_req *r)
{
    struct orc_httpd_conn *c = r->conn;

    if (c != NULL && !c->closing && c->cut_pending) {
        log_cut(c, c->cut_bound);
        orc_httpd__cut(c, true);
    } else if (c != NULL && !c->closing) {
        flush_queue(c, true);
        if (!c->closing) start_linger(c);
    }
    finish_request(r, false);
}

/* ---- once per loop iteration ---- */

struct victim {
    struct orc_httpd_conn *c;
    size_t pending;
};

static int by_pending_desc(const void *a, const void *b)
{
    size_t pa = ((const struct victim *)a)->pending, pb = ((const struct victim *)b)->pending;
    return pa < pb ? 1 : pa > pb ? -1 : 0;
}

/* When stream output of all connections together passes the bound, the
 * streams holding the most are ended until what they hold would bring the
 * rest under it. Connections already closing are leaving (their bytes go
 * within ORC_HTTPD_LINGER_MS) and are not counted; a stream holding less than
 * ORC_HTTPD_STREAM_LOW_WATER keeps up and is never ended for the others. Shared
 * chunks stay until their last stream drops them, so several rounds may
 * be needed; each ends only streams that are behind. */
static void enforce_memory(struct orc_httpd *h)
{
    size_t total = h->chunk_bytes + h->wq_bytes, leaving = 0, planned = 0, n = 0, cap = 0;
    struct victim *v;

    if (total <= h->limits.streams_memory) return;
    for (struct orc_link *l = h->conns.next; l != &h->conns; l = l->next) cap++;
    if ((v = calloc(cap ? cap : 1, sizeof *v)) == NULL) return;
    for (struct orc_link *l = h->conns.next; l != &h->conns; l = l->next) {
        struct orc_httpd_conn *c = ORC_CONTAINER(l, struct orc_httpd_conn, link);
        size_t p;
        if (c->active == NULL || !c->active->streaming || c->lingering) {
            leaving += uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
            continue;
        }
        if ((p = orc_httpd_stream_pending(c->active)) > ORC_HTTPD_STREAM_LOW_WATER) v[n++] = (struct victim){c, p};
    }
    total = total > leaving ? total - leaving : 0;
    qsort(v, n, sizeof *v, by_pending_desc);
    for (size_t i = 0; i < n && total > h->limits.streams_memory + planned; i++) {
        planned += v[i].pending;
        log_cut(v[i].c, 0);
        orc_httpd__cut(v[i].c, false);
    }
    free(v);
}

/* Flushes dirty streams in arrival order, for FLUSH_SLICE_NS per loop
 * iteration; the rest wait, first in line, for the next. So requests on the
 * same loop do not wait long behind a thousand streams, and the busier the
 * streams, the more output each write carries: a stream's output keeps
 * coalescing until its turn comes (one TLS record batch, one syscall). But
 * output that waited FLUSH_MAX_WAIT_NS goes first, whatever the slice:
 * when writes produce events faster than they can be sent, the writes slow
 * down, rather than the watchers falling behind. */
static void on_flush(uv_check_t *check)
{
    struct orc_httpd *h = check->data;
    uint64_t t0 = uv_hrtime();
    struct orc_link batch;

    orc_list_init(&batch);
    orc_list_splice(&batch, &h->dirty);
    while (!orc_list_empty(&batch)) {
        struct orc_httpd_conn *c = ORC_CONTAINER(batch.next, struct orc_httpd_conn, dirty_link);
        uint64_t now = uv_hrtime();
        if (now - t0 >= FLUSH_SLICE_NS && now - c->dirty_since < FLUSH_MAX_WAIT_NS) break;
        orc_list_remove(&c->dirty_link);
        if (c->closing) continue;
        if (c->cut_pending) {
            log_cut(c, c->cut_bound);
            orc_httpd__cut(c, false);
            continue;
        }
        flush_queue(c, false);
        if (c->q_len > 0 && !c->closing && uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
            mark_dirty(c); /* over this iteration's budget */
        if (c->closing || c->active == NULL || c->active->on_drain == NULL) continue;
        if (orc_httpd_stream_pending(c->active) <= ORC_HTTPD_STREAM_LOW_WATER) c->active->on_drain(c->active);
    }
    /* Those not reached go before those marked meanwhile. */
    orc_list_splice(&batch, &h->dirty);
    orc_list_splice(&h->dirty, &batch);
    enforce_memory(h);
    if (orc_list_empty(&h->dirty)) uv_idle_stop(&h->flush_idle);
}

int orc_httpd__out_init(struct orc_httpd *h)
{
    uv_check_init(h->loop, &h->flush_check);
    uv_idle_init(h->loop, &h->flush_idle);
    h->flush_check.data = h->flush_idle.data = h;
    h->open_handles += 2;
    uv_check_start(&h->flush_check, on_flush);
    uv_unref((uv_handle_t *)&h->flush_check);
    return 0;
}

void orc_httpd__out_close(struct orc_httpd *h, uv_close_cb cb)
{
    uv_close((uv_handle_t *)&h->flush_check, cb);
    uv_close((uv_handle_t *)&h->flush_idle, cb);
}
