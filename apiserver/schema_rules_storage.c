/* schema_rules_storage.c — semantic rules for PersistentVolume,
 * PersistentVolumeClaim (and the claim templates of StatefulSets) and
 * StorageClass, worded as Kubernetes' core and storage validation. */
#include "apiserver/schema.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"

#define MSG_MAX 1024

static const char *const access_modes[] = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany",
                                           "ReadWriteOncePod", NULL};
static const char *const volume_modes[] = {"Block", "Filesystem", NULL};

static bool one_of(const json_t *v, const char *const *values)
{
    for (size_t i = 0; values[i] && json_is_string(v); i++)
        if (strcmp(values[i], json_string_value(v)) == 0) return true;
    return false;
}

static void check_access_modes(struct api_diag *d, const json_t *spec, const char *base,
                               const char *required_detail)
{
    const json_t *modes = api_arr(spec, "accessModes");
    bool once_pod = false;
    char p[API_PATH_MAX];
    api_pathf(p, "%s.accessModes", base);
    if (json_array_size(modes) == 0) api_required(d, p, required_detail);
    for (size_t i = 0; modes && i < json_array_size(modes); i++) {
        const json_t *m = json_array_get(modes, i);
        char ip[API_PATH_MAX];
        api_pathf(ip, "%s.accessModes[%zu]", base, i);
        if (!one_of(m, access_modes)) api_unsupported(d, ip, m, access_modes);
        once_pod = once_pod || (json_is_string(m) && !strcmp(json_string_value(m), "ReadWriteOncePod"));
    }
    if (once_pod && json_array_size(modes) > 1)
        api_forbidden(d, p, "may not use ReadWriteOncePod with other access modes");
}

/* A storage quantity that must be above zero. */
static void check_positive_storage(struct api_diag *d, const json_t *v, const char *field)
{
    int64_t milli;
    if (api_check_quantity(d, v, field, &milli) == 0 && milli == 0)
        api_invalid(d, field, v, "must be greater than zero");
}

static void check_class_and_mode(struct api_diag *d, const json_t *spec, const char *base)
{
    const char *sc = api_str(spec, "storageClassName");
    char p[API_PATH_MAX];
    if (sc && sc[0]) api_check_name(d, spec, "storageClassName", base, orc_dns1123_subdomain);
    api_check_enum(d, spec, "volumeMode", base, volume_modes);
    api_pathf(p, "%s.selector", base);
    api_check_selector(d, api_obj(spec, "selector"), p);
}

void api_rules_pvc_spec(struct api_diag *d, const json_t *spec, const char *base)
{
    const json_t *req = api_obj(api_obj(spec, "resources"), "requests");
    char p[API_PATH_MAX];
    check_access_modes(d, spec, base, "at least 1 access mode is required");
    api_pathf(p, "%s.resources[storage]", base);
    if (!json_object_get(req, "storage")) api_required(d, p, NULL);
    else check_positive_storage(d, json_object_get(req, "storage"), p);
    check_class_and_mode(d, spec, base);
}

/* ---- PersistentVolumeClaim ---- */

/* What a claim's update may change: its requests (expansion), its volume
 * attributes class, and the volume it binds to while it has none. */
static void check_claim_update(struct api_diag *d, const json_t *spec, const json_t *ospec)
{
    json_t *a = json_deep_copy(spec), *b = json_deep_copy(ospec);
    const char *had = api_str(ospec, "volumeName");
    if (a && b) {
        json_object_del(json_object_get(a, "resources"), "requests");
        json_object_del(json_object_get(b, "resources"), "requests");
        json_object_del(a, "volumeAttributesClassName");
        json_object_del(b, "volumeAttributesClassName");
        if (!had || !had[0]) {
            json_object_del(a, "volumeName");
            json_object_del(b, "volumeName");
        }
    }
    if (!a || !b || !json_equal(a, b))
        api_forbidden(d, "spec", "spec is immutable after creation except resources.requests and "
                                 "volumeAttributesClassName for bound claims");
    json_decref(a);
    json_decref(b);
}

void api_rules_persistentvolumeclaim(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec");
    if (!spec) {
        api_required(d, "spec.accessModes", "at least 1 access mode is required");
        api_required(d, "spec.resources[storage]", NULL);
        return;
    }
    api_rules_pvc_spec(d, spec, "spec");
    if (old && api_obj(old, "spec")) check_claim_update(d, spec, api_obj(old, "spec"));
}

/* ---- PersistentVolume ---- */

static const char *const pv_sources[] = {"hostPath", "local", "nfs", "csi", NULL};

static void check_pv_source(struct api_diag *d, const json_t *spec)
{
    const char *second = NULL;
    char p[API_PATH_MAX];
    int n = api_count_present(spec, pv_sources, &second);
    if (n == 0) api_required(d, "spec", "must specify a volume type");
    if (n > 1) {
        api_pathf(p, "spec.%s", second);
        api_forbidden(d, p, "may not specify more than 1 volume type");
    }
    if (api_obj(spec, "local") && !api_obj(api_obj(spec, "nodeAffinity"), "required"))
        api_required(d, "spec.nodeAffinity", "Local volume requires node affinity");
}

