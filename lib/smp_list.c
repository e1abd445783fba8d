/* smp_list.c — strategic merge patch of lists: lists of objects merged by
 * their merge key ($patch: delete / replace elements), lists of scalars
 * merged as sets or pruned by $deleteFromPrimitiveList, and the order
 * Kubernetes gives the result ($setElementOrder, then the patch's order,
 * then the live list's). Elements are found through an index from their
 * identity's text (the merge key's value, or the scalar itself) so that a
 * long list costs n log n, not n^2, on the API server's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/orc.h"
#include "lib/smp_int.h"

/* ---- value index: identity text -> first position ---- */

struct vidx {
    json_t *pos;        /* object: text -> integer */
    struct orc_buf key; /* scratch */
};

static int vidx_init(struct vidx *x)
{
    x->key = (struct orc_buf)ORC_BUF_INIT;
    x->pos = json_object();
    return x->pos ? 0 : ORC_ENOMEM;
}

static void vidx_free(struct vidx *x)
{
    json_decref(x->pos);
    orc_buf_free(&x->key);
}

/* The identity of v as text in x->key: equal texts for json_equal values
 * (strings by their bytes, the rest by their sorted compact encoding). */
static int vtext(struct vidx *x, const json_t *v)
{
    char *s;
    int rv;

    orc_buf_reset(&x->key);
    if (json_is_string(v)) {
        rv = orc_buf_append(&x->key, "s", 1);
        return rv ? rv : orc_buf_append(&x->key, json_string_value(v), json_string_length(v));
    }
    if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
        return ORC_ENOMEM;
    rv = orc_buf_printf(&x->key, "j%s", s);
    free(s);
    return rv;
}

/* Records v at position i unless already known (the first one wins, as
 * Kubernetes' linear searches find the first). v NULL: nothing. */
static int vidx_add(struct vidx *x, const json_t *v, size_t i)
{
    int rv;

    if (v == NULL) return 0;
    if ((rv = vtext(x, v)) != 0) return rv;
    if (json_object_getn(x->pos, x->key.data, x->key.len)) return 0;
    return json_object_setn_new_nocheck(x->pos, x->key.data, x->key.len, json_integer((json_int_t)i))
               ? ORC_ENOMEM
               : 0;
}

/* *at: v's position, -1 when absent (or v NULL). */
static int vidx_find(struct vidx *x, const json_t *v, long *at)
{
    json_t *p;
    int rv;

    *at = -1;
    if (v == NULL) return 0;
    if ((rv = vtext(x, v)) != 0) return rv;
    p = json_object_getn(x->pos, x->key.data, x->key.len);
    if (p) *at = (long)json_integer_value(p);
    return 0;
}

/* What identifies an element: its merge key's value, or itself. */
static const json_t *ident(const json_t *e, const char *key)
{
    return key ? json_object_get(e, key) : e;
}

static int vidx_of(struct vidx *x, const json_t *list, const char *key)
{
    size_t i;
    json_t *e;
    int rv = vidx_init(x);

    json_array_foreach(list, i, e) {
        if (rv == 0) rv = vidx_add(x, ident(e, key), i);
    }
    return rv;
}

/* ---- checks ---- */

static int no_merge_key(struct smp *s, const json_t *e, const char *key)
{
    char *shown = smp_show(e);
    int rv = smp_fail(s, ORC_EINVAL, "map: %s does not contain declared merge key: %s",
                      shown ? shown : "?", key);
    free(shown);
    return rv;
}

/* Every element of `list` (may be NULL) an object holding `key`. */
static int check_keys(struct smp *s, const json_t *list, const char *key)
{
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e) {
        if (!json_is_object(e))
            return smp_fail(s, ORC_EINVAL, "the elements of a list merged by %s must be objects", key);
        if (json_object_get(e, key) == NULL) return no_merge_key(s, e, key);
    }
    return 0;
}

/* The JSON type the elements of a and b (either may be NULL) all share,
 * in *cls (-1: no elements). Booleans are one type. */
static int element_class(struct smp *s, const json_t *a, const json_t *b, int *cls)
{
    const json_t *lists[2] = {a, b};
    size_t i;
    json_t *e;

    *cls = -1;
    for (int l = 0; l < 2; l++) {
        json_array_foreach(lists[l], i, e) {
            int c = json_is_boolean(e) ? (int)JSON_TRUE : (int)json_typeof(e);
            if (c == JSON_ARRAY) return smp_fail(s, ORC_EINVAL, "lists of lists are not supported");
            if (c == JSON_NULL) return smp_fail(s, ORC_EINVAL, "a merging list cannot hold null");
            if (*cls == -1) *cls = c;
            else if (*cls != c)
                return smp_fail(s, ORC_EINVAL, "the elements of a merging list must all be of "
                                               "one type (objects, strings, numbers...)");
        }
    }
    return 0;
}

