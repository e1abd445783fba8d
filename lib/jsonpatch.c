/* jsonpatch.c — RFC 6902 JSON patch with RFC 6901 pointers, applied to a
 * copy so a failing operation leaves the document untouched. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "lib/patch.h"

struct op_ctx {
    size_t index;
    const char *op;
    const char *path;
    char *err;
    size_t errlen;
};

static int op_fail(struct op_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int op_fail(struct op_ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (c->err == NULL || c->errlen == 0) return code;
    n = snprintf(c->err, c->errlen, "patch[%zu] (%s \"%s\"): ", c->index, c->op ? c->op : "?",
                 c->path ? c->path : "");
    if (n >= 0 && (size_t)n < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Copies the next reference token of *p (just past a '/') into a fresh
 * string with ~1 -> '/' and ~0 -> '~'; advances *p. NULL: bad escape or
 * out of memory (*bad tells which). */
static char *next_token(const char **p, size_t *len, bool *bad)
{
    const char *s = *p, *end = strchr(s, '/');
    size_t n = end ? (size_t)(end - s) : strlen(s), o = 0;
    char *tok = malloc(n + 1);

    *bad = false;
    if (tok == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '~') {
            tok[o++] = s[i];
        } else if (i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
            tok[o++] = s[++i] == '0' ? '~' : '/';
        } else {
            free(tok);
            *bad = true;
            return NULL;
        }
    }
    tok[o] = '\0';
    *len = o;
    *p = s + n;
    return tok;
}

/* Array index token: "0" or digits without a leading zero. */
static bool parse_index(const char *tok, size_t *out)
{
    char *end;

    if (tok[0] < '0' || tok[0] > '9' || (tok[0] == '0' && tok[1] != '\0')) return false;
    errno = 0;
    unsigned long long v = strtoull(tok, &end, 10);
    if (errno || *end) return false;
    *out = (size_t)v;
    return true;
}

/* A resolved pointer: the container holding the target and the last token.
 * parent == NULL means the pointer is "" (the whole document). */
struct loc {
    json_t *parent;
    char *key;
    size_t klen;
};

static json_t *child(json_t *v, const char *tok, size_t tlen)
{
    size_t idx;

    if (json_is_object(v)) return json_object_getn(v, tok, tlen);
    if (json_is_array(v) && parse_index(tok, &idx)) return json_array_get(v, idx);
    return NULL;
}

static int resolve(struct op_ctx *c, json_t *doc, const char *ptr, const char *what, struct loc *l)
{
    json_t *cur = doc;
    bool bad;

    l->parent = NULL;
    l->key = NULL;
    if (*ptr == '\0') return 0;
    if (*ptr != '/') return op_fail(c, ORC_EINVAL, "%s \"%s\" must start with \"/\"", what, ptr);
    for (;;) {
        ptr++;
        char *tok = next_token(&ptr, &l->klen, &bad);
        if (tok == NULL) {
            return bad ? op_fail(c, ORC_EINVAL, "%s has a bad \"~\" escape", what) : ORC_ENOMEM;
        }
        if (*ptr == '\0') {
            l->parent = cur;
            l->key = tok;
            return 0;
        }
        cur = child(cur, tok, l->klen);
        free(tok);
        if (cur == NULL) return op_fail(c, ORC_EINVAL, "%s: a parent does not exist", what);
    }
}

static json_t *loc_get(const struct loc *l, json_t *doc)
{
    return l->parent ? child(l->parent, l->key, l->klen) : doc;
}

/* add: sets a member, inserts into an array (or appends with "-"), or
 * replaces the whole document. Steals value. */
static int do_add(struct op_ctx *c, json_t **doc, const struct loc *l, json_t *value)
{
    size_t idx;

    if (l->parent == NULL) {
        json_decref(*doc);
        *doc = value;
        return 0;
    }
    if (json_is_object(l->parent))
        return json_object_setn_new(l->parent, l->key, l->klen, value) ? ORC_ENOMEM : 0;
    if (json_is_array(l->parent)) {
        size_t n = json_array_size(l->parent);
        if (strcmp(l->key, "-") == 0) idx = n;
        else if (!parse_index(l->key, &idx) || idx > n) {
            json_decref(value);
            return op_fail(c, ORC_EINVAL, "array index \"%s\" out of bounds (size %zu)", l->key, n);
        }
        return json_array_insert_new(l->parent, idx, value) ? ORC_ENOMEM : 0;
    }
    json_decref(value);
    return op_fail(c, ORC_EINVAL, "parent is not an object or array");
}

/* replace: the target exists (checked by the caller). Steals value. */
static int do_replace(json_t **doc, const struct loc *l, json_t *value)
{
    size_t idx;

    if (l->parent == NULL) {
        json_decref(*doc);
        *doc = value;
        return 0;
    }
    if (json_is_array(l->parent) && parse_index(l->key, &idx))
        return json_array_set_new(l->parent, idx, value) ? ORC_ENOMEM : 0;
    return json_object_setn_new(l->parent, l->key, l->klen, value) ? ORC_ENOMEM : 0;
}

static int do_remove(struct op_ctx *c, const struct loc *l)
{
    size_t idx;

    if (l->parent == NULL) return op_fail(c, ORC_EINVAL, "cannot remove the whole document");
    if (json_is_object(l->parent) && json_object_deln(l->parent, l->key, l->klen) == 0) return 0;
    if (json_is_array(l->parent) && parse_index(l->key, &idx)
        && json_array_remove(l->parent, idx) == 0)
        return 0;
    return op_fail(c, ORC_EINVAL, "path does not exist");
}

