/* names.c — Kubernetes' name rules (apimachinery util/validation), with its
 * wording, so errors read the same as a real cluster's. */
#include "lib/names.h"

#include <stdbool.h>
#include <stdio.h>
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

static bool subdomain_syntax(const char *s)
{
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_syntax(p, len)) return false;
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

int orc_dns1123_label(const char *s, char *msg, size_t n)
{
    size_t len = strlen(s);
    if (len > LABEL_MAX) return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", LABEL_MAX);
    if (!label_syntax(s, len)) return orc_errf(msg, n, ORC_EINVAL, "%s", DNS1123_LABEL_MSG);
    return 0;
}

int orc_dns1123_subdomain(const char *s, char *msg, size_t n)
{
    if (strlen(s) > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", SUBDOMAIN_MAX);
    if (!subdomain_syntax(s)) return orc_errf(msg, n, ORC_EINVAL, "%s", DNS1123_SUBDOMAIN_MSG);
    return 0;
}

int orc_dns1035_label(const char *s, char *msg, size_t n)
{
    size_t len = strlen(s);
    if (len > LABEL_MAX) return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", LABEL_MAX);
    if (!label_syntax(s, len) || !alpha(s[0])) return orc_errf(msg, n, ORC_EINVAL, "%s", DNS1035_LABEL_MSG);
    return 0;
}

int orc_env_var_name(const char *s, char *msg, size_t n)
{
    bool ok = s[0] != '\0' && !(s[0] >= '0' && s[0] <= '9');
    for (const char *p = s; ok && *p; p++)
        ok = alnum(*p) || *p == '-' || *p == '.' || *p == '_';
    if (!ok) return orc_errf(msg, n, ORC_EINVAL, "%s", ENV_VAR_MSG);
    return 0;
}

int orc_config_key(const char *s, char *msg, size_t n)
{
    size_t len = strlen(s);
    if (len > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", SUBDOMAIN_MAX);
    bool ok = len > 0;
    for (const char *p = s; ok && *p; p++)
        ok = alnum(*p) || *p == '-' || *p == '.' || *p == '_';
    if (!ok) return orc_errf(msg, n, ORC_EINVAL, "%s", CONFIG_KEY_MSG);
    /* Keys become file names in volumes: never let one climb out. */
    if (strcmp(s, ".") == 0) return orc_errf(msg, n, ORC_EINVAL, "must not be '.'");
    if (strcmp(s, "..") == 0) return orc_errf(msg, n, ORC_EINVAL, "must not be '..'");
    if (strncmp(s, "..", 2) == 0) return orc_errf(msg, n, ORC_EINVAL, "must not start with '..'");
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

int orc_label_key(const char *s, char *msg, size_t n)
{
    const char *slash = strchr(s, '/');
    if (!slash) return check_name_part(s, strlen(s), msg, n);
    if (strchr(slash + 1, '/'))
        return orc_errf(msg, n, ORC_EINVAL, "a qualified name " QNAME_MSG " " QNAME_EXAMPLES
                    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");

    size_t plen = (size_t)(slash - s);
    if (plen == 0) return orc_errf(msg, n, ORC_EINVAL, "prefix part must be non-empty");
    char prefix[SUBDOMAIN_MAX + 2];
    if (plen > SUBDOMAIN_MAX)
        return orc_errf(msg, n, ORC_EINVAL, "prefix part must be no more than %d characters", SUBDOMAIN_MAX);
    memcpy(prefix, s, plen);
    prefix[plen] = '\0';
    if (!subdomain_syntax(prefix)) return orc_errf(msg, n, ORC_EINVAL, "prefix part " DNS1123_SUBDOMAIN_MSG);
    return check_name_part(slash + 1, strlen(slash + 1), msg, n);
}

int orc_label_value(const char *s, char *msg, size_t n)
{
    size_t len = strlen(s);
    if (len > LABEL_MAX) return orc_errf(msg, n, ORC_EINVAL, "must be no more than %d characters", LABEL_MAX);
    if (len > 0 && !qname_syntax(s, len)) return orc_errf(msg, n, ORC_EINVAL, "%s", LABEL_VALUE_MSG);
    return 0;
}
