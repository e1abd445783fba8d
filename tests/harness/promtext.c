/* promtext.c — the strict exposition checker of promtext.h. */
#include "tests/harness/promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEN_SLOTS (1u << 16)

struct checker {
    char family[256];
    char type[32];
    char **seen; /* family names and series keys, open addressing */
    /* the histogram series being read */
    char hkey[1024];
    bool in_hist, has_inf, has_sum;
    double prev_le, prev_cum, inf_cum;
    int line;
    char *err;
    size_t n;
};

static int fail(struct checker *c, const char *fmt, ...)
{
    va_list ap;
    int off = snprintf(c->err, c->n, "line %d: ", c->line);

    va_start(ap, fmt);
    if (off > 0 && (size_t)off < c->n) vsnprintf(c->err + off, c->n - (size_t)off, fmt, ap);
    va_end(ap);
    return -1;
}

/* false when key was already there */
static bool seen_add(struct checker *c, const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (size_t i = h & (SEEN_SLOTS - 1);; i = (i + 1) & (SEEN_SLOTS - 1)) {
        if (c->seen[i] == NULL) {
            c->seen[i] = strdup(key);
            return true;
        }
        if (strcmp(c->seen[i], key) == 0) return false;
    }
}

static bool name_char(char ch, bool first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':'
           || (!first && ch >= '0' && ch <= '9');
}

static const char *scan_name(const char *p, char *out, size_t n)
{
    size_t i = 0;
    if (!name_char(*p, true)) return NULL;
    while (name_char(*p, i == 0) && i + 1 < n) out[i++] = *p++;
    out[i] = '\0';
    return p;
}

static bool parse_value(const char *s, const char *end, double *v)
{
    char buf[64], *e;
    size_t len = (size_t)(end - s);

    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strcmp(buf, "+Inf") == 0) *v = INFINITY;
    else if (strcmp(buf, "-Inf") == 0) *v = -INFINITY;
    else if (strcmp(buf, "NaN") == 0) *v = NAN;
    else {
        *v = strtod(buf, &e);
        if (*e != '\0' || strchr(buf, 'n') || strchr(buf, 'N') || strchr(buf, 'x')) return false;
    }
    return true;
}

static int comment(struct checker *c, const char *l, const char *end)
{
    char name[256], type[32];
    const char *p;

    if (strncmp(l, "# HELP ", 7) == 0) {
        if ((p = scan_name(l + 7, name, sizeof name)) == NULL || (*p != ' ' && p != end))
            return fail(c, "bad HELP");
        for (; p < end; p++)
            if (*p == '\\' && (p + 1 >= end || (p[1] != '\\' && p[1] != 'n')))
                return fail(c, "bad escape in HELP");
            else if (*p == '\\') p++;
        return 0;
    }
    if (strncmp(l, "# TYPE ", 7) != 0) return 0;
    if ((p = scan_name(l + 7, name, sizeof name)) == NULL || *p != ' ') return fail(c, "bad TYPE");
    snprintf(type, sizeof type, "%.*s", (int)(end - p - 1), p + 1);
    if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram")
        && strcmp(type, "summary") && strcmp(type, "untyped"))
        return fail(c, "unknown type %s", type);
    if (c->in_hist && (!c->has_inf || !c->has_sum)) return fail(c, "histogram %s not whole", c->family);
    char key[300];
    snprintf(key, sizeof key, "#TYPE %s", name);
    if (!seen_add(c, key)) return fail(c, "second TYPE for %s", name);
    snprintf(c->family, sizeof c->family, "%s", name);
    snprintf(c->type, sizeof c->type, "%s", type);
    c->in_hist = false;
    return 0;
}

/* {a="b",...}: the labels into key (le apart), le's value into le. */
static const char *labels(struct checker *c, const char *p, char *key, size_t kn, char *le, size_t ln)
{
    char lname[256];
    size_t k = strlen(key);

    le[0] = '\0';
    if (*p != '{') return p;
    p++;
    while (*p != '}') {
        if ((p = scan_name(p, lname, sizeof lname)) == NULL || strchr(lname, ':') || p[0] != '=' || p[1] != '"')
            return NULL;
        p += 2;
        char val[512];
        size_t v = 0;
        for (; *p != '"'; p++) {
            if (*p == '\n' || *p == '\0' || v + 2 >= sizeof val) return NULL;
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') return NULL;
                val[v++] = *p++;
            }
            val[v++] = *p;
        }
        val[v] = '\0';
        p++;
        if (strcmp(lname, "le") == 0) snprintf(le, ln, "%s", val);
        else k += (size_t)snprintf(key + k, k < kn ? kn - k : 0, "%s=\"%s\",", lname, val);
        if (*p == ',') p++;
        else if (*p != '}') return NULL;
    }
    (void)c;
    return p + 1;
}

