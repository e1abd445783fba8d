/* test_http.c — the HTTP client's whole-reply requests against a hand-written
 * libuv server: round trips, keep-alive pool, framing, errors, retries. */
#include "tests/client/fx.h"

/* ---- handlers ---- */

/* 200 with "METHOD PATH BODY" and a text content type. */
static void h_echo(struct srv_conn *sc, const struct srv_req *rq)
{
    char body[1024];

    snprintf(body, sizeof body, "%s %s %s", rq->method, rq->path, rq->body);
    srv_reply(sc, 200, "Content-Type: text/plain\r\nX-Mixed-Case: v\r\n", body);
}

static void h_silent(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)sc;
    (void)rq;
}

/* ---- round trips ---- */

TEST(get_post_round_trip)
{
    struct fx f;
    struct reply rp;
    static const struct http_header extra[] = {{"X-Test", "yes"}};
    struct http_request post = {.method = "POST", .path = "/apis/x?y=1", .content_type =
        "application/json", .body = "{\"a\":1}", .body_len = 7, .headers = extra, .n_headers = 1};
    char host[64];

    fx_init(&f, h_echo);
    CHECK_INT(fx_get(&f, "/api/v1/pods", 0, &rp), ==, 0);
    CHECK_INT(rp.done, ==, 1);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(rp.status, ==, 200);
    CHECK_STR(rp.body, "GET /api/v1/pods ");
    CHECK_STR(rp.ctype, "text/plain");
    CHECK(rp.lower_names);
    CHECK_STR(f.srv.last.auth, "Bearer " FX_TOKEN);
    CHECK_STR(f.srv.last.clen, "");
    snprintf(host, sizeof host, "127.0.0.1:%d", f.srv.port);
    CHECK_STR(f.srv.last.host, host);

    memset(&rp, 0, sizeof rp);
    CHECK_INT(http_request(f.c, &post, on_reply, &rp, NULL), ==, 0);
    run_until(&f.loop, &rp.done, 5000);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(rp.body, "POST /apis/x?y=1 {\"a\":1}");
    CHECK_STR(f.srv.last.clen, "7");
    CHECK_STR(f.srv.last.ctype, "application/json");
    CHECK_STR(f.srv.last.auth, "Bearer " FX_TOKEN);
    CHECK_STR(f.srv.last.xtra, "yes");
    CHECK_STR(f.srv.last_body, "{\"a\":1}");
    fx_done(&f);
}

TEST(post_without_body_sends_zero_length)
{
    struct fx f;
    struct reply rp = {0};
    struct http_request req = {.method = "POST", .path = "/p"};

    fx_init(&f, h_echo);
    CHECK_INT(http_request(f.c, &req, on_reply, &rp, NULL), ==, 0);
    run_until(&f.loop, &rp.done, 5000);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(f.srv.last.clen, "0");
    fx_done(&f);
}

