/* gc_dependent.c — a live object with ownerReferences: each owner is
 * looked up in the cache, and read from the API when the cache does not
 * hold it under the referenced uid (Kubernetes' GC does the same live
 * read before it calls an owner gone); then gc_decide_dependent keeps the
 * object, deletes it (uid precondition) or drops the references to gone
 * owners (resourceVersion precondition). */
#include <stdlib.h>
#include <string.h>

#include "client/rest.h"
#include "controllers/gc_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define GC_LOG "gc"

static const char *ns_of(const json_t *obj) { return orc_json_str(obj, "metadata.namespace") ?: ""; }
static const char *name_of(const json_t *obj) { return orc_json_str(obj, "metadata.name") ?: ""; }

static void on_written(void *arg, int status, const json_t *body)
{
    struct gc_key_op *op = arg;

    if (status == 200 || status == 201 || status == 202 || status == 404) {
        gc_op_done(op, WQ_DONE);
        return;
    }
    if (status != 409) /* 409: changed or replaced meanwhile; read again */
        log_warn(GC_LOG, "%s: %s", op->key, rest_message(status, body));
    gc_op_done(op, WQ_RETRY);
}

static int delete_dependent(struct gc_key_op *op, const char *propagation)
{
    struct rest_delete_opts o = {orc_json_str(op->obj, "metadata.uid"), NULL, propagation, -1};

    log_debug(GC_LOG, "deleting %s (%s): %s", op->key, propagation,
             strcmp(propagation, "Foreground") == 0 ? "no owner left but ones deleting in the foreground"
                                                     : "its owners are gone");
    return rest_delete(op->g->ctx->api, op->gk->k, ns_of(op->obj), name_of(op->obj), &o, on_written, op);
}

static int drop_refs(struct gc_key_op *op)
{
    json_t *refs = gc_live_refs(op->obj, op->states, op->n_states);
    json_t *patch = refs ? gc_patch_refs(op->obj, refs) : NULL;
    int rv = ORC_ENOMEM;

    log_debug(GC_LOG, "%s: removing the references to owners that are gone", op->key);
    if (patch)
        rv = rest_patch(op->g->ctx->api, op->gk->k, ns_of(op->obj), name_of(op->obj), NULL,
                        "application/merge-patch+json", patch, on_written, op);
    json_decref(refs);
    json_decref(patch);
    return rv;
}

static void decide(struct gc_key_op *op)
{
    struct gc_verdict v;
    int rv = 0;

    if (op->failed || op->g->stopped) {
        gc_op_done(op, op->failed ? WQ_RETRY : WQ_DONE);
        return;
    }
    v = gc_decide_dependent(op->obj, op->states, op->n_states);
    if (v.action == GC_DELETE) rv = delete_dependent(op, v.propagation);
    else if (v.action == GC_DROP_REFS) rv = drop_refs(op);
    else {
        gc_op_done(op, WQ_DONE);
        return;
    }
    if (rv != 0) gc_op_done(op, WQ_RETRY);
}

struct owner_read {
    struct gc_key_op *op;
    size_t i;
};

static void on_owner_read(void *arg, int status, const json_t *body)
{
    struct owner_read *rd = arg;
    struct gc_key_op *op = rd->op;
    const json_t *ref = json_array_get(orc_json_get(op->obj, "metadata.ownerReferences"), rd->i);

    if (status == 200) op->states[rd->i] = gc_owner_state(ref, body);
    else if (status == 404) op->states[rd->i] = GC_OWNER_DANGLING;
    if (op->states[rd->i] == GC_OWNER_DANGLING) gc_note_absent(op->g, orc_json_str(ref, "uid"));
    else {
        log_warn(GC_LOG, "%s: reading its owner %s: %s", op->key, orc_json_str(ref, "name") ?: "",
                 rest_message(status, body));
        op->failed = true;
    }
    free(rd);
    if (--op->pending == 0) decide(op);
}

