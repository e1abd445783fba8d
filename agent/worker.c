/* worker.c — one pod on this node, level-triggered as the kubelet's pod
 * workers are: each sync compares what runs with what the pod asks for and
 * takes the next step (network, volumes, init containers in order, then
 * the containers with restart policy and back-off), then writes the
 * status if it changed. A pod being deleted gets its containers stopped
 * within the grace period, its files and network removed, and its
 * deletion finished through the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/volume.h"
#include "agent/worker_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/timeutil.h"

#define RETRY_MS 1000
#define CONFIG_RETRY_MS 10000
#define START_HOLD_MS 1000

static void worker_sync(struct worker *w);

/* ---- lifetime ---- */

void worker_hold(struct worker *w) { w->refs++; }

static void worker_free(struct worker *w)
{
    for (size_t i = 0; i < w->n_ctrs; i++) ctr_free(&w->ctrs[i]);
    free(w->ctrs);
    worker_net_free(w);
    json_decref(w->pod);
    json_decref(w->reported);
    json_decref(w->sa_token);
    free(w);
}

void worker_put(struct worker *w)
{
    if (--w->refs == 0) worker_free(w);
}

static void unlink_worker(struct worker *w)
{
    struct worker **pp = &w->a->workers;

    while (*pp && *pp != w) pp = &(*pp)->next;
    if (*pp) *pp = w->next;
}

/* Drops the worker from the agent; memory goes with the last reference. */
void worker_shutdown(struct worker *w)
{
    if (w->shut) return;
    w->shut = true;
    for (size_t i = 0; i < w->n_ctrs; i++) ctr_stop_probes(&w->ctrs[i]);
    unlink_worker(w);
    orc_timer_close(w->timer);
    w->timer = NULL;
    worker_put(w); /* the list's reference */
}

struct worker *worker_next(const struct worker *w) { return w->next; }
const char *worker_uid(const struct worker *w) { return w->uid; }
const char *worker_namespace(const struct worker *w) { return w->ns; }

/* ---- scheduling syncs ---- */

static void on_timer(void *arg) { worker_sync(arg); }

void worker_sync_soon(struct worker *w) { worker_sync_at(w, 0); }

void worker_sync_at(struct worker *w, uint64_t at_ms)
{
    uint64_t now = worker_now(w), in = at_ms > now ? at_ms - now : 0;

    if (w->shut) return;
    if (orc_timer_armed(w->timer) && w->timer_due <= now + in) return;
    w->timer_due = now + in;
    orc_timer_start(w->timer, in);
}

void worker_kick(struct worker *w)
{
    for (size_t i = 0; i < w->n_ctrs; i++) w->ctrs[i].retry_at = 0; /* what was missing may be there */
    worker_sync_soon(w);
}

const char *worker_restart_policy(const struct worker *w)
{
    const char *p = orc_json_str(w->pod, "spec.restartPolicy");
    return p && *p ? p : "Always";
}

/* ---- creation ---- */

static int add_containers(struct worker *w, const json_t *list, bool init)
{
    size_t i;
    json_t *c;

    json_array_foreach(list, i, c) {
        struct ctr *x = &w->ctrs[w->n_ctrs++];
        memset(x, 0, sizeof *x);
        x->w = w;
        x->spec = json_incref(c);
        x->init = init;
        snprintf(x->name, sizeof x->name, "%s", orc_json_str(c, "name") ? orc_json_str(c, "name") : "");
    }
    return 0;
}

static void adopt_runs(struct worker *w)
{
    char **ids = NULL;
    size_t n = 0;

    if (rth_list(&w->a->rt, &ids, &n) != 0) return;
    for (size_t i = 0; i < w->n_ctrs; i++) ctr_adopt(&w->ctrs[i], ids, n);
    rt_free_list(ids, n);
}