TEST(no_token_no_authorization)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_echo);
    http_client_close(f.c, NULL, NULL);
    CHECK_INT(http_client_new(&f.loop, f.url, NULL, &f.c), ==, 0);
    CHECK_INT(fx_get(&f, "/", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(f.srv.last.auth, "");
    fx_done(&f);
}

/* ---- keep-alive pool ---- */

struct chain {
    http_client *c;
    int left, ok, done;
};

static void chain_next(void *arg, int err, const struct http_response *r)
{
    struct chain *ch = arg;
    struct http_request req = {.method = "GET", .path = "/next"};

    if (err == 0 && r->status == 200) ch->ok++;
    if (--ch->left == 0) {
        ch->done = 1;
        return;
    }
    CHECK_INT(http_request(ch->c, &req, chain_next, ch, NULL), ==, 0);
}

TEST(keep_alive_reuses_one_connection)
{
    struct fx f;
    struct chain ch = {0};
    struct http_request req = {.method = "GET", .path = "/first"};
    struct reply rp;

    fx_init(&f, h_echo);
    ch.c = f.c;
    ch.left = 50;
    CHECK_INT(http_request(f.c, &req, chain_next, &ch, NULL), ==, 0);
    run_until(&f.loop, &ch.done, 10000);
    CHECK_INT(ch.ok, ==, 50);
    /* and requests made later, outside any callback, too */
    for (int i = 0; i < 5; i++) CHECK_INT(fx_get(&f, "/later", 0, &rp), ==, 0);
    CHECK_INT(f.srv.n_requests, ==, 55);
    CHECK_INT(f.srv.n_accepted, ==, 1);
    fx_done(&f);
}

/* Replies held back and released in batches, so that every request is in
 * flight at once. */
static struct srv_conn *held[256];
static char held_path[256][512];
static int n_held;

static void h_hold(struct srv_conn *sc, const struct srv_req *rq)
{
    CHECK(n_held < 256);
    held[n_held] = sc;
    snprintf(held_path[n_held], sizeof held_path[0], "%s", rq->path);
    n_held++;
}

static void release_held(uv_timer_t *t)
{
    (void)t;
    for (int i = 0; i < n_held; i++) srv_reply(held[i], 200, "", held_path[i]);
    n_held = 0;
}

TEST(many_concurrent_requests_respect_cap)
{
    enum { N = 200 };
    static struct reply rps[N];
    struct fx f;
    char paths[N][32];
    uv_timer_t t;
    int all = 0;

    fx_init(&f, h_hold);
    for (int i = 0; i < N; i++) {
        struct http_request req = {.method = "GET", .path = paths[i]};
        snprintf(paths[i], sizeof paths[i], "/r/%d", i);
        CHECK_INT(http_request(f.c, &req, on_reply, &rps[i], NULL), ==, 0);
    }
    WAIT_UNTIL(&f.loop, n_held >= 64, 5000);
    run_for(&f.loop, 50);
    CHECK_INT(n_held, ==, 64); /* the cap: the rest wait in the queue */
    CHECK(uv_timer_init(&f.loop, &t) == 0);
    uv_timer_start(&t, release_held, 5, 5);
    for (uint64_t end = test_now_ms() + 10000; !all && test_now_ms() < end;) {
        run_for(&f.loop, 10);
        all = 1;
        for (int i = 0; i < N; i++) all &= rps[i].done == 1;
    }
    for (int i = 0; i < N; i++) {
        CHECKF(rps[i].done == 1 && rps[i].err == 0, "request %d: done %d err %d", i, rps[i].done,
               rps[i].err);
        CHECK_STR(rps[i].body, paths[i]);
    }
    CHECK_INT(f.srv.max_open, <=, 64);
    CHECK_INT(f.srv.n_accepted, ==, 64);
    uv_close((uv_handle_t *)&t, NULL);
    fx_done(&f);
}

/* ---- framing ---- */

static void h_chunked(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_sendf(sc, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: a/b\r\n\r\n");
    srv_sendf(sc, "5\r\nhello\r\n");
    srv_sendf(sc, "1;ext=1\r\n \r\n");
    srv_sendf(sc, "5\r\nworld\r\n0\r\nTrailer-X: y\r\n\r\n");
}

TEST(chunked_reply_and_reuse)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_chunked);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(fx_get(&f, "/c", 0, &rp), ==, 0);
        CHECK_INT(rp.err, ==, 0);
        CHECK_STR(rp.body, "hello world");
        CHECK_INT(rp.body_len, ==, 11);
        CHECK_STR(rp.ctype, "a/b");
    }
    CHECK_INT(f.srv.n_accepted, ==, 1);
    fx_done(&f);
}

static void h_warnings(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_reply(sc, 201,
              "WARNING: 299 - \"unknown field spec.foo\"\r\nX-One: 1  \r\n"
              "Warning: 299 - \"unknown field spec.bar\"\r\nEmpty:\r\n",
              "{}");
}

static int warnings_seen;

static void on_warnings(void *arg, int err, const struct http_response *r)
{
    size_t it = 0;
    const char *w;

    CHECK_INT(err, ==, 0);
    CHECK_INT(r->status, ==, 201);
    CHECK_STR(http_header_get(r, "warning"), "299 - \"unknown field spec.foo\"");
    w = http_header_next(r, "warning", &it);
    CHECK_STR(w, "299 - \"unknown field spec.foo\"");
    w = http_header_next(r, "warning", &it);
    CHECK_STR(w, "299 - \"unknown field spec.bar\"");
    CHECK(http_header_next(r, "warning", &it) == NULL);
    CHECK(http_header_next(r, "warning", &it) == NULL);
    CHECK_STR(http_header_get(r, "x-one"), "1");
    CHECK_STR(http_header_get(r, "empty"), "");
    CHECK(http_header_get(r, "absent") == NULL);
    ++*(int *)arg;
    warnings_seen = 1;
}

