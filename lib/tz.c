/* tz.c — TZif (RFC 8536) zones and cron schedules on their wall clock.
 * Only the 64-bit (version 2+) data block is used; times past the last
 * transition follow the footer's POSIX TZ rule (Mm.w.d, Jn and n dates). */
#include "lib/tz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define TZ_MAX_FILE (1 << 20)

/* One rule date: kind 'M' (month, week, weekday), 'J' (1-365, no Feb 29)
 * or 'D' (0-365); secs: local time of day of the change. */
struct tz_date {
    char kind;
    int m, w, d;
    int32_t secs;
};

struct tz_rule {
    bool valid, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    struct tz_date start, end;
};

struct orc_tz {
    size_t ntimes, ntypes;
    int64_t *times;   /* transition instants */
    uint8_t *idx;     /* type after each transition */
    int32_t *offs;    /* utoff of each type */
    struct tz_rule rule;
};

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t year_of_days(int64_t days)
{
    int64_t y;
    int m, d;
    orc_civil_from_days(days, &y, &m, &d);
    return y;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since the epoch of the rule date in year y. */
static int64_t rule_day(const struct tz_date *r, int64_t y)
{
    if (r->kind == 'J') return orc_days_from_civil(y, 1, 1) + r->d - 1 + (orc_leap_year(y) && r->d >= 60);
    if (r->kind == 'D') return orc_days_from_civil(y, 1, 1) + r->d;
    int64_t first = orc_days_from_civil(y, r->m, 1);
    int wday = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    int day = 1 + (r->d - wday + 7) % 7 + (r->w - 1) * 7;
    while (day > orc_days_in_month(y, r->m)) day -= 7;
    return first + day - 1;
}

/* ---- the POSIX TZ footer ---- */

static const char *skip_name(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>') p++;
        return *p ? p + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds. */
static const char *parse_hms(const char *p, int32_t *out)
{
    int sign = 1, part[3] = {0, 0, 0};
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9') return i == 0 ? NULL : p;
        while (*p >= '0' && *p <= '9') {
            part[i] = part[i] * 10 + (*p++ - '0');
            if (part[i] > 999) return NULL;
        }
        if (i < 2 && *p == ':') p++;
        else break;
    }
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *parse_date(const char *p, struct tz_date *d)
{
    char *end;
    memset(d, 0, sizeof *d);
    d->secs = 7200;
    if (*p == 'M') {
        d->kind = 'M';
        d->m = (int)strtol(p + 1, &end, 10);
        if (*end != '.') return NULL;
        d->w = (int)strtol(end + 1, &end, 10);
        if (*end != '.') return NULL;
        d->d = (int)strtol(end + 1, &end, 10);
        if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 || d->d > 6) return NULL;
    } else {
        d->kind = *p == 'J' ? 'J' : 'D';
        d->d = (int)strtol(p + (*p == 'J'), &end, 10);
        if (end == p + (*p == 'J') || d->d < 0 || d->d > 365 || (d->kind == 'J' && d->d < 1))
            return NULL;
    }
    p = end;
    if (*p == '/') p = parse_hms(p + 1, &d->secs);
    return p;
}

static void parse_rule(const char *p, struct tz_rule *r)
{
    int32_t v;
    memset(r, 0, sizeof *r);
    if (!(p = skip_name(p)) || !(p = parse_hms(p, &v))) return;
    r->std_off = -v; /* POSIX offsets count west of UTC */
    if (*p == '\0') {
        r->valid = true;
        return;
    }
    if (!(p = skip_name(p))) return;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, &v))) return;
        r->dst_off = -v;
    }
    if (*p != ',' || !(p = parse_date(p + 1, &r->start)) || *p != ','
        || !(p = parse_date(p + 1, &r->end)) || *p != '\0')
        return;
    r->has_dst = r->valid = true;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst) return r->std_off;
    int64_t y = year_of_days(floor_div(t + r->std_off, 86400));
    int64_t start = rule_day(&r->start, y) * 86400 + r->start.secs - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end.secs - r->dst_off;
    bool dst = start < end ? t >= start && t < end : t < end || t >= start;
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chr;
};

static bool read_counts(const unsigned char *p, size_t len, struct tzif_counts *c)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chr = be32(p + 40);
    return c->type > 0 && c->type < 256 && c->time < 100000 && c->leap < 100000;
}

