/* le.h — little-endian integers in the store's wire and file formats
 * (txn entries, load entries, backup headers). */
#ifndef ORC_STORE_LE_H
#define ORC_STORE_LE_H

#include <stdint.h>

static inline unsigned char *store__put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static inline unsigned char *store__put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

static inline uint32_t store__get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static inline uint64_t store__get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#endif
