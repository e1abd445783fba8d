/* proxy.h — the Service proxy's rules: from Services and EndpointSlices to
 * the node's desired state (one "unit" per service port), rendered as
 * nftables commands in one table, `ip orc-proxy`, with verdict maps as
 * kube-proxy's nftables mode builds them; a full script that replaces the
 * table atomically, and an incremental one touching only the units that
 * changed. Pure (no I/O) but proxy_nft_apply, which runs `nft -f -`. */
#ifndef ORC_PROXY_H
#define ORC_PROXY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define PROXY_TABLE "orc-proxy"
#define PROXY_FAMILY "ip"
#define PROXY_AFFINITY_DEFAULT_S 10800 /* Kubernetes' sessionAffinityConfig default */

/* This node, as the rules need it (borrowed strings). */
struct proxy_node {
    const char *name;     /* the Node's name: endpoints with this nodeName are local */
    const char *pod_cidr; /* "10.42.1.0/24": traffic from elsewhere is masqueraded */
    const char *dns_ip;   /* the node's own resolver ("" or NULL: none): kube-dns goes there */
};

/* One service port's rules, rendered (every string owned by the unit). */
struct proxy_unit {
    char *key;       /* "ns/name/tcp/portname": the sort key */
    char *decl;      /* "add chain …" / "add set …" lines (idempotent) */
    char *rules;     /* per chain: "flush chain …" then its "add rule …" lines */
    char *add_elems; /* "add element …" lines into the table's maps */
    char *del_elems; /* the matching "delete element …" lines */
    char **chains;   /* the chains' names, to delete them when the unit goes */
    size_t n_chains;
    char **sets;     /* the affinity sets' names */
    size_t n_sets;
    /* UDP only (NULL/0 otherwise): the addresses clients send to and the
     * endpoints the rules lead to, so that conntrack entries left to an
     * endpoint that went can be cleared (UDP has no close). */
    char **udp_dests;
    size_t n_udp_dests;
    int udp_node_port;
    char **udp_eps;
    size_t n_udp_eps;
};

/* The node's desired state: units sorted by key. */
struct proxy_state {
    struct proxy_unit *units;
    size_t n;
};

/* Builds the state from JSON arrays of Service and EndpointSlice objects
 * (borrowed). Services without a usable IPv4 clusterIP (headless,
 * ExternalName, IPv6 only) give nothing. 0, or ORC_ENOMEM / ORC_EINVAL
 * (node without pod CIDR); *out is then empty. Free with proxy_state_free. */
int proxy_state_build(const json_t *services, const json_t *slices, const struct proxy_node *node,
                      struct proxy_state *out);
void proxy_state_free(struct proxy_state *s);
/* The unit by key, or NULL. */
const struct proxy_unit *proxy_state_find(const struct proxy_state *s, const char *key);

/* Appends to out one transaction that deletes the table (if any) and
 * creates it whole with the state's units: atomic, no stale rule survives.
 * 0 or ORC_ENOMEM. */
int proxy_render_full(const struct proxy_state *s, const struct proxy_node *node, struct orc_buf *out);
/* Appends the commands that turn the table from state `old` (what the
 * kernel holds) into `cur`, for the units that differ only; *changed gets
 * their number (0: nothing appended). 0 or ORC_ENOMEM. */
int proxy_render_diff(const struct proxy_state *old, const struct proxy_state *cur, struct orc_buf *out,
                      size_t *changed);
/* The commands that remove the table (a no-op when it is absent). */
int proxy_render_remove(struct orc_buf *out);

/* A conntrack flush: UDP entries to dst (or to the node port when dst is
 * ""), answered by ep (any when ""). */
struct proxy_ct_flush {
    char dst[16];
    int node_port;
    char ep[16];
};

/* The flushes moving from `old` to `cur` calls for, as kube-proxy clears
 * UDP conntrack: for each UDP service port, every endpoint that went (all
 * entries when none is left). *out is malloc'd (free() it), NULL when
 * *n == 0. 0 or ORC_ENOMEM. */
int proxy_udp_stale(const struct proxy_state *old, const struct proxy_state *cur, struct proxy_ct_flush **out,
                    size_t *n);
/* Runs `conntrack -D` for one flush (blocking). 0 (also when nothing
 * matched), ORC_ENOENT (no conntrack tool) or ORC_EIO with errmsg. */
int proxy_conntrack_flush(const struct proxy_ct_flush *f, char *errmsg);

/* Runs `nft -f -` on script in the calling process's network namespace
 * (blocking: call it off the event loop). 0, or ORC_ENOENT (no nft), ORC_EPERM,
 * ORC_EIO with nft's first error line in errmsg (256 bytes). */
int proxy_nft_apply(const char *script, char *errmsg);
/* Removes the table from the calling process's namespace (absent: 0). */
int proxy_nft_remove(char *errmsg);

#endif
