/* cidr.c — IPv4 CIDR ranges and their blocks. */
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

int orc_cidr4_parse(const char *s, struct orc_cidr4 *out)
{
    char ip[INET_ADDRSTRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    struct in_addr a;
    char *end;
    long p;

    if (slash == NULL || (size_t)(slash - s) >= sizeof ip || slash[1] < '0' || slash[1] > '9')
        return ORC_EINVAL;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    p = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, ip, &a) != 1 || *end || p < 0 || p > 32) return ORC_EINVAL;
    out->prefix = (unsigned)p;
    out->base = p == 0 ? 0 : ntohl(a.s_addr) & (uint32_t)(~0u << (32 - p));
    return 0;
}

uint64_t orc_cidr4_blocks(const struct orc_cidr4 *range, unsigned bits)
{
    if (bits < range->prefix || bits > 32) return 0;
    return 1ull << (bits - range->prefix);
}

void orc_cidr4_block(const struct orc_cidr4 *range, unsigned bits, uint64_t i, char *out, size_t n)
{
    uint32_t addr = range->base + (bits == 0 ? 0 : (uint32_t)(i << (32 - bits)));
    struct in_addr a = {htonl(addr)};
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a, ip, sizeof ip);
    snprintf(out, n, "%s/%u", ip, bits);
}
