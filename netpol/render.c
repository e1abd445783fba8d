/* render.c — the node's NetworkPolicy state as one nftables table,
 * `inet orc-<h>-np`, written whole in one transaction:
 *   forward (hook forward) and input (hook input): established and related
 *     traffic passes; then `ip saddr vmap @egress-pods` jumps to the
 *     source pod's egress chain, which returns when a rule allows and drops
 *     otherwise; forward then `ip daddr vmap @ingress-pods` to the
 *     destination pod's ingress chain, which accepts or drops;
 *   in-<ip hex> / eg-<ip hex>: one rule per (policy rule, protocol), peers
 *     in named interval sets shared by every pod the policy selects.
 * Ingress judges the connection's original source (`ct original ip
 * saddr`): a Service connection may be masqueraded on its way. Egress
 * judges the address after the Service proxy's DNAT: the real endpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/orc.h"
#include "netpol/netpol_int.h"

static const char *const proto_names[NETPOL_NPROTO] = {"tcp", "udp", "sctp"};

void netpol_table_name(const char *node_name, char *out, size_t n)
{
    char tag[9];
    orc_name_tag(node_name ? node_name : "", tag);
    snprintf(out, n, "orc-%s-np", tag);
}

static void ip_text(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* A range as nft writes it: an address, a CIDR when it is one, or a-b. */
static int put_range(struct orc_buf *o, struct netpol_range r)
{
    char lo[16], hi[16];
    uint32_t size = r.hi - r.lo;

    ip_text(r.lo, lo);
    if (r.lo == r.hi) return orc_buf_puts(o, lo);
    if (((size + 1) & size) == 0 && (r.lo & size) == 0 && size != UINT32_MAX)
        return orc_buf_printf(o, "%s/%d", lo, 32 - __builtin_popcount(size));
    if (size == UINT32_MAX) return orc_buf_puts(o, "0.0.0.0/0");
    ip_text(r.hi, hi);
    return orc_buf_printf(o, "%s-%s", lo, hi);
}

static int put_ranges(struct orc_buf *o, const struct netpol_range *v, size_t n)
{
    int rc = orc_buf_puts(o, "{ ");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i) rc = orc_buf_puts(o, ", ");
        if (rc == 0) rc = put_range(o, v[i]);
    }
    return rc ? rc : orc_buf_puts(o, " }");
}

static int put_ports(struct orc_buf *o, const struct netpol_range *v, size_t n)
{
    int rc = orc_buf_puts(o, "{ ");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (v[i].lo == v[i].hi) rc = orc_buf_printf(o, "%s%u", i ? ", " : "", v[i].lo);
        else rc = orc_buf_printf(o, "%s%u-%u", i ? ", " : "", v[i].lo, v[i].hi);
    }
    return rc ? rc : orc_buf_puts(o, " }");
}

static int put_peer_sets(struct orc_buf *o, const struct netpol_peers *pe)
{
    int rc = 0;
    if (pe->n_ranges > 0) {
        rc = orc_buf_printf(o, "\tset %s {\n\t\ttype ipv4_addr; flags interval\n\t\telements = ", pe->name);
        if (rc == 0) rc = put_ranges(o, pe->ranges, pe->n_ranges);
        if (rc == 0) rc = orc_buf_puts(o, "\n\t}\n");
    }
    if (rc == 0 && pe->n_pairs > 0) {
        rc = orc_buf_printf(o, "\tset %s-np {\n\t\ttype ipv4_addr . inet_proto . inet_service\n\t\telements = { ",
                            pe->name);
        for (size_t i = 0; i < pe->n_pairs && rc == 0; i++) {
            char ip[16];
            ip_text(pe->pairs[i].ip, ip);
            rc = orc_buf_printf(o, "%s%s . %s . %u", i ? ", " : "", ip, proto_names[pe->pairs[i].proto],
                                pe->pairs[i].port);
        }
        if (rc == 0) rc = orc_buf_puts(o, " }\n\t}\n");
    }
    return rc;
}

/* "<match> <ports> <verdict>" lines for one peer match (NULL: any peer). */
static int put_port_lines(struct orc_buf *o, const char *match, const struct netpol_rule *r, const char *verdict)
{
    int rc = 0;

    if (r->any_port) return orc_buf_printf(o, "\t\t%s%s\n", match ? match : "", verdict);
    for (int k = 0; k < NETPOL_NPROTO && rc == 0; k++) {
        if (r->n_ports[k] == 0) continue;
        rc = orc_buf_printf(o, "\t\t%smeta l4proto %s th dport ", match ? match : "", proto_names[k]);
        if (rc == 0) rc = put_ports(o, r->ports[k], r->n_ports[k]);
        if (rc == 0) rc = orc_buf_printf(o, " %s\n", verdict);
    }
    return rc;
}

