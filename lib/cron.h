/* cron.h — CronJob schedules: five fields (minute hour day-of-month month
 * day-of-week) with *, lists, ranges, steps, month/day names, and the
 * macros @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * Day-of-month and day-of-week combine with OR when both are restricted,
 * as in Vixie cron and Kubernetes. Times are UTC unless a zone is given. */
#ifndef ORC_CRON_H
#define ORC_CRON_H

#include <stddef.h>
#include <stdint.h>

typedef struct orc_cron orc_cron;

int orc_cron_parse(const char *spec, orc_cron **out, char *msg, size_t n);
/* First scheduled time strictly after `after` (Unix seconds, UTC), or -1 if
 * none within five years and before the end of year 9999, or when `after`
 * is outside years 0001-9999. */
int64_t orc_cron_next(const orc_cron *c, int64_t after);
void orc_cron_free(orc_cron *c);

#endif
