/* test_tour_kubectl.c — README's "A 5-minute tour" with stock kubectl in
 * place of orctl, every verb it lists: apply -f (and -f -), set image,
 * rollout status/history/undo, get (-o wide, -w, -o name, -l, -A, all,
 * pvc, deploy,rs), delete pod / -f / -l, scale, describe, exec, logs
 * (pod/NAME and job/NAME) and create namespace, without --validate=false.
 * The fixtures are test_tour.c's (tourfx.h): one `orcd server` with its
 * embedded agent and the stand-in images in a test registry. The parts run
 * side by side on one cluster to stay quick. Runs containers: root only. */
#include "tests/e2e/tourfx.h"

#define KUBECTL "/usr/bin/kubectl"

/* kubectl --kubeconfig <admin.conf> WORDS (NULL-terminated), `input` on
 * stdin (may be NULL), prefixed by `pre` (a NULL-terminated command such
 * as timeout(1) with its arguments, or NULL). Exit status; stdout, stderr
 * in *out, *err. */
static int kubectl_run(const char *const *pre, const char *input, char **out, char **err,
                       const char *const *words)
{
    const char *argv[RUN_MAX_ARGS];
    char conf[700];
    int n = 0;

    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    while (pre && *pre && n < 4) argv[n++] = *pre++;
    argv[n++] = KUBECTL;
    argv[n++] = "--kubeconfig";
    argv[n++] = conf;
    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    return run_prog(C.home, input, out, err, argv);
}

/* kubectl's stdout (free it); fails the case unless it exits 0 with
 * nothing but Warnings orc documents on stderr. */
static char *kubectl_ok(const char *input, const char *const *words)
{
    char *out, *err;
    int rc = kubectl_run(NULL, input, &out, &err, words);

    if (rc != 0) wl_dump_log();
    CHECKF(rc == 0, "kubectl %s %s %s: exit %d\n%s%s", words[0], words[1] ? words[1] : "",
           words[1] && words[2] ? words[2] : "", rc, out, err);
    CHECKF(!strstr(err, "rror"), "kubectl %s %s: stderr:\n%s", words[0], words[1] ? words[1] : "", err);
    free(err);
    return out;
}

#define K(...) kubectl_ok(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define K_IN(input, ...) kubectl_ok(input, (const char *const[]){__VA_ARGS__, NULL})

/* kubectl's stdout must hold `want`. */
#define KSAYS(want, ...)                                                                \
    do {                                                                                \
        char *o_ = K(__VA_ARGS__);                                                      \
        CHECKF(strstr(o_, want), "kubectl output lacks \"%s\":\n%s", want, o_);         \
        free(o_);                                                                       \
    } while (0)

/* The kubectl output of `words` once it holds want (controllers at work). */
static char *kubectl_until(const char *want, unsigned timeout_ms, const char *const *words)
{
    uint64_t end = test_now_ms() + timeout_ms;

    for (;;) {
        char *out, *err;
        int rc = kubectl_run(NULL, NULL, &out, &err, words);
        if (rc == 0 && strstr(out, want)) {
            free(err);
            return out;
        }
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "kubectl %s %s: no \"%s\" after %u ms:\n%s%s", words[0],
                      words[1] ? words[1] : "", want, timeout_ms, out, err);
        }
        free(out);
        free(err);
        usleep(300 * 1000);
    }
}
#define KSAYS_SOON(want, ...) free(kubectl_until(want, 30000, (const char *const[]){__VA_ARGS__, NULL}))

/* The Deployment: run, update (set image), history, undo, heal (watched
 * with get -w), scale, describe. */
