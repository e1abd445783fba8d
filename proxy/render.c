/* render.c — one service port as nftables commands, in the shape of
 * kube-proxy's nftables mode: map elements "ip . proto . port" into the
 * table's verdict maps, a service chain choosing an endpoint chain with
 * `numgen random mod N vmap`, endpoint chains that DNAT (and mark hairpin
 * traffic for masquerade), per-endpoint affinity sets with timeouts, an
 * external chain for NodePort / external / load-balancer traffic, a local
 * chain for the Local traffic policies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/orc.h"
#include "proxy/proxy_int.h"

#define T PROXY_FAMILY " " PROXY_TABLE

struct names {
    char svc[320], ext[320], local[320];
    char **ep;  /* per endpoint of sp (NULL where unused) */
    char **aff; /* per endpoint: affinity set (NULL without affinity) */
};

struct out {
    struct orc_buf decl, rules, add, del;
    int rv;
};

static void put(struct orc_buf *b, int *rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(struct orc_buf *b, int *rv, const char *fmt, ...)
{
    va_list ap;
    if (*rv != 0) return;
    va_start(ap, fmt);
    *rv = orc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static void chain_name(char *out, size_t n, const char *kind, const char *what)
{
    char tag[9];
    orc_name_tag(what, tag);
    snprintf(out, n, "%s-%s-%s", kind, tag, what);
}

static char *ep_name(const char *kind, const struct proxy_svcport *sp, const struct proxy_ep *e, unsigned salt)
{
    char what[400], tagged[420], tag[9], out[500];
    snprintf(what, sizeof what, "%s__%s/%d", sp->key, e->ip, e->port);
    snprintf(tagged, sizeof tagged, "%s#%u", what, salt);
    orc_name_tag(tagged, tag);
    snprintf(out, sizeof out, "%s-%s-%s", kind, tag, what);
    return strdup(out);
}

/* Adds name to the unit's list of chains (or sets). */
static int remember(char ***list, size_t *n, const char *name)
{
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return ORC_ENOMEM;
    *list = l;
    if (!(l[*n] = strdup(name))) return ORC_ENOMEM;
    (*n)++;
    return 0;
}

static void new_chain(struct out *o, struct proxy_unit *u, const char *name)
{
    put(&o->decl, &o->rv, "add chain " T " %s\n", name);
    put(&o->rules, &o->rv, "flush chain " T " %s\n", name);
    if (o->rv == 0) o->rv = remember(&u->chains, &u->n_chains, name);
}

/* A chain spreading over the endpoints idx[0..n) evenly, affinity first. */
static void spread(struct out *o, const char *chain, const struct names *nm, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n && nm->aff[idx[0]]; i++)
        put(&o->rules, &o->rv, "add rule " T " %s ip saddr @%s goto %s\n", chain, nm->aff[idx[i]], nm->ep[idx[i]]);
    put(&o->rules, &o->rv, "add rule " T " %s numgen random mod %zu vmap { ", chain, n);
    for (size_t i = 0; i < n; i++)
        put(&o->rules, &o->rv, "%s%zu : goto %s", i ? ", " : "", i, nm->ep[idx[i]]);
    put(&o->rules, &o->rv, " }\n");
}

static void endpoint_chain(struct out *o, struct proxy_unit *u, const struct proxy_svcport *sp,
                           const struct names *nm, size_t i)
{
    const struct proxy_ep *e = &sp->eps[i];
    if (nm->aff[i]) {
        put(&o->decl, &o->rv, "add set " T " %s { type ipv4_addr; flags dynamic,timeout; timeout %us; }\n",
            nm->aff[i], sp->affinity_s);
        if (o->rv == 0) o->rv = remember(&u->sets, &u->n_sets, nm->aff[i]);
    }
    new_chain(o, u, nm->ep[i]);
    /* hairpin: a pod reaching itself must see the answer come from the node */
    put(&o->rules, &o->rv, "add rule " T " %s ip saddr %s jump mark-for-masquerade\n", nm->ep[i], e->ip);
    if (nm->aff[i]) put(&o->rules, &o->rv, "add rule " T " %s update @%s { ip saddr }\n", nm->ep[i], nm->aff[i]);
    put(&o->rules, &o->rv, "add rule " T " %s meta l4proto %s dnat to %s:%d\n", nm->ep[i], sp->proto, e->ip,
        e->port);
}

/* One map element: "ip . proto . port" (ip NULL: "proto . port"). */
static void element(struct out *o, const char *map, const char *ip, const struct proxy_svcport *sp, int port,
                    const char *verdict)
{
    char key[80];
    if (ip) snprintf(key, sizeof key, "%s . %s . %d", ip, sp->proto, port);
    else snprintf(key, sizeof key, "%s . %d", sp->proto, port);
    put(&o->add, &o->rv, "add element " T " %s { %s : %s }\n", map, key, verdict);
    put(&o->del, &o->rv, "delete element " T " %s { %s }\n", map, key);
}

/* Where the destinations of one kind go: to `chain` when it has endpoints,
 * else rejected (none at all) or dropped (none under a Local policy). */
static void destinations(struct out *o, const struct proxy_svcport *sp, bool external, const char *chain,
                         size_t n_all)
{
    char verdict[340];
    bool ok = chain != NULL;
    if (ok) snprintf(verdict, sizeof verdict, "goto %s", chain);
    else snprintf(verdict, sizeof verdict, "%s", n_all ? "drop" : "goto reject-chain");
    const char *ips_map = ok ? "service-ips" : "no-endpoint-services";
    /* an address another Service took first is "" (model.c's dedupe) */
    if (!external) {
        for (size_t i = 0; i < sp->n_vips; i++)
            if (sp->vips[i][0]) element(o, ips_map, sp->vips[i], sp, sp->port, verdict);
        return;
    }
    for (size_t i = 0; i < sp->n_ext; i++)
        if (sp->ext[i][0]) element(o, ips_map, sp->ext[i], sp, sp->port, verdict);
    if (sp->node_port)
        element(o, ok ? "service-nodeports" : "no-endpoint-nodeports", NULL, sp, sp->node_port, verdict);
}

/* The kubernetes Service's endpoints on loopback (API servers listening on
 * 127.x): the filter-prerouting exception for them, per clusterIP and
 * chosen endpoint, so a pod reaches the API through the Service and no
 * other loopback listener. */
static void apiserver_loopback(struct out *o, const struct proxy_svcport *sp, const bool *used)
{
    if (strncmp(sp->key, PROXY_APISERVER_KEY, strlen(PROXY_APISERVER_KEY)) != 0) return;
    for (size_t i = 0; i < sp->n_eps; i++) {
        if (!used[i] || strncmp(sp->eps[i].ip, "127.", 4) != 0) continue;
        for (size_t v = 0; v < sp->n_vips; v++) {
            if (!sp->vips[v][0]) continue;
            put(&o->add, &o->rv, "add element " T " " PROXY_APISERVER_SET " { %s . %d . %s . %d }\n", sp->vips[v],
                sp->port, sp->eps[i].ip, sp->eps[i].port);
            put(&o->del, &o->rv, "delete element " T " " PROXY_APISERVER_SET " { %s . %d . %s . %d }\n",
                sp->vips[v], sp->port, sp->eps[i].ip, sp->eps[i].port);
        }
    }
}

static void external_chain(struct out *o, struct proxy_unit *u, const struct proxy_svcport *sp,
                           const struct names *nm, const struct proxy_node *node)
{
    new_chain(o, u, nm->ext);
    if (!sp->etp_local) {
        /* the answer must come back through this node */
        put(&o->rules, &o->rv, "add rule " T " %s jump mark-for-masquerade\n", nm->ext);
        put(&o->rules, &o->rv, "add rule " T " %s goto %s\n", nm->ext, nm->svc);
        return;
    }
    /* Local keeps the client's address; pods and the node itself are
     * treated as cluster traffic, as kube-proxy does */
    put(&o->rules, &o->rv, "add rule " T " %s ip saddr %s goto %s\n", nm->ext, node->pod_cidr, nm->svc);
    put(&o->rules, &o->rv, "add rule " T " %s fib saddr type local jump mark-for-masquerade\n", nm->ext);
    put(&o->rules, &o->rv, "add rule " T " %s fib saddr type local goto %s\n", nm->ext, nm->svc);
    put(&o->rules, &o->rv, "add rule " T " %s goto %s\n", nm->ext, nm->local);
}

static int names_init(struct names *nm, const struct proxy_svcport *sp, const bool *used)
{
    chain_name(nm->svc, sizeof nm->svc, "service", sp->key);
    chain_name(nm->ext, sizeof nm->ext, "external", sp->key);
    chain_name(nm->local, sizeof nm->local, "local", sp->key);
    nm->ep = calloc(sp->n_eps + 1, sizeof *nm->ep);
    nm->aff = calloc(sp->n_eps + 1, sizeof *nm->aff);
    if (!nm->ep || !nm->aff) return ORC_ENOMEM;
    for (size_t i = 0; i < sp->n_eps; i++) {
        if (!used[i]) continue;
        if (!(nm->ep[i] = ep_name("endpoint", sp, &sp->eps[i], 0))) return ORC_ENOMEM;
        if (sp->affinity_s && !(nm->aff[i] = ep_name("affinity", sp, &sp->eps[i], sp->affinity_s)))
            return ORC_ENOMEM;
    }
    return 0;
}

static void names_free(struct names *nm, size_t n)
{
    for (size_t i = 0; nm->ep && i < n; i++) free(nm->ep[i]);
    for (size_t i = 0; nm->aff && i < n; i++) free(nm->aff[i]);
    free(nm->ep);
    free(nm->aff);
}

/* Which endpoints each kind of traffic may use (proxy_pick). */
struct picks {
    const size_t *all, *loc; /* indexes into sp->eps */
    size_t n_all, n_loc;
    bool external, need_local;
};

static void chains(struct out *o, struct proxy_unit *u, const struct proxy_svcport *sp, const struct names *nm,
                   const struct proxy_node *node, const struct picks *pk)
{
    if (pk->n_all) {
        new_chain(o, u, nm->svc);
        put(&o->rules, &o->rv, "add rule " T " %s ip saddr != %s jump mark-for-masquerade\n", nm->svc,
            node->pod_cidr);
        spread(o, nm->svc, nm, pk->all, pk->n_all);
    }
    if (pk->need_local && pk->n_loc) {
        new_chain(o, u, nm->local);
        spread(o, nm->local, nm, pk->loc, pk->n_loc);
    }
    for (size_t i = 0; i < sp->n_eps; i++)
        if (nm->ep[i]) endpoint_chain(o, u, sp, nm, i);
    if (pk->external && (sp->etp_local ? pk->n_loc : pk->n_all)) external_chain(o, u, sp, nm, node);
}

/* For the conntrack flushes (proxy_udp_stale). */
static int udp_info(const struct proxy_svcport *sp, const bool *used, struct proxy_unit *u)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sp->n_vips; i++)
        if (sp->vips[i][0]) rc = remember(&u->udp_dests, &u->n_udp_dests, sp->vips[i]);
    for (size_t i = 0; rc == 0 && i < sp->n_ext; i++)
        if (sp->ext[i][0]) rc = remember(&u->udp_dests, &u->n_udp_dests, sp->ext[i]);
    for (size_t i = 0; rc == 0 && i < sp->n_eps; i++)
        if (used[i]) rc = remember(&u->udp_eps, &u->n_udp_eps, sp->eps[i].ip);
    u->udp_node_port = sp->node_port;
    return rc;
}

