/* agent_int.h — internals of the node agent shared by agent/agent.c (start,
 * stop, informers, garbage collection), agent/node.c (Node + Lease),
 * agent/api.c (JSON calls to the API), agent/worker*.c (one worker per pod)
 * and agent/pod_status.c (the pod status a worker reports). */
#ifndef ORC_AGENT_INT_H
#define ORC_AGENT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/agent.h"
#include "agent/net.h"
#include "agent/podspec.h"
#include "agent/probe.h"
#include "agent/rt_ops.h"
#include "agent/runtime.h"
#include "agent/serve.h"
#include "client/http.h"
#include "client/informer.h"
#include "lib/clock.h"
#include "lib/hmap.h"
#include "lib/podrefs.h"

#define AGENT_LOG "agent"
#define AGENT_UID_LEN 36 /* pod uids are UUIDs; container ids start with one */

struct worker;

struct agent {
    uv_loop_t *loop;
    /* configuration (owned copies) */
    char *server_url, *token, *ca_pem, *node_name, *data_dir, *node_ip;
    char *cert_pem, *key_pem, *registries, *orcd_path;
    char *cni_conf_dir, *cni_bin_dir; /* NULL: orc's own pod network */
    int port;
    int64_t reserved_cpu_milli, reserved_memory_bytes;
    unsigned max_pods, lease_seconds;
    int64_t log_max_bytes;
    unsigned log_max_files;
    char pods_dir[1024];   /* DATA/pods/<uid>: volumes, logs */
    char claims_dir[1024]; /* DATA/claims/<ns>/<claim>: outlive pods */
    char pod_log_dir[1024]; /* <ns>_<pod>_<uid>/<container>/<n>.log (podlogs.h) */
    char ctr_log_dir[1024]; /* <pod>_<ns>_<container>-<id>.log links */
    uv_timer_t logs_timer;  /* logcompress.c */
    uv_work_t logs_work;
    bool logs_started, logs_working;
    /* containers' seccomp: RuntimeDefault unless a pod asks otherwise
     * (--seccomp-default); Localhost profiles under DATA/seccomp */
    struct podspec_sec_opts sec_opts;
    char seccomp_dir[1024];
    char volumes_dir[1024]; /* DATA/volumes/pvc-...: local-path volumes */

    http_client *api;
    bool cert_identity; /* API clients authenticate with the node's certificate */
    /* The per-object watches' clients (objwatch.c): a stream holds a
     * connection and a client has 64, so they are spread over clients of
     * their own, each holding at most OBJWATCH_PER_CLIENT. */
    struct objwatch_client {
        http_client *c; /* NULL once closed */
        unsigned n;     /* watches on it */
    } *watch_clients;
    size_t n_watch_clients;
    /* The API calls of agent_api_call; NULL: the http client `api`. A test
     * answers the worker's calls itself through it (tests/agent/workerfx.h). */
    int (*api_hook)(void *hook_arg, const char *method, const char *path, const char *content_type,
                    const json_t *body, void (*cb)(void *arg, int status, const json_t *body), void *arg);
    void *hook_arg;
    struct rt_handle rt;   /* the runtime (rt_real_ops on rt_open's, unless a test chose another) */
    orc_clock *clock;      /* the workers' time: timers, back-offs, timestamps (owned) */
    net *net;
    agent_server *srv;
    informer *pods;
    bool sources_started;          /* the Services' sync hook is set (agent_on_registered) */
    struct orc_hmap objwatches;    /* each Secret, ConfigMap and claim a pod uses (objwatch.c) */
    informer *volumes;             /* PersistentVolumes */
    json_t *reclaiming;         /* names of the PVs being reclaimed (reclaim.c) */
    informer *nodes;            /* every Node: routes to their pods (routes.c) */
    uv_timer_t routes_timer;
    bool routes_off, routes_started;
    enum net_backend backend;   /* how: host-gw, vxlan, auto */
    bool vtep_patching;         /* our vtep MAC's write to our Node in flight */
    uint64_t routes_err_key;    /* hash of the last sync's error (logged once); 0: none */
    struct podspec_lookup lookup;

