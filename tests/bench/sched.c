/* sched.c — scheduler throughput: a 3-member store, N simulated nodes
 * (allocatable 8 CPU / 32 GiB / 110 pods, Ready, Leases renewed by the
 * benchmark, no containers) and M pods of mixed requests. Prints pods/s from
 * the first create to the last pod seen bound through a watch (so bound and
 * persisted), and the nodes the placement used beside an offline
 * first-fit-decreasing packing of the same pods.
 *
 * The scheduler is the leader's own (orcd's controller manager runs it);
 * with ORC_BENCH_SCHED=inproc the members run every controller but it, and
 * ctl_scheduler runs in this process on its own API client instead (to
 * profile it apart from the members).
 * SCHED_NODES and SCHED_PODS shorten a run (defaults 1000 and 10000);
 * SCHED_APPLIED=1 gives each pod a last-applied-configuration annotation.
 * At the end: the members' CPU over the run and their RSS with every pod
 * stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "client/rest.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/kinds.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "scheduler/sched.h"
#include "tests/harness/abuse.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define NODE_CPU_M 8000
#define NODE_MEM_MI (32 * 1024)
#define NODE_PODS 110
#define IN_FLIGHT 128
#define LEASE_EVERY_MS 10000

static const int cpu_choices[] = {100, 200, 250, 500, 1000};       /* millicores */
static const int mem_choices[] = {128, 256, 512, 1024, 2048};      /* MiB */

struct bench {
    uv_loop_t loop;
    http_client *api;       /* the load: creates, leases */
    http_client *sched_api; /* the scheduler's and its informers', as the manager has its own */
    orc_clock *clock;
    informer_set *set;
    informer *pods;
    struct ctl_options opts;
    struct ctl_ctx ctx;
    void *sched;
    orc_timer *lease_timer, *poll;
    size_t nnodes, npods;
    int *cpu, *mem;
    /* one pipelined phase of writes */
    const char *phase;
    size_t next, total, inflight, failed;
    size_t lease_next, lease_inflight;
    size_t bound;
    uint64_t t0, t1, t_created;
    bool done;
    uint64_t progress_ms; /* last answer or bind seen: the watchdog's mark */
    orc_timer *watchdog;
    json_t *used_nodes; /* set of node names pods landed on */
    const struct cluster *c;
    int leader;
    double cpu0[3]; /* members' CPU seconds at the first create */
};

static void step(struct bench *b);

static json_t *node_obj(size_t i)
{
    char name[32];
    snprintf(name, sizeof name, "sim-%04zu", i);
    return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Node", "metadata",
                     "name", name, "labels", "kubernetes.io/hostname", name);
}

static json_t *node_status(struct bench *b)
{
    char now[ORC_TIME_LEN];
    orc_time_format(orc_time_unix(), now);
    (void)b;
    return json_pack("{s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s, s:s}]}}",
                     "status", "capacity", "cpu", "8", "memory", "32Gi", "pods", "110",
                     "allocatable", "cpu", "8", "memory", "32Gi", "pods", "110", "conditions",
                     "type", "Ready", "status", "True", "reason", "KubeletReady",
                     "lastHeartbeatTime", now);
}

static json_t *lease_obj(size_t i)
{
    char name[32], now[ORC_TIME_LEN];
    snprintf(name, sizeof name, "sim-%04zu", i);
    orc_time_now_micro(now);
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s}}", "apiVersion",
                     "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name,
                     "namespace", "kube-node-lease", "spec", "holderIdentity", name,
                     "leaseDurationSeconds", 40, "renewTime", now);
}

