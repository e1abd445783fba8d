/* job_pod.c — the pod a Job creates from its template (see job.h). */
#include "controllers/job.h"

#include <stdio.h>
#include <string.h>

#include "lib/json.h"

static int set_str(json_t *o, const char *key, const char *v)
{
    return json_object_set_new(o, key, json_string(v)) == 0 ? 0 : -1;
}

/* An object at key in o, created when absent. NULL on ENOMEM. */
static json_t *object_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_object(v)) return v;
    v = json_object();
    return v && json_object_set_new(o, key, v) == 0 ? v : NULL;
}

static int add_job_labels(json_t *labels, const char *name, const char *uid)
{
    static const char *const name_keys[] = {"batch.kubernetes.io/job-name", "job-name"};
    static const char *const uid_keys[] = {"batch.kubernetes.io/controller-uid", "controller-uid"};
    int rv = 0;
    for (size_t i = 0; i < 2 && rv == 0; i++) {
        if (!json_object_get(labels, name_keys[i])) rv = set_str(labels, name_keys[i], name);
        if (rv == 0 && !json_object_get(labels, uid_keys[i])) rv = set_str(labels, uid_keys[i], uid);
    }
    return rv;
}

/* JOB_COMPLETION_INDEX through the downward API, in every container that
 * does not set it itself. */
static int add_index_env(json_t *spec)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i, j;
        json_t *c, *e;
        json_array_foreach (json_object_get(spec, lists[l]), i, c) {
            json_t *env = json_object_get(c, "env");
            bool has = false;
            json_array_foreach (env, j, e)
                has = has || strcmp(orc_json_str(e, "name") ?: "", "JOB_COMPLETION_INDEX") == 0;
            if (has) continue;
            if (!json_is_array(env)) {
                env = json_array();
                if (!env || json_object_set_new(c, "env", env) != 0) return -1;
            }
            e = json_pack("{s:s, s:{s:{s:s}}}", "name", "JOB_COMPLETION_INDEX", "valueFrom",
                          "fieldRef", "fieldPath",
                          "metadata.annotations['" JOB_INDEX_KEY "']");
            if (!e || json_array_append_new(env, e) != 0) return -1;
        }
    }
    return 0;
}

static int make_indexed(json_t *pod, const char *name, long index)
{
    char idx[24], host[320];
    json_t *spec = json_object_get(pod, "spec");
    snprintf(idx, sizeof idx, "%ld", index);
    if (set_str(object_at(json_object_get(pod, "metadata"), "annotations"), JOB_INDEX_KEY, idx)
        || set_str(object_at(json_object_get(pod, "metadata"), "labels"), JOB_INDEX_KEY, idx))
        return -1;
    if (!orc_json_str(spec, "hostname")) {
        snprintf(host, sizeof host, "%s-%ld", name, index);
        if (set_str(spec, "hostname", host)) return -1;
    }
    return add_index_env(spec);
}

json_t *job_pod_new(const json_t *job, long index)
{
    const char *name = orc_json_str(job, "metadata.name") ?: "";
    const char *uid = orc_json_str(job, "metadata.uid") ?: "";
    const json_t *tmpl = orc_json_get(job, "spec.template");
    char gen[320];
    json_t *pod, *meta, *labels, *ann;

    if (index >= 0) snprintf(gen, sizeof gen, "%s-%ld-", name, index);
    else snprintf(gen, sizeof gen, "%s-", name);
    labels = json_deep_copy(orc_json_get(tmpl, "metadata.labels"));
    ann = json_deep_copy(orc_json_get(tmpl, "metadata.annotations"));
    pod = json_pack("{s:s, s:s, s:{s:s, s:s, s:o*, s:o*, s:[s], s:[{s:s, s:s, s:s, s:s, s:b, s:b}]},"
                    " s:o}",
                    "apiVersion", "v1", "kind", "Pod", "metadata", "generateName", gen, "namespace",
                    orc_json_str(job, "metadata.namespace") ?: "default", "labels", labels,
                    "annotations", ann, "finalizers", JOB_TRACKING_FINALIZER, "ownerReferences",
                    "apiVersion", "batch/v1", "kind", "Job", "name", name, "uid", uid,
                    "controller", 1, "blockOwnerDeletion", 1, "spec",
                    json_deep_copy(orc_json_get(tmpl, "spec")));
    if (!pod) return NULL;
    meta = json_object_get(pod, "metadata");
    if (!json_is_object(json_object_get(pod, "spec")) || !(labels = object_at(meta, "labels"))
        || add_job_labels(labels, name, uid) != 0 || (index >= 0 && make_indexed(pod, name, index))) {
        json_decref(pod);
        return NULL;
    }
    return pod;
}
