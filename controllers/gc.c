/* gc.c — ctl_gc, Kubernetes' garbage collector for orc's kinds: watches
 * every kind (Events aside, as Kubernetes ignores them) through the shared
 * informers, whose "owner" index gives an object's dependents by uid.
 *
 * A key is "<resource>[.<group>]/<namespace>/<name>" (namespace empty for
 * cluster-scoped kinds). Its reconcile, on the cached object:
 *   - being deleted with the orphan finalizer: every dependent loses its
 *     reference to it, then the finalizer goes (gc_orphan.c);
 *   - being deleted with foregroundDeletion: dependents are queued (they
 *     find their owner waiting and are deleted in the foreground); once no
 *     dependent blocks (blockOwnerDeletion), the finalizer goes;
 *   - otherwise, with ownerReferences: owners missing from the cache (or
 *     there under another uid) are read from the API before anything is
 *     deleted — a cache may not have seen an owner created a moment ago —
 *     then gc_decide_dependent says keep, delete or drop the references
 *     to gone owners.
 * Writes carry the uid (deletes) or the resourceVersion (patches) as
 * preconditions, so an object replaced or changed meanwhile is read again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "controllers/gc.h"
#include "controllers/gc_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define NOT_SYNCED_RETRY_MS 200

/* ---- keys ---- */

static int kind_qname(const struct orc_kind *k, char *out, size_t n)
{
    int len = snprintf(out, n, "%s%s%s", k->resource, *k->group ? "." : "", k->group);
    return len < 0 || (size_t)len >= n ? ORC_EINVAL : 0;
}

struct gc_kind *gc_kind_of(struct gc *g, const struct orc_kind *k)
{
    for (size_t i = 0; i < g->n_kinds; i++)
        if (g->kinds[i].k == k) return &g->kinds[i];
    return NULL;
}

void gc_enqueue(struct gc_kind *gk, const char *ns, const char *name)
{
    char key[GC_KEY_LEN];
    int len;

    if (gk == NULL || name == NULL || gk->gc->stopped) return;
    len = snprintf(key, sizeof key, "%s/%s/%s", gk->qname, gk->k->namespaced && ns ? ns : "", name);
    if (len > 0 && (size_t)len < sizeof key) workqueue_add(gk->gc->q, key);
}

void gc_enqueue_obj(struct gc_kind *gk, const json_t *obj)
{
    gc_enqueue(gk, orc_json_str(obj, "metadata.namespace"), orc_json_str(obj, "metadata.name"));
}

/* Splits a key into its kind, namespace and name (pointers into buf). */
static struct gc_kind *parse_key(struct gc *g, const char *key, char *buf, size_t n,
                                 const char **ns, const char **name)
{
    char *s1, *s2;

    if (snprintf(buf, n, "%s", key) >= (int)n) return NULL;
    if ((s1 = strchr(buf, '/')) == NULL || (s2 = strchr(s1 + 1, '/')) == NULL) return NULL;
    *s1 = *s2 = '\0';
    *ns = s1 + 1;
    *name = s2 + 1;
    for (size_t i = 0; i < g->n_kinds; i++)
        if (strcmp(g->kinds[i].qname, buf) == 0) return &g->kinds[i];
    return NULL;
}

/* ---- resolving owner references ---- */

/* The watched kind an ownerReference names, or NULL (a kind orc does not
 * serve, or events). */
struct gc_kind *gc_ref_kind(struct gc *g, const json_t *ref)
{
    const struct orc_kind *k =
        orc_kind_by_gvk(orc_json_str(ref, "apiVersion") ?: "", orc_json_str(ref, "kind") ?: "");
    return k ? gc_kind_of(g, k) : NULL;
}

/* Queues the owners that obj references (an owner waiting in the
 * foreground looks again when a dependent goes or lets go of it). */
static void enqueue_owners(struct gc_kind *gk, const json_t *obj, const json_t *unless_in)
{
    size_t i;
    json_t *r;

    json_array_foreach(orc_json_get(obj, "metadata.ownerReferences"), i, r) {
        const char *uid = orc_json_str(r, "uid");
        if (unless_in && uid && gc_refers_to(unless_in, uid)) continue;
        gc_enqueue(gc_ref_kind(gk->gc, r), orc_json_str(obj, "metadata.namespace"),
                   orc_json_str(r, "name"));
    }
}

