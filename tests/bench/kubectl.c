/* kubectl.c — stock kubectl beside orctl against one orcd member: wall
 * time of `apply -f DIR` of BENCH_MANIFESTS (100) manifests (ConfigMaps,
 * Services, Deployments in turn), first creating them, then again with
 * nothing changed (client-side apply: a GET and no write per object);
 * each client's own cost included, as a user waits for it. Each client
 * applies into a namespace of its own. Prints a markdown table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"
#include "tests/bench/bench.h"

static struct cluster C;

static void write_manifests(const char *dir, int n)
{
    CHECK(mkdir(dir, 0700) == 0);
    for (int i = 0; i < n; i++) {
        char path[700], text[1024];
        int len;
        if (i % 3 == 0)
            len = snprintf(text, sizeof text, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "
                           "cm-%d\n  labels: {app: bench}\ndata:\n  key: value-%d\n", i, i);
        else if (i % 3 == 1)
            len = snprintf(text, sizeof text, "apiVersion: v1\nkind: Service\nmetadata:\n  name: "
                           "svc-%d\nspec:\n  selector: {app: web-%d}\n  ports:\n  - port: 80\n"
                           "    targetPort: 8080\n", i, i);
        else
            len = snprintf(text, sizeof text, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                           "  name: web-%d\nspec:\n  replicas: 0\n  selector:\n    matchLabels: "
                           "{app: web-%d}\n  template:\n    metadata:\n      labels: {app: web-%d}\n"
                           "    spec:\n      containers:\n      - name: c\n        image: nginx\n",
                           i, i, i);
        snprintf(path, sizeof path, "%s/m%03d.yaml", dir, i);
        CHECK(orc_file_write(path, text, (size_t)len, 0600) == 0);
    }
}

/* Runs argv; returns its wall time in ms (fails the run on a non-zero exit). */
static double timed(const char *const *argv)
{
    char *out, *err;
    double t0 = bench_now_ms();
    int rc = run_prog(C.home, NULL, &out, &err, argv);
    double ms = bench_now_ms() - t0;
    CHECKF(rc == 0, "%s %s: exit %d\n%s", argv[0], argv[1], rc, err);
    free(out);
    free(err);
    return ms;
}

static void create_ns(const char *ns)
{
    char body[128];
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\"}}", ns);
    CHECK(t_http(&C, 0, "POST", "/api/v1/namespaces", NULL, body, NULL, NULL) == 201);
}

TEST_T(apply_a_directory, 600)
{
    int n = getenv("BENCH_MANIFESTS") ? atoi(getenv("BENCH_MANIFESTS")) : 100;
    char dir[600], conf[700];

    if (access("/usr/bin/kubectl", X_OK) != 0) {
        printf("\n(kubectl benchmark skipped: /usr/bin/kubectl is not installed)\n");
        return;
    }
    cluster_init(&C, 1);
    cluster_start(&C, NULL);
    snprintf(dir, sizeof dir, "%s/manifests", test_tmpdir());
    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    write_manifests(dir, n);
    create_ns("by-kubectl");
    create_ns("by-orctl");
    const char *k[] = {"/usr/bin/kubectl", "--kubeconfig", conf, "apply", "-n", "by-kubectl",
                       "-f", dir, NULL};
    const char *o[] = {t_bin("orctl"), "--kubeconfig", conf, "apply", "-n", "by-orctl", "-f",
                       dir, NULL};
    double kc = timed(k), oc = timed(o), ku = timed(k), ou = timed(o);

    printf("\n| `apply -f DIR`, %d manifests, 1 member | kubectl 1.32 | orctl | kubectl / orctl |\n"
           "|---|---|---|---|\n", n);
    printf("| create (wall ms) | %.0f | %.0f | %.1f× |\n", kc, oc, kc / oc);
    printf("| unchanged, again (wall ms) | %.0f | %.0f | %.1f× |\n", ku, ou, ku / ou);
    member_stop(&C, 0);
}
