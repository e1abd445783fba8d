/* metrics_process.c — the process_* metrics every Prometheus client library
 * exports, read from /proc/self at each scrape. */
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/metrics.h"

struct proc_metrics {
    struct orc_series *cpu, *rss, *vsize, *start, *fds, *max_fds;
    long ticks, page;
    double boot_time; /* Unix seconds */
};

static struct orc_series *gauge(struct orc_metrics *m, const char *name, const char *help,
                                enum orc_metric_type t)
{
    struct orc_metric_opts o = {.name = name, .help = help, .type = t};
    return orc_metric_with(orc_metric_register(m, &o), NULL);
}

static double boot_time(void)
{
    char line[256];
    double bt = 0;
    FILE *f = fopen("/proc/stat", "r");

    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lf", &bt) == 1) break;
    fclose(f);
    return bt;
}

/* Fields 14-15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * /proc/self/stat, after the command name in parentheses. */
static bool read_stat(double *cpu_ticks, double *start_ticks, double *vsize, double *rss_pages)
{
    char buf[1024];
    unsigned long long ut, st, start, vs;
    long long rss;
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    const char *p;

    if (f) fclose(f);
    buf[n] = '\0';
    if ((p = strrchr(buf, ')')) == NULL) return false;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                      "%llu %llu %lld",
               &ut, &st, &start, &vs, &rss) != 5)
        return false;
    *cpu_ticks = (double)(ut + st);
    *start_ticks = (double)start;
    *vsize = (double)vs;
    *rss_pages = (double)rss;
    return true;
}

static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;

    if (d == NULL) return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static void collect(void *arg)
{
    struct proc_metrics *p = arg;
    double cpu, start, vs, rss;
    struct rlimit rl;

    if (read_stat(&cpu, &start, &vs, &rss)) {
        orc_series_set(p->cpu, cpu / (double)p->ticks);
        orc_series_set(p->rss, rss * (double)p->page);
        orc_series_set(p->vsize, vs);
        orc_series_set(p->start, p->boot_time + start / (double)p->ticks);
    }
    orc_series_set(p->fds, open_fds());
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) orc_series_set(p->max_fds, (double)rl.rlim_cur);
}

static struct proc_metrics proc;
static pthread_once_t proc_once = PTHREAD_ONCE_INIT;
static struct orc_metrics *proc_registry;

static void proc_init(void)
{
    struct orc_metrics *m = proc_registry;

    proc.ticks = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    proc.page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    proc.boot_time = boot_time();
    /* process_cpu_seconds_total is a counter set from the kernel's count. */
    proc.cpu = gauge(m, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                     ORC_METRIC_COUNTER);
    proc.rss = gauge(m, "process_resident_memory_bytes", "Resident memory size in bytes.", ORC_METRIC_GAUGE);
    proc.vsize = gauge(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.", ORC_METRIC_GAUGE);
    proc.start = gauge(m, "process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", ORC_METRIC_GAUGE);
    proc.fds = gauge(m, "process_open_fds", "Number of open file descriptors.", ORC_METRIC_GAUGE);
    proc.max_fds = gauge(m, "process_max_fds", "Maximum number of open file descriptors.", ORC_METRIC_GAUGE);
    orc_metrics_on_collect(m, collect, &proc);
}

/* Once per process, on the first registry asked (the process is one). */
void orc_metrics_process(struct orc_metrics *m)
{
    if (proc_registry == NULL) proc_registry = m;
    if (proc_registry != m) return;
    pthread_once(&proc_once, proc_init);
}
