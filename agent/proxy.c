/* proxy.c — the node's Service proxy: the proxy/ rules kept in the kernel
 * (table `ip orc-proxy`, the agent's network namespace) from the shared
 * Service and EndpointSlice informers. The table is replaced whole once at
 * start (nothing stale survives a restart) and after a failure, then
 * changed per Service in incremental transactions, changes batched for
 * PROXY_BATCH_MS. The rules are built and `nft` runs on the thread pool,
 * never on the loop.
 * Rules stay when the agent stops (traffic keeps flowing through a
 * restart, as with kube-proxy); --service-proxy off removes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/rulesync.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "proxy/proxy.h"

#define PROXY_LOG "agent.proxy"
#define PROXY_BATCH_MS 50
#define PROXY_RETRY_MS 1000
#define PROXY_NO_NFT_RETRY_MS 30000 /* nft not installed: rarely worth a look */
#define PROXY_RESYNC_MS (15 * 60 * 1000) /* a full replace: also resets affinity */
#define PROXY_SYNC_WAIT_MS 100

struct agent_proxy {
    struct agent *a;
    struct agent_rulesync sync;
    bool full, noop;
    /* the work's input (taken on the loop) */
    json_t *svcs, *slices;
    char node_name[256], pod_cidr[64], dns_ip[48];
    uint64_t next_full_ms;
    struct proxy_state applied; /* what the kernel holds (when !full) */
    struct proxy_state pending; /* being applied */
    struct orc_buf script;
    int rc;
    char err[256], last_err[256];
    bool no_conntrack;  /* the tool is missing: said once */
    char ct_err[256];   /* a conntrack flush that failed in the last run */
};

static void proxy_free(void *owner)
{
    struct agent_proxy *p = owner;
    proxy_state_free(&p->applied);
    proxy_state_free(&p->pending);
    orc_buf_free(&p->script);
    free(p);
}

/* UDP entries to endpoints the rules no longer lead to (thread pool). */
static void flush_udp(struct agent_proxy *p)
{
    struct proxy_ct_flush *f = NULL;
    size_t n = 0;
    char err[256];

    p->ct_err[0] = '\0';
    if (p->no_conntrack || proxy_udp_stale(&p->applied, &p->pending, &f, &n) != 0) return;
    for (size_t i = 0; i < n; i++) {
        int rc = proxy_conntrack_flush(&f[i], err);
        if (rc == ORC_ENOENT) p->no_conntrack = true;
        if (rc != 0 && !p->ct_err[0]) snprintf(p->ct_err, sizeof p->ct_err, "%s", err);
        if (rc == ORC_ENOENT) break;
    }
    free(f);
}

/* Runs on the thread pool: the rules from the objects collected on the
 * loop (the loop touches neither them nor `applied` meanwhile), then nft. */
static void sync_work(void *owner)
{
    struct agent_proxy *p = owner;
    struct proxy_node node = {p->node_name, p->pod_cidr, p->dns_ip};
    size_t n_changed = 0;

    p->err[0] = '\0';
    p->noop = false;
    orc_buf_reset(&p->script);
    p->rc = proxy_state_build(p->svcs, p->slices, &node, &p->pending);
    if (p->rc == 0)
        p->rc = p->full ? proxy_render_full(&p->pending, &node, &p->script)
                        : proxy_render_diff(&p->applied, &p->pending, &p->script, &n_changed);
    if (p->rc != 0) {
        snprintf(p->err, sizeof p->err, "building the rules: %s", orc_strerror(p->rc));
        return;
    }
    if (!p->full && n_changed == 0) {
        p->noop = true;
        return;
    }
    p->rc = proxy_nft_apply(p->script.data, p->err);
    if (p->rc == 0) flush_udp(p);
}

static void drop_input(struct agent_proxy *p)
{
    json_decref(p->svcs);
    json_decref(p->slices);
    p->svcs = p->slices = NULL;
}

