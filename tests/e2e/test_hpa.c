/* test_hpa.c — README's autoscaling walkthrough, Kubernetes' own
 * (Tasks › HorizontalPodAutoscaler Walkthrough), end to end with orctl:
 * php-apache from manifests/examples (the stand-in image of
 * scripts/dev-images.sh burns CPU on each request), `orctl autoscale
 * deployment php-apache --cpu-percent=50 --min=1 --max=10`, a load
 * generator pod hitting the Service in a loop; the pods' usage is read
 * from cgroups into metrics.k8s.io and the HPA scales the Deployment up
 * within about a minute, then, once the load generator is deleted, back
 * down after the stabilization window (10 s here, by flag, instead of 5
 * minutes). Prints the reaction time (load on -> the new replicas Ready),
 * a figure for docs/BENCHMARKS.md. Root: real containers. */
#include "tests/e2e/tourfx.h"

#define PHP_YAML "manifests/examples/php-apache.yaml"
#define DEPLOY "/apis/apps/v1/namespaces/default/deployments/php-apache"
#define HPA "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/php-apache"
#define LOAD "while sleep 0.01; do wget -q -O- http://php-apache; done"

static void orctl_ok(const char *want, const char *first, ...)
{
    char *out = NULL, *err = NULL;
    va_list ap;
    int rc;

    va_start(ap, first);
    rc = run_orctl_v(C.home, NULL, &out, &err, first, ap);
    va_end(ap);
    CHECKF(rc == 0 && (!want || strstr(out, want)), "orctl %s: exit %d\n%s%s", first, rc, out, err);
    free(out);
    free(err);
}

static int64_t deploy_int(const char *field)
{
    json_t *d = get("%s", DEPLOY);
    int64_t n = json_integer_value(orc_json_get(d, field));
    json_decref(d);
    return n;
}

static void wait_for(bool (*pred)(void), unsigned ms, const char *what)
{
    uint64_t end = test_now_ms() + ms;
    while (!pred()) {
        if (test_now_ms() > end) {
            json_t *h = get("%s", HPA);
            char *s = h ? orc_json_dumps(orc_json_get(h, "status")) : NULL, *out = NULL, *err = NULL;
            run_orctl(&C, &out, &err, "logs", "load-generator", "--tail=5", NULL);
            fprintf(stderr, "# the load generator's log: %s%s\n", out ? out : "", err ? err : "");
            free(out), free(err), out = err = NULL;
            run_orctl(&C, &out, &err, "exec", "load-generator", "--", "sh", "-c",
                      "nslookup php-apache; wget -S -O- http://php-apache", NULL);
            fprintf(stderr, "# from the load generator: %s%s\n", out ? out : "", err ? err : "");
            free(out), free(err), out = err = NULL;
            run_orctl(&C, &out, &err, "get", "svc,endpoints,pods", "-o", "wide", NULL);
            fprintf(stderr, "# %s%s\n", out ? out : "", err ? err : "");
            free(out), free(err), out = err = NULL;
            run_orctl(&C, &out, &err, "logs", "deploy/php-apache", NULL);
            fprintf(stderr, "# php-apache: %s%s\n", out ? out : "", err ? err : "");
            free(out), free(err);
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "%u ms without %s; the HPA's status: %s", ms, what, s ? s : "-");
        }
        test_sleep_ms(500);
    }
}

static bool one_ready(void) { return deploy_int("status.readyReplicas") >= 1; }

static bool has_usage(void)
{
    json_t *h = get("%s", HPA);
    bool ok = orc_json_get(json_array_get(orc_json_get(h, "status.currentMetrics"), 0),
                           "resource.current.averageUtilization") != NULL;
    json_decref(h);
    return ok;
}

static bool scaled_up_and_ready(void)
{
    int64_t want = deploy_int("spec.replicas");
    return want > 1 && deploy_int("status.readyReplicas") >= want;
}

static bool back_to_one(void) { return deploy_int("spec.replicas") == 1; }

TEST_T(hpa_walkthrough_scales_php_apache_up_and_down, 300)
{
    static const char *const more[] = {"--metric-resolution", "2s",
                                       "--horizontal-pod-autoscaler-sync-period", "2s",
                                       "--horizontal-pod-autoscaler-downscale-stabilization", "10s", NULL};
    if (!root_or_skip()) return;
    tour_start_with(more);

    orctl_ok("deployment.apps/php-apache created", "apply", "-f", PHP_YAML, NULL);
    wait_for(one_ready, 60000, "php-apache ready");
    orctl_ok("horizontalpodautoscaler.autoscaling/php-apache autoscaled", "autoscale", "deployment",
             "php-apache", "--cpu-percent=50", "--min=1", "--max=10", NULL);
    /* Idle: a count computed from real metrics, and it stays 1. */
    wait_for(has_usage, 30000, "a current utilization in the HPA's status");
    CHECK_INT(deploy_int("spec.replicas"), ==, 1);
    orctl_ok("php-apache", "get", "hpa", NULL);

    uint64_t t0 = test_now_ms();
    orctl_ok("pod/load-generator created", "run", "load-generator", "--image=busybox:1.28",
             "--restart=Never", "--", "/bin/sh", "-c", LOAD, NULL);
    wait_for(scaled_up_and_ready, 90000, "a scale up with every new replica ready");
    printf("# HPA reaction: load on -> %lld replicas Ready in %.1f s (sync 2 s, metrics every 2 s)\n",
           (long long)deploy_int("spec.replicas"), (double)(test_now_ms() - t0) / 1000);

    t0 = test_now_ms();
    orctl_ok("deleted", "delete", "pod", "load-generator", NULL);
    wait_for(back_to_one, 120000, "the scale down after the 10 s window");
    printf("# HPA scale down: load off -> 1 replica in %.1f s (stabilization window 10 s)\n",
           (double)(test_now_ms() - t0) / 1000);

    json_t *ev = get("/api/v1/namespaces/default/events"), *e;
    size_t i, ups = 0, downs = 0;
    json_array_foreach (orc_json_get(ev, "items"), i, e) {
        const char *msg = orc_json_str(e, "message") ?: "";
        if (strcmp(orc_json_str(e, "reason") ?: "", "SuccessfulRescale") != 0) continue;
        ups += strstr(msg, "cpu resource utilization (percentage of request) above target") != NULL;
        downs += strstr(msg, "All metrics below target") != NULL;
    }
    json_decref(ev);
    CHECK(ups >= 1);
    CHECK(downs >= 1);
}
