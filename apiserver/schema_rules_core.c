/* schema_rules_core.c — semantic rules for the core kinds other than Pod
 * (Service, ConfigMap, Secret, Namespace, Node, Event) and Lease, including
 * their update rules. Wording follows Kubernetes' core validation. */
#include "apiserver/schema.h"

#include "lib/base64.h"

#include <stdio.h>
#include <string.h>

#include "lib/names.h"

#define MSG_MAX 1024
#define DATA_MAX (1024 * 1024) /* ConfigMap and Secret payload limit, as etcd's */

/* ---- Service ---- */

static const char *const svc_types[] = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName",
                                        NULL};
static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
static const char *const traffic_policies[] = {"Cluster", "Local", NULL};
static const char ip_msg[] = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

static void check_service_port(struct api_diag *d, const json_t *port, const char *base,
                               const char *type, size_t nports)
{
    char p[API_PATH_MAX], msg[MSG_MAX];
    const char *name = api_str(port, "name");
    api_pathf(p, "%s.name", base);
    if ((!name || !name[0]) && nports > 1) api_required(d, p, NULL);
    else api_check_name_value(d, json_object_get(port, "name"), p, orc_dns1123_label);
    api_check_port(d, port, "port", base, true);
    api_check_enum(d, port, "protocol", base, protocols);
    api_pathf(p, "%s.targetPort", base);
    const json_t *tp = json_object_get(port, "targetPort");
    if (tp && !(json_is_integer(tp) && json_integer_value(tp) == 0))
        api_check_port_or_name(d, tp, p);
    long long np;
    api_pathf(p, "%s.nodePort", base);
    if (!api_int(port, "nodePort", &np) || np == 0) return;
    if (strcmp(type, "NodePort") != 0 && strcmp(type, "LoadBalancer") != 0) {
        snprintf(msg, sizeof msg, "may not be used when `type` is '%s'", type);
        api_forbidden(d, p, msg);
    } else {
        api_check_port(d, port, "nodePort", base, false);
    }
}

static void check_service_ports(struct api_diag *d, const json_t *ports, const char *type)
{
    json_t *names = json_object(), *pairs = json_object();
    char p[API_PATH_MAX], key[64];
    size_t n = json_array_size(ports);
    for (size_t i = 0; i < n; i++) {
        const json_t *port = json_array_get(ports, i);
        const char *name = api_str(port, "name"), *proto = api_str(port, "protocol");
        long long num = 0;
        api_pathf(p, "spec.ports[%zu]", i);
        check_service_port(d, port, p, type, n);
        api_pathf(p, "spec.ports[%zu].name", i);
        if (name && name[0] && names && json_object_get(names, name))
            api_duplicate(d, p, json_object_get(port, "name"));
        else if (name && name[0] && names)
            json_object_set_new(names, name, json_true());
        if (!api_int(port, "port", &num)) continue;
        snprintf(key, sizeof key, "%lld/%s", num, proto ? proto : "TCP");
        api_pathf(p, "spec.ports[%zu]", i);
        if (pairs && json_object_get(pairs, key)) {
            json_t *dup = json_pack("{s:I, s:s}", "port", (json_int_t)num, "protocol",
                                    proto ? proto : "TCP");
            api_duplicate(d, p, dup);
            json_decref(dup);
        } else if (pairs) {
            json_object_set_new(pairs, key, json_true());
        }
    }
    json_decref(names);
    json_decref(pairs);
}

static void check_cluster_ips(struct api_diag *d, const json_t *spec, const char *type)
{
    const char *ip = api_str(spec, "clusterIP");
    const json_t *ips = api_arr(spec, "clusterIPs");
    char p[API_PATH_MAX];
    if (ip && ip[0] && strcmp(type, "ExternalName") == 0)
        api_forbidden(d, "spec.clusterIP", "may not be set for ExternalName services");
    else if (ip && ip[0] && strcmp(ip, "None") != 0 && !api_is_ip(ip))
        api_invalid_str(d, "spec.clusterIP", ip, "%s", ip_msg);
    for (size_t i = 0; ips && i < json_array_size(ips); i++) {
        const char *s = json_string_value(json_array_get(ips, i));
        api_pathf(p, "spec.clusterIPs[%zu]", i);
        if (!s) continue;
        if (i == 0 && ip && ip[0] && strcmp(s, ip) != 0)
            api_invalid_str(d, p, s, "must match `clusterIP` when both are specified");
        else if (strcmp(s, "None") != 0 && !api_is_ip(s))
            api_invalid_str(d, p, s, "%s", ip_msg);
    }
}

