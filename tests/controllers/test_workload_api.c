/* test_workload_api.c — ctl_replicaset and ctl_deployment against a real
 * `orcd server`, run on this test's loop with the shared informers (as the
 * controller manager runs them). No node runs the pods: the test plays the
 * kubelet by writing pod status (Running, Ready) through the API, which
 * lets it hold pods back to test availability and deadlines. Real
 * containers are covered by tests/e2e/test_deployment.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client/http.h"
#include "client/informer.h"
#include "controllers/ctl.h"
#include "controllers/ctl_util.h"
#include "controllers/deployment.h"
#include "controllers/replicaset.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "lib/timeutil.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static struct cluster c; /* static: the harness's end-of-case cleanups use it */
static uv_loop_t loop;
static uv_timer_t tick;
static http_client *cl;
static informer_set *set;
static orc_clock *clk;
static struct ctl_options opts = {.host = "test"};
static struct ctl_ctx ctx;
static void *st_rs, *st_dep;
static const char *hold_image; /* pods with this image never become ready */

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void start(void)
{
    /* The server's own controller manager stays idle: these are the ones. */
    static const char *const no_controllers[] = {"--controllers=-*", NULL};
    cluster_init(&c, 1);
    member_start(&c, 0, false, no_controllers);
    member_wait_ready(&c, 0, 10000);
    CHECK(uv_loop_init(&loop) == 0);
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 10, 10);
    CHECK_INT(http_client_new_tls(&loop, c.m[0].url, c.token, cluster_tls(&c), &cl), ==, 0);
    CHECK((clk = orc_clock_real(&loop)) != NULL);
    CHECK_INT(informer_set_new(&loop, cl, &set), ==, 0);
    ctx = (struct ctl_ctx){&loop, clk, cl, set, &opts, NULL, NULL};
    CHECK_INT(ctl_replicaset.start(&ctx, &st_rs), ==, 0);
    CHECK_INT(ctl_deployment.start(&ctx, &st_dep), ==, 0);
}

static void finish(void)
{
    ctl_deployment.stop(st_dep);
    ctl_replicaset.stop(st_rs);
    informer_set_free(set);
    http_client_close(cl, NULL, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    orc_clock_free(clk);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
}

/* ---- the kubelet's part ---- */

static bool held(const json_t *pod)
{
    const json_t *ct = json_array_get(orc_json_get(pod, "spec.containers"), 0);
    const char *img = orc_json_str(ct, "image");
    return hold_image && img && strcmp(img, hold_image) == 0;
}

static void mark_ready(json_t *pod)
{
    char now[ORC_TIME_LEN], path[512];
    int st = 0;
    orc_time_now(now);
    json_t *status =
        json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}", "phase", "Running", "podIP", "10.0.0.1",
                  "conditions", "type", "Ready", "status", "True", "lastTransitionTime", now);
    json_object_set_new(pod, "status", status);
    char *body = json_dumps(pod, JSON_COMPACT);
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/status",
             orc_json_str(pod, "metadata.name"));
    json_t *r = t_json(&c, 0, "PUT", path, body, &st);
    free(body);
    json_decref(r);
}

struct counts {
    int total, ready;
};

/* Marks new pods ready (unless held) and counts what is there. */
static struct counts kubelet(void)
{
    int st = 0;
    json_t *l = t_json(&c, 0, "GET", "/api/v1/namespaces/default/pods", NULL, &st), *p;
    struct counts n = {0, 0};
    size_t i;
    CHECK_INT(st, ==, 200);
    json_array_foreach (json_object_get(l, "items"), i, p) {
        if (orc_json_get(p, "metadata.deletionTimestamp")) continue;
        n.total++;
        if (ctl_pod_ready(p))
            n.ready++;
        else if (!held(p))
            mark_ready(p);
    }
    json_decref(l);
    return n;
}

static void run_for(unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end) uv_run(&loop, UV_RUN_ONCE);
}

static json_t *get(const char *path)
{
    int st = 0;
    json_t *o = t_json(&c, 0, "GET", path, NULL, &st);
    CHECKF(st == 200, "GET %s: %d", path, st);
    return o;
}

