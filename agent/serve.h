/* serve.h — the node agent's own HTTPS port, as a kubelet's: container logs
 * and (non-interactive) exec for the API server, which relays `orctl logs`
 * and `orctl exec` here (apiserver/podproxy.c), plus an open /healthz.
 *
 *   GET  /healthz                                    "ok", no token needed
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow=&tailLines=&sinceSeconds=
 *        &sinceTime=&timestamps=&previous=&limitBytes=   text/plain, chunked
 *   POST /exec/{ns}/{pod}/{container}?command=A&command=B[&timeout=S]
 *        (GET too) -> {"exitCode":N,"stdout":"<base64>","stderr":"<base64>"}
 *   GET|POST /portForward/{ns}/{pod}   an Upgrade to SPDY/3.1 speaking
 *        portforward.k8s.io (serve_pf.c)
 *   GET  /metrics/resource, /metrics/cadvisor   Prometheus text; GET
 *        /stats/summary   the kubelet's Summary JSON (serve_stats.c, stats.h)
 *
 * Every other request needs "Authorization: Bearer <token>". Errors are
 * Kubernetes Status objects. Threading: every call and callback on `loop`. */
#ifndef ORC_AGENT_SERVE_H
#define ORC_AGENT_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "agent/rt_ops.h"

struct agent_stats;

typedef struct agent_server agent_server;

/* The agent answers "which container?": the current (or, previous=true, the
 * last terminated) run of container `name` of pod ns/pod, as its runtime id
 * and log path (NUL-terminated into the buffers). Returns 0; ORC_ENOENT when
 * unknown (404); ORC_EUNAVAIL when it has not started yet (400 "... is
 * waiting to start"); ORC_EINVAL when `previous` is asked and there is none
 * (400 "previous terminated container \"c\" in pod \"p\" not found"). Called
 * synchronously from the request handler. */
struct agent_serve_cbs {
    int (*find)(void *arg, const char *ns, const char *pod, const char *container, bool previous,
                char *id, size_t id_len, char *log_path, size_t log_len);
    /* Port-forward's "where does pod ns/pod listen?": its network namespace
     * path into `path` ("" when it shares the node's), 0; ORC_ENOENT when
     * unknown, ORC_EUNAVAIL before its network is set up. May be NULL (no
     * port-forward). Called synchronously from the request handler. */
    int (*netns)(void *arg, const char *ns, const char *pod, char *path, size_t path_len);
    /* The node's and its pods' usage, read now into *out (zeroed by the
     * caller, freed with agent_stats_free by it). May be NULL (the metrics
     * paths answer 404). Called synchronously from the request handler. */
    int (*stats)(void *arg, struct agent_stats *out);
};

/* Listens on listen_addr ("IP:PORT"; port 0 picks one): HTTPS with cert_pem
 * and key_pem (PEM text, read during the call), plain HTTP when cert_pem is
 * NULL (tests). token (copied; compared in constant time, never logged) must
 * be non-empty. cbs and the handle `r` are copied; the runtime and `arg`
 * must outlive the server. *out
 * is the caller's until agent_serve_stop. errmsg: 256 bytes. */
int agent_serve_start(uv_loop_t *loop, const struct rt_handle *r, const char *listen_addr, const char *cert_pem,
                      const char *key_pem, const char *token, const struct agent_serve_cbs *cbs,
                      void *arg, agent_server **out, char *errmsg);

/* Serves GET /metrics (token required, as every path but /healthz) from
 * registry m, running collect(arg) first on the loop to set gauges read
 * at scrape time. m and arg must outlive s. */
struct orc_metrics;
void agent_serve_set_metrics(agent_server *s, struct orc_metrics *m, void (*collect)(void *arg), void *arg);

/* The port listened on; -1 if unknown. */
int agent_serve_port(const agent_server *s);

/* Stops listening and closes every connection (log readers are canceled;
 * an exec in flight finishes in the runtime, its answer dropped), frees s,
 * then cb (may be NULL). find is not called after this returns. */
void agent_serve_stop(agent_server *s, void (*cb)(void *arg), void *arg);

#endif
