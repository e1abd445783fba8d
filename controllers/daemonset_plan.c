/* daemonset_plan.c — the DaemonSet controller's decisions (Kubernetes'
 * daemon controller: manage, rollingUpdate, updateDaemonSetStatus) as pure
 * functions of the cached objects and the time. */
#include "controllers/daemonset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/nodematch.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/orc.h"

/* ---- the pod for a node ---- */

void ds_template_hash(const json_t *ds, char out[DS_HASH_LEN])
{
    char *text = json_dumps(orc_json_get(ds, "spec.template"), JSON_COMPACT | JSON_SORT_KEYS);
    uint64_t h = orc_fnv1a(ORC_FNV_OFFSET, text ? text : "", text ? strlen(text) : 0);
    int64_t collisions = 0;

    free(text);
    /* Kubernetes' ComputeHash: the collision count, when set, is hashed
     * after the template (little-endian), so a bump gives a new name. */
    if (orc_json_int(ds, "status.collisionCount", &collisions) == 0 && collisions > 0) {
        unsigned char le[4];
        for (int i = 0; i < 4; i++) le[i] = (unsigned char)((uint64_t)collisions >> (8 * i));
        h = orc_fnv1a(h, le, sizeof le);
    }
    snprintf(out, DS_HASH_LEN, "%08x", (unsigned)(h ^ (h >> 32)));
}

static const struct {
    const char *key, *effect;
    bool host_network_only;
} ds_tolerations[] = {
    {CTL_TAINT_NOT_READY, "NoExecute", false},
    {CTL_TAINT_UNREACHABLE, "NoExecute", false},
    {CTL_TAINT_DISK_PRESSURE, "NoSchedule", false},
    {CTL_TAINT_MEMORY_PRESSURE, "NoSchedule", false},
    {CTL_TAINT_PID_PRESSURE, "NoSchedule", false},
    {CTL_TAINT_UNSCHEDULABLE, "NoSchedule", false},
    {CTL_TAINT_NETWORK_UNAVAILABLE, "NoSchedule", true},
};

static int put_toleration(json_t *list, const char *key, const char *effect)
{
    size_t i;
    json_t *t, *tol = json_pack("{s:s, s:s, s:s}", "key", key, "operator", "Exists", "effect", effect);

    if (!tol) return ORC_ENOMEM;
    json_array_foreach(list, i, t) {
        const char *k = json_string_value(json_object_get(t, "key"));
        const char *e = json_string_value(json_object_get(t, "effect"));
        if (k && e && strcmp(k, key) == 0 && strcmp(e, effect) == 0)
            return json_array_set_new(list, i, tol) == 0 ? 0 : ORC_ENOMEM;
    }
    return json_array_append_new(list, tol) == 0 ? 0 : ORC_ENOMEM;
}

int ds_add_tolerations(json_t *spec)
{
    json_t *list = json_object_get(spec, "tolerations");
    bool host_net = json_is_true(json_object_get(spec, "hostNetwork"));

    if (!json_is_array(list)) {
        list = json_array();
        if (!list || json_object_set_new(spec, "tolerations", list) != 0) return ORC_ENOMEM;
    }
    for (size_t i = 0; i < sizeof ds_tolerations / sizeof ds_tolerations[0]; i++) {
        if (ds_tolerations[i].host_network_only && !host_net) continue;
        if (put_toleration(list, ds_tolerations[i].key, ds_tolerations[i].effect) != 0)
            return ORC_ENOMEM;
    }
    return 0;
}

/* Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity: the node was found
 * to fit already, so one term naming it replaces the required terms. */
static int pin_to_node(json_t *spec, const char *node)
{
    json_t *term = json_pack("{s:[{s:s, s:s, s:[s]}]}", "matchFields", "key", "metadata.name",
                             "operator", "In", "values", node);

    if (!term) return ORC_ENOMEM;
    return orc_json_set(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                        json_pack("{s:[o]}", "nodeSelectorTerms", term));
}

json_t *ds_owner_ref(const json_t *ds)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", "apps/v1", "kind", "DaemonSet",
                     "name", orc_json_str(ds, "metadata.name") ?: "", "uid",
                     orc_json_str(ds, "metadata.uid") ?: "", "controller", 1, "blockOwnerDeletion", 1);
}

