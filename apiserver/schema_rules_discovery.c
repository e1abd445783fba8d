/* schema_rules_discovery.c — semantic rules for core/v1 Endpoints and
 * discovery.k8s.io/v1 EndpointSlice, worded as Kubernetes' validation. */
#include "apiserver/schema.h"

#include <string.h>

#include "lib/names.h"

#define SLICE_MAX_ENDPOINTS 1000
#define SLICE_MAX_ADDRESSES 100
#define SLICE_MAX_PORTS 20000

static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};

static void check_ports(struct api_diag *d, const json_t *ports, const char *base, bool slice)
{
    char p[API_PATH_MAX];
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *port = json_array_get(ports, i);
        api_pathf(p, "%s[%zu]", base, i);
        char f[API_PATH_MAX];
        api_pathf(f, "%s.name", p);
        const json_t *name = json_object_get(port, "name");
        if (json_is_string(name) && json_string_length(name) > 0)
            api_check_name_value(d, name, f, orc_dns1123_label);
        else if (!slice && json_array_size(ports) > 1)
            api_required(d, f, NULL);
        api_check_port(d, port, "port", p, !slice);
        api_check_enum(d, port, "protocol", p, protocols);
    }
}

static void check_address(struct api_diag *d, const json_t *a, const char *base)
{
    char f[API_PATH_MAX];
    const char *ip = api_str(a, "ip");
    api_pathf(f, "%s.ip", base);
    if (!ip || !ip[0]) api_required(d, f, NULL);
    else if (!api_is_ip(ip))
        api_invalid_str(d, f, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
}

void api_rules_endpoints(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *subsets = api_arr(obj, "subsets");
    char p[API_PATH_MAX];
    (void)old;
    for (size_t i = 0; i < json_array_size(subsets); i++) {
        const json_t *ss = json_array_get(subsets, i);
        static const char *const lists[] = {"addresses", "notReadyAddresses"};
        for (int l = 0; l < 2; l++) {
            const json_t *as = api_arr(ss, lists[l]);
            for (size_t j = 0; j < json_array_size(as); j++) {
                api_pathf(p, "subsets[%zu].%s[%zu]", i, lists[l], j);
                check_address(d, json_array_get(as, j), p);
            }
        }
        api_pathf(p, "subsets[%zu].ports", i);
        check_ports(d, api_arr(ss, "ports"), p, false);
    }
}

void api_rules_endpointslice(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const types[] = {"IPv4", "IPv6", "FQDN", NULL};
    const char *type = api_str(obj, "addressType");
    const json_t *eps = api_arr(obj, "endpoints");
    char p[API_PATH_MAX];

    api_check_enum(d, obj, "addressType", "", types);
    if (old) api_check_immutable(d, json_object_get(obj, "addressType"),
                                 json_object_get(old, "addressType"), "addressType");
    if (json_array_size(eps) > SLICE_MAX_ENDPOINTS) api_toolong(d, "endpoints", SLICE_MAX_ENDPOINTS);
    for (size_t i = 0; i < json_array_size(eps); i++) {
        const json_t *ep = json_array_get(eps, i), *as = api_arr(ep, "addresses");
        api_pathf(p, "endpoints[%zu].addresses", i);
        if (json_array_size(as) == 0) api_required(d, p, "must contain at least 1 address");
        else if (json_array_size(as) > SLICE_MAX_ADDRESSES) api_toolong(d, p, SLICE_MAX_ADDRESSES);
        for (size_t j = 0; j < json_array_size(as); j++) {
            const char *a = json_string_value(json_array_get(as, j));
            api_pathf(p, "endpoints[%zu].addresses[%zu]", i, j);
            if (a && type && strcmp(type, "FQDN") != 0 && !api_is_ip(a))
                api_invalid_str(d, p, a, "must be a valid IP address");
        }
        api_pathf(p, "endpoints[%zu]", i);
        api_check_name(d, ep, "nodeName", p, orc_dns1123_subdomain);
    }
    if (json_array_size(api_arr(obj, "ports")) > SLICE_MAX_PORTS) api_toolong(d, "ports", SLICE_MAX_PORTS);
    check_ports(d, api_arr(obj, "ports"), "ports", true);
}
