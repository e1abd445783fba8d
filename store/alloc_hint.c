/* alloc_hint.c — where STORE_PUT_ALLOC's search for the lowest free value
 * of a pool may start: below the hint every value is reserved, so a create
 * at 10,000 Services looks at one or two keys instead of all of them. The
 * hint only saves work: the value found is the lowest free one whatever the
 * hint, so members with different hints (one restarted, one not) still
 * apply the same txn the same way. It is kept true by lowering it when a
 * reservation key under its prefix is deleted, and dropped (searches start
 * at 0 again) whenever the database changes in any other way: a txn rolled
 * back, a snapshot or backup loaded. */
#include <string.h>

#include "lib/cidr.h"
#include "store/store_int.h"

static bool same_slot(const struct store_alloc_hint *h, const struct store_alloc_slot *sl)
{
    return h->used && h->bits == sl->bits && strcmp(h->prefix, sl->prefix) == 0
           && strcmp(h->range, sl->range) == 0;
}

uint64_t *store__hint_for(store *s, const struct store_alloc_slot *sl)
{
    struct store_alloc_hint *free_slot = NULL;

    if (strlen(sl->prefix) >= sizeof s->hints[0].prefix || strlen(sl->range) >= sizeof s->hints[0].range)
        return NULL;
    for (size_t i = 0; i < STORE_ALLOC_HINTS; i++) {
        if (same_slot(&s->hints[i], sl)) return &s->hints[i].from;
        if (!s->hints[i].used && !free_slot) free_slot = &s->hints[i];
    }
    if (!free_slot) return NULL; /* more pools than hints: search from 0 */
    *free_slot = (struct store_alloc_hint){.used = true, .bits = sl->bits, .from = 0};
    strcpy(free_slot->prefix, sl->prefix);
    strcpy(free_slot->range, sl->range);
    return &free_slot->from;
}

void store__hint_deleted(store *s, const char *key)
{
    for (size_t i = 0; i < STORE_ALLOC_HINTS; i++) {
        struct store_alloc_hint *h = &s->hints[i];
        size_t plen = strlen(h->prefix);
        struct orc_pool pool;
        if (!h->used || strncmp(key, h->prefix, plen) != 0) continue;
        int64_t at = orc_pool_parse(h->range, h->bits, &pool) == 0 ? orc_pool_index(&pool, key + plen) : -1;
        if (at < 0) h->from = 0; /* not a value of the pool: be safe */
        else if ((uint64_t)at < h->from) h->from = (uint64_t)at;
    }
}

void store__hint_reset(store *s)
{
    memset(s->hints, 0, sizeof s->hints);
}
