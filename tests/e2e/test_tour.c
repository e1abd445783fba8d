/* test_tour.c — README's "A 5-minute tour", end to end: one `orcd server`
 * with its embedded node agent, the stand-in images of
 * scripts/dev-images.sh in a registry of the test's own (mirroring
 * docker.io, registry.k8s.io and quay.io), and the Kubernetes docs' example
 * manifests in manifests/examples/ applied unchanged with orctl: they run,
 * update, roll back, heal and clean up as the tour says.
 *
 * A part whose controllers orcd does not run yet (not in ctl_all[],
 * controllers/manager.c) prints "# WAITING: ..." and passes without
 * checking; it switches itself on once they are registered. Every part but
 * the apply one runs containers: root only (skipped, and said, otherwise).
 * The fixtures are shared with the kubectl run of the tour (tourfx.h). */
#include <sys/wait.h>

#include "tests/e2e/tourfx.h"

/* ---- orctl ---- */

/* orctl with the words after it (NULL-terminated), `input` on stdin (may
 * be NULL); fails the case unless it exits 0. Returns its stdout. */
static char *orctl_v(const char *input, const char *first, va_list ap)
{
    char *out, *err;
    int rc = run_orctl_v(C.home, input, &out, &err, first, ap);

    if (rc != 0) {
        wl_dump_log();
        test_fail(__FILE__, __LINE__, "orctl %s ...: exit %d\n%s%s", first, rc, out, err);
    }
    free(err);
    return out;
}

static char *orctl(const char *first, ...)
{
    va_list ap;
    char *out;

    va_start(ap, first);
    out = orctl_v(NULL, first, ap);
    va_end(ap);
    return out;
}

static char *orctl_in(const char *input, const char *first, ...)
{
    va_list ap;
    char *out;

    va_start(ap, first);
    out = orctl_v(input, first, ap);
    va_end(ap);
    return out;
}

/* orctl's stdout must hold `want`. */
#define SAYS(want, ...)                                                                \
    do {                                                                               \
        char *o_ = orctl(__VA_ARGS__, NULL);                                           \
        CHECKF(strstr(o_, want), "orctl output lacks \"%s\":\n%s", want, o_);          \
        free(o_);                                                                      \
    } while (0)


/* What `orctl exec POD -- sh -c CMD` prints. */
static char *exec_in(const char *ns, const char *pod, const char *cmd)
{
    return orctl("exec", "-n", ns, pod, "--", "sh", "-c", cmd, NULL);
}


/* ---- the parts ---- */

/* Apply needs no controller: each example is accepted unchanged, as
 * written, and a second apply changes nothing. */
TEST_T(examples_apply_unchanged, 60)
{
    static const struct {
        const char *file, *created, *path;
    } ex[] = {
        {DEP_YAML, "deployment.apps/nginx-deployment created", "/apis/apps/v1/namespaces/default/deployments/nginx-deployment"},
        {WEB_YAML, "statefulset.apps/web created", "/apis/apps/v1/namespaces/default/statefulsets/web"},
        {DS_YAML, "daemonset.apps/fluentd-elasticsearch created",
         "/apis/apps/v1/namespaces/kube-system/daemonsets/fluentd-elasticsearch"},
        {JOB_YAML, "job.batch/pi created", "/apis/batch/v1/namespaces/default/jobs/pi"},
        {CRON_YAML, "cronjob.batch/hello created", "/apis/batch/v1/namespaces/default/cronjobs/hello"},
    };
    char *out, *err;

    (void)test_tmpdir(); /* its removal, a cleanup too, comes after the report */
    test_defer(wl_show_sanitizer_report, NULL);
    cluster_init(&C, 1);
    cluster_start(&C, NULL);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        CHECKF(run_orctl(&C, &out, &err, "apply", "-f", ex[i].file, NULL) == 0, "apply -f %s: %s%s",
               ex[i].file, out, err);
        CHECKF(strstr(out, ex[i].created) && !strstr(err, "Warning"), "apply -f %s:\n%s%s", ex[i].file, out,
               err);
        free(out);
        free(err);
        json_t *o = get("%s", ex[i].path);
        CHECKF(o, "%s not stored", ex[i].path);
        json_decref(o);
    }
    SAYS("service/nginx unchanged", "apply", "-f", WEB_YAML);
    SAYS("job.batch/pi unchanged", "apply", "-f", JOB_YAML);
    json_t *j = get("/apis/batch/v1/namespaces/default/jobs/pi");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(j, "spec.template.spec.containers"), 0), "image"),
              "perl:5.34.0");
    json_decref(j);
    j = get("/apis/apps/v1/namespaces/default/statefulsets/web");
    CHECK_STR(orc_json_str(json_array_get(orc_json_get(j, "spec.volumeClaimTemplates"), 0), "metadata.name"),
              "www");
    json_decref(j);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) SAYS("deleted", "delete", "-f", ex[i].file);
}

