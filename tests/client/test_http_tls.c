/* test_http_tls.c — the HTTP client against the API server's own transport
 * (lib/httpd.c) over TLS, both on one loop: requests, keep-alive reuse
 * of a session, large bodies, streams, Connection: close, and every way
 * trust can fail (wrong CA, wrong name, wrong pin, plain HTTP on either side). */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httpd.h"
#include "client/http.h"
#include "lib/orc.h"
#include "lib/tls.h"
#include "tests/client/srv.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define TOKEN "tls-t0ken"
#define MAX_SEEN 64

struct tfx {
    uv_loop_t loop;
    struct orc_httpd *http;
    int port;
    char url[64];
    char *ca, *ca_key, *cert, *key, *chain;
    http_client *c;
    int stopped, closed;
    const void *conns[MAX_SEEN]; /* distinct server connections seen */
    int n_conns, gone;
    struct orc_httpd_req *held; /* a stream kept open */
};

static struct tfx F;

static void note_conn(const struct orc_httpd_req *r)
{
    for (int i = 0; i < F.n_conns; i++)
        if (F.conns[i] == r->conn) return;
    if (F.n_conns < MAX_SEEN) F.conns[F.n_conns++] = r->conn;
}

static void on_gone(struct orc_httpd_req *r)
{
    F.gone++;
    if (F.held == r) F.held = NULL;
    orc_httpd_stream_end(r);
}

static void handler(void *arg, struct orc_httpd_req *r)
{
    const char *auth = orc_httpd_req_header(r, "authorization");
    (void)arg;

    note_conn(r);
    if (strcmp(r->target, "/hello") == 0) {
        char body[128];
        snprintf(body, sizeof body, "hello %s", auth ? auth : "-");
        orc_httpd_respond(r, 200, "text/plain", body, strlen(body), NULL);
    } else if (strcmp(r->target, "/echo") == 0) {
        orc_httpd_respond(r, 200, "application/octet-stream", r->body.data ? r->body.data : "",
                         r->body.len, NULL);
    } else if (strcmp(r->target, "/close") == 0) {
        r->keep_alive = false;
        orc_httpd_respond(r, 200, "text/plain", "bye", 3, NULL);
    } else if (strncmp(r->target, "/stream/", 8) == 0) {
        int n = atoi(r->target + 8);
        CHECK_INT(orc_httpd_stream_begin(r, 200, "application/json"), ==, 0);
        for (int i = 0; i < n; i++) {
            char line[64];
            int len = snprintf(line, sizeof line, "{\"i\":%d}\n", i);
            CHECK_INT(orc_httpd_stream_write(r, line, (size_t)len, 1u << 24), ==, 0);
        }
        if (n > 0) {
            orc_httpd_stream_end(r);
        } else {
            r->on_gone = on_gone;
            F.held = r;
        }
    } else {
        orc_httpd_respond(r, 404, "text/plain", "no", 2, NULL);
    }
}

