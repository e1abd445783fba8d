/* node.c — this machine as a Node: registers it (capacity, allocatable,
 * labels, addresses, Ready condition, the logs/exec endpoint), renews its
 * Lease in kube-node-lease every third of the lease duration and reposts
 * its status every minute, as a kubelet does. Until the API answers, it
 * retries every second; running containers are not touched meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "controllers/pvc.h"
#include "lib/buf.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"
#include "lib/quantity.h"
#include "lib/timeutil.h"

#define NODE_RETRY_MS 1000
#define NODE_STATUS_EVERY_MS 60000

static int64_t mem_total_bytes(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    long long kib = 0;
    const char *p;

    if (orc_file_read("/proc/meminfo", 1u << 16, &b) == 0 && (p = strstr(b.data, "MemTotal:")))
        sscanf(p + 9, "%lld", &kib);
    orc_buf_free(&b);
    return (int64_t)kib * 1024;
}

static const char *go_arch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0) return "amd64";
    if (strcmp(machine, "aarch64") == 0) return "arm64";
    return machine;
}

static json_t *resources(int64_t cpu_milli, int64_t mem)
{
    char cpu[32], memory[48];

    orc_quantity_format(cpu_milli > 0 ? cpu_milli : 0, 0, cpu, sizeof cpu);
    snprintf(memory, sizeof memory, "%lldKi", (long long)((mem > 0 ? mem : 0) / 1024));
    return json_pack("{s:s, s:s}", "cpu", cpu, "memory", memory);
}

static json_t *node_status(struct agent *a)
{
    struct utsname u;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t cpu = (ncpu > 0 ? ncpu : 1) * 1000, mem = mem_total_bytes();
    char now[ORC_TIME_LEN], pods[16];
    json_t *st, *cap, *alloc;

    uname(&u);
    orc_time_now(now);
    if (!a->ready_since[0]) snprintf(a->ready_since, sizeof a->ready_since, "%s", now);
    snprintf(pods, sizeof pods, "%u", a->max_pods);
    cap = resources(cpu, mem);
    alloc = resources(cpu - a->reserved_cpu_milli, mem - a->reserved_memory_bytes);
    json_object_set_new(cap, "pods", json_string(pods));
    json_object_set_new(alloc, "pods", json_string(pods));
    st = json_pack(
        "{s:o, s:o, s:[{s:s, s:s, s:s, s:s, s:s, s:s}],"
        " s:[{s:s, s:s}, {s:s, s:s}], s:{s:{s:i}},"
        " s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}",
        "capacity", cap, "allocatable", alloc, "conditions", "type", "Ready", "status", "True",
        "reason", "KubeletReady", "message", "orc agent is posting ready status",
        "lastHeartbeatTime", now, "lastTransitionTime", a->ready_since, "addresses", "type",
        "InternalIP", "address", a->node_ip, "type", "Hostname", "address", a->node_name,
        "daemonEndpoints", "kubeletEndpoint", "Port", a->port, "nodeInfo", "architecture",
        go_arch(u.machine), "operatingSystem", "linux", "kernelVersion", u.release, "osImage",
        "Debian GNU/Linux", "containerRuntimeVersion", a->rt.ops ? rth_version(&a->rt) : "",
        "kubeletVersion", "v1.30.0-orc", "kubeProxyVersion", "");
    return st;
}

static json_t *node_object(struct agent *a)
{
    struct utsname u;

    uname(&u);
    /* the volumes dir tells the local-path provisioner where this node
     * keeps the volumes it makes (controllers/pvc.c) */
    return json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:{s:s}}, s:{}}", "apiVersion", "v1",
                     "kind", "Node", "metadata", "name", a->node_name, "labels",
                     "kubernetes.io/hostname", a->node_name, "kubernetes.io/os", "linux",
                     "kubernetes.io/arch", go_arch(u.machine), "annotations",
                     PVC_ANN_VOLUMES_DIR, a->volumes_dir, "spec");
}

static void on_node_timer(uv_timer_t *t);

static void node_arm(struct agent *a, uint64_t in_ms)
{
    if (!a->stopping) uv_timer_start(&a->node_timer, on_node_timer, in_ms, 0);
}

static void call_done(struct agent *a, uint64_t retry_ms)
{
    a->node_call_busy = false;
    node_arm(a, retry_ms);
}

static int post_status(struct agent *a);

static void on_status_posted(void *arg, int status, const json_t *body)
{
    struct agent *a = arg;
    const char *cidr = orc_json_str(body, "spec.podCIDR");

    if (status != 200) {
        log_warn(AGENT_LOG, "reporting node %s status: %s", a->node_name,
                 status < 0 ? orc_strerror(status) : orc_json_str(body, "message"));
        call_done(a, NODE_RETRY_MS);
        return;
    }
    a->next_status_ms = orc_time_mono_ms() + NODE_STATUS_EVERY_MS;
    if (!a->registered) {
        if (cidr == NULL || !*cidr) {
            log_warn(AGENT_LOG, "node %s has no spec.podCIDR yet", a->node_name);
            call_done(a, NODE_RETRY_MS);
            return;
        }
        snprintf(a->pod_cidr, sizeof a->pod_cidr, "%s", cidr);
        if (agent_on_registered(a) != 0) {
            call_done(a, NODE_RETRY_MS);
            return;
        }
        a->registered = true;
        log_info(AGENT_LOG, "node %s registered (pod CIDR %s)", a->node_name, a->pod_cidr);
    }
    call_done(a, 0);
}

