/* fieldmgr.h — field management as Kubernetes' server-side apply does it
 * (sigs.k8s.io/structured-merge-diff and apimachinery's managedfields):
 * field sets, comparison and merging of objects along orc's schema tables,
 * and the managedFields bookkeeping of Apply and Update operations.
 * Internal to apiserver/; pure functions over jansson trees (no I/O), so
 * they are unit-tested in memory (tests/apiserver/test_fieldmgr.c).
 *
 * Field sets. A set is a JSON tree in FieldsV1 shape: each key a path
 * element ("f:name" a field, "k:{\"name\":\"c\"}" a list item by its keys,
 * "v:\"x\"" a set item by value, "i:3" a list index), and the key "." in a
 * node marks the node's own path as a member. Inside this module a member
 * is always marked with "."; fm_set_to_fields1/fm_set_from_fields1 convert
 * to and from the wire form, where a childless member is written {}.
 *
 * List semantics come from the schema tables (apiserver/schema*.c), as
 * Kubernetes takes them from x-kubernetes-list-type: a list with a merge
 * key is a map list (Container.ports and ServicePort lists key on the port
 * and protocol, as in Kubernetes; topologySpreadConstraints on topologyKey
 * and whenUnsatisfiable), a string list with the merge strategy is a set,
 * every other list is atomic. LabelSelector and the key/field selectors
 * are atomic structs, as their Kubernetes types say. A free-form value
 * (F_FREE, unknown fields of statuses) is treated as structured-merge-diff
 * treats a schema-less ("deduced") value: objects are granular, lists
 * atomic. A map list whose items lack a key or repeat one is atomic.
 *
 * Ownership: every function returns new references (or NULL on allocation
 * failure) and only reads its arguments unless it says otherwise. */
#ifndef ORC_API_FIELDMGR_H
#define ORC_API_FIELDMGR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "apiserver/schema.h"

/* ---- sets (fieldmgr_set.c): no schema needed ---- */

json_t *fm_set_new(void);
bool fm_set_empty(const json_t *s);
bool fm_set_is_member(const json_t *node);
/* The node for path element `pe` below `node`, created when absent. */
json_t *fm_set_child(json_t *node, const char *pe);
/* Marks node's own path a member. */
void fm_set_mark(json_t *node);
json_t *fm_set_union(const json_t *a, const json_t *b);
json_t *fm_set_difference(const json_t *a, const json_t *b);
json_t *fm_set_intersection(const json_t *a, const json_t *b);
/* a without every path that is, or lies below, a member of b. */
json_t *fm_set_recursive_difference(const json_t *a, const json_t *b);
/* Adds b into a in place; returns 0 or ORC_ENOMEM. */
int fm_set_add(json_t *a, const json_t *b);
/* Wire form (FieldsV1), keys sorted as Kubernetes writes them. */
json_t *fm_set_to_fields1(const json_t *s);
/* From the wire form; NULL when `f` is not a FieldsV1 tree (why in err). */
json_t *fm_set_from_fields1(const json_t *f, char *err, size_t errlen);
/* Calls fn with each member's path as Kubernetes prints it
 * (".spec.template.spec.containers[name=\"c\"].image"), in sorted order;
 * stops early when fn returns non-zero, returning that value. */
int fm_set_each_path(const json_t *s, int (*fn)(const char *path, void *arg), void *arg);

/* ---- objects along the schema (fieldmgr_walk.c) ---- */

/* The fields an object sets: its leaves, map-list and set items, empty
 * objects (Kubernetes' ToFieldSet). root NULL: everything deduced. */
json_t *fm_fields_of(const struct api_struct *root, const json_t *obj);
/* What changed from old to new: *added (new paths, with the members of
 * new maps and items), *modified (changed leaves), *removed. Returns 0 or
 * ORC_ENOMEM (then nothing is set). */
int fm_compare(const struct api_struct *root, const json_t *old, const json_t *new_,
               json_t **added, json_t **modified, json_t **removed);
/* config merged into live: objects by field, map lists by key and sets by
 * value in Kubernetes' order, atomic lists and scalars replaced. */
json_t *fm_merge(const struct api_struct *root, const json_t *live, const json_t *config);
/* Removes from obj (in place) every member of s and what lies below it. */
void fm_remove(const struct api_struct *root, json_t *obj, const json_t *s);
/* s plus, as members, the named fields of structs that hold a member
 * (Kubernetes' EnsureNamedFieldsAreMembers). */
json_t *fm_ensure_named(const struct api_struct *root, const json_t *s);

/* ---- managers (fieldmgr.c) ---- */

struct fm_entry {
    char *manager;
    bool apply;        /* operation Apply, else Update */
    char *api_version;
    char *subresource; /* "" for the main resource */
    char time[32];     /* RFC 3339, or "" */
    json_t *set;       /* internal form */
};

struct fm_managed {
    struct fm_entry *v;
    size_t n, cap;
};

/* What a write is, for the bookkeeping. */
struct fm_op {
    const struct api_struct *root;
    const char *api_version;  /* "apps/v1" */
    const char *subresource;  /* "" , "status" or "scale" */
    bool has_status;          /* the kind has a status subresource */
    const char *now;          /* RFC 3339 time of this write */
    const char *manager;
};

void fm_managed_free(struct fm_managed *m);
/* Reads metadata.managedFields of obj. Returns 0 (empty when absent),
 * ORC_EINVAL when they are malformed (why in err), ORC_ENOMEM. */
int fm_managed_decode(const json_t *obj, struct fm_managed *out, char *err, size_t errlen);
/* Sets metadata.managedFields of obj (removed when m is empty), sorted as
 * Kubernetes sorts them. Returns 0 or ORC_ENOMEM. */
int fm_managed_encode(const struct fm_managed *m, json_t *obj);
/* True when the list is Kubernetes' reset request: [] or [{}]. */
bool fm_managed_is_reset(const json_t *list);

/* An Update by op->manager from live (NULL: a create) to next: the
 * manager takes the fields it changed, others lose them and removed fields
 * leave everyone; Update entries past ten are merged, oldest first, into
 * "ancient-changes". Returns 0 or ORC_ENOMEM. */
int fm_update(const struct fm_op *op, struct fm_managed *m, const json_t *live,
              const json_t *next);

/* A conflict: another manager owns `path` with a different value. */
struct fm_conflicts {
    json_t *list; /* [{"manager": text as Kubernetes prints it, "field": path}] */
};

/* Server-side apply of config by op->manager onto live (an object with
 * metadata but no managedFields; for a create, a bare one). On success
 * *out is the merged object (fields the manager stopped applying and no
 * one else owns removed) and m is updated. A field another manager owns
 * whose value would change is a conflict, unless force takes it: then
 * returns ORC_ECONFLICT with c->list set (free it). *out NULL with 0: the
 * apply changes nothing. Returns 0, ORC_ECONFLICT or ORC_ENOMEM. */
int fm_apply(const struct fm_op *op, struct fm_managed *m, const json_t *live,
             const json_t *config, bool force, json_t **out, struct fm_conflicts *c);
/* Kubernetes' message for c: "Apply failed with 1 conflict: conflict with
 * \"x\" using apps/v1: .spec.replicas". malloc'd. */
char *fm_conflict_message(const struct fm_conflicts *c);

#endif
