/* schema_rules_pod.c — semantic rules for a PodSpec, wherever it appears
 * (Pods and every workload's pod template): volumes, scheduling and pod-level
 * fields (containers are in schema_rules_container.c), and what a Pod update
 * may change. Wording follows Kubernetes' pkg/apis/core/validation. */
#include "apiserver/schema.h"

#include <string.h>

#include "lib/names.h"

#define MSG_MAX 1024

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                           "None", NULL};
static const char *const hostpath_types[] = {"", "DirectoryOrCreate", "Directory",
                                             "FileOrCreate", "File", "Socket", "CharDevice",
                                             "BlockDevice", NULL};
static const char *const toleration_ops[] = {"Equal", "Exists", NULL};
static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
static const char *const node_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", NULL};
static const char *const volume_field_paths[] = {"metadata.name", "metadata.namespace",
                                                 "metadata.uid", "metadata.labels",
                                                 "metadata.annotations", NULL};

/* ---- volumes ---- */

static void check_mode(struct api_diag *d, const json_t *o, const char *key, const char *base)
{
    long long v;
    char p[API_PATH_MAX];
    if (!api_int(o, key, &v) || (v >= 0 && v <= 0777)) return;
    api_pathf(p, "%s.%s", base, key);
    api_invalid_int(d, p, v, "must be a number between 0 and 0777 (octal), both inclusive");
}

static void check_items(struct api_diag *d, const json_t *src, const char *base)
{
    const json_t *items = api_arr(src, "items");
    char p[API_PATH_MAX];
    for (size_t i = 0; items && i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        const char *path = api_str(it, "path");
        api_pathf(p, "%s.items[%zu].key", base, i);
        api_check_name_value(d, json_object_get(it, "key"), p, orc_config_key);
        api_pathf(p, "%s.items[%zu].path", base, i);
        if (path && path[0]) api_check_local_path(d, path, p);
        api_pathf(p, "%s.items[%zu]", base, i);
        check_mode(d, it, "mode", p);
    }
}

static const char *const volume_sources[] = {
    "hostPath", "emptyDir", "secret", "configMap", "persistentVolumeClaim", "downwardAPI",
    "projected", "nfs", "csi", "ephemeral", "image", "gcePersistentDisk", "awsElasticBlockStore",
    "gitRepo", "iscsi", "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc",
    "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
    "portworxVolume", "scaleIO", "storageos", NULL,
};

static void check_downward_items(struct api_diag *d, const json_t *src, const char *base)
{
    const json_t *items = api_arr(src, "items");
    char p[API_PATH_MAX];
    for (size_t i = 0; items && i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i), *o;
        const char *path = api_str(it, "path");
        api_pathf(p, "%s.items[%zu].path", base, i);
        if (path && path[0]) api_check_local_path(d, path, p);
        api_pathf(p, "%s.items[%zu].fieldRef", base, i);
        if ((o = api_obj(it, "fieldRef"))) api_check_field_ref(d, o, p, volume_field_paths);
        api_pathf(p, "%s.items[%zu].resourceFieldRef", base, i);
        if ((o = api_obj(it, "resourceFieldRef"))) api_check_resource_ref(d, o, p, true);
        api_pathf(p, "%s.items[%zu]", base, i);
        check_mode(d, it, "mode", p);
    }
}

static void check_emptydir(struct api_diag *d, const json_t *src, const char *base)
{
    const char *medium = api_str(src, "medium");
    char p[API_PATH_MAX];
    int64_t milli;
    api_pathf(p, "%s.medium", base);
    if (medium && medium[0] && strcmp(medium, "Memory") && strcmp(medium, "HugePages")
        && strncmp(medium, "HugePages-", 10))
        api_unsupported(d, p, json_object_get(src, "medium"),
                        (const char *const[]){"", "Memory", "HugePages", "HugePages-<size>", NULL});
    api_pathf(p, "%s.sizeLimit", base);
    if (json_object_get(src, "sizeLimit"))
        api_check_quantity(d, json_object_get(src, "sizeLimit"), p, &milli);
}

