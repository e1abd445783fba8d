/* net_int.h — what agent/net*.c share among themselves (not part of the
 * contract in net.h): names, rtnetlink, namespaces, the address pool, host
 * ports and iptables. Every function returns 0 or a negative ORC_E* and,
 * where it takes errmsg (NET_ERRLEN bytes), says what failed in it. */
#ifndef ORC_AGENT_NET_INT_H
#define ORC_AGENT_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/net.h"
#include "lib/buf.h"

#define NET_ERRLEN 256
#define NET_NETNS_DIR "/var/run/netns"
#define NET_UID_MAX 64

/* ---- names (net_name.c): everything on the host is named from a hash of
 * the node name, so that agents sharing a machine never collide ---- */

struct net_names {
    char tag[9];     /* 8 hex of the node name's hash */
    char bridge[16]; /* "orc" + tag */
    char post[32];   /* nat chain: outbound masquerade, hairpin */
    char masq[32];   /* nat chain: masquerade, but not to other nodes' pods */
    char hp[32];     /* nat chain: hostPort DNAT */
    char fwd[32];    /* filter chain: forwarding to and from the bridge */
    char in[32];     /* filter chain: input guard for 127.0.0.1 hostPorts */
    char comment[16]; /* "orc-" + tag: tags every rule */
    char alias[24];   /* "orc-<tag> pod=": starts every host veth's alias */
    char vtep_alias[24]; /* "orc-<tag> vtep": the vxlan device's alias */
};

void net_names_init(struct net_names *nm, const char *node_name);
/* "orcv" + 10 hex of hash(node, pod): 14 chars, under IFNAMSIZ. */
void net_veth_name(const char *node_name, const char *pod_uid, char out[16]);
/* "/var/run/netns/orc-<tag>-<first 12 of uid>" */
void net_netns_path(const struct net_names *nm, const char *pod_uid, char *out, size_t n);
/* Pod uids become file names and rule comments: [A-Za-z0-9._-], 1..64. */
bool net_uid_valid(const char *uid);

/* ---- rtnetlink (net_nl.c): the per-pod hot path, without spawning ip ---- */

struct net_nl {
    int fd;
    uint32_t seq;
};

/* A NETLINK_ROUTE socket in the calling thread's network namespace. */
int net_nl_open(struct net_nl *nl, char *errmsg);
/* Adopts a socket opened elsewhere (in a pod's namespace). */
void net_nl_wrap(struct net_nl *nl, int fd);
void net_nl_close(struct net_nl *nl);
/* ifindex (> 0) of the named link, or ORC_ENOENT. */
int net_nl_link_index(struct net_nl *nl, const char *name, char *errmsg);
/* ORC_EEXIST when a link of that name exists. mac: 6 bytes, keeps the
 * bridge's address stable whatever ports join it. */
int net_nl_bridge_add(struct net_nl *nl, const char *name, const uint8_t mac[6], char *errmsg);
/* Creates host <-> peer; the peer is created straight in netns_fd, with
 * the address peer_mac (6 bytes); both ends get mtu (0: the default). */
int net_nl_veth_add(struct net_nl *nl, const char *host, const char *peer, int netns_fd,
                    const uint8_t peer_mac[6], int mtu, char *errmsg);
/* Sets the master (0: leave) and the alias (NULL: leave) and brings the
 * link up. */
int net_nl_link_up(struct net_nl *nl, int ifindex, int master, const char *alias, char *errmsg);
/* Takes the link down and off its bridge: at once, unlike deleting it. */
int net_nl_link_detach(struct net_nl *nl, int ifindex, char *errmsg);
/* Lets the bridge send a frame back out of the port it came in by (a pod
 * reaching itself through a hostPort, DNATed while bridged). */
int net_nl_hairpin(struct net_nl *nl, int ifindex, char *errmsg);
/* Deletes a link by name; ORC_ENOENT when there is none. */
int net_nl_link_del(struct net_nl *nl, const char *name, char *errmsg);
/* Adds (or keeps) addr/prefix on ifindex; addresses in network order. */
int net_nl_addr_add(struct net_nl *nl, int ifindex, uint32_t addr, int prefix, char *errmsg);
/* Adds or replaces the default route via gw (network order) on ifindex. */
int net_nl_route_default(struct net_nl *nl, int ifindex, uint32_t gw, char *errmsg);
/* Names of the links enslaved to master (> 0), or whose alias starts with
 * alias (non-NULL): malloc'd; free each and *names. */