#define DEP "/apis/apps/v1/namespaces/default/deployments"

/* What a failed bound looked like: every set and pod. */
static void dump_state(void)
{
    json_t *l = get("/apis/apps/v1/namespaces/default/replicasets"), *o;
    size_t i;
    json_array_foreach (json_object_get(l, "items"), i, o)
        fprintf(stderr, "# rs %s replicas %lld status %lld/%lld rv %s\n",
                orc_json_str(o, "metadata.name"), (long long)ctl_int(o, "spec.replicas", -1),
                (long long)ctl_int(o, "status.replicas", -1),
                (long long)ctl_int(o, "status.availableReplicas", -1),
                orc_json_str(o, "metadata.resourceVersion"));
    json_decref(l);
    l = get("/api/v1/namespaces/default/pods");
    json_array_foreach (json_object_get(l, "items"), i, o) {
        const json_t *ref = ctl_controller_ref(o);
        fprintf(stderr, "# pod %s owner %s ready %d deleting %d\n",
                orc_json_str(o, "metadata.name"), ref ? orc_json_str(ref, "name") : "-",
                ctl_pod_ready(o), orc_json_get(o, "metadata.deletionTimestamp") != NULL);
    }
    json_decref(l);
}

/* Runs the controllers and the kubelet until the Deployment reports
 * rollout status `want` (1 done, ORC_ETIMEDOUT deadline), checking the
 * bounds on every pass. */
static void wait_rollout(const char *name, int want, int max_total, int min_ready, unsigned ms)
{
    uint64_t end = test_now_ms() + ms;
    char path[256], msg[256] = "";
    int got = 0;
    snprintf(path, sizeof path, DEP "/%s", name);
    for (;;) {
        run_for(60);
        struct counts n = kubelet();
        if (n.total > max_total || n.ready < min_ready) dump_state();
        CHECKF(n.total <= max_total, "%d pods, more than %d", n.total, max_total);
        CHECKF(n.ready >= min_ready, "%d ready, fewer than %d", n.ready, min_ready);
        json_t *d = get(path);
        got = dep_rollout_status(d, msg, sizeof msg);
        json_decref(d);
        if (got == want || test_now_ms() > end) break;
    }
    CHECKF(got == want, "rollout status %d, want %d: %s", got, want, msg);
}

static void post(const char *path, const char *body)
{
    int st = 0;
    json_t *r = t_json(&c, 0, "POST", path, body, &st);
    CHECKF(st == 201, "POST %s: %d", path, st);
    json_decref(r);
}

static void patch(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&c, 0, "PATCH", path, "application/merge-patch+json", body, &resp, NULL);
    CHECKF(st == 200, "PATCH %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

static const char *web =
    "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":4,\"selector\":{\"matchLabels\":"
    "{\"app\":\"web\"}},\"strategy\":{\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":1}},"
    "\"progressDeadlineSeconds\":%d,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"img:1\"}]}}}}";

/* An Event with this reason whose message starts with `prefix` exists
 * (the recorder writes in the background: give it a moment). */
static bool has_event(const char *reason, const char *prefix)
{
    for (int tries = 0; tries < 50; tries++) {
        json_t *l = get("/api/v1/namespaces/default/events"), *e;
        size_t i;
        bool found = false;
        json_array_foreach (json_object_get(l, "items"), i, e) {
            const char *r = orc_json_str(e, "reason"), *m = orc_json_str(e, "message");
            if (r && m && !strcmp(r, reason) && !strncmp(m, prefix, strlen(prefix))) found = true;
        }
        json_decref(l);
        if (found) return true;
        run_for(100);
    }
    return false;
}

static int count_rs(void)
{
    json_t *l = get("/apis/apps/v1/namespaces/default/replicasets");
    int n = (int)json_array_size(json_object_get(l, "items"));
    json_decref(l);
    return n;
}

