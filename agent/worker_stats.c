/* worker_stats.c — one pod's usage for the agent port's metrics: the pod's
 * cgroup, each running container's, and eth0's bytes seen from inside the
 * pod (through a container process's /proc/PID/net/dev, no setns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/stats.h"
#include "agent/worker_int.h"
#include "lib/hash.h"
#include "lib/orc.h"

static void ctr_stats(const struct ctr *c, const struct rt_handle *rt, const char *uid, const char *tag,
                      struct agent_stat_ctr *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", c->name);
    snprintf(out->id, sizeof out->id, "%s", c->id);
    snprintf(out->image, sizeof out->image, "%s", c->run_image ? c->run_image : "");
    snprintf(out->cgroup, sizeof out->cgroup, "/orc-%s/pod-%s/%s", tag, uid, c->id);
    out->start_ns = c->started_ns;
    rth_stats(rt, uid, c->id, &out->st);
}

/* eth0's counters through the first running container's process. */
static void pod_net(const struct worker *w, const struct rt_handle *rt, struct agent_stat_pod *out)
{
    struct rt_status st;

    if (w->host_network) return;
    for (size_t i = 0; i < w->n_ctrs; i++) {
        if (w->ctrs[i].st != CS_RUNNING || rth_status(rt, w->ctrs[i].id, &st) != 0 || st.pid <= 0) continue;
        if (agent_stats_pid_net(st.pid, &out->rx_bytes, &out->tx_bytes) == 0) out->has_net = true;
        return;
    }
}

int worker_stats(const struct worker *w, const struct rt_handle *rt, struct agent_stat_pod *out)
{
    size_t running = 0, k = 0;
    char tag[9];

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < w->n_ctrs; i++) running += w->ctrs[i].st == CS_RUNNING && w->ctrs[i].id[0];
    if (w->gone || running == 0) return ORC_ENOENT;
    if ((out->ctrs = calloc(running, sizeof *out->ctrs)) == NULL) return ORC_ENOMEM;
    snprintf(out->ns, sizeof out->ns, "%s", w->ns);
    snprintf(out->name, sizeof out->name, "%s", w->name);
    snprintf(out->uid, sizeof out->uid, "%s", w->uid);
    orc_name_tag(w->a->node_name, tag); /* the runtime's cgroup parent is named for it */
    snprintf(out->cgroup, sizeof out->cgroup, "/orc-%s/pod-%s", tag, w->uid);
    for (size_t i = 0; i < w->n_ctrs; i++) {
        const struct ctr *c = &w->ctrs[i];
        if (c->st != CS_RUNNING || !c->id[0]) continue;
        ctr_stats(c, rt, w->uid, tag, &out->ctrs[k]);
        if (out->start_ns == 0 || (c->started_ns > 0 && c->started_ns < out->start_ns))
            out->start_ns = c->started_ns;
        k++;
    }
    out->n_ctrs = k;
    rth_stats(rt, w->uid, NULL, &out->st);
    pod_net(w, rt, out);
    return 0;
}
