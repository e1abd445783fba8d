/* agent.c — the node agent's frame: opens the runtime and the API client,
 * registers the Node (node.c), then watches the pods bound to this node
 * (and, through objwatch.c, each Secret, ConfigMap and claim they use), keeps one worker per pod (worker.c), serves
 * logs/exec (serve.c) and removes what belongs to pods that no longer
 * exist. Stopping leaves every container running for the next agent. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/podlogs.h"
#include "agent/stats.h"
#include "agent/volume.h"
#include "ingress/proxy.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/metrics.h"
#include "lib/tls.h"
#include "agent/rt_metered.h"

/* ---- lifetime ---- */

static void agent_free(struct agent *a)
{
    char *strs[] = {a->server_url, a->token, a->ca_pem, a->node_name, a->data_dir,
                    a->node_ip, a->cert_pem, a->key_pem, a->registries, a->orcd_path,
                    a->cluster_domain, a->resolv_conf, a->cni_conf_dir, a->cni_bin_dir};

    if (a->client_key_pem) explicit_bzero(a->client_key_pem, strlen(a->client_key_pem));
    free(a->client_key_pem);
    free(a->client_cert_pem);
    if (a->net) net_close(a->net);
    orc_metrics_free(a->metrics);
    json_decref(a->reclaiming);
    orc_clock_free(a->clock);
    for (size_t i = 0; i < ORC_ARRAY_LEN(strs); i++) {
        if (strs[i] && (strs[i] == a->token || strs[i] == a->key_pem))
            explicit_bzero(strs[i], strlen(strs[i]));
        free(strs[i]);
    }
    free(a);
}

void agent_hold(struct agent *a) { a->closing++; }

void agent_release(struct agent *a)
{
    if (--a->closing > 0 || !a->stopping) return;
    void (*cb)(void *) = a->stop_cb;
    void *arg = a->stop_arg;
    agent_free(a);
    if (cb) cb(arg);
}

/* ---- lookups ---- */

struct worker *agent_worker(struct agent *a, const char *uid)
{
    for (struct worker *w = a->workers; w; w = worker_next(w))
        if (strcmp(worker_uid(w), uid) == 0) return w;
    return NULL;
}

static struct worker *worker_by_name(struct agent *a, const char *ns, const char *name)
{
    const json_t *pod = a->pods ? informer_get(a->pods, ns, name) : NULL;
    const char *uid = orc_json_str(pod, "metadata.uid");
    return uid ? agent_worker(a, uid) : NULL;
}

static void lookup_services(void *arg, const char *ns, void (*fn)(void *fnarg, const json_t *svc),
                            void *fnarg)
{
    struct agent *a = arg;
    if (a->services) informer_by_index(a->services, "namespace", ns, fn, fnarg);
}

static const json_t *lookup_get(void *arg, const char *kind, const char *ns, const char *name)
{
    struct agent *a = arg;
    if (strcmp(kind, PODSPEC_SA_TOKEN) == 0) {
        struct worker *w = agent_worker(a, name);
        return w ? worker_sa_token(w) : NULL;
    }
    if (strcmp(kind, "persistentvolumes") == 0) return a->volumes ? informer_get(a->volumes, ns, name) : NULL;
    enum orc_pod_ref t = strcmp(kind, "secrets") == 0                  ? ORC_REF_SECRET
                         : strcmp(kind, "persistentvolumeclaims") == 0 ? ORC_REF_CLAIM
                                                                       : ORC_REF_CONFIGMAP;
    return agent_objwatch_get(a, t, ns, name);
}

static int serve_find(void *arg, const char *ns, const char *pod, const char *container,
                      bool previous, char *id, size_t id_len, char *log_path, size_t log_len)
{
    struct agent *a = arg;
    struct worker *w = worker_by_name(a, ns, pod);
    return w ? worker_find(w, container, previous, id, id_len, log_path, log_len) : ORC_ENOENT;
}

