/* tables.c — server-side printing's cost: BENCH_TABLE_PODS (10,000) pods
 * stored in a one-member cluster (no controllers), then the same list as a
 * Table and as JSON objects, through the API directly and through stock
 * kubectl (`get pods -A` beside `get pods -A -o json`): wall time, body
 * size, and orcd's resident memory before and at its peak during the
 * request (sampled every 2 ms). Prints a markdown table on stdout. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "lib/orc.h"
#include "tests/cli/run.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/bench/bench.h"

#define TABLE_ACCEPT                                                                       \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;" \
    "g=meta.k8s.io,application/json"

static struct cluster C;

struct writer {
    int from, to, failures;
};

static void *create_pods(void *arg)
{
    struct writer *w = arg;
    char body[768];

    for (int i = w->from; i < w->to; i++) {
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"p%d\",\"namespace\":\"ns%d\",\"labels\":{\"app\":"
                 "\"bench\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\","
                 "\"image\":\"busybox:1.36\",\"command\":[\"sleep\",\"3600\"]}]}}",
                 i, i % 10);
        char path[64];
        snprintf(path, sizeof path, "/api/v1/namespaces/ns%d/pods", i % 10);
        if (t_http(&C, 0, "POST", path, NULL, body, NULL, NULL) != 201) w->failures++;
    }
    return NULL;
}

/* orcd's peak RSS while a request runs, sampled by a thread. */
struct sampler {
    pthread_t th;
    atomic_bool stop;
    long peak_kib;
};

static void *sample(void *arg)
{
    struct sampler *s = arg;
    while (!atomic_load(&s->stop)) {
        long kib = proc_rss_kib(C.m[0].pid);
        if (kib > s->peak_kib) s->peak_kib = kib;
        usleep(2000);
    }
    return NULL;
}

static void sampler_start(struct sampler *s)
{
    atomic_init(&s->stop, false);
    s->peak_kib = proc_rss_kib(C.m[0].pid);
    CHECK(pthread_create(&s->th, NULL, sample, s) == 0);
}

static long sampler_stop(struct sampler *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    return s->peak_kib;
}

static void row(const char *what, double ms, size_t bytes, long before, long peak)
{
    printf("| %s | %.0f ms | %.1f MiB | %ld MiB | %ld MiB (+%ld) |\n", what, ms,
           (double)bytes / (1 << 20), before / 1024, peak / 1024, (peak - before) / 1024);
    fflush(stdout);
}

static void api_list(const char *what, const char *accept)
{
    struct http_header h = {"Accept", accept};
    struct http_request req = {.method = "GET", .path = "/api/v1/pods", .headers = &h,
                               .n_headers = accept ? 1 : 0, .timeout_ms = 120000};
    struct http_response r = {0};
    struct sampler s;
    long before = proc_rss_kib(C.m[0].pid);

    sampler_start(&s);
    double t0 = bench_now_ms();
    CHECK_INT(http_sync_request_tls(C.m[0].url, C.token, cluster_tls(&C), &req, &r, NULL), ==, 0);
    double ms = bench_now_ms() - t0;
    long peak = sampler_stop(&s);
    CHECK_INT(r.status, ==, 200);
    row(what, ms, r.body_len, before, peak);
    http_response_free(&r);
}

static void kubectl_get(const char *what, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {"/usr/bin/kubectl", "--kubeconfig"};
    char conf[700], *out = NULL, *err = NULL;
    int n = 2;
    struct sampler s;
    long before = proc_rss_kib(C.m[0].pid);

    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    argv[n++] = conf;
    while (*words) argv[n++] = *words++;
    argv[n] = NULL;
    sampler_start(&s);
    double t0 = bench_now_ms();
    int rc = run_prog(C.home, NULL, &out, &err, argv);
    double ms = bench_now_ms() - t0;
    long peak = sampler_stop(&s);
    CHECKF(rc == 0, "kubectl: exit %d: %s", rc, err);
    row(what, ms, strlen(out), before, peak);
    free(out);
    free(err);
}

TEST_T(table_vs_json_list, 1200)
{
    int pods = bench_env_int("BENCH_TABLE_PODS", 10000), writers = 8;
    pthread_t th[8];
    struct writer w[8];

    cluster_init(&C, 1);
    C.no_controllers = true;
    member_start(&C, 0, false, NULL);
    member_wait_ready(&C, 0, 10000);
    for (int i = 0; i < 10; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"ns%d\"}}", i);
        CHECK_INT(t_http(&C, 0, "POST", "/api/v1/namespaces", NULL, body, NULL, NULL), ==, 201);
    }
    for (int i = 0; i < writers; i++) {
        w[i] = (struct writer){pods * i / writers, pods * (i + 1) / writers, 0};
        CHECK(pthread_create(&th[i], NULL, create_pods, &w[i]) == 0);
    }
    for (int i = 0; i < writers; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].failures, ==, 0);
    }
    printf("| %d pods listed | time | body | orcd RSS before | peak during |\n"
           "|---|---|---|---|---|\n", pods);
    api_list("API: list as objects (application/json)", "application/json");
    api_list("API: list as a Table (kubectl's Accept)", TABLE_ACCEPT);
    if (access("/usr/bin/kubectl", X_OK) == 0) {
        kubectl_get("kubectl get pods -A -o json", (const char *const[]){"get", "pods", "-A",
                                                                         "-o", "json", NULL});
        kubectl_get("kubectl get pods -A (a Table)", (const char *const[]){"get", "pods", "-A",
                                                                           NULL});
    } else {
        printf("| (kubectl rows skipped: /usr/bin/kubectl is not installed) | | | | |\n");
    }
    member_stop(&C, 0);
}