/* The stand-ins through the mirror, each doing what the docs' example asks
 * of the real image (pods bound by hand: no scheduler needed). */
TEST_T(stand_in_images_run_the_docs_commands, 150)
{
    char yaml[4096], *out;

    if (!root_or_skip()) return;
    tour_start();
    snprintf(yaml, sizeof yaml,
             "apiVersion: v1\nkind: Pod\nmetadata: {name: nginx}\nspec:\n  nodeName: %s\n"
             "  containers:\n  - {name: nginx, image: nginx:1.14.2, ports: [{containerPort: 80}]}\n"
             "---\napiVersion: v1\nkind: Pod\nmetadata: {name: slim}\nspec:\n  nodeName: %s\n"
             "  containers:\n  - {name: nginx, image: registry.k8s.io/nginx-slim:0.21}\n"
             "---\napiVersion: v1\nkind: Pod\nmetadata: {name: pi}\nspec:\n  nodeName: %s\n"
             "  restartPolicy: Never\n  containers:\n  - name: pi\n    image: perl:5.34.0\n"
             "    command: [\"perl\",  \"-Mbignum=bpi\", \"-wle\", \"print bpi(2000)\"]\n"
             "---\napiVersion: v1\nkind: Pod\nmetadata: {name: hello}\nspec:\n  nodeName: %s\n"
             "  restartPolicy: OnFailure\n  containers:\n  - name: hello\n    image: busybox:1.28\n"
             "    command: [/bin/sh, -c, date; echo Hello from the Kubernetes cluster]\n"
             "---\napiVersion: v1\nkind: Pod\nmetadata: {name: fluentd}\nspec:\n  nodeName: %s\n"
             "  containers:\n  - name: fluentd-elasticsearch\n"
             "    image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2\n"
             "    volumeMounts: [{name: varlog, mountPath: /var/log}]\n"
             "  volumes: [{name: varlog, hostPath: {path: /var/log}}]\n",
             node, node, node, node, node);
    free(orctl_in(yaml, "apply", "-f", "-", NULL));

    wait_phase("default", "pi", "Succeeded", 60000);
    out = orctl("logs", "pi", NULL);
    check_pi(out);
    free(out);
    wait_phase("default", "hello", "Succeeded", 30000);
    SAYS("Hello from the Kubernetes cluster\n", "logs", "hello");
    wait_ready("default", "nginx", 30000);
    wait_ready("default", "slim", 30000);
    wait_ready("default", "fluentd", 30000);
    out = exec_in("default", "nginx", "wget -qO- http://127.0.0.1/ && nginx -v 2>&1");
    CHECKF(strstr(out, "Welcome to nginx!") && strstr(out, "nginx/1.14.2"), "nginx stand-in:\n%s", out);
    free(out);
    out = exec_in("default", "slim", "wget -qO- http://127.0.0.1/");
    CHECKF(strstr(out, "Welcome to nginx!"), "nginx-slim stand-in:\n%s", out);
    free(out);
    SAYS("fluentd stand-in: following /var/log", "logs", "fluentd");

    /* the README's hand-bound pod (its readiness probe asks the stand-in) */
    char *pod = manifest_with("manifests/examples/pod.yaml", "CHANGE-ME", node);
    free(orctl_in(pod, "apply", "-f", "-", NULL));
    free(pod);
    wait_ready("default", "web", 30000);

    /* each came through the mirror under the docs' name */
    CHECK(registry_count(&F.reg, "GET /v2/library/nginx/manifests/1.14.2") > 0);
    CHECK(registry_count(&F.reg, "GET /v2/library/nginx/manifests/1.25") > 0);
    CHECK(registry_count(&F.reg, "GET /v2/nginx-slim/manifests/0.21") > 0);
    CHECK(registry_count(&F.reg, "GET /v2/library/perl/manifests/5.34.0") > 0);
    CHECK(registry_count(&F.reg, "GET /v2/library/busybox/manifests/1.28") > 0);
    CHECK(registry_count(&F.reg, "GET /v2/fluentd_elasticsearch/fluentd/manifests/v2.5.2") > 0);
}

