/* pvc.c — the volume binder and local-path provisioner (Kubernetes'
 * persistentvolume-binder and k3s' local-path-provisioner in one): claims
 * are bound to a fitting PersistentVolume, or get one provisioned on the
 * node chosen for their first pod (WaitForFirstConsumer: the scheduler's
 * selected-node annotation, or the node a pod using the claim was bound
 * to); PVs report Available, Bound or Released. The node's agent makes the
 * directory when a pod mounts it and removes it once it is Released with
 * reclaimPolicy Delete.
 *
 * Keys: "ns/name" for a claim, "name" for a PV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "controllers/ctl_base.h"
#include "controllers/pvc.h"
#include "controllers/ctl_util.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/log.h"
#include "lib/orc.h"

#define MOD "pvc"
#define KEY_MAX 512
#define NOT_SYNCED_MS 200
/* a Pending claim is looked at again this often, as Kubernetes' binder
 * resyncs (a PV or class may have come meanwhile) */
#define PENDING_RESYNC_MS 5000

struct pvcc {
    struct ctl_base b;
    const struct orc_kind *k_claim, *k_pv, *k_class, *k_pod, *k_node;
    informer *claims, *pvs, *classes, *pods, *nodes;
};

struct call {
    struct pvcc *c;
    char key[KEY_MAX];
    json_t *obj; /* for events */
    const char *what;
    int64_t then; /* > 0: look again this many ms after a success */
};

static void pvcc_release(struct pvcc *c)
{
    ctl_base_put(&c->b);
}

/* ---- handlers ---- */

static void enqueue(struct pvcc *c, const char *ns, const char *name)
{
    char key[KEY_MAX];

    if (c->b.stopped || name == NULL) return;
    if (ns) snprintf(key, sizeof key, "%s/%s", ns, name);
    else snprintf(key, sizeof key, "%s", name);
    workqueue_add(c->b.q, key);
}

static void claim_changed(void *arg, const json_t *obj)
{
    struct pvcc *c = arg;

    enqueue(c, orc_json_str(obj, "metadata.namespace"), orc_json_str(obj, "metadata.name"));
    enqueue(c, NULL, orc_json_str(obj, "spec.volumeName"));
}

static void enqueue_unbound(void *arg, const json_t *claim)
{
    const char *vol = orc_json_str(claim, "spec.volumeName");
    if (vol == NULL || *vol == '\0') claim_changed(arg, claim);
}

static void pv_changed(void *arg, const json_t *obj)
{
    struct pvcc *c = arg;
    const json_t *ref = orc_json_get(obj, "spec.claimRef");

    enqueue(c, NULL, orc_json_str(obj, "metadata.name"));
    if (ref && orc_json_str(ref, "namespace"))
        enqueue(c, orc_json_str(ref, "namespace"), orc_json_str(ref, "name"));
    else if (ref == NULL && !c->b.stopped) /* a free volume: claims waiting may take it */
        informer_each(c->claims, enqueue_unbound, c);
}

/* A pod bound to a node may be the first consumer its claims wait for. */
static void pod_changed(void *arg, const json_t *obj)
{
    struct pvcc *c = arg;
    size_t i;
    json_t *v;

    if (orc_json_str(obj, "spec.nodeName") == NULL) return;
    json_array_foreach (orc_json_get(obj, "spec.volumes"), i, v) {
        const char *claim = orc_json_str(v, "persistentVolumeClaim.claimName");
        if (claim) enqueue(c, orc_json_str(obj, "metadata.namespace"), claim);
    }
}

static void claim_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    claim_changed(arg, obj);
}
static void pv_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    pv_changed(arg, obj);
}
static void pod_updated(void *arg, const json_t *old, const json_t *obj)
{
    if (orc_json_str(old, "spec.nodeName") == NULL) pod_changed(arg, obj);
}

static const struct informer_cbs claim_cbs = {claim_changed, claim_updated, claim_changed, NULL};
static const struct informer_cbs pv_cbs = {pv_changed, pv_updated, pv_changed, NULL};
static const struct informer_cbs pod_cbs = {pod_changed, pod_updated, NULL, NULL};

/* ---- calls ---- */