struct each_dep {
    struct gc *g;
    struct gc_kind *gk;
    void (*fn)(void *arg, struct gc_kind *gk, const json_t *dep);
    void *arg;
};

static void each_dep_one(void *arg, const json_t *dep)
{
    struct each_dep *e = arg;
    e->fn(e->arg, e->gk, dep);
}

void gc_each_dependent(struct gc *g, const char *uid,
                       void (*fn)(void *arg, struct gc_kind *gk, const json_t *dep), void *arg)
{
    struct each_dep e = {g, NULL, fn, arg};

    if (uid == NULL) return;
    for (size_t i = 0; i < g->n_kinds; i++) {
        e.gk = &g->kinds[i];
        informer_by_index(g->kinds[i].inf, "owner", uid, each_dep_one, &e);
    }
}

static void enqueue_dep(void *arg, struct gc_kind *gk, const json_t *dep)
{
    (void)arg;
    gc_enqueue_obj(gk, dep);
}

/* ---- owners known gone ---- */

bool gc_known_absent(const struct gc *g, const char *uid)
{
    if (uid == NULL || *uid == '\0') return false;
    for (size_t i = 0; i < GC_ABSENT_MAX; i++)
        if (strcmp(g->absent[i], uid) == 0) return true;
    return false;
}

void gc_note_absent(struct gc *g, const char *uid)
{
    if (uid == NULL || *uid == '\0' || strlen(uid) >= GC_UID_LEN || gc_known_absent(g, uid)) return;
    snprintf(g->absent[g->absent_next], GC_UID_LEN, "%s", uid);
    g->absent_next = (g->absent_next + 1) % GC_ABSENT_MAX;
}

/* ---- informer handlers ---- */

static bool has_refs(const json_t *obj)
{
    return json_array_size(orc_json_get(obj, "metadata.ownerReferences")) > 0;
}

static void on_add(void *arg, const json_t *obj)
{
    struct gc_kind *gk = arg;

    if (has_refs(obj) || gc_step(obj) != GC_STEP_NONE) gc_enqueue_obj(gk, obj);
}

static void on_update(void *arg, const json_t *old, const json_t *obj)
{
    struct gc_kind *gk = arg;
    const json_t *refs = orc_json_get(obj, "metadata.ownerReferences");

    if (gc_step(obj) != GC_STEP_NONE) gc_enqueue_obj(gk, obj);
    else if (json_array_size(refs) && !json_equal((json_t *)refs, orc_json_get(old, "metadata.ownerReferences")))
        gc_enqueue_obj(gk, obj);
    enqueue_owners(gk, old, obj); /* references dropped */
}

static void on_delete(void *arg, const json_t *obj)
{
    struct gc_kind *gk = arg;

    gc_note_absent(gk->gc, orc_json_str(obj, "metadata.uid")); /* a uid never comes back */
    gc_each_dependent(gk->gc, orc_json_str(obj, "metadata.uid"), enqueue_dep, NULL);
    enqueue_owners(gk, obj, NULL);
}

/* ---- reconcile ---- */

static void gc_release(struct gc *g)
{
    if (--g->refs > 0) return;
    free(g->kinds);
    free(g);
}

struct gc_key_op *gc_op_new(struct gc *g, struct gc_kind *gk, const char *key, const json_t *obj)
{
    struct gc_key_op *op = calloc(1, sizeof *op + strlen(key) + 1);

    if (op == NULL) return NULL;
    op->g = g;
    op->gk = gk;
    op->obj = json_deep_copy(obj);
    strcpy(op->key, key);
    if (op->obj == NULL) {
        free(op);
        return NULL;
    }
    g->refs++;
    return op;
}

void gc_op_done(struct gc_key_op *op, int64_t outcome)
{
    struct gc *g = op->g;

    workqueue_done(g->q, op->key, outcome);
    json_decref(op->obj);
    free(op->states);
    free(op);
    gc_release(g);
}