/* RFC 6902 compares numbers by value: 1 equals 1.0. */
static bool values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
    if (json_typeof(a) != json_typeof(b)) return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    }
    if (json_is_object(a)) {
        const char *k;
        size_t klen;
        json_t *v;
        if (json_object_size(a) != json_object_size(b)) return false;
        json_object_keylen_foreach ((json_t *)a, k, klen, v) {
            json_t *w = json_object_getn(b, k, klen);
            if (w == NULL || !values_equal(v, w)) return false;
        }
        return true;
    }
    return json_equal(a, b);
}

/* "/a/b" is inside "/a" (moving a value into itself is impossible). */
static bool is_inside(const char *path, const char *from)
{
    size_t n = strlen(from);
    return strncmp(path, from, n) == 0 && path[n] == '/';
}

static int get_from(struct op_ctx *c, json_t *doc, const json_t *op, struct loc *fl, json_t **value)
{
    const char *from = json_string_value(json_object_get(op, "from"));
    int rv;

    if (from == NULL) return op_fail(c, ORC_EINVAL, "\"from\" is missing or not a string");
    if ((rv = resolve(c, doc, from, "from", fl)) != 0) return rv;
    if ((*value = loc_get(fl, doc)) == NULL)
        return op_fail(c, ORC_EINVAL, "from \"%s\" does not exist", from);
    return 0;
}

static int do_move_copy(struct op_ctx *c, json_t **doc, const json_t *op, const struct loc *l,
                        bool move)
{
    struct loc fl = {0};
    json_t *v;
    int rv;

    if ((rv = get_from(c, *doc, op, &fl, &v)) != 0) goto out;
    if (move) {
        const char *from = json_string_value(json_object_get(op, "from"));
        if (strcmp(from, c->path) == 0) goto out;
        if (is_inside(c->path, from)) {
            rv = op_fail(c, ORC_EINVAL, "cannot move a value into itself");
            goto out;
        }
        json_incref(v);
        if ((rv = do_remove(c, &fl)) != 0) {
            json_decref(v);
            goto out;
        }
    } else if ((v = json_deep_copy(v)) == NULL) {
        rv = ORC_ENOMEM;
        goto out;
    }
    rv = do_add(c, doc, l, v);
out:
    free(fl.key);
    return rv;
}

static int apply_one(struct op_ctx *c, json_t **doc, const json_t *op)
{
    json_t *value = json_object_get(op, "value"), *target;
    struct loc l = {0};
    int rv;

    if (!json_is_object(op)) return op_fail(c, ORC_EINVAL, "operation is not an object");
    if (c->op == NULL) return op_fail(c, ORC_EINVAL, "\"op\" is missing or not a string");
    if (c->path == NULL) return op_fail(c, ORC_EINVAL, "\"path\" is missing or not a string");
    if ((rv = resolve(c, *doc, c->path, "path", &l)) != 0) return rv;
    bool needs_value = !strcmp(c->op, "add") || !strcmp(c->op, "replace") || !strcmp(c->op, "test");
    if (needs_value && value == NULL) {
        rv = op_fail(c, ORC_EINVAL, "\"value\" is missing");
        goto out;
    }
    target = loc_get(&l, *doc);
    if (!strcmp(c->op, "add")) {
        rv = (value = json_deep_copy(value)) ? do_add(c, doc, &l, value) : ORC_ENOMEM;
    } else if (!strcmp(c->op, "remove")) {
        rv = do_remove(c, &l);
    } else if (!strcmp(c->op, "replace")) {
        if (target == NULL) rv = op_fail(c, ORC_EINVAL, "path does not exist");
        else rv = (value = json_deep_copy(value)) ? do_replace(doc, &l, value) : ORC_ENOMEM;
    } else if (!strcmp(c->op, "move") || !strcmp(c->op, "copy")) {
        rv = do_move_copy(c, doc, op, &l, c->op[0] == 'm');
    } else if (!strcmp(c->op, "test")) {
        if (target == NULL) rv = op_fail(c, ORC_ECONFLICT, "test failed: path does not exist");
        else if (!values_equal(target, value))
            rv = op_fail(c, ORC_ECONFLICT, "test failed: value differs");
    } else {
        rv = op_fail(c, ORC_EINVAL, "unknown op");
    }
out:
    free(l.key);
    return rv;
}

int orc_json_patch_apply(json_t **doc, const json_t *patch, char *errmsg, size_t errlen)
{
    struct op_ctx c = {.err = errmsg, .errlen = errlen};
    json_t *work, *op;
    size_t i;
    int rv = 0;

    if (errmsg && errlen) errmsg[0] = '\0';
    if (!json_is_array(patch)) {
        if (errmsg && errlen)
            snprintf(errmsg, errlen, "a JSON patch must be an array of operations");
        return ORC_EINVAL;
    }
    if ((work = json_deep_copy(*doc)) == NULL) return ORC_ENOMEM;
    json_array_foreach (patch, i, op) {
        c.index = i;
        c.op = json_string_value(json_object_get(op, "op"));
        c.path = json_string_value(json_object_get(op, "path"));
        if ((rv = apply_one(&c, &work, op)) != 0) break;
    }
    if (rv != 0) {
        json_decref(work);
        return rv;
    }
    json_decref(*doc);
    *doc = work;
    return 0;
}