struct worker *worker_new(struct agent *a, const json_t *pod)
{
    const json_t *init = orc_json_get(pod, "spec.initContainers"), *main = orc_json_get(pod, "spec.containers");
    size_t n = json_array_size(init) + json_array_size(main);
    struct worker *w = calloc(1, sizeof *w);

    if (w == NULL || (w->ctrs = calloc(n ? n : 1, sizeof *w->ctrs)) == NULL
        || (w->pod = json_deep_copy(pod)) == NULL || orc_timer_new(a->clock, on_timer, w, &w->timer) != 0) {
        if (w) {
            json_decref(w->pod);
            free(w->ctrs);
        }
        free(w);
        return NULL;
    }
    w->a = a;
    w->seen_ns = uv_hrtime();
    w->refs = 1;
    snprintf(w->uid, sizeof w->uid, "%s", orc_json_str(pod, "metadata.uid"));
    snprintf(w->ns, sizeof w->ns, "%s", orc_json_str(pod, "metadata.namespace") ?: "default");
    snprintf(w->name, sizeof w->name, "%s", orc_json_str(pod, "metadata.name") ?: "");
    snprintf(w->dir, sizeof w->dir, "%s/%s", a->pods_dir, w->uid);
    w->host_network = json_is_true(orc_json_get(pod, "spec.hostNetwork"));
    add_containers(w, init, true);
    w->n_init = w->n_ctrs;
    add_containers(w, main, false);
    if (json_is_object(orc_json_get(pod, "status")))
        w->reported = json_deep_copy(orc_json_get(pod, "status"));
    w->next = a->workers;
    a->workers = w;
    if (!a->pods_listed) adopt_runs(w); /* only pods of the first list can have runs already */
    log_debug(AGENT_LOG, "pod %s/%s: worker started", w->ns, w->name);
    worker_sync_soon(w);
    return w;
}

/* Containers keep their place and name (the API allows only images to
 * change), so the i-th container object of the new pod is c's. */
static void respec_containers(struct worker *w)
{
    const json_t *init = orc_json_get(w->pod, "spec.initContainers");
    const json_t *main = orc_json_get(w->pod, "spec.containers");

    for (size_t i = 0; i < w->n_ctrs; i++) {
        struct ctr *c = &w->ctrs[i];
        json_t *spec = c->init ? json_array_get(init, i) : json_array_get(main, i - w->n_init);
        const char *name = orc_json_str(spec, "name");
        if (name && strcmp(name, c->name) == 0) ctr_respec(c, spec);
    }
}

void worker_update(struct worker *w, const json_t *obj)
{
    json_t *copy;

    if (obj == NULL) w->gone = true;
    else if ((copy = json_deep_copy(obj)) != NULL) {
        json_decref(w->pod);
        w->pod = copy;
        respec_containers(w);
        /* What the API holds is what counts: a status someone else wrote
         * (the node lifecycle controller marking the pod not ready while
         * this node was unreachable) is corrected by the next sync, as the
         * kubelet's status manager reconciles. */
        const json_t *st = orc_json_get(obj, "status");
        if (json_is_object(st) && !(w->reported && json_equal(st, w->reported))) {
            json_decref(w->reported);
            w->reported = json_deep_copy(st);
        }
    }
    worker_sync_soon(w);
}

void worker_container_exited(struct worker *w, const char *id)
{
    for (size_t i = 0; i < w->n_ctrs; i++)
        if (strcmp(w->ctrs[i].id, id) == 0) ctr_exited(&w->ctrs[i], id);
    worker_sync_soon(w);
}

int worker_netns(const struct worker *w, char *path, size_t path_len)
{
    if (w->gone) return ORC_ENOENT;
    if (!w->net_ready) return ORC_EUNAVAIL;
    snprintf(path, path_len, "%s", w->host_network ? "" : w->netns);
    return 0;
}

