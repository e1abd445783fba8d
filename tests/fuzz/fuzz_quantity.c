/* fuzz_quantity.c — libFuzzer target for lib/quantity.c: the quantities of
 * resources requests and limits ("500m", "1.5Gi", "1e3"). A quantity that
 * parses is a non-negative count of thousandths; its canonical text, cpu-
 * or memory-like, parses back to the same count; adding digits of zeros
 * after the point never changes it, and the parser never reads past the
 * string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/quantity.h"

static void roundtrip(int64_t milli, int binary)
{
    char text[64];
    int64_t back = -1;

    orc_quantity_format(milli, binary, text, sizeof text);
    if (orc_quantity_parse(text, &back) != 0 || back != milli) abort();
}

/* "1.5Gi" -> "1.500Gi": the same value. */
static void zero_padded(const char *s, int64_t milli)
{
    const char *dot = strchr(s, '.');
    size_t ndig = strspn(s + (s[0] == '+'), "0123456789") + (s[0] == '+');
    if (dot == NULL && ndig == 0) return;
    size_t at = dot ? (size_t)(dot - s) + 1 + strspn(dot + 1, "0123456789") : ndig;
    size_t len = strlen(s);
    char *padded = malloc(len + 8);
    int64_t again = -1;
    if (padded == NULL) abort();
    memcpy(padded, s, at);
    memcpy(padded + at, dot ? "000" : ".000", dot ? 3 : 4);
    strcpy(padded + at + (dot ? 3 : 4), s + at);
    if (orc_quantity_parse(padded, &again) != 0 || again != milli) abort();
    free(padded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    int64_t milli = -1;

    if (s == NULL) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    if (orc_quantity_parse(s, &milli) == 0) {
        if (milli < 0) abort();
        roundtrip(milli, 0);
        roundtrip(milli, 1);
        zero_padded(s, milli);
    }
    /* Any count prints and reads back, whatever bytes chose it. */
    if (size >= 8) {
        int64_t v;
        memcpy(&v, data, sizeof v);
        if (v < 0) v = -(v + 1);
        roundtrip(v, data[size - 1] & 1);
    }
    free(s);
    return 0;
}
