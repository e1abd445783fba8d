/* upstream.h — small HTTP servers for the ingress tests and benchmark: each
 * answers every request with one line naming itself and echoing what the
 * proxy sent (Host, X-Forwarded-*, the target). They run on a thread of
 * their own (lib/httpd on a private loop), on the addresses given. */
#ifndef ORC_TESTS_INGRESS_UPSTREAM_H
#define ORC_TESTS_INGRESS_UPSTREAM_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "lib/httpd.h"
#include "tests/harness/test.h"

#define UPSTREAM_MAX 8

struct upstreams {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    int n;
    char addr[UPSTREAM_MAX][64];
    struct orc_httpd *h[UPSTREAM_MAX];
    int ready; /* set by the thread once listening (or failed: -1) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static inline const char *ups_hdr(const struct orc_httpd_req *r, const char *name)
{
    const char *v = orc_httpd_req_header(r, name);
    return v ? v : "-";
}

static inline void ups_handle(void *arg, struct orc_httpd_req *req)
{
    const char *self = arg;
    char body[1024];
    if (strncmp(req->target, "/big", 4) == 0) { /* past the proxy's whole-answer size: streamed */
        size_t len = 200u << 10;
        char *big = malloc(len);
        if (big) memset(big, 'x', len);
        orc_httpd_respond(req, 200, "application/octet-stream", big ? big : "", big ? len : 0, NULL);
        free(big);
        return;
    }
    int n = snprintf(body, sizeof body,
                     "be=%s host=%s xff=%s proto=%s xhost=%s path=%s len=%zu\n", self,
                     ups_hdr(req, "host"), ups_hdr(req, "x-forwarded-for"),
                     ups_hdr(req, "x-forwarded-proto"), ups_hdr(req, "x-forwarded-host"),
                     req->target, req->body.len);
    orc_httpd_respond(req, 200, "text/plain", body, (size_t)n, "X-Upstream: yes\r\n");
}

static inline void ups_closed(void *arg) { (void)arg; }

static inline void ups_on_stop(uv_async_t *a)
{
    struct upstreams *u = a->data;
    for (int i = 0; i < u->n; i++)
        if (u->h[i]) orc_httpd_stop(u->h[i], ups_closed, NULL);
    uv_close((uv_handle_t *)&u->stop, NULL);
}

static inline void *ups_main(void *arg)
{
    struct upstreams *u = arg;
    char err[256];
    int ok = 1;
    for (int i = 0; i < u->n; i++) {
        struct orc_httpd_config hc = {.listen = u->addr[i], .handler = ups_handle,
                                      .arg = u->addr[i], .log_module = "upstream"};
        if (orc_httpd_start(&u->loop, &hc, &u->h[i], err) != 0) {
            fprintf(stderr, "# upstream %s: %s\n", u->addr[i], err);
            ok = -1;
        }
    }
    pthread_mutex_lock(&u->mu);
    u->ready = ok;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
    uv_run(&u->loop, UV_RUN_DEFAULT);
    return NULL;
}

static inline void ups_stop(void *arg)
{
    struct upstreams *u = arg;
    uv_async_send(&u->stop);
    pthread_join(u->thread, NULL);
    (void)uv_loop_close(&u->loop);
    free(u);
}

/* Starts servers on each "IP:PORT" of addrs (n of them); stopped when the
 * case ends. */
static inline struct upstreams *ups_start(const char *const *addrs, int n)
{
    struct upstreams *u = calloc(1, sizeof *u);
    CHECK(u != NULL && n <= UPSTREAM_MAX);
    u->n = n;
    for (int i = 0; i < n; i++) snprintf(u->addr[i], sizeof u->addr[i], "%s", addrs[i]);
    CHECK(uv_loop_init(&u->loop) == 0);
    CHECK(uv_async_init(&u->loop, &u->stop, ups_on_stop) == 0);
    u->stop.data = u;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    CHECK(pthread_create(&u->thread, NULL, ups_main, u) == 0);
    pthread_mutex_lock(&u->mu);
    while (u->ready == 0) pthread_cond_wait(&u->cv, &u->mu);
    pthread_mutex_unlock(&u->mu);
    test_defer(ups_stop, u);
    CHECK(u->ready == 1);
    return u;
}

#endif
