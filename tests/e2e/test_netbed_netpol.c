/* test_netbed_netpol.c — NetworkPolicy (networking.k8s.io/v1) between pods
 * on three nodes of the network bed (tests/harness/netbed.h: two on one
 * link, host-gw; a third beyond a router, VXLAN), judged by
 * Kubernetes' semantics as Calico and Cilium users rely on them, not by how
 * the agents enforce them: real servers, agents and containers; TCP
 * connects and DNS lookups made from inside the client pods' network
 * namespaces (a socket made there behaves as the pod's own), same-node and
 * cross-node, by pod IP and through a Service's ClusterIP. Prints how long
 * each policy took to be enforced after it was created. Root only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define SRV_NS "np-srv"
#define CLI_NS "np-cli"
#define NP_API "/apis/networking.k8s.io/v1/namespaces/"
#define PROBE_MS 800u    /* a connect or lookup not answered by then is refused */
#define APPLY_MS 6000u   /* a policy must be enforced on both nodes by then */
/* A change is enforced 120-210 ms after it (the "enforcement" figures);
 * a round of probes with one dropped lasts PROBE_MS, so a first round
 * begun before that is 800 ms lost: expect begins its first this late. */
#define SETTLE_MS 250u
#define MAX_PROBES 40
#define MAX_POLICIES 8

/* Servers: httpd on 8080 (named "http") and 9090 (its listen backlog
 * takes a burst of probes; busybox nc's is 1, and a dropped SYN is only
 * sent again after a second), an echo on 7070. The name "alt" is 7070 on
 * srv-1 and 9090 on srv-2: a named port resolves per destination pod. */
#define SRV_CMD "httpd -p 8080 -h /tmp && httpd -p 9090 -h /tmp && exec nc -ll -p 7070 -e cat"
#define SRV1_PORTS ",\"ports\":[{\"name\":\"http\",\"containerPort\":8080},{\"containerPort\":9090}," \
                   "{\"name\":\"alt\",\"containerPort\":7070}]"
#define SRV2_PORTS ",\"ports\":[{\"name\":\"http\",\"containerPort\":8080},{\"name\":\"alt\"," \
                   "\"containerPort\":9090},{\"containerPort\":7070}]"

enum { S1, S2, A1, A2, U2, C1, D2, F3, W2, N1, NPODS };
#define NREAL W2 /* the pods made at the start; W2 comes later, N1 is node 1 itself */
/* targets that are not pods */
enum { T_SVC = -1, T_GW = -2, T_KDNS = -3, T_API = -4 /* outside the pod network */, T_SVC1 = -5 };
enum { K_TCP, K_DNS };

struct pod {
    const char *ns, *name, *labels;
    int node;
    char ip[32], netns[128];
    int fd; /* its network namespace, open */
};

static struct pod P[NPODS] = {
    [S1] = {SRV_NS, "srv-1", "{\"app\":\"srv\",\"idx\":\"1\"}", 1, "", "", -1},
    [S2] = {SRV_NS, "srv-2", "{\"app\":\"srv\"}", 2, "", "", -1},
    [A1] = {SRV_NS, "cl-1", "{\"role\":\"client\"}", 1, "", "", -1},
    [A2] = {SRV_NS, "cl-2", "{\"role\":\"client\"}", 2, "", "", -1},
    [U2] = {SRV_NS, "un-2", "{}", 2, "", "", -1},
    [C1] = {CLI_NS, "cl-1", "{\"role\":\"client\"}", 1, "", "", -1},
    [D2] = {CLI_NS, "un-2", "{}", 2, "", "", -1},
    /* beyond the router: its traffic to nodes 1 and 2 crosses the VXLAN
     * overlay (auto mode), and keeps its pod address */
    [F3] = {CLI_NS, "cl-3", "{\"role\":\"client\"}", 3, "", "", -1},
    [W2] = {SRV_NS, "late-2", "{\"role\":\"client\"}", 2, "", "", -1},
    [N1] = {"node", "1", NULL, 1, "", "", -1},
};

static struct netbed B;
static int lab_fd = -1;
static char svc_ip[32], svc1_ip[32], kdns_ip[32], gw[4][32], cidr[4][32];
static int failures;

struct probe {
    int from, to, port;
    bool want;
    int kind;
};

static struct {
    char ns[32], name[64];
} policies[MAX_POLICIES];
static int n_policies;

/* ---- the bed's objects ---- */

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&B.c, 0, "POST", path, NULL, body, &resp, NULL);

    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

static json_t *get(const char *path)
{
    int st;
    json_t *j = t_json(&B.c, 0, "GET", path, NULL, &st);

    CHECKF(st == 200 && j, "GET %s: %d", path, st);
    return j;
}

static void close_pod_fds(void *arg)
{
    (void)arg;
    for (int i = 0; i < NPODS; i++)
        if (P[i].fd >= 0) {
            close(P[i].fd);
            P[i].fd = -1;
        }
    if (lab_fd >= 0) close(lab_fd);
    lab_fd = -1;
}

