/* defaults.c — Kubernetes' defaults for each kind, filled in before
 * validation so stored objects read like a real cluster's. */
#include "apiserver/kind.h"
#include "apiserver/schema.h"

#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

/* ---- helpers: set a default only where Kubernetes would ---- */

static bool unset(const json_t *v)
{
    return !v || json_is_null(v);
}

static void default_json(json_t *o, const char *key, json_t *v)
{
    if (json_is_object(o) && unset(json_object_get(o, key))) json_object_set_new(o, key, v);
    else json_decref(v);
}

/* Strings: Go cannot tell "" from absent, so "" gets the default too. */
static void default_str(json_t *o, const char *key, const char *v)
{
    const json_t *cur = json_object_get(o, key);
    if (json_is_object(o) && (unset(cur) || (json_is_string(cur) && !json_string_length(cur))))
        json_object_set_new(o, key, json_string(v));
}

static void default_int(json_t *o, const char *key, long long v)
{
    default_json(o, key, json_integer(v));
}

/* Non-pointer int32 fields in Kubernetes: 0 means unset. */
static void default_int_nonzero(json_t *o, const char *key, long long v)
{
    const json_t *cur = json_object_get(o, key);
    if (json_is_integer(cur) && json_integer_value(cur) == 0)
        json_object_set_new(o, key, json_integer(v));
    else
        default_int(o, key, v);
}

/* o[key] as an object, created when absent; NULL when it is something else. */
static json_t *child(json_t *o, const char *key)
{
    if (!json_is_object(o)) return NULL;
    json_t *c = json_object_get(o, key);
    if (unset(c)) {
        c = json_object();
        if (!c || json_object_set_new(o, key, c) != 0) return NULL;
    }
    return json_is_object(c) ? c : NULL;
}

static json_t *get_obj(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_object(v) ? v : NULL;
}

/* ---- pod spec ---- */

/* Always for ":latest" or no tag, IfNotPresent for other tags and digests. */
static const char *pull_policy_for(const char *image)
{
    const char *last = strrchr(image, '/');
    last = last ? last + 1 : image;
    if (strchr(last, '@')) return "IfNotPresent";
    const char *colon = strrchr(last, ':');
    if (!colon || strcmp(colon + 1, "latest") == 0) return "Always";
    return "IfNotPresent";
}

static void default_http_get(json_t *handler)
{
    json_t *hg = get_obj(handler, "httpGet");
    if (!hg) return;
    default_str(hg, "path", "/");
    default_str(hg, "scheme", "HTTP");
}

static void default_probe(json_t *probe)
{
    if (!probe) return;
    default_int_nonzero(probe, "timeoutSeconds", 1);
    default_int_nonzero(probe, "periodSeconds", 10);
    default_int_nonzero(probe, "successThreshold", 1);
    default_int_nonzero(probe, "failureThreshold", 3);
    default_http_get(probe);
}

static void default_env(json_t *env)
{
    for (size_t i = 0; i < json_array_size(env); i++) {
        json_t *fr = get_obj(get_obj(json_array_get(env, i), "valueFrom"), "fieldRef");
        if (fr) default_str(fr, "apiVersion", "v1");
    }
}

/* A Pod (not a template) with limits but no requests requests its limits. */
static void default_requests(json_t *c)
{
    json_t *res = get_obj(c, "resources"), *lim = get_obj(res, "limits");
    const char *name;
    json_t *v;
    if (!lim || json_object_size(lim) == 0) return;
    json_t *req = child(res, "requests");
    json_object_foreach(lim, name, v) {
        if (req && unset(json_object_get(req, name))) json_object_set_new(req, name, json_copy(v));
    }
}

static void default_container(json_t *c, bool is_pod)
{
    const char *image = json_string_value(json_object_get(c, "image"));
    if (!json_is_object(c)) return;
    if (image) default_str(c, "imagePullPolicy", pull_policy_for(image));
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    json_t *ports = json_object_get(c, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++)
        default_str(json_array_get(ports, i), "protocol", "TCP");
    default_probe(get_obj(c, "livenessProbe"));
    default_probe(get_obj(c, "readinessProbe"));
    default_probe(get_obj(c, "startupProbe"));
    json_t *lc = get_obj(c, "lifecycle");
    default_http_get(get_obj(lc, "postStart"));
    default_http_get(get_obj(lc, "preStop"));
    default_env(json_object_get(c, "env"));
    if (is_pod) default_requests(c);
}

