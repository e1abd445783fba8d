/* podnet.c — pod-to-pod TCP throughput across nodes of the network test
 * bed (tests/harness/netbed.h), iperf3 (Debian's) run in the pods' network
 * namespaces: two nodes with the host-gw backend, two with vxlan (all on
 * one lab bridge), and in auto mode a node on that bridge (host-gw to the
 * first, with auto's MTU) and one beyond a router (VXLAN), beside two bare
 * namespaces joined by one veth (the floor the kernel sets). One stream
 * each, PODNET_SECONDS long (else BENCH_SECONDS, else 5), in PODNET_ROUNDS
 * rounds (default 3) that take the paths in turn, so a busy moment of the
 * shared machine does not land on one path only: the median and range of
 * each. Prints a markdown table. Root only. Run:
 * `O=build ./build/tests/bench/podnet`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/net_int.h"
#include "lib/json.h"
#include "tests/bench/bench.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"

static struct netbed B;

/* What is measured, server <- client (the pairs in the case). */
#define PATHS 5
static const char *const PATH_NAMES[PATHS] = {
    "two namespaces joined by a bare veth (MTU 1500)",
    "host-gw: pods on two nodes sharing a link (MTU 1500)",
    "VXLAN: pods on two nodes on that link, overlay (MTU 1450)",
    "auto, nodes sharing a link: host-gw (client MTU 1450)",
    "auto, nodes on two subnets: VXLAN through a router (MTU 1450)",
};
static const char *const HOST_GW[] = {"--network-backend", "host-gw", NULL};
static const char *const VXLAN[] = {"--network-backend", "vxlan", NULL};
static char VETH_A[64], VETH_B[64];

struct pod {
    char ns[64]; /* its network namespace's name (under /var/run/netns) */
    char ip[32];
};

static int rounds(void)
{
    const char *e = getenv("PODNET_ROUNDS");
    int r = e ? atoi(e) : 3;
    return r < 1 ? 1 : r > 9 ? 9 : r;
}

static int seconds(void)
{
    const char *e = getenv("PODNET_SECONDS");
    int s = e ? atoi(e) : getenv("BENCH_SECONDS") ? atoi(getenv("BENCH_SECONDS")) : 5;
    return s < 1 ? 1 : s > 60 ? 60 : s;
}

/* A pod that sleeps on node i: its namespace and address once it runs. */
static void pod_on(int i, const char *name, struct pod *p)
{
    char body[2048], path[256], *resp = NULL;
    struct net_names nm;
    uint64_t end = test_now_ms() + 60000;
    int st;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},\"spec\":{"
             "\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"]}]}}",
             name, B.node[i].name, B.image);
    st = t_http(&B.c, 0, "POST", PODS, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST pod %s: %d %s", name, st, resp ? resp : "");
    free(resp);
    snprintf(path, sizeof path, PODS "/%s", name);
    for (;;) {
        json_t *o = t_json(&B.c, 0, "GET", path, NULL, &st);
        const char *phase = orc_json_str(o, "status.phase"), *ip = orc_json_str(o, "status.podIP");
        const char *uid = orc_json_str(o, "metadata.uid");
        if (phase && strcmp(phase, "Running") == 0 && ip && *ip && uid) {
            char full[128];
            net_names_init(&nm, B.node[i].name);
            net_netns_path(&nm, uid, full, sizeof full);
            snprintf(p->ns, sizeof p->ns, "%s", strrchr(full, '/') + 1);
            snprintf(p->ip, sizeof p->ip, "%s", ip);
            json_decref(o);
            return;
        }
        json_decref(o);
        CHECKF(test_now_ms() < end, "pod %s not running in 60 s", name);
        test_sleep_ms(100);
    }
}

static pid_t server_pid;

static void stop_server(void *arg)
{
    (void)arg;
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
    }
    server_pid = 0;
}

/* `ip netns exec NS argv...` (exec'd: the pid is the command's). */
static pid_t spawn_in(const char *ns, char *const argv[], bool quiet)
{
    char *full[16];
    int n = 0;
    pid_t pid;

    full[n++] = "ip";
    full[n++] = "netns";
    full[n++] = "exec";
    full[n++] = (char *)ns;
    for (int i = 0; argv[i] && n < 15; i++) full[n++] = argv[i];
    full[n] = NULL;
    pid = fork();
    if (pid == 0) {
        if (quiet) {
            FILE *f = freopen("/dev/null", "w", stdout);
            (void)f;
        }
        execvp("ip", full);
        _exit(127);
    }
    return pid;
}

