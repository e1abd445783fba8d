/* statefulset_pod.c — a StatefulSet's pods and claims: their names, the pods'
 * health as the controller judges it, and the objects it creates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/statefulset.h"
#include "lib/json.h"
#include "lib/timeutil.h"

int sts_ordinal(const char *set, const char *pod_name)
{
    size_t len = strlen(set);
    const char *p;
    char *end;
    long v;

    if (strncmp(pod_name, set, len) != 0 || pod_name[len] != '-') return -1;
    p = pod_name + len + 1;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '\0')) return -1;
    errno = 0;
    v = strtol(p, &end, 10);
    if (errno != 0 || *end != '\0' || v > 1000000000L) return -1;
    return (int)v;
}

bool sts_pod_terminating(const json_t *pod)
{
    return orc_json_get(pod, "metadata.deletionTimestamp") != NULL;
}

bool sts_pod_finished(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    return phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0);
}

static const json_t *ready_condition(const json_t *pod)
{
    size_t i;
    json_t *c;

    json_array_foreach (orc_json_get(pod, "status.conditions"), i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type && strcmp(type, "Ready") == 0) return c;
    }
    return NULL;
}

bool sts_pod_ready(const json_t *pod)
{
    const char *phase = orc_json_str(pod, "status.phase");
    const json_t *c = ready_condition(pod);
    const char *st = c ? json_string_value(json_object_get(c, "status")) : NULL;

    return phase && strcmp(phase, "Running") == 0 && st && strcmp(st, "True") == 0;
}

bool sts_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now_ms, int64_t *wait_ms)
{
    const char *since;
    int64_t t;

    if (wait_ms) *wait_ms = 0;
    if (!sts_pod_ready(pod)) return false;
    if (min_ready_s <= 0) return true;
    since = json_string_value(json_object_get(ready_condition(pod), "lastTransitionTime"));
    if (since == NULL || orc_time_parse(since, &t) != 0) return true;
    t = (t + min_ready_s) * 1000;
    if (t <= now_ms) return true;
    if (wait_ms) *wait_ms = t - now_ms;
    return false;
}

const char *sts_pod_revision(const json_t *pod)
{
    const char *r = json_string_value(orc_json_get(orc_json_get(pod, "metadata.labels"),
                                                   STS_LABEL_REVISION));
    return r ? r : "";
}

void sts_claim_name(const char *tmpl, const char *set, int ordinal, char *out)
{
    snprintf(out, STS_NAME_MAX, "%s-%s-%d", tmpl, set, ordinal);
}

/* The ownerReference pointing at the set. */
static json_t *owner_ref(const json_t *set, bool controller)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", "apps/v1", "kind",
                     "StatefulSet", "name", orc_json_str(set, "metadata.name"), "uid",
                     orc_json_str(set, "metadata.uid") ? orc_json_str(set, "metadata.uid") : "",
                     "controller", controller, "blockOwnerDeletion", true);
}

/* Copies every key of `from` (an object, or NULL) into `to`. */
static int merge_into(json_t *to, const json_t *from)
{
    return json_is_object(from) ? json_object_update(to, (json_t *)from) : 0;
}

static bool deleted_with_set(const json_t *set)
{
    const char *w = orc_json_str(set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted");
    return w && strcmp(w, "Delete") == 0;
}

json_t *sts_claim_new(const json_t *set, const json_t *vct, int ordinal)
{
    const char *set_name = orc_json_str(set, "metadata.name");
    const char *tname = orc_json_str(vct, "metadata.name");
    char name[STS_NAME_MAX];
    json_t *claim, *labels, *spec;

    if (set_name == NULL || tname == NULL) return NULL;
    sts_claim_name(tname, set_name, ordinal, name);
    spec = json_deep_copy(json_object_get(vct, "spec"));
    labels = json_object();
    claim = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                      "PersistentVolumeClaim", "metadata", "name", name, "namespace",
                      orc_json_str(set, "metadata.namespace"));
    if (claim == NULL || labels == NULL
        || merge_into(labels, orc_json_get(vct, "metadata.labels")) != 0
        || merge_into(labels, orc_json_get(set, "spec.selector.matchLabels")) != 0
        || orc_json_set(claim, "metadata.labels", labels) != 0
        || orc_json_set(claim, "spec", spec ? spec : json_object()) != 0)
        goto err;
    labels = spec = NULL;
    if (json_is_object(orc_json_get(vct, "metadata.annotations"))
        && orc_json_set(claim, "metadata.annotations",
                        json_deep_copy(orc_json_get(vct, "metadata.annotations")))
               != 0)
        goto err;
    if (deleted_with_set(set)
        && orc_json_set(claim, "metadata.ownerReferences", json_pack("[o]", owner_ref(set, false)))
               != 0)
        goto err;
    return claim;
err:
    json_decref(labels);
    json_decref(spec);
    json_decref(claim);
    return NULL;
}

