/* proxy.c — the node's Service proxy: the proxy/ rules kept in the kernel
 * (table `ip orc-proxy`, the agent's network namespace) from the shared
 * Service and EndpointSlice informers. The table is replaced whole once at
 * start (nothing stale survives a restart) and after a failure, then
 * changed per Service in incremental transactions, changes batched for
 * PROXY_BATCH_MS. `nft` runs on the loop's thread pool, never on the loop.
 * Rules stay when the agent stops (traffic keeps flowing through a
 * restart, as with kube-proxy); --service-proxy off removes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "proxy/proxy.h"

#define PROXY_LOG "agent.proxy"
#define PROXY_BATCH_MS 50
#define PROXY_RETRY_MS 1000
#define PROXY_RESYNC_MS (15 * 60 * 1000) /* a full replace: also resets affinity */
#define PROXY_SYNC_WAIT_MS 100

struct agent_proxy {
    struct agent *a;
    uv_timer_t timer;
    uv_work_t work;
    bool busy, dirty, full, stopping, timer_open, closed;
    uint64_t next_full_ms;
    struct proxy_state applied; /* what the kernel holds (when !full) */
    struct proxy_state pending; /* being applied */
    struct orc_buf script;
    int rc;
    char err[256];
};

static void tick(uv_timer_t *t);

/* The next sync in ms, unless one is due sooner. */
static void schedule(struct agent_proxy *p, uint64_t ms)
{
    if (p->stopping || !p->timer_open) return;
    if (uv_is_active((uv_handle_t *)&p->timer) && uv_timer_get_due_in(&p->timer) <= ms) return;
    uv_timer_start(&p->timer, tick, ms, 0);
}

static void proxy_free(struct agent_proxy *p)
{
    proxy_state_free(&p->applied);
    proxy_state_free(&p->pending);
    orc_buf_free(&p->script);
    free(p);
}

static void changed(void *arg)
{
    struct agent_proxy *p = arg;
    p->dirty = true;
    schedule(p, PROXY_BATCH_MS);
}

static void on_add(void *arg, const json_t *obj)
{
    (void)obj;
    changed(arg);
}

static void on_update(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    (void)obj;
    changed(arg);
}

static void on_synced(void *arg) { changed(arg); }

static void collect(void *arg, const json_t *obj) { json_array_append((json_t *)arg, (json_t *)obj); }

static void node_of(const struct agent *a, struct proxy_node *n)
{
    n->name = a->node_name;
    n->pod_cidr = a->pod_cidr;
    n->dns_ip = a->cluster_dns_ip;
}

static void apply_work(uv_work_t *w)
{
    struct agent_proxy *p = w->data;
    p->err[0] = '\0';
    p->rc = proxy_nft_apply(p->script.data, p->err);
}

static void sync_done(uv_work_t *w, int status);

/* Builds the desired state and starts applying what differs. */
static void sync_now(struct agent_proxy *p)
{
    struct agent *a = p->a;
    struct proxy_node node;
    size_t n_changed = 0;
    int rc;

    if (!informer_synced(a->services) || !informer_synced(a->slices)) {
        schedule(p, PROXY_SYNC_WAIT_MS);
        return;
    }
    json_t *svcs = json_array(), *slices = json_array();
    if (!svcs || !slices) rc = ORC_ENOMEM;
    else {
        informer_each(a->services, collect, svcs);
        informer_each(a->slices, collect, slices);
        node_of(a, &node);
        rc = proxy_state_build(svcs, slices, &node, &p->pending);
    }
    json_decref(svcs);
    json_decref(slices);
    p->dirty = false;
    orc_buf_reset(&p->script);
    bool full = p->full || orc_clock_now(a->clock) >= p->next_full_ms;
    if (rc == 0) rc = full ? proxy_render_full(&p->pending, &node, &p->script)
                           : proxy_render_diff(&p->applied, &p->pending, &p->script, &n_changed);
    if (rc == 0 && !full && n_changed == 0) {
        proxy_state_free(&p->pending);
        schedule(p, p->next_full_ms - orc_clock_now(a->clock));
        return;
    }
    if (rc != 0) {
        log_error(PROXY_LOG, "building the service rules: %s", orc_strerror(rc));
        proxy_state_free(&p->pending);
        schedule(p, PROXY_RETRY_MS);
        return;
    }
    p->full = full; /* what this run does: a full replace or not */
    p->busy = true;
    p->work.data = p;
    agent_hold(a);
    if ((rc = uv_queue_work(a->loop, &p->work, apply_work, sync_done)) != 0) {
        agent_release(a);
        p->busy = false;
        proxy_state_free(&p->pending);
        schedule(p, PROXY_RETRY_MS);
    }
}