/* Collects the objects for the thread pool's run. */
static uint64_t sync_begin(void *owner)
{
    struct agent_proxy *p = owner;
    struct agent *a = p->a;

    if (!informer_synced(a->services) || !informer_synced(a->slices)) return PROXY_SYNC_WAIT_MS;
    p->svcs = json_array();
    p->slices = json_array();
    if (!p->svcs || !p->slices) {
        drop_input(p);
        return PROXY_RETRY_MS;
    }
    informer_each(a->services, agent_rulesync_collect, p->svcs);
    informer_each(a->slices, agent_rulesync_collect, p->slices);
    snprintf(p->node_name, sizeof p->node_name, "%s", a->node_name);
    snprintf(p->pod_cidr, sizeof p->pod_cidr, "%s", a->pod_cidr);
    snprintf(p->dns_ip, sizeof p->dns_ip, "%s", a->cluster_dns_ip);
    p->full = p->full || orc_clock_now(a->clock) >= p->next_full_ms;
    return 0;
}

static uint64_t sync_done(void *owner, int status)
{
    struct agent_proxy *p = owner;
    struct agent *a = p->a;

    drop_input(p);
    if (status != 0 && p->rc == 0) p->rc = ORC_EIO;
    if (p->ct_err[0])
        log_warn(PROXY_LOG, "clearing UDP conntrack entries: %s%s", p->ct_err,
                 p->no_conntrack ? " (stale UDP flows to removed endpoints expire on their own)" : "");
    p->ct_err[0] = '\0';
    if (p->rc == 0 && p->noop) {
        proxy_state_free(&p->pending);
    } else if (p->rc == 0) {
        if (p->full) {
            p->next_full_ms = orc_clock_now(a->clock) + PROXY_RESYNC_MS;
            log_info(PROXY_LOG, "service rules replaced: %zu service ports", p->pending.n);
        }
        proxy_state_free(&p->applied);
        p->applied = p->pending;
        p->full = false;
        p->last_err[0] = '\0';
    } else {
        const char *why = p->err[0] ? p->err : orc_strerror(p->rc);
        /* the same failure again (nft missing, say) is not logged each time */
        if (strcmp(why, p->last_err) != 0)
            log_warn(PROXY_LOG, "service rules: %s; the whole table is written again", why);
        snprintf(p->last_err, sizeof p->last_err, "%s", why);
        proxy_state_free(&p->pending);
        p->full = true;
    }
    memset(&p->pending, 0, sizeof p->pending);
    if (p->rc != 0) return p->rc == ORC_ENOENT ? PROXY_NO_NFT_RETRY_MS : PROXY_RETRY_MS;
    return PROXY_RESYNC_MS;
}

static const struct agent_rulesync_ops sync_ops = {sync_begin, sync_work, sync_done, proxy_free};

static void remove_table(void)
{
    char err[256] = "";
    if (proxy_nft_remove(err) != 0) log_warn(PROXY_LOG, "removing the service rules: %s", err);
}

void agent_proxy_start(struct agent *a)
{
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
    if (agent_rulesync_init(&p->sync, a, PROXY_BATCH_MS, &sync_ops, p) != 0) {
        free(p);
        return;
    }
    a->proxy = p;
    if ((rc = agent_service_informers(a)) != 0) return;
    if ((rc = informer_add_handler(a->services, &agent_rulesync_cbs, &p->sync)) != 0
        || (rc = informer_add_handler(a->slices, &agent_rulesync_cbs, &p->sync)) != 0)
        log_error(PROXY_LOG, "cannot watch Services and EndpointSlices: %s", orc_strerror(rc));
    else
        log_info(PROXY_LOG, "service proxy: nftables table %s %s, pod CIDR %s", PROXY_FAMILY, PROXY_TABLE, a->pod_cidr);
    agent_rulesync_changed(&p->sync);
}

void agent_proxy_stop(struct agent *a)
{
    struct agent_proxy *p = a->proxy;
    if (!p) return;
    a->proxy = NULL;
    informer_remove_handlers(a->services, &p->sync);
    informer_remove_handlers(a->slices, &p->sync);
    agent_rulesync_stop(&p->sync);
}
