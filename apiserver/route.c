/* route.c — turns a request target ("/apis/apps/v1/namespaces/default/
 * deployments/web/scale?dryRun=All") into a route: what is addressed and the
 * decoded query parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/server.h"
#include "lib/names.h"
#include "lib/orc.h"
#include "lib/url.h"

#define MAX_SEGMENTS 10


static int parse_query(const char *q, struct api_route *rt)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;

        if (len > 0) {
            if (rt->n_query == API_MAX_QUERY) return ORC_EINVAL;
            struct api_query *p = &rt->query[rt->n_query];
            p->key = orc_url_decode(q, kl, true);
            p->value = eq ? orc_url_decode(eq + 1, len - kl - 1, true) : strdup("");
            if (p->key == NULL || p->value == NULL) {
                free(p->key);
                free(p->value);
                return ORC_EINVAL;
            }
            rt->n_query++;
        }
        q += len + (amp ? 1 : 0);
    }
    return 0;
}

static int copy_seg(char *dst, size_t n, const char *seg)
{
    if (strlen(seg) >= n) return ORC_EINVAL;
    strcpy(dst, seg);
    return 0;
}

/* A namespace or name becomes part of a store key: it must name exactly
 * one object (no "..", no '/' or '%' smuggled in encoded). */
static int copy_name(struct api_route *rt, char *dst, size_t n, const char *seg, const char *what)
{
    char why[96];
    if (orc_path_segment(seg, strlen(seg), why, sizeof why) != 0) {
        snprintf(rt->err, sizeof rt->err, "invalid %s \"%.64s\": %s", what, seg, why);
        return ORC_EINVAL;
    }
    return copy_seg(dst, n, seg);
}

/* segs after the group/version prefix: [namespaces NS] RESOURCE [NAME [SUB]] */
static int route_resource(struct api_route *rt, char **segs, int n)
{
    int i = 0;

    if (n >= 2 && strcmp(segs[0], "namespaces") == 0 && n != 2 && n != 3) {
        /* /namespaces/NS/RESOURCE[/NAME[/SUB]] */
        if (copy_name(rt, rt->ns, sizeof rt->ns, segs[1], "namespace") != 0) return ORC_EINVAL;
        i = 2;
    } else if (n >= 2 && strcmp(segs[0], "namespaces") == 0 && n == 3) {
        /* /namespaces/NS/RESOURCE or /namespaces/NAME/SUB (status, finalize) */
        if (orc_kind_by_resource(rt->group, segs[2]) != NULL) {
            if (copy_name(rt, rt->ns, sizeof rt->ns, segs[1], "namespace") != 0) return ORC_EINVAL;
            i = 2;
        }
    }
    if (i >= n) return ORC_ENOENT;
    rt->kind = orc_kind_by_gvr(rt->group, rt->version, segs[i]);
    if (rt->kind == NULL) return ORC_ENOENT;
    if (rt->ns[0] && !rt->kind->namespaced) return ORC_ENOENT;
    rt->api = api_kind_of(rt->kind);
    i++;
    if (i == n) {
        rt->type = ROUTE_COLLECTION;
        return 0;
    }
    if (copy_name(rt, rt->name, sizeof rt->name, segs[i], "name") != 0) return ORC_EINVAL;
    i++;
    if (i < n && copy_seg(rt->sub, sizeof rt->sub, segs[i++]) != 0) return ORC_EINVAL;
    if (orc_kind_id(rt->kind) == ORC_K_NODE && strcmp(rt->sub, "proxy") == 0) {
        strcpy(rt->proxy_path, "/");
        for (int first = 1; i < n; i++, first = 0)
            if (strlen(rt->proxy_path) + strlen(segs[i]) + 2 > sizeof rt->proxy_path) return ORC_EINVAL;
            else snprintf(rt->proxy_path + strlen(rt->proxy_path), sizeof rt->proxy_path - strlen(rt->proxy_path),
                          "%s%s", first ? "" : "/", segs[i]);
    }
    if (i != n) return ORC_ENOENT;
    rt->type = ROUTE_OBJECT;
    return 0;
}

/* metrics.k8s.io/v1beta1: [namespaces/NS/]{nodes,pods}[/NAME], served from
 * memory (metrics_api.c), outside the kind table. */
static int route_metrics(struct api_route *rt, char **segs, int n)
{
    int i = 0;

    if (strcmp(rt->version, "v1beta1") != 0) return ORC_ENOENT;
    if (n >= 3 && strcmp(segs[0], "namespaces") == 0) {
        if (copy_name(rt, rt->ns, sizeof rt->ns, segs[1], "namespace") != 0) return ORC_EINVAL;
        i = 2;
    }
    if (i >= n || n - i > 2) return ORC_ENOENT;
    if (strcmp(segs[i], "pods") != 0 && (strcmp(segs[i], "nodes") != 0 || rt->ns[0])) return ORC_ENOENT;
    strcpy(rt->internal, segs[i]);
    if (n - i == 2 && copy_name(rt, rt->name, sizeof rt->name, segs[i + 1], "name") != 0) return ORC_EINVAL;
    rt->type = ROUTE_METRICS_API;
    return 0;
}

/* /openapi/v2, /openapi/v3, /openapi/v3/api/V, /openapi/v3/apis/G/V */
static int route_openapi(struct api_route *rt, char **segs, int n)
{
    if (n == 2 && strcmp(segs[1], "v2") == 0) {
        rt->type = ROUTE_OPENAPI_V2;
        return 0;
    }
    if (strcmp(segs[1], "v3") != 0) return ORC_ENOENT;
    rt->type = ROUTE_OPENAPI_V3;
    if (n == 2) return 0;
    if (n == 4 && strcmp(segs[2], "api") == 0)
        return copy_seg(rt->version, sizeof rt->version, segs[3]) == 0 ? 0 : ORC_ENOENT;
    if (n == 5 && strcmp(segs[2], "apis") == 0 && copy_seg(rt->group, sizeof rt->group, segs[3]) == 0
        && copy_seg(rt->version, sizeof rt->version, segs[4]) == 0)
        return 0;
    return ORC_ENOENT;
}

