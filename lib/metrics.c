/* metrics.c — the metrics registry: families, their series found by label
 * values through a fixed open-addressing table, atomic updates, and the
 * text exposition format 0.0.4 (see metrics.h for the threading rules). */
#include "lib/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/orc.h"

#define MAX_HOOKS 32

const double orc_metrics_default_buckets[11] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

struct orc_series {
    struct orc_metric *family;
    uint64_t hash;
    _Atomic uint64_t value; /* a double's bits: counter/gauge value, histogram sum */
    _Atomic uint64_t *buckets; /* histograms: n_buckets + 1 counts, not cumulative */
    char *values[ORC_METRICS_MAX_LABELS];
};

struct orc_metric {
    struct orc_metric *next;
    char *name, *help;
    enum orc_metric_type type;
    char *labels[ORC_METRICS_MAX_LABELS];
    size_t n_labels;
    double buckets[ORC_METRICS_MAX_BUCKETS];
    size_t n_buckets;
    unsigned max_series;
    pthread_mutex_t mu;
    struct orc_series **series; /* creation order, max_series slots */
    size_t n_series;
    uint32_t *slots; /* index + 1 into series; 0: free */
    size_t n_slots;  /* a power of two, at least twice max_series */
    struct orc_series *overflow;
};

struct hook {
    orc_metrics_collect_fn fn;
    void *arg;
};

struct orc_metrics {
    pthread_mutex_t mu; /* the family list */
    struct orc_metric *head, *tail;
    pthread_mutex_t hook_mu; /* held while hooks run, so removal waits for them */
    struct hook hooks[MAX_HOOKS];
    size_t n_hooks;
};

/* ---- atomics on doubles ---- */

static double bits_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t double_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, double_bits(bits_double(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

void orc_series_add(struct orc_series *s, double v)
{
    if (s == NULL || s->family->type == ORC_METRIC_HISTOGRAM) return;
    if (s->family->type == ORC_METRIC_COUNTER && !(v >= 0)) return;
    atomic_add_double(&s->value, v);
}

void orc_series_inc(struct orc_series *s) { orc_series_add(s, 1); }

void orc_series_set(struct orc_series *s, double v)
{
    if (s == NULL || s->family->type == ORC_METRIC_HISTOGRAM) return;
    atomic_store_explicit(&s->value, double_bits(v), memory_order_relaxed);
}

double orc_series_value(const struct orc_series *s)
{
    return s ? bits_double(atomic_load_explicit(&s->value, memory_order_relaxed)) : 0;
}

void orc_series_observe(struct orc_series *s, double v)
{
    size_t i = 0;

    if (s == NULL || s->family->type != ORC_METRIC_HISTOGRAM) return;
    const struct orc_metric *f = s->family;
    while (i < f->n_buckets && !(v <= f->buckets[i])) i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&s->value, v);
}

/* ---- registration ---- */

static struct orc_metrics *process_registry;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void make_process_registry(void) { process_registry = orc_metrics_new(); }

struct orc_metrics *orc_metrics_default(void)
{
    pthread_once(&process_once, make_process_registry);
    return process_registry;
}

struct orc_metrics *orc_metrics_new(void)
{
    struct orc_metrics *m = calloc(1, sizeof *m);

    if (m == NULL) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->hook_mu, NULL);
    return m;
}

static void series_free(struct orc_series *s)
{
    if (s == NULL) return;
    free(s->buckets);
    for (size_t i = 0; i < ORC_METRICS_MAX_LABELS; i++) free(s->values[i]);
    free(s);
}

static void family_free(struct orc_metric *f)
{
    for (size_t i = 0; i < f->n_series; i++) series_free(f->series[i]);
    series_free(f->overflow);
    for (size_t i = 0; i < f->n_labels; i++) free(f->labels[i]);
    free(f->series);
    free(f->slots);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void orc_metrics_free(struct orc_metrics *m)
{
    if (m == NULL) return;
    for (struct orc_metric *f = m->head, *next; f; f = next) {
        next = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->hook_mu);
    free(m);
}

static bool name_ok(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '_' || (colon && *s == ':')))
            return false;
    return true;
}

