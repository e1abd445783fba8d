/* audit.c — audit Events for the API's requests: the request's attributes
 * as Kubernetes' RequestInfo names them (verb, objectRef), its level from
 * the policy, an Audit-ID on every answer, and the Event line for each
 * stage (ResponseStarted for long-running requests, ResponseComplete for
 * all) handed to the writer (audit_log.c). Never a body of a Secret or a
 * token request, nor any credential. */
#include <ctype.h>
#include <jansson.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/audit.h"
#include "apiserver/audit_int.h"
#include "apiserver/proto.h"
#include "apiserver/server.h"
#include "apiserver/user.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "lib/timeutil.h"

#define DEFAULT_BUFFER (8u << 20)
#define POLICY_MAX (1u << 20)
#define DROP_LOG_MS 10000
#define PATH_LEN 1024

struct api_audit {
    struct api_audit_policy *policy;
    struct audit_log *log;
    unsigned long long dropped, dropped_said;
    uint64_t drop_said_ms;
    size_t bound;
};

/* One request followed: what the policy said and what the answer was. */
struct audit_req {
    struct api_audit *a;
    char id[65];
    enum api_audit_level level;
    unsigned omit;
    bool long_running;
    char verb[24];
    char peer[48]; /* taken at the start: a gone client has none */
    char reason[64];
    char message[512];
    json_t *annotations; /* added by admission (api_audit_annotate), or NULL */
};

static const char *const level_names[] = {"None", "Metadata", "Request", "RequestResponse"};

/* ---- attributes ---- */

static bool resource_request(const struct api_route *rt)
{
    return rt && rt->kind && (rt->type == ROUTE_COLLECTION || rt->type == ROUTE_OBJECT);
}

static void verb_of(const struct orc_httpd_req *r, const struct api_route *rt, char *out, size_t n)
{
    bool coll = rt->type == ROUTE_COLLECTION;
    const char *v = NULL;

    if (resource_request(rt)) {
        switch (r->method) {
        case HTTP_GET:
        case HTTP_HEAD: v = api_query_bool(rt, "watch") ? "watch" : coll ? "list" : "get"; break;
        case HTTP_POST: v = "create"; break;
        case HTTP_PUT: v = "update"; break;
        case HTTP_PATCH: v = "patch"; break;
        case HTTP_DELETE: v = coll ? "deletecollection" : "delete"; break;
        default: break;
        }
    }
    if (v) {
        snprintf(out, n, "%s", v);
        return;
    }
    snprintf(out, n, "%s", llhttp_method_name((llhttp_method_t)r->method));
    for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
}

static void path_of(const struct orc_httpd_req *r, char *out, size_t n)
{
    const char *t = r->target ? r->target : "";
    size_t len = strcspn(t, "?");

    snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), t);
}

static void attrs_of(const struct orc_httpd_req *r, const struct api_route *rt, const char *verb,
                     const char *path, struct api_audit_attrs *at)
{
    const struct api_user *u = api_req_user(r);
    bool res = resource_request(rt);

    *at = (struct api_audit_attrs){
        .user = u ? u->name : NULL,
        .groups = u ? u->groups : NULL,
        .n_groups = u ? u->n_groups : 0,
        .verb = verb,
        .resource_request = res,
        .ns = res ? rt->ns : "",
        .group = res ? rt->kind->group : "",
        .resource = res ? rt->kind->resource : "",
        .sub = res ? rt->sub : "",
        .name = res ? rt->name : "",
        .path = path,
    };
    /* Kubernetes' RequestInfo: a namespace's own requests are in it. */
    if (res && strcmp(rt->kind->resource, "namespaces") == 0 && rt->name[0]) at->ns = rt->name;
}

static bool long_running(const struct api_audit_attrs *at)
{
    static const char *const subs[] = {"log", "exec", "attach", "portforward", "proxy"};

    if (strcmp(at->verb, "watch") == 0 || strcmp(at->verb, "proxy") == 0) return true;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(at->sub, subs[i]) == 0) return true;
    return false;
}

/* Bodies that carry credentials are never logged, whatever the level. */
static bool body_secret(const struct api_audit_attrs *at)
{
    return strcmp(at->resource, "secrets") == 0 || strcmp(at->resource, "tokenreviews") == 0
        || strcmp(at->sub, "token") == 0 || !at->resource_request;
}

/* ---- the event ---- */

static void time_us(int64_t us, char out[40])
{
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + 19, 40 - 19, ".%06dZ", (int)(us % 1000000));
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* As Go prints a time.Duration: "1.234567ms", "2.5s". */
static void go_duration(int64_t us, char *out, size_t n)
{
    if (us < 0) us = 0;
    if (us < 1000) snprintf(out, n, "%lldµs", (long long)us);
    else if (us < 1000000) snprintf(out, n, "%lld.%03lldms", (long long)(us / 1000), (long long)(us % 1000));
    else snprintf(out, n, "%lld.%06llds", (long long)(us / 1000000), (long long)(us % 1000000));
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v) json_object_set_new(o, k, json_string(v));
}