/* The pod's namespace as the agent pins it: orc-<node tag>-<uid prefix>. */
static void pod_netns(struct pod *p)
{
    char path[256], tag[9];
    json_t *j;
    const char *uid;

    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
    j = get(path);
    uid = orc_json_str(j, "metadata.uid");
    CHECKF(uid && strlen(uid) >= 12, "pod %s/%s has no uid", p->ns, p->name);
    orc_name_tag(B.node[p->node].name, tag);
    snprintf(p->netns, sizeof p->netns, "/var/run/netns/orc-%s-%.12s", tag, uid);
    json_decref(j);
    p->fd = open(p->netns, O_RDONLY | O_CLOEXEC);
    CHECKF(p->fd >= 0, "pod %s/%s: no namespace %s", p->ns, p->name, p->netns);
}

/* The node's pod CIDR and its first address (the pods' gateway and DNS). */
static void node_gateway(int i)
{
    char path[256];
    json_t *j;
    const char *c;
    struct in_addr a;
    char *slash;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[i].name);
    j = get(path);
    c = orc_json_str(j, "spec.podCIDR");
    CHECKF(c != NULL, "node %d has no podCIDR", i);
    snprintf(cidr[i], sizeof cidr[i], "%s", c);
    json_decref(j);
    snprintf(gw[i], sizeof gw[i], "%s", cidr[i]);
    slash = strchr(gw[i], '/');
    CHECK(slash != NULL);
    *slash = '\0';
    CHECK(inet_pton(AF_INET, gw[i], &a) == 1);
    a.s_addr = htonl(ntohl(a.s_addr) + 1);
    CHECK(inet_ntop(AF_INET, &a, gw[i], sizeof gw[i]) != NULL);
}

static void setup(void)
{
    netbed_up(&B);
    lab_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    CHECK(lab_fd >= 0);
    test_defer(close_pod_fds, NULL);
    netbed_servers(&B, 1, NULL);
    netbed_registry(&B);
    netbed_router(&B);
    netbed_node_add_on(&B, 0, NULL);
    netbed_node_add_on(&B, 0, NULL);
    netbed_node_add_on(&B, 1, NULL);
    post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" SRV_NS "\",\"labels\":{\"team\":\"srv\"}}}");
    post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"" CLI_NS "\",\"labels\":{\"team\":\"cli\"}}}");
    post("/api/v1/namespaces/" SRV_NS "/services",
         "{\"metadata\":{\"name\":\"srv\"},\"spec\":{\"selector\":{\"app\":\"srv\"},"
         "\"ports\":[{\"name\":\"web\",\"port\":80,\"targetPort\":\"http\"}]}}");
    /* one endpoint (srv-1 on node 1): same-node Service traffic, which
     * the node masquerades, is judged by the client's own address */
    post("/api/v1/namespaces/" SRV_NS "/services",
         "{\"metadata\":{\"name\":\"srv1\"},\"spec\":{\"selector\":{\"idx\":\"1\"},"
         "\"ports\":[{\"name\":\"web\",\"port\":80,\"targetPort\":\"http\"}]}}");
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);
    netbed_node_wait(&B, 3, 20000);
    for (int i = 0; i < NREAL; i++)
        netbed_pod_in(&B, P[i].ns, P[i].node, P[i].name, P[i].labels, i <= S2 ? SRV_CMD : "sleep 3600",
                      i == S1 ? SRV1_PORTS : i == S2 ? SRV2_PORTS : NULL);
    for (int i = 0; i < NREAL; i++) {
        netbed_pod_ip_in(&B, P[i].ns, P[i].name, P[i].ip, sizeof P[i].ip);
        pod_netns(&P[i]);
    }
    snprintf(P[N1].ip, sizeof P[N1].ip, "%s", B.node[1].ip);
    snprintf(P[N1].netns, sizeof P[N1].netns, "/var/run/netns/%s", B.node[1].netns);
    P[N1].fd = open(P[N1].netns, O_RDONLY | O_CLOEXEC);
    CHECKF(P[N1].fd >= 0, "no namespace %s", P[N1].netns);
    node_gateway(1);
    node_gateway(2);
    node_gateway(3);
    json_t *s = get("/api/v1/namespaces/" SRV_NS "/services/srv");
    snprintf(svc_ip, sizeof svc_ip, "%s", orc_json_str(s, "spec.clusterIP") ? orc_json_str(s, "spec.clusterIP") : "");
    json_decref(s);
    s = get("/api/v1/namespaces/" SRV_NS "/services/srv1");
    snprintf(svc1_ip, sizeof svc1_ip, "%s", orc_json_str(s, "spec.clusterIP") ? orc_json_str(s, "spec.clusterIP") : "");
    json_decref(s);
    s = get("/api/v1/namespaces/kube-system/services/kube-dns");
    snprintf(kdns_ip, sizeof kdns_ip, "%s", orc_json_str(s, "spec.clusterIP") ? orc_json_str(s, "spec.clusterIP") : "");
    json_decref(s);
    fprintf(stderr, "# node 1 %s (pods %s), node 2 %s (pods %s), node 3 %s (pods %s); service %s, kube-dns %s\n",
            B.node[1].ip, cidr[1], B.node[2].ip, cidr[2], B.node[3].ip, cidr[3], svc_ip, kdns_ip);
    for (int i = 0; i < NPODS; i++)
        fprintf(stderr, "#   %s/%s on node %d: %s\n", P[i].ns, P[i].name, P[i].node, P[i].ip);
}

