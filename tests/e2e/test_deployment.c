/* test_deployment.c — Deployments end to end: one `orcd server` whose
 * controller manager runs ctl_deployment and ctl_replicaset, and whose
 * embedded agent runs real containers from the local registry. A rollout
 * reaches Running and Ready; a rolling update stays within maxSurge and
 * maxUnavailable (sampled while it runs); undo restores the old template;
 * pause holds a change back; a progress deadline makes `orctl rollout
 * status` fail; stock kubectl's rollout restart/status/undo work. The
 * scheduler binds the pods to the one node. */
#include "tests/e2e/wlfx.h"

/* Deletes the Deployment, its ReplicaSets and every pod, and waits until
 * the pods are gone. */
static void cleanup_workloads(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/apis/apps/v1/namespaces/%s/deployments",
                                        "/apis/apps/v1/namespaces/%s/replicasets",
                                        "/api/v1/namespaces/%s/pods", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 30000);
}

static void start(void)
{
    const char *extra[] = {"--node-name", node, NULL};
    fx_setup(true, false);
    wl_init("dep", cleanup_workloads);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
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
             "      terminationGracePeriodSeconds: 2\n"
             "      containers:\n      - name: c\n        image: %s\n"
             "        env: [{name: VERSION, value: \"%s\"}]\n"
             "        command: [sh, -c, \"trap 'exit 0' TERM; while true; do sleep 0.1; done\"]\n",
             replicas, deadline, F.image, version);
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
    json_t *l = wl_get("/api/v1/namespaces/default/pods"), *p;
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
    pid_t pid = spawn_orctl(
        C.home, outp,
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
    if (rc != 0) wl_dump_log();
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
    json_t *d = wl_get("/apis/apps/v1/namespaces/default/deployments/web");
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
    json_t *rl = wl_get("/apis/apps/v1/namespaces/default/replicasets");
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
             "[{\"name\":\"c\",\"image\":\"%s/orc/nope:1\"}]}}}}",
             F.reg.host);
    CHECK_INT(t_http(&C, 0, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                     "application/strategic-merge-patch+json", yaml_img, NULL, NULL),
              ==, 200);
    char *o2 = NULL;
    int rc = rollout_status(4, 2, &o2);
    CHECKF(rc == 1 && strstr(o2, "exceeded its progress deadline"), "rollout status %d: %s", rc,
           o2);
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
    const char *restart[] = {"/usr/bin/kubectl", "--kubeconfig", conf, "rollout",
                             "restart",          "deploy/web",   NULL};
    const char *status[] = {"/usr/bin/kubectl", "--kubeconfig",  conf, "rollout", "status",
                            "deploy/web",       "--timeout=90s", NULL};
    const char *undo[] = {
        "/usr/bin/kubectl", "--kubeconfig", conf, "rollout", "undo", "deploy/web", NULL};
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
    json_t *d = wl_get("/apis/apps/v1/namespaces/default/deployments/web");
    CHECK(json_object_get(orc_json_get(d, "spec.template.metadata.annotations"),
                          "kubectl.kubernetes.io/restartedAt") == NULL);
    json_decref(d);
}