TEST_T(deployment_rolls_out_updates_and_rolls_back, 90)
{
    char body[1024];
    start();
    snprintf(body, sizeof body, web, 600);
    post(DEP, body);
    wait_rollout("web", 1, 4, 0, 20000);
    json_t *d = get(DEP "/web");
    CHECK_INT(dep_revision_of(d), ==, 1);
    CHECK_STR(orc_json_str(ctl_cond_get(json_object_get(d, "status"), "Available"), "reason"),
              "MinimumReplicasAvailable");
    json_decref(d);
    CHECK_INT(count_rs(), ==, 1);
    CHECK(has_event("ScalingReplicaSet", "Scaled up replica set web-"));
    CHECK(has_event("SuccessfulCreate", "Created pod: web-"));

    /* A new image: never more than 5 pods, never fewer than 3 ready. */
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:2\"}]}}}}");
    wait_rollout("web", 1, 5, 3, 30000);
    CHECK_INT(count_rs(), ==, 2);
    d = get(DEP "/web");
    CHECK_INT(dep_revision_of(d), ==, 2);
    json_decref(d);

    /* Back to img:1 (what kubectl rollout undo writes): the first set
     * returns as revision 3. */
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:1\"}]}}}}");
    wait_rollout("web", 1, 5, 3, 30000);
    CHECK_INT(count_rs(), ==, 2);
    d = get(DEP "/web");
    CHECK_INT(dep_revision_of(d), ==, 3);
    json_decref(d);
    finish();
}

TEST_T(progress_deadline_exceeded, 60)
{
    char body[1024];
    start();
    snprintf(body, sizeof body, web, 3);
    post(DEP, body);
    wait_rollout("web", 1, 4, 0, 20000);
    hold_image = "img:never";
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:never\"}]}}}}");
    wait_rollout("web", ORC_ETIMEDOUT, 5, 3, 20000);
    finish();
}

TEST_T(replicaset_adopts_orphans_and_scales_down, 60)
{
    start();
    post("/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"orphan\",\"labels\":{\"app\":\"db\"}},\"spec\":{\"containers\":"
         "[{\"name\":\"c\",\"image\":\"img:1\"}]}}");
    run_for(300); /* the pod informer sees the orphan before the set appears */
    post("/apis/apps/v1/namespaces/default/replicasets",
         "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":"
         "{\"app\":\"db\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"db\"}},\"spec\":"
         "{\"containers\":[{\"name\":\"c\",\"image\":\"img:1\"}]}}}}");
    uint64_t end = test_now_ms() + 20000;
    json_t *rs = NULL;
    while (test_now_ms() < end) {
        run_for(100);
        kubelet();
        json_decref(rs);
        rs = get("/apis/apps/v1/namespaces/default/replicasets/db");
        if (ctl_int(rs, "status.readyReplicas", 0) == 3) break;
    }
    CHECK_INT(ctl_int(rs, "status.replicas", 0), ==, 3);
    CHECK_INT(ctl_int(rs, "status.availableReplicas", 0), ==, 3);
    CHECK_INT(ctl_int(rs, "status.observedGeneration", 0), ==, 1);
    json_t *orphan = get("/api/v1/namespaces/default/pods/orphan");
    CHECK_STR(ctl_controller_uid(orphan), orc_json_str(rs, "metadata.uid"));
    json_decref(orphan);
    json_decref(rs);
    rs = NULL;
    patch("/apis/apps/v1/namespaces/default/replicasets/db", "{\"spec\":{\"replicas\":1}}");
    struct counts n = {0, 0};
    end = test_now_ms() + 20000;
    while (test_now_ms() < end) {
        run_for(100);
        n = kubelet();
        if (n.total == 1) break;
    }
    CHECK_INT(n.total, ==, 1);
    /* A pod relabelled out of the selector is released, and replaced. */
    json_t *l = get("/api/v1/namespaces/default/pods");
    const char *left =
        orc_json_str(json_array_get(json_object_get(l, "items"), 0), "metadata.name");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", left);
    patch(path, "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}");
    end = test_now_ms() + 20000;
    json_t *p = NULL;
    while (test_now_ms() < end) {
        run_for(100);
        n = kubelet();
        json_decref(p);
        p = get(path);
        if (n.total == 2 && !ctl_controller_ref(p)) break;
    }
    CHECK(ctl_controller_ref(p) == NULL);
    CHECK_INT(n.total, ==, 2);
    json_decref(p);
    json_decref(l);
    finish();
}

