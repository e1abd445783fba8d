/* stats_fmt.c — the usage readings in the kubelet's three forms (stats.h):
 * /metrics/resource and /metrics/cadvisor in Prometheus text, with the
 * kubelet's and cAdvisor's names, HELP lines and labels, and
 * /stats/summary's JSON. Samples carry their reading's time (ms), as the
 * kubelet's do, so a scraper's rate uses when each was read. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/stats.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

/* A label value with Prometheus' escapes (\\, \", \n). */
static int label(struct orc_buf *b, const char *name, const char *v, bool first)
{
    int rv = orc_buf_printf(b, "%s%s=\"", first ? "" : ",", name);

    for (; rv == 0 && *v; v++) {
        if (*v == '\\') rv = orc_buf_puts(b, "\\\\");
        else if (*v == '"') rv = orc_buf_puts(b, "\\\"");
        else if (*v == '\n') rv = orc_buf_puts(b, "\\n");
        else rv = orc_buf_append(b, v, 1);
    }
    return rv ? rv : orc_buf_puts(b, "\"");
}

static int head(struct orc_buf *b, const char *name, const char *type, const char *help)
{
    return orc_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ns as exact decimal seconds ("77293.48", "5"): a double's shortest
 * text would need more digits than %g gives. */
static void secs(uint64_t ns, char *out, size_t n)
{
    int w = snprintf(out, n, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);

    while (w > 0 && out[w - 1] == '0') out[--w] = '\0';
    if (w > 0 && out[w - 1] == '.') out[--w] = '\0';
}

static int value(struct orc_buf *b, uint64_t v, bool ns_to_s, int64_t time_ns)
{
    char t[48];

    if (ns_to_s) secs(v, t, sizeof t);
    else snprintf(t, sizeof t, "%" PRIu64, v);
    return orc_buf_printf(b, "} %s %" PRId64 "\n", t, time_ns / 1000000);
}

/* name{container=,namespace=,pod=} or {namespace=,pod=} v ts */
static int series(struct orc_buf *b, const char *name, const struct agent_stat_pod *p,
                  const struct agent_stat_ctr *c, uint64_t v, bool ns_to_s, int64_t time_ns)
{
    int rv = orc_buf_printf(b, "%s{", name);

    if (rv == 0 && c) rv = label(b, "container", c->name, true);
    if (rv == 0) rv = label(b, "namespace", p->ns, c == NULL);
    if (rv == 0) rv = label(b, "pod", p->name, false);
    return rv ? rv : value(b, v, ns_to_s, time_ns);
}

enum what { CTR_CPU, CTR_MEM, CTR_START, POD_CPU, POD_MEM };

static int each(struct orc_buf *b, const struct agent_stats *s, const char *name, enum what w)
{
    int rv = 0;

    for (size_t i = 0; rv == 0 && i < s->n_pods; i++) {
        const struct agent_stat_pod *p = &s->pods[i];
        if (w == POD_CPU && p->st.has_cpu) rv = series(b, name, p, NULL, p->st.cpu_ns, true, p->st.time_ns);
        if (w == POD_MEM && p->st.has_mem) rv = series(b, name, p, NULL, p->st.mem_ws, false, p->st.time_ns);
        for (size_t j = 0; rv == 0 && w < POD_CPU && j < p->n_ctrs; j++) {
            const struct agent_stat_ctr *c = &p->ctrs[j];
            if (w == CTR_CPU && c->st.has_cpu) rv = series(b, name, p, c, c->st.cpu_ns, true, c->st.time_ns);
            if (w == CTR_MEM && c->st.has_mem) rv = series(b, name, p, c, c->st.mem_ws, false, c->st.time_ns);
            if (w == CTR_START && c->start_ns > 0)
                rv = series(b, name, p, c, (uint64_t)c->start_ns, true, c->st.time_ns);
        }
    }
    return rv;
}

int agent_stats_resource_text(const struct agent_stats *s, struct orc_buf *out)
{
    int rv = 0;

    rv |= head(out, "container_cpu_usage_seconds_total", "counter",
               "[STABLE] Cumulative cpu time consumed by the container in core-seconds");
    rv |= each(out, s, "container_cpu_usage_seconds_total", CTR_CPU);
    rv |= head(out, "container_memory_working_set_bytes", "gauge",
               "[STABLE] Current working set of the container in bytes");
    rv |= each(out, s, "container_memory_working_set_bytes", CTR_MEM);
    rv |= head(out, "container_start_time_seconds", "gauge",
               "[STABLE] Start time of the container since unix epoch in seconds");
    rv |= each(out, s, "container_start_time_seconds", CTR_START);
    rv |= head(out, "node_cpu_usage_seconds_total", "counter",
               "[STABLE] Cumulative cpu time consumed by the node in core-seconds");
    if (s->st.has_cpu) {
        char t[48];
        secs(s->st.cpu_ns, t, sizeof t);
        rv |= orc_buf_printf(out, "node_cpu_usage_seconds_total %s %" PRId64 "\n", t, s->st.time_ns / 1000000);
    }
    rv |= head(out, "node_memory_working_set_bytes", "gauge", "[STABLE] Current working set of the node in bytes");
    if (s->st.has_mem)
        rv |= orc_buf_printf(out, "node_memory_working_set_bytes %" PRIu64 " %" PRId64 "\n", s->st.mem_ws,
                             s->st.time_ns / 1000000);
    rv |= head(out, "pod_cpu_usage_seconds_total", "counter",
               "[STABLE] Cumulative cpu time consumed by the pod in core-seconds");
    rv |= each(out, s, "pod_cpu_usage_seconds_total", POD_CPU);
    rv |= head(out, "pod_memory_working_set_bytes", "gauge", "[STABLE] Current working set of the pod in bytes");
    rv |= each(out, s, "pod_memory_working_set_bytes", POD_MEM);
    rv |= head(out, "scrape_error", "gauge",
               "[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise");
    rv |= orc_buf_printf(out, "scrape_error %d\n", s->error ? 1 : 0);
    return rv ? ORC_ENOMEM : 0;
}

/* ---- cAdvisor ---- */

/* {container=,id=,image=,[interface=,]name=,namespace=,pod=} as cAdvisor
 * labels a cgroup: a pod's own cgroup has empty container, image, name. */
static int cadvisor_series(struct orc_buf *b, const char *metric, const struct agent_stat_pod *p,
                           const struct agent_stat_ctr *c, const char *iface, uint64_t v, bool ns_to_s,
                           int64_t time_ns)
{
    int rv = orc_buf_printf(b, "%s{", metric);

    if (rv == 0) rv = label(b, "container", c ? c->name : "", true);
    if (rv == 0) rv = label(b, "id", c ? c->cgroup : p->cgroup, false);
    if (rv == 0) rv = label(b, "image", c ? c->image : "", false);
    if (rv == 0 && iface) rv = label(b, "interface", iface, false);
    if (rv == 0) rv = label(b, "name", c ? c->id : "", false);
    if (rv == 0) rv = label(b, "namespace", p->ns, false);
    if (rv == 0) rv = label(b, "pod", p->name, false);
    return rv ? rv : value(b, v, ns_to_s, time_ns);
}

static int cadvisor_usage(struct orc_buf *b, const struct agent_stats *s, bool cpu)
{
    const char *m = cpu ? "container_cpu_usage_seconds_total" : "container_memory_working_set_bytes";
    int rv = 0;

    for (size_t i = 0; rv == 0 && i < s->n_pods; i++) {
        const struct agent_stat_pod *p = &s->pods[i];
        if (cpu ? p->st.has_cpu : p->st.has_mem)
            rv = cadvisor_series(b, m, p, NULL, NULL, cpu ? p->st.cpu_ns : p->st.mem_ws, cpu, p->st.time_ns);
        for (size_t j = 0; rv == 0 && j < p->n_ctrs; j++) {
            const struct agent_stat_ctr *c = &p->ctrs[j];
            if (cpu ? c->st.has_cpu : c->st.has_mem)
                rv = cadvisor_series(b, m, p, c, NULL, cpu ? c->st.cpu_ns : c->st.mem_ws, cpu, c->st.time_ns);
        }
    }
    return rv;
}

static int cadvisor_net(struct orc_buf *b, const struct agent_stats *s, bool rx)
{
    const char *m = rx ? "container_network_receive_bytes_total" : "container_network_transmit_bytes_total";
    int rv = 0;

    for (size_t i = 0; rv == 0 && i < s->n_pods; i++) {
        const struct agent_stat_pod *p = &s->pods[i];
        if (p->has_net)
            rv = cadvisor_series(b, m, p, NULL, "eth0", rx ? p->rx_bytes : p->tx_bytes, false, p->st.time_ns);
    }
    return rv;
}

int agent_stats_cadvisor_text(const struct agent_stats *s, struct orc_buf *out)
{
    int rv = 0;

    rv |= head(out, "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.");
    rv |= cadvisor_usage(out, s, true);
    rv |= head(out, "container_memory_working_set_bytes", "gauge", "Current working set in bytes.");
    rv |= cadvisor_usage(out, s, false);
    rv |= head(out, "container_network_receive_bytes_total", "counter", "Cumulative count of bytes received");
    rv |= cadvisor_net(out, s, true);
    rv |= head(out, "container_network_transmit_bytes_total", "counter",
               "Cumulative count of bytes transmitted");
    rv |= cadvisor_net(out, s, false);
    return rv ? ORC_ENOMEM : 0;
}

/* ---- /stats/summary ---- */

static json_t *time_of(int64_t ns)
{
    char t[ORC_TIME_LEN];
    orc_time_format(ns / 1000000000, t);
    return json_string(t);
}

static json_t *cpu_json(const struct agent_cstats *st)
{
    json_t *c;

    if (!st->has_cpu) return NULL;
    c = json_pack("{s:o}", "time", time_of(st->time_ns));
    if (c && st->has_rate) json_object_set_new(c, "usageNanoCores", json_integer((json_int_t)st->nano_cores));
    if (c) json_object_set_new(c, "usageCoreNanoSeconds", json_integer((json_int_t)st->cpu_ns));
    return c;
}

static json_t *mem_json(const struct agent_cstats *st, uint64_t available)
{
    json_t *m;

    if (!st->has_mem) return NULL;
    m = json_pack("{s:o,s:I,s:I}", "time", time_of(st->time_ns), "usageBytes", (json_int_t)st->mem_usage,
                  "workingSetBytes", (json_int_t)st->mem_ws);
    if (m && st->mem_rss) json_object_set_new(m, "rssBytes", json_integer((json_int_t)st->mem_rss));
    if (m && available) json_object_set_new(m, "availableBytes", json_integer((json_int_t)available));
    return m;
}

/* Sets key to v unless v is NULL (a reading that failed is left out). */
static void set_opt(json_t *o, const char *key, json_t *v)
{
    if (v) json_object_set_new(o, key, v);
}

static json_t *container_json(const struct agent_stat_ctr *c)
{
    json_t *o = json_pack("{s:s}", "name", c->name);

    if (o && c->start_ns > 0) json_object_set_new(o, "startTime", time_of(c->start_ns));
    if (o) set_opt(o, "cpu", cpu_json(&c->st));
    if (o) set_opt(o, "memory", mem_json(&c->st, 0));
    return o;
}

static json_t *pod_json(const struct agent_stat_pod *p)
{
    json_t *o = json_pack("{s:{s:s,s:s,s:s},s:[]}", "podRef", "name", p->name, "namespace", p->ns, "uid", p->uid,
                          "containers");

    if (o == NULL) return NULL;
    if (p->start_ns > 0) json_object_set_new(o, "startTime", time_of(p->start_ns));
    for (size_t i = 0; i < p->n_ctrs; i++)
        json_array_append_new(json_object_get(o, "containers"), container_json(&p->ctrs[i]));
    set_opt(o, "cpu", cpu_json(&p->st));
    set_opt(o, "memory", mem_json(&p->st, 0));
    if (p->has_net)
        set_opt(o, "network",
                json_pack("{s:o,s:s,s:I,s:I,s:[{s:s,s:I,s:I}]}", "time", time_of(p->st.time_ns), "name", "eth0",
                          "rxBytes", (json_int_t)p->rx_bytes, "txBytes", (json_int_t)p->tx_bytes, "interfaces",
                          "name", "eth0", "rxBytes", (json_int_t)p->rx_bytes, "txBytes",
                          (json_int_t)p->tx_bytes));
    return o;
}

int agent_stats_summary_json(const struct agent_stats *s, struct orc_buf *out)
{
    json_t *node = json_pack("{s:s}", "nodeName", s->node), *pods = json_array(), *all;
    char *text;
    int rv = ORC_ENOMEM;

    if (node) set_opt(node, "cpu", cpu_json(&s->st));
    if (node) set_opt(node, "memory", mem_json(&s->st, s->mem_available));
    for (size_t i = 0; pods && i < s->n_pods; i++) json_array_append_new(pods, pod_json(&s->pods[i]));
    all = node && pods ? json_pack("{s:o,s:o}", "node", node, "pods", pods) : NULL;
    if (all == NULL) {
        json_decref(node);
        json_decref(pods);
        return ORC_ENOMEM;
    }
    text = json_dumps(all, JSON_COMPACT);
    if (text) rv = orc_buf_puts(out, text);
    free(text);
    json_decref(all);
    return rv;
}