static void check_families(struct api_diag *d, const json_t *spec)
{
    static const char *const families[] = {"IPv4", "IPv6", NULL};
    static const char *const policies[] = {"SingleStack", "PreferDualStack", "RequireDualStack",
                                           NULL};
    const json_t *fams = api_arr(spec, "ipFamilies");
    char p[API_PATH_MAX];
    api_check_enum(d, spec, "ipFamilyPolicy", "spec", policies);
    for (size_t i = 0; fams && i < json_array_size(fams); i++) {
        const json_t *f = json_array_get(fams, i);
        api_pathf(p, "spec.ipFamilies[%zu]", i);
        if (!json_is_string(f)) continue;
        if (strcmp(json_string_value(f), "IPv4") && strcmp(json_string_value(f), "IPv6"))
            api_unsupported(d, p, f, families);
        else if (i == 1 && json_equal((json_t *)f, json_array_get(fams, 0)))
            api_duplicate(d, p, f);
    }
}

static void check_external(struct api_diag *d, const json_t *spec, const char *type)
{
    const char *etp = api_str(spec, "externalTrafficPolicy");
    const json_t *eips = api_arr(spec, "externalIPs");
    char p[API_PATH_MAX];
    api_check_enum(d, spec, "externalTrafficPolicy", "spec", traffic_policies);
    api_check_enum(d, spec, "internalTrafficPolicy", "spec", traffic_policies);
    if (etp && etp[0] && strcmp(type, "NodePort") && strcmp(type, "LoadBalancer"))
        api_invalid_str(d, "spec.externalTrafficPolicy", etp,
                        "may only be set for externally-accessible services");
    if (strcmp(type, "ExternalName") == 0) {
        const char *en = api_str(spec, "externalName");
        if (!en || !en[0]) api_required(d, "spec.externalName", NULL);
        else api_check_name(d, spec, "externalName", "spec", orc_dns1123_subdomain);
    }
    for (size_t i = 0; eips && i < json_array_size(eips); i++) {
        const char *s = json_string_value(json_array_get(eips, i));
        api_pathf(p, "spec.externalIPs[%zu]", i);
        if (s && !api_is_ip(s))
            api_invalid_str(d, p, s, "%s", ip_msg);
    }
}

void api_rules_service(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const affinities[] = {"None", "ClientIP", NULL};
    const json_t *spec = api_obj(obj, "spec");
    const char *type = api_str(spec, "type"), *ip = api_str(spec, "clusterIP");
    if (!type || !type[0]) type = "ClusterIP";
    bool headless = ip && strcmp(ip, "None") == 0;
    api_check_enum(d, spec, "type", "spec", svc_types);
    api_check_enum(d, spec, "sessionAffinity", "spec", affinities);
    if (json_array_size(api_arr(spec, "ports")) == 0 && !headless && strcmp(type, "ExternalName"))
        api_required(d, "spec.ports", NULL);
    check_service_ports(d, api_arr(spec, "ports"), type);
    check_cluster_ips(d, spec, type);
    check_families(d, spec);
    check_external(d, spec, type);
    api_check_labels(d, api_obj(spec, "selector"), "spec.selector");

    const char *was = api_str(api_obj(old, "spec"), "clusterIP");
    /* An update that omits clusterIP keeps the allocated one (the server
     * carries it over); changing it is refused unless leaving for ExternalName. */
    if (was && was[0] && ip && ip[0] && strcmp(ip, was) != 0 && strcmp(type, "ExternalName"))
        api_invalid_str(d, "spec.clusterIP", ip, "field is immutable");
}

/* ---- ConfigMap and Secret ---- */

/* Keys of one data map; adds the payload size to *total. `b64`: values are
 * base64 (Secret data, ConfigMap binaryData). */
