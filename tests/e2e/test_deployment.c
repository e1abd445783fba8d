/* test_deployment.c — Deployments end to end: one `orcd server` whose
 * controller manager runs ctl_deployment and ctl_replicaset, and whose
 * embedded agent runs real containers from the local registry. A rollout
 * reaches Running and Ready; a rolling update stays within maxSurge and
 * maxUnavailable (sampled while it runs); undo restores the old template;
 * pause holds a change back; a progress deadline makes `orctl rollout
 * status` fail; stock kubectl's rollout restart/status/undo work.
 * (The template names the node: the scheduler is another part of issue 8.) */
#include "lib/json.h"
#include "tests/agent/rtfx.h"
#include "tests/cli/run.h"

static struct cluster C;
static char node[64];
static char agent_dir[600];

static json_t *get(const char *path)
{
    int status = 0;
    json_t *j = t_json(&C, 0, "GET", path, NULL, &status);
    if (status == 200) return j;
    json_decref(j);
    return NULL;
}

static void dump_member_log(void)
{
    struct orc_buf b = ORC_BUF_INIT;
    if (orc_file_read(C.m[0].log, 8u << 20, &b) != 0 || b.data == NULL) return;
    fprintf(stderr, "--- server log (end)\n%s\n---\n", b.len > 6000 ? b.data + b.len - 6000 : b.data);
    orc_buf_free(&b);
}

/* Deletes the Deployment and every pod, and waits until the pods are gone. */
static void cleanup_workloads(void *arg)
{
    (void)arg;
    if (C.m[0].pid <= 0) return;
    t_http(&C, 0, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL, NULL, NULL);
    uint64_t end = test_now_ms() + 30000;
    for (;;) {
        json_t *l = get("/api/v1/namespaces/default/pods"), *p;
        size_t i, left = json_array_size(orc_json_get(l, "items"));
        json_array_foreach (orc_json_get(l, "items"), i, p) {
            char path[512];
            snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s",
                     orc_json_str(p, "metadata.name"));
            if (!orc_json_get(p, "metadata.deletionTimestamp"))
                t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        /* ReplicaSets left (no garbage collector here) would recreate pods. */
        json_t *rl = get("/apis/apps/v1/namespaces/default/replicasets"), *r;
        json_array_foreach (orc_json_get(rl, "items"), i, r) {
            char path[512];
            snprintf(path, sizeof path, "/apis/apps/v1/namespaces/default/replicasets/%s",
                     orc_json_str(r, "metadata.name"));
            t_http(&C, 0, "DELETE", path, NULL, NULL, NULL, NULL);
        }
        json_decref(rl);
        json_decref(l);
        if (left == 0) return;
        if (test_now_ms() > end) {
            dump_member_log();
            test_fail_later("pods left 30 s after delete");
            return;
        }
        usleep(200 * 1000);
    }
}

static void nuke_node(void *arg)
{
    (void)arg;
    if (!node[0]) return;
    fx_nuke();
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
        bool ok = ready && strcmp(ready, "True") == 0;
        json_decref(n);
        if (ok) return true;
        if (test_now_ms() >= end) return false;
        usleep(100 * 1000);
    }
}

static void start(void)
{
    const char *extra[] = {"--node-name", node, NULL};
    fx_setup(true, false);
    snprintf(node, sizeof node, "dep-%d", (int)getpid());
    test_defer(nuke_node, NULL);
    cluster_init(&C, 1);
    C.with_agent = true;
    snprintf(agent_dir, sizeof agent_dir, "%.500s/agent", C.m[0].dir);
    snprintf(F.state, sizeof F.state, "%.500s/rt", agent_dir);
    snprintf(F.node, sizeof F.node, "%s", node);
    rt_node_tag(F.node, F.tag);
    test_defer(cleanup_workloads, NULL);
    cluster_start(&C, extra);
    if (!wait_node(20000)) dump_member_log();
    CHECKF(wait_node(0), "node %s did not register", node);
}

