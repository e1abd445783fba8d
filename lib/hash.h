/* hash.h — FNV-1a, for short stable names derived from longer ones (the
 * node agent names host objects: bridges, chains, cgroups, from it). */
#ifndef ORC_HASH_H
#define ORC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define ORC_FNV_OFFSET 0xcbf29ce484222325ull

/* Continues hash h over len bytes of s (start with ORC_FNV_OFFSET). */
uint64_t orc_fnv1a(uint64_t h, const void *s, size_t len);
/* "8 hex digits" naming `name` (32 bits folded from the 64-bit hash). */
void orc_name_tag(const char *name, char out[9]);

#endif