/* A merge patch to an object (labels changed under the policies). */
static uint64_t patch(const char *path, const char *body)
{
    char *resp = NULL;
    uint64_t t0 = test_now_ms();
    int st = t_http(&B.c, 0, "PATCH", path, "application/merge-patch+json", body, &resp, NULL);

    CHECKF(st == 200, "PATCH %s: %d %s", path, st, resp ? resp : "");
    free(resp);
    return t0;
}

/* ---- policies ---- */

/* Creates a NetworkPolicy; returns when it was asked (ms). */
static uint64_t np_add(const char *ns, const char *name, const char *spec)
{
    char path[256], body[4096];
    uint64_t t0 = test_now_ms();

    CHECK(n_policies < MAX_POLICIES);
    snprintf(path, sizeof path, NP_API "%s/networkpolicies", ns);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":%s}",
             name, spec);
    post(path, body);
    snprintf(policies[n_policies].ns, sizeof policies[0].ns, "%s", ns);
    snprintf(policies[n_policies].name, sizeof policies[0].name, "%s", name);
    n_policies++;
    return t0;
}

/* Deletes every policy made; returns when the first delete was asked. */
static uint64_t np_clear(void)
{
    char path[512], *resp = NULL;
    uint64_t t0 = test_now_ms();

    for (int i = 0; i < n_policies; i++) {
        snprintf(path, sizeof path, NP_API "%.31s/networkpolicies/%.63s", policies[i].ns, policies[i].name);
        int st = t_http(&B.c, 0, "DELETE", path, NULL, NULL, &resp, NULL);
        CHECKF(st == 200, "DELETE %s: %d %s", path, st, resp ? resp : "");
        free(resp);
        resp = NULL;
    }
    n_policies = 0;
    return t0;
}

/* ---- probes from inside the pods ---- */

static const char *target_ip(const struct probe *p)
{
    switch (p->to) {
    case T_SVC: return svc_ip;
    case T_GW: return gw[P[p->from].node];
    case T_KDNS: return kdns_ip;
    case T_API: return B.c.m[0].ip;
    case T_SVC1: return svc1_ip;
    default: return P[p->to].ip;
    }
}

static const char *target_name(const struct probe *p)
{
    switch (p->to) {
    case T_SVC: return "service srv";
    case T_GW: return "node DNS";
    case T_KDNS: return "kube-dns ClusterIP";
    case T_API: return "the API server (outside)";
    case T_SVC1: return "service srv1 (srv-1 only)";
    default: return P[p->to].name;
    }
}

/* Runs every probe at once; got[i]: connected / answered within PROBE_MS.
 * A lookup asks for kubernetes.default.svc.cluster.local, what the pod's
 * search path makes of `kubernetes.default`. */
static void run_probes(const struct probe *pr, size_t n, bool *got)
{
    struct netbed_probe np[MAX_PROBES];

    CHECK(n <= MAX_PROBES);
    for (size_t i = 0; i < n; i++)
        np[i] = (struct netbed_probe){.ns_fd = P[pr[i].from].fd, .ip = target_ip(&pr[i]), .port = pr[i].port,
                                      .dns_name = pr[i].kind == K_DNS ? "kubernetes.default.svc.cluster.local" : NULL};
    netbed_probe_run(np, n, lab_fd, PROBE_MS);
    for (size_t i = 0; i < n; i++) got[i] = np[i].got;
}

static void describe(const struct probe *p, bool got, char *out, size_t n)
{
    snprintf(out, n, "  %s/%s (node %d) -> %s%s %s:%d %s, want %s\n", P[p->from].ns, P[p->from].name,
             P[p->from].node, p->kind == K_DNS ? "lookup via " : "", target_name(p), target_ip(p), p->port,
             got ? (p->kind == K_DNS ? "answered" : "connected") : "refused",
             p->want ? "allowed" : "refused");
}

/* Probes until every one gets what it wants (then: ms since t0), or fails
 * the case later naming each mismatch after limit_ms (then: -1). */
