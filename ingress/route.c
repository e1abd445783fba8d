/* route.c — the Ingress routing table (see route.h): built whole from the
 * cached objects, matched per request. */
#include "ingress/route.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hmap.h"
#include "lib/names.h"
#include "lib/orc.h"

enum { PATH_EXACT, PATH_PREFIX };

struct route_path {
    char *path;
    size_t len;
    int type;
    struct ingress_backend *be;
};

struct route_host {
    struct orc_hnode node; /* in the table's hosts, keyed by host */
    char *host; /* "example.com", "*.example.com", or "" for rules without one */
    struct route_path *paths;
    size_t n, cap;
};

/* Build-time indexes: a cached object by "ns/name" (a slice by "ns/service",
 * several chained), a backend by its key. */
struct idx {
    struct orc_hnode node;
    char *key;
    const json_t *obj;
    struct ingress_backend *be;
    struct idx *same; /* more objects with this key */
    struct idx *all;  /* every record, for freeing */
};

struct tls_entry {
    char *host; /* NULL: every host */
    char *ns, *secret;
};

struct ingress_table {
    struct route_host **hosts;
    size_t n_hosts, cap_hosts;
    struct orc_hmap host_map;
    struct ingress_backend **bes;
    size_t n_bes, cap_bes;
    struct ingress_backend *def;
    struct tls_entry *tls;
    size_t n_tls, cap_tls;
    /* during the build only */
    struct orc_hmap services, slices, backends;
    struct idx *idx_all;
};

/* ---- small helpers ---- */

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b) v = json_object_get(v, b);
    return json_string_value(v);
}

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * size);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static bool is_true(const char *s) { return s && strcmp(s, "true") == 0; }

/* ---- build-time indexes ---- */

static struct idx *idx_get(const struct orc_hmap *m, const char *key)
{
    return (struct idx *)orc_hmap_get(m, key);
}

/* Adds obj under key (owned by the record); NULL only on ENOMEM. */
static struct idx *idx_add(struct ingress_table *t, struct orc_hmap *m, char *key, const json_t *obj)
{
    struct idx *x = calloc(1, sizeof *x), *head;
    if (!x || !key) {
        free(x);
        free(key);
        return NULL;
    }
    x->key = key;
    x->obj = obj;
    x->all = t->idx_all;
    t->idx_all = x;
    if ((head = idx_get(m, key))) { /* chained behind the first of its key */
        x->same = head->same;
        head->same = x;
        return x;
    }
    x->node.key = x->key;
    return orc_hmap_put(m, &x->node) == 0 ? x : NULL;
}

static int index_inputs(struct ingress_table *t, const struct ingress_inputs *in)
{
    size_t i;
    const json_t *o;
    json_array_foreach(in->services, i, o) {
        const char *ns = str_at(o, "metadata", "namespace"), *nm = str_at(o, "metadata", "name");
        if (ns && nm && !idx_add(t, &t->services, orc_ns_name_key(ns, nm), o)) return ORC_ENOMEM;
    }
    json_array_foreach(in->slices, i, o) {
        const json_t *md = json_object_get(o, "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *svc = json_string_value(
            json_object_get(json_object_get(md, "labels"), "kubernetes.io/service-name"));
        if (ns && svc && !idx_add(t, &t->slices, orc_ns_name_key(ns, svc), o)) return ORC_ENOMEM;
    }
    return 0;
}

static void indexes_free(struct ingress_table *t)
{
    for (struct idx *x = t->idx_all, *next; x; x = next) {
        next = x->all;
        free(x->key);
        free(x);
    }
    t->idx_all = NULL;
    orc_hmap_free(&t->services);
    orc_hmap_free(&t->slices);
    orc_hmap_free(&t->backends);
}

/* ---- class ---- */

