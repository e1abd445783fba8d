/* table.c — the whole `ip orc-proxy` table (base chains, maps, the reject
 * and masquerade chains) and the transactions that replace it or move it
 * from one state to the next, unit by unit. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "proxy/proxy_int.h"

#define T PROXY_FAMILY " " PROXY_TABLE
#define MASQ_MARK "0x4000"

/* Base chains: DNAT at dstnat, as kube-proxy; the checks for services
 * without endpoints right after it, in prerouting (before routing: a node
 * without a route to the service range must still refuse, not answer
 * "unreachable") and in output; masquerade of marked packets at srcnat. */
static const char base[] =
    "add chain " T " nat-prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
    "add chain " T " nat-output { type nat hook output priority -100; policy accept; }\n"
    "add chain " T " nat-postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
    "add chain " T " filter-prerouting { type filter hook prerouting priority -90; policy accept; }\n"
    "add chain " T " filter-output { type filter hook output priority -90; policy accept; }\n"
    "add map " T " service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }\n"
    "add map " T " service-nodeports { type inet_proto . inet_service : verdict; }\n"
    "add map " T " no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; }\n"
    "add map " T " no-endpoint-nodeports { type inet_proto . inet_service : verdict; }\n"
    "add set " T " " PROXY_APISERVER_SET " { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n"
    "add chain " T " services\n"
    "add chain " T " masquerading\n"
    "add chain " T " mark-for-masquerade\n"
    "add chain " T " reject-chain\n"
    "add chain " T " endpoints-check\n"
    "add chain " T " nodeport-endpoints-check\n"
    "add rule " T " nat-prerouting jump services\n"
    "add rule " T " nat-output jump services\n"
    "add rule " T " nat-postrouting jump masquerading\n"
    "add rule " T " services ip daddr . meta l4proto . th dport vmap @service-ips\n"
    "add rule " T " services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap "
    "@service-nodeports\n"
    "add rule " T " mark-for-masquerade meta mark set meta mark | " MASQ_MARK "\n"
    "add rule " T " masquerading meta mark & " MASQ_MARK " == 0 return\n"
    "add rule " T " masquerading meta mark set meta mark ^ " MASQ_MARK "\n"
    "add rule " T " masquerading masquerade fully-random\n"
    "add rule " T " reject-chain meta l4proto tcp reject with tcp reset\n"
    "add rule " T " reject-chain reject\n"
    "add rule " T " endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services\n"
    "add rule " T " nodeport-endpoints-check fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . "
    "th dport vmap @no-endpoint-nodeports\n"
    /* The one way in to 127/8 from a pod: the kubernetes Service, when the
     * API servers' addresses are loopback ones (a single-machine cluster),
     * to exactly the endpoint the Service's rules chose (render.c) */
    "add rule " T " filter-prerouting iifname != \"lo\" ip daddr 127.0.0.0/8 ct state new meta l4proto tcp "
    "ct original ip daddr . ct original proto-dst . ip daddr . tcp dport @" PROXY_APISERVER_SET " accept\n"
    "add rule " T " filter-prerouting iifname != \"lo\" ip daddr 127.0.0.0/8 ct state new drop\n"
    "add rule " T " filter-prerouting ct state new jump nodeport-endpoints-check\n"
    "add rule " T " filter-prerouting ct state new jump endpoints-check\n"
    "add rule " T " filter-output ct state new jump nodeport-endpoints-check\n"
    "add rule " T " filter-output ct state new jump endpoints-check\n"
    /* NodePorts on loopback addresses, for this machine's own clients only
     * (as kube-proxy's localhost nodeports; a dev node's address is
     * 127.0.0.1): the reply comes back to a 127/8 address through the pod
     * bridge (route_localnet on it, agent/net.c), and new connections to
     * 127/8 from any other interface are dropped above (CVE-2020-8558) */
    "add rule " T " nat-output ip daddr 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports\n"
    "add rule " T " filter-output ct state new ip daddr 127.0.0.0/8 meta l4proto . th dport vmap "
    "@no-endpoint-nodeports\n";

