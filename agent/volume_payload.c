/* volume_payload.c — the files a configMap or secret volume projects: every
 * key (a Secret's values base64-decoded, a ConfigMap's binaryData too) or
 * the `items` subset, with their modes. */
#include <stdlib.h>
#include <string.h>

#include "agent/volume_int.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/orc.h"

#define DEFAULT_MODE 0644

void vol_payload_free(struct vol_payload *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->f[i].path);
        orc_buf_free(&p->f[i].data);
    }
    free(p->f);
    memset(p, 0, sizeof *p);
}

bool vol_path_ok(const char *path)
{
    const char *p = path;

    if (strlen(path) > 4096 || path[0] == '/' || strncmp(path, "..", 2) == 0) return false;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (slash == NULL) return true;
        p = slash + 1;
    }
}

static struct vol_file *payload_add(struct vol_payload *p, const char *path, mode_t mode)
{
    struct vol_file *f;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        if ((f = realloc(p->f, cap * sizeof *f)) == NULL) return NULL;
        p->f = f;
        p->cap = cap;
    }
    f = &p->f[p->n];
    memset(f, 0, sizeof *f);
    if ((f->path = strdup(path)) == NULL) return NULL;
    f->mode = mode & 07777;
    p->n++;
    return f;
}

struct vol_file *vol_payload_add(struct vol_payload *p, const char *path, mode_t mode)
{
    return payload_add(p, path, mode);
}

/* obj's value for key into out: ORC_ENOENT when absent, ORC_EINVAL for bad base64. */
static int key_value(const json_t *obj, bool secret, const char *key, struct orc_buf *out)
{
    const json_t *d = json_object_get(json_object_get(obj, "data"), key);
    const char *v = json_string_value(d);

    /* A ConfigMap value may hold NUL bytes, as in Kubernetes: all of it. */
    if (v && !secret) return orc_buf_append(out, v, json_string_length(d));
    if (v) return orc_base64_decode(v, strlen(v), false, out);
    if (secret) return ORC_ENOENT;
    v = json_string_value(json_object_get(json_object_get(obj, "binaryData"), key));
    return v ? orc_base64_decode(v, strlen(v), false, out) : ORC_ENOENT;
}

static int add_key(struct vol_payload *p, const json_t *obj, bool secret, const char *key,
                   const char *path, mode_t mode, char *errmsg)
{
    struct vol_file *f;
    int rv;

    if (!vol_path_ok(path)) return orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL, "invalid path %s", path);
    if ((f = payload_add(p, path, mode)) == NULL) return ORC_ENOMEM;
    rv = key_value(obj, secret, key, &f->data);
    if (rv == ORC_EINVAL)
        return orc_errf(errmsg, VOL_ERRLEN, rv, "key %s is not valid base64", key);
    if (rv == 0 && f->data.data == NULL) rv = orc_buf_append(&f->data, "", 0);
    return rv;
}

/* Every key of data (and a ConfigMap's binaryData), path = key. */
static int add_all(struct vol_payload *p, const json_t *obj, bool secret, mode_t mode,
                   char *errmsg)
{
    static const char *const fields[] = {"data", "binaryData"};
    int rv = 0;

    for (size_t f = 0; rv == 0 && f < (secret ? 1u : 2u); f++) {
        const json_t *m = json_object_get(obj, fields[f]);
        size_t n;
        const char **keys = orc_json_sorted_keys(m, &n);
        if (n == 0 && json_object_size(m) > 0) return ORC_ENOMEM;
        for (size_t i = 0; rv == 0 && i < n; i++)
            rv = add_key(p, obj, secret, keys[i], keys[i], mode, errmsg);
        free(keys);
    }
    return rv;
}

static int add_items(struct vol_payload *p, const json_t *items, const json_t *obj, bool secret,
                     bool optional, mode_t def, char *errmsg)
{
    size_t i;
    json_t *it;
    struct orc_buf probe = ORC_BUF_INIT;
    int rv = 0;

    json_array_foreach ((json_t *)items, i, it) {
        const char *key = json_string_value(json_object_get(it, "key"));
        const char *path = json_string_value(json_object_get(it, "path"));
        const json_t *mode = json_object_get(it, "mode");
        if (key == NULL || path == NULL)
            return orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL, "items: key and path are required");
        orc_buf_reset(&probe);
        if (key_value(obj, secret, key, &probe) == ORC_ENOENT) {
            if (optional) continue;
            rv = orc_errf(errmsg, VOL_ERRLEN, ORC_ENOENT, "%s references non-existent %s key: %s",
                          secret ? "secret" : "configmap", secret ? "secret" : "config", key);
            break;
        }
        mode_t m = json_is_integer(mode) ? (mode_t)json_integer_value(mode) : def;
        if ((rv = add_key(p, obj, secret, key, path, m, errmsg)) != 0) break;
    }
    orc_buf_free(&probe);
    return rv;
}

int vol_payload_build(const json_t *src, bool secret, const json_t *obj, struct vol_payload *p,
                      char *errmsg)
{
    const json_t *dm = json_object_get(src, "defaultMode");
    const json_t *items = json_object_get(src, "items");
    mode_t def = json_is_integer(dm) ? (mode_t)json_integer_value(dm) : DEFAULT_MODE;
    bool optional = json_is_true(json_object_get(src, "optional"));
    int rv;

    memset(p, 0, sizeof *p);
    if (obj == NULL) return 0;
    if (json_array_size(items) > 0) rv = add_items(p, items, obj, secret, optional, def, errmsg);
    else rv = add_all(p, obj, secret, def, errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, VOL_ERRLEN, rv, "out of memory");
    if (rv != 0) vol_payload_free(p);
    return rv;
}
