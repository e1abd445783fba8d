/* test_stats.c — the agent's usage readings: cgroup v1 and v2 files
 * (fixtures in a tmpdir), /proc/stat, /proc/meminfo, /proc/net/dev, and
 * the three output forms (kubelet names, labels, JSON shape). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/stats.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(orc_file_write(path, text, strlen(text), 0644) == 0);
}

static void mkdir_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", test_tmpdir(), name);
    CHECK(mkdir(out, 0755) == 0);
}

TEST(cgroup_v2_usage_and_working_set)
{
    char d[512];
    struct agent_cstats st;

    mkdir_in(d, sizeof d, "v2");
    put(d, "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
    put(d, "memory.current", "10485760\n");
    put(d, "memory.stat", "anon 4194304\nfile 6291456\nactive_file 2097152\ninactive_file 3145728\n");
    CHECK_INT(agent_stats_cgroup(d, d, true, &st), ==, 0);
    CHECK(st.has_cpu && st.has_mem);
    CHECK(st.cpu_ns == 2500000000ull);
    CHECK(st.mem_usage == 10485760ull);
    CHECK(st.mem_ws == 10485760ull - 3145728ull);
    CHECK(st.mem_rss == 4194304ull);
    CHECK(st.time_ns > 0);
}

TEST(cgroup_v1_separate_hierarchies)
{
    char cpu[512], mem[512];
    struct agent_cstats st;

    mkdir_in(cpu, sizeof cpu, "cpuacct");
    mkdir_in(mem, sizeof mem, "memory");
    put(cpu, "cpuacct.usage", "123456789\n");
    put(mem, "memory.usage_in_bytes", "2000\n");
    /* the hierarchical total_ counts, not the cgroup's own */
    put(mem, "memory.stat", "inactive_file 10\nrss 5\ntotal_rss 700\ntotal_inactive_file 500\n");
    CHECK_INT(agent_stats_cgroup(cpu, mem, false, &st), ==, 0);
    CHECK(st.cpu_ns == 123456789ull);
    CHECK(st.mem_ws == 1500);
    CHECK(st.mem_rss == 700);
}

TEST(cgroup_working_set_never_negative_and_missing_parts)
{
    char d[512], none[512];
    struct agent_cstats st;

    mkdir_in(d, sizeof d, "odd");
    put(d, "memory.current", "100\n");
    put(d, "memory.stat", "inactive_file 4096\n");
    CHECK_INT(agent_stats_cgroup(d, d, true, &st), ==, 0);
    CHECK(!st.has_cpu && st.has_mem && st.mem_ws == 0);
    snprintf(none, sizeof none, "%s/gone", test_tmpdir());
    CHECK_INT(agent_stats_cgroup(none, none, true, &st), ==, ORC_ENOENT);
    CHECK(!st.has_cpu && !st.has_mem);
}

TEST(proc_stat_counts_busy_ticks)
{
    uint64_t ns = 0;
    /* user nice system idle iowait irq softirq steal guest guest_nice */
    CHECK_INT(agent_stats_parse_proc_stat("cpu  100 10 50 9000 40 5 3 2 0 0\ncpu0 1 2 3 4\n", 10000000, &ns), ==, 0);
    CHECK(ns == (100 + 10 + 50 + 5 + 3 + 2) * 10000000ull);
    CHECK_INT(agent_stats_parse_proc_stat("intr 1 2 3\n", 10000000, &ns), ==, ORC_EINVAL);
    CHECK_INT(agent_stats_parse_proc_stat("cpu  1 2\n", 10000000, &ns), ==, ORC_EINVAL);
}

TEST(meminfo_total_and_available)
{
    uint64_t total, avail;

    CHECK_INT(agent_stats_parse_meminfo("MemTotal:       16000 kB\nMemFree:  1000 kB\nMemAvailable:   12000 kB\n",
                                        &total, &avail), ==, 0);
    CHECK(total == 16000 * 1024ull && avail == 12000 * 1024ull);
    /* an old kernel: free + buffers + cached */
    CHECK_INT(agent_stats_parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n",
                                        &total, &avail), ==, 0);
    CHECK(avail == 35 * 1024ull);
    CHECK_INT(agent_stats_parse_meminfo("nothing\n", &total, &avail), ==, ORC_EINVAL);
}

