/* rt_ref.c — image references normalized as Docker does: "nginx:1.14.2" is
 * docker.io/library/nginx:1.14.2, "busybox" is busybox:latest, a first
 * component with '.' or ':' (or "localhost") names the registry. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "agent/rt_int.h"
#include "lib/orc.h"

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_ok(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1])) return false;
    while (i < n) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        if (s[i] == '.') j = i + 1;
        else if (s[i] == '_') j = (i + 1 < n && s[i + 1] == '_') ? i + 2 : i + 1;
        else if (s[i] == '-') while (j < n && s[j] == '-') j++;
        else return false;
        if (j >= n || !is_lower_alnum(s[j])) return false;
        i = j;
    }
    return true;
}

static bool path_ok(const char *p, char *msg, size_t n)
{
    for (const char *c = p; *c; c++) {
        if (isupper((unsigned char)*c)) {
            orc_errf(msg, n, 0, "repository name \"%s\" must be lowercase", p);
            return false;
        }
    }
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!path_component_ok(p, len)) {
            orc_errf(msg, n, 0, "invalid repository path component \"%.*s\"", (int)len, p);
            return false;
        }
        p += len + (slash ? 1 : 0);
        if (slash && !*p) return false;
    }
    return true;
}

/* host[:port], host being dot-separated labels (or a bracketed IPv6). */
static bool domain_ok(const char *d)
{
    const char *colon = strrchr(d, ':');
    size_t hostlen = colon ? (size_t)(colon - d) : strlen(d);

    if (d[0] == '[') {
        const char *end = strchr(d, ']');
        if (end == NULL) return false;
        hostlen = (size_t)(end - d) + 1;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] && !colon) return false;
    } else {
        if (hostlen == 0) return false;
        for (size_t i = 0; i < hostlen; i++) {
            char c = d[i];
            if (!isalnum((unsigned char)c) && c != '.' && c != '-') return false;
        }
    }
    if (colon) {
        if (!colon[1]) return false;
        for (const char *p = colon + 1; *p; p++)
            if (!isdigit((unsigned char)*p)) return false;
    }
    return true;
}

static bool tag_ok(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_')) return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-') return false;
    return true;
}

static bool digest_ok(const char *d)
{
    if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71) return false;
    for (const char *p = d + 7; *p; p++)
        if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f')) return false;
    return true;
}

static bool looks_like_domain(const char *s, size_t n)
{
    return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && memcmp(s, "localhost", 9) == 0);
}

/* strcpy that refuses what does not fit. */
static bool put(char *dst, size_t cap, const char *prefix, const char *src)
{
    size_t a = strlen(prefix), b = strlen(src);

    if (a + b >= cap) return false;
    memcpy(dst, prefix, a);
    memcpy(dst + a, src, b + 1);
    return true;
}

/* Splits "domain/path:tag" (no digest) into out. */
static int split_name(char *name, struct rt_ref *out, char *msg, size_t n)
{
    char *slash = strchr(name, '/'), *colon = strrchr(name, ':'), *path = name;

    if (colon && (!slash || colon > strrchr(name, '/'))) {
        *colon = '\0';
        if (!tag_ok(colon + 1))
            return orc_errf(msg, n, ORC_EINVAL, "invalid tag \"%s\"", colon + 1);
        put(out->tag, sizeof out->tag, "", colon + 1); /* tag_ok bounds it */
    }
    if (slash && looks_like_domain(name, (size_t)(slash - name))) {
        *slash = '\0';
        if (!put(out->domain, sizeof out->domain, "", name))
            return orc_errf(msg, n, ORC_EINVAL, "registry name too long");
        path = slash + 1;
    } else {
        put(out->domain, sizeof out->domain, "", "docker.io");
    }
    if (*path == '\0') return orc_errf(msg, n, ORC_EINVAL, "no repository name");
    if (strcmp(out->domain, "index.docker.io") == 0) put(out->domain, sizeof out->domain, "", "docker.io");
    if (!domain_ok(out->domain))
        return orc_errf(msg, n, ORC_EINVAL, "invalid registry \"%s\"", out->domain);
    if (!put(out->path, sizeof out->path,
             strcmp(out->domain, "docker.io") == 0 && strchr(path, '/') == NULL ? "library/" : "", path))
        return orc_errf(msg, n, ORC_EINVAL, "repository name too long");
    if (!path_ok(out->path, msg, n)) {
        if (msg && !*msg) orc_errf(msg, n, 0, "invalid repository name \"%s\"", out->path);
        return ORC_EINVAL;
    }
    return 0;
}

int rt_ref_parse(const char *s, struct rt_ref *out, char *msg, size_t n)
{
    char name[640], *at;
    int rv;

    memset(out, 0, sizeof *out);
    if (msg && n) msg[0] = '\0';
    if (s == NULL || *s == '\0') return orc_errf(msg, n, ORC_EINVAL, "empty image reference");
    if (snprintf(name, sizeof name, "%s", s) >= (int)sizeof name || strlen(s) > 255 + 80)
        return orc_errf(msg, n, ORC_EINVAL, "image reference too long");
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20)
            return orc_errf(msg, n, ORC_EINVAL, "invalid reference format: \"%s\" holds whitespace", s);
    if ((at = strchr(name, '@')) != NULL) {
        *at = '\0';
        if (!digest_ok(at + 1))
            return orc_errf(msg, n, ORC_EINVAL, "invalid digest \"%s\" (want sha256:<64 hex>)", at + 1);
        snprintf(out->digest, sizeof out->digest, "%s", at + 1);
    }
    if ((rv = split_name(name, out, msg, n)) != 0) {
        char why[200];
        snprintf(why, sizeof why, "%s", msg ? msg : "");
        return orc_errf(msg, n, rv, "invalid image reference \"%s\": %s", s, why);
    }
    if (strlen(out->domain) + 1 + strlen(out->path) > 255)
        return orc_errf(msg, n, ORC_EINVAL, "invalid image reference \"%s\": name too long", s);
    if (out->digest[0]) {
        out->tag[0] = '\0'; /* a digest names the content; skopeo refuses both */
        snprintf(out->full, sizeof out->full, "%s/%s@%s", out->domain, out->path, out->digest);
    } else {
        if (!out->tag[0]) snprintf(out->tag, sizeof out->tag, "latest");
        snprintf(out->full, sizeof out->full, "%s/%s:%s", out->domain, out->path, out->tag);
    }
    return 0;
}
