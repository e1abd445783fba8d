/* daemonset.c — the DaemonSet controller's wiring: informers on DaemonSets,
 * pods and nodes feed a work queue of DaemonSet keys; reconcile runs one
 * ds_plan step and issues its creates, deletes and status write, guarded by
 * expectations so a step is not repeated before the informer saw the last
 * one's pods. Orphans on a node that the selector takes are adopted and
 * owned pods it no longer takes released first (ClaimPods). */
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/daemonset.h"

#include "controllers/ctl_base.h"
#include "controllers/ctl_op.h"
#include "controllers/ctl_util.h"
#include "lib/hmap.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/labels.h"
#include "lib/list.h"
#include "lib/log.h"
#include "lib/orc.h"

#define DS_LOG "daemonset"
/* Expectations not met by then are given up (a missed watch event). */
#define DS_EXPECT_TIMEOUT_MS 30000
/* DaemonSet pods are bound by the scheduler through their node affinity
 * (Kubernetes since 1.12); true binds them here instead, setting
 * spec.nodeName (Kubernetes before 1.12). */
#define DS_BIND_DIRECT false

struct ds_expect {
    struct orc_hnode hn;
    char *key;
    int pending; /* creates and deletes issued, not yet seen */
    uint64_t deadline;
};

struct ds_ctl {
    struct ctl_base b; /* refs: the controller's own, plus one per step (batch) in flight */
    informer *dsi, *podi, *nodei, *revi;
    struct orc_hmap expect;
};


static const struct orc_kind *kind_of(const char *name)
{
    return orc_kind_lookup(name);
}

/* ---- lifetime ---- */

static void ds_free(void *arg)
{
    struct ds_ctl *c = arg;
    struct orc_hnode *n, *next;

    for (n = orc_hmap_first(&c->expect); n; n = next) {
        struct ds_expect *e = ORC_CONTAINER(n, struct ds_expect, hn);
        next = orc_hmap_next(&c->expect, n);
        orc_hmap_del(&c->expect, n);
        free(e->key);
        free(e);
    }
    orc_hmap_free(&c->expect);
    free(c);
}

static void ctl_release(struct ds_ctl *c)
{
    ctl_base_put(&c->b);
}

/* ---- expectations ---- */

static struct ds_expect *expect_get(struct ds_ctl *c, const char *key, bool make)
{
    struct orc_hnode *n = orc_hmap_get(&c->expect, key);
    struct ds_expect *e;

    if (n || !make) return n ? ORC_CONTAINER(n, struct ds_expect, hn) : NULL;
    e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    e->hn.key = e->key;
    if (orc_hmap_put(&c->expect, &e->hn) != 0) {
        free(e->key);
        free(e);
        return NULL;
    }
    return e;
}

static void expect_drop(struct ds_ctl *c, const char *key)
{
    struct ds_expect *e = expect_get(c, key, false);

    if (!e) return;
    orc_hmap_del(&c->expect, &e->hn);
    free(e->key);
    free(e);
}

static void expect_observed(struct ds_ctl *c, const char *key)
{
    struct ds_expect *e = expect_get(c, key, false);
    if (e && e->pending > 0) e->pending--;
}

static bool expect_met(struct ds_ctl *c, const char *key)
{
    struct ds_expect *e = expect_get(c, key, false);
    return !e || e->pending <= 0 || orc_clock_now(c->b.ctx->clock) >= e->deadline;
}

static void expect_set(struct ds_ctl *c, const char *key, int n)
{
    struct ds_expect *e = expect_get(c, key, true);

    if (!e) return; /* ENOMEM: acting again early only risks a duplicate */
    e->pending = n;
    e->deadline = orc_clock_now(c->b.ctx->clock) + DS_EXPECT_TIMEOUT_MS;
}

/* ---- keys from objects ---- */

static void key_of(const json_t *obj, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", orc_json_str(obj, "metadata.namespace") ?: "",
             orc_json_str(obj, "metadata.name") ?: "");
}

/* The key of the DaemonSet controlling `pod`, or false. */
static bool owner_key(const json_t *pod, char *out, size_t n)
{
    size_t i;
    json_t *r;

    json_array_foreach(orc_json_get(pod, "metadata.ownerReferences"), i, r) {
        const char *kind = orc_json_str(r, "kind");
        if (!json_is_true(json_object_get(r, "controller")) || !kind || strcmp(kind, "DaemonSet") != 0)
            continue;
        snprintf(out, n, "%s/%s", orc_json_str(pod, "metadata.namespace") ?: "",
                 orc_json_str(r, "name") ?: "");
        return true;
    }
    return false;
}

