/* write.h — one write request in flight (create, update, patch, delete,
 * status/scale/binding subresources), shared by write.c (the pipeline:
 * read, mutate, guarded txn, retry on conflict) and mutate.c (what each
 * verb does to the stored object). Internal to apiserver/. */
#ifndef ORC_API_WRITE_H
#define ORC_API_WRITE_H

#include "apiserver/quota.h"
#include "apiserver/server.h"

enum write_verb {
    W_CREATE,
    W_UPDATE,
    W_PATCH,
    W_DELETE,
    W_STATUS_UPDATE,
    W_STATUS_PATCH,
    W_SCALE_UPDATE,
    W_SCALE_PATCH,
    W_BINDING,
    W_FINALIZE,
    W_EVICT,
    W_APPROVAL_UPDATE,
    W_APPROVAL_PATCH,
};

enum patch_type { PATCH_NONE, PATCH_MERGE, PATCH_JSON, PATCH_STRATEGIC, PATCH_APPLY };

/* The options of a write as Kubernetes reads them (options.c): dryRun,
 * fieldValidation and fieldManager from the query (CreateOptions,
 * UpdateOptions, PatchOptions); for a delete, DeleteOptions from the query
 * and from the body, the body's winning. Strings are borrowed from the
 * route or from op->input. */
struct write_opts {
    bool dry_run;              /* dryRun=All: every check, nothing stored */
    enum api_unknown_fields unknown; /* fieldValidation: Warn (default), Ignore, Strict */
    long long grace;           /* gracePeriodSeconds; -1: not given */
    const char *policy;        /* propagationPolicy (orphanDependents: "Orphan"), or NULL */
    const char *pre_uid;       /* preconditions (body only), or NULL */
    const char *pre_rv;
    const char *field_manager; /* fieldManager, or NULL */
    bool force;                /* force (server-side apply only) */
};

#define WRITE_MANAGER_MAX 128

/* A Service's clusterIP and nodePorts in one write (svcalloc.c): values
 * the client chose are reserved with keys put in the txn guarded absent
 * (422 when held); values no longer used are released in the txn; the
 * missing ones are slots the store fills (STORE_PUT_ALLOC). */
#define SVC_KEY_LEN 64
struct svc_hold {
    char key[SVC_KEY_LEN];
    char field[48]; /* "spec.clusterIP", "spec.ports[1].nodePort" */
    char value[24];
    bool port;
};
struct svc_slot {
    int port;        /* -1: the clusterIP; else the index in spec.ports */
    char marker[40]; /* stands in the encoded object for the value */
};
struct svc_plan {
    struct svc_hold put[STORE_ALLOC_SLOTS];
    size_t n_put;
    char del[STORE_ALLOC_SLOTS * 2][SVC_KEY_LEN];
    size_t n_del;
    struct svc_slot slot[STORE_ALLOC_SLOTS];
    size_t n_slot;
    int first_guard; /* txn index of put[0]'s guard */
};

struct write_op {
    struct api_server *s;
    struct orc_httpd_req *r;
    struct api_route *rt;
    const struct orc_kind *k;  /* the stored version's row */
    const struct api_kind *ak; /* k's row */
    /* The route's served_only version (lib/kinds.h): bodies come in and
     * answers go out in it, converted; NULL when the route is k's own. */
    const struct orc_kind *view;
    enum write_verb verb;
    enum patch_type ptype;
    json_t *input;     /* request body (object, patch, Scale, Binding, DeleteOptions) */
    struct orc_buf key;
    int attempts;
    struct write_opts opts;
    /* Set by the mutation: */
    bool rv_given;     /* the client named a resourceVersion: conflicts are theirs */
    bool deleting;     /* the txn removes the key */
    bool changed;      /* the mutation changed cur in place (returned it, not a copy) */
    int ok_code;       /* 200 or 201 */
    json_t *response;  /* body to send instead of the object (Status), or NULL */
    bool scale_response; /* answer with the object's Scale view */
    /* A reservation written in the same txn (a Node's pod CIDR): on create
     * put, guarded absent; on delete removed. Empty when none. */
    char side_key[160];
    /* A Node whose block the store picks (STORE_PUT_ALLOC): the text in
     * the object standing for it. Empty when none. */
    char alloc_marker[48];
    /* A second object put in the same txn, guarded on the revision it was
     * read at (an eviction's PodDisruptionBudget): a concurrent write to it
     * makes this write retry. Empty also_key: none. */
    struct orc_buf also_key, also_val;
    int64_t also_rev;
    struct svc_plan svc; /* a Service's reservations (svcalloc.c) */
    /* A create's ResourceQuotas, their status put in its txn (quota.c),
     * and the object kept while it waits to count again after a quota
     * changed under it. */
    struct quota_plan quota;
    json_t *quota_retry;
    /* Field management (apply.c): the manager of this write (fieldManager,
     * or the User-Agent's product as Kubernetes derives it); creating: a
     * server-side apply creates the object; fields_done: managedFields
     * are already set (an apply), no Update is recorded. */
    char manager[WRITE_MANAGER_MAX + 1];
    bool creating;
    bool fields_done;
};