static bool class_is_ours(const json_t *classes, const char *name, bool *is_default)
{
    size_t i;
    const json_t *c;
    bool ours = false;
    json_array_foreach(classes, i, c) {
        if (!str_at(c, "spec", "controller") || strcmp(str_at(c, "spec", "controller"), INGRESS_CONTROLLER) != 0)
            continue;
        const json_t *ann = json_object_get(json_object_get(c, "metadata"), "annotations");
        if (is_default && is_true(json_string_value(json_object_get(ann, INGRESS_ANN_DEFAULT_CLASS))))
            *is_default = true;
        const char *cn = str_at(c, "metadata", "name");
        if (name && cn && strcmp(cn, name) == 0) ours = true;
    }
    return ours;
}

bool ingress_is_ours(const json_t *ing, const json_t *classes)
{
    const char *cls = str_at(ing, "spec", "ingressClassName");
    if (!cls) {
        const json_t *ann = json_object_get(json_object_get(ing, "metadata"), "annotations");
        cls = json_string_value(json_object_get(ann, INGRESS_ANN_CLASS));
    }
    if (cls && cls[0]) return class_is_ours(classes, cls, NULL);
    bool def = false;
    class_is_ours(classes, NULL, &def);
    return def;
}

/* ---- backends ---- */

/* The Service port the backend names; NULL when it has none such. */
static const json_t *service_port(const json_t *svc, const struct ingress_backend *be)
{
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        if (be->port_name && name && strcmp(name, be->port_name) == 0) return p;
        if (!be->port_name && json_integer_value(json_object_get(p, "port")) == be->port_number)
            return p;
    }
    return NULL;
}

static bool endpoint_ready(const json_t *ep)
{
    const json_t *r = json_object_get(json_object_get(ep, "conditions"), "ready");
    return r == NULL || json_is_null(r) || json_is_true(r);
}

static bool have_endpoint(const struct ingress_backend *be, const char *ip, int port)
{
    for (size_t i = 0; i < be->n_eps; i++)
        if (be->eps[i].port == port && strcmp(be->eps[i].ip, ip) == 0) return true;
    return false;
}

static int add_slice_endpoints(struct ingress_backend *be, const json_t *slice, const char *pname)
{
    size_t i, j;
    const json_t *p, *ep, *a;
    int port = 0;
    const char *type = json_string_value(json_object_get(slice, "addressType"));

    if (type && strcmp(type, "FQDN") == 0) return 0;
    json_array_foreach(json_object_get(slice, "ports"), i, p) {
        const char *n = json_string_value(json_object_get(p, "name"));
        const char *proto = json_string_value(json_object_get(p, "protocol"));
        if (proto && strcmp(proto, "TCP") != 0) continue;
        if (strcmp(n ? n : "", pname) == 0) port = (int)json_integer_value(json_object_get(p, "port"));
    }
    if (port <= 0 || port > 65535) return 0;
    json_array_foreach(json_object_get(slice, "endpoints"), i, ep) {
        if (!endpoint_ready(ep)) continue;
        json_array_foreach(json_object_get(ep, "addresses"), j, a) {
            const char *ip = json_string_value(a);
            if (!ip || strlen(ip) >= sizeof be->eps[0].ip || have_endpoint(be, ip, port)) continue;
            void *arr = be->eps;
            size_t cap = be->n_eps; /* exact growth: slices are small */
            struct ingress_endpoint *n = realloc(arr, (cap + 1) * sizeof *n);
            if (!n) return ORC_ENOMEM;
            be->eps = n;
            strcpy(n[be->n_eps].ip, ip);
            n[be->n_eps++].port = port;
        }
    }
    return 0;
}

static int resolve_backend(struct ingress_table *t, struct ingress_backend *be)
{
    char *k = orc_ns_name_key(be->ns, be->service);
    struct idx *svc = k && be->service[0] ? idx_get(&t->services, k) : NULL, *sl;
    const json_t *sp;

    if (!k) return ORC_ENOMEM;
    sl = idx_get(&t->slices, k);
    free(k);
    if (!svc || !(sp = service_port(svc->obj, be))) return 0;
    be->service_found = true;
    const char *pname = json_string_value(json_object_get(sp, "name"));
    for (; sl; sl = sl->same)
        if (add_slice_endpoints(be, sl->obj, pname ? pname : "") != 0) return ORC_ENOMEM;
    return 0;
}

