/* proxy_int.h — internals of proxy/: a service port with the endpoints it
 * may use (model.c builds them from the objects, render.c turns each into
 * a unit of nftables commands). */
#ifndef ORC_PROXY_INT_H
#define ORC_PROXY_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "proxy/proxy.h"

/* "clusterIP . port . endpoint ip . endpoint port" of the kubernetes
 * Service's loopback endpoints: new connections to 127/8 from outside lo
 * are dropped but these (table.c) */
#define PROXY_APISERVER_SET "apiserver-loopback"
#define PROXY_APISERVER_KEY "default/kubernetes/tcp/"

#define PROXY_MAX_IPS 8 /* addresses a service port answers on, per kind */

struct proxy_ep {
    char ip[INET_ADDRSTRLEN];
    int port;
    bool ready, serving, terminating, local;
};

struct proxy_svcport {
    char key[300];  /* "ns/name/tcp/portname" */
    char proto[8];  /* "tcp", "udp", "sctp" */
    int port, node_port;
    char vips[PROXY_MAX_IPS][INET_ADDRSTRLEN]; /* clusterIPs */
    size_t n_vips;
    char ext[PROXY_MAX_IPS][INET_ADDRSTRLEN];  /* externalIPs, load balancer ingress */
    size_t n_ext;
    unsigned affinity_s; /* 0: no session affinity */
    bool etp_local, itp_local;
    struct proxy_ep *eps; /* every endpoint of the port, deduplicated (owned) */
    size_t n_eps;
};

/* Picks from sp's endpoints those traffic may go to, as kube-proxy does:
 * the ready ones (of this node only, if local_only); when none is ready,
 * the serving terminating ones. Writes indexes into idx (n_eps long);
 * returns their number. */
size_t proxy_pick(const struct proxy_svcport *sp, bool local_only, size_t *idx);

/* Renders one service port into *u (zeroed first). 0 or ORC_ENOMEM. */
int proxy_render_unit(const struct proxy_svcport *sp, const struct proxy_node *node, struct proxy_unit *u);
void proxy_unit_free(struct proxy_unit *u);

#endif
