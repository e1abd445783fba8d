/* metrics.c — the API server's Prometheus metrics under Kubernetes' names:
 * every request counted and timed by verb, group, version, resource,
 * subresource, scope and code as the kube-apiserver labels them, requests
 * in flight and long-running ones, watchers by kind, and the store's
 * figures (objects per resource, database size, Raft index and term),
 * read from counters the store keeps at each scrape, never by a walk. The
 * families live in the process registry (lib/metrics.h), which also holds
 * the scheduler's, the controllers' and the store's own; GET /metrics
 * writes them all. */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/metrics.h"
#include "apiserver/server.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/orc.h"

/* Kubernetes' apiserver_request_duration_seconds buckets. */
static const double request_buckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2,
                                         3,     4,     5,    6,   8,   10,  15,  20,  30,  45,  60};

struct api_metrics {
    struct orc_metric *requests, *duration, *longrunning, *watchers, *objects, *storage_size;
    struct orc_series *readonly, *mutating;
    struct orc_series *applied, *term, *revision, *db_bytes, *is_leader, *has_leader;
};

static struct orc_metric *family(const char *name, const char *help, enum orc_metric_type t,
                                 const char *const *labels)
{
    struct orc_metric_opts o = {.name = name, .help = help, .type = t, .labels = labels};
    if (t == ORC_METRIC_HISTOGRAM) {
        o.buckets = request_buckets;
        o.n_buckets = sizeof request_buckets / sizeof *request_buckets;
    }
    return orc_metric_register(orc_metrics_default(), &o);
}

static struct orc_series *gauge(const char *name, const char *help)
{
    return orc_metric_with(family(name, help, ORC_METRIC_GAUGE, NULL), NULL);
}

static void register_families(struct api_metrics *m)
{
    static const char *const req[] = {"verb", "dry_run", "group", "version", "resource", "subresource",
                                      "scope", "component", "code", NULL};
    static const char *const dur[] = {"verb", "dry_run", "group", "version", "resource", "subresource",
                                      "scope", "component", NULL};
    static const char *const lr[] = {"verb", "group", "version", "resource", "subresource", "scope",
                                     "component", NULL};
    static const char *const kind[] = {"request_kind", NULL};
    static const char *const gvk[] = {"group", "version", "kind", NULL};
    static const char *const res[] = {"resource", NULL};
    static const char *const cluster[] = {"storage_cluster_id", NULL};
    struct orc_metric *inflight;

    m->requests = family("apiserver_request_total",
                         "Counter of apiserver requests broken out for each verb, dry run value, group, "
                         "version, resource, scope, component, and HTTP response code.",
                         ORC_METRIC_COUNTER, req);
    m->duration = family("apiserver_request_duration_seconds",
                         "Response latency distribution in seconds for each verb, dry run value, group, "
                         "version, resource, subresource, scope and component.",
                         ORC_METRIC_HISTOGRAM, dur);
    inflight = family("apiserver_current_inflight_requests",
                      "Maximal number of currently used inflight request limit of this apiserver per "
                      "request kind in last second.",
                      ORC_METRIC_GAUGE, kind);
    m->readonly = orc_metric_withv(inflight, "readOnly");
    m->mutating = orc_metric_withv(inflight, "mutating");
    m->longrunning = family("apiserver_longrunning_requests",
                            "Gauge of all active long-running apiserver requests broken out by verb, "
                            "group, version, resource, scope and component.",
                            ORC_METRIC_GAUGE, lr);
    m->watchers = family("apiserver_registered_watchers",
                         "Number of currently registered watchers for a given resources",
                         ORC_METRIC_GAUGE, gvk);
    m->objects = family("apiserver_storage_objects",
                        "Number of stored objects at the time of last check split by kind.",
                        ORC_METRIC_GAUGE, res);
    m->storage_size = family("apiserver_storage_size_bytes",
                             "Size of the storage database file physically allocated in bytes.",
                             ORC_METRIC_GAUGE, cluster);
    m->db_bytes = gauge("orc_store_db_size_bytes", "Size of this member's SQLite database in bytes.");
    m->applied = gauge("orc_raft_applied_index", "The last Raft log index this member has applied.");
    m->term = gauge("orc_raft_term", "This member's current Raft term.");
    m->revision = gauge("orc_store_revision", "The store's revision as of the last applied entry.");
    m->is_leader = gauge("orc_raft_is_leader", "Whether this member is the Raft leader (1) or not (0).");
    m->has_leader = gauge("orc_raft_has_leader", "Whether a Raft leader is known (1) or not (0).");
}

/* ---- the store at scrape time ---- */

/* "/registry/apps/deployments/" -> "deployments.apps", core -> "pods". */
static void count_prefix(void *arg, const char *prefix, int64_t n)
{
    struct api_metrics *m = arg;
    char group[64], resource[64], label[130];

    if (sscanf(prefix, "/registry/%63[^/]/%63[^/]/", group, resource) != 2) return;
    if (strcmp(group, "core") == 0) snprintf(label, sizeof label, "%s", resource);
    else snprintf(label, sizeof label, "%s.%s", resource, group);
    orc_series_set(orc_metric_withv(m->objects, label), (double)n);
}

static void collect(void *arg)
{
    struct api_server *s = arg;
    struct api_metrics *m = s->metrics;
    struct store_stats st;
    char id[24];

    store_stats(s->st, &st);
    orc_series_set(m->applied, (double)st.applied_index);
    orc_series_set(m->term, (double)st.term);
    orc_series_set(m->revision, (double)st.revision);
    orc_series_set(m->db_bytes, (double)st.db_bytes);
    orc_series_set(m->is_leader, st.is_leader);
    orc_series_set(m->has_leader, st.has_leader);
    snprintf(id, sizeof id, "%" PRIx64, store_id(s->st));
    orc_series_set(orc_metric_withv(m->storage_size, id), (double)st.db_bytes);
    store_prefix_counts(s->st, count_prefix, m);
}

