/* sa_admit.c — the ServiceAccount admission of a new pod, as Kubernetes'
 * plugin/pkg/admission/serviceaccount: serviceAccountName defaults to
 * "default" (serviceAccount, the deprecated alias, mirrors it), and unless
 * automountServiceAccountToken is false (on the pod, or else on its
 * ServiceAccount) a projected volume kube-api-access-XXXXX with the token,
 * the cluster CA (ConfigMap kube-root-ca.crt) and the namespace is added
 * and mounted read-only in every container at API_SA_MOUNT_PATH. */
#include <stdio.h>
#include <string.h>

#include "apiserver/sa.h"
#include "lib/json.h"
#include "lib/rand.h"

#define VOLUME_PREFIX "kube-api-access-"
/* As Kubernetes: an hour and seven seconds, so the kubelet can tell the
 * token it asked for from one a user put there. */
#define TOKEN_SECONDS 3607

static void default_name(json_t *spec)
{
    const char *name = orc_json_str(spec, "serviceAccountName");
    const char *alias = orc_json_str(spec, "serviceAccount");
    json_t *v;

    if (!name || !*name) name = alias && *alias ? alias : "default";
    /* one string for both fields: setting the first may free `name` */
    if ((v = json_string(name)) == NULL) return;
    json_object_set(spec, "serviceAccountName", v);
    json_object_set_new(spec, "serviceAccount", v);
}

static bool wants_token(struct api_server *s, const char *ns, const json_t *spec)
{
    const json_t *pod_says = json_object_get(spec, "automountServiceAccountToken");
    json_t *sa;
    bool yes = true;

    if (json_is_boolean(pod_says)) return json_is_true(pod_says);
    sa = api_sa_local_get(s, ORC_K_SERVICEACCOUNT, ns, orc_json_str(spec, "serviceAccountName"));
    if (sa && json_is_false(json_object_get(sa, "automountServiceAccountToken"))) yes = false;
    json_decref(sa);
    return yes;
}

/* The volume's ca.crt comes from the root CA publisher's ConfigMap: a
 * cluster that does not publish it (plain HTTP, or the controller turned
 * off) gets no token volume rather than pods waiting for it. */
static bool ca_published(struct api_server *s, const char *ns)
{
    json_t *cm = api_sa_local_get(s, ORC_K_CONFIGMAP, ns, "kube-root-ca.crt");
    bool yes = cm != NULL;
    json_decref(cm);
    return yes;
}

static bool mounts_there(const json_t *containers)
{
    size_t i, j;
    json_t *c, *m;

    json_array_foreach (containers, i, c)
        json_array_foreach (json_object_get(c, "volumeMounts"), j, m) {
            const char *p = orc_json_str(m, "mountPath");
            if (p && strcmp(p, API_SA_MOUNT_PATH) == 0) return true;
        }
    return false;
}

static json_t *projected_volume(const char *name)
{
    return json_pack(
        "{s:s, s:{s:i, s:[{s:{s:i, s:s}}, {s:{s:s, s:[{s:s, s:s}]}}, {s:{s:[{s:s, s:{s:s, "
        "s:s}}]}}]}}",
        "name", name, "projected", "defaultMode", 0644, "sources", "serviceAccountToken",
        "expirationSeconds", TOKEN_SECONDS, "path", "token", "configMap", "name",
        "kube-root-ca.crt", "items", "key", "ca.crt", "path", "ca.crt", "downwardAPI", "items",
        "path", "namespace", "fieldRef", "apiVersion", "v1", "fieldPath", "metadata.namespace");
}

static void mount_in(json_t *containers, const char *name)
{
    size_t i;
    json_t *c;

    json_array_foreach (containers, i, c) {
        json_t *mounts = json_object_get(c, "volumeMounts");
        if (!json_is_array(mounts)) {
            mounts = json_array();
            json_object_set_new(c, "volumeMounts", mounts);
        }
        json_array_append_new(mounts, json_pack("{s:s, s:b, s:s}", "name", name, "readOnly", 1,
                                                "mountPath", API_SA_MOUNT_PATH));
    }
}

void api_sa_admit_pod(struct api_server *s, const char *ns, json_t *pod)
{
    json_t *spec = json_object_get(pod, "spec"), *vols;
    json_t *cs, *ics;
    char suffix[6], name[32];

    if (!json_is_object(spec)) return;
    default_name(spec);
    if (!wants_token(s, ns, spec) || !ca_published(s, ns)) return;
    cs = json_object_get(spec, "containers");
    ics = json_object_get(spec, "initContainers");
    if (mounts_there(cs) || mounts_there(ics)) return; /* the user's own */
    orc_rand_name_suffix(suffix, 5);
    snprintf(name, sizeof name, VOLUME_PREFIX "%s", suffix);
    vols = json_object_get(spec, "volumes");
    if (!json_is_array(vols)) {
        vols = json_array();
        json_object_set_new(spec, "volumes", vols);
    }
    json_array_append_new(vols, projected_volume(name));
    mount_in(cs, name);
    mount_in(ics, name);
}