int net_nl_links(struct net_nl *nl, int master, const char *alias, char ***names, size_t *n,
                 char *errmsg);

/* Routes this module makes carry this protocol number ("proto 79" in `ip
 * route`): a dump tells ours from everyone else's. */
#define NET_RTPROT 79

struct net_nl_route { /* host byte order */
    uint32_t dst;
    int prefix;
    uint32_t gw;
    int oif;
    bool onlink; /* gw need not be on a subnet of oif (vxlan: the peer's vtep) */
};

/* Adds or replaces dst/prefix via gw on oif, in the main table. */
int net_nl_route_set(struct net_nl *nl, const struct net_nl_route *r, char *errmsg);
/* Deletes our route to dst/prefix (gw and oif are not needed). */
int net_nl_route_del(struct net_nl *nl, const struct net_nl_route *r, char *errmsg);
/* Our routes (NET_RTPROT, main table): malloc'd array. */
int net_nl_routes(struct net_nl *nl, struct net_nl_route **out, size_t *n, char *errmsg);

struct net_nl_addr { /* host byte order */
    uint32_t addr;
    int prefix;
    int ifindex;
};

/* Every IPv4 address of the namespace: malloc'd array. */
int net_nl_addrs(struct net_nl *nl, struct net_nl_addr **out, size_t *n, char *errmsg);

/* ---- the VXLAN backend's requests (net_vxlan_nl.c) ---- */

struct net_nl_link {
    int index;
    int mtu;
    bool up;
    uint8_t mac[6];
    char kind[16];  /* "vxlan", "bridge", "veth", "" */
    char alias[64];
    /* vxlan only (host byte order) */
    uint32_t vni, local;
    int link;
    uint16_t port;
    bool learning;
};

/* The link named name (or, name NULL, of that index); ORC_ENOENT. */
int net_nl_link_get(struct net_nl *nl, const char *name, int index, struct net_nl_link *out,
                    char *errmsg);

struct net_nl_vxlan { /* host byte order */
    const char *name;
    uint32_t vni;
    uint32_t local; /* source address of the tunnel's packets */
    int link;       /* the link they leave by (0: any) */
    uint16_t port;
    uint8_t mac[6];
    int mtu; /* 0: the kernel's choice */
};

/* Creates the device (learning off); ORC_EEXIST when the name is taken. */
int net_nl_vxlan_add(struct net_nl *nl, const struct net_nl_vxlan *v, char *errmsg);

/* A permanent neighbour (ip -> mac, AF_INET) or FDB entry (mac -> ip, the
 * remote end of the tunnel, AF_BRIDGE "self") of one device. */
struct net_nl_neigh {
    uint32_t ip; /* host byte order */
    uint8_t mac[6];
};

/* Adds or replaces (fdb: the entry for that MAC) ... */
int net_nl_neigh_set(struct net_nl *nl, int ifindex, bool fdb, const struct net_nl_neigh *e,
                     char *errmsg);
int net_nl_neigh_del(struct net_nl *nl, int ifindex, bool fdb, const struct net_nl_neigh *e,
                     char *errmsg);
/* ... the device's entries (neighbours: permanent ones only): malloc'd. */
int net_nl_neighs(struct net_nl *nl, int ifindex, bool fdb, struct net_nl_neigh **out, size_t *n,
                  char *errmsg);

/* ---- network namespaces (net_ns.c) ---- */

/* Makes NET_NETNS_DIR exist as a shared mount, as `ip netns` does, so a
 * namespace bound there is seen (and freed) from every mount namespace. */
int net_ns_prepare(char *errmsg);
/* Creates the namespace pinned at path, or opens it if it exists.
 * *netns_fd: the namespace; *nl_fd: a NETLINK_ROUTE socket inside it;
 * the caller closes both. *created tells whether it is new. */
int net_ns_open(const char *path, int *netns_fd, int *nl_fd, bool *created, char *errmsg);
/* Unpins and unlinks it; missing is fine. */
int net_ns_remove(const char *path, char *errmsg);
/* Removes the node's namespaces ("orc-<tag>-*") but those keep() keeps
 * (keep may be NULL); the first failure is returned. */