static json_t *user_json(const struct api_user *u)
{
    json_t *o = json_object(), *g;

    if (o == NULL || u == NULL) return o;
    set_str(o, "username", u->name);
    set_str(o, "uid", u->uid);
    if ((g = json_array()) != NULL) {
        for (size_t i = 0; i < u->n_groups; i++) json_array_append_new(g, json_string(u->groups[i]));
        json_object_set_new(o, "groups", g);
    }
    return o;
}

static json_t *object_ref(const struct api_route *rt, const struct api_audit_attrs *at)
{
    json_t *o = json_object();

    if (o == NULL) return NULL;
    set_str(o, "resource", at->resource);
    set_str(o, "namespace", at->ns);
    set_str(o, "name", at->name);
    set_str(o, "apiGroup", at->group);
    set_str(o, "apiVersion", rt->version[0] ? rt->version : rt->kind->version);
    set_str(o, "subresource", at->sub);
    return o;
}

static json_t *response_status(const struct orc_httpd_req *r, const struct audit_req *q,
                               const struct api_audit_attrs *at)
{
    json_t *o = json_pack("{s:{}}", "metadata");

    if (o == NULL) return NULL;
    if (r->status >= 400 || q->reason[0]) {
        json_object_set_new(o, "status", json_string("Failure"));
        /* a Secret's validation messages may quote its values */
        if (strcmp(at->resource, "secrets") != 0) set_str(o, "message", q->message);
        set_str(o, "reason", q->reason);
    }
    json_object_set_new(o, "code", json_integer(r->status));
    return o;
}

static void add_request_object(json_t *ev, const struct orc_httpd_req *r, const struct api_audit_attrs *at)
{
    json_t *body;

    if (r->body.len == 0 || body_secret(at)) return;
    /* client-go's typed clients send protobuf ("k8s\0" + runtime.Unknown) */
    if (r->body.len > 4 && memcmp(r->body.data, "k8s", 4) == 0) {
        int status;
        char msg[8];
        if (api_pb_decode_body(r->body.data, r->body.len, &body, &status, msg, sizeof msg) != 0) return;
    } else {
        body = orc_json_loadb(r->body.data, r->body.len, 0, NULL);
    }
    if (json_is_object(body) || json_is_array(body)) json_object_set_new(ev, "requestObject", body);
    else json_decref(body);
}

static json_t *event_json(const struct orc_httpd_req *r, const struct audit_req *q, const char *stage)
{
    const struct api_route *rt = r->state;
    struct api_audit_attrs at;
    char path[PATH_LEN], recv[40], now[40], lat[40];
    const char *ua = orc_httpd_req_header(r, "user-agent");
    int64_t t = now_us();
    json_t *ev;

    path_of(r, path, sizeof path);
    attrs_of(r, rt, q->verb, path, &at);
    time_us(r->received_us, recv);
    time_us(t, now);
    go_duration(t - r->received_us, lat, sizeof lat);
    ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[]}", "kind", "Event", "apiVersion",
                   "audit.k8s.io/v1", "level", level_names[q->level], "auditID", q->id, "stage", stage,
                   "requestURI", r->target ? r->target : "", "verb", q->verb, "user",
                   user_json(api_req_user(r)), "sourceIPs");
    if (ev == NULL) return NULL;
    if (q->peer[0]) json_array_append_new(json_object_get(ev, "sourceIPs"), json_string(q->peer));
    set_str(ev, "userAgent", ua);
    if (at.resource_request) json_object_set_new(ev, "objectRef", object_ref(rt, &at));
    if (strcmp(stage, "ResponseStarted") != 0 || r->status)
        json_object_set_new(ev, "responseStatus", response_status(r, q, &at));
    if (q->level >= AUDIT_REQUEST) add_request_object(ev, r, &at);
    json_object_set_new(ev, "requestReceivedTimestamp", json_string(recv));
    json_object_set_new(ev, "stageTimestamp", json_string(now));
    json_t *ann = json_pack("{s:s}", "apiserver.latency.k8s.io/total", lat);
    if (ann && q->annotations) json_object_update(ann, q->annotations);
    json_object_set_new(ev, "annotations", ann);
    return ev;
}

static void note_drop(struct api_audit *a)
{
    uint64_t ms = orc_time_mono_ms();

    a->dropped++;
    if (a->drop_said_ms && ms - a->drop_said_ms < DROP_LOG_MS) return;
    log_warn("audit", "the audit log's buffer (%zu KiB) is full, the disk is not keeping up: dropped "
             "%llu events (%llu since the last report); new events are dropped until it drains",
             a->bound / 1024, a->dropped, a->dropped - a->dropped_said);
    a->drop_said_ms = ms;
    a->dropped_said = a->dropped;
}

static void emit(struct orc_httpd_req *r, struct audit_req *q, const char *stage)
{
    json_t *ev = event_json(r, q, stage);
    struct orc_buf line = {0};

    if (ev && orc_json_dump(ev, &line) == 0 && orc_buf_append(&line, "\n", 1) == 0) {
        if (audit_log_put(q->a->log, line.data, line.len) != 0) note_drop(q->a);
    } else {
        log_warn("audit", "cannot encode an audit event (out of memory): dropped");
        q->a->dropped++;
    }
    orc_buf_free(&line);
    json_decref(ev);
}

