/* describe_core.c — `orctl describe` of Services (with their endpoints),
 * ConfigMaps, Secrets (sizes only, never values), Nodes and Namespaces, as
 * kubectl's describers print them. */
#include <stdlib.h>
#include <string.h>

#include "cli/describe.h"
#include "lib/table.h"

static void service_endpoints(struct dw *w, const json_t *p, const json_t *slices)
{
    const char *name = str_or(p, "name", "");
    size_t i, k, j, shown = 0, more = 0;
    json_t *sl, *sp, *ep, *addr;

    dw_write(w, 0, "Endpoints:\t");
    json_array_foreach ((json_t *)slices, i, sl) {
        long long port = -1;
        json_array_foreach (orc_json_get(sl, "ports"), k, sp)
            if (strcmp(str_or(sp, "name", ""), name) == 0) port = jnum(sp, "port", 0);
        if (port < 0) continue;
        json_array_foreach (orc_json_get(sl, "endpoints"), k, ep) {
            if (json_is_false(orc_json_get(ep, "conditions.ready"))) continue;
            json_array_foreach (orc_json_get(ep, "addresses"), j, addr) {
                if (shown == 3) {
                    more++;
                    continue;
                }
                dw_write(w, 0, "%s%s:%lld", shown ? "," : "", json_string_value(addr) ?: "", port);
                shown++;
            }
        }
    }
    if (!shown) dw_write(w, 0, "<none>");
    if (more) dw_write(w, 0, " + %zu more...", more);
    dw_write(w, 0, "\n");
}

static void service_port(struct dw *w, const json_t *p)
{
    const char *name = str_or(p, "name", "<unset>"), *proto = str_or(p, "protocol", "TCP");
    json_t *target = json_object_get(p, "targetPort");
    char tp[64];

    dw_write(w, 0, "Port:\t%s\t%lld/%s\n", name, jnum(p, "port", 0), proto);
    /* An omitted targetPort defaults to the port itself. */
    if (target) int_or_string(target, "", tp, sizeof tp);
    else snprintf(tp, sizeof tp, "%lld", jnum(p, "port", 0));
    dw_write(w, 0, "TargetPort:\t%s/%s\n", tp, proto);
    if (jnum(p, "nodePort", 0))
        dw_write(w, 0, "NodePort:\t%s\t%lld/%s\n", name, jnum(p, "nodePort", 0), proto);
}

void cli_describe_service(struct dw *w, const json_t *s, const json_t *slices)
{
    json_t *ports = orc_json_get(s, "spec.ports"), *p,
           *ing = orc_json_get(s, "status.loadBalancer.ingress");
    size_t i;

    cli_desc_name_namespace(w, s, true);
    cli_desc_labels_annotations(w, s);
    cli_desc_selector_line(w, "Selector", orc_json_get(s, "spec.selector"), true);
    dw_write(w, 0, "Type:\t%s\n", str_or(s, "spec.type", "ClusterIP"));
    dw_write(w, 0, "IP:\t%s\n", str(s, "spec.clusterIP"));
    if (json_array_size(orc_json_get(s, "spec.externalIPs"))) {
        dw_write(w, 0, "External IPs:\t");
        json_array_foreach (orc_json_get(s, "spec.externalIPs"), i, p)
            dw_write(w, 0, "%s%s", i ? "," : "", json_string_value(p) ? json_string_value(p) : "");
        dw_write(w, 0, "\n");
    }
    if (*str(s, "spec.externalName"))
        dw_write(w, 0, "External Name:\t%s\n", str(s, "spec.externalName"));
    if (json_array_size(ing)) {
        dw_write(w, 0, "LoadBalancer Ingress:\t");
        json_array_foreach (ing, i, p)
            dw_write(w, 0, "%s%s", i ? ", " : "", str_or(p, "ip", str(p, "hostname")));
        dw_write(w, 0, "\n");
    }
    json_array_foreach (ports, i, p) {
        service_port(w, p);
        if (slices) service_endpoints(w, p, slices);
    }
    dw_write(w, 0, "Session Affinity:\t%s\n", str_or(s, "spec.sessionAffinity", "None"));
    if (*str(s, "spec.externalTrafficPolicy"))
        dw_write(w, 0, "External Traffic Policy:\t%s\n", str(s, "spec.externalTrafficPolicy"));
}

/* The decoded size of base64 text, computed without decoding: the value
 * itself never needs to exist in this process's memory. */
static size_t b64_size(const char *v)
{
    size_t len = v ? strlen(v) : 0, pad = 0;

    while (pad < 2 && pad < len && v[len - 1 - pad] == '=') pad++;
    return (len - pad) * 3 / 4;
}

void cli_describe_configmap(struct dw *w, const json_t *cm)
{
    json_t *data = json_object_get(cm, "data"), *bin = json_object_get(cm, "binaryData");
    size_t n;
    const char **keys;

    cli_desc_name_namespace(w, cm, true);
    cli_desc_labels_annotations(w, cm);
    dw_write(w, 0, "\nData\n====\n");
    keys = orc_json_sorted_keys(data, &n);
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(data, keys[i]));
        dw_write(w, 0, "%s:\n----\n%s\n", keys[i], v ? v : "");
    }
    free(keys);
    dw_write(w, 0, "\nBinaryData\n====\n");
    keys = orc_json_sorted_keys(bin, &n);
    for (size_t i = 0; i < n; i++) {
        dw_write(w, 0, "%s: %zu bytes\n", keys[i],
                 b64_size(json_string_value(json_object_get(bin, keys[i]))));
    }
    free(keys);
    dw_write(w, 0, "\n");
}