static int hist_sample(struct checker *c, const char *suffix, const char *key, const char *le, double v)
{
    if (strcmp(suffix, "_bucket") == 0) {
        double b;
        if (!parse_value(le, le + strlen(le), &b)) return fail(c, "bucket without a good le");
        if (!c->in_hist || strcmp(c->hkey, key) != 0) {
            if (c->in_hist && (!c->has_inf || !c->has_sum)) return fail(c, "histogram series not whole");
            snprintf(c->hkey, sizeof c->hkey, "%s", key);
            c->in_hist = true;
            c->has_inf = c->has_sum = false;
            c->prev_le = -INFINITY;
            c->prev_cum = 0;
        }
        if (c->has_inf) return fail(c, "bucket after +Inf");
        if (!(b > c->prev_le)) return fail(c, "le not increasing");
        if (v < c->prev_cum) return fail(c, "bucket counts not cumulative");
        c->prev_le = b;
        c->prev_cum = v;
        if (isinf(b)) {
            c->has_inf = true;
            c->inf_cum = v;
        }
        return 0;
    }
    if (!c->in_hist || strcmp(c->hkey, key) != 0 || !c->has_inf)
        return fail(c, "%s before its buckets end with +Inf", suffix);
    if (strcmp(suffix, "_sum") == 0) c->has_sum = true;
    else if (v != c->inf_cum) return fail(c, "_count %g is not the +Inf bucket's %g", v, c->inf_cum);
    return 0;
}

static int sample(struct checker *c, const char *l, const char *end)
{
    char name[256], key[1024], le[512];
    const char *p = scan_name(l, name, sizeof name), *suffix = "";
    double v;

    if (p == NULL) return fail(c, "bad sample name");
    size_t fl = strlen(c->family);
    if (c->family[0] == '\0' || strncmp(name, c->family, fl) != 0) return fail(c, "%s has no TYPE", name);
    suffix = name + fl;
    bool hist = strcmp(c->type, "histogram") == 0;
    if (hist ? strcmp(suffix, "_bucket") && strcmp(suffix, "_sum") && strcmp(suffix, "_count") : *suffix != '\0')
        return fail(c, "%s is not a sample of %s %s", name, c->type, c->family);
    snprintf(key, sizeof key, "%s{", name);
    if ((p = labels(c, p, key, sizeof key, le, sizeof le)) == NULL) return fail(c, "bad labels");
    if (le[0] && !(hist && strcmp(suffix, "_bucket") == 0)) return fail(c, "le outside a bucket");
    if (*p != ' ') return fail(c, "no space before the value");
    const char *ve = strchr(p + 1, ' ');
    if (ve == NULL || ve > end) ve = end;
    if (!parse_value(p + 1, ve, &v)) return fail(c, "bad value");
    if (hist) {
        char series[1024];
        snprintf(series, sizeof series, "%.1000s", key + strlen(name));
        if (hist_sample(c, suffix, series, le, v) != 0) return -1;
    }
    if (le[0]) strncat(key, le, sizeof key - strlen(key) - 1);
    if (!seen_add(c, key)) return fail(c, "series %s twice", key);
    return 0;
}

int promtext_check(const char *text, char *err, size_t n)
{
    struct checker c = {.err = err, .n = n};
    int rv = 0;

    c.seen = calloc(SEEN_SLOTS, sizeof *c.seen);
    if (c.seen == NULL) return fail(&c, "out of memory");
    for (const char *l = text; *l && rv == 0;) {
        const char *end = strchr(l, '\n');
        c.line++;
        if (end == NULL) rv = fail(&c, "no newline at the end");
        else if (*l == '#') rv = comment(&c, l, end);
        else if (end == l) rv = 0; /* blank lines are allowed */
        else rv = sample(&c, l, end);
        l = end ? end + 1 : l + strlen(l);
    }
    if (rv == 0 && c.in_hist && (!c.has_inf || !c.has_sum)) rv = fail(&c, "last histogram not whole");
    for (size_t i = 0; i < SEEN_SLOTS; i++) free(c.seen[i]);
    free(c.seen);
    return rv;
}

double promtext_value(const char *text, const char *series)
{
    size_t len = strlen(series);

    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (strncmp(l, series, len) == 0 && l[len] == ' ') return strtod(l + len + 1, NULL);
    return NAN;
}