int proxy_render_remove(struct orc_buf *out)
{
    /* "add" first: deleting a table that is absent would fail the script */
    return orc_buf_puts(out, "add table " T "\ndelete table " T "\n");
}

int proxy_render_full(const struct proxy_state *s, const struct proxy_node *node, struct orc_buf *out)
{
    int rc = proxy_render_remove(out);
    (void)node;
    if (rc == 0) rc = orc_buf_puts(out, "add table " T " { comment \"orc service proxy\"; }\n");
    if (rc == 0) rc = orc_buf_puts(out, base);
    for (size_t i = 0; rc == 0 && i < s->n; i++) rc = orc_buf_puts(out, s->units[i].decl);
    for (size_t i = 0; rc == 0 && i < s->n; i++) rc = orc_buf_puts(out, s->units[i].rules);
    for (size_t i = 0; rc == 0 && i < s->n; i++) rc = orc_buf_puts(out, s->units[i].add_elems);
    return rc;
}

static bool same(const struct proxy_unit *a, const struct proxy_unit *b)
{
    return strcmp(a->decl, b->decl) == 0 && strcmp(a->rules, b->rules) == 0 &&
           strcmp(a->add_elems, b->add_elems) == 0;
}

static bool listed(char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; list && i < n; i++)
        if (strcmp(list[i], name) == 0) return true;
    return false;
}

/* A unit's pair: old (may be NULL: added) and cur (NULL: removed). */
struct pair {
    const struct proxy_unit *old, *cur;
};

/* Removes what old had and cur has not: chains flushed first (they may
 * jump to each other), then deleted, then the affinity sets they used. */
static int drop_stale(const struct pair *p, struct orc_buf *out)
{
    static const struct proxy_unit none = {0};
    const struct proxy_unit *o = p->old, *c = p->cur ? p->cur : &none;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < o->n_chains; i++)
        if (!listed(c->chains, c->n_chains, o->chains[i]))
            rc = orc_buf_printf(out, "flush chain " T " %s\n", o->chains[i]);
    for (size_t i = 0; rc == 0 && i < o->n_chains; i++)
        if (!listed(c->chains, c->n_chains, o->chains[i]))
            rc = orc_buf_printf(out, "delete chain " T " %s\n", o->chains[i]);
    for (size_t i = 0; rc == 0 && i < o->n_sets; i++)
        if (!listed(c->sets, c->n_sets, o->sets[i])) rc = orc_buf_printf(out, "delete set " T " %s\n", o->sets[i]);
    return rc;
}

static int emit_pairs(const struct pair *p, size_t n, struct orc_buf *out)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (p[i].cur) rc = orc_buf_puts(out, p[i].cur->decl);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (p[i].cur) rc = orc_buf_puts(out, p[i].cur->rules);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (p[i].old) rc = orc_buf_puts(out, p[i].old->del_elems);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (p[i].cur) rc = orc_buf_puts(out, p[i].cur->add_elems);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (p[i].old) rc = drop_stale(&p[i], out);
    return rc;
}

int proxy_render_diff(const struct proxy_state *old, const struct proxy_state *cur, struct orc_buf *out,
                      size_t *changed)
{
    struct pair *p = calloc(old->n + cur->n + 1, sizeof *p);
    size_t n = 0, i = 0, j = 0;
    int rc;

    *changed = 0;
    if (!p) return ORC_ENOMEM;
    while (i < old->n || j < cur->n) {
        int c = i >= old->n ? 1 : j >= cur->n ? -1 : strcmp(old->units[i].key, cur->units[j].key);
        if (c < 0) p[n++] = (struct pair){&old->units[i++], NULL};
        else if (c > 0) p[n++] = (struct pair){NULL, &cur->units[j++]};
        else {
            if (!same(&old->units[i], &cur->units[j])) p[n++] = (struct pair){&old->units[i], &cur->units[j]};
            i++, j++;
        }
    }
    rc = emit_pairs(p, n, out);
    free(p);
    if (rc == 0) *changed = n;
    return rc;
}
