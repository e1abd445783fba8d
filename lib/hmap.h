/* hmap.h — an intrusive hash map with string keys: the caller embeds a
 * struct orc_hnode in its own record and owns the key's memory, so a map
 * costs one bucket pointer per entry and nothing is copied (the informer's
 * cache and indexes, the work queue's keys).
 *
 * Not thread-safe. Iteration tolerates removing the node just returned
 * (fetch the next one first), not inserting. */
#ifndef ORC_HMAP_H
#define ORC_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct orc_hnode {
    struct orc_hnode *next;
    const char *key; /* owned by the record; must not change while in a map */
    uint64_t hash;
};

struct orc_hmap {
    struct orc_hnode **buckets;
    size_t nbuckets; /* a power of two, or 0 before the first put */
    size_t size;
};

#define ORC_HMAP_INIT {NULL, 0, 0}

/* Frees the bucket array (the records stay the caller's); the map is empty
 * and usable again after. */
void orc_hmap_free(struct orc_hmap *m);

struct orc_hnode *orc_hmap_get(const struct orc_hmap *m, const char *key);
/* Inserts n (n->key set by the caller; the key must not be in the map yet).
 * 0, or ORC_ENOMEM (only when the map has no buckets at all; a failed
 * growth leaves longer chains instead). */
int orc_hmap_put(struct orc_hmap *m, struct orc_hnode *n);
/* Removes n, which must be in the map. */
void orc_hmap_del(struct orc_hmap *m, struct orc_hnode *n);

/* The first node, or NULL; then the one after n, or NULL. */
struct orc_hnode *orc_hmap_first(const struct orc_hmap *m);
struct orc_hnode *orc_hmap_next(const struct orc_hmap *m, const struct orc_hnode *n);

#endif
