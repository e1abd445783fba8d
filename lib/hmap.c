/* hmap.c — chained hash map over FNV-1a, doubling its buckets as it grows. */
#include "lib/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/orc.h"

#define MIN_BUCKETS 8

void orc_hmap_free(struct orc_hmap *m)
{
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->size = 0;
}

static uint64_t hash_key(const char *key) { return orc_fnv1a(ORC_FNV_OFFSET, key, strlen(key)); }

struct orc_hnode *orc_hmap_get(const struct orc_hmap *m, const char *key)
{
    uint64_t h;

    if (m->size == 0) return NULL;
    h = hash_key(key);
    for (struct orc_hnode *n = m->buckets[h & (m->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0) return n;
    return NULL;
}

static int grow(struct orc_hmap *m)
{
    size_t nb = m->nbuckets ? m->nbuckets * 2 : MIN_BUCKETS;
    struct orc_hnode **b = calloc(nb, sizeof *b);

    if (b == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct orc_hnode *n = m->buckets[i], *next;
        for (; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    return 0;
}

int orc_hmap_put(struct orc_hmap *m, struct orc_hnode *n)
{
    struct orc_hnode **slot;

    if (m->size >= m->nbuckets && grow(m) != 0 && m->nbuckets == 0) return ORC_ENOMEM;
    n->hash = hash_key(n->key);
    slot = &m->buckets[n->hash & (m->nbuckets - 1)];
    n->next = *slot;
    *slot = n;
    m->size++;
    return 0;
}

void orc_hmap_del(struct orc_hmap *m, struct orc_hnode *n)
{
    struct orc_hnode **p = &m->buckets[n->hash & (m->nbuckets - 1)];

    while (*p != n) p = &(*p)->next;
    *p = n->next;
    n->next = NULL;
    m->size--;
}

static struct orc_hnode *scan_from(const struct orc_hmap *m, size_t i)
{
    for (; i < m->nbuckets; i++)
        if (m->buckets[i]) return m->buckets[i];
    return NULL;
}

struct orc_hnode *orc_hmap_first(const struct orc_hmap *m) { return scan_from(m, 0); }

struct orc_hnode *orc_hmap_next(const struct orc_hmap *m, const struct orc_hnode *n)
{
    return n->next ? n->next : scan_from(m, (n->hash & (m->nbuckets - 1)) + 1);
}