/* Each returns the object to store (new reference), or NULL after having
 * answered the request with the error. `cur` is the stored object with
 * metadata.resourceVersion set. */
json_t *mut_update(struct write_op *op, const json_t *cur, json_t *input);
json_t *mut_patch(struct write_op *op, const json_t *cur);
json_t *mut_status(struct write_op *op, const json_t *cur);
json_t *mut_scale(struct write_op *op, const json_t *cur);
/* cur is the decoded object attempt() owns; a mutation returns a new tree, or
 * cur itself edited in place with op->changed set (mut_binding). */
json_t *mut_binding(struct write_op *op, const json_t *cur);
json_t *mut_delete(struct write_op *op, const json_t *cur);
json_t *mut_finalize(struct write_op *op, const json_t *cur);
/* pods/eviction (evict.c): a delete that PodDisruptionBudgets may refuse (429). */
json_t *mut_evict(struct write_op *op, const json_t *cur);
/* Checks the Eviction body and replaces op->input with its deleteOptions.
 * Returns 0, or answers 400 and fails. */
int write_evict_input(struct write_op *op);

/* New objects: kind/apiVersion/namespace checks, generateName, server
 * fields, schema/defaults/validation. Returns 0 or answers and fails. */
int mut_create(struct write_op *op, json_t *obj);

/* Schema pass, defaults and validation (old: NULL on create). Warnings go
 * to the response; errors answer 422 and return ORC_EINVAL. */
int write_admit(struct write_op *op, json_t *obj, const json_t *old);

/* Applies op->input as a patch of op->ptype to a copy of `target` (the
 * stored object, or its Scale for W_SCALE_PATCH); on error answers
 * (400/409/422) and returns NULL. */
json_t *write_apply_patch(struct write_op *op, const json_t *target);

/* ---- field management (apply.c) ---- */

/* Records this write in next's metadata.managedFields as an Update by
 * op->manager (cur: the stored object, NULL for a create). Returns 0, or
 * answers 500 and fails. */
int write_track(struct write_op *op, const json_t *cur, json_t *next);
/* Server-side apply (PATCH application/apply-patch+yaml) onto cur: the
 * object to store, or NULL after answering (409 naming the conflicts,
 * 400 for a malformed configuration). */
json_t *mut_apply(struct write_op *op, const json_t *cur);
/* Server-side apply to the status subresource: cur merged with the
 * configuration, its managedFields set (the caller keeps only status and
 * managedFields), or NULL after answering. */
json_t *write_apply_status(struct write_op *op, const json_t *cur);
/* The apply of an object that does not exist: a create (op->creating set),
 * committed like a POST. Answers on error. */
void write_apply_create(struct write_op *op);
/* The schema pass alone (pruning unknown fields as fieldValidation says,
 * normalizing values): 0, or answers 400/422 and fails. */
int write_schema_pass(struct write_op *op, json_t *obj);
/* Commits a new object (write.c): create guards, op->ok_code 201. */
void write_commit_create(struct write_op *op, json_t *obj);

/* Reads and checks op->opts from the request (after op->verb is known and
 * op->input parsed). Answers 400 (malformed) or 422 (as Kubernetes'
 * option validation) and returns ORC_EINVAL when they are not valid. */
int write_read_options(struct write_op *op);

/* The client's resourceVersion precondition in `obj`, if any, against cur:
 * answers 409 and returns ORC_ECONFLICT on mismatch. */
int write_check_rv(struct write_op *op, const json_t *obj, const json_t *cur);

/* ---- Services' clusterIPs and nodePorts (svcalloc.c) ---- */

/* Plans a new Service's reservations into op->svc, setting markers where
 * the store picks. Returns 0, or answers 422 and fails. */
int svc_plan_create(struct write_op *op, json_t *svc);
/* The same for an update (next: the new object; op->deleting: released). */
int svc_plan_update(struct write_op *op, const json_t *cur, json_t *next);
/* The STORE_PUT_ALLOC value for op->svc's slots, from the encoded object. */
int svc_alloc_value(struct write_op *op, const struct orc_buf *val, struct orc_buf *out);
/* Puts what the store picked (res->block) in place of the markers; with
 * block NULL (a dry run) previews the lowest free values now. */
void svc_settle(struct write_op *op, json_t *svc, const char *block);
/* Answers a failed txn that was the plan's fault (a chosen value held, a
 * pool full); false when it was not. */
bool svc_refused(struct write_op *op, const struct store_txn_result *res, const json_t *svc);

#endif
