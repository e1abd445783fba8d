/* netpol.c — NetworkPolicy enforcement on this node: the netpol/ rules
 * kept in the kernel (table `inet orc-<h>-np`, the agent's network
 * namespace) from informers on every NetworkPolicy, Pod and Namespace of
 * the cluster. Changes are batched for NETPOL_BATCH_MS; the state is built,
 * rendered and, when its text changed, applied by `nft -f` on the thread
 * pool, never on the loop. Nothing is applied before all three informers
 * have synced: a partial view could isolate a pod without its allow rules.
 * The table stays when the agent stops (policies keep holding through a
 * restart); --network-policy off and `orcd agent --cleanup` remove it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/rulesync.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/run.h"
#include "netpol/netpol.h"

#define NETPOL_LOG "agent.netpol"
#define NETPOL_BATCH_MS 80
#define NETPOL_RETRY_MS 1000
#define NETPOL_NO_NFT_RETRY_MS 30000
#define NETPOL_SYNC_WAIT_MS 100
#define NETPOL_RESYNC_MS (10 * 60 * 1000) /* the table written again: a hand-made change is undone */
#define NETPOL_BRIDGE_SYSCTL "/proc/sys/net/bridge/bridge-nf-call-iptables"

struct agent_netpol {
    struct agent *a;
    struct agent_rulesync sync;
    informer *policies, *pods, *namespaces;
    bool bridge_said;
    /* the work's input (taken on the loop) */
    json_t *in_pols, *in_pods, *in_nss;
    char node_name[256], gw[48], node_ip[48];
    uint64_t applied_hash; /* of the script the kernel holds; 0: none known */
    uint64_t hash;         /* of the script of the run in flight */
    uint64_t next_full_ms; /* when the table is written again, changed or not */
    size_t n_pods, n_policies;
    int rc;
    char err[256], last_err[256], bridge_err[256];
};

/* Bridged pod-to-pod frames reach the inet hooks only through
 * br_netfilter; a kernel without it lets same-node traffic pass unjudged
 * (thread pool: modprobe may take a moment). */
static void bridge_hooks(struct agent_netpol *p)
{
    int fd = open(NETPOL_BRIDGE_SYSCTL, O_WRONLY | O_CLOEXEC);
    char *argv[] = {"modprobe", "br_netfilter", NULL};

    p->bridge_err[0] = '\0';
    if (fd < 0 && errno == ENOENT) {
        orc_run(argv, NULL);
        fd = open(NETPOL_BRIDGE_SYSCTL, O_WRONLY | O_CLOEXEC);
    }
    if (fd < 0 || write(fd, "1", 1) != 1)
        snprintf(p->bridge_err, sizeof p->bridge_err, "%s: %s", NETPOL_BRIDGE_SYSCTL, strerror(errno));
    if (fd >= 0) close(fd);
}

static void sync_work(void *owner)
{
    struct agent_netpol *p = owner;
    struct netpol_node node = {p->node_name, p->gw, {p->gw, p->node_ip}, 2};
    struct netpol_state s;
    struct orc_buf script = ORC_BUF_INIT;

    p->err[0] = '\0';
    if (!p->bridge_said) bridge_hooks(p);
    p->rc = netpol_state_build(p->in_pols, p->in_pods, p->in_nss, &node, &s);
    if (p->rc == 0) p->rc = netpol_render(&s, &node, &script);
    p->n_pods = s.n_pods;
    p->n_policies = s.n_policies;
    netpol_state_free(&s);
    if (p->rc != 0) {
        snprintf(p->err, sizeof p->err, "building the rules: %s", orc_strerror(p->rc));
    } else {
        p->hash = orc_fnv1a(ORC_FNV_OFFSET, script.data, script.len);
        if (p->hash != p->applied_hash) p->rc = netpol_nft_apply(script.data, false, p->err);
    }
    orc_buf_free(&script);
}

static void drop_input(struct agent_netpol *p)
{
    json_decref(p->in_pols);
    json_decref(p->in_pods);
    json_decref(p->in_nss);
    p->in_pols = p->in_pods = p->in_nss = NULL;
}

/* Takes the objects of the three informers (all synced: a partial view
 * could isolate a pod without its allow rules). */
static uint64_t sync_begin(void *owner)
{
    struct agent_netpol *p = owner;
    struct agent *a = p->a;

    if (!informer_synced(p->policies) || !informer_synced(p->pods) || !informer_synced(p->namespaces))
        return NETPOL_SYNC_WAIT_MS;
    p->in_pols = json_array();
    p->in_pods = json_array();
    p->in_nss = json_array();
    if (!p->in_pols || !p->in_pods || !p->in_nss) {
        drop_input(p);
        return NETPOL_RETRY_MS;
    }
    informer_each(p->policies, agent_rulesync_collect, p->in_pols);
    informer_each(p->pods, agent_rulesync_collect, p->in_pods);
    informer_each(p->namespaces, agent_rulesync_collect, p->in_nss);
    snprintf(p->node_name, sizeof p->node_name, "%s", a->node_name);
    p->gw[0] = '\0';
    if (a->net) net_gateway(a->net, p->gw);
    snprintf(p->node_ip, sizeof p->node_ip, "%s", a->node_ip);
    if (orc_clock_now(a->clock) >= p->next_full_ms) p->applied_hash = 0;
    return 0;
}

