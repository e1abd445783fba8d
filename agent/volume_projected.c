/* volume_projected.c — the files of a projected volume, as the kubelet
 * makes them: each source's files (configMap and secret keys, downwardAPI
 * fields, the pod's ServiceAccount token) in one directory, written by the
 * atomic writer like a single configMap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/volume_int.h"
#include "lib/json.h"
#include "lib/orc.h"

#define DEFAULT_MODE 0644

/* Moves every file of `from` to the end of `to`. */
static int take_files(struct vol_payload *to, struct vol_payload *from)
{
    for (size_t i = 0; i < from->n; i++) {
        struct vol_file *f = vol_payload_add(to, from->f[i].path, from->f[i].mode);
        if (f == NULL) return ORC_ENOMEM;
        f->data = from->f[i].data;
        from->f[i].data = (struct orc_buf)ORC_BUF_INIT;
    }
    return 0;
}

static int object_source(const json_t *sub, bool secret, mode_t def,
                         const struct podspec_lookup *lk, const char *ns, struct vol_payload *p,
                         char *errmsg)
{
    const char *name = orc_json_str(sub, "name");
    const json_t *obj = lk && lk->get && name
                            ? lk->get(lk->arg, secret ? "secrets" : "configmaps", ns, name)
                            : NULL;
    json_t *copy;
    struct vol_payload part;
    int rv;

    if (obj == NULL && !json_is_true(json_object_get(sub, "optional")))
        return orc_errf(errmsg, VOL_ERRLEN, ORC_ENOENT, "%s \"%s\" not found",
                        secret ? "secret" : "configmap", name ? name : "");
    /* a projection's sources take the volume's defaultMode */
    if ((copy = json_deep_copy(sub)) == NULL) return ORC_ENOMEM;
    json_object_set_new(copy, "defaultMode", json_integer(def));
    rv = vol_payload_build(copy, secret, obj, &part, errmsg);
    json_decref(copy);
    if (rv == 0) rv = take_files(p, &part);
    vol_payload_free(&part);
    return rv;
}

static int add_text(struct vol_payload *p, const char *path, mode_t mode, const char *text,
                    char *errmsg)
{
    struct vol_file *f;

    if (!path || !vol_path_ok(path))
        return orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL, "invalid path %s", path ? path : "(none)");
    if ((f = vol_payload_add(p, path, mode)) == NULL) return ORC_ENOMEM;
    return orc_buf_puts(&f->data, text);
}

/* Labels and annotations as the kubelet writes them: key="value" lines,
 * sorted, the value quoted. */
static int map_text(const json_t *m, struct orc_buf *out)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(m, &n);
    int rv = 0;

    if (n == 0 && json_object_size(m) > 0) return ORC_ENOMEM;
    for (size_t i = 0; rv == 0 && i < n; i++) {
        char *q = json_dumps(json_object_get(m, keys[i]), JSON_ENCODE_ANY);
        rv = q ? orc_buf_printf(out, "%s%s=%s", i ? "\n" : "", keys[i], q) : ORC_ENOMEM;
        free(q);
    }
    free(keys);
    return rv == 0 ? orc_buf_append(out, "", 0) : rv;
}

static int field_text(const json_t *pod, const char *field, struct orc_buf *out, char *errmsg)
{
    static const char *const plain[] = {"metadata.name", "metadata.namespace", "metadata.uid",
                                        "spec.nodeName", "spec.serviceAccountName"};

    if (field
        && (strcmp(field, "metadata.labels") == 0 || strcmp(field, "metadata.annotations") == 0))
        return map_text(orc_json_get(pod, field), out);
    for (size_t i = 0; field && i < ORC_ARRAY_LEN(plain); i++)
        if (strcmp(field, plain[i]) == 0) {
            const char *v = orc_json_str(pod, field);
            return orc_buf_puts(out, v ? v : "");
        }
    return orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL, "unsupported fieldRef %s",
                    field ? field : "(none)");
}

static int downward_source(const json_t *sub, mode_t def, const json_t *pod, struct vol_payload *p,
                           char *errmsg)
{
    size_t i;
    json_t *it;
    int rv = 0;

    json_array_foreach (json_object_get(sub, "items"), i, it) {
        const char *path = orc_json_str(it, "path");
        const json_t *mode = json_object_get(it, "mode");
        struct orc_buf v = ORC_BUF_INIT;
        if (json_object_get(it, "resourceFieldRef"))
            rv = orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL,
                          "downwardAPI %s: resourceFieldRef is not supported", path ? path : "");
        else
            rv = field_text(pod, orc_json_str(it, "fieldRef.fieldPath"), &v, errmsg);
        if (rv == 0)
            rv = add_text(p, path, json_is_integer(mode) ? (mode_t)json_integer_value(mode) : def,
                          v.data ? v.data : "", errmsg);
        orc_buf_free(&v);
        if (rv != 0) break;
    }
    return rv;
}

static int token_source(const json_t *sub, mode_t def, const json_t *pod,
                        const struct podspec_lookup *lk, struct vol_payload *p, char *errmsg)
{
    const char *uid = orc_json_str(pod, "metadata.uid");
    const json_t *t = lk && lk->get && uid ? lk->get(lk->arg, PODSPEC_SA_TOKEN, "", uid) : NULL;
    const char *tok = orc_json_str(t, "token");

    if (tok == NULL)
        return orc_errf(errmsg, VOL_ERRLEN, ORC_ENOENT, "waiting for the service account token");
    return add_text(p, orc_json_str(sub, "path"), def, tok, errmsg);
}

int vol_projected_build(const json_t *src, const json_t *pod, const struct podspec_lookup *lk,
                        const char *ns, struct vol_payload *p, char *errmsg)
{
    const json_t *dm = json_object_get(src, "defaultMode");
    mode_t def = json_is_integer(dm) ? (mode_t)json_integer_value(dm) : DEFAULT_MODE;
    size_t i;
    json_t *s, *sub;
    int rv = 0;

    memset(p, 0, sizeof *p);
    json_array_foreach (json_object_get(src, "sources"), i, s) {
        if ((sub = json_object_get(s, "configMap")))
            rv = object_source(sub, false, def, lk, ns, p, errmsg);
        else if ((sub = json_object_get(s, "secret")))
            rv = object_source(sub, true, def, lk, ns, p, errmsg);
        else if ((sub = json_object_get(s, "downwardAPI")))
            rv = downward_source(sub, def, pod, p, errmsg);
        else if ((sub = json_object_get(s, "serviceAccountToken")))
            rv = token_source(sub, def, pod, lk, p, errmsg);
        else
            rv = orc_errf(errmsg, VOL_ERRLEN, ORC_EINVAL, "projected: unsupported source");
        if (rv != 0) break;
    }
    if (rv == ORC_ENOMEM) orc_errf(errmsg, VOL_ERRLEN, rv, "out of memory");
    if (rv != 0) vol_payload_free(p);
    return rv;
}
