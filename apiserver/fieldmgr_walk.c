/* fieldmgr_walk.c — objects walked along the schema tables for server-side
 * apply: the field set of an object, the comparison of two, the merge of
 * an applied configuration into a live object and the removal of a set's
 * fields (fieldmgr.h says which lists are maps, sets or atomic). */
#include "apiserver/fieldmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"

enum node_kind {
    N_DEDUCED,  /* no schema: objects granular, lists atomic */
    N_STRUCT,   /* fields from st (unknown ones deduced) */
    N_MAP,      /* any keys, values of elem type */
    N_LIST_MAP, /* items keyed by keys[] */
    N_LIST_SET, /* scalar items keyed by value */
    N_ATOMIC,   /* a whole value: lists, atomic structs, scalars */
};

#define MAX_KEYS 2

struct node {
    enum node_kind kind;
    const struct api_struct *st; /* N_STRUCT; element struct of maps and lists (or NULL) */
    unsigned char elem;          /* api_type of map values / list items */
    const char *keys[MAX_KEYS];  /* N_LIST_MAP; NULL-padded */
};

/* Map lists whose Kubernetes list-map-keys differ from the patch merge key. */
static const struct {
    const char *type, *field, *keys[MAX_KEYS];
} multi_keys[] = {
    {"Container", "ports", {"containerPort", "protocol"}},
    {"ServiceSpec", "ports", {"port", "protocol"}},
    {"PodSpec", "topologySpreadConstraints", {"topologyKey", "whenUnsatisfiable"}},
};

/* Key fields with a default, used when an item omits them (as
 * structured-merge-diff fills list-map key defaults from the schema). */
static const char *key_default(const char *key)
{
    return strcmp(key, "protocol") == 0 ? "TCP" : NULL;
}

/* Structs Kubernetes marks x-kubernetes-map-type: atomic. */
static bool atomic_struct(const struct api_struct *st)
{
    static const char *const names[] = {"LabelSelector", "ConfigMapKeySelector",
                                        "SecretKeySelector", "ObjectFieldSelector",
                                        "ResourceFieldSelector", "NodeSelector"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(names); i++)
        if (strcmp(st->name, names[i]) == 0) return true;
    return false;
}

static bool scalar_type(unsigned char t)
{
    return t != API_T_OBJECT && t != API_T_ARRAY && t != API_T_MAP && t != API_T_FREE;
}

static struct node node_of_type(unsigned char type, const struct api_struct *st)
{
    struct node n = {N_ATOMIC, NULL, 0, {NULL, NULL}};

    if (type == API_T_OBJECT || type == API_T_FREE) {
        n.kind = st ? (atomic_struct(st) ? N_ATOMIC : N_STRUCT) : N_DEDUCED;
        n.st = st;
    }
    return n;
}

static struct node node_of_field(const struct api_struct *parent, const struct api_field *f)
{
    struct node n = {N_ATOMIC, f->obj, f->item, {NULL, NULL}};

    if (f->type == API_T_MAP) {
        n.kind = N_MAP;
    } else if (f->type == API_T_ARRAY && (f->patch & API_P_MERGE) && f->merge_key) {
        n.kind = N_LIST_MAP;
        n.keys[0] = f->merge_key;
        for (size_t i = 0; i < ORC_ARRAY_LEN(multi_keys); i++)
            if (strcmp(parent->name, multi_keys[i].type) == 0
                && strcmp(f->name, multi_keys[i].field) == 0)
                memcpy(n.keys, multi_keys[i].keys, sizeof n.keys);
    } else if (f->type == API_T_ARRAY && (f->patch & API_P_MERGE) && scalar_type(f->item)) {
        n.kind = N_LIST_SET;
    } else if (f->type != API_T_ARRAY) {
        n = node_of_type(f->type, f->obj);
    }
    return n;
}

static const struct node deduced = {N_DEDUCED, NULL, 0, {NULL, NULL}};

/* The node of field `key` of a map-like value of node n; skip: the field
 * is not walked (an object's own managedFields). */
static struct node child_node(const struct node *n, const char *key, bool *skip)
{
    *skip = false;
    if (n->kind == N_MAP) return node_of_type(n->elem, n->st);
    if (n->kind != N_STRUCT) return deduced;
    if (n->st == &api_s_objectmeta && strcmp(key, "managedFields") == 0) *skip = true;
    for (const struct api_field *f = n->st->fields; f->name; f++)
        if (strcmp(f->name, key) == 0) return node_of_field(n->st, f);
    return deduced;
}