static const char *opts_error(const struct orc_metric_opts *o, size_t *n_labels)
{
    size_t n = 0;

    if (!name_ok(o->name, true)) return "bad metric name";
    for (; o->labels && o->labels[n]; n++) {
        if (n == ORC_METRICS_MAX_LABELS) return "too many labels";
        if (!name_ok(o->labels[n], false) || strncmp(o->labels[n], "__", 2) == 0)
            return "bad label name";
        if (o->type == ORC_METRIC_HISTOGRAM && strcmp(o->labels[n], "le") == 0)
            return "a histogram may not have the label le";
    }
    *n_labels = n;
    if (o->type != ORC_METRIC_HISTOGRAM) return NULL;
    if (o->n_buckets == 0 || o->n_buckets > ORC_METRICS_MAX_BUCKETS) return "bad bucket count";
    for (size_t i = 0; i < o->n_buckets; i++)
        if (!isfinite(o->buckets[i]) || (i > 0 && !(o->buckets[i] > o->buckets[i - 1])))
            return "buckets must be finite and increasing";
    return NULL;
}

static bool same_shape(const struct orc_metric *f, const struct orc_metric_opts *o, size_t n_labels)
{
    if (f->type != o->type || f->n_labels != n_labels) return false;
    for (size_t i = 0; i < n_labels; i++)
        if (strcmp(f->labels[i], o->labels[i]) != 0) return false;
    return true;
}

static struct orc_metric *family_new(const struct orc_metric_opts *o, size_t n_labels)
{
    struct orc_metric *f = calloc(1, sizeof *f);

    if (f == NULL) return NULL;
    pthread_mutex_init(&f->mu, NULL);
    f->type = o->type;
    f->max_series = n_labels == 0 ? 1 : o->max_series ? o->max_series : ORC_METRICS_DEFAULT_MAX_SERIES;
    f->n_slots = 2;
    while (f->n_slots < 2 * (size_t)f->max_series) f->n_slots *= 2;
    f->name = strdup(o->name);
    f->help = strdup(o->help ? o->help : "");
    f->series = calloc(f->max_series, sizeof *f->series);
    f->slots = calloc(f->n_slots, sizeof *f->slots);
    f->n_labels = n_labels;
    for (size_t i = 0; i < n_labels; i++)
        if ((f->labels[i] = strdup(o->labels[i])) == NULL) goto err;
    if (f->name == NULL || f->help == NULL || f->series == NULL || f->slots == NULL) goto err;
    if (o->type == ORC_METRIC_HISTOGRAM) {
        memcpy(f->buckets, o->buckets, o->n_buckets * sizeof *o->buckets);
        f->n_buckets = o->n_buckets;
    }
    return f;
err:
    family_free(f);
    return NULL;
}

struct orc_metric *orc_metric_register(struct orc_metrics *m, const struct orc_metric_opts *o)
{
    struct orc_metric *f;
    size_t n_labels = 0;
    const char *why = opts_error(o, &n_labels);

    if (m == NULL) return NULL;
    if (why) {
        log_error("metrics", "registering %s: %s", o->name ? o->name : "(null)", why);
        return NULL;
    }
    pthread_mutex_lock(&m->mu);
    for (f = m->head; f; f = f->next)
        if (strcmp(f->name, o->name) == 0) break;
    if (f && !same_shape(f, o, n_labels)) {
        log_error("metrics", "registering %s: another metric of that name has another type or labels",
                  o->name);
        f = NULL;
    } else if (f == NULL && (f = family_new(o, n_labels)) != NULL) {
        if (m->tail) m->tail->next = f;
        else m->head = f;
        m->tail = f;
    }
    pthread_mutex_unlock(&m->mu);
    return f;
}

/* ---- series by label values ---- */

static uint64_t values_hash(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++) {
        for (const char *p = values && values[i] ? values[i] : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h;
}

static bool values_equal(const struct orc_series *s, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], values && values[i] ? values[i] : "") != 0) return false;
    return true;
}

static struct orc_series *series_new(struct orc_metric *f, const char *const *values, uint64_t h)
{
    struct orc_series *s = calloc(1, sizeof *s);