static void reconcile(void *arg, const char *key)
{
    struct gc *g = arg;
    char buf[GC_KEY_LEN];
    const char *ns = NULL, *name = NULL;
    struct gc_kind *gk = parse_key(g, key, buf, sizeof buf, &ns, &name);
    const json_t *obj;
    struct gc_key_op *op;

    if (gk == NULL) {
        workqueue_done(g->q, key, WQ_DONE);
        return;
    }
    if (!informer_set_synced(g->ctx->informers)) {
        workqueue_done(g->q, key, NOT_SYNCED_RETRY_MS);
        return;
    }
    obj = informer_get(gk->inf, ns, name);
    if (obj == NULL || (gc_step(obj) == GC_STEP_NONE && !has_refs(obj))) {
        workqueue_done(g->q, key, WQ_DONE);
        return;
    }
    if ((op = gc_op_new(g, gk, key, obj)) == NULL) {
        workqueue_done(g->q, key, WQ_RETRY);
        return;
    }
    switch (gc_step(obj)) {
    case GC_STEP_ORPHAN: gc_orphan_dependents(op); break;
    case GC_STEP_FOREGROUND: gc_foreground(op); break;
    case GC_STEP_NONE: gc_attempt_delete(op); break;
    }
}

/* ---- start / stop ---- */

static int add_kind(struct gc *g, const struct orc_kind *k)
{
    static const struct informer_cbs cbs = {on_add, on_update, on_delete, NULL};
    struct gc_kind *gk = &g->kinds[g->n_kinds];

    if (strcmp(k->resource, "events") == 0) return 0; /* Kubernetes' GC ignores them too */
    if (orc_kind_served_only(k)) return 0;                        /* the same objects as its stored row */
    gk->gc = g;
    gk->k = k;
    if (kind_qname(k, gk->qname, sizeof gk->qname) != 0) return ORC_EINVAL;
    if ((gk->inf = informer_set_get(g->ctx->informers, k)) == NULL) return ORC_ENOMEM;
    if (informer_add_handler(gk->inf, &cbs, gk) != 0) return ORC_ENOMEM;
    g->n_kinds++;
    return 0;
}

static void gc_stop(void *state)
{
    struct gc *g = state;

    if (g == NULL) return;
    g->stopped = true;
    for (size_t i = 0; i < g->n_kinds; i++) informer_remove_handlers(g->kinds[i].inf, &g->kinds[i]);
    workqueue_free(g->q); /* keys in flight still end on it (workqueue.h) */
    events_free(g->rec);
    g->rec = NULL;
    gc_release(g);
}

static int gc_start(struct ctl_ctx *ctx, void **state)
{
    struct workqueue_config qc = {.name = "garbage-collector", .workers = 8};
    size_t n = 0;
    const struct orc_kind *kinds = orc_kinds(&n);
    struct gc *g = calloc(1, sizeof *g);
    int rv = ORC_ENOMEM;

    if (g == NULL || (g->kinds = calloc(n, sizeof *g->kinds)) == NULL) goto fail;
    g->ctx = ctx;
    g->refs = 1;
    if ((rv = workqueue_new(ctx->clock, &qc, reconcile, g, &g->q)) != 0) goto fail;
    if ((rv = events_new(ctx->api, ctx->clock, "garbage-collector-controller", ctx->opts ? ctx->opts->host : NULL,
                         &g->rec)) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rv = add_kind(g, &kinds[i])) != 0) goto fail;
    *state = g;
    return 0;
fail:
    log_error("gc", "starting the garbage collector: %s", orc_strerror(rv));
    if (g) {
        g->stopped = true;
        for (size_t i = 0; i < g->n_kinds; i++) informer_remove_handlers(g->kinds[i].inf, &g->kinds[i]);
        if (g->kinds && g->n_kinds < n && g->kinds[g->n_kinds].inf) /* added, then failed */
            informer_remove_handlers(g->kinds[g->n_kinds].inf, &g->kinds[g->n_kinds]);
        workqueue_free(g->q);
        events_free(g->rec);
        gc_release(g);
    }
    return rv;
}

const struct ctl_controller ctl_gc = {"garbagecollector", gc_start, gc_stop};
