/* test_netbed_cni.c — `orcd agent --cni-conf-dir` on two nodes of the
 * network bed (tests/harness/netbed.h) with Debian's plugins (bridge,
 * host-local without a subnet: each node's pod CIDR is filled in, portmap,
 * loopback): pods get their node's addresses and reach each other across
 * the nodes (orc's host-gw routes) without NAT, a hostPort answers from
 * outside the nodes, cluster DNS answers on the CNI bridge's gateway, a
 * deleted pod's address and veth are released (also when it was deleted
 * while its agent was down), and a configuration naming a missing plugin
 * shows as the pod's event and waiting reason. The CNI bridges live inside the node namespaces and
 * host-local's files in the case's directory: nothing touches the host.
 * Real servers, agents, containers; root only. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"

static struct netbed B;
static char conf_dir[3][600], ipam_dir[3][600];

static void write_conf(int node, const char *plugin)
{
    char text[1500], path[700];

    snprintf(text, sizeof text,
             "{\"cniVersion\":\"1.0.0\",\"name\":\"orc-bed\",\"plugins\":["
             "{\"type\":\"%s\",\"bridge\":\"cni0\",\"isGateway\":true,\"isDefaultGateway\":true,\"hairpinMode\":true,"
             "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\"}},"
             "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}",
             plugin, ipam_dir[node]);
    snprintf(path, sizeof path, "%s/10-orc.conflist", conf_dir[node]);
    CHECK(orc_file_write(path, text, strlen(text), 0644) == 0);
}

static void prepare_node(int node)
{
    snprintf(conf_dir[node], sizeof conf_dir[node], "%s/cni%d/net.d", test_tmpdir(), node);
    snprintf(ipam_dir[node], sizeof ipam_dir[node], "%s/cni%d/ipam", test_tmpdir(), node);
    CHECK(orc_mkdirs(conf_dir[node], 0755) == 0);
    write_conf(node, "bridge");
}

static void pod_on_ports(int node, const char *name, const char *cmd, const char *ports)
{
    char extra[1024];
    snprintf(extra, sizeof extra, ",\"ports\":[%s]", ports);
    netbed_pod(&B, node, name, NULL, cmd, extra);
}

static void pod_on(int node, const char *name, const char *cmd) { pod_on_ports(node, name, cmd, ""); }

/* GET /cgi-bin/ip from the lab (the test process is in it): the answer. */
static int lab_get(const char *ip, int port, char *out, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {2, 0};
    static const char req[] = "GET /cgi-bin/ip HTTP/1.0\r\n\r\n";
    int s = socket(AF_INET, SOCK_STREAM, 0), rv = -1;
    size_t got = 0;
    ssize_t k;

    if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1) goto out;
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) goto out;
    if (write(s, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) goto out;
    while (got + 1 < n && (k = read(s, out + got, n - 1 - got)) > 0) got += (size_t)k;
    out[got] = '\0';
    rv = strstr(out, "from=") ? 0 : -1;
out:
    if (s >= 0) close(s);
    return rv;
}

static void pod_ip(const char *name, char *out, size_t n) { netbed_pod_ip(&B, name, out, n); }

static char *wait_log(const char *name, const char *want, unsigned limit_ms)
{
    return netbed_pod_log(&B, name, want, 0, limit_ms);
}

/* The node's pod CIDR's first three octets ("10.42.1."). */
static void cidr_prefix(int node, char *out, size_t n)
{
    char path[256];
    int st;
    json_t *j;
    const char *c;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[node].name);
    j = t_json(&B.c, 0, "GET", path, NULL, &st);
    c = orc_json_str(j, "spec.podCIDR");
    CHECK(c != NULL && strlen(c) < n);
    snprintf(out, n, "%s", c);
    *(strrchr(out, '.') + 1) = '\0';
    json_decref(j);
}

static bool ipam_has(int node, const char *ip)
{
    char path[800];

    snprintf(path, sizeof path, "%s/orc-bed/%s", ipam_dir[node], ip);
    return access(path, F_OK) == 0;
}

