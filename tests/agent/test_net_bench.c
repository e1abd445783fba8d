/* test_net_bench.c — pod network setup and teardown latency over 50 pods
 * (median and p99 printed), with and without a hostPort; a sanity bound
 * only, the figures are for docs/BENCHMARKS.md. */
#include <time.h>

#include "tests/agent/netfx.h"

#define PODS 50

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    fprintf(stderr, "# %-28s median %6.2f ms  p99 %6.2f ms  max %6.2f ms\n", what, ms[n / 2],
            ms[(n * 99) / 100], ms[n - 1]);
}

static void run(struct nfx *f, const char *label, bool with_port)
{
    double setup[PODS], teardown[PODS];
    char uid[PODS][40], what[64];
    struct net_pod p;

    for (int i = 0; i < PODS; i++) {
        struct net_port port = {80, 30000 + ((int)getpid() + i) % 10000, "TCP", NULL};
        double t0 = now_ms();
        snprintf(uid[i], sizeof uid[i], "%08x-%04x-4000-8000-000000000000", (unsigned)i,
                 (unsigned)getpid() & 0xffff);
        nfx_setup(f, uid[i], &port, with_port ? 1 : 0, &p);
        setup[i] = now_ms() - t0;
    }
    for (int i = 0; i < PODS; i++) {
        double t0 = now_ms();
        CHECK_INT(net_pod_teardown(f->n, uid[i]), ==, 0);
        teardown[i] = now_ms() - t0;
    }
    snprintf(what, sizeof what, "setup%s", label);
    report(what, setup, PODS);
    snprintf(what, sizeof what, "teardown%s", label);
    report(what, teardown, PODS);
    CHECKF(setup[PODS / 2] < 100, "pod setup median %.1f ms", setup[PODS / 2]);
}

TEST_T(net_bench_setup_teardown, 120)
{
    struct nfx *f = nfx_node("bench", 0, 24);
    char msg[256];

    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg);
    run(f, "", false);
    run(f, " (1 hostPort)", true);
}
