/* metrics.c — what a Prometheus scrape of a member costs: /metrics of a
 * one-member cluster (no controllers) timed over BENCH_METRICS_SCRAPES
 * (200) scrapes with a few pods stored, then again with BENCH_METRICS_PODS
 * (10,000): p50, p99 and max latency, the body's size, and orcd's RSS
 * before and after the scrapes. The store's figures come from counters it
 * keeps as entries apply (store/stats.c), so the two rows should match:
 * nothing in a scrape walks or allocates per stored object. Prints a
 * markdown table on stdout. */
#include <pthread.h>
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void scrape_row(int pods, int scrapes)
{
    struct http_request req = {.method = "GET", .path = "/metrics", .timeout_ms = 10000};
    double *ms = calloc((size_t)scrapes, sizeof *ms);
    size_t bytes = 0;
    long before = proc_rss_kib(C.m[0].pid);
    char err[256] = "";

    CHECK(ms != NULL);
    for (int i = 0; i < scrapes; i++) {
        struct http_response r = {0};
        double t0 = bench_now_ms();
        CHECK_INT(http_sync_request_tls(C.m[0].url, C.token, cluster_tls(&C), &req, &r, NULL), ==, 0);
        ms[i] = bench_now_ms() - t0;
        CHECK_INT(r.status, ==, 200);
        bytes = r.body_len;
        if (i == 0) {
            char *text = strndup(r.body, r.body_len);
            CHECKF(promtext_check(text, err, sizeof err) == 0, "%s", err);
            char series[64];
            snprintf(series, sizeof series, "apiserver_storage_objects{resource=\"pods\"}");
            CHECKF(pods == 0 || promtext_value(text, series) == pods, "pods counted: %g",
                   promtext_value(text, series));
            free(text);
        }
        http_response_free(&r);
    }
    qsort(ms, (size_t)scrapes, sizeof *ms, cmp_double);
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
