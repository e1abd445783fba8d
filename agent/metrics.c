/* metrics.c — the node agent's own metrics under the kubelet's names: pod
 * start latency, running pods and containers (counted from the workers at
 * each scrape), and — through the metered runtime (rt_metered.c) — runtime
 * operations and image pulls. A registry per agent, written only on the
 * agent's loop; the cAdvisor-named container series are not here. */
#include <string.h>

#include "agent/agent_int.h"
#include "agent/serve.h"
#include "agent/worker_int.h"
#include "lib/metrics.h"
#include "lib/orc.h"

/* The kubelet's pod start buckets. */
static const double start_buckets[] = {0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300,
                                       360, 480, 600, 900, 1200, 1800, 2700, 3600};


static struct orc_metric *family(struct orc_metrics *m, const char *name, const char *help,
                                 enum orc_metric_type t, const char *const *labels)
{
    struct orc_metric_opts o = {.name = name, .help = help, .type = t, .labels = labels};
    if (t == ORC_METRIC_HISTOGRAM) {
        o.buckets = start_buckets;
        o.n_buckets = sizeof start_buckets / sizeof *start_buckets;
    }
    return orc_metric_register(m, &o);
}

int agent_metrics_init(struct agent *a)
{
    if ((a->metrics = orc_metrics_new()) == NULL) return ORC_ENOMEM;
    a->m_pod_start = orc_metric_with(
        family(a->metrics, "kubelet_pod_start_duration_seconds",
               "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
               ORC_METRIC_HISTOGRAM, NULL),
        NULL);
    return a->m_pod_start ? 0 : ORC_ENOMEM;
}

void agent_metrics_pod_running(struct worker *w)
{
    if (w->start_observed) return;
    w->start_observed = true;
    orc_series_observe(w->a->m_pod_start, (double)(uv_hrtime() - w->seen_ns) / 1e9);
}

static void collect(void *arg)
{
    static const char *const state[] = {"container_state", NULL};
    struct agent *a = arg;
    struct orc_metric *ctrs = family(a->metrics, "kubelet_running_containers",
                                     "Number of containers currently running", ORC_METRIC_GAUGE, state);
    double pods = 0, running = 0, exited = 0, created = 0;

    for (struct worker *w = a->workers; w; w = w->next) {
        bool any = false;
        for (size_t i = 0; i < w->n_ctrs; i++) {
            enum ctr_state st = w->ctrs[i].st;
            if (st == CS_RUNNING) {
                running++;
                any = true;
            } else if (st == CS_EXITED) {
                exited++;
            } else if (st == CS_STARTING) {
                created++;
            }
        }
        if (any || (w->net_ready && !w->cleaned)) pods++;
    }
    orc_series_set(orc_metric_with(family(a->metrics, "kubelet_running_pods",
                                          "Number of pods that have a running pod sandbox",
                                          ORC_METRIC_GAUGE, NULL),
                                   NULL),
                   pods);
    orc_series_set(orc_metric_withv(ctrs, "running"), running);
    orc_series_set(orc_metric_withv(ctrs, "exited"), exited);
    orc_series_set(orc_metric_withv(ctrs, "created"), created);
}

void agent_metrics_serve(struct agent *a)
{
    if (a->srv) agent_serve_set_metrics(a->srv, a->metrics, collect, a);
}