/* ---- handlers ---- */

static void on_ds(void *arg, const json_t *obj)
{
    struct ds_ctl *c = arg;
    char key[512];

    if (c->b.stopped) return;
    key_of(obj, key, sizeof key);
    workqueue_add(c->b.q, key);
}

static void on_ds_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    on_ds(arg, obj);
}

static void on_ds_delete(void *arg, const json_t *obj)
{
    struct ds_ctl *c = arg;
    char key[512];

    if (c->b.stopped) return;
    key_of(obj, key, sizeof key);
    expect_drop(c, key);
}

static void enqueue_adopter(void *arg, const json_t *ds)
{
    on_ds(arg, ds);
}

static void pod_changed(struct ds_ctl *c, const json_t *pod, bool observed)
{
    char key[512];

    if (c->b.stopped) return;
    if (!owner_key(pod, key, sizeof key)) {
        /* An orphan on a node: the DaemonSets that may adopt it. */
        if (ds_pod_node(pod)) ctl_each_adopter(c->dsi, pod, enqueue_adopter, c);
        return;
    }
    if (observed) expect_observed(c, key);
    workqueue_add(c->b.q, key);
}

static void on_pod_add(void *arg, const json_t *obj) { pod_changed(arg, obj, true); }
static void on_pod_delete(void *arg, const json_t *obj) { pod_changed(arg, obj, true); }
/* A graceful deletion starting counts as the delete seen, as in
 * Kubernetes: the pod may stay Terminating for its grace period. */
static void on_pod_update(void *arg, const json_t *old, const json_t *obj)
{
    struct ds_ctl *c = arg;
    char was[512], is[512];
    bool deleting = orc_json_get(obj, "metadata.deletionTimestamp") != NULL
                    && orc_json_get(old, "metadata.deletionTimestamp") == NULL;
    /* Released (or moved to another owner): the old owner looks again. */
    if (!c->b.stopped && owner_key(old, was, sizeof was)
        && (!owner_key(obj, is, sizeof is) || strcmp(was, is) != 0))
        workqueue_add(c->b.q, was);
    pod_changed(arg, obj, deleting);
}

static void enqueue_all(void *arg, const json_t *ds) { on_ds(arg, ds); }

static void on_node(void *arg, const json_t *obj)
{
    struct ds_ctl *c = arg;
    (void)obj;
    if (!c->b.stopped) informer_each(c->dsi, enqueue_all, c);
}

/* Only what decides fit matters: labels, taints, the name (status
 * heartbeats do not). */
static void on_node_update(void *arg, const json_t *old, const json_t *obj)
{
    if (!json_equal(orc_json_get(old, "metadata.labels"), orc_json_get(obj, "metadata.labels"))
        || !json_equal(orc_json_get(old, "spec"), orc_json_get(obj, "spec")))
        on_node(arg, obj);
}

/* ---- the calls of one step ---- */

/* One reconcile's API calls are a step (ctl_op.h, its obj the DaemonSet):
 * the key is done when the last answers; it holds the controller. */
static void step_release(void *arg)
{
    ctl_release(arg);
}

static struct ds_ctl *ctl_of(const struct ctl_step *b)
{
    return b->owner;
}

static void on_created(void *arg, int status, const json_t *body)
{
    struct ctl_step *b = arg;
    struct ds_ctl *c = ctl_of(b);

    if (status != 201) {
        /* Kubernetes' CreationObserved on failure: the pod will not come. */
        expect_observed(c, b->key);
        b->op.failed = true;
        if (!c->b.stopped)
            events_record(c->b.rec, b->obj, "Warning", "FailedCreate", "Error creating: %s",
                          rest_message(status, body));
    } else if (!c->b.stopped) {
        events_record(c->b.rec, b->obj, "Normal", "SuccessfulCreate", "Created pod: %s",
                      orc_json_str(body, "metadata.name") ?: "");
    }
    ctl_step_put(b);
}