/* One iperf3 run from client to server; Gbit/s received. */
static double iperf(const struct pod *server, const struct pod *client)
{
    char secs[8], cmd[512];
    int p[2];
    double gbps = -1;

    snprintf(secs, sizeof secs, "%d", seconds());
    char *srv[] = {"iperf3", "-s", "-1", "-B", (char *)server->ip, NULL};
    server_pid = spawn_in(server->ns, srv, true);
    CHECK(server_pid > 0);
    test_defer(stop_server, NULL);
    /* the server listens within moments; the routes may still be settling */
    for (int attempt = 0; attempt < 40 && gbps < 0; attempt++) {
        struct orc_buf out = ORC_BUF_INIT;
        char buf[4096];
        ssize_t n;
        pid_t c;
        test_sleep_ms(250);
        CHECK(pipe(p) == 0);
        snprintf(cmd, sizeof cmd, "%s", client->ns);
        char *cli[] = {"iperf3", "-c", (char *)server->ip, "-t", secs, "-J", NULL};
        c = fork();
        if (c == 0) {
            dup2(p[1], 1);
            close(p[0]);
            execlp("ip", "ip", "netns", "exec", cmd, cli[0], cli[1], cli[2], cli[3], cli[4], cli[5],
                   (char *)NULL);
            _exit(127);
        }
        close(p[1]);
        while ((n = read(p[0], buf, sizeof buf)) > 0) orc_buf_append(&out, buf, (size_t)n);
        close(p[0]);
        waitpid(c, NULL, 0);
        json_t *j = out.data ? json_loads(out.data, 0, NULL) : NULL;
        const json_t *bps = orc_json_get(j, "end.sum_received.bits_per_second");
        if (json_is_number(bps)) gbps = json_number_value(bps) / 1e9;
        json_decref(j);
        orc_buf_free(&out);
    }
    stop_server(NULL);
    CHECKF(gbps >= 0, "iperf3 from %s to %s never ran", client->ip, server->ip);
    return gbps;
}

static void remove_veth_pair(void *arg)
{
    (void)arg;
    char *a[] = {"ip", "netns", "del", VETH_A, NULL}, *b[] = {"ip", "netns", "del", VETH_B, NULL};
    netbed_run(&B, 0, a, NULL);
    netbed_run(&B, 0, b, NULL);
}

/* Two bare namespaces, one veth between them: the kernel's floor. */
static void bare_pair(struct pod *a, struct pod *b)
{
    char cmd[1024];

    /* named like the bed's, so that a killed run's sweep takes them too */
    snprintf(VETH_A, sizeof VETH_A, "orcbed-%d-va", B.pid);
    snprintf(VETH_B, sizeof VETH_B, "orcbed-%d-vb", B.pid);
    test_defer(remove_veth_pair, NULL);
    snprintf(cmd, sizeof cmd,
             "ip netns add %s && ip netns add %s && ip -n %s link add eth0 type veth peer name eth0 "
             "netns %s && ip -n %s addr add 10.98.0.1/24 dev eth0 && ip -n %s addr add 10.98.0.2/24 "
             "dev eth0 && ip -n %s link set eth0 up && ip -n %s link set eth0 up && "
             "ip -n %s link set lo up && ip -n %s link set lo up",
             VETH_A, VETH_B, VETH_A, VETH_B, VETH_A, VETH_B, VETH_A, VETH_B, VETH_A, VETH_B);
    char *argv[] = {"sh", "-c", cmd, NULL}, *out = NULL;
    int st = netbed_run(&B, 0, argv, &out);
    CHECKF(st == 0, "the bare veth pair: %s", out ? out : "");
    free(out);
    snprintf(a->ns, sizeof a->ns, "%s", VETH_A);
    snprintf(a->ip, sizeof a->ip, "10.98.0.1");
    snprintf(b->ns, sizeof b->ns, "%s", VETH_B);
    snprintf(b->ip, sizeof b->ip, "10.98.0.2");
}

TEST_T(pod_to_pod_throughput, 900)
{
    struct pod g1, g2, v1, v2, a1, a2, va, vb;

    netbed_up(&B);
    netbed_router(&B);
    netbed_servers(&B, 1, NULL);
    netbed_registry(&B);
    netbed_node_add(&B, HOST_GW);
    netbed_node_add(&B, HOST_GW);
    netbed_node_add(&B, VXLAN);
    netbed_node_add(&B, VXLAN);
    netbed_node_add_on(&B, 0, NULL); /* auto */
    netbed_node_add_on(&B, 1, NULL); /* auto, beyond the router */
    for (int i = 1; i <= 6; i++) netbed_node_wait(&B, i, 30000);
    pod_on(1, "gw1", &g1);
    pod_on(2, "gw2", &g2);
    pod_on(3, "vx1", &v1);
    pod_on(4, "vx2", &v2);
    pod_on(5, "auto1", &a1);
    pod_on(6, "auto2", &a2);
    bare_pair(&va, &vb);

    const struct pod *pairs[PATHS][2] = {{&va, &vb}, {&g2, &g1}, {&v2, &v1}, {&g1, &a1}, {&a2, &a1}};
    double got[PATHS][9], med[PATHS];
    int r = rounds();

    for (int k = 0; k < r; k++)
        for (int p = 0; p < PATHS; p++) got[p][k] = iperf(pairs[p][0], pairs[p][1]);
    for (int p = 0; p < PATHS; p++) {
        qsort(got[p], (size_t)r, sizeof got[p][0], bench_cmp_double);
        med[p] = got[p][r / 2];
    }
    printf("\n| pod-to-pod TCP, iperf3 %d s, one stream, median of %d (range) | Gbit/s | vs bare veth |\n"
           "|---|---|---|\n", seconds(), r);
    for (int p = 0; p < PATHS; p++)
        printf("| %s | %.2f (%.2f–%.2f) | %.0f %% |\n", PATH_NAMES[p], med[p], got[p][0], got[p][r - 1],
               100 * med[p] / med[0]);
}