static long expect(const char *what, const struct probe *pr, size_t n, uint64_t t0, unsigned limit_ms)
{
    bool got[MAX_PROBES];
    char msg[8192];

    if (test_now_ms() < t0 + SETTLE_MS) test_sleep_ms((unsigned)(t0 + SETTLE_MS - test_now_ms()));
    for (;;) {
        uint64_t start = test_now_ms();
        size_t bad = 0, off = 0;
        run_probes(pr, n, got);
        for (size_t i = 0; i < n; i++)
            if (got[i] != pr[i].want) {
                bad++;
                describe(&pr[i], got[i], msg + off, sizeof msg - off);
                off += strlen(msg + off);
            }
        if (bad == 0) {
            long ms = (long)(start - t0);
            fprintf(stderr, "# %s: all %zu probes as wanted (the run began %ld ms after the change)\n", what, n, ms);
            return ms;
        }
        if (test_now_ms() - t0 >= limit_ms) {
            test_fail_later("%s: %zu of %zu probes not as wanted %u ms after the change:\n%s", what, bad, n,
                            limit_ms, msg);
            failures++;
            return -1;
        }
        test_sleep_ms(50);
    }
}

#define EXPECT(what, t0, ...)                                                   \
    do {                                                                        \
        static const struct probe pr_[] = {__VA_ARGS__};                        \
        expect(what, pr_, sizeof pr_ / sizeof *pr_, t0, APPLY_MS);              \
    } while (0)

/* from, to, port, want */
#define OK(f, t, p) {f, t, p, true, K_TCP}
#define NO(f, t, p) {f, t, p, false, K_TCP}
#define DNS_OK(f, t) {f, t, 53, true, K_DNS}
#define DNS_NO(f, t) {f, t, 53, false, K_DNS}

/* Everything connects: no policy (case 1), and after each case. */
static const struct probe baseline[] = {
    OK(A1, S1, 8080), OK(A1, S2, 8080), OK(A2, S1, 8080), OK(U2, S2, 8080), OK(U2, S1, 9090),
    OK(C1, S1, 8080), OK(C1, S2, 8080), OK(C1, S2, 9090), OK(D2, S1, 8080), OK(D2, S2, 7070),
    OK(A1, T_SVC, 80), OK(C1, T_SVC, 80), OK(D2, T_SVC, 80), DNS_OK(C1, T_GW), DNS_OK(D2, T_GW),
    DNS_OK(C1, T_KDNS), OK(F3, S1, 8080), OK(F3, S2, 9090), DNS_OK(F3, T_GW), OK(C1, T_API, 6443),
    OK(D2, T_API, 6443), OK(A1, T_SVC1, 80), OK(C1, T_SVC1, 80), OK(U2, T_SVC1, 80),
};

static long reset(const char *what)
{
    uint64_t t0 = np_clear();
    return expect(what, baseline, sizeof baseline / sizeof *baseline, t0, APPLY_MS);
}

/* When connects from `from` to `to`:port start to get `allow` (ms after
 * t0; -1: not within APPLY_MS), to within 50 ms (netbed_first_flip). */
static long first_flip(int from, int to, int port, bool allow, uint64_t t0, unsigned limit_ms)
{
    struct probe p = OK(from, to, port);
    return netbed_first_flip(P[from].fd, lab_fd, target_ip(&p), port, allow, t0, limit_ms, PROBE_MS);
}

/* Prints the figure for docs/BENCHMARKS.md. */
static void print_flip(const char *what, long ms)
{
    if (ms >= 0) fprintf(stderr, "# enforcement: %s after %ld ms\n", what, ms);
    else fprintf(stderr, "# enforcement: %s: not within %u ms\n", what, APPLY_MS);
}

/* Which of the pods has the lowest address. */
static int lowest(const int *idx, size_t n)
{
    int best = idx[0];
    uint32_t lo = UINT32_MAX;

    for (size_t i = 0; i < n; i++) {
        struct in_addr a;
        CHECK(inet_pton(AF_INET, P[idx[i]].ip, &a) == 1);
        if (ntohl(a.s_addr) < lo) {
            lo = ntohl(a.s_addr);
            best = idx[i];
        }
    }
    return best;
}

/* ---- an established connection (case 9) ---- */

static bool echo_once(int s, const char *line)
{
    struct pollfd pf = {.fd = s, .events = POLLIN};
    char buf[16];
    size_t len = strlen(line);

    if (send(s, line, len, MSG_NOSIGNAL) != (ssize_t)len) return false;
    if (poll(&pf, 1, 1000) != 1) return false;
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    return n == (ssize_t)len && memcmp(buf, line, len) == 0;
}

/* A connection from `from` to the echo port of `to`, open and answering;
 * -1 when it cannot be made. */
static int echo_open(int from, int to)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7070)};
    struct pollfd pf;
    int s = netbed_ns_socket(P[from].fd, lab_fd, SOCK_STREAM), err = 0;
    socklen_t len = sizeof err;
    bool ok;

    CHECK(inet_pton(AF_INET, P[to].ip, &sa.sin_addr) == 1);
    ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (!ok && errno == EINPROGRESS) {
        pf = (struct pollfd){.fd = s, .events = POLLOUT};
        ok = poll(&pf, 1, 2000) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
    if (ok && echo_once(s, "a\n")) return s;
    close(s);
    return -1;
}