static int pod_metadata(json_t *pod, const json_t *ds, const char *hash)
{
    const json_t *tmeta = orc_json_get(ds, "spec.template.metadata");
    json_t *labels = json_deep_copy(json_object_get(tmeta, "labels"));
    json_t *ann = json_object_get(tmeta, "annotations");
    char gen[300];

    if (!labels) labels = json_object();
    snprintf(gen, sizeof gen, "%s-", orc_json_str(ds, "metadata.name") ?: "ds");
    if (!labels || json_object_set_new(labels, DS_HASH_LABEL, json_string(hash)) != 0
        || orc_json_set(pod, "metadata.labels", labels) != 0)
        return ORC_ENOMEM;
    if (json_is_object(ann) && orc_json_set(pod, "metadata.annotations", json_deep_copy(ann)) != 0)
        return ORC_ENOMEM;
    if (orc_json_set(pod, "metadata.generateName", json_string(gen)) != 0
        || orc_json_set(pod, "metadata.namespace",
                        json_string(orc_json_str(ds, "metadata.namespace") ?: "default")) != 0
        || orc_json_set(pod, "metadata.ownerReferences", json_pack("[o]", ds_owner_ref(ds))) != 0)
        return ORC_ENOMEM;
    return 0;
}

json_t *ds_new_pod(const json_t *ds, const char *node, const char *hash, bool bind)
{
    json_t *spec = json_deep_copy(orc_json_get(ds, "spec.template.spec"));
    json_t *pod = json_pack("{s:s, s:s, s:{}}", "apiVersion", "v1", "kind", "Pod", "metadata");

    if (!spec) spec = json_object();
    if (!pod || !spec || json_object_set(pod, "spec", spec) != 0 || ds_add_tolerations(spec) != 0
        || pin_to_node(spec, node) != 0 || pod_metadata(pod, ds, hash) != 0
        || (bind && json_object_set_new(spec, "nodeName", json_string(node)) != 0)) {
        json_decref(spec);
        json_decref(pod);
        return NULL;
    }
    json_decref(spec);
    return pod;
}

const char *ds_pod_node(const json_t *pod)
{
    const char *n = orc_json_str(pod, "spec.nodeName");
    const json_t *terms = orc_json_get(
        pod, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
    size_t i, j;
    json_t *t, *f;

    if (n && *n) return n;
    json_array_foreach(terms, i, t) {
        json_array_foreach(json_object_get(t, "matchFields"), j, f) {
            const char *key = json_string_value(json_object_get(f, "key"));
            const json_t *vals = json_object_get(f, "values");
            if (key && strcmp(key, "metadata.name") == 0 && json_array_size(vals) == 1)
                return json_string_value(json_array_get(vals, 0));
        }
    }
    return NULL;
}

void ds_node_fit(const json_t *ds, const json_t *node, bool *should_run, bool *should_continue)
{
    json_t *spec = json_deep_copy(orc_json_get(ds, "spec.template.spec"));
    const char *want = json_string_value(json_object_get(spec, "nodeName"));
    const char *name = orc_json_str(node, "metadata.name");
    const json_t *taints = orc_json_get(node, "spec.taints"), *tols;

    *should_run = *should_continue = false;
    if (!spec || ds_add_tolerations(spec) != 0) goto out; /* ENOMEM: decide next time */
    if (want && *want && (!name || strcmp(want, name) != 0)) goto out;
    if (!ctl_node_affinity_matches(spec, node)) goto out;
    tols = json_object_get(spec, "tolerations");
    *should_continue = !ctl_untolerated_taint(taints, tols, "NoExecute");
    *should_run = *should_continue && !ctl_untolerated_taint(taints, tols, NULL);
out:
    json_decref(spec);
}

/* ---- readiness ---- */

static const json_t *ready_condition(const json_t *pod)
{
    size_t i;
    json_t *c;

    json_array_foreach(orc_json_get(pod, "status.conditions"), i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && strcmp(type, "Ready") == 0) return c;
    }
    return NULL;
}

bool ds_pod_ready(const json_t *pod)
{
    const char *s = json_string_value(json_object_get(ready_condition(pod), "status"));
    return s && strcmp(s, "True") == 0;
}

bool ds_pod_available(const json_t *pod, int64_t min_ready_ms, int64_t now_ms, int64_t *wait_ms)
{
    int64_t since = now_ms;

    if (!ds_pod_ready(pod)) return false;
    if (min_ready_ms <= 0) return true;
    ctl_time_ms(json_string_value(json_object_get(ready_condition(pod), "lastTransitionTime")), &since);
    if (since + min_ready_ms <= now_ms) return true;
    if (wait_ms) *wait_ms = since + min_ready_ms - now_ms;
    return false;
}
