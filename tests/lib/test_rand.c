/* test_rand.c — UUID shape, alphabets, and that values differ. */
#include <ctype.h>

#include "lib/orc.h"
#include "lib/rand.h"
#include "tests/harness/test.h"

TEST(rand_uuid_v4)
{
    char a[37], b[37];

    orc_uuid(a);
    orc_uuid(b);
    CHECK_INT(strlen(a), ==, 36);
    CHECK(strcmp(a, b) != 0);
    CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    CHECK(a[14] == '4');
    CHECK(strchr("89ab", a[19]) != NULL);
    for (int i = 0; i < 36; i++) CHECK(a[i] == '-' || isxdigit((unsigned char)a[i]));
}

TEST(rand_alphabets)
{
    char hex[65], sfx[6];
    int seen[256] = {0};

    orc_rand_hex(hex, 64);
    CHECK_INT(strlen(hex), ==, 64);
    for (int i = 0; i < 64; i++) CHECK(strchr("0123456789abcdef", hex[i]) != NULL);
    for (int k = 0; k < 2000; k++) {
        orc_rand_name_suffix(sfx, 5);
        CHECK_INT(strlen(sfx), ==, 5);
        for (int i = 0; i < 5; i++) {
            CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", sfx[i]) != NULL);
            seen[(unsigned char)sfx[i]]++;
        }
    }
    /* 10,000 draws from 27 symbols: every symbol shows up. */
    for (const char *p = "bcdfghjklmnpqrstvwxz2456789"; *p; p++) CHECK(seen[(unsigned char)*p] > 0);
    CHECK(orc_rand_u64() != orc_rand_u64());
    unsigned char z[32] = {0}, r[32] = {0};
    CHECK_INT(orc_rand_bytes(r, sizeof r), ==, 0);
    CHECK(memcmp(z, r, sizeof r) != 0);
}