/* Deployment: run, update, history, roll back, heal, scale, clean up. */
TEST_T(deployment_tour, 240)
{
    char *yaml, *pod, *out;

    if (!root_or_skip() || !needs("Deployment", "scheduler", "replicaset", "deployment", NULL)) return;
    tour_start();
    SAYS("deployment.apps/nginx-deployment created", "apply", "-f", DEP_YAML);
    SAYS("successfully rolled out", "rollout", "status", "deploy/nginx-deployment", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 3, 30000);
    out = orctl("get", "pods", "-o", "wide", NULL);
    CHECKF(strstr(out, "Running") && strstr(out, node), "get pods -o wide:\n%s", out);
    free(out);
    pod = a_pod("default", "app%3Dnginx");
    out = exec_in("default", pod, "wget -qO- http://127.0.0.1/");
    CHECKF(strstr(out, "Welcome to nginx!"), "%s serves:\n%s", pod, out);
    free(out);
    free(pod);

    /* an updated image, applied as the user edits the manifest */
    yaml = manifest_with(DEP_YAML, "nginx:1.14.2", "nginx:1.16.1");
    out = orctl_in(yaml, "apply", "-f", "-", NULL);
    CHECKF(strstr(out, "deployment.apps/nginx-deployment configured"), "apply:\n%s", out);
    free(out);
    free(yaml);
    SAYS("successfully rolled out", "rollout", "status", "deploy/nginx-deployment", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 3, 30000);
    check_images("default", "app%3Dnginx", "nginx:1.16.1");
    SAYS("nginx:1.16.1", "get", "deploy,rs", "-o", "wide");
    pod = a_pod("default", "app%3Dnginx");
    out = exec_in("default", pod, "nginx -v 2>&1");
    CHECKF(strstr(out, "nginx/1.16.1"), "%s: %s", pod, out);
    free(out);
    free(pod);
    out = orctl("rollout", "history", "deploy/nginx-deployment", NULL);
    CHECKF(strstr(out, "REVISION") && strstr(out, "\n1 ") && strstr(out, "\n2 "), "history:\n%s", out);
    free(out);

    /* back to the previous revision */
    SAYS("rolled back", "rollout", "undo", "deploy/nginx-deployment");
    SAYS("successfully rolled out", "rollout", "status", "deploy/nginx-deployment", "--timeout=90s");
    wait_pods("default", "app%3Dnginx", 3, 30000);
    check_images("default", "app%3Dnginx", "nginx:1.14.2");

    /* a deleted pod is replaced */
    pod = a_pod("default", "app%3Dnginx");
    free(orctl("delete", "pod", pod, NULL));
    wait_pods("default", "app%3Dnginx", 3, 30000);
    json_t *gone = get("/api/v1/namespaces/default/pods/%s", pod);
    CHECKF(gone == NULL, "pod %s still there", pod);
    free(pod);

    SAYS("deployment.apps/nginx-deployment scaled", "scale", "deploy/nginx-deployment", "--replicas=5");
    wait_pods("default", "app%3Dnginx", 5, 60000);
    SAYS("Scaled up replica set", "describe", "deploy", "nginx-deployment");

    SAYS("deployment.apps \"nginx-deployment\" deleted", "delete", "-f", DEP_YAML);
    if (!needs("Deployment cascade", "garbagecollector", NULL)) return;
    wait_pods("default", "app%3Dnginx", 0, 45000);
    out = orctl("get", "all", "-A", NULL);
    CHECKF(!strstr(out, "nginx-deployment"), "left after delete -f:\n%s", out);
    free(out);
    json_t *rs = get("/apis/apps/v1/namespaces/default/replicasets");
    CHECKF(json_array_size(orc_json_get(rs, "items")) == 0, "ReplicaSets left after delete -f");
    json_decref(rs);
}


