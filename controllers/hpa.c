/* hpa.c — ctl_hpa: HorizontalPodAutoscalers (autoscaling/v2), as
 * Kubernetes' podautoscaler runs them: every sync period (15 s) per HPA,
 * the target's replicas and selector from the shared informers, the pods'
 * usage from metrics.k8s.io, a proposal per metric and the largest kept
 * (hpa_calc.c), stabilized and rate-limited, then the target's scale
 * subresource and the HPA's status written, with an Event per rescale. */
#include "controllers/hpa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_util.h"
#include "controllers/hpa_calc.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/quantity.h"
#include "lib/timeutil.h"
#include "lib/url.h"

#define NOT_SYNCED_RETRY_MS 200
#define DEFAULT_SYNC_MS 15000
#define DEFAULT_DOWN_WINDOW_MS 300000
#define DEFAULT_WINDOW_MS 15000 /* a metric without a readable window */

struct memory {
    struct memory *next;
    char key[512];
    struct hpa_memory m;
};

struct hc {
    struct ctl_base b;
    const struct orc_kind *khpa;
    informer *hpas, *pods, *deps, *rss, *stss;
    struct memory *mem;
};

/* One HPA's sync: from the metrics' answer to the status write. */
struct sync {
    struct hc *c;
    char *key;
    json_t *hpa;            /* the cached HPA (a reference) */
    const struct orc_kind *kt;
    char ns[256], target[256];
    int32_t current, desired;
    orc_selector *sel;
    json_t *status;         /* the new status, built as we go */
    char reason[256];       /* the rescale's reason for its Event */
};

/* ---- memory of recommendations and rescales ---- */

static struct hpa_memory *memory_of(struct hc *c, const char *key)
{
    struct memory *m;

    for (m = c->mem; m; m = m->next)
        if (strcmp(m->key, key) == 0) return &m->m;
    if ((m = calloc(1, sizeof *m)) == NULL) return NULL;
    snprintf(m->key, sizeof m->key, "%s", key);
    m->next = c->mem;
    c->mem = m;
    return &m->m;
}

static void forget(struct hc *c, const char *key)
{
    for (struct memory **p = &c->mem; *p; p = &(*p)->next)
        if (strcmp((*p)->key, key) == 0) {
            struct memory *m = *p;
            *p = m->next;
            free(m);
            return;
        }
}

static void hc_free(void *self)
{
    struct hc *c = self;
    while (c->mem) {
        struct memory *m = c->mem;
        c->mem = m->next;
        free(m);
    }
    free(c);
}

/* ---- the sync's end ---- */

static int64_t now_s(const struct hc *c) { return orc_clock_wall(c->b.ctx->clock) / 1000; }

static int64_t sync_ms(const struct hc *c)
{
    unsigned ms = c->b.ctx->opts ? c->b.ctx->opts->hpa_sync_ms : 0;
    return ms ? ms : DEFAULT_SYNC_MS;
}

static void sync_free(struct sync *s)
{
    json_decref(s->hpa);
    json_decref(s->status);
    orc_selector_free(s->sel);
    free(s->key);
    free(s);
}

static void sync_end(struct sync *s, int64_t outcome)
{
    struct hc *c = s->c;
    workqueue_done(c->b.q, s->key, outcome);
    sync_free(s);
    ctl_base_put(&c->b);
}

static void status_written(void *arg, int status, const json_t *body)
{
    struct sync *s = arg;
    if (status != 200 && status != 404 && status != 409 && !s->c->b.stopped)
        log_warn("controllers", "hpa %s: writing its status: %s", s->key, rest_message(status, body));
    /* a 409: the HPA changed meanwhile; look again soon with the new one */
    sync_end(s, status == 409 ? 1000 : sync_ms(s->c));
}

static void cond(struct sync *s, const char *type, const char *st, const char *reason,
                 const char *msg)
{
    ctl_cond_set(s->status, type, st, reason, msg, now_s(s->c), false);
}

