/* cron.c — five-field cron schedules as Kubernetes accepts them (robfig/cron's
 * standard parser) and the next firing time, computed on the proleptic
 * Gregorian calendar in UTC without libc time zone state. */
#include "lib/cron.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/orc.h"
#include "lib/timeutil.h"

struct orc_cron {
    uint64_t minute; /* bit i set: minute i fires */
    uint32_t hour;
    uint32_t dom;    /* bits 1..31 */
    uint16_t month;  /* bits 1..12 */
    uint8_t dow;     /* bits 0..6, Sunday = 0 */
    bool dom_star, dow_star;
};

struct range { const char *what; int min, max; const char *const *names; };

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct range step_range = {"step", 0, 0, NULL};
static const struct range ranges[5] = {
    {"minute", 0, 59, NULL}, {"hour", 0, 23, NULL}, {"day of month", 1, 31, NULL},
    {"month", 1, 12, month_names}, {"day of week", 0, 6, dow_names},
};

/* A number or (for months and weekdays) a three-letter name. */
static int parse_value(const char *s, size_t len, const struct range *r, int *out, char *msg,
                       size_t n)
{
    if (r->names && len == 3) {
        for (int i = 0; r->names[i]; i++) {
            if (strncasecmp(s, r->names[i], 3) == 0) {
                *out = i + (r->min == 1 ? 1 : 0);
                return 0;
            }
        }
    }
    if (len == 0 || len > 9) return orc_errf(msg, n, ORC_EINVAL, "failed to parse int from %.*s", (int)len, s);
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return orc_errf(msg, n, ORC_EINVAL, "failed to parse int from %.*s", (int)len, s);
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* One list element: "*", "?", "a", "a-b", any of them with "/step". */
static int parse_range(const char *s, size_t len, const struct range *r, uint64_t *bits,
                       bool *star, char *msg, size_t n)
{
    const char *slash = memchr(s, '/', len);
    size_t rlen = slash ? (size_t)(slash - s) : len;
    int lo, hi, step = 1;

    if ((rlen == 1 && (s[0] == '*' || s[0] == '?'))) {
        lo = r->min;
        hi = r->max;
        *star = true;
    } else {
        const char *dash = memchr(s, '-', rlen);
        size_t alen = dash ? (size_t)(dash - s) : rlen;
        if (parse_value(s, alen, r, &lo, msg, n) != 0) return ORC_EINVAL;
        hi = lo;
        if (dash && parse_value(dash + 1, rlen - alen - 1, r, &hi, msg, n) != 0) return ORC_EINVAL;
        if (!dash && slash) hi = r->max; /* "a/step" runs to the end */
    }
    if (slash && parse_value(slash + 1, len - rlen - 1, &step_range, &step, msg, n) != 0)
        return ORC_EINVAL;
    if (lo < r->min)
        return orc_errf(msg, n, ORC_EINVAL, "beginning of range (%d) below minimum (%d): %.*s", lo, r->min,
                    (int)len, s);
    if (hi > r->max)
        return orc_errf(msg, n, ORC_EINVAL, "end of range (%d) above maximum (%d): %.*s", hi, r->max, (int)len, s);
    if (lo > hi)
        return orc_errf(msg, n, ORC_EINVAL, "beginning of range (%d) beyond end of range (%d): %.*s", lo, hi,
                    (int)len, s);
    if (step == 0)
        return orc_errf(msg, n, ORC_EINVAL, "step of range should be a positive number: %.*s", (int)len, s);
    for (int v = lo; v <= hi; v += step) *bits |= 1ULL << v;
    return 0;
}

static int parse_field(const char *s, size_t len, const struct range *r, uint64_t *bits,
                       bool *star, char *msg, size_t n)
{
    *bits = 0;
    *star = false;
    while (len > 0) {
        const char *comma = memchr(s, ',', len);
        size_t elen = comma ? (size_t)(comma - s) : len;
        if (elen == 0) return orc_errf(msg, n, ORC_EINVAL, "empty element in %s field", r->what);
        if (parse_range(s, elen, r, bits, star, msg, n) != 0) return ORC_EINVAL;
        if (!comma) break;
        s = comma + 1;
        len -= elen + 1;
        if (len == 0) return orc_errf(msg, n, ORC_EINVAL, "empty element in %s field", r->what);
    }
    return 0;
}

static const char *expand_macro(const char *spec, char *msg, size_t n)
{
    static const struct { const char *name, *expansion; } macros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(macros); i++)
        if (strcmp(spec, macros[i].name) == 0) return macros[i].expansion;
    orc_errf(msg, n, ORC_EINVAL, "unrecognized descriptor: %s", spec);
    return NULL;
}