/* A pod's network namespace for port-forward: "" when it shares the
 * node's; ORC_EUNAVAIL before its sandbox is ready. */
static int serve_netns(void *arg, const char *ns, const char *pod, char *path, size_t path_len)
{
    struct agent *a = arg;
    struct worker *w = worker_by_name(a, ns, pod);
    return w ? worker_netns(w, path, path_len) : ORC_ENOENT;
}

/* The node's and every running pod's usage, for the port's metrics. */
static int serve_stats(void *arg, struct agent_stats *out)
{
    struct agent *a = arg;
    int rv;

    snprintf(out->node, sizeof out->node, "%s", a->node_name);
    if (agent_stats_node(out) != 0) out->error = true;
    for (struct worker *w = a->workers; w; w = worker_next(w)) {
        struct agent_stat_pod p;
        rv = worker_stats(w, &a->rt, &p);
        if (rv == ORC_ENOENT) continue;
        if (rv == 0 && (rv = agent_stats_add_pod(out, &p)) != 0) free(p.ctrs);
        if (rv != 0) return rv;
    }
    return 0;
}

static void on_container_exit(void *arg, const char *id)
{
    struct agent *a = arg;
    char uid[AGENT_UID_LEN + 1];
    struct worker *w;

    if (strlen(id) <= AGENT_UID_LEN) return;
    memcpy(uid, id, AGENT_UID_LEN);
    uid[AGENT_UID_LEN] = '\0';
    if ((w = agent_worker(a, uid)) != NULL) worker_container_exited(w, id);
}

/* ---- garbage: containers, networks and directories of pods gone ---- */

struct gc_op {
    struct agent *a;
    char id[];
};

static void gc_stopped(void *arg, int err)
{
    struct gc_op *g = arg;

    if (err == 0) {
        rth_remove(&g->a->rt, g->id);
        g->id[AGENT_UID_LEN] = '\0';
        rth_remove_pod(&g->a->rt, g->id);
    }
    agent_release(g->a);
    free(g);
}

static void gc_container(struct agent *a, const char *id)
{
    struct rt_status st;
    size_t len = strlen(id);
    struct gc_op *g;

    log_info(AGENT_LOG, "removing container %s: its pod no longer exists", id);
    if (rth_status(&a->rt, id, &st) == 0 && (st.state == RT_RUNNING || st.state == RT_CREATED)
        && (g = malloc(sizeof *g + len + 1)) != NULL) {
        g->a = a;
        memcpy(g->id, id, len + 1);
        agent_hold(a);
        if (rth_stop(&a->rt, id, 2, gc_stopped, g) == 0) return;
        agent_release(a);
        free(g);
    }
    rth_remove(&a->rt, id);
}

static void gc_runtime(struct agent *a)
{
    char **ids = NULL, uid[AGENT_UID_LEN + 1];
    size_t n = 0;

    if (rth_list(&a->rt, &ids, &n) != 0) return;
    for (size_t i = 0; i < n; i++) {
        if (strlen(ids[i]) <= AGENT_UID_LEN) continue;
        memcpy(uid, ids[i], AGENT_UID_LEN);
        uid[AGENT_UID_LEN] = '\0';
        if (agent_worker(a, uid) == NULL) {
            gc_container(a, ids[i]);
            rth_remove_pod(&a->rt, uid);
        }
    }
    rt_free_list(ids, n);
}

static void gc_network(struct agent *a)
{
    char **uids = NULL;
    size_t n = 0;

    if (a->net == NULL || net_pods(a->net, &uids, &n) != 0) return;
    for (size_t i = 0; i < n; i++) {
        if (agent_worker(a, uids[i]) == NULL) net_pod_teardown(a->net, uids[i]);
        free(uids[i]);
    }
    free(uids);
}