static void netpol_free(void *owner)
{
    struct agent_netpol *p = owner;
    drop_input(p);
    free(p);
}

static uint64_t sync_done(void *owner, int status)
{
    struct agent_netpol *p = owner;
    struct agent *a = p->a;

    drop_input(p);
    if (status != 0 && p->rc == 0) p->rc = ORC_EIO;
    if (!p->bridge_said && p->bridge_err[0])
        log_warn(NETPOL_LOG, "bridged pod traffic may bypass network policies: cannot turn on %s", p->bridge_err);
    p->bridge_said = true;
    if (p->rc == 0) {
        if (p->hash != p->applied_hash)
            log_info(NETPOL_LOG, "network policy rules applied: %zu policies, %zu isolated pods here", p->n_policies,
                     p->n_pods);
        if (p->applied_hash == 0) p->next_full_ms = orc_clock_now(a->clock) + NETPOL_RESYNC_MS;
        p->applied_hash = p->hash;
        p->last_err[0] = '\0';
    } else {
        const char *why = p->err[0] ? p->err : orc_strerror(p->rc);
        if (strcmp(why, p->last_err) != 0) log_warn(NETPOL_LOG, "network policy rules: %s; retrying", why);
        snprintf(p->last_err, sizeof p->last_err, "%s", why);
        p->applied_hash = 0;
    }
    if (p->rc != 0) return p->rc == ORC_ENOENT ? NETPOL_NO_NFT_RETRY_MS : NETPOL_RETRY_MS;
    return NETPOL_RESYNC_MS;
}

static const struct agent_rulesync_ops sync_ops = {sync_begin, sync_work, sync_done, netpol_free};

static void remove_table(const char *node_name)
{
    char err[256] = "";
    if (netpol_nft_remove(node_name, err) != 0 && !strstr(err, "No such file"))
        log_warn(NETPOL_LOG, "removing the network policy rules: %s", err);
}

static int start_informers(struct agent_netpol *p)
{
    const struct informer_cbs *cbs = &agent_rulesync_cbs;
    struct agent *a = p->a;
    struct informer_config pc = {.path = "/apis/networking.k8s.io/v1/networkpolicies"};
    struct informer_config podc = {.path = "/api/v1/pods"};
    struct informer_config nc = {.path = "/api/v1/namespaces"};
    int rc;

    if ((rc = informer_start(a->loop, a->api, &pc, cbs, &p->sync, &p->policies)) != 0
        || (rc = informer_start(a->loop, a->api, &podc, cbs, &p->sync, &p->pods)) != 0
        || (rc = informer_start(a->loop, a->api, &nc, cbs, &p->sync, &p->namespaces)) != 0)
        return rc;
    informer_set_transform(p->policies, informer_strip_unused);
    informer_set_transform(p->pods, netpol_pod_trim);
    informer_set_transform(p->namespaces, informer_strip_unused);
    return 0;
}

void agent_netpol_start(struct agent *a)
{
    struct agent_netpol *p;
    int rc;

    if (a->netpol) return;
    if (a->no_network_policy) {
        remove_table(a->node_name); /* once, at start: quick, nothing else runs yet */
        return;
    }
    if (!(p = calloc(1, sizeof *p)) || agent_rulesync_init(&p->sync, a, NETPOL_BATCH_MS, &sync_ops, p) != 0) {
        log_error(NETPOL_LOG, "no network policies: out of memory");
        free(p);
        return;
    }
    p->a = a;
    a->netpol = p;
    if ((rc = start_informers(p)) != 0)
        log_error(NETPOL_LOG, "cannot watch NetworkPolicies, Pods and Namespaces: %s", orc_strerror(rc));
    else
        log_info(NETPOL_LOG, "network policies: nftables table %s, every pod of the cluster watched", NETPOL_FAMILY);
    agent_rulesync_changed(&p->sync);
}

void agent_netpol_stop(struct agent *a)
{
    struct agent_netpol *p = a->netpol;
    if (!p) return;
    a->netpol = NULL;
    if (p->policies) informer_stop(p->policies);
    if (p->pods) informer_stop(p->pods);
    if (p->namespaces) informer_stop(p->namespaces);
    p->policies = p->pods = p->namespaces = NULL;
    agent_rulesync_stop(&p->sync);
}