static int pod_labels(json_t *pod, const char *name, int ordinal, const char *revision)
{
    json_t *labels = orc_json_get(pod, "metadata.labels");
    char idx[16];

    if (!json_is_object(labels)) {
        if (orc_json_set(pod, "metadata.labels", json_object()) != 0) return -1;
        labels = orc_json_get(pod, "metadata.labels");
    }
    snprintf(idx, sizeof idx, "%d", ordinal);
    if (json_object_set_new(labels, STS_LABEL_POD_NAME, json_string(name)) != 0
        || json_object_set_new(labels, STS_LABEL_POD_INDEX, json_string(idx)) != 0
        || json_object_set_new(labels, STS_LABEL_REVISION, json_string(revision)) != 0)
        return -1;
    return 0;
}

/* A persistentVolumeClaim volume per claim template, replacing a volume of
 * the same name in the template, as Kubernetes does. */
static int pod_claims(json_t *pod, const json_t *set, int ordinal)
{
    const char *set_name = orc_json_str(set, "metadata.name");
    json_t *vols = orc_json_get(pod, "spec.volumes"), *vct;
    size_t i;

    json_array_foreach (orc_json_get(set, "spec.volumeClaimTemplates"), i, vct) {
        const char *tname = orc_json_str(vct, "metadata.name");
        char claim[STS_NAME_MAX];
        size_t j;
        json_t *v;

        if (tname == NULL) continue;
        if (!json_is_array(vols)) {
            if (orc_json_set(pod, "spec.volumes", json_array()) != 0) return -1;
            vols = orc_json_get(pod, "spec.volumes");
        }
        sts_claim_name(tname, set_name, ordinal, claim);
        json_array_foreach (vols, j, v) {
            const char *n = json_string_value(json_object_get(v, "name"));
            if (n && strcmp(n, tname) == 0) break;
        }
        v = json_pack("{s:s, s:{s:s}}", "name", tname, "persistentVolumeClaim", "claimName", claim);
        if (v == NULL) return -1;
        if ((j < json_array_size(vols) ? json_array_set_new(vols, j, v)
                                       : json_array_append_new(vols, v))
            != 0)
            return -1;
    }
    return 0;
}

json_t *sts_pod_new(const json_t *set, const json_t *tmpl, const char *revision, int ordinal)
{
    const char *set_name = orc_json_str(set, "metadata.name");
    const char *svc = orc_json_str(set, "spec.serviceName");
    char name[STS_NAME_MAX];
    json_t *pod, *spec;

    if (set_name == NULL) return NULL;
    snprintf(name, sizeof name, "%s-%d", set_name, ordinal);
    pod = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Pod", "metadata",
                    "name", name, "namespace", orc_json_str(set, "metadata.namespace"));
    if (pod == NULL) return NULL;
    spec = json_object_get(tmpl, "spec");
    if (orc_json_set(pod, "spec", json_is_object(spec) ? json_deep_copy(spec) : json_object()) != 0
        || !json_is_object(orc_json_get(pod, "spec")))
        goto err;
    if (json_is_object(orc_json_get(tmpl, "metadata.labels"))
        && orc_json_set(pod, "metadata.labels", json_deep_copy(orc_json_get(tmpl, "metadata.labels"))) != 0)
        goto err;
    if (json_is_object(orc_json_get(tmpl, "metadata.annotations"))
        && orc_json_set(pod, "metadata.annotations",
                        json_deep_copy(orc_json_get(tmpl, "metadata.annotations")))
               != 0)
        goto err;
    if (pod_labels(pod, name, ordinal, revision) != 0
        || orc_json_set(pod, "metadata.ownerReferences", json_pack("[o]", owner_ref(set, true))) != 0
        || orc_json_set(pod, "spec.hostname", json_string(name)) != 0
        || (svc && *svc && orc_json_set(pod, "spec.subdomain", json_string(svc)) != 0)
        || pod_claims(pod, set, ordinal) != 0)
        goto err;
    return pod;
err:
    json_decref(pod);
    return NULL;
}