static struct node item_node(const struct node *n)
{
    if (n->kind == N_LIST_SET) return (struct node){N_ATOMIC, NULL, 0, {NULL, NULL}};
    return n->st ? node_of_type(API_T_OBJECT, n->st) : deduced;
}

static bool map_like(const struct node *n, const json_t *v)
{
    return json_is_object(v) && (n->kind == N_STRUCT || n->kind == N_MAP || n->kind == N_DEDUCED);
}

static bool keyed_list(const struct node *n, const json_t *v)
{
    return json_is_array(v) && (n->kind == N_LIST_MAP || n->kind == N_LIST_SET);
}

/* ---- item keys ---- */

static bool key_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v) || json_is_boolean(v) || json_is_real(v);
}

/* "k:{...}" (keys sorted) or "v:..." for one item; NULL when it has none. */
static char *item_key(const struct node *n, const json_t *item)
{
    char *text, *out = NULL;

    if (n->kind == N_LIST_SET) {
        if (!key_scalar(item)) return NULL;
        text = json_dumps(item, JSON_ENCODE_ANY | JSON_COMPACT);
    } else {
        json_t *k = json_object();
        if (!json_is_object(item) || k == NULL) {
            json_decref(k);
            return NULL;
        }
        for (int i = 0; i < MAX_KEYS && n->keys[i]; i++) {
            json_t *v = json_object_get(item, n->keys[i]);
            const char *def = key_default(n->keys[i]);
            if (v == NULL && def) json_object_set_new(k, n->keys[i], json_string(def));
            else if (key_scalar(v)) json_object_set(k, n->keys[i], v);
            else {
                json_decref(k);
                return NULL;
            }
        }
        text = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(k);
    }
    if (text && asprintf(&out, "%c:%s", n->kind == N_LIST_SET ? 'v' : 'k', text) < 0) out = NULL;
    free(text);
    return out;
}

/* The keys of every item of a keyed list, as an object key -> index;
 * NULL when an item has no key or one repeats (the list is then atomic). */
static json_t *index_items(const struct node *n, const json_t *arr)
{
    json_t *idx = json_object(), *item;
    size_t i;

    if (idx == NULL) return NULL;
    json_array_foreach(arr, i, item) {
        char *k = item_key(n, item);
        if (k == NULL || json_object_get(idx, k)
            || json_object_set_new(idx, k, json_integer((json_int_t)i)) != 0) {
            free(k);
            json_decref(idx);
            return NULL;
        }
        free(k);
    }
    return idx;
}

/* ---- field sets ---- */

static void fields_into(json_t *set, const json_t *v, const struct node *n, bool top);

static void item_fields(json_t *set, const json_t *arr, const struct node *n, const json_t *idx)
{
    struct node in = item_node(n);
    const char *k;
    json_t *pos;

    json_object_foreach((json_t *)idx, k, pos) {
        json_t *c = fm_set_child(set, k);
        if (c == NULL) continue;
        fm_set_mark(c);
        if (n->kind == N_LIST_MAP)
            fields_into(c, json_array_get(arr, (size_t)json_integer_value(pos)), &in, true);
    }
}

/* Adds v's fields below `set` (v's own node); top: v is not itself a
 * member even when it is a leaf (the object root, a list item). */
static void fields_into(json_t *set, const json_t *v, const struct node *n, bool top)
{
    if (map_like(n, v) && json_object_size(v) > 0) {
        const char *k;
        json_t *cv;
        json_object_foreach((json_t *)v, k, cv) {
            bool skip;
            struct node cn = child_node(n, k, &skip);
            char pe[512];
            if (skip || json_is_null(cv)) continue;
            snprintf(pe, sizeof pe, "f:%s", k);
            json_t *c = fm_set_child(set, pe);
            if (c) fields_into(c, cv, &cn, false);
        }
        return;
    }
    if (keyed_list(n, v) && json_array_size(v) > 0) {
        json_t *idx = index_items(n, v);
        if (idx) {
            item_fields(set, v, n, idx);
            json_decref(idx);
            return;
        }
    }
    if (!top) fm_set_mark(set);
}

/* Drops the empty nodes a walk left behind. */
static void prune_empty(json_t *s)
{
    const char *k;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(s, tmp, k, v) {
        if (strcmp(k, ".") == 0) continue;
        prune_empty(v);
        if (json_object_size(v) == 0) json_object_del(s, k);
    }
}

