/* test_cluster_dns.c — the embedded agent's cluster DNS: a Service created
 * through the API resolves on the pods' gateway address, port 53, within
 * seconds, and stops resolving once deleted; other names are forwarded to
 * --resolv-conf's upstreams (a dead one here: SERVFAIL); a pod gets the
 * kubelet's resolv.conf and /etc/hosts and resolves the Service from
 * inside and gets the Services' environment variables; kube-system/kube-dns
 * exists. Needs root (the pod network's bridge holds the gateway
 * address). */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <sys/socket.h>

#include "tests/e2e/wlfx.h"

static void delete_pods_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

/* The pod's log once it holds `want`, or the test fails. */
static char *wait_log(const char *pod, const char *want, unsigned ms)
{
    char path[256], *log = NULL;
    uint64_t end = test_now_ms() + ms;
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/log", pod);
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

/* One UDP query to ip:53; the answer's rcode and first A (or "") in *a;
 * -1 when nothing came back within 3 s. */
static int ask(const char *ip, const char *name, char *a, size_t n)
{
    ldns_pkt *q = NULL, *r = NULL;
    uint8_t *w, buf[4096];
    size_t wl;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    struct timeval tv = {3, 0}; /* above the resolver's 2 s upstream timeout */
    CHECK(fd >= 0);
    inet_pton(AF_INET, ip, &to.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(ldns_pkt_query_new_frm_str(&q, name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD) == LDNS_STATUS_OK);
    CHECK(ldns_pkt2wire(&w, q, &wl) == LDNS_STATUS_OK);
    ldns_pkt_free(q);
    ssize_t got = sendto(fd, w, wl, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)wl
                      ? recv(fd, buf, sizeof buf, 0) : -1;
    free(w);
    close(fd);
    a[0] = '\0';
    if (got > 0 && ldns_wire2pkt(&r, buf, (size_t)got) == LDNS_STATUS_OK) {
        rc = ldns_pkt_get_rcode(r);
        ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
        char *s = rr ? ldns_rdf2str(ldns_rr_rdf(rr, 0)) : NULL;
        snprintf(a, n, "%s", s ? s : "");
        free(s);
        ldns_pkt_free(r);
    }
    return rc;
}

static void wait_answer(const char *gw, const char *name, int rcode, const char *want, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    char got[256];
    int rc;
    while ((rc = ask(gw, name, got, sizeof got)) != rcode || strcmp(got, want) != 0) {
        if (test_now_ms() >= end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "%s: rcode %d \"%s\", want %d \"%s\"", name, rc, got, rcode, want);
        }
        usleep(100 * 1000);
    }
}

TEST_T(service_resolves_on_the_gateway, 90)
{
    static char cidr[32], resolv[600];
    char body[512], *resp = NULL, path[256], gw[32];
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));
    const char *extra[] = {"--node-name", node, "--cluster-cidr", cidr, "--resolv-conf", resolv, NULL};

    if (geteuid() != 0) {
        printf("# needs root: skipped\n");
        return;
    }
    fx_setup(true, false); /* the registry with the test image (busybox) */
    wl_init("dns", delete_pods_at_end);
    snprintf(resolv, sizeof resolv, "%s/resolv.conf", test_tmpdir());
    FILE *f = fopen(resolv, "w");
    CHECK(f != NULL);
    fputs("nameserver 127.0.53.9\n", f); /* nothing listens there */
    fclose(f);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    json_t *n = wl_get(path);
    const char *pc = orc_json_str(n, "spec.podCIDR");
    CHECK(pc != NULL);
    unsigned a, b, c2, d;
    CHECK(sscanf(pc, "%u.%u.%u.%u", &a, &b, &c2, &d) == 4);
    snprintf(gw, sizeof gw, "%u.%u.%u.%u", a, b, c2, d + 1);
    json_decref(n);

    snprintf(body, sizeof body, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
                                "\"spec\":{\"clusterIP\":\"10.43.7.7\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}");
    int st = t_http(&C, 0, "POST", "/api/v1/namespaces/default/services", NULL, body, &resp, NULL);
    CHECKF(st == 201, "create service: %d %s", st, resp ? resp : "");
    free(resp);
    /* the resolver starts once the node has its pod network */
    wait_answer(gw, "web.default.svc.cluster.local.", LDNS_RCODE_NOERROR, "10.43.7.7", 20000);
    CHECK_INT(ask(gw, "www.example.org.", body, sizeof body), ==, LDNS_RCODE_SERVFAIL);

    /* kube-system/kube-dns exists for the manifests and tools that look for
     * it, at the service range's tenth address, and resolves itself */
    json_t *kd = wl_get("/api/v1/namespaces/kube-system/services/kube-dns");
    CHECK_STR(orc_json_str(kd, "spec.clusterIP"), "10.43.0.10");
    CHECK_STR(orc_json_str(kd, "metadata.labels.k8s-app"), "kube-dns");
    CHECK_INT(json_array_size(orc_json_get(kd, "spec.ports")), ==, 2);
    json_decref(kd);
    wait_answer(gw, "kube-dns.kube-system.svc.cluster.local.", LDNS_RCODE_NOERROR, "10.43.0.10", 5000);

    /* a pod: the kubelet's resolv.conf, and the Service by its short name
     * through the search path (busybox nslookup) */
    char pod[1024];
    snprintf(pod, sizeof pod,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"client\"},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"cat /etc/resolv.conf /etc/hosts; env | grep SERVICE_HOST; "
             "while true; do nslookup web.default.svc.cluster.local %s && echo RESOLVED; sleep 0.5; done\"]}]}}",
             node, F.image, gw);
    st = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, pod, &resp, NULL);
    CHECKF(st == 201, "create pod: %d %s", st, resp ? resp : "");
    free(resp);
    char want[256];
    snprintf(want, sizeof want, "nameserver %s\nsearch default.svc.cluster.local svc.cluster.local cluster.local", gw);
    char *log = wait_log("client", want, 30000);
    CHECKF(strstr(log, "options ndots:5") != NULL, "%s", log);
    /* the Services' environment variables, as the kubelet gives them */
    CHECKF(strstr(log, "WEB_SERVICE_HOST=10.43.7.7") && strstr(log, "KUBERNETES_SERVICE_HOST=10.43.0.1"), "%s", log);
    json_t *pj = wl_get("/api/v1/namespaces/default/pods/client");
    const char *pip = orc_json_str(pj, "status.podIP");
    char hosts_line[128];
    snprintf(hosts_line, sizeof hosts_line, "%s\tclient\n", pip ? pip : "?");
    CHECKF(strstr(log, "# Kubernetes-managed hosts file.") && strstr(log, hosts_line), "%s", log);
    json_decref(pj);
    free(log);
    log = wait_log("client", "RESOLVED", 15000);
    CHECKF(strstr(log, "10.43.7.7") != NULL, "%s", log);
    free(log);
    wl_del("/api/v1/namespaces/default/services/web");
    wait_answer(gw, "web.default.svc.cluster.local.", LDNS_RCODE_NXDOMAIN, "", 5000);
}
