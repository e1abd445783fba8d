/* cidr.h — IPv4 CIDR ranges and the blocks they are cut into (a Node's pod
 * CIDR out of the cluster CIDR): one CIDR type for the API server and the
 * store's block allocation. */
#ifndef ORC_CIDR_H
#define ORC_CIDR_H

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

#endif
