/* model.c — the node's desired proxy state from Services and EndpointSlices:
 * one service port per (Service, port) with its addresses, policies and
 * endpoints (the slice port of the same name and protocol), each rendered
 * into a unit (render.c). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "proxy/proxy_int.h"

static bool is_ipv4(const char *s)
{
    struct in_addr a;
    return s && inet_pton(AF_INET, s, &a) == 1;
}

static const char *proto_of(const char *p)
{
    if (!p || strcmp(p, "TCP") == 0) return "tcp";
    if (strcmp(p, "UDP") == 0) return "udp";
    if (strcmp(p, "SCTP") == 0) return "sctp";
    return NULL;
}

static void add_ip(char (*ips)[INET_ADDRSTRLEN], size_t *n, const char *ip)
{
    if (!is_ipv4(ip) || *n >= PROXY_MAX_IPS) return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(ips[i], ip) == 0) return;
    snprintf(ips[(*n)++], INET_ADDRSTRLEN, "%s", ip);
}

static void cluster_ips(const json_t *svc, struct proxy_svcport *sp)
{
    const json_t *ips = orc_json_get(svc, "spec.clusterIPs"), *v;
    size_t i;

    add_ip(sp->vips, &sp->n_vips, orc_json_str(svc, "spec.clusterIP"));
    json_array_foreach(ips, i, v) add_ip(sp->vips, &sp->n_vips, json_string_value(v));
}

static void external_ips(const json_t *svc, struct proxy_svcport *sp)
{
    const json_t *ips = orc_json_get(svc, "spec.externalIPs"), *v;
    size_t i;

    json_array_foreach(ips, i, v) add_ip(sp->ext, &sp->n_ext, json_string_value(v));
    const char *type = orc_json_str(svc, "spec.type");
    if (!type || strcmp(type, "LoadBalancer") != 0) return;
    json_array_foreach(orc_json_get(svc, "status.loadBalancer.ingress"), i, v)
        add_ip(sp->ext, &sp->n_ext, orc_json_str(v, "ip"));
}

static bool str_eq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

/* The condition at path: absent means `dflt` (Kubernetes' nil semantics). */
static bool cond(const json_t *ep, const char *path, bool dflt)
{
    const json_t *v = orc_json_get(ep, path);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static int add_ep(struct proxy_svcport *sp, const char *ip, int port, const json_t *ep, const char *node)
{
    for (size_t i = 0; i < sp->n_eps; i++)
        if (strcmp(sp->eps[i].ip, ip) == 0 && sp->eps[i].port == port) return 0;
    struct proxy_ep *e = realloc(sp->eps, (sp->n_eps + 1) * sizeof *e);
    if (!e) return ORC_ENOMEM;
    sp->eps = e;
    e = &sp->eps[sp->n_eps++];
    memset(e, 0, sizeof *e);
    snprintf(e->ip, sizeof e->ip, "%s", ip);
    e->port = port;
    e->ready = cond(ep, "conditions.ready", true);
    e->serving = cond(ep, "conditions.serving", e->ready);
    e->terminating = cond(ep, "conditions.terminating", false);
    const char *nn = orc_json_str(ep, "nodeName");
    e->local = nn && node && strcmp(nn, node) == 0;
    return 0;
}

/* The endpoints of one slice for the service port named `pname`. */
static int slice_eps(const json_t *slice, const char *pname, const char *proto, struct proxy_svcport *sp,
                     const char *node)
{
    const json_t *p, *ep;
    size_t i, j;
    int64_t port = -1;

    if (!str_eq(orc_json_str(slice, "addressType"), "IPv4")) return 0;
    json_array_foreach(orc_json_get(slice, "ports"), i, p) {
        const char *pp = proto_of(orc_json_str(p, "protocol"));
        if (pp && strcmp(pp, proto) == 0 && str_eq(orc_json_str(p, "name"), pname) &&
            orc_json_int(p, "port", &port) == 0)
            break;
        port = -1;
    }
    if (port <= 0 || port > 65535) return 0;
    json_array_foreach(orc_json_get(slice, "endpoints"), j, ep) {
        /* Kubernetes uses the first address of an endpoint */
        const char *ip = json_string_value(json_array_get(orc_json_get(ep, "addresses"), 0));
        int rc;
        if (is_ipv4(ip) && (rc = add_ep(sp, ip, (int)port, ep, node)) != 0) return rc;
    }
    return 0;
}

/* Label keys hold dots: no dotted path for them. */
static const char *label(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(orc_json_get(obj, "metadata.labels"), key));
}

static bool is_kube_dns(const json_t *svc)
{
    return str_eq(orc_json_str(svc, "metadata.namespace"), "kube-system") &&
           str_eq(label(svc, "k8s-app"), "kube-dns") &&
           !json_object_size(orc_json_get(svc, "spec.selector"));
}

/* The slices by "ns/service-name", sorted: each Service finds its own
 * without walking every slice. */