static struct node root_node(const struct api_struct *root)
{
    return root ? (struct node){N_STRUCT, root, 0, {NULL, NULL}} : deduced;
}

json_t *fm_fields_of(const struct api_struct *root, const json_t *obj)
{
    struct node n = root_node(root);
    json_t *s = fm_set_new();

    if (s == NULL) return NULL;
    fields_into(s, obj, &n, true);
    prune_empty(s);
    return s;
}

/* ---- comparison ---- */

struct cmp {
    json_t *a, *m, *r; /* the nodes of added, modified, removed for this path */
};

static struct cmp cmp_child(const struct cmp *c, const char *pe)
{
    return (struct cmp){fm_set_child(c->a, pe), fm_set_child(c->m, pe), fm_set_child(c->r, pe)};
}

static void compare(const json_t *a, const json_t *b, const struct node *n, struct cmp *c,
                    bool top);

static void compare_items(const json_t *a, const json_t *b, const struct node *n, struct cmp *c,
                          const json_t *ia, const json_t *ib)
{
    struct node in = item_node(n);
    const char *k;
    json_t *pos;

    json_object_foreach((json_t *)ia, k, pos) {
        json_t *pb = json_object_get(ib, k);
        struct cmp cc = cmp_child(c, k);
        if (cc.a == NULL || cc.m == NULL || cc.r == NULL) return;
        compare(json_array_get(a, (size_t)json_integer_value(pos)),
                pb ? json_array_get(b, (size_t)json_integer_value(pb)) : NULL, &in, &cc, true);
    }
    json_object_foreach((json_t *)ib, k, pos) {
        if (json_object_get(ia, k)) continue;
        struct cmp cc = cmp_child(c, k);
        if (cc.a == NULL || cc.m == NULL || cc.r == NULL) return;
        compare(NULL, json_array_get(b, (size_t)json_integer_value(pos)), &in, &cc, true);
    }
}

static void compare_maps(const json_t *a, const json_t *b, const struct node *n, struct cmp *c)
{
    const char *k;
    json_t *v;
    char pe[512];

    json_object_foreach((json_t *)a, k, v) {
        bool skip;
        struct node cn = child_node(n, k, &skip);
        json_t *bv = json_object_get(b, k);
        if (skip || (json_is_null(v) && (bv == NULL || json_is_null(bv)))) continue;
        snprintf(pe, sizeof pe, "f:%s", k);
        struct cmp cc = cmp_child(c, pe);
        if (cc.a && cc.m && cc.r) compare(v, bv, &cn, &cc, false);
    }
    json_object_foreach((json_t *)b, k, v) {
        bool skip;
        struct node cn = child_node(n, k, &skip);
        const json_t *av = json_object_get(a, k);
        if (skip || json_is_null(v) || (av && !json_is_null(av))) continue;
        snprintf(pe, sizeof pe, "f:%s", k);
        struct cmp cc = cmp_child(c, pe);
        if (cc.a && cc.m && cc.r) compare(NULL, v, &cn, &cc, false);
    }
}

/* top: a list item (its own path is added or removed, never modified). */
static void compare(const json_t *a, const json_t *b, const struct node *n, struct cmp *c,
                    bool top)
{
    if (a && json_is_null(a)) a = NULL;
    if (b && json_is_null(b)) b = NULL;
    if (a == NULL && b == NULL) return;
    if (a == NULL) {
        fm_set_mark(c->a);
        fields_into(c->a, b, n, true);
        return;
    }
    if (b == NULL) {
        fm_set_mark(c->r);
        fields_into(c->r, a, n, true);
        return;
    }
    if (map_like(n, a) && map_like(n, b)) {
        if (json_object_size(a) == 0 && json_object_size(b) == 0) return;
        compare_maps(a, b, n, c);
        return;
    }
    if (keyed_list(n, a) && keyed_list(n, b)) {
        json_t *ia = index_items(n, a), *ib = index_items(n, b);
        if (ia && ib) compare_items(a, b, n, c, ia, ib);
        json_decref(ia);
        json_decref(ib);
        if (ia && ib) return;
    }
    if (!json_equal(a, b) && !top) fm_set_mark(c->m);
}

