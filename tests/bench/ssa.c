/* ssa.c — the cost of server-side apply: stock kubectl applying
 * BENCH_SSA_OBJECTS (100) Deployments in one manifest that are already
 * applied (a no-op), BENCH_SSA_REPS (5) times, with --server-side (one
 * PATCH per object, the field manager's merge and comparison on the
 * server) beside client-side apply (a GET per object, the three-way patch
 * computed in kubectl, nothing sent when it is empty). Objects/s of the
 * whole kubectl run, process start included, on one member. A no-op apply
 * must write nothing: the revision is checked. Prints a markdown table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/bench/bench.h"

static struct cluster C;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n Deployments named <prefix>-<i>, replicas 0 (no pods to run). */
static char *manifest(const char *prefix, int n)
{
    struct orc_buf b = ORC_BUF_INIT;
    char *path = NULL;

    for (int i = 0; i < n; i++)
        CHECK(orc_buf_printf(&b,
                             "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                             "  name: %s-%d\n  labels: {app: %s-%d, tier: bench}\nspec:\n"
                             "  replicas: 0\n  selector:\n    matchLabels: {app: %s-%d}\n"
                             "  template:\n    metadata:\n      labels: {app: %s-%d}\n"
                             "    spec:\n      containers:\n      - name: app\n"
                             "        image: nginx:1.25\n        ports:\n"
                             "        - containerPort: 80\n        env:\n"
                             "        - {name: MODE, value: prod}\n",
                             prefix, i, prefix, i, prefix, i, prefix, i) == 0);
    CHECK(asprintf(&path, "%s/%s.yaml", test_tmpdir(), prefix) > 0);
    CHECK(orc_file_write(path, b.data, b.len, 0600) == 0);
    orc_buf_free(&b);
    return path;
}

static void kubectl_apply(const char *path, bool server_side)
{
    const char *argv[] = {"/usr/bin/kubectl", "--kubeconfig", NULL, "apply", "--validate=false",
                          "-f", path, server_side ? "--server-side" : NULL, NULL};
    char conf[700], *out, *err;
    int rc;

    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    argv[2] = conf;
    rc = run_prog(C.home, NULL, &out, &err, argv);
    CHECKF(rc == 0, "kubectl apply: exit %d\n%s\n%s", rc, out, err);
    free(out);
    free(err);
}

/* Objects/s of `reps` no-op applies of `path` (applied once first). */
static double noop_rate(const char *path, int n, int reps, bool server_side)
{
    long long rev;
    double t0;

    kubectl_apply(path, server_side);
    sleep(1); /* let the controllers settle what the first apply made */
    rev = member_revision(&C, 0);
    t0 = now_s();
    for (int i = 0; i < reps; i++) kubectl_apply(path, server_side);
    double rate = (double)n * reps / (now_s() - t0);
    if (server_side) CHECKF(member_revision(&C, 0) == rev, "a no-op server-side apply wrote");
    return rate;
}

TEST_T(noop_apply_server_side_beside_client_side, 600)
{
    int n = bench_env_int("BENCH_SSA_OBJECTS", 100), reps = bench_env_int("BENCH_SSA_REPS", 5);

    if (access("/usr/bin/kubectl", X_OK) != 0) {
        printf("(server-side apply benchmark skipped: it needs /usr/bin/kubectl)\n");
        return;
    }
    cluster_init(&C, 1);
    member_start(&C, 0, false, NULL);
    member_wait_ready(&C, 0, 10000);
    char *ssa = manifest("ssa", n), *csa = manifest("csa", n);
    double s = noop_rate(ssa, n, reps, true), c = noop_rate(csa, n, reps, false);
    printf("| kubectl apply of %d applied Deployments (no-op), %d runs | objects/s |\n", n, reps);
    printf("|---|---|\n");
    printf("| --server-side (PATCH apply-patch+yaml each) | %.0f |\n", s);
    printf("| client-side (GET each, no patch sent) | %.0f |\n", c);
    printf("| server-side / client-side | %.2f |\n", s / c);
    free(ssa);
    free(csa);
}