    /* node registration and heartbeats (node.c) */
    uv_timer_t node_timer;
    bool registered, node_call_busy, lease_exists;
    char pod_cidr[64];
    uint64_t next_status_ms, next_lease_ms;
    char ready_since[32];  /* the Ready condition's lastTransitionTime */

    /* every API server, for failover (servers.c) */
    bool servers_busy;
    uint64_t next_servers_ms;
    char servers_seen[1400]; /* the list last handed to the API client */

    /* cluster DNS (dns.c) */
    bool no_cluster_dns;
    char *cluster_domain, *resolv_conf;
    int cluster_dns_port;
    struct dns_zone *dns_zone;
    struct dns_server *dns;
    char cluster_dns_ip[48]; /* the address pods are given; "" while none */
    uv_timer_t dns_timer;    /* the zone is served after 5 s, synced or not */
    bool dns_timer_open;
    informer *services, *slices; /* shared (svcinf.c): each user adds handlers */

    /* the Service proxy (proxy.c) */
    bool no_service_proxy;
    struct agent_proxy *proxy;

    /* NetworkPolicy enforcement (netpol.c) */
    bool no_network_policy;
    struct agent_netpol *netpol;

    /* the Ingress proxy (ingress.c) */
    int ingress_http_port, ingress_https_port; /* -1: off */
    struct agent_ingress *ingress;

    /* the node's client certificate, renewed while running (certrotate.c) */
    char *client_cert_pem, *client_key_pem; /* the identity in use (owned) */
    uv_timer_t cert_timer;
    bool cert_timer_open, cert_busy;
    int64_t cert_deadline;  /* Unix s: renew from then on (0: not computed) */
    char cert_csr[256];     /* the request being waited on, "" when none */
    int64_t cert_wait_until; /* Unix s: give that request up then */

    struct worker *workers; /* every pod this agent knows, by list */
    struct orc_metrics *metrics;   /* this agent's own registry (metrics.c), owned */
    struct orc_series *m_pod_start; /* kubelet_pod_start_duration_seconds */
    bool pods_listed;      /* the first pods list arrived (garbage collected then) */
    bool stopping;
    int closing; /* handles and components still closing */
    void (*stop_cb)(void *arg);
    void *stop_arg;
};

/* ---- metrics.c: the agent's /metrics under the kubelet's names ---- */

struct orc_metrics;
struct orc_series;
/* Makes a->metrics and the agent's own families. ORC_ENOMEM. */
int agent_metrics_init(struct agent *a);
/* Serves a->metrics on the agent's port (once it listens). */
void agent_metrics_serve(struct agent *a);
/* The worker's pod runs (phase Running) for the first time: its start
 * duration, from the worker's birth, is observed once. */
void agent_metrics_pod_running(struct worker *w);

/* ---- agent.c ---- */
/* The pod's worker by uid; NULL if none. */
struct worker *agent_worker(struct agent *a, const char *uid);
/* Called once the Node is registered and the pod CIDR known: opens the
 * network, starts the informers and the logs/exec port. */
int agent_on_registered(struct agent *a);
/* One more (or one fewer) thing agent_stop waits for. */
void agent_hold(struct agent *a);
void agent_release(struct agent *a);

/* ---- certrotate.c ---- */
/* Starts the check of the node's client certificate (at once, then until it
 * is due): a new key and a CertificateSigningRequest through the API when
 * 70-90 % of its life has passed, the issued pair written to the data dir
 * and presented by the API client's new connections. 0 or ORC_EIO. */
int agent_cert_start(struct agent *a);
void agent_cert_stop(struct agent *a);

/* ---- routes.c ---- */
/* Where a node publishes its vxlan device's MAC, for the others' FDB. */
#define AGENT_ANN_VTEP_MAC "orc.dev/vtep-mac"
/* That annotation of a Node (borrowed), or NULL. */
const char *agent_node_vtep_mac(const json_t *node);
/* The Node as a peer of node `self` (NULL: any): another node with a pod
 * CIDR and an InternalIP (borrowed from node). */
