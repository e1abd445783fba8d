/* model.c — NetworkPolicies to the isolation and allowed peers of this
 * node's pods, with Kubernetes' semantics: a pod is isolated for a
 * direction when a policy of its namespace selects it with that policy
 * type (policyTypes defaulting to Ingress, plus Egress when egress rules
 * exist); then only what some rule of some such policy allows passes (the
 * union); a rule without from/to admits every peer, without ports every
 * port; an empty rule list admits nothing. Each rule's peers are computed
 * once and shared by every pod the policy selects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "netpol/netpol_int.h"

enum { DIR_IN, DIR_EG };

struct build {
    const struct np_world *w;
    struct netpol_state *s;
    struct netpol_pod *tp;          /* one per local pod, by address */
    const struct np_podinfo **local;
    size_t n_local, peers_cap;
};

/* ---- peers ---- */

struct rule_in {
    const json_t *rule;
    int dir;
    const char *ns;
    struct np_port *ports; /* readable items */
    size_t n_ports;
    bool any_port;         /* no ports at all */
};

static int add_pair(struct netpol_peers *pe, size_t *cap, uint32_t ip, int proto, int port)
{
    return np_pairs_add(&pe->pairs, &pe->n_pairs, cap, (struct netpol_pair){ip, (uint8_t)proto, (uint16_t)port});
}

/* The (address, port) pairs a pod gives an egress rule: its named ports,
 * and for the resolver its port 53 under what the rule's ports allow. */
static int pod_pairs(const struct rule_in *ri, const struct np_podinfo *q, struct netpol_peers *pe, size_t *cap)
{
    static const int dns_protos[] = {NETPOL_UDP, NETPOL_TCP};
    int rc = 0;

    for (size_t i = 0; i < ri->n_ports && rc == 0; i++) {
        const struct np_port *p = &ri->ports[i];
        int num = p->named ? np_named_port(q, p->named, p->proto) : -1;
        if (p->named && num > 0) rc = add_pair(pe, cap, q->ip, p->proto, num);
        else if (!p->named && q->virt && (p->proto == NETPOL_UDP || p->proto == NETPOL_TCP) && p->lo <= 53
                 && p->hi >= 53)
            rc = add_pair(pe, cap, q->ip, p->proto, 53);
    }
    for (size_t i = 0; ri->any_port && q->virt && rc == 0 && i < ORC_ARRAY_LEN(dns_protos); i++)
        rc = add_pair(pe, cap, q->ip, dns_protos[i], 53);
    return rc;
}

static bool has_named(const struct rule_in *ri)
{
    for (size_t i = 0; i < ri->n_ports; i++)
        if (ri->ports[i].named) return true;
    return false;
}

static bool any_matches(const struct np_world *w, const struct np_peer *pp, size_t n, const char *ns,
                        const struct np_podinfo *q)
{
    for (size_t i = 0; i < n; i++)
        if (np_peer_matches(w, &pp[i], ns, q)) return true;
    return false;
}

static int fill_pairs(struct build *b, const struct rule_in *ri, const struct np_peer *pp, size_t n,
                      struct netpol_peers *pe)
{
    size_t cap = 0;
    int rc = 0;

    /* any peer and numbers only: the numbers already cover every address */
    if (ri->dir != DIR_EG || (pe->any && !has_named(ri))) return 0;
    for (size_t i = 0; i < b->w->n_pods && rc == 0; i++) {
        const struct np_podinfo *q = &b->w->pods[i];
        if (pe->any || any_matches(b->w, pp, n, ri->ns, q)) rc = pod_pairs(ri, q, pe, &cap);
    }
    np_pairs_uniq(pe->pairs, &pe->n_pairs);
    return rc;
}

static int fill_addrs(struct build *b, const struct rule_in *ri, const struct np_peer *pp, size_t n,
                      struct netpol_peers *pe)
{
    struct np_rvec r = {0};
    size_t blocks = 0;
    int rc = 0;

