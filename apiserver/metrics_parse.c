/* metrics_parse.c — the pure half of metrics.k8s.io (metrics.h): reading
 * the kubelet's /metrics/resource text, CPU rates from two readings as
 * metrics-server computes them, and the texts of durations and quantities. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/resmetrics.h"
#include "lib/orc.h"

#define MAX_LINE 4096

enum series { S_NONE, S_NODE_CPU, S_NODE_MEM, S_CTR_CPU, S_CTR_MEM, S_CTR_START };

static enum series series_of(const char *name, size_t n)
{
    static const struct {
        const char *name;
        enum series s;
    } known[] = {
        {"node_cpu_usage_seconds_total", S_NODE_CPU},      {"node_memory_working_set_bytes", S_NODE_MEM},
        {"container_cpu_usage_seconds_total", S_CTR_CPU},  {"container_memory_working_set_bytes", S_CTR_MEM},
        {"container_start_time_seconds", S_CTR_START},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(known); i++)
        if (strlen(known[i].name) == n && memcmp(known[i].name, name, n) == 0) return known[i].s;
    return S_NONE;
}

/* One label value, unescaped into out; p after the closing quote. */
static const char *label_value(const char *p, char *out, size_t n)
{
    size_t k = 0;

    for (; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            c = *++p;
            if (c == 'n') c = '\n';
            else if (c != '\\' && c != '"') return NULL;
        }
        if (k + 1 >= n) return NULL;
        out[k++] = c;
    }
    out[k] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

/* A name longer than its field is not one Kubernetes allows. */
static bool copy(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);

    if (l >= n) return false;
    memcpy(dst, src, l + 1);
    return true;
}

/* {container="a",namespace="b",pod="c"}: the three orc uses; p after '}'. */
static const char *labels(const char *p, struct api_mx_ctr *c)
{
    char key[64], val[256];

    if (*p != '{') return p;
    p++;
    while (*p && *p != '}') {
        size_t kl = strcspn(p, "=}");
        if (p[kl] != '=' || kl == 0 || kl >= sizeof key || p[kl + 1] != '"') return NULL;
        memcpy(key, p, kl);
        key[kl] = '\0';
        if ((p = label_value(p + kl + 2, val, sizeof val)) == NULL) return NULL;
        if ((strcmp(key, "container") == 0 && !copy(c->name, sizeof c->name, val))
            || (strcmp(key, "namespace") == 0 && !copy(c->ns, sizeof c->ns, val))
            || (strcmp(key, "pod") == 0 && !copy(c->pod, sizeof c->pod, val)))
            return NULL;
        if (*p == ',') p++;
    }
    return *p == '}' ? p + 1 : NULL;
}

static struct api_mx_ctr *ctr_slot(struct api_mx_scrape *s, const struct api_mx_ctr *key)
{
    struct api_mx_ctr *n;

    for (size_t i = 0; i < s->n_ctrs; i++) {
        struct api_mx_ctr *c = &s->ctrs[i];
        if (strcmp(c->name, key->name) == 0 && strcmp(c->pod, key->pod) == 0 && strcmp(c->ns, key->ns) == 0)
            return c;
    }
    if ((n = realloc(s->ctrs, (s->n_ctrs + 1) * sizeof *n)) == NULL) return NULL;
    s->ctrs = n;
    n = &s->ctrs[s->n_ctrs++];
    *n = *key;
    n->p = (struct api_mx_point){.cpu_s = -1, .mem = -1};
    return n;
}

static void set_point(struct api_mx_point *p, enum series s, double v, int64_t ms)
{
    if (s == S_NODE_CPU || s == S_CTR_CPU) {
        p->cpu_s = v;
        p->cpu_ms = ms;
    } else if (s == S_NODE_MEM || s == S_CTR_MEM) {
        p->mem = v;
        p->mem_ms = ms;
    } else {
        p->start_s = v;
    }
}

