/* route.h — the Ingress routing model: from Ingresses of orc's class,
 * Services and EndpointSlices, a table mapping (host, path) to a backend's
 * ready endpoints, as Kubernetes specifies Ingress matching. Pure: no I/O,
 * no clock; the node proxy (ingress/proxy.h) rebuilds a table whenever one
 * of its inputs changes and swaps it in.
 *
 * Matching, in order:
 *  - host (lower-cased, port and a trailing dot dropped): the rules of that
 *    exact host; else of the wildcard "*.rest" when the host is one label
 *    followed by ".rest"; else the rules without a host. Only the first of
 *    these that has rules is searched (a host is one virtual server, as in
 *    ingress-nginx); when none of its paths matches, the default backend.
 *  - path (the target up to '?'): an Exact path equal to it first; else the
 *    longest Prefix path matching it element-wise ("/foo" matches /foo and
 *    /foo/bar, not /foobar; a trailing '/' in the rule is ignored).
 *    ImplementationSpecific is matched as Prefix.
 *  - two Ingresses claiming the same host, path and type: the older one
 *    (creationTimestamp, then namespace/name) wins; the same for
 *    spec.defaultBackend.
 *  - backend: the Service's port by number or name; its endpoints are the
 *    ready endpoints (conditions.ready absent or true) of the Service's
 *    EndpointSlices (label kubernetes.io/service-name), at the slice port
 *    named as the Service port (targetPort resolved per slice).
 *
 * Not thread-safe; one table lives on one loop. */
#ifndef ORC_INGRESS_ROUTE_H
#define ORC_INGRESS_ROUTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define INGRESS_CLASS_NAME "orc"
#define INGRESS_CONTROLLER "orc.dev/ingress"
#define INGRESS_ANN_DEFAULT_CLASS "ingressclass.kubernetes.io/is-default-class"
#define INGRESS_ANN_CLASS "kubernetes.io/ingress.class"
/* On a Node whose agent runs the ingress proxy: "http=80,https=443" (-1
 * for a port that is off). The ingress controller lists such nodes. */
#define INGRESS_ANN_NODE_PORTS "orc.dev/ingress-proxy"

struct ingress_endpoint {
    char ip[46];
    int port;
};

/* What a rule leads to. Owned by the table. */
struct ingress_backend {
    char *ns, *service;     /* "" service for a resource backend (not served) */
    char *port_name;        /* the Ingress's port.name, or NULL */
    int port_number;        /* its port.number, or 0 */
    bool service_found;     /* the Service exists and has that port */
    struct ingress_endpoint *eps;
    size_t n_eps;
    unsigned next;          /* round-robin position */
};

/* The inputs, all JSON arrays of objects (borrowed; NULL = empty). */
struct ingress_inputs {
    const json_t *ingresses;
    const json_t *classes;  /* IngressClasses */
    const json_t *services;
    const json_t *slices;   /* EndpointSlices */
};

struct ingress_table;

/* NULL only when out of memory. */
struct ingress_table *ingress_table_build(const struct ingress_inputs *in);
void ingress_table_free(struct ingress_table *t);

/* Whether an Ingress is orc's: spec.ingressClassName (or the annotation
 * kubernetes.io/ingress.class) names a class whose controller is
 * orc.dev/ingress, or it names none and such a class is the default. */
bool ingress_is_ours(const json_t *ing, const json_t *classes);

/* The backend for a request, or NULL when no rule and no default backend
 * match. host: the Host header (may be NULL); target: the request target. */
struct ingress_backend *ingress_route(struct ingress_table *t, const char *host,
                                      const char *target);

/* The next endpoint of the backend in round-robin order; NULL when it has
 * no ready endpoint. */
const struct ingress_endpoint *ingress_backend_pick(struct ingress_backend *be);

/* The TLS Secret ("ns" and "name", owned by the table) named for an SNI
 * host by spec.tls (exact host before a wildcard; an entry without hosts
 * covers every host); false when none. */
bool ingress_tls_secret(const struct ingress_table *t, const char *sni, const char **ns,
                        const char **name);

/* Every distinct TLS Secret the table names, for loading certificates:
 * calls fn(arg, ns, name) once each. */
void ingress_tls_each(const struct ingress_table *t,
                      void (*fn)(void *arg, const char *ns, const char *name), void *arg);

/* Counts (for tests and logs), and the i-th backend (i < backends). */
size_t ingress_table_hosts(const struct ingress_table *t);
size_t ingress_table_backends(const struct ingress_table *t);
const struct ingress_backend *ingress_table_backend(const struct ingress_table *t, size_t i);

#endif