struct slice_ref {
    char key[300];
    const json_t *slice;
};

struct slice_index {
    struct slice_ref *refs;
    size_t n;
};

static int ref_cmp(const void *a, const void *b)
{
    return strcmp(((const struct slice_ref *)a)->key, ((const struct slice_ref *)b)->key);
}

static int index_slices(const json_t *slices, struct slice_index *ix)
{
    const json_t *sl;
    size_t i;

    ix->n = 0;
    ix->refs = calloc(json_array_size(slices) + 1, sizeof *ix->refs);
    if (!ix->refs) return ORC_ENOMEM;
    json_array_foreach(slices, i, sl) {
        const char *ns = orc_json_str(sl, "metadata.namespace"), *svc = label(sl, "kubernetes.io/service-name");
        if (!ns || !svc) continue;
        snprintf(ix->refs[ix->n].key, sizeof ix->refs[ix->n].key, "%s/%s", ns, svc);
        ix->refs[ix->n++].slice = sl;
    }
    qsort(ix->refs, ix->n, sizeof *ix->refs, ref_cmp);
    return 0;
}

static int port_eps(const json_t *svc, const struct slice_index *ix, const char *pname, struct proxy_svcport *sp,
                    const struct proxy_node *node)
{
    struct slice_ref want;
    int rc;

    /* kube-dns answers on every node from the node's own resolver */
    if (is_kube_dns(svc) && node->dns_ip && is_ipv4(node->dns_ip) && sp->port == 53 &&
        strcmp(sp->proto, "sctp") != 0) {
        json_t *ep = json_pack("{s:s}", "nodeName", node->name ? node->name : "");
        rc = ep ? add_ep(sp, node->dns_ip, 53, ep, node->name) : ORC_ENOMEM;
        json_decref(ep);
        return rc;
    }
    snprintf(want.key, sizeof want.key, "%s/%s", orc_json_str(svc, "metadata.namespace"),
             orc_json_str(svc, "metadata.name"));
    const struct slice_ref *r = ix->n ? bsearch(&want, ix->refs, ix->n, sizeof want, ref_cmp) : NULL;
    if (!r) return 0;
    while (r > ix->refs && strcmp(r[-1].key, want.key) == 0) r--;
    for (; r < ix->refs + ix->n && strcmp(r->key, want.key) == 0; r++)
        if ((rc = slice_eps(r->slice, pname, sp->proto, sp, node->name)) != 0) return rc;
    return 0;
}

static int affinity_of(const json_t *svc, unsigned *out)
{
    int64_t t = PROXY_AFFINITY_DEFAULT_S;
    *out = 0;
    if (!str_eq(orc_json_str(svc, "spec.sessionAffinity"), "ClientIP")) return 0;
    if (orc_json_int(svc, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", &t) != 0 || t <= 0 ||
        t > 86400)
        t = PROXY_AFFINITY_DEFAULT_S;
    *out = (unsigned)t;
    return 0;
}

/* The service ports found, before they are rendered (each owns its eps). */
struct sp_list {
    struct proxy_svcport *v;
    size_t n;
};

static int push_port(struct sp_list *l, const struct proxy_svcport *sp)
{
    struct proxy_svcport *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v) return ORC_ENOMEM;
    l->v = v;
    v[l->n++] = *sp;
    return 0;
}

static int service_units(const json_t *svc, const struct slice_index *slices, const struct proxy_node *node,
                         struct sp_list *s)
{
    const char *ns = orc_json_str(svc, "metadata.namespace"), *name = orc_json_str(svc, "metadata.name");
    const char *type = orc_json_str(svc, "spec.type");
    const json_t *p;
    size_t i;
    int rc = 0;

    if (!ns || !name || str_eq(type, "ExternalName")) return 0;
    struct proxy_svcport base = {0};
    cluster_ips(svc, &base);
    if (base.n_vips == 0) return 0; /* headless, or not IPv4 */
    external_ips(svc, &base);
    affinity_of(svc, &base.affinity_s);
    bool external = str_eq(type, "NodePort") || str_eq(type, "LoadBalancer") || base.n_ext > 0;
    base.etp_local = external && str_eq(orc_json_str(svc, "spec.externalTrafficPolicy"), "Local");
    base.itp_local = str_eq(orc_json_str(svc, "spec.internalTrafficPolicy"), "Local");
    json_array_foreach(orc_json_get(svc, "spec.ports"), i, p) {
        struct proxy_svcport sp = base;
        int64_t port = 0, np = 0;
        const char *proto = proto_of(orc_json_str(p, "protocol")), *pname = orc_json_str(p, "name");
        if (!proto || orc_json_int(p, "port", &port) != 0 || port <= 0 || port > 65535) continue;
        if (orc_json_int(p, "nodePort", &np) != 0 || np <= 0 || np > 65535) np = 0;
        snprintf(sp.proto, sizeof sp.proto, "%s", proto);
        snprintf(sp.key, sizeof sp.key, "%s/%s/%s/%s", ns, name, proto, pname ? pname : "");
        sp.port = (int)port;
        sp.node_port = external ? (int)np : 0;
        sp.eps = NULL;
        sp.n_eps = 0;
        rc = port_eps(svc, slices, pname, &sp, node);
        if (rc == 0) rc = push_port(s, &sp);
        if (rc != 0) {
            free(sp.eps);
            return rc;
        }
    }
    return 0;
}

