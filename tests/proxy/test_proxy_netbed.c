/* test_proxy_netbed.c — the Service proxy end to end on the network test
 * bed (two nodes, real servers, agents, containers): a client pod on node
 * 1 reaches three replicas on both nodes through a ClusterIP, spread over
 * all of them; the NodePort and a LoadBalancer's port answer from the lab
 * on every node's address;
 * the lab reaches ClusterIPs through node 1 (a route the test adds): a
 * Service without endpoints is refused at once, session affinity keeps one
 * replica; externalTrafficPolicy Local answers from each node's own
 * replicas with the client's address kept (Cluster masquerades it); a pod
 * reaches itself through its Service (hairpin); a replica being deleted
 * leaves the rotation while it still runs; kube-dns's ClusterIP answers
 * from the node's resolver; node 1's agent stopped leaves traffic flowing, and restarted it
 * resyncs (a Service deleted meanwhile is gone); a deleted Service's rules
 * go within about a second; --service-proxy off removes the table. Root
 * only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"
#define SVCS "/api/v1/namespaces/default/services"
#define NODE_PORT 30580

static struct netbed B;

/* busybox httpd answering "host=<hostname> from=<client>" on /cgi-bin/h,
 * port 8080 (SERVE_BG: in the background, for a pod that also asks) */
#define SERVE_SETUP                                                                                \
    "mkdir -p /tmp/www/cgi-bin && printf '#!/bin/sh\\\\necho Content-Type: text/plain\\\\necho\\\\n" \
    "echo host=$(hostname) from=$REMOTE_ADDR\\\\n' > /tmp/www/cgi-bin/h && "                       \
    "busybox chmod 755 /tmp/www/cgi-bin/h && "
#define SERVE SERVE_SETUP "exec httpd -f -p 8080 -h /tmp/www"
#define SERVE_BG SERVE_SETUP "httpd -p 8080 -h /tmp/www; "
/* one request with nc (busybox's static wget cannot resolve port names) */
#define GET "get() { printf 'GET /cgi-bin/h HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 $2 | grep host=; }; "

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&B.c, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

static void pod_on(int node, const char *name, const char *app, const char *cmd)
{
    char labels[128];
    snprintf(labels, sizeof labels, "{\"app\":\"%s\"}", app);
    netbed_pod(&B, node, name, labels, cmd, NULL);
}

/* Creates a Service selecting app=`app`; returns its clusterIP in ip. */
static void service(const char *name, const char *app, const char *extra, char *ip, size_t n)
{
    char body[1024], path[256], np[32] = "";
    static int next_port = NODE_PORT;
    int st;
    if (strstr(extra, "NodePort")) snprintf(np, sizeof np, ",\"nodePort\":%d", next_port++);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\"},\"spec\":{"
             "\"selector\":{\"app\":\"%s\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080%s}]%s}}",
             name, app, np, extra);
    post(SVCS, body);
    snprintf(path, sizeof path, SVCS "/%s", name);
    json_t *s = t_json(&B.c, 0, "GET", path, NULL, &st);
    const char *cip = orc_json_str(s, "spec.clusterIP");
    CHECKF(cip && *cip, "service %s has no clusterIP", name);
    snprintf(ip, n, "%s", cip);
    json_decref(s);
}

/* node i's `nft list table ip orc-proxy` (malloc'd; "" when absent) */
static char *rules_of(int i)
{
    char *argv[] = {"nft", "list", "table", "ip", "orc-proxy", NULL}, *out = NULL;
    if (netbed_run(&B, i, argv, &out) != 0) {
        free(out);
        return strdup("");
    }
    return out ? out : strdup("");
}

