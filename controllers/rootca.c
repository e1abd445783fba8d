/* rootca.c — ctl_rootca: Namespaces and ConfigMaps from the shared
 * informers -> keys (the namespace's name; a kube-root-ca.crt ConfigMap's
 * change queues its namespace) -> reconcile: rootca_desired decides, one
 * create or update writes it. */
#include "controllers/rootca.h"

#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"

#define NOT_SYNCED_RETRY_MS 200
#define DESCRIPTION                                                                              \
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "    \
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "    \
    "guaranteed across distributions of Kubernetes clusters."

struct rootca {
    struct ctl_base b;
    const struct orc_kind *kcm;
    informer *nss, *cms;
};

/* ---- the decision ---- */

static bool data_is(const json_t *cm, const char *pem)
{
    const json_t *data = json_object_get(cm, "data");
    const char *v = json_string_value(json_object_get(data, "ca.crt")); /* the key holds a dot */
    return json_object_size(data) == 1 && v && strcmp(v, pem) == 0
           && json_object_size(json_object_get(cm, "binaryData")) == 0;
}

static bool described(const json_t *cm)
{
    const char *d = json_string_value(
        json_object_get(orc_json_get(cm, "metadata.annotations"), "kubernetes.io/description"));
    return d && strcmp(d, DESCRIPTION) == 0;
}

static int set_description(json_t *cm)
{
    json_t *ann = orc_json_get(cm, "metadata.annotations");

    if (!json_is_object(ann)) {
        if (orc_json_set(cm, "metadata.annotations", json_object()) != 0) return ORC_ENOMEM;
        ann = orc_json_get(cm, "metadata.annotations");
    }
    return ann && json_object_set_new(ann, "kubernetes.io/description", json_string(DESCRIPTION)) == 0
               ? 0
               : ORC_ENOMEM;
}

json_t *rootca_desired(const json_t *cur, const char *ns, const char *pem, bool *fail)
{
    json_t *want;

    *fail = false;
    if (cur && data_is(cur, pem) && described(cur)) return NULL;
    if (cur) {
        want = json_deep_copy(cur);
        if (want) json_object_del(want, "binaryData");
    } else {
        want = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                         "metadata", "name", ROOTCA_CONFIGMAP, "namespace", ns);
    }
    if (!want || orc_json_set(want, "data", json_pack("{s:s}", "ca.crt", pem)) != 0
        || set_description(want) != 0) {
        json_decref(want);
        *fail = true;
        return NULL;
    }
    return want;
}

/* ---- informer handlers ---- */

static void on_ns(void *arg, const json_t *ns)
{
    struct rootca *c = arg;
    ctl_base_enqueue(&c->b, ns);
}

static void on_ns_update(void *arg, const json_t *old, const json_t *ns)
{
    (void)old;
    on_ns(arg, ns);
}

static void on_cm(void *arg, const json_t *cm)
{
    struct rootca *c = arg;
    const char *name = orc_json_str(cm, "metadata.name"), *ns = orc_json_str(cm, "metadata.namespace");

    if (!c->b.stopped && name && ns && strcmp(name, ROOTCA_CONFIGMAP) == 0) workqueue_add(c->b.q, ns);
}

static void on_cm_update(void *arg, const json_t *old, const json_t *cm)
{
    (void)old;
    on_cm(arg, cm);
}

/* ---- reconcile ---- */

static void written(void *arg, int status, const json_t *body)
{
    struct ctl_step *s = arg;
    /* 409: a stale cache; the ConfigMap's own event queues the namespace again */
    if (!ctl_status_ok(status, 409, 404)) ctl_op_fail(&s->op, rest_message(status, body));
    ctl_step_put(s);
}

static void base_put(void *arg)
{
    ctl_base_put(arg);
}

static void write_cm(struct rootca *c, const char *key, const json_t *cur, json_t *want)
{
    struct ctl_step *s = ctl_step_new(c->b.q, key, NULL, base_put, &c->b);
    int rv;

    if (s == NULL) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    ctl_base_hold(&c->b);
    ctl_step_hold(s);
    rv = cur ? rest_update(c->b.ctx->api, c->kcm, want, written, s)
             : rest_create(c->b.ctx->api, c->kcm, key, want, written, s);
    if (rv != 0) {
        ctl_op_fail(&s->op, "cannot send the ConfigMap");
        ctl_step_put(s);
    }
    ctl_step_put(s);
}

static bool terminating(const json_t *ns)
{
    const char *phase = orc_json_str(ns, "status.phase");
    return orc_json_get(ns, "metadata.deletionTimestamp") || (phase && strcmp(phase, "Terminating") == 0);
}

static void reconcile(void *arg, const char *key)
{
    struct rootca *c = arg;
    const json_t *ns, *cur;
    json_t *want;
    bool fail = false;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_RETRY_MS)) return;
    ns = informer_get(c->nss, NULL, key);
    if (ns == NULL || terminating(ns)) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    cur = informer_get(c->cms, key, ROOTCA_CONFIGMAP);
    want = rootca_desired(cur, key, c->b.ctx->ca_pem, &fail);
    if (want == NULL) {
        workqueue_done(c->b.q, key, fail ? WQ_RETRY : WQ_DONE);
        return;
    }
    write_cm(c, key, cur, want);
    json_decref(want);
}

/* ---- start ---- */

static int rootca_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {.name = "rootca",
                                              .component = "root-ca-cert-publisher",
                                              .reconcile = reconcile,
                                              .free_self = free};
    static const struct informer_cbs ns_cbs = {on_ns, on_ns_update, NULL, NULL};
    static const struct informer_cbs cm_cbs = {on_cm, on_cm_update, on_cm, NULL};
    struct rootca *c;
    int rv;

    if (ctx->ca_pem == NULL) return 0; /* plain HTTP: no CA to publish */
    if ((c = calloc(1, sizeof *c)) == NULL) return ORC_ENOMEM;
    c->kcm = orc_kind_lookup("configmaps");
    const struct ctl_watch w[] = {
        {orc_kind_lookup("namespaces"), &ns_cbs, &c->nss},
        {c->kcm, &cm_cbs, &c->cms},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_rootca = {"rootca", rootca_start, ctl_base_stop_state};
