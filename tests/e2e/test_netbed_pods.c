/* test_netbed_pods.c — pods on two nodes of the network bed
 * (tests/harness/netbed.h) reach each other by IP, and the server pod sees
 * the client pod's own address (no NAT between pods, Kubernetes' network
 * model), while the same client reaching an address outside the pod
 * network (a server on the lab bridge) is masqueraded to its node's
 * address, as before. Real servers, agents, containers; root only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/file.h"
#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"
#define LAB_PORT 8081

static struct netbed B;
static pid_t httpd_pid;

/* A CGI that answers the caller's address: what the server saw. */
#define CGI "#!/bin/sh\necho Content-Type: text/plain\necho\necho from=$REMOTE_ADDR\n"

static void kill_httpd(void *arg)
{
    (void)arg;
    if (httpd_pid > 0) {
        kill(httpd_pid, SIGKILL);
        waitpid(httpd_pid, NULL, 0);
        httpd_pid = 0;
    }
}

/* busybox httpd on the lab bridge (the test process is in the lab). */
static void lab_httpd(void)
{
    char dir[600], cgi[700], listen[32];

    snprintf(dir, sizeof dir, "%s/www", test_tmpdir());
    snprintf(cgi, sizeof cgi, "%s/cgi-bin", dir);
    CHECK(orc_mkdirs(cgi, 0755) == 0);
    snprintf(cgi, sizeof cgi, "%s/cgi-bin/ip", dir);
    CHECK(orc_file_write(cgi, CGI, strlen(CGI), 0755) == 0);
    snprintf(listen, sizeof listen, "10.99.0.1:%d", LAB_PORT);
    test_defer(kill_httpd, NULL);
    httpd_pid = fork();
    CHECK(httpd_pid >= 0);
    if (httpd_pid == 0) {
        execl("/bin/busybox", "busybox", "httpd", "-f", "-p", listen, "-h", dir, (char *)NULL);
        _exit(127);
    }
}

static void pod_on(int node, const char *name, const char *cmd)
{
    char body[4096], *resp = NULL;
    int st;

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\"},\"spec\":{"
             "\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"%s\"]}]}}",
             name, B.node[node].name, B.image, cmd);
    st = t_http(&B.c, 0, "POST", PODS, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST pod %s: %d %s", name, st, resp ? resp : "");
    free(resp);
}

/* Waits until the pod runs with an IP; returns it (static buffer per call site). */
static void pod_ip(const char *name, char *out, size_t n)
{
    char path[256];
    uint64_t end = test_now_ms() + 60000;
    int st;

    snprintf(path, sizeof path, PODS "/%s", name);
    for (;;) {
        json_t *p = t_json(&B.c, 0, "GET", path, NULL, &st);
        const char *phase = orc_json_str(p, "status.phase"), *ip = orc_json_str(p, "status.podIP");
        if (phase && strcmp(phase, "Running") == 0 && ip && *ip) {
            snprintf(out, n, "%s", ip);
            json_decref(p);
            return;
        }
        if (test_now_ms() >= end) {
            char *s = orc_json_dumps(orc_json_get(p, "status"));
            test_fail(__FILE__, __LINE__, "pod %s not running: %s (logs %s, %s)", name, s ? s : "-",
                      B.node[1].log, B.node[2].log);
        }
        json_decref(p);
        test_sleep_ms(100);
    }
}

/* The pod's log once it holds `lines` lines (fails after the limit). */
static char *wait_log(const char *name, int lines, unsigned limit_ms)
{
    char path[256], *resp = NULL;
    uint64_t end = test_now_ms() + limit_ms;

    snprintf(path, sizeof path, PODS "/%s/log", name);
    for (;;) {
        int n = 0;
        free(resp);
        resp = NULL;
        if (t_http(&B.c, 0, "GET", path, NULL, NULL, &resp, NULL) == 200 && resp)
            for (const char *p = resp; (p = strchr(p, '\n')) != NULL; p++) n++;
        if (n >= lines) return resp;
        CHECKF(test_now_ms() < end, "pod %s logged %d of %d lines in %u ms: %s", name, n, lines,
               limit_ms, resp ? resp : "");
        test_sleep_ms(200);
    }
}

TEST_T(pods_reach_pods_on_other_nodes_without_nat, 90)
{
    char srv[32], cli[32], cmd[1024], want[96], *log;

    netbed_up(&B);
    netbed_servers(&B, 1, NULL);
    netbed_registry(&B);
    netbed_node_add(&B, NULL);
    netbed_node_add(&B, NULL);
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);
    lab_httpd();

    pod_on(2, "srv", "mkdir -p /tmp/www/cgi-bin && printf '#!/bin/sh\\\\necho Content-Type: "
                     "text/plain\\\\necho\\\\necho from=$REMOTE_ADDR\\\\n' > /tmp/www/cgi-bin/ip && "
                     "busybox chmod 755 /tmp/www/cgi-bin/ip && exec httpd -f -p 8080 -h /tmp/www");
    pod_ip("srv", srv, sizeof srv);
    /* pod to pod (retried: the server may not listen yet), then to the lab */
    /* nc, not wget: the static busybox's wget looks the port name up
     * through NSS, which a static binary cannot load */
    snprintf(cmd, sizeof cmd,
             "get() { printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 $2 | grep from=; }; "
             "for i in $(seq 1 40); do get %s 8080 && break; sleep 0.5; done; get 10.99.0.1 %d; "
             "sleep 3600",
             srv, LAB_PORT);
    pod_on(1, "cli", cmd);
    pod_ip("cli", cli, sizeof cli);
    log = wait_log("cli", 2, 40000);
    fprintf(stderr, "# client %s on node 1, server %s on node 2: %s", cli, srv, log);
    /* the pod's httpd listens on [::] and sees IPv4 peers mapped */
    snprintf(want, sizeof want, "from=[::ffff:%s]\n", cli);
    if (strncmp(log, want, strlen(want)) != 0) snprintf(want, sizeof want, "from=%s\n", cli);
    CHECKF(strncmp(log, want, strlen(want)) == 0, "the server pod saw %s, want the client pod's "
           "own address %s", log, cli);
    snprintf(want, sizeof want, "\nfrom=%s\n", B.node[1].ip);
    CHECKF(strstr(log, want) != NULL, "outside the pod network the client should be NATed to "
           "its node's address %s: %s", B.node[1].ip, log);
    free(log);
}
