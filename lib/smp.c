/* smp.c — strategic merge patch: the entry point, objects (member by
 * member, null deletes) and the object-level directives ($patch,
 * $retainKeys, $setElementOrder/, $deleteFromPrimitiveList/). Lists are in
 * smp_list.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "lib/smp_int.h"

#define PATCH_KEY "$patch"
#define RETAIN_KEYS "$retainKeys"
#define ORDER_PREFIX "$setElementOrder"
#define DELETE_PREFIX "$deleteFromPrimitiveList"

int smp_fail(struct smp *s, int code, const char *fmt, ...)
{
    va_list ap;

    if (s->err && s->errlen) {
        va_start(ap, fmt);
        vsnprintf(s->err, s->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

char *smp_show(const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

    if (s && strlen(s) > 200) strcpy(s + 197, "...");
    return s;
}

void smp_field(struct smp *s, const void *type, const char *key, struct orc_smp_field *f)
{
    memset(f, 0, sizeof *f);
    if (type && s->lookup) s->lookup(type, key, f);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_directive(const char *key)
{
    return strcmp(key, PATCH_KEY) == 0 || strcmp(key, RETAIN_KEYS) == 0
           || has_prefix(key, ORDER_PREFIX "/") || has_prefix(key, DELETE_PREFIX "/");
}

bool smp_clean(json_t *v)
{
    const char *key;
    json_t *m;
    void *tmp;

    if (json_is_object(v)) {
        if (json_object_get(v, PATCH_KEY)) return false;
        json_object_foreach_safe(v, tmp, key, m) {
            if (json_is_null(m) || is_directive(key) || !smp_clean(m)) json_object_del(v, key);
        }
    } else if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;)
            if (!smp_clean(json_array_get(v, i))) json_array_remove(v, i);
    }
    return true;
}

/* The list name after "<prefix>/", or NULL when the key is not of that
 * form (Kubernetes requires the part before the first '/' to be exactly
 * the prefix). */
static const char *directive_target(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(key, prefix, n) == 0 && key[n] == '/' ? key + n + 1 : NULL;
}

/* Sets o[key] to the patch's value taken whole (or removes the key when
 * that value is a directive). */
static int take(json_t *o, const char *key, json_t *v)
{
    if (!smp_clean(v)) {
        json_object_del(o, key);
        return 0;
    }
    return json_object_set(o, key, v) == 0 ? 0 : ORC_ENOMEM;
}

/* {"$patch": "replace", ...}: the rest of the map; "delete": an empty map. */
static int map_directive(struct smp *s, json_t **o, json_t *p, const json_t *d)
{
    const char *what = json_string_value(d);
    json_t *next;

    if (what && strcmp(what, "replace") == 0) {
        json_object_del(p, PATCH_KEY);
        smp_clean(p);
        next = json_incref(p);
    } else if (what && strcmp(what, "delete") == 0) {
        if ((next = json_object()) == NULL) return ORC_ENOMEM;
    } else {
        char *shown = smp_show(d);
        int rv = smp_fail(s, ORC_EPROTO, "unknown patch type: %s in map", shown ? shown : "?");
        free(shown);
        return rv;
    }
    json_decref(*o);
    *o = next;
    return 0;
}

static bool list_has_string(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
        return true;
    return false;
}

/* $retainKeys: members of o not listed are cleared; every member the
 * patch sets must be listed. */
static int retain_keys(struct smp *s, json_t *o, json_t *p)
{
    json_t *keep = json_object_get(p, RETAIN_KEYS), *v;
    const char *key;
    void *tmp;
    int rv = 0;

    if (keep == NULL) return 0;
    json_incref(keep);
    json_object_del(p, RETAIN_KEYS);
    if (!json_is_array(keep)) {
        rv = smp_fail(s, ORC_EPROTO, "invalid patch format of retainKeys: want a list of keys");
        goto out;
    }
    json_object_foreach(p, key, v) {
        if (json_is_null(v) || has_prefix(key, DELETE_PREFIX) || has_prefix(key, ORDER_PREFIX))
            continue;
        if (!list_has_string(keep, key)) {
            rv = smp_fail(s, ORC_EPROTO,
                          "invalid patch format of retainKeys: \"%s\" is set but not retained", key);
            goto out;
        }
    }
    json_object_foreach_safe(o, tmp, key, v) if (!list_has_string(keep, key)) json_object_del(o, key);
out:
    json_decref(keep);
    return rv;
}

/* Every $setElementOrder/<list> of p, with the list it orders. The keys
 * are gathered first: each step removes members of p. */
