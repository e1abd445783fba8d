/* net_cni_exec.c — one CNI plugin run, as the specification defines the
 * protocol: the plugin binary found in CNI_PATH, parameters in CNI_*
 * environment variables, the network configuration on stdin, a result or
 * a JSON error ({code, msg, details}) on stdout. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_cni.h"
#include "agent/net_int.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/run.h"

/* ---- the request ---- */

static int copy_fields(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)src, k, v) {
        if (json_object_set(dst, k, v) != 0) return ORC_ENOMEM;
    }
    return 0;
}

/* The runtimeConfig of the capabilities the plugin declares and rt holds. */
static json_t *runtime_for(const json_t *plugin, const json_t *rt)
{
    const json_t *caps = json_object_get(plugin, "capabilities");
    json_t *out = json_object(), *v;
    const char *k;

    if (out == NULL) return NULL;
    json_object_foreach((json_t *)caps, k, v) {
        json_t *val = json_object_get(rt, k);
        if (json_is_true(v) && val && json_object_set(out, k, val) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *net_cni_plugin_request(const json_t *list, size_t i, const json_t *prev, const json_t *rt)
{
    const json_t *plugin = json_array_get(json_object_get(list, "plugins"), i);
    json_t *req = json_object(), *rc = NULL;
    int rv;

    if (req == NULL || plugin == NULL) goto fail;
    rv = copy_fields(req, plugin);
    if (rv == 0) rv = json_object_set(req, "name", json_object_get(list, "name"));
    if (rv == 0) rv = json_object_set(req, "cniVersion", json_object_get(list, "cniVersion"));
    if (rv == 0 && prev) rv = json_object_set(req, "prevResult", (json_t *)prev);
    if (rv != 0) goto fail;
    json_object_del(req, "runtimeConfig");
    rc = runtime_for(plugin, rt);
    if (rc == NULL) goto fail;
    if (json_object_size(rc) > 0) {
        if (json_object_set_new(req, "runtimeConfig", rc) != 0) goto fail;
    } else {
        json_decref(rc);
    }
    return req;
fail:
    json_decref(req);
    return NULL;
}

json_t *net_cni_runtime(const struct net_port *ports, size_t n)
{
    json_t *rt = json_object(), *pm = json_array();

    if (rt == NULL || pm == NULL) goto fail;
    for (size_t i = 0; i < n; i++) {
        char proto[8];
        size_t j;
        if (ports[i].host_port <= 0) continue;
        snprintf(proto, sizeof proto, "%s", ports[i].protocol ? ports[i].protocol : "TCP");
        for (j = 0; proto[j]; j++) proto[j] = (char)(proto[j] >= 'A' && proto[j] <= 'Z' ? proto[j] + 32 : proto[j]);
        json_t *m = json_pack("{s:i, s:i, s:s}", "hostPort", ports[i].host_port, "containerPort",
                              ports[i].container_port, "protocol", proto);
        if (m && ports[i].host_ip && *ports[i].host_ip)
            json_object_set_new(m, "hostIP", json_string(ports[i].host_ip));
        if (m == NULL || json_array_append_new(pm, m) != 0) goto fail;
    }
    if (json_array_size(pm) > 0) return json_object_set_new(rt, "portMappings", pm) == 0 ? rt : NULL;
    json_decref(pm);
    return rt;
fail:
    json_decref(pm);
    json_decref(rt);
    return NULL;
}

void net_cni_args(const char *uid, const char *ns, const char *name, char *out, size_t n)
{
    snprintf(out, n,
             "IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_INFRA_CONTAINER_ID=%s;"
             "K8S_POD_UID=%s",
             ns ? ns : "", name ? name : "", uid, uid);
}

/* ---- the result ---- */

static int strip_prefix(const char *cidr, char out[46])
{
    struct in_addr a;
    const char *slash = cidr ? strchr(cidr, '/') : NULL;
    size_t len = slash ? (size_t)(slash - cidr) : (cidr ? strlen(cidr) : 0);

    if (len == 0 || len >= 46) return ORC_ENOENT;
    memcpy(out, cidr, len);
    out[len] = '\0';
    return inet_pton(AF_INET, out, &a) == 1 ? 0 : ORC_ENOENT;
}

int net_cni_result_ip(const json_t *result, char ip[46], char gw[46])
{
    const json_t *ips = json_object_get(result, "ips"), *e;
    const char *g;
    size_t i;

    ip[0] = gw[0] = '\0';
    json_array_foreach(ips, i, e) { /* 0.3.0 and later */
        if (strip_prefix(orc_json_str(e, "address"), ip) != 0) continue;
        g = orc_json_str(e, "gateway");
        snprintf(gw, 46, "%s", g ? g : "");
        return 0;
    }
    if (strip_prefix(orc_json_str(result, "ip4.ip"), ip) == 0) { /* 0.1.0, 0.2.0 */
        g = orc_json_str(result, "ip4.gateway");
        snprintf(gw, 46, "%s", g ? g : "");
        return 0;
    }
    ip[0] = '\0';
    return ORC_ENOENT;
}

/* ---- running it ---- */

/* The plugin binary: the first dir of bin_dir that has it. */
static int find_plugin(const char *bin_dir, const char *type, char *out, size_t n, char *errmsg)
{
    const char *p = bin_dir;

    while (*p) {
        size_t len = strcspn(p, ":");
        if (len > 0 && (size_t)snprintf(out, n, "%.*s/%s", (int)len, p, type) < n
            && access(out, X_OK) == 0)
            return 0;
        p += len + (p[len] == ':');
    }
    return orc_errf(errmsg, NET_ERRLEN, ORC_ENOENT, "failed to find plugin \"%s\" in path [%s]",
                    type, bin_dir);
}

/* The plugin's own words: its JSON error's msg and details, else its
 * stderr's first line. */
static void plugin_words(const struct orc_buf *out, const struct orc_buf *err, char *words, size_t n)
{
    json_t *e = out->len ? orc_json_loadb(out->data, out->len, 0, NULL) : NULL;
    const char *msg = orc_json_str(e, "msg"), *details = orc_json_str(e, "details");
    int64_t code = 0;

    orc_json_int(e, "code", &code);
    if (msg && details && *details) snprintf(words, n, "%s; %s (code %lld)", msg, details, (long long)code);
    else if (msg) snprintf(words, n, "%s (code %lld)", msg, (long long)code);
    else orc_run_first_line(err->len ? err->data : out->data, words, n);
    if (words[0] == '\0') snprintf(words, n, "no error message");
    json_decref(e);
}

static int run_plugin(const struct net_cni_call *call, const char *prog, const char *conf_text,
                      struct orc_buf *out, struct orc_buf *err)
{
    char e_cmd[32], e_id[128], e_ns[256], e_if[32], e_path[1100], e_args[700], e_env[1200];
    const char *path = getenv("PATH");
    char *env[] = {e_cmd, e_id, e_ns, e_if, e_path, e_args, e_env, NULL};
    char *argv[] = {(char *)prog, NULL};
    struct orc_run_io io = {conf_text, strlen(conf_text), out, err};
    struct orc_run_opts opts = {env, call->timeout_ms ? call->timeout_ms : NET_CNI_TIMEOUT_MS};

    snprintf(e_cmd, sizeof e_cmd, "CNI_COMMAND=%s", call->command);
    snprintf(e_id, sizeof e_id, "CNI_CONTAINERID=%s", call->container);
    snprintf(e_ns, sizeof e_ns, "CNI_NETNS=%s", call->netns ? call->netns : "");
    snprintf(e_if, sizeof e_if, "CNI_IFNAME=%s", call->ifname ? call->ifname : NET_CNI_IFNAME);
    snprintf(e_path, sizeof e_path, "CNI_PATH=%s", call->bin_dir);
    snprintf(e_args, sizeof e_args, "CNI_ARGS=%s", call->args ? call->args : "");
    /* portmap and bridge run iptables: the sbin dirs must be there */
    snprintf(e_env, sizeof e_env, "PATH=%s:/usr/sbin:/sbin", path && *path ? path : "/usr/bin:/bin");
    return orc_run_opts(argv, &io, &opts);
}

int net_cni_exec(const struct net_cni_call *call, const json_t *conf, json_t **result,
                 char *errmsg)
{
    const char *type = orc_json_str(conf, "type"), *name = orc_json_str(conf, "name");
    struct orc_buf out = ORC_BUF_INIT, err = ORC_BUF_INIT;
    char prog[1100], words[400];
    char *text = NULL;
    int st, rv;

    *result = NULL;
    rv = find_plugin(call->bin_dir, type ? type : "", prog, sizeof prog, errmsg);
    if (rv != 0) return rv;
    if ((text = orc_json_dumps(conf)) == NULL)
        return orc_errf(errmsg, NET_ERRLEN, ORC_ENOMEM, "out of memory");
    st = run_plugin(call, prog, text, &out, &err);
    free(text);
    if (st == ORC_ETIMEDOUT) {
        rv = orc_errf(errmsg, NET_ERRLEN, ORC_ETIMEDOUT, "plugin type=\"%s\" name=\"%s\" failed (%s): "
                      "no answer in %u ms", type, name ? name : "", call->command,
                      call->timeout_ms ? call->timeout_ms : NET_CNI_TIMEOUT_MS);
    } else if (st != 0) {
        plugin_words(&out, &err, words, sizeof words);
        rv = orc_errf(errmsg, NET_ERRLEN, st < 0 ? st : ORC_EIO,
                      "plugin type=\"%s\" name=\"%s\" failed (%s): %s", type, name ? name : "",
                      strcmp(call->command, "ADD") == 0 ? "add" : strcmp(call->command, "DEL") == 0 ? "delete" : "check",
                      st < 0 ? orc_strerror(st) : words);
    } else if (strcmp(call->command, "ADD") == 0) {
        *result = out.len ? orc_json_loadb(out.data, out.len, 0, NULL) : NULL;
        if (!json_is_object(*result)) {
            json_decref(*result);
            *result = NULL;
            rv = orc_errf(errmsg, NET_ERRLEN, ORC_EPROTO,
                          "plugin type=\"%s\" name=\"%s\" failed (add): its result is not a JSON object",
                          type, name ? name : "");
        }
    }
    orc_buf_free(&out);
    orc_buf_free(&err);
    return rv;
}
