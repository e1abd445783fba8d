/* test_kubectl_portforward.c — stock `kubectl port-forward` against one
 * `orcd server` with its embedded agent and a real container serving HTTP
 * on the pod's loopback only (so the agent must dial inside the pod's
 * network namespace): curl through the forwarded port (two requests, a
 * 2 MiB body), svc/NAME and deploy/NAME resolved by kubectl to a pod and
 * port, a closed port reported on the error stream, and a killed kubectl
 * leaving no connection to the pod behind; `orctl port-forward` the same. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "tests/e2e/wlfx.h"

#define KUBECTL "/usr/bin/kubectl"
#define BIG_KIB 2048

static char conf[700];
static pid_t kids[12];
static int n_kids;

static void delete_all_at_end(void *arg)
{
    static const char *const nss[] = {"default", NULL};
    static const char *const paths[] = {"/apis/apps/v1/namespaces/%s/deployments", "/api/v1/namespaces/%s/pods",
                                        "/api/v1/namespaces/%s/services", NULL};
    (void)arg;
    wl_delete_all_at_end(nss, paths, 20000);
}

/* Every kubectl still running at the end is stopped (a failed case too). */
static void kill_kids(void *arg)
{
    (void)arg;
    for (int i = 0; i < n_kids; i++)
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
            kids[i] = 0;
        }
}

static void reaped(pid_t pid)
{
    for (int i = 0; i < n_kids; i++)
        if (kids[i] == pid) kids[i] = 0;
}

/* kubectl port-forward WORDS..., its output in log; waits for "Forwarding from". */
static pid_t port_forward(const char *log, const char *const *words)
{
    const char *argv[RUN_MAX_ARGS] = {KUBECTL, "--kubeconfig", conf, "port-forward"};
    int n = 4;
    pid_t pid;
    char *out;

    while (*words && n < RUN_MAX_ARGS - 1) argv[n++] = *words++;
    argv[n] = NULL;
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        run_child_setup(C.home, NULL, log, log);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    CHECK(n_kids < (int)ORC_ARRAY_LEN(kids));
    kids[n_kids++] = pid;
    out = wait_for_output(log, "Forwarding from", 20000);
    free(out);
    return pid;
}

#define PORT_FORWARD(log, ...) port_forward(log, (const char *const[]){__VA_ARGS__, NULL})

static void stop(pid_t pid, int sig)
{
    kill(pid, sig);
    waitpid(pid, NULL, 0);
    reaped(pid);
}

/* curl URL: the body (or NULL on failure, with the rc in *rc). */
static char *curl(const char *url, int *rc)
{
    const char *argv[] = {"/usr/bin/curl", "-sS", "--max-time", "20", url, NULL};
    char *out = NULL, *err = NULL;

    *rc = run_prog(C.home, NULL, &out, &err, argv);
    free(err);
    if (*rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static void create(const char *path, const char *body)
{
    char *resp = NULL;
    int status = t_http(&C, 0, "POST", path, NULL, body, &resp, NULL);

    CHECKF(status == 201, "create %s: %d %s", path, status, resp ? resp : "");
    free(resp);
}

#define WEB_COMMAND                                                                                       \
    "\"command\":[\"sh\",\"-c\",\"mkdir -p /tmp/www && echo hello > /tmp/www/index.html && "             \
    "dd if=/dev/zero bs=1024 count=%d 2>/dev/null | busybox tr '\\\\000' x > /tmp/www/big && "               \
    "exec httpd -f -p 127.0.0.1:8080 -h /tmp/www\"]"

/* Whether a pod labelled app=app (the Deployment's) runs. */
static bool app_running(void)
{
    json_t *l = wl_get("/api/v1/namespaces/default/pods?labelSelector=app%3Dapp"), *p;
    bool ok = false;
    size_t i;

    json_array_foreach(json_object_get(l, "items"), i, p)
    {
        const char *ph = orc_json_str(p, "status.phase");
        ok |= ph && strcmp(ph, "Running") == 0;
    }
    json_decref(l);
    return ok;
}

/* A pod whose httpd listens on 127.0.0.1:8080 only, a Service for it, and
 * a Deployment of the same. */
static void start_web(void)
{
    const char *extra[] = {"--node-name", node, NULL};
    char body[2048];
    uint64_t end;

    fx_setup(true, false);
    wl_init("pf", delete_all_at_end);
    test_defer(kill_kids, NULL);
    cluster_start(&C, extra);
    snprintf(conf, sizeof conf, "%s/admin.conf", C.m[0].dir);
    wl_wait_node(node, 20000);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
             "\"spec\":{\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\","
             "\"image\":\"%s\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]," WEB_COMMAND "}]}}",
             F.image, BIG_KIB);
    create("/api/v1/namespaces/default/pods", body);
    create("/api/v1/namespaces/default/services",
           "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
           "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":80,\"targetPort\":\"http\"}]}}");
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"app\"},"
             "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"app\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"app\"}},\"spec\":{"
             "\"terminationGracePeriodSeconds\":1,\"containers\":[{\"name\":\"c\",\"image\":\"%s\"," WEB_COMMAND
             "}]}}}}",
             F.image, BIG_KIB);
    create("/apis/apps/v1/namespaces/default/deployments", body);
    wl_wait_running("web", 30000);
    end = test_now_ms() + 30000;
    while (!app_running() && test_now_ms() < end) usleep(100 * 1000);
    CHECKF(app_running(), "the Deployment's pod is not running");
}

