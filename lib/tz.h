/* tz.h — IANA time zones read from the system zone database (TZif files
 * under /usr/share/zoneinfo, with their POSIX TZ footer for times past the
 * last listed transition), without libc's process-wide TZ state, so any
 * thread may use any zone. For CronJob's spec.timeZone. */
#ifndef ORC_TZ_H
#define ORC_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "lib/cron.h"

typedef struct orc_tz orc_tz;

/* Loads zone `name` ("Europe/Paris", "UTC"); names with "..", a leading
 * '/' or characters outside [A-Za-z0-9/_+-] are refused. 0, ORC_ENOENT
 * (unknown zone), ORC_EINVAL (bad name or unreadable file), ORC_ENOMEM;
 * msg (n bytes) says why. *out is the caller's (orc_tz_free). */
int orc_tz_load(const char *name, orc_tz **out, char *msg, size_t n);
/* Offset from UTC in seconds at Unix time t (3600 for Paris in winter). */
int32_t orc_tz_offset(const orc_tz *z, int64_t t);
void orc_tz_free(orc_tz *z);

/* The first time strictly after `after` (Unix seconds) at which schedule c
 * matches the wall clock of zone z (NULL: UTC), or -1. Across daylight
 * saving changes it behaves as Kubernetes' cron library: a wall time the
 * clocks skip does not run that day; one they repeat runs at both
 * instants. */
int64_t orc_tz_cron_next(const orc_cron *c, const orc_tz *z, int64_t after);

#endif
