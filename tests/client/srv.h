/* srv.h — a scriptable HTTP/1.1 test server on libuv for the client tests:
 * it parses requests with llhttp, records them, and lets each test write the
 * reply by hand (or none, garbage, or a close). Header-only so each test
 * program in tests/client/ can include it. */
#ifndef ORC_TEST_SRV_H
#define ORC_TEST_SRV_H

#include <llhttp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "lib/buf.h"
#include "lib/list.h"
#include "tests/harness/test.h"

#define SRV_FN static __attribute__((unused))

struct srv;

struct srv_req {
    int conn_id; /* 1-based accept order */
    int seq;     /* 1-based request number on its connection */
    char method[16];
    char path[512];
    char auth[256];
    char ctype[128];
    char clen[32];
    char host[128];
    char xtra[128]; /* value of "X-Test", if sent */
    char *body;     /* valid during the handler */
    size_t body_len;
};

struct srv_conn {
    struct srv *s;
    uv_tcp_t tcp;
    llhttp_t parser;
    struct orc_link link; /* in srv.conns, newest first */
    int id;
    int n_req;
    int closing;
    struct srv_req rq;
    struct orc_buf field, value, body, path;
    void *user;
};

typedef void (*srv_handler)(struct srv_conn *sc, const struct srv_req *rq);

struct srv {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    srv_handler handler;
    void *user;
    struct orc_link conns;
    int n_accepted, n_open, max_open, n_requests;
    int stopped;
    struct srv_req last;
    char last_body[4096];
    /* running on a thread of its own */
    uv_loop_t own_loop;
    uv_thread_t thread;
    uv_async_t stop_async;
    uv_sem_t ready;
};

struct srv_write {
    uv_write_t req;
    char data[];
};

SRV_FN void srv_on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

SRV_FN void srv_send(struct srv_conn *sc, const void *data, size_t len)
{
    struct srv_write *w;
    uv_buf_t b;

    if (sc->closing) return;
    w = malloc(sizeof *w + len);
    CHECK(w != NULL);
    memcpy(w->data, data, len);
    b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&sc->tcp, &b, 1, srv_on_written) != 0) free(w);
}

SRV_FN void srv_sendf(struct srv_conn *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
SRV_FN void srv_sendf(struct srv_conn *sc, const char *fmt, ...)
{
    struct orc_buf b = ORC_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    CHECK(orc_buf_vprintf(&b, fmt, ap) == 0);
    va_end(ap);
    srv_send(sc, b.data, b.len);
    orc_buf_free(&b);
}

/* A complete reply with Content-Length; extra: "Name: v\r\n" lines or "". */
SRV_FN void srv_reply(struct srv_conn *sc, int status, const char *extra, const char *body)
{
    srv_sendf(sc, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n%s", status, strlen(body), extra,
              body);
}

SRV_FN void srv_conn_closed(uv_handle_t *h)
{
    struct srv_conn *sc = h->data;

    orc_buf_free(&sc->field);
    orc_buf_free(&sc->value);
    orc_buf_free(&sc->body);
    orc_buf_free(&sc->path);
    free(sc);
}

SRV_FN void srv_close_conn(struct srv_conn *sc)
{
    if (sc->closing) return;
    sc->closing = 1;
    sc->s->n_open--;
    orc_list_remove(&sc->link);
    uv_close((uv_handle_t *)&sc->tcp, srv_conn_closed);
}

static void srv_copy(char *dst, size_t n, const struct orc_buf *b)
{
    snprintf(dst, n, "%s", b->data ? b->data : "");
}

SRV_FN int srv_on_url(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *sc = p->data;
    return orc_buf_append(&sc->path, at, len);
}

SRV_FN int srv_on_field(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *sc = p->data;
    return orc_buf_append(&sc->field, at, len);
}

SRV_FN int srv_on_value(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *sc = p->data;
    return orc_buf_append(&sc->value, at, len);
}

SRV_FN int srv_on_value_complete(llhttp_t *p)
{
    struct srv_conn *sc = p->data;
    const char *f = sc->field.data ? sc->field.data : "";

    if (strcasecmp(f, "authorization") == 0) srv_copy(sc->rq.auth, sizeof sc->rq.auth, &sc->value);
    if (strcasecmp(f, "content-type") == 0) srv_copy(sc->rq.ctype, sizeof sc->rq.ctype, &sc->value);
    if (strcasecmp(f, "content-length") == 0) srv_copy(sc->rq.clen, sizeof sc->rq.clen, &sc->value);
    if (strcasecmp(f, "host") == 0) srv_copy(sc->rq.host, sizeof sc->rq.host, &sc->value);
    if (strcasecmp(f, "x-test") == 0) srv_copy(sc->rq.xtra, sizeof sc->rq.xtra, &sc->value);
    orc_buf_reset(&sc->field);
    orc_buf_reset(&sc->value);
    return 0;
}

SRV_FN int srv_on_body(llhttp_t *p, const char *at, size_t len)
{
    struct srv_conn *sc = p->data;
    return orc_buf_append(&sc->body, at, len);
}

SRV_FN int srv_on_begin(llhttp_t *p)
{
    struct srv_conn *sc = p->data;

    memset(&sc->rq, 0, sizeof sc->rq);
    orc_buf_reset(&sc->body);
    orc_buf_reset(&sc->path);
    return 0;
}

SRV_FN int srv_on_complete(llhttp_t *p)
{
    struct srv_conn *sc = p->data;
    struct srv *s = sc->s;

    sc->rq.conn_id = sc->id;
    sc->rq.seq = ++sc->n_req;
    snprintf(sc->rq.method, sizeof sc->rq.method, "%s", llhttp_method_name(p->method));
    srv_copy(sc->rq.path, sizeof sc->rq.path, &sc->path);
    sc->rq.body = sc->body.data ? sc->body.data : "";
    sc->rq.body_len = sc->body.len;
    s->n_requests++;
    s->last = sc->rq;
    snprintf(s->last_body, sizeof s->last_body, "%s", sc->rq.body);
    s->handler(sc, &sc->rq);
    return sc->closing ? HPE_PAUSED : 0;
}

static const llhttp_settings_t srv_settings = {
    .on_message_begin = srv_on_begin,
    .on_url = srv_on_url,
    .on_header_field = srv_on_field,
    .on_header_value = srv_on_value,
    .on_header_value_complete = srv_on_value_complete,
    .on_body = srv_on_body,
    .on_message_complete = srv_on_complete,
};

SRV_FN void srv_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    static char rbuf[65536];
    (void)h;
    (void)hint;
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

SRV_FN void srv_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct srv_conn *sc = st->data;

    if (nread < 0) {
        srv_close_conn(sc);
        return;
    }
    if (nread > 0 && llhttp_execute(&sc->parser, buf->base, (size_t)nread) != HPE_OK)
        srv_close_conn(sc);
}