static int parse_line(const char *line, int64_t now_ms, struct api_mx_scrape *out)
{
    size_t nl = strcspn(line, "{ ");
    enum series s = series_of(line, nl);
    struct api_mx_ctr key = {0}, *c;
    const char *p = line + nl;
    char *end;
    double v;
    int64_t ms = now_ms;

    if (s == S_NONE) return 0;
    if ((p = labels(p, &key)) == NULL || *p != ' ') return ORC_EPROTO;
    v = strtod(p, &end);
    if (end == p || !isfinite(v) || v < 0) return ORC_EPROTO;
    p = end;
    while (*p == ' ') p++;
    if (*p) {
        ms = strtoll(p, &end, 10);
        if (end == p || *end) return ORC_EPROTO;
    }
    if (s == S_NODE_CPU || s == S_NODE_MEM) {
        set_point(&out->node, s, v, ms);
        return 0;
    }
    if (!key.name[0] || !key.pod[0] || !key.ns[0]) return ORC_EPROTO;
    if ((c = ctr_slot(out, &key)) == NULL) return ORC_ENOMEM;
    set_point(&c->p, s, v, ms);
    return 0;
}

int api_mx_parse(const char *text, size_t len, int64_t now_ms, struct api_mx_scrape *out)
{
    const char *p = text, *end = text + len;
    char line[MAX_LINE];
    int rv = 0;

    memset(out, 0, sizeof *out);
    out->node = (struct api_mx_point){.cpu_s = -1, .mem = -1};
    while (rv == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n >= sizeof line) return ORC_EPROTO;
        memcpy(line, p, n);
        line[n] = '\0';
        if (n > 0 && line[0] != '#') rv = parse_line(line, now_ms, out);
        p += n + 1;
    }
    return rv;
}

void api_mx_scrape_free(struct api_mx_scrape *s)
{
    free(s->ctrs);
    s->ctrs = NULL;
    s->n_ctrs = 0;
}

int api_mx_rate(const struct api_mx_point *prev, const struct api_mx_point *cur, struct api_mx_usage *out)
{
    if (prev->cpu_s < 0 || cur->cpu_s < 0 || cur->mem < 0) return ORC_EINVAL;
    if (cur->cpu_ms <= prev->cpu_ms || cur->cpu_s < prev->cpu_s) return ORC_EINVAL;
    if (prev->start_s != cur->start_s) return ORC_EINVAL; /* restarted: the counters began again */
    out->time_ms = cur->cpu_ms;
    out->window_ms = cur->cpu_ms - prev->cpu_ms;
    out->nanocores = (uint64_t)llround((cur->cpu_s - prev->cpu_s) * 1e9 * 1000.0 / (double)out->window_ms);
    out->mem_bytes = (uint64_t)llround(cur->mem);
    return 0;
}

void api_mx_duration(int64_t ms, char *out, size_t n)
{
    int64_t min = ms / 60000, rest = ms % 60000;
    char sec[32];

    if (rest % 1000 == 0) snprintf(sec, sizeof sec, "%" PRId64 "s", rest / 1000);
    else {
        int w = snprintf(sec, sizeof sec, "%" PRId64 ".%03" PRId64, rest / 1000, rest % 1000);
        while (w > 0 && sec[w - 1] == '0') sec[--w] = '\0';
        snprintf(sec + w, sizeof sec - (size_t)w, "s");
    }
    if (ms == 0) snprintf(out, n, "0s");
    else if (min > 0) snprintf(out, n, "%" PRId64 "m%s", min, sec);
    else snprintf(out, n, "%s", sec);
}

void api_mx_cpu_text(uint64_t nanocores, char *out, size_t n) { snprintf(out, n, "%" PRIu64 "n", nanocores); }

void api_mx_mem_text(uint64_t bytes, char *out, size_t n)
{
    if (bytes != 0 && bytes % 1024 == 0) snprintf(out, n, "%" PRIu64 "Ki", bytes / 1024);
    else snprintf(out, n, "%" PRIu64, bytes);
}

/* ---- a node's usage from two scrapes ---- */

