/* fx.h — shared fixture for the HTTP client tests: one loop holding both the
 * test server and a client, plus collectors for replies and streams. */
#ifndef ORC_TEST_FX_H
#define ORC_TEST_FX_H

#include "client/http.h"
#include "lib/orc.h"
#include "tests/client/srv.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define FX_TOKEN "tok-s3cr3t"

struct fx {
    uv_loop_t loop;
    struct srv srv;
    http_client *c;
    char url[64];
    int closed;
};

struct reply {
    int done; /* times the callback fired */
    int err;
    int status;
    char body[8192];
    size_t body_len;
    char ctype[128];
    int lower_names;
};

struct stream {
    int heads, ends, end_err, status;
    int n_data;
    struct orc_buf data;
    http_call *call;
    int cancel_on_data; /* cancel from inside on_data after this many chunks */
};

SRV_FN void fx_set_flag(void *arg) { ++*(int *)arg; }

SRV_FN void fx_init(struct fx *f, srv_handler h)
{
    memset(f, 0, sizeof *f);
    CHECK(uv_loop_init(&f->loop) == 0);
    srv_start(&f->srv, &f->loop, h);
    srv_url(&f->srv, f->url, sizeof f->url);
    CHECK_INT(http_client_new(&f->loop, f->url, FX_TOKEN, &f->c), ==, 0);
}

/* The harness ends each case with _exit, which skips LeakSanitizer's exit
 * check: run it here, while the case can still fail. */
SRV_FN void fx_leak_check(void)
{
#if defined(__SANITIZE_ADDRESS__)
    CHECKF(__lsan_do_recoverable_leak_check() == 0, "leaks (see the report above)");
#endif
}

/* Closes client and server and proves nothing is left on the loop. */
SRV_FN void fx_done(struct fx *f)
{
    if (f->c) http_client_close(f->c, fx_set_flag, &f->closed);
    srv_stop(&f->srv);
    if (f->c) run_until(&f->loop, &f->closed, 5000);
    CHECK(f->c == NULL || f->closed == 1);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&f->loop), ==, 0);
    fx_leak_check();
}

/* Runs the loop until `cond` holds, for at most ms. */
#define WAIT_UNTIL(loop, cond, ms)                                                   \
    do {                                                                             \
        for (uint64_t end_ = test_now_ms() + (ms); !(cond) && test_now_ms() < end_;) \
            run_for((loop), 1);                                                      \
    } while (0)

SRV_FN void on_reply(void *arg, int err, const struct http_response *r)
{
    struct reply *rp = arg;
    const char *ct;

    rp->done++;
    rp->err = err;
    if (err != 0) {
        CHECK(r == NULL);
        return;
    }
    rp->status = r->status;
    rp->body_len = r->body_len;
    CHECK(r->body != NULL && r->body[r->body_len] == '\0');
    snprintf(rp->body, sizeof rp->body, "%s", r->body);
    ct = http_header_get(r, "content-type");
    snprintf(rp->ctype, sizeof rp->ctype, "%s", ct ? ct : "");
    rp->lower_names = 1;
    for (size_t i = 0; i < r->n_headers; i++)
        for (const char *s = r->headers[i].name; *s; s++)
            if (*s >= 'A' && *s <= 'Z') rp->lower_names = 0;
}

SRV_FN int fx_get(struct fx *f, const char *path, unsigned timeout_ms, struct reply *rp)
{
    struct http_request req = {.method = "GET", .path = path, .timeout_ms = timeout_ms};
    int rv;

    memset(rp, 0, sizeof *rp);
    rv = http_request(f->c, &req, on_reply, rp, NULL);
    if (rv == 0) run_until(&f->loop, &rp->done, 5000);
    return rv;
}

SRV_FN void st_head(void *arg, const struct http_response *r)
{
    struct stream *st = arg;

    st->heads++;
    st->status = r->status;
    CHECK(r->body == NULL);
}

SRV_FN void st_data(void *arg, const char *data, size_t len)
{
    struct stream *st = arg;

    CHECKF(st->ends == 0, "on_data after on_end");
    st->n_data++;
    CHECK(orc_buf_append(&st->data, data, len) == 0);
    if (st->cancel_on_data && st->n_data == st->cancel_on_data) {
        int ends = st->ends;
        http_call_cancel(st->call);
        CHECKF(st->ends == ends, "on_end fired inside http_call_cancel");
    }
}

SRV_FN void st_end(void *arg, int err)
{
    struct stream *st = arg;

    st->ends++;
    st->end_err = err;
}

static const struct http_stream_cbs st_cbs = {st_head, st_data, st_end};

SRV_FN void stream_free(void *arg)
{
    struct stream *st = arg;
    orc_buf_free(&st->data);
}

#endif
