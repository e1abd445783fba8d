/* smp.h — strategic merge patch, applied as the Kubernetes API server
 * applies it (apimachinery's strategicpatch, server side). Objects merge
 * key by key and null deletes a key; a list merges only where the schema
 * says so — lists of objects by a merge key, lists of scalars as a set —
 * and every other list is replaced whole. Directives: {"$patch": "replace"
 * | "delete"} in an object, list elements {"$patch": "delete", key: v} and
 * {"$patch": "replace"}, "$setElementOrder/<list>", "$retainKeys",
 * "$deleteFromPrimitiveList/<list>". Ordering follows Kubernetes: the
 * $setElementOrder list, then the patch's order, then the live list's.
 *
 * lib/ knows no API types: the caller describes its schema through a
 * lookup function (apiserver/schema*.c hold Kubernetes' patchStrategy and
 * patchMergeKey tags next to the field tables). */
#ifndef ORC_SMP_H
#define ORC_SMP_H

#include <jansson.h>
#include <stddef.h>

/* A field's patchStrategy, as bits. 0: objects merge, lists are replaced. */
enum {
    ORC_SMP_MERGE = 1u,       /* a list merges: by merge_key (objects) or as a set (scalars) */
    ORC_SMP_RETAIN_KEYS = 2u, /* kubectl sends $retainKeys here (honoured wherever it appears) */
    ORC_SMP_REPLACE = 4u,     /* an object is replaced whole instead of merged */
};

struct orc_smp_field {
    unsigned strategy;     /* ORC_SMP_* bits */
    const char *merge_key; /* patchMergeKey of a merging list of objects ("name"), else NULL */
    const void *type;      /* the caller's schema node for the value (for each element of a
                            * list); NULL when nothing is known below */
};

/* Fills *out (zeroed by the caller) for field `key` of an object whose
 * schema node is `type` (never NULL). Leaves it zeroed for a field it does
 * not know: such values merge as objects and replace as lists. */
typedef void (*orc_smp_lookup_fn)(const void *type, const char *key, struct orc_smp_field *out);

struct orc_smp_schema {
    orc_smp_lookup_fn lookup;
    const void *root; /* node of the document itself; NULL: nothing known */
};

/* Applies `patch` (a JSON object; only read) to the object *doc. All or
 * nothing: on success *doc is replaced by the patched document (the old
 * reference released), on error it is left as it was. schema may be NULL.
 * Values taken whole from the patch lose their null members and any
 * directive (as Kubernetes' decoding would drop them).
 * Returns 0; ORC_EPROTO for a malformed patch (an unknown $patch value, a
 * directive of the wrong shape: Kubernetes answers 400); ORC_EINVAL when
 * the patch does not fit the document (a merging list element without its
 * merge key, mixed element types, lists of lists, a $setElementOrder list
 * contradicting the patch); ORC_ENOMEM. errmsg (errlen bytes, may be NULL)
 * says why. */
int orc_smp_apply(json_t **doc, const json_t *patch, const struct orc_smp_schema *schema,
                  char *errmsg, size_t errlen);

#endif