static int put_rule(struct orc_buf *o, const struct netpol_state *s, const struct netpol_rule *r, bool in)
{
    const struct netpol_peers *pe = &s->peers[r->peers];
    const char *addr = in ? "ct original ip saddr" : "ip daddr", *verdict = in ? "accept" : "return";
    struct orc_buf m = ORC_BUF_INIT;
    int rc = 0;

    if (pe->any) return put_port_lines(o, NULL, r, verdict);
    if (pe->n_ranges > 0 && (rc = orc_buf_printf(&m, "%s @%s ", addr, pe->name)) == 0)
        rc = put_port_lines(o, m.data, r, verdict);
    for (size_t i = 0; i < pe->n_blocks && rc == 0; i++) {
        const struct netpol_block *bl = &pe->blocks[i];
        orc_buf_reset(&m);
        rc = orc_buf_printf(&m, "%s ", addr);
        if (rc == 0) rc = put_range(&m, bl->cidr);
        if (rc == 0) rc = orc_buf_printf(&m, " %s != ", addr);
        if (rc == 0) rc = put_ranges(&m, bl->except, bl->n_except);
        if (rc == 0) rc = orc_buf_puts(&m, " ");
        if (rc == 0) rc = put_port_lines(o, m.data, r, verdict);
    }
    orc_buf_free(&m);
    return rc;
}

/* Pairs belong to the rule's peers, not to a pod: written once per chain. */
static int put_pairs(struct orc_buf *o, const struct netpol_state *s, const struct netpol_rule *v, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct netpol_peers *pe = &s->peers[v[i].peers];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = v[j].peers == v[i].peers;
        if (pe->n_pairs > 0 && !seen)
            rc = orc_buf_printf(o, "\t\tip daddr . meta l4proto . th dport @%s-np return\n", pe->name);
    }
    return rc;
}

/* A pod's chain body: the rules of every policy selecting it. */
static int pod_body(struct orc_buf *o, const struct netpol_state *s, const struct netpol_pod *p, bool in,
                    bool host_set)
{
    const struct netpol_rule *v = in ? p->in : p->eg;
    size_t n = in ? p->n_in : p->n_eg;
    int rc = orc_buf_puts(o, "\t\tct state invalid drop\n");

    /* the node itself (probes, its processes) always reaches its pods */
    if (rc == 0 && in && host_set) rc = orc_buf_puts(o, "\t\tct original ip saddr @host-addrs accept\n");
    for (size_t i = 0; i < n && rc == 0; i++) rc = put_rule(o, s, &v[i], in);
    if (rc == 0 && !in) rc = put_pairs(o, s, v, n);
    return rc ? rc : orc_buf_puts(o, "\t\tdrop\n");
}

/* Chains are named by their content's hash: pods a policy selects alike
 * share one chain (the same rules for every replica of a Deployment), so
 * the table grows with the distinct rule sets, not with the pods. */
struct chains {
    uint64_t *seen; /* hashes of the chains written */
    size_t n;
    uint64_t *pod_in, *pod_eg; /* per pod: its chains' hashes */
};

static bool chain_seen(const struct chains *c, uint64_t h)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->seen[i] == h) return true;
    return false;
}

static int put_pod_chain(struct orc_buf *o, const struct netpol_state *s, size_t i, bool in, bool host_set,
                         struct chains *c)
{
    struct orc_buf body = ORC_BUF_INIT;
    int rc = pod_body(&body, s, &s->pods[i], in, host_set);
    uint64_t h;

    if (rc == 0) {
        h = orc_fnv1a(ORC_FNV_OFFSET, body.data, body.len);
        (in ? c->pod_in : c->pod_eg)[i] = h;
        if (!chain_seen(c, h)) {
            c->seen[c->n++] = h;
            rc = orc_buf_printf(o, "\tchain %s-%016llx {\n%s\t}\n", in ? "in" : "eg", (unsigned long long)h, body.data);
        }
    }
    orc_buf_free(&body);
    return rc;
}

static int put_map(struct orc_buf *o, const struct netpol_state *s, bool in, const struct chains *c)
{
    bool first = true;
    int rc = orc_buf_printf(o, "\tmap %s-pods {\n\t\ttype ipv4_addr : verdict\n", in ? "ingress" : "egress");

    for (size_t i = 0; i < s->n_pods && rc == 0; i++) {
        const struct netpol_pod *p = &s->pods[i];
        char ip[16];
        if (!(in ? p->iso_in : p->iso_eg)) continue;
        ip_text(p->ip, ip);
        rc = orc_buf_printf(o, "%s%s : jump %s-%016llx", first ? "\t\telements = { " : ", ", ip, in ? "in" : "eg",
                            (unsigned long long)(in ? c->pod_in : c->pod_eg)[i]);
        first = false;
    }
    if (rc == 0 && !first) rc = orc_buf_puts(o, " }\n");
    return rc ? rc : orc_buf_puts(o, "\t}\n");
}

