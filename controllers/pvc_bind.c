/* pvc_bind.c — the volume binder's decisions: matching claims to volumes,
 * the local-path provisioner's volumes, and the phases of both. */
#include <stdio.h>
#include <string.h>

#include "controllers/pvc.h"
#include "lib/json.h"
#include "lib/labels.h"
#include "lib/quantity.h"

static const char *str_or(const json_t *obj, const char *path, const char *dflt)
{
    const char *s = orc_json_str(obj, path);
    return s ? s : dflt;
}

const json_t *pvc_default_class(const json_t *const *classes, size_t n)
{
    const json_t *best = NULL;

    for (size_t i = 0; i < n; i++) {
        const json_t *ann = orc_json_get(classes[i], "metadata.annotations");
        const char *v = json_string_value(json_object_get(ann, PVC_ANN_DEFAULT_CLASS));
        int c;

        if (v == NULL || strcmp(v, "true") != 0) continue;
        if (best == NULL) {
            best = classes[i];
            continue;
        }
        c = strcmp(str_or(classes[i], "metadata.creationTimestamp", ""),
                   str_or(best, "metadata.creationTimestamp", ""));
        if (c > 0 || (c == 0 && strcmp(str_or(classes[i], "metadata.name", ""),
                                       str_or(best, "metadata.name", "")) < 0))
            best = classes[i];
    }
    return best;
}

const char *pvc_class_of(const json_t *claim, const json_t *default_class)
{
    const char *cls = orc_json_str(claim, "spec.storageClassName");

    if (cls) return cls;
    return default_class ? str_or(default_class, "metadata.name", "") : "";
}

bool pvc_claimref_is(const json_t *pv, const json_t *claim)
{
    const json_t *ref = orc_json_get(pv, "spec.claimRef");
    const char *uid = orc_json_str(ref, "uid");

    return ref && strcmp(str_or(ref, "namespace", ""), str_or(claim, "metadata.namespace", "")) == 0
           && strcmp(str_or(ref, "name", ""), str_or(claim, "metadata.name", "")) == 0
           && (uid == NULL || *uid == '\0'
               || strcmp(uid, str_or(claim, "metadata.uid", "")) == 0);
}

static bool has_modes(const json_t *pv, const json_t *claim)
{
    size_t i, j;
    json_t *m, *have;

    json_array_foreach (orc_json_get(claim, "spec.accessModes"), i, m) {
        bool found = false;
        json_array_foreach (orc_json_get(pv, "spec.accessModes"), j, have)
            if (json_equal(m, have)) found = true;
        if (!found) return false;
    }
    return true;
}

static int64_t quantity(const json_t *obj, const char *path)
{
    const char *s = orc_json_str(obj, path);
    int64_t v = 0;

    if (s == NULL || orc_quantity_parse(s, &v) != 0) return 0;
    return v;
}

static bool selector_matches(const json_t *claim, const json_t *pv)
{
    const json_t *sel = orc_json_get(claim, "spec.selector");
    orc_selector *s;
    bool ok;

    if (sel == NULL || json_is_null(sel)) return true;
    if (orc_selector_from_json(sel, &s, NULL, 0) != 0) return false;
    ok = orc_selector_matches(s, orc_json_get(pv, "metadata.labels"));
    orc_selector_free(s);
    return ok;
}

bool pvc_pv_fits(const json_t *claim, const json_t *pv, const char *cls)
{
    const char *phase = str_or(pv, "status.phase", "Available");

    if (orc_json_get(pv, "metadata.deletionTimestamp")) return false;
    if (orc_json_get(pv, "spec.claimRef")) {
        if (!pvc_claimref_is(pv, claim)) return false;
    } else if (strcmp(phase, "Available") != 0 && strcmp(phase, "Pending") != 0) {
        return false;
    }
    return strcmp(str_or(pv, "spec.storageClassName", ""), cls) == 0
           && strcmp(str_or(pv, "spec.volumeMode", "Filesystem"),
                     str_or(claim, "spec.volumeMode", "Filesystem"))
                  == 0
           && has_modes(pv, claim)
           && quantity(pv, "spec.capacity.storage")
                  >= quantity(claim, "spec.resources.requests.storage")
           && selector_matches(claim, pv);
}