/* kubectl and orctl resolve deploy/NAME to a running pod of its selector. */
static void forward_deployment(void)
{
    char log[700], *body;
    int rc;
    pid_t pid;

    snprintf(log, sizeof log, "%s/pf-deploy.log", C.home);
    pid = PORT_FORWARD(log, "deploy/app", "17687:8080");
    body = curl("http://127.0.0.1:17687/index.html", &rc);
    CHECKF(body && strcmp(body, "hello\n") == 0, "through deploy/app: rc %d", rc);
    free(body);
    stop(pid, SIGTERM);
    unlink(log);
    pid = spawn_orctl(C.home, log, (const char *const[]){"port-forward", "deploy/app", "17688:8080", NULL});
    kids[n_kids++] = pid;
    free(wait_for_output(log, "Forwarding from 127.0.0.1:17688 -> 8080", 20000));
    body = curl("http://127.0.0.1:17688/index.html", &rc);
    CHECKF(body && strcmp(body, "hello\n") == 0, "orctl through deploy/app: rc %d", rc);
    free(body);
    CHECK_INT(stop_orctl(pid, SIGTERM), ==, 0);
    reaped(pid);
    unlink(log);
}

/* Two requests through one forward, and a large body whole. */
static void forward_pod(void)
{
    char log[700], *body;
    int rc;
    pid_t pid;

    snprintf(log, sizeof log, "%s/pf-pod.log", C.home);
    pid = PORT_FORWARD(log, "pod/web", "17681:8080");
    body = curl("http://127.0.0.1:17681/index.html", &rc);
    CHECKF(body && strcmp(body, "hello\n") == 0, "first request: rc %d body %s", rc, body ? body : "");
    free(body);
    body = curl("http://127.0.0.1:17681/index.html", &rc);
    CHECKF(body && strcmp(body, "hello\n") == 0, "second request: rc %d", rc);
    free(body);
    body = curl("http://127.0.0.1:17681/big", &rc);
    CHECKF(body && strlen(body) == BIG_KIB * 1024u, "big body: rc %d, %zu bytes", rc, body ? strlen(body) : 0);
    CHECK(strspn(body, "x") == BIG_KIB * 1024u);
    free(body);
    stop(pid, SIGTERM);
    unlink(log);
}

/* kubectl resolves svc/NAME to a pod and the named target port. */
static void forward_service(void)
{
    char log[700], *body, *out;
    int rc;
    pid_t pid;

    snprintf(log, sizeof log, "%s/pf-svc.log", C.home);
    pid = PORT_FORWARD(log, "svc/web", "17682:80");
    out = run_read_file(log);
    CHECKF(out && strstr(out, "-> 8080"), "kubectl's output: %s", out ? out : "");
    free(out);
    body = curl("http://127.0.0.1:17682/index.html", &rc);
    CHECKF(body && strcmp(body, "hello\n") == 0, "through svc/web: rc %d", rc);
    free(body);
    stop(pid, SIGTERM);
    unlink(log);
}

/* Nothing listens on 9999: the agent's error reaches kubectl. */
static void forward_closed_port(void)
{
    char log[700], *body, *out;
    int rc;
    pid_t pid;

    snprintf(log, sizeof log, "%s/pf-closed.log", C.home);
    pid = PORT_FORWARD(log, "pod/web", "17683:9999");
    body = curl("http://127.0.0.1:17683/", &rc);
    CHECKF(body == NULL || *body == '\0', "a closed port answered: %s", body);
    free(body);
    out = wait_for_output(log, "error forwarding port 9999", 10000);
    CHECKF(strstr(out, "connection refused"), "kubectl's output: %s", out);
    free(out);
    stop(pid, SIGKILL);
    unlink(log);
}