void cli_describe_secret(struct dw *w, const json_t *s)
{
    json_t *data = json_object_get(s, "data"), *sdata = json_object_get(s, "stringData");
    size_t n;
    const char **keys;

    cli_desc_name_namespace(w, s, true);
    cli_desc_labels_annotations(w, s);
    dw_write(w, 0, "\nType:\t%s\n", str_or(s, "type", "Opaque"));
    dw_write(w, 0, "\nData\n====\n");
    keys = orc_json_sorted_keys(data, &n);
    for (size_t i = 0; i < n; i++)
        dw_write(w, 0, "%s:\t%zu bytes\n", keys[i],
                 b64_size(json_string_value(json_object_get(data, keys[i]))));
    free(keys);
    keys = orc_json_sorted_keys(sdata, &n);
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(sdata, keys[i]));
        dw_write(w, 0, "%s:\t%zu bytes\n", keys[i], v ? strlen(v) : 0);
    }
    free(keys);
}

static void resource_block(struct dw *w, const char *title, const json_t *list)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(list, &n);
    char v[64];

    if (n == 0) return;
    dw_write(w, 0, "%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        int_or_string(json_object_get(list, keys[i]), "", v, sizeof v);
        dw_write(w, 0, "  %s:\t%s\n", keys[i], v);
    }
    free(keys);
}

static void node_conditions(struct dw *w, const json_t *node)
{
    json_t *conds = orc_json_get(node, "status.conditions"), *c;
    char hb[64], tr[64];
    size_t i;

    if (json_array_size(conds) == 0) return;
    dw_write(
        w, 0,
        "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
    dw_write(w, 1, "----\t------\t-----------------\t------------------\t------\t-------\n");
    json_array_foreach (conds, i, c)
        dw_write(w, 1, "%s \t%s \t%s \t%s \t%s \t%s\n", str(c, "type"), str(c, "status"),
                 rfc1123z(orc_json_str(c, "lastHeartbeatTime"), hb, sizeof hb),
                 rfc1123z(orc_json_str(c, "lastTransitionTime"), tr, sizeof tr), str(c, "reason"),
                 str(c, "message"));
}

void cli_describe_node(struct dw *w, const json_t *node)
{
    static const char *const info[][2] = {{"Machine ID", "machineID"},
                                          {"System UUID", "systemUUID"},
                                          {"Boot ID", "bootID"},
                                          {"Kernel Version", "kernelVersion"},
                                          {"OS Image", "osImage"},
                                          {"Operating System", "operatingSystem"},
                                          {"Architecture", "architecture"},
                                          {"Container Runtime Version", "containerRuntimeVersion"},
                                          {"Kubelet Version", "kubeletVersion"},
                                          {"Kube-Proxy Version", "kubeProxyVersion"}};
    json_t *addrs = orc_json_get(node, "status.addresses"), *a,
           *ni = orc_json_get(node, "status.nodeInfo");
    json_t *tmp;
    struct orc_buf roles = ORC_BUF_INIT;
    size_t i;

    cli_desc_name_namespace(w, node, false);
    if (w->rv == 0) w->rv = orc_table_node_roles(node, &roles);
    dw_write(w, 0, "Roles:\t%s\n", roles.data ? roles.data : "<none>");
    orc_buf_free(&roles);
    cli_desc_labels_annotations(w, node);
    cli_desc_creation(w, node);
    cli_desc_key_effect_lines(w, "Taints", orc_json_get(node, "spec.taints"), false);
    dw_write(w, 0, "Unschedulable:\t%s\n", bool_str(node, "spec.unschedulable"));
    node_conditions(w, node);
    dw_write(w, 0, "Addresses:\n");
    json_array_foreach (addrs, i, a) dw_write(w, 1, "%s:\t%s\n", str(a, "type"), str(a, "address"));
    resource_block(w, "Capacity", orc_json_get(node, "status.capacity"));
    resource_block(w, "Allocatable", orc_json_get(node, "status.allocatable"));
    dw_write(w, 0, "System Info:\n");
    for (i = 0; i < ORC_ARRAY_LEN(info); i++) {
        tmp = json_object_get(ni, info[i][1]);
        dw_write(w, 0, "  %s:\t%s\n", info[i][0],
                 json_string_value(tmp) ? json_string_value(tmp) : "");
    }
    if (*str(node, "spec.podCIDR")) dw_write(w, 0, "PodCIDR:\t%s\n", str(node, "spec.podCIDR"));
}

void cli_describe_namespace(struct dw *w, const json_t *ns)
{
    cli_desc_name_namespace(w, ns, false);
    cli_desc_labels_annotations(w, ns);
    dw_write(w, 0, "Status:\t%s\n", str_or(ns, "status.phase", "Active"));
}

/* A field as indented YAML under its title, for kinds without a describer. */