static void call_done(void *arg, int status, const json_t *body)
{
    struct call *k = arg;
    struct pvcc *c = k->c;
    bool ok = (status >= 200 && status < 300) || status == 409;

    if (!ok && !c->b.stopped) {
        log_warn(MOD, "%s for %s: %s", k->what, k->key, rest_message(status, body));
        if (k->obj)
            events_record(c->b.rec, k->obj, "Warning", "ProvisioningFailed", "%s: %s", k->what,
                          rest_message(status, body));
    } else if (k->obj && status != 409 && !c->b.stopped) {
        events_record(c->b.rec, k->obj, "Normal", "ProvisioningSucceeded",
                      "Successfully provisioned volume %s",
                      orc_json_str(body, "metadata.name") ? orc_json_str(body, "metadata.name") : "");
    }
    workqueue_done(c->b.q, k->key, !ok ? WQ_RETRY : k->then > 0 ? k->then : WQ_DONE);
    json_decref(k->obj);
    free(k);
    pvcc_release(c);
}

static struct call *call_new(struct pvcc *c, const char *key, const json_t *obj, const char *what)
{
    struct call *k = calloc(1, sizeof *k);

    if (k == NULL) return NULL;
    k->c = c;
    snprintf(k->key, sizeof k->key, "%s", key);
    k->obj = obj ? json_incref((json_t *)obj) : NULL;
    k->what = what;
    ctl_base_hold(&c->b);
    return k;
}

/* Ends the key at once when the call could not start (its callback ends it
 * otherwise). */
static void issue_fail(struct call *k, int rv)
{
    if (rv != 0) call_done(k, rv, NULL);
}

static bool status_differs(const json_t *obj, const json_t *st)
{
    const json_t *old = json_object_get(obj, "status");
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)st, key, v)
        if (!json_equal(json_object_get(old, key), v)) return true;
    return false;
}

/* PUTs obj with `status` (stolen) when it differs; ends the key (to be
 * looked at again after `then` ms when > 0). */
static void put_status(struct pvcc *c, const char *key, const struct orc_kind *k,
                       const json_t *obj, json_t *status, int64_t then)
{
    json_t *copy;
    struct call *cl;

    if (status == NULL || !status_differs(obj, status) || (copy = json_deep_copy(obj)) == NULL) {
        json_decref(status);
        workqueue_done(c->b.q, key, status == NULL ? WQ_RETRY : then > 0 ? then : WQ_DONE);
        return;
    }
    json_object_set_new(copy, "status", status);
    if ((cl = call_new(c, key, NULL, "writing status")) == NULL) {
        workqueue_done(c->b.q, key, WQ_RETRY);
    } else {
        cl->then = then;
        issue_fail(cl, rest_update_status(c->b.ctx->api, k, copy, call_done, cl));
    }
    json_decref(copy);
}

/* PUTs `obj` (stolen: an edited copy of a cached object); ends the key. */
static void put(struct pvcc *c, const char *key, const struct orc_kind *k, json_t *obj,
                const char *what)
{
    struct call *cl = obj ? call_new(c, key, NULL, what) : NULL;

    if (cl == NULL) workqueue_done(c->b.q, key, WQ_RETRY);
    else issue_fail(cl, rest_update(c->b.ctx->api, k, obj, call_done, cl));
    json_decref(obj);
}

/* ---- claims ---- */

struct consumer {
    const char *claim;
    const char *node;
};

static void find_consumer(void *arg, const json_t *pod)
{
    struct consumer *cs = arg;
    const char *node = orc_json_str(pod, "spec.nodeName");
    size_t i;
    json_t *v;

    if (cs->node || node == NULL) return;
    json_array_foreach (orc_json_get(pod, "spec.volumes"), i, v) {
        const char *claim = orc_json_str(v, "persistentVolumeClaim.claimName");
        if (claim && strcmp(claim, cs->claim) == 0) cs->node = node;
    }
}

/* The node of the claim's first consumer: the scheduler's annotation, else
 * the node a pod using the claim is bound to. */
static const char *consumer_node(struct pvcc *c, const json_t *claim)
{
    const char *node = json_string_value(
        json_object_get(orc_json_get(claim, "metadata.annotations"), PVC_ANN_SELECTED_NODE));
    struct consumer cs = {orc_json_str(claim, "metadata.name"), NULL};

    if (node) return node;
    informer_by_index(c->pods, "namespace", orc_json_str(claim, "metadata.namespace"),
                      find_consumer, &cs);
    return cs.node;
}

