/* gc.h — the garbage collector's decisions (controllers/gc_decide.c), kept
 * apart from its wiring (controllers/gc.c) so unit tests drive them with
 * plain objects. They follow Kubernetes' garbage collector
 * (pkg/controller/garbagecollector): a dependent whose owners are all gone
 * is deleted; one with a live owner keeps only its live owners'
 * references; an owner deleted with the orphan finalizer has its
 * references removed from every dependent, one with foregroundDeletion
 * waits for the dependents that block it.
 *
 * Objects are borrowed; returned JSON is a new reference (caller's). */
#ifndef ORC_CONTROLLERS_GC_H
#define ORC_CONTROLLERS_GC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "controllers/ctl.h"

/* The controller (controllers/gc.c), for the manager's table. */
extern const struct ctl_controller ctl_gc;

#define GC_FINALIZER_ORPHAN "orphan"
#define GC_FINALIZER_FOREGROUND "foregroundDeletion"

/* What is known of one ownerReference of a dependent. */
enum gc_owner {
    GC_OWNER_UNKNOWN,      /* not in the cache: read it from the API first */
    GC_OWNER_SOLID,        /* exists with the referenced uid */
    GC_OWNER_DANGLING,     /* absent, or another object (another uid) under its name */
    GC_OWNER_WAITING,      /* exists, being deleted in the foreground (waits for dependents) */
    GC_OWNER_UNRESOLVABLE, /* a kind orc does not serve, or a namespaced owner of a
                              cluster-scoped dependent: never collected for it */
};

/* The state of reference `ref` given `owner`, the object read under the
 * reference's name (NULL when there is none). */
enum gc_owner gc_owner_state(const json_t *ref, const json_t *owner);

/* What to do with a live (not being deleted) dependent. */
enum gc_action {
    GC_KEEP,        /* every owner is alive, or one is unknown yet */
    GC_DELETE,      /* no live owner: delete with `propagation` */
    GC_DROP_REFS,   /* live owners and gone ones: keep only the live references */
};

struct gc_verdict {
    enum gc_action action;
    const char *propagation; /* GC_DELETE: "Background", "Foreground" or "Orphan" (static) */
};

/* Kubernetes' attemptToDeleteItem for states[i] of ownerReferences[i]
 * (n of them). Owners being deleted in the foreground are no live owners:
 * the dependent is then deleted in the foreground too, so its own
 * dependents go first; with no live owner at all, the propagation follows
 * the dependent's own finalizers (orphan, foregroundDeletion, else
 * Background). */
struct gc_verdict gc_decide_dependent(const json_t *obj, const enum gc_owner *states, size_t n);

/* The ownerReferences to keep for GC_DROP_REFS: those whose state is
 * SOLID or UNRESOLVABLE (an array, maybe empty). NULL on ENOMEM. */
json_t *gc_live_refs(const json_t *obj, const enum gc_owner *states, size_t n);

/* What an object being deleted asks of the collector. */
enum gc_owner_step {
    GC_STEP_NONE,       /* not being deleted, or no collector finalizer */
    GC_STEP_ORPHAN,     /* remove our reference from every dependent, then "orphan" */
    GC_STEP_FOREGROUND, /* delete dependents; drop "foregroundDeletion" once no
                           dependent blocks */
};
enum gc_owner_step gc_step(const json_t *obj);

/* Whether the object carries finalizer f. */
bool gc_has_finalizer(const json_t *obj, const char *f);
/* Whether obj is being deleted in the foreground (deletionTimestamp and
 * foregroundDeletion). */
bool gc_deleting_dependents(const json_t *obj);
/* Whether dependent `dep` references owner `uid` with blockOwnerDeletion. */
bool gc_blocks(const json_t *dep, const char *uid);
/* Whether dependent `dep` references owner `uid` at all. */
bool gc_refers_to(const json_t *dep, const char *uid);

/* Merge patches, with the object's resourceVersion as precondition, so a
 * change that raced with ours is read again rather than overwritten:
 * ownerReferences without the reference to `uid`; finalizers without f. */
json_t *gc_patch_without_owner(const json_t *obj, const char *uid);
json_t *gc_patch_refs(const json_t *obj, const json_t *refs);
json_t *gc_patch_without_finalizer(const json_t *obj, const char *f);

#endif
