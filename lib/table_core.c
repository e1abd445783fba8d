/* table_core.c — printers of the core kinds: Services, ConfigMaps,
 * Secrets, Namespaces, Nodes, Events, Leases, Endpoints and
 * EndpointSlices (at most three addresses, then "+ N more..."). */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "lib/table.h"
#include "lib/table_int.h"

static const char *or_str(const char *s, const char *dflt) { return s ? s : dflt; }

/* ---- services ---- */

static int string_list(const json_t *arr, struct orc_buf *out)
{
    size_t i;
    json_t *v;
    int rv = 0;

    json_array_foreach (arr, i, v)
        if (rv == 0 && json_is_string(v))
            rv = orc_buf_printf(out, "%s%s", out->len ? "," : "", json_string_value(v));
    return rv;
}

static int service_external_ip(const json_t *svc, struct orc_buf *out)
{
    const char *type = or_str(orc_json_str(svc, "spec.type"), "ClusterIP");
    json_t *ing = orc_json_get(svc, "status.loadBalancer.ingress"), *e;
    size_t i;
    int rv = 0;

    if (strcmp(type, "ExternalName") == 0)
        return orc_buf_puts(out, or_str(orc_json_str(svc, "spec.externalName"), ""));
    if (strcmp(type, "LoadBalancer") == 0) {
        json_array_foreach (ing, i, e) {
            const char *s = or_str(orc_json_str(e, "ip"), orc_json_str(e, "hostname"));
            if (s && rv == 0) rv = orc_buf_printf(out, "%s%s", out->len ? "," : "", s);
        }
    }
    if (rv == 0) rv = string_list(orc_json_get(svc, "spec.externalIPs"), out);
    if (rv == 0 && out->len == 0)
        rv = orc_buf_puts(out, strcmp(type, "LoadBalancer") == 0 ? "<pending>" : "<none>");
    return rv;
}

static int service_ports(const json_t *svc, struct orc_buf *out)
{
    json_t *ports = orc_json_get(svc, "spec.ports"), *p;
    size_t i;
    int rv = 0;

    if (json_array_size(ports) == 0) return orc_buf_puts(out, "<none>");
    json_array_foreach (ports, i, p) {
        const char *proto = or_str(orc_json_str(p, "protocol"), "TCP");
        int64_t port = orc__num(p, "port", 0), node = orc__num(p, "nodePort", 0);
        if (rv != 0) break;
        if (node > 0)
            rv = orc_buf_printf(out, "%s%lld:%lld/%s", i ? "," : "", (long long)port,
                                (long long)node, proto);
        else rv = orc_buf_printf(out, "%s%lld/%s", i ? "," : "", (long long)port, proto);
    }
    return rv;
}

static void service_row(struct orc_row *r, const json_t *s, int64_t now)
{
    orc__cell_str(r, orc_json_str(s, "spec.type"), "ClusterIP");
    orc__cell_str(r, orc_json_str(s, "spec.clusterIP"), "<none>");
    orc__cell_buf(r, service_external_ip, s);
    orc__cell_buf(r, service_ports, s);
    orc__cell_age(r, s, now);
    orc__cell_buf(r, orc_table_labels, orc_json_get(s, "spec.selector"));
}

/* ---- small core kinds ---- */

static void configmap_row(struct orc_row *r, const json_t *c, int64_t now)
{
    orc__cell_int(r, (int64_t)(json_object_size(json_object_get(c, "data"))
                               + json_object_size(json_object_get(c, "binaryData"))));
    orc__cell_age(r, c, now);
}

static void secret_row(struct orc_row *r, const json_t *s, int64_t now)
{
    orc__cell_str(r, orc_json_str(s, "type"), "Opaque");
    orc__cell_int(r, (int64_t)json_object_size(json_object_get(s, "data")));
    orc__cell_age(r, s, now);
}

static void namespace_row(struct orc_row *r, const json_t *ns, int64_t now)
{
    orc__cell_str(r, orc_json_str(ns, "status.phase"), "Active");
    orc__cell_age(r, ns, now);
}

