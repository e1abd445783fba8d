/* hpa.c — the HPA's reaction time: seconds from the load generator's start
 * to the new php-apache replicas Ready, in README's walkthrough (Kubernetes'
 * own), once with the defaults Kubernetes ships (metrics every 15 s, an HPA
 * sync every 15 s: orc's defaults too) and once with both at 2 s. Prints
 * one markdown row per setting. Root: real containers. */
#include "tests/e2e/hpafx.h"

static void react(const char *what, const char *const *more)
{
    if (!root_or_skip()) return;
    tour_start_with(more);
    hpa_php_apache_idle();
    double s = hpa_load_until_scaled(180000);
    printf("| HPA reaction, %s | load on -> %lld replicas Ready in %.1f s |\n", what,
           (long long)deploy_int("spec.replicas"), s);
    fflush(stdout);
}

TEST_T(reaction_with_kubernetes_defaults, 600)
{
    react("metrics and sync every 15 s (the defaults)", NULL);
}

TEST_T(reaction_with_2s_periods, 600)
{
    static const char *const more[] = {"--metric-resolution", "2s",
                                       "--horizontal-pod-autoscaler-sync-period", "2s", NULL};
    react("metrics and sync every 2 s", more);
}
