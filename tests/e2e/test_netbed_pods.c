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

static void pod_on(int node, const char *name, const char *cmd) { netbed_pod(&B, node, name, NULL, cmd, NULL); }

static void pod_ip(const char *name, char *out, size_t n) { netbed_pod_ip(&B, name, out, n); }

static char *wait_log(const char *name, int lines, unsigned limit_ms)
{
    return netbed_pod_log(&B, name, NULL, lines, limit_ms);
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
