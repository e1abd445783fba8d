/* podspec_env.c — a container's environment as the kubelet builds it:
 * envFrom sources, then env entries with $(VAR) expansion and valueFrom. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/podspec.h"
#include "agent/podspec_int.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/names.h"
#include "lib/orc.h"

#define ERRLEN 256
#define SKIP 1 /* an optional source or key is missing: no variable */

struct envctx {
    const json_t *pod, *container;
    const char *ns, *pod_ip, *host_ip;
    const struct podspec_lookup *lk;
    struct podspec_strv out;
    struct podspec_strv svc; /* the Service variables, added last */
    char *errmsg;
};

/* $(VAR): the container's own variables first, then the Services'. */
static const char *env_or_service(void *arg, const char *name, size_t len)
{
    struct envctx *c = arg;
    const char *v = podspec_env_lookup(c->out.v, name, len);
    return v ? v : podspec_env_lookup(c->svc.v, name, len);
}

/* Sets name to val[0..vlen): replaces the value of an earlier entry in
 * place, else appends. */
static int env_set(struct envctx *c, const char *name, const char *val, size_t vlen)
{
    struct orc_buf b = ORC_BUF_INIT;
    size_t nlen = strlen(name);
    char *str;

    if (orc_buf_printf(&b, "%s=", name) != 0 || orc_buf_append(&b, val, vlen) != 0) {
        orc_buf_free(&b);
        return ORC_ENOMEM;
    }
    if ((str = podspec_buf_str(&b)) == NULL) return ORC_ENOMEM;
    for (size_t i = 0; i < c->out.n; i++) {
        if (strncmp(c->out.v[i], name, nlen) == 0 && c->out.v[i][nlen] == '=') {
            free(c->out.v[i]);
            c->out.v[i] = str;
            return 0;
        }
    }
    return podspec_strv_push(&c->out, str);
}

static const json_t *get_source(struct envctx *c, bool secret, const char *name)
{
    if (c->lk == NULL || c->lk->get == NULL) return NULL;
    return c->lk->get(c->lk->arg, secret ? "secrets" : "configmaps", c->ns, name);
}

static int not_found(struct envctx *c, bool secret, const char *name)
{
    return orc_errf(c->errmsg, ERRLEN, ORC_ENOENT, "%s \"%s\" not found",
                    secret ? "secret" : "configmap", name);
}

/* A value of a ConfigMap's or Secret's data (a Secret's decoded) into out.
 * ORC_ENOENT when the key is absent, ORC_EINVAL for bad base64. */
static int source_value(const json_t *obj, bool secret, const char *key, struct orc_buf *out)
{
    const char *v = json_string_value(json_object_get(json_object_get(obj, "data"), key));

    orc_buf_reset(out);
    if (v == NULL) return ORC_ENOENT;
    if (secret) return orc_base64_decode(v, strlen(v), false, out);
    return orc_buf_puts(out, v);
}

static int bad_secret(struct envctx *c, const char *name, const char *key)
{
    return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "secret %s/%s: key %s is not valid base64",
                    c->ns, name, key);
}

/* One source's data, keys in sorted order, each with the prefix. */
static int env_from_data(struct envctx *c, const json_t *obj, bool secret, const char *name,
                         const char *prefix)
{
    const json_t *data = json_object_get(obj, "data");
    struct orc_buf var = ORC_BUF_INIT, val = ORC_BUF_INIT;
    size_t n;
    const char **keys = orc_json_sorted_keys(data, &n);
    char msg[8];
    int rv = n == 0 && json_object_size(data) > 0 ? ORC_ENOMEM : 0;

    for (size_t i = 0; rv == 0 && i < n; i++) {
        orc_buf_reset(&var);
        if ((rv = orc_buf_printf(&var, "%s%s", prefix, keys[i])) != 0) break;
        if (orc_env_var_name(var.data, var.len, msg, sizeof msg) != 0) continue;
        rv = source_value(obj, secret, keys[i], &val);
        if (rv == ORC_EINVAL) rv = bad_secret(c, name, keys[i]);
        else if (rv == 0) rv = env_set(c, var.data, val.data ? val.data : "", val.len);
    }
    free(keys);
    orc_buf_free(&var);
    orc_buf_free(&val);
    return rv;
}

static int env_from(struct envctx *c, const json_t *ef)
{
    const char *prefix = json_string_value(json_object_get(ef, "prefix"));
    const json_t *ref = json_object_get(ef, "configMapRef"), *obj;
    bool secret = false;
    const char *name;

    if (ref == NULL) {
        ref = json_object_get(ef, "secretRef");
        secret = true;
    }
    if (ref == NULL) return 0;
    name = json_string_value(json_object_get(ref, "name"));
    if (name == NULL) name = "";
    if ((obj = get_source(c, secret, name)) == NULL)
        return json_is_true(json_object_get(ref, "optional")) ? 0 : not_found(c, secret, name);
    return env_from_data(c, obj, secret, name, prefix ? prefix : "");
}

