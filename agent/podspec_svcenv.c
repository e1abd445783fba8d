/* podspec_svcenv.c — the Service environment variables the kubelet gives
 * every container (pkg/kubelet/envvars): {NAME}_SERVICE_HOST/_PORT and
 * the Docker-link {NAME}_PORT_* ones, for the Services of the pod's
 * namespace (enableServiceLinks, true by default) and always for
 * default/kubernetes, so in-cluster clients find the API. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/podspec.h"
#include "agent/podspec_int.h"
#include "lib/json.h"
#include "lib/orc.h"

#define MAX_SVCS 4096 /* a namespace's Services the environment holds */

struct svc_pick {
    const json_t *v[MAX_SVCS];
    size_t n;
    bool own_ns; /* collecting the pod's namespace: its Services win */
};

static bool has_cluster_ip(const json_t *svc)
{
    const char *ip = orc_json_str(svc, "spec.clusterIP");
    return ip && *ip && strcmp(ip, "None") != 0;
}

static const char *name_of(const json_t *svc) { return orc_json_str(svc, "metadata.name"); }

static void pick(void *arg, const json_t *svc)
{
    struct svc_pick *p = arg;
    const char *name = name_of(svc);
    if (!name || !has_cluster_ip(svc)) return;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(name_of(p->v[i]), name) != 0) continue;
        if (p->own_ns) p->v[i] = svc;
        return;
    }
    if (p->n < MAX_SVCS) p->v[p->n++] = svc;
}

static void pick_kubernetes(void *arg, const json_t *svc)
{
    const char *name = name_of(svc);
    if (name && strcmp(name, "kubernetes") == 0) pick(arg, svc);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(name_of(*(const json_t *const *)a), name_of(*(const json_t *const *)b));
}

/* "my-svc" -> "MY_SVC" */
static void env_name(const char *in, char *out, size_t n)
{
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++) out[i] = in[i] == '-' ? '_' : (char)toupper((unsigned char)in[i]);
    out[i] = '\0';
}

static int push(struct podspec_strv *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int push(struct podspec_strv *out, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return podspec_strv_push(out, n < 0 ? NULL : s);
}

/* "TCP" and "tcp" of a port (TCP when unset). */
static void port_proto(const json_t *p, char *upper, char *lower, size_t n)
{
    const char *pr = orc_json_str(p, "protocol");
    size_t k = 0;
    snprintf(upper, n, "%s", pr && *pr ? pr : "TCP");
    for (; upper[k]; k++) lower[k] = (char)tolower((unsigned char)upper[k]);
    lower[k] = '\0';
}

static int link_variables(const char *name, const char *ip, const json_t *p, bool first,
                          struct podspec_strv *out)
{
    long long port = (long long)json_integer_value(json_object_get(p, "port"));
    char up[16], lo[16];
    int rv = 0;

    port_proto(p, up, lo, sizeof up);
    if (first) rv = push(out, "%s_PORT=%s://%s:%lld", name, lo, ip, port);
    if (rv == 0) rv = push(out, "%s_PORT_%lld_%s=%s://%s:%lld", name, port, up, lo, ip, port);
    if (rv == 0) rv = push(out, "%s_PORT_%lld_%s_PROTO=%s", name, port, up, lo);
    if (rv == 0) rv = push(out, "%s_PORT_%lld_%s_PORT=%lld", name, port, up, port);
    if (rv == 0) rv = push(out, "%s_PORT_%lld_%s_ADDR=%s", name, port, up, ip);
    return rv;
}

/* In the kubelet's order: host, first port, named ports, then the links. */
static int one_service(const json_t *svc, struct podspec_strv *out)
{
    const char *ip = orc_json_str(svc, "spec.clusterIP");
    const json_t *ports = orc_json_get(svc, "spec.ports"), *p;
    char name[300], pname[300];
    size_t i;
    int rv;

    env_name(name_of(svc), name, sizeof name);
    if ((rv = push(out, "%s_SERVICE_HOST=%s", name, ip)) != 0) return rv;
    json_array_foreach ((json_t *)ports, i, p) {
        long long port = (long long)json_integer_value(json_object_get(p, "port"));
        const char *pn = orc_json_str(p, "name");
        if (i == 0 && (rv = push(out, "%s_SERVICE_PORT=%lld", name, port)) != 0) return rv;
        if (!pn || !*pn) continue;
        env_name(pn, pname, sizeof pname);
        if ((rv = push(out, "%s_SERVICE_PORT_%s=%lld", name, pname, port)) != 0) return rv;
    }
    json_array_foreach ((json_t *)ports, i, p)
        if ((rv = link_variables(name, ip, p, i == 0, out)) != 0) return rv;
    return 0;
}

int podspec_service_env(const json_t *pod, const struct podspec_lookup *lk, struct podspec_strv *out)
{
    const char *ns = orc_json_str(pod, "metadata.namespace");
    const json_t *links = orc_json_get(pod, "spec.enableServiceLinks");
    struct svc_pick *p;
    int rv = 0;

    if (!lk || !lk->each_service) return 0;
    if (!(p = calloc(1, sizeof *p))) return ORC_ENOMEM;
    if (!ns) ns = "default";
    lk->each_service(lk->arg, "default", pick_kubernetes, p);
    p->own_ns = true;
    if (!json_is_false(links)) lk->each_service(lk->arg, ns, pick, p);
    qsort(p->v, p->n, sizeof *p->v, by_name);
    for (size_t i = 0; rv == 0 && i < p->n; i++) rv = one_service(p->v[i], out);
    free(p);
    return rv;
}
