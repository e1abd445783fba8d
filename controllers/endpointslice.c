/* endpointslice.c — the EndpointSlice controller's wiring (the decisions
 * are in endpointslice_plan.c): Services, pods and slices feed the queue
 * with Service keys ("ns/name"); a step computes the slices and the legacy
 * Endpoints the Service should have from the cached pods and writes the
 * difference. Creates and deletes of slices are expectations (Kubernetes'
 * endpointSliceTracker in spirit): while some are not seen in the cache the
 * Service is looked at again shortly instead of acted on, so a slow watch
 * never makes duplicate slices. A Service without a selector (its
 * endpoints are the user's) or of type ExternalName is left alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "controllers/endpointslice.h"
#include "controllers/expectations.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "endpointslice"
#define KEY_MAX 512
#define NOT_SYNCED_MS 100
#define UNSEEN_RETRY_MS 100
#define SLICE_INDEX "service-name"

struct eps_ctl {
    struct ctl_base b;
    informer *svcs, *pods, *slices, *eps;
    ctl_expectations *exp;
};

static const struct orc_kind *kind(enum orc_kind_id id)
{
    return &orc_kind_table[id];
}

static void eps_free(void *self)
{
    struct eps_ctl *c = self;
    ctl_exp_free(c->exp);
    free(c);
}

/* ---- handlers ---- */

static void enqueue(struct eps_ctl *c, const char *ns, const char *name)
{
    char key[KEY_MAX];
    if (c->b.stopped || !ns || !name) return;
    snprintf(key, sizeof key, "%s/%s", ns, name);
    workqueue_add(c->b.q, key);
}

static void on_svc(void *arg, const json_t *obj)
{
    ctl_base_enqueue(&((struct eps_ctl *)arg)->b, obj);
}
static void on_svc_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    on_svc(arg, obj);
}

struct pod_ev {
    struct eps_ctl *c;
    const json_t *pod, *old;
};

static void enqueue_selecting(void *arg, const json_t *svc)
{
    struct pod_ev *e = arg;
    if (eps_selects(svc, e->pod) || (e->old && eps_selects(svc, e->old)))
        enqueue(e->c, orc_json_str(svc, "metadata.namespace"), orc_json_str(svc, "metadata.name"));
}

/* ---- label-value indexes ----
 * A Service selects a pod only if each of its selector's values is one of
 * the pod's label values: pods are indexed by their label values and
 * Services by their selector values, so a pod's change looks at the
 * Services sharing one of its values and a Service's step at the pods
 * holding its rarest value, not at a whole namespace (1,000 Services of
 * 10,000 pods: 10^7 selector checks otherwise). An object with more
 * values than an index keeps goes to the bucket MANY, looked at always. */
#define POD_VALUES "eps-label-values"
#define SVC_VALUES "eps-selector-values"
static const char MANY[] = "\001many";

static size_t index_values(const json_t *obj, const char *path, const char **values, size_t max)
{
    const json_t *m = orc_json_get(obj, path), *v;
    const char *k;
    size_t n = 0;
    if (max == 0 || !json_is_object(m)) return 0;
    if (json_object_size(m) > max) {
        values[0] = MANY;
        return 1;
    }
    json_object_foreach ((json_t *)m, k, v)
        if (json_is_string(v)) values[n++] = json_string_value(v);
    return n;
}

static size_t index_pod_values(const json_t *obj, const char **values, size_t max)
{
    return index_values(obj, "metadata.labels", values, max);
}

static size_t index_svc_values(const json_t *obj, const char **values, size_t max)
{
    return index_values(obj, "spec.selector", values, max);
}

static void enqueue_selecting_in_ns(void *arg, const json_t *svc)
{
    struct pod_ev *e = arg;
    const char *ns = orc_json_str(svc, "metadata.namespace"), *pns = orc_json_str(e->pod ? e->pod : e->old,
                                                                                   "metadata.namespace");
    if (ns && pns && strcmp(ns, pns) == 0) enqueue_selecting(arg, svc);
}

/* The Services sharing a label value of `pod` (may be NULL). */
static void services_by_values(struct eps_ctl *c, const json_t *pod, struct pod_ev *e)
{
    const json_t *labels = orc_json_get(pod, "metadata.labels"), *v;
    const char *k;
    json_object_foreach ((json_t *)labels, k, v)
        if (json_is_string(v)) informer_by_index(c->svcs, SVC_VALUES, json_string_value(v), enqueue_selecting_in_ns, e);
}

