/* test_agent_nodefail.c — a real node agent killed: the DaemonSet and node
 * lifecycle controllers run in the test process (tests/controllers/live.h)
 * against the agent fixture's `orcd server`. The DaemonSet's pod runs on
 * the agent's node; after SIGKILL of the agent, once its Lease is not
 * renewed for the grace (4 s), the node is Ready=Unknown and tainted
 * unreachable:NoExecute, a ReplicaSet-owned pod tolerating that for 2 s is
 * deleted with grace 0, the DaemonSet's pod stays; the agent back, the node
 * is Ready again and untainted. Root only (real containers). */
#include "controllers/daemonset.h"
#include "controllers/nodelifecycle.h"
#include "controllers/nodematch.h"
#include "tests/agent/agentfx.h"
#include "tests/controllers/live.h"

#define GRACE_MS 4000

static struct live l;

static json_t *node_obj(void)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", A.node);
    return afx_get(path);
}

static bool node_ready_is(struct live *lv, const void *want)
{
    json_t *n = node_obj();
    const char *s = nl_ready_status(orc_json_get(n, "status.conditions"));
    bool ok = s && strcmp(s, want) == 0;
    (void)lv;
    json_decref(n);
    return ok;
}

static bool unreachable_is(struct live *lv, const void *want)
{
    json_t *n = node_obj(), *t;
    size_t i;
    bool found = false;
    (void)lv;
    json_array_foreach(orc_json_get(n, "spec.taints"), i, t) {
        if (strcmp(orc_json_str(t, "key") ?: "", CTL_TAINT_UNREACHABLE) == 0) found = true;
    }
    json_decref(n);
    return found == *(const bool *)want;
}

static bool gone(struct live *lv, const void *name)
{
    json_t *p = afx_pod_get(name);
    (void)lv;
    json_decref(p);
    return p == NULL;
}

/* The DaemonSet's pod (its name; malloc'd), or NULL. */
static char *ds_pod(void)
{
    json_t *list = afx_get("/api/v1/namespaces/default/pods?labelSelector=app%3Dds"), *p;
    size_t i;
    char *name = NULL;
    json_array_foreach(orc_json_get(list, "items"), i, p) {
        if (!orc_json_get(p, "metadata.deletionTimestamp")) name = strdup(orc_json_str(p, "metadata.name"));
    }
    json_decref(list);
    return name;
}

static bool ds_pod_running(struct live *lv, const void *arg)
{
    char *name = ds_pod();
    json_t *p = name ? afx_pod_get(name) : NULL;
    bool ok = p && afx_running_ready(p, NULL);
    (void)lv, (void)arg;
    json_decref(p);
    free(name);
    return ok;
}

static void make_workloads(void)
{
    char body[2048];

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ds\"},"
             "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"ds\"}},\"template\":{\"metadata\":"
             "{\"labels\":{\"app\":\"ds\"}},\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":"
             "[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}}}}", F.image);
    afx_create("/apis/apps/v1/namespaces/default/daemonsets", body);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"ownerReferences\":"
             "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"u-web\","
             "\"controller\":true}]},\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,"
             "\"tolerations\":[{\"key\":\"" CTL_TAINT_UNREACHABLE "\",\"operator\":\"Exists\","
             "\"effect\":\"NoExecute\",\"tolerationSeconds\":2}],"
             "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}}",
             A.node, F.image);
    afx_create("/api/v1/namespaces/default/pods", body);
}

TEST_T(agent_killed_then_back, 150)
{
    static const struct ctl_controller *const ctls[] = {&ctl_daemonset, &ctl_nodelifecycle, NULL};
    static const bool yes = true, no = false;

    static const char *const server[] = {"--controllers", "-*", NULL};

    AFX_SERVER_EXTRA = server; /* the controllers run here, not in orcd */
    afx_setup();
    l.opts.node_monitor_grace_ms = GRACE_MS;
    live_attach(&l, &AC, ctls);
    make_workloads();
    live_until(&l, ds_pod_running, NULL, 60000, "the DaemonSet's pod running");
    json_decref(afx_wait_ready("web", 60000));
    live_run(&l, 2500); /* a renewal seen after the pods started */

    afx_agent_kill();
    uint64_t t0 = test_now_ms();
    live_until(&l, node_ready_is, "Unknown", GRACE_MS + 10000, "Ready=Unknown");
    uint64_t t_unknown = test_now_ms() - t0;
    live_until(&l, unreachable_is, &yes, 5000, "the unreachable taint");
    live_until(&l, gone, "web", 15000, "the ReplicaSet's pod deleted");
    uint64_t t_gone = test_now_ms() - t0;
    fprintf(stderr, "# agent killed: Unknown after %llu ms, its pod deleted after %llu ms\n",
            (unsigned long long)t_unknown, (unsigned long long)t_gone);
    char *name = ds_pod();
    CHECKF(name != NULL, "the DaemonSet's pod left the dead node");
    free(name);

    afx_agent_start();
    live_until(&l, node_ready_is, "True", 20000, "Ready=True again");
    live_until(&l, unreachable_is, &no, 5000, "the unreachable taint removed");
    live_until(&l, ds_pod_running, NULL, 30000, "the DaemonSet's pod running after the agent's return");
    live_stop(&l);
}