static void lease_row(struct orc_row *r, const json_t *l, int64_t now)
{
    orc__cell_str(r, orc_json_str(l, "spec.holderIdentity"), "");
    orc__cell_age(r, l, now);
}

/* ---- nodes ---- */

static int node_status(const json_t *node, struct orc_buf *out)
{
    json_t *conds = orc_json_get(node, "status.conditions"), *c;
    const char *ready = NULL;
    size_t i;
    int rv;

    json_array_foreach (conds, i, c)
        if (strcmp(or_str(orc_json_str(c, "type"), ""), "Ready") == 0)
            ready = or_str(orc_json_str(c, "status"), "");
    rv = orc_buf_puts(out, ready == NULL                ? "Unknown"
                           : strcmp(ready, "True") == 0 ? "Ready"
                                                        : "NotReady");
    if (rv == 0 && json_is_true(orc_json_get(node, "spec.unschedulable")))
        rv = orc_buf_puts(out, ",SchedulingDisabled");
    return rv;
}

static const char *node_address(const json_t *node, const char *type)
{
    json_t *addrs = orc_json_get(node, "status.addresses"), *a;
    size_t i;

    json_array_foreach (addrs, i, a)
        if (strcmp(or_str(orc_json_str(a, "type"), ""), type) == 0)
            return orc_json_str(a, "address");
    return NULL;
}

static void node_row(struct orc_row *r, const json_t *n, int64_t now)
{
    orc__cell_buf(r, node_status, n);
    orc__cell_buf(r, orc_table_node_roles, n);
    orc__cell_age(r, n, now);
    orc__cell_str(r, orc_json_str(n, "status.nodeInfo.kubeletVersion"), "");
    orc__cell_str(r, node_address(n, "InternalIP"), "<none>");
    orc__cell_str(r, node_address(n, "ExternalIP"), "<none>");
    orc__cell_str(r, orc_json_str(n, "status.nodeInfo.osImage"), "<unknown>");
    orc__cell_str(r, orc_json_str(n, "status.nodeInfo.kernelVersion"), "<unknown>");
    orc__cell_str(r, orc_json_str(n, "status.nodeInfo.containerRuntimeVersion"), "<unknown>");
}

/* ---- events ---- */

/* A field of an Event in either shape: core/v1's name, else
 * events.k8s.io/v1's (orctl prints what the server sent). */
static const char *ev_str(const json_t *e, const char *core, const char *v1)
{
    const char *s = orc_json_str(e, core);
    return s ? s : orc_json_str(e, v1);
}

/* An event's first and last sighting, as kubectl derives them. */
static void event_times(const json_t *e, int64_t now, char *first, char *last, size_t n)
{
    const char *ft = ev_str(e, "firstTimestamp", "deprecatedFirstTimestamp");
    const char *lt = ev_str(e, "lastTimestamp", "deprecatedLastTimestamp");
    const char *series = orc_json_str(e, "series.lastObservedTime");

    orc_table_age(ft ? ft : orc_json_str(e, "eventTime"), now, first, n);
    if (series) orc_table_age(series, now, last, n);
    else if (lt) orc_table_age(lt, now, last, n);
    else snprintf(last, n, "%s", first);
}

