/* test_incluster.c — a client inside a pod reaches the API as its
 * ServiceAccount, with no kubeconfig: the host's stock kubectl (client-go,
 * a static Go binary) mounted by a hostPath volume into a busybox pod uses
 * its in-cluster config (KUBERNETES_SERVICE_HOST/PORT, the token and
 * ca.crt at /var/run/secrets/kubernetes.io/serviceaccount) through the
 * kubernetes Service, whose endpoint is this single-machine member's
 * loopback address. It lists its own namespace's pods (view bound there),
 * is Forbidden elsewhere in Kubernetes' words, `auth whoami` names the
 * account, and a pod without the token gets nowhere. Then, as an attacker
 * who can route 127/8 out of its pod (NET_ADMIN in its own netns), a pod
 * reaches the API only through the Service: not the member's API or Raft
 * port directly, not a loopback listener of the test's. Needs root. */
#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/hash.h"
#include "tests/e2e/wlfx.h"

#define KUBECTL_BIN "/usr/lib/google-cloud-sdk/bin/kubectl"
#define NS "incl"

static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {NS, "other", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

/* The pod's log once it holds `want`, or the test fails (the log shown). */
static char *wait_log(const char *pod, const char *want, unsigned ms)
{
    char path[256], *log = NULL;
    uint64_t end = test_now_ms() + ms;
    snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/pods/%s/log", pod);
    for (;;) {
        free(log);
        log = NULL;
        int st = t_http(&C, 0, "GET", path, NULL, NULL, &log, NULL);
        if (st == 200 && log && strstr(log, want)) return log;
        if (test_now_ms() >= end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "pod %s: no \"%s\" in its log: %s", pod, want, log ? log : "");
        }
        usleep(200 * 1000);
    }
}

/* The text of the log between "==NAME" and the next "==RC n" line, and n. */
static char *section(const char *log, const char *name, int *rc)
{
    char mark[64];
    snprintf(mark, sizeof mark, "==%s\n", name);
    const char *a = strstr(log, mark);
    CHECKF(a != NULL, "no %s in:\n%s", mark, log);
    a += strlen(mark);
    const char *b = strstr(a, "==RC ");
    CHECKF(b != NULL, "no ==RC after %s in:\n%s", mark, log);
    *rc = atoi(b + 5);
    return strndup(a, (size_t)(b - a));
}

static void write_manifest(const char *path)
{
    /* the script: each kubectl run framed so the test can read them apart */
    static const char script[] =
        "export HOME=/tmp; "
        "echo ==GET; kubectl get pods 2>&1; echo \\\"==RC $?\\\"; "
        "echo ==OTHER; kubectl get pods -n other 2>&1; echo \\\"==RC $?\\\"; "
        "echo ==WHOAMI; kubectl auth whoami 2>&1; echo \\\"==RC $?\\\"; "
        "echo ==DONE; sleep 3600";
    static const char notoken[] =
        "export HOME=/tmp; ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1; "
        "echo ==GET; kubectl get pods 2>&1; echo \\\"==RC $?\\\"; echo ==DONE; sleep 3600";
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f,
            "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" NS "\"}},"
            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"other\"}},"
            "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
            "\"metadata\":{\"name\":\"reader\",\"namespace\":\"" NS "\"}},"
            "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\","
            "\"metadata\":{\"name\":\"reader-view\",\"namespace\":\"" NS "\"},"
            "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"view\"},"
            "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"reader\",\"namespace\":\"" NS "\"}]}]}\n");
    fclose(f);
    char pods[700];
    snprintf(pods, sizeof pods, "%s.pods", path);
    f = fopen(pods, "w");
    CHECK(f != NULL);
    const char *pod_fmt =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS "\"},"
        "\"spec\":{\"nodeName\":\"%s\",\"serviceAccountName\":\"reader\",%s\"terminationGracePeriodSeconds\":1,"
        "\"volumes\":[{\"name\":\"kubectl\",\"hostPath\":{\"path\":\"" KUBECTL_BIN "\",\"type\":\"File\"}}],"
        "\"containers\":[{\"name\":\"c\",\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"],"
        "\"volumeMounts\":[{\"name\":\"kubectl\",\"mountPath\":\"/bin/kubectl\",\"readOnly\":true}]}]}}";
    fprintf(f, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    fprintf(f, pod_fmt, "kubectl", node, "", F.image, script);
    fprintf(f, ",");
    fprintf(f, pod_fmt, "notoken", node, "\"automountServiceAccountToken\":false,", F.image, notoken);
    fprintf(f, ",{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"attacker\",\"namespace\":\"" NS "\"},"
               "\"spec\":{\"nodeName\":\"%s\",\"automountServiceAccountToken\":false,"
               "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\","
               "\"command\":[\"sleep\",\"3600\"]}]}}]}\n",
            node, F.image);
    fclose(f);
}

static void apply(const char *path)
{
    char *out = NULL, *err = NULL;
    int rc = run_kubectl(&C, &out, &err, (const char *const[]){"apply", "-f", path, NULL});
    CHECKF(rc == 0, "kubectl apply -f %s: %d\n%s\n%s", path, rc, out, err);
    free(out);
    free(err);
}

