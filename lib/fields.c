/* fields.c — field selectors: "path=value" terms joined by ',', where '\'
 * escapes ',', '=' and '\' inside values, as in Kubernetes. */
#include "lib/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

struct term {
    char *path;
    char *value; /* unescaped */
    bool negate;
};

struct orc_fieldsel {
    struct term *terms;
    size_t n;
};

void orc_fieldsel_free(orc_fieldsel *fs)
{
    if (!fs) return;
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->terms[i].path);
        free(fs->terms[i].value);
    }
    free(fs->terms);
    free(fs);
}

/* End of the term starting at s: the first unescaped ',' or the NUL. */
static const char *term_end(const char *s)
{
    for (; *s && *s != ','; s++)
        if (*s == '\\' && s[1]) s++;
    return s;
}

/* Copies s[0..len) resolving escapes; NULL with *bad set on a bad escape. */
static char *unescape(const char *s, size_t len, bool *bad)
{
    char *out = malloc(len + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 1 >= len || !strchr("\\,=", s[i + 1])) {
                *bad = true;
                free(out);
                return NULL;
            }
            i++;
        }
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

static int parse_term(const char *s, size_t len, struct term *t, char *msg, size_t n)
{
    size_t i, oplen = 0;
    for (i = 0; i < len; i++) {
        if (s[i] == '\\') { i++; continue; }
        if (s[i] == '!' && i + 1 < len && s[i + 1] == '=') { oplen = 2; t->negate = true; break; }
        if (s[i] == '=' && i + 1 < len && s[i + 1] == '=') { oplen = 2; break; }
        if (s[i] == '=') { oplen = 1; break; }
    }
    if (oplen == 0 || i == 0)
        return orc_errf(msg, n, ORC_EINVAL, "invalid field selector: '%.*s'; can't understand '%.*s'", (int)len,
                    s, (int)len, s);
    bool bad = false;
    t->path = strndup(s, i);
    t->value = unescape(s + i + oplen, len - i - oplen, &bad);
    if (bad) return orc_errf(msg, n, ORC_EINVAL, "invalid field selector: '%.*s': invalid escape sequence",
                         (int)len, s);
    if (!t->path || !t->value) return ORC_ENOMEM;
    return 0;
}

int orc_fieldsel_parse(const char *s, orc_fieldsel **out, char *msg, size_t n)
{
    orc_fieldsel *fs = calloc(1, sizeof *fs);
    size_t count = 0;
    int rv = 0;

    *out = NULL;
    if (!fs) return ORC_ENOMEM;
    if (*s) {
        for (const char *p = s;; p++) {
            count++;
            p = term_end(p);
            if (!*p) break;
        }
        fs->terms = calloc(count, sizeof *fs->terms);
        if (!fs->terms) rv = ORC_ENOMEM;
    }
    for (const char *p = s; rv == 0 && fs->n < count; fs->n++) {
        const char *end = term_end(p);
        rv = parse_term(p, (size_t)(end - p), &fs->terms[fs->n], msg, n);
        p = *end ? end + 1 : end;
    }
    if (rv != 0) {
        if (rv == ORC_ENOMEM) orc_errf(msg, n, ORC_EINVAL, "out of memory");
        orc_fieldsel_free(fs);
        return rv;
    }
    *out = fs;
    return 0;
}

size_t orc_fieldsel_count(const orc_fieldsel *fs)
{
    return fs->n;
}

const char *orc_fieldsel_path(const orc_fieldsel *fs, size_t i)
{
    return i < fs->n ? fs->terms[i].path : NULL;
}

int orc_fieldsel_set_path(orc_fieldsel *fs, size_t i, const char *path)
{
    char *copy;
    if (i >= fs->n) return ORC_EINVAL;
    if ((copy = strdup(path)) == NULL) return ORC_ENOMEM;
    free(fs->terms[i].path);
    fs->terms[i].path = copy;
    return 0;
}

/* The value at a dotted path, or NULL. */
static const json_t *lookup(const json_t *obj, const char *path)
{
    const json_t *v = obj;
    const char *p = path;

    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char key[256];
        if (len >= sizeof key) return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        v = json_is_object(v) ? json_object_get(v, key) : NULL;
        p = dot ? dot + 1 : p + len;
    }
    return v;
}

/* A scalar as the text a selector compares with; "" for absent or compound. */
static const char *value_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) return json_string_value(v);
    buf[0] = '\0';
    if (json_is_integer(v)) snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_true(v)) snprintf(buf, n, "true");
    else if (json_is_false(v)) snprintf(buf, n, "false");
    return buf;
}

bool orc_fieldsel_matches(const orc_fieldsel *fs, const json_t *obj)
{
    for (size_t i = 0; i < fs->n; i++) {
        const struct term *t = &fs->terms[i];
        char buf[32];
        const char *have = value_text(lookup(obj, t->path), buf, sizeof buf);
        if ((strcmp(have, t->value) == 0) == t->negate) return false;
    }
    return true;
}
