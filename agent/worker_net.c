/* worker_net.c — a pod's network set up and torn down off the agent's
 * loop, for the CNI mode: plugins take tens of milliseconds each (portmap
 * hundreds), a hung one up to its timeout, and the loop also renews the
 * node's Lease. One job per pod at a time runs on libuv's thread pool; the
 * worker syncs again when it ends. (orc's own network takes about a
 * millisecond and stays on the loop.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/worker_int.h"
#include "lib/log.h"
#include "lib/orc.h"

#define JOB_PORTS 64

struct net_job {
    uv_work_t req;
    struct worker *w;
    net *n;
    char uid[AGENT_UID_LEN + 1], ns[64], name[256];
    struct net_port ports[JOB_PORTS];
    char proto[JOB_PORTS][8], host_ip[JOB_PORTS][46]; /* the ports' strings, copied */
    size_t n_ports;
    struct net_pod out;
    char err[256];
    int rv;
    bool teardown; /* DEL rather than ADD */
    bool done;
};

static void job_run(uv_work_t *req)
{
    struct net_job *j = req->data;

    if (j->teardown) j->rv = net_pod_teardown(j->n, j->uid);
    else j->rv = net_pod_setup_named(j->n, j->uid, j->ns, j->name, j->ports, j->n_ports, &j->out, j->err);
}

static void job_done(uv_work_t *req, int status)
{
    struct net_job *j = req->data;
    struct worker *w = j->w;
    struct agent *a = w->a;

    j->done = true;
    if (status != 0 && j->rv == 0) {
        j->rv = ORC_ECANCELED;
        snprintf(j->err, sizeof j->err, "network setup canceled");
    }
    if (w->shut) { /* the agent stops: a new one finds the pod's cached ADD */
        w->net_job = NULL;
        free(j);
    } else {
        worker_sync_soon(w);
    }
    worker_put(w);
    agent_release(a);
}

static int start_job(struct worker *w, bool teardown, const struct net_port *ports, size_t n)
{
    struct net_job *j = calloc(1, sizeof *j);

    if (j == NULL) return ORC_ENOMEM;
    j->teardown = teardown;
    j->w = w;
    j->n = w->a->net;
    snprintf(j->uid, sizeof j->uid, "%s", w->uid);
    snprintf(j->ns, sizeof j->ns, "%s", w->ns);
    snprintf(j->name, sizeof j->name, "%s", w->name);
    for (size_t i = 0; i < n && i < JOB_PORTS; i++) {
        snprintf(j->proto[i], sizeof j->proto[i], "%s", ports[i].protocol ? ports[i].protocol : "TCP");
        snprintf(j->host_ip[i], sizeof j->host_ip[i], "%s", ports[i].host_ip ? ports[i].host_ip : "");
        j->ports[i] = (struct net_port){ports[i].container_port, ports[i].host_port, j->proto[i],
                                        j->host_ip[i]};
        j->n_ports++;
    }
    j->req.data = j;
    worker_hold(w);
    agent_hold(w->a);
    if (uv_queue_work(w->a->loop, &j->req, job_run, job_done) != 0) {
        agent_release(w->a);
        worker_put(w);
        free(j);
        return ORC_EIO;
    }
    w->net_job = j;
    return 0;
}

int worker_net_async(struct worker *w, const struct net_port *ports, size_t n, struct net_pod *out,
                     char *err)
{
    struct net_job *j = w->net_job;
    int rv;

    if (j && j->done && j->teardown) { /* an earlier teardown's outcome: moot now */
        free(j);
        w->net_job = j = NULL;
    }
    if (j == NULL) {
        rv = start_job(w, false, ports, n);
        if (rv != 0) return orc_errf(err, 256, rv, "cannot start the network setup: %s", orc_strerror(rv));
        return 1;
    }
    if (!j->done) return 1;
    w->net_job = NULL;
    rv = j->rv;
    if (rv == 0) *out = j->out;
    else snprintf(err, 256, "%s", j->err);
    free(j);
    return rv;
}

int worker_net_down(struct worker *w)
{
    struct net_job *j = w->net_job;
    int rv;

    if (!net_is_cni(w->a->net)) return net_pod_teardown(w->a->net, w->uid);
    if (j && !j->done) return 1;
    if (j && j->teardown) {
        w->net_job = NULL;
        rv = j->rv;
        free(j);
        return rv;
    }
    free(j); /* a setup's outcome nobody took: moot now */
    w->net_job = NULL;
    if (start_job(w, true, NULL, 0) == 0) return 1;
    return net_pod_teardown(w->a->net, w->uid); /* no memory for a job: here, then */
}

bool worker_net_busy(const struct worker *w) { return w->net_job != NULL && !w->net_job->done; }

void worker_net_free(struct worker *w)
{
    if (w->net_job && w->net_job->done) {
        free(w->net_job);
        w->net_job = NULL;
    }
}
