/* deployment_util.c — a Deployment's template hash, revisions, surge and
 * unavailability limits, its new ReplicaSets, and kubectl's rollout status
 * text (see deployment.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_util.h"
#include "controllers/deployment.h"
#include "lib/hash.h"
#include "lib/json.h"
#include "lib/orc.h"

/* Kubernetes' rand.SafeEncodeString alphabet: no vowels, no look-alikes. */
static const char safe_alnum[] = "bcdfghjklmnpqrstvwxz2456789";

void dep_template_hash(const json_t *tmpl, int64_t collision_count, char out[DEP_HASH_LEN])
{
    json_t *sorted = orc_json_sorted_copy(tmpl);
    char *text = sorted ? json_dumps(sorted, JSON_COMPACT) : NULL;
    uint64_t h = ORC_FNV_OFFSET;
    char dec[16];

    if (text) h = orc_fnv1a(h, text, strlen(text));
    if (collision_count > 0) {
        unsigned char le[4];
        for (int i = 0; i < 4; i++) le[i] = (unsigned char)((uint64_t)collision_count >> (8 * i));
        h = orc_fnv1a(h, le, sizeof le);
    }
    snprintf(dec, sizeof dec, "%" PRIu32, (uint32_t)(h ^ (h >> 32)));
    size_t i = 0;
    for (; dec[i] && i < DEP_HASH_LEN - 1; i++)
        out[i] = safe_alnum[(unsigned char)dec[i] % (sizeof safe_alnum - 1)];
    out[i] = '\0';
    free(text);
    json_decref(sorted);
}

bool dep_templates_equal(const json_t *a, const json_t *b)
{
    json_t *ca = json_deep_copy(a), *cb = json_deep_copy(b);
    bool eq;

    orc_json_del(orc_json_get(ca, "metadata.labels"), DEP_HASH_LABEL);
    orc_json_del(orc_json_get(cb, "metadata.labels"), DEP_HASH_LABEL);
    eq = orc_json_semantic_equal(ca, cb); /* as Kubernetes' EqualIgnoreHash */
    json_decref(ca);
    json_decref(cb);
    return eq;
}

int64_t dep_replicas(const json_t *d)
{
    return ctl_int(d, "spec.replicas", 1);
}

bool dep_is_recreate(const json_t *d)
{
    const char *t = orc_json_str(d, "spec.strategy.type");
    return t && strcmp(t, "Recreate") == 0;
}

void dep_fenceposts(const json_t *d, int64_t *surge, int64_t *unavailable)
{
    const json_t *ru = orc_json_get(d, "spec.strategy.rollingUpdate");
    int64_t want = dep_replicas(d);
    json_t *dflt = json_string("25%");

    *surge = *unavailable = 0;
    if (dep_is_recreate(d)) {
        json_decref(dflt);
        return;
    }
    const json_t *ms = json_object_get(ru, "maxSurge"), *mu = json_object_get(ru, "maxUnavailable");
    if (ctl_intstr_scaled(ms ? ms : dflt, want, true, surge) != 0) *surge = 0;
    if (ctl_intstr_scaled(mu ? mu : dflt, want, false, unavailable) != 0) *unavailable = 0;
    if (*surge == 0 && *unavailable == 0) *unavailable = 1;
    json_decref(dflt);
}

int64_t dep_max_unavailable(const json_t *d)
{
    int64_t surge, unavail, want = dep_replicas(d);
    if (dep_is_recreate(d) || want == 0) return 0;
    dep_fenceposts(d, &surge, &unavail);
    return unavail > want ? want : unavail;
}

int64_t dep_revision_of(const json_t *obj)
{
    const json_t *ann = orc_json_get(obj, "metadata.annotations");
    const char *s = json_string_value(json_object_get(ann, DEP_REVISION));
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    return s && *s && *end == '\0' && v > 0 ? v : 0;
}

bool dep_annotation_skipped(const char *k)
{
    static const char *const skip[] = {"kubectl.kubernetes.io/last-applied-configuration",
                                       DEP_REVISION,
                                       DEP_REVISION_HISTORY,
                                       DEP_DESIRED,
                                       DEP_MAX,
                                       "deprecated.deployment.rollback.to"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(skip); i++)
        if (strcmp(k, skip[i]) == 0) return true;
    return false;
}