static void check_volume_source(struct api_diag *d, const json_t *vol, const char *base)
{
    char p[API_PATH_MAX];
    const json_t *o;
    if ((o = api_obj(vol, "hostPath"))) {
        api_pathf(p, "%s.hostPath", base);
        api_check_enum(d, o, "type", p, hostpath_types);
        api_pathf(p, "%s.hostPath.path", base);
        if (!api_str(o, "path") || !api_str(o, "path")[0]) api_required(d, p, NULL);
    }
    if ((o = api_obj(vol, "emptyDir"))) {
        api_pathf(p, "%s.emptyDir", base);
        check_emptydir(d, o, p);
    }
    if ((o = api_obj(vol, "configMap"))) {
        api_pathf(p, "%s.configMap", base);
        api_check_ref_name(d, o, p);
        check_mode(d, o, "defaultMode", p);
        check_items(d, o, p);
    }
    if ((o = api_obj(vol, "secret"))) {
        api_pathf(p, "%s.secret.secretName", base);
        if (!api_str(o, "secretName") || !api_str(o, "secretName")[0]) api_required(d, p, NULL);
        api_pathf(p, "%s.secret", base);
        api_check_name(d, o, "secretName", p, orc_dns1123_subdomain);
        check_mode(d, o, "defaultMode", p);
        check_items(d, o, p);
    }
    if ((o = api_obj(vol, "downwardAPI"))) {
        api_pathf(p, "%s.downwardAPI", base);
        check_mode(d, o, "defaultMode", p);
        check_downward_items(d, o, p);
    }
    if ((o = api_obj(vol, "projected"))) {
        api_pathf(p, "%s.projected", base);
        check_mode(d, o, "defaultMode", p);
    }
}

/* Checks the volumes; returns the set of names mounts may use (volumes and
 * claim templates), or NULL when out of memory. */
static json_t *check_volumes(struct api_diag *d, const json_t *spec, const char *base,
                             const json_t *claims)
{
    const json_t *vols = api_arr(spec, "volumes");
    json_t *names = json_object();
    char p[API_PATH_MAX];
    for (size_t i = 0; names && claims && i < json_array_size(claims); i++) {
        const char *name = api_str(api_obj(json_array_get(claims, i), "metadata"), "name");
        if (name && name[0]) json_object_set_new(names, name, json_true());
    }
    for (size_t i = 0; vols && i < json_array_size(vols); i++) {
        const json_t *v = json_array_get(vols, i);
        const char *name = api_str(v, "name"), *second = NULL;
        api_pathf(p, "%s.volumes[%zu]", base, i);
        api_check_name(d, v, "name", p, orc_dns1123_label);
        int n = api_count_present(v, volume_sources, &second);
        if (n == 0) api_required(d, p, "must specify a volume type");
        check_volume_source(d, v, p);
        if (n > 1) {
            api_pathf(p, "%s.volumes[%zu].%s", base, i, second);
            api_forbidden(d, p, "may not specify more than 1 volume type");
        }
        api_pathf(p, "%s.volumes[%zu].name", base, i);
        if (name && name[0] && names && json_object_get(names, name))
            api_duplicate(d, p, json_object_get(v, "name"));
        else if (name && name[0] && names)
            json_object_set_new(names, name, json_true());
    }
    return names;
}

/* ---- scheduling ---- */

