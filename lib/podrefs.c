/* podrefs.c — the objects a pod spec names (see podrefs.h). */
#include "lib/podrefs.h"

#include <stddef.h>

typedef void (*ref_fn)(void *arg, enum orc_pod_ref type, const char *name);

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);

    if (b) v = json_object_get(v, b);
    return json_string_value(v);
}

static void emit(ref_fn fn, void *arg, enum orc_pod_ref t, const char *name)
{
    if (name && *name) fn(arg, t, name);
}

/* env[].valueFrom and envFrom[] of one container list. */
static void containers_refs(const json_t *list, ref_fn fn, void *arg)
{
    size_t i, j;
    const json_t *c, *e;

    json_array_foreach(list, i, c) {
        json_array_foreach(json_object_get(c, "env"), j, e) {
            const json_t *vf = json_object_get(e, "valueFrom");
            emit(fn, arg, ORC_REF_SECRET, str_at(vf, "secretKeyRef", "name"));
            emit(fn, arg, ORC_REF_CONFIGMAP, str_at(vf, "configMapKeyRef", "name"));
        }
        json_array_foreach(json_object_get(c, "envFrom"), j, e) {
            emit(fn, arg, ORC_REF_SECRET, str_at(e, "secretRef", "name"));
            emit(fn, arg, ORC_REF_CONFIGMAP, str_at(e, "configMapRef", "name"));
        }
    }
}

static void volumes_refs(const json_t *vols, ref_fn fn, void *arg)
{
    size_t i, j;
    const json_t *v, *src;

    json_array_foreach(vols, i, v) {
        emit(fn, arg, ORC_REF_SECRET, str_at(v, "secret", "secretName"));
        emit(fn, arg, ORC_REF_CONFIGMAP, str_at(v, "configMap", "name"));
        emit(fn, arg, ORC_REF_CLAIM, str_at(v, "persistentVolumeClaim", "claimName"));
        json_array_foreach(json_object_get(json_object_get(v, "projected"), "sources"), j, src) {
            emit(fn, arg, ORC_REF_SECRET, str_at(src, "secret", "name"));
            emit(fn, arg, ORC_REF_CONFIGMAP, str_at(src, "configMap", "name"));
        }
    }
}

void orc_pod_refs(const json_t *spec, ref_fn fn, void *arg)
{
    const char *sa = str_at(spec, "serviceAccountName", NULL);
    size_t i;
    const json_t *e;

    containers_refs(json_object_get(spec, "containers"), fn, arg);
    containers_refs(json_object_get(spec, "initContainers"), fn, arg);
    containers_refs(json_object_get(spec, "ephemeralContainers"), fn, arg);
    volumes_refs(json_object_get(spec, "volumes"), fn, arg);
    json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, e)
        emit(fn, arg, ORC_REF_SECRET, str_at(e, "name", NULL));
    fn(arg, ORC_REF_SERVICEACCOUNT, sa && *sa ? sa : "default");
}

const char *orc_pod_ref_resource(enum orc_pod_ref type)
{
    switch (type) {
    case ORC_REF_SECRET: return "secrets";
    case ORC_REF_CONFIGMAP: return "configmaps";
    case ORC_REF_CLAIM: return "persistentvolumeclaims";
    case ORC_REF_SERVICEACCOUNT: return "serviceaccounts";
    }
    return NULL;
}
