/* test_embedded_agent.c — one `orcd server` with its embedded node agent is a
 * whole cluster: its node registers, a pod runs, logs and goes away on delete. */
#include "lib/json.h"
#include "tests/agent/rtfx.h"
#include "tests/cli/run.h"

static struct cluster C;
static char node[64];
static char agent_dir[600]; /* MEMBERDIR/agent: the embedded agent's data */

static void dump_member_log(void)
{
    struct orc_buf b = ORC_BUF_INIT;

    if (orc_file_read(C.m[0].log, 8u << 20, &b) != 0 || b.data == NULL) return;
    fprintf(stderr, "--- server log (end)\n%s\n---\n", b.len > 6000 ? b.data + b.len - 6000 : b.data);
    orc_buf_free(&b);
}

static json_t *get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&C, 0, "GET", path, NULL, &status);

    if (status == 200) return j;
    json_decref(j);
    return NULL;
}

static json_t *pod_get(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
    return get(path);
}

/* Deletes every pod in "default" and waits until they are gone (the agent
 * stopped their containers). Returns false on timeout. */
static bool delete_all_pods(unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;
    json_t *list, *item;
    size_t i, left;

    do {
        if ((list = get("/api/v1/namespaces/default/pods")) == NULL) return false;
        left = json_array_size(orc_json_get(list, "items"));
        json_array_foreach(orc_json_get(list, "items"), i, item) {
            char path[512];
            const char *name = orc_json_str(item, "metadata.name");
            if (name == NULL || orc_json_get(item, "metadata.deletionTimestamp")) continue;
            snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", name);
            t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        json_decref(list);
        if (left == 0) return true;
        usleep(100 * 1000);
    } while (test_now_ms() < end);
    return false;
}

/* Before the harness stops the server (its containers would keep running). */
static void delete_pods_at_end(void *arg)
{
    (void)arg;
    if (C.m[0].pid <= 0) return;
    if (!delete_all_pods(20000)) {
        dump_member_log();
        test_fail_later("pods of the embedded agent not gone 20 s after delete (log %s)", C.m[0].log);
    }
}

/* After the server stopped: whatever its agent left on the host. */
static void nuke_node(void *arg)
{
    (void)arg;
    if (!node[0]) return;
    fx_nuke(); /* containers, overlays, cgroups (F.state, F.tag) */
    fx_sh("'%s' agent --cleanup --node-name '%s' --data-dir '%s' >/dev/null 2>&1; "
          "grep -q ' %s/' /proc/mounts && awk '$2 ~ \"^%s/\" {print $2}' /proc/mounts | sort -r | "
          "xargs -r umount -l; true",
          t_bin("orcd"), node, agent_dir, agent_dir, agent_dir);
}

static bool wait_node(unsigned timeout_ms)
{
    char path[256];
    uint64_t end = test_now_ms() + timeout_ms;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    for (;;) {
        json_t *n = get(path);
        const char *ready = orc_json_str(json_array_get(orc_json_get(n, "status.conditions"), 0), "status");
        bool ok = ready && strcmp(ready, "True") == 0 && orc_json_str(n, "spec.podCIDR");
        json_decref(n);
        if (ok) return true;
        if (test_now_ms() >= end) return false;
        usleep(100 * 1000);
    }
}

static json_t *wait_running(const char *name, unsigned timeout_ms)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        json_t *p = pod_get(name);
        const char *ph = orc_json_str(p, "status.phase");
        if (ph && strcmp(ph, "Running") == 0
            && json_is_true(orc_json_get(json_array_get(orc_json_get(p, "status.containerStatuses"), 0), "ready")))
            return p;
        if (test_now_ms() >= end) {
            char *s = p ? orc_json_dumps(orc_json_get(p, "status")) : NULL;
            dump_member_log();
            test_fail(__FILE__, __LINE__, "pod %s not running after %u ms; status %s", name, timeout_ms,
                      s ? s : "(no pod)");
        }
        json_decref(p);
        usleep(100 * 1000);
    }
}

static size_t containers_left(void)
{
    char dir[700];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/containers", F.state);
    if ((d = opendir(dir)) == NULL) return 0;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

TEST_T(embedded_agent_runs_a_pod, 120)
{
    const char *extra[] = {"--node-name", node, NULL};
    char body[2048], path[256], *log = NULL, *out, *err;
    json_t *n, *p;
    int status;
    uint64_t end;

    fx_setup(true, false); /* the registry with the test image (F.image) */
    snprintf(node, sizeof node, "emb-%d", (int)getpid());
    test_defer(nuke_node, NULL); /* runs after the server has stopped */
    cluster_init(&C, 1);
    C.with_agent = true;
    snprintf(agent_dir, sizeof agent_dir, "%.500s/agent", C.m[0].dir);
    snprintf(F.state, sizeof F.state, "%.500s/rt", agent_dir);
    snprintf(F.node, sizeof F.node, "%s", node);
    rt_node_tag(F.node, F.tag);
    test_defer(delete_pods_at_end, NULL); /* runs before the server stops */
    cluster_start(&C, extra);

    if (!wait_node(20000)) dump_member_log();
    CHECKF(wait_node(0), "node %s did not register (log %s)", node, C.m[0].log);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    n = get(path);
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(n, "status.addresses"), 0), "address"), C.m[0].ip);
    json_decref(n);

    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"hello\"},"
             "\"spec\":{\"nodeName\":\"%s\",\"terminationGracePeriodSeconds\":5,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"command\":[\"sh\",\"-c\",\"echo hello from %s; trap 'exit 0' TERM; "
             "while true; do sleep 0.1; done\"]}]}}",
             node, F.image, node);
    status = t_http(&C, 0, "POST", "/api/v1/namespaces/default/pods", NULL, body, &log, NULL);
    CHECKF(status == 201, "create pod: %d %s", status, log ? log : "");
    free(log);
    p = wait_running("hello", 30000);
    CHECK_STR(orc_json_str(p, "status.hostIP"), C.m[0].ip);
    CHECK(orc_json_str(p, "status.podIP") != NULL);
    json_decref(p);
    CHECK_INT(containers_left(), ==, 1);

    /* its log through the API, as a client reads it and as orctl shows it */
    status = t_http(&C, 0, "GET", "/api/v1/namespaces/default/pods/hello/log", NULL, NULL, &log, NULL);
    CHECKF(status == 200, "log: %d %s", status, log ? log : "");
    snprintf(body, sizeof body, "hello from %s\n", node);
    CHECK_STR(log, body);
    free(log);
    CHECK_INT(run_orctl(&C, &out, &err, "logs", "hello", NULL), ==, 0);
    CHECK_STR(out, body);
    free(out);
    free(err);
    CHECK_INT(run_orctl(&C, &out, &err, "exec", "hello", "--", "hostname", NULL), ==, 0);
    CHECK_STR(out, "hello\n");
    free(out);
    free(err);

    /* deleted: the pod goes away and so does its container */
    status = t_http(&C, 0, "DELETE", "/api/v1/namespaces/default/pods/hello", NULL, NULL, NULL, NULL);
    CHECK_INT(status, ==, 200);
    end = test_now_ms() + 15000;
    while ((p = pod_get("hello")) != NULL && test_now_ms() < end) {
        json_decref(p);
        usleep(100 * 1000);
    }
    if (p) dump_member_log();
    CHECKF(p == NULL, "pod hello still there 15 s after delete");
    end = test_now_ms() + 5000;
    while (containers_left() > 0 && test_now_ms() < end) usleep(100 * 1000);
    CHECKF(containers_left() == 0, "%zu containers left in %s/containers after the pod was deleted",
           containers_left(), F.state);
}
