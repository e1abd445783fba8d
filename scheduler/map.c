/* map.c — the scheduler's string-keyed map (open addressing, linear
 * probing, tombstone-free deletion by back-shifting). */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/orc.h"
#include "scheduler/sched_int.h"

struct slot {
    const char *key;
    void *val;
};

struct sched_map {
    struct slot *slots;
    size_t cap, n; /* cap is a power of two */
};

static size_t hash_of(const char *k)
{
    return (size_t)orc_fnv1a(14695981039346656037ULL, k, strlen(k));
}

struct sched_map *sched_map_new(void)
{
    struct sched_map *m = calloc(1, sizeof *m);
    if (m == NULL) return NULL;
    m->cap = 64;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void sched_map_free(struct sched_map *m)
{
    if (m == NULL) return;
    free(m->slots);
    free(m);
}

static size_t find(const struct sched_map *m, const char *key)
{
    size_t i = hash_of(key) & (m->cap - 1);
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0) i = (i + 1) & (m->cap - 1);
    return i;
}

void *sched_map_get(const struct sched_map *m, const char *key)
{
    return m->slots[find(m, key)].val;
}

static int grow(struct sched_map *m)
{
    struct sched_map bigger = {calloc(m->cap * 2, sizeof(struct slot)), m->cap * 2, 0};
    if (bigger.slots == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) bigger.slots[find(&bigger, m->slots[i].key)] = m->slots[i];
    bigger.n = m->n;
    free(m->slots);
    *m = bigger;
    return 0;
}

int sched_map_put(struct sched_map *m, const char *key, void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m) != 0) return ORC_ENOMEM;
    size_t i = find(m, key);
    if (m->slots[i].key == NULL) m->n++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    return 0;
}

void *sched_map_del(struct sched_map *m, const char *key)
{
    size_t mask = m->cap - 1, i = find(m, key), j = i;
    void *val = m->slots[i].val;
    if (m->slots[i].key == NULL) return NULL;
    m->slots[i].key = NULL;
    m->slots[i].val = NULL;
    m->n--;
    /* Shift back later entries of the probe run so lookups never stop at
     * the hole. */
    for (;;) {
        j = (j + 1) & mask;
        if (m->slots[j].key == NULL) break;
        size_t home = hash_of(m->slots[j].key) & mask;
        bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (between) continue;
        m->slots[i] = m->slots[j];
        m->slots[j].key = NULL;
        m->slots[j].val = NULL;
        i = j;
    }
    return val;
}

size_t sched_map_size(const struct sched_map *m)
{
    return m->n;
}

void sched_map_each(const struct sched_map *m, void (*fn)(void *arg, void *val), void *arg)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) fn(arg, m->slots[i].val);
}