static void gc_dirs(struct agent *a)
{
    DIR *d = opendir(a->pods_dir);
    struct dirent *e;
    char path[2048];

    if (d == NULL) return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || agent_worker(a, e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", a->pods_dir, e->d_name);
        volume_teardown(path);
        podlogs_remove_uid(a->pod_log_dir, a->ctr_log_dir, e->d_name);
    }
    closedir(d);
}

/* ---- informers ---- */

static void pod_added(void *arg, const json_t *obj)
{
    struct agent *a = arg;
    const char *uid = orc_json_str(obj, "metadata.uid");
    struct worker *w;

    if (uid == NULL || strlen(uid) != AGENT_UID_LEN) return;
    if ((w = agent_worker(a, uid)) != NULL) worker_update(w, obj);
    else if (worker_new(a, obj) == NULL)
        log_error(AGENT_LOG, "out of memory: pod %s not handled", orc_json_str(obj, "metadata.name"));
}

static void pod_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    pod_added(arg, obj);
}

static void pod_deleted(void *arg, const json_t *obj)
{
    struct agent *a = arg;
    const char *uid = orc_json_str(obj, "metadata.uid");
    struct worker *w = uid ? agent_worker(a, uid) : NULL;
    if (w) worker_update(w, NULL);
}

static void pods_synced(void *arg)
{
    struct agent *a = arg;

    if (a->pods_listed) return;
    a->pods_listed = true;
    gc_runtime(a);
    gc_network(a);
    gc_dirs(a);
}

static void start_pods(struct agent *a);

/* A PV bound or released: pods waiting for it may go on; a Released one of
 * ours may be reclaimed. */
static void volume_changed(void *arg, const json_t *obj)
{
    struct agent *a = arg;

    for (struct worker *w = a->workers; w; w = worker_next(w)) worker_kick(w);
    agent_reclaim_check(a, obj);
}
static void volume_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    volume_changed(arg, obj);
}

/* Pods start once the Services are known: containers get their
 * environment variables. The objects pods use are watched per pod
 * (objwatch.c): a worker whose object has not come yet waits and retries. */
static void services_synced(void *arg)
{
    struct agent *a = arg;
    if (!a->services || informer_synced(a->services)) start_pods(a);
}

static void start_pods(struct agent *a)
{
    static const struct informer_cbs cbs = {pod_added, pod_updated, pod_deleted, pods_synced};
    struct informer_config ic = {.path = "/api/v1/pods"};
    char sel[320];

    if (a->pods) return;
    snprintf(sel, sizeof sel, "spec.nodeName=%s", a->node_name);
    ic.field_selector = sel;
    if (informer_start(a->loop, a->api, &ic, &cbs, a, &a->pods) != 0)
        log_error(AGENT_LOG, "cannot watch this node's pods");
}

/* The volumes, for persistentVolumeClaim volumes (the claims are watched
 * per pod, objwatch.c) and the reclaim of local ones; pods do not wait for
 * them to sync (a pod using a volume not seen yet retries). */
static int start_storage(struct agent *a)
{
    static const struct informer_cbs pv_cbs = {volume_changed, volume_updated, NULL, NULL};
    struct informer_config pv = {.path = "/api/v1/persistentvolumes"};
    int rv;

    if (a->volumes == NULL && (rv = informer_start(a->loop, a->api, &pv, &pv_cbs, a, &a->volumes)) != 0) {
        log_error(AGENT_LOG, "cannot watch PersistentVolumes: %s", orc_strerror(rv));
        return rv;
    }
    return 0;
}