/* Waits until node i's rules hold (want true) or lack `needle`; ms taken. */
static uint64_t wait_rules(int i, const char *needle, bool want, unsigned limit_ms)
{
    uint64_t t0 = test_now_ms();
    for (;;) {
        char *r = rules_of(i);
        bool has = strstr(r, needle) != NULL;
        if (has == want) {
            free(r);
            return test_now_ms() - t0;
        }
        if (test_now_ms() - t0 > limit_ms) {
            test_fail(__FILE__, __LINE__, "node %d: \"%s\" %s after %u ms (log %s):\n%s", i, needle,
                      want ? "missing" : "still there", limit_ms, B.node[i].log, r);
        }
        free(r);
        test_sleep_ms(20);
    }
}

/* Waits until node i's rules hold n chains whose line has both `kind` and
 * `what` (e.g. the endpoint chains of one service port). */
static void wait_count(int i, const char *kind, const char *what, size_t n, unsigned limit_ms)
{
    uint64_t end = test_now_ms() + limit_ms;
    for (;;) {
        char *r = rules_of(i), *save = NULL;
        size_t got = 0;
        for (char *l = strtok_r(r, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            if (strstr(l, kind) && strstr(l, what)) got++;
        free(r);
        if (got == n) return;
        CHECKF(test_now_ms() < end, "node %d: %zu chains %s…%s, want %zu (log %s)", i, got, kind, what, n,
               B.node[i].log);
        test_sleep_ms(20);
    }
}

/* One HTTP request from the test process (in the lab) to ip:port: 0, the
 * answering host in host and (unless from is NULL) the client address the
 * replica saw in from; or -errno. */
static int lab_get_from(const char *ip, int port, char *host, size_t n, char *from, size_t fn)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {3, 0};
    char buf[2048];
    size_t len = 0;
    ssize_t got;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;
    static const char req[] = "GET /cgi-bin/h HTTP/1.0\r\n\r\n";

    CHECK(fd >= 0);
    host[0] = '\0';
    if (from) from[0] = '\0';
    inet_pton(AF_INET, ip, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) rc = -errno;
    else if (write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1) rc = -EIO;
    while (rc == 0 && len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = '\0';
    const char *h = strstr(buf, "host="), *f = strstr(buf, "from=");
    if (rc == 0 && (!h || (from && !f))) return -EPROTO;
    if (rc == 0) {
        snprintf(host, n, "%.*s", (int)strcspn(h + 5, " \r\n"), h + 5);
        if (from) snprintf(from, fn, "%.*s", (int)strcspn(f + 5, " \r\n"), f + 5);
    }
    return rc;
}

static int lab_get(const char *ip, int port, char *host, size_t n)
{
    return lab_get_from(ip, port, host, n, NULL, 0);
}

static void lab_get_ok(const char *ip, int port, char *host, size_t n, unsigned limit_ms)
{
    uint64_t end = test_now_ms() + limit_ms;
    int rc;
    while ((rc = lab_get(ip, port, host, n)) != 0) {
        CHECKF(test_now_ms() < end, "%s:%d from the lab: %s (logs %s %s)", ip, port, strerror(-rc),
               B.node[1].log, B.node[2].log);
        test_sleep_ms(200);
    }
}

static void wait_running(const char *name)
{
    char path[256];
    uint64_t end = test_now_ms() + 60000;
    int st;
    snprintf(path, sizeof path, PODS "/%s", name);
    for (;;) {
        json_t *p = t_json(&B.c, 0, "GET", path, NULL, &st);
        const char *phase = orc_json_str(p, "status.phase");
        bool ok = phase && strcmp(phase, "Running") == 0;
        json_decref(p);
        if (ok) return;
        CHECKF(test_now_ms() < end, "pod %s not running (logs %s, %s)", name, B.node[1].log, B.node[2].log);
        test_sleep_ms(100);
    }
}

static char *wait_log(const char *name, const char *want, unsigned limit_ms)
{
    return netbed_pod_log(&B, name, want, 0, limit_ms);
}

/* The lab bridge's address (the test process), as busybox httpd shows it. */
static bool is_lab(const char *from)
{
    return strcmp(from, "10.99.0.1") == 0 || strcmp(from, "[::ffff:10.99.0.1]") == 0;
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* The kube-dns Service's clusterIP: made as the lead's bootstrap makes it
 * (kube-system, k8s-app: kube-dns, no selector) when it is not there. */
static void kube_dns(char *ip, size_t n)
{
    const char *body = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"kube-dns\","
                       "\"namespace\":\"kube-system\",\"labels\":{\"k8s-app\":\"kube-dns\"}},\"spec\":{\"ports\":["
                       "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},{\"name\":\"dns-tcp\",\"port\":53,"
                       "\"protocol\":\"TCP\"}]}}";
    char *resp = NULL;
    int st = t_http(&B.c, 0, "POST", "/api/v1/namespaces/kube-system/services", NULL, body, &resp, NULL);
    CHECKF(st == 201 || st == 409, "POST kube-dns: %d %s", st, resp ? resp : "");
    free(resp);
    json_t *s = t_json(&B.c, 0, "GET", "/api/v1/namespaces/kube-system/services/kube-dns", NULL, &st);
    const char *cip = orc_json_str(s, "spec.clusterIP");
    CHECKF(cip && *cip, "kube-dns has no clusterIP");
    snprintf(ip, n, "%s", cip);
    json_decref(s);
}

static void bed_up(void)
{
    netbed_up(&B);
    netbed_servers(&B, 1, NULL);
    netbed_registry(&B);
    netbed_node_add(&B, NULL);
    netbed_node_add(&B, NULL);
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);
    /* the lab reaches the ClusterIPs through node 1 */
    char *argv[] = {"ip", "route", "add", "10.43.0.0/16", "via", B.node[1].ip, NULL};
    CHECK_INT(netbed_run(&B, -1, argv, NULL), ==, 0);
}

TEST_T(cluster_ip_node_port_affinity_reject_restart, 150)
{
    char web[32], sticky[32], empty[32], host[128], first[128], cmd[1024], *resp = NULL;
    if (geteuid() != 0) {
        printf("# needs root: skipped\n");
        return;
    }
    bed_up();
    pod_on(1, "web-a", "web", SERVE);
    pod_on(2, "web-b", "web", SERVE);
    pod_on(2, "web-c", "web", SERVE);
    service("web", "web", ",\"type\":\"NodePort\"", web, sizeof web);
    service("sticky", "web", ",\"sessionAffinity\":\"ClientIP\"", sticky, sizeof sticky);
    service("empty", "nothing", "", empty, sizeof empty);
    wait_running("web-a");
    wait_running("web-b");
    wait_running("web-c");
    /* every replica is an endpoint on node 1 before the client starts */
    wait_count(1, "chain endpoint-", "default/web/tcp/http__", 3, 30000);

    /* a client pod on node 1: 30 requests through the ClusterIP */
    snprintf(cmd, sizeof cmd,
             GET "until get %s 80 >/dev/null; do sleep 0.2; done; "
                 "for i in $(seq 1 30); do get %s 80; done; echo DONE; sleep 3600",
             web, web);
    pod_on(1, "client", "client", cmd);
    char *log = wait_log("client", "DONE", 60000);
    size_t a = count(log, "host=web-a"), b = count(log, "host=web-b"), c = count(log, "host=web-c");
    fprintf(stderr, "# through %s: web-a %zu, web-b %zu, web-c %zu of 30\n", web, a, b, c);
    CHECKF(a + b + c == 30 && a && b && c, "requests not spread over every replica: %s", log);
    free(log);

    /* the NodePort from the lab, on every node's address */
    lab_get_ok(B.node[1].ip, NODE_PORT, host, sizeof host, 10000);
    lab_get_ok(B.node[2].ip, NODE_PORT, host, sizeof host, 10000);
    /* a LoadBalancer: its port on every node's address once the servicelb
     * controller lists them in status.loadBalancer.ingress */
    post(SVCS, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"lb\"},\"spec\":{"
               "\"type\":\"LoadBalancer\",\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\","
               "\"port\":8088,\"targetPort\":8080}]}}");
    lab_get_ok(B.node[1].ip, 8088, host, sizeof host, 20000);
    lab_get_ok(B.node[2].ip, 8088, host, sizeof host, 10000);

    /* the ClusterIP from the lab through node 1 (masqueraded there) */
    lab_get_ok(web, 80, host, sizeof host, 10000);

    /* no endpoint: refused at once, not a hang */
    uint64_t end = test_now_ms() + 10000;
    while (lab_get(empty, 80, host, sizeof host) != -ECONNREFUSED)
        CHECKF(test_now_ms() < end, "%s without endpoints is not refused", empty);
    uint64_t t0 = test_now_ms();
    CHECK_INT(lab_get(empty, 80, host, sizeof host), ==, -ECONNREFUSED);
    CHECK_INT(test_now_ms() - t0, <, 1000);

    /* session affinity: one replica for one client */
    lab_get_ok(sticky, 80, first, sizeof first, 10000);
    for (int i = 0; i < 10; i++) {
        lab_get_ok(sticky, 80, host, sizeof host, 5000);
        CHECKF(strcmp(host, first) == 0, "affinity: %s then %s", first, host);
    }

    /* externalTrafficPolicy Local: each node's own replicas, the lab's
     * address kept (busybox httpd shows IPv4 peers as [::ffff:a.b.c.d]) */
    char local[32], from[64];
    service("local", "web", ",\"type\":\"NodePort\",\"externalTrafficPolicy\":\"Local\"", local, sizeof local);
    lab_get_ok(B.node[1].ip, NODE_PORT + 1, host, sizeof host, 10000);
    lab_get_ok(B.node[2].ip, NODE_PORT + 1, host, sizeof host, 10000);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(lab_get_from(B.node[1].ip, NODE_PORT + 1, host, sizeof host, from, sizeof from), ==, 0);
        CHECKF(strcmp(host, "web-a") == 0, "node 1 sent Local traffic to %s", host);
        CHECKF(is_lab(from), "the client address was not kept: %s", from);
        CHECK_INT(lab_get_from(B.node[2].ip, NODE_PORT + 1, host, sizeof host, from, sizeof from), ==, 0);
        CHECKF(strcmp(host, "web-b") == 0 || strcmp(host, "web-c") == 0, "node 2 sent Local traffic to %s", host);
        CHECKF(is_lab(from), "the client address was not kept: %s", from);
    }
    /* Cluster (web): masqueraded to the node's address */
    CHECK_INT(lab_get_from(B.node[1].ip, NODE_PORT, host, sizeof host, from, sizeof from), ==, 0);
    CHECKF(!is_lab(from), "Cluster traffic kept the client address: %s", from);

    /* hairpin: a pod reaching itself through its own Service */
    char hp[32];
    service("hairpin", "hairpin", "", hp, sizeof hp);
    snprintf(cmd, sizeof cmd, SERVE_BG GET "until get %s 80; do sleep 0.2; done; echo HAIRPIN-OK; sleep 3600", hp);
    pod_on(1, "hairpin", "hairpin", cmd);
    log = wait_log("hairpin", "HAIRPIN-OK", 60000);
    CHECKF(strstr(log, "host=hairpin") != NULL, "%s", log);
    free(log);

    /* a replica being deleted leaves the rotation while it still runs: its
     * endpoint turns terminating (not ready) and the proxy drops it */
    char dip[32], needle[64], path[256];
    pod_on(2, "web-d", "web", SERVE_BG "trap 'sleep 60' TERM; while true; do sleep 1; done");
    wait_running("web-d");
    int st = 0;
    json_t *pj = t_json(&B.c, 0, "GET", PODS "/web-d", NULL, &st);
    snprintf(dip, sizeof dip, "%s", orc_json_str(pj, "status.podIP") ? orc_json_str(pj, "status.podIP") : "?");
    json_decref(pj);
    snprintf(needle, sizeof needle, "default/web/tcp/http__%s/8080", dip);
    wait_rules(1, needle, true, 20000);
    t0 = test_now_ms();
    CHECK_INT(t_http(&B.c, 0, "DELETE", PODS "/web-d?gracePeriodSeconds=30", NULL, NULL, &resp, NULL), ==, 200);
    free(resp);
    wait_rules(1, needle, false, 5000);
    fprintf(stderr, "# a deleted replica out of the rotation in %llu ms\n", (unsigned long long)(test_now_ms() - t0));
    snprintf(path, sizeof path, PODS "/web-d");
    pj = t_json(&B.c, 0, "GET", path, NULL, &st);
    CHECKF(st == 200 && orc_json_get(pj, "metadata.deletionTimestamp"), "web-d should still be terminating (%d)", st);
    json_decref(pj);

    /* kube-dns's ClusterIP reaches the node's own resolver (created here
     * unless the server made it at bootstrap) */
    char dns_ip[32];
    kube_dns(dns_ip, sizeof dns_ip);
    snprintf(cmd, sizeof cmd, "until nslookup web.default.svc.cluster.local %s | grep -q '%s'; do sleep 0.3; done; "
                              "echo DNS-OK; sleep 3600", dns_ip, web);
    pod_on(2, "dnsq", "dnsq", cmd);
    log = wait_log("dnsq", "DNS-OK", 60000);
    free(log);

    /* node 1's agent stopped: its rules stay, traffic flows; a Service
     * deleted meanwhile is gone once it is back */
    netbed_agent_stop(&B, 1);
    lab_get_ok(web, 80, host, sizeof host, 3000);
    lab_get_ok(B.node[1].ip, NODE_PORT, host, sizeof host, 3000);
    CHECK_INT(t_http(&B.c, 0, "DELETE", SVCS "/empty", NULL, NULL, &resp, NULL), ==, 200);
    free(resp);
    char *r = rules_of(1);
    char empty_elem[64];
    snprintf(empty_elem, sizeof empty_elem, "%s . tcp . 80 : goto reject-chain", empty);
    CHECKF(strstr(r, empty_elem) != NULL, "rules after the agent stopped:\n%s", r);
    free(r);
    netbed_agent_start(&B, 1);
    fprintf(stderr, "# restarted agent resynced in %llu ms\n",
            (unsigned long long)wait_rules(1, empty_elem, false, 20000));
    r = rules_of(1);
    CHECK(strstr(r, "default/web/tcp/http") != NULL);
    CHECK(strstr(r, "default/sticky/tcp/http") != NULL);
    free(r);
    lab_get_ok(web, 80, host, sizeof host, 3000);

    /* a deleted Service's rules go within about a second */
    t0 = test_now_ms();
    CHECK_INT(t_http(&B.c, 0, "DELETE", SVCS "/web", NULL, NULL, &resp, NULL), ==, 200);
    free(resp);
    wait_rules(1, "default/web/", false, 5000);
    uint64_t gone1 = test_now_ms() - t0;
    wait_rules(2, "default/web/", false, 5000);
    uint64_t gone2 = test_now_ms() - t0;
    fprintf(stderr, "# deleted Service's rules gone: node 1 %llu ms, node 2 %llu ms\n", (unsigned long long)gone1,
            (unsigned long long)gone2);
    CHECK_INT(gone2, <, 2000); /* a second, with slack for a loaded machine */

    /* --service-proxy off removes the table */
    netbed_agent_stop(&B, 2);
    B.node[2].extra[0] = "--service-proxy";
    B.node[2].extra[1] = "off";
    netbed_agent_start(&B, 2);
    wait_rules(2, "table ip orc-proxy", false, 20000);
}