static void default_volume(json_t *v)
{
    static const char *const with_mode[] = {"configMap", "secret", "downwardAPI", "projected"};
    for (size_t i = 0; i < sizeof with_mode / sizeof with_mode[0]; i++) {
        json_t *src = get_obj(v, with_mode[i]);
        if (src) default_int(src, "defaultMode", 0644); /* 420 */
    }
    json_t *hp = get_obj(v, "hostPath");
    if (hp) default_json(hp, "type", json_string(""));
}

static void default_podspec(json_t *spec, bool is_pod)
{
    static const char *const lists[] = {"initContainers", "containers"};
    if (!json_is_object(spec)) return;
    default_str(spec, "restartPolicy", "Always");
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "schedulerName", "default-scheduler");
    default_int(spec, "terminationGracePeriodSeconds", 30);
    default_json(spec, "securityContext", json_object());
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = json_object_get(spec, lists[l]);
        for (size_t i = 0; i < json_array_size(arr); i++)
            default_container(json_array_get(arr, i), is_pod);
    }
    json_t *vols = json_object_get(spec, "volumes");
    for (size_t i = 0; i < json_array_size(vols); i++) default_volume(json_array_get(vols, i));
}

static void default_template(json_t *spec)
{
    default_podspec(get_obj(get_obj(spec, "template"), "spec"), false);
}

/* ---- workloads ---- */

