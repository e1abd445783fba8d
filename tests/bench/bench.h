/* bench.h — what every benchmark program measures with: a monotonic clock
 * in milliseconds, its knobs from the environment, a qsort order for
 * samples and a process's memory from /proc. */
#ifndef ORC_TESTS_BENCH_H
#define ORC_TESTS_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* $name as a positive integer, else dflt. */
static inline int bench_env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

/* qsort's order for doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A "Field: N kB" line of a /proc/PID file (status: VmRSS, VmHWM;
 * smaps_rollup: Pss); -1 when the process is gone. */
static inline long bench_proc_kib(pid_t pid, const char *file, const char *field)
{
    char path[64], line[256];
    size_t n = strlen(field);
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    if ((f = fopen(path, "r")) == NULL) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%ld", &kib) == 1) break;
    fclose(f);
    return kib;
}

#endif
