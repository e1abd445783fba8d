/* test_time.c — RFC 3339 round trips, offsets, bad dates, kubectl ages. */
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "tests/harness/test.h"

TEST(time_format_and_parse)
{
    char s[ORC_TIME_LEN];
    int64_t t;

    orc_time_format(0, s);
    CHECK_STR(s, "1970-01-01T00:00:00Z");
    orc_time_format(1795452245, s);
    CHECK_STR(s, "2026-11-23T16:44:05Z");
    CHECK_INT(orc_time_parse(s, &t), ==, 0);
    CHECK_INT(t, ==, 1795452245);
    CHECK_INT(orc_time_parse("2026-11-23T18:44:05.123456+02:00", &t), ==, 0);
    CHECK_INT(t, ==, 1795452245);
    CHECK_INT(orc_time_parse("2026-11-23t11:14:05-05:30", &t), ==, 0);
    CHECK_INT(t, ==, 1795452245);
    CHECK_INT(orc_time_parse("2024-02-29T00:00:00Z", &t), ==, 0);
    CHECK_INT(orc_time_parse("1969-12-31T23:59:59Z", &t), ==, 0);
    CHECK_INT(t, ==, -1);
}

TEST(time_parse_rejects)
{
    static const char *const bad[] = {"",
                                      "2026-11-23",
                                      "2026-11-23T16:44:05",
                                      "2026-13-01T00:00:00Z",
                                      "2023-02-29T00:00:00Z",
                                      "2026-11-23T24:00:00Z",
                                      "2026-11-23T16:44:05.Z",
                                      "2026-11-23T16:44:05+0200",
                                      "2026-11-23T16:44:05Zjunk",
                                      "26-11-23T16:44:05Z"};
    int64_t t;

    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++)
        CHECKF(orc_time_parse(bad[i], &t) == ORC_EINVAL, "accepted \"%s\"", bad[i]);
    CHECK_INT(orc_time_parse(NULL, &t), ==, ORC_EINVAL);
}

TEST(time_now_shapes)
{
    char s[ORC_TIME_LEN], m[ORC_TIME_LEN];
    int64_t t, now = orc_time_unix();

    orc_time_now(s);
    orc_time_now_micro(m);
    CHECK_INT(strlen(s), ==, 20);
    CHECK_INT(strlen(m), ==, 27);
    CHECK(m[19] == '.' && m[26] == 'Z');
    CHECK_INT(orc_time_parse(m, &t), ==, 0);
    CHECK(t >= now && t <= now + 2);
    uint64_t a = orc_time_mono_ms(), b = orc_time_mono_ms();
    CHECK(b >= a);
}

TEST(time_age_like_kubectl)
{
    static const struct { int64_t s; const char *want; } cases[] = {
        {-5, "<invalid>"}, {-1, "0s"}, {0, "0s"}, {45, "45s"}, {119, "119s"},
        {120, "2m"}, {130, "2m10s"}, {599, "9m59s"}, {600, "10m"}, {3599, "59m"},
        {10799, "179m"}, {10800, "3h"}, {3 * 3600 + 60, "3h1m"}, {8 * 3600, "8h"},
        {47 * 3600 + 3599, "47h"}, {48 * 3600, "2d"}, {53 * 3600, "2d5h"},
        {8 * 86400, "8d"}, {400 * 86400, "400d"}, {730 * 86400, "2y"},
        {800 * 86400, "2y70d"}, {3000 * 86400, "8y"}};
    char out[16];

    for (size_t i = 0; i < ORC_ARRAY_LEN(cases); i++) {
        orc_time_age(cases[i].s, out, sizeof out);
        CHECKF(strcmp(out, cases[i].want) == 0, "%lld: %s, want %s", (long long)cases[i].s, out,
               cases[i].want);
    }
}

TEST(civil_days_round_trip_and_calendar)
{
    int64_t y;
    int m, d;

    CHECK(orc_days_from_civil(1970, 1, 1) == 0);
    CHECK(orc_days_from_civil(2000, 3, 1) == 11017);
    CHECK(orc_days_from_civil(1969, 12, 31) == -1);
    for (int64_t z = -800000; z <= 800000; z += 97) {
        orc_civil_from_days(z, &y, &m, &d);
        CHECKF(orc_days_from_civil(y, m, d) == z, "day %lld", (long long)z);
        CHECK(m >= 1 && m <= 12 && d >= 1 && d <= orc_days_in_month(y, m));
    }
    CHECK(orc_leap_year(2000) && orc_leap_year(2024) && !orc_leap_year(1900) && !orc_leap_year(2023));
    CHECK(orc_days_in_month(2024, 2) == 29 && orc_days_in_month(2023, 2) == 28);
    CHECK(orc_days_in_month(2023, 12) == 31 && orc_days_in_month(2023, 4) == 30);
}