int agent_on_registered(struct agent *a)
{
    static const struct informer_cbs svc_src = {NULL, NULL, NULL, services_synced};
    static const struct agent_serve_cbs scbs = {serve_find, serve_netns, serve_stats};
    struct net_config nc = {.node_name = a->node_name, .pod_cidr = a->pod_cidr,
                            .state_dir = a->data_dir, .masquerade = true,
                            .backend = a->backend, .node_ip = a->node_ip,
                            .cni_conf_dir = a->cni_conf_dir, .cni_bin_dir = a->cni_bin_dir};
    char errmsg[256] = "", listen[128];
    int rv;

    if (a->net == NULL && (rv = net_open(&nc, &a->net, errmsg)) != 0) {
        log_error(AGENT_LOG, "pod network for %s: %s", a->pod_cidr, errmsg);
        return rv;
    }
    snprintf(listen, sizeof listen, "%s:%d", a->node_ip, a->port);
    if (a->srv == NULL
        && (rv = agent_serve_start(a->loop, &a->rt, listen, a->cert_pem, a->key_pem, a->token, &scbs,
                                   a, &a->srv, errmsg)) != 0) {
        log_error(AGENT_LOG, "serving logs/exec on %s: %s", listen, errmsg);
        return rv;
    }
    agent_metrics_serve(a);
    if (!a->sources_started) {
        a->sources_started = true;
        if (agent_service_informers(a) != 0) start_pods(a); /* without Service variables */
        else if ((rv = informer_add_handler(a->services, &svc_src, a)) != 0) return rv;
    }
    agent_dns_start(a);
    agent_proxy_start(a);
    agent_netpol_start(a);
    if ((rv = start_storage(a)) != 0) return rv;
    agent_ingress_start(a);
    return agent_routes_start(a);
}

/* ---- start, stop ---- */

static char *dup_or_null(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && d == NULL) *ok = false;
    return d;
}

static int copy_config(struct agent *a, const struct agent_config *c)
{
    bool ok = true;

    a->server_url = dup_or_null(c->server_url, &ok);
    a->token = dup_or_null(c->token, &ok);
    a->ca_pem = dup_or_null(c->ca_pem, &ok);
    a->node_name = dup_or_null(c->node_name, &ok);
    a->data_dir = dup_or_null(c->data_dir, &ok);
    a->node_ip = dup_or_null(c->node_ip ? c->node_ip : "127.0.0.1", &ok);
    a->cert_pem = dup_or_null(c->tls_cert_pem, &ok);
    a->key_pem = dup_or_null(c->tls_key_pem, &ok);
    a->cert_identity = c->cert_identity;
    a->client_cert_pem = dup_or_null(c->client_cert_pem ? c->client_cert_pem : c->tls_cert_pem, &ok);
    a->client_key_pem = dup_or_null(c->client_cert_pem ? c->client_key_pem : c->tls_key_pem, &ok);
    a->registries = dup_or_null(c->registries, &ok);
    a->orcd_path = dup_or_null(c->orcd_path, &ok);
    a->cluster_domain = dup_or_null(c->cluster_domain, &ok);
    a->resolv_conf = dup_or_null(c->resolv_conf, &ok);
    a->cni_conf_dir = dup_or_null(c->cni_conf_dir, &ok);
    a->cni_bin_dir = dup_or_null(c->cni_bin_dir, &ok);
    a->no_cluster_dns = c->no_cluster_dns;
    a->no_service_proxy = c->no_service_proxy;
    a->no_network_policy = c->no_network_policy;
    a->cluster_dns_port = c->cluster_dns_port > 0 ? c->cluster_dns_port : 53;
    a->ingress_http_port = c->ingress_http_port ? c->ingress_http_port : INGRESS_HTTP_PORT;
    a->ingress_https_port = c->ingress_https_port ? c->ingress_https_port : INGRESS_HTTPS_PORT;
    a->port = c->port > 0 ? c->port : 10250;
    a->reserved_cpu_milli = c->reserved_cpu_milli > 0 ? c->reserved_cpu_milli : 100;
    a->reserved_memory_bytes = c->reserved_memory_bytes > 0 ? c->reserved_memory_bytes : 256LL << 20;
    a->max_pods = c->max_pods ? c->max_pods : 110;
    a->lease_seconds = c->lease_seconds ? c->lease_seconds : 15;
    a->log_max_bytes = c->log_max_bytes;
    a->log_max_files = c->log_max_files;
    a->routes_off = c->network_backend && strcmp(c->network_backend, "none") == 0;
    /* none: the user's own network, with the pods' default MTU */
    if (a->routes_off) a->backend = NET_BACKEND_HOST_GW;
    else if (c->network_backend == NULL || !net_backend_parse(c->network_backend, &a->backend))
        a->backend = NET_BACKEND_AUTO; /* agent_start checked the name */
    snprintf(a->pods_dir, sizeof a->pods_dir, "%s/pods", c->data_dir);
    snprintf(a->claims_dir, sizeof a->claims_dir, "%s/claims", c->data_dir);
    if (c->pod_log_dir) snprintf(a->pod_log_dir, sizeof a->pod_log_dir, "%s", c->pod_log_dir);
    else snprintf(a->pod_log_dir, sizeof a->pod_log_dir, "%s/log/pods", c->data_dir);
    if (c->container_log_dir) snprintf(a->ctr_log_dir, sizeof a->ctr_log_dir, "%s", c->container_log_dir);
    else snprintf(a->ctr_log_dir, sizeof a->ctr_log_dir, "%s/log/containers", c->data_dir);
    snprintf(a->seccomp_dir, sizeof a->seccomp_dir, "%s/seccomp", c->data_dir);
    a->sec_opts.seccomp_dir = a->seccomp_dir;
    a->sec_opts.seccomp_default = c->seccomp_default;
    snprintf(a->volumes_dir, sizeof a->volumes_dir, "%s/volumes", c->data_dir);
    a->reclaiming = json_object();
    return ok && a->reclaiming ? 0 : ORC_ENOMEM;
}