/* Kubernetes' GetPodServiceMemberships: every Service of the namespace
 * selecting the pod (before or after the change). */
static void pod_changed(struct eps_ctl *c, const json_t *old, const json_t *pod)
{
    struct pod_ev e = {c, pod, old};
    if (c->b.stopped || !orc_json_str(pod ? pod : old, "metadata.namespace")) return;
    services_by_values(c, pod, &e);
    if (old) services_by_values(c, old, &e);
    informer_by_index(c->svcs, SVC_VALUES, MANY, enqueue_selecting_in_ns, &e);
}

static void on_pod(void *arg, const json_t *obj)
{
    pod_changed(arg, NULL, obj);
}

/* Only what the endpoints show matters (not, e.g., container restarts). */
static void on_pod_update(void *arg, const json_t *old, const json_t *obj)
{
    static const char *const paths[] = {"status.podIP", "status.phase", "metadata.labels",
                                        "metadata.deletionTimestamp", "spec.nodeName",
                                        "spec.hostname", "spec.subdomain"};
    bool changed = ctl_pod_ready(old) != ctl_pod_ready(obj);
    for (size_t i = 0; i < ORC_ARRAY_LEN(paths) && !changed; i++)
        changed = !json_equal(orc_json_get(old, paths[i]), orc_json_get(obj, paths[i]));
    if (changed) pod_changed(arg, old, obj);
}

static bool managed(const json_t *slice)
{
    const json_t *labels = orc_json_get(slice, "metadata.labels");
    const char *m = json_string_value(json_object_get(labels, EPS_LABEL_MANAGED_BY));
    return m && strcmp(m, EPS_MANAGER) == 0;
}

static const char *service_of(const json_t *slice)
{
    return json_string_value(json_object_get(orc_json_get(slice, "metadata.labels"),
                                             EPS_LABEL_SERVICE));
}

static void slice_event(struct eps_ctl *c, const json_t *slice, bool added, bool deleted)
{
    char key[KEY_MAX];
    const char *svc = service_of(slice), *ns = orc_json_str(slice, "metadata.namespace");
    if (!svc || !ns || !managed(slice)) return;
    snprintf(key, sizeof key, "%s/%s", ns, svc);
    if (added) ctl_exp_observe_add(c->exp, key);
    if (deleted) ctl_exp_observe_del(c->exp, key);
    enqueue(c, ns, svc); /* someone else's edit is undone */
}

static void on_slice_add(void *arg, const json_t *obj) { slice_event(arg, obj, true, false); }
static void on_slice_delete(void *arg, const json_t *obj) { slice_event(arg, obj, false, true); }
static void on_slice_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    slice_event(arg, obj, false, false);
}

static size_t index_service_name(const json_t *obj, const char **values, size_t max)
{
    const char *s = service_of(obj);
    if (!s || max == 0) return 0;
    values[0] = s;
    return 1;
}

/* ---- the calls of one step ---- */

static void step_release(void *arg)
{
    ctl_base_put(&((struct eps_ctl *)arg)->b);
}

struct call {
    struct ctl_step *st;
    bool create, del;
};

static void answered(void *arg, int status, const json_t *body)
{
    struct call *k = arg;
    struct ctl_step *st = k->st;
    struct eps_ctl *c = st->owner;
    bool ok = status >= 200 && status < 300;

    if (!ok && k->del && status == 404) ok = true;
    if (!ok) {
        /* A create or delete that failed will not be seen. */
        if (k->create) ctl_exp_observe_add(c->exp, st->key);
        if (k->del) ctl_exp_observe_del(c->exp, st->key);
        st->op.failed = true;
        if (status != 409 && !c->b.stopped)
            log_warn(MOD, "%s: %s", st->key, rest_message(status, body));
    }
    free(k);
    ctl_step_put(st);
}

static void issue(struct call *k, int rv)
{
    if (rv == 0) return;
    answered(k, 0, NULL);
}

static struct call *call_new(struct ctl_step *st, bool create, bool del)
{
    struct call *k = calloc(1, sizeof *k);
    if (!k) {
        st->op.failed = true;
        return NULL;
    }
    k->st = st;
    k->create = create;
    k->del = del;
    ctl_step_hold(st);
    return k;
}

