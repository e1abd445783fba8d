/* test_api_malformed.c — malformed bytes at a real member's API port, inside
 * TLS and around it: garbage, truncated requests, huge or too many headers,
 * bad chunked bodies, smuggling-shaped framing, invalid TLS. Each is refused
 * (a 4xx answer and a close, or a plain close) and the member keeps serving,
 * changes nothing, and exits cleanly at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;

static void start_one(void)
{
    static const char *const extra[] = {"--header-timeout", "1s", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, extra);
    member_wait_ready(&c, 0, 5000);
}

/* The status of the answer in t->in, or 0 when there was none. */
static int answer_status(const struct rawtls *t)
{
    int st = 0;
    if (t->in.data == NULL || sscanf(t->in.data, "HTTP/1.1 %d", &st) != 1) return 0;
    return st;
}

static void still_serving(long long rev)
{
    CHECK_INT(t_http(&c, 0, "GET", "/healthz", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(member_revision(&c, 0), ==, rev);
}

/* Sends `data` inside TLS; the member must answer one of `want` (0-ended
 * list; a lone 0 means "closes without an answer is fine too") and close. */
static void refused(const char *what, const void *data, size_t len, const int *want)
{
    struct rawtls t;
    int st;
    bool ok = false;

    CHECKF(rawtls_open(&t, c.m[0].ip, 6443, NULL, 0) == 0, "%s: no TLS connection", what);
    rawtls_send(&t, data, len);
    CHECKF(rawtls_wait_closed(&t, 8000), "%s: the connection stayed open", what);
    st = answer_status(&t);
    for (const int *w = want; *w; w++) ok |= st == *w;
    ok |= st == 0 && want[0] == 0;
    CHECKF(ok, "%s: answered %d: %.200s", what, st, t.in.data ? t.in.data : "(nothing)");
    rawtls_close(&t);
}

static char *repeat_header(const char *name, size_t value_len, int count, const char *token)
{
    struct orc_buf b = ORC_BUF_INIT;
    char *v = malloc(value_len + 1);

    memset(v, 'v', value_len);
    v[value_len] = '\0';
    orc_buf_printf(&b, "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n");
    if (token) orc_buf_printf(&b, "Authorization: Bearer %s\r\n", token);
    for (int i = 0; i < count; i++) orc_buf_printf(&b, "%s-%d: %s\r\n", name, i, v);
    orc_buf_puts(&b, "\r\n");
    free(v);
    return orc_buf_steal(&b, NULL);
}

TEST_T(malformed_http_inside_tls_is_refused_and_the_member_keeps_serving, 120)
{
    static const int bad[] = {400, 0}, too_big[] = {413, 431, 0}, uri[] = {414, 0},
                     hdrs[] = {431, 0}, any_close[] = {0}, unauth[] = {401, 0},
                     bad_or_big[] = {400, 413, 0};
    char auth_post[600];
    char *big;

    start_one();
    long long rev = member_wait_quiet(&c, 0, 500);
#define R(what, s, want) refused(what, s, sizeof s - 1, want)
    R("binary garbage", "\x00\x01\x02garbage\xff\xfe\r\n\r\n", bad);
    R("HTTP/0.9", "GET /\r\n\r\n", bad);
    R("unknown version", "GET / HTTP/9.9\r\n\r\n", bad);
    R("unknown method", "BREW /api/v1/namespaces HTTP/1.1\r\nHost: x\r\n\r\n", bad);
    R("space in the header name", "GET / HTTP/1.1\r\nHo st: x\r\n\r\n", bad);
    R("NUL in a header value", "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n", bad);
    R("bare LF line endings in a header", "GET / HTTP/1.1\r\nHost: x\nX: \x01\r\n\r\n", bad);
    R("negative Content-Length", "POST /api/v1/namespaces HTTP/1.1\r\nContent-Length: -5\r\n\r\n", bad);
    R("two Content-Lengths", "POST /api/v1/namespaces HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", bad);
    R("Content-Length with chunked", "POST /api/v1/namespaces HTTP/1.1\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", bad);
    R("unauthenticated 1 TB body", "POST /api/v1/namespaces HTTP/1.1\r\nContent-Length: 1099511627776\r\n\r\n",
      unauth);
    R("truncated request, then the client hangs up", "GET /api/v1/name", any_close);
    /* Half a request left open: closed at the header timeout (1 s). */
    R("truncated headers left open", "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nAuthor", any_close);
#undef R
    /* Authenticated requests with broken bodies. */
    int n = snprintf(auth_post, sizeof auth_post,
                     "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", c.token);
    struct {
        const char *what, *rest;
        const int *want;
    } bodies[] = {
        {"chunk size not hex", "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n", bad},
        {"chunk size overflowing", "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n", bad_or_big},
        {"chunk longer than its size", "Transfer-Encoding: chunked\r\n\r\n2\r\n{}}}}}\r\n0\r\n\r\n", bad},
        {"chunk without its CRLF", "Transfer-Encoding: chunked\r\n\r\n2\r\n{}0\r\n\r\n", bad},
        {"unknown transfer coding", "Transfer-Encoding: gzip\r\n\r\n{}", bad},
        {"chunked body over 3 MiB", "Transfer-Encoding: chunked\r\n\r\n400000\r\n", too_big},
        {"Content-Length over 3 MiB", "Content-Length: 4194305\r\n\r\n{", too_big},
        {"truncated body left open", "Content-Length: 100\r\n\r\n{\"metadata\":", any_close},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct orc_buf b = ORC_BUF_INIT;
        orc_buf_append(&b, auth_post, (size_t)n);
        orc_buf_puts(&b, bodies[i].rest);
        if (strstr(bodies[i].what, "over 3 MiB") && bodies[i].rest[0] == 'T') {
            /* a chunk of 4 MiB, really sent */
            char *chunk = malloc(0x400000);
            memset(chunk, 'x', 0x400000);
            orc_buf_append(&b, chunk, 0x400000);
            free(chunk);
        }
        refused(bodies[i].what, b.data, b.len, bodies[i].want);
        orc_buf_free(&b);
    }
    /* Heads too large: one huge header, many headers, a long URL. */
    big = repeat_header("X-Big", 100000, 1, c.token);
    refused("a 100 KB header", big, strlen(big), hdrs);
    free(big);
    big = repeat_header("X-Many", 10, 200, c.token);
    refused("200 headers", big, strlen(big), hdrs);
    free(big);
    big = repeat_header("X-Sum", 1000, 40, c.token);
    refused("40 KB of headers in all", big, strlen(big), hdrs);
    free(big);
    {
        struct orc_buf b = ORC_BUF_INIT;
        orc_buf_puts(&b, "GET /api/v1/namespaces?");
        for (int i = 0; i < 2000; i++) orc_buf_puts(&b, "labelSelector=a&");
        orc_buf_puts(&b, " HTTP/1.1\r\nHost: x\r\n\r\n");
        refused("a 32 KB URL", b.data, b.len, uri);
        orc_buf_free(&b);
    }
    still_serving(rev);
    member_stop(&c, 0);
}

TEST_T(invalid_tls_is_refused_and_the_member_keeps_serving, 60)
{
#define J(s) {s, sizeof s - 1}
    static const struct {
        const char *data;
        size_t len;
    } junk[] = {
        J("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"),              /* a ClientHello of nothing */
        J("\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03"),           /* a ClientHello cut short */
        J("\x16\x00\x00\x00\x10" "0123456789abcdef"),                /* SSL 0.0 */
        J("\x15\x03\x03\x00\x02\x02\x28"),                           /* an alert first */
        J("\x14\x03\x03\x00\x01\x01"),                               /* ChangeCipherSpec first */
        J("\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10"),           /* an SSLv2 hello */
        J("\x16\x03\x03\x40\x01"),                                   /* a record over 16 KB, cut */
    };
#undef J
    start_one();
    long long rev = member_wait_quiet(&c, 0, 500);
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        struct rawtls t;
        CHECK(raw_open(&t, c.m[0].ip, 6443, NULL, 0) == 0);
        rawtls_send(&t, junk[i].data, junk[i].len);
        CHECKF(rawtls_wait_closed(&t, 8000), "junk %zu: the connection stayed open", i);
        rawtls_close(&t);
    }
    /* A good handshake, then bytes that are not TLS records. */
    {
        struct rawtls t;
        CHECK(rawtls_open(&t, c.m[0].ip, 6443, NULL, 0) == 0);
        CHECK(write(t.fd, "GET / HTTP/1.1\r\n\r\n", 18) == 18);
        CHECK(rawtls_wait_closed(&t, 8000));
        rawtls_close(&t);
    }
    /* Random bytes, in many sizes. */
    unsigned seed = 11;
    for (int i = 0; i < 30; i++) {
        struct rawtls t;
        char b[2048];
        size_t len = 1 + (size_t)rand_r(&seed) % sizeof b;
        for (size_t j = 0; j < len; j++) b[j] = (char)rand_r(&seed);
        if (i % 2) b[0] = 0x16; /* half of them look like a handshake */
        CHECK(raw_open(&t, c.m[0].ip, 6443, NULL, 0) == 0);
        rawtls_send(&t, b, len);
        CHECKF(rawtls_wait_closed(&t, 8000), "random %d: the connection stayed open", i);
        rawtls_close(&t);
    }
    still_serving(rev);
    member_stop(&c, 0);
}
