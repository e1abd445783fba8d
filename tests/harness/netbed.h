/* netbed.h — a multi-node network test bed, the way kind runs nodes in
 * containers: a "lab" network namespace holding a bridge (10.99.0.1/24),
 * and one "node" namespace per simulated node, joined to the bridge by a
 * veth (lab side "vn<i>", node side "eth0" with 10.99.0.(10+i)/24), each
 * with an `orcd agent` inside (its own data dir, addresses, routes and
 * iptables). The test process enters the lab namespace (setns) when the
 * bed comes up, so the `orcd server` members it starts listen on the
 * bridge (10.99.0.(2+i)), and the harness's clients (cluster.h t_http...)
 * and the test registry (registry.h, listening on every lab address and
 * given to the agents as a mirror of 127.0.0.1:PORT) work unchanged.
 *
 * Nothing changes in the host's own network namespace beyond creating and
 * deleting the named namespaces ("orcbed-<pid>-lab", "orcbed-<pid>-n<i>",
 * pid: the case's process). Everything the bed makes it removes when the
 * case ends, pass or fail: agents stopped (SIGTERM, exit 0 and a clean log
 * required), every process left in a node's namespaces killed, containers,
 * mounts, cgroups and pod namespaces removed (`orcd agent --cleanup` inside
 * the node), the namespaces deleted.
 *
 * A bed may have a second subnet (netbed_router): 10.99.1.0/24 on a second
 * lab bridge, joined to the first by a router namespace
 * ("orcbed-<pid>-rt", 10.99.0.254 and 10.99.1.1), so nodes placed on
 * different subnets share no link (the case for an overlay), while the
 * servers and registry stay reachable from both.
 *
 * A case killed before its cleanups ran
 * leaves records in /run/orc-netbed; netbed_up first sweeps the namespaces
 * and records of runs whose pid is dead. Root only. */
#ifndef ORC_TEST_NETBED_H
#define ORC_TEST_NETBED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/harness/cluster.h"
#include "tests/harness/registry.h"

#define NETBED_MAX_NODES 6
#define NETBED_RUN_DIR "/run/orc-netbed"

struct netbed;

struct netbed_node {
    struct netbed *bed;
    int idx;            /* 1.. */
    char netns[64];     /* "orcbed-<pid>-n<i>" */
    char veth[24];      /* lab side: "vn<i>" */
    char ip[20];        /* 10.99.<subnet>.(10+i) */
    int subnet;         /* 0: 10.99.0.0/24 (the servers'), 1: 10.99.1.0/24 */
    char name[64];      /* the Node's name: "bed<i>-<pid>" */
    char dir[600];      /* the agent's data dir */
    char log[700];
    const char *extra[12]; /* more `orcd agent` flags (NULL-terminated) */
    pid_t pid;          /* the agent; 0 when not running */
    bool up;            /* the namespace exists */
};

struct netbed {
    int pid;
    char lab[64];         /* "orcbed-<pid>-lab" */
    char router[64];      /* "orcbed-<pid>-rt" once netbed_router made it, else "" */
    int host_fd;          /* the host's network namespace (to go back) */
    int n_nodes;
    struct netbed_node node[NETBED_MAX_NODES + 1]; /* 1-based */
    struct cluster c;     /* the servers, in the lab */
    struct registry reg;  /* the test image's registry, in the lab */
    char image[128];      /* 127.0.0.1:PORT/orc/busybox:1 (mirrored for the nodes) */
    char registries[600]; /* registries.yaml given to every agent */
};

/* Sweeps stale beds, creates the lab and enters it; the teardown is
 * deferred. Fails the case when something cannot be made. b must outlive
 * the case's cleanups (a static). */
void netbed_up(struct netbed *b);
/* n `orcd server` members on the lab bridge (cluster_start, extra flags
 * NULL-terminated or NULL), all ready. */
void netbed_servers(struct netbed *b, int n, const char *const *extra);
/* The registry with the test image (b->image), reachable from the nodes. */
void netbed_registry(struct netbed *b);
/* A node: its namespace, link and addresses, and its agent started with
 * the extra flags (NULL-terminated, may be NULL; kept by pointer). Returns
 * its index. netbed_node_wait waits until its Node has a pod CIDR. */
