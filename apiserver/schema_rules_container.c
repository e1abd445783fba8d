/* schema_rules_container.c — semantic rules for the containers of a PodSpec
 * (names, images, ports, env, resources, mounts, probes, lifecycle hooks),
 * plus the reference and path checks volumes share with them. Wording
 * follows Kubernetes' pkg/apis/core/validation. */
#include "apiserver/schema.h"

#include <string.h>

#include "lib/names.h"
#include "lib/quantity.h"

#define MSG_MAX 1024

static const char *const only_v1[] = {"v1", NULL};
static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
static const char *const msg_policies[] = {"File", "FallbackToLogsOnError", NULL};
static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
static const char *const propagations[] = {"None", "HostToContainer", "Bidirectional", NULL};
static const char *const env_field_paths[] = {"metadata.name", "metadata.namespace",
                                              "metadata.uid", "spec.nodeName",
                                              "spec.serviceAccountName", "status.hostIP",
                                              "status.hostIPs", "status.podIP", "status.podIPs",
                                              NULL};
static const char *const resource_fields[] = {"limits.cpu", "limits.memory",
                                              "limits.ephemeral-storage", "requests.cpu",
                                              "requests.memory", "requests.ephemeral-storage",
                                              NULL};

/* What a container check needs to know about its pod. */
struct podctx {
    struct api_diag *d;
    const json_t *spec;
    const json_t *volume_names; /* object used as a set */
    bool host_network;
};

/* ---- shared with volumes ---- */

int api_count_present(const json_t *o, const char *const *keys, const char **second)
{
    int n = 0;
    for (size_t i = 0; keys[i]; i++) {
        if (!json_object_get(o, keys[i])) continue;
        if (++n == 2 && second) *second = keys[i];
    }
    return n;
}

/* Keys become file names under a mount: they must not climb out of it. */
void api_check_local_path(struct api_diag *d, const char *s, const char *field)
{
    if (s[0] == '/') {
        api_invalid_str(d, field, s, "must be a relative path");
        return;
    }
    for (const char *p = s; (p = strstr(p, "..")) != NULL; p += 2) {
        bool starts = p == s || p[-1] == '/', ends = p[2] == '\0' || p[2] == '/';
        if (starts && ends) {
            api_invalid_str(d, field, s, "must not contain '..'");
            return;
        }
    }
}

void api_check_ref_name(struct api_diag *d, const json_t *ref, const char *base)
{
    char p[API_PATH_MAX];
    api_pathf(p, "%s.name", base);
    const char *name = api_str(ref, "name");
    if (!name || !name[0]) api_required(d, p, NULL);
    else api_check_name(d, ref, "name", base, orc_dns1123_subdomain);
}

static void check_key_ref(struct api_diag *d, const json_t *ref, const char *base)
{
    api_check_ref_name(d, ref, base);
    api_check_name(d, ref, "key", base, orc_config_key);
}

/* metadata.labels['key'] and metadata.annotations['key'] are allowed in env. */
static bool subscripted_meta_path(const char *s)
{
    const char *rest = NULL;
    if (strncmp(s, "metadata.labels['", 17) == 0) rest = s + 17;
    else if (strncmp(s, "metadata.annotations['", 22) == 0) rest = s + 22;
    size_t len = rest ? strlen(rest) : 0;
    return len > 2 && strcmp(rest + len - 2, "']") == 0;
}

void api_check_field_ref(struct api_diag *d, const json_t *ref, const char *base,
                         const char *const *paths)
{
    char p[API_PATH_MAX];
    const json_t *fp = json_object_get(ref, "fieldPath");
    const char *av = api_str(ref, "apiVersion");
    api_pathf(p, "%s.apiVersion", base);
    if (av && av[0] && strcmp(av, "v1") != 0)
        api_unsupported(d, p, json_object_get(ref, "apiVersion"), only_v1);
    if (!json_is_string(fp) || !json_string_length(fp)
        || subscripted_meta_path(json_string_value(fp)))
        return;
    api_check_enum(d, ref, "fieldPath", base, paths);
}

