/* agent.h — the node agent: registers this machine as a Node (capacity,
 * addresses, Ready condition, a Lease renewed every few seconds) and runs
 * every pod bound to it in real containers, as a kubelet does: images,
 * init containers, restart policy with back-off, probes, volumes, env,
 * status written back when it changes, graceful deletion, re-adoption of
 * running containers after an agent restart. It is an API client only
 * (list + watch of its pods, writes of its Node, Lease and pod status);
 * it also serves pod logs and exec to the API server on its own port.
 *
 * One agent per node name. Everything runs on the loop given to
 * agent_start (orcd runs an embedded agent on a thread of its own). */
#ifndef ORC_AGENT_H
#define ORC_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct agent agent;

struct agent_config {
    const char *server_url;   /* API: "https://HOST:PORT" (copied) */
    const char *token;        /* what the API servers show the logs/exec port
                                 (copied, never logged); also the bearer token
                                 of the agent's API calls unless cert_identity */
    bool cert_identity;       /* the API calls present tls_cert_pem (the node's
                                 certificate, system:node:NAME) instead */
    const char *ca_pem;       /* cluster CA the API and peers are checked against */
    const char *node_name;    /* this Node's name (DNS-1123 subdomain) */
    const char *data_dir;     /* agent state: containers, images, pod volumes, logs */
    const char *node_ip;      /* InternalIP to report and serve on; NULL: the
                                 address this machine uses to reach the server */
    int port;                 /* logs/exec port on node_ip; 0 = 10250 */
    const char *tls_cert_pem; /* serving certificate for that port (issued by
                                 the cluster CA for node_ip), and its key */
    const char *tls_key_pem;
    /* With cert_identity: the client certificate and key the API calls
     * present when not tls_cert_pem's pair (one renewed through a
     * CertificateSigningRequest, agent-client.crt). NULL: that pair. The
     * agent renews whichever it uses before it expires. */
    const char *client_cert_pem;
    const char *client_key_pem;
    const char *registries;   /* k3s registries.yaml, or NULL */
    const char *orcd_path;    /* this binary: orc-shim is looked for beside it, else `orcd shim` */
    int64_t reserved_cpu_milli;    /* kept back from allocatable; 0 = 100 */
    int64_t reserved_memory_bytes; /* 0 = 256 MiB */
    unsigned max_pods;             /* 0 = 110 */
    unsigned lease_seconds;        /* Lease duration; renewed every third of it; 0 = 15 */
    int64_t log_max_bytes;         /* rotate a container's log past this; 0 = 10 MiB */
    unsigned log_max_files;        /* a container's log files, the live one too (the
                                    * kubelet's containerLogMaxFiles); 0 = 5 */
    /* The kubelet's log layout: DIR/<ns>_<pod>_<uid>/<container>/<n>.log and
     * the links CDIR/<pod>_<ns>_<container>-<id>.log (copied). NULL:
     * DATA/log/pods and DATA/log/containers (orcd passes /var/log/...). */
    const char *pod_log_dir, *container_log_dir;
    /* How pods reach other nodes' pods: "auto" (NULL: host-gw to nodes on a
     * shared link, VXLAN to the rest), "host-gw", "vxlan", or "none" (no
     * routes: something else does it). agent_start refuses anything else. */
    const char *network_backend;
    /* CNI mode (--cni-conf-dir): pods networked by the plugins of the
     * first configuration in this directory instead of orc's bridge. */
    const char *cni_conf_dir;      /* NULL: orc's own pod network (copied) */
    const char *cni_bin_dir;       /* CNI_PATH; NULL = /usr/lib/cni (copied) */
    /* Cluster DNS (agent/dns.c): a resolver on the pods' gateway address
     * answering from Services and EndpointSlices. */
    bool no_cluster_dns;           /* true: no resolver on this node */
    const char *cluster_domain;    /* NULL = "cluster.local" (copied) */
    const char *resolv_conf;       /* upstreams; NULL = /etc/resolv.conf (copied) */
    int cluster_dns_port;          /* 0 = 53 */
    /* The Service proxy (agent/proxy.c): nftables rules for ClusterIPs,
     * NodePorts and load-balancer addresses in this node's namespace. */
    bool no_service_proxy;         /* true: none, and its table is removed */
    /* NetworkPolicy enforcement (agent/netpol.c): nftables table
     * inet orc-<h>-np in this node's namespace. */
    bool no_network_policy;        /* true: none, and its table is removed */
    /* The Ingress proxy (agent/ingress.c, ingress/proxy.h) on node_ip. */
    int ingress_http_port;         /* 0 = 80, negative: no HTTP listener */
    int ingress_https_port;        /* 0 = 443, negative: no HTTPS listener */
    /* Containers whose pod names no seccomp profile run with
     * RuntimeDefault (the kubelet's --seccomp-default). Localhost
     * profiles are read from data_dir/seccomp. */
    bool seccomp_default;
};

/* Starts registering and syncing; failures to reach the API are retried
 * (running containers keep running meanwhile). errmsg: 256 bytes. */
int agent_start(uv_loop_t *loop, const struct agent_config *cfg, agent **out, char *errmsg);
/* Stops syncing and serving; containers keep running (a restarted agent
 * adopts them). cb once every handle is closed; may be NULL. */
void agent_stop(agent *a, void (*cb)(void *arg), void *arg);

#endif