static void backend_free(struct ingress_backend *be)
{
    if (!be) return;
    free(be->ns);
    free(be->service);
    free(be->port_name);
    free(be->eps);
    free(be);
}

/* The table's backend for an IngressBackend of namespace ns (shared by every
 * rule naming the same Service port the same way, so round robin spans
 * them all). */
static struct ingress_backend *backend_of(struct ingress_table *t, const char *ns, const json_t *b)
{
    const json_t *svc = json_object_get(b, "service"), *port = json_object_get(svc, "port");
    const char *name = json_string_value(json_object_get(svc, "name"));
    const char *pname = json_string_value(json_object_get(port, "name"));
    int pnum = (int)json_integer_value(json_object_get(port, "number"));
    char key[600];
    struct idx *x;

    if (pname && !pname[0]) pname = NULL;
    if (!name) name = ""; /* a resource backend: orc serves none */
    snprintf(key, sizeof key, "%s/%s/%s%d", ns, name, pname ? pname : "#", pname ? 0 : pnum);
    if ((x = idx_get(&t->backends, key))) return x->be;
    if (!grow((void **)&t->bes, &t->cap_bes, t->n_bes, sizeof *t->bes)) return NULL;
    struct ingress_backend *be = calloc(1, sizeof *be);
    if (!be) return NULL;
    be->ns = strdup(ns);
    be->service = strdup(name);
    be->port_name = pname ? strdup(pname) : NULL;
    be->port_number = pnum;
    if (!be->ns || !be->service || (pname && !be->port_name) || resolve_backend(t, be) != 0
        || !(x = idx_add(t, &t->backends, strdup(key), NULL))) {
        backend_free(be);
        return NULL;
    }
    x->be = be;
    t->bes[t->n_bes++] = be;
    return be;
}

/* ---- hosts and paths ---- */

static struct route_host *host_entry(struct ingress_table *t, const char *host, bool create)
{
    struct orc_hnode *n = orc_hmap_get(&t->host_map, host);
    struct route_host *h;

    if (n || !create) return (struct route_host *)n;
    if (!grow((void **)&t->hosts, &t->cap_hosts, t->n_hosts, sizeof *t->hosts)) return NULL;
    if (!(h = calloc(1, sizeof *h)) || !(h->host = strdup(host))) {
        free(h);
        return NULL;
    }
    h->node.key = h->host;
    t->hosts[t->n_hosts++] = h;
    return orc_hmap_put(&t->host_map, &h->node) == 0 ? h : NULL;
}

static int add_path(struct route_host *h, const char *path, const char *type,
                    struct ingress_backend *be)
{
    int ty = type && strcmp(type, "Exact") == 0 ? PATH_EXACT : PATH_PREFIX;
    size_t len;

    if (!path || !path[0]) path = "/";
    len = strlen(path);
    if (ty == PATH_PREFIX)
        while (len > 1 && path[len - 1] == '/') len--;
    for (size_t i = 0; i < h->n; i++) /* an older Ingress claimed it */
        if (h->paths[i].type == ty && h->paths[i].len == len
            && memcmp(h->paths[i].path, path, len) == 0)
            return 0;
    if (!grow((void **)&h->paths, &h->cap, h->n, sizeof *h->paths)) return ORC_ENOMEM;
    char *p = strndup(path, len);
    if (!p) return ORC_ENOMEM;
    h->paths[h->n++] = (struct route_path){p, len, ty, be};
    return 0;
}

static int add_rule(struct ingress_table *t, const char *ns, const json_t *rule)
{
    const char *host = json_string_value(json_object_get(rule, "host"));
    const json_t *p;
    size_t i;
    struct route_host *h = host_entry(t, host ? host : "", true);

    if (!h) return ORC_ENOMEM;
    json_array_foreach(json_object_get(json_object_get(rule, "http"), "paths"), i, p) {
        struct ingress_backend *be = backend_of(t, ns, json_object_get(p, "backend"));
        if (!be) return ORC_ENOMEM;
        int rc = add_path(h, json_string_value(json_object_get(p, "path")),
                          json_string_value(json_object_get(p, "pathType")), be);
        if (rc != 0) return rc;
    }
    return 0;
}

