/* stats_read.c — reading usage from cgroup files and /proc (stats.h):
 * small parsers over each file's text, and the reads that feed them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/stats.h"
#include "lib/file.h"
#include "lib/orc.h"

#define SMALL_FILE (1u << 16)

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void agent_stats_free(struct agent_stats *s)
{
    for (size_t i = 0; i < s->n_pods; i++) free(s->pods[i].ctrs);
    free(s->pods);
    s->pods = NULL;
    s->n_pods = 0;
}

int agent_stats_add_pod(struct agent_stats *s, struct agent_stat_pod *p)
{
    struct agent_stat_pod *n = realloc(s->pods, (s->n_pods + 1) * sizeof *n);

    if (n == NULL) return ORC_ENOMEM;
    s->pods = n;
    s->pods[s->n_pods++] = *p;
    return 0;
}

/* The value of "key N" in a flat-keyed file (memory.stat, cpu.stat). */
static bool keyed_value(const char *text, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);

    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char *end;
        if (strncmp(p, key, kl) != 0 || p[kl] != ' ') continue;
        *v = strtoull(p + kl + 1, &end, 10);
        return end != p + kl + 1;
    }
    return false;
}

/* dir/file's text into b (b->data NULL when unreadable). */
static void read_text(const char *dir, const char *file, struct orc_buf *b)
{
    char path[1024];

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path
        || orc_file_read(path, SMALL_FILE, b) != 0)
        orc_buf_free(b);
}

/* The number a one-value file holds ("12345\n"). */
static bool read_number(const char *dir, const char *file, uint64_t *v)
{
    struct orc_buf b = ORC_BUF_INIT;
    char *end;
    bool ok = false;

    read_text(dir, file, &b);
    if (b.data) {
        *v = strtoull(b.data, &end, 10);
        ok = end != b.data;
    }
    orc_buf_free(&b);
    return ok;
}

static bool read_keyed(const char *dir, const char *file, const char *key, uint64_t *v)
{
    struct orc_buf b = ORC_BUF_INIT;
    bool ok;

    read_text(dir, file, &b);
    ok = b.data && keyed_value(b.data, key, v);
    orc_buf_free(&b);
    return ok;
}

static void read_memory(const char *dir, bool v2, struct agent_cstats *out)
{
    struct orc_buf stat = ORC_BUF_INIT;
    uint64_t usage, inactive = 0, rss = 0;

    if (!read_number(dir, v2 ? "memory.current" : "memory.usage_in_bytes", &usage)) return;
    /* once for both keys: memory.stat is the dearest file of a scrape */
    read_text(dir, "memory.stat", &stat);
    if (stat.data) {
        keyed_value(stat.data, v2 ? "inactive_file" : "total_inactive_file", &inactive);
        keyed_value(stat.data, v2 ? "anon" : "total_rss", &rss);
    }
    orc_buf_free(&stat);
    out->has_mem = true;
    out->mem_usage = usage;
    out->mem_ws = usage > inactive ? usage - inactive : 0;
    out->mem_rss = rss;
}

int agent_stats_cgroup(const char *cpu_dir, const char *mem_dir, bool v2, struct agent_cstats *out)
{
    uint64_t v;

    memset(out, 0, sizeof *out);
    out->time_ns = wall_ns();
    if (cpu_dir && v2 && read_keyed(cpu_dir, "cpu.stat", "usage_usec", &v)) {
        out->has_cpu = true;
        out->cpu_ns = v * 1000;
    } else if (cpu_dir && !v2 && read_number(cpu_dir, "cpuacct.usage", &v)) {
        out->has_cpu = true;
        out->cpu_ns = v;
    }
    if (mem_dir) read_memory(mem_dir, v2, out);
    return out->has_cpu || out->has_mem ? 0 : ORC_ENOENT;
}

int agent_stats_parse_proc_stat(const char *text, uint64_t ns_per_tick, uint64_t *cpu_ns)
{
    /* user nice system idle iowait irq softirq steal (guest is in user) */
    uint64_t f[8] = {0};
    int n;

    if (text == NULL || strncmp(text, "cpu ", 4) != 0) return ORC_EINVAL;
    n = sscanf(text + 4, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                         " %" SCNu64,
               &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]);
    if (n < 4) return ORC_EINVAL;
    *cpu_ns = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * ns_per_tick;
    return 0;
}

/* "Key:   N kB" of /proc/meminfo, in bytes. */
static bool meminfo_value(const char *text, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);

    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char *end;
        if (strncmp(p, key, kl) != 0 || p[kl] != ':') continue;
        *v = strtoull(p + kl + 1, &end, 10) * 1024;
        return end != p + kl + 1;
    }
    return false;
}

int agent_stats_parse_meminfo(const char *text, uint64_t *total, uint64_t *available)
{
    if (text == NULL || !meminfo_value(text, "MemTotal", total)) return ORC_EINVAL;
    if (!meminfo_value(text, "MemAvailable", available)) {
        uint64_t fr = 0, buf = 0, cached = 0; /* kernels before 3.14 */
        meminfo_value(text, "MemFree", &fr);
        meminfo_value(text, "Buffers", &buf);
        meminfo_value(text, "Cached", &cached);
        *available = fr + buf + cached;
    }
    if (*available > *total) *available = *total;
    return 0;
}

int agent_stats_parse_netdev(const char *text, const char *ifname, uint64_t *rx, uint64_t *tx)
{
    size_t il = strlen(ifname);

    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        uint64_t f[9];
        while (*p == ' ') p++;
        if (strncmp(p, ifname, il) != 0 || p[il] != ':') continue;
        /* rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes ... */
        if (sscanf(p + il + 1,
                   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                   " %" SCNu64,
                   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) != 9)
            return ORC_EINVAL;
        *rx = f[0];
        *tx = f[8];
        return 0;
    }
    return ORC_ENOENT;
}

int agent_stats_node(struct agent_stats *s)
{
    struct orc_buf b = ORC_BUF_INIT;
    long hz = sysconf(_SC_CLK_TCK);
    int rv;

    memset(&s->st, 0, sizeof s->st);
    s->st.time_ns = wall_ns();
    rv = orc_file_read("/proc/stat", 1u << 20, &b);
    if (rv == 0 && agent_stats_parse_proc_stat(b.data, 1000000000ull / (uint64_t)(hz > 0 ? hz : 100),
                                               &s->st.cpu_ns) == 0)
        s->st.has_cpu = true;
    orc_buf_reset(&b);
    rv = orc_file_read("/proc/meminfo", SMALL_FILE, &b);
    if (rv == 0 && agent_stats_parse_meminfo(b.data, &s->mem_total, &s->mem_available) == 0) {
        s->st.has_mem = true;
        s->st.mem_usage = s->mem_total - s->mem_available;
        s->st.mem_ws = s->st.mem_usage;
    }
    orc_buf_free(&b);
    return s->st.has_cpu && s->st.has_mem ? 0 : ORC_EIO;
}

int agent_stats_pid_net(int pid, uint64_t *rx, uint64_t *tx)
{
    struct orc_buf b = ORC_BUF_INIT;
    char path[64];
    int rv;

    if (pid <= 0) return ORC_EINVAL;
    snprintf(path, sizeof path, "/proc/%d/net/dev", pid);
    rv = orc_file_read(path, SMALL_FILE, &b);
    if (rv == 0) rv = agent_stats_parse_netdev(b.data, "eth0", rx, tx);
    orc_buf_free(&b);
    return rv;
}