/* StatefulSet: ordinals, one claim per pod, a pod back with its data. */
TEST_T(statefulset_tour, 180)
{
    char *out, *uid;

    if (!root_or_skip() || !needs("StatefulSet", "scheduler", "statefulset", "persistentvolume", NULL)) return;
    tour_start();
    out = orctl("apply", "-f", WEB_YAML, NULL);
    CHECKF(strstr(out, "service/nginx created") && strstr(out, "statefulset.apps/web created"), "apply:\n%s",
           out);
    free(out);
    wait_pods("default", "app%3Dnginx", 2, 90000);
    out = exec_in("default", "web-0", "hostname");
    CHECK_STR(out, "web-0\n");
    free(out);
    out = exec_in("default", "web-1", "hostname");
    CHECK_STR(out, "web-1\n");
    free(out);
    for (int i = 0; i < 2; i++) {
        json_t *c = get("/api/v1/namespaces/default/persistentvolumeclaims/www-web-%d", i);
        CHECKF(c && strcmp(orc_json_str(c, "status.phase") ? orc_json_str(c, "status.phase") : "", "Bound") == 0,
               "claim www-web-%d not Bound", i);
        json_decref(c);
    }
    SAYS("www-web-1", "get", "pvc");
    SAYS(node, "get", "pods", "web-0", "web-1", "-o", "wide");

    /* the tutorial's check: a pod replaced keeps its claim and its data */
    free(exec_in("default", "web-0", "hostname > /usr/share/nginx/html/index.html"));
    uid = uid_of("default", "web-0");
    CHECK(uid);
    free(orctl("delete", "pod", "web-0", NULL));
    wait_replaced("default", "web-0", uid, 60000);
    free(uid);
    out = orctl("exec", "web-0", "--", "cat", "/usr/share/nginx/html/index.html", NULL);
    CHECK_STR(out, "web-0\n");
    free(out);
    out = exec_in("default", "web-0", "wget -qO- http://127.0.0.1/");
    CHECK_STR(out, "web-0\n");
    free(out);

    out = orctl("delete", "-f", WEB_YAML, NULL);
    CHECKF(strstr(out, "statefulset.apps \"web\" deleted"), "delete:\n%s", out);
    free(out);
    if (!needs("StatefulSet cascade", "garbagecollector", NULL)) return;
    wait_pods("default", "app%3Dnginx", 0, 45000);
    /* as in Kubernetes, the claims (and the data) stay until deleted */
    json_t *c = get("/api/v1/namespaces/default/persistentvolumeclaims/www-web-1");
    CHECKF(c, "claim www-web-1 went with its StatefulSet");
    json_decref(c);
    out = orctl("delete", "pvc", "-l", "app=nginx", NULL);
    CHECKF(strstr(out, "\"www-web-0\" deleted") && strstr(out, "\"www-web-1\" deleted"), "delete pvc:\n%s", out);
    free(out);
}