/* An API client: as the node (its certificate) or with the token. */
int agent_api_client_new(struct agent *a, http_client **out)
{
    struct http_tls tls = {.ca_pem = a->ca_pem};
    char err[ORC_TLS_ERRLEN];
    int rv;

    if (!a->cert_identity || a->ca_pem == NULL || a->client_cert_pem == NULL)
        return a->ca_pem ? http_client_new_tls(a->loop, a->server_url, a->token, &tls, out)
                         : http_client_new(a->loop, a->server_url, a->token, out);
    tls.ca_pem = NULL;
    if ((rv = orc_tls_client_ctx(&(struct orc_tls_trust){.ca_pem = a->ca_pem}, &tls.ctx, err)) != 0
        || (rv = orc_tls_ctx_use_cert(tls.ctx, a->client_cert_pem, a->client_key_pem, err)) != 0) {
        log_error("agent", "the node's certificate: %s", err);
        orc_tls_ctx_unref(tls.ctx);
        return rv;
    }
    rv = http_client_new_tls(a->loop, a->server_url, NULL, &tls, out);
    orc_tls_ctx_unref(tls.ctx); /* the client holds its own reference */
    return rv;
}

int agent_start(uv_loop_t *loop, const struct agent_config *cfg, agent **out, char *errmsg)
{
    struct agent *a;
    struct rt_config rc = {0};
    rt *real;
    char rtdir[1100];
    int rv;

    if (!cfg->server_url || !cfg->token || !cfg->node_name || !cfg->data_dir)
        return orc_errf(errmsg, 256, ORC_EINVAL, "server, token, node name and data dir are required");
    if (cfg->network_backend && strcmp(cfg->network_backend, "none") != 0
        && !net_backend_parse(cfg->network_backend, &(enum net_backend){0}))
        return orc_errf(errmsg, 256, ORC_EINVAL, "network backend \"%s\": auto, host-gw, vxlan or none",
                        cfg->network_backend);
    if ((a = calloc(1, sizeof *a)) == NULL || copy_config(a, cfg) != 0) {
        if (a) agent_free(a);
        return orc_errf(errmsg, 256, ORC_ENOMEM, "out of memory");
    }
    a->loop = loop;
    a->lookup.get = lookup_get;
    a->lookup.arg = a;
    a->lookup.each_service = lookup_services;
    snprintf(rtdir, sizeof rtdir, "%s/rt", a->data_dir);
    if (orc_mkdirs(a->pods_dir, 0700) != 0 || orc_mkdirs(a->claims_dir, 0700) != 0
        || orc_mkdirs(a->volumes_dir, 0700) != 0 || orc_mkdirs(a->pod_log_dir, 0755) != 0
        || orc_mkdirs(a->ctr_log_dir, 0755) != 0) {
        agent_free(a);
        return orc_errf(errmsg, 256, ORC_EIO, "cannot create %s or the log directories %s, %s", a->pods_dir,
                        a->pod_log_dir, a->ctr_log_dir);
    }
    rc.state_dir = rtdir;
    rc.node_name = a->node_name;
    rc.registries = a->registries;
    rc.orcd_path = a->orcd_path;
    rc.log_max_bytes = a->log_max_bytes > 0 ? (size_t)a->log_max_bytes : 0;
    rc.log_max_files = a->log_max_files;
    if ((a->clock = orc_clock_real(loop)) == NULL) {
        agent_free(a);
        return orc_errf(errmsg, 256, ORC_ENOMEM, "out of memory");
    }
    if ((rv = rt_open(loop, &rc, &real, errmsg)) != 0) {
        agent_free(a);
        return rv;
    }
    a->rt = rt_handle_real(real);
    if (agent_metrics_init(a) != 0 || rt_metered_wrap(&a->rt, a->metrics, &a->rt) != 0) {
        rth_close(&a->rt, NULL, NULL);
        agent_free(a);
        return orc_errf(errmsg, 256, ORC_ENOMEM, "out of memory");
    }
    rth_on_exit(&a->rt, on_container_exit, a);
    a->cert_identity = cfg->cert_identity;
    rv = agent_api_client_new(a, &a->api);
    if (rv == 0 && agent_cert_start(a) != 0) /* the agent runs on; the certificate is not renewed */
        log_error("agent", "cannot start renewing the node's client certificate");
    if (rv != 0 || (rv = node_start(a)) != 0) {
        if (a->api) http_client_close(a->api, NULL, NULL);
        rth_close(&a->rt, NULL, NULL);
        agent_free(a);
        return orc_errf(errmsg, 256, rv, "cannot use the API URL %s", cfg->server_url);
    }
    agent_logs_start(a);
    *out = a;
    return 0;
}