/* Connections to the pod's port 8080 (`netstat` inside the pod). */
static int pod_connections(void)
{
    const char *argv[] = {KUBECTL, "--kubeconfig", conf, "exec", "web", "--", "busybox", "netstat", "-tn", NULL};
    char *out = NULL, *err = NULL;
    int n = 0, rc = run_prog(C.home, NULL, &out, &err, argv);

    CHECKF(rc == 0, "netstat: %d %s", rc, err);
    for (const char *p = out; (p = strstr(p, "127.0.0.1:8080 ")) != NULL; p++) {
        const char *eol = strchr(p, '\n');
        if (eol && memmem(p, (size_t)(eol - p), "ESTABLISHED", 11)) n++;
    }
    free(out);
    free(err);
    return n;
}

/* A connection held open through kubectl; kubectl killed: the agent closes
 * its side to the pod. */
static void killed_kubectl(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(17684)};
    char log[700];
    uint64_t end;
    int fd;
    pid_t pid;

    snprintf(log, sizeof log, "%s/pf-kill.log", C.home);
    pid = PORT_FORWARD(log, "pod/web", "17684:8080");
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(write(fd, "GET /index.html HTTP/1.1\r\nHost: x\r\n", 35) == 35); /* unfinished: httpd waits */
    end = test_now_ms() + 10000;
    while (pod_connections() == 0 && test_now_ms() < end) usleep(200 * 1000);
    CHECKF(pod_connections() > 0, "no connection reached the pod");
    stop(pid, SIGKILL);
    end = test_now_ms() + 10000;
    while (pod_connections() > 0 && test_now_ms() < end) usleep(200 * 1000);
    CHECKF(pod_connections() == 0, "the pod's side stayed open after kubectl was killed");
    close(fd);
    unlink(log);
}

/* orctl port-forward: a Service's named targetPort, and a closed port. */
static void orctl_forward(void)
{
    char log[700], *body, *out;
    int rc;
    pid_t pid;

    snprintf(log, sizeof log, "%s/pf-orctl.log", C.home);
    pid = spawn_orctl(C.home, log, (const char *const[]){"port-forward", "svc/web", "17685:80", NULL});
    kids[n_kids++] = pid;
    out = wait_for_output(log, "Forwarding from 127.0.0.1:17685 -> 8080", 20000);
    free(out);
    for (int i = 0; i < 2; i++) {
        body = curl("http://127.0.0.1:17685/index.html", &rc);
        CHECKF(body && strcmp(body, "hello\n") == 0, "orctl request %d: rc %d", i, rc);
        free(body);
    }
    body = curl("http://127.0.0.1:17685/big", &rc);
    CHECKF(body && strlen(body) == BIG_KIB * 1024u, "orctl big body: rc %d, %zu bytes", rc, body ? strlen(body) : 0);
    free(body);
    CHECK_INT(stop_orctl(pid, SIGTERM), ==, 0);
    reaped(pid);
    unlink(log);
    snprintf(log, sizeof log, "%s/pf-orctl2.log", C.home);
    pid = spawn_orctl(C.home, log, (const char *const[]){"port-forward", "web", "17686:9999", NULL});
    kids[n_kids++] = pid;
    free(wait_for_output(log, "Forwarding from", 20000));
    body = curl("http://127.0.0.1:17686/", &rc);
    CHECKF(body == NULL || *body == '\0', "a closed port answered through orctl: %s", body);
    free(body);
    out = wait_for_output(log, "error forwarding port 9999", 10000);
    CHECKF(strstr(out, "an error occurred forwarding 17686 -> 9999"), "orctl's output: %s", out);
    free(out);
    CHECK_INT(stop_orctl(pid, SIGTERM), ==, 0);
    reaped(pid);
    unlink(log);
}

TEST_T(kubectl_port_forward, 150)
{
    if (access(KUBECTL, X_OK) != 0 || access("/usr/bin/curl", X_OK) != 0) {
        fprintf(stderr, "# SKIP: kubectl or curl is not installed on this machine\n");
        return;
    }
    start_web();
    forward_pod();
    forward_service();
    forward_deployment();
    forward_closed_port();
    killed_kubectl();
    orctl_forward();
}