void api_check_resource_ref(struct api_diag *d, const json_t *ref, const char *base,
                            bool need_container)
{
    char p[API_PATH_MAX];
    const char *res = api_str(ref, "resource"), *cn = api_str(ref, "containerName");
    if (res && res[0] && strncmp(res, "limits.hugepages-", 17) != 0
        && strncmp(res, "requests.hugepages-", 19) != 0)
        api_check_enum(d, ref, "resource", base, resource_fields);
    api_pathf(p, "%s.containerName", base);
    if (need_container && (!cn || !cn[0])) api_required(d, p, NULL);
    const json_t *div = json_object_get(ref, "divisor");
    int64_t milli;
    api_pathf(p, "%s.divisor", base);
    if (div) api_check_quantity(d, div, p, &milli);
}

/* ---- env ---- */

static void check_env_source(struct api_diag *d, const json_t *src, const char *base)
{
    static const char *const kinds[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                        "secretKeyRef", NULL};
    char p[API_PATH_MAX];
    int n = api_count_present(src, kinds, NULL);
    if (n == 0)
        api_invalid_str(d, base, "", "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                     "`configMapKeyRef` or `secretKeyRef`");
    else if (n > 1)
        api_invalid_str(d, base, "", "may not have more than one field specified at a time");
    const json_t *o;
    if ((o = api_obj(src, "fieldRef"))) {
        api_pathf(p, "%s.fieldRef", base);
        api_check_field_ref(d, o, p, env_field_paths);
    }
    if ((o = api_obj(src, "resourceFieldRef"))) {
        api_pathf(p, "%s.resourceFieldRef", base);
        api_check_resource_ref(d, o, p, false);
    }
    if ((o = api_obj(src, "configMapKeyRef"))) {
        api_pathf(p, "%s.configMapKeyRef", base);
        check_key_ref(d, o, p);
    }
    if ((o = api_obj(src, "secretKeyRef"))) {
        api_pathf(p, "%s.secretKeyRef", base);
        check_key_ref(d, o, p);
    }
}

static void check_env(struct api_diag *d, const json_t *env, const char *base)
{
    char p[API_PATH_MAX];
    for (size_t i = 0; env && i < json_array_size(env); i++) {
        const json_t *e = json_array_get(env, i);
        api_path_index(p, base, i);
        api_check_name(d, e, "name", p, orc_env_var_name);
        const json_t *from = api_obj(e, "valueFrom");
        const char *value = api_str(e, "value");
        if (!from) continue;
        api_pathf(p, "%s[%zu].valueFrom", base, i);
        if (value && value[0])
            api_invalid_str(d, p, "", "may not be specified when `value` is not empty");
        check_env_source(d, from, p);
    }
}

static void check_env_from(struct api_diag *d, const json_t *list, const char *base)
{
    static const char *const kinds[] = {"configMapRef", "secretRef", NULL};
    char p[API_PATH_MAX];
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i), *o;
        int n = api_count_present(e, kinds, NULL);
        api_path_index(p, base, i);
        if (n == 0)
            api_invalid_str(d, p, "", "must specify one of: `configMapRef` or `secretRef`");
        else if (n > 1)
            api_invalid_str(d, p, "", "may not have more than one field specified at a time");
        api_check_name(d, e, "prefix", p, orc_env_var_name);
        if ((o = api_obj(e, "configMapRef"))) {
            api_pathf(p, "%s[%zu].configMapRef", base, i);
            api_check_ref_name(d, o, p);
        }
        if ((o = api_obj(e, "secretRef"))) {
            api_pathf(p, "%s[%zu].secretRef", base, i);
            api_check_ref_name(d, o, p);
        }
    }
}

/* ---- resources ---- */

static bool standard_resource(const char *name)
{
    return !strcmp(name, "cpu") || !strcmp(name, "memory") || !strcmp(name, "ephemeral-storage")
           || (!strncmp(name, "hugepages-", 10) && name[10]);
}

/* Native resources may be overcommitted (request < limit); extended ones
 * (example.com/gpu) and hugepages may not. */
static bool overcommit_allowed(const char *name)
{
    bool native = !strchr(name, '/') || !strncmp(name, "kubernetes.io/", 14);
    return native && strncmp(name, "hugepages-", 10) != 0;
}

static void check_resource_name(struct api_diag *d, const char *name, const char *field)
{
    char msg[MSG_MAX];
    if (!strchr(name, '/')) {
        if (!standard_resource(name))
            api_invalid_str(d, field, name, "must be a standard resource for containers");
    } else if (orc_label_key(name, strlen(name), msg, sizeof msg) != 0) {
        api_invalid_str(d, field, name, "%s", msg);
    }
}