int net_ns_remove_node(const char *tag, bool (*keep)(void *arg, const char *name), void *arg,
                       char *errmsg);

/* ---- state files (net_state.c) ---- */

/* Writes "uid\n" to path; exclusive: ORC_EEXIST when it exists (the
 * creation is the reservation). */
int net_owner_write(const char *path, const char *uid, bool exclusive);
/* The uid a state file names, or "" (missing, or cut short by a crash). */
void net_owner_read(const char *path, char uid[NET_UID_MAX + 1]);
/* state_dir + "/" + sub, malloc'd; NULL when out of memory. */
char *net_state_path(const char *state_dir, const char *sub);

/* ---- CIDRs and the address pool (net_ipam.c) ---- */

struct net_cidr { /* host byte order */
    uint32_t net;
    uint32_t mask;
    int prefix;
};

/* "10.42.3.0/24": IPv4, prefix 8..30, no host bits set. */
int net_cidr_parse(const char *s, struct net_cidr *out, char *errmsg);
uint32_t net_cidr_gateway(const struct net_cidr *c);
bool net_cidr_contains(const struct net_cidr *c, uint32_t ip);
/* Dotted quad of a host-order address into out (16 bytes). */
void net_ip_str(uint32_t ip, char out[16]);

struct net_ipam_ent {
    char uid[NET_UID_MAX + 1];
    uint32_t ip;
};

/* One file per allocated address in DIR/ips/, named by the address and
 * holding the pod uid: the same pod gets its address back after a restart. */
struct net_ipam {
    char *dir; /* state_dir/ips (owned) */
    struct net_cidr cidr;
    uint32_t last; /* most recent allocation: the search resumes after it */
    struct net_ipam_ent *ents;
    size_t n, cap;
};

int net_ipam_open(struct net_ipam *p, const char *state_dir, const struct net_cidr *cidr,
                  char *errmsg);
void net_ipam_close(struct net_ipam *p);
/* The pod's address (host order) or 0. */
uint32_t net_ipam_find(const struct net_ipam *p, const char *uid);
/* The pod's address, reserving a free one if it has none (*fresh then
 * true). ORC_ENOSPC when the pool is exhausted. */
int net_ipam_alloc(struct net_ipam *p, const char *uid, uint32_t *ip, bool *fresh, char *errmsg);
int net_ipam_release(struct net_ipam *p, const char *uid);
/* Every uid with an address; for a node without a handle, from disk. */
int net_ipam_list_dir(const char *state_dir, char ***uids, size_t *n);

/* ---- host ports (net_hostport.c) ---- */

struct net_hp_ent {
    char uid[NET_UID_MAX + 1];
    char proto[8];   /* "tcp", "udp", "sctp" */
    int port;
    char host_ip[16]; /* "" = every address */
};

/* Reservations, one file each in DIR/ports/ ("tcp-8080-any" holding the
 * uid): a conflict is found without asking iptables. */
struct net_hp {
    char *dir;
    struct net_hp_ent *ents;
    size_t n, cap;
};

struct net_port; /* net.h */

/* One published port (host_port > 0) as a reservation: validated, the
 * protocol lower case, host_ip "" for every address. */
int net_hp_entry(const char *uid, const struct net_port *p, struct net_hp_ent *e, char *errmsg);
int net_hp_open(struct net_hp *h, const char *state_dir, char *errmsg);
void net_hp_close(struct net_hp *h);
/* Checks the pod's ports: well formed, and none held by another pod
 * (ORC_EEXIST naming the port and the pod). Reserves nothing. */
int net_hp_check(const struct net_hp *h, const char *uid, const struct net_port *ports,
                 size_t n, char *errmsg);
/* Adds the reservations of the pod's published ports it lacks... */
int net_hp_reserve(struct net_hp *h, const char *uid, const struct net_port *ports, size_t n,
                   char *errmsg);
/* ...and, once the rules match, drops those it no longer publishes. */
void net_hp_prune(struct net_hp *h, const char *uid, const struct net_port *ports, size_t n);
bool net_hp_has(const struct net_hp *h, const char *uid);
void net_hp_release(struct net_hp *h, const char *uid);

/* ---- iptables (net_ipt.c) ---- */

/* The node's chains and the jumps to them; the static chains are rebuilt. */
int net_ipt_open(const struct net_names *nm, const struct net_cidr *cidr, bool masquerade,
                 char *errmsg);
