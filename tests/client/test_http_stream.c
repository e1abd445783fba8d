/* test_http_stream.c — the HTTP client's streaming replies (watches), cancel
 * at every stage, and closing a client with calls in flight. */
#include "tests/client/fx.h"

static struct srv_conn *watch_conn; /* the server side of the current watch */

static void h_watch(struct srv_conn *sc, const struct srv_req *rq)
{
    if (strncmp(rq->path, "/watch", 6) != 0) {
        srv_reply(sc, 200, "", "plain");
        return;
    }
    watch_conn = sc;
    srv_sendf(sc, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
    srv_sendf(sc, "c\r\n{\"n\":0}\n{\"n\"\r\n");
}

static void h_silent(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)sc;
    (void)rq;
}

static int start_watch(struct fx *f, struct stream *st, unsigned timeout_ms)
{
    struct http_request req = {.method = "GET", .path = "/watch?watch=1", .timeout_ms = timeout_ms};

    test_defer(stream_free, st);
    return http_stream(f->c, &req, &st_cbs, st, &st->call);
}

/* The server sends the next event only after the client has received the
 * previous one: the test passes only if bytes are delivered as they come. */
TEST(stream_delivers_incrementally)
{
    struct fx f;
    struct stream st = {0};
    struct reply rp;

    fx_init(&f, h_watch);
    CHECK_INT(start_watch(&f, &st, 1000), ==, 0);
    run_until(&f.loop, &st.n_data, 5000);
    CHECK_INT(st.heads, ==, 1);
    CHECK_INT(st.status, ==, 200);
    CHECK_STR(st.data.data, "{\"n\":0}\n{\"n\"");
    for (int i = 1; i <= 5; i++) {
        int want = st.n_data + 1;
        char ev[32];
        int n = snprintf(ev, sizeof ev, ":%d}\n{\"n\"", i);
        srv_sendf(watch_conn, "%x\r\n%s\r\n", n, ev);
        WAIT_UNTIL(&f.loop, st.n_data >= want, 5000);
        CHECK_INT(st.n_data, ==, want);
        CHECK_INT(st.ends, ==, 0);
    }
    CHECK_STR(st.data.data, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n{\"n\"");
    /* outlives its 1 s head timeout: the timeout covers the head only */
    run_for(&f.loop, 1200);
    CHECK_INT(st.ends, ==, 0);
    srv_sendf(watch_conn, "3\r\n:6}\r\n0\r\n\r\n");
    run_until(&f.loop, &st.ends, 5000);
    CHECK_INT(st.ends, ==, 1);
    CHECK_INT(st.end_err, ==, 0);
    /* a stream that ended cleanly gives its connection back to the pool */
    CHECK_INT(fx_get(&f, "/after", 0, &rp), ==, 0);
    CHECK_STR(rp.body, "plain");
    CHECK_INT(f.srv.n_accepted, ==, 1);
    run_for(&f.loop, 20);
    CHECK_INT(st.ends, ==, 1);
    fx_done(&f);
}

TEST(stream_cancel_from_outside)
{
    struct fx f;
    struct stream st = {0};
    struct reply rp;

    fx_init(&f, h_watch);
    CHECK_INT(start_watch(&f, &st, 0), ==, 0);
    run_until(&f.loop, &st.n_data, 5000);
    CHECK_INT(st.n_data, ==, 1);
    http_call_cancel(st.call);
    CHECK_INT(st.ends, ==, 0); /* never from inside http_call_cancel */
    run_until(&f.loop, &st.ends, 5000);
    CHECK_INT(st.end_err, ==, ORC_ECANCELED);
    WAIT_UNTIL(&f.loop, f.srv.n_open == 0, 5000);
    CHECK_INT(st.ends, ==, 1);
    CHECK_INT(f.srv.n_open, ==, 0); /* a canceled stream is not pooled */
    CHECK_INT(fx_get(&f, "/x", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(f.srv.n_accepted, ==, 2);
    fx_done(&f);
}

TEST(stream_cancel_inside_on_data)
{
    struct fx f;
    struct stream st = {0};

    fx_init(&f, h_watch);
    st.cancel_on_data = 2;
    CHECK_INT(start_watch(&f, &st, 0), ==, 0);
    run_until(&f.loop, &st.n_data, 5000);
    /* two chunks in one write: the second is where it cancels, the third
     * must never be delivered */
    srv_sendf(watch_conn, "1\r\na\r\n1\r\nb\r\n");
    run_until(&f.loop, &st.ends, 5000);
    CHECK_INT(st.end_err, ==, ORC_ECANCELED);
    CHECK_INT(st.n_data, ==, 2);
    run_for(&f.loop, 20);
    CHECK_INT(st.ends, ==, 1);
    CHECK_INT(st.n_data, ==, 2);
    fx_done(&f);
}

TEST(stream_head_timeout_and_errors)
{
    struct fx f;
    struct stream st = {0}, st2 = {0};

    fx_init(&f, h_silent);
    CHECK_INT(start_watch(&f, &st, 100), ==, 0);
    run_until(&f.loop, &st.ends, 5000);
    CHECK_INT(st.end_err, ==, ORC_ETIMEDOUT);
    CHECK_INT(st.heads, ==, 0);
    /* the server dies mid-stream */
    f.srv.handler = h_watch;
    CHECK_INT(start_watch(&f, &st2, 0), ==, 0);
    run_until(&f.loop, &st2.n_data, 5000);
    srv_close_conn(watch_conn);
    run_until(&f.loop, &st2.ends, 5000);
    CHECK_INT(st2.end_err, ==, ORC_EIO);
    fx_done(&f);
}

TEST(stream_bad_chunk_is_eproto)
{
    struct fx f;
    struct stream st = {0};

    fx_init(&f, h_watch);
    CHECK_INT(start_watch(&f, &st, 0), ==, 0);
    run_until(&f.loop, &st.n_data, 5000);
    srv_sendf(watch_conn, "zz\r\nnot a chunk\r\n");
    run_until(&f.loop, &st.ends, 5000);
    CHECK_INT(st.end_err, ==, ORC_EPROTO);
    fx_done(&f);
}

/* ---- cancel before a reply ---- */

TEST(cancel_during_connect_and_queue)
{
    struct fx f;
    struct reply rps[3] = {{0}};
    struct reply queued[70];
    http_call *call;
    struct http_request req = {.method = "GET", .path = "/x"};
    char url[64];

    fx_init(&f, h_silent);
    /* literal address: the connect is under way */
    CHECK_INT(http_request(f.c, &req, on_reply, &rps[0], &call), ==, 0);
    http_call_cancel(call);
    http_call_cancel(call); /* twice: still one callback */
    CHECK_INT(rps[0].done, ==, 0);
    run_until(&f.loop, &rps[0].done, 5000);
    CHECK_INT(rps[0].err, ==, ORC_ECANCELED);

    /* a name: the lookup is under way */
    http_client *c2;
    snprintf(url, sizeof url, "http://localhost:%d", f.srv.port);
    CHECK_INT(http_client_new(&f.loop, url, NULL, &c2), ==, 0);
    CHECK_INT(http_request(c2, &req, on_reply, &rps[1], &call), ==, 0);
    http_call_cancel(call);
    CHECK_INT(rps[1].done, ==, 0);
    run_until(&f.loop, &rps[1].done, 5000);
    CHECK_INT(rps[1].err, ==, ORC_ECANCELED);
    /* and the name does resolve */
    f.srv.handler = h_watch;
    CHECK_INT(http_request(c2, &req, on_reply, &rps[2], NULL), ==, 0);
    run_until(&f.loop, &rps[2].done, 5000);
    CHECK_INT(rps[2].err, ==, 0);
    CHECK_STR(rps[2].body, "plain");
    http_client_close(c2, NULL, NULL);

    /* waiting in the queue behind 64 busy connections */
    f.srv.handler = h_silent;
    memset(queued, 0, sizeof queued);
    for (int i = 0; i < 70; i++)
        CHECK_INT(http_request(f.c, &req, on_reply, &queued[i], i == 68 ? &call : NULL), ==, 0);
    run_for(&f.loop, 50);
    http_call_cancel(call);
    run_until(&f.loop, &queued[68].done, 5000);
    CHECK_INT(queued[68].err, ==, ORC_ECANCELED);
    for (int i = 0; i < 70; i++) CHECK_INT(queued[i].done, ==, i == 68);
    fx_done(&f);
    for (int i = 0; i < 70; i++) {
        CHECK_INT(queued[i].done, ==, 1);
        CHECK_INT(queued[i].err, ==, ORC_ECANCELED);
    }
}

/* ---- closing a client with calls in flight ---- */

struct close_ctx {
    http_client *c;
    int replies, canceled, closed, reissue_rv;
};

static void on_close_reply(void *arg, int err, const struct http_response *r)
{
    struct close_ctx *cx = arg;
    struct http_request req = {.method = "GET", .path = "/again"};

    (void)r;
    CHECK_INT(cx->closed, ==, 0); /* every callback before the close callback */
    cx->replies++;
    if (err == ORC_ECANCELED) cx->canceled++;
    cx->reissue_rv = http_request(cx->c, &req, on_close_reply, cx, NULL);
}

static void on_close_end(void *arg, int err)
{
    struct close_ctx *cx = arg;

    CHECK_INT(cx->closed, ==, 0);
    cx->replies++;
    if (err == ORC_ECANCELED) cx->canceled++;
}

static void on_close_data(void *arg, const char *d, size_t n)
{
    (void)arg;
    (void)d;
    (void)n;
}

TEST(client_close_with_calls_in_flight)
{
    struct fx f;
    struct close_ctx cx = {0};
    static const struct http_stream_cbs cbs = {NULL, on_close_data, on_close_end};
    struct http_request req = {.method = "GET", .path = "/x", .timeout_ms = 60000};
    struct http_request watch = {.method = "GET", .path = "/watch?watch=1"};

    fx_init(&f, h_silent);
    cx.c = f.c;
    for (int i = 0; i < 100; i++) CHECK_INT(http_request(f.c, &req, on_close_reply, &cx, NULL), ==, 0);
    run_for(&f.loop, 50);
    f.srv.handler = h_watch;
    for (int i = 0; i < 2; i++) CHECK_INT(http_stream(f.c, &watch, &cbs, &cx, NULL), ==, 0);
    run_for(&f.loop, 50);
    http_client_close(f.c, fx_set_flag, &cx.closed);
    CHECK_INT(cx.replies, ==, 0);
    srv_stop(&f.srv);
    run_until(&f.loop, &cx.closed, 5000);
    CHECK_INT(cx.closed, ==, 1);
    CHECK_INT(cx.replies, ==, 102);
    CHECK_INT(cx.canceled, ==, 102);
    CHECK_INT(cx.reissue_rv, ==, ORC_ESHUTDOWN);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&f.loop), ==, 0);
    fx_leak_check();
}

static int closed_in_cb;

static void on_reply_then_close(void *arg, int err, const struct http_response *r)
{
    struct close_ctx *cx = arg;

    (void)r;
    cx->replies++;
    if (err == ORC_ECANCELED) cx->canceled++;
    if (err == 0) http_client_close(cx->c, fx_set_flag, &closed_in_cb);
}

TEST(client_close_inside_callback)
{
    struct fx f;
    struct close_ctx cx = {0};
    struct stream st = {0};
    struct http_request fast = {.method = "GET", .path = "/fast"};

    fx_init(&f, h_watch);
    cx.c = f.c;
    CHECK_INT(start_watch(&f, &st, 0), ==, 0);
    run_until(&f.loop, &st.n_data, 5000);
    CHECK_INT(http_request(f.c, &fast, on_reply_then_close, &cx, NULL), ==, 0);
    run_until(&f.loop, &closed_in_cb, 5000);
    CHECK_INT(closed_in_cb, ==, 1);
    CHECK_INT(cx.replies, ==, 1);
    CHECK_INT(st.ends, ==, 1);
    CHECK_INT(st.end_err, ==, ORC_ECANCELED);
    f.c = NULL;
    fx_done(&f);
}

static void on_data_then_close(void *arg, const char *d, size_t n)
{
    struct close_ctx *cx = arg;

    (void)d;
    (void)n;
    http_client_close(cx->c, fx_set_flag, &closed_in_cb);
}

TEST(client_close_inside_on_data)
{
    struct fx f;
    struct close_ctx cx = {0};
    static const struct http_stream_cbs cbs = {NULL, on_data_then_close, on_close_end};
    struct http_request watch = {.method = "GET", .path = "/watch?watch=1"};

    fx_init(&f, h_watch);
    cx.c = f.c;
    CHECK_INT(http_stream(f.c, &watch, &cbs, &cx, NULL), ==, 0);
    run_until(&f.loop, &closed_in_cb, 5000);
    CHECK_INT(closed_in_cb, ==, 1);
    CHECK_INT(cx.replies, ==, 1);
    CHECK_INT(cx.canceled, ==, 1);
    f.c = NULL;
    fx_done(&f);
}
