/* test_cron.c — cron parsing and next-time computation (all UTC). */
#include "lib/cron.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

/* Unix seconds of a UTC civil time, independent of the code under test. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    int64_t days = 0;
    for (int yy = 1970; yy < y; yy++)
        days += (yy % 4 == 0 && (yy % 100 != 0 || yy % 400 == 0)) ? 366 : 365;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m < mo; m++) {
        days += mdays[m - 1];
        if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) days++;
    }
    days += d - 1;
    return days * 86400 + h * 3600 + mi * 60;
}

static int64_t next(const char *spec, int64_t after)
{
    orc_cron *c;
    char msg[256];
    CHECKF(orc_cron_parse(spec, &c, msg, sizeof msg) == 0, "%s: %s", spec, msg);
    int64_t t = orc_cron_next(c, after);
    orc_cron_free(c);
    return t;
}

TEST(cron_every_minute_is_strictly_after)
{
    int64_t t0 = utc(2024, 3, 10, 12, 30);
    CHECK_INT(next("* * * * *", t0), ==, t0 + 60);
    CHECK_INT(next("* * * * *", t0 + 1), ==, t0 + 60);
    CHECK_INT(next("* * * * *", t0 + 59), ==, t0 + 60);
    CHECK_INT(next("* * * * *", t0 - 1), ==, t0);
}

TEST(cron_fields_ranges_steps)
{
    int64_t t0 = utc(2024, 3, 10, 12, 30); /* a Sunday */
    CHECK_INT(next("*/15 * * * *", t0), ==, utc(2024, 3, 10, 12, 45));
    CHECK_INT(next("0 */6 * * *", t0), ==, utc(2024, 3, 10, 18, 0));
    CHECK_INT(next("5-7 13 * * *", t0), ==, utc(2024, 3, 10, 13, 5));
    CHECK_INT(next("10,20 12 * * *", utc(2024, 3, 10, 12, 15)), ==, utc(2024, 3, 10, 12, 20));
    CHECK_INT(next("0 9 * * MON-FRI", t0), ==, utc(2024, 3, 11, 9, 0));
    CHECK_INT(next("0 0 1 jan *", t0), ==, utc(2025, 1, 1, 0, 0));
    CHECK_INT(next("30 2 15 * *", t0), ==, utc(2024, 3, 15, 2, 30));
    CHECK_INT(next("0 0 31 * *", utc(2024, 4, 1, 0, 0)), ==, utc(2024, 5, 31, 0, 0));
    CHECK_INT(next("0 12/5 * * *", t0), ==, utc(2024, 3, 10, 17, 0));
    CHECK_INT(next("0 0 ? * 3", t0), ==, utc(2024, 3, 13, 0, 0));
}

TEST(cron_macros)
{
    int64_t t0 = utc(2024, 3, 10, 12, 30);
    CHECK_INT(next("@hourly", t0), ==, utc(2024, 3, 10, 13, 0));
    CHECK_INT(next("@daily", t0), ==, utc(2024, 3, 11, 0, 0));
    CHECK_INT(next("@midnight", t0), ==, utc(2024, 3, 11, 0, 0));
    CHECK_INT(next("@weekly", t0), ==, utc(2024, 3, 17, 0, 0));
    CHECK_INT(next("@monthly", t0), ==, utc(2024, 4, 1, 0, 0));
    CHECK_INT(next("@yearly", t0), ==, utc(2025, 1, 1, 0, 0));
    CHECK_INT(next("@annually", t0), ==, utc(2025, 1, 1, 0, 0));
}

TEST(cron_feb_29)
{
    CHECK_INT(next("0 0 29 2 *", utc(2025, 1, 1, 0, 0)), ==, utc(2028, 2, 29, 0, 0));
    CHECK_INT(next("0 0 29 2 *", utc(2024, 2, 29, 0, 0)), ==, utc(2028, 2, 29, 0, 0));
    CHECK_INT(next("0 0 29 2 *", utc(2024, 2, 28, 23, 59)), ==, utc(2024, 2, 29, 0, 0));
    /* 2100 is not a leap year: from 2096 the next Feb 29 is 2104, past five years. */
    CHECK_INT(next("0 0 29 2 *", utc(2096, 3, 1, 0, 0)), ==, -1);
    CHECK_INT(next("0 0 30 2 *", utc(2024, 1, 1, 0, 0)), ==, -1);
}