/* Checks names and quantities of one map; 0 when every entry parsed. */
static int check_resource_list(struct api_diag *d, const json_t *list, const char *base)
{
    const char *name;
    const json_t *v;
    int64_t milli;
    int bad = 0;
    json_object_foreach((json_t *)list, name, v) {
        char p[API_PATH_MAX];
        api_pathf(p, "%s[%s]", base, name);
        check_resource_name(d, name, p);
        if (api_check_quantity(d, v, p, &milli) != 0) bad = 1;
    }
    return bad;
}

static void check_resources(struct api_diag *d, const json_t *res, const char *base)
{
    const json_t *lim = api_obj(res, "limits"), *req = api_obj(res, "requests");
    char lp[API_PATH_MAX], rp[API_PATH_MAX];
    api_pathf(lp, "%s.limits", base);
    api_pathf(rp, "%s.requests", base);
    int bad = lim ? check_resource_list(d, lim, lp) : 0;
    bad |= req ? check_resource_list(d, req, rp) : 0;
    if (bad || !lim || !req) return;

    const char *name;
    const json_t *rv;
    json_object_foreach((json_t *)req, name, rv) {
        const json_t *lv = json_object_get(lim, name);
        int64_t r, l;
        char p[API_PATH_MAX];
        if (!lv || orc_quantity_parse(json_string_value(rv), &r) != 0
            || orc_quantity_parse(json_string_value(lv), &l) != 0)
            continue;
        api_pathf(p, "%s[%s]", rp, name);
        if (overcommit_allowed(name) && r > l)
            api_invalid_str(d, p, json_string_value(rv),
                            "must be less than or equal to %s limit of %s", name,
                            json_string_value(lv));
        else if (!overcommit_allowed(name) && r != l)
            api_invalid_str(d, p, json_string_value(rv), "must be equal to %s limit of %s", name,
                            json_string_value(lv));
    }
}

/* ---- ports and mounts ---- */

static void check_ports(struct podctx *c, const json_t *ports, const char *base)
{
    json_t *names = json_object();
    char p[API_PATH_MAX], msg[MSG_MAX];
    for (size_t i = 0; ports && i < json_array_size(ports); i++) {
        const json_t *port = json_array_get(ports, i);
        long long cp, hp;
        api_path_index(p, base, i);
        api_check_port(c->d, port, "containerPort", p, true);
        if (api_int(port, "hostPort", &hp) && hp != 0)
            api_check_port(c->d, port, "hostPort", p, false);
        api_check_enum(c->d, port, "protocol", p, protocols);
        if (c->host_network && api_int(port, "hostPort", &hp) && api_int(port, "containerPort", &cp)
            && hp != 0 && hp != cp) {
            api_pathf(p, "%s[%zu].hostPort", base, i);
            api_invalid_int(c->d, p, hp, "must match `containerPort` when `hostNetwork` is true");
        }
        const char *name = api_str(port, "name");
        if (!name || !name[0]) continue;
        api_pathf(p, "%s[%zu].name", base, i);
        if (api_port_name(name, msg, sizeof msg) != 0) api_invalid_str(c->d, p, name, "%s", msg);
        else if (names && json_object_get(names, name))
            api_duplicate(c->d, p, json_object_get(port, "name"));
        else if (names)
            json_object_set_new(names, name, json_true());
    }
    json_decref(names);
}

static void check_mounts(struct podctx *c, const json_t *mounts, const char *base)
{
    json_t *paths = json_object();
    char p[API_PATH_MAX];
    for (size_t i = 0; mounts && i < json_array_size(mounts); i++) {
        const json_t *m = json_array_get(mounts, i);
        const char *name = api_str(m, "name"), *mp = api_str(m, "mountPath");
        const char *sub = api_str(m, "subPath");
        api_pathf(p, "%s[%zu].name", base, i);
        if (name && name[0] && !json_object_get(c->volume_names, name))
            api_notfound(c->d, p, json_object_get(m, "name"));
        api_pathf(p, "%s[%zu].mountPath", base, i);
        if (!mp || !mp[0]) api_required(c->d, p, NULL);
        else if (mp[0] != '/') api_invalid_str(c->d, p, mp, "must be an absolute path");
        else if (paths && json_object_get(paths, mp))
            api_invalid_str(c->d, p, mp, "must be unique");
        else if (paths)
            json_object_set_new(paths, mp, json_true());
        api_pathf(p, "%s[%zu].subPath", base, i);
        if (sub && sub[0]) api_check_local_path(c->d, sub, p);
        api_path_index(p, base, i);
        api_check_enum(c->d, m, "mountPropagation", p, propagations);
    }
    json_decref(paths);
}