    if (s == NULL) return NULL;
    s->family = f;
    s->hash = h;
    for (size_t i = 0; i < f->n_labels; i++)
        if ((s->values[i] = strdup(values && values[i] ? values[i] : "")) == NULL) goto err;
    if (f->type == ORC_METRIC_HISTOGRAM
        && (s->buckets = calloc(f->n_buckets + 1, sizeof *s->buckets)) == NULL)
        goto err;
    return s;
err:
    series_free(s);
    return NULL;
}

/* Called with f->mu held, once the table is full. */
static struct orc_series *overflow_series(struct orc_metric *f)
{
    const char *vals[ORC_METRICS_MAX_LABELS];

    if (f->overflow) return f->overflow;
    for (size_t i = 0; i < f->n_labels; i++) vals[i] = "overflow";
    f->overflow = series_new(f, vals, 0);
    log_warn("metrics", "%s has reached its bound of %u label sets: further ones are counted "
             "under the label value \"overflow\"", f->name, f->max_series);
    return f->overflow;
}

struct orc_series *orc_metric_with(struct orc_metric *f, const char *const *values)
{
    struct orc_series *s = NULL;
    uint64_t h;
    size_t i;

    if (f == NULL) return NULL;
    h = values_hash(values, f->n_labels);
    pthread_mutex_lock(&f->mu);
    for (i = h & (f->n_slots - 1); f->slots[i]; i = (i + 1) & (f->n_slots - 1)) {
        struct orc_series *c = f->series[f->slots[i] - 1];
        if (c->hash == h && values_equal(c, values, f->n_labels)) {
            s = c;
            goto out;
        }
    }
    if (f->n_series == f->max_series) s = overflow_series(f);
    else if ((s = series_new(f, values, h)) != NULL) {
        f->series[f->n_series++] = s;
        f->slots[i] = (uint32_t)f->n_series;
    }
out:
    pthread_mutex_unlock(&f->mu);
    return s;
}

struct orc_series *orc_metric_withv(struct orc_metric *f, ...)
{
    const char *vals[ORC_METRICS_MAX_LABELS];
    va_list ap;

    if (f == NULL) return NULL;
    va_start(ap, f);
    for (size_t i = 0; i < f->n_labels; i++) vals[i] = va_arg(ap, const char *);
    va_end(ap);
    return orc_metric_with(f, vals);
}

/* ---- collect hooks ---- */

int orc_metrics_on_collect(struct orc_metrics *m, orc_metrics_collect_fn fn, void *arg)
{
    int rv = 0;

    pthread_mutex_lock(&m->hook_mu);
    if (m->n_hooks == MAX_HOOKS) rv = ORC_ETOOBIG;
    else m->hooks[m->n_hooks++] = (struct hook){fn, arg};
    pthread_mutex_unlock(&m->hook_mu);
    return rv;
}

void orc_metrics_on_collect_remove(struct orc_metrics *m, orc_metrics_collect_fn fn, void *arg)
{
    pthread_mutex_lock(&m->hook_mu);
    for (size_t i = 0; i < m->n_hooks; i++)
        if (m->hooks[i].fn == fn && m->hooks[i].arg == arg) {
            memmove(&m->hooks[i], &m->hooks[i + 1], (m->n_hooks - i - 1) * sizeof *m->hooks);
            m->n_hooks--;
            break;
        }
    pthread_mutex_unlock(&m->hook_mu);
}

/* ---- exposition ---- */

/* The shortest text that reads back as v, laid out as Go's
 * strconv.FormatFloat(v, 'g', -1, 64) (what the Go clients write): plain
 * decimals for exponents -4..5, else d.ddde+XX. */
static void format_double(double v, char *out, size_t n)
{
    int p = 0, exp;

    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    do snprintf(out, n, "%.*e", p, v);
    while (strtod(out, NULL) != v && ++p < 17);
    exp = atoi(strchr(out, 'e') + 1);
    if (exp < -4 || exp >= 6) return;
    snprintf(out, n, "%.*f", p - exp > 0 ? p - exp : 0, v);
}