static void make_pki(const char *const *sans, size_t n)
{
    char err[ORC_TLS_ERRLEN] = "";
    size_t cl, al;

    CHECKF(orc_tls_make_ca("orc-ca", 30, &F.ca, &F.ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert(F.ca, F.ca_key, "srv", sans, n, 30, &F.cert, &F.key, err) == 0, "%s", err);
    cl = strlen(F.cert);
    al = strlen(F.ca);
    F.chain = malloc(cl + al + 1);
    CHECK(F.chain != NULL);
    memcpy(F.chain, F.cert, cl);
    memcpy(F.chain + cl, F.ca, al + 1);
}

/* A TLS server (or plain when tls is false) on 127.0.0.1, port picked. */
static void fx_start(bool tls, const char *const *sans, size_t n)
{
    static const char *const dflt[] = {"127.0.0.1"};
    struct orc_httpd_tls t = {0};
    char err[256] = "";

    memset(&F, 0, sizeof F);
    CHECK(uv_loop_init(&F.loop) == 0);
    make_pki(sans ? sans : dflt, sans ? n : 1);
    t.cert_pem = F.chain;
    t.key_pem = F.key;
    struct orc_httpd_config hc = {.listen = "127.0.0.1:0", .tls = tls ? &t : NULL, .handler = handler};

    CHECKF(orc_httpd_start(&F.loop, &hc, &F.http, err) == 0, "%s", err);
    F.port = orc_httpd_port(F.http);
    CHECK(F.port > 0);
    snprintf(F.url, sizeof F.url, "%s://127.0.0.1:%d", tls ? "https" : "http", F.port);
}

static void set_flag(void *arg) { ++*(int *)arg; }

static void fx_stop(void)
{
    if (F.c) http_client_close(F.c, set_flag, &F.closed);
    orc_httpd_stop(F.http, set_flag, &F.stopped);
    run_until(&F.loop, &F.stopped, 5000);
    CHECK(F.stopped == 1);
    if (F.c) run_until(&F.loop, &F.closed, 5000);
    uv_run(&F.loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&F.loop), ==, 0);
    free(F.ca);
    free(F.ca_key);
    free(F.cert);
    free(F.key);
    free(F.chain);
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

struct reply {
    int done, err, status;
    struct orc_buf body;
};

static void on_reply(void *arg, int err, const struct http_response *r)
{
    struct reply *rp = arg;

    rp->done++;
    rp->err = err;
    if (err) return;
    rp->status = r->status;
    orc_buf_reset(&rp->body);
    CHECK(orc_buf_append(&rp->body, r->body, r->body_len) == 0);
}

static void request(http_client *c, const char *method, const char *path, const void *body,
                    size_t len, struct reply *rp)
{
    struct http_request req = {.method = method, .path = path, .body = body, .body_len = len,
                               .content_type = body ? "application/octet-stream" : NULL,
                               .timeout_ms = 10000};

    rp->done = 0;
    CHECK_INT(http_request(c, &req, on_reply, rp, NULL), ==, 0);
    run_until(&F.loop, &rp->done, 10000);
    CHECK_INT(rp->done, ==, 1);
}

static void client_with(const struct http_tls *tls)
{
    CHECK_INT(http_client_new_tls(&F.loop, F.url, TOKEN, tls, &F.c), ==, 0);
}

TEST(requests_over_tls_reuse_one_session)
{
    struct reply rp = {0};

    fx_start(true, NULL, 0);
    client_with(&(struct http_tls){.ca_pem = F.ca});
    for (int i = 0; i < 20; i++) {
        request(F.c, "GET", "/hello", NULL, 0, &rp);
        CHECKF(rp.err == 0, "%s: %s", orc_strerror(rp.err), http_client_tls_error(F.c));
        CHECK_INT(rp.status, ==, 200);
        CHECK_STR(rp.body.data, "hello Bearer " TOKEN);
    }
    CHECK_INT(F.n_conns, ==, 1); /* one connection, one handshake */
    /* The server ends a connection with close_notify; the next request
     * makes a new one. */
    request(F.c, "GET", "/close", NULL, 0, &rp);
    CHECK_INT(rp.status, ==, 200);
    CHECK_STR(rp.body.data, "bye");
    request(F.c, "GET", "/hello", NULL, 0, &rp);
    CHECK_INT(rp.status, ==, 200);
    CHECK_INT(F.n_conns, ==, 2);
    orc_buf_free(&rp.body);
    fx_stop();
}

TEST(concurrent_requests_and_large_bodies)
{
    struct reply rps[16];
    size_t n = 2500000;
    char *big = malloc(n);

    CHECK(big != NULL);
    for (size_t i = 0; i < n; i++) big[i] = (char)(i * 131 + 7);
    fx_start(true, NULL, 0);
    client_with(&(struct http_tls){.ca_pem = F.ca});
    memset(rps, 0, sizeof rps);
    for (int i = 0; i < 16; i++) {
        struct http_request req = {.method = "POST", .path = "/echo", .body = big,
                                   .body_len = n - (size_t)i * 1000,
                                   .content_type = "application/octet-stream"};
        CHECK_INT(http_request(F.c, &req, on_reply, &rps[i], NULL), ==, 0);
    }
    for (int i = 0; i < 16; i++) {
        run_until(&F.loop, &rps[i].done, 20000);
        CHECKF(rps[i].err == 0 && rps[i].status == 200, "%d: %s", i, orc_strerror(rps[i].err));
        CHECK_INT(rps[i].body.len, ==, n - (size_t)i * 1000);
        CHECK(memcmp(rps[i].body.data, big, rps[i].body.len) == 0);
        orc_buf_free(&rps[i].body);
    }
    CHECK(F.n_conns <= 16);
    free(big);
    fx_stop();
}

struct stream {
    int heads, ends, end_err, status;
    struct orc_buf data;
};

static void st_head(void *arg, const struct http_response *r)
{
    struct stream *st = arg;
    st->heads++;
    st->status = r->status;
}

static void st_data(void *arg, const char *data, size_t len)
{
    struct stream *st = arg;
    CHECK(orc_buf_append(&st->data, data, len) == 0);
}

static void st_end(void *arg, int err)
{
    struct stream *st = arg;
    st->ends++;
    st->end_err = err;
}

TEST(streams_over_tls)
{
    static const struct http_stream_cbs cbs = {st_head, st_data, st_end};
    struct http_request req = {.method = "GET", .path = "/stream/500"};
    struct stream st = {0};
    struct reply rp = {0};
    http_call *call;
    int lines = 0;

    fx_start(true, NULL, 0);
    client_with(&(struct http_tls){.ca_pem = F.ca});
    CHECK_INT(http_stream(F.c, &req, &cbs, &st, NULL), ==, 0);
    run_until(&F.loop, &st.ends, 10000);
    CHECK_INT(st.end_err, ==, 0);
    CHECK_INT(st.status, ==, 200);
    for (size_t i = 0; i < st.data.len; i++) lines += st.data.data[i] == '\n';
    CHECK_INT(lines, ==, 500);
    CHECK(strstr(st.data.data, "{\"i\":499}\n") != NULL);
    /* The pooled connection, session and all, serves the next request. */
    request(F.c, "GET", "/hello", NULL, 0, &rp);
    CHECK_INT(rp.status, ==, 200);
    CHECK_INT(F.n_conns, ==, 1);
    /* A stream the client cancels: the server learns its client is gone. */
    orc_buf_free(&st.data);
    memset(&st, 0, sizeof st);
    req.path = "/stream/0";
    CHECK_INT(http_stream(F.c, &req, &cbs, &st, &call), ==, 0);
    for (int i = 0; i < 250 && F.held == NULL; i++) run_for(&F.loop, 20);
    CHECK(F.held != NULL);
    http_call_cancel(call);
    run_until(&F.loop, &st.ends, 5000);
    CHECK_INT(st.end_err, ==, ORC_ECANCELED);
    for (int i = 0; i < 250 && F.gone == 0; i++) run_for(&F.loop, 20);
    CHECK_INT(F.gone, ==, 1);
    orc_buf_free(&st.data);
    orc_buf_free(&rp.body);
    fx_stop();
}

static void expect_tls_refusal(const struct http_tls *tls, const char *url, const char *msg_has)
{
    struct reply rp = {0};
    http_client *c;

    CHECK_INT(http_client_new_tls(&F.loop, url, TOKEN, tls, &c), ==, 0);
    request(c, "GET", "/hello", NULL, 0, &rp);
    CHECKF(rp.err == ORC_ETLS, "%s: got %s", url, orc_strerror(rp.err));
    CHECKF(strstr(http_client_tls_error(c), msg_has) != NULL, "\"%s\" lacks \"%s\"",
           http_client_tls_error(c), msg_has);
    http_client_close(c, NULL, NULL);
    orc_buf_free(&rp.body);
}

TEST(untrusted_servers_are_refused_before_sending)
{
    char other_ca_url[80], fp[ORC_TLS_FP_HEX + 1], wrong_fp[ORC_TLS_FP_HEX + 1];
    char *oca, *okey, err[ORC_TLS_ERRLEN];
    struct reply rp = {0};

    fx_start(true, NULL, 0);
    CHECK_INT(orc_tls_make_ca("other", 30, &oca, &okey, err), ==, 0);
    expect_tls_refusal(&(struct http_tls){.ca_pem = oca}, F.url, "certificate verify failed");
    expect_tls_refusal(NULL, F.url, "certificate verify failed"); /* system store */
    /* Reached as "localhost", which the certificate does not name. */
    snprintf(other_ca_url, sizeof other_ca_url, "https://localhost:%d", F.port);
    expect_tls_refusal(&(struct http_tls){.ca_pem = F.ca}, other_ca_url, "hostname mismatch");
    /* Pinning: the CA's fingerprint works; another CA's does not. */
    CHECK_INT(orc_tls_fingerprint(F.ca, fp, err), ==, 0);
    CHECK_INT(orc_tls_fingerprint(oca, wrong_fp, err), ==, 0);
    expect_tls_refusal(&(struct http_tls){.ca_fingerprint = wrong_fp}, F.url, "fingerprint");
    client_with(&(struct http_tls){.ca_fingerprint = fp});
    request(F.c, "GET", "/hello", NULL, 0, &rp);
    CHECKF(rp.err == 0 && rp.status == 200, "%s", http_client_tls_error(F.c));
    /* No refused client ever got a request through. */
    CHECK_INT(F.n_conns, ==, 1);
    F.n_conns = 0;
    /* insecure_skip_verify trusts anything, even by a name it lacks. */
    {
        http_client *c;
        CHECK_INT(http_client_new_tls(&F.loop, other_ca_url, TOKEN,
                                      &(struct http_tls){.insecure_skip_verify = 1}, &c), ==, 0);
        request(c, "GET", "/hello", NULL, 0, &rp);
        CHECK_INT(rp.status, ==, 200);
        http_client_close(c, NULL, NULL);
        CHECK_INT(http_client_new_tls(&F.loop, F.url, TOKEN,
                                      &(struct http_tls){.ca_pem = F.ca, .insecure_skip_verify = 1}, &c),
                  ==, ORC_EINVAL);
    }
    free(oca);
    free(okey);
    orc_buf_free(&rp.body);
    fx_stop();
}

TEST(bad_trust_settings_are_einval)
{
    http_client *c = NULL;

    fx_start(true, NULL, 0);
    CHECK_INT(http_client_new_tls(&F.loop, F.url, NULL, &(struct http_tls){.ca_pem = "junk"}, &c), ==,
              ORC_EINVAL);
    CHECK_INT(http_client_new_tls(&F.loop, F.url, NULL, &(struct http_tls){.ca_fingerprint = "12"}, &c),
              ==, ORC_EINVAL);
    CHECK_INT(http_client_new_tls(&F.loop, "https://h:1/x", NULL, NULL, &c), ==, ORC_EINVAL);
    CHECK(c == NULL);
    /* An https URL's default port is 443; http:// ignores trust settings. */
    CHECK_INT(http_client_new_tls(&F.loop, "https://example.com", NULL, NULL, &c), ==, 0);
    http_client_close(c, NULL, NULL);
    CHECK_INT(http_client_new_tls(&F.loop, "http://example.com", NULL,
                                  &(struct http_tls){.ca_pem = F.ca}, &c), ==, 0);
    http_client_close(c, NULL, NULL);
    fx_stop();
}

TEST(plain_http_and_tls_do_not_mix)
{
    struct reply rp = {0};
    http_client *c;
    char url[80];

    /* A plain client at the TLS port gets a plain 400 saying why. */
    fx_start(true, NULL, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", F.port);
    CHECK_INT(http_client_new(&F.loop, url, TOKEN, &c), ==, 0);
    request(c, "GET", "/hello", NULL, 0, &rp);
    CHECK_INT(rp.err, ==, 0);
    CHECK_INT(rp.status, ==, 400);
    CHECK_STR(rp.body.data, "Client sent an HTTP request to an HTTPS server.\n");
    http_client_close(c, NULL, NULL);
    CHECK_INT(F.n_conns, ==, 0);
    fx_stop();
    /* A TLS client at a plain port fails its handshake. */
    fx_start(false, NULL, 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", F.port);
    expect_tls_refusal(&(struct http_tls){.ca_pem = F.ca}, url, "TLS");
    CHECK_INT(F.n_conns, ==, 0);
    orc_buf_free(&rp.body);
    fx_stop();
}
