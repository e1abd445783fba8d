/* yaml_scalar.c — YAML 1.2 core schema resolution of plain scalars, and the
 * wider YAML 1.1 set the emitter must quote so other readers (kubectl's
 * go-yaml) also see strings. */
#include "lib/yaml_scalar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
static const char *const inf_words[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                        "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                        ".NaN",  ".NAN",  NULL};

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
    if (len - sign > 1 && s[sign] == '0' && all_digits(s + sign, len - sign, "01234567")) return 8;
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

/* [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)? — YAML 1.1 base 60. */
static bool sexagesimal(const char *s, size_t len)
{
    size_t i = len > 0 && (s[0] == '-' || s[0] == '+'), groups = 0;

    if (i >= len || s[i] < '0' || s[i] > '9') return false;
    while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) i++;
    while (i < len && s[i] == ':') {
        size_t d = 0;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9' && d < 2; i++) d++;
        if (d == 0 || (d == 2 && s[i - 2] > '5')) return false;
        groups++;
    }
    if (groups == 0) return false;
    if (i < len && s[i] == '.')
        for (i++; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_');) i++;
    return i == len;
}

/* What YAML 1.1 readers (go-yaml v2 in kubectl, PyYAML) take as a number
 * beyond the core schema: underscores, 0b binary, base 60, Go's
 * ParseFloat forms ("+Inf", "-nan", hex floats). */
static bool yaml11_number(const char *s, size_t len)
{
    char t[64];
    size_t n = 0, skip, sign;

    if (len == 0 || len >= sizeof t || strchr("0123456789+-.", s[0]) == NULL) return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '_') t[n++] = s[i];
    t[n] = '\0';
    if (int_base(t, n, &skip) != 0 || is_float(t, n) || sexagesimal(s, len)) return true;
    sign = t[0] == '-' || t[0] == '+';
    if (n > sign + 2 && t[sign] == '0' && (t[sign + 1] == 'b' || t[sign + 1] == 'B')
        && all_digits(t + sign + 2, n - sign - 2, "01"))
        return true;
    if (n > sign + 2 && t[sign] == '0' && (t[sign + 1] == 'x' || t[sign + 1] == 'X')
        && all_digits(t + sign + 2, n - sign - 2, "0123456789abcdefABCDEF.pP+-"))
        return true;
    return sign
           && (!strcasecmp(t + 1, "inf") || !strcasecmp(t + 1, "infinity")
               || !strcasecmp(t + 1, "nan"));
}

static const char *const yaml11_words[] = {"y",   "Y",   "yes", "Yes", "YES", "n",  "N",
                                           "no",  "No",  "NO",  "on",  "On",  "ON", "off",
                                           "Off", "OFF", "=",   "<<",  NULL};

bool orc_yaml_plain_is_typed(const char *s, size_t len)
{
    size_t skip;

    if (is_one_of(s, len, null_words) || is_one_of(s, len, true_words)
        || is_one_of(s, len, false_words) || is_one_of(s, len, inf_words)
        || is_one_of(s, len, yaml11_words))
        return true;
    if (int_base(s, len, &skip) != 0 || is_float(s, len)) return true;
    /* YAML 1.1 timestamps ("2024-06-01", "2024-06-01T12:00:00Z"), which
     * go-yaml reads as times: kubectl quotes them too. */
    if (len >= 6 && all_digits(s, 4, "0123456789") && s[4] == '-' && s[5] >= '0' && s[5] <= '9')
        return true;
    return yaml11_number(s, len);
}