static void apply_web(int replicas, const char *version, int deadline)
{
    char yaml[2048], *out, *err;
    snprintf(yaml, sizeof yaml,
             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
             "  replicas: %d\n  progressDeadlineSeconds: %d\n"
             "  selector: {matchLabels: {app: web}}\n"
             "  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}\n"
             "  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
             "      nodeName: %s\n      terminationGracePeriodSeconds: 2\n"
             "      containers:\n      - name: c\n        image: %s\n"
             "        env: [{name: VERSION, value: \"%s\"}]\n"
             "        command: [sh, -c, \"trap 'exit 0' TERM; while true; do sleep 0.1; done\"]\n",
             replicas, deadline, node, F.image, version);
    int rc = run_orctl_in(&C, yaml, &out, &err, "apply", "-f", "-", NULL);
    CHECKF(rc == 0, "apply: %d %s %s", rc, out, err);
    free(out);
    free(err);
}

struct sample {
    int total, ready;
};

static struct sample pods_now(void)
{
    json_t *l = get("/api/v1/namespaces/default/pods"), *p;
    struct sample s = {0, 0};
    size_t i;
    json_array_foreach (orc_json_get(l, "items"), i, p) {
        if (orc_json_get(p, "metadata.deletionTimestamp")) continue;
        s.total++;
        json_t *c;
        size_t j;
        json_array_foreach (orc_json_get(p, "status.conditions"), j, c) {
            const char *t = orc_json_str(c, "type"), *st = orc_json_str(c, "status");
            if (t && st && !strcmp(t, "Ready") && !strcmp(st, "True")) s.ready++;
        }
    }
    json_decref(l);
    return s;
}

/* `orctl rollout status` in the background, sampling pods until it ends. */
static int rollout_status(int max_total, int min_ready, char **output)
{
    char outp[512];
    int status = 0;
    run_temp_path("rollout", outp, sizeof outp);
    pid_t pid = spawn_orctl(C.home, outp,
                            (const char *const[]){"rollout", "status", "deploy/web", "--timeout=90s", NULL});
    while (waitpid(pid, &status, WNOHANG) == 0) {
        struct sample s = pods_now();
        if (s.total > max_total || s.ready < min_ready) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            test_fail(__FILE__, __LINE__, "%d pods (max %d), %d ready (min %d)", s.total, max_total,
                      s.ready, min_ready);
        }
        usleep(100 * 1000);
    }
    *output = run_read_file(outp);
    run_check_clean("orctl rollout status", *output);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *env_version(const json_t *d)
{
    const json_t *c = json_array_get(orc_json_get(d, "spec.template.spec.containers"), 0);
    return orc_json_str(json_array_get(json_object_get(c, "env"), 0), "value");
}

static void expect_rolled_out(int max_total, int min_ready)
{
    char *out = NULL;
    int rc = rollout_status(max_total, min_ready, &out);
    if (rc != 0) dump_member_log();
    CHECKF(rc == 0 && strstr(out, "deployment \"web\" successfully rolled out\n"),
           "rollout status: %d\n%s", rc, out);
    free(out);
}

