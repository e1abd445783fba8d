/* json.c — dotted-path access and (de)serialization helpers over jansson,
 * shared by every module that handles API objects. */
#include "lib/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

/* Walks `path` one key at a time; keys are bounded by dots, so a key that
 * itself contains a dot cannot be reached this way (by design: callers use
 * the jansson API directly for label and annotation keys). */
json_t *orc_json_get(const json_t *root, const char *path)
{
    const json_t *cur = root;
    const char *p = path;

    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur)) return NULL;
        cur = json_object_getn(cur, p, n);
        p += n;
        if (*p == '.') p++;
    }
    return (json_t *)cur;
}

const char *orc_json_str(const json_t *root, const char *path)
{
    return json_string_value(orc_json_get(root, path));
}

int orc_json_int(const json_t *root, const char *path, int64_t *out)
{
    json_t *v = orc_json_get(root, path);

    if (v == NULL) return ORC_ENOENT;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    /* A whole-valued real (e.g. 3.0 from YAML or another client) is still a
     * usable count. */
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* Range check first: converting an out-of-range double is undefined. */
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return ORC_EINVAL;
}

int orc_json_set(json_t *root, const char *path, json_t *value)
{
    json_t *cur = root;
    const char *p = path;

    if (value == NULL) return ORC_ENOMEM;
    if (!json_is_object(root) || *path == '\0') goto err;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (dot == NULL) break;
        json_t *next = json_object_getn(cur, p, (size_t)(dot - p));
        if (next == NULL) {
            next = json_object();
            if (next == NULL || json_object_setn_new(cur, p, (size_t)(dot - p), next) != 0) {
                json_decref(value);
                return ORC_ENOMEM;
            }
        } else if (!json_is_object(next)) {
            goto err;
        }
        cur = next;
        p = dot + 1;
    }
    if (json_object_set_new(cur, p, value) != 0) return ORC_ENOMEM;
    return 0;
err:
    json_decref(value);
    return ORC_EINVAL;
}

void orc_json_del(json_t *root, const char *path)
{
    const char *dot = strrchr(path, '.');
    json_t *parent = root;

    if (dot) {
        size_t n = (size_t)(dot - path);
        char *prefix = strndup(path, n);
        if (prefix == NULL) return;
        parent = orc_json_get(root, prefix);
        free(prefix);
        path = dot + 1;
    }
    if (json_is_object(parent)) json_object_del(parent, path);
}

json_t *orc_json_parse(const char *text, size_t len, char *errmsg, size_t errlen)
{
    json_error_t err;
    json_t *v =
        orc_json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);

    if (v == NULL && errmsg && errlen)
        snprintf(errmsg, errlen, "line %d column %d: %s", err.line, err.column, err.text);
    return v;
}

/* jansson's dump callback: append a chunk to the orc_buf passed as data. */
static int dump_cb(const char *chunk, size_t size, void *data)
{
    return orc_buf_append(data, chunk, size) == 0 ? 0 : -1;
}

static int dump_flags(const json_t *v, size_t flags, struct orc_buf *out)
{
    /* ENCODE_ANY lets callers dump scalars too (a patch value, an error). */
    if (json_dump_callback(v, dump_cb, out, flags | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) != 0)
        return ORC_ENOMEM;
    /* Keeps the buffer a valid C string even if nothing was written. */
    return orc_buf_append(out, "", 0);
}

int orc_json_dump(const json_t *v, struct orc_buf *out)
{
    if (orc_json_dump_fast(v, out) == 0) return orc_buf_append(out, "", 0);
    return dump_flags(v, JSON_COMPACT, out);
}

char *orc_json_dumps(const json_t *v)
{
    struct orc_buf b = ORC_BUF_INIT;
    if (orc_json_dump(v, &b) != 0) {
        orc_buf_free(&b);
        return NULL;
    }
    return orc_buf_steal(&b, NULL);
}

int orc_json_dump_pretty(const json_t *v, struct orc_buf *out)
{
    int rv = dump_flags(v, JSON_INDENT(4), out);

    if (rv == 0) rv = orc_buf_puts(out, "\n");
    return rv;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **orc_json_sorted_keys(const json_t *obj, size_t *n)
{
    const char **keys;
    const char *k;
    json_t *v;
    size_t i = 0;

    *n = json_is_object(obj) ? json_object_size(obj) : 0;
    if (*n == 0 || (keys = malloc(*n * sizeof *keys)) == NULL) {
        *n = 0;
        return NULL;
    }
    json_object_foreach ((json_t *)obj, k, v) keys[i++] = k;
    qsort(keys, *n, sizeof *keys, cmp_cstr);
    return keys;
}

/* Absent, null, [] or an object whose every member is so. */
static bool semantic_empty(const json_t *v)
{
    const char *k;
    json_t *m;

    if (v == NULL || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) return true;
    if (!json_is_object(v)) return false;
    json_object_foreach ((json_t *)v, k, m)
        if (!semantic_empty(m)) return false;
    return true;
}

/* Every member of a is semantically equal to b's member of that name. */
static bool semantic_members_in(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *m;

    json_object_foreach ((json_t *)a, k, m)
        if (!orc_json_semantic_equal(m, json_object_get(b, k))) return false;
    return true;
}

bool orc_json_semantic_equal(const json_t *a, const json_t *b)
{
    if (semantic_empty(a) && semantic_empty(b)) return true;
    if (json_is_object(a) && json_is_object(b)) return semantic_members_in(a, b) && semantic_members_in(b, a);
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!orc_json_semantic_equal(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    }
    return a && b && json_equal((json_t *)a, (json_t *)b);
}

json_t *orc_json_sorted_copy(const json_t *v)
{
    json_t *out, *item;
    size_t i, n;

    if (json_is_array(v)) {
        if ((out = json_array()) == NULL) return NULL;
        json_array_foreach ((json_t *)v, i, item)
            if (json_array_append_new(out, orc_json_sorted_copy(item)) != 0) goto fail;
        return out;
    }
    if (!json_is_object(v)) return json_deep_copy(v);
    const char **keys = orc_json_sorted_keys(v, &n);
    if ((out = json_object()) == NULL || (n > 0 && keys == NULL)) {
        free(keys);
        json_decref(out);
        return NULL;
    }
    for (i = 0; i < n; i++)
        if (json_object_set_new(out, keys[i], orc_json_sorted_copy(json_object_get(v, keys[i]))) != 0)
            break;
    free(keys);
    if (i == n) return out;
fail:
    json_decref(out);
    return NULL;
}
