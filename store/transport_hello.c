/* transport_hello.c — the bytes a member sends inside TLS before raft sees
 * any (see transport.h), and the member identity in certificates. Pure
 * functions over buffers: the fuzz target calls them directly. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "store/transport.h"

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int printable(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f) return 0;
    return 1;
}

size_t store__hello_encode(uint64_t id, const char *address, unsigned char *out)
{
    size_t n = address ? strlen(address) : 0;

    if (id == 0 || n == 0 || n > STORE_HELLO_ADDR_MAX || !printable((const void *)address, n))
        return 0;
    memcpy(out, STORE_HELLO_MAGIC, 8);
    put_le(out + 8, id, 8);
    put_le(out + 16, n, 4);
    memcpy(out + 20, address, n);
    return 20 + n;
}

int store__hello_parse(const void *buf, size_t len, struct store_hello *out, size_t *used)
{
    const unsigned char *p = buf;
    size_t n;

    *used = 0;
    /* Judge each field as soon as it has arrived: a stranger learns nothing
     * by sending a hello slowly. */
    if (memcmp(p, STORE_HELLO_MAGIC, len < 8 ? len : 8) != 0) return ORC_EPROTO;
    if (len < 20) return 0;
    n = (size_t)get_le(p + 16, 4);
    if (get_le(p + 8, 8) == 0 || n == 0 || n > STORE_HELLO_ADDR_MAX) return ORC_EPROTO;
    if (!printable(p + 20, len - 20 < n ? len - 20 : n)) return ORC_EPROTO;
    if (len < 20 + n) return 0;
    out->id = get_le(p + 8, 8);
    memcpy(out->address, p + 20, n);
    out->address[n] = '\0';
    *used = 20 + n;
    return 0;
}

uint64_t store__member_id(const char *org, int n_org, const char *cn)
{
    size_t pl = strlen(STORE_MEMBER_CN);
    const char *digits = cn + pl;
    char *end;
    uint64_t id;

    /* Exactly one O, the members' own: a certificate naming more groups is
     * someone else's, whatever else it says. */
    if (n_org != 1 || strcmp(org, STORE_MEMBER_ORG) != 0 || strncmp(cn, STORE_MEMBER_CN, pl) != 0)
        return 0;
    if (*digits < '1' || *digits > '9') return 0; /* no sign, space or leading zero */
    id = strtoull(digits, &end, 10);
    if (*end != '\0' || (id == UINT64_MAX && strcmp(digits, "18446744073709551615") != 0)) return 0;
    return id;
}
