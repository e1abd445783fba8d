/* netpol.h — NetworkPolicy (networking.k8s.io/v1) enforcement rules for one
 * node: from every NetworkPolicy, Pod and Namespace of the cluster to the
 * state of this node's isolated pods (which peers and ports each may talk
 * to), rendered as one nftables table `inet orc-<h>-np` that replaces the
 * previous one whole in one transaction. Pure (no I/O) but netpol_nft_*,
 * which run `nft`. */
#ifndef ORC_NETPOL_H
#define ORC_NETPOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define NETPOL_FAMILY "inet"
#define NETPOL_MAX_HOST_IPS 8

enum netpol_proto { NETPOL_TCP, NETPOL_UDP, NETPOL_SCTP, NETPOL_NPROTO };

/* This node, as the rules need it (borrowed strings). */
struct netpol_node {
    const char *name;       /* pods with this spec.nodeName are this node's */
    const char *dns_ip;     /* the node's resolver (the pods' gateway), "" or NULL: none */
    const char *host_ips[NETPOL_MAX_HOST_IPS]; /* the node's addresses: always let in */
    size_t n_host_ips;
};

/* An inclusive range of addresses or ports (host order). */
struct netpol_range {
    uint32_t lo, hi;
};

/* An ipBlock with except: the block, less the excepted ranges. */
struct netpol_block {
    struct netpol_range cidr;
    struct netpol_range *except; /* merged, sorted */
    size_t n_except;
};

/* A destination pod's named port: this address, protocol and port only. */
struct netpol_pair {
    uint32_t ip;
    uint8_t proto; /* enum netpol_proto */
    uint16_t port;
};

/* The peers of one rule of one policy (shared by every pod it selects). */
struct netpol_peers {
    char name[48];               /* "p<policy>-<i|e><rule>" */
    bool any;                    /* no from/to: every address */
    struct netpol_range *ranges; /* pods' addresses, ipBlocks without except (merged) */
    size_t n_ranges;
    struct netpol_block *blocks;
    size_t n_blocks;
    struct netpol_pair *pairs;   /* egress named ports and the node's resolver (sorted, unique) */
    size_t n_pairs;
};

/* One rule as it applies to one pod: peers x ports. */
struct netpol_rule {
    size_t peers;                 /* index into the state's peers */
    bool any_port;                /* no ports: every port and protocol */
    struct netpol_range *ports[NETPOL_NPROTO]; /* per protocol, merged */
    size_t n_ports[NETPOL_NPROTO];
};

/* A local pod some policy isolates in at least one direction. */
struct netpol_pod {
    uint32_t ip;
    char key[320]; /* "ns/name" */
    bool iso_in, iso_eg;
    struct netpol_rule *in, *eg;
    size_t n_in, n_eg;
};

/* The node's desired state: pods sorted by address. */
struct netpol_state {
    struct netpol_pod *pods;
    size_t n_pods;
    struct netpol_peers *peers;
    size_t n_peers;
    size_t n_policies; /* policies read (for logs) */
};

/* Builds the state from JSON arrays of NetworkPolicy, Pod and Namespace
 * objects (borrowed). Pods without an IPv4 address, finished or on the
 * host's network are neither isolated nor peers. 0 or ORC_ENOMEM (*out is
 * then empty). Free with netpol_state_free. */
int netpol_state_build(const json_t *policies, const json_t *pods, const json_t *namespaces,
                       const struct netpol_node *node, struct netpol_state *out);
void netpol_state_free(struct netpol_state *s);
/* Trims a Pod object in place to what netpol_state_build reads (name,
 * namespace, labels, uid, resourceVersion, nodeName, hostNetwork, the
 * containers' ports, phase, podIP): an informer transform. */
void netpol_pod_trim(json_t *pod);
/* The pod by "ns/name", or NULL. */
const struct netpol_pod *netpol_state_pod(const struct netpol_state *s, const char *key);

/* The table's name for a node: "orc-<8 hex of its name's hash>-np" (out:
 * at least 20 bytes). */
void netpol_table_name(const char *node_name, char *out, size_t n);
/* Appends one transaction that deletes the table (if any) and creates it
 * whole: atomic, deterministic (the same state gives the same text, so a
 * hash of it tells whether anything changed). 0 or ORC_ENOMEM. */
int netpol_render(const struct netpol_state *s, const struct netpol_node *node, struct orc_buf *out);
/* The commands that remove the node's table (a no-op when absent). */
int netpol_render_remove(const char *node_name, struct orc_buf *out);

/* Runs the script with `nft -f -` (check: `nft -c`, nothing changes),
 * blocking. 0, ORC_ENOENT (no nft), ORC_EPERM or ORC_EIO with errmsg
 * (256 bytes). */
int netpol_nft_apply(const char *script, bool check, char *errmsg);
/* Removes the node's table (absent: 0). */
int netpol_nft_remove(const char *node_name, char *errmsg);

#endif
