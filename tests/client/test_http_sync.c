/* test_http_sync.c — http_sync_request against a server on its own thread,
 * and the request rate of sequential keep-alive GETs. */
#include "tests/client/fx.h"

static void h_echo(struct srv_conn *sc, const struct srv_req *rq)
{
    char body[1024];

    snprintf(body, sizeof body, "%s %s %s|%s", rq->method, rq->path, rq->body, rq->auth);
    srv_reply(sc, strcmp(rq->path, "/missing") == 0 ? 404 : 200,
              "Content-Type: text/plain\r\nWarning: 299 - \"a\"\r\nWarning: 299 - \"b\"\r\n", body);
}

TEST(sync_request_round_trip)
{
    struct srv s = {0};
    struct http_response r;
    struct http_request get = {.method = "GET", .path = "/api/v1/nodes", .timeout_ms = 5000};
    struct http_request post = {.method = "POST", .path = "/p", .content_type = "application/json",
                                .body = "{}", .body_len = 2};
    struct http_request missing = {.method = "GET", .path = "/missing"};
    char url[64];
    size_t it = 0;

    srv_start_thread(&s, h_echo);
    srv_url(&s, url, sizeof url);
    CHECK_INT(http_sync_request(url, FX_TOKEN, &get, &r), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.body, "GET /api/v1/nodes |Bearer " FX_TOKEN);
    CHECK_INT(r.body_len, ==, strlen(r.body));
    CHECK_STR(http_header_get(&r, "content-type"), "text/plain");
    CHECK_STR(http_header_next(&r, "warning", &it), "299 - \"a\"");
    CHECK_STR(http_header_next(&r, "warning", &it), "299 - \"b\"");
    http_response_free(&r);
    CHECK(r.headers == NULL && r.body == NULL);

    CHECK_INT(http_sync_request(url, NULL, &post, &r), ==, 0);
    CHECK_STR(r.body, "POST /p {}|");
    http_response_free(&r);
    CHECK_INT(http_sync_request(url, NULL, &missing, &r), ==, 0);
    CHECK_INT(r.status, ==, 404);
    http_response_free(&r);
    srv_stop_thread(&s);

    /* nothing listens there any more */
    CHECK_INT(http_sync_request(url, NULL, &get, &r), ==, ORC_EUNAVAIL);
    CHECK(r.headers == NULL && r.body == NULL);
    http_response_free(&r);
    CHECK_INT(http_sync_request("not a url", NULL, &get, &r), ==, ORC_EINVAL);
    fx_leak_check();
}

static void h_fixed(struct srv_conn *sc, const struct srv_req *rq)
{
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: 2\r\n\r\n{}";
    (void)rq;
    srv_send(sc, reply, sizeof reply - 1);
}

struct bench {
    http_client *c;
    int n, issued, completed, errors, done;
};

static const struct http_request bench_req = {.method = "GET",
                                              .path = "/api/v1/namespaces/default/pods/p"};

static void bench_next(void *arg, int err, const struct http_response *r)
{
    struct bench *b = arg;

    if (err != 0 || r->status != 200) b->errors++;
    if (++b->completed == b->n) b->done = 1;
    if (b->issued < b->n) {
        b->issued++;
        if (http_request(b->c, &bench_req, bench_next, b, NULL) != 0) b->errors++;
    }
}

static double bench_run(const char *url, int n, int inflight)
{
    uv_loop_t loop;
    struct bench b = {.n = n, .issued = inflight};
    uint64_t t0;
    double secs;
    int closed = 0;

    CHECK(uv_loop_init(&loop) == 0);
    CHECK_INT(http_client_new(&loop, url, FX_TOKEN, &b.c), ==, 0);
    t0 = test_now_ms();
    for (int i = 0; i < inflight; i++)
        CHECK_INT(http_request(b.c, &bench_req, bench_next, &b, NULL), ==, 0);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns when all are done: idle sockets are unref'd */
    secs = (double)(test_now_ms() - t0) / 1000.0;
    CHECK(b.done);
    CHECK_INT(b.errors, ==, 0);
    http_client_close(b.c, fx_set_flag, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed, ==, 1);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
    return n / (secs > 0 ? secs : 0.001);
}

/* Not a pass/fail benchmark: it reports the rate (server on another thread)
 * and checks that a sequential run stays on one connection. */
TEST_T(bench_sequential_keep_alive_gets, 120)
{
    struct srv s = {0};
    char url[64];
    double seq, par;

    srv_start_thread(&s, h_fixed);
    srv_url(&s, url, sizeof url);
    seq = bench_run(url, 20000, 1);
    par = bench_run(url, 50000, 32);
    srv_stop_thread(&s);
    CHECK_INT(s.n_accepted, ==, 1 + 32);
    fx_leak_check();
    fprintf(stderr, "# sequential keep-alive GETs: %.0f req/s; 32 in flight: %.0f req/s\n", seq, par);
}
