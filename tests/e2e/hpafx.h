/* hpafx.h — README's autoscaling walkthrough (Kubernetes' own HPA
 * walkthrough) in steps, shared by tests/e2e/test_hpa.c, which checks it,
 * and tests/bench/hpa.c, which times it: php-apache from manifests/examples
 * (the stand-in image of scripts/dev-images.sh burns CPU on each request),
 * `orctl autoscale`, and a load generator pod hitting its Service. */
#ifndef ORC_TESTS_E2E_HPAFX_H
#define ORC_TESTS_E2E_HPAFX_H

#include "tests/e2e/tourfx.h"

#define PHP_YAML "manifests/examples/php-apache.yaml"
#define DEPLOY "/apis/apps/v1/namespaces/default/deployments/php-apache"
#define HPA "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/php-apache"
#define LOAD "while sleep 0.01; do wget -q -O- http://php-apache; done"

static inline void orctl_ok(const char *want, const char *first, ...)
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

static inline int64_t deploy_int(const char *field)
{
    json_t *d = get("%s", DEPLOY);
    int64_t n = json_integer_value(orc_json_get(d, field));
    json_decref(d);
    return n;
}

static inline void wait_for(bool (*pred)(void), unsigned ms, const char *what)
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
        test_sleep_ms(100);
    }
}

static inline bool one_ready(void) { return deploy_int("status.readyReplicas") >= 1; }

static inline bool has_usage(void)
{
    json_t *h = get("%s", HPA);
    bool ok = orc_json_get(json_array_get(orc_json_get(h, "status.currentMetrics"), 0),
                           "resource.current.averageUtilization") != NULL;
    json_decref(h);
    return ok;
}

static inline bool scaled_up_and_ready(void)
{
    int64_t want = deploy_int("spec.replicas");
    return want > 1 && deploy_int("status.readyReplicas") >= want;
}

static inline bool back_to_one(void) { return deploy_int("spec.replicas") == 1; }

/* php-apache applied and Ready, autoscaled at 50 % CPU (1-10 replicas),
 * with a utilization computed from real metrics; one replica. */
static inline void hpa_php_apache_idle(void)
{
    orctl_ok("deployment.apps/php-apache created", "apply", "-f", PHP_YAML, NULL);
    wait_for(one_ready, 60000, "php-apache ready");
    orctl_ok("horizontalpodautoscaler.autoscaling/php-apache autoscaled", "autoscale", "deployment",
             "php-apache", "--cpu-percent=50", "--min=1", "--max=10", NULL);
    wait_for(has_usage, 60000, "a current utilization in the HPA's status");
    CHECK_INT(deploy_int("spec.replicas"), ==, 1);
}

/* Starts the load generator and waits (up to timeout_ms) for a scale up
 * with every new replica Ready; returns the seconds that took. */
static inline double hpa_load_until_scaled(unsigned timeout_ms)
{
    uint64_t t0 = test_now_ms();
    orctl_ok("pod/load-generator created", "run", "load-generator", "--image=busybox:1.28",
             "--restart=Never", "--", "/bin/sh", "-c", LOAD, NULL);
    wait_for(scaled_up_and_ready, timeout_ms, "a scale up with every new replica ready");
    return (double)(test_now_ms() - t0) / 1000;
}

#endif
