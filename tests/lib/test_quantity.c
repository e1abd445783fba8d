/* test_quantity.c — quantity parsing into millis and canonical formatting. */
#include "lib/orc.h"
#include "lib/quantity.h"
#include "tests/harness/test.h"

static int64_t q(const char *s)
{
    int64_t v = -12345;
    int rv = orc_quantity_parse(s, &v);
    CHECKF(rv == 0, "parse \"%s\": %d", s, rv);
    return v;
}

static void bad(const char *s)
{
    int64_t v;
    CHECKF(orc_quantity_parse(s, &v) == ORC_EINVAL, "\"%s\" should be rejected", s);
}

TEST(quantity_decimal_and_milli)
{
    CHECK_INT(q("500m"), ==, 500);
    CHECK_INT(q("2"), ==, 2000);
    CHECK_INT(q("1.5"), ==, 1500);
    CHECK_INT(q("0.1"), ==, 100);
    CHECK_INT(q(".5"), ==, 500);
    CHECK_INT(q("1."), ==, 1000);
    CHECK_INT(q("+3"), ==, 3000);
    CHECK_INT(q("0"), ==, 0);
    CHECK_INT(q("0.000"), ==, 0);
    CHECK_INT(q("1k"), ==, 1000000);
    CHECK_INT(q("1G"), ==, 1000000000000LL);
    CHECK_INT(q("1M"), ==, 1000000000LL);
    CHECK_INT(q("1P"), ==, 1000000000000000000LL);
    CHECK_INT(q("1Pi"), ==, 1125899906842624000LL);
}

TEST(quantity_binary_suffixes)
{
    CHECK_INT(q("1Ki"), ==, 1024000);
    CHECK_INT(q("128Mi"), ==, 128LL * 1024 * 1024 * 1000);
    CHECK_INT(q("1Gi"), ==, 1073741824000LL);
    CHECK_INT(q("1.5Gi"), ==, 1610612736000LL);
    CHECK_INT(q("1Ti"), ==, 1099511627776000LL);
    CHECK_INT(q("0.5Ki"), ==, 512000);
}

TEST(quantity_exponents)
{
    CHECK_INT(q("1e3"), ==, 1000000);
    CHECK_INT(q("1E3"), ==, 1000000);
    CHECK_INT(q("1e-3"), ==, 1);
    CHECK_INT(q("12e+2"), ==, 1200000);
    CHECK_INT(q("1.5e1"), ==, 15000);
}

TEST(quantity_rounds_up_below_a_milli)
{
    CHECK_INT(q("0.1m"), ==, 1);
    CHECK_INT(q("1n"), ==, 1);
    CHECK_INT(q("1u"), ==, 1);
    CHECK_INT(q("1500u"), ==, 2);
    CHECK_INT(q("1000u"), ==, 1);
    CHECK_INT(q("1.0001m"), ==, 2);
    CHECK_INT(q("1e-30"), ==, 1);
    CHECK_INT(q("0.0000000000000000000000000001Ki"), ==, 1);
}

TEST(quantity_limits)
{
    CHECK_INT(q("9223372036854775807m"), ==, INT64_MAX);
    bad("9223372036854775808m");
    bad("9223372036854775807");
    bad("8Ei");
    bad("1E");
    bad("10P");
    bad("1e100");
}

TEST(quantity_rejects_bad_syntax)
{
    const char *cases[] = {"", "abc", "1x", "-1", "1.2.3", ".", "1 ", " 1", "1Kib", "Mi",
                           "1e", "1e+", "1ee3", "1ki", "0x10", "1,5"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) bad(cases[i]);
}

static void fmt(int64_t milli, int binary, const char *want)
{
    char out[64];
    orc_quantity_format(milli, binary, out, sizeof out);
    CHECKF(strcmp(out, want) == 0, "format(%lld, %d) = \"%s\", want \"%s\"", (long long)milli,
           binary, out, want);
}

TEST(quantity_format)
{
    fmt(500, 0, "500m");
    fmt(2000, 0, "2");
    fmt(0, 0, "0");
    fmt(1500, 0, "1500m");
    fmt(128LL * 1024 * 1024 * 1000, 1, "128Mi");
    fmt(1073741824000LL, 1, "1Gi");
    fmt(1024000, 1, "1Ki");
    fmt(1000000, 1, "1000");
    fmt(1536LL * 1024 * 1000, 1, "1536Ki");
    fmt(0, 1, "0");
    fmt(1500, 1, "1500m");
}

TEST(quantity_format_truncates_safely)
{
    char out[4];
    orc_quantity_format(123456000, 0, out, sizeof out);
    CHECK_STR(out, "123");
}