/* A listener on a loopback address (any port) that nothing in a pod may
 * reach. */
static int loopback_listener(const char *ip, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    CHECK(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Whether a TCP connection from network namespace `netns` to ip:port is
 * made within 3 s (bash's /dev/tcp, so nothing but iproute2 and bash). */
static bool connects_from(const char *netns, const char *ip, int port)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ip netns exec %s timeout 3 bash -c 'exec 3<>/dev/tcp/%s/%d' 2>/dev/null", netns, ip,
             port);
    char *argv[] = {"sh", "-c", cmd, NULL};
    return t_run(argv, NULL) == 0;
}

/* Makes the pod's netns send 127/8 to its gateway, as a pod with
 * NET_ADMIN could: its own loopback address gone, route_localnet on. */
static void route_loopback_out(const char *netns, const char *gw)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "ip netns exec %s sh -c 'ip addr del 127.0.0.1/8 dev lo && sysctl -qw net.ipv4.conf.all.route_localnet=1 "
             "&& sysctl -qw net.ipv4.conf.eth0.route_localnet=1 && ip route add 127.0.0.0/8 via %s dev eth0'",
             netns, gw);
    char *argv[] = {"sh", "-c", cmd, NULL};
    CHECKF(t_run(argv, NULL) == 0, "%s", cmd);
}

static void check_kubectl_pod(void)
{
    char *log = wait_log("kubectl", "==DONE", 60000);
    int rc;
    char *get = section(log, "GET", &rc);
    CHECKF(rc == 0 && strstr(get, "NAME") && strstr(get, "kubectl ") && strstr(get, "notoken"),
           "kubectl get pods in the pod (exit %d):\n%s", rc, get);
    char *other = section(log, "OTHER", &rc);
    CHECKF(rc != 0 && strstr(other, "Error from server (Forbidden): pods is forbidden: User "
                                    "\"system:serviceaccount:" NS ":reader\" cannot list resource \"pods\" "
                                    "in API group \"\" in the namespace \"other\""),
           "kubectl get pods -n other in the pod (exit %d):\n%s", rc, other);
    char *who = section(log, "WHOAMI", &rc);
    CHECKF(rc == 0 && strstr(who, "system:serviceaccount:" NS ":reader") &&
               strstr(who, "system:serviceaccounts:" NS),
           "kubectl auth whoami in the pod (exit %d):\n%s", rc, who);
    free(get);
    free(other);
    free(who);
    free(log);
}

static void check_notoken_pod(void)
{
    char *log = wait_log("notoken", "==DONE", 30000);
    int rc;
    CHECKF(strstr(log, "No such file or directory") != NULL, "a token directory in a pod without one:\n%s", log);
    char *get = section(log, "GET", &rc);
    CHECKF(rc != 0 && !strstr(get, "kubectl "), "kubectl without a token (exit %d):\n%s", rc, get);
    free(get);
    free(log);
}

/* Services whose endpoints someone wrote by hand on the node's loopback:
 * the proxy's rules DNAT to them, and its 127/8 drop must stop that; one
 * named kubernetes in another namespace gets no exception either. */
static void loopback_services(int listen_port, int member_port)
{
    char path[700];
    snprintf(path, sizeof path, "%s/sneaky.json", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    const char *svc = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"" NS
                      "\"},\"spec\":{\"ports\":[{\"name\":\"https\",\"port\":443}]}},"
                      "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
                      "\"%s-1\",\"namespace\":\"" NS "\",\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},"
                      "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"https\",\"port\":%d,\"protocol\":\"TCP\"}],"
                      "\"endpoints\":[{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true}}]}";
    fprintf(f, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
    fprintf(f, svc, "kubernetes", "kubernetes", "kubernetes", listen_port, "127.0.0.1");
    fprintf(f, ",");
    fprintf(f, svc, "member", "member", "member", member_port, C.m[0].ip);
    fprintf(f, "]}\n");
    fclose(f);
    apply(path);
}

/* Waits until the node's proxy table DNATs to ip:port. */
static void wait_dnat_to(const char *ip, int port)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "nft list table ip orc-proxy 2>/dev/null | grep -q 'dnat to %s:%d$'", ip, port);
    char *argv[] = {"sh", "-c", cmd, NULL};
    for (int i = 0; i < 100; i++) {
        if (t_run(argv, NULL) == 0) return;
        usleep(100 * 1000);
    }
    wl_dump_log();
    CHECKF(false, "the proxy has no rule to %s:%d", ip, port);
}

static const char *cluster_ip(const char *name)
{
    static char ip[2][32];
    static int which;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/services/%s", name);
    json_t *s = wl_get(path);
    const char *v = orc_json_str(s, "spec.clusterIP");
    CHECKF(v != NULL, "service %s has no clusterIP", name);
    which ^= 1;
    snprintf(ip[which], sizeof ip[which], "%s", v);
    json_decref(s);
    return ip[which];
}