static void event_row(struct orc_row *r, const json_t *e, int64_t now)
{
    const char *kind = or_str(ev_str(e, "involvedObject.kind", "regarding.kind"), "");
    const char *name = ev_str(e, "involvedObject.name", "regarding.name");
    int64_t count = orc__num(e, "series.count",
                             orc__num(e, "count", orc__num(e, "deprecatedCount", 1)));
    const char *source = ev_str(e, "source.component", "deprecatedSource.component");
    char first[32], last[32], lower[64];
    size_t i;

    event_times(e, now, first, last, sizeof first);
    for (i = 0; kind[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 : kind[i]);
    lower[i] = '\0';
    orc__cell(r, "%s", last);
    orc__cell_str(r, orc_json_str(e, "type"), "");
    orc__cell_str(r, orc_json_str(e, "reason"), "");
    if (name && *name) orc__cell(r, "%s/%s", lower, name);
    else orc__cell(r, "%s", lower);
    orc__cell_str(r, ev_str(e, "involvedObject.fieldPath", "regarding.fieldPath"), "");
    orc__cell_str(r, source && *source ? source
                                       : ev_str(e, "reportingComponent", "reportingController"), "");
    orc__cell_str(r, ev_str(e, "message", "note"), "");
    orc__cell(r, "%s", first);
    orc__cell(r, "%lld", (long long)(count ? count : 1));
    orc__cell_str(r, orc_json_str(e, "metadata.name"), "");
}

/* ---- endpoints ---- */

#define SHOWN 3

static int more(struct orc_buf *out, size_t shown, size_t total)
{
    if (total == 0) return orc_buf_puts(out, "<none>");
    if (total > shown) return orc_buf_printf(out, " + %zu more...", total - shown);
    return 0;
}

/* "10.42.0.5:8080,10.42.0.6:8080" over every subset's ready addresses. */
static int endpoints_list(const json_t *subsets, struct orc_buf *out)
{
    const json_t *ss, *a, *p;
    size_t i, j, k, total = 0, shown = 0;
    int rv = orc_buf_puts(out, "");

    json_array_foreach (subsets, i, ss) {
        const json_t *ports = json_object_get(ss, "ports");
        json_array_foreach (json_object_get(ss, "addresses"), j, a) {
            size_t np = json_array_size(ports) ? json_array_size(ports) : 1;
            for (k = 0; k < np; k++, total++) {
                if (shown == SHOWN || rv != 0) continue;
                p = json_array_get(ports, k);
                const char *ip = or_str(orc_json_str(a, "ip"), "");
                if (p) rv = orc_buf_printf(out, "%s%s:%lld", shown ? "," : "", ip,
                                           (long long)orc__num(p, "port", 0));
                else rv = orc_buf_printf(out, "%s%s", shown ? "," : "", ip);
                shown++;
            }
        }
    }
    return rv ? rv : more(out, shown, total);
}

static void endpoints_row(struct orc_row *r, const json_t *ep, int64_t now)
{
    orc__cell_buf(r, endpoints_list, json_object_get(ep, "subsets"));
    orc__cell_age(r, ep, now);
}

static int slice_ports(const json_t *ports, struct orc_buf *out)
{
    const json_t *p;
    size_t i;
    int rv = orc_buf_puts(out, "");

    if (json_array_size(ports) == 0) return orc_buf_puts(out, "<unset>");
    json_array_foreach (ports, i, p)
        if (rv == 0)
            rv = orc_buf_printf(out, "%s%lld", i ? "," : "", (long long)orc__num(p, "port", 0));
    return rv;
}

static int slice_endpoints(const json_t *eps, struct orc_buf *out)
{
    const json_t *e, *a;
    size_t i, j, total = 0, shown = 0;
    int rv = orc_buf_puts(out, "");

    json_array_foreach (eps, i, e) {
        json_array_foreach (json_object_get(e, "addresses"), j, a) {
            total++;
            if (shown < SHOWN && rv == 0)
                rv = orc_buf_printf(out, "%s%s", shown++ ? "," : "", or_str(json_string_value(a), ""));
        }
    }
    return rv ? rv : more(out, shown, total);
}

static void endpointslice_row(struct orc_row *r, const json_t *s, int64_t now)
{
    orc__cell_str(r, orc_json_str(s, "addressType"), "");
    orc__cell_buf(r, slice_ports, json_object_get(s, "ports"));
    orc__cell_buf(r, slice_endpoints, json_object_get(s, "endpoints"));
    orc__cell_age(r, s, now);
}

/* ---- columns ---- */

static const struct orc_table_column service_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Type", "string", "type determines how the Service is exposed."),
    ORC_COL("Cluster-IP", "string", "clusterIP is the IP address of the service."),
    ORC_COL("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in "
                                     "the cluster will also accept traffic for this service."),
    ORC_COL("Port(s)", "string", "The list of ports that are exposed by this service."),
    ORC_COL_AGE,
    ORC_WIDE("Selector", "string", "Route service traffic to pods with label keys and values "
                                   "matching this selector."),
};
static const struct orc_table_column configmap_cols[] = {
    ORC_COL_NAME, ORC_COL("Data", "string", "The number of keys in the data."), ORC_COL_AGE};
