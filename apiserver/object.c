/* object.c — how API objects live in the store: their keys, and a stored
 * form without resourceVersion (it is the key's mod revision), spliced back
 * in as text when served so lists and watches need no JSON re-parsing. */
#include <stdio.h>
#include <string.h>

#include "apiserver/server.h"
#include "lib/json.h"
#include "lib/orc.h"

int api_prefix(const struct orc_kind *k, const char *ns, struct orc_buf *out)
{
    k = orc_kind_stored(k); /* a served_only row's objects live under its stored row's keys */
    int rv = orc_buf_printf(out, "/registry/%s/%s/", k->group[0] ? k->group : "core", k->resource);
    if (rv == 0 && k->namespaced && ns && *ns) rv = orc_buf_printf(out, "%s/", ns);
    return rv;
}

int api_key(const struct orc_kind *k, const char *ns, const char *name, struct orc_buf *out)
{
    int rv = api_prefix(k, k->namespaced ? ns : NULL, out);
    return rv ? rv : orc_buf_puts(out, name);
}

/* Rebuilds obj's key order as apiVersion, kind, metadata, rest, and drops
 * metadata.resourceVersion; the splice in api_obj_append relies on it. */
int api_obj_encode(json_t *obj, struct orc_buf *out)
{
    json_t *ordered = json_object();
    json_t *meta = json_object_get(obj, "metadata");
    const char *key;
    json_t *val;
    int rv;

    if (ordered == NULL) return ORC_ENOMEM;
    if (json_is_object(meta)) json_object_del(meta, "resourceVersion");
    json_object_set(ordered, "apiVersion", json_object_get(obj, "apiVersion"));
    json_object_set(ordered, "kind", json_object_get(obj, "kind"));
    json_object_set(ordered, "metadata", meta ? meta : json_object());
    json_object_foreach(obj, key, val) {
        if (strcmp(key, "apiVersion") && strcmp(key, "kind") && strcmp(key, "metadata"))
            json_object_set(ordered, key, val);
    }
    rv = orc_json_dump(ordered, out);
    json_decref(ordered);
    return rv;
}

/* Position just after `"metadata":{` when the value starts with
 * {"apiVersion":"...","kind":"...","metadata":{ — else 0. apiVersion and
 * kind are validated names, so they hold no quotes to trip over. */
static size_t metadata_open(const char *v, size_t len)
{
    static const char pre[] = "{\"apiVersion\":\"";
    static const char mid[] = "\",\"kind\":\"";
    static const char post[] = "\",\"metadata\":{";
    const char *p = v, *end = v + len, *q;

    if (len < sizeof pre || memcmp(p, pre, sizeof pre - 1) != 0) return 0;
    p += sizeof pre - 1;
    q = memchr(p, '"', (size_t)(end - p));
    if (q == NULL || (size_t)(end - q) < sizeof mid || memcmp(q, mid, sizeof mid - 1) != 0) return 0;
    p = q + sizeof mid - 1;
    q = memchr(p, '"', (size_t)(end - p));
    if (q == NULL || (size_t)(end - q) < sizeof post || memcmp(q, post, sizeof post - 1) != 0)
        return 0;
    return (size_t)(q + sizeof post - 1 - v);
}

int api_obj_append(struct orc_buf *out, const char *value, size_t len, int64_t rev)
{
    size_t at = metadata_open(value, len);
    int rv;

    if (at == 0) { /* not in canonical form: take the slow, general path */
        json_t *obj = api_obj_decode(value, len, rev);
        if (obj == NULL) return ORC_ECORRUPT;
        rv = orc_json_dump(obj, out);
        json_decref(obj);
        return rv;
    }
    if ((rv = orc_buf_reserve(out, len + 48)) != 0) return rv;
    orc_buf_append(out, value, at);
    orc_buf_printf(out, "\"resourceVersion\":\"%lld\"%s", (long long)rev,
                   value[at] == '}' ? "" : ",");
    return orc_buf_append(out, value + at, len - at);
}

json_t *api_obj_decode(const char *value, size_t len, int64_t rev)
{
    char rvs[24];
    json_t *obj = orc_json_loadb(value, len, JSON_ALLOW_NUL, NULL);
    json_t *meta;

    if (obj == NULL) return NULL;
    meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    snprintf(rvs, sizeof rvs, "%lld", (long long)rev);
    json_object_set_new(meta, "resourceVersion", json_string(rvs));
    return obj;
}

/* ---- served_only versions: converted on the way in and out ---- */

int api_view_to_stored(const struct orc_kind *view, json_t *obj, char *err, size_t n)
{
    const struct api_kind *ak = api_kind_of(view);
    if (!orc_kind_served_only(view) || ak->to_stored == NULL) return 0;
    return ak->to_stored(obj, err, n);
}

int api_view_from_stored(const struct orc_kind *view, json_t *obj)
{
    const struct api_kind *ak = api_kind_of(view);
    char err[256];
    if (!orc_kind_served_only(view) || ak->from_stored == NULL) return 0;
    return ak->from_stored(obj, err, sizeof err);
}

int api_obj_append_as(const struct orc_kind *view, struct orc_buf *out, const char *value,
                      size_t len, int64_t rev)
{
    json_t *obj;
    int rv;

    if (!orc_kind_served_only(view)) return api_obj_append(out, value, len, rev);
    if ((obj = api_obj_decode(value, len, rev)) == NULL) return ORC_ECORRUPT;
    rv = api_view_from_stored(view, obj);
    if (rv == 0) rv = orc_json_dump(obj, out);
    json_decref(obj);
    return rv;
}
