/* rand.c — randomness from getrandom(2) for UUIDs, tokens and generated
 * name suffixes. */
#include "lib/rand.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "lib/orc.h"

int orc_rand_bytes(void *out, size_t n)
{
    unsigned char *p = out;

    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return ORC_EIO;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* The kernel's pool never fails once initialized; if it somehow does, a
 * predictable value would be worse than stopping. */
static void must_rand(void *out, size_t n)
{
    if (orc_rand_bytes(out, n) != 0) abort();
}

uint64_t orc_rand_u64(void)
{
    uint64_t v;

    must_rand(&v, sizeof v);
    return v;
}

void orc_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    int o = 0;

    must_rand(b, sizeof b);
    b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
    b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* Draws n characters uniformly from alpha (rejection sampling avoids the
 * modulo bias). */
static void rand_from(const char *alpha, unsigned size, char *out, size_t n)
{
    unsigned limit = 256 - 256 % size;
    unsigned char b[64];
    size_t i = 0, j = sizeof b;

    while (i < n) {
        if (j == sizeof b) {
            must_rand(b, sizeof b);
            j = 0;
        }
        unsigned v = b[j++];
        if (v < limit) out[i++] = alpha[v % size];
    }
    out[n] = '\0';
}

void orc_rand_hex(char *out, size_t n)
{
    rand_from("0123456789abcdef", 16, out, n);
}

void orc_rand_name_suffix(char *out, size_t n)
{
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    rand_from(alpha, sizeof alpha - 1, out, n);
}