    for (size_t i = 0; i < n; i++) blocks += pp[i].block && pp[i].except.n > 0;
    if (blocks && !(pe->blocks = calloc(blocks, sizeof *pe->blocks))) return ORC_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct np_peer *p = (struct np_peer *)&pp[i];
        if (p->block && p->except.n == 0) {
            rc = np_rvec_add(&r, p->cidr.lo, p->cidr.hi);
        } else if (p->block) {
            pe->blocks[pe->n_blocks++] = (struct netpol_block){p->cidr, p->except.v, p->except.n};
            p->except = (struct np_rvec){0}; /* handed over */
        } else {
            for (size_t j = 0; j < b->w->n_pods && rc == 0; j++)
                if (!b->w->pods[j].virt && np_peer_matches(b->w, p, ri->ns, &b->w->pods[j]))
                    rc = np_rvec_add(&r, b->w->pods[j].ip, b->w->pods[j].ip);
        }
    }
    np_rvec_merge(&r);
    pe->ranges = r.v;
    pe->n_ranges = r.n;
    return rc;
}

static struct netpol_peers *new_peers(struct build *b, size_t *idx)
{
    struct netpol_state *s = b->s;
    if (s->n_peers == b->peers_cap) {
        size_t cap = b->peers_cap ? b->peers_cap * 2 : 16;
        struct netpol_peers *v = realloc(s->peers, cap * sizeof *v);
        if (!v) return NULL;
        s->peers = v;
        b->peers_cap = cap;
    }
    *idx = s->n_peers;
    memset(&s->peers[*idx], 0, sizeof s->peers[0]);
    s->n_peers++;
    return &s->peers[*idx];
}

/* The rule's peers into a new entry of the state's peers (index *idx). */
static int rule_peers(struct build *b, const struct rule_in *ri, size_t pi, size_t rix, size_t *idx)
{
    const json_t *list = json_object_get(ri->rule, ri->dir == DIR_IN ? "from" : "to");
    size_t n = 0, i;
    struct np_peer *pp = calloc(json_array_size(list) + 1, sizeof *pp);
    struct netpol_peers *pe = new_peers(b, idx);
    json_t *e;
    int rc = 0;

    if (!pp || !pe) {
        free(pp);
        return ORC_ENOMEM;
    }
    snprintf(pe->name, sizeof pe->name, "p%zu-%c%zu", pi, ri->dir == DIR_IN ? 'i' : 'e', rix);
    pe->any = json_array_size(list) == 0;
    json_array_foreach(list, i, e) {
        int r = np_peer_compile(e, &pp[n]);
        if (r == ORC_ENOMEM) rc = r;
        if (r == 0) n++; /* an unreadable peer (validation lets none in) admits nobody */
    }
    if (rc == 0) rc = fill_addrs(b, ri, pp, n, pe);
    if (rc == 0) rc = fill_pairs(b, ri, pp, n, pe);
    for (i = 0; i < n; i++) np_peer_free(&pp[i]);
    free(pp);
    return rc;
}

/* ---- rules per pod ---- */

static int pod_rule(const struct rule_in *ri, size_t peers, const struct np_podinfo *target, struct netpol_rule *out)
{
    struct np_rvec r[NETPOL_NPROTO] = {{0}};
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->peers = peers;
    out->any_port = ri->any_port;
    for (size_t i = 0; i < ri->n_ports && rc == 0; i++) {
        const struct np_port *p = &ri->ports[i];
        /* ingress: a named port is the target's own; egress: in the pairs */
        int num = p->named && ri->dir == DIR_IN ? np_named_port(target, p->named, p->proto) : -1;
        if (!p->named) rc = np_rvec_add(&r[p->proto], p->lo, p->hi);
        else if (num > 0) rc = np_rvec_add(&r[p->proto], (uint32_t)num, (uint32_t)num);
    }
    for (int k = 0; k < NETPOL_NPROTO; k++) {
        np_rvec_merge(&r[k]);
        out->ports[k] = r[k].v;
        out->n_ports[k] = r[k].n;
    }
    return rc;
}

static int append_rule(struct netpol_pod *p, int dir, struct netpol_rule *r)
{
    struct netpol_rule **v = dir == DIR_IN ? &p->in : &p->eg;
    size_t *n = dir == DIR_IN ? &p->n_in : &p->n_eg;
    struct netpol_rule *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) return ORC_ENOMEM;
    *v = nv;
    nv[(*n)++] = *r;
    return 0;
}

static void rule_free(struct netpol_rule *r)
{
    for (int k = 0; k < NETPOL_NPROTO; k++) free(r->ports[k]);
}