static void provision(struct pvcc *c, const char *key, const json_t *claim, const json_t *cls)
{
    const char *mode = orc_json_str(cls, "volumeBindingMode");
    const char *node = consumer_node(c, claim);
    const json_t *n = node ? informer_get(c->nodes, "", node) : NULL;
    const char *dir = json_string_value(
        json_object_get(orc_json_get(n, "metadata.annotations"), PVC_ANN_VOLUMES_DIR));
    struct call *cl;
    json_t *pv;

    if (node == NULL) {
        if (mode && strcmp(mode, "Immediate") == 0)
            events_record(c->b.rec, claim, "Warning", "ProvisioningFailed",
                          "configuration error, no node was specified");
        else
            events_record(c->b.rec, claim, "Normal", "WaitForFirstConsumer",
                          "waiting for first consumer to be created before binding");
        put_status(c, key, c->k_claim, claim, pvc_claim_status(NULL), PENDING_RESYNC_MS);
        return;
    }
    pv = pvc_provision(claim, cls, node, dir ? dir : PVC_DEFAULT_VOLUMES_DIR);
    if (pv == NULL || (cl = call_new(c, key, claim, "provisioning a volume")) == NULL) {
        json_decref(pv);
        workqueue_done(c->b.q, key, WQ_RETRY);
        return;
    }
    issue_fail(cl, rest_create(c->b.ctx->api, c->k_pv, NULL, pv, call_done, cl));
    json_decref(pv);
}

/* The annotations Kubernetes' binder leaves on a claim it bound (keys with
 * dots: set directly, not through a dotted path). */
static int set_bind_annotations(json_t *claim)
{
    json_t *ann = orc_json_get(claim, "metadata.annotations");

    if (!json_is_object(ann)) {
        if (orc_json_set(claim, "metadata.annotations", json_object()) != 0) return ORC_ENOMEM;
        ann = orc_json_get(claim, "metadata.annotations");
    }
    if (json_object_set_new(ann, PVC_ANN_BIND_COMPLETED, json_string("yes")) != 0
        || json_object_set_new(ann, PVC_ANN_BOUND_BY_CONTROLLER, json_string("yes")) != 0)
        return ORC_ENOMEM;
    return 0;
}

/* Binds the claim to pv: the PV's claimRef first, then the claim's
 * volumeName (each step's event brings the key back for the next). */
static void bind_claim(struct pvcc *c, const char *key, const json_t *claim, const json_t *pv)
{
    json_t *copy;

    if (orc_json_str(pv, "spec.claimRef.uid") == NULL) {
        copy = json_deep_copy(pv);
        if (copy)
            orc_json_set(copy, "spec.claimRef",
                         json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "apiVersion", "v1", "kind",
                                   "PersistentVolumeClaim", "namespace",
                                   orc_json_str(claim, "metadata.namespace"), "name",
                                   orc_json_str(claim, "metadata.name"), "uid",
                                   orc_json_str(claim, "metadata.uid"), "resourceVersion",
                                   orc_json_str(claim, "metadata.resourceVersion")
                                       ? orc_json_str(claim, "metadata.resourceVersion")
                                       : ""));
        put(c, key, c->k_pv, copy, "binding a volume");
        return;
    }
    copy = json_deep_copy(claim);
    if (copy && set_bind_annotations(copy) != 0) {
        json_decref(copy);
        copy = NULL;
    }
    if (copy
        && orc_json_set(copy, "spec.volumeName", json_string(orc_json_str(pv, "metadata.name"))) != 0) {
        json_decref(copy);
        copy = NULL;
    }
    put(c, key, c->k_claim, copy, "binding a claim");
}