static json_t *pod_obj(struct bench *b, size_t i)
{
    char name[32], cpu[16], mem[16];
    json_t *pod;
    snprintf(name, sizeof name, "p-%05zu", i);
    snprintf(cpu, sizeof cpu, "%dm", b->cpu[i]);
    snprintf(mem, sizeof mem, "%dMi", b->mem[i]);
    pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[{s:s, s:s, s:{s:{s:s, s:s}}}]}}", "apiVersion",
                     "v1", "kind", "Pod", "metadata", "name", name, "namespace", "default", "spec",
                     "containers", "name", "c", "image", "registry.invalid/pause", "resources",
                     "requests", "cpu", cpu, "memory", mem);
    /* SCHED_APPLIED=1: each pod carries the annotation `orctl apply` writes
     * (its manifest), to weigh the informers' transform. */
    if (pod && getenv("SCHED_APPLIED") && atoi(getenv("SCHED_APPLIED")) > 0) {
        char *text = json_dumps(pod, JSON_COMPACT | JSON_SORT_KEYS);
        if (text)
            orc_json_set(pod, "metadata.annotations", json_pack("{s:s}",
                         "kubectl.kubernetes.io/last-applied-configuration", text));
        free(text);
    }
    return pod;
}

/* ---- pipelined writes ---- */

struct req {
    struct bench *b;
    size_t i;
    unsigned tries;
};

static int issue(struct bench *b, struct req *r);

/* Node creation races on pod CIDRs (409 "... retry") until node IPAM
 * decides inside the transaction: such answers are retried. */
static void written(void *arg, int status, const json_t *body)
{
    struct req *r = arg;
    struct bench *b = r->b;
    b->inflight--;
    b->progress_ms = test_now_ms();
    if (status < 200 || status > 299) {
        if ((status == 409 || status < 0 || status >= 500) && r->tries++ < 1000 && strcmp(b->phase, "pods") != 0
            && issue(b, r) == 0) {
            b->inflight++;
            return;
        }
        if (b->failed++ < 5) fprintf(stderr, "# %s: %d %s\n", b->phase, status, rest_message(status, body));
    }
    free(r);
    step(b);
}

static int issue(struct bench *b, struct req *r)
{
    const char *phase = b->phase;
    size_t i = r->i;
    json_t *obj = NULL;
    char name[32];
    int rc;

    if (strcmp(phase, "nodes") == 0) {
        obj = node_obj(i);
        rc = rest_create(b->api, orc_kind_lookup("nodes"), NULL, obj, written, r);
    } else if (strcmp(phase, "status") == 0) {
        obj = node_status(b);
        snprintf(name, sizeof name, "sim-%04zu", i);
        rc = rest_patch(b->api, orc_kind_lookup("nodes"), NULL, name, "status",
                        "application/merge-patch+json", obj, written, r);
    } else if (strcmp(phase, "leases") == 0) {
        obj = lease_obj(i);
        rc = rest_create(b->api, orc_kind_lookup("leases"), "kube-node-lease", obj, written, r);
    } else {
        obj = pod_obj(b, i);
        rc = rest_create(b->api, orc_kind_lookup("pods"), "default", obj, written, r);
    }
    json_decref(obj);
    return rc;
}

static void start_phase(struct bench *b, const char *phase, size_t total)
{
    b->phase = phase;
    b->next = 0;
    b->total = total;
    step(b);
}

static void sched_started(struct bench *b);

static void step(struct bench *b)
{
    /* Few nodes at once: their pod CIDR reservations collide. */
    size_t cap = strcmp(b->phase, "nodes") == 0 ? 4 : IN_FLIGHT;
    while (b->next < b->total && b->inflight < cap) {
        struct req *r = calloc(1, sizeof *r);
        if (r) *r = (struct req){b, b->next, 0};
        if (r == NULL || issue(b, r) != 0) {
            free(r);
            b->failed++;
        } else {
            b->inflight++;
        }
        b->next++;
    }
    if (b->inflight > 0 || b->next < b->total) return;
    if (strcmp(b->phase, "nodes") == 0) start_phase(b, "status", b->nnodes);
    else if (strcmp(b->phase, "status") == 0) start_phase(b, "leases", b->nnodes);
    else if (strcmp(b->phase, "leases") == 0) sched_started(b);
    else if (strcmp(b->phase, "pods") == 0 && b->t_created == 0) b->t_created = test_now_ms();
}

