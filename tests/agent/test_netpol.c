/* test_netpol.c — NetworkPolicies enforced by the embedded agent of one
 * `orcd server` on real pods (busybox sleeping; the test connects from
 * inside the pods' network namespaces, where a listener stands for the
 * server pod): before any policy every client connects; a default-deny
 * ingress policy blocks all; a podSelector allow admits only the labelled
 * client of the namespace; a namespaceSelector admits the other
 * namespace's; an egress policy allowing port 53 to kube-dns lets the
 * client resolve kubernetes.default on its nameserver (the node's
 * resolver on the gateway) while
 * other egress stays blocked, and without it DNS is blocked too; deleting
 * the policies restores traffic within a couple of seconds. Root only. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "lib/hash.h"
#include "netpol/netpol.h"
#include "tests/e2e/wlfx.h"

#define NS_B "npb"
#define PORT 8080

struct tpod {
    const char *ns, *name, *app;
    char ip[32], netns[256];
};

static struct tpod server = {.ns = "default", .name = "server", .app = "server"},
                   client = {.ns = "default", .name = "client", .app = "client"},
                   other = {.ns = "default", .name = "other", .app = "other"},
                   bclient = {.ns = NS_B, .name = "bclient", .app = "client"};

static void delete_all_at_end(void *arg)
{
    static const char *const nss[] = {"default", NS_B, NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods",
                                        "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
    wl_del("/api/v1/namespaces/" NS_B);
}

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&C, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

static void create_pod(const struct tpod *p)
{
    char body[1024], path[128];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sleep\",\"3600\"],\"ports\":[{\"name\":\"http\",\"containerPort\":%d}]}]}}",
             p->name, p->app, node, F.image, PORT);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", p->ns);
    post(path, body);
}

/* Waits until the pod runs; its address and network namespace path. */
static void wait_pod(struct tpod *p, unsigned ms)
{
    char path[256], tag[9];
    uint64_t end = test_now_ms() + ms;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
    for (;;) {
        json_t *o = wl_get(path);
        const char *ph = orc_json_str(o, "status.phase"), *ip = orc_json_str(o, "status.podIP");
        const char *uid = orc_json_str(o, "metadata.uid");
        bool ok = ph && strcmp(ph, "Running") == 0 && ip && uid;
        if (ok) {
            snprintf(p->ip, sizeof p->ip, "%s", ip);
            orc_name_tag(node, tag);
            snprintf(p->netns, sizeof p->netns, "/var/run/netns/orc-%s-%.12s", tag, uid);
        }
        json_decref(o);
        if (ok) return;
        if (test_now_ms() >= end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s/%s not running after %u ms", p->ns, p->name, ms);
        }
        usleep(100 * 1000);
    }
}

/* A child in the pod's network namespace (dies with the test). */
static pid_t fork_in(const struct tpod *p)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid > 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(p->netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(99);
    close(fd);
    return 0;
}

static int wait_child(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void stop_listener(void *arg)
{
    pid_t pid = (pid_t)(intptr_t)arg;
    kill(pid, SIGKILL);
    wait_child(pid);
}

/* The server pod's stand-in: accepts on PORT inside its namespace. */
static void listen_in(const struct tpod *p)
{
    pid_t pid = fork_in(p);
    if (pid > 0) {
        test_defer(stop_listener, (void *)(intptr_t)pid);
        return;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) _exit(98);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c >= 0) close(c);
    }
}

/* One TCP connect from inside `from` to ip:port: true when it completed
 * within 1 s (a policy drops, so a denied one times out). */
static bool connects(const struct tpod *from, const char *ip, int port)
{
    pid_t pid = fork_in(from);
    if (pid > 0) return wait_child(pid) == 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1;
    socklen_t len = sizeof err;
    struct pollfd pfd = {fd, POLLOUT, 0};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) _exit(0);
    if (errno != EINPROGRESS || poll(&pfd, 1, 1000) != 1) _exit(1);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    _exit(err == 0 ? 0 : 2);
}

/* One A query from inside `from` to dns (the pods' nameserver: the
 * node's resolver on their gateway): true when `name` resolved within
 * 1.5 s. */
static bool resolves(const struct tpod *from, const char *dns, const char *name)
{
    pid_t pid = fork_in(from);
    if (pid > 0) return wait_child(pid) == 0;
    ldns_pkt *q = NULL, *r = NULL;
    uint8_t *w, buf[4096];
    size_t wl;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    struct timeval tv = {1, 500000};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    inet_pton(AF_INET, dns, &to.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (ldns_pkt_query_new_frm_str(&q, name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD) != LDNS_STATUS_OK
        || ldns_pkt2wire(&w, q, &wl) != LDNS_STATUS_OK)
        _exit(3);
    if (sendto(fd, w, wl, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)wl) _exit(4);
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got <= 0 || ldns_wire2pkt(&r, buf, (size_t)got) != LDNS_STATUS_OK) _exit(5);
    _exit(ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(r) > 0 ? 0 : 6);
}

/* The node's policy table on stderr: what the failing case ran into. */
static void dump_table(void)
{
    char t[32], cmd[128];
    netpol_table_name(node, t, sizeof t);
    snprintf(cmd, sizeof cmd, "nft list table inet %s >&2", t);
    if (system(cmd) != 0) fprintf(stderr, "(no table %s)\n", t);
}