/* ---- probes and lifecycle handlers ---- */

static void check_actions(struct api_diag *d, const json_t *h, const char *base)
{
    char p[API_PATH_MAX];
    const json_t *o;
    if ((o = api_obj(h, "exec")) && !json_array_size(api_arr(o, "command"))) {
        api_pathf(p, "%s.exec.command", base);
        api_required(d, p, NULL);
    }
    if ((o = api_obj(h, "httpGet"))) {
        api_pathf(p, "%s.httpGet", base);
        api_check_enum(d, o, "scheme", p, schemes);
        api_pathf(p, "%s.httpGet.port", base);
        if (!json_object_get(o, "port")) api_required(d, p, NULL);
        else api_check_port_or_name(d, json_object_get(o, "port"), p);
    }
    if ((o = api_obj(h, "tcpSocket"))) {
        api_pathf(p, "%s.tcpSocket.port", base);
        if (!json_object_get(o, "port")) api_required(d, p, NULL);
        else api_check_port_or_name(d, json_object_get(o, "port"), p);
    }
    if ((o = api_obj(h, "grpc"))) {
        api_pathf(p, "%s.grpc", base);
        api_check_port(d, o, "port", p, true);
    }
    if ((o = api_obj(h, "sleep"))) {
        api_pathf(p, "%s.sleep", base);
        api_check_min(d, o, "seconds", p, 0);
    }
}

/* Exactly one of `kinds` must be set. */
static void check_one_handler(struct api_diag *d, const json_t *h, const char *base,
                              const char *const *kinds)
{
    const char *second = NULL;
    char p[API_PATH_MAX];
    int n = api_count_present(h, kinds, &second);
    if (n == 0) {
        api_required(d, base, "must specify a handler type");
    } else if (n > 1) {
        api_pathf(p, "%s.%s", base, second);
        api_forbidden(d, p, "may not specify more than 1 handler type");
    }
    check_actions(d, h, base);
}

static void check_positive(struct api_diag *d, const json_t *o, const char *key, const char *base)
{
    long long v;
    char p[API_PATH_MAX];
    if (!api_int(o, key, &v)) return;
    api_pathf(p, "%s.%s", base, key);
    if (v < 0) api_invalid_int(d, p, v, "must be greater than or equal to 0");
    else if (v == 0) api_invalid_int(d, p, v, "must be greater than 0");
}

static void check_probe(struct api_diag *d, const json_t *probe, const char *base, bool readiness)
{
    static const char *const kinds[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
    char p[API_PATH_MAX];
    long long v;
    check_one_handler(d, probe, base, kinds);
    api_check_min(d, probe, "initialDelaySeconds", base, 0);
    check_positive(d, probe, "timeoutSeconds", base);
    check_positive(d, probe, "periodSeconds", base);
    check_positive(d, probe, "successThreshold", base);
    check_positive(d, probe, "failureThreshold", base);
    api_pathf(p, "%s.successThreshold", base);
    if (!readiness && api_int(probe, "successThreshold", &v) && v > 1)
        api_invalid_int(d, p, v, "must be 1");
    api_pathf(p, "%s.terminationGracePeriodSeconds", base);
    if (api_int(probe, "terminationGracePeriodSeconds", &v)) {
        if (readiness) api_forbidden(d, p, "may not be set for readinessProbes");
        else if (v <= 0) api_invalid_int(d, p, v, "must be greater than 0");
    }
}

static void check_lifecycle(struct api_diag *d, const json_t *lc, const char *base)
{
    static const char *const kinds[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};
    static const char *const hooks[] = {"postStart", "preStop"};
    char p[API_PATH_MAX];
    for (size_t i = 0; i < 2; i++) {
        const json_t *h = api_obj(lc, hooks[i]);
        api_pathf(p, "%s.%s", base, hooks[i]);
        if (h) check_one_handler(d, h, p, kinds);
    }
}

/* ---- containers ---- */

static void check_container_probes(struct podctx *c, const json_t *ctr, const char *base,
                                   bool init)
{
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe",
                                         "lifecycle"};
    char p[API_PATH_MAX];
    const char *rp = api_str(ctr, "restartPolicy");
    bool sidecar = rp && strcmp(rp, "Always") == 0;
    for (size_t i = 0; i < 4; i++) {
        const json_t *pr = api_obj(ctr, probes[i]);
        api_pathf(p, "%s.%s", base, probes[i]);
        if (!pr) continue;
        if (init && !sidecar) {
            api_forbidden(c->d, p,
                          "may not be set for init containers without restartPolicy=Always");
            continue;
        }
        if (i == 3) check_lifecycle(c->d, pr, p);
        else check_probe(c->d, pr, p, i == 1);
    }
}