TEST(cron_dom_dow_or_semantics)
{
    int64_t t0 = utc(2024, 3, 10, 12, 0); /* Sunday */
    /* Both restricted: the 15th OR any Monday. */
    CHECK_INT(next("0 0 15 * 1", t0), ==, utc(2024, 3, 11, 0, 0));
    CHECK_INT(next("0 0 15 * 1", utc(2024, 3, 12, 0, 0)), ==, utc(2024, 3, 15, 0, 0));
    /* dow starred: only the 15th. */
    CHECK_INT(next("0 0 15 * *", t0), ==, utc(2024, 3, 15, 0, 0));
    /* dom starred (a star, also with a step): only Mondays, AND semantics. */
    CHECK_INT(next("0 0 * * 1", utc(2024, 3, 12, 0, 0)), ==, utc(2024, 3, 18, 0, 0));
    CHECK_INT(next("0 0 */2 * 1", utc(2024, 3, 12, 0, 0)), ==, utc(2024, 3, 25, 0, 0));
}

TEST(cron_year_and_month_rollover)
{
    CHECK_INT(next("59 23 31 12 *", utc(2024, 12, 31, 23, 59)), ==, utc(2025, 12, 31, 23, 59));
    CHECK_INT(next("0 0 * * *", utc(2024, 12, 31, 23, 59)), ==, utc(2025, 1, 1, 0, 0));
    CHECK_INT(next("0 0 1 * *", utc(2024, 1, 31, 0, 0)), ==, utc(2024, 2, 1, 0, 0));
}

static void bad(const char *spec, const char *want)
{
    orc_cron *c = (orc_cron *)1;
    char msg[256] = "";
    CHECKF(orc_cron_parse(spec, &c, msg, sizeof msg) == ORC_EINVAL, "\"%s\" accepted", spec);
    CHECK(c == NULL);
    CHECKF(strstr(msg, want) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", spec, msg, want);
}

TEST(cron_parse_errors)
{
    bad("* * * *", "expected exactly 5 fields, found 4");
    bad("* * * * * *", "expected exactly 5 fields, found 6");
    bad("", "expected exactly 5 fields, found 0");
    bad("60 * * * *", "end of range (60) above maximum (59)");
    bad("* 24 * * *", "above maximum (23)");
    bad("* * 0 * *", "below minimum (1)");
    bad("* * * 13 *", "above maximum (12)");
    bad("* * * * 7", "above maximum (6)");
    bad("5-2 * * * *", "beginning of range (5) beyond end of range (2)");
    bad("*/0 * * * *", "step of range should be a positive number");
    bad("abc * * * *", "failed to parse int from abc");
    bad("1,,2 * * * *", "empty element");
    bad("1, * * * *", "empty element");
    bad("@every 1h", "unrecognized descriptor");
    bad("@fortnightly", "unrecognized descriptor");
    bad("* * * FOO *", "failed to parse int from FOO");
}

/* Found by tests/fuzz/fuzz_cron.c: an instant past what RFC 3339 writes
 * overflowed the day arithmetic; it has no next time. */
TEST(cron_instants_outside_years_1_to_9999)
{
    CHECK_INT(next("14 4 1,3 * ?", INT64_MIN), ==, -1);
    CHECK_INT(next("* * * * *", INT64_MAX), ==, -1);
    CHECK_INT(next("* * * * *", utc(9999, 12, 31, 23, 58)), ==, utc(9999, 12, 31, 23, 59));
    CHECK_INT(next("* * * * *", utc(9999, 12, 31, 23, 59)), ==, -1);
    CHECK_INT(next("0 0 1 1 *", -62135596800LL), ==, -62135596800LL + 365 * 86400);
}