/* ---- request hooks ---- */

static void on_started(struct orc_httpd_req *r)
{
    struct audit_req *q = r->observer;

    if (q->long_running && !(q->omit & AUDIT_STAGE_STARTED)) emit(r, q, "ResponseStarted");
}

static void on_done(struct orc_httpd_req *r)
{
    struct audit_req *q = r->observer;

    if (!(q->omit & AUDIT_STAGE_COMPLETE)) emit(r, q, "ResponseComplete");
    r->observer = NULL;
    r->on_started = NULL;
    r->on_done = NULL;
    json_decref(q->annotations);
    free(q);
}

/* A client's own Audit-ID is kept when it is short and printable. */
static void audit_id(const struct orc_httpd_req *r, char out[65])
{
    const char *h = orc_httpd_req_header(r, "audit-id");
    size_t n = h ? strlen(h) : 0;

    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '_' && h[i] != '.') n = 0;
    if (n > 0 && n <= 64) snprintf(out, 65, "%s", h);
    else orc_uuid(out);
}

void api_audit_request(struct api_audit *a, struct orc_httpd_req *r, const struct api_route *rt)
{
    struct audit_req *q;
    struct api_audit_attrs at;
    char path[PATH_LEN];

    if (a == NULL) return;
    if ((q = calloc(1, sizeof *q)) == NULL) {
        a->dropped++;
        return;
    }
    q->a = a;
    audit_id(r, q->id);
    snprintf(q->peer, sizeof q->peer, "%s", orc_httpd_req_peer(r));
    orc_httpd_req_add_header(r, "Audit-ID", 8, q->id, strlen(q->id));
    verb_of(r, rt, q->verb, sizeof q->verb);
    path_of(r, path, sizeof path);
    attrs_of(r, rt, q->verb, path, &at);
    q->level = api_audit_policy_eval(a->policy, &at, &q->omit);
    q->long_running = long_running(&at);
    if (q->level == AUDIT_NONE) {
        free(q);
        return;
    }
    r->observer = q;
    r->on_started = on_started;
    r->on_done = on_done;
}

void api_audit_note_status(struct orc_httpd_req *r, const char *reason, const char *message)
{
    struct audit_req *q = r->on_done == on_done ? r->observer : NULL;

    if (q == NULL) return;
    snprintf(q->reason, sizeof q->reason, "%s", reason ? reason : "");
    snprintf(q->message, sizeof q->message, "%s", message ? message : "");
}

void api_audit_annotate(struct orc_httpd_req *r, const char *key, const char *value)
{
    struct audit_req *q = r->on_done == on_done ? r->observer : NULL;

    if (q == NULL) return;
    if (q->annotations == NULL && (q->annotations = json_object()) == NULL) return;
    /* an annotation lost to memory only makes the event poorer */
    json_object_set_new(q->annotations, key, json_string(value));
}

unsigned long long api_audit_dropped(const struct api_audit *a) { return a ? a->dropped : 0; }

/* ---- start and stop ---- */

static int read_policy(const char *file, struct api_audit_policy **out, char *errmsg)
{
    struct orc_buf text = {0};
    char err[200];
    int rv = orc_file_read(file, POLICY_MAX, &text);

    if (rv != 0) {
        snprintf(errmsg, 256, "audit policy %.180s: %s", file, orc_strerror(rv));
        return rv;
    }
    rv = api_audit_policy_parse(text.data ? text.data : "", text.len, out, err, sizeof err);
    if (rv != 0) snprintf(errmsg, 256, "audit policy %.60s: %.180s", file, err);
    orc_buf_free(&text);
    return rv;
}

int api_audit_start(const struct api_audit_config *cfg, struct api_audit **out, char *errmsg)
{
    struct api_audit *a = calloc(1, sizeof *a);
    struct audit_log_config lc = {
        .path = cfg->log_path,
        .max_bytes = (uint64_t)cfg->max_size_mb << 20,
        .max_backup = cfg->max_backup,
        .max_age_days = cfg->max_age_days,
        .bound = cfg->buffer_bytes ? cfg->buffer_bytes : DEFAULT_BUFFER,
    };
    int rv = 0;

    if (a == NULL) return ORC_ENOMEM;
    a->bound = lc.bound;
    if (cfg->policy_file) rv = read_policy(cfg->policy_file, &a->policy, errmsg);
    if (rv == 0) rv = audit_log_open(&lc, &a->log, errmsg);
    if (rv != 0) {
        api_audit_policy_free(a->policy);
        free(a);
        return rv;
    }
    *out = a;
    return 0;
}

void api_audit_stop(struct api_audit *a)
{
    if (a == NULL) return;
    audit_log_close(a->log);
    if (a->dropped) log_warn("audit", "%llu audit events were dropped in all", a->dropped);
    api_audit_policy_free(a->policy);
    free(a);
}