static int unit_cmp(const void *a, const void *b)
{
    return strcmp(((const struct proxy_unit *)a)->key, ((const struct proxy_unit *)b)->key);
}

static int sp_cmp(const void *a, const void *b)
{
    return strcmp(((const struct proxy_svcport *)a)->key, ((const struct proxy_svcport *)b)->key);
}

/* One destination ("ip . proto . port") a service port answers on. */
struct claim {
    char key[64];
    size_t order; /* the service port's index: the first by key keeps it */
    char *ip;     /* cleared when another took it first (NULL: a nodePort) */
    int *node_port;
};

static int claim_cmp(const void *a, const void *b)
{
    const struct claim *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int add_claim(struct claim **v, size_t *n, size_t *cap, struct claim c)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct claim *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return ORC_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = c;
    return 0;
}

/* A map key can be had once: two Services naming the same external
 * address and port (or any duplicate) would make the kernel refuse the
 * whole transaction. The first by key keeps it. */
static int dedupe(struct sp_list *l)
{
    struct claim *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        struct proxy_svcport *sp = &l->v[i];
        struct claim c = {.order = i};
        for (size_t k = 0; rc == 0 && k < sp->n_vips + sp->n_ext; k++) {
            c.ip = k < sp->n_vips ? sp->vips[k] : sp->ext[k - sp->n_vips];
            c.node_port = NULL;
            snprintf(c.key, sizeof c.key, "%s . %s . %d", c.ip, sp->proto, sp->port);
            rc = add_claim(&v, &n, &cap, c);
        }
        if (rc == 0 && sp->node_port) {
            c.ip = NULL;
            c.node_port = &sp->node_port;
            snprintf(c.key, sizeof c.key, "%s . %d", sp->proto, sp->node_port);
            rc = add_claim(&v, &n, &cap, c);
        }
    }
    if (rc == 0 && n > 1) qsort(v, n, sizeof *v, claim_cmp);
    for (size_t i = 1; rc == 0 && i < n; i++) {
        if (strcmp(v[i].key, v[i - 1].key) != 0) continue;
        if (v[i].ip) v[i].ip[0] = '\0';
        else *v[i].node_port = 0;
    }
    free(v);
    return rc;
}

static int render_all(struct sp_list *l, const struct proxy_node *node, struct proxy_state *out)
{
    int rc = 0;
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, sp_cmp);
    if ((rc = dedupe(l)) != 0) return rc;
    if (l->n && !(out->units = calloc(l->n, sizeof *out->units))) return ORC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < l->n; i++)
        if ((rc = proxy_render_unit(&l->v[i], node, &out->units[i])) == 0) out->n++;
    return rc;
}

int proxy_state_build(const json_t *services, const json_t *slices, const struct proxy_node *node,
                      struct proxy_state *out)
{
    const json_t *svc;
    struct slice_index ix;
    struct sp_list l = {0};
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (!node || !node->pod_cidr || !*node->pod_cidr) return ORC_EINVAL;
    if ((rc = index_slices(slices, &ix)) != 0) return rc;
    json_array_foreach(services, i, svc)
        if ((rc = service_units(svc, &ix, node, &l)) != 0) break;
    free(ix.refs);
    if (rc == 0) rc = render_all(&l, node, out);
    for (i = 0; i < l.n; i++) free(l.v[i].eps);
    free(l.v);
    if (rc != 0) proxy_state_free(out);
    return rc;
}

void proxy_state_free(struct proxy_state *s)
{
    for (size_t i = 0; i < s->n; i++) proxy_unit_free(&s->units[i]);
    free(s->units);
    s->units = NULL;
    s->n = 0;
}

const struct proxy_unit *proxy_state_find(const struct proxy_state *s, const char *key)
{
    struct proxy_unit k = {.key = (char *)key};
    return s->n ? bsearch(&k, s->units, s->n, sizeof k, unit_cmp) : NULL;
}

size_t proxy_pick(const struct proxy_svcport *sp, bool local_only, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < sp->n_eps; i++)
        if (sp->eps[i].ready && (!local_only || sp->eps[i].local)) idx[n++] = i;
    if (n > 0) return n;
    for (size_t i = 0; i < sp->n_eps; i++)
        if (sp->eps[i].serving && sp->eps[i].terminating && (!local_only || sp->eps[i].local)) idx[n++] = i;
    return n;
}