static void deployment_part(void)
{
    char *out, *pod;

    KSAYS("successfully rolled out", "rollout", "status", "deploy/nginx-deployment", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 3, 30000);
    out = K("get", "pods", "-o", "wide");
    CHECKF(strstr(out, "Running") && strstr(out, node) && strstr(out, "NOMINATED NODE"), "get pods -o wide:\n%s",
           out);
    free(out);
    pod = a_pod("default", "app%3Dnginx");
    out = K("exec", pod, "--", "sh", "-c", "wget -qO- http://127.0.0.1/");
    CHECKF(strstr(out, "Welcome to nginx!"), "%s serves:\n%s", pod, out);
    free(out);
    free(pod);

    /* the README's alternative to editing the file */
    KSAYS("deployment.apps/nginx-deployment image updated", "set", "image", "deploy/nginx-deployment",
          "nginx=nginx:1.16.1");
    KSAYS("successfully rolled out", "rollout", "status", "deploy/nginx-deployment", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 3, 30000);
    check_images("default", "app%3Dnginx", "nginx:1.16.1");
    out = K("get", "deploy,rs", "-o", "wide");
    CHECKF(strstr(out, "deployment.apps/nginx-deployment") && strstr(out, "replicaset.apps/nginx-deployment-")
               && strstr(out, "nginx:1.16.1") && strstr(out, "nginx:1.14.2"),
           "get deploy,rs -o wide:\n%s", out);
    free(out);
    out = K("rollout", "history", "deploy/nginx-deployment");
    CHECKF(strstr(out, "REVISION") && strstr(out, "\n1 ") && strstr(out, "\n2 "), "history:\n%s", out);
    free(out);
    out = K("rollout", "history", "deploy/nginx-deployment", "--revision=1");
    CHECKF(strstr(out, "nginx:1.14.2"), "history --revision=1:\n%s", out);
    free(out);

    KSAYS("deployment.apps/nginx-deployment rolled back", "rollout", "undo", "deploy/nginx-deployment");
    KSAYS("successfully rolled out", "rollout", "status", "deploy/nginx-deployment", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 3, 30000);
    check_images("default", "app%3Dnginx", "nginx:1.14.2");
    out = K("rollout", "history", "deploy/nginx-deployment");
    CHECKF(strstr(out, "\n2 ") && strstr(out, "\n3 ") && !strstr(out, "\n1 "), "history after undo:\n%s", out);
    free(out);

    /* a deleted pod is replaced; `get pods -w` shows it happen */
    pod = a_pod("default", "app%3Dnginx");
    char said[300];
    snprintf(said, sizeof said, "pod \"%s\" deleted", pod);
    KSAYS(said, "delete", "pod", pod);
    wait_pods("default", "app%3Dnginx", 3, 30000);
    free(pod);
    {
        static const char *const timeout[] = {"/usr/bin/timeout", "3", NULL};
        char *err;
        int rc = kubectl_run(timeout, NULL, &out, &err,
                             (const char *const[]){"get", "pods", "-w", "-l", "app=nginx", NULL});
        CHECKF(rc == 124 && strstr(out, "NAME") && strstr(out, "Running") && strstr(out, "nginx-deployment-"),
               "get pods -w: exit %d\n%s%s", rc, out, err);
        free(out);
        free(err);
    }

    KSAYS("deployment.apps/nginx-deployment scaled", "scale", "deploy/nginx-deployment", "--replicas=5");
    wait_pods("default", "app%3Dnginx", 5, 60000);
    out = K("describe", "deploy", "nginx-deployment");
    CHECKF(strstr(out, "Replicas:") && strstr(out, "Conditions:") && strstr(out, "Events:")
               && strstr(out, "Scaled up replica set") && strstr(out, "to 5"),
           "describe deploy:\n%s", out);
    free(out);
    KSAYS("deployment.apps \"nginx-deployment\" deleted", "delete", "-f", DEP_YAML);
    wait_pods("default", "app%3Dnginx", 0, 45000);
}

/* The StatefulSet, applied from stdin: ordinals, claims, a pod back with
 * its data. */
static void statefulset_part(void)
{
    char *yaml = run_read_file(WEB_YAML), *out, *uid;

    out = K_IN(yaml, "apply", "-f", "-");
    free(yaml);
    CHECKF(strstr(out, "service/nginx created") && strstr(out, "statefulset.apps/web created"), "apply:\n%s",
           out);
    free(out);
    KSAYS("partitioned roll out complete", "rollout", "status", "sts/web", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 2, 60000);
    out = K("get", "pods", "web-0", "web-1", "-o", "wide");
    CHECKF(strstr(out, "web-0") && strstr(out, "web-1") && strstr(out, node), "get pods -o wide:\n%s", out);
    free(out);
    out = K("get", "pvc");
    CHECKF(strstr(out, "www-web-0") && strstr(out, "www-web-1") && strstr(out, "Bound"), "get pvc:\n%s", out);
    free(out);
    free(K("exec", "web-0", "--", "sh", "-c", "hostname > /usr/share/nginx/html/index.html"));
    uid = uid_of("default", "web-0");
    CHECK(uid);
    KSAYS("pod \"web-0\" deleted", "delete", "pod", "web-0");
    wait_replaced("default", "web-0", uid, 60000);
    free(uid);
    out = K("exec", "web-0", "--", "cat", "/usr/share/nginx/html/index.html");
    CHECK_STR(out, "web-0\n");
    free(out);
}