/* Writes the status when it changed, then ends the sync. */
static void write_status(struct sync *s)
{
    const json_t *old = json_object_get(s->hpa, "status");
    json_t *obj;

    json_object_set_new(s->status, "currentReplicas", json_integer(s->current));
    json_object_set_new(s->status, "desiredReplicas", json_integer(s->desired));
    json_object_set_new(s->status, "observedGeneration",
                        json_integer(ctl_int(s->hpa, "metadata.generation", 0)));
    if (s->c->b.stopped || (old && json_equal(old, s->status))) {
        sync_end(s, sync_ms(s->c));
        return;
    }
    if ((obj = json_deep_copy(s->hpa)) == NULL
        || json_object_set(obj, "status", s->status) != 0
        || rest_update_status(s->c->b.ctx->api, s->c->khpa, obj, status_written, s) != 0) {
        json_decref(obj);
        sync_end(s, WQ_RETRY);
        return;
    }
    json_decref(obj);
}

/* ---- rescaling ---- */

static void rescaled(void *arg, int status, const json_t *body)
{
    struct sync *s = arg;
    struct hc *c = s->c;
    char msg[512];

    if (c->b.stopped) {
        sync_end(s, WQ_DONE);
        return;
    }
    if (status != 200) {
        snprintf(msg, sizeof msg, "the HPA controller was unable to update the target scale: %s",
                 rest_message(status, body));
        cond(s, "AbleToScale", "False", "FailedUpdateScale", msg);
        events_record(c->b.rec, s->hpa, "Warning", "FailedRescale", "New size: %d; reason: %s; error: %s",
                      (int)s->desired, s->reason, rest_message(status, body));
        s->desired = s->current;
        write_status(s);
        return;
    }
    snprintf(msg, sizeof msg, "the HPA controller was able to update the target scale to %d",
             (int)s->desired);
    cond(s, "AbleToScale", "True", "SucceededRescale", msg);
    events_record(c->b.rec, s->hpa, "Normal", "SuccessfulRescale", "New size: %d; reason: %s",
                  (int)s->desired, s->reason);
    {
        char t[ORC_TIME_LEN];
        orc_time_format(now_s(c), t);
        json_object_set_new(s->status, "lastScaleTime", json_string(t));
    }
    write_status(s);
}

static void rescale(struct sync *s)
{
    json_t *patch = json_pack("{s:{s:i}}", "spec", "replicas", (int)s->desired);

    if (patch == NULL
        || rest_patch(s->c->b.ctx->api, s->kt, s->ns, s->target, "scale",
                      "application/merge-patch+json", patch, rescaled, s) != 0) {
        json_decref(patch);
        sync_end(s, WQ_RETRY);
        return;
    }
    json_decref(patch);
}

/* ---- metrics ---- */

/* informer_by_index callback: the pods the target's selector takes. */
struct pods_acc {
    const orc_selector *sel;
    struct ctl_list l;
};

static void take_pod(void *arg, const json_t *pod)
{
    struct pods_acc *a = arg;
    if (orc_selector_matches(a->sel, orc_json_get(pod, "metadata.labels"))) ctl_list_push(&a->l, pod);
}

/* A pod's usage of `resource` in its PodMetrics item (only `container`
 * when not NULL), milli. */
static int64_t item_usage(const json_t *item, const char *resource, const char *container)
{
    const json_t *cs = json_object_get(item, "containers"), *c;
    int64_t sum = 0, v;
    size_t i;

    json_array_foreach (cs, i, c) {
        const char *q = orc_json_str(json_object_get(c, "usage"), resource);
        const char *name = orc_json_str(c, "name");
        if (container && (!name || strcmp(name, container) != 0)) continue;
        if (q && orc_quantity_parse(q, &v) == 0) sum += v;
    }
    return sum;
}

/* The metric's time and window (ms); a missing window is metrics-server's. */
static int64_t item_time_ms(const json_t *item)
{
    const char *t = orc_json_str(item, "timestamp");
    int64_t sec;
    return t && orc_time_parse(t, &sec) == 0 ? sec * 1000 : 0;
}