/* valueFrom.configMapKeyRef / secretKeyRef. */
static int key_ref(struct envctx *c, const json_t *ref, bool secret, struct orc_buf *out)
{
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *key = json_string_value(json_object_get(ref, "key"));
    bool optional = json_is_true(json_object_get(ref, "optional"));
    const json_t *obj;
    int rv;

    if (name == NULL) name = "";
    if (key == NULL) key = "";
    if ((obj = get_source(c, secret, name)) == NULL)
        return optional ? SKIP : not_found(c, secret, name);
    rv = source_value(obj, secret, key, out);
    if (rv == ORC_ENOENT && optional) return SKIP;
    if (rv == ORC_ENOENT)
        return orc_errf(c->errmsg, ERRLEN, rv, "couldn't find key %s in %s %s/%s", key,
                        secret ? "Secret" : "ConfigMap", c->ns, name);
    if (rv == ORC_EINVAL) return bad_secret(c, name, key);
    return rv;
}

/* Go's %q for the byte strings labels and annotations hold. */
static int quote(struct orc_buf *out, const char *s)
{
    int rv = orc_buf_puts(out, "\"");

    for (; rv == 0 && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') rv = orc_buf_printf(out, "\\%c", ch);
        else if (ch == '\n') rv = orc_buf_puts(out, "\\n");
        else if (ch == '\t') rv = orc_buf_puts(out, "\\t");
        else if (ch == '\r') rv = orc_buf_puts(out, "\\r");
        else if (ch < 0x20 || ch == 0x7f) rv = orc_buf_printf(out, "\\x%02x", ch);
        else rv = orc_buf_append(out, s, 1);
    }
    return rv ? rv : orc_buf_puts(out, "\"");
}

/* metadata.labels as the downward API prints a map: k="v" lines, sorted. */
static int format_map(const json_t *m, struct orc_buf *out)
{
    size_t n;
    const char **keys = orc_json_sorted_keys(m, &n);
    int rv = n == 0 && json_object_size(m) > 0 ? ORC_ENOMEM : 0;

    for (size_t i = 0; rv == 0 && i < n; i++) {
        const char *v = json_string_value(json_object_get(m, keys[i]));
        rv = orc_buf_printf(out, "%s%s=", i ? "\n" : "", keys[i]);
        if (rv == 0) rv = quote(out, v ? v : "");
    }
    free(keys);
    return rv;
}

/* metadata.labels['k'] / metadata.annotations['k']: 1 when path is
 * subscripted like that (value in out), 0 when not. */
static int subscript(const json_t *pod, const char *path, struct orc_buf *out, int *rv)
{
    static const char *const maps[] = {"metadata.labels", "metadata.annotations"};
    size_t len = strlen(path);

    for (size_t i = 0; i < ORC_ARRAY_LEN(maps); i++) {
        size_t ml = strlen(maps[i]);
        if (strncmp(path, maps[i], ml) != 0 || strncmp(path + ml, "['", 2) != 0) continue;
        if (len < ml + 4 || strcmp(path + len - 2, "']") != 0) return 0;
        const json_t *m = orc_json_get(pod, maps[i]);
        char key[256];
        size_t kl = len - ml - 4;
        if (kl >= sizeof key) kl = sizeof key - 1;
        memcpy(key, path + ml + 2, kl);
        key[kl] = '\0';
        const char *v = json_string_value(json_object_get(m, key));
        *rv = orc_buf_puts(out, v ? v : "");
        return 1;
    }
    return 0;
}

static int field_ref(struct envctx *c, const char *path, struct orc_buf *out)
{
    static const char *const plain[] = {"metadata.name", "metadata.namespace", "metadata.uid",
                                        "spec.nodeName", "spec.serviceAccountName"};
    const char *v = NULL;
    int rv = 0;

    if (strcmp(path, "status.podIP") == 0)
        v = c->pod_ip ? c->pod_ip : orc_json_str(c->pod, "status.podIP");
    else if (strcmp(path, "status.hostIP") == 0)
        v = c->host_ip ? c->host_ip : orc_json_str(c->pod, "status.hostIP");
    else if (strcmp(path, "metadata.labels") == 0 || strcmp(path, "metadata.annotations") == 0)
        return format_map(orc_json_get(c->pod, path), out);
    else if (subscript(c->pod, path, out, &rv))
        return rv;
    else {
        size_t i = 0;
        while (i < ORC_ARRAY_LEN(plain) && strcmp(path, plain[i]) != 0) i++;
        if (i == ORC_ARRAY_LEN(plain))
            return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "unsupported fieldRef %s", path);
        v = orc_json_str(c->pod, path);
    }
    return orc_buf_puts(out, v ? v : "");
}

static const json_t *find_container(const json_t *pod, const char *name)
{
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    size_t i;
    json_t *ct;

    for (size_t l = 0; l < ORC_ARRAY_LEN(lists); l++)
        json_array_foreach (orc_json_get(pod, lists[l]), i, ct) {
            const char *n = json_string_value(json_object_get(ct, "name"));
            if (n && strcmp(n, name) == 0) return ct;
        }
    return NULL;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b != 0);
}