TEST_T(deployment_rolls_updates_back_pauses_and_times_out, 240)
{
    char *out, *err;
    start();
    apply_web(3, "v1", 600);
    expect_rolled_out(4, 0);
    struct sample s = pods_now();
    CHECK_INT(s.total, ==, 3);
    CHECK_INT(s.ready, ==, 3);
    CHECK_INT(run_orctl(&C, &out, &err, "get", "deploy", "web", NULL), ==, 0);
    CHECKF(strstr(out, "READY   UP-TO-DATE   AVAILABLE") && strstr(out, "3/3     3            3"),
           "%s", out);
    free(out);
    free(err);

    /* A rolling update: never above 3 + 1 pods nor below 3 - 1 ready. */
    apply_web(3, "v2", 600);
    expect_rolled_out(4, 2);
    CHECK_INT(run_orctl(&C, &out, &err, "rollout", "undo", "deploy/web", NULL), ==, 0);
    CHECK_STR(out, "deployment.apps/web rolled back\n");
    free(out);
    free(err);
    expect_rolled_out(4, 2);
    json_t *d = get("/apis/apps/v1/namespaces/default/deployments/web");
    CHECK_STR(env_version(d), "v1");
    CHECK_STR(json_string_value(json_object_get(orc_json_get(d, "metadata.annotations"),
                                                "deployment.kubernetes.io/revision")),
              "3");
    json_decref(d);

    /* Paused: a change waits for resume. */
    CHECK_INT(run_orctl(&C, &out, &err, "rollout", "pause", "deploy/web", NULL), ==, 0);
    free(out);
    free(err);
    apply_web(3, "v3", 600);
    usleep(1500 * 1000);
    json_t *rl = get("/apis/apps/v1/namespaces/default/replicasets");
    CHECK_INT(json_array_size(orc_json_get(rl, "items")), ==, 2);
    json_decref(rl);
    CHECK_INT(run_orctl(&C, &out, &err, "rollout", "resume", "deploy/web", NULL), ==, 0);
    free(out);
    free(err);
    expect_rolled_out(4, 2);

    /* An image that cannot be pulled, a short deadline: status fails. */
    char yaml_img[600];
    snprintf(yaml_img, sizeof yaml_img,
             "{\"spec\":{\"progressDeadlineSeconds\":4,\"template\":{\"spec\":{\"containers\":"
             "[{\"name\":\"c\",\"image\":\"%s/orc/nope:1\"}]}}}}", F.reg.host);
    CHECK_INT(t_http(&C, 0, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                     "application/strategic-merge-patch+json", yaml_img, NULL, NULL), ==, 200);
    char *o2 = NULL;
    int rc = rollout_status(4, 2, &o2);
    CHECKF(rc == 1 && strstr(o2, "exceeded its progress deadline"), "rollout status %d: %s", rc, o2);
    free(o2);
}

TEST_T(kubectl_rollout_restart_status_undo, 180)
{
    char conf[700], *out;
    if (access("/usr/bin/kubectl", X_OK) != 0) {
        fprintf(stderr, "# SKIP: /usr/bin/kubectl is not installed on this machine\n");
        return;
    }
    start();
    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    apply_web(2, "v1", 600);
    expect_rolled_out(3, 0);
    const char *restart[] = {"/usr/bin/kubectl", "--kubeconfig", conf, "rollout", "restart", "deploy/web", NULL};
    const char *status[] = {"/usr/bin/kubectl", "--kubeconfig", conf, "rollout", "status", "deploy/web",
                            "--timeout=90s", NULL};
    const char *undo[] = {"/usr/bin/kubectl", "--kubeconfig", conf, "rollout", "undo", "deploy/web", NULL};
    char *err;
    CHECK_INT(run_prog(C.home, NULL, &out, &err, restart), ==, 0);
    CHECK(strstr(out, "deployment.apps/web restarted") != NULL);
    free(out);
    free(err);
    int rc = run_prog(C.home, NULL, &out, &err, status);
    CHECKF(rc == 0 && strstr(out, "successfully rolled out"), "%d %s %s", rc, out, err);
    free(out);
    free(err);
    CHECK_INT(run_prog(C.home, NULL, &out, &err, undo), ==, 0);
    CHECK(strstr(out, "rolled back") != NULL);
    free(out);
    free(err);
    rc = run_prog(C.home, NULL, &out, &err, status);
    CHECKF(rc == 0 && strstr(out, "successfully rolled out"), "%d %s %s", rc, out, err);
    free(out);
    free(err);
    json_t *d = get("/apis/apps/v1/namespaces/default/deployments/web");
    CHECK(json_object_get(orc_json_get(d, "spec.template.metadata.annotations"),
                          "kubectl.kubernetes.io/restartedAt") == NULL);
    json_decref(d);
}