/* Waits until `from` reaches the server (want) or not. */
static void expect(const struct tpod *from, bool want, unsigned ms, int line)
{
    uint64_t end = test_now_ms() + ms;
    while (connects(from, server.ip, PORT) != want) {
        if (test_now_ms() >= end) {
            wl_dump_log();
            dump_table();
            test_fail(__FILE__, line, "%s/%s -> server: %s after %u ms", from->ns, from->name,
                      want ? "still blocked" : "still connects", ms);
        }
        usleep(100 * 1000);
    }
}

static void expect_dns(const struct tpod *from, bool want, unsigned ms, int line)
{
    uint64_t end = test_now_ms() + ms;
    char gw[32];
    unsigned a, b, c, d;
    CHECK(sscanf(from->ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
    snprintf(gw, sizeof gw, "%u.%u.%u.1", a, b, c); /* the pod CIDR is a /24 */
    while (resolves(from, gw, "kubernetes.default.svc.cluster.local.") != want) {
        if (test_now_ms() >= end) {
            wl_dump_log();
            dump_table();
            test_fail(__FILE__, line, "%s/%s: DNS %s after %u ms", from->ns, from->name,
                      want ? "still blocked" : "still answers", ms);
        }
        usleep(100 * 1000);
    }
}

#define EXPECT(from, want, ms) expect(from, want, ms, __LINE__)
#define EXPECT_DNS(from, want, ms) expect_dns(from, want, ms, __LINE__)

static void policy(const char *ns, const char *name, const char *spec)
{
    char body[2048], path[128];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":%s}",
             name, spec);
    snprintf(path, sizeof path, "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies", ns);
    post(path, body);
}

static void unpolicy(const char *ns, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s", ns, name);
    wl_del(path);
}

TEST_T(policies_on_one_node, 90)
{
    static char cidr[32];
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));
    const char *extra[] = {"--node-name", node, "--cluster-cidr", cidr, NULL};

    if (geteuid() != 0) {
        printf("# needs root: skipped\n");
        return;
    }
    fx_setup(true, false); /* the registry with the test image (busybox) */
    wl_init("np", delete_all_at_end);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    post("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" NS_B "\","
                               "\"labels\":{\"team\":\"b\"}}}");
    struct tpod *pods[] = {&server, &client, &other, &bclient};
    for (size_t i = 0; i < ORC_ARRAY_LEN(pods); i++) create_pod(pods[i]);
    for (size_t i = 0; i < ORC_ARRAY_LEN(pods); i++) wait_pod(pods[i], 40000);
    listen_in(&server);

    /* no policy: everyone connects */
    EXPECT(&client, true, 5000);
    EXPECT(&other, true, 2000);
    EXPECT(&bclient, true, 2000);

    /* default deny ingress for the server */
    uint64_t t0 = test_now_ms();
    policy("default", "deny", "{\"podSelector\":{\"matchLabels\":{\"app\":\"server\"}},\"policyTypes\":[\"Ingress\"]}");
    EXPECT(&client, false, 5000);
    printf("# default deny in force after %llu ms\n", (unsigned long long)(test_now_ms() - t0));
    EXPECT(&other, false, 2000);
    EXPECT(&bclient, false, 2000);

    /* podSelector: the namespace's clients only, on the named port */
    policy("default", "clients", "{\"podSelector\":{\"matchLabels\":{\"app\":\"server\"}},\"ingress\":[{\"from\":"
                                 "[{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}}],\"ports\":[{\"port\":\"http\"}]}]}");
    EXPECT(&client, true, 5000);
    EXPECT(&other, false, 2000);
    EXPECT(&bclient, false, 2000);

    /* namespaceSelector: every pod of team b */
    policy("default", "team-b", "{\"podSelector\":{\"matchLabels\":{\"app\":\"server\"}},\"ingress\":[{\"from\":"
                                "[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"b\"}}}]}]}");
    EXPECT(&bclient, true, 5000);
    EXPECT(&other, false, 2000);

    /* deleting the policies opens the server again */
    unpolicy("default", "deny");
    unpolicy("default", "clients");
    unpolicy("default", "team-b");
    t0 = test_now_ms();
    EXPECT(&other, true, 3000);
    printf("# traffic restored %llu ms after the deletes\n", (unsigned long long)(test_now_ms() - t0));

    /* egress: only DNS to kube-dns; the server is out of reach */
    EXPECT_DNS(&bclient, true, 5000);
    policy(NS_B, "dns-only", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"namespaceSelector\":"
                             "{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}},\"podSelector\":"
                             "{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],\"ports\":[{\"protocol\":\"UDP\",\"port\":53},"
                             "{\"protocol\":\"TCP\",\"port\":53}]}]}");
    EXPECT(&bclient, false, 5000);
    EXPECT_DNS(&bclient, true, 3000);
    EXPECT(&client, true, 2000); /* another namespace: untouched */

    /* a default deny egress beside it changes nothing (union) ... */
    policy(NS_B, "deny-egress", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}");
    EXPECT_DNS(&bclient, true, 3000);
    /* ... without the DNS rule, names no longer resolve */
    unpolicy(NS_B, "dns-only");
    EXPECT_DNS(&bclient, false, 5000);
    EXPECT(&bclient, false, 2000);
    unpolicy(NS_B, "deny-egress");
    EXPECT(&bclient, true, 3000);
    EXPECT_DNS(&bclient, true, 3000);
}