/* DaemonSet: one pod on the node, replaced when deleted. */
TEST_T(daemonset_tour, 120)
{
    char *pod, *uid;

    if (!root_or_skip() || !needs("DaemonSet", "scheduler", "daemonset", NULL)) return;
    tour_start();
    SAYS("daemonset.apps/fluentd-elasticsearch created", "apply", "-f", DS_YAML);
    wait_pods("kube-system", "name%3Dfluentd-elasticsearch", 1, 60000);
    pod = a_pod("kube-system", "name%3Dfluentd-elasticsearch");
    SAYS("following /var/log", "logs", "-n", "kube-system", pod);
    SAYS(pod, "get", "ds,pods", "-n", "kube-system", "-o", "wide");
    uid = uid_of("kube-system", pod);
    CHECK(uid);
    free(orctl("delete", "pod", "-n", "kube-system", pod, NULL));
    free(pod);
    wait_pods("kube-system", "name%3Dfluentd-elasticsearch", 1, 60000);
    pod = a_pod("kube-system", "name%3Dfluentd-elasticsearch");
    char *now = uid_of("kube-system", pod);
    CHECKF(now && strcmp(now, uid) != 0, "the DaemonSet's pod was not replaced");
    free(now);
    free(uid);
    free(pod);
    SAYS("daemonset.apps \"fluentd-elasticsearch\" deleted", "delete", "-f", DS_YAML);
    if (!needs("DaemonSet cascade", "garbagecollector", NULL)) return;
    wait_pods("kube-system", "name%3Dfluentd-elasticsearch", 0, 60000);
}


/* The pod of a Job (by Kubernetes' job-name label), and its log. */
static char *job_log(const char *job)
{
    char sel[320], *name = NULL, *out;
    json_t *items, *p;
    size_t i;

    snprintf(sel, sizeof sel, "job-name%%3D%s", job);
    items = pods("default", sel);
    json_array_foreach (items, i, p)
        if (!name && strcmp(orc_json_str(p, "status.phase") ? orc_json_str(p, "status.phase") : "", "Succeeded") == 0)
            name = strdup(orc_json_str(p, "metadata.name"));
    json_decref(items);
    CHECKF(name, "no Succeeded pod of job %s", job);
    snprintf(sel, sizeof sel, "pod/%s", name); /* as `orctl get pods -o name` prints it */
    out = orctl("logs", sel, NULL);
    free(name);
    return out;
}

/* Job: pi to 2,000 digits, COMPLETIONS 1/1. */
TEST_T(job_tour, 120)
{
    char *out;

    if (!root_or_skip() || !needs("Job", "scheduler", "job", NULL)) return;
    tour_start();
    SAYS("job.batch/pi created", "apply", "-f", JOB_YAML);
    json_decref(wait_job_complete("pi", 90000));
    SAYS("1/1", "get", "jobs", "pi");
    SAYS("Complete", "get", "jobs");
    out = job_log("pi");
    check_pi(out);
    free(out);
    SAYS("job.batch \"pi\" deleted", "delete", "-f", JOB_YAML);
    if (!needs("Job cascade", "garbagecollector", NULL)) return;
    wait_pods("default", "job-name%3Dpi", 0, 30000);
}

/* CronJob: a Job every minute, named for its minute, that says hello. */
TEST_T(cronjob_tour, 180)
{
    uint64_t end;
    char job[64] = "", *out;

    if (!root_or_skip() || !needs("CronJob", "scheduler", "cronjob", "job", NULL)) return;
    tour_start();
    SAYS("cronjob.batch/hello created", "apply", "-f", CRON_YAML);
    end = test_now_ms() + 100000; /* the next minute, and its pod's run */
    while (!job[0]) {
        json_t *l = get("/apis/batch/v1/namespaces/default/jobs"), *j;
        size_t i;
        json_array_foreach (orc_json_get(l, "items"), i, j) {
            const char *name = orc_json_str(j, "metadata.name");
            const char *owner = orc_json_str(json_array_get(orc_json_get(j, "metadata.ownerReferences"), 0), "name");
            if (name && owner && strcmp(owner, "hello") == 0 && strncmp(name, "hello-", 6) == 0)
                snprintf(job, sizeof job, "%s", name);
        }
        json_decref(l);
        if (!job[0] && test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "no Job of CronJob hello within 100 s");
        }
        if (!job[0]) usleep(500 * 1000);
    }
    json_decref(wait_job_complete(job, 60000));
    out = job_log(job);
    CHECKF(strstr(out, "Hello from the Kubernetes cluster\n"), "%s says:\n%s", job, out);
    free(out);
    out = orctl("get", "cronjob", "hello", NULL);
    CHECKF(strstr(out, "* * * * *"), "get cronjob:\n%s", out);
    free(out);
    SAYS(job, "get", "jobs");
    SAYS("cronjob.batch \"hello\" deleted", "delete", "-f", CRON_YAML);
    if (!needs("CronJob cascade", "garbagecollector", NULL)) return;
    end = test_now_ms() + 30000;
    for (;;) {
        json_t *l = get("/apis/batch/v1/namespaces/default/jobs");
        size_t left = json_array_size(orc_json_get(l, "items"));
        json_decref(l);
        if (left == 0) break;
        CHECKF(test_now_ms() < end, "%zu Jobs left 30 s after the CronJob's deletion", left);
        usleep(300 * 1000);
    }
}