/* ---- the cases, one bed ---- */

TEST_T(network_policies_between_pods_across_nodes, 300)
{
    uint64_t t0;
    char spec[1024];

    setup();

    /* 1. no policy: everything connects, same node and across, by pod IP
     * and ClusterIP, and names resolve (the pods may still be starting) */
    expect("1 no policy", baseline, sizeof baseline / sizeof *baseline, test_now_ms(), 30000);

    /* 2. default deny ingress in the server namespace; 9. a connection
     * made before it */
    int est = echo_open(C1, S2);
    CHECKF(est >= 0, "no echo connection from %s/%s to %s", P[C1].ns, P[C1].name, P[S2].ip);
    t0 = np_add(SRV_NS, "deny-all", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}");
    print_flip("a default-deny ingress policy refused a cross-node connect",
               first_flip(C1, S2, 8080, false, t0, APPLY_MS));
    {
        static const struct probe pr[] = {
            NO(A1, S1, 8080), NO(A1, S2, 8080), NO(U2, S2, 8080), NO(U2, S1, 9090), NO(C1, S2, 8080),
            NO(C1, S1, 8080), NO(D2, S1, 8080), NO(D2, S2, 7070), NO(C1, T_SVC, 80), NO(A2, T_SVC, 80),
            NO(F3, S2, 8080), NO(F3, S1, 9090),
            /* the node's own traffic to its pods (probes) passes, as with Calico */
            OK(N1, S1, 8080),
            /* ingress only: the server namespace's own egress is free */
            DNS_OK(A1, T_GW), DNS_OK(U2, T_GW), OK(C1, T_GW, 53),
        };
        expect("2 default deny ingress", pr, sizeof pr / sizeof *pr, t0, APPLY_MS);
    }
    bool survived = echo_once(est, "b\n");
    fprintf(stderr, "# 9: a connection established before the deny policy %s\n",
            survived ? "still works (conntrack: established flows are accepted)" : "was cut");
    close(est);
    if (!survived) {
        test_fail_later("9: the connection established before the deny policy should survive");
        failures++;
    }
    reset("2 cleared");

    /* 3. allow from podSelector role=client: any node, this namespace only;
     * a policy selecting the pods isolates them by itself */
    t0 = np_add(SRV_NS, "allow-client",
                "{\"podSelector\":{\"matchLabels\":{\"app\":\"srv\"}},"
                "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"role\":\"client\"}}}]}]}");
    EXPECT("3 podSelector", t0, OK(A1, T_SVC1, 80), OK(A2, T_SVC1, 80), NO(C1, T_SVC1, 80), NO(U2, T_SVC1, 80),
           OK(A1, S2, 8080), OK(A2, S1, 8080), OK(A1, S1, 8080), OK(A2, S2, 9090),
           OK(A2, T_SVC, 80), NO(U2, S1, 8080), NO(U2, S2, 8080), NO(U2, T_SVC, 80), NO(C1, S2, 8080),
           NO(C1, S1, 8080), NO(D2, S1, 8080), NO(F3, S2, 8080));
    /* a pod made after the policy is let in once it has an address */
    netbed_pod_in(&B, P[W2].ns, P[W2].node, P[W2].name, P[W2].labels, "sleep 3600", NULL);
    netbed_pod_ip_in(&B, P[W2].ns, P[W2].name, P[W2].ip, sizeof P[W2].ip);
    pod_netns(&P[W2]);
    EXPECT("3 a new pod", test_now_ms(), OK(W2, S1, 8080), OK(W2, S2, 9090), OK(W2, T_SVC1, 80));
    /* a pod labelled afterwards is let in, and out again when unlabelled */
    t0 = patch("/api/v1/namespaces/" SRV_NS "/pods/un-2", "{\"metadata\":{\"labels\":{\"role\":\"client\"}}}");
    print_flip("a client pod labelled role=client got through", first_flip(U2, S1, 8080, true, t0, APPLY_MS));
    EXPECT("3 pod relabelled", t0, OK(U2, S1, 8080), OK(U2, S2, 8080), OK(U2, T_SVC, 80), NO(D2, S1, 8080));
    t0 = patch("/api/v1/namespaces/" SRV_NS "/pods/un-2", "{\"metadata\":{\"labels\":{\"role\":null}}}");
    EXPECT("3 pod label removed", t0, NO(U2, S1, 8080), NO(U2, S2, 8080), OK(A2, S1, 8080));
    /* a server no longer selected by the policy is open again */
    t0 = patch("/api/v1/namespaces/" SRV_NS "/pods/srv-1", "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}");
    EXPECT("3 server unselected", t0, OK(U2, S1, 8080), OK(D2, S1, 9090), OK(C1, T_SVC1, 80), NO(U2, S2, 8080));
    t0 = patch("/api/v1/namespaces/" SRV_NS "/pods/srv-1", "{\"metadata\":{\"labels\":{\"app\":\"srv\"}}}");
    EXPECT("3 server selected again", t0, NO(U2, S1, 8080), NO(D2, S1, 9090), OK(A2, S1, 8080));
    /* the policy itself changed: its peers are replaced */
    t0 = patch("/apis/networking.k8s.io/v1/namespaces/" SRV_NS "/networkpolicies/allow-client",
               "{\"spec\":{\"ingress\":[{\"from\":[{\"podSelector\":{}}]}]}}");
    EXPECT("3 policy changed", t0, OK(U2, S1, 8080), OK(A1, S2, 8080), NO(C1, S2, 8080), NO(D2, S1, 8080));
    reset("3 cleared");

    /* 4a. namespaceSelector AND podSelector in one peer */
    np_add(SRV_NS, "deny-all", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}");
    t0 = np_add(SRV_NS, "allow-and",
                "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchExpressions\":"
                "[{\"key\":\"team\",\"operator\":\"In\",\"values\":[\"cli\"]}]},"
                "\"podSelector\":{\"matchLabels\":{\"role\":\"client\"}}}]}]}");
    EXPECT("4a namespaceSelector AND podSelector", t0, OK(C1, S2, 8080), OK(C1, S1, 8080), OK(C1, T_SVC, 80),
           OK(C1, T_SVC1, 80), NO(A1, T_SVC1, 80), NO(D2, T_SVC1, 80),
           OK(F3, S1, 8080), OK(F3, S2, 9090), OK(F3, T_SVC, 80),
           NO(D2, S1, 8080), NO(D2, S2, 8080), NO(A1, S2, 8080), NO(A2, S1, 8080), NO(U2, S2, 8080));
    /* namespace labels count as they are now: the servers' namespace
     * relabelled team=cli lets its own role=client pods in */
    t0 = patch("/api/v1/namespaces/" SRV_NS, "{\"metadata\":{\"labels\":{\"team\":\"cli\"}}}");
    EXPECT("4a namespace relabelled", t0, OK(A1, S2, 8080), OK(A2, S1, 8080), NO(U2, S1, 8080), OK(C1, S2, 8080));
    t0 = patch("/api/v1/namespaces/" SRV_NS, "{\"metadata\":{\"labels\":{\"team\":\"srv\"}}}");
    EXPECT("4a namespace label back", t0, NO(A1, S2, 8080), NO(A2, S1, 8080), OK(C1, S2, 8080));
    reset("4a cleared");

    /* 4b. the same selectors in two peers: OR */
    np_add(SRV_NS, "deny-all", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}");
    t0 = np_add(SRV_NS, "allow-or",
                "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":"
                "{\"team\":\"cli\"}}},{\"podSelector\":{\"matchLabels\":{\"role\":\"client\"}}}]}]}");
    EXPECT("4b namespaceSelector OR podSelector", t0, OK(C1, S2, 8080), OK(D2, S1, 8080), OK(D2, S2, 8080),
           OK(A1, S2, 8080), OK(A2, S1, 8080), OK(F3, S2, 8080), NO(U2, S1, 8080), NO(U2, S2, 8080),
           NO(U2, T_SVC, 80));
    reset("4b cleared");

    /* 5a. ipBlock: node 2's pod CIDR except its lowest client address
     * (so the allowed ones are above the /32: it must end where it starts) */
    {
        static const int on2[] = {A2, U2, D2}, all[] = {A1, A2, U2, C1, D2, F3};
        int ex = lowest(on2, 3), one = lowest(all, 6);
        struct probe pr[16];
        size_t n = 0;
        snprintf(spec, sizeof spec,
                 "{\"podSelector\":{\"matchLabels\":{\"app\":\"srv\"}},\"policyTypes\":[\"Ingress\"],"
                 "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"%s\",\"except\":[\"%s/32\"]}}]}]}",
                 cidr[2], P[ex].ip);
        t0 = np_add(SRV_NS, "allow-block", spec);
        for (size_t i = 0; i < 3; i++) {
            pr[n++] = (struct probe){on2[i], S1, 8080, on2[i] != ex, K_TCP};
            pr[n++] = (struct probe){on2[i], S2, 9090, on2[i] != ex, K_TCP};
        }
        pr[n++] = (struct probe)NO(C1, S2, 8080);
        pr[n++] = (struct probe)NO(A1, S1, 8080);
        pr[n++] = (struct probe)NO(F3, S2, 8080);
        expect("5a ipBlock with except", pr, n, t0, APPLY_MS);
        reset("5a cleared");

        /* 5b. ipBlock of one address: the lowest client's, nobody else's */
        snprintf(spec, sizeof spec,
                 "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"%s/32\"}}]}]}",
                 P[one].ip);
        t0 = np_add(SRV_NS, "allow-one", spec);
        n = 0;
        for (size_t i = 0; i < 6; i++) {
            pr[n++] = (struct probe){all[i], S1, 8080, all[i] == one, K_TCP};
            pr[n++] = (struct probe){all[i], S2, 8080, all[i] == one, K_TCP};
        }
        expect("5b ipBlock of one address", pr, n, t0, APPLY_MS);
        reset("5b cleared");
    }

    /* 6a. a numbered port (and UDP on another, which leaves its TCP shut) */
    t0 = np_add(SRV_NS, "allow-9090",
                "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"protocol\":\"TCP\",\"port\":9090},"
                "{\"protocol\":\"UDP\",\"port\":8080}]}]}");
    EXPECT("6a numbered port", t0, OK(C1, S2, 9090), OK(U2, S2, 9090), OK(A1, S1, 9090), NO(C1, S2, 8080),
           NO(A1, S1, 8080), NO(D2, S1, 7070), NO(C1, T_SVC, 80));
    reset("6a cleared");

    /* 6b. a named port: the container's "http" (8080), also through the
     * Service (judged after its DNAT) */
    t0 = np_add(SRV_NS, "allow-http", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}");
    EXPECT("6b named port", t0, OK(C1, S2, 8080), OK(D2, S1, 8080), OK(U2, S2, 8080), OK(C1, T_SVC, 80),
           NO(C1, S2, 9090), NO(D2, S1, 9090), NO(A1, S1, 7070));
    reset("6b cleared");

    /* 6c. a range: 9000-9100 */
    t0 = np_add(SRV_NS, "allow-range",
                "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"protocol\":\"TCP\",\"port\":9000,"
                "\"endPort\":9100}]}]}");
    EXPECT("6c endPort range", t0, OK(C1, S2, 9090), OK(A2, S1, 9090), OK(U2, S2, 9090), NO(C1, S2, 8080),
           NO(D2, S2, 7070), NO(A1, S1, 8080));
    reset("6c cleared");

    /* 6d. a named port that is a different number on each server */
    t0 = np_add(SRV_NS, "allow-alt", "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"alt\"}]}]}");
    EXPECT("6d named port per pod", t0, OK(C1, S1, 7070), OK(C1, S2, 9090), NO(C1, S1, 9090), NO(C1, S2, 7070),
           NO(D2, S1, 8080), OK(D2, S1, 7070), OK(A1, S2, 9090));
    reset("6d cleared");

    /* 6e. selector corners: matchExpressions DoesNotExist picks srv-2
     * alone; an empty namespaceSelector is every namespace */
    t0 = np_add(SRV_NS, "corner-sel",
                "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"idx\",\"operator\":\"DoesNotExist\"}]},"
                "\"ingress\":[{\"from\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":"
                "{\"role\":\"client\"}}}]}]}");
    EXPECT("6e DoesNotExist, namespaceSelector {}", t0, OK(C1, S2, 8080), OK(A1, S2, 8080), OK(F3, S2, 9090),
           NO(D2, S2, 8080), NO(U2, S2, 8080), OK(D2, S1, 8080), OK(U2, S1, 8080), OK(U2, T_SVC1, 80));
    reset("6e cleared");

    /* 6f. egress to podSelector {} is this namespace's pods only (not
     * DNS, not outside); ingress rules under policyTypes [Egress] do not
     * isolate for ingress */
    t0 = np_add(SRV_NS, "corner-egress",
                "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"podSelector\":{}}]}],"
                "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"nobody\":\"x\"}}}]}]}");
    EXPECT("6f egress within the namespace", t0, OK(A1, S2, 8080), OK(U2, S1, 9090), OK(A2, T_SVC1, 80),
           DNS_NO(A1, T_GW), NO(A1, T_API, 6443), NO(U2, T_API, 6443), OK(C1, S2, 8080), OK(D2, S1, 7070));
    reset("6f cleared");

    /* 7a. default deny egress in the client namespace: no connects, no
     * names; the server namespace is not affected */
    t0 = np_add(CLI_NS, "deny-egress", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}");
    print_flip("a default-deny egress policy refused a cross-node connect",
               first_flip(D2, S1, 8080, false, t0, APPLY_MS));
    EXPECT("7a default deny egress", t0, NO(C1, S2, 8080), NO(C1, S1, 8080), NO(D2, S1, 8080),
           NO(D2, S2, 9090), NO(C1, T_SVC, 80), DNS_NO(C1, T_GW), DNS_NO(D2, T_GW), DNS_NO(C1, T_KDNS),
           NO(C1, T_API, 6443), NO(D2, T_API, 6443),
           NO(C1, T_GW, 53), NO(F3, S2, 8080), DNS_NO(F3, T_GW), OK(A1, S2, 8080), DNS_OK(A1, T_GW),
           OK(U2, T_SVC, 80));

    /* 7b. DNS allowed to the kube-dns pods: names resolve, connects don't */
    t0 = np_add(CLI_NS, "allow-dns",
                "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"namespaceSelector\":"
                "{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"kube-system\"}},\"podSelector\":"
                "{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],\"ports\":[{\"protocol\":\"UDP\",\"port\":53},"
                "{\"protocol\":\"TCP\",\"port\":53}]}]}");
    EXPECT("7b egress to kube-dns", t0, DNS_OK(C1, T_GW), DNS_OK(D2, T_GW), DNS_OK(C1, T_KDNS),
           OK(C1, T_GW, 53), DNS_OK(F3, T_GW), NO(C1, S2, 8080), NO(C1, S1, 8080), NO(D2, S1, 8080),
           NO(C1, T_SVC, 80), NO(F3, S1, 8080));

    /* the pod's own resolver (its resolv.conf), as a program in it sees it;
     * busybox nslookup does not walk the search path, hence the full name */
    if (run_have_kubectl()) {
        static const char *const w[] = {"exec", "-n", CLI_NS, "cl-1", "--", "busybox", "nslookup",
                                        "kubernetes.default.svc.cluster.local", NULL};
        char *out = NULL, *err = NULL;
        int rc = run_kubectl(&B.c, &out, &err, w);
        if (rc != 0 || !strstr(out, "10.43.0.1")) {
            test_fail_later("7b: `kubectl exec cl-1 -- nslookup kubernetes.default.svc.cluster.local` in %s: exit %d\n%s%s", CLI_NS,
                            rc, out, err);
            failures++;
        }
        free(out);
        free(err);
    }

    /* 7c. and to the servers' named port, for role=client only */
    t0 = np_add(CLI_NS, "allow-srv",
                "{\"podSelector\":{\"matchLabels\":{\"role\":\"client\"}},\"policyTypes\":[\"Egress\"],"
                "\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"srv\"}},"
                "\"podSelector\":{\"matchLabels\":{\"app\":\"srv\"}}}],\"ports\":[{\"port\":\"http\"}]}]}");
    print_flip("an egress allow let a cross-node connect through",
               first_flip(C1, S2, 8080, true, t0, APPLY_MS));
    EXPECT("7c egress to the servers", t0, OK(C1, S2, 8080), OK(C1, S1, 8080), OK(C1, T_SVC, 80),
           OK(F3, S1, 8080), OK(F3, S2, 8080), NO(F3, S2, 9090),
           DNS_OK(C1, T_GW), NO(C1, S2, 9090), NO(D2, S1, 8080), NO(D2, T_SVC, 80), DNS_OK(D2, T_GW));

    /* 7d. egress to an address outside the cluster by ipBlock (the lab's
     * API server; masqueraded after the policy judged the pod's address) */
    t0 = np_add(CLI_NS, "allow-lab",
                "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":"
                "{\"cidr\":\"10.99.0.0/16\"}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":6443}]}]}");
    EXPECT("7d egress ipBlock outside", t0, OK(C1, T_API, 6443), OK(D2, T_API, 6443), OK(F3, T_API, 6443),
           NO(D2, S1, 8080), OK(C1, S2, 8080), DNS_OK(D2, T_GW));

    /* 7e. both ends must allow: the servers' namespace denying ingress
     * wins over the clients' egress allow */
    t0 = np_add(SRV_NS, "deny-all", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}");
    EXPECT("7e egress allowed, ingress denied", t0, NO(C1, S2, 8080), NO(C1, S1, 8080), NO(F3, S1, 8080),
           NO(C1, T_SVC, 80), OK(C1, T_API, 6443), DNS_OK(C1, T_GW));

    /* 8. deleting every policy restores everything */
    t0 = np_clear();
    print_flip("deleting the policies let a cross-node connect through",
               first_flip(D2, S1, 8080, true, t0, APPLY_MS));
    expect("8 all policies deleted", baseline, sizeof baseline / sizeof *baseline, t0, APPLY_MS);

    /* 10. an agent restart: the policy holds while the agent is down and
     * after it is back (netpol leaves its table when the agent stops), and
     * the restarted agent follows changes again */
    t0 = np_add(SRV_NS, "deny-all", "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"]}");
    EXPECT("10 default deny before the restart", t0, NO(C1, S2, 8080), NO(A1, S1, 8080));
    netbed_agent_stop(&B, 2);
    EXPECT("10 agent 2 down", test_now_ms(), NO(C1, S2, 8080), NO(U2, S2, 9090), NO(A1, S1, 8080));
    netbed_agent_start(&B, 2);
    t0 = test_now_ms();
    np_clear();
    {
        static const struct probe pr[] = {OK(C1, S2, 8080), OK(U2, S2, 9090), OK(A1, S1, 8080)};
        /* the restarted agent registers and lists everything first */
        long ms = expect("10 deleted after agent 2 restarted", pr, sizeof pr / sizeof *pr, t0, 30000);
        if (ms >= 0) fprintf(stderr, "# 10: agent 2 restarted and applied the delete %ld ms after its start\n", ms);
    }
    CHECKF(failures == 0, "%d of the cases above failed (see above)", failures);
}
