/* vt.h — helpers shared by the validation tests (header-only: every .c in
 * tests/apiserver/ is its own program). Manifests are JSON written with single
 * quotes for readability; paths look like "spec.template.spec.containers[0]". */
#ifndef ORC_TEST_VT_H
#define ORC_TEST_VT_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/validate.h"
#include "lib/kinds.h"
#include "tests/harness/test.h"

struct vt {
    const struct orc_kind *k;
    json_t *obj;
    struct api_diag d;
};

/* Parses JSON text with ' standing for ". */
static inline json_t *vt_json(const char *text)
{
    char *s = strdup(text);
    json_error_t err;
    CHECK(s != NULL);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    json_t *v = json_loads(s, JSON_DECODE_ANY, &err);
    CHECKF(v != NULL, "bad test JSON at %d:%d: %s\n%s", err.line, err.column, err.text, s);
    free(s);
    return v;
}

static inline const struct orc_kind *vt_kind(const char *kind)
{
    const struct orc_kind *k = orc_kind_lookup(kind);
    CHECKF(k != NULL, "no kind %s", kind);
    return k;
}

static inline void vt_dump(const struct vt *v)
{
    char *c = json_dumps(v->d.causes, JSON_INDENT(1));
    char *w = json_dumps(v->d.warnings, JSON_INDENT(1));
    fprintf(stderr, "causes: %s\nwarnings: %s\n", c ? c : "?", w ? w : "?");
    free(c);
    free(w);
}

/* The server's order: schema, then (if clean) defaults and validation. */
static inline void vt_run(struct vt *v, const char *kind, json_t *obj, const json_t *old)
{
    v->k = vt_kind(kind);
    v->obj = obj;
    CHECK(api_diag_init(&v->d) == 0);
    api_schema_check(v->k, v->obj, &v->d);
    if (api_diag_failed(&v->d)) return;
    api_defaults(v->k, v->obj);
    api_validate(v->k, v->obj, old, &v->d);
}

static inline void vt_free(struct vt *v)
{
    api_diag_clear(&v->d);
    json_decref(v->obj);
}

/* Walks a path; with `create`, makes missing objects on the way. */
static inline json_t *vt_walk(json_t *root, const char *path, bool create, char *last, size_t n)
{
    json_t *cur = root;
    const char *p = path;
    while (cur && *p) {
        if (*p == '[') {
            size_t i = strtoul(p + 1, (char **)&p, 10);
            p++; /* ']' */
            if (*p == '.') p++;
            if (!*p) {
                snprintf(last, n, "#%zu", i);
                return cur;
            }
            cur = json_array_get(cur, i);
            continue;
        }
        size_t len = strcspn(p, ".[");
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)len, p);
        p += len;
        if (*p == '.') p++;
        if (!*p) {
            snprintf(last, n, "%s", key);
            return cur;
        }
        json_t *next = json_object_get(cur, key);
        if (!next && create) {
            next = json_object();
            json_object_set_new(cur, key, next);
        }
        cur = next;
    }
    return NULL;
}

/* Sets (steals `value`) or, with NULL, deletes the value at path; an index
 * one past the end appends. */
static inline void vt_set(json_t *root, const char *path, json_t *value)
{
    char last[256];
    json_t *parent = vt_walk(root, path, value != NULL, last, sizeof last);
    CHECKF(parent != NULL, "no parent for %s", path);
    if (last[0] == '#') {
        size_t i = strtoul(last + 1, NULL, 10);
        if (value && i == json_array_size(parent)) CHECK(json_array_append_new(parent, value) == 0);
        else if (value) CHECK(json_array_set_new(parent, i, value) == 0);
        else json_array_remove(parent, i);
    } else if (value) {
        CHECK(json_object_set_new(parent, last, value) == 0);
    } else {
        json_object_del(parent, last);
    }
}

static inline void vt_setj(json_t *root, const char *path, const char *json)
{
    vt_set(root, path, json ? vt_json(json) : NULL);
}

