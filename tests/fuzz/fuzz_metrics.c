/* fuzz_metrics.c — libFuzzer target for apiserver/metrics_parse.c: the
 * kubelet's /metrics/resource text an agent answers the collector with.
 * A scrape that parses has bounded names and finite, non-negative values,
 * and computing usage against itself and against an empty scrape never
 * trips. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/resmetrics.h"

static void check(const struct api_mx_scrape *s)
{
    for (size_t i = 0; i < s->n_ctrs; i++) {
        const struct api_mx_ctr *c = &s->ctrs[i];
        if (!c->name[0] || !c->pod[0] || !c->ns[0]) abort();
        if (strlen(c->name) >= sizeof c->name || strlen(c->pod) >= sizeof c->pod) abort();
        if (!isfinite(c->p.cpu_s) || !isfinite(c->p.mem)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_mx_scrape s, empty = {0};
    struct api_mx_node n = {.name = "n"};

    if (api_mx_parse((const char *)data, size, 1, &s) == 0) {
        check(&s);
        if (api_mx_compute(&s, &s, &n) == 0) api_mx_node_clear(&n);
        if (api_mx_compute(&empty, &s, &n) == 0) api_mx_node_clear(&n);
    }
    api_mx_scrape_free(&s);
    return 0;
}
