/* yaml_scalar.c — YAML 1.2 core schema resolution of plain scalars, and the
 * wider YAML 1.1 set the emitter must quote so other readers (kubectl's
 * go-yaml) also see strings. */
#include "lib/yaml_scalar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

static bool is_one_of(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == len && memcmp(*words, s, len) == 0) return true;
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};
static const char *const inf_words[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                        "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL};

static bool all_digits(const char *s, size_t len, const char *set)
{
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++)
        if (strchr(set, s[i]) == NULL || s[i] == '\0') return false;
    return true;
}

/* [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+; returns the base (0 if no int). */
static int int_base(const char *s, size_t len, size_t *skip)
{
    size_t sign = len > 0 && (s[0] == '-' || s[0] == '+');

    *skip = 0;
    if (len > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s + 2, len - 2, "01234567")) {
        *skip = 2;
        return 8;
    }
    if (len > 2 && s[0] == '0' && s[1] == 'x'
        && all_digits(s + 2, len - 2, "0123456789abcdefABCDEF")) {
        *skip = 2;
        return 16;
    }
    if (!all_digits(s + sign, len - sign, "0123456789")) return 0;
    /* A leading zero means octal to Kubernetes' YAML reader (file modes such
     * as "defaultMode: 0644"); keep that meaning when all digits allow it. */
    if (len - sign > 1 && s[sign] == '0' && all_digits(s + sign, len - sign, "01234567"))
        return 8;
    return 10;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s, size_t len)
{
    size_t i = 0, mant = 0;

    if (i < len && (s[i] == '-' || s[i] == '+')) i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++, mant++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++, mant++;
    }
    if (mant == 0) return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++, exp++;
        if (exp == 0) return false;
    }
    return i == len;
}

static int make_number(const char *s, size_t len, int base, size_t skip, json_t **out)
{
    char tmp[128];
    char *end;

    if (len >= sizeof tmp) {
        /* Absurdly long digit strings still resolve: as a real, like an
         * overflowing integer below. */
        char *dup = strndup(s, len);
        if (dup == NULL) return ORC_ENOMEM;
        *out = json_real(strtod(dup, NULL));
        free(dup);
        return *out ? 0 : ORC_EINVAL;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (base != 0) {
        errno = 0;
        long long v = strtoll(tmp + skip, &end, base);
        if (errno == 0 && *end == '\0') {
            *out = json_integer(v);
            return *out ? 0 : ORC_ENOMEM;
        }
        if (base != 10) return 0; /* out-of-range hex/octal: keep the text */
    }
    /* Integers beyond int64 become reals, as Go's YAML readers do. */
    double d = strtod(tmp, &end);
    *out = json_real(d);
    return *out ? 0 : ORC_EINVAL;
}

int orc_yaml_resolve_plain(const char *s, size_t len, json_t **out)
{
    size_t skip;
    int base;

    *out = NULL;
    if (is_one_of(s, len, null_words)) *out = json_null();
    else if (is_one_of(s, len, true_words)) *out = json_true();
    else if (is_one_of(s, len, false_words)) *out = json_false();
    else if (is_one_of(s, len, inf_words)) return ORC_EINVAL;
    else if ((base = int_base(s, len, &skip)) != 0) return make_number(s, len, base, skip, out);
    else if (is_float(s, len)) return make_number(s, len, 0, 0, out);
    return 0;
}

static bool strpbrk_n(const char *s, size_t len, const char *set)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\0' && strchr(set, s[i]) != NULL) return true;
    return false;
}

static const char *const yaml11_words[] = {
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON",
    "off", "Off", "OFF", "=", "<<", NULL};

bool orc_yaml_plain_is_typed(const char *s, size_t len)
{
    size_t skip;

    if (is_one_of(s, len, null_words) || is_one_of(s, len, true_words)
        || is_one_of(s, len, false_words) || is_one_of(s, len, inf_words)
        || is_one_of(s, len, yaml11_words))
        return true;
    if (int_base(s, len, &skip) != 0 || is_float(s, len)) return true;
    /* YAML 1.1 numbers: 0b1010, 1_000, 1:30 (base 60), .5 and 1. forms. */
    if (len > 0 && strchr("0123456789+-.", s[0]) != NULL && strpbrk_n(s, len, "0123456789")
        && all_digits(s, len, "0123456789+-._:eEbxoabcdefABCDEF"))
        return true;
    return false;
}