static int64_t item_window_ms(const json_t *item)
{
    const char *w = orc_json_str(item, "window");
    uint64_t ms;
    return w && orc_duration_parse(w, &ms) == 0 ? (int64_t)ms : DEFAULT_WINDOW_MS;
}

/* One Resource or ContainerResource metric: its proposal in *out and its
 * entry of status.currentMetrics, or an error message. */
struct metric {
    const char *type, *resource, *container;
    struct hpa_target t;
    char name[160]; /* "cpu resource utilization (percentage of request)" */
};

static int metric_parse(const json_t *spec, struct metric *m, char *msg, size_t mn)
{
    const json_t *src, *target;
    const char *ttype, *avg;

    memset(m, 0, sizeof *m);
    m->type = orc_json_str(spec, "type");
    if (!m->type || (strcmp(m->type, "Resource") != 0 && strcmp(m->type, "ContainerResource") != 0))
        return orc_errf(msg, mn, ORC_EINVAL,
                        "unable to get metric of type %s: orc serves no custom or external metrics API",
                        m->type ? m->type : "(none)");
    src = json_object_get(spec, strcmp(m->type, "Resource") == 0 ? "resource" : "containerResource");
    m->resource = orc_json_str(src, "name");
    m->container = strcmp(m->type, "Resource") == 0 ? NULL : orc_json_str(src, "container");
    target = json_object_get(src, "target");
    ttype = orc_json_str(target, "type");
    if (!m->resource || !ttype) return orc_errf(msg, mn, ORC_EINVAL, "invalid metric source");
    if (strcmp(ttype, "Utilization") == 0) {
        m->t.utilization = true;
        m->t.percent = (int32_t)ctl_int(target, "averageUtilization", 0);
    } else if ((avg = orc_json_str(target, "averageValue")) == NULL
               || orc_quantity_parse(avg, &m->t.average) != 0) {
        return orc_errf(msg, mn, ORC_EINVAL, "invalid metric target for resource %s", m->resource);
    }
    snprintf(m->name, sizeof m->name, "%s %sresource%s", m->resource,
             m->container ? "container " : "",
             m->t.utilization ? " utilization (percentage of request)" : "");
    return 0;
}

static json_t *metric_status(const struct metric *m, const struct hpa_result *r)
{
    char v[64];
    json_t *cur;

    orc_quantity_format(r->average, 0, v, sizeof v);
    cur = json_pack("{s:s}", "averageValue", v);
    if (cur && m->t.utilization) json_object_set_new(cur, "averageUtilization", json_integer(r->utilization));
    if (m->container)
        return json_pack("{s:s, s:{s:s, s:s, s:o}}", "type", m->type, "containerResource", "name",
                         m->resource, "container", m->container, "current", cur);
    return json_pack("{s:s, s:{s:s, s:o}}", "type", m->type, "resource", "name", m->resource,
                     "current", cur);
}

static int metric_propose(struct sync *s, const struct metric *m, const json_t *const *pods,
                          size_t n, const json_t *items, struct hpa_result *r, char *msg, size_t mn)
{
    struct hpa_pod *hp = calloc(n ? n : 1, sizeof *hp);
    int64_t now = orc_clock_wall(s->c->b.ctx->clock);
    int rv = 0;

    if (hp == NULL) return orc_errf(msg, mn, ORC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rv == 0; i++) {
        const json_t *item = json_object_get(items, orc_json_str(pods[i], "metadata.name"));
        hp[i].state = hpa_pod_group(pods[i], strcmp(m->resource, "cpu") == 0, item != NULL,
                                    item_time_ms(item), item_window_ms(item), now);
        hp[i].usage = item ? item_usage(item, m->resource, m->container) : 0;
        hp[i].request = -1;
        if (m->t.utilization && hp[i].state != HPA_POD_IGNORED) {
            char why[300];
            if (hpa_pod_request(pods[i], m->resource, m->container, &hp[i].request, why, sizeof why) != 0)
                rv = orc_errf(msg, mn, ORC_ENOENT, "failed to get %s utilization: %s", m->resource, why);
        }
    }
    if (rv == 0) {
        char why[300] = "";
        if ((rv = hpa_replicas(s->current, hp, n, &m->t, HPA_TOLERANCE, r, why, sizeof why)) != 0)
            orc_errf(msg, mn, rv, "failed to get %s utilization: %s", m->resource, why);
    }
    free(hp);
    return rv;
}