static inline json_t *vt_get(json_t *root, const char *path)
{
    char last[256];
    json_t *parent = vt_walk(root, path, false, last, sizeof last);
    if (!parent) return NULL;
    if (last[0] == '#') return json_array_get(parent, strtoul(last + 1, NULL, 10));
    return json_object_get(parent, last);
}

static inline bool vt_has_cause(const struct vt *v, const char *field, const char *msg)
{
    size_t i;
    json_t *c;
    json_array_foreach(v->d.causes, i, c) {
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        if (f && m && strcmp(f, field) == 0 && strncmp(m, msg, strlen(msg)) == 0) return true;
    }
    return false;
}

static inline bool vt_has_warning(const struct vt *v, const char *text)
{
    size_t i;
    json_t *w;
    json_array_foreach(v->d.warnings, i, w)
        if (strcmp(json_string_value(w), text) == 0) return true;
    return false;
}

#define VT_CAUSE(v, field, msg)                                                         \
    do {                                                                                \
        if (!vt_has_cause(v, field, msg)) {                                             \
            vt_dump(v);                                                                 \
            test_fail(__FILE__, __LINE__, "no cause %s: %s", field, msg);              \
        }                                                                               \
    } while (0)

#define VT_WARNING(v, text)                                                             \
    do {                                                                                \
        if (!vt_has_warning(v, text)) {                                                 \
            vt_dump(v);                                                                 \
            test_fail(__FILE__, __LINE__, "no warning %s", text);                      \
        }                                                                               \
    } while (0)

/* No causes and no warnings. */
#define VT_CLEAN(v)                                                                     \
    do {                                                                                \
        if (json_array_size((v)->d.causes) || json_array_size((v)->d.warnings)) {      \
            vt_dump(v);                                                                 \
            test_fail(__FILE__, __LINE__, "expected no causes and no warnings");       \
        }                                                                               \
    } while (0)

#define VT_STR(obj, path, want) CHECK_STR(json_string_value(vt_get(obj, path)), want)
#define VT_INT(obj, path, want)                                                         \
    do {                                                                                \
        json_t *x_ = vt_get(obj, path);                                                 \
        CHECKF(json_is_integer(x_), "%s is not an integer", path);                     \
        CHECK_INT(json_integer_value(x_), ==, want);                                    \
    } while (0)

/* Runs `kind` on a copy of `base` with one field set (json text) or removed
 * (NULL), and checks for a cause. */
static inline void vt_expect(const char *kind, const json_t *base, const char *path,
                             const char *json, const char *field, const char *msg,
                             const char *file, int line)
{
    struct vt v;
    json_t *obj = json_deep_copy(base);
    vt_setj(obj, path, json);
    vt_run(&v, kind, obj, NULL);
    if (!vt_has_cause(&v, field, msg)) {
        vt_dump(&v);
        test_fail(file, line, "after %s=%s: no cause %s: %s", path, json ? json : "(removed)",
                  field, msg);
    }
    vt_free(&v);
}
#define VT_EXPECT(kind, base, path, json, field, msg) \
    vt_expect(kind, base, path, json, field, msg, __FILE__, __LINE__)

/* Runs an update from `old` to `old` with one change and checks for a cause
 * (msg NULL: expects no causes). */
static inline void vt_expect_update(const char *kind, const json_t *old_in, const char *path,
                                    const char *json, const char *field, const char *msg,
                                    const char *file, int line)
{
    struct vt v, o;
    vt_run(&o, kind, json_deep_copy(old_in), NULL); /* stored objects are defaulted */
    json_t *obj = json_deep_copy(o.obj);
    vt_setj(obj, path, json);
    vt_run(&v, kind, obj, o.obj);
    bool ok = msg ? vt_has_cause(&v, field, msg) : json_array_size(v.d.causes) == 0;
    if (!ok) {
        vt_dump(&v);
        test_fail(file, line, "update %s=%s: expected %s %s", path, json ? json : "(removed)",
                  field ? field : "", msg ? msg : "no causes");
    }
    vt_free(&v);
    vt_free(&o);
}
#define VT_UPDATE(kind, old, path, json, field, msg) \
    vt_expect_update(kind, old, path, json, field, msg, __FILE__, __LINE__)

#endif
