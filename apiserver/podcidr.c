/* podcidr.c — each Node's block of pod addresses, as Kubernetes' node IPAM
 * hands them out: the lowest /node_cidr_mask block of the cluster CIDR that
 * no Node holds. A block is held by the key /orc/podcidrs/<block>, written
 * in the same txn as the Node (guarded absent) and removed with it. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/orc.h"

/* "10.42.0.0/16" into a host-order base and a prefix length. */
static int parse_cidr(const char *cidr, uint32_t *base, unsigned *prefix)
{
    char ip[32];
    const char *slash = strchr(cidr, '/');
    struct in_addr a;
    char *end;
    long p;

    if (slash == NULL || (size_t)(slash - cidr) >= sizeof ip) return ORC_EINVAL;
    memcpy(ip, cidr, (size_t)(slash - cidr));
    ip[slash - cidr] = '\0';
    p = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, ip, &a) != 1 || *end || p < 1 || p > 30) return ORC_EINVAL;
    *prefix = (unsigned)p;
    *base = ntohl(a.s_addr) & (uint32_t)(~0u << (32 - p));
    return 0;
}

static void block_text(uint32_t addr, unsigned mask, char *out, size_t n)
{
    struct in_addr a = {htonl(addr)};
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a, ip, sizeof ip);
    snprintf(out, n, "%s/%u", ip, mask);
}

static bool held(const struct store_list *l, const char *block)
{
    size_t plen = strlen(API_RESERVED_PREFIX);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->kvs[i].key + plen, block) == 0) return true;
    return false;
}

int api_podcidr_pick(struct api_server *s, char *out, size_t n)
{
    struct store_list l = {0};
    uint32_t base;
    unsigned prefix, mask = s->node_cidr_mask;
    int rv;

    if (parse_cidr(s->cluster_cidr, &base, &prefix) != 0 || mask < prefix || mask > 30)
        return ORC_EINVAL;
    if ((rv = store_range(s->st, API_RESERVED_PREFIX, NULL, 0, 0, &l)) != 0) return rv;
    rv = ORC_ETOOBIG;
    for (uint64_t i = 0; i < (1ull << (mask - prefix)); i++) {
        block_text(base + (uint32_t)(i << (32 - mask)), mask, out, n);
        if (!held(&l, out)) {
            rv = 0;
            break;
        }
    }
    store_list_clear(&l);
    return rv;
}