/* ---- leases kept fresh, as agents would ---- */

static void lease_renewed(void *arg, int status, const json_t *body)
{
    struct bench *b = arg;
    (void)status;
    (void)body;
    b->lease_inflight--;
}

static void renew_leases(void *arg)
{
    struct bench *b = arg;
    char name[32], now[ORC_TIME_LEN];
    orc_time_now_micro(now);
    json_t *patch = json_pack("{s:{s:s}}", "spec", "renewTime", now);
    for (size_t i = 0; i < b->nnodes && b->lease_inflight < 4 * IN_FLIGHT; i++) {
        snprintf(name, sizeof name, "sim-%04zu", i);
        if (rest_patch(b->api, orc_kind_lookup("leases"), "kube-node-lease", name, NULL,
                       "application/merge-patch+json", patch, lease_renewed, b) == 0)
            b->lease_inflight++;
    }
    json_decref(patch);
    orc_timer_start(b->lease_timer, LEASE_EVERY_MS);
}

/* ---- counting binds through the watch ---- */

static void count_bound(struct bench *b, const json_t *old, const json_t *pod)
{
    const char *node = orc_json_str(pod, "spec.nodeName");
    const char *was = old ? orc_json_str(old, "spec.nodeName") : NULL;
    if (node == NULL || *node == '\0' || (was && *was)) return;
    json_object_set_new(b->used_nodes, node, json_true());
    b->progress_ms = test_now_ms();
    if (++b->bound == b->npods) {
        b->t1 = test_now_ms();
        b->done = true;
        uv_stop(&b->loop);
    }
}

static void on_pod_add(void *arg, const json_t *pod)
{
    count_bound(arg, NULL, pod);
}

static void on_pod_update(void *arg, const json_t *old, const json_t *pod)
{
    count_bound(arg, old, pod);
}

/* A run that stops moving ends (and fails) instead of hanging. */
static void watchdog(void *arg)
{
    struct bench *b = arg;
    if (test_now_ms() - b->progress_ms > 30000) {
        fprintf(stderr, "# stalled in phase %s: %zu/%zu issued, %zu in flight, %zu bound, %zu failed; creates took %.2f s\n",
                b->phase, b->next, b->total, b->inflight, b->bound, b->failed,
                b->t_created ? (double)(b->t_created - b->t0) / 1000.0 : -1.0);
        uv_stop(&b->loop);
        return;
    }
    orc_timer_start(b->watchdog, 1000);
}

/* User + system CPU seconds of a process so far (-1 when unreadable): on a
 * shared machine the members' CPU per pod is steadier than wall time. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL) return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command may hold spaces */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void wait_synced(void *arg)
{
    struct bench *b = arg;
    if (!informer_set_synced(b->set)) {
        orc_timer_start(b->poll, 50);
        return;
    }
    b->t0 = test_now_ms();
    for (int i = 0; i < 3; i++) b->cpu0[i] = proc_cpu_s(b->c->m[i].pid);
    start_phase(b, "pods", b->npods);
}

static bool inproc(void)
{
    const char *where = getenv("ORC_BENCH_SCHED");
    return where && strcmp(where, "inproc") == 0;
}

static void sched_started(struct bench *b)
{
    static const struct informer_cbs cbs = {on_pod_add, on_pod_update, NULL, NULL};

    renew_leases(b);
    b->pods = informer_set_get(b->set, orc_kind_lookup("pods"));
    CHECK(b->pods != NULL);
    CHECK_INT(informer_add_handler(b->pods, &cbs, b), ==, 0);
    if (inproc()) CHECK_INT(ctl_scheduler.start(&b->ctx, &b->sched), ==, 0);
    wait_synced(b);
}

/* ---- offline first-fit decreasing ---- */

static const int *ffd_cpu, *ffd_mem;