static void default_deployment(json_t *spec)
{
    default_int(spec, "replicas", 1);
    json_t *st = child(spec, "strategy");
    default_str(st, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(st, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0) {
        json_t *ru = child(st, "rollingUpdate");
        default_json(ru, "maxUnavailable", json_string("25%"));
        default_json(ru, "maxSurge", json_string("25%"));
    }
    default_int(spec, "revisionHistoryLimit", 10);
    default_int(spec, "progressDeadlineSeconds", 600);
    default_template(spec);
}

static void default_statefulset(json_t *spec)
{
    default_int(spec, "replicas", 1);
    default_str(spec, "podManagementPolicy", "OrderedReady");
    json_t *st = child(spec, "updateStrategy");
    default_str(st, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(st, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0)
        default_int(child(st, "rollingUpdate"), "partition", 0);
    default_int(spec, "revisionHistoryLimit", 10);
    json_t *ret = child(spec, "persistentVolumeClaimRetentionPolicy");
    default_str(ret, "whenDeleted", "Retain");
    default_str(ret, "whenScaled", "Retain");
    json_t *vcts = json_object_get(spec, "volumeClaimTemplates");
    for (size_t i = 0; i < json_array_size(vcts); i++)
        default_str(get_obj(json_array_get(vcts, i), "spec"), "volumeMode", "Filesystem");
    default_template(spec);
}

static void default_daemonset(json_t *spec)
{
    json_t *st = child(spec, "updateStrategy");
    default_str(st, "type", "RollingUpdate");
    const char *type = json_string_value(json_object_get(st, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0) {
        json_t *ru = child(st, "rollingUpdate");
        default_json(ru, "maxUnavailable", json_integer(1));
        default_json(ru, "maxSurge", json_integer(0));
    }
    default_int(spec, "revisionHistoryLimit", 10);
    default_template(spec);
}

static void default_job_spec(json_t *spec)
{
    if (!json_is_object(spec)) return;
    if (unset(json_object_get(spec, "completions")) && unset(json_object_get(spec, "parallelism")))
        default_int(spec, "completions", 1);
    default_int(spec, "parallelism", 1);
    default_int(spec, "backoffLimit", 6);
    default_str(spec, "completionMode", "NonIndexed");
    default_json(spec, "suspend", json_false());
    default_template(spec);
}

/* Kubernetes gives a Job a selector on its own uid, and labels its pods to
 * match, unless the user asked to manage the selector. */
static void generate_job_selector(json_t *obj, json_t *spec)
{
    json_t *meta = get_obj(obj, "metadata");
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!uid || !uid[0] || !name || json_is_true(json_object_get(spec, "manualSelector"))
        || !unset(json_object_get(spec, "selector")))
        return;
    json_t *labels = child(child(get_obj(spec, "template"), "metadata"), "labels");
    if (!labels) return;
    default_json(labels, "batch.kubernetes.io/controller-uid", json_string(uid));
    default_json(labels, "batch.kubernetes.io/job-name", json_string(name));
    default_json(labels, "controller-uid", json_string(uid));
    default_json(labels, "job-name", json_string(name));
    default_json(spec, "selector", json_pack("{s:{s:s}}", "matchLabels",
                                             "batch.kubernetes.io/controller-uid", uid));
}

static void default_cronjob(json_t *spec)
{
    default_str(spec, "concurrencyPolicy", "Allow");
    default_json(spec, "suspend", json_false());
    default_int(spec, "successfulJobsHistoryLimit", 3);
    default_int(spec, "failedJobsHistoryLimit", 1);
    default_template(get_obj(get_obj(spec, "jobTemplate"), "spec"));
}

/* ---- core ---- */

static void default_service(json_t *spec)
{
    default_str(spec, "type", "ClusterIP");
    default_str(spec, "sessionAffinity", "None");
    const char *type = json_string_value(json_object_get(spec, "type"));
    bool external = type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"));
    if (external) default_str(spec, "externalTrafficPolicy", "Cluster");
    if (type && strcmp(type, "ExternalName") != 0)
        default_str(spec, "internalTrafficPolicy", "Cluster");
    json_t *ports = json_object_get(spec, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        json_t *p = json_array_get(ports, i), *port = json_object_get(p, "port");
        json_t *tp = json_object_get(p, "targetPort");
        default_str(p, "protocol", "TCP");
        bool tp_unset = unset(tp) || (json_is_integer(tp) && json_integer_value(tp) == 0)
                        || (json_is_string(tp) && json_string_length(tp) == 0);
        if (json_is_object(p) && json_is_integer(port) && tp_unset)
            json_object_set_new(p, "targetPort", json_copy(port));
    }
}

static void merge_string_data(json_t *obj)
{
    json_t *sd = json_object_get(obj, "stringData");
    const char *key;
    json_t *v;
    if (!json_is_object(sd)) return;
    json_t *data = child(obj, "data");
    if (!data) return;
    json_object_foreach(sd, key, v) {
        const char *s = json_string_value(v);
        struct orc_buf enc = ORC_BUF_INIT;
        if (s && orc_base64_encode(s, strlen(s), false, &enc) == 0)
            json_object_set_new(data, key, json_string(enc.data ? enc.data : ""));
        orc_buf_free(&enc);
    }
    json_object_del(obj, "stringData");
}

/* A toleration with this key (or none, Exists) and effect NoExecute (or
 * none) already covers the taint. */
static bool tolerates_key(const json_t *tols, const char *key)
{
    size_t i;
    json_t *t;

    json_array_foreach(tols, i, t) {
        const char *k = json_string_value(json_object_get(t, "key"));
        const char *e = json_string_value(json_object_get(t, "effect"));
        if ((!k || !*k || strcmp(k, key) == 0) && (!e || !*e || strcmp(e, "NoExecute") == 0))
            return true;
    }
    return false;
}

void api_default_tolerations(json_t *pod, unsigned seconds)
{
    static const char *const keys[] = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"};
    json_t *spec = get_obj(pod, "spec"), *tols = json_object_get(spec, "tolerations");

    if (!json_is_object(spec)) return;
    if (!json_is_array(tols)) {
        tols = json_array();
        if (!tols || json_object_set_new(spec, "tolerations", tols) != 0) return;
    }
    for (size_t i = 0; i < 2; i++) {
        if (tolerates_key(tols, keys[i])) continue;
        json_array_append_new(tols, json_pack("{s:s, s:s, s:s, s:I}", "key", keys[i], "operator",
                                              "Exists", "effect", "NoExecute", "tolerationSeconds",
                                              (json_int_t)seconds));
    }
}

/* ---- the rows' entry points (apiserver/kind.c) ---- */

void api_defaults_pod(json_t *obj)
{
    default_podspec(get_obj(obj, "spec"), true);
}

void api_defaults_deployment(json_t *obj)
{
    default_deployment(get_obj(obj, "spec"));
}

void api_defaults_replicaset(json_t *obj)
{
    json_t *spec = get_obj(obj, "spec");
    default_int(spec, "replicas", 1);
    default_template(spec);
}

/* The selector and the object's labels default to the template's labels. */
void api_defaults_replicationcontroller(json_t *obj)
{
    json_t *spec = get_obj(obj, "spec");
    json_t *labels = get_obj(get_obj(get_obj(spec, "template"), "metadata"), "labels");
    default_int(spec, "replicas", 1);
    default_template(spec);
    if (json_object_size(labels) == 0) return;
    if (json_object_size(get_obj(spec, "selector")) == 0)
        json_object_set_new(spec, "selector", json_deep_copy(labels));
    json_t *meta = get_obj(obj, "metadata");
    if (meta && json_object_size(get_obj(meta, "labels")) == 0)
        json_object_set_new(meta, "labels", json_deep_copy(labels));
}

void api_defaults_statefulset(json_t *obj)
{
    default_statefulset(get_obj(obj, "spec"));
}

void api_defaults_daemonset(json_t *obj)
{
    default_daemonset(get_obj(obj, "spec"));
}

void api_defaults_job(json_t *obj)
{
    json_t *spec = get_obj(obj, "spec");
    default_job_spec(spec);
    if (spec) generate_job_selector(obj, spec);
}

void api_defaults_cronjob(json_t *obj)
{
    default_cronjob(get_obj(obj, "spec"));
}

void api_defaults_service(json_t *obj)
{
    default_service(get_obj(obj, "spec"));
}

void api_defaults_secret(json_t *obj)
{
    default_str(obj, "type", "Opaque");
    merge_string_data(obj);
}

void api_defaults(const struct orc_kind *k, json_t *obj)
{
    const struct api_kind *ak = api_kind_of(k);
    if (json_is_object(obj) && ak->defaults) ak->defaults(obj);
}

/* ---- scheduling, storage ---- */

void api_defaults_priorityclass(json_t *obj)
{
    default_str(obj, "preemptionPolicy", "PreemptLowerPriority");
}

void api_defaults_persistentvolume(json_t *obj)
{
    json_t *spec = get_obj(obj, "spec");
    default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
    default_str(spec, "volumeMode", "Filesystem");
}

void api_defaults_persistentvolumeclaim(json_t *obj)
{
    default_str(get_obj(obj, "spec"), "volumeMode", "Filesystem");
}

void api_defaults_storageclass(json_t *obj)
{
    default_str(obj, "reclaimPolicy", "Delete");
    default_str(obj, "volumeBindingMode", "Immediate");
}

/* ---- RBAC, NetworkPolicy, HorizontalPodAutoscaler ---- */

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* A roleRef's apiGroup, and a User or Group subject's, is RBAC's own. */
void api_defaults_binding(json_t *obj)
{
    json_t *subjects = json_object_get(obj, "subjects"), *s;
    size_t i;

    default_str(get_obj(obj, "roleRef"), "apiGroup", RBAC_GROUP);
    json_array_foreach(subjects, i, s) {
        const char *kind = json_string_value(json_object_get(s, "kind"));
        if (kind && (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0))
            default_str(s, "apiGroup", RBAC_GROUP);
    }
}

static void default_np_ports(json_t *rules)
{
    json_t *r, *p;
    size_t i, j;
    json_array_foreach(rules, i, r) {
        json_array_foreach(json_object_get(r, "ports"), j, p)
            if (json_is_object(p)) default_str(p, "protocol", "TCP");
    }
}

void api_defaults_networkpolicy(json_t *obj)
{
    json_t *spec = get_obj(obj, "spec");
    json_t *types = json_object_get(spec, "policyTypes");
    if (!spec) return;
    default_np_ports(json_object_get(spec, "ingress"));
    default_np_ports(json_object_get(spec, "egress"));
    if (json_array_size(types) > 0) return;
    types = json_array();
    json_array_append_new(types, json_string("Ingress"));
    if (json_array_size(json_object_get(spec, "egress")) > 0)
        json_array_append_new(types, json_string("Egress"));
    json_object_set_new(spec, "policyTypes", types);
}

static json_t *scaling_policy(const char *type, int value)
{
    return json_pack("{s:s, s:i, s:i}", "type", type, "value", value, "periodSeconds", 15);
}

/* Kubernetes' GenerateHPAScaleUpRules / GenerateHPAScaleDownRules. */
static void default_scaling_rules(json_t *beh, const char *key, bool up)
{
    json_t *r = child(beh, key);
    if (!r) return;
    default_int(r, "stabilizationWindowSeconds", up ? 0 : 300);
    default_str(r, "selectPolicy", "Max");
    if (json_array_size(json_object_get(r, "policies")) > 0) return;
    json_t *pols = json_array();
    if (up) json_array_append_new(pols, scaling_policy("Pods", 4));
    json_array_append_new(pols, scaling_policy("Percent", 100));
    json_object_set_new(r, "policies", pols);
}

/* minReplicas 1, a CPU target of 80% when no metric is named, and a
 * behavior given in part completed. */
void api_defaults_hpa(json_t *obj)
{
    json_t *spec = get_obj(obj, "spec"), *beh;
    if (!spec) return;
    default_int(spec, "minReplicas", 1);
    if (json_array_size(json_object_get(spec, "metrics")) == 0)
        json_object_set_new(spec, "metrics",
                            json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource",
                                      "resource", "name", "cpu", "target", "type", "Utilization",
                                      "averageUtilization", 80));
    if ((beh = get_obj(spec, "behavior")) != NULL) {
        default_scaling_rules(beh, "scaleUp", true);
        default_scaling_rules(beh, "scaleDown", false);
    }
}