static void check_tolerations(struct api_diag *d, const json_t *tols, const char *base)
{
    char p[API_PATH_MAX];
    for (size_t i = 0; tols && i < json_array_size(tols); i++) {
        const json_t *t = json_array_get(tols, i);
        const char *key = api_str(t, "key"), *op = api_str(t, "operator");
        const char *value = api_str(t, "value"), *effect = api_str(t, "effect");
        long long secs;
        api_pathf(p, "%s[%zu].key", base, i);
        api_check_name_value(d, json_object_get(t, "key"), p, orc_label_key);
        api_pathf(p, "%s[%zu].operator", base, i);
        bool exists = op && strcmp(op, "Exists") == 0;
        if ((!key || !key[0]) && !exists)
            api_invalid_str(d, p, op ? op : "", "operator must be Exists when `key` is empty, "
                                                "which means \"match all values and all keys\"");
        if (exists && value && value[0])
            api_invalid_str(d, p, value, "value must be empty when `operator` is 'Exists'");
        api_path_index(p, base, i);
        if (op && op[0]) api_check_enum(d, t, "operator", p, toleration_ops);
        if (effect && effect[0]) api_check_enum(d, t, "effect", p, taint_effects);
        api_pathf(p, "%s[%zu].value", base, i);
        if (!exists) api_check_name_value(d, json_object_get(t, "value"), p, orc_label_value);
        api_pathf(p, "%s[%zu].effect", base, i);
        if (api_int(t, "tolerationSeconds", &secs) && (!effect || strcmp(effect, "NoExecute")))
            api_invalid_str(d, p, effect ? effect : "",
                            "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
}

static void check_node_requirement(struct api_diag *d, const json_t *r, const char *base,
                                   bool field)
{
    const char *key = api_str(r, "key"), *op = api_str(r, "operator");
    size_t n = json_array_size(api_arr(r, "values"));
    char p[API_PATH_MAX];
    api_check_enum(d, r, "operator", base, node_ops);
    api_pathf(p, "%s.key", base);
    if (field && key && strcmp(key, "metadata.name") != 0)
        api_invalid_str(d, p, key, "not a valid field selector key");
    else if (!field) api_check_name_value(d, json_object_get(r, "key"), p, orc_label_key);
    api_pathf(p, "%s.values", base);
    if (!op) return;
    if ((!strcmp(op, "In") || !strcmp(op, "NotIn")) && n == 0)
        api_required(d, p, "must be specified when `operator` is 'In' or 'NotIn'");
    else if ((!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) && n > 0)
        api_forbidden(d, p, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    else if ((!strcmp(op, "Gt") || !strcmp(op, "Lt")) && n != 1)
        api_required(d, p, "must be specified single value when `operator` is 'Lt' or 'Gt'");
}

static void check_node_term(struct api_diag *d, const json_t *term, const char *base)
{
    static const char *const lists[] = {"matchExpressions", "matchFields"};
    char p[API_PATH_MAX];
    for (size_t l = 0; l < 2; l++) {
        const json_t *arr = api_arr(term, lists[l]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            api_pathf(p, "%s.%s[%zu]", base, lists[l], i);
            check_node_requirement(d, json_array_get(arr, i), p, l == 1);
        }
    }
}

static void check_node_affinity(struct api_diag *d, const json_t *na, const char *base)
{
    char p[API_PATH_MAX];
    const json_t *req = api_obj(na, "requiredDuringSchedulingIgnoredDuringExecution");
    const json_t *pref = api_arr(na, "preferredDuringSchedulingIgnoredDuringExecution");
    if (req) {
        const json_t *terms = api_arr(req, "nodeSelectorTerms");
        api_pathf(p, "%s.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", base);
        if (json_array_size(terms) == 0)
            api_required(d, p, "must have at least one node selector term");
        for (size_t i = 0; terms && i < json_array_size(terms); i++) {
            char tp[API_PATH_MAX];
            api_path_index(tp, p, i);
            check_node_term(d, json_array_get(terms, i), tp);
        }
    }
    for (size_t i = 0; pref && i < json_array_size(pref); i++) {
        const json_t *w = json_array_get(pref, i);
        long long weight;
        api_pathf(p, "%s.preferredDuringSchedulingIgnoredDuringExecution[%zu].weight", base, i);
        if (api_int(w, "weight", &weight) && (weight < 1 || weight > 100))
            api_invalid_int(d, p, weight, "must be in the range 1-100");
        api_pathf(p, "%s.preferredDuringSchedulingIgnoredDuringExecution[%zu].preference", base, i);
        if (api_obj(w, "preference")) check_node_term(d, api_obj(w, "preference"), p);
    }
}

/* Gate names: qualified names, each once. */
static void check_scheduling_gates(struct api_diag *d, const json_t *gates, const char *base)
{
    char p[API_PATH_MAX];
    for (size_t i = 0; gates && i < json_array_size(gates); i++) {
        const json_t *name = json_object_get(json_array_get(gates, i), "name");
        api_pathf(p, "%s.schedulingGates[%zu].name", base, i);
        api_check_name_value(d, name, p, orc_label_key);
        for (size_t j = 0; json_is_string(name) && j < i; j++)
            if (json_equal((json_t *)name, json_object_get(json_array_get(gates, j), "name"))) {
                api_pathf(p, "%s.schedulingGates[%zu]", base, i);
                api_duplicate(d, p, name);
                break;
            }
    }
}

/* ---- the spec ---- */

static void check_pod_fields(struct api_diag *d, const json_t *spec, const char *base)
{
    char p[API_PATH_MAX];
    long long v;
    const char *dns = api_str(spec, "dnsPolicy");
    api_check_enum(d, spec, "restartPolicy", base, restart_policies);
    api_check_enum(d, spec, "dnsPolicy", base, dns_policies);
    api_pathf(p, "%s.dnsConfig", base);
    if (dns && strcmp(dns, "None") == 0 && !api_obj(spec, "dnsConfig"))
        api_required(d, p, "must provide `dnsConfig` when `dnsPolicy` is None");
    api_check_min(d, spec, "terminationGracePeriodSeconds", base, 0);
    api_pathf(p, "%s.activeDeadlineSeconds", base);
    if (api_int(spec, "activeDeadlineSeconds", &v) && (v < 1 || v > 2147483647LL))
        api_invalid_int(d, p, v, "must be between 1 and 2147483647, inclusive");
    api_pathf(p, "%s.nodeSelector", base);
    api_check_labels(d, api_obj(spec, "nodeSelector"), p);
    api_check_name(d, spec, "hostname", base, orc_dns1123_label);
    api_check_name(d, spec, "subdomain", base, orc_dns1123_label);
    api_check_name(d, spec, "nodeName", base, orc_dns1123_subdomain);
    api_check_name(d, spec, "serviceAccountName", base, orc_dns1123_subdomain);
    api_check_name(d, spec, "priorityClassName", base, orc_dns1123_subdomain);
    api_pathf(p, "%s.tolerations", base);
    check_tolerations(d, api_arr(spec, "tolerations"), p);
    check_scheduling_gates(d, api_arr(spec, "schedulingGates"), base);
    const json_t *na = api_obj(api_obj(spec, "affinity"), "nodeAffinity");
    api_pathf(p, "%s.affinity.nodeAffinity", base);
    if (na) check_node_affinity(d, na, p);
}

void api_rules_podspec(struct api_diag *d, const json_t *spec, const char *base,
                       const json_t *claims)
{
    json_t *names;
    char p[API_PATH_MAX];

    if (!json_is_object(spec)) {
        api_pathf(p, "%s.containers", base);
        api_required(d, p, NULL);
        return;
    }
    names = check_volumes(d, spec, base, claims);
    api_rules_containers(d, spec, base, names);
    check_pod_fields(d, spec, base);
    json_decref(names);
}

void api_rules_pod_template(struct api_diag *d, const json_t *tmpl, const char *base,
                            const char *const *restart, const json_t *claims)
{
    char p[API_PATH_MAX];
    const json_t *meta = api_obj(tmpl, "metadata"), *spec = api_obj(tmpl, "spec");
    api_pathf(p, "%s.metadata.labels", base);
    api_check_labels(d, api_obj(meta, "labels"), p);
    api_pathf(p, "%s.metadata.annotations", base);
    api_check_annotations(d, api_obj(meta, "annotations"), p);
    api_pathf(p, "%s.spec", base);
    api_rules_podspec(d, spec, p, claims);
    if (!restart || !spec) return;
    const json_t *rp = json_object_get(spec, "restartPolicy");
    json_t *dflt = rp ? NULL : json_string("Always"); /* what defaulting would set */
    const char *v = json_string_value(rp ? rp : dflt);
    bool ok = false;
    for (size_t i = 0; v && restart[i]; i++) ok = ok || strcmp(v, restart[i]) == 0;
    api_pathf(p, "%s.spec.restartPolicy", base);
    if (v && !ok) api_unsupported(d, p, rp ? rp : dflt, restart);
    json_decref(dflt);
}

/* ---- Pod ---- */

/* Copies what an update may change from `old` into `mut` (a copy of the new
 * spec), so that any remaining difference is a forbidden change. */
static void copy_images(json_t *mut, const json_t *old, const char *list)
{
    json_t *now = json_object_get(mut, list);
    const json_t *was = api_arr(old, list);
    if (!json_is_array(now) || !was || json_array_size(now) != json_array_size(was)) return;
    for (size_t i = 0; i < json_array_size(now); i++) {
        json_t *c = json_array_get(now, i);
        const json_t *img = json_object_get(json_array_get(was, i), "image");
        if (json_is_object(c) && img) json_object_set_new(c, "image", json_deep_copy(img));
    }
}

static bool contains_all(const json_t *now, const json_t *was)
{
    for (size_t i = 0; was && i < json_array_size(was); i++) {
        bool found = false;
        for (size_t j = 0; now && j < json_array_size(now) && !found; j++)
            found = json_equal(json_array_get(was, i), json_array_get(now, j));
        if (!found) return false;
    }
    return true;
}

static void check_deadline_update(struct api_diag *d, json_t *mut, const json_t *old)
{
    long long now, was;
    bool has_now = api_int(mut, "activeDeadlineSeconds", &now);
    bool has_was = api_int(old, "activeDeadlineSeconds", &was);
    if (has_was && !has_now)
        api_invalid_str(d, "spec.activeDeadlineSeconds", "",
                        "must not update from a positive integer to nil value");
    else if (has_was && now > was)
        api_invalid_int(d, "spec.activeDeadlineSeconds", now,
                        "must be less than or equal to previous value");
    json_object_del(mut, "activeDeadlineSeconds");
    if (json_object_get(old, "activeDeadlineSeconds"))
        json_object_set_new(mut, "activeDeadlineSeconds",
                            json_deep_copy(json_object_get(old, "activeDeadlineSeconds")));
}

static bool has_gate(const json_t *gates, const json_t *name)
{
    for (size_t i = 0; gates && i < json_array_size(gates); i++)
        if (json_equal((json_t *)name, json_object_get(json_array_get(gates, i), "name"))) return true;
    return false;
}

/* Gates may only be removed after creation (Kubernetes'
 * validateOnlyDeletedSchedulingGates); what is left is compared as before. */
static void check_gates_update(struct api_diag *d, json_t *mut, const json_t *old)
{
    const json_t *now = api_arr(mut, "schedulingGates"), *was = api_arr(old, "schedulingGates");
    char p[API_PATH_MAX], msg[MSG_MAX];
    for (size_t i = 0; now && i < json_array_size(now); i++) {
        const json_t *name = json_object_get(json_array_get(now, i), "name");
        if (!json_is_string(name) || has_gate(was, name)) continue;
        api_pathf(p, "spec.schedulingGates[%zu].name", i);
        snprintf(msg, sizeof msg, "only deletion is allowed, but found new scheduling gate '%s'",
                 json_string_value(name));
        api_forbidden(d, p, msg);
    }
    json_object_del(mut, "schedulingGates");
    if (json_object_get(old, "schedulingGates"))
        json_object_set_new(mut, "schedulingGates",
                            json_deep_copy(json_object_get(old, "schedulingGates")));
}

static void check_pod_update(struct api_diag *d, const json_t *spec, const json_t *old)
{
    json_t *mut = json_deep_copy(spec);
    if (!mut) {
        api_forbidden(d, "spec", "could not compare with the stored pod (out of memory)");
        return;
    }
    copy_images(mut, old, "containers");
    copy_images(mut, old, "initContainers");
    check_deadline_update(d, mut, old);
    check_gates_update(d, mut, old);
    if (contains_all(api_arr(mut, "tolerations"), api_arr(old, "tolerations"))) {
        json_object_del(mut, "tolerations");
        if (json_object_get(old, "tolerations"))
            json_object_set_new(mut, "tolerations",
                                json_deep_copy(json_object_get(old, "tolerations")));
    }
    if (!json_equal(mut, (json_t *)old))
        api_forbidden(d, "spec", "pod updates may not change fields other than "
                                 "`spec.containers[*].image`, `spec.initContainers[*].image`, "
                                 "`spec.activeDeadlineSeconds`, `spec.tolerations` (only "
                                 "additions to existing tolerations)");
    json_decref(mut);
}

void api_rules_pod(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec");
    api_rules_podspec(d, spec, "spec", NULL);
    if (old && spec && api_obj(old, "spec")) check_pod_update(d, spec, api_obj(old, "spec"));
    /* A bound pod is past scheduling: gates would never be lifted. */
    if (!old && json_array_size(api_arr(spec, "schedulingGates")) > 0 && api_str(spec, "nodeName")
        && api_str(spec, "nodeName")[0])
        api_forbidden(d, "spec.nodeName", "cannot be set until all schedulingGates have been cleared");
}