static int post_status(struct agent *a)
{
    char path[512];
    json_t *patch = json_pack("[{s:s, s:s, s:o}]", "op", "add", "path", "/status", "value",
                              node_status(a));
    int rv;

    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", a->node_name);
    rv = agent_api_call(a, "PATCH", path, "application/json-patch+json", patch, on_status_posted, a);
    json_decref(patch);
    return rv;
}

static void on_created(void *arg, int status, const json_t *body)
{
    struct agent *a = arg;

    if (status != 201 && status != 200 && status != 409) {
        log_warn(AGENT_LOG, "registering node %s: %s", a->node_name,
                 status < 0 ? orc_strerror(status) : orc_json_str(body, "message"));
        call_done(a, NODE_RETRY_MS);
        return;
    }
    if (post_status(a) != 0) call_done(a, NODE_RETRY_MS);
}

static void on_node_got(void *arg, int status, const json_t *body)
{
    struct agent *a = arg;
    json_t *obj;
    int rv;

    (void)body;
    if (status == 200) {
        if (post_status(a) != 0) call_done(a, NODE_RETRY_MS);
        return;
    }
    if (status != 404) {
        log_warn(AGENT_LOG, "reaching the API at %s: %s", a->server_url,
                 status < 0 ? orc_strerror(status) : "unexpected answer");
        call_done(a, NODE_RETRY_MS);
        return;
    }
    obj = node_object(a);
    rv = agent_api_call(a, "POST", "/api/v1/nodes", NULL, obj, on_created, a);
    json_decref(obj);
    if (rv != 0) call_done(a, NODE_RETRY_MS);
}

/* ---- Lease ---- */

static int renew_lease(struct agent *a);

static void on_lease(void *arg, int status, const json_t *body)
{
    struct agent *a = arg;

    if (status == 404 && a->lease_exists) {
        a->lease_exists = false;
        if (renew_lease(a) == 0) return;
    } else if (status == 200 || status == 201) {
        a->lease_exists = true;
        a->next_lease_ms = orc_time_mono_ms() + a->lease_seconds * 1000 / 3;
    } else if (status == 409) {
        a->lease_exists = true; /* made meanwhile: renew at once */
    } else {
        log_warn(AGENT_LOG, "renewing the lease of node %s: %s", a->node_name,
                 status < 0 ? orc_strerror(status) : orc_json_str(body, "message"));
    }
    call_done(a, status < 0 ? NODE_RETRY_MS : 0);
}

static int renew_lease(struct agent *a)
{
    char now[ORC_TIME_LEN], path[512];
    json_t *spec, *obj;
    int rv;

    orc_time_now_micro(now);
    spec = json_pack("{s:s, s:i, s:s}", "holderIdentity", a->node_name, "leaseDurationSeconds",
                     (json_int_t)a->lease_seconds, "renewTime", now);
    if (a->lease_exists) {
        obj = json_pack("{s:o}", "spec", spec);
        snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
                 a->node_name);
        rv = agent_api_call(a, "PATCH", path, "application/merge-patch+json", obj, on_lease, a);
    } else {
        obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "coordination.k8s.io/v1",
                        "kind", "Lease", "metadata", "name", a->node_name, "namespace",
                        "kube-node-lease", "spec", spec);
        rv = agent_api_call(a, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                            NULL, obj, on_lease, a);
    }
    json_decref(obj);
    return rv;
}

/* One call at a time: registration first, then whichever of lease and
 * status is due. */
static void on_node_timer(uv_timer_t *t)
{
    struct agent *a = t->data;
    uint64_t now = orc_time_mono_ms(), next;
    char path[512];
    int rv;

    if (a->stopping) return;
    if (a->registered) agent_servers_refresh(a);
    if (a->node_call_busy) return;
    a->node_call_busy = true;
    if (!a->registered) {
        snprintf(path, sizeof path, "/api/v1/nodes/%s", a->node_name);
        rv = agent_api_call(a, "GET", path, NULL, NULL, on_node_got, a);
    } else if (now >= a->next_lease_ms) {
        rv = renew_lease(a);
    } else if (now >= a->next_status_ms) {
        rv = post_status(a);
    } else {
        a->node_call_busy = false;
        next = a->next_lease_ms < a->next_status_ms ? a->next_lease_ms : a->next_status_ms;
        node_arm(a, next - now);
        return;
    }
    if (rv != 0) call_done(a, NODE_RETRY_MS);
}

int node_start(struct agent *a)
{
    int rv = uv_timer_init(a->loop, &a->node_timer);

    if (rv != 0) return ORC_EIO;
    a->node_timer.data = a;
    uv_timer_start(&a->node_timer, on_node_timer, 0, 0);
    return 0;
}

static void node_timer_closed(uv_handle_t *h) { agent_release(h->data); }

void node_stop(struct agent *a)
{
    uv_timer_stop(&a->node_timer);
    agent_hold(a);
    uv_close((uv_handle_t *)&a->node_timer, node_timer_closed);
}
