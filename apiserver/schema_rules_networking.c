/* schema_rules_networking.c — semantic rules for networking.k8s.io/v1
 * Ingress and IngressClass, worded as Kubernetes' validation
 * (pkg/apis/networking/validation). */
#include "apiserver/schema.h"

#include <string.h>

#include "lib/names.h"

#define MSG_MAX 1024
#define CLASS_CONTROLLER_MAX 250
#define ANN_INGRESS_CLASS "kubernetes.io/ingress.class"

static const char *const path_types[] = {"Exact", "Prefix", "ImplementationSpecific", NULL};

/* A host with a '*' must be a wildcard subdomain, else a subdomain; never an IP. */
static void check_host(struct api_diag *d, const json_t *v, const char *field)
{
    const char *h = json_string_value(v);
    if (!h || !h[0]) return;
    if (api_is_ip(h)) {
        api_invalid_str(d, field, h, "must be a DNS name, not an IP address");
        return;
    }
    api_check_name_value(d, v, field,
                         strchr(h, '*') ? orc_wildcard_dns1123_subdomain : orc_dns1123_subdomain);
}

static void check_service_backend(struct api_diag *d, const json_t *svc, const char *base)
{
    char f[API_PATH_MAX];
    const json_t *port = api_obj(svc, "port");
    const char *pname = api_str(port, "name");
    long long num = 0;
    bool has_num = api_int(port, "number", &num) && num != 0;

    api_check_name(d, svc, "name", base, orc_dns1035_label);
    api_pathf(f, "%s.port", base);
    if (pname && pname[0] && has_num) {
        api_invalid(d, f, port, "cannot set both port name & port number");
    } else if (pname && pname[0]) {
        char msg[MSG_MAX];
        api_pathf(f, "%s.port.name", base);
        if (api_port_name(pname, msg, sizeof msg) != 0) api_invalid_str(d, f, pname, "%s", msg);
    } else if (has_num) {
        api_check_port(d, port, "number", f, false);
    } else {
        api_required(d, f, "port name or number is required");
    }
}

static void check_backend(struct api_diag *d, const json_t *b, const char *base)
{
    char f[API_PATH_MAX];
    const json_t *svc = api_obj(b, "service"), *res = api_obj(b, "resource");

    if (svc && res) {
        api_invalid_str(d, base, "", "cannot set both resource and service backends");
    } else if (svc) {
        api_pathf(f, "%s.service", base);
        check_service_backend(d, svc, f);
    } else if (res) {
        const char *group = api_str(res, "apiGroup");
        api_pathf(f, "%s.resource.apiGroup", base);
        if (group && group[0]) api_check_name_value(d, json_object_get(res, "apiGroup"), f,
                                                    orc_dns1123_subdomain);
    } else {
        api_invalid_str(d, base, "", "resource or service backend is required");
    }
}

/* Exact and Prefix paths are plain absolute paths without dot segments or
 * encoded slashes, as Kubernetes requires of them. */
static void check_path_text(struct api_diag *d, const char *path, const char *type,
                            const char *field)
{
    static const char *const bad_seq[] = {"//", "/./", "/../", "%2f", "%2F", NULL};
    static const char *const bad_end[] = {"/..", "/.", NULL};
    size_t len = strlen(path);

    if (path[0] != '/') {
        api_invalid_str(d, field, path, "must be an absolute path");
        return;
    }
    if (strcmp(type, "ImplementationSpecific") == 0) return;
    for (int i = 0; bad_seq[i]; i++)
        if (strstr(path, bad_seq[i])) {
            api_invalid_str(d, field, path, "must not contain '%s'", bad_seq[i]);
            return;
        }
    for (int i = 0; bad_end[i]; i++) {
        size_t n = strlen(bad_end[i]);
        if (len >= n && strcmp(path + len - n, bad_end[i]) == 0) {
            api_invalid_str(d, field, path, "cannot end with '%s'", bad_end[i]);
            return;
        }
    }
}

static void check_http_path(struct api_diag *d, const json_t *p, const char *base)
{
    char f[API_PATH_MAX];
    const char *type = api_str(p, "pathType"), *path = api_str(p, "path");

    api_pathf(f, "%s.pathType", base);
    if (!type || !type[0]) {
        api_required(d, f, "pathType must be specified");
    } else {
        api_check_enum(d, p, "pathType", base, path_types);
        api_pathf(f, "%s.path", base);
        bool known = false;
        for (int i = 0; path_types[i]; i++) known |= strcmp(type, path_types[i]) == 0;
        if (known && path && (path[0] || strcmp(type, "ImplementationSpecific") != 0))
            check_path_text(d, path, type, f);
        else if (known && !path && strcmp(type, "ImplementationSpecific") != 0)
            api_invalid_str(d, f, "", "must be an absolute path");
    }
    api_pathf(f, "%s.backend", base);
    check_backend(d, api_obj(p, "backend"), f);
}

