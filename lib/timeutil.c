/* timeutil.c — RFC 3339 timestamps as Kubernetes writes them, monotonic
 * time, and kubectl's human-readable ages. */
#include "lib/timeutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/orc.h"

void orc_time_format(int64_t unix_seconds, char out[ORC_TIME_LEN])
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, ORC_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, ORC_TIME_LEN, "1970-01-01T00:00:00Z");
}

void orc_time_now(char out[ORC_TIME_LEN])
{
    orc_time_format(orc_time_unix(), out);
}

void orc_time_now_micro(char out[ORC_TIME_LEN])
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (gmtime_r(&ts.tv_sec, &tm) == NULL
        || (n = strftime(out, ORC_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 || n > 20) {
        orc_time_format(ts.tv_sec, out);
        return;
    }
    snprintf(out + n, ORC_TIME_LEN - n, ".%06uZ", (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

/* Reads exactly n digits. */
static int digits(const char **s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9') return ORC_EINVAL;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

static int expect(const char **s, const char *set)
{
    if (**s == '\0' || strchr(set, **s) == NULL) return ORC_EINVAL;
    (*s)++;
    return 0;
}

bool orc_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int orc_days_in_month(int64_t y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && orc_leap_year(y) ? 29 : d[m - 1];
}

/* No timegm: no TZ environment involved. */
int64_t orc_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void orc_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int parse_offset(const char **s, int64_t *offset)
{
    int sign, hh, mm;

    if (**s == 'Z' || **s == 'z') {
        (*s)++;
        *offset = 0;
        return 0;
    }
    if (**s != '+' && **s != '-') return ORC_EINVAL;
    sign = **s == '-' ? -1 : 1;
    (*s)++;
    if (digits(s, 2, &hh) || expect(s, ":") || digits(s, 2, &mm)) return ORC_EINVAL;
    if (hh > 23 || mm > 59) return ORC_EINVAL;
    *offset = sign * (hh * 3600 + mm * 60);
    return 0;
}

int orc_time_parse(const char *s, int64_t *unix_seconds)
{
    int y, mo, d, h, mi, se;
    int64_t offset;

    if (s == NULL) return ORC_EINVAL;
    if (digits(&s, 4, &y) || expect(&s, "-") || digits(&s, 2, &mo) || expect(&s, "-")
        || digits(&s, 2, &d) || expect(&s, "Tt ") || digits(&s, 2, &h) || expect(&s, ":")
        || digits(&s, 2, &mi) || expect(&s, ":") || digits(&s, 2, &se))
        return ORC_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > orc_days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
        return ORC_EINVAL;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return ORC_EINVAL;
        while (*s >= '0' && *s <= '9') s++; /* sub-second precision is dropped */
    }
    if (parse_offset(&s, &offset) != 0 || *s != '\0') return ORC_EINVAL;
    *unix_seconds = orc_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    return 0;
}

int64_t orc_time_unix(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

uint64_t orc_time_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One step of kubectl's HumanDuration (k8s.io/apimachinery util/duration):
 * a value shows in `unit` below `threshold` of the next unit, and with a
 * remainder of the smaller unit below `detail`. */
static void age_two(char *out, size_t n, int64_t big, const char *bu, int64_t small, const char *su)
{
    if (small == 0) snprintf(out, n, "%lld%s", (long long)big, bu);
    else snprintf(out, n, "%lld%s%lld%s", (long long)big, bu, (long long)small, su);
}

void orc_time_age(int64_t seconds, char *out, size_t n)
{
    int64_t minutes = seconds / 60, hours = seconds / 3600, days = hours / 24;

    /* Clock skew of a second is shown as "now", more as invalid. */
    if (seconds < -1) snprintf(out, n, "<invalid>");
    else if (seconds < 0) snprintf(out, n, "0s");
    else if (seconds < 120) snprintf(out, n, "%llds", (long long)seconds);
    else if (minutes < 10) age_two(out, n, minutes, "m", seconds % 60, "s");
    else if (minutes < 180) snprintf(out, n, "%lldm", (long long)minutes);
    else if (hours < 8) age_two(out, n, hours, "h", minutes % 60, "m");
    else if (hours < 48) snprintf(out, n, "%lldh", (long long)hours);
    else if (hours < 24 * 8) age_two(out, n, days, "d", hours % 24, "h");
    else if (hours < 24 * 365 * 2) snprintf(out, n, "%lldd", (long long)days);
    else if (hours < 24 * 365 * 8) age_two(out, n, days / 365, "y", days % 365, "d");
    else snprintf(out, n, "%lldy", (long long)(days / 365));
}

/* Go's time.ParseDuration units, without fractions: "10s", "500ms", "1m30s",
 * "2h"; a bare number is seconds. */
int orc_duration_parse(const char *s, uint64_t *ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    uint64_t total = 0;

    if (s == NULL || *s == '\0') return ORC_EINVAL;
    while (*s) {
        char *end;
        size_t i;
        unsigned long long v;

        if (*s < '0' || *s > '9') return ORC_EINVAL;
        v = strtoull(s, &end, 10);
        if (*end == '\0' && total == 0 && end != s) {
            *ms = v * 1000;
            return v > UINT64_MAX / 1000 ? ORC_EINVAL : 0;
        }
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t ul = strlen(units[i].unit);
            if (strncmp(end, units[i].unit, ul) == 0) break; /* "ms" is tried before "m" */
        }
        if (i == sizeof units / sizeof units[0] || v > UINT64_MAX / units[i].ms) return ORC_EINVAL;
        total += v * units[i].ms;
        s = end + strlen(units[i].unit);
    }
    *ms = total;
    return 0;
}
