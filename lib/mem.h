/* mem.h — the process's heap policy: large buffers mapped on their own (so
 * freeing one returns it to the system at once), and free memory handed
 * back after a burst (glibc's malloc_trim); no-ops on other C libraries. */
#ifndef ORC_MEM_H
#define ORC_MEM_H

#include <stddef.h>

/* Call once at program start, before threads and before any jansson
 * value exists: blocks of 256 KiB and more (request bodies, big responses,
 * lists) get their own mappings instead of growing the heap, whatever sizes
 * came and went before; every thread allocates from one heap, grown 4 MiB
 * at a time; jansson's blocks of up to 256 bytes are recycled
 * through a per-thread cache of at most 1 MiB, emptied when the thread
 * exits. */
void orc_mem_setup(void);

/* Returns free heap memory to the system (cost: a walk of the free lists,
 * about a millisecond per 100 MiB of heap). */
void orc_mem_trim(void);

#endif
