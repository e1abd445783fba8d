/* log.c — stderr logger; one write(2) per line so threads do not interleave. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_level = -1;

static int level_from_env(void)
{
    const char *v = getenv("ORC_LOG");
    if (v == NULL) return ORC_LOG_INFO;
    if (strcmp(v, "debug") == 0) return ORC_LOG_DEBUG;
    if (strcmp(v, "warn") == 0) return ORC_LOG_WARN;
    if (strcmp(v, "error") == 0) return ORC_LOG_ERROR;
    return ORC_LOG_INFO;
}

void orc_log_set_level(enum orc_log_level level) { log_level = (int)level; }

int orc_log_enabled(enum orc_log_level level)
{
    if (log_level < 0) log_level = level_from_env();
    return (int)level >= log_level;
}

void orc_log(enum orc_log_level level, const char *module, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    va_list ap;

    if (!orc_log_enabled(level)) return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %-5s %s: ",
                          ts.tv_nsec / 1000000, names[level], module);
    va_start(ap, fmt);
    if (n < sizeof line) {
        int w = vsnprintf(line + n, sizeof line - n, fmt, ap);
        n = w < 0 ? n : n + (size_t)w;
    }
    va_end(ap);
    if (n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) { /* nowhere left to report it */ }
}
