/* services.c — Services' control plane, two figures:
 *   - ClusterIP allocation: creates/s of ClusterIP Services by
 *     BENCH_SVC_WRITERS (16) concurrent clients through every member of a
 *     BENCH_SVC_MEMBERS (3)-member cluster, BENCH_SVC_CREATES (300) in all,
 *     each address decided inside the replicated txn;
 *   - the EndpointSlice controller: BENCH_SVCS (100) Services × BENCH_PODS
 *     (10) pods written first (pods bound, podIP and Ready written through
 *     the API, as agents would), then ctl_endpointslice started in this
 *     process (tests/controllers/live.h): milliseconds until every Service's
 *     slices list all its pods ready. The figure is 1,000 × 10.
 * Prints a markdown table on stdout. */
#include <pthread.h>

#include "controllers/endpointslice.h"
#include "tests/controllers/live.h"
#include "tests/bench/bench.h"

static struct cluster C;
static struct live L;

/* ---- ClusterIP allocation ---- */

struct writer {
    struct cluster *c;
    int idx, member, n, failures;
};

static void *create_services(void *arg)
{
    struct writer *w = arg;
    for (int j = 0; j < w->n; j++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"b-%d-%d\"},\"spec\":{\"ports\":[{\"port\":80}]}}",
                 w->idx, j);
        if (t_http(w->c, w->member, "POST", "/api/v1/namespaces/default/services", NULL, body,
                   NULL, NULL) != 201)
            w->failures++;
    }
    return NULL;
}

TEST_T(clusterip_allocation_rate, 600)
{
    int members = bench_env_int("BENCH_SVC_MEMBERS", 3), writers = bench_env_int("BENCH_SVC_WRITERS", 16);
    int creates = bench_env_int("BENCH_SVC_CREATES", 300), per = (creates + writers - 1) / writers;
    pthread_t th[64];
    struct writer w[64];

    if (writers > 64) writers = 64;
    cluster_init(&C, members);
    cluster_start(&C, NULL);
    double t0 = bench_now_ms();
    for (int i = 0; i < writers; i++) {
        w[i] = (struct writer){&C, i, i % members, per, 0};
        CHECK(pthread_create(&th[i], NULL, create_services, &w[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < writers; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    double ms = bench_now_ms() - t0;
    CHECK_INT(failures, ==, 0);
    printf("| Services | size | time | rate |\n|---|---|---|---|\n");
    printf("| ClusterIP Services created, %d writers through %d members | %d | %.0f ms | %.0f "
           "creates/s |\n",
           writers, members, per * writers, ms, per * writers * 1000.0 / ms);
    fflush(stdout);
    for (int m = 0; m < members; m++) member_stop(&C, m);
}

/* ---- the EndpointSlice controller ---- */

struct filler {
    struct cluster *c;
    int from, to, pods;
    int failures;
};

static void *fill(void *arg)
{
    struct filler *f = arg;
    for (int s = f->from; s < f->to; s++) {
        char body[1024], path[256];
        snprintf(body, sizeof body,
                 "{\"metadata\":{\"name\":\"s%d\"},\"spec\":{\"selector\":{\"app\":\"s%d\"},"
                 "\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
                 s, s);
        if (t_http(f->c, 0, "POST", "/api/v1/namespaces/default/services", NULL, body, NULL,
                   NULL) != 201)
            f->failures++;
        for (int p = 0; p < f->pods; p++) {
            snprintf(body, sizeof body,
                     "{\"metadata\":{\"name\":\"s%d-p%d\",\"labels\":{\"app\":\"s%d\"}},\"spec\":"
                     "{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                     s, p, s);
            if (t_http(f->c, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, NULL,
                       NULL) != 201)
                f->failures++;
            snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/s%d-p%d/status", s, p);
            snprintf(body, sizeof body,
                     "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.%d.%d.%d\",\"conditions\":"
                     "[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                     40 + s / 256 % 200, s % 256, p + 1);
            if (t_http(f->c, 0, "PATCH", path, "application/merge-patch+json", body, NULL,
                       NULL) != 200)
                f->failures++;
        }
    }
    return NULL;
}

static size_t ready_endpoints(void)
{
    /* the controller's slices only (not default/kubernetes's) */
    json_t *items = live_items(&L, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                                   "?labelSelector=endpointslice.kubernetes.io%2Fmanaged-by%3D"
                                   "endpointslice-controller.k8s.io");
    json_t *s, *ep;
    size_t i, j, n = 0;
    json_array_foreach(items, i, s) {
        json_array_foreach(json_object_get(s, "endpoints"), j, ep)
            n += json_is_true(orc_json_get(ep, "conditions.ready"));
    }
    json_decref(items);
    return n;
}

TEST_T(endpointslice_reflects_services, 1200)
{
    int svcs = bench_env_int("BENCH_SVCS", 100), pods = bench_env_int("BENCH_PODS", 10), fillers = 8;
    static const char *const flags[] = {"--controllers", "-*", NULL};
    pthread_t th[8];
    struct filler f[8];

    cluster_init(&L.own, 1);
    member_start(&L.own, 0, false, flags);
    member_wait_ready(&L.own, 0, 10000);
    double t0 = bench_now_ms();
    for (int i = 0; i < fillers; i++) {
        f[i] = (struct filler){&L.own, svcs * i / fillers, svcs * (i + 1) / fillers, pods, 0};
        CHECK(pthread_create(&th[i], NULL, fill, &f[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < fillers; i++) {
        pthread_join(th[i], NULL);
        failures += f[i].failures;
    }
    CHECK_INT(failures, ==, 0);
    fprintf(stderr, "# %d Services and %d pods written in %.0f ms\n", svcs, svcs * pods,
            bench_now_ms() - t0);

    const struct ctl_controller *ctls[] = {&ctl_endpointslice, NULL};
    t0 = bench_now_ms();
    live_attach(&L, &L.own, ctls);
    size_t want = (size_t)svcs * (size_t)pods, have = 0;
    while ((have = ready_endpoints()) < want && bench_now_ms() - t0 < 600000) live_run(&L, 100);
    double ms = bench_now_ms() - t0;
    CHECK_INT(have, ==, want);
    printf("| EndpointSlice controller from start to every slice complete | %d Services x %d "
           "pods | %.0f ms | %.0f endpoints/s |\n",
           svcs, pods, ms, want * 1000.0 / ms);
    fflush(stdout);
    live_stop(&L);
    member_stop(&L.own, 0);
}