static void write_slices(struct eps_ctl *c, struct ctl_step *st, const json_t *plan,
                         const char *ns)
{
    http_client *api = c->b.ctx->api;
    const json_t *o;
    size_t i;
    struct call *k;

    json_array_foreach(json_object_get(plan, "update"), i, o)
        if ((k = call_new(st, false, false)))
            issue(k, rest_update(api, kind(ORC_K_ENDPOINTSLICE), o, answered, k));
    json_array_foreach(json_object_get(plan, "create"), i, o)
        if ((k = call_new(st, true, false)))
            issue(k, rest_create(api, kind(ORC_K_ENDPOINTSLICE), ns, o, answered, k));
    json_array_foreach(json_object_get(plan, "delete"), i, o)
        if ((k = call_new(st, false, true)))
            issue(k, rest_delete(api, kind(ORC_K_ENDPOINTSLICE), ns, json_string_value(o),
                                     NULL, answered, k));
}

/* The legacy Endpoints named as the Service, written when it differs. */
static void write_endpoints(struct eps_ctl *c, struct ctl_step *st, const json_t *svc,
                            const json_t *pods, const char *ns, const char *name)
{
    const json_t *cur = informer_get(c->eps, ns, name);
    json_t *subsets = eps_subsets(svc, pods), *next;
    struct call *k;

    if (!subsets) {
        st->op.failed = true;
        return;
    }
    const json_t *have = cur ? orc_json_get(cur, "subsets") : NULL;
    if (cur && (have ? json_equal((json_t *)have, subsets) : json_array_size(subsets) == 0)) {
        json_decref(subsets);
        return;
    }
    if (cur) {
        next = json_deep_copy(cur);
        json_object_set_new(next, "subsets", subsets);
    } else {
        json_t *labels = json_deep_copy(orc_json_get(svc, "metadata.labels"));
        next = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:o}", "apiVersion", "v1", "kind",
                         "Endpoints", "metadata", "name", name, "namespace", ns, "labels",
                         labels ? labels : json_object(), "subsets", subsets);
    }
    if (next && (k = call_new(st, false, false)))
        issue(k, cur ? rest_update(c->b.ctx->api, kind(ORC_K_ENDPOINTS), next, answered, k)
                         : rest_create(c->b.ctx->api, kind(ORC_K_ENDPOINTS), ns, next, answered, k));
    json_decref(next);
}

struct selected {
    json_t *out;
    const json_t *svc;
    const char *ns;
};

/* Only the pods of the namespace the Service selects. */
static void append_selected(void *arg, const json_t *pod)
{
    struct selected *s = arg;
    const char *ns = orc_json_str(pod, "metadata.namespace");
    if (ns && strcmp(ns, s->ns) == 0 && eps_selects(s->svc, pod)) json_array_append(s->out, (json_t *)pod);
}

/* The pods holding the selector's rarest value, then those in MANY. */
static void selected_pods(struct eps_ctl *c, struct selected *sel)
{
    const json_t *selector = orc_json_get(sel->svc, "spec.selector"), *v;
    const char *k, *best = NULL;
    size_t least = (size_t)-1;
    json_object_foreach ((json_t *)selector, k, v) {
        size_t n = json_is_string(v) ? informer_index_count(c->pods, POD_VALUES, json_string_value(v)) : 0;
        if (json_is_string(v) && n < least) {
            least = n;
            best = json_string_value(v);
        }
    }
    if (!best) return; /* no selector: no pods */
    informer_by_index(c->pods, POD_VALUES, best, append_selected, sel);
    informer_by_index(c->pods, POD_VALUES, MANY, append_selected, sel);
}

static void append_managed(void *arg, const json_t *obj)
{
    if (managed(obj)) json_array_append((json_t *)arg, (json_t *)obj);
}

struct svc_slices {
    json_t *out;
    const char *ns;
};

static void append_in_ns(void *arg, const json_t *obj)
{
    struct svc_slices *s = arg;
    const char *ns = orc_json_str(obj, "metadata.namespace");
    if (ns && strcmp(ns, s->ns) == 0) append_managed(s->out, obj);
}