static void check_data(struct api_diag *d, const json_t *data, const char *field, bool b64,
                       size_t *total)
{
    const char *key;
    const json_t *v;
    char msg[MSG_MAX], p[API_PATH_MAX];
    json_object_foreach((json_t *)data, key, v) {
        api_pathf(p, "%s[%s]", field, key);
        if (orc_config_key(key, strlen(key), msg, sizeof msg) != 0)
            api_invalid_str(d, p, key, "%s", msg);
        const char *s = json_string_value(v);
        if (!s) continue;
        if (!b64) {
            *total += strlen(s);
            continue;
        }
        struct orc_buf raw = ORC_BUF_INIT;
        if (orc_base64_decode(s, strlen(s), false, &raw) != 0)
            api_invalid_str(d, p, "<value omitted>", "illegal base64 data");
        else *total += raw.len;
        orc_buf_free(&raw);
    }
}

static void check_immutable_data(struct api_diag *d, const json_t *obj, const json_t *old,
                                 const char *const *fields)
{
    if (!old || !api_is_true(old, "immutable")) return;
    for (size_t i = 0; fields[i]; i++) {
        const json_t *a = json_object_get(obj, fields[i]), *b = json_object_get(old, fields[i]);
        bool same = (!a && !b) || (a && b && json_equal((json_t *)a, (json_t *)b));
        if (!same) api_forbidden(d, fields[i], "field is immutable when `immutable` is set");
    }
    if (!api_is_true(obj, "immutable"))
        api_forbidden(d, "immutable", "field is immutable when `immutable` is set");
}

void api_rules_configmap(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const fields[] = {"data", "binaryData", NULL};
    const json_t *data = api_obj(obj, "data"), *bin = api_obj(obj, "binaryData");
    size_t total = 0;
    const char *key;
    const json_t *v;
    char p[API_PATH_MAX];
    if (data) check_data(d, data, "data", false, &total);
    if (bin) check_data(d, bin, "binaryData", true, &total);
    json_object_foreach((json_t *)bin, key, v) {
        api_pathf(p, "binaryData[%s]", key);
        if (json_object_get(data, key))
            api_invalid_str(d, p, key, "duplicate of key present in data");
    }
    if (total > DATA_MAX) api_toolong(d, "data", DATA_MAX);
    check_immutable_data(d, obj, old, fields);
}

/* Keys a typed Secret must carry. */
static void check_secret_type(struct api_diag *d, const json_t *obj, const char *type)
{
    static const struct { const char *type, *keys[3]; } needs[] = {
        {"kubernetes.io/tls", {"tls.crt", "tls.key", NULL}},
        {"kubernetes.io/dockerconfigjson", {".dockerconfigjson", NULL, NULL}},
        {"kubernetes.io/dockercfg", {".dockercfg", NULL, NULL}},
        {"kubernetes.io/ssh-auth", {"ssh-privatekey", NULL, NULL}},
    };
    const json_t *data = api_obj(obj, "data");
    char p[API_PATH_MAX];
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++) {
        if (strcmp(type, needs[i].type) != 0) continue;
        for (size_t k = 0; needs[i].keys[k]; k++) {
            api_pathf(p, "data[%s]", needs[i].keys[k]);
            if (!json_object_get(data, needs[i].keys[k])) api_required(d, p, NULL);
        }
    }
    if (strcmp(type, "kubernetes.io/basic-auth") == 0 && !json_object_get(data, "username")
        && !json_object_get(data, "password"))
        api_required(d, "data[username]", NULL);
    const json_t *ann = api_obj(api_obj(obj, "metadata"), "annotations");
    if (strcmp(type, "kubernetes.io/service-account-token") == 0
        && !api_str(ann, "kubernetes.io/service-account.name"))
        api_required(d, "metadata.annotations[kubernetes.io/service-account.name]", NULL);
}

void api_rules_secret(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const fields[] = {"data", "stringData", NULL};
    const json_t *data = api_obj(obj, "data"), *sdata = api_obj(obj, "stringData");
    const char *type = api_str(obj, "type");
    size_t total = 0;
    if (data) check_data(d, data, "data", true, &total);
    if (sdata) check_data(d, sdata, "stringData", false, &total);
    if (total > DATA_MAX) api_toolong(d, "data", DATA_MAX);
    if (type) check_secret_type(d, obj, type);
    if (old)
        api_check_immutable(d, json_object_get(obj, "type"), json_object_get(old, "type"), "type");
    check_immutable_data(d, obj, old, fields);
}