static void check_rules(struct api_diag *d, const json_t *rules)
{
    char p[API_PATH_MAX], f[API_PATH_MAX];
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        api_pathf(p, "spec.rules[%zu]", i);
        api_pathf(f, "%s.host", p);
        check_host(d, json_object_get(r, "host"), f);
        const json_t *http = api_obj(r, "http");
        if (!http) continue;
        const json_t *paths = api_arr(http, "paths");
        api_pathf(f, "%s.http.paths", p);
        if (json_array_size(paths) == 0) api_required(d, f, NULL);
        for (size_t j = 0; j < json_array_size(paths); j++) {
            api_pathf(f, "%s.http.paths[%zu]", p, j);
            check_http_path(d, json_array_get(paths, j), f);
        }
    }
}

static void check_tls(struct api_diag *d, const json_t *tls)
{
    char f[API_PATH_MAX];
    for (size_t i = 0; i < json_array_size(tls); i++) {
        const json_t *t = json_array_get(tls, i), *hosts = api_arr(t, "hosts");
        for (size_t j = 0; j < json_array_size(hosts); j++) {
            api_pathf(f, "spec.tls[%zu].hosts[%zu]", i, j);
            check_host(d, json_array_get(hosts, j), f);
        }
        api_pathf(f, "spec.tls[%zu]", i);
        api_check_name(d, t, "secretName", f, orc_dns1123_subdomain);
    }
}

void api_rules_ingress(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec");
    const json_t *rules = api_arr(spec, "rules"), *def = api_obj(spec, "defaultBackend");
    const char *cls = api_str(spec, "ingressClassName");
    const char *ann = api_str(api_obj(api_obj(obj, "metadata"), "annotations"), ANN_INGRESS_CLASS);

    (void)old;
    if (json_array_size(rules) == 0 && !def)
        api_invalid(d, "spec", spec ? spec : json_null(),
                    "either `defaultBackend` or `rules` must be specified");
    if (def) check_backend(d, def, "spec.defaultBackend");
    check_rules(d, rules);
    check_tls(d, api_arr(spec, "tls"));
    api_check_name(d, spec, "ingressClassName", "spec", orc_dns1123_subdomain);
    if (cls && ann && strcmp(cls, ann) != 0)
        api_invalid_str(d, "metadata.annotations[" ANN_INGRESS_CLASS "]", ann,
                        "must match `ingressClassName` when both are specified");
}

/* "example.com/name": a DNS subdomain, a slash, and a path. */
static bool domain_prefixed_path(const char *s)
{
    const char *slash = strchr(s, '/');
    char msg[MSG_MAX];
    return slash && slash > s && slash[1]
           && orc_dns1123_subdomain(s, (size_t)(slash - s), msg, sizeof msg) == 0;
}

static void check_class_params(struct api_diag *d, const json_t *pr)
{
    static const char *const scopes[] = {"Cluster", "Namespace", NULL};
    const char *scope = api_str(pr, "scope"), *ns = api_str(pr, "namespace");

    api_check_enum(d, pr, "scope", "spec.parameters", scopes);
    if (scope && strcmp(scope, "Namespace") == 0 && !(ns && ns[0]))
        api_required(d, "spec.parameters.namespace", "`parameters.scope` is set to 'Namespace'");
    if (scope && strcmp(scope, "Cluster") == 0 && ns && ns[0])
        api_forbidden(d, "spec.parameters.namespace",
                      "`parameters.scope` is set to 'Cluster'");
    api_check_name(d, pr, "namespace", "spec.parameters", orc_dns1123_label);
}

void api_rules_ingressclass(struct api_diag *d, const json_t *obj, const json_t *old)
{
    const json_t *spec = api_obj(obj, "spec");
    const char *ctl = api_str(spec, "controller");

    if (!ctl || !ctl[0]) api_required(d, "spec.controller", NULL);
    else if (strlen(ctl) > CLASS_CONTROLLER_MAX) api_toolong(d, "spec.controller", CLASS_CONTROLLER_MAX);
    else if (!domain_prefixed_path(ctl))
        api_invalid_str(d, "spec.controller", ctl, "must be a domain-prefixed path (such as \"acme.io/foo\")");
    if (old) api_check_immutable(d, json_object_get(spec, "controller"),
                                 json_object_get(api_obj(old, "spec"), "controller"),
                                 "spec.controller");
    if (api_obj(spec, "parameters")) check_class_params(d, api_obj(spec, "parameters"));
}

/* ---- NetworkPolicy ---- */