static const struct orc_table_column secret_cols[] = {
    ORC_COL_NAME, ORC_COL("Type", "string", "The type of the secret"),
    ORC_COL("Data", "string", "The number of keys in the data."), ORC_COL_AGE};
static const struct orc_table_column namespace_cols[] = {
    ORC_COL_NAME, ORC_COL("Status", "string", "The status of the namespace"), ORC_COL_AGE};
static const struct orc_table_column lease_cols[] = {
    ORC_COL_NAME, ORC_COL("Holder", "string", "holderIdentity contains the identity of the "
                                              "holder of a current lease."),
    ORC_COL_AGE};
static const struct orc_table_column node_cols[] = {
    ORC_COL_NAME,
    ORC_COL("Status", "string", "The status of the node"),
    ORC_COL("Roles", "string", "The roles of the node"),
    ORC_COL_AGE,
    ORC_COL("Version", "string", "Kubelet Version reported by the node."),
    ORC_WIDE("Internal-IP", "string", "List of addresses reachable to the node."),
    ORC_WIDE("External-IP", "string", "List of addresses reachable to the node."),
    ORC_WIDE("OS-Image", "string", "OS Image reported by the node from /etc/os-release."),
    ORC_WIDE("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r'."),
    ORC_WIDE("Container-Runtime", "string", "ContainerRuntime Version reported by the node "
                                            "through runtime remote API."),
};
static const struct orc_table_column event_cols[] = {
    ORC_COL("Last Seen", "string", "The time at which the most recent occurrence of this event "
                                   "was recorded."),
    ORC_COL("Type", "string", "Type of this event (Normal, Warning)."),
    ORC_COL("Reason", "string", "This should be a short, machine understandable string that "
                                "gives the reason for the transition into the object's current status."),
    ORC_COL("Object", "string", "The object that this event is about."),
    ORC_WIDE("Subobject", "string", "The path to the part of the object this event is about."),
    ORC_WIDE("Source", "string", "The component reporting this event."),
    ORC_COL("Message", "string", "A human-readable description of the status of this operation."),
    ORC_WIDE("First Seen", "string", "The time at which the event was first recorded."),
    ORC_WIDE("Count", "string", "The number of times this event has occurred."),
    {"Name", "string", "name", ORC_DESC_NAME, 1},
};
static const struct orc_table_column endpoints_cols[] = {
    ORC_COL_NAME, ORC_COL("Endpoints", "string", "Endpoints of the service"), ORC_COL_AGE};
static const struct orc_table_column endpointslice_cols[] = {
    ORC_COL_NAME,
    ORC_COL("AddressType", "string", "addressType specifies the type of address carried by "
                                     "this EndpointSlice."),
    ORC_COL("Ports", "string", "ports specifies the list of network ports exposed by each endpoint."),
    ORC_COL("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
    ORC_COL_AGE,
};

const struct orc_printer_row orc__table_core[] = {
    {{"", "services", ORC_COLS(service_cols)}, service_row, false, NULL},
    {{"", "configmaps", ORC_COLS(configmap_cols)}, configmap_row, false, NULL},
    {{"", "secrets", ORC_COLS(secret_cols)}, secret_row, false, NULL},
    {{"", "namespaces", ORC_COLS(namespace_cols)}, namespace_row, false, NULL},
    {{"", "nodes", ORC_COLS(node_cols)}, node_row, false, NULL},
    {{"", "events", ORC_COLS(event_cols)}, event_row, true, NULL},
    {{"events.k8s.io", "events", ORC_COLS(event_cols)}, event_row, true, NULL},
    {{"coordination.k8s.io", "leases", ORC_COLS(lease_cols)}, lease_row, false, NULL},
    {{"", "endpoints", ORC_COLS(endpoints_cols)}, endpoints_row, false, NULL},
    {{"discovery.k8s.io", "endpointslices", ORC_COLS(endpointslice_cols)}, endpointslice_row,
     false, NULL},
    {{0}, NULL, false, NULL},
};
