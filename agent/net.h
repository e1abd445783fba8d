/* net.h — pod networking on one node, as Kubernetes users expect on a
 * single node: every pod gets its own network namespace (shared by its
 * containers), joined by a veth pair to a per-node bridge, with an IP from
 * the node's pod CIDR (the bridge holds the CIDR's first address as the
 * pods' gateway), outbound NAT, and hostPort mappings. hostNetwork pods
 * skip all of it. Across nodes: routes to the other nodes' pod CIDRs
 * (net_peers_set: host-gw, a VXLAN overlay, or each by peer), with no NAT
 * between pods.
 *
 * Everything created on the host is named from the node name (bridge
 * "orc" + 8 hex of its hash, veths "orcv" + ..., iptables chains
 * ORC-<hash>-..., namespaces "orc-<hash>-<pod-uid>"), so several agents can
 * share a machine and a node's leftovers can be found and removed.
 *
 * Host commands (ip, iptables) run synchronously; each call takes a few
 * milliseconds and happens when a pod starts or ends. */
#ifndef ORC_AGENT_NET_H
#define ORC_AGENT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net net;

/* How pods reach the other nodes' pods (flannel's backends). */
enum net_backend {
    NET_BACKEND_HOST_GW = 0, /* a route via the peer's address on a shared link */
    NET_BACKEND_VXLAN,       /* a VXLAN overlay to every peer */
    NET_BACKEND_AUTO,        /* host-gw to peers on a shared link, VXLAN to the rest
                                (flannel's vxlan with DirectRouting) */
};

/* "auto", "host-gw", "vxlan" -> *out; false for anything else. */
bool net_backend_parse(const char *s, enum net_backend *out);
const char *net_backend_name(enum net_backend b);

struct net_config {
    const char *node_name;
    const char *pod_cidr;  /* "10.42.3.0/24" (Node spec.podCIDR) */
    const char *state_dir; /* IP allocations survive agent restarts here */
    bool masquerade;       /* outbound NAT for pod traffic leaving the node */
    enum net_backend backend;
    /* The node's InternalIP: the local end of VXLAN tunnels, and its link's
     * MTU less the VXLAN header is the pods' MTU (vxlan and auto). NULL or
     * not an address of this namespace: no tunnels, the default MTU. */
    const char *node_ip;
};

/* Creates (or adopts, after an agent restart) the bridge, the NAT rule and
 * the hostPort chain; turns on IPv4 forwarding when masquerade is set.
 * ORC_EINVAL with a message for a bad CIDR; ORC_EPERM without the
 * privileges to do it. errmsg: 256 bytes. */
int net_open(const struct net_config *cfg, net **out, char *errmsg);
/* Frees the handle; the bridge and pods stay (containers keep running
 * across agent restarts). */
void net_close(net *n);

struct net_port {
    int container_port;
    int host_port;        /* > 0: published on the node */
    const char *protocol; /* "TCP", "UDP", "SCTP" */
    const char *host_ip;  /* "" or NULL: any */
};

struct net_pod {
    char netns_path[128]; /* /var/run/netns/orc-... ; "" for hostNetwork */
    char ip[46];          /* the pod IP ("" for hostNetwork: use the node IP) */
};

/* Sets up (idempotently: the same pod gets the same namespace and IP back)
 * the pod's network. A hostPort already taken by another pod of this node
 * gives ORC_EEXIST with a message naming the port and the other pod. */
int net_pod_setup(net *n, const char *pod_uid, const struct net_port *ports, size_t n_ports,
                  struct net_pod *out, char *errmsg);
/* Removes the pod's namespace, veth, address and port mappings. Unknown
 * pods are fine (0). */
int net_pod_teardown(net *n, const char *pod_uid);
/* The pod uids that have network state on this node (for cleanup of pods
 * that no longer exist). malloc'd; free each and the array. */
int net_pods(net *n, char ***uids, size_t *count);

/* Another node of the cluster, as its Node object tells it. */
struct net_peer {
    const char *node;     /* its name, for the logs */
    const char *pod_cidr; /* spec.podCIDR: "10.42.2.0/24" */
    const char *ip;       /* its InternalIP */
    const char *vtep_mac; /* its vxlan device's MAC ("02:76:..."); NULL: none yet */
};

/* Keeps, in this network namespace, a way to each peer's pod CIDR, by the
 * backend chosen at open, as flannel's backends do:
 * - host-gw: a route via the peer's IP when that IP is on a link this node
 *   has an address on (a shared link); peers without one get no route;
 * - vxlan: a route via the peer's vtep address (the network address of
 *   its pod CIDR) onlink on our vxlan device, a permanent neighbour entry
 *   for it (-> the peer's vtep MAC) and an FDB entry (that MAC -> the
 *   peer's IP); a peer that has not published its MAC yet waits;
 * - auto: host-gw to peers on a shared link, vxlan to the others (the
 *   device is made when the first such peer appears).
 * Peers sharing our namespace (their IP is ours, or loopback) need
 * nothing. Each peer's mode is logged when it changes. Our routes,
 * neighbours and FDB entries for peers no longer listed are removed.
 * Traffic from our pods to every peer's pod CIDR keeps its source address
 * (no NAT: Kubernetes' network model); the rest is masqueraded as before.
 * Idempotent and cheap when nothing changed (a few netlink dumps).
 * errmsg: 256 bytes. */
int net_peers_set(net *n, const struct net_peer *peers, size_t count, char *errmsg);

/* This node's vxlan device's MAC (what peers need) into mac (18 bytes:
 * "02:76:xx:xx:xx:xx"): 0, or ORC_ENOENT while there is no device. */
int net_vtep(net *n, char mac[18]);

/* Removes everything this node created on the host: pods' namespaces and
 * veths, the bridge, its vxlan device, iptables rules and chains (for tests, and for
 * `orcd agent --cleanup`). */
int net_destroy_node(const char *node_name, const char *state_dir);

#endif