static int split_fields(const char *spec, const char *start[5], size_t len[5], char *msg,
                        size_t n)
{
    int count = 0;
    const char *p = spec;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *b = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (count < 5) {
            start[count] = b;
            len[count] = (size_t)(p - b);
        }
        count++;
    }
    if (count != 5) return orc_errf(msg, n, ORC_EINVAL, "expected exactly 5 fields, found %d: %s", count, spec);
    return 0;
}

int orc_cron_parse(const char *spec, orc_cron **out, char *msg, size_t n)
{
    const char *start[5];
    size_t len[5];
    uint64_t bits[5];
    bool star[5];

    *out = NULL;
    while (*spec == ' ' || *spec == '\t') spec++;
    if (spec[0] == '@' && !(spec = expand_macro(spec, msg, n))) return ORC_EINVAL;
    if (split_fields(spec, start, len, msg, n) != 0) return ORC_EINVAL;
    for (int i = 0; i < 5; i++)
        if (parse_field(start[i], len[i], &ranges[i], &bits[i], &star[i], msg, n) != 0)
            return ORC_EINVAL;

    orc_cron *c = calloc(1, sizeof *c);
    if (!c) {
        orc_errf(msg, n, ORC_EINVAL, "out of memory");
        return ORC_ENOMEM;
    }
    c->minute = bits[0];
    c->hour = (uint32_t)bits[1];
    c->dom = (uint32_t)bits[2];
    c->month = (uint16_t)bits[3];
    c->dow = (uint8_t)bits[4];
    c->dom_star = star[2];
    c->dow_star = star[4];
    *out = c;
    return 0;
}

void orc_cron_free(orc_cron *c)
{
    free(c);
}

static bool day_matches(const orc_cron *c, int64_t day)
{
    int64_t y;
    int m, d;
    orc_civil_from_days(day, &y, &m, &d);
    if (!(c->month & (1u << m))) return false;
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    bool dom = c->dom & (1u << d), dow = c->dow & (1u << wd);
    /* Both restricted: either may match (Vixie cron); otherwise both must. */
    if (c->dom_star || c->dow_star) return dom && dow;
    return dom || dow;
}

/* First (hour, minute) of the day at or after minute-of-day `from`, or -1. */
static int first_time_of_day(const orc_cron *c, int from)
{
    for (int t = from; t < 24 * 60; t++)
        if ((c->hour & (1u << (t / 60))) && (c->minute & (1ULL << (t % 60)))) return t;
    return -1;
}

/* The instants RFC 3339 can write (years 0001 to 9999): past them the
 * day arithmetic below would overflow, and no schedule runs there. */
#define FIRST_INSTANT (-62135596800LL)
#define LAST_INSTANT 253402300799LL

int64_t orc_cron_next(const orc_cron *c, int64_t after)
{
    if (after < FIRST_INSTANT || after > LAST_INSTANT) return -1;
    int64_t t = after - ((after % 60) + 60) % 60 + 60; /* next whole minute, strictly after */
    int64_t day = (t >= 0 ? t : t - 86399) / 86400;
    int from = (int)((t - day * 86400) / 60);
    const int64_t limit = day + 5 * 366;

    for (; day <= limit; day++, from = 0) {
        if (!day_matches(c, day)) continue;
        int mod = first_time_of_day(c, from);
        if (mod >= 0) {
            int64_t when = day * 86400 + (int64_t)mod * 60;
            return when <= LAST_INSTANT ? when : -1;
        }
    }
    return -1;
}