static const struct api_mx_ctr *prev_ctr(const struct api_mx_scrape *prev, const struct api_mx_ctr *c)
{
    for (size_t i = 0; prev && i < prev->n_ctrs; i++) {
        const struct api_mx_ctr *p = &prev->ctrs[i];
        if (strcmp(p->name, c->name) == 0 && strcmp(p->pod, c->pod) == 0 && strcmp(p->ns, c->ns) == 0) return p;
    }
    return NULL;
}

static bool same_pod(const struct api_mx_ctr *a, const struct api_mx_ctr *b)
{
    return strcmp(a->pod, b->pod) == 0 && strcmp(a->ns, b->ns) == 0;
}

/* The pod of cur->ctrs[first] (every container of it after first):
 * 0 with out filled, ORC_EINVAL when some container has no rate. */
static int pod_usage(const struct api_mx_scrape *prev, const struct api_mx_scrape *cur, size_t first,
                     struct api_mx_podusage *out)
{
    const struct api_mx_ctr *head = &cur->ctrs[first];
    size_t n = 0;

    memset(out, 0, sizeof *out);
    for (size_t i = first; i < cur->n_ctrs; i++) n += same_pod(&cur->ctrs[i], head);
    if ((out->ctrs = calloc(n, sizeof *out->ctrs)) == NULL) return ORC_ENOMEM;
    snprintf(out->ns, sizeof out->ns, "%s", head->ns);
    snprintf(out->name, sizeof out->name, "%s", head->pod);
    for (size_t i = first; i < cur->n_ctrs; i++) {
        const struct api_mx_ctr *c = &cur->ctrs[i], *p;
        struct api_mx_usage u;
        if (!same_pod(c, head)) continue;
        if ((p = prev_ctr(prev, c)) == NULL || api_mx_rate(&p->p, &c->p, &u) != 0) {
            free(out->ctrs);
            out->ctrs = NULL;
            return ORC_EINVAL;
        }
        snprintf(out->ctrs[out->n_ctrs].name, sizeof out->ctrs[0].name, "%s", c->name);
        out->ctrs[out->n_ctrs++].u = u;
        if (out->n_ctrs == 1 || u.time_ms < out->pod.time_ms) {
            out->pod.time_ms = u.time_ms;
            out->pod.window_ms = u.window_ms;
        }
        out->pod.nanocores += u.nanocores;
        out->pod.mem_bytes += u.mem_bytes;
    }
    return 0;
}

/* Whether an earlier container of cur belongs to the same pod as ctrs[i]. */
static bool pod_done(const struct api_mx_scrape *cur, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (same_pod(&cur->ctrs[j], &cur->ctrs[i])) return true;
    return false;
}

int api_mx_compute(const struct api_mx_scrape *prev, const struct api_mx_scrape *cur, struct api_mx_node *out)
{
    char name[sizeof out->name];

    memcpy(name, out->name, sizeof name);
    memset(out, 0, sizeof *out);
    memcpy(out->name, name, sizeof name);
    if (prev == NULL) return 0;
    out->has_usage = api_mx_rate(&prev->node, &cur->node, &out->usage) == 0;
    for (size_t i = 0; i < cur->n_ctrs; i++) {
        struct api_mx_podusage pu, *np = NULL;
        int rv;
        if (pod_done(cur, i)) continue;
        rv = pod_usage(prev, cur, i, &pu);
        if (rv == ORC_EINVAL) continue;
        if (rv == 0 && (np = realloc(out->pods, (out->n_pods + 1) * sizeof *np)) == NULL) {
            free(pu.ctrs);
            rv = ORC_ENOMEM;
        }
        if (rv != 0) {
            api_mx_node_clear(out);
            return rv;
        }
        out->pods = np;
        out->pods[out->n_pods++] = pu;
    }
    return 0;
}

void api_mx_node_clear(struct api_mx_node *n)
{
    for (size_t i = 0; i < n->n_pods; i++) free(n->pods[i].ctrs);
    free(n->pods);
    n->pods = NULL;
    n->n_pods = 0;
    n->has_usage = false;
}