int api_metrics_start(struct api_server *s)
{
    struct api_metrics *m = calloc(1, sizeof *m);

    if (m == NULL) return ORC_ENOMEM;
    register_families(m);
    orc_metrics_process(orc_metrics_default());
    s->metrics = m;
    return 0;
}

void api_metrics_stop(struct api_server *s)
{
    if (s->metrics == NULL) return;
    free(s->metrics);
    s->metrics = NULL;
}

/* ---- each request ---- */

static bool is_connect(const struct api_route *rt)
{
    return rt->type == ROUTE_OBJECT
           && (strcmp(rt->sub, "exec") == 0 || strcmp(rt->sub, "attach") == 0
               || strcmp(rt->sub, "portforward") == 0 || strcmp(rt->sub, "proxy") == 0);
}

/* As the kube-apiserver's CleanScope. */
static const char *scope_of(const struct orc_httpd_req *r, const struct api_route *rt)
{
    if (rt->kind == NULL) return "";
    if (rt->name[0] || (r->method == HTTP_POST && rt->type == ROUTE_COLLECTION)) return "resource";
    if (rt->ns[0]) return "namespace";
    return "cluster";
}

/* As the kube-apiserver reports verbs: LIST for a GET of a collection,
 * WATCH, APPLY for a server-side apply patch, CONNECT for a stream. */
static const char *verb_of(const struct orc_httpd_req *r, const struct api_route *rt, const char *scope)
{
    const char *ct;

    if (rt->kind && is_connect(rt)) return "CONNECT";
    switch (r->method) {
    case HTTP_GET:
    case HTTP_HEAD:
        if (rt->kind && api_query_bool(rt, "watch")) return "WATCH";
        if (rt->kind && strcmp(scope, "resource") != 0) return "LIST";
        return r->method == HTTP_GET ? "GET" : "HEAD";
    case HTTP_PATCH:
        ct = orc_httpd_req_header(r, "content-type");
        return ct && strncmp(ct, "application/apply-patch+yaml", 28) == 0 ? "APPLY" : "PATCH";
    case HTTP_POST: return "POST";
    case HTTP_PUT: return "PUT";
    case HTTP_DELETE: return "DELETE";
    case HTTP_OPTIONS: return "OPTIONS";
    default: return "other";
    }
}

void api_metrics_request_begin(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt)
{
    struct api_metrics *m = s->metrics;
    const char *group = rt->kind ? rt->kind->group : "";

    if (m == NULL) return;
    rt->m_start_ns = uv_hrtime();
    rt->m_scope = scope_of(r, rt);
    rt->m_verb = verb_of(r, rt, rt->m_scope);
    rt->m_counted = true;
    if (strcmp(rt->m_verb, "WATCH") == 0 || strcmp(rt->m_verb, "CONNECT") == 0) {
        rt->m_gauge = orc_metric_withv(m->longrunning, rt->m_verb, group, rt->version,
                                       rt->kind->resource, rt->sub, rt->m_scope, "apiserver");
        if (strcmp(rt->m_verb, "WATCH") == 0)
            rt->m_watchers = orc_metric_withv(m->watchers, group, rt->version, rt->kind->kind);
    } else {
        bool ro = r->method == HTTP_GET || r->method == HTTP_HEAD || r->method == HTTP_OPTIONS;
        rt->m_gauge = ro ? m->readonly : m->mutating;
    }
    orc_series_add(rt->m_gauge, 1);
    orc_series_add(rt->m_watchers, 1);
}

void api_metrics_request_end(struct orc_httpd_req *r)
{
    struct api_server *s = r->server;
    struct api_route *rt = r->state;
    struct api_metrics *m = s ? s->metrics : NULL;
    const char *dry, *group, *resource;
    char code[8];

    if (m == NULL || rt == NULL || !rt->m_counted) return;
    orc_series_add(rt->m_gauge, -1);
    orc_series_add(rt->m_watchers, -1);
    if (r->status == 0) return; /* the client left before any answer */
    dry = api_query_get(rt, "dryRun") ? "All" : "";
    group = rt->kind ? rt->kind->group : "";
    resource = rt->kind ? rt->kind->resource : "";
    snprintf(code, sizeof code, "%d", r->status == 101 ? 101 : r->status);
    orc_series_inc(orc_metric_withv(m->requests, rt->m_verb, dry, group, rt->version, resource, rt->sub,
                                    rt->m_scope, "apiserver", code));
    orc_series_observe(orc_metric_withv(m->duration, rt->m_verb, dry, group, rt->version, resource,
                                        rt->sub, rt->m_scope, "apiserver"),
                       (double)(uv_hrtime() - rt->m_start_ns) / 1e9);
}

void api_handle_metrics(struct api_server *s, struct orc_httpd_req *r)
{
    struct orc_buf out = ORC_BUF_INIT;

    if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
        api_respond_status(r, 405, "MethodNotAllowed", NULL, NULL, NULL, "only GET is allowed on /metrics");
        return;
    }
    /* This member's store, read here on its loop rather than in a collect
     * hook, which would run for every API server of the process. */
    collect(s);
    if (orc_metrics_write(orc_metrics_default(), &out) != 0) {
        orc_buf_free(&out);
        api_respond_error(r, ORC_ENOMEM, "writing metrics");
        return;
    }
    orc_httpd_respond(r, 200, ORC_METRICS_CONTENT_TYPE, out.data ? out.data : "", out.len, NULL);
    orc_buf_free(&out);
}