static int ordered_lists(struct smp *s, json_t *o, json_t *p, const void *type)
{
    json_t *keys = json_array(), *v;
    const char *key;
    size_t i;
    int rv = 0;

    if (keys == NULL) return ORC_ENOMEM;
    json_object_foreach(p, key, v) {
        if (has_prefix(key, ORDER_PREFIX) && json_array_append_new(keys, json_string(key)) != 0) {
            json_decref(keys);
            return ORC_ENOMEM;
        }
    }
    json_array_foreach(keys, i, v) {
        const char *dkey = json_string_value(v), *name = directive_target(dkey, ORDER_PREFIX);
        json_t *order = json_incref(json_object_get(p, dkey));

        json_object_del(p, dkey);
        if (name == NULL)
            rv = smp_fail(s, ORC_EPROTO, "invalid patch format of setElementOrder list: \"%s\"", dkey);
        else if (!json_is_array(order))
            rv = smp_fail(s, ORC_EPROTO, "%s: the setElementOrder list must be a list", dkey);
        else
            rv = smp_order_list(s, o, p, name, order, type);
        json_decref(order);
        if (rv != 0) break;
    }
    json_decref(keys);
    return rv;
}

static bool same_shape(const json_t *a, const json_t *b)
{
    if (json_is_boolean(a)) return json_is_boolean(b);
    return json_typeof(a) == json_typeof(b);
}

/* One member of the patch applied to o. */
static int merge_member(struct smp *s, json_t *o, const char *key, json_t *pv, const void *type)
{
    const char *name = key;
    bool del_list = false;
    json_t *ov, *slot;
    struct orc_smp_field f;
    int rv;

    if (has_prefix(key, DELETE_PREFIX)) {
        if ((name = directive_target(key, DELETE_PREFIX)) == NULL)
            return smp_fail(s, ORC_EPROTO, "invalid patch format of primitive list: \"%s\"", key);
        del_list = true;
    }
    if (json_is_null(pv)) {
        json_object_del(o, name);
        return 0;
    }
    ov = json_object_get(o, name);
    if (ov == NULL || !same_shape(ov, pv)) return del_list ? 0 : take(o, name, pv);
    if (!json_is_object(ov) && !json_is_array(ov)) return take(o, name, pv);
    smp_field(s, type, name, &f);
    if (json_is_object(ov) && (f.strategy & ORC_SMP_REPLACE)) return take(o, name, pv);
    slot = json_incref(ov);
    rv = json_is_object(ov) ? smp_merge_map(s, &slot, pv, f.type)
                            : smp_merge_list(s, &slot, pv, &f, del_list);
    if (rv == 0 && json_object_set(o, name, slot) != 0) rv = ORC_ENOMEM;
    json_decref(slot);
    return rv;
}

int smp_merge_map(struct smp *s, json_t **o, json_t *p, const void *type)
{
    json_t *d = json_object_get(p, PATCH_KEY), *pv;
    const char *key;
    int rv;

    if (d) return map_directive(s, o, p, d);
    if ((rv = retain_keys(s, *o, p)) != 0) return rv;
    if ((rv = ordered_lists(s, *o, p, type)) != 0) return rv;
    json_object_foreach(p, key, pv) {
        if ((rv = merge_member(s, *o, key, pv, type)) != 0) return rv;
    }
    return 0;
}

int orc_smp_apply(json_t **doc, const json_t *patch, const struct orc_smp_schema *schema,
                  char *errmsg, size_t errlen)
{
    struct smp s = {schema ? schema->lookup : NULL, errmsg, errlen};
    json_t *o, *p;
    int rv;

    if (errmsg && errlen) errmsg[0] = '\0';
    if (!json_is_object(patch))
        return smp_fail(&s, ORC_EPROTO, "a strategic merge patch must be a JSON object");
    if (!json_is_object(*doc))
        return smp_fail(&s, ORC_EINVAL, "only an object can be patched");
    o = json_deep_copy(*doc);
    p = json_deep_copy(patch);
    if (o == NULL || p == NULL) rv = smp_fail(&s, ORC_ENOMEM, "out of memory");
    else rv = smp_merge_map(&s, &o, p, schema ? schema->root : NULL);
    json_decref(p);
    if (rv != 0) {
        if (rv == ORC_ENOMEM) smp_fail(&s, ORC_ENOMEM, "out of memory");
        json_decref(o);
        return rv;
    }
    json_decref(*doc);
    *doc = o;
    return 0;
}
