/* mem.c — heap policy and trimming (glibc; no-ops elsewhere), and a
 * per-thread cache of jansson's small blocks. */
#include "lib/mem.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc */

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MMAP_FROM (256 * 1024)
#define TRIM_FROM (32 * 1024 * 1024)
#define TOP_PAD (4 * 1024 * 1024)

/* ---- jansson's small blocks ----
 * Every object the API reads or writes becomes a few hundred jansson nodes
 * of 16-256 bytes, allocated and freed within a request; glibc's own
 * per-thread cache keeps only 7 blocks per size, so most of them went
 * through its slower bins (a tenth of the leader's CPU in a burst of pod
 * creates). This keeps up to CACHE_BYTES of them per thread. Blocks are
 * plain malloc blocks (a list entry is sized by malloc_usable_size), so
 * either side may free what the other allocated. Off under AddressSanitizer,
 * which must see every free. */
#if defined(__SANITIZE_ADDRESS__)
#define ORC_NO_BLOCK_CACHE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORC_NO_BLOCK_CACHE 1
#endif
#endif

#if defined(__GLIBC__) && !defined(ORC_NO_BLOCK_CACHE)
#define CACHE_CLASSES 16       /* 16, 32, ... 256 bytes */
#define CACHE_BYTES (1 << 20)  /* per thread */

struct block {
    struct block *next;
};

struct block_cache {
    struct block *head[CACHE_CLASSES + 1];
    size_t bytes;
    bool registered; /* its drain runs when the thread exits */
};

static __thread struct block_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_drain(void *arg)
{
    struct block_cache *c = arg;
    for (int k = 1; k <= CACHE_CLASSES; k++) {
        while (c->head[k]) {
            struct block *b = c->head[k];
            c->head[k] = b->next;
            free(b);
        }
    }
    c->bytes = 0;
    c->registered = false;
}

static void cache_make_key(void)
{
    if (pthread_key_create(&cache_key, cache_drain) != 0) abort();
}

static void *cached_malloc(size_t n)
{
    size_t k = n ? (n + 15) / 16 : 1;
    struct block *b;

    if (k > CACHE_CLASSES) return malloc(n);
    if ((b = cache.head[k]) == NULL) return malloc(k * 16);
    cache.head[k] = b->next;
    cache.bytes -= k * 16;
    return b;
}

static void cached_free(void *p)
{
    size_t k;

    if (p == NULL) return;
    k = malloc_usable_size(p) / 16; /* a block of class k holds at least 16k bytes */
    if (k == 0 || k > CACHE_CLASSES || cache.bytes + k * 16 > CACHE_BYTES) {
        free(p);
        return;
    }
    if (!cache.registered) {
        if (pthread_once(&cache_once, cache_make_key) != 0
            || pthread_setspecific(cache_key, &cache) != 0) {
            free(p);
            return;
        }
        cache.registered = true;
    }
    ((struct block *)p)->next = cache.head[k];
    cache.head[k] = p;
    cache.bytes += k * 16;
}

static void cache_jansson(void)
{
    json_set_alloc_funcs(cached_malloc, cached_free);
}
#else
static void cache_jansson(void)
{
}
#endif

void orc_mem_setup(void)
{
#ifdef __GLIBC__
    /* A fixed threshold also stops glibc from raising it after big blocks
     * are freed, which would put later ones on the heap, where they stay. */
    mallopt(M_MMAP_THRESHOLD, MMAP_FROM);
    /* Fixing that threshold also fixes the heap's own trimming at 128 KiB,
     * which hands pages back and faults them in again at a high rate under
     * load; orc_mem_trim() gives memory back after bursts instead. */
    mallopt(M_TRIM_THRESHOLD, TRIM_FROM);
    /* One heap for every thread. glibc gives other threads heaps of their
     * own that grow by one mprotect call per page or so: the controllers'
     * informers filling with 10,000 pods spent 3 % of the leader's CPU
     * there. The main heap grows TOP_PAD at a time (untouched pages cost
     * no memory); orcd's threads allocate little outside jansson's blocks,
     * which the per-thread cache below serves without the heap's lock (no
     * lock waits showed in a profile of a 10,000-pod burst). */
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_TOP_PAD, TOP_PAD);
#endif
    cache_jansson();
}

void orc_mem_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
