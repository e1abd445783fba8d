/* test_tz.c — lib/tz: zone offsets agree with the C library reading the same
 * zone database (before, between and past the listed transitions, where the
 * POSIX footer rules), and cron times on a zone's wall clock across daylight
 * saving changes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/orc.h"
#include "lib/timeutil.h"
#include "lib/tz.h"
#include "tests/harness/test.h"

static int64_t at(const char *rfc3339)
{
    int64_t t = 0;
    if (orc_time_parse(rfc3339, &t) != 0) test_fail(__FILE__, __LINE__, "bad time %s", rfc3339);
    return t;
}

static orc_tz *load(const char *name)
{
    orc_tz *z = NULL;
    char msg[256];
    int rv = orc_tz_load(name, &z, msg, sizeof msg);
    if (rv != 0) test_fail(__FILE__, __LINE__, "load %s: %s", name, msg);
    return z;
}

/* Single-threaded test: libc's TZ may be switched freely here. */
static long libc_offset(const char *zone, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    setenv("TZ", zone, 1);
    tzset();
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

TEST(offsets_match_the_c_library)
{
    static const char *const zones[] = {"Europe/Paris", "America/New_York", "Australia/Sydney",
                                        "Asia/Kolkata", "Pacific/Chatham", "Europe/Dublin",
                                        "America/Sao_Paulo", "UTC", "Etc/GMT+5"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(zones); i++) {
        orc_tz *z = load(zones[i]);
        /* 1950 to 2100 in steps of a little under 5 days, so every
         * transition's neighbourhood is sampled, including past 2037. */
        for (int64_t t = -631152000; t < 4102444800LL; t += 421337) {
            long want = libc_offset(zones[i], t);
            if (orc_tz_offset(z, t) != want)
                test_fail(__FILE__, __LINE__, "%s at %lld: %d, libc %ld", zones[i], (long long)t,
                          orc_tz_offset(z, t), want);
        }
        orc_tz_free(z);
    }
    unsetenv("TZ");
}

TEST(unknown_and_bad_names_are_refused)
{
    orc_tz *z = NULL;
    char msg[128];
    CHECK_INT(orc_tz_load("Mars/Olympus_Mons", &z, msg, sizeof msg), ==, ORC_ENOENT);
    CHECK(strstr(msg, "unknown time zone") != NULL);
    CHECK_INT(orc_tz_load("../../etc/passwd", &z, msg, sizeof msg), ==, ORC_EINVAL);
    CHECK_INT(orc_tz_load("/etc/passwd", &z, msg, sizeof msg), ==, ORC_EINVAL);
    CHECK_INT(orc_tz_load("", &z, msg, sizeof msg), ==, ORC_EINVAL);
    CHECK(z == NULL);
}

static int64_t next(const char *spec, const orc_tz *z, int64_t after)
{
    orc_cron *c;
    char msg[128];
    if (orc_cron_parse(spec, &c, msg, sizeof msg) != 0) test_fail(__FILE__, __LINE__, "%s", msg);
    int64_t t = orc_tz_cron_next(c, z, after);
    orc_cron_free(c);
    return t;
}

TEST(cron_follows_the_zone_wall_clock)
{
    orc_tz *ny = load("America/New_York");
    /* 09:00 in New York is 14:00 UTC in winter, 13:00 UTC in summer. */
    CHECK_INT(next("0 9 * * *", ny, at("2026-01-10T12:00:00Z")), ==, at("2026-01-10T14:00:00Z"));
    CHECK_INT(next("0 9 * * *", ny, at("2026-07-10T12:00:00Z")), ==, at("2026-07-10T13:00:00Z"));
    /* @daily is local midnight. */
    CHECK_INT(next("@daily", ny, at("2026-07-10T12:00:00Z")), ==, at("2026-07-11T04:00:00Z"));
    /* No zone: UTC. */
    CHECK_INT(next("0 9 * * *", NULL, at("2026-07-10T12:00:00Z")), ==, at("2026-07-11T09:00:00Z"));
    orc_tz_free(ny);
}

TEST(cron_across_spring_forward_skips_the_missing_time)
{
    orc_tz *paris = load("Europe/Paris");
    /* 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC). */
    int64_t t = next("30 2 * * *", paris, at("2026-03-28T00:00:00Z"));
    CHECK_INT(t, ==, at("2026-03-28T01:30:00Z"));
    t = next("30 2 * * *", paris, t);
    CHECK_INT(t, ==, at("2026-03-30T00:30:00Z")); /* the 29th has no 02:30 */
    /* Hourly runs go on through the change: 01:00 CET, then 03:00 CEST. */
    t = next("0 * * * *", paris, at("2026-03-29T00:00:00Z"));
    CHECK_INT(t, ==, at("2026-03-29T01:00:00Z"));
    orc_tz_free(paris);
}

TEST(cron_across_fall_back_runs_a_repeated_time_twice)
{
    orc_tz *paris = load("Europe/Paris");
    /* 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC). */
    int64_t t = next("30 2 * * *", paris, at("2026-10-24T12:00:00Z"));
    CHECK_INT(t, ==, at("2026-10-25T00:30:00Z")); /* 02:30 CEST */
    t = next("30 2 * * *", paris, t);
    CHECK_INT(t, ==, at("2026-10-25T01:30:00Z")); /* 02:30 CET */
    t = next("30 2 * * *", paris, t);
    CHECK_INT(t, ==, at("2026-10-26T01:30:00Z"));
    /* Every 15 minutes through the repeated hour, in real-time order. */
    t = next("*/15 * * * *", paris, at("2026-10-25T00:40:00Z"));
    CHECK_INT(t, ==, at("2026-10-25T00:45:00Z")); /* 02:45 CEST */
    t = next("*/15 * * * *", paris, t);
    CHECK_INT(t, ==, at("2026-10-25T01:00:00Z")); /* 02:00 CET */
    orc_tz_free(paris);
}

TEST(cron_in_a_southern_zone)
{
    orc_tz *syd = load("Australia/Sydney");
    /* Sydney: AEDT (+11) in January, AEST (+10) in July. */
    CHECK_INT(next("0 8 * * *", syd, at("2026-01-10T00:00:00Z")), ==, at("2026-01-10T21:00:00Z"));
    CHECK_INT(next("0 8 * * *", syd, at("2026-07-10T00:00:00Z")), ==, at("2026-07-10T22:00:00Z"));
    orc_tz_free(syd);
}