/* ---- Namespace, Node ---- */

void api_rules_namespace(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *fins = api_arr(api_obj(obj, "spec"), "finalizers");
    char p[API_PATH_MAX], msg[MSG_MAX];
    (void)old;
    for (size_t i = 0; fins && i < json_array_size(fins); i++) {
        const json_t *f = json_array_get(fins, i);
        api_pathf(p, "spec.finalizers[%zu]", i);
        if (json_is_string(f)
            && orc_label_key(json_string_value(f), json_string_length(f), msg, sizeof msg) != 0)
            api_invalid(d, p, f, "%s", msg);
    }
}

static void check_taints(struct api_diag *d, const json_t *taints)
{
    static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
    json_t *seen = json_object();
    char p[API_PATH_MAX], pair[400];
    for (size_t i = 0; taints && i < json_array_size(taints); i++) {
        const json_t *t = json_array_get(taints, i);
        const char *key = api_str(t, "key");
        const char *effect = api_str(t, "effect");
        api_pathf(p, "spec.taints[%zu].key", i);
        api_check_name_value(d, json_object_get(t, "key"), p, orc_label_key);
        api_pathf(p, "spec.taints[%zu].value", i);
        api_check_name_value(d, json_object_get(t, "value"), p, orc_label_value);
        api_pathf(p, "spec.taints[%zu]", i);
        api_check_enum(d, t, "effect", p, effects);
        if (!key || !effect) continue;
        snprintf(pair, sizeof pair, "%s:%s", key, effect);
        if (seen && json_object_get(seen, pair)) {
            json_t *dup = json_pack("{s:s, s:s}", "key", key, "effect", effect);
            api_duplicate(d, p, dup);
            json_decref(dup);
        } else if (seen) {
            json_object_set_new(seen, pair, json_true());
        }
    }
    json_decref(seen);
}

void api_rules_node(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char cidr_msg[] =
        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
    const json_t *spec = api_obj(obj, "spec"), *cidrs = api_arr(spec, "podCIDRs");
    const char *cidr = api_str(spec, "podCIDR");
    char p[API_PATH_MAX];
    (void)old;
    if (cidr && cidr[0] && !api_is_cidr(cidr))
        api_invalid_str(d, "spec.podCIDR", cidr, "%s", cidr_msg);
    for (size_t i = 0; cidrs && i < json_array_size(cidrs); i++) {
        const char *c = json_string_value(json_array_get(cidrs, i));
        api_pathf(p, "spec.podCIDRs[%zu]", i);
        if (c && !api_is_cidr(c)) api_invalid_str(d, p, c, "%s", cidr_msg);
        else if (c && i == 0 && cidr && cidr[0] && strcmp(c, cidr) != 0)
            api_invalid_str(d, p, c, "must match `podCIDR` when both are specified");
    }
    if (json_array_size(cidrs) > 2)
        api_invalid(d, "spec.podCIDRs", cidrs,
                    "may specify no more than one CIDR for each IP family");
    check_taints(d, api_arr(spec, "taints"));
}

/* ---- Event, Lease ---- */

void api_rules_event(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const types[] = {"Normal", "Warning", NULL};
    const char *ns = api_str(api_obj(obj, "metadata"), "namespace");
    const char *ins = api_str(api_obj(obj, "involvedObject"), "namespace");
    (void)old;
    if (api_str(obj, "type") && api_str(obj, "type")[0]) api_check_enum(d, obj, "type", "", types);
    api_check_min(d, obj, "count", "", 0);
    if (ns && ns[0] && ins && ins[0] && strcmp(ns, ins) != 0)
        api_invalid_str(d, "involvedObject.namespace", ins, "does not match event.namespace");
}

void api_rules_lease(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec");
    long long v;
    (void)old;
    if (api_int(spec, "leaseDurationSeconds", &v) && v <= 0)
        api_invalid_int(d, "spec.leaseDurationSeconds", v, "must be greater than 0");
    api_check_min(d, spec, "leaseTransitions", "spec", 0);
}