TEST(netdev_eth0)
{
    const char *dev = "Inter-|   Receive                                                |  Transmit\n"
                      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
                      "    lo:     100       1    0    0    0     0          0         0      100       1 0 0 0 0 0 0\n"
                      "  eth0:    5000      40    0    0    0     0          0         0     7000      50 0 0 0 0 0 0\n";
    uint64_t rx = 0, tx = 0;

    CHECK_INT(agent_stats_parse_netdev(dev, "eth0", &rx, &tx), ==, 0);
    CHECK(rx == 5000 && tx == 7000);
    CHECK_INT(agent_stats_parse_netdev(dev, "eth1", &rx, &tx), ==, ORC_ENOENT);
}

static void sample(struct agent_stats *s, struct agent_stat_pod *p, struct agent_stat_ctr *c)
{
    memset(s, 0, sizeof *s);
    snprintf(s->node, sizeof s->node, "n1");
    s->st = (struct agent_cstats){.time_ns = 1700000000123000000, .has_cpu = true, .has_mem = true,
                                  .cpu_ns = 5000000000, .mem_usage = 1000, .mem_ws = 1000};
    s->mem_total = 4000;
    s->mem_available = 3000;
    memset(p, 0, sizeof *p);
    memset(c, 0, sizeof *c);
    snprintf(p->ns, sizeof p->ns, "default");
    snprintf(p->name, sizeof p->name, "web");
    snprintf(p->uid, sizeof p->uid, "u1");
    snprintf(p->cgroup, sizeof p->cgroup, "/orc-t/pod-u1");
    p->st = (struct agent_cstats){.time_ns = 1700000000000000000, .has_cpu = true, .has_mem = true,
                                  .cpu_ns = 1500000000, .mem_ws = 2048};
    p->has_net = true;
    p->rx_bytes = 11;
    p->tx_bytes = 22;
    snprintf(c->name, sizeof c->name, "app");
    snprintf(c->id, sizeof c->id, "u1-app-0");
    snprintf(c->cgroup, sizeof c->cgroup, "/orc-t/pod-u1/u1-app-0");
    c->start_ns = 1690000000000000000;
    c->st = p->st;
    p->ctrs = c;
    p->n_ctrs = 1;
    s->pods = p;
    s->n_pods = 1;
}

TEST(resource_text_has_kubelet_series)
{
    struct agent_stats s;
    struct agent_stat_pod p;
    struct agent_stat_ctr c;
    struct orc_buf b = ORC_BUF_INIT;

    sample(&s, &p, &c);
    CHECK_INT(agent_stats_resource_text(&s, &b), ==, 0);
    CHECK(strstr(b.data, "# TYPE container_cpu_usage_seconds_total counter\n"));
    CHECK(strstr(b.data, "container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web\"} 1.5 "
                         "1700000000000\n"));
    CHECK(strstr(b.data, "container_memory_working_set_bytes{container=\"app\",namespace=\"default\",pod=\"web\"} 2048 "));
    CHECK(strstr(b.data, "container_start_time_seconds{container=\"app\",namespace=\"default\",pod=\"web\"} 1690000000 "));
    CHECK(strstr(b.data, "pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\"} 1.5 "));
    CHECK(strstr(b.data, "pod_memory_working_set_bytes{namespace=\"default\",pod=\"web\"} 2048 "));
    CHECK(strstr(b.data, "node_cpu_usage_seconds_total 5 1700000000123\n"));
    CHECK(strstr(b.data, "node_memory_working_set_bytes 1000 1700000000123\n"));
    CHECK(strstr(b.data, "scrape_error 0\n"));
    orc_buf_free(&b);
}

TEST(cadvisor_text_labels)
{
    struct agent_stats s;
    struct agent_stat_pod p;
    struct agent_stat_ctr c;
    struct orc_buf b = ORC_BUF_INIT;

    sample(&s, &p, &c);
    CHECK_INT(agent_stats_cadvisor_text(&s, &b), ==, 0);
    CHECK(strstr(b.data, "container_cpu_usage_seconds_total{container=\"app\",id=\"/orc-t/pod-u1/u1-app-0\","
                         "image=\"\",name=\"u1-app-0\",namespace=\"default\",pod=\"web\"} 1.5 "));
    CHECK(strstr(b.data, "container_memory_working_set_bytes{container=\"\",id=\"/orc-t/pod-u1\",image=\"\",name=\"\","
                         "namespace=\"default\",pod=\"web\"} 2048 "));
    CHECK(strstr(b.data, "container_network_receive_bytes_total{container=\"\",id=\"/orc-t/pod-u1\",image=\"\","
                         "interface=\"eth0\",name=\"\",namespace=\"default\",pod=\"web\"} 11 "));
    CHECK(strstr(b.data, "container_network_transmit_bytes_total{"));
    orc_buf_free(&b);
}