int netbed_node_add(struct netbed *b, const char *const *extra);
/* The same on subnet 0 or 1 (1 needs netbed_router first). */
int netbed_node_add_on(struct netbed *b, int subnet, const char *const *extra);
/* Makes the second subnet and its router (see above); once per bed, any
 * time after netbed_up (nodes already on subnet 0 get their route). */
void netbed_router(struct netbed *b);
void netbed_node_wait(struct netbed *b, int i, unsigned timeout_ms);
/* SIGTERM to node i's agent; it must exit 0 within 10 s, log clean. */
void netbed_agent_stop(struct netbed *b, int i);
/* Starts node i's agent again (after netbed_agent_stop), same flags and
 * data dir: an agent restart. */
void netbed_agent_start(struct netbed *b, int i);
/* Cuts node i off the lab (its veth's lab side down), and heals it. */
void netbed_cut(struct netbed *b, int i);
void netbed_heal(struct netbed *b, int i);
/* Runs argv (NULL-terminated) inside node i's namespace (0: the host's,
 * -1: the lab's, -2: the router's); stdout into *out (malloc'd, may be NULL). Exit status. */
int netbed_run(struct netbed *b, int i, char *const argv[], char **out);
/* Everything down now, as the deferred teardown does it (which then has
 * nothing left to do): agents, servers, registry, nodes, the lab; the
 * calling thread back in the host's namespace. */
void netbed_down(struct netbed *b);
/* `ip -o link; ip -o addr; ip route` of the host's namespace (b NULL: of
 * the calling thread's), malloc'd. */
char *netbed_host_snapshot(struct netbed *b);
/* ---- pods (netbed_pods.c) ---- */
/* A pod `name` in namespace default bound to node i, running `sh -c cmd`
 * (cmd JSON-escaped by the caller) in the test image; labels: a JSON
 * object's text or NULL; ct_extra: more container members
 * (",\"ports\":[...]") or NULL. Fails the case unless created. */
void netbed_pod(struct netbed *b, int node, const char *name, const char *labels, const char *cmd,
                const char *ct_extra);
/* The same in namespace ns (which must exist). */
void netbed_pod_in(struct netbed *b, const char *ns, int node, const char *name, const char *labels,
                   const char *cmd, const char *ct_extra);
/* Waits (60 s) until the pod runs with an IP, into out. */
void netbed_pod_ip(struct netbed *b, const char *name, char *out, size_t n);
void netbed_pod_ip_in(struct netbed *b, const char *ns, const char *name, char *out, size_t n);
/* The pod's log (malloc'd) once it holds `want`, or (want NULL) `lines`
 * lines; fails the case after limit_ms. */
char *netbed_pod_log(struct netbed *b, const char *name, const char *want, int lines, unsigned limit_ms);

/* ---- probes from inside a namespace (netbed_probe.c) ---- */
/* A non-blocking IPv4 socket of `type` made in the network namespace open
 * at ns_fd; the calling thread goes back to back_fd's at once. Fails the
 * case when it cannot. */
int netbed_ns_socket(int ns_fd, int back_fd, int type);
struct netbed_probe {
    int ns_fd;            /* where it is made (a pod's or node's namespace) */
    const char *ip;       /* where it goes */
    int port;
    const char *dns_name; /* set: a UDP A query for it; else a TCP connect */
    bool got;             /* out: connected / answered (NOERROR, a record) */
};
/* Runs every probe at once (at most 64): got when connected / answered
 * within timeout_ms; refused (an error) and silent (dropped) are both
 * false. */
void netbed_probe_run(struct netbed_probe *p, size_t n, int back_fd, unsigned timeout_ms);
/* How long after t0 TCP connects to ip:port from ns_fd start to get
 * `allow` (connected; else an error or no answer in timeout_ms): a new
 * attempt every 50 ms, all kept open, and the time of the first attempt
 * with the new outcome (one attempt at a time would measure the timeouts
 * instead). -1 when none did within limit_ms. */
long netbed_first_flip(int ns_fd, int back_fd, const char *ip, int port, bool allow, uint64_t t0,
                       unsigned limit_ms, unsigned timeout_ms);

/* Removes the beds (and their agents' leftovers) of processes that no
 * longer exist; returns how many namespaces it deleted. */
int netbed_sweep(void);
/* The names of the namespaces of live or dead beds ("orcbed-*"), one a line
 * (malloc'd), for checks. */
char *netbed_list(void);

#endif