TEST(repeated_warning_headers)
{
    struct fx f;
    int done = 0;
    struct http_request req = {.method = "PUT", .path = "/w", .body = "{}", .body_len = 2};

    fx_init(&f, h_warnings);
    CHECK_INT(http_request(f.c, &req, on_warnings, &done, NULL), ==, 0);
    run_until(&f.loop, &done, 5000);
    CHECK(warnings_seen);
    fx_done(&f);
}

static void h_head_and_friends(struct srv_conn *sc, const struct srv_req *rq)
{
    if (strcmp(rq->method, "HEAD") == 0)
        srv_sendf(sc, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    else if (strcmp(rq->path, "/204") == 0)
        srv_sendf(sc, "HTTP/1.1 204 No Content\r\n\r\n");
    else if (strcmp(rq->path, "/continue") == 0)
        srv_sendf(sc, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    else
        srv_reply(sc, 200, "", "fine");
}

TEST(head_204_and_interim_replies)
{
    struct fx f;
    struct reply rp = {0};
    struct http_request head = {.method = "HEAD", .path = "/h"};

    fx_init(&f, h_head_and_friends);
    CHECK_INT(http_request(f.c, &head, on_reply, &rp, NULL), ==, 0);
    run_until(&f.loop, &rp.done, 5000);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(rp.body_len, ==, 0);
    CHECK_INT(fx_get(&f, "/204", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(rp.status, ==, 204);
    CHECK_INT(fx_get(&f, "/continue", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(rp.status, ==, 200);
    CHECK_STR(rp.body, "ok");
    CHECK_INT(fx_get(&f, "/x", 0, &rp), ==, 0);
    CHECK_STR(rp.body, "fine");
    CHECK_INT(f.srv.n_accepted, ==, 1);
    fx_done(&f);
}

static void h_until_eof(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_sendf(sc, "HTTP/1.0 200 OK\r\nContent-Type: t/x\r\n\r\nbody until the ");
    srv_sendf(sc, "connection closes");
    srv_close_conn(sc);
}

TEST(body_delimited_by_close)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_until_eof);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(fx_get(&f, "/eof", 0, &rp), ==, 0);
        CHECK_INT(rp.err, ==, 0);
        CHECK_STR(rp.body, "body until the connection closes");
    }
    CHECK_INT(f.srv.n_accepted, ==, 2);
    fx_done(&f);
}

static void h_huge(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_sendf(sc, "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\nxxxx");
}

TEST(body_over_64mib_is_too_big)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_huge);
    CHECK_INT(fx_get(&f, "/big", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_ETOOBIG);
    fx_done(&f);
}

/* Bodies of several MiB, by length and chunked, arrive over many reads. */
static void h_large(struct srv_conn *sc, const struct srv_req *rq)
{
    size_t n = (size_t)5 << 20;
    char *b = malloc(n);

    CHECK(b != NULL);
    for (size_t i = 0; i < n; i++) b[i] = (char)('a' + i % 26);
    if (strcmp(rq->path, "/chunked") == 0) {
        srv_sendf(sc, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (size_t off = 0; off < n; off += (size_t)1 << 20) {
            srv_sendf(sc, "%zx\r\n", (size_t)1 << 20);
            srv_send(sc, b + off, (size_t)1 << 20);
            srv_sendf(sc, "\r\n");
        }
        srv_sendf(sc, "0\r\n\r\n");
    } else {
        srv_sendf(sc, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
        srv_send(sc, b, n);
    }
    free(b);
}

static void on_large(void *arg, int err, const struct http_response *r)
{
    CHECK_INT(err, ==, 0);
    CHECK_INT(r->body_len, ==, (size_t)5 << 20);
    for (size_t i = 0; i < r->body_len; i++)
        if (r->body[i] != (char)('a' + i % 26)) test_fail(__FILE__, __LINE__, "byte %zu", i);
    CHECK(r->body[r->body_len] == '\0');
    ++*(int *)arg;
}

TEST(large_bodies)
{
    static const char *const paths[] = {"/length", "/chunked", "/length"};
    struct fx f;

    fx_init(&f, h_large);
    for (size_t i = 0; i < ORC_ARRAY_LEN(paths); i++) {
        struct http_request req = {.method = "GET", .path = paths[i], .timeout_ms = 20000};
        int done = 0;
        CHECK_INT(http_request(f.c, &req, on_large, &done, NULL), ==, 0);
        run_until(&f.loop, &done, 20000);
        CHECK_INT(done, ==, 1);
    }
    CHECK_INT(f.srv.n_accepted, ==, 1);
    fx_done(&f);
}

/* ---- bad servers ---- */

static const char *garbage;
static size_t garbage_len;

static void h_garbage(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_send(sc, garbage, garbage_len);
}

TEST(garbage_reply_is_eproto)
{
    static const char *const bad[] = {
        "garbage\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
        "\x01\x02\x03\x04\xff\xfe",
    };
    struct fx f;
    struct reply rp;

    fx_init(&f, h_garbage);
    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
        garbage = bad[i];
        garbage_len = strlen(bad[i]) + (i == ORC_ARRAY_LEN(bad) - 1);
        CHECK_INT(fx_get(&f, "/g", 2000, &rp), ==, 0);
        CHECKF(rp.err == ORC_EPROTO, "case %zu: %s", i, orc_strerror(rp.err));
    }
    fx_done(&f);
}

TEST(oversized_headers_are_eproto)
{
    struct fx f;
    struct reply rp;
    struct orc_buf b = ORC_BUF_INIT;

    fx_init(&f, h_garbage);
    CHECK(orc_buf_puts(&b, "HTTP/1.1 200 OK\r\nX-Big: ") == 0);
    for (int i = 0; i < 300 * 1024; i++) CHECK(orc_buf_append(&b, "a", 1) == 0);
    CHECK(orc_buf_puts(&b, "\r\n\r\n") == 0);
    garbage = b.data;
    garbage_len = b.len;
    CHECK_INT(fx_get(&f, "/g", 5000, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_EPROTO);
    orc_buf_reset(&b);
    CHECK(orc_buf_puts(&b, "HTTP/1.1 200 OK\r\n") == 0);
    for (int i = 0; i < 1000; i++) CHECK(orc_buf_printf(&b, "H%d: v\r\n", i) == 0);
    CHECK(orc_buf_puts(&b, "\r\n") == 0);
    garbage = b.data;
    garbage_len = b.len;
    CHECK_INT(fx_get(&f, "/g", 5000, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_EPROTO);
    orc_buf_free(&b);
    fx_done(&f);
}

/* Random and mutated replies, each followed by a close: any outcome but a
 * crash, a hang or a leak is acceptable. */
static void h_fuzz(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_send(sc, garbage, garbage_len);
    srv_close_conn(sc);
}

TEST_T(fuzzed_replies_never_crash, 120)
{
    static const char *const seeds[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 NF\r\nWarning: x\r\nContent-Length: 0\r\n\r\n",
    };
    struct fx f;
    struct reply rp;
    char buf[256];
    unsigned seed = (unsigned)getpid();

    fx_init(&f, h_fuzz);
    for (int i = 0; i < 300; i++) {
        const char *s = seeds[i % 3];
        size_t n = strlen(s);
        memcpy(buf, s, n);
        for (int k = 0; k < 1 + i % 4; k++) buf[rand_r(&seed) % n] = (char)rand_r(&seed);
        if (i % 10 == 9) n = (size_t)rand_r(&seed) % n;
        garbage = buf;
        garbage_len = n;
        CHECK_INT(fx_get(&f, "/f", 2000, &rp), ==, 0);
        CHECK_INT(rp.done, ==, 1);
        CHECKF(rp.err == 0 || rp.err == ORC_EPROTO || rp.err == ORC_EUNAVAIL || rp.err == ORC_EIO,
               "case %d: %s", i, orc_strerror(rp.err));
    }
    fx_done(&f);
}

static void h_trailing(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_sendf(sc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
}

TEST(bytes_after_reply_keep_connection_out_of_pool)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_trailing);
    CHECK_INT(fx_get(&f, "/t", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(rp.body, "ok");
    CHECK_INT(fx_get(&f, "/t", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(f.srv.n_accepted, ==, 2);
    fx_done(&f);
}

/* ---- timeouts and unreachable servers ---- */

TEST(timeout)
{
    struct fx f;
    struct reply rp;
    uint64_t t0;

    fx_init(&f, h_silent);
    t0 = test_now_ms();
    CHECK_INT(fx_get(&f, "/slow", 100, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_ETIMEDOUT);
    CHECK_INT(test_now_ms() - t0, >=, 95);
    CHECK_INT(test_now_ms() - t0, <, 2000);
    WAIT_UNTIL(&f.loop, f.srv.n_open == 0, 5000);
    CHECK_INT(f.srv.n_open, ==, 0); /* the half-used connection was dropped */
    f.srv.handler = h_echo;
    CHECK_INT(fx_get(&f, "/fast", 100, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    fx_done(&f);
}

TEST(connection_refused)
{
    struct fx f;
    struct reply rp;
    char url[64];

    fx_init(&f, h_echo);
    http_client_close(f.c, NULL, NULL);
    f.c = NULL;
    srv_stop(&f.srv); /* nothing listens on its port now */
    run_for(&f.loop, 10);
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "http://%s:%d", i ? "localhost" : "127.0.0.1", f.srv.port);
        CHECK_INT(http_client_new(&f.loop, url, NULL, &f.c), ==, 0);
        CHECK_INT(fx_get(&f, "/", 0, &rp), ==, 0);
        CHECK_INT(rp.err, ==, ORC_EUNAVAIL);
        http_client_close(f.c, NULL, NULL);
    }
    f.c = NULL;
    fx_done(&f);
}

/* The API servers of one cluster: a server that cannot be reached is left
 * for the next, the call goes there (nothing of it had been sent), and the
 * client stays with the one that answered. */
TEST(failover_moves_to_a_server_that_answers)
{
    struct fx f;
    struct srv b = {0}, gone = {0};
    struct reply rp;
    char url_b[64], url_gone[64];

    fx_init(&f, h_echo);
    srv_start(&b, &f.loop, h_echo);
    srv_url(&b, url_b, sizeof url_b);
    srv_start(&gone, &f.loop, h_echo);
    srv_url(&gone, url_gone, sizeof url_gone);
    srv_stop(&gone);
    run_for(&f.loop, 10);
    http_client_close(f.c, NULL, NULL);
    CHECK_INT(http_client_new(&f.loop, url_gone, FX_TOKEN, &f.c), ==, 0);

    /* nothing changes on a bad list */
    const char *bad[] = {url_b, "ftp://x"}, *tls[] = {"https://127.0.0.1:1"};
    CHECK_INT(http_client_set_servers(f.c, bad, 2), ==, ORC_EINVAL);
    CHECK_INT(http_client_set_servers(f.c, tls, 1), ==, ORC_EINVAL);
    CHECK_INT(fx_get(&f, "/", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_EUNAVAIL);

    const char *both[] = {url_b, url_gone, url_b};
    CHECK_INT(http_client_set_servers(f.c, both, 3), ==, 0);
    memset(&rp, 0, sizeof rp);
    CHECK_INT(fx_get(&f, "/a", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(rp.body, "GET /a ");
    CHECK_STR(http_client_server(f.c), url_b);
    CHECK_INT(b.n_requests, ==, 1);
    memset(&rp, 0, sizeof rp);
    CHECK_INT(fx_get(&f, "/b", 0, &rp), ==, 0); /* straight to b now */
    CHECK_INT(b.n_requests, ==, 2);

    /* every one gone: each tried once, then the call fails */
    srv_stop(&b);
    srv_stop(&f.srv);
    run_for(&f.loop, 10);
    memset(&rp, 0, sizeof rp);
    CHECK_INT(fx_get(&f, "/c", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_EUNAVAIL);
    fx_done(&f);
}

/* ---- connections the server closes ---- */

TEST(server_closing_idle_connection)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_echo);
    CHECK_INT(fx_get(&f, "/a", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    /* Closed while idle, noticed before the next request. */
    srv_drop_all(&f.srv);
    run_for(&f.loop, 30);
    CHECK_INT(fx_get(&f, "/b", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(f.srv.n_accepted, ==, 2);
    /* Closed while idle, not yet noticed: the GET is retried. */
    srv_drop_all(&f.srv);
    CHECK_INT(fx_get(&f, "/c", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(rp.body, "GET /c ");
    CHECK_INT(f.srv.n_accepted, ==, 3);
    fx_done(&f);
}

/* Drops every connection's second request unanswered, like a server that
 * timed the connection out just as the request went out. */
static void h_drop_second(struct srv_conn *sc, const struct srv_req *rq)
{
    if (rq->seq == 2)
        srv_close_conn(sc);
    else
        h_echo(sc, rq);
}

TEST(stale_connection_retry_only_idempotent)
{
    struct fx f;
    struct reply rp = {0};
    struct http_request post = {.method = "POST", .path = "/p", .body = "x", .body_len = 1};

    fx_init(&f, h_drop_second);
    CHECK_INT(fx_get(&f, "/1", 0, &rp), ==, 0);
    CHECK_INT(fx_get(&f, "/2", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, 0);
    CHECK_STR(rp.body, "GET /2 ");
    CHECK_INT(f.srv.n_requests, ==, 3);
    CHECK_INT(f.srv.n_accepted, ==, 2);
    /* the retry's connection now has one request behind it: a POST as its
     * second is dropped and must not be sent twice */
    memset(&rp, 0, sizeof rp);
    CHECK_INT(http_request(f.c, &post, on_reply, &rp, NULL), ==, 0);
    run_until(&f.loop, &rp.done, 5000);
    CHECK_INT(rp.err, ==, ORC_EIO);
    CHECK_INT(f.srv.n_requests, ==, 4);
    fx_done(&f);
}

static void h_drop_all(struct srv_conn *sc, const struct srv_req *rq)
{
    (void)rq;
    srv_close_conn(sc);
}

TEST(fresh_connection_closed_is_not_retried)
{
    struct fx f;
    struct reply rp;

    fx_init(&f, h_drop_all);
    CHECK_INT(fx_get(&f, "/x", 0, &rp), ==, 0);
    CHECK_INT(rp.err, ==, ORC_EIO);
    CHECK_INT(f.srv.n_requests, ==, 1);
    fx_done(&f);
}

/* ---- arguments ---- */

static void never_called(void *arg, int err, const struct http_response *r)
{
    (void)arg;
    (void)err;
    (void)r;
    test_fail(__FILE__, __LINE__, "callback after an error return");
}

TEST(invalid_arguments)
{
    static const char *const bad_urls[] = {
        "httpx://a:1", "https://", "http://", "http://a b:1", "http://h:0", "http://h:99999", "http://h:1/path",
        "http://h:", "http://[::1", "ftp://h:1", "http://h:12x", "http://h:+80", "http://h: 80",
    };
    static const char *const good_urls[] = {
        "http://localhost:1", "http://[::1]:80", "http://example.com:8080/", "http://10.0.0.1",
        "https://a:1", "https://[::1]", "https://10.0.0.1:6443/",
    };
    struct fx f;
    http_client *c;
    struct http_header crlf[] = {{"X-A", "b\r\nInjected: 1"}};
    struct http_header host[] = {{"Host", "evil"}};
    struct http_request r1 = {.method = "GET", .path = "/", .headers = crlf, .n_headers = 1};
    struct http_request r2 = {.method = "GET", .path = "/", .headers = host, .n_headers = 1};
    struct http_request r3 = {.method = "GET", .path = "nopath"};
    struct http_request r4 = {.method = "G T", .path = "/"};
    struct http_request r5 = {.method = "GET", .path = "/a b"};
    struct http_request ok = {.method = "GET", .path = "/"};

    fx_init(&f, h_echo);
    for (size_t i = 0; i < ORC_ARRAY_LEN(bad_urls); i++)
        CHECKF(http_client_new(&f.loop, bad_urls[i], NULL, &c) == ORC_EINVAL, "%s", bad_urls[i]);
    for (size_t i = 0; i < ORC_ARRAY_LEN(good_urls); i++) {
        CHECKF(http_client_new(&f.loop, good_urls[i], NULL, &c) == 0, "%s", good_urls[i]);
        http_client_close(c, NULL, NULL);
    }
    CHECK_INT(http_client_new(&f.loop, f.url, "a\r\nb", &c), ==, ORC_EINVAL);
    CHECK_INT(http_request(f.c, &r1, never_called, NULL, NULL), ==, ORC_EINVAL);
    CHECK_INT(http_request(f.c, &r2, never_called, NULL, NULL), ==, ORC_EINVAL);
    CHECK_INT(http_request(f.c, &r3, never_called, NULL, NULL), ==, ORC_EINVAL);
    CHECK_INT(http_request(f.c, &r4, never_called, NULL, NULL), ==, ORC_EINVAL);
    CHECK_INT(http_request(f.c, &r5, never_called, NULL, NULL), ==, ORC_EINVAL);
    http_client_close(f.c, fx_set_flag, &f.closed);
    CHECK_INT(http_request(f.c, &ok, never_called, NULL, NULL), ==, ORC_ESHUTDOWN);
    run_until(&f.loop, &f.closed, 2000);
    CHECK_INT(f.closed, ==, 1);
    f.c = NULL;
    fx_done(&f);
}