/* The PodMetrics of the answer by pod name. */
static json_t *items_by_name(const json_t *body)
{
    const json_t *items = json_object_get(body, "items"), *it;
    json_t *by = json_object();
    size_t i;

    json_array_foreach (items, i, it) {
        const char *name = orc_json_str(it, "metadata.name");
        if (by && name) json_object_set(by, name, (json_t *)it);
    }
    return by;
}

/* computeReplicasForMetrics: the largest proposal, or -1 with the reason
 * for ScalingActive False in msg. */
static int32_t propose_all(struct sync *s, const json_t *items, char *best, size_t bn, char *msg,
                           size_t mn)
{
    const json_t *specs = orc_json_get(s->hpa, "spec.metrics"), *spec;
    struct pods_acc pa = {s->sel, {0}};
    json_t *current = json_array();
    int32_t replicas = -1;
    size_t i, invalid = 0;

    informer_by_index(s->c->pods, "namespace", s->ns, take_pod, &pa);
    json_array_foreach (specs, i, spec) {
        struct metric m;
        struct hpa_result r;
        char why[400];
        if (pa.l.fail || metric_parse(spec, &m, why, sizeof why) != 0
            || metric_propose(s, &m, pa.l.v, pa.l.n, items, &r, why, sizeof why) != 0) {
            if (pa.l.fail) snprintf(why, sizeof why, "out of memory");
            snprintf(msg, mn, "the HPA was unable to compute the replica count: %s", why);
            invalid++;
            continue;
        }
        if (current) json_array_append_new(current, metric_status(&m, &r));
        if (r.replicas > replicas) {
            replicas = r.replicas;
            snprintf(best, bn, "%s", m.name);
        }
    }
    free(pa.l.v);
    if (current) json_object_set_new(s->status, "currentMetrics", current);
    if (invalid == json_array_size(specs) || (invalid > 0 && replicas < s->current)) return -1;
    return replicas;
}

static void decide(struct sync *s, int32_t proposed, const char *metric)
{
    struct hc *c = s->c;
    struct hpa_behavior b;
    struct hpa_decision d;
    struct hpa_memory *mem = memory_of(c, s->key);
    unsigned dw = c->b.ctx->opts ? c->b.ctx->opts->hpa_downscale_window_ms : 0;
    int32_t min = (int32_t)ctl_int(s->hpa, "spec.minReplicas", 1);
    int32_t max = (int32_t)ctl_int(s->hpa, "spec.maxReplicas", 1);
    int64_t now = orc_clock_wall(c->b.ctx->clock), window = dw ? dw : DEFAULT_DOWN_WINDOW_MS;
    bool given;
    char msg[300];

    if (mem == NULL || hpa_behavior_parse(orc_json_get(s->hpa, "spec.behavior"), (int32_t)(window / 1000),
                                          &b, &given) != 0) {
        s->desired = s->current;
        write_status(s);
        return;
    }
    snprintf(msg, sizeof msg, "the HPA was able to successfully calculate a replica count from %s", metric);
    cond(s, "ScalingActive", "True", "ValidMetricFound", msg);
    hpa_normalize(mem, given ? &b : NULL, s->current, proposed, min, max, window, now, &d);
    cond(s, "AbleToScale", "True", d.able_reason, d.able_msg);
    cond(s, "ScalingLimited", d.limited ? "True" : "False", d.limit_reason, d.limit_msg);
    s->desired = d.replicas;
    if (s->desired == s->current) {
        write_status(s);
        return;
    }
    if (s->desired > s->current) snprintf(s->reason, sizeof s->reason, "%s above target", metric);
    else snprintf(s->reason, sizeof s->reason, "All metrics below target");
    hpa_record_scale(mem, given ? &b : NULL, s->current, s->desired, now);
    rescale(s);
}