static int put_host_set(struct orc_buf *o, const struct netpol_node *node, bool *any)
{
    struct np_rvec r = {0};
    int rc = 0;
    uint32_t ip;

    for (size_t i = 0; i < node->n_host_ips && rc == 0; i++)
        if (np_parse_ip(node->host_ips[i], &ip)) rc = np_rvec_add(&r, ip, ip);
    np_rvec_merge(&r);
    *any = r.n > 0;
    if (rc == 0 && r.n > 0) {
        rc = orc_buf_puts(o, "\tset host-addrs {\n\t\ttype ipv4_addr; flags interval\n\t\telements = ");
        if (rc == 0) rc = put_ranges(o, r.v, r.n);
        if (rc == 0) rc = orc_buf_puts(o, "\n\t}\n");
    }
    free(r.v);
    return rc;
}

/* A pod cannot block access to itself (Kubernetes' exception): through
 * its own Service the connection leaves and comes back (hairpin). */
static int put_self_set(struct orc_buf *o, const struct netpol_state *s)
{
    int rc = orc_buf_puts(o, "\tset self-pods {\n\t\ttype ipv4_addr . ipv4_addr\n");
    for (size_t i = 0; i < s->n_pods && rc == 0; i++) {
        char ip[16];
        ip_text(s->pods[i].ip, ip);
        rc = orc_buf_printf(o, "%s%s . %s", i ? ", " : "\t\telements = { ", ip, ip);
    }
    if (rc == 0 && s->n_pods > 0) rc = orc_buf_puts(o, " }\n");
    return rc ? rc : orc_buf_puts(o, "\t}\n");
}

static const char base_chains[] =
    "\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n"
    "\t\tct state established,related accept\n"
    "\t\tip saddr . ip daddr @self-pods accept\n"
    "\t\tip saddr vmap @egress-pods\n\t\tip daddr vmap @ingress-pods\n\t}\n"
    "\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n"
    "\t\tct state established,related accept\n"
    "\t\tip saddr vmap @egress-pods\n\t}\n";

static int put_pod_chains(struct orc_buf *out, const struct netpol_state *s, bool host_set)
{
    struct chains c = {0};
    int rc = 0;

    c.seen = calloc(2 * s->n_pods + 1, sizeof *c.seen);
    c.pod_in = calloc(s->n_pods + 1, sizeof *c.pod_in);
    c.pod_eg = calloc(s->n_pods + 1, sizeof *c.pod_eg);
    if (!c.seen || !c.pod_in || !c.pod_eg) rc = ORC_ENOMEM;
    /* chains before the maps that jump to them, maps before their users */
    for (size_t i = 0; i < s->n_pods && rc == 0; i++) {
        if (s->pods[i].iso_in) rc = put_pod_chain(out, s, i, true, host_set, &c);
        if (rc == 0 && s->pods[i].iso_eg) rc = put_pod_chain(out, s, i, false, host_set, &c);
    }
    if (rc == 0) rc = put_map(out, s, true, &c);
    if (rc == 0) rc = put_map(out, s, false, &c);
    free(c.seen);
    free(c.pod_in);
    free(c.pod_eg);
    return rc;
}

int netpol_render(const struct netpol_state *s, const struct netpol_node *node, struct orc_buf *out)
{
    char t[32];
    bool host_set = false;
    int rc;

    netpol_table_name(node->name, t, sizeof t);
    rc = orc_buf_printf(out, "add table %s %s\ndelete table %s %s\ntable %s %s {\n", NETPOL_FAMILY, t, NETPOL_FAMILY,
                        t, NETPOL_FAMILY, t);
    if (rc == 0) rc = put_host_set(out, node, &host_set);
    for (size_t i = 0; i < s->n_peers && rc == 0; i++) rc = put_peer_sets(out, &s->peers[i]);
    if (rc == 0) rc = put_self_set(out, s);
    if (rc == 0) rc = put_pod_chains(out, s, host_set);
    if (rc == 0) rc = orc_buf_puts(out, base_chains);
    return rc ? rc : orc_buf_puts(out, "}\n");
}

int netpol_render_remove(const char *node_name, struct orc_buf *out)
{
    char t[32];
    netpol_table_name(node_name, t, sizeof t);
    return orc_buf_printf(out, "add table %s %s\ndelete table %s %s\n", NETPOL_FAMILY, t, NETPOL_FAMILY, t);
}
