/* manager.c — the controller manager: the scheduler and the controllers of
 * ctl_all[] on one thread and loop, sharing one HTTP client to this member's
 * API and one informer set. orcd starts it when its member gains Raft
 * leadership and stops it when it loses it. */
#include "controllers/manager.h"

#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "client/informer.h"
#include "controllers/cronjob.h"
#include "controllers/daemonset.h"
#include "controllers/deployment.h"
#include "controllers/disruption.h"
#include "controllers/endpointslice.h"
#include "controllers/gc.h"
#include "controllers/hpa.h"
#include "controllers/ingress.h"
#include "controllers/job.h"
#include "controllers/nodelifecycle.h"
#include "controllers/pvc.h"
#include "controllers/replicaset.h"
#include "controllers/rootca.h"
#include "controllers/serviceaccount.h"
#include "controllers/servicelb.h"
#include "controllers/statefulset.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "scheduler/sched.h"

const struct ctl_controller *const ctl_all[] = {
    &ctl_scheduler,
    &ctl_replicaset,
    &ctl_deployment,
    &ctl_job,
    &ctl_cronjob,
    &ctl_statefulset,
    &ctl_pvc,
    &ctl_endpointslice,
    &ctl_daemonset,
    &ctl_nodelifecycle,
    &ctl_gc,
    &ctl_disruption,
    &ctl_servicelb,
    &ctl_ingress,
    &ctl_rootca,
    &ctl_serviceaccount,
    &ctl_hpa,
    NULL,
};

#define MAX_CONTROLLERS 32

struct ctl_manager {
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    uv_sem_t started;
    char *url, *token, *ca, *host, *list;
    struct ctl_manager_config cfg;
    struct ctl_ctx ctx;
    void *states[MAX_CONTROLLERS];
    bool running[MAX_CONTROLLERS];
};

/* ---- which controllers run ---- */

static bool known(const char *name, size_t len)
{
    for (size_t i = 0; ctl_all[i]; i++)
        if (strlen(ctl_all[i]->name) == len && strncmp(ctl_all[i]->name, name, len) == 0) return true;
    return len == 1 && name[0] == '*';
}

/* The next word of a --controllers list: *w (not NUL-terminated) and its
 * length, *neg for a leading '-'. False at the end. */
static bool next_word(const char **p, const char **w, size_t *wlen, bool *neg)
{
    const char *e;
    size_t len;

    if (**p == '\0') return false;
    e = strchr(*p, ',');
    len = e ? (size_t)(e - *p) : strlen(*p);
    *neg = (*p)[0] == '-';
    *w = *neg ? *p + 1 : *p;
    *wlen = *neg ? len - 1 : len;
    *p = e ? e + 1 : *p + len;
    return true;
}

int ctl_manager_check_list(const char *list, char *errmsg)
{
    const char *p = list ? list : "*", *w;
    size_t wlen;
    bool neg;

    while (next_word(&p, &w, &wlen, &neg))
        if (!known(w, wlen))
            return orc_errf(errmsg, 256, ORC_EINVAL, "--controllers: unknown controller \"%.*s\"",
                            (int)wlen, w);
    return 0;
}

/* The last word on a name wins, as kube-controller-manager reads the list. */
static bool enabled(const char *list, const char *name)
{
    const char *p = list ? list : "*", *w;
    size_t wlen;
    bool neg, on = false;

    while (next_word(&p, &w, &wlen, &neg))
        if ((wlen == 1 && w[0] == '*') || (wlen == strlen(name) && strncmp(w, name, wlen) == 0))
            on = !neg;
    return on;
}

/* ---- the thread ---- */

static void handle_closed(uv_handle_t *h) { (void)h; }

static void start_controllers(ctl_manager *m)
{
    size_t n = 0;

    for (size_t i = 0; ctl_all[i] && i < MAX_CONTROLLERS; i++) {
        if (!enabled(m->list, ctl_all[i]->name)) continue;
        int rv = ctl_all[i]->start(&m->ctx, &m->states[i]);
        if (rv != 0) {
            log_warn("controllers", "%s did not start: %s", ctl_all[i]->name, orc_strerror(rv));
            continue;
        }
        m->running[i] = true;
        n++;
    }
    log_info("controllers", "%zu controllers running on this member", n);
}