static int route_segments(struct api_route *rt, char **segs, int n)
{
    if (n == 1 && strcmp(segs[0], "healthz") == 0) rt->type = ROUTE_HEALTHZ;
    else if (n == 1 && strcmp(segs[0], "livez") == 0) rt->type = ROUTE_HEALTHZ;
    else if (n == 1 && strcmp(segs[0], "readyz") == 0) rt->type = ROUTE_READYZ;
    else if (n == 1 && strcmp(segs[0], "version") == 0) rt->type = ROUTE_VERSION;
    else if (n == 1 && strcmp(segs[0], "metrics") == 0) rt->type = ROUTE_METRICS;
    else if (n == 1 && strcmp(segs[0], "api") == 0) rt->type = ROUTE_API_VERSIONS;
    else if (n == 1 && strcmp(segs[0], "apis") == 0) rt->type = ROUTE_API_GROUPS;
    else if (n >= 2 && strcmp(segs[0], "openapi") == 0) return route_openapi(rt, segs, n);
    else if (n == 2 && strcmp(segs[0], ".well-known") == 0 && strcmp(segs[1], "openid-configuration") == 0)
        rt->type = ROUTE_OIDC;
    else if (n == 3 && strcmp(segs[0], "openid") == 0 && strcmp(segs[1], "v1") == 0
             && strcmp(segs[2], "jwks") == 0) {
        rt->type = ROUTE_OIDC;
        strcpy(rt->internal, "jwks");
    }
    else if (n >= 2 && strcmp(segs[0], "internal") == 0 && strcmp(segs[1], "v1") == 0) {
        rt->type = ROUTE_INTERNAL;
        for (int i = 2; i < n; i++) {
            size_t l = strlen(rt->internal);
            if (l + strlen(segs[i]) + 2 > sizeof rt->internal) return ORC_EINVAL;
            if (i > 2) strcat(rt->internal, "/");
            strcat(rt->internal, segs[i]);
        }
    } else if (n >= 2 && strcmp(segs[0], "api") == 0) {
        strcpy(rt->version, strlen(segs[1]) < sizeof rt->version ? segs[1] : "");
        if (n == 2) rt->type = ROUTE_RESOURCE_LIST;
        else return route_resource(rt, segs + 2, n - 2);
    } else if (n >= 2 && strcmp(segs[0], "apis") == 0) {
        if (copy_seg(rt->group, sizeof rt->group, segs[1]) != 0) return ORC_ENOENT;
        if (n == 2) rt->type = ROUTE_API_GROUP;
        else {
            if (copy_seg(rt->version, sizeof rt->version, segs[2]) != 0) return ORC_ENOENT;
            if (n == 3) rt->type = ROUTE_RESOURCE_LIST;
            else if (strcmp(rt->group, "metrics.k8s.io") == 0) return route_metrics(rt, segs + 3, n - 3);
            else if (n == 4 && strcmp(rt->group, "authentication.k8s.io") == 0
                     && strcmp(rt->version, "v1") == 0 && strcmp(segs[3], "selfsubjectreviews") == 0)
                rt->type = ROUTE_SELF_REVIEW; /* created, never stored */
            else return route_resource(rt, segs + 3, n - 3);
        }
    } else {
        return ORC_ENOENT;
    }
    return 0;
}

int api_route_parse(const char *target, struct api_route *rt)
{
    const char *qmark = strchr(target, '?');
    size_t plen = qmark ? (size_t)(qmark - target) : strlen(target);
    char *segs[MAX_SEGMENTS];
    int n = 0, rv = 0;
    const char *p = target;

    memset(rt, 0, sizeof *rt);
    if (plen == 0 || target[0] != '/') return ORC_EINVAL;
    if (qmark && (rv = parse_query(qmark + 1, rt)) != 0) return rv;
    while (p < target + plen) {
        const char *start = ++p;
        while (p < target + plen && *p != '/') p++;
        if (p == start) continue; /* empty segment ("//" or trailing "/") */
        if (n == MAX_SEGMENTS) {
            rv = ORC_ENOENT;
            goto out;
        }
        segs[n] = orc_url_decode(start, (size_t)(p - start), false);
        if (segs[n] == NULL || strchr(segs[n], '/') != NULL) {
            free(segs[n]);
            rv = ORC_EINVAL;
            goto out;
        }
        n++;
    }
    rv = route_segments(rt, segs, n);
out:
    for (int i = 0; i < n; i++) free(segs[i]);
    return rv;
}

void api_route_clear(struct api_route *r)
{
    for (int i = 0; i < r->n_query; i++) {
        free(r->query[i].key);
        free(r->query[i].value);
    }
    r->n_query = 0;
}

void api_route_free(void *r)
{
    api_route_clear(r);
    free(r);
}

const char *api_query_get(const struct api_route *r, const char *key)
{
    for (int i = 0; i < r->n_query; i++)
        if (strcmp(r->query[i].key, key) == 0) return r->query[i].value;
    return NULL;
}

/* As Kubernetes converts a query value to a bool: only "false" (in any
 * case) and "0" are false; any other value, "" included, is true. */
bool api_query_bool(const struct api_route *r, const char *key)
{
    const char *v = api_query_get(r, key);
    return v != NULL && strcasecmp(v, "false") != 0 && strcmp(v, "0") != 0;
}
