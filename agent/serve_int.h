/* serve_int.h — what serve.c, serve_logs.c and serve_exec.c share.
 * Internal to agent/. */
#ifndef ORC_AGENT_SERVE_INT_H
#define ORC_AGENT_SERVE_INT_H

#include "agent/serve.h"
#include "agent/stats.h"
#include "lib/httpd.h"

#define SERVE_MAX_QUERY 64
#define SERVE_ID_LEN 256
#define SERVE_PATH_LEN 1024

struct agent_server {
    uv_loop_t *loop;
    struct rt_handle r;
    struct orc_httpd *http;
    char *token;
    struct agent_serve_cbs cbs;
    void *arg;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    struct orc_metrics *metrics; /* GET /metrics; NULL: 404 */
    void (*collect)(void *arg);  /* run before each write, on the loop */
    void *collect_arg;
    struct agent_stats_prev prev; /* the last /stats/summary's CPU readings */
};

/* A request's decoded query: every key=value pair, in order. */
struct serve_query {
    int n;
    char *key[SERVE_MAX_QUERY];
    char *val[SERVE_MAX_QUERY];
};

/* The container a request names (decoded path segments). */
struct serve_ref {
    const char *ns, *pod, *container;
};

/* The first value of `key`, or NULL. */
const char *serve_query_get(const struct serve_query *q, const char *key);

/* Answers with a Kubernetes Status (ends the request). */
void serve_status(struct orc_httpd_req *r, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* find, with its errors answered: 0 or the error already sent. */
int serve_find(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref, bool previous,
               char *id, char *log_path);

void serve_logs(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                const struct serve_query *q);
void serve_exec(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                const struct serve_query *q);
/* exec with a WebSocket upgrade (serve_stream.c): kubectl's streaming form. */
void serve_exec_stream(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                       const struct serve_query *q);
/* attach (serve_stream.c): the main process's output from now on. */
void serve_attach_stream(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref,
                         const struct serve_query *q);
/* /metrics/resource, /metrics/cadvisor, /stats/summary (serve_stats.c):
 * path is the request's path without its query. */
void serve_stats(agent_server *s, struct orc_httpd_req *r, const char *path);
/* portForward (serve_pf.c): an Upgrade to SPDY/3.1, portforward.k8s.io;
 * ref->container is NULL. */
void serve_portforward(agent_server *s, struct orc_httpd_req *r, const struct serve_ref *ref);
/* GET /metrics (serve_metrics.c). */
void serve_metrics(agent_server *s, struct orc_httpd_req *r);
/* A nonblocking TCP socket inside netns (path; NULL or "": the agent's
 * own), for port-forward (pf_dial.c): 0, or ORC_EIO with errmsg set. */
int serve_pf_socket(const char *netns, int *fd, char *errmsg, size_t errlen);

#endif
