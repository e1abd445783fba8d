/* timeutil.h — wall-clock timestamps as Kubernetes writes them, and
 * monotonic time. */
#ifndef ORC_TIMEUTIL_H
#define ORC_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORC_TIME_LEN 32

/* Now as RFC 3339 UTC seconds, "2026-11-23T16:44:05Z". */
void orc_time_now(char out[ORC_TIME_LEN]);
/* Same with microseconds, "2026-11-23T16:44:05.123456Z" (Lease renewTime). */
void orc_time_now_micro(char out[ORC_TIME_LEN]);
void orc_time_format(int64_t unix_seconds, char out[ORC_TIME_LEN]);
/* Parses RFC 3339 (Z or +hh:mm offsets, optional fraction) to Unix seconds. */
int orc_time_parse(const char *s, int64_t *unix_seconds);
int64_t orc_time_unix(void);     /* wall clock, seconds */
uint64_t orc_time_mono_ms(void); /* CLOCK_MONOTONIC, milliseconds */
/* A duration as Go writes one ("10s", "500ms", "1m30s", "2h"; a bare
 * number is seconds) into milliseconds. ORC_EINVAL for anything else. */
int orc_duration_parse(const char *s, uint64_t *ms);
/* kubectl's AGE column: "45s", "5m10s", "3h", "2d5h", "400d". */
void orc_time_age(int64_t seconds, char *out, size_t n);

/* The proleptic Gregorian calendar without libc's TZ state (Howard
 * Hinnant's algorithms), shared by RFC 3339 parsing, cron and zones. */
bool orc_leap_year(int64_t y);
int orc_days_in_month(int64_t y, int m); /* m: 1-12 */
/* Days since 1970-01-01 of y-m-d, and back. */
int64_t orc_days_from_civil(int64_t y, int m, int d);
void orc_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

#endif
