/* metrics.c — what a Prometheus scrape of a member costs: /metrics of a
 * one-member cluster (no controllers) timed over BENCH_METRICS_SCRAPES
 * (200) scrapes over one keep-alive connection, as Prometheus makes them,
 * with a few pods stored, then again with BENCH_METRICS_PODS (10,000):
 * p50, p99 and max latency, the body's size, and orcd's RSS
 * before and after the scrapes. The store's figures come from counters it
 * keeps as entries apply (store/stats.c), so the two rows should match:
 * nothing in a scrape walks or allocates per stored object. Prints a
 * markdown table on stdout. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "lib/orc.h"
#include "tests/bench/bench.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/promtext.h"
#include "tests/harness/test.h"

static struct cluster C;

struct writer {
    int from, to, failures;
};

static void *create_pods(void *arg)
{
    struct writer *w = arg;
    char body[768], path[64];

    for (int i = w->from; i < w->to; i++) {
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"p%d\",\"namespace\":\"ns%d\"},\"spec\":{\"nodeName\":\"n1\","
                 "\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\"}]}}",
                 i, i % 10);
        snprintf(path, sizeof path, "/api/v1/namespaces/ns%d/pods", i % 10);
        if (t_http(&C, 0, "POST", path, NULL, body, NULL, NULL) != 201) w->failures++;
    }
    return NULL;
}

static void store_pods(int from, int to)
{
    pthread_t th[8];
    struct writer w[8];

    for (int i = 0; i < 8; i++) {
        w[i] = (struct writer){from + (to - from) * i / 8, from + (to - from) * (i + 1) / 8, 0};
        CHECK(pthread_create(&th[i], NULL, create_pods, &w[i]) == 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].failures, ==, 0);
    }
}

/* One keep-alive connection, as Prometheus scrapes: the TLS handshake is
 * paid once, before the timed scrapes. */
struct scrape {
    bool done;
    int err, status;
    char *body;
    size_t len;
};

static void on_scrape(void *arg, int err, const struct http_response *r)
{
    struct scrape *x = arg;

    x->done = true;
    x->err = err;
    if (err == 0) {
        x->status = r->status;
        x->body = strndup(r->body ? r->body : "", r->body_len);
        x->len = r->body_len;
    }
}

static void closed(void *arg) { *(bool *)arg = true; }

static double scrape_once(uv_loop_t *loop, http_client *c, struct scrape *x)
{
    struct http_request req = {.method = "GET", .path = "/metrics", .timeout_ms = 10000};
    double t0 = bench_now_ms();

    memset(x, 0, sizeof *x);
    CHECK_INT(http_request(c, &req, on_scrape, x, NULL), ==, 0);
    while (!x->done) uv_run(loop, UV_RUN_ONCE);
    CHECK_INT(x->err, ==, 0);
    CHECK_INT(x->status, ==, 200);
    return bench_now_ms() - t0;
}

static void scrape_row(int pods, int scrapes)
{
    double *ms = calloc((size_t)scrapes, sizeof *ms);
    long before = proc_rss_kib(C.m[0].pid);
    char err[256] = "", series[64];
    uv_loop_t loop;
    http_client *c = NULL;
    struct scrape x;
    size_t bytes = 0;
    bool is_closed = false;

    CHECK(ms != NULL);
    CHECK_INT(uv_loop_init(&loop), ==, 0);
    CHECK_INT(http_client_new_tls(&loop, C.m[0].url, C.token, cluster_tls(&C), &c), ==, 0);
    scrape_once(&loop, c, &x); /* connects */
    CHECKF(promtext_check(x.body, err, sizeof err) == 0, "%s", err);
    snprintf(series, sizeof series, "apiserver_storage_objects{resource=\"pods\"}");
    CHECKF(promtext_value(x.body, series) == pods, "pods counted: %g", promtext_value(x.body, series));
    free(x.body);
    for (int i = 0; i < scrapes; i++) {
        ms[i] = scrape_once(&loop, c, &x);
        bytes = x.len;
        free(x.body);
    }
    http_client_close(c, closed, &is_closed);
    while (!is_closed) uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    qsort(ms, (size_t)scrapes, sizeof *ms, bench_cmp_double);
    printf("| %d | %d | %.2f ms | %.2f ms | %.2f ms | %.1f KiB | %ld MiB | %ld MiB |\n", pods, scrapes,
           ms[scrapes / 2], ms[scrapes * 99 / 100], ms[scrapes - 1], (double)bytes / 1024, before / 1024,
           proc_rss_kib(C.m[0].pid) / 1024);
    fflush(stdout);
    free(ms);
}

TEST_T(scrape_cost_with_pods_stored, 1200)
{
    int pods = bench_env_int("BENCH_METRICS_PODS", 10000);
    int scrapes = bench_env_int("BENCH_METRICS_SCRAPES", 200);

    cluster_init(&C, 1);
    C.no_controllers = true;
    member_start(&C, 0, false, NULL);
    member_wait_ready(&C, 0, 10000);
    for (int i = 0; i < 10; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"ns%d\"}}", i);
        CHECK_INT(t_http(&C, 0, "POST", "/api/v1/namespaces", NULL, body, NULL, NULL), ==, 201);
    }
    printf("| pods stored | scrapes | p50 | p99 | max | body | orcd RSS before | after |\n"
           "|---|---|---|---|---|---|---|---|\n");
    store_pods(0, 16);
    scrape_row(16, scrapes);
    store_pods(16, pods);
    scrape_row(pods, scrapes);
    member_stop(&C, 0);
}