int worker_find(struct worker *w, const char *container, bool previous, char *id, size_t id_len,
                char *log_path, size_t log_len)
{
    for (size_t i = 0; i < w->n_ctrs; i++) {
        struct ctr *c = &w->ctrs[i];
        if (strcmp(c->name, container) != 0) continue;
        if (previous) {
            if (c->run == 0 || !c->ever_ran) return ORC_EINVAL;
            ctr_id(c, c->run - 1, id, id_len);
            ctr_log_path(c, c->run - 1, log_path, log_len);
            return 0;
        }
        if (!c->ever_ran) return ORC_EUNAVAIL;
        snprintf(id, id_len, "%s", c->id);
        ctr_log_path(c, c->run, log_path, log_len);
        return 0;
    }
    return ORC_ENOENT;
}

/* ---- the sandbox: network and volumes ---- */

static int collect_ports(struct worker *w, struct net_port *ports, size_t max, size_t *n)
{
    size_t i, j;
    json_t *c, *p;

    *n = 0;
    json_array_foreach(orc_json_get(w->pod, "spec.containers"), i, c) {
        json_array_foreach(orc_json_get(c, "ports"), j, p) {
            int64_t cp = 0, hp = 0;
            orc_json_int(p, "containerPort", &cp);
            orc_json_int(p, "hostPort", &hp);
            if (hp <= 0 || *n >= max) continue;
            ports[*n] = (struct net_port){(int)cp, (int)hp, orc_json_str(p, "protocol"),
                                          orc_json_str(p, "hostIP")};
            if (ports[*n].protocol == NULL) ports[*n].protocol = "TCP";
            (*n)++;
        }
    }
    return 0;
}

static void set_waiting_all(struct worker *w, const char *reason, const char *msg)
{
    for (size_t i = 0; i < w->n_ctrs; i++) {
        struct ctr *c = &w->ctrs[i];
        if (c->st != CS_IDLE) continue;
        snprintf(c->reason, sizeof c->reason, "%s", reason);
        snprintf(c->message, sizeof c->message, "%s", msg);
    }
}

/* As the kubelet tells it: a FailedCreatePodSandBox warning (once per
 * distinct message; the event's count grows while it repeats) and the
 * containers waiting in ContainerCreating with the reason. */
static void network_failed(struct worker *w, const char *err)
{
    if (strcmp(err, w->net_msg) != 0) {
        log_warn(AGENT_LOG, "pod %s/%s network: %s", w->ns, w->name, err);
        snprintf(w->net_msg, sizeof w->net_msg, "%s", err);
    }
    worker_event(w, NULL, true, "FailedCreatePodSandBox",
                 "Failed to create pod sandbox: failed to set up the pod's network: %s", err);
    set_waiting_all(w, "ContainerCreating", err);
    worker_sync_at(w, worker_now(w) + CONFIG_RETRY_MS);
}

static bool sandbox_ready(struct worker *w)
{
    struct net_port ports[64];
    struct net_pod np;
    char err[256] = "";
    size_t n;
    bool changed = false;
    int rv;

    if (!w->net_ready && !w->host_network) {
        collect_ports(w, ports, ORC_ARRAY_LEN(ports), &n);
        uint64_t t0 = uv_hrtime();
        if (net_is_cni(w->a->net)) rv = worker_net_async(w, ports, n, &np, err);
        else rv = net_pod_setup_named(w->a->net, w->uid, w->ns, w->name, ports, n, &np, err);
        if (rv == 1) return false; /* running off the loop: a sync follows */
        if (!net_is_cni(w->a->net))
            log_debug(AGENT_LOG, "pod %s/%s: network in %.2f ms", w->ns, w->name, (uv_hrtime() - t0) / 1e6);
        if (rv != 0) {
            network_failed(w, err);
            return false;
        }
        w->net_msg[0] = '\0';
        memcpy(w->netns, np.netns_path, sizeof w->netns);
        memcpy(w->pod_ip, np.ip, sizeof w->pod_ip);
        /* in CNI mode the resolver waits for the first pod's gateway */
        if (net_is_cni(w->a->net)) agent_dns_start(w->a);
    }
    w->net_ready = true;
    if (w->host_network) snprintf(w->pod_ip, sizeof w->pod_ip, "%s", w->a->node_ip);
    rv = volume_setup(w->dir, w->a->claims_dir, w->pod, &w->a->lookup, &changed, err);
    if (rv != 0) {
        if (!w->volumes_ready || strcmp(err, w->volume_msg) != 0)
            log_warn(AGENT_LOG, "pod %s/%s volumes: %s", w->ns, w->name, err);
        snprintf(w->volume_msg, sizeof w->volume_msg, "%s", err);
        if (!w->volumes_ready) {
            set_waiting_all(w, "ContainerCreating", err);
            worker_sync_at(w, worker_now(w) + CONFIG_RETRY_MS);
            return false;
        }
    }
    w->volumes_ready = true;
    w->volume_msg[0] = '\0';
    return true;
}

