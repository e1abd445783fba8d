/* netpol_int.h — internals of netpol/: the cluster's pods and namespaces as
 * the model reads them (world.c), address and port range sets (ranges.c),
 * a policy's peers compiled (peer.c), and the model's walk over policies
 * (model.c). */
#ifndef ORC_NETPOL_INT_H
#define ORC_NETPOL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/labels.h"
#include "netpol/netpol.h"

/* A pod as a peer or target (strings and JSON borrowed from the objects). */
struct np_podinfo {
    const char *ns, *name;
    uint32_t ip;
    const json_t *labels;     /* metadata.labels, may be NULL */
    const json_t *containers; /* spec.containers, for named ports */
    bool local;               /* on this node */
    bool virt;                /* the node's resolver standing for kube-dns */
};

struct np_nsinfo {
    const char *name;
    json_t *labels; /* owned: the Namespace's labels and kubernetes.io/metadata.name */
};

struct np_world {
    struct np_podinfo *pods; /* every usable pod, then the resolver (virt) if any */
    size_t n_pods;
    struct np_nsinfo *ns;    /* sorted by name */
    size_t n_ns;
    json_t *dns_owned;       /* the resolver's labels and containers */
    const struct netpol_node *node;
};

int np_world_build(const json_t *pods, const json_t *namespaces, const struct netpol_node *node,
                   struct np_world *w);
void np_world_free(struct np_world *w);
/* The namespace's labels; those of an unknown namespace carry only its
 * name (borrowed from w, or a static empty object). */
const json_t *np_world_ns_labels(const struct np_world *w, const char *ns);
/* A pod's port named `name` with protocol proto: its number, or -1. */
int np_named_port(const struct np_podinfo *p, const char *name, int proto);
/* "TCP" (also NULL), "UDP", "SCTP" -> enum netpol_proto; -1 otherwise. */
int np_proto(const char *s);
bool np_parse_ip(const char *s, uint32_t *out);

/* ---- ranges.c: a growable set of inclusive ranges ---- */
struct np_rvec {
    struct netpol_range *v;
    size_t n, cap;
};
int np_rvec_add(struct np_rvec *r, uint32_t lo, uint32_t hi);
/* Sorts and merges overlapping and adjacent ranges. */
void np_rvec_merge(struct np_rvec *r);
int np_pairs_add(struct netpol_pair **v, size_t *n, size_t *cap, struct netpol_pair p);
/* Sorts and removes duplicates. */
void np_pairs_uniq(struct netpol_pair *v, size_t *n);

/* ---- peer.c: one entry of a rule's from/to, compiled ---- */
struct np_peer {
    bool block;
    struct netpol_range cidr;
    struct np_rvec except;
    orc_selector *pod_sel, *ns_sel; /* NULL: absent */
};
/* ORC_EINVAL for a peer that cannot be read (skipped by the caller). */
int np_peer_compile(const json_t *peer, struct np_peer *out);
void np_peer_free(struct np_peer *p);
/* Whether the pod is one of the peer's (policy_ns: the policy's namespace). */
bool np_peer_matches(const struct np_world *w, const struct np_peer *peer, const char *policy_ns,
                     const struct np_podinfo *pod);

/* One item of a rule's ports, read. */
struct np_port {
    int proto;
    const char *named; /* NULL: numbers lo..hi */
    uint32_t lo, hi;
};
/* ORC_EINVAL for an item that cannot be read. */
int np_port_read(const json_t *item, struct np_port *out);

#endif
