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

/* ---- pools ---- */

static int parse_ports(const char *s, struct orc_pool *p)
{
    char *end;
    unsigned long lo = strtoul(s, &end, 10), hi;

    if (end == s || *end != '-' || end[1] < '0' || end[1] > '9') return ORC_EINVAL;
    hi = strtoul(end + 1, &end, 10);
    if (*end || lo == 0 || hi > 65535 || lo > hi) return ORC_EINVAL;
    p->type = ORC_POOL_PORTS;
    p->first = (uint32_t)lo;
    p->size = hi - lo + 1;
    return 0;
}

int orc_pool_parse(const char *range, unsigned bits, struct orc_pool *p)
{
    memset(p, 0, sizeof *p);
    if (range == NULL) return ORC_EINVAL;
    if (strncmp(range, "port:", 5) == 0) return parse_ports(range + 5, p);
    bool addrs = strncmp(range, "ip:", 3) == 0;
    if (orc_cidr4_parse(addrs ? range + 3 : range, &p->cidr) != 0) return ORC_EINVAL;
    if (!addrs) {
        p->type = ORC_POOL_BLOCKS;
        p->bits = bits;
        p->size = orc_cidr4_blocks(&p->cidr, bits);
        return 0;
    }
    p->type = ORC_POOL_ADDRS;
    p->first = p->cidr.base;
    p->size = 1ull << (32 - p->cidr.prefix);
    if (p->cidr.prefix <= 30) { /* the network and broadcast addresses are no one's */
        p->first++;
        p->size -= 2;
    }
    return 0;
}

void orc_pool_item(const struct orc_pool *p, uint64_t i, char *out, size_t n)
{
    struct in_addr a;

    switch (p->type) {
    case ORC_POOL_BLOCKS: orc_cidr4_block(&p->cidr, p->bits, i, out, n); break;
    case ORC_POOL_PORTS: snprintf(out, n, "%llu", (unsigned long long)(p->first + i)); break;
    case ORC_POOL_ADDRS:
        a.s_addr = htonl(p->first + (uint32_t)i);
        if (inet_ntop(AF_INET, &a, out, (socklen_t)n) == NULL && n) out[0] = '\0';
        break;
    }
}

int64_t orc_pool_index(const struct orc_pool *p, const char *item)
{
    struct in_addr a;
    char *end;

    if (item == NULL) return -1;
    if (p->type == ORC_POOL_PORTS) {
        unsigned long v = strtoul(item, &end, 10);
        if (end == item || *end || v < p->first || v - p->first >= p->size) return -1;
        return (int64_t)(v - p->first);
    }
    if (p->type != ORC_POOL_ADDRS || inet_pton(AF_INET, item, &a) != 1) return -1;
    uint32_t v = ntohl(a.s_addr);
    if (v < p->first || (uint64_t)(v - p->first) >= p->size) return -1;
    return (int64_t)(v - p->first);
}