static int read_ports(const json_t *rule, struct rule_in *ri)
{
    const json_t *ports = json_object_get(rule, "ports");
    size_t i;
    json_t *e;

    ri->any_port = json_array_size(ports) == 0;
    if (ri->any_port) return 0;
    if (!(ri->ports = calloc(json_array_size(ports), sizeof *ri->ports))) return ORC_ENOMEM;
    json_array_foreach(ports, i, e)
        if (np_port_read(e, &ri->ports[ri->n_ports]) == 0) ri->n_ports++;
    return 0;
}

/* One rule of policy pi for the selected pods (indexes into b->tp). */
static int apply_rule(struct build *b, struct rule_in *ri, size_t pi, size_t rix, const size_t *sel, size_t n_sel)
{
    size_t peers;
    int rc = read_ports(ri->rule, ri);

    if (rc == 0) rc = rule_peers(b, ri, pi, rix, &peers);
    for (size_t i = 0; i < n_sel && rc == 0; i++) {
        struct netpol_rule r;
        rc = pod_rule(ri, peers, b->local[sel[i]], &r);
        if (rc == 0) rc = append_rule(&b->tp[sel[i]], ri->dir, &r);
        if (rc != 0) rule_free(&r);
    }
    free(ri->ports);
    return rc;
}

/* ---- policies ---- */

static bool has_type(const json_t *spec, const char *type)
{
    const json_t *types = json_object_get(spec, "policyTypes");
    size_t i;
    json_t *t;

    if (json_array_size(types) == 0) /* Kubernetes' defaulting */
        return strcmp(type, "Ingress") == 0 || json_array_size(json_object_get(spec, "egress")) > 0;
    json_array_foreach(types, i, t)
        if (json_is_string(t) && strcmp(json_string_value(t), type) == 0) return true;
    return false;
}

/* The local pods the policy's podSelector picks in its namespace. */
static int select_pods(struct build *b, const char *ns, const json_t *spec, size_t *sel, size_t *n)
{
    orc_selector *ps = NULL;
    char msg[128];
    const json_t *js = json_object_get(spec, "podSelector");

    *n = 0;
    if (orc_selector_from_json(json_is_object(js) ? js : NULL, &ps, msg, sizeof msg) != 0) return 0;
    for (size_t i = 0; i < b->n_local; i++)
        if (strcmp(b->local[i]->ns, ns) == 0 && orc_selector_matches(ps, b->local[i]->labels)) sel[(*n)++] = i;
    orc_selector_free(ps);
    return 0;
}

static int apply_policy(struct build *b, const json_t *pol, size_t pi, size_t *sel)
{
    static const char *const types[] = {"Ingress", "Egress"}, *const lists[] = {"ingress", "egress"};
    const char *ns = orc_json_str(pol, "metadata.namespace");
    const json_t *spec = json_object_get(pol, "spec");
    size_t n_sel, rix;
    json_t *rule;
    int rc;

    if (!ns || !json_is_object(spec) || (rc = select_pods(b, ns, spec, sel, &n_sel)) != 0) return 0;
    for (int d = DIR_IN; d <= DIR_EG && n_sel > 0; d++) {
        if (!has_type(spec, types[d])) continue;
        for (size_t i = 0; i < n_sel; i++) {
            if (d == DIR_IN) b->tp[sel[i]].iso_in = true;
            else b->tp[sel[i]].iso_eg = true;
        }
        json_array_foreach(json_object_get(spec, lists[d]), rix, rule) {
            struct rule_in ri = {rule, d, ns, NULL, 0, false};
            if ((rc = apply_rule(b, &ri, pi, rix, sel, n_sel)) != 0) return rc;
        }
    }
    return 0;
}

static int pol_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    const char *xn = orc_json_str(x, "metadata.namespace"), *yn = orc_json_str(y, "metadata.namespace");
    int c = strcmp(xn ? xn : "", yn ? yn : "");
    if (c) return c;
    xn = orc_json_str(x, "metadata.name");
    yn = orc_json_str(y, "metadata.name");
    return strcmp(xn ? xn : "", yn ? yn : "");
}