TEST(summary_json_shape)
{
    struct agent_stats s;
    struct agent_stat_pod p;
    struct agent_stat_ctr c;
    struct orc_buf b = ORC_BUF_INIT;
    json_t *j;
    int64_t v = 0;

    sample(&s, &p, &c);
    CHECK_INT(agent_stats_summary_json(&s, &b), ==, 0);
    j = orc_json_loadb(b.data, b.len, 0, NULL);
    CHECK(j != NULL);
    CHECK_STR(orc_json_str(j, "node.nodeName"), "n1");
    CHECK(orc_json_int(j, "node.cpu.usageCoreNanoSeconds", &v) == 0 && v == 5000000000);
    CHECK(orc_json_int(j, "node.memory.workingSetBytes", &v) == 0 && v == 1000);
    CHECK(orc_json_int(j, "node.memory.availableBytes", &v) == 0 && v == 3000);
    json_t *pod = json_array_get(orc_json_get(j, "pods"), 0);
    CHECK_STR(orc_json_str(pod, "podRef.name"), "web");
    CHECK_STR(orc_json_str(pod, "podRef.uid"), "u1");
    CHECK(orc_json_int(pod, "network.rxBytes", &v) == 0 && v == 11);
    json_t *ct = json_array_get(orc_json_get(pod, "containers"), 0);
    CHECK_STR(orc_json_str(ct, "name"), "app");
    CHECK(orc_json_int(ct, "memory.workingSetBytes", &v) == 0 && v == 2048);
    CHECK(orc_json_str(ct, "cpu.time") != NULL);
    json_decref(j);
    orc_buf_free(&b);
}

/* usageNanoCores: the rate between two readings of the same cgroup; none
 * on the first reading, nor for a counter that went back; readings of pods
 * gone are not kept. */
TEST(cpu_rates_from_the_previous_reading)
{
    struct agent_stats s;
    struct agent_stat_pod p;
    struct agent_stat_ctr c;
    struct agent_stats_prev prev = {0};
    struct orc_buf b = ORC_BUF_INIT;
    json_t *j;
    int64_t v = 0;

    sample(&s, &p, &c);
    CHECK_INT(agent_stats_rates(&prev, &s), ==, 0);
    CHECK(!s.st.has_rate && !p.st.has_rate && !c.st.has_rate);
    CHECK_INT(prev.n, ==, 3);
    /* 2 s later: the container burned 1.5 s, the node 3 s, the pod none */
    s.st.time_ns += 2000000000;
    s.st.cpu_ns += 3000000000;
    c.st.time_ns += 2000000000;
    c.st.cpu_ns += 1500000000;
    p.st.time_ns += 2000000000;
    CHECK_INT(agent_stats_rates(&prev, &s), ==, 0);
    CHECK(s.st.has_rate && s.st.nano_cores == 1500000000);
    CHECK(c.st.has_rate && c.st.nano_cores == 750000000);
    CHECK(p.st.has_rate && p.st.nano_cores == 0);
    CHECK_INT(agent_stats_summary_json(&s, &b), ==, 0);
    CHECK((j = orc_json_loadb(b.data, b.len, 0, NULL)) != NULL);
    CHECK(orc_json_int(j, "node.cpu.usageNanoCores", &v) == 0 && v == 1500000000);
    CHECK(orc_json_int(json_array_get(orc_json_get(json_array_get(orc_json_get(j, "pods"), 0), "containers"), 0),
                       "cpu.usageNanoCores", &v) == 0 && v == 750000000);
    json_decref(j);
    /* a counter below the last one (a reset) gives no rate */
    c.st.has_rate = false;
    c.st.time_ns += 1000000000;
    c.st.cpu_ns = 1;
    CHECK_INT(agent_stats_rates(&prev, &s), ==, 0);
    CHECK(!c.st.has_rate);
    /* the pod gone: only the node's reading is kept */
    s.n_pods = 0;
    CHECK_INT(agent_stats_rates(&prev, &s), ==, 0);
    CHECK_INT(prev.n, ==, 1);
    agent_stats_prev_free(&prev);
    orc_buf_free(&b);
}
