/* fuzz_names.c — libFuzzer target for lib/names.c: every name rule over
 * arbitrary bytes (NULs included, read only within the counted length),
 * checked against Kubernetes' own regular expressions and length limits
 * (POSIX regexes as the oracle), and against each other: what one rule
 * admits, a looser one must admit too. */
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"

struct oracle {
    orc_name_rule rule;
    const char *regex; /* Kubernetes' pattern, anchored here */
    size_t max;        /* length limit, 0: none */
    regex_t re;
};

static struct oracle oracles[] = {
    {orc_dns1123_label, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", 63, {0}},
    {orc_dns1123_subdomain, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
     253, {0}},
    {orc_dns1035_label, "^[a-z]([-a-z0-9]*[a-z0-9])?$", 63, {0}},
    {orc_env_var_name, "^[-._a-zA-Z][-._a-zA-Z0-9]*$", 0, {0}},
    {orc_label_value, "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", 63, {0}},
};

static bool compiled;

static void compile(void)
{
    for (size_t i = 0; i < sizeof oracles / sizeof *oracles; i++)
        if (regcomp(&oracles[i].re, oracles[i].regex, REG_EXTENDED | REG_NOSUB) != 0) abort();
    compiled = true;
}

static bool ok(orc_name_rule rule, const char *s, size_t len)
{
    char msg[1024];
    msg[0] = '\0';
    int rv = rule(s, len, msg, sizeof msg);
    if (rv != 0 && msg[0] == '\0') abort(); /* a refusal always says why */
    if (strlen(msg) >= sizeof msg) abort();
    return rv == 0;
}

/* Kubernetes' qualified name (label key, finalizer): [prefix/]name. */
static bool qualified_name(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    const char *name = slash ? slash + 1 : s;
    size_t nlen = len - (size_t)(name - s);
    if (slash && !ok(orc_dns1123_subdomain, s, (size_t)(slash - s))) return false;
    if (nlen == 0 || nlen > 63 || memchr(name, '/', nlen)) return false;
    return ok(orc_label_value, name, nlen);
}

/* Kubernetes' IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253, not "." nor
 * starting with "..". */
static bool config_key(const char *s, size_t len)
{
    if (len == 0 || len > 253) return false;
    for (size_t i = 0; i < len; i++)
        if (!memchr("-._abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", s[i], 65)
            || s[i] == '\0')
            return false;
    return !(len == 1 && s[0] == '.') && !(len >= 2 && memcmp(s, "..", 2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!compiled) compile();
    /* An exact-size copy: ASan catches any read past the counted length. */
    char *s = malloc(size ? size : 1);
    char *z = malloc(size + 1);
    if (s == NULL || z == NULL) abort();
    memcpy(s, data, size);
    memcpy(z, data, size);
    z[size] = '\0';
    bool has_nul = memchr(s, '\0', size) != NULL;

    for (size_t i = 0; i < sizeof oracles / sizeof *oracles; i++) {
        const struct oracle *o = &oracles[i];
        bool got = ok(o->rule, s, size);
        if (has_nul) {
            if (got) abort(); /* a NUL is refused, never taken as the end */
            continue;
        }
        bool want = regexec(&o->re, z, 0, NULL, 0) == 0 && (o->max == 0 || size <= o->max);
        if (got != want) abort();
    }
    bool key = ok(orc_label_key, s, size);
    if (key != (!has_nul && qualified_name(s, size))) abort();
    bool cfg = ok(orc_config_key, s, size);
    if (cfg != config_key(s, size)) abort();
    /* Rules nest: a DNS label is a subdomain, a label value, a label key
     * and a config key; any subdomain is a path segment. */
    if (ok(orc_dns1035_label, s, size) && !ok(orc_dns1123_label, s, size)) abort();
    if (ok(orc_dns1123_label, s, size) && !(ok(orc_dns1123_subdomain, s, size) && key && cfg))
        abort();
    if (ok(orc_dns1123_subdomain, s, size) && !ok(orc_path_segment, s, size)) abort();
    if (has_nul && ok(orc_path_segment, s, size)) abort();
    free(s);
    free(z);
    return 0;
}