static void on_deleted(void *arg, int status, const json_t *body)
{
    struct ctl_step *b = arg;
    struct ds_ctl *c = ctl_of(b);

    if (status != 200 && status != 202) {
        expect_observed(c, b->key);
        if (status != 404 && status != 409) b->op.failed = true;
    } else if (!c->b.stopped) {
        events_record(c->b.rec, b->obj, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                      orc_json_str(body, "metadata.name") ?: "");
    }
    ctl_step_put(b);
}

static void on_status(void *arg, int status, const json_t *body)
{
    struct ctl_step *b = arg;

    if (status != 200) {
        if (status != 404) b->op.failed = true;
        log_debug(DS_LOG, "status of %s: %s", b->key, rest_message(status, body));
    }
    ctl_step_put(b);
}

static void issue(struct ctl_step *b, int rv)
{
    if (rv == 0) ctl_step_hold(b);
    else b->op.failed = true;
}

static void create_pods(struct ctl_step *b, const json_t *nodes)
{
    char hash[DS_HASH_LEN];
    size_t i;
    json_t *n;

    ds_template_hash(b->obj, hash);
    json_array_foreach(nodes, i, n) {
        json_t *pod = ds_new_pod(b->obj, json_string_value(n), hash, DS_BIND_DIRECT);
        issue(b, pod ? rest_create(ctl_of(b)->b.ctx->api, kind_of("pods"), orc_json_str(b->obj, "metadata.namespace"),
                                   pod, on_created, b)
                     : ORC_ENOMEM);
        json_decref(pod);
    }
}

static void delete_pods(struct ctl_step *b, const json_t *pods)
{
    size_t i;
    json_t *p;

    json_array_foreach(pods, i, p) {
        struct rest_delete_opts o = {.uid = orc_json_str(p, "metadata.uid"), .grace_seconds = -1};
        issue(b, rest_delete(ctl_of(b)->b.ctx->api, kind_of("pods"), orc_json_str(p, "metadata.namespace"),
                             orc_json_str(p, "metadata.name"), &o, on_deleted, b));
    }
}

/* A write of the history: already done (404, 409 from a cache behind) is
 * fine. */
static void on_history(void *arg, int status, const json_t *body)
{
    struct ctl_step *b = arg;

    if (status != 200 && status != 201 && status != 404 && status != 409) {
        b->op.failed = true;
        log_debug(DS_LOG, "history of %s: %s", b->key, rest_message(status, body));
    }
    ctl_step_put(b);
}

static void write_history(struct ctl_step *b, const json_t *revs, const json_t *pods)
{
    const struct orc_kind *k = kind_of("controllerrevisions");
    const char *ns = orc_json_str(b->obj, "metadata.namespace");
    struct ds_history h;
    size_t i;
    json_t *r;

    if (ds_history_plan(b->obj, revs, pods, &h) != 0) {
        b->op.failed = true;
        return;
    }
    if (h.create) issue(b, rest_create(ctl_of(b)->b.ctx->api, k, ns, h.create, on_history, b));
    if (h.update) issue(b, rest_update(ctl_of(b)->b.ctx->api, k, h.update, on_history, b));
    json_array_foreach(h.remove, i, r) {
        struct rest_delete_opts o = {.uid = orc_json_str(r, "metadata.uid"), .grace_seconds = -1};
        issue(b, rest_delete(ctl_of(b)->b.ctx->api, k, ns, orc_json_str(r, "metadata.name"), &o, on_history, b));
    }
    ds_history_clear(&h);
}

/* Writes the status when a counted field differs from the stored one. */
static void write_status(struct ctl_step *b, const json_t *status)
{
    const json_t *cur = json_object_get(b->obj, "status");
    const char *k;
    json_t *v, *obj;
    bool same = true;

    json_object_foreach((json_t *)status, k, v) same &= json_equal(v, json_object_get(cur, k));
    if (same) return;
    obj = json_deep_copy(b->obj);
    json_t *st = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    if (!obj || !st || json_object_update(st, (json_t *)status) != 0
        || json_object_set(obj, "status", st) != 0) {
        b->op.failed = true;
    } else {
        issue(b, rest_update_status(ctl_of(b)->b.ctx->api, kind_of("daemonsets"), obj, on_status, b));
    }
    json_decref(st);
    json_decref(obj);
}

/* ---- adoption and release (Kubernetes' ClaimPods) ---- */