/* The DaemonSet's pod in kube-system, and what it logs. */
static void daemonset_part(void)
{
    char *pod, *out, name[300];

    wait_pods("kube-system", "name%3Dfluentd-elasticsearch", 1, 60000);
    pod = a_pod("kube-system", "name%3Dfluentd-elasticsearch");
    out = K("get", "ds,pods", "-n", "kube-system", "-o", "wide");
    CHECKF(strstr(out, "daemonset.apps/fluentd-elasticsearch") && strstr(out, pod) && strstr(out, "NODE SELECTOR"),
           "get ds,pods:\n%s", out);
    free(out);
    snprintf(name, sizeof name, "pod/%s", pod);
    KSAYS_SOON("following /var/log", "logs", "-n", "kube-system", name);
    free(pod);
}

/* The Job: COMPLETIONS 1/1; its log through `get -l -o name` and job/pi. */
static void job_part(void)
{
    char *out, *name;

    json_decref(wait_job_complete("pi", 90000));
    out = K("get", "jobs");
    CHECKF(strstr(out, "pi") && strstr(out, "Complete") && strstr(out, "1/1"), "get jobs:\n%s", out);
    free(out);
    name = K("get", "pods", "-l", "job-name=pi", "-o", "name");
    CHECKF(strncmp(name, "pod/pi-", 7) == 0 && strchr(name, '\n') == name + strlen(name) - 1, "-o name:\n%s",
           name);
    name[strlen(name) - 1] = '\0';
    out = K("logs", name);
    check_pi(out);
    free(out);
    free(name);
    out = K("logs", "job/pi");
    check_pi(out);
    free(out);
}

/* Clean up as the tour does; `get all -A` then lists none of it. */
static void cleanup_part(void)
{
    char *out;

    KSAYS("statefulset.apps \"web\" deleted", "delete", "-f", WEB_YAML);
    KSAYS("daemonset.apps \"fluentd-elasticsearch\" deleted", "delete", "-f", DS_YAML);
    KSAYS("job.batch \"pi\" deleted", "delete", "-f", JOB_YAML);
    wait_pods("default", "app%3Dnginx", 0, 45000);
    wait_pods("kube-system", "name%3Dfluentd-elasticsearch", 0, 45000);
    wait_pods("default", "job-name%3Dpi", 0, 45000);
    out = K("get", "all", "-A");
    CHECKF(!strstr(out, "nginx-deployment") && !strstr(out, "statefulset.apps/web")
               && !strstr(out, "fluentd-elasticsearch") && !strstr(out, "job.batch/pi")
               && strstr(out, "service/kubernetes"),
           "left after delete -f:\n%s", out);
    free(out);
    out = K("delete", "pvc", "-l", "app=nginx");
    CHECKF(strstr(out, "\"www-web-0\" deleted") && strstr(out, "\"www-web-1\" deleted"), "delete pvc:\n%s", out);
    free(out);
}

TEST_T(kubectl_runs_the_tour, 240)
{
    char *out;

    if (!run_have_kubectl() || !root_or_skip()
        || !needs("kubectl", "scheduler", "replicaset", "deployment", "statefulset", "persistentvolume",
                  "daemonset", "job", "garbagecollector", NULL))
        return;
    tour_start();
    KSAYS("Ready", "get", "nodes", "-o", "wide");
    KSAYS("deployment.apps/nginx-deployment created", "apply", "-f", DEP_YAML);
    KSAYS("daemonset.apps/fluentd-elasticsearch created", "apply", "-f", DS_YAML);
    KSAYS("job.batch/pi created", "apply", "-f", JOB_YAML);
    deployment_part();
    statefulset_part();
    daemonset_part();
    job_part();

    /* the CronJob is only listed: its first Job would wait for a minute */
    KSAYS("cronjob.batch/hello created", "apply", "-f", CRON_YAML);
    KSAYS("* * * * *", "get", "cronjobs");
    KSAYS("cronjob.batch \"hello\" deleted", "delete", "-f", CRON_YAML);

    KSAYS("namespace/team-a created", "create", "namespace", "team-a");
    KSAYS("team-a", "get", "namespaces");
    out = K("get", "all", "-A");
    CHECKF(strstr(out, "pod/web-0") && strstr(out, "statefulset.apps/web") && strstr(out, "job.batch/pi")
               && strstr(out, "daemonset.apps/fluentd-elasticsearch"),
           "get all -A:\n%s", out);
    free(out);
    cleanup_part();
}