static void on_metrics(void *arg, int status, const json_t *body)
{
    struct sync *s = arg;
    json_t *items;
    char best[160] = "", msg[600] = "";
    int32_t proposed;

    if (s->c->b.stopped) {
        sync_end(s, WQ_DONE);
        return;
    }
    items = status == 200 ? items_by_name(body) : NULL;
    proposed = items ? propose_all(s, items, best, sizeof best, msg, sizeof msg) : -1;
    json_decref(items);
    if (status != 200)
        snprintf(msg, sizeof msg, "the HPA was unable to compute the replica count: unable to get "
                                  "metrics from the resource metrics API: %s", rest_message(status, body));
    if (proposed < 0) {
        cond(s, "ScalingActive", "False", "FailedGetResourceMetric", msg);
        events_record(s->c->b.rec, s->hpa, "Warning", "FailedGetResourceMetric", "%s", msg);
        s->desired = (int32_t)ctl_int(s->hpa, "status.desiredReplicas", s->current);
        write_status(s);
        return;
    }
    decide(s, proposed, best);
}

static void fetch_metrics(struct sync *s)
{
    struct orc_buf sel = ORC_BUF_INIT, q = ORC_BUF_INIT, path = ORC_BUF_INIT;
    int rv = orc_selector_string(s->sel, &sel);

    if (rv == 0) rv = orc_url_escape(sel.data ? sel.data : "", &q);
    if (rv == 0)
        rv = orc_buf_printf(&path, "/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods?labelSelector=%s",
                            s->ns, q.data ? q.data : "");
    if (rv == 0) rv = rest_call(s->c->b.ctx->api, "GET", path.data, NULL, NULL, 0, on_metrics, s);
    orc_buf_free(&sel);
    orc_buf_free(&q);
    orc_buf_free(&path);
    if (rv != 0) sync_end(s, WQ_RETRY);
}

/* ---- reconcile ---- */

/* The target's kind and its cached object, or a message why not. */
static const json_t *find_target(struct sync *s, char *msg, size_t mn)
{
    const json_t *ref = orc_json_get(s->hpa, "spec.scaleTargetRef");
    const char *kind = orc_json_str(ref, "kind"), *name = orc_json_str(ref, "name");
    const char *api = orc_json_str(ref, "apiVersion");
    informer *inf = NULL;
    const json_t *obj;

    if (kind && api && strncmp(api, "apps/", 5) == 0) {
        if (strcmp(kind, "Deployment") == 0) inf = s->c->deps, s->kt = orc_kind_lookup("deployments.apps");
        else if (strcmp(kind, "ReplicaSet") == 0) inf = s->c->rss, s->kt = orc_kind_lookup("replicasets.apps");
        else if (strcmp(kind, "StatefulSet") == 0) inf = s->c->stss, s->kt = orc_kind_lookup("statefulsets.apps");
    }
    if (inf == NULL || name == NULL) {
        snprintf(msg, mn, "the HPA controller was unable to get the target's current scale: no "
                          "scale subresource for %s %s", api ? api : "", kind ? kind : "");
        return NULL;
    }
    snprintf(s->target, sizeof s->target, "%s", name);
    if ((obj = informer_get(inf, s->ns, name)) == NULL)
        snprintf(msg, mn, "the HPA controller was unable to get the target's current scale: "
                          "%s.apps \"%s\" not found", s->kt->resource, name);
    return obj;
}

/* The target's replicas against min/max; false when the sync ends here
 * (status written) rather than with the metrics. */
static bool needs_metrics(struct sync *s)
{
    int32_t min = (int32_t)ctl_int(s->hpa, "spec.minReplicas", 1);
    int32_t max = (int32_t)ctl_int(s->hpa, "spec.maxReplicas", 1);

    if (s->current == 0 && min != 0) {
        cond(s, "ScalingActive", "False", "ScalingDisabled",
             "scaling is disabled since the replica count of the target is zero");
        s->desired = 0;
        write_status(s);
        return false;
    }
    if (s->current <= max && s->current >= min) return true;
    s->desired = s->current > max ? max : min;
    snprintf(s->reason, sizeof s->reason, "Current number of replicas %s Spec.%s",
             s->current > max ? "above" : "below", s->current > max ? "MaxReplicas" : "MinReplicas");
    cond(s, "ScalingLimited", "True", s->current > max ? "TooManyReplicas" : "TooFewReplicas",
         s->current > max ? "the desired replica count is more than the maximum replica count"
                          : "the desired replica count is less than the minimum replica count");
    rescale(s);
    return false;
}

