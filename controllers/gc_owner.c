/* gc_owner.c — an object being deleted with one of the collector's
 * finalizers. orphan: every dependent loses its reference to the owner
 * (resourceVersion precondition), then the finalizer goes and the API
 * finishes the deletion. foregroundDeletion: the dependents are queued
 * (each finds its owner waiting and is deleted in the foreground); once
 * none left blocks the owner (blockOwnerDeletion), the finalizer goes.
 * A dependent going away or letting go of the owner queues the owner
 * again (gc.c's handlers). */
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/gc_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define GC_LOG "gc"

static const char *ns_of(const json_t *obj) { return orc_json_str(obj, "metadata.namespace") ?: ""; }
static const char *name_of(const json_t *obj) { return orc_json_str(obj, "metadata.name") ?: ""; }
static const char *uid_of(const json_t *obj) { return orc_json_str(obj, "metadata.uid"); }

static void on_written(void *arg, int status, const json_t *body)
{
    struct gc_key_op *op = arg;

    if (status == 200 || status == 404) {
        gc_op_done(op, WQ_DONE);
        return;
    }
    if (status != 409) log_warn(GC_LOG, "%s: %s", op->key, rest_message(status, body));
    gc_op_done(op, WQ_RETRY);
}

static void drop_finalizer(struct gc_key_op *op, const char *f)
{
    json_t *patch = gc_patch_without_finalizer(op->obj, f);
    int rv = ORC_ENOMEM;

    if (op->g->stopped) {
        json_decref(patch);
        gc_op_done(op, WQ_DONE);
        return;
    }
    log_debug(GC_LOG, "%s: %s, removing the %s finalizer", op->key,
             strcmp(f, GC_FINALIZER_ORPHAN) == 0 ? "dependents orphaned" : "no dependent blocks", f);
    if (patch)
        rv = rest_patch(op->g->ctx->api, op->gk->k, ns_of(op->obj), name_of(op->obj), NULL,
                        "application/merge-patch+json", patch, on_written, op);
    json_decref(patch);
    if (rv != 0) gc_op_done(op, WQ_RETRY);
}

/* ---- orphan ---- */

static void orphan_step_done(struct gc_key_op *op)
{
    if (--op->pending > 0) return;
    if (op->failed) gc_op_done(op, WQ_RETRY);
    else drop_finalizer(op, GC_FINALIZER_ORPHAN);
}

static void on_orphaned(void *arg, int status, const json_t *body)
{
    struct gc_key_op *op = arg;

    if (status != 200 && status != 404) {
        if (status != 409) log_warn(GC_LOG, "%s: orphaning a dependent: %s", op->key, rest_message(status, body));
        op->failed = true;
    }
    orphan_step_done(op);
}

static void orphan_one(void *arg, struct gc_kind *gk, const json_t *dep)
{
    struct gc_key_op *op = arg;
    json_t *patch;

    if (op->failed) return;
    if ((patch = gc_patch_without_owner(dep, uid_of(op->obj))) == NULL) {
        op->failed = true;
        return;
    }
    op->pending++;
    if (rest_patch(op->g->ctx->api, gk->k, ns_of(dep), name_of(dep), NULL, "application/merge-patch+json",
                   patch, on_orphaned, op) != 0) {
        op->pending--;
        op->failed = true;
    }
    json_decref(patch);
}

void gc_orphan_dependents(struct gc_key_op *op)
{
    op->pending = 1; /* held while the patches start */
    gc_each_dependent(op->g, uid_of(op->obj), orphan_one, op);
    orphan_step_done(op);
}

/* ---- foreground ---- */

struct fg_scan {
    const char *uid;
    size_t blocking;
};

static void fg_one(void *arg, struct gc_kind *gk, const json_t *dep)
{
    struct fg_scan *s = arg;

    if (gc_blocks(dep, s->uid)) s->blocking++;
    if (orc_json_get(dep, "metadata.deletionTimestamp") == NULL) gc_enqueue_obj(gk, dep);
}

void gc_foreground(struct gc_key_op *op)
{
    struct fg_scan s = {uid_of(op->obj), 0};

    gc_each_dependent(op->g, s.uid, fg_one, &s);
    if (s.blocking == 0) drop_finalizer(op, GC_FINALIZER_FOREGROUND);
    else gc_op_done(op, WQ_DONE); /* queued again as dependents go */
}
