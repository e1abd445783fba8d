/* test_nodelifecycle_live.c — ctl_nodelifecycle in the test process against
 * a real `orcd server` (tests/controllers/live.h), the test renewing a
 * node's Lease as its agent would: stopped for the grace (1.5 s here), the
 * node turns Ready=Unknown and is tainted unreachable:NoExecute; pods with
 * the default tolerations (2 s, --pod-eviction-timeout) are deleted after
 * them, with grace 0; pods tolerating for ever stay, marked not ready (so
 * out of their Services); renewed again, the node
 * is Ready and untainted. Cordoned nodes get the unschedulable taint, and
 * a deleted node's pods are removed. */
#include "controllers/nodelifecycle.h"
#include "controllers/nodematch.h"
#include "tests/controllers/live.h"

#define PODS "/api/v1/namespaces/default/pods"
#define LEASES "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
#define GRACE_MS 1500

static struct live l;

static void start(void)
{
    static const char *const extra[] = {"--pod-eviction-timeout", "2s", NULL};
    l.opts.node_monitor_grace_ms = GRACE_MS;
    live_start(&l, &ctl_nodelifecycle, extra);
}

static void node(const char *name)
{
    char body[512], now[ORC_TIME_LEN];
    orc_time_now(now);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\"},"
             "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\","
             "\"lastHeartbeatTime\":\"%s\",\"lastTransitionTime\":\"%s\"}]}}", name, now, now);
    live_do(&l, "POST", "/api/v1/nodes", NULL, body, 201);
}

static void renew(const char *name)
{
    char body[512], path[256], now[ORC_TIME_LEN];
    orc_time_now_micro(now);
    snprintf(path, sizeof path, LEASES "/%s", name);
    snprintf(body, sizeof body, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                                "\"metadata\":{\"name\":\"%s\",\"namespace\":\"kube-node-lease\"},"
                                "\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":1,"
                                "\"renewTime\":\"%s\"}}", name, name, now);
    json_t *got = live_call(&l, "GET", path, NULL, NULL, 0);
    if (orc_json_str(got, "metadata.name")) {
        char patch[256];
        snprintf(patch, sizeof patch, "{\"spec\":{\"renewTime\":\"%s\"}}", now);
        live_do(&l, "PATCH", path, "application/merge-patch+json", patch, 200);
    } else {
        live_do(&l, "POST", LEASES, NULL, body, 201);
    }
    json_decref(got);
}

/* A pod on `node_name` with extra tolerations (JSON array text, or NULL). */
static void pod(const char *name, const char *node_name, const char *tolerations)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"nodeName\":\"%s\",%s%s%s\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
             name, node_name, tolerations ? "\"tolerations\":" : "", tolerations ? tolerations : "",
             tolerations ? "," : "");
    live_do(&l, "POST", PODS, NULL, body, 201);
}

static json_t *get_node(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
    return live_call(&l, "GET", path, NULL, NULL, 200);
}

static bool ready_is(struct live *lv, const void *want)
{
    json_t *n = get_node("n1");
    const char *s = nl_ready_status(orc_json_get(n, "status.conditions"));
    bool ok = s && strcmp(s, want) == 0;
    (void)lv;
    json_decref(n);
    return ok;
}

static bool tainted(const char *key, const char *effect)
{
    json_t *n = get_node("n1"), *t;
    size_t i;
    bool found = false;
    json_array_foreach(orc_json_get(n, "spec.taints"), i, t) {
        if (strcmp(orc_json_str(t, "key") ?: "", key) == 0 && strcmp(orc_json_str(t, "effect") ?: "", effect) == 0)
            found = true;
    }
    json_decref(n);
    return found;
}

static bool unreachable_taint(struct live *lv, const void *want)
{
    (void)lv;
    return tainted(CTL_TAINT_UNREACHABLE, "NoExecute") == *(const bool *)want;
}

static bool unschedulable_taint(struct live *lv, const void *want)
{
    (void)lv;
    return tainted(CTL_TAINT_UNSCHEDULABLE, "NoSchedule") == *(const bool *)want;
}

static bool pod_gone(struct live *lv, const void *name)
{
    char path[256], *resp = NULL;
    snprintf(path, sizeof path, PODS "/%s", (const char *)name);
    int st = t_http(lv->c, 0, "GET", path, NULL, NULL, &resp, NULL);
    free(resp);
    return st == 404;
}

/* Renews n1's lease for `ms` while running the loop. */
static void keep_alive(unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) {
        renew("n1");
        live_run(&l, 300);
    }
}