static void on_owner_patched(void *arg, int status, const json_t *body)
{
    struct ctl_step *b = arg;

    /* 404: gone; 409: changed since the cache saw it (looked at again). */
    if (status != 200 && status != 404) {
        b->op.failed = true;
        if (status != 409) log_debug(DS_LOG, "owner of a pod of %s: %s", b->key, rest_message(status, body));
    }
    ctl_step_put(b);
}

static void patch_owner(struct ctl_step *b, const json_t *pod, bool adopt)
{
    json_t *patch = ctl_owner_patch(pod, b->obj, "apps/v1", "DaemonSet", adopt, NULL);

    issue(b, patch ? rest_patch(ctl_of(b)->b.ctx->api, kind_of("pods"), orc_json_str(pod, "metadata.namespace"),
                                orc_json_str(pod, "metadata.name"), NULL, "application/merge-patch+json",
                                patch, on_owner_patched, b)
                   : ORC_ENOMEM);
    json_decref(patch);
}

struct claim {
    struct ctl_step *b;
    orc_selector *sel;
    unsigned patched;
};

/* An orphan on a node the selector takes is adopted (one without a node
 * cannot be placed in the DaemonSet's per-node plan, as in Kubernetes). */
static void adopt_orphan(void *arg, const json_t *pod)
{
    struct claim *cl = arg;
    bool match = orc_selector_matches(cl->sel, orc_json_get(pod, "metadata.labels"));

    if (!ctl_controller_ref(pod) && ds_pod_node(pod)
        && ctl_claim_decide(cl->b->obj, pod, match) == CTL_CLAIM_ADOPT) {
        patch_owner(cl->b, pod, true);
        cl->patched++;
    }
}

/* Adopts orphans, releases owned pods the selector no longer takes; the
 * number of patches (their pods' events bring the key back). */
static unsigned claim_pods(struct ds_ctl *c, struct ctl_step *b, const json_t *pods)
{
    struct claim cl = {b, NULL, 0};
    size_t i;
    json_t *p;

    if (orc_selector_from_json(orc_json_get(b->obj, "spec.selector"), &cl.sel, NULL, 0) != 0
        || orc_selector_is_empty(cl.sel)) {
        orc_selector_free(cl.sel);
        return 0;
    }
    json_array_foreach((json_t *)pods, i, p) {
        bool match = orc_selector_matches(cl.sel, orc_json_get(p, "metadata.labels"));
        if (ctl_claim_decide(b->obj, p, match) == CTL_CLAIM_RELEASE) {
            patch_owner(b, p, false);
            cl.patched++;
        }
    }
    informer_by_index(c->podi, "namespace", orc_json_str(b->obj, "metadata.namespace") ?: "",
                      adopt_orphan, &cl);
    orc_selector_free(cl.sel);
    return cl.patched;
}

/* ---- hash collisions ---- */

/* The current template's revision name is taken by another template (or
 * owner): bump status.collisionCount, as Kubernetes' snapshot does; the
 * status write brings the key back with a new hash. */
static bool collided(struct ds_ctl *c, struct ctl_step *b)
{
    char hash[DS_HASH_LEN], name[320];
    json_t *st;

    ds_template_hash(b->obj, hash);
    snprintf(name, sizeof name, "%s-%s", orc_json_str(b->obj, "metadata.name") ?: "ds", hash);
    st = ds_collision_status(b->obj, informer_get(c->revi, orc_json_str(b->obj, "metadata.namespace") ?: "", name));
    if (!st) return false;
    log_info(DS_LOG, "%s: ControllerRevision %s holds another template: collisionCount %lld", b->key,
             name, (long long)json_integer_value(json_object_get(st, "collisionCount")));
    write_status(b, st);
    json_decref(st);
    return true;
}

/* ---- reconcile ---- */

static void append(void *arg, const json_t *obj)
{
    json_array_append((json_t *)arg, (json_t *)obj);
}

struct owned {
    json_t *out;
    const char *uid;
};

static void append_controlled(void *arg, const json_t *pod)
{
    struct owned *o = arg;
    size_t i;
    json_t *r;

    json_array_foreach(orc_json_get(pod, "metadata.ownerReferences"), i, r) {
        const char *uid = orc_json_str(r, "uid");
        if (json_is_true(json_object_get(r, "controller")) && uid && strcmp(uid, o->uid) == 0)
            json_array_append(o->out, (json_t *)pod);
    }
}