/* The orctl output of `words` (NULL-terminated) once it holds want. */
static char *orctl_until(const char *want, unsigned timeout_ms, const char *const *words)
{
    uint64_t end = test_now_ms() + timeout_ms;
    for (;;) {
        char *out = NULL, *err = NULL;
        const char *argv[RUN_MAX_ARGS + 1] = {t_bin("orctl")};
        size_t n = 1;
        for (; words[n - 1] && n < RUN_MAX_ARGS; n++) argv[n] = words[n - 1];
        argv[n] = NULL;
        int rc = run_prog(C.home, NULL, &out, &err, argv);
        if (rc == 0 && strstr(out, want)) {
            free(err);
            return out;
        }
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "orctl %s %s: no \"%s\" after %u ms:\n%s%s", words[0],
                      words[1] ? words[1] : "", want, timeout_ms, out, err);
        }
        free(out);
        free(err);
        usleep(200 * 1000);
    }
}
#define SAYS_SOON(want, ...) free(orctl_until(want, 20000, (const char *const[]){__VA_ARGS__, NULL}))

/* One GET of http://ip:port/ from this machine (outside the pods): curl's
 * output, "" when it fails. */
static char *host_get(const char *ip, long port)
{
    char url[128], *out = NULL, *err = NULL;
    snprintf(url, sizeof url, "http://%s:%ld/", ip, port);
    const char *argv[] = {"/usr/bin/curl", "-s", "-m", "3", url, NULL};
    if (run_prog(C.home, NULL, &out, &err, argv) != 0) {
        free(out);
        out = strdup("");
    }
    free(err);
    return out;
}

static void host_get_until(const char *ip, long port, const char *want)
{
    uint64_t end = test_now_ms() + 20000;
    for (;;) {
        char *body = host_get(ip, port);
        bool ok = strstr(body, want) != NULL;
        free(body);
        if (ok) return;
        CHECKF(test_now_ms() < end, "http://%s:%ld/ never answered \"%s\"", ip, port, want);
        usleep(200 * 1000);
    }
}

/* The Kubernetes docs' "Connecting Applications with Services", as the
 * README's "Connecting applications with Services" runs it on this
 * machine's cluster: the docs' manifests, orctl for kubectl (busybox httpd
 * plays nginx; the https steps need the real images). */