static int put_double(struct orc_buf *out, double v)
{
    char num[40];

    format_double(v, num, sizeof num);
    return orc_buf_puts(out, num);
}

/* Label values escape backslash, double quote and newline; HELP text
 * backslash and newline. */
static int put_escaped(struct orc_buf *out, const char *s, bool quote)
{
    int rv = 0;

    for (const char *p = s; *p && rv == 0; p++) {
        if (*p == '\\') rv = orc_buf_puts(out, "\\\\");
        else if (*p == '\n') rv = orc_buf_puts(out, "\\n");
        else if (*p == '"' && quote) rv = orc_buf_puts(out, "\\\"");
        else rv = orc_buf_append(out, p, 1);
    }
    return rv;
}

/* name{labels[,le="x"]} value\n */
static int put_sample(struct orc_buf *out, const struct orc_metric *f, const struct orc_series *s,
                      const char *suffix, const char *le, double v)
{
    int rv = orc_buf_printf(out, "%s%s", f->name, suffix);
    bool any = f->n_labels > 0 || le;

    if (rv == 0 && any) rv = orc_buf_puts(out, "{");
    for (size_t i = 0; rv == 0 && i < f->n_labels; i++) {
        rv = orc_buf_printf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
        if (rv == 0) rv = put_escaped(out, s->values[i], true);
        if (rv == 0) rv = orc_buf_puts(out, "\"");
    }
    if (rv == 0 && le) rv = orc_buf_printf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
    if (rv == 0 && any) rv = orc_buf_puts(out, "}");
    if (rv == 0) rv = orc_buf_puts(out, " ");
    if (rv == 0) rv = put_double(out, v);
    if (rv == 0) rv = orc_buf_puts(out, "\n");
    return rv;
}

static int put_histogram(struct orc_buf *out, const struct orc_metric *f, const struct orc_series *s)
{
    uint64_t cum = 0;
    char le[40];
    int rv = 0;

    for (size_t i = 0; rv == 0 && i <= f->n_buckets; i++) {
        cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        format_double(i < f->n_buckets ? f->buckets[i] : INFINITY, le, sizeof le);
        rv = put_sample(out, f, s, "_bucket", le, (double)cum);
    }
    if (rv == 0) rv = put_sample(out, f, s, "_sum", NULL, orc_series_value(s));
    if (rv == 0) rv = put_sample(out, f, s, "_count", NULL, (double)cum);
    return rv;
}

static int put_series(struct orc_buf *out, const struct orc_metric *f, const struct orc_series *s)
{
    if (f->type == ORC_METRIC_HISTOGRAM) return put_histogram(out, f, s);
    return put_sample(out, f, s, "", NULL, orc_series_value(s));
}

static int put_family(struct orc_buf *out, struct orc_metric *f)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    int rv = 0;

    pthread_mutex_lock(&f->mu);
    if (f->n_series == 0 && f->overflow == NULL) goto out;
    rv = orc_buf_printf(out, "# HELP %s ", f->name);
    if (rv == 0) rv = put_escaped(out, f->help, false);
    if (rv == 0) rv = orc_buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
    for (size_t i = 0; rv == 0 && i < f->n_series; i++) rv = put_series(out, f, f->series[i]);
    if (rv == 0 && f->overflow) rv = put_series(out, f, f->overflow);
out:
    pthread_mutex_unlock(&f->mu);
    return rv;
}

int orc_metrics_write(struct orc_metrics *m, struct orc_buf *out)
{
    struct orc_metric *f;
    int rv = 0;

    pthread_mutex_lock(&m->hook_mu);
    for (size_t i = 0; i < m->n_hooks; i++) m->hooks[i].fn(m->hooks[i].arg);
    pthread_mutex_unlock(&m->hook_mu);
    pthread_mutex_lock(&m->mu);
    f = m->head;
    pthread_mutex_unlock(&m->mu);
    /* Families are only ever appended: next pointers read under m->mu. */
    while (f && rv == 0) {
        rv = put_family(out, f);
        pthread_mutex_lock(&m->mu);
        f = f->next;
        pthread_mutex_unlock(&m->mu);
    }
    return rv;
}
