/* quantity.c — Kubernetes resource quantities to and from thousandths of a
 * unit, exact over int64 (no floating point, so "0.1" is exactly 100m). */
#include "lib/quantity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/orc.h"

/* The digits of "<int>.<frac>" seen as one digit string, without the dot. */
struct digits {
    const char *ip, *fp;
    size_t ni, nf;
};

static int digit_at(const struct digits *d, size_t i)
{
    return i < d->ni ? d->ip[i] - '0' : d->fp[i - d->ni] - '0';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal exponent (dexp) and binary shift (bshift) for a suffix. */
static int parse_suffix(const char *s, int *dexp, int *bshift)
{
    static const struct { const char *sfx; int dexp, bshift; } table[] = {
        {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},
        {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},
        {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50},
        {"Ei", 0, 60},
    };
    for (size_t i = 0; i < ORC_ARRAY_LEN(table); i++) {
        if (strcmp(s, table[i].sfx) == 0) {
            *dexp = table[i].dexp;
            *bshift = table[i].bshift;
            return 0;
        }
    }
    /* Decimal exponent: e3, E-2, e+6. A bare "E" (exa) was matched above. */
    if (s[0] != 'e' && s[0] != 'E') return ORC_EINVAL;
    s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    if (!is_digit(*s)) return ORC_EINVAL;
    long v = 0;
    for (; is_digit(*s); s++)
        if (v < 100000) v = v * 10 + (*s - '0');
    if (*s) return ORC_EINVAL;
    *dexp = (int)(neg ? -v : v);
    *bshift = 0;
    return 0;
}

/* value = sig[0..len) * 10^e10 * 2^bshift, with e10 >= 0. */
static int scale_up(const struct digits *d, size_t first, size_t len, long e10, int bshift,
                    int64_t *out)
{
    if ((long)len + e10 > 19) return ORC_EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) v = v * 10 + (uint64_t)digit_at(d, first + i);
    for (long i = 0; i < e10; i++)
        if (__builtin_mul_overflow(v, (uint64_t)10, &v)) return ORC_EINVAL;
    if (bshift && v > (UINT64_MAX >> bshift)) return ORC_EINVAL;
    v <<= bshift;
    if (v > INT64_MAX) return ORC_EINVAL;
    *out = (int64_t)v;
    return 0;
}

/* value = ceil(sig[0..len) * 10^-k * 2^bshift), k > 0. The fraction is exact
 * up to 19 significant fractional digits; beyond that only its being non-zero
 * counts (it always rounds the result up). */
static int scale_down(const struct digits *d, size_t first, size_t len, long k, int bshift,
                      int64_t *out)
{
    long nint = (long)len - k; /* digits left of the point, may be <= 0 */
    if (nint > 19) return ORC_EINVAL;
    uint64_t ipart = 0;
    for (long i = 0; i < nint; i++) ipart = ipart * 10 + (uint64_t)digit_at(d, first + (size_t)i);
    if (bshift && ipart > (UINT64_MAX >> bshift)) return ORC_EINVAL;
    ipart <<= bshift;

    /* Fraction digits f1 f2 ... fk, leading implicit zeros when nint < 0. */
    unsigned __int128 fm = 0, pow10 = 1;
    bool sticky = false;
    for (long j = 0; j < k; j++) {
        long idx = nint + j; /* index into sig; negative means an implicit 0 */
        int dg = idx < 0 ? 0 : digit_at(d, first + (size_t)idx);
        if (j < 19) {
            fm = fm * 10 + (unsigned)dg;
            pow10 *= 10;
        } else if (dg) {
            sticky = true;
        }
    }
    unsigned __int128 p = fm << bshift;
    uint64_t up = (uint64_t)(p / pow10) + ((p % pow10) != 0 || sticky ? 1 : 0);
    if (__builtin_add_overflow(ipart, up, &ipart) || ipart > INT64_MAX) return ORC_EINVAL;
    *out = (int64_t)ipart;
    return 0;
}

int orc_quantity_parse(const char *s, int64_t *milli)
{
    struct digits d = {0};
    int dexp, bshift;

    if (!s || !*s) return ORC_EINVAL;
    if (*s == '+') s++;
    d.ip = s;
    while (is_digit(*s)) s++;
    d.ni = (size_t)(s - d.ip);
    d.fp = s;
    if (*s == '.') {
        d.fp = ++s;
        while (is_digit(*s)) s++;
        d.nf = (size_t)(s - d.fp);
    }
    if (d.ni + d.nf == 0) return ORC_EINVAL;
    if (parse_suffix(s, &dexp, &bshift) != 0) return ORC_EINVAL;

    size_t total = d.ni + d.nf, first = 0, last = total;
    while (first < total && digit_at(&d, first) == 0) first++;
    if (first == total) {
        *milli = 0;
        return 0;
    }
    while (digit_at(&d, last - 1) == 0) last--;
    /* Power of ten applied to the significant digits, counted in millis. */
    long e10 = (long)dexp + 3 - (long)d.nf + (long)(total - last);
    size_t len = last - first;
    if (e10 >= 0) return scale_up(&d, first, len, e10, bshift, milli);
    if (-e10 > 100000) e10 = -100000; /* tiny values all round up to 1m */
    return scale_down(&d, first, len, -e10, bshift, milli);
}

void orc_quantity_format(int64_t milli, int binary, char *out, size_t n)
{
    static const char *const bin_sfx[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};

    if (n == 0) return;
    if (milli % 1000 != 0) {
        snprintf(out, n, "%lldm", (long long)milli);
        return;
    }
    long long units = (long long)(milli / 1000);
    if (binary && units != 0) {
        for (size_t i = 0; i < ORC_ARRAY_LEN(bin_sfx); i++) {
            int shift = 60 - 10 * (int)i;
            long long unit = 1LL << shift;
            if (units % unit == 0) {
                snprintf(out, n, "%lld%s", units / unit, bin_sfx[i]);
                return;
            }
        }
    }
    snprintf(out, n, "%lld", units);
}
