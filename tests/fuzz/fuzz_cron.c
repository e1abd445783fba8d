/* fuzz_cron.c — libFuzzer target for lib/cron.c: CronJob schedules as users
 * write them, and the next firing time from any instant (the first eight
 * input bytes). The time found is a whole minute strictly later, comes
 * back when asked from just before it, no minute in between fires (walked
 * one by one when the gap is short), and the one after it is later still. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cron.h"

/* Minutes walked by brute force between `after` and the answer. */
#define WALK_MAX 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t after = 0;
    orc_cron *c = NULL;
    char msg[256];

    if (size >= sizeof after) {
        memcpy(&after, data, sizeof after);
        data += sizeof after;
        size -= sizeof after;
    }
    char *spec = malloc(size + 1);
    if (spec == NULL) abort();
    memcpy(spec, data, size);
    spec[size] = '\0';
    if (orc_cron_parse(spec, &c, msg, sizeof msg) != 0) {
        if (c != NULL || msg[0] == '\0') abort(); /* a refusal says why, hands nothing back */
        free(spec);
        return 0;
    }
    int64_t next = orc_cron_next(c, after);
    if (next != -1) {
        if (next <= after || next % 60 != 0) abort();
        /* The answer is a fixed point: asked just before it, it comes back. */
        if (orc_cron_next(c, next - 1) != next) abort();
        /* No minute in between fires (walked when the gap is short). */
        int64_t first = after - ((after % 60) + 60) % 60 + 60;
        if ((next - first) / 60 <= WALK_MAX)
            for (int64_t t = first; t < next; t += 60)
                if (orc_cron_next(c, t - 1) == t) abort();
        /* Monotonic: from the answer on, the next one is later still. */
        int64_t again = orc_cron_next(c, next);
        if (again != -1 && again <= next) abort();
    }
    orc_cron_free(c);
    free(spec);
    return 0;
}
