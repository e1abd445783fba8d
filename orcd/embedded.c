/* embedded.c — the node agent inside `orcd server` (unless --no-agent), so
 * one server is a whole dev cluster. It runs on its own thread and loop and
 * talks to this member's API over HTTPS like any agent; stopping the server
 * stops it (containers keep running; the next start adopts them). */
#include "orcd/embedded.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "agent/agent.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/tls.h"

struct orcd_embedded {
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    agent *a;
    struct agent_config cfg;
    char *strs[15]; /* owned copies behind cfg */
    char *cert, *key;
    char self[4096];
    int start_rv;
    uv_sem_t started;
};

static void async_closed(uv_handle_t *h) { (void)h; }

static void on_agent_stopped(void *arg)
{
    struct orcd_embedded *e = arg;
    uv_close((uv_handle_t *)&e->stop, async_closed);
}

static void on_stop(uv_async_t *h)
{
    struct orcd_embedded *e = h->data;
    if (e->a) agent_stop(e->a, on_agent_stopped, e);
    else uv_close((uv_handle_t *)&e->stop, async_closed);
    e->a = NULL;
}

static void thread_main(void *arg)
{
    struct orcd_embedded *e = arg;
    char errmsg[256] = "";

    e->start_rv = agent_start(&e->loop, &e->cfg, &e->a, errmsg);
    if (e->start_rv != 0) {
        log_warn("orcd", "the embedded node agent did not start: %s", errmsg);
        e->a = NULL;
    }
    uv_sem_post(&e->started);
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void free_all(struct orcd_embedded *e)
{
    for (size_t i = 0; i < ORC_ARRAY_LEN(e->strs); i++) free(e->strs[i]);
    if (e->key) explicit_bzero(e->key, strlen(e->key));
    free(e->key);
    free(e->cert);
    free(e);
}

static int issue_cert(struct orcd_embedded *e, const struct orcd_embedded_config *c)
{
    const char *names[] = {c->node_ip, c->node_name};
    char cn[300], err[ORC_TLS_ERRLEN];

    snprintf(cn, sizeof cn, "system:node:%s", c->node_name);
    /* Straight from the local CA (this member holds its key): the same
     * identity an agent gets at /internal/v1/agents. */
    if (orc_tls_make_cert_o(c->ca_pem, c->ca_key_pem, "system:nodes", cn, names, 2, 365, &e->cert,
                            &e->key, err) != 0) {
        log_warn("orcd", "the embedded node agent has no certificate: %s", err);
        return ORC_EINVAL;
    }
    return 0;
}

int orcd_embedded_start(const struct orcd_embedded_config *c, struct orcd_embedded **out)
{
    struct orcd_embedded *e;
    ssize_t n;

    if (geteuid() != 0) {
        log_warn("orcd", "not running the embedded node agent: it needs root (network "
                         "namespaces, cgroups, mounts); --no-agent says this is intended");
        return ORC_EPERM;
    }
    if ((e = calloc(1, sizeof *e)) == NULL) return ORC_ENOMEM;
    struct orcd_node_flags node = c->node;
    const char *in[] = {c->server_url, c->token, c->ca_pem, c->node_name, c->data_dir,
                        c->node_ip, c->registries, node.cluster_domain, node.resolv_conf,
                        node.network_backend, node.cni_conf_dir, node.cni_bin_dir,
                        node.logs.pod_log_dir, node.logs.container_log_dir};
    for (size_t i = 0; i < ORC_ARRAY_LEN(in); i++) e->strs[i] = dup_or_null(in[i]);
    if (issue_cert(e, c) != 0) {
        free_all(e);
        return ORC_EINVAL;
    }
    n = readlink("/proc/self/exe", e->self, sizeof e->self - 1);
    e->self[n > 0 ? n : 0] = '\0';
    /* the copies the agent's thread reads */
    node.cluster_domain = e->strs[7], node.resolv_conf = e->strs[8];
    node.network_backend = e->strs[9], node.cni_conf_dir = e->strs[10];
    node.cni_bin_dir = e->strs[11];
    node.logs.pod_log_dir = e->strs[12], node.logs.container_log_dir = e->strs[13];
    e->cfg = (struct agent_config){.server_url = e->strs[0], .token = e->strs[1],
                                   .ca_pem = e->strs[2], .node_name = e->strs[3],
                                   .data_dir = e->strs[4], .node_ip = e->strs[5],
                                   .registries = e->strs[6], .tls_cert_pem = e->cert,
                                   .cert_identity = true, .tls_key_pem = e->key,
                                   .orcd_path = e->self};
    orcd_node_config(&node, &e->cfg);
    uv_loop_init(&e->loop);
    uv_async_init(&e->loop, &e->stop, on_stop);
    e->stop.data = e;
    uv_sem_init(&e->started, 0);
    if (uv_thread_create(&e->thread, thread_main, e) != 0) {
        uv_close((uv_handle_t *)&e->stop, async_closed);
        uv_run(&e->loop, UV_RUN_DEFAULT);
        uv_loop_close(&e->loop);
        uv_sem_destroy(&e->started);
        free_all(e);
        return ORC_ENOMEM;
    }
    uv_sem_wait(&e->started);
    *out = e;
    return 0;
}

void orcd_embedded_stop(struct orcd_embedded *e)
{
    if (e == NULL) return;
    uv_async_send(&e->stop);
    uv_thread_join(&e->thread);
    uv_loop_close(&e->loop);
    uv_sem_destroy(&e->started);
    free_all(e);
}