static size_t block_len(const struct tzif_counts *c, size_t tsize)
{
    return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chr
           + (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static int parse_tzif(const unsigned char *p, size_t len, orc_tz *z)
{
    struct tzif_counts c;
    if (!read_counts(p, len, &c) || p[4] < '2') return ORC_EINVAL;
    size_t v1 = 44 + block_len(&c, 4);
    if (v1 > len || !read_counts(p + v1, len - v1, &c)) return ORC_EINVAL;
    const unsigned char *d = p + v1 + 44;
    size_t blen = block_len(&c, 8);
    if (v1 + 44 + blen > len) return ORC_EINVAL;
    z->ntimes = c.time;
    z->ntypes = c.type;
    z->times = calloc(c.time + 1, sizeof *z->times);
    z->idx = calloc(c.time + 1, 1);
    z->offs = calloc(c.type, sizeof *z->offs);
    if (!z->times || !z->idx || !z->offs) return ORC_ENOMEM;
    for (size_t i = 0; i < c.time; i++) z->times[i] = be64(d + 8 * i);
    memcpy(z->idx, d + 8 * (size_t)c.time, c.time);
    for (size_t i = 0; i < c.time; i++)
        if (z->idx[i] >= c.type) return ORC_EINVAL;
    for (size_t i = 0; i < c.type; i++)
        z->offs[i] = (int32_t)be32(d + 9 * (size_t)c.time + 6 * i);
    /* The footer: "\nTZ-string\n". */
    const char *f = (const char *)d + blen, *e = (const char *)p + len;
    if (f < e && *f == '\n') {
        char footer[128];
        const char *nl = memchr(f + 1, '\n', (size_t)(e - f - 1));
        size_t fl = nl ? (size_t)(nl - f - 1) : 0;
        if (nl && fl < sizeof footer) {
            memcpy(footer, f + 1, fl);
            footer[fl] = '\0';
            parse_rule(footer, &z->rule);
        }
    }
    return 0;
}

static bool name_ok(const char *name)
{
    if (!name[0] || name[0] == '/' || strstr(name, "..")) return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
              || strchr("/_+-", *c)))
            return false;
    return true;
}

int orc_tz_parse(const void *data, size_t len, orc_tz **out)
{
    orc_tz *z = calloc(1, sizeof *z);
    int rv = z ? parse_tzif(data, len, z) : ORC_ENOMEM;
    *out = NULL;
    if (rv != 0) {
        orc_tz_free(z);
        return rv;
    }
    *out = z;
    return 0;
}

int orc_tz_load(const char *name, orc_tz **out, char *msg, size_t n)
{
    char path[512];
    struct orc_buf data = ORC_BUF_INIT;
    int rv;

    *out = NULL;
    if (!name || !name_ok(name) || strlen(name) > 255)
        return orc_errf(msg, n, ORC_EINVAL, "invalid time zone name \"%s\"", name ? name : "");
    if (strcmp(name, "UTC") == 0) {
        if (!(*out = calloc(1, sizeof **out))) return ORC_ENOMEM;
        (*out)->rule.valid = true;
        return 0;
    }
    snprintf(path, sizeof path, ZONEINFO "/%s", name);
    rv = orc_file_read(path, TZ_MAX_FILE, &data);
    if (rv != 0) {
        orc_buf_free(&data);
        return orc_errf(msg, n, ORC_ENOENT, "unknown time zone %s", name);
    }
    rv = orc_tz_parse(data.data, data.len, out);
    orc_buf_free(&data);
    if (rv != 0)
        return orc_errf(msg, n, rv, "time zone %s: %s", name,
                        rv == ORC_ENOMEM ? "out of memory" : "not a TZif version 2+ file");
    return 0;
}

int32_t orc_tz_offset(const orc_tz *z, int64_t t)
{
    if (!z) return 0;
    if (z->ntimes == 0 || t < z->times[0])
        return z->ntimes == 0 && z->rule.valid ? rule_offset(&z->rule, t)
               : z->ntypes ? z->offs[0] : 0;
    if (t >= z->times[z->ntimes - 1] && z->rule.valid) return rule_offset(&z->rule, t);
    size_t lo = 0, hi = z->ntimes; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= t) lo = mid;
        else hi = mid;
    }
    return z->offs[z->idx[lo]];
}

void orc_tz_free(orc_tz *z)
{
    if (!z) return;
    free(z->times);
    free(z->idx);
    free(z->offs);
    free(z);
}

/* ---- cron on a zone's wall clock ---- */

/* Wider than any offset change, so that scanning wall times from this far
 * back finds a repeated wall time whose second instant is still ahead. */
#define TZ_SHIFT_MAX (3 * 3600)

int64_t orc_tz_cron_next(const orc_cron *c, const orc_tz *z, int64_t after)
{
    if (!z || (z->ntimes == 0 && !z->rule.has_dst && orc_tz_offset(z, after) == 0))
        return orc_cron_next(c, after);
    int64_t local = after + orc_tz_offset(z, after) - TZ_SHIFT_MAX, best = -1, best_local = 0;
    /* Wall times that never occur come only from skipped spans (a day at
     * most, as Samoa's 2011-12-30): 10,000 candidates cover one at minute
     * steps; only a damaged zone gets further. */
    for (int i = 0; i < 10000; i++) {
        local = orc_cron_next(c, local);
        if (local < 0 || (best >= 0 && local > best_local + TZ_SHIFT_MAX)) break;
        /* The instants showing this wall time: at most one per offset in
         * force around it. */
        int32_t offs[2] = {orc_tz_offset(z, local - 86400), orc_tz_offset(z, local + 86400)};
        for (int k = 0; k < 2; k++) {
            int64_t t = local - offs[k];
            if ((k == 1 && offs[1] == offs[0]) || orc_tz_offset(z, t) != offs[k] || t <= after)
                continue;
            if (best < 0 || t < best) {
                best = t;
                best_local = local;
            }
        }
    }
    return best;
}