/* Kubernetes refuses no_new_privs where it cannot hold: a privileged
 * container, or one adding CAP_SYS_ADMIN, can gain privileges anyway. */
static void check_escalation(struct api_diag *d, const json_t *sc, const char *base)
{
    char p[API_PATH_MAX];
    size_t i;
    json_t *cap;

    if (!json_is_false(json_object_get(sc, "allowPrivilegeEscalation"))) return;
    api_pathf(p, "%s.securityContext", base);
    if (json_is_true(json_object_get(sc, "privileged")))
        api_invalid(d, p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
    json_array_foreach(json_object_get(json_object_get(sc, "capabilities"), "add"), i, cap)
        if (json_string_value(cap) && strcmp(json_string_value(cap), "CAP_SYS_ADMIN") == 0)
            api_invalid(d, p, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN");
}

static void check_container(struct podctx *c, const json_t *ctr, const char *base, bool init)
{
    char p[API_PATH_MAX];
    const char *image = api_str(ctr, "image");
    api_check_name(c->d, ctr, "name", base, orc_dns1123_label);
    api_pathf(p, "%s.image", base);
    if (image && image[0]
        && (strchr(" \t\n", image[0]) || strchr(" \t\n", image[strlen(image) - 1])))
        api_invalid_str(c->d, p, image, "must not have leading or trailing whitespace");
    api_check_enum(c->d, ctr, "imagePullPolicy", base, pull_policies);
    api_check_enum(c->d, ctr, "terminationMessagePolicy", base, msg_policies);
    if (init)
        api_check_enum(c->d, ctr, "restartPolicy", base, (const char *const[]){"Always", NULL});
    api_pathf(p, "%s.ports", base);
    check_ports(c, api_arr(ctr, "ports"), p);
    api_pathf(p, "%s.env", base);
    check_env(c->d, api_arr(ctr, "env"), p);
    api_pathf(p, "%s.envFrom", base);
    check_env_from(c->d, api_arr(ctr, "envFrom"), p);
    api_pathf(p, "%s.resources", base);
    if (api_obj(ctr, "resources")) check_resources(c->d, api_obj(ctr, "resources"), p);
    api_pathf(p, "%s.volumeMounts", base);
    check_mounts(c, api_arr(ctr, "volumeMounts"), p);
    check_container_probes(c, ctr, base, init);
    check_escalation(c->d, api_obj(ctr, "securityContext"), base);
}

static void check_containers(struct podctx *c, const char *base)
{
    static const char *const lists[] = {"initContainers", "containers"};
    json_t *names = json_object();
    char p[API_PATH_MAX];
    for (size_t l = 0; l < 2; l++) {
        const json_t *arr = api_arr(c->spec, lists[l]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            const json_t *ctr = json_array_get(arr, i);
            const char *name = api_str(ctr, "name");
            api_pathf(p, "%s.%s[%zu]", base, lists[l], i);
            if (!json_is_object(ctr)) continue;
            check_container(c, ctr, p, l == 0);
            api_pathf(p, "%s.%s[%zu].name", base, lists[l], i);
            if (name && name[0] && names && json_object_get(names, name))
                api_duplicate(c->d, p, json_object_get(ctr, "name"));
            else if (name && name[0] && names) json_object_set_new(names, name, json_true());
        }
    }
    json_decref(names);
    api_pathf(p, "%s.containers", base);
    if (json_array_size(api_arr(c->spec, "containers")) == 0) api_required(c->d, p, NULL);
}

void api_rules_containers(struct api_diag *d, const json_t *spec, const char *base,
                          const json_t *volume_names)
{
    struct podctx c = {d, spec, volume_names, api_is_true(spec, "hostNetwork")};
    check_containers(&c, base);
}
