/* bench.h — what every benchmark program measures with: a monotonic clock
 * in milliseconds and its knobs from the environment. */
#ifndef ORC_TESTS_BENCH_H
#define ORC_TESTS_BENCH_H

#include <stdlib.h>
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

#endif