#define CIDR_MSG "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"

static void check_np_port(struct api_diag *d, const json_t *p, const char *base)
{
    static const char *const protos[] = {"TCP", "UDP", "SCTP", NULL};
    const json_t *port = json_object_get(p, "port"), *end = json_object_get(p, "endPort");
    bool has_end = end && !json_is_null(end);
    char f[API_PATH_MAX], msg[MSG_MAX];

    api_check_enum(d, p, "protocol", base, protos);
    api_pathf(f, "%s.endPort", base);
    if (json_is_integer(port)) {
        api_check_port(d, p, "port", base, false);
        if (has_end && json_integer_value(end) < json_integer_value(port))
            api_invalid(d, f, port, "must be greater than or equal to `port`");
        if (has_end) api_check_port(d, p, "endPort", base, false);
    } else if (json_is_string(port)) {
        if (has_end) api_invalid(d, f, end, "may not be specified when `port` is non-numeric");
        api_pathf(f, "%s.port", base);
        if (api_port_name(json_string_value(port), msg, sizeof msg) != 0)
            api_invalid(d, f, port, "%s", msg);
    } else if (has_end) {
        api_invalid(d, f, end, "may not be specified when `port` is not specified");
    }
}

static void check_ipblock(struct api_diag *d, const json_t *b, const char *base)
{
    const char *cidr = api_str(b, "cidr");
    const json_t *except = api_arr(b, "except");
    char f[API_PATH_MAX];

    api_pathf(f, "%s.cidr", base);
    if (!cidr || !cidr[0]) {
        api_required(d, f, NULL);
        return;
    }
    if (!api_is_cidr(cidr)) api_invalid_str(d, f, cidr, CIDR_MSG);
    for (size_t i = 0; i < json_array_size(except); i++) {
        const char *e = json_string_value(json_array_get(except, i));
        api_pathf(f, "%s.except[%zu]", base, i);
        if (e && !api_is_cidr(e)) api_invalid_str(d, f, e, CIDR_MSG);
    }
}

static void check_peer(struct api_diag *d, const json_t *peer, const char *base)
{
    const json_t *pod = api_obj(peer, "podSelector"), *ns = api_obj(peer, "namespaceSelector");
    const json_t *ipb = api_obj(peer, "ipBlock");
    char f[API_PATH_MAX];
    int n = (pod != NULL) + (ns != NULL) + (ipb != NULL);

    api_pathf(f, "%s.podSelector", base);
    if (pod) api_check_selector(d, pod, f);
    api_pathf(f, "%s.namespaceSelector", base);
    if (ns) api_check_selector(d, ns, f);
    api_pathf(f, "%s.ipBlock", base);
    if (ipb) check_ipblock(d, ipb, f);
    if (n == 0) api_required(d, base, "must specify a peer");
    else if (n > 1 && ipb) api_forbidden(d, base, "may not specify both ipBlock and another peer");
}

static void check_np_rules(struct api_diag *d, const json_t *spec, const char *dir,
                           const char *peers)
{
    const json_t *rules = api_arr(spec, dir);
    char f[API_PATH_MAX];

    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        const json_t *ports = api_arr(r, "ports"), *ps = api_arr(r, peers);
        for (size_t j = 0; j < json_array_size(ports); j++) {
            api_pathf(f, "spec.%s[%zu].ports[%zu]", dir, i, j);
            check_np_port(d, json_array_get(ports, j), f);
        }
        for (size_t j = 0; j < json_array_size(ps); j++) {
            api_pathf(f, "spec.%s[%zu].%s[%zu]", dir, i, peers, j);
            check_peer(d, json_array_get(ps, j), f);
        }
    }
}

void api_rules_networkpolicy(struct api_diag *d, const json_t *obj, const json_t *old)
{
    static const char *const types[] = {"Ingress", "Egress", NULL};
    const json_t *spec = api_obj(obj, "spec"), *pt = api_arr(spec, "policyTypes");
    char f[API_PATH_MAX];
    (void)old;

    api_check_selector(d, api_obj(spec, "podSelector"), "spec.podSelector");
    check_np_rules(d, spec, "ingress", "from");
    check_np_rules(d, spec, "egress", "to");
    if (json_array_size(pt) > 2) {
        api_invalid(d, "spec.policyTypes", pt, "may not specify more than two policyTypes");
        return;
    }
    for (size_t i = 0; i < json_array_size(pt); i++) {
        const json_t *t = json_array_get(pt, i);
        const char *s = json_string_value(t);
        api_pathf(f, "spec.policyTypes[%zu]", i);
        if (s && strcmp(s, "Ingress") != 0 && strcmp(s, "Egress") != 0)
            api_unsupported(d, f, t, types);
    }
}
