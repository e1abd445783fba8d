/* mem.c — heap policy and trimming (glibc; no-ops elsewhere). */
#include "lib/mem.h"

#include <stdlib.h> /* defines __GLIBC__ on glibc */

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MMAP_FROM (256 * 1024)
#define TRIM_FROM (32 * 1024 * 1024)

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
#endif
}

void orc_mem_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