bool agent_node_peer(const json_t *node, const char *self, struct net_peer *out);
/* Watches the Nodes and keeps the routes to their pods; unless turned off. */
int agent_routes_start(struct agent *a);
void agent_routes_stop(struct agent *a);

/* ---- logcompress.c ---- */
/* Every 10 s, gzips the rotated container logs but the newest of each. */
void agent_logs_start(struct agent *a);
void agent_logs_stop(struct agent *a);

/* ---- svcinf.c ---- */
/* Starts, once, the informers a->services and a->slices (every Service and
 * EndpointSlice, managedFields stripped), without handlers: each user adds
 * its own with informer_add_handler(…, arg) and removes them with
 * informer_remove_handlers(…, arg) when it stops. 0 or ORC_E* (logged). */
int agent_service_informers(struct agent *a);
/* Stops both (after every user removed its handlers). */
void agent_service_informers_stop(struct agent *a);

/* An API client like a->api (the node's certificate or the token), for
 * the caller to close. 0 or ORC_E*. */
int agent_api_client_new(struct agent *a, http_client **out);

/* ---- objwatch.c: each object pods use, watched alone ---- */
/* One more (or one fewer) reference to the object of type t (Secret,
 * ConfigMap or claim); the first starts its watch, the last stops it. A
 * reference to nothing watched is ignored. 0 or ORC_ENOMEM. */
int agent_objwatch_ref(struct agent *a, enum orc_pod_ref t, const char *ns, const char *name);
void agent_objwatch_unref(struct agent *a, enum orc_pod_ref t, const char *ns, const char *name);
/* Takes (ref true) or drops the references of every object pod uses. */
void agent_objwatch_pod(struct agent *a, const json_t *pod, bool ref);
/* Whether the first list of every object pod uses has come (an object
 * whose watch could not start counts as listed): a pod starts after, as
 * the kubelet's manager waits for its cache. */
bool agent_objwatch_pod_synced(struct agent *a, const json_t *pod);
/* The object (borrowed, as informer_get), or NULL while not watched or not
 * (yet) there. */
const json_t *agent_objwatch_get(const struct agent *a, enum orc_pod_ref t, const char *ns, const char *name);
/* How many objects are watched. */
size_t agent_objwatch_count(const struct agent *a);
/* Stops every watch and closes their clients (agent_stop; each holds the
 * agent until closed); later unrefs are ignored. */
void agent_objwatch_stop_all(struct agent *a);
/* Gives the watches' clients the API servers of a->servers_seen. */
void agent_objwatch_servers(struct agent *a);

/* ---- ingress.c ---- */
/* A watched Secret changed (old or obj NULL when it came or went): a TLS
 * one rebuilds the routing table. */
void agent_ingress_secret_changed(struct agent *a, const json_t *old, const json_t *obj);
/* Starts the node's Ingress proxy on node_ip unless both its ports are off;
 * a port that cannot be listened on is logged, never fatal. */
void agent_ingress_start(struct agent *a);
void agent_ingress_stop(struct agent *a);

/* ---- dns.c ---- */
/* Starts the node's resolver on the gateway address of the pod network
 * (after net_open) and its informers; a failure is logged, not fatal: pods
 * run, without cluster names. */
void agent_dns_start(struct agent *a);
/* Stops informers and the server; holds the agent until it is closed. */
void agent_dns_stop(struct agent *a);
/* Writes pod_dir/resolv.conf (dns_pod_resolv_conf: this node's resolver,
 * domain and upstreams) and pod_dir/hosts (dns_pod_hosts; not for
 * hostNetwork pods) and appends their bind mounts on /etc/resolv.conf and
 * /etc/hosts to *mounts (volume_mounts' array), unless the container
 * mounts something there. 0, or an ORC_E* code with a message in errmsg
 * (256 bytes). */
int agent_dns_pod_mount(struct agent *a, const char *pod_dir, const json_t *pod, const char *pod_ip,
                        struct rt_mount **mounts, size_t *n, char *errmsg);

