/* cidr.h — IPv4 CIDR ranges and the blocks they are cut into (a Node's pod
 * CIDR out of the cluster CIDR): one CIDR type for the API server and the
 * store's block allocation. */
#ifndef ORC_CIDR_H
#define ORC_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORC_CIDR_TEXT 20 /* "255.255.255.255/32" and its NUL */

struct orc_cidr4 {
    uint32_t base;   /* host order, host bits cleared */
    unsigned prefix; /* 0..32 */
};

/* "10.42.0.0/16" (host bits are cleared). ORC_EINVAL unless an IPv4 address,
 * '/', and a prefix length 0..32. */
int orc_cidr4_parse(const char *s, struct orc_cidr4 *out);

/* How many /bits blocks `range` holds; 0 when bits is outside prefix..32. */
uint64_t orc_cidr4_blocks(const struct orc_cidr4 *range, unsigned bits);

/* The i-th /bits block of range as text ("10.42.3.0/24") into out (n >=
 * ORC_CIDR_TEXT); i must be below orc_cidr4_blocks(). */
void orc_cidr4_block(const struct orc_cidr4 *range, unsigned bits, uint64_t i, char *out, size_t n);

/* A pool of values handed out one by one (store_alloc's ranges):
 * "10.42.0.0/16" with bits: its /bits blocks ("10.42.3.0/24");
 * "ip:10.43.0.0/16": its addresses but the network and broadcast ones
 * ("10.43.0.1"); "port:30000-32767": its numbers ("30000"). */
enum orc_pool_type { ORC_POOL_BLOCKS, ORC_POOL_ADDRS, ORC_POOL_PORTS };
struct orc_pool {
    enum orc_pool_type type;
    struct orc_cidr4 cidr; /* BLOCKS, ADDRS */
    unsigned bits;         /* BLOCKS */
    uint32_t first;        /* ADDRS (host order), PORTS: the first value */
    uint64_t size;         /* how many values */
};

/* ORC_EINVAL when range is none of the forms above. */
int orc_pool_parse(const char *range, unsigned bits, struct orc_pool *p);

/* The i-th value (i < size) as text into out (n >= ORC_CIDR_TEXT). */
void orc_pool_item(const struct orc_pool *p, uint64_t i, char *out, size_t n);

/* The index of a value given as text (ADDRS, PORTS), or -1 when it is not
 * one of the pool's. */
int64_t orc_pool_index(const struct orc_pool *p, const char *item);

#endif