static void sync_claim(struct pvcc *c, const char *key, const json_t *claim)
{
    const char *vol = orc_json_str(claim, "spec.volumeName");
    struct ctl_list classes = {0}, pvs = {0};
    const json_t *pv, *cls;
    const char *cls_name;

    if (vol && *vol) {
        pv = informer_get(c->pvs, "", vol);
        if (pv && orc_json_get(pv, "spec.claimRef") == NULL) {
            bind_claim(c, key, claim, pv); /* a claim naming its volume: bind the PV to it */
            return;
        }
        put_status(c, key, c->k_claim, claim,
                   pvc_claim_status(pv && pvc_claimref_is(pv, claim) ? pv : NULL), 0);
        return;
    }
    informer_each(c->classes, ctl_list_add, &classes);
    informer_each(c->pvs, ctl_list_add, &pvs);
    if (classes.fail || pvs.fail) {
        workqueue_done(c->b.q, key, WQ_RETRY);
        goto out;
    }
    cls_name = pvc_class_of(claim, pvc_default_class(classes.v, classes.n));
    if ((pv = pvc_pick(claim, pvs.v, pvs.n, cls_name))) {
        bind_claim(c, key, claim, pv);
        goto out;
    }
    cls = *cls_name ? informer_get(c->classes, "", cls_name) : NULL;
    if (cls && strcmp(orc_json_str(cls, "provisioner") ? orc_json_str(cls, "provisioner") : "",
                      PVC_LOCAL_PROVISIONER)
                   == 0) {
        provision(c, key, claim, cls);
        goto out;
    }
    if (cls)
        events_record(c->b.rec, claim, "Normal", "ExternalProvisioning",
                      "Waiting for a volume to be created either by the external provisioner "
                      "'%s' or manually by the system administrator",
                      orc_json_str(cls, "provisioner") ? orc_json_str(cls, "provisioner") : "");
    else if (*cls_name)
        events_record(c->b.rec, claim, "Warning", "ProvisioningFailed",
                      "storageclass.storage.k8s.io \"%s\" not found", cls_name);
    else
        events_record(c->b.rec, claim, "Normal", "FailedBinding",
                      "no persistent volumes available for this claim and no storage class is set");
    put_status(c, key, c->k_claim, claim, pvc_claim_status(NULL), PENDING_RESYNC_MS);
out:
    free(classes.v);
    free(pvs.v);
}

/* ---- volumes ---- */

static void sync_pv(struct pvcc *c, const char *key, const json_t *pv)
{
    const json_t *ref = orc_json_get(pv, "spec.claimRef");
    const json_t *claim = NULL;
    const char *phase;

    if (ref && orc_json_str(ref, "namespace") && orc_json_str(ref, "name"))
        claim = informer_get(c->claims, orc_json_str(ref, "namespace"), orc_json_str(ref, "name"));
    phase = pvc_pv_phase(pv, claim);
    /* once Released, a volume stays so (Kubernetes never rebinds it) */
    if (strcmp(phase, "Available") == 0 && orc_json_str(pv, "status.phase")
        && strcmp(orc_json_str(pv, "status.phase"), "Released") == 0)
        phase = "Released";
    put_status(c, key, c->k_pv, pv, json_pack("{s:s}", "phase", phase), 0);
}

static void reconcile(void *arg, const char *key)
{
    struct pvcc *c = arg;
    const char *slash = strchr(key, '/');
    char ns[KEY_MAX];
    const json_t *obj;

    if (!ctl_base_ready(&c->b, key, NOT_SYNCED_MS)) return;
    if (slash == NULL) {
        obj = informer_get(c->pvs, "", key);
        if (obj == NULL || orc_json_get(obj, "metadata.deletionTimestamp"))
            workqueue_done(c->b.q, key, WQ_DONE);
        else sync_pv(c, key, obj);
        return;
    }
    snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
    obj = informer_get(c->claims, ns, slash + 1);
    if (obj == NULL || orc_json_get(obj, "metadata.deletionTimestamp"))
        workqueue_done(c->b.q, key, WQ_DONE);
    else sync_claim(c, key, obj);
}

/* ---- start and stop ---- */

static int pvc_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = MOD, .component = "persistentvolume-controller", .reconcile = reconcile, .free_self = free};
    struct pvcc *c = calloc(1, sizeof *c);
    int rv;

    if (c == NULL) return ORC_ENOMEM;
    c->k_claim = orc_kind_by_resource("", "persistentvolumeclaims");
    c->k_pv = orc_kind_by_resource("", "persistentvolumes");
    c->k_class = orc_kind_by_resource("storage.k8s.io", "storageclasses");
    c->k_pod = orc_kind_by_resource("", "pods");
    c->k_node = orc_kind_by_resource("", "nodes");
    if (!c->k_claim || !c->k_pv || !c->k_class || !c->k_pod || !c->k_node) {
        log_error(MOD, "the API lacks PersistentVolumes, their claims or StorageClasses");
        free(c);
        return ORC_EINVAL;
    }
    const struct ctl_watch w[] = {
        {c->k_claim, &claim_cbs, &c->claims},
        {c->k_pv, &pv_cbs, &c->pvs},
        {c->k_class, NULL, &c->classes},
        {c->k_pod, &pod_cbs, &c->pods},
        {c->k_node, NULL, &c->nodes},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_pvc = {"persistentvolume", pvc_start, ctl_base_stop_state};