/* ---- proxy.c ---- */
/* Starts the Service proxy (after agent_dns_start: kube-dns goes to the
 * node's resolver), or, when turned off, removes its table. Failures are
 * logged and retried, never fatal. */
void agent_proxy_start(struct agent *a);
/* Stops following changes; the rules stay in the kernel. Holds the agent
 * until a sync in flight has ended. */
void agent_proxy_stop(struct agent *a);

/* ---- netpol.c ---- */
/* Starts NetworkPolicy enforcement (after net_open: the gateway is let
 * in), or, when turned off, removes its table. Failures are logged and
 * retried, never fatal. */
void agent_netpol_start(struct agent *a);
/* Stops following changes; the rules stay in the kernel. Holds the agent
 * until a sync in flight has ended. */
void agent_netpol_stop(struct agent *a);

/* ---- reclaim.c ---- */
/* A PV changed: when it is a local-path volume of this node, Released with
 * reclaimPolicy Delete, its directory is removed, then the PV. */
void agent_reclaim_check(struct agent *a, const json_t *pv);

/* ---- node.c ---- */
/* What a kubelet of this Kubernetes version would report. */
#define AGENT_KUBELET_VERSION "v1.32.0-orc"
/* The Node's status.nodeInfo (node_info.c); NULL on allocation failure. */
json_t *agent_node_info(struct agent *a);

int node_start(struct agent *a);
void node_stop(struct agent *a);

/* ---- servers.c ---- */
/* Reads the API servers from default/kubernetes when due (every 10 s) and
 * gives them to the API client for failover. */
void agent_servers_refresh(struct agent *a);

/* ---- api.c: JSON calls on the agent's API client ---- */
/* status: the HTTP status, or a negative ORC_E* when no answer came;
 * body: the parsed answer (borrowed, may be NULL). */
typedef void (*agent_api_cb)(void *arg, int status, const json_t *body);
/* body (may be NULL) is serialized during the call. cb may be NULL. */
int agent_api_call(struct agent *a, const char *method, const char *path, const char *content_type,
                   const json_t *body, agent_api_cb cb, void *arg);

/* ---- worker_satoken.c ---- */
/* The pod's current ServiceAccount token as {"token": T} (borrowed), or
 * NULL while none valid is here; asks the API for one when the pod has a
 * serviceAccountToken projection and none is held or it is due. */
const json_t *worker_sa_token(struct worker *w);

/* ---- worker.c: one per pod bound to this node ---- */
struct worker *worker_new(struct agent *a, const json_t *pod);
/* The pod changed (obj) or is gone from the API (obj NULL). */
void worker_update(struct worker *w, const json_t *obj);
/* Something the pod may depend on changed (a ConfigMap, a Secret): sync soon. */
void worker_kick(struct worker *w);
const char *worker_uid(const struct worker *w);
const char *worker_namespace(const struct worker *w);
/* A container of this pod exited (rt_on_exit). */
void worker_container_exited(struct worker *w, const char *id);
/* For the logs/exec port: see agent_serve_cbs.find; ORC_EUNAVAIL for a
 * container that has not started yet. */
int worker_find(struct worker *w, const char *container, bool previous, char *id, size_t id_len,
                char *log_path, size_t log_len);
struct agent_stat_pod;
/* For /metrics/resource and /stats/summary (worker_stats.c): the pod's
 * and its running containers' usage, read now through rt. ORC_ENOENT for
 * a pod that runs nothing (left out). out's arrays are the caller's. */
int worker_stats(const struct worker *w, const struct rt_handle *rt, struct agent_stat_pod *out);
/* For port-forward: see agent_serve_cbs.netns. */
int worker_netns(const struct worker *w, char *path, size_t path_len);
/* Drops the worker: timers and probes stop (containers keep running); its
 * memory goes with its last pending call. At agent_stop, and once a pod
 * that is gone from the API has been cleaned up. */
void worker_shutdown(struct worker *w);
struct worker *worker_next(const struct worker *w);

#endif
