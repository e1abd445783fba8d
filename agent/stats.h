/* stats.h — the node's, pods' and containers' resource usage as the kubelet
 * reports it: CPU time and memory working set read on demand from cgroups
 * (v1 or v2) and /proc, each reading with its time, and its three forms on
 * the agent port: /metrics/resource and /metrics/cadvisor (Prometheus
 * text) and /stats/summary (the kubelet's JSON).
 *
 * Working set, as cAdvisor computes it: usage minus inactive file pages
 * (v2 memory.current - memory.stat inactive_file; v1 memory.usage_in_bytes
 * - memory.stat total_inactive_file), never below 0. The node's: MemTotal -
 * MemAvailable of /proc/meminfo (the kubelet takes the root cgroup's; on a
 * shared host /proc is the node's view). Node CPU: /proc/stat's first line,
 * every field but idle and iowait, in ns. No background loop: every read is
 * a few small files, done when a scrape asks. */
#ifndef ORC_AGENT_STATS_H
#define ORC_AGENT_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

/* One cgroup's (or the node's) usage. has_* false: not readable. */
struct agent_cstats {
    int64_t time_ns;       /* when read, Unix ns */
    bool has_cpu, has_mem;
    uint64_t cpu_ns;       /* cumulative CPU time */
    uint64_t mem_usage;    /* bytes charged */
    uint64_t mem_ws;       /* working set */
    uint64_t mem_rss;      /* anon (v2) / total_rss (v1); 0 unknown */
    bool has_rate;         /* nano_cores set (agent_stats_rates) */
    uint64_t nano_cores;   /* CPU rate since the previous reading, 1e9 = one core */
};

struct agent_stat_ctr {
    char name[64];
    char id[160];          /* the runtime's container id */
    char image[256];
    char cgroup[320];      /* its cgroup, relative to the hierarchy ("/orc-t/pod-u/id") */
    int64_t start_ns;      /* the running container's start, Unix ns */
    struct agent_cstats st;
};

struct agent_stat_pod {
    char ns[64], name[256], uid[64];
    char cgroup[320];
    int64_t start_ns;      /* the earliest container start */
    struct agent_cstats st;
    bool has_net;
    uint64_t rx_bytes, tx_bytes; /* eth0 inside the pod */
    struct agent_stat_ctr *ctrs; /* running containers only */
    size_t n_ctrs;
};

struct agent_stats {
    char node[256];
    struct agent_cstats st;
    uint64_t mem_total, mem_available; /* /proc/meminfo, bytes */
    struct agent_stat_pod *pods;
    size_t n_pods;
    bool error;            /* some read failed: scrape_error 1 */
};

void agent_stats_free(struct agent_stats *s);
/* Appends one pod (its arrays are then s's); ORC_ENOMEM leaves p's. */
int agent_stats_add_pod(struct agent_stats *s, struct agent_stat_pod *p);

/* ---- reading (stats_read.c) ---- */

/* A cgroup's usage: v2 reads cpu.stat, memory.current and memory.stat of
 * one directory (cpu_dir == mem_dir); v1 cpuacct.usage of cpu_dir and
 * memory.usage_in_bytes and memory.stat of mem_dir (either may be NULL).
 * 0 with has_* set for what was read; ORC_ENOENT when neither was. */
int agent_stats_cgroup(const char *cpu_dir, const char *mem_dir, bool v2, struct agent_cstats *out);
/* The node's CPU from /proc/stat text (ns per tick: 1e9 / _SC_CLK_TCK). */
int agent_stats_parse_proc_stat(const char *text, uint64_t ns_per_tick, uint64_t *cpu_ns);
/* MemTotal and MemAvailable of /proc/meminfo text, in bytes. */
int agent_stats_parse_meminfo(const char *text, uint64_t *total, uint64_t *available);
/* rx and tx bytes of `ifname` in /proc/net/dev text; ORC_ENOENT if absent. */
int agent_stats_parse_netdev(const char *text, const char *ifname, uint64_t *rx, uint64_t *tx);
/* The node's own usage from /proc into s (st, mem_total, mem_available). */
int agent_stats_node(struct agent_stats *s);
/* eth0 of the network namespace process `pid` is in (/proc/PID/net/dev). */
int agent_stats_pid_net(int pid, uint64_t *rx, uint64_t *tx);

/* ---- rates (stats_rate.c) ---- */

/* The CPU readings of the previous /stats/summary: the kubelet's
 * usageNanoCores is the rate between two readings of the same cgroup
 * (node, pod by uid, container by id). Only what the last reading saw is
 * kept, so pods gone leave nothing behind. Zeroed is empty. */
struct agent_stats_prev {
    struct agent_stats_sample *v; /* sorted by key */
    size_t n;
};

/* Sets has_rate/nano_cores of s's node, pods and containers from prev's
 * reading of each (when it is older and not above the new one), then
 * replaces prev with s's readings. ORC_ENOMEM: rates unset, prev kept. */
int agent_stats_rates(struct agent_stats_prev *prev, struct agent_stats *s);
void agent_stats_prev_free(struct agent_stats_prev *prev);

/* ---- formats (stats_fmt.c) ---- */

/* /metrics/resource: the kubelet's resource metrics, Prometheus text 0.0.4. */
int agent_stats_resource_text(const struct agent_stats *s, struct orc_buf *out);
/* /metrics/cadvisor: cAdvisor's container_* series (pods as their cgroups,
 * containers with container/pod/namespace/name labels). */
int agent_stats_cadvisor_text(const struct agent_stats *s, struct orc_buf *out);
/* /stats/summary: the kubelet's Summary JSON (compact). */
int agent_stats_summary_json(const struct agent_stats *s, struct orc_buf *out);

#endif