static void stop_controllers(ctl_manager *m)
{
    size_t n = 0;

    while (ctl_all[n] && n < MAX_CONTROLLERS) n++;
    for (size_t i = n; i-- > 0;) {
        if (!m->running[i]) continue;
        ctl_all[i]->stop(m->states[i]);
        m->running[i] = false;
    }
}

static void on_stop(uv_async_t *h)
{
    ctl_manager *m = h->data;

    stop_controllers(m);
    informer_set_free(m->ctx.informers);
    m->ctx.informers = NULL;
    if (m->ctx.api) http_client_close(m->ctx.api, NULL, NULL);
    m->ctx.api = NULL;
    uv_close((uv_handle_t *)&m->stop, handle_closed);
}

static int open_context(ctl_manager *m)
{
    struct http_tls tls = {.ca_pem = m->ca};
    int rv;

    m->ctx.loop = &m->loop;
    m->ctx.opts = &m->cfg.opts;
    m->ctx.ca_pem = m->ca;
    if ((m->ctx.clock = orc_clock_real(&m->loop)) == NULL) return ORC_ENOMEM;
    rv = http_client_new_tls(&m->loop, m->url, m->token, &tls, &m->ctx.api);
    if (rv == 0) rv = informer_set_new(&m->loop, m->ctx.api, &m->ctx.informers);
    return rv;
}

static void thread_main(void *arg)
{
    ctl_manager *m = arg;
    int rv = open_context(m);

    if (rv == 0) start_controllers(m);
    else log_error("controllers", "cannot start the controllers: %s", orc_strerror(rv));
    uv_sem_post(&m->started);
    uv_run(&m->loop, UV_RUN_DEFAULT);
    orc_clock_free(m->ctx.clock);
}

/* ---- start / stop ---- */

static void free_manager(ctl_manager *m)
{
    if (m->token) explicit_bzero(m->token, strlen(m->token));
    free(m->url);
    free(m->token);
    free(m->ca);
    free(m->host);
    free(m->list);
    free(m);
}

static int copy_config(ctl_manager *m, const struct ctl_manager_config *cfg)
{
    m->cfg = *cfg;
    m->url = strdup(cfg->server_url);
    m->token = strdup(cfg->token);
    m->ca = cfg->ca_pem ? strdup(cfg->ca_pem) : NULL;
    m->host = cfg->opts.host ? strdup(cfg->opts.host) : NULL;
    m->list = cfg->controllers ? strdup(cfg->controllers) : NULL;
    if (!m->url || !m->token || (cfg->ca_pem && !m->ca) || (cfg->opts.host && !m->host) ||
        (cfg->controllers && !m->list))
        return ORC_ENOMEM;
    m->cfg.opts.host = m->host;
    return 0;
}

int ctl_manager_start(const struct ctl_manager_config *cfg, ctl_manager **out)
{
    ctl_manager *m;
    int rv;

    if (cfg == NULL || cfg->server_url == NULL || cfg->token == NULL) return ORC_EINVAL;
    if ((m = calloc(1, sizeof *m)) == NULL) return ORC_ENOMEM;
    if ((rv = copy_config(m, cfg)) != 0) {
        free_manager(m);
        return rv;
    }
    uv_loop_init(&m->loop);
    uv_async_init(&m->loop, &m->stop, on_stop);
    m->stop.data = m;
    uv_sem_init(&m->started, 0);
    if (uv_thread_create(&m->thread, thread_main, m) != 0) {
        uv_close((uv_handle_t *)&m->stop, handle_closed);
        uv_run(&m->loop, UV_RUN_DEFAULT);
        uv_loop_close(&m->loop);
        uv_sem_destroy(&m->started);
        free_manager(m);
        return ORC_ENOMEM;
    }
    uv_sem_wait(&m->started);
    *out = m;
    return 0;
}

void ctl_manager_stop(ctl_manager *m)
{
    if (m == NULL) return;
    uv_async_send(&m->stop);
    uv_thread_join(&m->thread);
    uv_loop_close(&m->loop);
    uv_sem_destroy(&m->started);
    free_manager(m);
}