TEST_T(services_tour, 240)
{
    char *out, *pod;

    if (!root_or_skip() || !needs("Services", "scheduler", "replicaset", "deployment", "endpointslice",
                                  "servicelb", NULL))
        return;
    tour_start();
    /* Exposing pods to the cluster */
    SAYS("deployment.apps/my-nginx created", "apply", "-f", MY_NGINX_YAML);
    wait_pods("default", "run%3Dmy-nginx", 2, 60000);
    SAYS("Running", "get", "pods", "-l", "run=my-nginx", "-o", "wide");
    /* Creating a Service */
    SAYS("service/my-nginx exposed", "expose", "deployment/my-nginx");
    json_t *svc = get("/api/v1/namespaces/default/services/my-nginx");
    char cip[32];
    snprintf(cip, sizeof cip, "%s", orc_json_str(svc, "spec.clusterIP") ?: "?");
    json_decref(svc);
    SAYS(cip, "get", "svc", "my-nginx");
    json_t *ps = pods("default", "run%3Dmy-nginx");
    for (size_t i = 0; i < 2; i++) {
        const char *ip = orc_json_str(json_array_get(ps, i), "status.podIP");
        CHECKF(ip, "pod %zu has no IP", i);
        SAYS_SOON(ip, "describe", "svc", "my-nginx");
        SAYS_SOON(ip, "get", "endpointslices", "-l", "kubernetes.io/service-name=my-nginx");
    }
    json_decref(ps);
    /* Environment variables: none for pods older than the Service ... */
    pod = a_pod("default", "run%3Dmy-nginx");
    out = exec_in("default", pod, "printenv | grep SERVICE");
    CHECKF(strstr(out, "KUBERNETES_SERVICE_HOST=") && !strstr(out, "MY_NGINX"), "%s", out);
    free(out);
    free(pod);
    /* ... and the right ones once recreated */
    SAYS("scaled", "scale", "deployment", "my-nginx", "--replicas=0");
    wait_pods("default", "run%3Dmy-nginx", 0, 60000);
    SAYS("scaled", "scale", "deployment", "my-nginx", "--replicas=2");
    wait_pods("default", "run%3Dmy-nginx", 2, 60000);
    pod = a_pod("default", "run%3Dmy-nginx");
    out = exec_in("default", pod, "printenv | grep SERVICE");
    char want[64];
    snprintf(want, sizeof want, "MY_NGINX_SERVICE_HOST=%s", cip);
    CHECKF(strstr(out, want) && strstr(out, "MY_NGINX_SERVICE_PORT=80"), "%s", out);
    free(out);
    free(pod);
    /* DNS */
    SAYS("10.43.0.10", "get", "services", "kube-dns", "--namespace=kube-system");
    SAYS("pod/curl created", "apply", "-f", CURL_YAML);
    wait_ready("default", "curl", 60000);
    SAYS_SOON(cip, "exec", "curl", "--", "sh", "-c", "nslookup my-nginx; true");
    SAYS_SOON("Welcome to nginx!", "exec", "curl", "--", "curl", "-s", "http://my-nginx/");
    /* Exposing the Service: a NodePort on the node's address, then a
     * LoadBalancer whose EXTERNAL-IP is that address */
    json_t *n = get("/api/v1/nodes/%s", node);
    char node_ip[64] = "";
    size_t i;
    json_t *a;
    json_array_foreach (orc_json_get(n, "status.addresses"), i, a)
        if (strcmp(orc_json_str(a, "type") ?: "", "InternalIP") == 0)
            snprintf(node_ip, sizeof node_ip, "%s", orc_json_str(a, "address"));
    json_decref(n);
    char *yaml = manifest_with(NGINX_SVC_YAML, "spec:\n", "spec:\n  type: NodePort\n");
    free(orctl_in(yaml, "apply", "-f", "-", NULL));
    free(yaml);
    svc = get("/api/v1/namespaces/default/services/my-nginx");
    int64_t np = 0;
    orc_json_int(json_array_get(orc_json_get(svc, "spec.ports"), 0), "nodePort", &np);
    json_decref(svc);
    CHECKF(np >= 30000, "nodePort %lld", (long long)np);
    host_get_until(node_ip, (long)np, "Welcome to nginx!");
    yaml = manifest_with(NGINX_SVC_YAML, "spec:\n", "spec:\n  type: LoadBalancer\n");
    free(orctl_in(yaml, "apply", "-f", "-", NULL));
    free(yaml);
    SAYS_SOON(node_ip, "get", "svc", "my-nginx");
    host_get_until(node_ip, 80, "Welcome to nginx!");
    SAYS("deleted", "delete", "svc", "my-nginx");
    SAYS("deleted", "delete", "-f", MY_NGINX_YAML);
}
