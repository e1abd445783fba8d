/* gc_decide.c — the garbage collector's decisions on plain objects: the
 * state of an owner reference, what to do with a dependent, what an owner
 * being deleted asks for, and the patches that carry it out (see gc.h). */
#include <string.h>

#include "controllers/gc.h"
#include "lib/json.h"

static bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

bool gc_has_finalizer(const json_t *obj, const char *f)
{
    size_t i;
    json_t *v;

    json_array_foreach(orc_json_get(obj, "metadata.finalizers"), i, v)
        if (str_eq(json_string_value(v), f)) return true;
    return false;
}

static bool deleting(const json_t *obj) { return orc_json_get(obj, "metadata.deletionTimestamp") != NULL; }

bool gc_deleting_dependents(const json_t *obj)
{
    return deleting(obj) && gc_has_finalizer(obj, GC_FINALIZER_FOREGROUND);
}

enum gc_owner gc_owner_state(const json_t *ref, const json_t *owner)
{
    if (owner == NULL || !str_eq(orc_json_str(owner, "metadata.uid"), orc_json_str(ref, "uid")))
        return GC_OWNER_DANGLING;
    return gc_deleting_dependents(owner) ? GC_OWNER_WAITING : GC_OWNER_SOLID;
}

/* The propagation a dependent without live owners is deleted with: what
 * its own finalizers already ask for (Kubernetes keeps a pending orphan or
 * foreground deletion), else Background. */
static const char *own_propagation(const json_t *obj)
{
    if (gc_has_finalizer(obj, GC_FINALIZER_ORPHAN)) return "Orphan";
    if (gc_has_finalizer(obj, GC_FINALIZER_FOREGROUND)) return "Foreground";
    return "Background";
}

struct gc_verdict gc_decide_dependent(const json_t *obj, const enum gc_owner *states, size_t n)
{
    struct gc_verdict v = {GC_KEEP, NULL};
    size_t solid = 0, dangling = 0, waiting = 0;

    if (n == 0 || deleting(obj)) return v;
    for (size_t i = 0; i < n; i++) {
        switch (states[i]) {
        case GC_OWNER_UNKNOWN:
        case GC_OWNER_UNRESOLVABLE: return v; /* never collected on a guess */
        case GC_OWNER_SOLID: solid++; break;
        case GC_OWNER_DANGLING: dangling++; break;
        case GC_OWNER_WAITING: waiting++; break;
        }
    }
    if (solid > 0) {
        if (dangling + waiting > 0) v.action = GC_DROP_REFS;
        return v;
    }
    v.action = GC_DELETE;
    v.propagation = waiting > 0 ? "Foreground" : own_propagation(obj);
    return v;
}

json_t *gc_live_refs(const json_t *obj, const enum gc_owner *states, size_t n)
{
    json_t *refs = orc_json_get(obj, "metadata.ownerReferences"), *out = json_array(), *r;
    size_t i;

    if (out == NULL) return NULL;
    json_array_foreach(refs, i, r) {
        if (i >= n) break;
        if ((states[i] == GC_OWNER_SOLID || states[i] == GC_OWNER_UNRESOLVABLE)
            && json_array_append(out, r) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

enum gc_owner_step gc_step(const json_t *obj)
{
    if (!deleting(obj)) return GC_STEP_NONE;
    if (gc_has_finalizer(obj, GC_FINALIZER_ORPHAN)) return GC_STEP_ORPHAN;
    if (gc_has_finalizer(obj, GC_FINALIZER_FOREGROUND)) return GC_STEP_FOREGROUND;
    return GC_STEP_NONE;
}

static const json_t *ref_to(const json_t *dep, const char *uid)
{
    size_t i;
    json_t *r;

    json_array_foreach(orc_json_get(dep, "metadata.ownerReferences"), i, r)
        if (str_eq(orc_json_str(r, "uid"), uid)) return r;
    return NULL;
}

bool gc_refers_to(const json_t *dep, const char *uid) { return ref_to(dep, uid) != NULL; }

bool gc_blocks(const json_t *dep, const char *uid)
{
    const json_t *r = ref_to(dep, uid);
    return r && json_is_true(json_object_get(r, "blockOwnerDeletion"));
}

/* {"metadata":{"resourceVersion":RV, field: value}}; an empty list becomes
 * null, which a merge patch reads as "remove the field". */
static json_t *meta_patch(const json_t *obj, const char *field, json_t *value)
{
    const char *rv = orc_json_str(obj, "metadata.resourceVersion");
    json_t *meta, *patch;

    if (value == NULL) return NULL;
    if (json_array_size(value) == 0) {
        json_decref(value);
        value = json_null();
    }
    meta = json_pack("{s:o}", field, value);
    if (meta && rv) json_object_set_new(meta, "resourceVersion", json_string(rv));
    patch = meta ? json_pack("{s:o}", "metadata", meta) : NULL;
    return patch;
}

json_t *gc_patch_refs(const json_t *obj, const json_t *refs)
{
    return meta_patch(obj, "ownerReferences", json_deep_copy(refs));
}

json_t *gc_patch_without_owner(const json_t *obj, const char *uid)
{
    json_t *out = json_array(), *r;
    size_t i;

    if (out == NULL) return NULL;
    json_array_foreach(orc_json_get(obj, "metadata.ownerReferences"), i, r)
        if (!str_eq(orc_json_str(r, "uid"), uid)) json_array_append(out, r);
    return meta_patch(obj, "ownerReferences", out);
}

json_t *gc_patch_without_finalizer(const json_t *obj, const char *f)
{
    json_t *out = json_array(), *v;
    size_t i;

    if (out == NULL) return NULL;
    json_array_foreach(orc_json_get(obj, "metadata.finalizers"), i, v)
        if (!str_eq(json_string_value(v), f)) json_array_append(out, v);
    return meta_patch(obj, "finalizers", out);
}