int fm_compare(const struct api_struct *root, const json_t *old, const json_t *new_,
               json_t **added, json_t **modified, json_t **removed)
{
    struct node n = root_node(root);
    struct cmp c = {fm_set_new(), fm_set_new(), fm_set_new()};

    if (c.a == NULL || c.m == NULL || c.r == NULL) {
        json_decref(c.a);
        json_decref(c.m);
        json_decref(c.r);
        return ORC_ENOMEM;
    }
    compare(old, new_, &n, &c, true);
    prune_empty(c.a);
    prune_empty(c.m);
    prune_empty(c.r);
    /* The root itself is never a member. */
    json_object_del(c.a, ".");
    json_object_del(c.r, ".");
    *added = c.a;
    *modified = c.m;
    *removed = c.r;
    return 0;
}

/* ---- merge ---- */

static json_t *merge(const json_t *live, const json_t *cfg, const struct node *n);

/* A deep copy without null members (an applied value drops them). */
static json_t *copy_clean(const json_t *v)
{
    json_t *out, *cv;
    const char *k;
    size_t i;

    if (json_is_object(v)) {
        out = json_object();
        json_object_foreach((json_t *)v, k, cv)
            if (!json_is_null(cv)) json_object_set_new(out, k, copy_clean(cv));
        return out;
    }
    if (json_is_array(v)) {
        out = json_array();
        json_array_foreach(v, i, cv) json_array_append_new(out, copy_clean(cv));
        return out;
    }
    return json_deep_copy(v);
}

struct lmerge {
    const json_t *l, *r, *il, *ir;
    const struct node *n;
    json_t *out, *done;
};

static const json_t *at(const json_t *arr, const json_t *idx, const char *k)
{
    json_t *pos = json_object_get(idx, k);
    return pos ? json_array_get(arr, (size_t)json_integer_value(pos)) : NULL;
}

static void take(struct lmerge *m, const char *k, const json_t *lv, const json_t *rv)
{
    struct node in = item_node(m->n);
    json_object_set_new(m->done, k, json_true());
    json_array_append_new(m->out, rv ? merge(lv, rv, &in) : json_deep_copy(lv));
}

/* structured-merge-diff's order: live items stay where they are, applied
 * ones come in the applied order, shared ones where the applied order
 * reaches them. */
static void merge_items(struct lmerge *m)
{
    size_t nl = json_array_size(m->l), nr = json_array_size(m->r), li = 0, ri = 0, si = 0;
    const char **lk = calloc(nl + 1, sizeof *lk), **rk = calloc(nr + 1, sizeof *rk);
    const char **shared = calloc(nr + 1, sizeof *shared), *k;
    size_t ns = 0;
    json_t *pos;

    if (!lk || !rk || !shared) goto out;
    json_object_foreach((json_t *)m->il, k, pos) lk[json_integer_value(pos)] = k;
    json_object_foreach((json_t *)m->ir, k, pos) rk[json_integer_value(pos)] = k;
    for (size_t i = 0; i < nr; i++)
        if (json_object_get(m->il, rk[i])) shared[ns++] = rk[i];
    while (li < nl || ri < nr) {
        const char *next = si < ns ? shared[si] : NULL;
        if (li < nl && ri < nr) {
            if (strcmp(lk[li], rk[ri]) == 0) {
                take(m, lk[li], json_array_get(m->l, li), json_array_get(m->r, ri));
                li++, ri++, si++;
                continue;
            }
            if (json_object_get(m->ir, lk[li]) && next && strcmp(next, lk[li]) != 0
                && !json_object_get(m->done, lk[li])) {
                li++;
                continue;
            }
        }
        if (li < nl) {
            if (!json_object_get(m->ir, lk[li])) {
                take(m, lk[li], json_array_get(m->l, li), NULL);
                li++;
                continue;
            }
            if (json_object_get(m->done, lk[li])) {
                li++;
                continue;
            }
        }
        if (ri < nr) {
            take(m, rk[ri], at(m->l, m->il, rk[ri]), json_array_get(m->r, ri));
            if (next && strcmp(next, rk[ri]) == 0) si++;
            ri++;
        } else {
            li++; /* unreachable in a consistent index; never loop forever */
        }
    }
out:
    free(lk);
    free(rk);
    free(shared);
}