/* ---- running ---- */

static unsigned grace_seconds_of(const struct worker *w)
{
    int64_t g = 30;

    orc_json_int(w->pod, "spec.terminationGracePeriodSeconds", &g);
    return g < 0 ? 0 : (unsigned)g;
}

static bool is_terminal(const char *phase)
{
    return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

/* Starts a container now or once its back-off ends. */
static void launch_when_due(struct worker *w, struct ctr *c)
{
    uint64_t now = worker_now(w);

    if (c->retry_at > now) {
        worker_sync_at(w, c->retry_at);
        return;
    }
    if (c->pull_until > now) {
        if (now >= c->pull_failed_ms + PULL_SHOWN_MS && strcmp(c->reason, "ErrImagePull") == 0) {
            snprintf(c->reason, sizeof c->reason, "ImagePullBackOff");
            snprintf(c->message, sizeof c->message, "Back-off pulling image \"%s\"",
                     orc_json_str(c->spec, "image") ?: "");
            worker_event(w, c, false, "BackOff", "%s", c->message);
        }
        if (strcmp(c->reason, "ErrImagePull") == 0 && c->pull_failed_ms + PULL_SHOWN_MS < c->pull_until)
            worker_sync_at(w, c->pull_failed_ms + PULL_SHOWN_MS);
        else worker_sync_at(w, c->pull_until);
        return;
    }
    if (c->backoff_until > now) {
        if (c->start_failed) {
            worker_sync_at(w, c->backoff_until);
            return;
        }
        if (strcmp(c->reason, "CrashLoopBackOff") != 0)
            worker_event(w, c, true, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
                         c->name, w->name, w->ns, w->uid);
        snprintf(c->reason, sizeof c->reason, "CrashLoopBackOff");
        snprintf(c->message, sizeof c->message, "back-off %llus restarting failed container=%s pod=%s_%s(%s)",
                 (unsigned long long)(c->backoff_shown_ms / 1000),
                 c->name, w->name, w->ns, w->uid);
        worker_sync_at(w, c->backoff_until);
        return;
    }
    ctr_launch(c);
}

static bool busy(const struct ctr *c)
{
    return c->st == CS_PULLING || c->st == CS_STARTING || c->st == CS_RUNNING;
}

/* Init containers one at a time, in order; true once all completed. */
static bool run_init(struct worker *w)
{
    for (size_t i = 0; i < w->n_init; i++) {
        struct ctr *c = &w->ctrs[i];
        if (c->st == CS_EXITED && c->exited.exit_code == 0) continue;
        if (busy(c)) return false;
        if (c->st == CS_EXITED && strcmp(worker_restart_policy(w), "Never") == 0) return false;
        launch_when_due(w, c);
        return false;
    }
    return true;
}

/* As the kubelet: a running container whose image changed is killed and
 * started again with the new one, whatever the restart policy. */
static void restart_outdated(struct worker *w, struct ctr *c)
{
    c->respawn = true;
    worker_event(w, c, false, "Killing", "Container %s definition changed, will be restarted", c->name);
    ctr_kill(c, grace_seconds_of(w), true);
}

static void run_containers(struct worker *w)
{
    for (size_t i = w->n_init; i < w->n_ctrs; i++) {
        struct ctr *c = &w->ctrs[i];
        if (c->st == CS_RUNNING && ctr_outdated(c)) {
            if (!c->killing) restart_outdated(w, c);
        } else if (c->st == CS_RUNNING) ctr_start_probes(c);
        else if (c->st == CS_IDLE || (c->st == CS_EXITED && (c->respawn || ctr_should_restart(c))))
            launch_when_due(w, c);
    }
}

static void run_pod(struct worker *w)
{
    const char *phase = pod_phase(w);
    char now[ORC_TIME_LEN];

    if (!w->start_time[0]) {
        const char *st = orc_json_str(w->pod, "status.startTime");
        if (st) snprintf(w->start_time, sizeof w->start_time, "%s", st);
        else {
            orc_time_format(worker_wall_s(w), now);
            memcpy(w->start_time, now, sizeof now);
        }
    }
    if (is_terminal(phase)) {
        for (size_t i = 0; i < w->n_ctrs; i++) ctr_stop_probes(&w->ctrs[i]);
        /* a failed teardown is not retried here (the clean-up tries again,
         * and the agent's collection): a tight loop of plugin runs else */
        if (w->net_ready && !w->host_network && !worker_net_busy(w) && worker_net_down(w) != 1)
            w->net_ready = false;
        return;
    }
    if (!sandbox_ready(w)) return;
    if (run_init(w)) run_containers(w);
}

/* ---- termination ---- */

static unsigned grace_seconds(const struct worker *w)
{
    int64_t g = 30;

    if (orc_json_int(w->pod, "metadata.deletionGracePeriodSeconds", &g) != 0)
        orc_json_int(w->pod, "spec.terminationGracePeriodSeconds", &g);
    return g < 0 ? 0 : (unsigned)g;
}

static void on_finalized(void *arg, int status, const json_t *body)
{
    struct worker *w = arg;

    w->finalizing = false;
    if (status == 200 || status == 202 || status == 404 || status == 409) w->finalized = true;
    else {
        log_warn(AGENT_LOG, "finishing the deletion of pod %s/%s: %s", w->ns, w->name,
                 status < 0 ? orc_strerror(status) : orc_json_str(body, "message"));
        worker_sync_at(w, worker_now(w) + RETRY_MS);
    }
    worker_put(w);
}

static void finalize(struct worker *w)
{
    char path[512];
    json_t *opts = json_pack("{s:s, s:s, s:i, s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                             "gracePeriodSeconds", 0, "preconditions", "uid", w->uid);

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", w->ns, w->name);
    w->finalizing = true;
    worker_hold(w);
    if (agent_api_call(w->a, "DELETE", path, NULL, opts, on_finalized, w) != 0) {
        w->finalizing = false;
        worker_put(w);
        worker_sync_at(w, worker_now(w) + RETRY_MS);
    }
    json_decref(opts);
}

static void clean_up(struct worker *w)
{
    /* a setup or teardown off the loop syncs the worker again when it ends */
    if (worker_net_busy(w)) return;
    if (!w->host_network && w->a->net && worker_net_down(w) == 1) return;
    for (size_t i = 0; i < w->n_ctrs; i++) ctr_remove_runs(&w->ctrs[i]);
    rth_remove_pod(&w->a->rt, w->uid);
    volume_teardown(w->dir);
    w->cleaned = true;
    log_info(AGENT_LOG, "pod %s/%s: containers stopped and removed", w->ns, w->name);
}

static void terminate(struct worker *w)
{
    unsigned grace = w->gone && !orc_json_get(w->pod, "metadata.deletionTimestamp") ? 2 : grace_seconds(w);
    bool waiting = false;

    if (!w->terminating) {
        w->terminating = true;
        log_info(AGENT_LOG, "pod %s/%s: stopping (grace %us)", w->ns, w->name, grace);
    }
    for (size_t i = 0; i < w->n_ctrs; i++) {
        struct ctr *c = &w->ctrs[i];
        ctr_stop_probes(c);
        if (c->st == CS_RUNNING && !c->killing) {
            worker_event(w, c, false, "Killing", "Stopping container %s", c->name);
            ctr_kill(c, grace, true);
        }
        waiting |= busy(c);
    }
    if (waiting) return;
    if (!w->cleaned) clean_up(w);
    if (!w->cleaned) return;
    if (w->gone) worker_shutdown(w);
    else if (!w->finalizing && !w->finalized) finalize(w);
}

/* ---- status ---- */

static void write_status(struct worker *w);

static void on_status_written(void *arg, int status, const json_t *body)
{
    struct worker *w = arg;

    w->status_busy = false;
    if (status == 200) {
        log_debug(AGENT_LOG, "pod %s/%s: status written (%s)", w->ns, w->name,
                  orc_json_str(body, "status.phase") ?: "");
        json_decref(w->reported);
        w->reported = json_deep_copy(orc_json_get(body, "status"));
        w->status_retry_ms = 0;
        write_status(w); /* anything that changed meanwhile */
    } else if (status != 404) {
        log_warn(AGENT_LOG, "writing the status of pod %s/%s: %s", w->ns, w->name,
                 status < 0 ? orc_strerror(status) : orc_json_str(body, "message"));
        w->status_retry_ms = w->status_retry_ms ? w->status_retry_ms * 2 : RETRY_MS;
        if (w->status_retry_ms > 10000) w->status_retry_ms = 10000;
        worker_sync_at(w, worker_now(w) + w->status_retry_ms);
    }
    worker_put(w);
}

/* A container about to start holds the write back (up to START_HOLD_MS),
 * so a pod goes to the API once as Running rather than first as
 * ContainerCreating: half the writes, and none on a start's critical path. */
static bool hold_status(struct worker *w)
{
    uint64_t now = worker_now(w);

    for (size_t i = 0; i < w->n_ctrs; i++) {
        const struct ctr *c = &w->ctrs[i];
        if ((c->st == CS_PULLING || c->st == CS_STARTING) && now < c->launched_ms + START_HOLD_MS) {
            worker_sync_at(w, c->launched_ms + START_HOLD_MS);
            return true;
        }
    }
    return false;
}

/* Started events wait for the status write: a start's critical path
 * carries one API write, not two. */
static void announce_started(struct worker *w)
{
    for (size_t i = 0; i < w->n_ctrs; i++) {
        struct ctr *c = &w->ctrs[i];
        if (!c->announce) continue;
        c->announce = false;
        worker_event(w, c, false, "Started", "Started container %s", c->name);
    }
}

static void write_status(struct worker *w)
{
    char path[512];
    json_t *st, *patch;

    if (w->shut || w->status_busy || w->terminating || w->gone || hold_status(w)) return;
    if ((st = pod_status_build(w)) == NULL) return;
    if (w->reported && json_equal(st, w->reported)) {
        json_decref(st);
        announce_started(w);
        return;
    }
    patch = json_pack("[{s:s, s:s, s:o}]", "op", "add", "path", "/status", "value", st);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", w->ns, w->name);
    w->status_busy = true;
    worker_hold(w);
    if (agent_api_call(w->a, "PATCH", path, "application/json-patch+json", patch, on_status_written, w) != 0) {
        w->status_busy = false;
        worker_put(w);
        worker_sync_at(w, worker_now(w) + RETRY_MS);
    }
    json_decref(patch);
    announce_started(w);
}

/* ---- the sync ---- */

static void worker_sync(struct worker *w)
{
    if (w->shut || w->syncing) return;
    w->syncing = true;
    worker_hold(w);
    if (w->gone || orc_json_get(w->pod, "metadata.deletionTimestamp")) terminate(w);
    else run_pod(w);
    write_status(w);
    w->syncing = false;
    worker_put(w);
}