/* Replaces the pod's DNAT rules with one per published port. has_old:
 * whether rules may exist already (a re-setup), which costs a listing. */
int net_ipt_pod_ports(const struct net_names *nm, const char *uid, uint32_t pod_ip,
                      const struct net_port *ports, size_t n, bool has_old, char *errmsg);
/* Rebuilds the masquerade chain: traffic to these pod CIDRs (other
 * nodes', "a.b.c.d/n") keeps its pod source address, the rest is NATed. */
int net_ipt_peers(const struct net_names *nm, const char *const *cidrs, size_t n, char *errmsg);
/* Removes every rule of the node, then its chains. */
int net_ipt_destroy(const struct net_names *nm, char *errmsg);

/* Runs iptables-restore --noflush on script. */
int net_ipt_restore(const char *script, char *errmsg);
/* `iptables -t table -S [chain]` into out; ORC_ENOENT when the chain is missing. */
int net_ipt_list(const char *table, const char *chain, struct orc_buf *out, char *errmsg);

/* ---- the handle (net.c, net_pod.c) ---- */

/* A torn-down pod's veth: the kernel deletes it with the namespace, in
 * the background; one still there after a while is deleted by hand. */
struct net_reap {
    char veth[16];
    int ifindex;     /* a new link of the same name is not this one */
    uint64_t due_ms; /* monotonic */
};

struct net {
    char *node;
    char *state_dir;
    struct net_names nm;
    struct net_cidr cidr;
    int br_index;
    struct net_nl nl; /* in the host's namespace */
    struct net_ipam ipam;
    struct net_hp hp;
    struct net_reap *reap;
    size_t n_reap, cap_reap;
    bool masquerade;
    uint64_t peers_key;   /* hash of the pod CIDRs exempt from NAT now */
    uint64_t modes_key;   /* hash of each peer's mode (logged when it changes) */
    /* cross-node backend (net_route.c, net_vxlan.c) */
    enum net_backend backend;
    uint32_t node_ip;   /* the tunnel's local end; 0: none (loopback, unknown) */
    int uplink;         /* the link holding node_ip; 0: none found */
    int pod_mtu;        /* pods' veths; 0: the default (host-gw) */
    int vx_index;       /* the vxlan device; 0 until needed (auto) or made */
    uint8_t vx_mac[6];  /* its address: fixed from the node name */
    bool vx_warned;     /* "cannot tunnel" logged */
};

/* ---- the VXLAN backend (net_vxlan.c) ---- */

#define NET_VXLAN_DEV "orc.vxlan"
#define NET_VXLAN_VNI 1
#define NET_VXLAN_PORT 8472 /* Linux's and flannel's, not IANA's 4789 */
#define NET_VXLAN_OVERHEAD 50 /* outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14 */

/* At open: the uplink (the link holding node_ip), the pods' MTU, and the
 * device left by an earlier run adopted; in vxlan mode it is made now. */
int net_vxlan_open(struct net *n, char *errmsg);
/* Makes (or adopts, or remakes when its parameters changed) the device,
 * up, with the pod CIDR's network address as its own (/32). */
int net_vxlan_up(struct net *n, char *errmsg);
/* Makes the device's neighbour and FDB entries exactly these (ours: the
 * device has no others). No-op without a device. */
int net_vxlan_sync(struct net *n, const struct net_nl_neigh *neigh, const struct net_nl_neigh *fdb,
                   size_t count, char *errmsg);
/* net_destroy_node's part: the node's vxlan device, if it is its own
 * (ORC_ENOENT when it has none). */
int net_vxlan_destroy(struct net_nl *nl, const struct net_names *nm, char *errmsg);
/* "02:76:..." into out (18 bytes); false when s is not a MAC. */
bool net_mac_parse(const char *s, uint8_t mac[6]);
void net_mac_str(const uint8_t mac[6], char out[18]);

/* ---- leftovers (net_reap.c) ---- */

/* Cuts a torn-down pod's veth off the bridge now; deletes it later if the
 * kernel has not (its namespace is still alive). */
void net_reap_later(struct net *n, const char *veth);
/* Deletes the veths due for it; cheap when there are none. */
void net_reap(struct net *n);
/* At open: removes the node's veths and namespaces no pod state accounts
 * for. */
void net_reap_orphans(struct net *n);

#endif