static void read_owner(struct gc_key_op *op, struct gc_kind *ok, const char *ns, const json_t *ref, size_t i)
{
    struct orc_buf path = ORC_BUF_INIT;
    struct owner_read *rd = malloc(sizeof *rd);

    if (rd == NULL || orc_kind_path(ok->k, ns, orc_json_str(ref, "name"), NULL, &path) != 0) goto fail;
    *rd = (struct owner_read){op, i};
    op->pending++;
    if (rest_call(op->g->ctx->api, "GET", path.data, NULL, NULL, 0, on_owner_read, rd) != 0) {
        op->pending--;
        goto fail;
    }
    orc_buf_free(&path);
    return;
fail:
    free(rd);
    orc_buf_free(&path);
    op->failed = true;
}

/* Kubernetes treats a namespaced owner of a cluster-scoped object as
 * unresolvable and says so with a Warning event on the dependent. */
static void invalid_namespace(struct gc_key_op *op, const json_t *ref)
{
    if (op->g->rec == NULL) return;
    events_record(op->g->rec, op->obj, "Warning", "OwnerRefInvalidNamespace",
                  "ownerRef [%s/%s, namespace: , name: %s, uid: %s] does not exist in namespace \"\"",
                  orc_json_str(ref, "apiVersion") ?: "", orc_json_str(ref, "kind") ?: "",
                  orc_json_str(ref, "name") ?: "", orc_json_str(ref, "uid") ?: "");
}

/* The state the cache tells for reference i; UNKNOWN when only the API can. */
static enum gc_owner cached_state(struct gc_key_op *op, const json_t *ref, struct gc_kind **okp)
{
    struct gc_kind *ok = gc_ref_kind(op->g, ref);
    enum gc_owner st;

    *okp = ok;
    if (ok == NULL) return GC_OWNER_UNRESOLVABLE;
    if (ok->k->namespaced && !op->gk->k->namespaced) {
        invalid_namespace(op, ref);
        return GC_OWNER_UNRESOLVABLE;
    }
    st = gc_owner_state(ref, informer_get(ok->inf, ok->k->namespaced ? ns_of(op->obj) : "",
                                          orc_json_str(ref, "name") ?: ""));
    if (st != GC_OWNER_DANGLING) return st;
    return gc_known_absent(op->g, orc_json_str(ref, "uid")) ? GC_OWNER_DANGLING : GC_OWNER_UNKNOWN;
}

void gc_attempt_delete(struct gc_key_op *op)
{
    const json_t *refs = orc_json_get(op->obj, "metadata.ownerReferences");
    size_t n = json_array_size(refs);
    struct gc_kind **kinds;

    if ((op->states = calloc(n, sizeof *op->states)) == NULL
        || (kinds = calloc(n, sizeof *kinds)) == NULL) {
        gc_op_done(op, WQ_RETRY);
        return;
    }
    op->n_states = n;
    for (size_t i = 0; i < n; i++) op->states[i] = cached_state(op, json_array_get(refs, i), &kinds[i]);
    if (gc_decide_dependent(op->obj, op->states, n).action == GC_KEEP) {
        /* keep on what the cache says, unless an owner it lacks may be gone */
        bool unknown = false;
        for (size_t i = 0; i < n; i++) unknown |= op->states[i] == GC_OWNER_UNKNOWN;
        for (size_t i = 0; i < n; i++)
            if (op->states[i] == GC_OWNER_UNRESOLVABLE) unknown = false;
        if (!unknown) {
            free(kinds);
            gc_op_done(op, WQ_DONE);
            return;
        }
    }
    op->pending = 1; /* held while the reads start */
    for (size_t i = 0; i < n; i++)
        if (op->states[i] == GC_OWNER_UNKNOWN)
            read_owner(op, kinds[i], kinds[i]->k->namespaced ? ns_of(op->obj) : "", json_array_get(refs, i), i);
    free(kinds);
    if (--op->pending == 0) decide(op);
}