/* A container's quantity (requests fall back to limits, as defaulting does). */
static int container_qty(const json_t *ct, const char *kind, const char *res, int64_t *milli)
{
    const json_t *r = json_object_get(ct, "resources");
    bool present;
    int rv = podspec_qty(json_object_get(json_object_get(r, kind), res), milli, &present);

    if (rv == 0 && !present && strcmp(kind, "requests") == 0)
        rv = podspec_qty(json_object_get(json_object_get(r, "limits"), res), milli, &present);
    return rv;
}

static int resource_ref(struct envctx *c, const json_t *ref, struct orc_buf *out)
{
    const char *cname = json_string_value(json_object_get(ref, "containerName"));
    const char *res = json_string_value(json_object_get(ref, "resource"));
    const json_t *ct = c->container;
    int64_t div, val;
    bool present, cpu;
    char kind[16];

    if (cname && *cname && (ct = find_container(c->pod, cname)) == NULL)
        return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "resourceFieldRef: no container %s", cname);
    if (res == NULL) res = "";
    cpu = strcmp(res, "limits.cpu") == 0 || strcmp(res, "requests.cpu") == 0;
    if (!cpu && strcmp(res, "limits.memory") != 0 && strcmp(res, "requests.memory") != 0)
        return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "unsupported container resource : %s", res);
    snprintf(kind, sizeof kind, "%s", res[0] == 'l' ? "limits" : "requests");
    if (podspec_qty(json_object_get(ref, "divisor"), &div, &present) != 0 ||
        container_qty(ct, kind, cpu ? "cpu" : "memory", &val) != 0)
        return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "resourceFieldRef %s: bad quantity", res);
    if (div == 0) div = 1000;
    if (!cpu) {
        val = ceil_div(val, 1000);
        div = ceil_div(div, 1000);
    }
    return orc_buf_printf(out, "%lld", (long long)ceil_div(val, div));
}

static int value_from(struct envctx *c, const json_t *vf, struct orc_buf *out)
{
    const json_t *r;

    if ((r = json_object_get(vf, "configMapKeyRef"))) return key_ref(c, r, false, out);
    if ((r = json_object_get(vf, "secretKeyRef"))) return key_ref(c, r, true, out);
    if ((r = json_object_get(vf, "resourceFieldRef"))) return resource_ref(c, r, out);
    if ((r = json_object_get(vf, "fieldRef"))) {
        const char *path = json_string_value(json_object_get(r, "fieldPath"));
        return field_ref(c, path ? path : "", out);
    }
    return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "valueFrom: no source given");
}

static int env_entry(struct envctx *c, const json_t *e)
{
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *value = json_string_value(json_object_get(e, "value"));
    const json_t *vf = json_object_get(e, "valueFrom");
    struct orc_buf v = ORC_BUF_INIT;
    int rv = 0;

    if (name == NULL) return orc_errf(c->errmsg, ERRLEN, ORC_EINVAL, "env: an entry has no name");
    if (value && *value) {
        char *x = podspec_expand(value, env_or_service, c);
        rv = x ? orc_buf_puts(&v, x) : ORC_ENOMEM;
        free(x);
    } else if (vf) {
        rv = value_from(c, vf, &v);
    }
    if (rv == 0) rv = env_set(c, name, v.data ? v.data : "", v.len);
    orc_buf_free(&v);
    return rv == SKIP ? 0 : rv;
}

static int env_all(struct envctx *c)
{
    size_t i;
    json_t *item;
    int rv;

    json_array_foreach (json_object_get(c->container, "envFrom"), i, item)
        if ((rv = env_from(c, item)) != 0) return rv;
    json_array_foreach (json_object_get(c->container, "env"), i, item)
        if ((rv = env_entry(c, item)) != 0) return rv;
    for (i = 0; i < c->svc.n; i++) {
        const char *eq = strchr(c->svc.v[i], '=');
        if (podspec_env_lookup(c->out.v, c->svc.v[i], (size_t)(eq - c->svc.v[i]))) continue;
        char *copy = strdup(c->svc.v[i]);
        if ((rv = podspec_strv_push(&c->out, copy)) != 0) return rv;
    }
    if (c->out.v == NULL && (c->out.v = calloc(1, sizeof *c->out.v)) == NULL) return ORC_ENOMEM;
    return 0;
}

int podspec_env(const json_t *pod, const json_t *container, const char *pod_ip, const char *host_ip,
                const struct podspec_lookup *lk, char ***env_out, char *errmsg)
{
    struct envctx c = {pod, container, NULL, pod_ip, host_ip, lk, {NULL, 0, 0}, {NULL, 0, 0}, errmsg};
    int rv;

    c.ns = orc_json_str(pod, "metadata.namespace");
    if (c.ns == NULL) c.ns = "default";
    *env_out = NULL;
    if ((rv = podspec_service_env(pod, lk, &c.svc)) != 0 || (rv = env_all(&c)) != 0) {
        if (rv == ORC_ENOMEM) orc_errf(errmsg, ERRLEN, rv, "out of memory");
        podspec_strv_free(c.out.v);
        podspec_strv_free(c.svc.v);
        return rv;
    }
    podspec_strv_free(c.svc.v);
    *env_out = c.out.v;
    return 0;
}
