/* net_cni.h — the CNI mode of the pod network (agent/net_cni*.c), internal
 * to agent/net*.c: instead of orc's own bridge and veths, a pod's network
 * namespace is handed to the plugins of a CNI network configuration list,
 * run as the CNI specification (containernetworking/cni SPEC.md) says:
 * ADD in order with prevResult chaining, DEL in reverse order with the
 * cached result, configuration on stdin, parameters in CNI_* variables.
 *
 * Single-threaded, like the rest of net: every call runs the plugins
 * synchronously (each bounded by NET_CNI_TIMEOUT_MS). errmsg: NET_ERRLEN
 * bytes; every function returns 0 or a negative ORC_E*. */
#ifndef ORC_AGENT_NET_CNI_H
#define ORC_AGENT_NET_CNI_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent/net.h"

#define NET_CNI_TIMEOUT_MS 20000 /* per plugin run: the bridge plugin may wait on DAD */
#define NET_CNI_IFNAME "eth0"

/* ---- configuration (net_cni_conf.c): pure but for reading DIR ---- */

/* The file libcni would take: the lexicographically first *.conflist,
 * *.conf or *.json in dir, into path (n bytes). ORC_ENOENT when none. */
int net_cni_conf_find(const char *dir, char *path, size_t n, char *errmsg);
/* A configuration list from a file's text (name: the file's, to tell a
 * .conf from a .conflist and for the messages): a .conf (or a .json that
 * has no "plugins") is a list of one plugin. Checked: name, cniVersion,
 * plugins with a type each. Every host-local ipam with no subnet and no
 * ranges gets ranges [[{"subnet": pod_cidr}]] (pod_cidr may be NULL: left
 * as is), so one file serves every node. *list: new reference. */
int net_cni_conf_parse(const char *name, const char *text, const char *pod_cidr, json_t **list,
                       char *errmsg);
/* Sets "mtu" on the bridge and ptp plugins of list that set none (mtu > 0:
 * the pods' MTU under orc's VXLAN overlay, as flannel hands it down). */
void net_cni_conf_fill_mtu(json_t *list, int mtu);
/* Both: the list of the first file of dir. */
int net_cni_conf_load(const char *dir, const char *pod_cidr, json_t **list, char *errmsg);

/* ---- one plugin run (net_cni_exec.c) ---- */

struct net_cni_call {
    const char *command;     /* "ADD", "DEL", "CHECK" */
    const char *container;   /* CNI_CONTAINERID: the pod uid */
    const char *netns;       /* CNI_NETNS */
    const char *ifname;      /* CNI_IFNAME; NULL: NET_CNI_IFNAME */
    const char *args;        /* CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=..." */
    const char *bin_dir;     /* CNI_PATH: dirs, ':'-separated */
    unsigned timeout_ms;     /* 0: NET_CNI_TIMEOUT_MS */
};

/* The request for plugin i of list: its object with the list's name and
 * cniVersion, prevResult (may be NULL) and, for each capability the plugin
 * declares that rt (may be NULL) has a value for, runtimeConfig. New
 * reference; NULL when out of memory. */
json_t *net_cni_plugin_request(const json_t *list, size_t i, const json_t *prev, const json_t *rt);
/* Runs the plugin `type` found in call->bin_dir with conf on stdin.
 * *result: its parsed output (new reference; NULL for DEL or no output).
 * A failure says which plugin failed and why, with the plugin's own JSON
 * error (msg; details) when it gave one. */
int net_cni_exec(const struct net_cni_call *call, const json_t *conf, json_t **result,
                 char *errmsg);
/* The first IPv4 address of a result (any CNI version) into ip, and its
 * gateway into gw ("" when none): 46 bytes each. ORC_ENOENT without one. */
int net_cni_result_ip(const json_t *result, char ip[46], char gw[46]);
/* "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=name;..." as the
 * kubelet passes them, into out (n bytes). */
void net_cni_args(const char *uid, const char *ns, const char *name, char *out, size_t n);
/* runtimeConfig values orc has: portMappings from the pod's hostPorts.
 * New reference (an empty object when there are none); NULL: no memory. */
json_t *net_cni_runtime(const struct net_port *ports, size_t n);

/* ---- the node's CNI state (net_cni.c) ---- */

struct net_cni {
    char *conf_dir, *bin_dir;
    char *cache_dir;  /* state_dir/cni: one cached ADD per pod, as libcni's results/ */
    char *pod_cidr;
    int pod_mtu;          /* > 0: filled into bridge/ptp plugins without one */
    pthread_mutex_t lock; /* gateway: ADDs may run on the thread pool */
    char gateway[46]; /* the pods' gateway from the latest result ("" while none) */
};

/* The gateway into out (46 bytes), under the lock. */
void net_cni_gateway(struct net_cni *c, char out[46]);

int net_cni_open(struct net_cni **out, const char *conf_dir, const char *bin_dir,
                 const char *state_dir, const char *pod_cidr, char *errmsg);
void net_cni_close(struct net_cni *c);
/* ADD on the namespace at netns (the loopback plugin first, when bin_dir
 * has one, as containerd runs it; else lo is left to the caller). The
 * cache is written before the first plugin runs (a crash mid-ADD leaves a
 * record DEL can use) and completed after the last. A failed ADD is undone
 * by DEL before returning. ip: the pod's address (46 bytes). */
int net_cni_add(struct net_cni *c, const char *uid, const char *ns, const char *name,
                const char *netns, const struct net_port *ports, size_t n_ports, char ip[46],
                char *errmsg);
/* The cached ADD's address, when the pod has one (a repeated setup). */
bool net_cni_cached_ip(struct net_cni *c, const char *uid, char ip[46]);
/* DEL in reverse order with the cached configuration and result; the
 * cache goes once every plugin succeeded. No cache: 0. */
int net_cni_del(struct net_cni *c, const char *uid, char *errmsg);
/* Uids with a cache entry: malloc'd; free each and the array. */
int net_cni_list(struct net_cni *c, char ***uids, size_t *n);
bool net_cni_has(struct net_cni *c, const char *uid);
/* For net_destroy_node: DEL of every cached pod of state_dir (with the
 * plugin path each cache names), then the cache directory. */
void net_cni_destroy(const char *state_dir);

/* ---- behind net.h's per-pod calls (net_cni_pod.c) ---- */

/* The pod's namespace (made and pinned here, lo up), then ADD; the same
 * pod again (an agent restart) gets its cached address back. ns, name:
 * for CNI_ARGS (may be NULL). */
int net_cni_pod_setup(net *n, const char *uid, const char *ns, const char *name,
                      const struct net_port *ports, size_t n_ports, struct net_pod *out,
                      char *errmsg);
int net_cni_pod_teardown(net *n, const char *uid);
/* At open: removes the node's namespaces no cached ADD accounts for. */
void net_cni_reap_orphans(net *n);

#endif