static int render(const struct proxy_svcport *sp, const struct proxy_node *node, struct proxy_unit *u,
                  struct out *o, size_t *all, size_t *loc, bool *used)
{
    struct names nm = {0};
    struct picks pk = {all, loc, proxy_pick(sp, false, all), proxy_pick(sp, true, loc), false, false};
    pk.external = sp->node_port || sp->n_ext;
    pk.need_local = sp->itp_local || (pk.external && sp->etp_local);
    for (size_t i = 0; i < pk.n_all; i++) used[all[i]] = true;
    for (size_t i = 0; pk.need_local && i < pk.n_loc; i++) used[loc[i]] = true;
    int rc = names_init(&nm, sp, used);
    if (rc == 0 && strcmp(sp->proto, "udp") == 0) rc = udp_info(sp, used, u);
    if (rc == 0) {
        chains(o, u, sp, &nm, node, &pk);
        const char *internal = sp->itp_local ? (pk.n_loc ? nm.local : NULL) : (pk.n_all ? nm.svc : NULL);
        destinations(o, sp, false, internal, pk.n_all);
        if (pk.external)
            destinations(o, sp, true, (sp->etp_local ? pk.n_loc : pk.n_all) ? nm.ext : NULL, pk.n_all);
        apiserver_loopback(o, sp, used);
        rc = o->rv;
    }
    names_free(&nm, sp->n_eps);
    return rc;
}

