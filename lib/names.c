/* names.c — Kubernetes' name rules (apimachinery util/validation), with its
 * wording, so errors read the same as a real cluster's. */
#include "lib/names.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

#define LABEL_MAX 63
#define SUBDOMAIN_MAX 253

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_MSG                                                                     \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', " \
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', " \
    "regex used for validation is '" DNS1123_LABEL_FMT "')"
#define DNS1123_SUBDOMAIN_MSG                                                                   \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' " \
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "     \
    "regex used for validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')"
#define DNS1035_LABEL_MSG                                                                     \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with " \
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "   \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define ENV_VAR_MSG                                                                           \
    "a valid environment variable name must consist of alphabetic characters, digits, '_', " \
    "'-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  "  \
    "or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
#define CONFIG_KEY_MSG                                                                     \
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. " \
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "          \
    "'[-._a-zA-Z0-9]+')"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG                                                                      \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end " \
    "with an alphanumeric character"
#define QNAME_EXAMPLES                                                             \
    "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" \
    QNAME_FMT "')"
#define LABEL_VALUE_MSG                                                                        \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' " \
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "    \
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')"

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..len). */
static bool label_syntax(const char *s, size_t len)
{
    if (len == 0 || !lower_alnum(s[0]) || !lower_alnum(s[len - 1])) return false;
    for (size_t i = 0; i < len; i++)
        if (!lower_alnum(s[i]) && s[i] != '-') return false;
    return true;
}

static bool subdomain_syntax(const char *s, size_t len)
{
    const char *p = s, *end = s + len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
        if (!label_syntax(p, n)) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..len). */
static bool qname_syntax(const char *s, size_t len)
{
    if (len == 0 || !alnum(s[0]) || !alnum(s[len - 1])) return false;
    for (size_t i = 0; i < len; i++)
        if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return false;
    return true;
}

int orc_dns1123_label(const char *s, size_t len, char *msg, size_t n)
{
    if (len > LABEL_MAX) return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", LABEL_MAX);
    if (!label_syntax(s, len)) return orc_errf(msg, n, ORC_EINVAL, "%s", DNS1123_LABEL_MSG);
    return 0;
}

int orc_dns1123_subdomain(const char *s, size_t len, char *msg, size_t n)
{
    if (len > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", SUBDOMAIN_MAX);
    if (!subdomain_syntax(s, len)) return orc_errf(msg, n, ORC_EINVAL, "%s", DNS1123_SUBDOMAIN_MSG);
    return 0;
}

#define WILDCARD_MSG                                                                        \
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, " \
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "  \
    "alphanumeric character (e.g. '*.example.com', regex used for validation is "            \
    "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

int orc_wildcard_dns1123_subdomain(const char *s, size_t len, char *msg, size_t n)
{
    if (len > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", SUBDOMAIN_MAX);
    if (len < 3 || s[0] != '*' || s[1] != '.' || !subdomain_syntax(s + 2, len - 2))
        return orc_errf(msg, n, ORC_EINVAL, "%s", WILDCARD_MSG);
    return 0;
}

int orc_dns1035_label(const char *s, size_t len, char *msg, size_t n)
{
    if (len > LABEL_MAX) return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", LABEL_MAX);
    if (!label_syntax(s, len) || !alpha(s[0])) return orc_errf(msg, n, ORC_EINVAL, "%s", DNS1035_LABEL_MSG);
    return 0;
}

int orc_env_var_name(const char *s, size_t len, char *msg, size_t n)
{
    bool ok = len > 0 && !(s[0] >= '0' && s[0] <= '9');
    for (size_t i = 0; ok && i < len; i++)
        ok = alnum(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_';
    if (!ok) return orc_errf(msg, n, ORC_EINVAL, "%s", ENV_VAR_MSG);
    return 0;
}

static bool is(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

int orc_config_key(const char *s, size_t len, char *msg, size_t n)
{
    if (len > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", SUBDOMAIN_MAX);
    bool ok = len > 0;
    for (size_t i = 0; ok && i < len; i++)
        ok = alnum(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_';
    if (!ok) return orc_errf(msg, n, ORC_EINVAL, "%s", CONFIG_KEY_MSG);
    /* Keys become file names in volumes: never let one climb out. */
    if (is(s, len, ".")) return orc_errf(msg, n, ORC_EINVAL, "must not be '.'");
    if (is(s, len, "..")) return orc_errf(msg, n, ORC_EINVAL, "must not be '..'");
    if (len >= 2 && memcmp(s, "..", 2) == 0) return orc_errf(msg, n, ORC_EINVAL, "must not start with '..'");
    return 0;
}

static int check_name_part(const char *name, size_t len, char *msg, size_t n)
{
    if (len == 0) return orc_errf(msg, n, ORC_EINVAL, "name part must be non-empty");
    if (len > LABEL_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "name part must be no more than %d characters", LABEL_MAX);
    if (!qname_syntax(name, len)) return orc_errf(msg, n, ORC_EINVAL, "name part " QNAME_MSG " " QNAME_EXAMPLES);
    return 0;
}

int orc_label_key(const char *s, size_t len, char *msg, size_t n)
{
    const char *slash = memchr(s, '/', len), *end = s + len;
    if (!slash) return check_name_part(s, len, msg, n);
    if (memchr(slash + 1, '/', (size_t)(end - slash - 1)))
        return orc_errf(msg, n, ORC_EINVAL, "a qualified name " QNAME_MSG " " QNAME_EXAMPLES
                    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");

    size_t plen = (size_t)(slash - s);
    if (plen == 0) return orc_errf(msg, n, ORC_EINVAL, "prefix part must be non-empty");
    if (plen > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "prefix part must be no more than %d characters", SUBDOMAIN_MAX);
    if (!subdomain_syntax(s, plen)) return orc_errf(msg, n, ORC_EINVAL, "prefix part " DNS1123_SUBDOMAIN_MSG);
    return check_name_part(slash + 1, (size_t)(end - slash - 1), msg, n);
}

int orc_label_value(const char *s, size_t len, char *msg, size_t n)
{
    if (len > LABEL_MAX) return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", LABEL_MAX);
    if (len > 0 && !qname_syntax(s, len)) return orc_errf(msg, n, ORC_EINVAL, "%s", LABEL_VALUE_MSG);
    return 0;
}

int orc_path_segment(const char *s, size_t len, char *msg, size_t n)
{
    if (is(s, len, ".") || is(s, len, ".."))
        return orc_errf(msg, n, ORC_EINVAL, "may not be '%.*s'", (int)len, s);
    bool slash = memchr(s, '/', len) != NULL, pct = memchr(s, '%', len) != NULL;
    /* A NUL would cut the key short where the name is used as a C string. */
    bool nul = memchr(s, '\0', len) != NULL;
    if (slash || pct || nul)
        return orc_errf(msg, n, ORC_EINVAL, "%s%s%s%s%s", slash ? "may not contain '/'" : "",
                        slash && (pct || nul) ? ", " : "", pct ? "may not contain '%'" : "",
                        pct && nul ? ", " : "", nul ? "may not contain a NUL byte" : "");
    return 0;
}

char *orc_ns_name_key(const char *ns, const char *name)
{
    size_t a = strlen(ns), b = strlen(name);
    char *k = malloc(a + b + 2);

    if (k == NULL) return NULL;
    memcpy(k, ns, a);
    k[a] = '/';
    memcpy(k + a + 1, name, b + 1);
    return k;
}
