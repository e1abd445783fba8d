/* net_int.h — what agent/net*.c share among themselves (not part of the
 * contract in net.h): names, rtnetlink, namespaces, the address pool, host
 * ports and iptables. Every function returns 0 or a negative ORC_E* and,
 * where it takes errmsg (NET_ERRLEN bytes), says what failed in it. */
#ifndef ORC_AGENT_NET_INT_H
#define ORC_AGENT_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * the address peer_mac (6 bytes). */
int net_nl_veth_add(struct net_nl *nl, const char *host, const char *peer, int netns_fd,
                    const uint8_t peer_mac[6], char *errmsg);
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

struct net_cni;

struct net {
    struct net_cni *cni; /* CNI mode (net_cni*.c) when set: no bridge, ipam or host ports */
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
    uint64_t unreach_key; /* hash of the peers without a shared link (logged once) */
};

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
