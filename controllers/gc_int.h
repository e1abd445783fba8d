/* gc_int.h — the garbage collector's wiring, shared by controllers/gc.c
 * (informers, keys, queue), gc_dependent.c (a dependent: resolve its
 * owners, then keep, delete or drop references) and gc_owner.c (an owner
 * being deleted: orphan its dependents or wait for them). Internal to
 * controllers/gc*.c. */
#ifndef ORC_CONTROLLERS_GC_INT_H
#define ORC_CONTROLLERS_GC_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "controllers/ctl.h"
#include "controllers/gc.h"
#include "lib/kinds.h"

#define GC_KEY_LEN 600
#define GC_ABSENT_MAX 512 /* owner uids known gone (Kubernetes' absentOwnerCache) */
#define GC_UID_LEN 64

struct gc;

/* One watched kind: its informer (the shared set's) and handler arg. */
struct gc_kind {
    struct gc *gc;
    const struct orc_kind *k;
    informer *inf;
    char qname[96]; /* "deployments.apps", "pods": the key's first part */
};

struct gc {
    struct ctl_ctx *ctx;  /* borrowed from the manager */
    workqueue *q;
    event_recorder *rec;
    struct gc_kind *kinds; /* one per watched kind */
    size_t n_kinds;
    /* uids read from the API as gone: uids are never reused, so the other
     * dependents of a deleted owner skip that read (a ring, oldest out) */
    char absent[GC_ABSENT_MAX][GC_UID_LEN];
    size_t absent_next;
    int refs;             /* the controller's, plus one per key in flight */
    bool stopped;         /* no API call, event or queue add after stop */
};

/* One key being processed: a copy of the cached object and the state of
 * its API calls. Ends with gc_op_done. */
struct gc_key_op {
    struct gc *g;
    struct gc_kind *gk;
    json_t *obj;            /* owned copy */
    enum gc_owner *states;  /* per ownerReference (gc_dependent.c) */
    size_t n_states;
    size_t pending;         /* calls in flight */
    bool failed;            /* one of them failed: retry the key */
    char key[];
};

struct gc_key_op *gc_op_new(struct gc *g, struct gc_kind *gk, const char *key, const json_t *obj);
/* Ends the key with `outcome` (WQ_DONE, WQ_RETRY, or a delay) and frees op. */
void gc_op_done(struct gc_key_op *op, int64_t outcome);

struct gc_kind *gc_kind_of(struct gc *g, const struct orc_kind *k);
/* The watched kind an ownerReference names, or NULL. */
struct gc_kind *gc_ref_kind(struct gc *g, const json_t *ref);
void gc_enqueue(struct gc_kind *gk, const char *ns, const char *name);
void gc_enqueue_obj(struct gc_kind *gk, const json_t *obj);
/* Calls fn for each cached object (of any watched kind) with an
 * ownerReference to uid. */
void gc_each_dependent(struct gc *g, const char *uid,
                       void (*fn)(void *arg, struct gc_kind *gk, const json_t *dep), void *arg);

/* The absent-owner cache. */
bool gc_known_absent(const struct gc *g, const char *uid);
void gc_note_absent(struct gc *g, const char *uid);

/* gc_dependent.c: a live object with ownerReferences. */
void gc_attempt_delete(struct gc_key_op *op);
/* gc_owner.c: an object being deleted with a collector finalizer. */
void gc_orphan_dependents(struct gc_key_op *op);
void gc_foreground(struct gc_key_op *op);

#endif