static int add_tls(struct ingress_table *t, const char *ns, const json_t *tls)
{
    const char *secret = json_string_value(json_object_get(tls, "secretName"));
    const json_t *hosts = json_object_get(tls, "hosts"), *h;
    size_t i, n = json_array_size(hosts);

    if (!secret || !secret[0]) return 0;
    for (i = 0; i < (n ? n : 1); i++) {
        h = json_array_get(hosts, i);
        if (!grow((void **)&t->tls, &t->cap_tls, t->n_tls, sizeof *t->tls)) return ORC_ENOMEM;
        struct tls_entry *e = &t->tls[t->n_tls];
        e->host = h && json_string_value(h) ? strdup(json_string_value(h)) : NULL;
        e->ns = strdup(ns);
        e->secret = strdup(secret);
        t->n_tls++;
        if ((h && !e->host) || !e->ns || !e->secret) return ORC_ENOMEM;
    }
    return 0;
}

static int add_ingress(struct ingress_table *t, const json_t *ing)
{
    const char *ns = str_at(ing, "metadata", "namespace");
    const json_t *spec = json_object_get(ing, "spec"), *v;
    size_t i;
    int rc;

    if (!ns) return 0;
    json_array_foreach(json_object_get(spec, "rules"), i, v)
        if ((rc = add_rule(t, ns, v)) != 0) return rc;
    json_array_foreach(json_object_get(spec, "tls"), i, v)
        if ((rc = add_tls(t, ns, v)) != 0) return rc;
    if (!t->def && json_object_get(spec, "defaultBackend")
        && !(t->def = backend_of(t, ns, json_object_get(spec, "defaultBackend"))))
        return ORC_ENOMEM;
    return 0;
}

/* Older first: creationTimestamp (RFC 3339 in UTC sorts as text), then
 * namespace/name. */
static int older(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    static const char *const keys[] = {"creationTimestamp", "namespace", "name"};
    for (size_t i = 0; i < ORC_ARRAY_LEN(keys); i++) {
        const char *s = str_at(x, "metadata", keys[i]), *u = str_at(y, "metadata", keys[i]);
        int c = strcmp(s ? s : "", u ? u : "");
        if (c) return c;
    }
    return 0;
}

struct ingress_table *ingress_table_build(const struct ingress_inputs *in)
{
    struct ingress_table *t = calloc(1, sizeof *t);
    size_t n = json_array_size(in->ingresses), k = 0;
    const json_t **ours = calloc(n ? n : 1, sizeof *ours);

    if (!t || !ours || index_inputs(t, in) != 0) goto fail;
    for (size_t i = 0; i < n; i++) {
        const json_t *ing = json_array_get(in->ingresses, i);
        if (ingress_is_ours(ing, in->classes)) ours[k++] = ing;
    }
    qsort(ours, k, sizeof *ours, older);
    for (size_t i = 0; i < k; i++)
        if (add_ingress(t, ours[i]) != 0) goto fail;
    indexes_free(t);
    free(ours);
    return t;
fail:
    free(ours);
    ingress_table_free(t);
    return NULL;
}

void ingress_table_free(struct ingress_table *t)
{
    if (!t) return;
    indexes_free(t);
    for (size_t i = 0; i < t->n_hosts; i++) {
        for (size_t j = 0; j < t->hosts[i]->n; j++) free(t->hosts[i]->paths[j].path);
        free(t->hosts[i]->paths);
        free(t->hosts[i]->host);
        free(t->hosts[i]);
    }
    free(t->hosts);
    orc_hmap_free(&t->host_map);
    for (size_t i = 0; i < t->n_bes; i++) backend_free(t->bes[i]);
    free(t->bes);
    for (size_t i = 0; i < t->n_tls; i++) {
        free(t->tls[i].host);
        free(t->tls[i].ns);
        free(t->tls[i].secret);
    }
    free(t->tls);
    free(t);
}

/* ---- matching ---- */