static json_t *rs_annotations(const json_t *d, int64_t revision, int64_t replicas_max)
{
    json_t *out = json_object(), *v;
    const char *k;
    char buf[32];

    if (!out) return NULL;
    json_object_foreach (orc_json_get(d, "metadata.annotations"), k, v)
        if (!dep_annotation_skipped(k)) json_object_set(out, k, v);
    snprintf(buf, sizeof buf, "%" PRId64, revision);
    json_object_set_new(out, DEP_REVISION, json_string(buf));
    snprintf(buf, sizeof buf, "%" PRId64, dep_replicas(d));
    json_object_set_new(out, DEP_DESIRED, json_string(buf));
    snprintf(buf, sizeof buf, "%" PRId64, replicas_max);
    json_object_set_new(out, DEP_MAX, json_string(buf));
    return out;
}

json_t *dep_new_rs(const json_t *d, int64_t collision_count, int64_t revision, int64_t replicas)
{
    const char *name = orc_json_str(d, "metadata.name");
    const char *ns = orc_json_str(d, "metadata.namespace");
    json_t *tmpl = json_deep_copy(orc_json_get(d, "spec.template"));
    json_t *sel = json_deep_copy(orc_json_get(d, "spec.selector"));
    json_t *ref = ctl_owner_ref(d, "apps/v1", "Deployment"), *rs = NULL;
    char hash[DEP_HASH_LEN], rsname[300];
    int64_t surge, unavail;

    if (!name || !tmpl || !sel || !ref) goto out;
    dep_template_hash(orc_json_get(d, "spec.template"), collision_count, hash);
    dep_fenceposts(d, &surge, &unavail);
    snprintf(rsname, sizeof rsname, "%.200s-%s", name, hash);
    if (orc_json_set(tmpl, "metadata.labels." DEP_HASH_LABEL, json_string(hash)) != 0 ||
        orc_json_set(sel, "matchLabels." DEP_HASH_LABEL, json_string(hash)) != 0)
        goto out;
    rs = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:O,s:[O],s:o},s:{s:I,s:I,s:O,s:O}}", "apiVersion", "apps/v1", "kind",
        "ReplicaSet", "metadata", "name", rsname, "namespace", ns ? ns : "default", "labels",
        orc_json_get(tmpl, "metadata.labels"), "ownerReferences", ref, "annotations",
        rs_annotations(d, revision, dep_replicas(d) + surge), "spec", "replicas",
        (json_int_t)replicas, "minReadySeconds", (json_int_t)ctl_int(d, "spec.minReadySeconds", 0),
        "selector", sel, "template", tmpl);
out:
    json_decref(tmpl);
    json_decref(sel);
    json_decref(ref);
    return rs;
}

int dep_rollout_status(const json_t *d, char *msg, size_t n)
{
    const char *name = orc_json_str(d, "metadata.name");
    int64_t gen = ctl_int(d, "metadata.generation", 0);
    int64_t observed = ctl_int(d, "status.observedGeneration", 0);
    int64_t want = dep_replicas(d), updated = ctl_int(d, "status.updatedReplicas", 0);
    int64_t total = ctl_int(d, "status.replicas", 0);
    int64_t avail = ctl_int(d, "status.availableReplicas", 0);
    const json_t *cond = ctl_cond_get(json_object_get(d, "status"), "Progressing");
    const char *reason = cond ? orc_json_str(cond, "reason") : NULL;

    if (!name) name = "";
    if (gen > observed) {
        snprintf(msg, n, "Waiting for deployment spec update to be observed...\n");
        return 0;
    }
    if (reason && strcmp(reason, "ProgressDeadlineExceeded") == 0) {
        snprintf(msg, n, "deployment \"%s\" exceeded its progress deadline", name);
        return ORC_ETIMEDOUT;
    }
    if (updated < want)
        snprintf(msg, n,
                 "Waiting for deployment \"%s\" rollout to finish: %" PRId64 " out of %" PRId64
                 " new replicas have been updated...\n",
                 name, updated, want);
    else if (total > updated)
        snprintf(msg, n,
                 "Waiting for deployment \"%s\" rollout to finish: %" PRId64
                 " old replicas are pending termination...\n",
                 name, total - updated);
    else if (avail < updated)
        snprintf(msg, n,
                 "Waiting for deployment \"%s\" rollout to finish: %" PRId64 " of %" PRId64
                 " updated replicas are available...\n",
                 name, avail, updated);
    else {
        snprintf(msg, n, "deployment \"%s\" successfully rolled out\n", name);
        return 1;
    }
    return 0;
}