static int veths_on(int node)
{
    char *argv[] = {"ip", "-o", "link", "show", "master", "cni0", NULL}, *out = NULL;
    int n = 0;

    if (netbed_run(&B, node, argv, &out) == 0 && out)
        for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++) n++;
    free(out);
    return n;
}

/* Waits for an event of the pod with this reason; returns its message. */
static char *wait_event(const char *pod, const char *reason, unsigned limit_ms)
{
    uint64_t end = test_now_ms() + limit_ms;
    int st;

    for (;;) {
        json_t *l = t_json(&B.c, 0, "GET", "/api/v1/namespaces/default/events", NULL, &st), *e;
        size_t i;
        json_array_foreach(json_object_get(l, "items"), i, e) {
            const char *r = orc_json_str(e, "reason"), *o = orc_json_str(e, "involvedObject.name");
            if (r && o && strcmp(r, reason) == 0 && strcmp(o, pod) == 0) {
                char *m = strdup(orc_json_str(e, "message") ?: "");
                json_decref(l);
                return m;
            }
        }
        json_decref(l);
        CHECKF(test_now_ms() < end, "no %s event for pod %s in %u ms (log %s)", reason, pod,
               limit_ms, B.node[1].log);
        test_sleep_ms(200);
    }
}

TEST_T(cni_pods_across_nodes_dns_release_and_errors, 120)
{
    static const char *extra1[] = {"--cni-conf-dir", conf_dir[1], NULL};
    static const char *extra2[] = {"--cni-conf-dir", conf_dir[2], NULL};
    char srv[32], cli[32], p1[32], p2[32], cmd[1024], want[128], *log, *msg, path[256];
    char reply[1024] = "";
    int st;

    netbed_up(&B);
    netbed_servers(&B, 1, NULL);
    netbed_registry(&B);
    prepare_node(1);
    prepare_node(2);
    netbed_node_add(&B, extra1);
    netbed_node_add(&B, extra2);
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);
    cidr_prefix(1, p1, sizeof p1);
    cidr_prefix(2, p2, sizeof p2);

    pod_on_ports(2, "srv", "mkdir -p /tmp/www/cgi-bin && printf '#!/bin/sh\\\\necho Content-Type: "
                     "text/plain\\\\necho\\\\necho from=$REMOTE_ADDR\\\\n' > /tmp/www/cgi-bin/ip && "
                     "busybox chmod 755 /tmp/www/cgi-bin/ip && exec httpd -f -p 8080 -h /tmp/www",
                 "{\"containerPort\":8080,\"hostPort\":30080}");
    pod_ip("srv", srv, sizeof srv);
    CHECKF(strncmp(srv, p2, strlen(p2)) == 0, "pod on node 2 got %s, not from %s0/24", srv, p2);
    CHECK(ipam_has(2, srv));
    /* its hostPort on node 2's address, from outside the nodes (portmap) */
    for (uint64_t end = test_now_ms() + 20000; lab_get(B.node[2].ip, 30080, reply, sizeof reply) != 0;) {
        CHECKF(test_now_ms() < end, "hostPort 30080 on %s does not answer: %s", B.node[2].ip, reply);
        test_sleep_ms(200);
    }
    snprintf(cmd, sizeof cmd,
             "cat /etc/resolv.conf; "
             "get() { printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 $2 | grep from=; }; "
             "for i in $(seq 1 40); do get %s 8080 && break; sleep 0.5; done; "
             "for i in $(seq 1 40); do nslookup kubernetes.default.svc.cluster.local && echo RESOLVED "
             "&& break; sleep 0.5; done; sleep 3600",
             srv);
    pod_on(1, "cli", cmd);
    pod_ip("cli", cli, sizeof cli);
    CHECKF(strncmp(cli, p1, strlen(p1)) == 0, "pod on node 1 got %s, not from %s0/24", cli, p1);
    CHECK(ipam_has(1, cli));
    CHECK_INT(veths_on(1), ==, 1);
    /* across nodes, no NAT: the server saw the client pod's own address */
    snprintf(want, sizeof want, "from=[::ffff:%s]\n", cli);
    log = wait_log("cli", "from=", 40000);
    if (!strstr(log, want)) snprintf(want, sizeof want, "from=%s\n", cli);
    CHECKF(strstr(log, want) != NULL, "the server pod saw %s, want %s", log, want);
    fprintf(stderr, "# client %s on node 1, server %s on node 2 (hostPort 30080 on %s)\n", cli, srv,
            B.node[2].ip);
    /* cluster DNS on the CNI bridge's gateway */
    snprintf(want, sizeof want, "nameserver %s1\n", p1);
    CHECKF(strstr(log, want) != NULL, "resolv.conf should name %s: %s", want, log);
    free(log);
    log = wait_log("cli", "RESOLVED", 30000);
    CHECKF(strstr(log, "10.43.0.1") != NULL, "kubernetes.default resolved to: %s", log);
    free(log);

    /* a deleted pod's address and veth are released */
    snprintf(path, sizeof path, PODS "/cli");
    st = t_http(&B.c, 0, "DELETE", path, NULL, NULL, NULL, NULL);
    CHECK_INT(st, ==, 200);
    for (uint64_t end = test_now_ms() + 20000; ipam_has(1, cli) || veths_on(1) != 0;) {
        CHECKF(test_now_ms() < end, "pod cli's address %s or veth not released (log %s)", cli,
               B.node[1].log);
        test_sleep_ms(200);
    }

    /* an agent restart: a pod deleted meanwhile is released by the new
     * agent (its cached ADD), the other keeps its address */
    char keep[32], gone[32];
    pod_on(1, "keep", "sleep 3600");
    pod_on(1, "gone", "sleep 3600");
    pod_ip("keep", keep, sizeof keep);
    pod_ip("gone", gone, sizeof gone);
    CHECK(ipam_has(1, keep) && ipam_has(1, gone));
    netbed_agent_stop(&B, 1);
    st = t_http(&B.c, 0, "DELETE", PODS "/gone?gracePeriodSeconds=0", NULL, NULL, NULL, NULL);
    CHECK_INT(st, ==, 200);
    netbed_agent_start(&B, 1);
    for (uint64_t end = test_now_ms() + 30000; ipam_has(1, gone) || veths_on(1) != 1;) {
        CHECKF(test_now_ms() < end, "pod gone's address %s not released after the restart (log %s)",
               gone, B.node[1].log);
        test_sleep_ms(200);
    }
    CHECK(ipam_has(1, keep));
    pod_ip("keep", want, sizeof want);
    CHECK_STR(want, keep);
    snprintf(path, sizeof path, PODS "/keep");
    CHECK_INT(t_http(&B.c, 0, "DELETE", path, NULL, NULL, NULL, NULL), ==, 200);
    for (uint64_t end = test_now_ms() + 20000; ipam_has(1, keep) || veths_on(1) != 0;) {
        CHECKF(test_now_ms() < end, "pod keep's address %s not released", keep);
        test_sleep_ms(200);
    }

    /* a configuration naming a plugin that is not there */
    write_conf(1, "nosuch");
    pod_on(1, "bad", "sleep 3600");
    msg = wait_event("bad", "FailedCreatePodSandBox", 20000);
    CHECKF(strstr(msg, "failed to find plugin \"nosuch\"") != NULL, "event: %s", msg);
    free(msg);
    for (uint64_t end = test_now_ms() + 10000;;) {
        json_t *p = t_json(&B.c, 0, "GET", PODS "/bad", NULL, &st);
        const char *r = orc_json_str(json_array_get(orc_json_get(p, "status.containerStatuses"), 0),
                                     "state.waiting.reason");
        const char *m = orc_json_str(json_array_get(orc_json_get(p, "status.containerStatuses"), 0),
                                     "state.waiting.message");
        bool ok = r && strcmp(r, "ContainerCreating") == 0 && m && strstr(m, "nosuch");
        json_decref(p);
        if (ok) break;
        CHECKF(test_now_ms() < end, "pod bad should wait in ContainerCreating naming the plugin");
        test_sleep_ms(200);
    }
    CHECK_INT(veths_on(1), ==, 0);
}