/* ---- orctl and kubectl, run while the controllers and the kubelet go on ---- */

static bool have_kubectl(void)
{
    if (access("/usr/bin/kubectl", X_OK) == 0) return true;
    fprintf(stderr, "# SKIP: /usr/bin/kubectl is not installed on this machine\n");
    return false;
}

/* Runs argv (argv[0] "orctl" or "kubectl") to its end while this loop
 * serves the controllers; checks the exit status; returns stdout+stderr. */
static char *cmd(int want_rc, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS];
    char outp[512], conf[700];
    int n = 0, status = 0;
    pid_t pid;

    if (strcmp(words[0], "kubectl") == 0) {
        snprintf(conf, sizeof conf, "%s/admin.conf", c.m[0].dir);
        argv[n++] = "/usr/bin/kubectl";
        argv[n++] = "--kubeconfig";
        argv[n++] = conf;
    } else {
        argv[n++] = t_bin("orctl");
    }
    for (words++; *words && n < RUN_MAX_ARGS - 1;) argv[n++] = *words++;
    argv[n] = NULL;
    run_temp_path("cmd", outp, sizeof outp);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(c.home, NULL, outp, NULL);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    uint64_t end = test_now_ms() + 40000;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (test_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            test_fail(__FILE__, __LINE__, "%s %s did not end", argv[0], argv[1]);
        }
        run_for(60);
        kubelet();
    }
    char *out = run_read_file(outp);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run_check_clean(argv[0], out);
    CHECKF(rc == want_rc, "%s %s %s: exit %d, want %d:\n%s", argv[0], argv[1], argv[2], rc, want_rc,
           out);
    return out;
}

#define CMD(rc, ...) cmd(rc, (const char *const[]){__VA_ARGS__, NULL})

static void cmd_says(int rc, const char *want, const char *const *words)
{
    char *out = cmd(rc, words);
    CHECKF(strstr(out, want) != NULL, "%s %s: no \"%s\" in:\n%s", words[0], words[1], want, out);
    free(out);
}

#define SAYS(rc, want, ...) cmd_says(rc, want, (const char *const[]){__VA_ARGS__, NULL})

static const char *image_of(const json_t *d)
{
    return orc_json_str(json_array_get(orc_json_get(d, "spec.template.spec.containers"), 0),
                        "image");
}