static void reconcile(void *arg, const char *key)
{
    struct hc *c = arg;
    char name[256], msg[512] = "";
    const json_t *hpa, *target;
    struct sync *s;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    if ((s = calloc(1, sizeof *s)) == NULL || (s->key = strdup(key)) == NULL) {
        free(s);
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    s->c = c;
    ctl_base_hold(&c->b);
    if (ctl_key_split(key, s->ns, sizeof s->ns, name, sizeof name) != 0
        || (hpa = informer_get(c->hpas, s->ns, name)) == NULL) {
        forget(c, key);
        sync_end(s, WQ_DONE);
        return;
    }
    s->hpa = json_incref((json_t *)hpa);
    s->status = json_is_object(json_object_get(hpa, "status"))
                    ? json_deep_copy(json_object_get(hpa, "status")) : json_object();
    if (s->status == NULL) {
        sync_end(s, WQ_RETRY);
        return;
    }
    if ((target = find_target(s, msg, sizeof msg)) == NULL) {
        cond(s, "AbleToScale", "False", "FailedGetScale", msg);
        s->current = (int32_t)ctl_int(hpa, "status.currentReplicas", 0);
        s->desired = (int32_t)ctl_int(hpa, "status.desiredReplicas", 0);
        write_status(s);
        return;
    }
    s->current = (int32_t)ctl_int(target, "spec.replicas", 1);
    cond(s, "AbleToScale", "True", "SucceededGetScale",
         "the HPA controller was able to get the target's current scale");
    if (orc_selector_from_json(orc_json_get(target, "spec.selector"), &s->sel, msg, sizeof msg) != 0) {
        cond(s, "ScalingActive", "False", "InvalidSelector", msg);
        s->desired = s->current;
        write_status(s);
        return;
    }
    if (needs_metrics(s)) fetch_metrics(s);
}

/* ---- informer handlers ---- */

static void on_hpa(void *arg, const json_t *hpa) { ctl_base_enqueue(&((struct hc *)arg)->b, hpa); }

/* Status writes (ours) come back as updates: only a new spec is looked at
 * at once; the sync period brings the rest. */
static void on_hpa_update(void *arg, const json_t *old, const json_t *hpa)
{
    if (ctl_int(old, "metadata.generation", 0) != ctl_int(hpa, "metadata.generation", 0)) on_hpa(arg, hpa);
}

static void on_hpa_delete(void *arg, const json_t *hpa)
{
    struct hc *c = arg;
    struct orc_buf key = ORC_BUF_INIT;
    if (ctl_key_of(hpa, &key) == 0) forget(c, key.data);
    orc_buf_free(&key);
}

static int hpa_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "horizontalpodautoscaling",
                                              .component = "horizontal-pod-autoscaler",
                                              .reconcile = reconcile,
                                              .free_self = hc_free};
    static const struct informer_cbs cbs = {on_hpa, on_hpa_update, on_hpa_delete, NULL};
    struct hc *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->khpa = &orc_kind_table[ORC_K_HPA]; /* v2, the stored version */
    const struct ctl_watch w[] = {
        {c->khpa, &cbs, &c->hpas},
        {orc_kind_lookup("pods"), NULL, &c->pods},
        {orc_kind_lookup("deployments.apps"), NULL, &c->deps},
        {orc_kind_lookup("replicasets.apps"), NULL, &c->rss},
        {orc_kind_lookup("statefulsets.apps"), NULL, &c->stss},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_hpa = {"horizontalpodautoscaling", hpa_start, ctl_base_stop_state};