const json_t *pvc_pick(const json_t *claim, const json_t *const *pvs, size_t n, const char *cls)
{
    const json_t *best = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!pvc_pv_fits(claim, pvs[i], cls)) continue;
        if (orc_json_get(pvs[i], "spec.claimRef")) return pvs[i];
        if (best == NULL
            || quantity(pvs[i], "spec.capacity.storage") < quantity(best, "spec.capacity.storage"))
            best = pvs[i];
    }
    return best;
}

json_t *pvc_provision(const json_t *claim, const json_t *cls, const char *node,
                      const char *volumes_dir)
{
    const char *uid = orc_json_str(claim, "metadata.uid");
    const char *ns = orc_json_str(claim, "metadata.namespace");
    const char *name = orc_json_str(claim, "metadata.name");
    const json_t *modes = orc_json_get(claim, "spec.accessModes");
    char pv_name[300], path[4096];
    json_t *m;

    if (uid == NULL || ns == NULL || name == NULL) return NULL;
    m = json_is_array(modes) ? json_incref((json_t *)modes) : json_pack("[s]", "ReadWriteOnce");
    snprintf(pv_name, sizeof pv_name, "pvc-%s", uid);
    snprintf(path, sizeof path, "%s/pvc-%s_%s_%s", volumes_dir, uid, ns, name);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:{s:s}, s:o, s:s, s:s, s:s, s:{s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:s}, s:{s:{s:[{s:[{s:s, s:s, s:[s]}]}]}}}}",
        "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", pv_name,
        "annotations", PVC_ANN_PROVISIONED_BY, PVC_LOCAL_PROVISIONER, "spec", "capacity",
        "storage", str_or(claim, "spec.resources.requests.storage", "0"), "accessModes",
        m,
        "persistentVolumeReclaimPolicy", str_or(cls, "reclaimPolicy", "Delete"),
        "storageClassName", str_or(cls, "metadata.name", ""), "volumeMode", "Filesystem",
        "hostPath", "path", path, "type", "DirectoryOrCreate", "claimRef", "apiVersion", "v1",
        "kind", "PersistentVolumeClaim", "namespace", ns, "name", name, "uid", uid,
        "nodeAffinity", "required", "nodeSelectorTerms", "matchExpressions", "key",
        "kubernetes.io/hostname", "operator", "In", "values", node);
}

const char *pvc_pv_phase(const json_t *pv, const json_t *claim)
{
    if (orc_json_get(pv, "spec.claimRef") == NULL) return "Available";
    if (claim && pvc_claimref_is(pv, claim)) return "Bound";
    /* a claimRef to a claim not there: pre-bound and waiting for it, or
     * released when the claim it was bound to went away */
    if (orc_json_str(pv, "spec.claimRef.uid") == NULL) return "Available";
    return "Released";
}

json_t *pvc_claim_status(const json_t *pv)
{
    const json_t *cap = orc_json_get(pv, "spec.capacity");
    const json_t *modes = orc_json_get(pv, "spec.accessModes");

    if (pv == NULL) return json_pack("{s:s}", "phase", "Pending");
    return json_pack("{s:s, s:o, s:o}", "phase", "Bound", "capacity",
                     cap ? json_deep_copy(cap) : json_object(), "accessModes",
                     modes ? json_deep_copy(modes) : json_array());
}

const char *pvc_pv_path(const json_t *pv)
{
    const char *p = orc_json_str(pv, "spec.hostPath.path");
    return p ? p : orc_json_str(pv, "spec.local.path");
}
