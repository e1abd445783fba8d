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
static bool svc_external(const json_t *spec)
{
    const char *t = json_string_value(json_object_get(spec, "type"));
    return t && (strcmp(t, "NodePort") == 0 || strcmp(t, "LoadBalancer") == 0);
}

static bool svc_is(const json_t *spec, const char *type)
{
    const char *t = json_string_value(json_object_get(spec, "type"));
    return strcmp(t && t[0] ? t : "ClusterIP", type) == 0;
}

static const json_t *same_port(const json_t *ports, const json_t *p)
{
    const json_t *q;
    size_t i;
    const char *proto = json_string_value(json_object_get(p, "protocol"));

    json_array_foreach(ports, i, q) {
        const char *qp = json_string_value(json_object_get(q, "protocol"));
        if (json_equal(json_object_get(q, "port"), json_object_get(p, "port"))
            && strcmp(proto ? proto : "TCP", qp ? qp : "TCP") == 0)
            return q;
    }
    return NULL;
}

/* Kubernetes' patchAllocatedValues and dropTypeDependentFields: an update
 * keeps the clusterIP and the nodePorts it does not name, and drops what
 * the new type has no use for when the client left it as it was. */
void api_prepare_update_service(const json_t *cur, json_t *next)
{
    static const char *const ip_fields[] = {"clusterIP", "clusterIPs"};
    json_t *spec = json_object_get(next, "spec"), *p;
    const json_t *cspec = json_object_get(cur, "spec");
    const json_t *cports = json_object_get(cspec, "ports");
    size_t i;

    if (!json_is_object(spec)) return;
    bool to_external_name = svc_is(spec, "ExternalName") && !svc_is(cspec, "ExternalName");
    for (int k = 0; k < 2 && !to_external_name; k++) {
        json_t *v = json_object_get(cspec, ip_fields[k]);
        if (v && json_object_get(spec, ip_fields[k]) == NULL) json_object_set(spec, ip_fields[k], v);
    }
    if (to_external_name) {
        static const char *const fam[] = {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"};
        for (int k = 0; k < 4; k++)
            if (json_equal(json_object_get(spec, fam[k]), json_object_get(cspec, fam[k])))
                json_object_del(spec, fam[k]);
    }
    json_array_foreach(json_object_get(spec, "ports"), i, p) {
        const json_t *old = same_port(cports, p), *onp = json_object_get(old, "nodePort");
        json_t *np = json_object_get(p, "nodePort");
        if (svc_external(spec) && !np && onp) json_object_set(p, "nodePort", (json_t *)onp);
        else if (!svc_external(spec) && np && onp && json_equal(np, onp))
            json_object_del(p, "nodePort");
    }
    if (!svc_external(spec) && svc_external(cspec)) {
        static const char *const ext[] = {"externalTrafficPolicy", "healthCheckNodePort",
                                          "allocateLoadBalancerNodePorts", "loadBalancerClass"};
        for (int k = 0; k < 4; k++)
            if (json_equal(json_object_get(spec, ext[k]), json_object_get(cspec, ext[k])))
                json_object_del(spec, ext[k]);
    }
}

/* Volumes and claims start Pending, as Kubernetes' defaults make them. */
void api_prepare_create_pending(json_t *obj)
{
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
}