SRV_FN void srv_on_conn(uv_stream_t *l, int status)
{
    struct srv *s = l->data;
    struct srv_conn *sc;

    if (status != 0) return;
    sc = calloc(1, sizeof *sc);
    CHECK(sc != NULL);
    sc->s = s;
    CHECK(uv_tcp_init(s->loop, &sc->tcp) == 0);
    sc->tcp.data = sc;
    if (uv_accept(l, (uv_stream_t *)&sc->tcp) != 0) {
        uv_close((uv_handle_t *)&sc->tcp, srv_conn_closed);
        return;
    }
    uv_tcp_nodelay(&sc->tcp, 1); /* replies written in pieces must not wait on Nagle */
    llhttp_init(&sc->parser, HTTP_REQUEST, &srv_settings);
    sc->parser.data = sc;
    sc->id = ++s->n_accepted;
    if (++s->n_open > s->max_open) s->max_open = s->n_open;
    orc_list_push_head(&s->conns, &sc->link);
    uv_read_start((uv_stream_t *)&sc->tcp, srv_alloc, srv_on_read);
}

/* Port from the pid (each test case is a fresh child), probing upward when
 * it is taken. */
SRV_FN void srv_start(struct srv *s, uv_loop_t *loop, srv_handler h)
{
    struct sockaddr_in a;
    int rv = -1;

    s->loop = loop;
    s->handler = h;
    orc_list_init(&s->conns);
    for (int i = 0; i < 50 && rv != 0; i++) {
        s->port = 20000 + (int)(((unsigned)getpid() * 7 + (unsigned)i * 131) % 30000);
        CHECK(uv_tcp_init(loop, &s->listener) == 0);
        s->listener.data = s;
        uv_ip4_addr("127.0.0.1", s->port, &a);
        rv = uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0);
        if (rv == 0) rv = uv_listen((uv_stream_t *)&s->listener, 511, srv_on_conn);
        if (rv != 0) uv_close((uv_handle_t *)&s->listener, NULL);
        if (rv != 0) uv_run(loop, UV_RUN_NOWAIT);
    }
    CHECKF(rv == 0, "no free port: %s", uv_strerror(rv));
}

/* Closes every open connection; the server keeps listening. */
SRV_FN void srv_drop_all(struct srv *s)
{
    while (!orc_list_empty(&s->conns))
        srv_close_conn(ORC_CONTAINER(s->conns.next, struct srv_conn, link));
}

SRV_FN void srv_stop(struct srv *s)
{
    if (s->stopped) return;
    s->stopped = 1;
    srv_drop_all(s);
    uv_close((uv_handle_t *)&s->listener, NULL);
}

SRV_FN void srv_url(const struct srv *s, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d", s->port);
}

/* ---- on a thread of its own (for blocking clients and benchmarks) ---- */

SRV_FN void srv_on_stop(uv_async_t *a)
{
    struct srv *s = a->data;

    srv_stop(s);
    uv_close((uv_handle_t *)a, NULL);
}

SRV_FN void srv_thread_main(void *arg)
{
    struct srv *s = arg;

    uv_run(&s->own_loop, UV_RUN_DEFAULT);
}

SRV_FN void srv_start_thread(struct srv *s, srv_handler h)
{
    CHECK(uv_loop_init(&s->own_loop) == 0);
    srv_start(s, &s->own_loop, h);
    CHECK(uv_async_init(&s->own_loop, &s->stop_async, srv_on_stop) == 0);
    s->stop_async.data = s;
    CHECK(uv_thread_create(&s->thread, srv_thread_main, s) == 0);
}

SRV_FN void srv_stop_thread(struct srv *s)
{
    uv_async_send(&s->stop_async);
    uv_thread_join(&s->thread);
    CHECK_INT(uv_loop_close(&s->own_loop), ==, 0);
}

/* ---- loop helpers for the tests ---- */

SRV_FN void srv_tick(uv_timer_t *t) { (void)t; }

/* Runs the loop until *flag is set or ms pass; a ticking timer keeps each
 * turn short. Not for use inside a callback. */
SRV_FN void run_until(uv_loop_t *loop, const int *flag, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    uv_timer_t t;

    CHECK(uv_timer_init(loop, &t) == 0);
    uv_timer_start(&t, srv_tick, 2, 2);
    while (!*flag && test_now_ms() < end) uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* Runs the loop for ms, however busy. */
SRV_FN void run_for(uv_loop_t *loop, unsigned ms)
{
    int never = 0;
    run_until(loop, &never, ms);
}

#endif
