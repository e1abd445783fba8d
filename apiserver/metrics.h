/* metrics.h — the API server's Prometheus metrics (metrics.c): families in
 * the process registry, per-request accounting, and GET /metrics. Loop
 * only, except that the families may be updated from any thread. */
#ifndef ORC_API_METRICS_H
#define ORC_API_METRICS_H

struct api_server;
struct api_route;
struct orc_httpd_req;

/* Registers the families (once per process) and s's accounting; stop
 * frees it once every request has ended. */
int api_metrics_start(struct api_server *s);
void api_metrics_stop(struct api_server *s);
/* A routed request begins: its verb and scope are fixed, and it counts as
 * in flight (or long-running) until api_metrics_request_end. */
void api_metrics_request_begin(struct api_server *s, struct orc_httpd_req *r, struct api_route *rt);
/* The httpd on_end hook: counts and times the request by its answer. */
void api_metrics_request_end(struct orc_httpd_req *r);
/* GET /metrics: every family of the process registry, text format 0.0.4. */
void api_handle_metrics(struct api_server *s, struct orc_httpd_req *r);

#endif
