/* fieldmgr_set.c — field sets as FieldsV1-shaped JSON trees: union,
 * difference, intersection, the wire form and the printed paths (see
 * fieldmgr.h for the shape). */
#include "apiserver/fieldmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"

#define MEMBER "."

json_t *fm_set_new(void)
{
    return json_object();
}

bool fm_set_is_member(const json_t *node)
{
    return json_object_get(node, MEMBER) != NULL;
}

bool fm_set_empty(const json_t *s)
{
    return s == NULL || json_object_size(s) == 0;
}

void fm_set_mark(json_t *node)
{
    if (!fm_set_is_member(node)) json_object_set_new(node, MEMBER, json_object());
}

json_t *fm_set_child(json_t *node, const char *pe)
{
    json_t *c = json_object_get(node, pe);

    if (c) return c;
    c = json_object();
    if (c && json_object_set_new(node, pe, c) != 0) return NULL;
    return c;
}

/* Puts child under key unless it is empty (a set holds no empty nodes). */
static int put_child(json_t *out, const char *key, json_t *child)
{
    if (child == NULL) return ORC_ENOMEM;
    if (json_object_size(child) == 0) {
        json_decref(child);
        return 0;
    }
    return json_object_set_new(out, key, child) == 0 ? 0 : ORC_ENOMEM;
}

int fm_set_add(json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)b, k, v) {
        if (strcmp(k, MEMBER) == 0) {
            fm_set_mark(a);
            continue;
        }
        json_t *c = fm_set_child(a, k);
        if (c == NULL || fm_set_add(c, v) != 0) return ORC_ENOMEM;
    }
    return 0;
}

json_t *fm_set_union(const json_t *a, const json_t *b)
{
    json_t *out = json_deep_copy(a ? a : json_object());

    if (out == NULL) out = json_object();
    if (out && b && fm_set_add(out, b) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *fm_set_difference(const json_t *a, const json_t *b)
{
    json_t *out = json_object(), *v;
    const char *k;

    if (out == NULL) return NULL;
    json_object_foreach((json_t *)a, k, v) {
        json_t *bv = b ? json_object_get(b, k) : NULL;
        if (strcmp(k, MEMBER) == 0) {
            if (bv == NULL) fm_set_mark(out);
            continue;
        }
        if (put_child(out, k, bv ? fm_set_difference(v, bv) : json_deep_copy(v)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *fm_set_intersection(const json_t *a, const json_t *b)
{
    json_t *out = json_object(), *v;
    const char *k;

    if (out == NULL) return NULL;
    if (a == NULL || b == NULL) return out;
    json_object_foreach((json_t *)a, k, v) {
        json_t *bv = json_object_get(b, k);
        if (bv == NULL) continue;
        if (strcmp(k, MEMBER) == 0) {
            fm_set_mark(out);
            continue;
        }
        if (put_child(out, k, fm_set_intersection(v, bv)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *fm_set_recursive_difference(const json_t *a, const json_t *b)
{
    json_t *out, *v;
    const char *k;

    if (b && fm_set_is_member(b)) return json_object();
    out = json_object();
    if (out == NULL) return NULL;
    json_object_foreach((json_t *)a, k, v) {
        json_t *bv = b ? json_object_get(b, k) : NULL;
        if (strcmp(k, MEMBER) == 0) {
            fm_set_mark(out);
            continue;
        }
        if (put_child(out, k, bv ? fm_set_recursive_difference(v, bv) : json_deep_copy(v)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* ---- wire form ---- */

json_t *fm_set_to_fields1(const json_t *s)
{
    size_t n = 0;
    const char **keys = orc_json_sorted_keys(s, &n);
    json_t *out = json_object();
    bool member = fm_set_is_member(s);

    if (out == NULL || (n > 0 && keys == NULL)) goto oom;
    /* A member with children says so with "."; a childless one is {}. */
    if (member && n > 1 && json_object_set_new(out, MEMBER, json_object()) != 0) goto oom;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i], MEMBER) == 0) continue;
        json_t *c = fm_set_to_fields1(json_object_get(s, keys[i]));
        if (c == NULL || json_object_set_new(out, keys[i], c) != 0) goto oom;
    }
    free(keys);
    return out;
oom:
    free(keys);
    json_decref(out);
    return NULL;
}

static bool valid_pe(const char *k)
{
    return strcmp(k, MEMBER) == 0 || (strlen(k) > 2 && k[1] == ':' && strchr("fkvi", k[0]));
}

static json_t *from_fields1(const json_t *f, bool top, char *err, size_t errlen)
{
    json_t *out, *v;
    const char *k;

    if (!json_is_object(f)) {
        orc_errf(err, errlen, ORC_EINVAL, "a FieldsV1 node must be an object");
        return NULL;
    }
    out = json_object();
    if (out == NULL) return NULL;
    if (!top && json_object_size(f) == 0) fm_set_mark(out);
    json_object_foreach((json_t *)f, k, v) {
        json_t *c;
        if (!valid_pe(k)) {
            orc_errf(err, errlen, ORC_EINVAL, "unknown path element %.64s", k);
            json_decref(out);
            return NULL;
        }
        if (strcmp(k, MEMBER) == 0) {
            fm_set_mark(out);
            continue;
        }
        c = from_fields1(v, false, err, errlen);
        if (c == NULL || json_object_set_new(out, k, c) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *fm_set_from_fields1(const json_t *f, char *err, size_t errlen)
{
    return from_fields1(f, true, err, errlen);
}

/* ---- printed paths ---- */

/* One path element as structured-merge-diff prints it. */
static int print_pe(struct orc_buf *b, const char *pe)
{
    const char *body = pe + 2;

    switch (pe[0]) {
    case 'f': return orc_buf_printf(b, ".%s", body);
    case 'v': return orc_buf_printf(b, "[=%s]", body);
    case 'i': return orc_buf_printf(b, "[%s]", body);
    default: break;
    }
    json_t *keys = json_loads(body, 0, NULL), *v;
    const char *k;
    int rv = keys ? orc_buf_puts(b, "[") : orc_buf_printf(b, "[%s]", body);
    bool first = true;

    json_object_foreach(keys, k, v) {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (rv == 0) rv = orc_buf_printf(b, "%s%s=%s", first ? "" : ",", k, text ? text : "?");
        free(text);
        first = false;
    }
    if (keys && rv == 0) rv = orc_buf_puts(b, "]");
    json_decref(keys);
    return rv;
}

static int each_path(const json_t *s, struct orc_buf *prefix,
                     int (*fn)(const char *path, void *arg), void *arg)
{
    size_t n = 0, len = prefix->len;
    const char **keys = orc_json_sorted_keys(s, &n);
    int rv = 0;

    if (fm_set_is_member(s) && prefix->len > 0) rv = fn(prefix->data, arg);
    for (size_t i = 0; i < n && rv == 0; i++) {
        if (strcmp(keys[i], MEMBER) == 0) continue;
        rv = print_pe(prefix, keys[i]);
        if (rv == 0) rv = each_path(json_object_get(s, keys[i]), prefix, fn, arg);
        prefix->len = len;
        if (prefix->data) prefix->data[len] = '\0';
    }
    free(keys);
    return rv;
}

int fm_set_each_path(const json_t *s, int (*fn)(const char *path, void *arg), void *arg)
{
    struct orc_buf prefix = ORC_BUF_INIT;
    int rv = each_path(s, &prefix, fn, arg);

    orc_buf_free(&prefix);
    return rv;
}