static json_t *merge_list(const json_t *live, const json_t *cfg, const struct node *n)
{
    json_t *il = index_items(n, live), *ir = index_items(n, cfg);
    struct lmerge m = {live, cfg, il, ir, n, NULL, NULL};

    if (il && ir) {
        m.out = json_array();
        m.done = json_object();
        if (m.out && m.done) merge_items(&m);
        json_decref(m.done);
    }
    json_decref(il);
    json_decref(ir);
    return m.out ? m.out : copy_clean(cfg);
}

static json_t *merge(const json_t *live, const json_t *cfg, const struct node *n)
{
    if (cfg == NULL || json_is_null(cfg)) return json_deep_copy(live);
    if (live == NULL || json_is_null(live)) return copy_clean(cfg);
    if (map_like(n, live) && map_like(n, cfg)) {
        json_t *out = json_deep_copy(live), *cv;
        const char *k;
        if (out == NULL) return NULL;
        json_object_foreach((json_t *)cfg, k, cv) {
            bool skip;
            struct node cn = child_node(n, k, &skip);
            if (json_is_null(cv)) continue;
            json_object_set_new(out, k, merge(json_object_get(live, k), cv, &cn));
        }
        return out;
    }
    if (keyed_list(n, live) && keyed_list(n, cfg)) return merge_list(live, cfg, n);
    return copy_clean(cfg);
}

json_t *fm_merge(const struct api_struct *root, const json_t *live, const json_t *config)
{
    struct node n = root_node(root);
    return merge(live, config, &n);
}

/* ---- removal ---- */

static void remove_in(json_t *v, const json_t *s, const struct node *n);

static void remove_items(json_t *arr, const json_t *s, const struct node *n)
{
    json_t *idx = index_items(n, arr), *cs;
    struct node in = item_node(n);
    const char *k;
    bool *drop = calloc(json_array_size(arr) + 1, sizeof *drop);

    if (idx && drop) {
        json_object_foreach((json_t *)s, k, cs) {
            json_t *pos = json_object_get(idx, k);
            if (pos == NULL) continue;
            if (fm_set_is_member(cs)) drop[json_integer_value(pos)] = true;
            else remove_in(json_array_get(arr, (size_t)json_integer_value(pos)), cs, &in);
        }
        for (size_t i = json_array_size(arr); i-- > 0;)
            if (drop[i]) json_array_remove(arr, i);
    }
    free(drop);
    json_decref(idx);
}

static void remove_in(json_t *v, const json_t *s, const struct node *n)
{
    const char *k;
    json_t *cs;

    if (keyed_list(n, v)) {
        remove_items(v, s, n);
        return;
    }
    if (!map_like(n, v)) return;
    json_object_foreach((json_t *)s, k, cs) {
        bool skip;
        if (strncmp(k, "f:", 2) != 0) continue;
        struct node cn = child_node(n, k + 2, &skip);
        json_t *cv = json_object_get(v, k + 2);
        if (fm_set_is_member(cs)) {
            json_object_del(v, k + 2);
        } else if (cv && (json_object_size(cv) || json_array_size(cv))) {
            /* Emptied by the removal, it goes too (Kubernetes' omitempty). */
            remove_in(cv, cs, &cn);
            if (json_object_size(cv) == 0 && json_array_size(cv) == 0) json_object_del(v, k + 2);
        }
    }
}

void fm_remove(const struct api_struct *root, json_t *obj, const json_t *s)
{
    struct node n = root_node(root);
    remove_in(obj, s, &n);
}

/* ---- named fields ---- */

static void ensure_in(json_t *s, const struct node *n)
{
    const char *k;
    json_t *cs;

    json_object_foreach(s, k, cs) {
        if (strcmp(k, ".") == 0) continue;
        if (k[0] == 'f' && (n->kind == N_STRUCT || n->kind == N_MAP || n->kind == N_DEDUCED)) {
            bool skip;
            struct node cn = child_node(n, k + 2, &skip);
            if (n->kind == N_STRUCT) {
                bool named = false;
                for (const struct api_field *f = n->st->fields; f->name; f++)
                    named = named || strcmp(f->name, k + 2) == 0;
                if (named) fm_set_mark(cs);
            }
            ensure_in(cs, &cn);
        } else if (k[0] == 'k' && n->kind == N_LIST_MAP) {
            struct node in = item_node(n);
            ensure_in(cs, &in);
        }
    }
}

json_t *fm_ensure_named(const struct api_struct *root, const json_t *s)
{
    struct node n = root_node(root);
    json_t *out = json_deep_copy(s);

    if (out) ensure_in(out, &n);
    return out;
}
