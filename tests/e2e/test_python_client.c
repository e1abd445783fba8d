/* test_python_client.c — the official Python client (python3-kubernetes)
 * against a real `orcd server`: tests/e2e/python_client.py lists pods,
 * creates and patches a ConfigMap, watches (watch=True, as the client
 * sends it) and lists Nodes, whose model refuses a nodeInfo missing any of
 * its fields. Skipped, saying so, when the client is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

#define PYTHON "/usr/bin/python3"
#define MERGE "application/merge-patch+json"

static struct cluster c;

static bool client_installed(void)
{
    const char *argv[] = {PYTHON, "-c", "import kubernetes", NULL};
    char *out = NULL, *err = NULL;
    int rv;

    if (access(PYTHON, X_OK) != 0) return false;
    rv = run_prog(test_tmpdir(), NULL, &out, &err, argv);
    free(out);
    free(err);
    return rv == 0;
}

static void http_ok(const char *method, const char *path, const char *ctype, const char *body,
                    int want)
{
    char *resp = NULL;
    int st = t_http(&c, 0, method, path, ctype, body, &resp, NULL);
    CHECKF(st == want, "%s %s: HTTP %d, want %d: %s", method, path, st, want, resp ? resp : "");
    free(resp);
}

/* A Node as the agent reports it (agent/node_info.c fills the same fields;
 * test_embedded_agent checks them on a real agent). */
static void post_node(const char *name)
{
    char path[128];

    snprintf(path, sizeof path, "{\"metadata\":{\"name\":\"%s\"}}", name);
    http_ok("POST", "/api/v1/nodes", NULL, path, 201);
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", name);
    http_ok("PATCH", path, MERGE,
            "{\"status\":{\"nodeInfo\":{\"machineID\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\","
            "\"systemUUID\":\"a0e3c7d2-1f4b-4c8e-9d2a-5b6c7d8e9f01\",\"bootID\":"
            "\"5f2c1b7e-9a3d-4e8f-b1c2-d3e4f5a6b7c8\",\"kernelVersion\":\"6.1.0\",\"osImage\":"
            "\"Debian GNU/Linux 12 (bookworm)\",\"containerRuntimeVersion\":\"runc 1.1.5\","
            "\"kubeletVersion\":\"v1.32.0-orc\",\"kubeProxyVersion\":\"v1.32.0-orc\","
            "\"operatingSystem\":\"linux\",\"architecture\":\"amd64\"}}}",
            200);
}

TEST_T(python_client_lists_creates_watches_and_lists_nodes, 60)
{
    char conf[700], script[700], *out = NULL, *err = NULL;

    if (!client_installed()) {
        fprintf(stderr, "# SKIP: python3-kubernetes is not installed (scripts/deps.sh installs it)\n");
        return;
    }
    cluster_init(&c, 1);
    member_start(&c, 0, false, NULL);
    member_wait_ready(&c, 0, 10000);
    post_node("py-node");
    snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
    CHECK(getcwd(script, sizeof script - 40) != NULL);
    strcat(script, "/tests/e2e/python_client.py");
    const char *argv[] = {PYTHON, script, conf, "py-node", NULL};
    int rv = run_prog(c.home, NULL, &out, &err, argv);
    CHECKF(rv == 0 && strstr(out, "ok\n"), "python client: exit %d\n%s\n%s", rv, out, err);
    free(out);
    free(err);
}