static int local_cmp(const void *a, const void *b)
{
    const struct np_podinfo *x = *(const struct np_podinfo *const *)a, *y = *(const struct np_podinfo *const *)b;
    int c;
    if (x->ip != y->ip) return x->ip < y->ip ? -1 : 1;
    if ((c = strcmp(x->ns, y->ns)) != 0) return c;
    return strcmp(x->name, y->name);
}

/* This node's pods by address; of two with one address (a stale object)
 * the first by name keeps it: a map key can be had once. */
static int gather_local(struct build *b)
{
    const struct np_world *w = b->w;
    size_t k = 0;

    if (!(b->local = calloc(w->n_pods + 1, sizeof *b->local))) return ORC_ENOMEM;
    for (size_t i = 0; i < w->n_pods; i++)
        if (w->pods[i].local) b->local[b->n_local++] = &w->pods[i];
    qsort(b->local, b->n_local, sizeof *b->local, local_cmp);
    for (size_t i = 0; i < b->n_local; i++)
        if (k == 0 || b->local[i]->ip != b->local[k - 1]->ip) b->local[k++] = b->local[i];
    b->n_local = k;
    if (!(b->tp = calloc(b->n_local + 1, sizeof *b->tp))) return ORC_ENOMEM;
    for (size_t i = 0; i < b->n_local; i++) {
        b->tp[i].ip = b->local[i]->ip;
        snprintf(b->tp[i].key, sizeof b->tp[i].key, "%s/%s", b->local[i]->ns, b->local[i]->name);
    }
    return 0;
}

static void pod_free(struct netpol_pod *p)
{
    for (size_t i = 0; i < p->n_in; i++) rule_free(&p->in[i]);
    for (size_t i = 0; i < p->n_eg; i++) rule_free(&p->eg[i]);
    free(p->in);
    free(p->eg);
}

/* Keeps the isolated pods only. */
static void compact(struct build *b)
{
    struct netpol_state *s = b->s;
    s->pods = b->tp;
    for (size_t i = 0; i < b->n_local; i++) {
        if (b->tp[i].iso_in || b->tp[i].iso_eg) s->pods[s->n_pods++] = b->tp[i];
        else pod_free(&b->tp[i]);
    }
    b->tp = NULL;
}

static int walk_policies(struct build *b, const json_t *policies)
{
    size_t n = json_array_size(policies);
    const json_t **pols = calloc(n + 1, sizeof *pols);
    size_t *sel = calloc(b->n_local + 1, sizeof *sel);
    int rc = 0;

    if (!pols || !sel) rc = ORC_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) pols[i] = json_array_get(policies, i);
    if (rc == 0) qsort(pols, n, sizeof *pols, pol_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) rc = apply_policy(b, pols[i], i, sel);
    b->s->n_policies = n;
    free(pols);
    free(sel);
    return rc;
}

int netpol_state_build(const json_t *policies, const json_t *pods, const json_t *namespaces,
                       const struct netpol_node *node, struct netpol_state *out)
{
    struct np_world w;
    struct build b = {0};
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = np_world_build(pods, namespaces, node, &w)) != 0) return rc;
    b.w = &w;
    b.s = out;
    rc = gather_local(&b);
    if (rc == 0) rc = walk_policies(&b, policies);
    if (rc == 0) {
        compact(&b);
    } else {
        for (size_t i = 0; b.tp && i < b.n_local; i++) pod_free(&b.tp[i]);
        free(b.tp);
        netpol_state_free(out);
    }
    free(b.local);
    np_world_free(&w);
    return rc;
}

void netpol_state_free(struct netpol_state *s)
{
    for (size_t i = 0; i < s->n_pods; i++) pod_free(&s->pods[i]);
    for (size_t i = 0; i < s->n_peers; i++) {
        struct netpol_peers *p = &s->peers[i];
        for (size_t j = 0; j < p->n_blocks; j++) free(p->blocks[j].except);
        free(p->blocks);
        free(p->ranges);
        free(p->pairs);
    }
    free(s->pods);
    free(s->peers);
    memset(s, 0, sizeof *s);
}

const struct netpol_pod *netpol_state_pod(const struct netpol_state *s, const char *key)
{
    for (size_t i = 0; i < s->n_pods; i++)
        if (strcmp(s->pods[i].key, key) == 0) return &s->pods[i];
    return NULL;
}