static int by_size_desc(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, c = *(const size_t *)y;
    double sa = (double)ffd_cpu[a] / NODE_CPU_M + (double)ffd_mem[a] / NODE_MEM_MI;
    double sc = (double)ffd_cpu[c] / NODE_CPU_M + (double)ffd_mem[c] / NODE_MEM_MI;
    return (sa < sc) - (sa > sc);
}

static size_t first_fit_decreasing(const int *cpu, const int *mem, size_t n)
{
    size_t *order = calloc(n, sizeof *order), used = 0;
    int *fcpu = calloc(n, sizeof *fcpu), *fmem = calloc(n, sizeof *fmem), *fpods = calloc(n, sizeof *fpods);
    CHECK(order && fcpu && fmem && fpods);
    for (size_t i = 0; i < n; i++) order[i] = i;
    ffd_cpu = cpu;
    ffd_mem = mem;
    qsort(order, n, sizeof *order, by_size_desc);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], j;
        for (j = 0; j < used; j++)
            if (fcpu[j] + cpu[i] <= NODE_CPU_M && fmem[j] + mem[i] <= NODE_MEM_MI && fpods[j] < NODE_PODS) break;
        if (j == used) used++;
        fcpu[j] += cpu[i];
        fmem[j] += mem[i];
        fpods[j]++;
    }
    free(order);
    free(fcpu);
    free(fmem);
    free(fpods);
    return used;
}

/* ---- the run ---- */

/* Waits (up to 60 s) until the leader uses under a tenth of a core over a
 * second: the scheduler's Events, queued behind its bindings, are written.
 * Returns the seconds waited. */
static double settle(pid_t leader)
{
    uint64_t start = test_now_ms();
    double prev = proc_cpu_s(leader);

    while (test_now_ms() - start < 60000) {
        usleep(1000 * 1000);
        double now = proc_cpu_s(leader);
        if (now - prev < 0.1) break;
        prev = now;
    }
    return (double)(test_now_ms() - start) / 1000.0;
}

static double load1(void)
{
    double l[1] = {-1};
    return getloadavg(l, 1) == 1 ? l[0] : -1;
}

/* Memory of the members with every pod stored and the controllers running
 * (each member's shared informers cache every pod). */
static void print_rss(const struct cluster *c, int leader, size_t npods, const char *when)
{
    int follower = (leader + 1) % 3;
    printf("# memory with %zu pods stored, %s: leader RSS %.1f MiB, follower RSS %.1f MiB\n", npods, when,
           (double)proc_rss_kib(c->m[leader].pid) / 1024.0,
           (double)proc_rss_kib(c->m[follower].pid) / 1024.0);
}

static size_t env_size(const char *name, size_t dflt)
{
    const char *v = getenv(name);
    return v && atol(v) > 0 ? (size_t)atol(v) : dflt;
}

static void closed(void *arg)
{
    (void)arg;
}

static void stop_all(struct bench *b)
{
    if (b->sched) ctl_scheduler.stop(b->sched);
    orc_timer_close(b->lease_timer);
    orc_timer_close(b->poll);
    orc_timer_close(b->watchdog);
    informer_set_free(b->set);
    http_client_close(b->api, closed, NULL);
    http_client_close(b->sched_api, closed, NULL);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    orc_clock_free(b->clock);
    uv_loop_close(&b->loop);
}

