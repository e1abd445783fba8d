/* test_authn_agent.c — a node joins with the agent token and is then
 * system:node:NAME: a real `orcd server` and a real `orcd agent` (no pod
 * network, DNS, Service or Ingress proxy: only registration). The agent
 * token only gets the node's certificate; the node goes on with that
 * certificate once the token is deleted; the credentials are files 0600. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <jansson.h>

#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c;
static char node[64], dir[600], alog[600], ip[32], listen_at[64];
static pid_t agent_pid;

static void agent_stop(void)
{
    if (agent_pid <= 0) return;
    kill(agent_pid, SIGTERM);
    waitpid(agent_pid, NULL, 0);
    agent_pid = 0;
}

static void teardown(void *arg)
{
    char cmd[2000];

    (void)arg;
    agent_stop();
    snprintf(cmd, sizeof cmd, "'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1",
             t_bin("orcd"), node, dir);
    if (system(cmd) < 0) fprintf(stderr, "# cleanup of %s failed\n", node);
}

static void agent_start(const char *token)
{
    char pod_logs[1200], ctr_logs[1200];
    snprintf(pod_logs, sizeof pod_logs, "%s/log/pods", dir);
    snprintf(ctr_logs, sizeof ctr_logs, "%s/log/containers", dir);
    const char *argv[] = {t_bin("orcd"), "agent", "--server", c.m[0].url, "--token", token,
                          "--node-name", node, "--data-dir", dir, "--listen", listen_at,
                          "--pod-log-dir", pod_logs, "--container-log-dir", ctr_logs,
                          "--node-ip", ip, "--network-backend", "none", "--cluster-dns", "off",
                          "--service-proxy", "off", "--ingress", "off", NULL};

    agent_pid = test_spawn_logged(argv, alog);
}

/* Waits until the Node reports Ready (its agent reached the API). */
static void wait_ready(unsigned ms)
{
    char path[128];

    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    for (uint64_t end = test_now_ms() + ms; test_now_ms() < end; test_sleep_ms(200)) {
        char *out = NULL;
        int st = t_http(&c, 0, "GET", path, NULL, NULL, &out, NULL);
        bool ready = st == 200 && strstr(out, "\"type\":\"Ready\",\"status\":\"True\"");
        free(out);
        if (ready) return;
    }
    CHECKF(false, "node %s did not become Ready; agent log %s", node, alog);
}

static int mode_of(const char *d, const char *name)
{
    char path[800];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", d, name);
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static bool log_has(const char *path, const char *text)
{
    char *all = run_read_file(path);
    bool has = strstr(all, text) != NULL;

    free(all);
    return has;
}

/* The resourceVersion of the node's Lease (-1 when there is none). */
static long long lease_rv(void)
{
    char path[200];
    json_t *l;
    int st;
    long long rv = -1;

    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", node);
    l = t_json(&c, 0, "GET", path, NULL, &st);
    if (st == 200) rv = atoll(json_string_value(json_object_get(json_object_get(l, "metadata"),
                                                                "resourceVersion")) ?: "-1");
    json_decref(l);
    return rv;
}

TEST_T(agent_joins_with_the_agent_token, 60)
{
    char tokpath[700], *tok, mlog[700], want[200], *out;
    int st;

    if (geteuid() != 0) {
        fprintf(stderr, "# SKIP: an agent needs root\n");
        return;
    }
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    snprintf(node, sizeof node, "authn-%d", (int)getpid());
    snprintf(dir, sizeof dir, "%s/agent", test_tmpdir());
    snprintf(alog, sizeof alog, "%s/agent.log", test_tmpdir());
    snprintf(ip, sizeof ip, "%.*s.200", (int)(strrchr(c.m[0].ip, '.') - c.m[0].ip), c.m[0].ip);
    snprintf(listen_at, sizeof listen_at, "%s:10250", ip);
    test_defer(teardown, NULL);

    /* Made with the cluster, 0600, beside the server token. */
    CHECK_INT(mode_of(c.m[0].dir, "agent-token"), ==, 0600);
    snprintf(tokpath, sizeof tokpath, "%s/agent-token", c.m[0].dir);
    tok = run_read_file(tokpath);
    tok[strcspn(tok, "\n")] = '\0';
    CHECK(strncmp(tok, "orc1.", 5) == 0);

    /* Not an admin credential: it cannot list Secrets. */
    st = t_http_as(&c, 0, tok, "GET", "/api/v1/secrets", NULL, NULL, &out, NULL);
    CHECK_INT(st, ==, 403);
    free(out);

    agent_start(tok);
    wait_ready(20000);
    /* The token got the certificate; everything after came as the node. */
    snprintf(mlog, sizeof mlog, "%s", c.m[0].log);
    snprintf(want, sizeof want, "issuing the certificate of node %s's agent to system:bootstrap:", node);
    CHECK(log_has(mlog, want));
    CHECK_INT(mode_of(dir, "agent.key"), ==, 0600);
    CHECK_INT(mode_of(dir, "port-token"), ==, 0600);

    /* The token deleted (rotated), the node still works with its
     * certificate: restart it with a token that no longer exists. */
    {
        char *e, id[8];
        snprintf(id, sizeof id, "%.6s", tok + 70);
        CHECK(run_orctl(&c, &out, &e, "token", "delete", id, NULL) == 0);
        free(out);
        free(e);
    }
    CHECK_INT(t_http_as(&c, 0, tok, "GET", "/api/v1/secrets", NULL, NULL, NULL, NULL), ==, 401);
    agent_stop();
    {
        long long before = lease_rv(), now = before;
        agent_start(tok);
        for (uint64_t end = test_now_ms() + 20000; test_now_ms() < end && now == before; test_sleep_ms(300))
            now = lease_rv();
        CHECKF(now != before, "the restarted agent did not renew its Lease; agent log %s", alog);
    }
    wait_ready(10000);
    free(tok);
}