/* The kubernetes Service's address: the first of this cluster's own
 * service range (other tests' agents on this machine use 10.43.0.0/16). */
static char api_ip[32];

/* Whether a connection reached the test's listener (the proof, rather
 * than a connect that something else may have answered). */
static bool listener_reached(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, 200) != 1) return false;
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0) close(c);
    return true;
}

static void check_attacker(int listen_port, int lfd, int member_port, int mfd)
{
    char path[256], netns[64], tag[9], gw[32];
    snprintf(path, sizeof path, "/api/v1/namespaces/" NS "/pods/attacker");
    json_t *p = wl_get(path);
    const char *uid = orc_json_str(p, "metadata.uid"), *ip = orc_json_str(p, "status.podIP");
    CHECK(uid && ip);
    unsigned a, b, c, d;
    CHECK(sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
    snprintf(gw, sizeof gw, "%u.%u.%u.1", a, b, c); /* the bridge: the pod CIDR's first address */
    orc_name_tag(node, tag);
    snprintf(netns, sizeof netns, "orc-%s-%.12s", tag, uid);
    json_decref(p);
    /* as the pod is: the Service reachable, 127/8 is its own loopback */
    CHECKF(connects_from(netns, api_ip, 443), "pod %s cannot reach the kubernetes Service", netns);
    /* through Services someone pointed at loopback: DNATed, then dropped */
    loopback_services(listen_port, member_port);
    wait_dnat_to("127.0.0.1", listen_port);
    wait_dnat_to(C.m[0].ip, member_port);
    connects_from(netns, cluster_ip("kubernetes"), 443);
    CHECKF(!listener_reached(lfd), "a pod reached 127.0.0.1:%d through " NS "/kubernetes", listen_port);
    /* (a connect is no proof here: with no rule, the packet leaves by the
     * default route, where a transparent proxy may answer; the listeners
     * say whether anything arrived) */
    connects_from(netns, cluster_ip("member"), 443);
    CHECKF(!listener_reached(mfd), "a pod reached %s:%d through a Service", C.m[0].ip, member_port);
    route_loopback_out(netns, gw);
    CHECKF(connects_from(netns, api_ip, 443), "the Service is unreachable once 127/8 is routed out");
    connects_from(netns, "127.0.0.1", listen_port);
    CHECKF(!listener_reached(lfd), "a pod reached the test's 127.0.0.1:%d", listen_port);
    CHECKF(!connects_from(netns, C.m[0].ip, 6444), "a pod reached the member's Raft port %s:6444", C.m[0].ip);
    CHECKF(!connects_from(netns, C.m[0].ip, 6443), "a pod reached the member's API port %s:6443 directly",
           C.m[0].ip);
    connects_from(netns, C.m[0].ip, member_port);
    CHECKF(!listener_reached(mfd), "a pod reached %s:%d", C.m[0].ip, member_port);
}

TEST_T(a_pod_lists_its_namespace_with_its_serviceaccount_and_nothing_else_on_loopback, 150)
{
    static char cidr[32], svc_cidr[32];
    char manifest[600], pods[700];
    if (geteuid() != 0 || access(KUBECTL_BIN, X_OK) != 0 || !run_have_kubectl()) {
        printf("# needs root and %s: skipped\n", KUBECTL_BIN);
        return;
    }
    snprintf(cidr, sizeof cidr, "10.%d.0.0/17", 100 + (int)(getpid() % 150));
    /* a service range of its own: several tests' agents share this
     * machine's proxy table, and 10.43.0.1 may be another cluster's */
    snprintf(svc_cidr, sizeof svc_cidr, "10.%d.128.0/20", 100 + (int)(getpid() % 150));
    snprintf(api_ip, sizeof api_ip, "10.%d.128.1", 100 + (int)(getpid() % 150));
    const char *extra[] = {"--node-name", node, "--cluster-cidr", cidr, "--service-cidr", svc_cidr,
                           "--controllers", "*", NULL};
    int listen_port, lfd, member_port, mfd;
    fx_setup(true, false); /* the registry with the test image (busybox) */
    wl_init("incl", delete_pods_at_end);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    lfd = loopback_listener("127.0.0.1", &listen_port);
    mfd = loopback_listener(C.m[0].ip, &member_port);
    snprintf(manifest, sizeof manifest, "%s/setup.json", test_tmpdir());
    write_manifest(manifest);
    apply(manifest);
    /* the pods' volume needs kube-root-ca.crt in the namespace */
    bool root_ca = false;
    for (int i = 0; i < 100 && !root_ca; i++) {
        json_t *cm = wl_get("/api/v1/namespaces/" NS "/configmaps/kube-root-ca.crt");
        json_decref(cm);
        if (!(root_ca = cm != NULL)) usleep(100 * 1000);
    }
    CHECKF(root_ca, "kube-root-ca.crt was not published in " NS);
    snprintf(pods, sizeof pods, "%s.pods", manifest);
    apply(pods);
    check_kubectl_pod();
    check_notoken_pod();
    check_attacker(listen_port, lfd, member_port, mfd);
    close(lfd);
    close(mfd);
}