static int step(struct eps_ctl *c, const char *key, const char *ns, const char *name,
                const json_t *svc)
{
    json_t *pods = json_array(), *slices = json_array(), *desired = NULL, *plan = NULL;
    struct svc_slices ss = {slices, ns};
    struct ctl_step *st;
    int rv = ORC_ENOMEM;

    if (!pods || !slices) goto out;
    informer_by_index(c->slices, SLICE_INDEX, name, append_in_ns, &ss);
    struct selected sel = {pods, svc, ns};
    if (svc) selected_pods(c, &sel);
    if (svc) desired = eps_desired(svc, pods, EPS_MAX_PER_SLICE);
    else desired = json_array(); /* the Service is gone: so are its slices */
    if (!desired || !(plan = svc ? eps_plan(svc, desired, slices) : json_pack("{s:[],s:[],s:[]}",
                                                                             "create", "update",
                                                                             "delete")))
        goto out;
    if (!svc) {
        const json_t *s;
        size_t i;
        json_array_foreach(slices, i, s)
            json_array_append_new(json_object_get(plan, "delete"),
                                  json_string(orc_json_str(s, "metadata.name") ?: ""));
    }
    if (!(st = ctl_step_new(c->b.q, key, svc, step_release, c))) goto out;
    ctl_base_hold(&c->b);
    size_t adds = json_array_size(json_object_get(plan, "create"));
    size_t dels = json_array_size(json_object_get(plan, "delete"));
    if (adds + dels > 0
        && ctl_exp_expect(c->exp, key, (int64_t)adds, (int64_t)dels, orc_clock_now(c->b.ctx->clock)) != 0)
        st->op.failed = true;
    else write_slices(c, st, plan, ns);
    if (svc) write_endpoints(c, st, svc, pods, ns, name);
    else if (informer_get(c->eps, ns, name)) {
        struct call *k = call_new(st, false, true);
        if (k) issue(k, rest_delete(c->b.ctx->api, kind(ORC_K_ENDPOINTS), ns, name, NULL,
                                        answered, k));
    }
    ctl_step_put(st);
    rv = 0;
out:
    json_decref(pods);
    json_decref(slices);
    json_decref(desired);
    json_decref(plan);
    return rv;
}

static void reconcile(void *arg, const char *key)
{
    struct eps_ctl *c = arg;
    char ns[256], name[256];
    const json_t *svc;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_MS)) return;
    if (ctl_key_split(key, ns, sizeof ns, name, sizeof name) != 0) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (!ctl_exp_satisfied(c->exp, key, orc_clock_now(c->b.ctx->clock))) {
        workqueue_done(c->b.q, key, UNSEEN_RETRY_MS); /* its last writes are not seen yet */
        return;
    }
    svc = informer_get(c->svcs, ns, name);
    const char *type = svc ? orc_json_str(svc, "spec.type") : NULL;
    if (svc && (json_object_size(orc_json_get(svc, "spec.selector")) == 0
                || (type && strcmp(type, "ExternalName") == 0))) {
        workqueue_done(c->b.q, key, WQ_DONE); /* endpoints managed by someone else */
        return;
    }
    if (!svc) ctl_exp_forget(c->exp, key);
    if (step(c, key, ns, name, svc) != 0) workqueue_done(c->b.q, key, WQ_RETRY);
}

/* ---- start, stop ---- */

static const struct informer_cbs svc_cbs = {on_svc, on_svc_update, on_svc, NULL};
static const struct informer_cbs pod_cbs = {on_pod, on_pod_update, on_pod, NULL};
static const struct informer_cbs slice_cbs = {on_slice_add, on_slice_update, on_slice_delete, NULL};

static int eps_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "endpointslice",
                                              .component = "endpointslice-controller",
                                              .reconcile = reconcile,
                                              .free_self = eps_free};
    struct eps_ctl *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    if (!(c->exp = ctl_exp_new())) {
        free(c);
        return ORC_ENOMEM;
    }
    const struct ctl_watch w[] = {
        {kind(ORC_K_SERVICE), &svc_cbs, &c->svcs},
        {kind(ORC_K_POD), &pod_cbs, &c->pods},
        {kind(ORC_K_ENDPOINTSLICE), &slice_cbs, &c->slices},
        {kind(ORC_K_ENDPOINTS), NULL, &c->eps},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    if ((rv = informer_add_index(c->slices, SLICE_INDEX, index_service_name)) != 0
        || (rv = informer_add_index(c->pods, POD_VALUES, index_pod_values)) != 0
        || (rv = informer_add_index(c->svcs, SVC_VALUES, index_svc_values)) != 0) {
        ctl_base_stop(&c->b);
        return rv;
    }
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_endpointslice = {"endpointslice", eps_start, ctl_base_stop_state};