static void sync_done(uv_work_t *w, int status)
{
    struct agent_proxy *p = w->data;
    struct agent *a = p->a;

    p->busy = false;
    if (status != 0 && p->rc == 0) p->rc = ORC_EIO;
    if (p->rc == 0) {
        if (p->full) {
            p->next_full_ms = orc_clock_now(a->clock) + PROXY_RESYNC_MS;
            log_info(PROXY_LOG, "service rules replaced: %zu service ports", p->pending.n);
        }
        proxy_state_free(&p->applied);
        p->applied = p->pending;
        p->full = false;
    } else {
        log_warn(PROXY_LOG, "service rules: %s; the whole table is written again", p->err);
        proxy_state_free(&p->pending);
        p->full = true;
    }
    memset(&p->pending, 0, sizeof p->pending);
    if (p->stopping) {
        if (p->closed) proxy_free(p); /* else timer_closed frees it */
    } else if (p->rc != 0) {
        schedule(p, PROXY_RETRY_MS);
    } else {
        schedule(p, p->dirty ? PROXY_BATCH_MS : PROXY_RESYNC_MS);
    }
    agent_release(a);
}

static void tick(uv_timer_t *t)
{
    struct agent_proxy *p = t->data;
    if (p->busy) return; /* sync_done schedules the next */
    sync_now(p);
}

static void remove_table(void)
{
    char err[256] = "";
    if (proxy_nft_remove(err) != 0) log_warn(PROXY_LOG, "removing the service rules: %s", err);
}

void agent_proxy_start(struct agent *a)
{
    static const struct informer_cbs cbs = {on_add, on_update, on_add, on_synced};
    struct agent_proxy *p;
    int rc;

    if (a->proxy) return;
    if (a->no_service_proxy) {
        remove_table(); /* once, at start: quick, and nothing else runs yet */
        return;
    }
    if (!a->pod_cidr[0] || !(p = calloc(1, sizeof *p))) {
        log_error(PROXY_LOG, "no service proxy: %s", a->pod_cidr[0] ? "out of memory" : "no pod CIDR");
        return;
    }
    p->a = a;
    p->full = true;
    if (uv_timer_init(a->loop, &p->timer) != 0) {
        free(p);
        return;
    }
    p->timer.data = p;
    p->timer_open = true;
    a->proxy = p;
    if ((rc = agent_service_informers(a)) != 0) return;
    if ((rc = informer_add_handler(a->services, &cbs, p)) != 0 || (rc = informer_add_handler(a->slices, &cbs, p)) != 0)
        log_error(PROXY_LOG, "cannot watch Services and EndpointSlices: %s", orc_strerror(rc));
    else
        log_info(PROXY_LOG, "service proxy: nftables table %s %s, pod CIDR %s", PROXY_FAMILY, PROXY_TABLE, a->pod_cidr);
    changed(p);
}

static void timer_closed(uv_handle_t *h)
{
    struct agent_proxy *p = h->data;
    struct agent *a = p->a;
    p->closed = true;
    if (!p->busy) proxy_free(p); /* else sync_done frees it */
    agent_release(a);
}

void agent_proxy_stop(struct agent *a)
{
    struct agent_proxy *p = a->proxy;
    if (!p) return;
    a->proxy = NULL;
    informer_remove_handlers(a->services, p);
    informer_remove_handlers(a->slices, p);
    p->stopping = true;
    p->timer_open = false;
    agent_hold(a);
    uv_close((uv_handle_t *)&p->timer, timer_closed);
}