TEST_T(orctl_rollout_status_history_undo_pause_resume, 120)
{
    char body[1024];
    start();
    snprintf(body, sizeof body, web, 600);
    post(DEP, body);
    SAYS(0, "deployment \"web\" successfully rolled out\n", "orctl", "rollout", "status",
         "deploy/web", "--timeout=30s");
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:2\"}]}}}}");
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deployment", "web");
    SAYS(0, "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n",
         "orctl", "rollout", "history", "deploy/web");
    SAYS(0, "Image:\timg:1", "orctl", "rollout", "history", "deploy/web", "--revision=1");
    SAYS(0, "deployment.apps/web rolled back\n", "orctl", "rollout", "undo", "deploy/web");
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deploy/web");
    json_t *d = get(DEP "/web");
    CHECK_STR(image_of(d), "img:1");
    CHECK_INT(dep_revision_of(d), ==, 3);
    json_decref(d);
    SAYS(0, "skipped rollback (current template already matches revision 3)", "orctl", "rollout",
         "undo", "deploy/web", "--to-revision=3");
    SAYS(1, "unable to find specified revision 9 in history", "orctl", "rollout", "undo",
         "deploy/web", "--to-revision=9");
    SAYS(0, "deployment.apps/web rolled back\n", "orctl", "rollout", "undo", "deploy/web",
         "--to-revision=2");
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deploy/web");
    d = get(DEP "/web");
    CHECK_STR(image_of(d), "img:2");
    CHECK_INT(dep_revision_of(d), ==, 4);
    json_decref(d);

    SAYS(0, "deployment.apps/web paused\n", "orctl", "rollout", "pause", "deploy/web");
    SAYS(0, "deployment.apps/web already paused\n", "orctl", "rollout", "pause", "deploy/web");
    SAYS(1, "can't restart paused deployment", "orctl", "rollout", "restart", "deploy/web");
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:3\"}]}}}}");
    run_for(1500);
    kubelet();
    CHECK_INT(count_rs(), ==, 2); /* paused: no new ReplicaSet */
    d = get(DEP "/web");
    CHECK_STR(orc_json_str(ctl_cond_get(json_object_get(d, "status"), "Progressing"), "reason"),
              "DeploymentPaused");
    json_decref(d);
    SAYS(0, "deployment.apps/web resumed\n", "orctl", "rollout", "resume", "deploy/web");
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deploy/web");
    CHECK_INT(count_rs(), ==, 3);
    SAYS(0, "deployment.apps/web restarted\n", "orctl", "rollout", "restart", "deploy/web");
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deploy/web");
    d = get(DEP "/web");
    CHECK(orc_json_get(d, "spec.template.metadata.annotations") != NULL);
    CHECK_INT(dep_revision_of(d), ==, 6);
    json_decref(d);
    SAYS(0, "deployment.apps/web scaled\n", "orctl", "scale", "deploy", "web", "--replicas", "2");
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deploy/web");
    struct counts n = kubelet();
    CHECK_INT(n.total, ==, 2);
    finish();
}

TEST_T(orctl_rollout_status_fails_past_the_deadline, 60)
{
    char body[1024];
    start();
    snprintf(body, sizeof body, web, 600);
    post(DEP, body);
    SAYS(0, "successfully rolled out", "orctl", "rollout", "status", "deploy/web");
    hold_image = "img:never";
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:never\"}]}}}}");
    SAYS(1, "error: timed out waiting for the condition", "orctl", "rollout", "status",
         "deploy/web", "--timeout=1s");
    patch(DEP "/web", "{\"spec\":{\"progressDeadlineSeconds\":2}}");
    SAYS(1, "error: deployment \"web\" exceeded its progress deadline", "orctl", "rollout",
         "status", "deploy/web");
    finish();
}

TEST_T(kubectl_rollout_status_undo_restart, 120)
{
    char body[1024];
    if (!have_kubectl()) return;
    start();
    snprintf(body, sizeof body, web, 600);
    post(DEP, body);
    SAYS(0, "deployment \"web\" successfully rolled out", "kubectl", "rollout", "status",
         "deploy/web", "--timeout=30s");
    patch(DEP "/web", "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"img:2\"}]}}}}");
    SAYS(0, "successfully rolled out", "kubectl", "rollout", "status", "deploy/web",
         "--timeout=30s");
    SAYS(0, "REVISION", "kubectl", "rollout", "history", "deploy/web");
    SAYS(0, "deployment.apps/web rolled back", "kubectl", "rollout", "undo", "deploy/web");
    SAYS(0, "successfully rolled out", "kubectl", "rollout", "status", "deploy/web",
         "--timeout=30s");
    json_t *d = get(DEP "/web");
    CHECK_STR(image_of(d), "img:1");
    CHECK_INT(dep_revision_of(d), ==, 3);
    json_decref(d);
    SAYS(0, "deployment.apps/web restarted", "kubectl", "rollout", "restart", "deploy/web");
    SAYS(0, "successfully rolled out", "kubectl", "rollout", "status", "deploy/web",
         "--timeout=30s");
    d = get(DEP "/web");
    CHECK(orc_json_str(orc_json_get(d, "spec.template.metadata.annotations"),
                       "kubectl\\.kubernetes\\.io/restartedAt") != NULL ||
          json_object_get(orc_json_get(d, "spec.template.metadata.annotations"),
                          "kubectl.kubernetes.io/restartedAt") != NULL);
    CHECK_INT(dep_revision_of(d), ==, 4);
    json_decref(d);
    finish();
}