/* Lower-case, without ":port" and a trailing dot. */
static void norm_host(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    if (!in) in = "";
    if (in[0] == '[') { /* an IPv6 literal: only rules without a host can match it */
        out[0] = '\0';
        return;
    }
    for (; *in && *in != ':' && n + 1 < cap; in++) out[n++] = (char)tolower((unsigned char)*in);
    if (n > 0 && out[n - 1] == '.') n--;
    out[n] = '\0';
}

static struct route_host *pick_host(struct ingress_table *t, const char *host)
{
    struct route_host *h;
    char wild[260];
    const char *dot;

    if (host[0] && (h = host_entry(t, host, false))) return h;
    if (host[0] && (dot = strchr(host, '.')) && dot > host && dot[1]) {
        snprintf(wild, sizeof wild, "*%s", dot);
        if ((h = host_entry(t, wild, false))) return h;
    }
    return host_entry(t, "", false);
}

static bool prefix_matches(const struct route_path *p, const char *path, size_t len)
{
    if (p->len == 1) return true; /* "/" */
    return len >= p->len && memcmp(path, p->path, p->len) == 0
           && (len == p->len || path[p->len] == '/');
}

static struct ingress_backend *match_path(const struct route_host *h, const char *path, size_t len)
{
    const struct route_path *best = NULL;
    for (size_t i = 0; i < h->n; i++) {
        const struct route_path *p = &h->paths[i];
        if (p->type == PATH_EXACT && p->len == len && memcmp(p->path, path, len) == 0) return p->be;
    }
    for (size_t i = 0; i < h->n; i++) {
        const struct route_path *p = &h->paths[i];
        if (p->type == PATH_PREFIX && prefix_matches(p, path, len) && (!best || p->len > best->len))
            best = p;
    }
    return best ? best->be : NULL;
}

struct ingress_backend *ingress_route(struct ingress_table *t, const char *host,
                                      const char *target)
{
    char h[256];
    struct route_host *rh;
    struct ingress_backend *be = NULL;
    size_t len = target ? strcspn(target, "?#") : 0;

    norm_host(host, h, sizeof h);
    if (len == 0) target = "/", len = 1;
    if ((rh = pick_host(t, h))) be = match_path(rh, target, len);
    return be ? be : t->def;
}

const struct ingress_endpoint *ingress_backend_pick(struct ingress_backend *be)
{
    if (!be || be->n_eps == 0) return NULL;
    return &be->eps[be->next++ % be->n_eps];
}

/* ---- TLS ---- */

bool ingress_tls_secret(const struct ingress_table *t, const char *sni, const char **ns,
                        const char **name)
{
    char h[256], wild[260];
    const char *dot;
    const struct tls_entry *any = NULL, *wc = NULL;

    norm_host(sni, h, sizeof h);
    wild[0] = '\0';
    if ((dot = strchr(h, '.')) && dot > h) snprintf(wild, sizeof wild, "*%s", dot);
    for (size_t i = 0; i < t->n_tls; i++) {
        const struct tls_entry *e = &t->tls[i];
        if (!e->host) {
            if (!any) any = e;
        } else if (h[0] && strcmp(e->host, h) == 0) {
            *ns = e->ns, *name = e->secret;
            return true;
        } else if (!wc && wild[0] && strcmp(e->host, wild) == 0) {
            wc = e;
        }
    }
    if (!wc) wc = any;
    if (!wc) return false;
    *ns = wc->ns, *name = wc->secret;
    return true;
}

void ingress_tls_each(const struct ingress_table *t,
                      void (*fn)(void *arg, const char *ns, const char *name), void *arg)
{
    for (size_t i = 0; i < t->n_tls; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->tls[j].ns, t->tls[i].ns) == 0
                   && strcmp(t->tls[j].secret, t->tls[i].secret) == 0;
        if (!seen) fn(arg, t->tls[i].ns, t->tls[i].secret);
    }
}

size_t ingress_table_hosts(const struct ingress_table *t) { return t->n_hosts; }
size_t ingress_table_backends(const struct ingress_table *t) { return t->n_bes; }

const struct ingress_backend *ingress_table_backend(const struct ingress_table *t, size_t i)
{
    return i < t->n_bes ? t->bes[i] : NULL;
}