static void act(struct ds_ctl *c, struct ctl_step *b, const struct ds_plan *p)
{
    size_t before = b->op.pending;

    expect_set(c, b->key, (int)(json_array_size(p->create) + json_array_size(p->remove)));
    create_pods(b, p->create);
    delete_pods(b, p->remove);
    /* Calls that never left will not be seen either. */
    for (size_t n = json_array_size(p->create) + json_array_size(p->remove) - (b->op.pending - before); n > 0; n--)
        expect_observed(c, b->key);
}

static int step(struct ds_ctl *c, const char *key, const json_t *ds)
{
    json_t *nodes = json_array(), *pods = json_array(), *revs = json_array();
    struct owned own = {pods, orc_json_str(ds, "metadata.uid") ?: ""};
    struct owned own_revs = {revs, own.uid};
    struct ctl_step *b;
    struct ds_plan p;
    int rv = ORC_ENOMEM;

    if (!nodes || !pods || !revs) goto out;
    informer_each(c->nodei, append, nodes);
    informer_by_index(c->podi, "owner", own.uid, append_controlled, &own);
    informer_by_index(c->revi, "owner", own.uid, append_controlled, &own_revs);
    if ((rv = ds_plan(ds, nodes, pods, orc_clock_wall(c->b.ctx->clock), &p)) != 0) goto out;
    if (!(b = ctl_step_new(c->b.q, key, ds, step_release, c))) {
        ds_plan_clear(&p);
        rv = ORC_ENOMEM;
        goto out;
    }
    b->requeue_ms = p.requeue_ms;
    ctl_base_hold(&c->b);
    if (collided(c, b)) {
        ds_plan_clear(&p); /* the next step hashes with the new count */
        ctl_step_put(b);
        goto out;
    }
    if (claim_pods(c, b, pods) > 0) {
        ds_plan_clear(&p); /* planned with pods about to change hands */
        ctl_step_put(b);
        goto out;
    }
    if (expect_met(c, key)) act(c, b, &p);
    else b->requeue_ms = 1000; /* its last step's pods are not all seen yet */
    write_history(b, revs, pods);
    write_status(b, p.status);
    ds_plan_clear(&p);
    ctl_step_put(b);
out:
    json_decref(nodes);
    json_decref(pods);
    json_decref(revs);
    return rv;
}

static void reconcile(void *arg, const char *key)
{
    struct ds_ctl *c = arg;
    char ns[256] = "";
    const char *slash = strchr(key, '/');
    const json_t *ds;

    if (!ctl_base_ready(&c->b, key, 200)) return;
    if (slash) snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
    ds = informer_get(c->dsi, ns, slash ? slash + 1 : key);
    if (!ds || orc_json_get(ds, "metadata.deletionTimestamp")) {
        workqueue_done(c->b.q, key, WQ_DONE);
        return;
    }
    if (step(c, key, ds) != 0) workqueue_done(c->b.q, key, WQ_RETRY);
}

/* ---- start, stop ---- */

static const struct informer_cbs ds_cbs = {on_ds, on_ds_update, on_ds_delete, NULL};
static const struct informer_cbs pod_cbs = {on_pod_add, on_pod_update, on_pod_delete, NULL};
static const struct informer_cbs node_cbs = {on_node, on_node_update, on_node, NULL};

static int ds_start(struct ctl_ctx *ctx, void **state)
{
    static const struct ctl_base_config bc = {
        .name = "daemonset", .component = "daemonset-controller", .reconcile = reconcile, .free_self = ds_free};
    struct ds_ctl *c = calloc(1, sizeof *c);
    int rv;

    if (!c) return ORC_ENOMEM;
    const struct ctl_watch w[] = {
        {kind_of("daemonsets"), &ds_cbs, &c->dsi},
        {kind_of("pods"), &pod_cbs, &c->podi},
        {kind_of("nodes"), &node_cbs, &c->nodei},
        {kind_of("controllerrevisions"), NULL, &c->revi},
    };
    if ((rv = ctl_base_start(&c->b, ctx, c, &bc, w, ORC_ARRAY_LEN(w))) != 0) return rv;
    *state = &c->b;
    return 0;
}

const struct ctl_controller ctl_daemonset = {"daemonset", ds_start, ctl_base_stop_state};
