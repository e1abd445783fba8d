/* resmetrics.h — metrics.k8s.io/v1beta1, as metrics-server serves it, inside
 * every API member: a collector scrapes each Ready node's agent
 * (/metrics/resource) every resolution, keeps the last two samples per
 * node in memory (never in the Raft store), and turns them into CPU rates
 * (window = the time between the two readings) and memory working sets;
 * NodeMetrics and PodMetrics are read from that. Internal to apiserver/. */
#ifndef ORC_API_RESMETRICS_H
#define ORC_API_RESMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/buf.h"

struct api_server;
struct api_route;
struct orc_httpd_req;

#define API_MX_DEFAULT_RESOLUTION_MS 15000

/* ---- one scrape, parsed (metrics_parse.c) ---- */

/* A cumulative CPU reading and a memory reading, each with its time. */
struct api_mx_point {
    double cpu_s;          /* core-seconds; < 0: none */
    int64_t cpu_ms;        /* its timestamp, Unix ms */
    double mem;            /* working set bytes; < 0: none */
    int64_t mem_ms;
    double start_s;        /* container_start_time_seconds; 0: unknown */
};

struct api_mx_ctr {
    char ns[64], pod[256], name[64];
    struct api_mx_point p;
};

struct api_mx_scrape {
    struct api_mx_point node;
    struct api_mx_ctr *ctrs;
    size_t n_ctrs;
};

/* The kubelet's /metrics/resource text into out (zeroed first; samples
 * without a timestamp take now_ms). Series orc does not use are skipped;
 * a malformed line is ORC_EPROTO. out's array is freed with
 * api_mx_scrape_free, also on error. */
int api_mx_parse(const char *text, size_t len, int64_t now_ms, struct api_mx_scrape *out);
void api_mx_scrape_free(struct api_mx_scrape *s);

/* ---- rates (metrics_parse.c) ---- */

/* A usage as the API shows it. */
struct api_mx_usage {
    int64_t time_ms;       /* the newer reading's time */
    int64_t window_ms;     /* between the two readings */
    uint64_t nanocores;
    uint64_t mem_bytes;
};

/* CPU rate between two cumulative readings, as metrics-server computes
 * it: ORC_EINVAL when either lacks CPU or memory, the newer is not later,
 * the counter went back, or the container restarted in between (start
 * times differ). */
int api_mx_rate(const struct api_mx_point *prev, const struct api_mx_point *cur, struct api_mx_usage *out);

/* Go's time.Duration text of ms ("15s", "2.5s", "1m0.5s"). */
void api_mx_duration(int64_t ms, char *out, size_t n);
/* A Quantity text: cpu as nanocores "123n", memory "12Ki" or bytes. */
void api_mx_cpu_text(uint64_t nanocores, char *out, size_t n);
void api_mx_mem_text(uint64_t bytes, char *out, size_t n);

/* ---- the collector (metrics_collect.c) ---- */

/* One node's computed usage, its pods' grouped by pod. */
struct api_mx_podusage {
    char ns[64], name[256];
    struct api_mx_usage pod; /* time: the earliest container's, window: its */
    struct {
        char name[64];
        struct api_mx_usage u;
    } *ctrs;
    size_t n_ctrs;
};

struct api_mx_node {
    char name[256];
    bool has_usage;
    struct api_mx_usage usage;
    struct api_mx_podusage *pods;
    size_t n_pods;
};

/* Starts the collector: resolution_ms 0 takes the default; off: none
 * (the API then lists no metrics). */
int api_mx_start(struct api_server *s, unsigned resolution_ms, bool off);
void api_mx_stop(struct api_server *s);

/* Each node's latest usage (borrowed: valid until control returns to the
 * loop). */
const struct api_mx_node *api_mx_nodes(const struct api_server *s, size_t *n);
/* Whether this member collects (and serves metrics.k8s.io). */
bool api_mx_enabled(const struct api_server *s);

/* Groups a scrape's containers into pods and computes rates against prev
 * (may be NULL: nothing yet); into out (zeroed first, freed with
 * api_mx_node_clear). A pod is left out unless each of its containers has
 * a rate, as metrics-server does. */
int api_mx_compute(const struct api_mx_scrape *prev, const struct api_mx_scrape *cur, struct api_mx_node *out);
void api_mx_node_clear(struct api_mx_node *n);

/* ---- serving (metrics_api.c) ---- */

/* /apis/metrics.k8s.io/... (ROUTE_METRICS_API): answered here. */
void api_handle_mx(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);

#endif
