/* hash.c — FNV-1a and the 8-hex tags derived from names. */
#include <stdio.h>
#include <string.h>

#include "lib/hash.h"

uint64_t orc_fnv1a(uint64_t h, const void *s, size_t len)
{
    const unsigned char *p = s;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void orc_name_tag(const char *name, char out[9])
{
    uint64_t h = orc_fnv1a(ORC_FNV_OFFSET, name, strlen(name));
    snprintf(out, 9, "%08x", (unsigned)(h ^ (h >> 32)));
}
