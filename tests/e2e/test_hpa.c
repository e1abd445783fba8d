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
#include "tests/e2e/hpafx.h"

TEST_T(hpa_walkthrough_scales_php_apache_up_and_down, 300)
{
    static const char *const more[] = {"--metric-resolution", "2s",
                                       "--horizontal-pod-autoscaler-sync-period", "2s",
                                       "--horizontal-pod-autoscaler-downscale-stabilization", "10s", NULL};
    if (!root_or_skip()) return;
    tour_start_with(more);

    /* Idle: a count computed from real metrics, and it stays 1. */
    hpa_php_apache_idle();
    orctl_ok("php-apache", "get", "hpa", NULL);

    double up = hpa_load_until_scaled(90000);
    printf("# HPA reaction: load on -> %lld replicas Ready in %.1f s (sync 2 s, metrics every 2 s)\n",
           (long long)deploy_int("spec.replicas"), up);

    uint64_t t0 = test_now_ms();
    /* --now, as the walkthrough's Ctrl+C ends it: the generator's shell, pid
     * 1, ignores SIGTERM and would load on for the 30 s grace period */
    orctl_ok("deleted", "delete", "pod", "load-generator", "--now", NULL);
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
