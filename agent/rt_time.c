/* rt_time.c — nanosecond wall-clock timestamps for container logs and
 * state files (RFC 3339, as CRI logs and Kubernetes write them). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/rt_int.h"
#include "lib/orc.h"

int64_t rt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rt_time_fmt(int64_t ns, char out[RT_TIME_LEN])
{
    time_t sec = (time_t)(ns / 1000000000);
    long frac = (long)(ns % 1000000000);
    struct tm tm;

    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    gmtime_r(&sec, &tm);
    /* the moduli only tell the compiler the widths */
    snprintf(out, RT_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%09luZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned long)frac % 1000000000ul);
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;

    if (end - *p < n) return -1;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c) return -1;
    (*p)++;
    return 0;
}

static int parse_zone(const char *p, const char *end, int64_t *offset_s)
{
    int hh, mm;
    char sign;

    if (p < end && (*p == 'Z' || *p == 'z')) {
        *offset_s = 0;
        return p + 1 == end ? 0 : -1;
    }
    if (p >= end || (*p != '+' && *p != '-')) return -1;
    sign = *p++;
    if (digits(&p, end, 2, &hh) || expect(&p, end, ':') || digits(&p, end, 2, &mm) || p != end)
        return -1;
    *offset_s = (int64_t)(hh * 3600 + mm * 60) * (sign == '-' ? -1 : 1);
    return 0;
}

int rt_time_parse(const char *s, size_t len, int64_t *ns)
{
    const char *p = s, *end = s + len;
    struct tm tm = {0};
    int y, mo, d, h, mi, se;
    int64_t frac = 0, offset;

    if (digits(&p, end, 4, &y) || expect(&p, end, '-') || digits(&p, end, 2, &mo)
        || expect(&p, end, '-') || digits(&p, end, 2, &d)
        || (expect(&p, end, 'T') && expect(&p, end, 't')) || digits(&p, end, 2, &h) || expect(&p, end, ':')
        || digits(&p, end, 2, &mi) || expect(&p, end, ':') || digits(&p, end, 2, &se))
        return ORC_EINVAL;
    if (p < end && *p == '.') {
        int n = 0;
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, n++)
            if (n < 9) frac = frac * 10 + (*p - '0');
        if (n == 0) return ORC_EINVAL;
        for (; n < 9; n++) frac *= 10;
    }
    if (parse_zone(p, end, &offset) != 0) return ORC_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *ns = ((int64_t)timegm(&tm) - offset) * 1000000000 + frac;
    return 0;
}