TEST_T(scheduler_throughput, 600)
{
    static struct cluster c;
    struct bench *b = calloc(1, sizeof *b);
    unsigned seed = 8;
    int leader;

    CHECK(b != NULL);
    b->nnodes = env_size("SCHED_NODES", 1000);
    b->npods = env_size("SCHED_PODS", 10000);
    b->cpu = calloc(b->npods, sizeof *b->cpu);
    b->mem = calloc(b->npods, sizeof *b->mem);
    b->used_nodes = json_object();
    CHECK(b->cpu && b->mem && b->used_nodes);
    for (size_t i = 0; i < b->npods; i++) {
        b->cpu[i] = cpu_choices[rand_r(&seed) % ORC_ARRAY_LEN(cpu_choices)];
        b->mem[i] = mem_choices[rand_r(&seed) % ORC_ARRAY_LEN(mem_choices)];
    }

    /* Room for a /24 per simulated node (the default /16 holds 256). */
    static const char *const extra[] = {"--cluster-cidr", "10.0.0.0/8", NULL};
    static const char *const extra_inproc[] = {"--cluster-cidr", "10.0.0.0/8", "--controllers",
                                               "*,-scheduler", NULL};
    cluster_init(&c, 3);
    cluster_start(&c, inproc() ? extra_inproc : extra);
    leader = cluster_leader(&c, 10000);
    CHECK(leader >= 0);
    b->c = &c;
    b->leader = leader;

    CHECK_INT(uv_loop_init(&b->loop), ==, 0);
    CHECK_INT(http_client_new_tls(&b->loop, c.m[leader].url, c.token, cluster_tls(&c), &b->api), ==, 0);
    b->clock = orc_clock_real(&b->loop);
    CHECK(b->clock != NULL);
    CHECK_INT(http_client_new_tls(&b->loop, c.m[leader].url, c.token, cluster_tls(&c), &b->sched_api), ==, 0);
    CHECK_INT(informer_set_new(&b->loop, b->sched_api, &b->set), ==, 0);
    CHECK_INT(orc_timer_new(b->clock, renew_leases, b, &b->lease_timer), ==, 0);
    CHECK_INT(orc_timer_new(b->clock, wait_synced, b, &b->poll), ==, 0);
    CHECK_INT(orc_timer_new(b->clock, watchdog, b, &b->watchdog), ==, 0);
    b->progress_ms = test_now_ms();
    orc_timer_start(b->watchdog, 1000);
    b->ctx = (struct ctl_ctx){&b->loop, b->clock, b->sched_api, b->set, &b->opts, NULL, NULL};
    b->opts.host = "bench";

    start_phase(b, "nodes", b->nnodes);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    if (!b->done) {
        stop_all(b);
        test_fail(__FILE__, __LINE__, "the run stalled");
    }

    double secs = (double)(b->t1 - b->t0) / 1000.0;
    size_t used = json_object_size(b->used_nodes);
    size_t ffd = first_fit_decreasing(b->cpu, b->mem, b->npods);
    printf("# scheduler: %zu pods on %zu nodes (3 members): %.2f s from first create to all bound "
           "(%.0f pods/s); creates alone took %.2f s; %zu writes failed\n",
           b->npods, b->nnodes, secs, (double)b->npods / secs,
           b->t_created ? (double)(b->t_created - b->t0) / 1000.0 : 0.0, b->failed);
    printf("# placement: %zu nodes used; offline first-fit decreasing: %zu nodes (%.3fx)\n", used, ffd,
           (double)used / (double)ffd);
    {
        int f = (leader + 1) % 3;
        double lc = proc_cpu_s(c.m[leader].pid) - b->cpu0[leader];
        double fc = proc_cpu_s(c.m[f].pid) - b->cpu0[f];
        printf("# CPU from first create to all bound: leader %.2f s (%.0f us/pod), a follower %.2f s; "
               "load average %.1f\n", lc, lc * 1e6 / (double)b->npods, fc, load1());
    }
    print_rss(&c, leader, b->npods, "right after the last bind");
    printf("# the leader settled (its queued Events written) %.1f s after the last bind\n",
           settle(c.m[leader].pid));
    printf("# CPU from first create to settled: leader %.2f s (%.0f us/pod)\n",
           proc_cpu_s(c.m[leader].pid) - b->cpu0[leader],
           (proc_cpu_s(c.m[leader].pid) - b->cpu0[leader]) * 1e6 / (double)b->npods);
    print_rss(&c, leader, b->npods, "settled");
    stop_all(b);
    json_decref(b->used_nodes);
    free(b->cpu);
    free(b->mem);
    free(b);
}