/* ---- order ---- */

struct ranked {
    long pos;     /* position in the order list, -1 when not in it */
    size_t i;     /* position before sorting: keeps the sort stable */
    json_t *v;
};

static int by_rank(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;

    if (x->pos != y->pos) return x->pos < y->pos ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* list's elements ranked by their position in `order` (stable; elements
 * not in it first, as Kubernetes' comparison puts them). malloc'd. */
static int rank(const json_t *list, const json_t *order, const char *key, struct ranked **out)
{
    size_t n = json_array_size(list), i;
    struct ranked *r = calloc(n ? n : 1, sizeof *r);
    struct vidx x;
    int rv;

    if (r == NULL) return ORC_ENOMEM;
    rv = vidx_of(&x, order, key);
    for (i = 0; rv == 0 && i < n; i++) {
        r[i].i = i;
        r[i].v = json_array_get(list, i);
        rv = vidx_find(&x, ident(r[i].v, key), &r[i].pos);
    }
    vidx_free(&x);
    if (rv != 0) {
        free(r);
        return rv;
    }
    qsort(r, n, sizeof *r, by_rank);
    *out = r;
    return 0;
}

/* Positions of the (sorted) elements in the live list's order. */
static int live_positions(struct ranked *r, size_t n, const json_t *live, const char *key)
{
    struct vidx x;
    int rv = vidx_of(&x, live, key);

    for (size_t i = 0; rv == 0 && i < n; i++) rv = vidx_find(&x, ident(r[i].v, key), &r[i].pos);
    vidx_free(&x);
    return rv;
}

/* Interleaves the live-only elements (left) into the patch's (right), both
 * already sorted: a live element goes first only when both are in the live
 * list and it comes earlier there; otherwise the patch's element does. */
static json_t *interleave(struct ranked *l, size_t nl, struct ranked *r, size_t nr)
{
    json_t *out = json_array();
    size_t i = 0, j = 0;

    while (out && (i < nl || j < nr)) {
        bool left = j >= nr || (i < nl && l[i].pos >= 0 && r[j].pos >= 0 && l[i].pos < r[j].pos);
        if (json_array_append(out, left ? l[i++].v : r[j++].v) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The elements of `merged` named in `by` come in by's order, the others in
 * the live list's, interleaved as Kubernetes does. *out: a new list. */
static int order(struct smp *s, const json_t *merged, const json_t *by, const json_t *live,
                 const char *key, json_t **out)
{
    json_t *in = json_array(), *rest = json_array(), *e;
    struct ranked *ri = NULL, *rr = NULL;
    struct vidx x = {NULL, ORC_BUF_INIT};
    size_t i;
    long at;
    int rv = in && rest ? 0 : ORC_ENOMEM;

    if (rv == 0 && key) {
        rv = check_keys(s, merged, key);
        if (rv == 0) rv = check_keys(s, by, key);
        if (rv == 0) rv = check_keys(s, live, key);
    }
    if (rv == 0) rv = vidx_of(&x, by, key);
    json_array_foreach(merged, i, e) {
        if (rv == 0) rv = vidx_find(&x, ident(e, key), &at);
        if (rv == 0 && json_array_append(at >= 0 ? in : rest, e) != 0) rv = ORC_ENOMEM;
    }
    if (rv == 0) rv = rank(in, by, key, &ri);
    if (rv == 0) rv = rank(rest, live, key, &rr);
    if (rv == 0) rv = live_positions(ri, json_array_size(in), live, key);
    if (rv == 0) rv = live_positions(rr, json_array_size(rest), live, key);
    if (rv == 0 && (*out = interleave(rr, json_array_size(rest), ri, json_array_size(in))) == NULL)
        rv = ORC_ENOMEM;
    free(ri);
    free(rr);
    vidx_free(&x);
    json_decref(in);
    json_decref(rest);
    return rv;
}

static void replace(json_t **slot, json_t *v)
{
    json_decref(*slot);
    *slot = v;
}

/* ---- scalars ---- */

/* live ∪ patch, first occurrences kept. */
static int union_of(const json_t *live, const json_t *patch, json_t **out)
{
    const json_t *lists[2] = {live, patch};
    struct vidx x;
    json_t *u = json_array(), *e;
    size_t i;
    long at;
    int rv = vidx_init(&x);

    if (u == NULL) rv = ORC_ENOMEM;
    for (int l = 0; l < 2; l++) {
        json_array_foreach(lists[l], i, e) {
            if (rv == 0) rv = vidx_find(&x, e, &at);
            if (rv == 0 && at < 0) rv = vidx_add(&x, e, json_array_size(u));
            if (rv == 0 && at < 0 && json_array_append(u, e) != 0) rv = ORC_ENOMEM;
        }
    }
    vidx_free(&x);
    if (rv != 0) json_decref(u);
    else *out = u;
    return rv;
}

/* $deleteFromPrimitiveList: live minus the listed values. */
static int delete_values(json_t **live, const json_t *gone)
{
    struct vidx x;
    json_t *kept = json_array(), *e;
    size_t i;
    long at;
    int rv = vidx_of(&x, gone, NULL);

    if (kept == NULL) rv = ORC_ENOMEM;
    json_array_foreach(*live, i, e) {
        if (rv == 0) rv = vidx_find(&x, e, &at);
        if (rv == 0 && at < 0 && json_array_append(kept, e) != 0) rv = ORC_ENOMEM;
    }
    vidx_free(&x);
    if (rv != 0) json_decref(kept);
    else replace(live, kept);
    return rv;
}

/* ---- objects by merge key ---- */

static int patch_type_error(struct smp *s, const json_t *e)
{
    char *shown = smp_show(e);
    int rv = smp_fail(s, ORC_EPROTO, "unknown patch type in list element %s", shown ? shown : "?");
    free(shown);
    return rv;
}

/* Takes the directive elements out of the patch: *plain gets the others;
 * *base the live list without the deleted keys — or, after a {"$patch":
 * "replace"} element, the patch's plain elements (and *plain nothing). */
static int split_directives(struct smp *s, json_t *live, json_t *patch, const char *key,
                            json_t **base, json_t **plain)
{
    json_t *keep = json_array(), *e, *d;
    bool replace_all = false;
    struct vidx gone;
    size_t i;
    long at;
    int rv = vidx_init(&gone);

    if (keep == NULL) rv = ORC_ENOMEM;
    json_array_foreach(patch, i, e) {
        const char *what;
        if (rv != 0) break;
        if ((d = json_object_get(e, "$patch")) == NULL) {
            if (json_array_append(keep, e) != 0) rv = ORC_ENOMEM;
        } else if ((what = json_string_value(d)) && strcmp(what, "delete") == 0) {
            rv = json_object_get(e, key) ? vidx_add(&gone, json_object_get(e, key), i)
                                          : no_merge_key(s, e, key);
        } else if (what && strcmp(what, "replace") == 0) {
            replace_all = true;
        } else if (what && strcmp(what, "merge") == 0) {
            rv = smp_fail(s, ORC_EPROTO, "merging lists cannot yet be specified in the patch");
        } else {
            rv = patch_type_error(s, e);
        }
    }
    if (rv == 0 && replace_all) {
        json_array_foreach(keep, i, e) smp_clean(e);
        *base = keep;
        *plain = json_array();
        keep = NULL;
        if (*plain == NULL) rv = ORC_ENOMEM;
    } else if (rv == 0) {
        *base = json_array();
        json_array_foreach(live, i, e) {
            if (rv == 0) rv = vidx_find(&gone, json_object_get(e, key), &at);
            if (rv == 0 && at < 0 && json_array_append(*base, e) != 0) rv = ORC_ENOMEM;
        }
        *plain = keep;
        keep = NULL;
    }
    json_decref(keep);
    vidx_free(&gone);
    return rv;
}

/* Each plain patch element merged into the element with its key (the
 * first one), or appended. *out: a new list. */
static int merge_by_key(struct smp *s, const json_t *base, json_t *plain, const char *key,
                        const void *type, json_t **out)
{
    json_t *m = json_array(), *e, *slot;
    struct vidx x;
    size_t i;
    long at;
    int rv = m ? vidx_of(&x, base, key) : ORC_ENOMEM;

    if (m == NULL) return rv;
    if (rv == 0 && json_array_extend(m, (json_t *)base) != 0) rv = ORC_ENOMEM;
    json_array_foreach(plain, i, e) {
        if (rv != 0) break;
        if (json_object_get(e, key) == NULL) {
            rv = no_merge_key(s, e, key);
        } else if ((rv = vidx_find(&x, json_object_get(e, key), &at)) == 0 && at >= 0) {
            slot = json_incref(json_array_get(m, (size_t)at));
            rv = smp_merge_map(s, &slot, e, type);
            if (rv == 0 && json_array_set(m, (size_t)at, slot) != 0) rv = ORC_ENOMEM;
            json_decref(slot);
        } else if (rv == 0 && smp_clean(e)) {
            rv = vidx_add(&x, json_object_get(e, key), json_array_size(m));
            if (rv == 0 && json_array_append(m, e) != 0) rv = ORC_ENOMEM;
        }
    }
    vidx_free(&x);
    if (rv != 0) json_decref(m);
    else *out = m;
    return rv;
}

/* A merging list: by key for objects, as a set for scalars; then ordered
 * by the patch, then the live list. */
static int merge_slice(struct smp *s, json_t **live, json_t *patch, const char *key,
                       const void *type)
{
    json_t *base = NULL, *plain = NULL, *merged = NULL, *out = NULL;
    int cls, rv;

    if (json_array_size(*live) == 0 && json_array_size(patch) == 0) return 0;
    if ((rv = element_class(s, *live, patch, &cls)) != 0) return rv;
    if (cls != JSON_OBJECT) {
        rv = union_of(*live, patch, &merged);
        if (rv == 0) rv = order(s, merged, patch, *live, NULL, &out);
    } else if (key == NULL) {
        return smp_fail(s, ORC_EINVAL, "cannot merge lists of objects without a merge key");
    } else {
        rv = split_directives(s, *live, patch, key, &base, &plain);
        if (rv == 0) rv = merge_by_key(s, base, plain, key, type, &merged);
        if (rv == 0) rv = order(s, merged, plain, base, key, &out);
    }
    json_decref(base);
    json_decref(plain);
    json_decref(merged);
    if (rv == 0) replace(live, out);
    return rv;
}

int smp_merge_list(struct smp *s, json_t **ol, json_t *pl, const struct orc_smp_field *f,
                   bool del_list)
{
    if (del_list) return delete_values(ol, pl);
    if (f->strategy & ORC_SMP_MERGE) return merge_slice(s, ol, pl, f->merge_key, f->type);
    smp_clean(pl);
    replace(ol, json_incref(pl));
    return 0;
}

/* ---- $setElementOrder ---- */

static bool same_ident(const json_t *a, const json_t *b, const char *key)
{
    return json_equal(ident(a, key), ident(b, key));
}

/* The patch's elements (deletions aside) must come in the order list's
 * order, and all be in it. */
static int check_order(struct smp *s, const json_t *patch, const json_t *order, const char *key)
{
    size_t pi = 0, oi = 0, n = json_array_size(patch), m = json_array_size(order);

    if (key && (check_keys(s, order, key) != 0)) return ORC_EINVAL;
    while (pi < n && oi < m) {
        const json_t *e = json_array_get(patch, pi);
        if (json_is_object(e) && json_object_get(e, "$patch")) {
            pi++;
            continue;
        }
        if (key && !json_is_object(e))
            return smp_fail(s, ORC_EINVAL, "the elements of a list merged by %s must be objects", key);
        if (key && json_object_get(e, key) == NULL) return no_merge_key(s, e, key);
        if (same_ident(e, json_array_get(order, oi), key)) pi++;
        oi++;
    }
    while (pi < n && json_is_object(json_array_get(patch, pi))
           && json_object_get(json_array_get(patch, pi), "$patch"))
        pi++;
    if (pi < n && m > 0) {
        char *ps = smp_show(patch), *os = smp_show(order);
        smp_fail(s, ORC_EINVAL, "the order in patch list %s doesn't match $setElementOrder list %s",
                 ps ? ps : "?", os ? os : "?");
        free(ps);
        free(os);
        return ORC_EINVAL;
    }
    return 0;
}

int smp_order_list(struct smp *s, json_t *o, json_t *p, const char *name, json_t *order_list,
                   const void *type)
{
    json_t *ol = json_object_get(o, name), *pl = json_object_get(p, name), *merged, *out = NULL;
    struct orc_smp_field f;
    const char *key;
    int cls, rv;

    if (ol && !json_is_array(ol))
        return smp_fail(s, ORC_EINVAL, "$setElementOrder/%s: %s is not a list", name, name);
    if (pl && !json_is_array(pl))
        return smp_fail(s, ORC_EPROTO, "$setElementOrder/%s: the patch's %s is not a list", name, name);
    smp_field(s, type, name, &f);
    if ((rv = check_order(s, pl, order_list, f.merge_key)) != 0) return rv;
    if (ol == NULL && pl == NULL) return 0;
    if (pl == NULL) {
        merged = json_incref(ol);
    } else if (ol == NULL) {
        smp_clean(pl);
        merged = json_incref(pl);
    } else {
        merged = json_incref(ol);
        rv = smp_merge_list(s, &merged, pl, &f, false);
    }
    if (rv == 0) rv = element_class(s, ol, pl, &cls);
    key = rv == 0 && cls == JSON_OBJECT ? f.merge_key : NULL;
    if (rv == 0 && cls == -1) out = json_incref(merged);
    else if (rv == 0) rv = order(s, merged, order_list, ol, key, &out);
    if (rv == 0 && json_object_set_new(o, name, out) != 0) rv = ORC_ENOMEM;
    json_decref(merged);
    if (rv == 0) json_object_del(p, name);
    return rv;
}