static void check_capacity(struct api_diag *d, const json_t *cap)
{
    static const char *const storage[] = {"storage", NULL};
    if (json_object_size(cap) == 0) {
        api_required(d, "spec.capacity", NULL);
        return;
    }
    if (!json_object_get(cap, "storage") || json_object_size(cap) > 1)
        api_unsupported(d, "spec.capacity", cap, storage);
    if (json_object_get(cap, "storage"))
        check_positive_storage(d, json_object_get(cap, "storage"), "spec.capacity[storage]");
}

static void check_pv_update(struct api_diag *d, const json_t *spec, const json_t *ospec)
{
    for (size_t i = 0; pv_sources[i]; i++) {
        const json_t *a = json_object_get(spec, pv_sources[i]);
        const json_t *b = json_object_get(ospec, pv_sources[i]);
        if ((a || b) && !(a && b && json_equal((json_t *)a, (json_t *)b))) {
            api_forbidden(d, "spec.persistentvolumesource",
                          "spec.persistentvolumesource is immutable after creation");
            break;
        }
    }
    api_check_immutable(d, json_object_get(spec, "volumeMode"),
                        json_object_get(ospec, "volumeMode"), "spec.volumeMode");
}

void api_rules_persistentvolume(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const policies[] = {"Delete", "Recycle", "Retain", NULL};
    const json_t *spec = api_obj(obj, "spec");
    check_capacity(d, api_obj(spec, "capacity"));
    check_access_modes(d, spec, "spec", NULL);
    api_check_enum(d, spec, "persistentVolumeReclaimPolicy", "spec", policies);
    check_pv_source(d, spec);
    check_class_and_mode(d, spec, "spec");
    if (old && api_obj(old, "spec")) check_pv_update(d, spec, api_obj(old, "spec"));
}

/* ---- StorageClass ---- */

#define SC_MAX_PARAMETERS 512
#define SC_MAX_PARAMETERS_BYTES (256 * 1024)

static void check_provisioner(struct api_diag *d, const char *prov)
{
    char msg[MSG_MAX];
    if (!prov || !prov[0]) {
        api_required(d, "provisioner", NULL);
        return;
    }
    size_t len = strlen(prov);
    char *lower = malloc(len + 1);
    if (!lower) {
        api_diag_add(d, "InternalError", "provisioner", "out of memory");
        return;
    }
    for (size_t i = 0; i <= len; i++) lower[i] = (char)tolower((unsigned char)prov[i]);
    if (orc_label_key(lower, len, msg, sizeof msg) != 0)
        api_invalid_str(d, "provisioner", prov, "%s", msg);
    free(lower);
}

static void check_parameters(struct api_diag *d, const json_t *params)
{
    const char *key;
    const json_t *v;
    size_t total = 0;
    if (json_object_size(params) > SC_MAX_PARAMETERS)
        api_diag_add(d, "FieldValueTooMany", "parameters",
                     "Too many: %zu: must have at most %d items", json_object_size(params),
                     SC_MAX_PARAMETERS);
    json_object_foreach((json_t *)params, key, v) {
        if (!key[0]) api_invalid_str(d, "parameters", key, "field can not be empty.");
        total += strlen(key) + json_string_length(v);
    }
    if (total > SC_MAX_PARAMETERS_BYTES) api_toolong(d, "parameters", SC_MAX_PARAMETERS_BYTES);
}

static void forbid_change(struct api_diag *d, const json_t *obj, const json_t *old, const char *key)
{
    const json_t *a = json_object_get(obj, key), *b = json_object_get(old, key);
    char msg[128];
    if (!a && !b) return;
    if (a && b && json_equal((json_t *)a, (json_t *)b)) return;
    snprintf(msg, sizeof msg, "updates to %s are forbidden.", key);
    api_forbidden(d, key, msg);
}

void api_rules_storageclass(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const reclaim[] = {"Delete", "Retain", NULL};
    static const char *const binding[] = {"Immediate", "WaitForFirstConsumer", NULL};
    check_provisioner(d, api_str(obj, "provisioner"));
    check_parameters(d, api_obj(obj, "parameters"));
    api_check_enum(d, obj, "reclaimPolicy", "", reclaim);
    api_check_enum(d, obj, "volumeBindingMode", "", binding);
    if (!old) return;
    forbid_change(d, obj, old, "parameters");
    forbid_change(d, obj, old, "provisioner");
    forbid_change(d, obj, old, "reclaimPolicy");
    api_check_immutable(d, json_object_get(obj, "volumeBindingMode"),
                        json_object_get(old, "volumeBindingMode"), "volumeBindingMode");
}