static void set_ready(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, PODS "/%s/status", name);
    live_do(&l, "PATCH", path, "application/strategic-merge-patch+json",
            "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}", 200);
}

/* The pod's Ready condition is False with reason NodeNotReady. */
static bool marked_not_ready(struct live *lv, const void *name)
{
    char path[256];
    snprintf(path, sizeof path, PODS "/%s", (const char *)name);
    json_t *p = live_call(lv, "GET", path, NULL, NULL, 200), *c;
    size_t i;
    bool yes = false;
    json_array_foreach (orc_json_get(p, "status.conditions"), i, c)
        if (strcmp(orc_json_str(c, "type") ?: "", "Ready") == 0)
            yes = strcmp(orc_json_str(c, "status") ?: "", "False") == 0
                  && strcmp(orc_json_str(c, "reason") ?: "", "NodeNotReady") == 0;
    json_decref(p);
    return yes;
}

#define FOREVER "[{\"key\":\"" CTL_TAINT_UNREACHABLE "\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]"
#define LONG "[{\"key\":\"" CTL_TAINT_UNREACHABLE "\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"," \
             "\"tolerationSeconds\":600}]"

TEST(lease_lost_then_renewed)
{
    static const bool yes = true, no = false;

    start();
    node("n1");
    renew("n1");
    pod("short", "n1", NULL);
    pod("forever", "n1", FOREVER);
    pod("long", "n1", LONG);
    set_ready("forever");

    /* Renewed: nothing happens, well past the grace. */
    keep_alive(3 * GRACE_MS);
    CHECK(ready_is(&l, "True"));
    CHECK(!tainted(CTL_TAINT_UNREACHABLE, "NoExecute"));

    /* The agent dies: Unknown and tainted after the grace. */
    uint64_t t0 = test_now_ms();
    live_until(&l, ready_is, "Unknown", 10000, "Ready=Unknown");
    uint64_t unknown_ms = test_now_ms() - t0;
    CHECKF(unknown_ms >= GRACE_MS - 400, "Unknown after %llu ms, before the grace",
           (unsigned long long)unknown_ms);
    json_t *n = get_node("n1");
    const json_t *c = json_array_get(orc_json_get(n, "status.conditions"), 0);
    CHECK_STR(orc_json_str(c, "reason"), NL_REASON_UNKNOWN);
    CHECK_STR(orc_json_str(c, "message"), "Kubelet stopped posting node status.");
    json_decref(n);
    live_until(&l, unreachable_taint, &yes, 5000, "the unreachable taint");
    /* its pods are not ready any more (out of their Services at once) */
    live_until(&l, marked_not_ready, "forever", 5000, "the pod marked not ready");

    /* The default toleration (2 s) runs out: deleted with grace 0. */
    live_until(&l, pod_gone, "short", 10000, "the pod with default tolerations deleted");
    uint64_t evicted_ms = test_now_ms() - t0;
    /* t0 is up to 300 ms after the last renewal, and a taint's timeAdded
     * has whole seconds: up to a second early. */
    CHECKF(evicted_ms >= GRACE_MS + 2000 - 300 - 1000, "evicted after %llu ms", (unsigned long long)evicted_ms);
    live_run(&l, 1000);
    CHECK(!pod_gone(&l, "forever"));
    CHECK(!pod_gone(&l, "long"));

    /* Back: Ready and untainted. */
    renew("n1");
    live_until(&l, ready_is, "True", 5000, "Ready=True again");
    live_until(&l, unreachable_taint, &no, 5000, "the unreachable taint removed");
    live_stop(&l);
}

TEST(cordoned_node_tainted)
{
    static const bool yes = true, no = false;

    start();
    node("n1");
    renew("n1");
    live_do(&l, "PATCH", "/api/v1/nodes/n1", "application/merge-patch+json",
            "{\"spec\":{\"unschedulable\":true}}", 200);
    live_until(&l, unschedulable_taint, &yes, 5000, "the unschedulable taint");
    live_do(&l, "PATCH", "/api/v1/nodes/n1", "application/merge-patch+json",
            "{\"spec\":{\"unschedulable\":false}}", 200);
    live_until(&l, unschedulable_taint, &no, 5000, "the unschedulable taint removed");
    live_stop(&l);
}

TEST(deleted_node_pods_removed)
{
    start();
    node("n1");
    renew("n1");
    pod("orphan", "n1", FOREVER);
    live_run(&l, 300);
    live_do(&l, "DELETE", "/api/v1/nodes/n1", NULL, NULL, 200);
    live_until(&l, pod_gone, "orphan", 5000, "the pod of a deleted node removed");
    live_stop(&l);
}