int proxy_render_unit(const struct proxy_svcport *sp, const struct proxy_node *node, struct proxy_unit *u)
{
    struct out o = {ORC_BUF_INIT, ORC_BUF_INIT, ORC_BUF_INIT, ORC_BUF_INIT, 0};
    size_t n = sp->n_eps + 1;
    size_t *all = calloc(n, sizeof *all), *loc = calloc(n, sizeof *loc);
    bool *used = calloc(n, sizeof *used);
    int rc = ORC_ENOMEM;

    memset(u, 0, sizeof *u);
    if (all && loc && used && (u->key = strdup(sp->key))) rc = render(sp, node, u, &o, all, loc, used);
    /* empty strings rather than NULL: units compare and print simply */
    const char *none = "";
    if (rc == 0) {
        u->decl = o.decl.data ? orc_buf_steal(&o.decl, NULL) : strdup(none);
        u->rules = o.rules.data ? orc_buf_steal(&o.rules, NULL) : strdup(none);
        u->add_elems = o.add.data ? orc_buf_steal(&o.add, NULL) : strdup(none);
        u->del_elems = o.del.data ? orc_buf_steal(&o.del, NULL) : strdup(none);
        if (!u->decl || !u->rules || !u->add_elems || !u->del_elems) rc = ORC_ENOMEM;
    }
    orc_buf_free(&o.decl);
    orc_buf_free(&o.rules);
    orc_buf_free(&o.add);
    orc_buf_free(&o.del);
    free(all);
    free(loc);
    free(used);
    if (rc != 0) proxy_unit_free(u);
    return rc;
}

void proxy_unit_free(struct proxy_unit *u)
{
    for (size_t i = 0; i < u->n_udp_dests; i++) free(u->udp_dests[i]);
    for (size_t i = 0; i < u->n_udp_eps; i++) free(u->udp_eps[i]);
    free(u->udp_dests);
    free(u->udp_eps);
    free(u->key);
    free(u->decl);
    free(u->rules);
    free(u->add_elems);
    free(u->del_elems);
    for (size_t i = 0; i < u->n_chains; i++) free(u->chains[i]);
    for (size_t i = 0; i < u->n_sets; i++) free(u->sets[i]);
    free(u->chains);
    free(u->sets);
    memset(u, 0, sizeof *u);
}