static void api_closed(void *arg) { agent_release(arg); }

static void rt_closed(void *arg)
{
    struct agent *a = arg;
    http_client_close(a->api, api_closed, a);
}

static void srv_stopped(void *arg)
{
    struct agent *a = arg;
    rth_close(&a->rt, rt_closed, a);
}

void agent_stop(agent *a, void (*cb)(void *arg), void *arg)
{
    struct worker *w, *next;

    a->stopping = true;
    a->stop_cb = cb;
    a->stop_arg = arg;
    agent_hold(a);
    if (a->pods) informer_stop(a->pods);
    if (a->volumes) informer_stop(a->volumes);
    a->pods = a->volumes = NULL;
    agent_routes_stop(a);
    agent_ingress_stop(a);
    agent_dns_stop(a);
    agent_proxy_stop(a);
    agent_netpol_stop(a);
    agent_service_informers_stop(a);
    node_stop(a);
    agent_cert_stop(a);
    agent_logs_stop(a);
    for (w = a->workers; w; w = next) {
        next = worker_next(w);
        worker_shutdown(w);
    }
    agent_objwatch_stop_all(a); /* after the workers and the Ingress proxy dropped theirs */
    agent_hold(a); /* released once the API client is closed */
    if (a->srv) agent_serve_stop(a->srv, srv_stopped, a);
    else srv_stopped(a);
    agent_release(a);
}
