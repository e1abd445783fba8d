/* prepare.c — the kinds' PrepareForCreate / PrepareForUpdate (kind.h): the
 * status a new object starts with, and what an update keeps of what the
 * server allocated. */
#include <string.h>

#include "apiserver/kind.h"
#include "lib/json.h"

static const char *qos_class(const json_t *spec)
{
    json_t *cs = json_object_get(spec, "containers"), *c;
    bool any = false, guaranteed = true;
    size_t i;

    json_array_foreach(cs, i, c) {
        json_t *lim = orc_json_get(c, "resources.limits");
        json_t *req = orc_json_get(c, "resources.requests");
        const char *res[] = {"cpu", "memory"};
        if (json_object_size(lim) || json_object_size(req)) any = true;
        for (int j = 0; j < 2; j++) {
            json_t *l = json_object_get(lim, res[j]);
            json_t *q = json_object_get(req, res[j]);
            if (l == NULL || (q && !json_equal(l, q))) guaranteed = false;
        }
    }
    if (!any) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

void api_prepare_create_pod(json_t *obj)
{
    json_object_set_new(obj, "status",
                        json_pack("{s:s, s:s}", "phase", "Pending", "qosClass",
                                  qos_class(json_object_get(obj, "spec"))));
}

/* Kubernetes labels every namespace with its own name. */
void api_prepare_create_namespace(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    const char *name = orc_json_str(meta, "name");

    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
    if (orc_json_get(obj, "spec.finalizers") == NULL)
        orc_json_set(obj, "spec.finalizers", json_pack("[s]", "kubernetes"));
    if (name == NULL) return;
    json_t *labels = json_object_get(meta, "labels");
    if (!json_is_object(labels)) json_object_set_new(meta, "labels", labels = json_object());
    json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
}

/* Agents register their nodes with a status: it is kept. */
void api_prepare_create_node(json_t *obj)
{
    (void)obj;
}

/* Allocated addresses stay when an update leaves them out. */
void api_prepare_update_service(const json_t *cur, json_t *next)
{
    static const char *const ip_fields[] = {"clusterIP", "clusterIPs"};
    json_t *spec = json_object_get(next, "spec");

    for (int i = 0; i < 2 && json_is_object(spec); i++) {
        json_t *v = orc_json_get(cur, i ? "spec.clusterIPs" : "spec.clusterIP");
        if (v && json_object_get(spec, ip_fields[i]) == NULL) json_object_set(spec, ip_fields[i], v);
    }
}

/* Volumes and claims start Pending, as Kubernetes' defaults make them. */
void api_prepare_create_pending(json_t *obj)
{
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
}
