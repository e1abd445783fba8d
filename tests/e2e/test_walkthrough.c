/* test_walkthrough.c — Kubernetes' "Connecting Applications with Services"
 * walkthrough, step by step as its page has it, with orctl on a three-node
 * network test bed (real servers, agents, containers; busybox's httpd
 * stands in for nginx, which is not in the test registry): the my-nginx
 * Deployment's pods answer on their own IPs from another node; `orctl
 * expose` makes the Service and its EndpointSlice lists both pods; pods
 * created after the Service get its environment variables; kube-dns exists
 * and a client pod resolves my-nginx by name and reaches both replicas
 * through it; as a NodePort the Service answers on every node's address
 * from outside the nodes (the lab), and as a LoadBalancer on every address
 * its status lists. Root only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "tests/cli/run.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"
#define NODES 3

static struct netbed B;

/* The page's run-my-nginx.yaml; the container serves its hostname on :80. */
static const char *nginx_yaml(void)
{
    static char y[2048];
    snprintf(y, sizeof y,
             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: my-nginx\nspec:\n"
             "  selector:\n    matchLabels:\n      run: my-nginx\n  replicas: 2\n  template:\n"
             "    metadata:\n      labels:\n        run: my-nginx\n    spec:\n"
             "      terminationGracePeriodSeconds: 1\n      containers:\n      - name: my-nginx\n"
             "        image: %s\n"
             "        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']\n"
             "        ports:\n        - containerPort: 80\n"
             "        readinessProbe:\n          httpGet: {path: /, port: 80}\n          periodSeconds: 1\n",
             B.image);
    return y;
}

/* orctl with stdin `in` (may be NULL); checks exit 0; stdout (free it). */
static char *orctl(const char *in, const char *arg, ...)
{
    const char *argv[RUN_MAX_ARGS] = {arg};
    int n = 1;
    va_list ap;
    va_start(ap, arg);
    for (const char *a; n < RUN_MAX_ARGS - 1 && (a = va_arg(ap, const char *));) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    char path[600];
    snprintf(path, sizeof path, "%s/orctl", getenv("O") ? getenv("O") : "build");
    const char *full[RUN_MAX_ARGS + 1] = {path};
    memcpy(full + 1, argv, (size_t)(n + 1) * sizeof *argv);
    int rc = run_prog(B.c.home, in, &out, &err, full);
    CHECKF(rc == 0, "orctl %s %s: exit %d\n%s%s", arg, argv[1] ? argv[1] : "", rc, out, err);
    free(err);
    return out;
}

/* orctl's output until it holds `want` (tried every 200 ms). */
static char *orctl_until(const char *want, unsigned limit_ms, const char *const *words)
{
    uint64_t end = test_now_ms() + limit_ms;
    for (;;) {
        char path[600], *out = NULL, *err = NULL;
        snprintf(path, sizeof path, "%s/orctl", getenv("O") ? getenv("O") : "build");
        const char *full[RUN_MAX_ARGS + 1] = {path};
        int n = 1;
        for (; words[n - 1] && n < RUN_MAX_ARGS; n++) full[n] = words[n - 1];
        full[n] = NULL;
        int rc = run_prog(B.c.home, NULL, &out, &err, full);
        if (rc == 0 && strstr(out, want)) {
            free(err);
            return out;
        }
        if (test_now_ms() > end)
            test_fail(__FILE__, __LINE__, "orctl %s %s: no \"%s\" in:\n%s%s", words[0], words[1] ? words[1] : "",
                      want, out, err);
        free(out);
        free(err);
        test_sleep_ms(200);
    }
}
#define ORCTL_UNTIL(want, ms, ...) orctl_until(want, ms, (const char *const[]){__VA_ARGS__, NULL})

/* The names and nodes of the Running, ready pods run=my-nginx; n of them. */
static int ready_pods(char names[][64], char nodes[][64], char ips[][32], int max)
{
    int st, n = 0;
    json_t *l = t_json(&B.c, 0, "GET", PODS "?labelSelector=run%3Dmy-nginx", NULL, &st), *p, *c;
    size_t i, k;
    json_array_foreach (orc_json_get(l, "items"), i, p) {
        bool ready = false;
        json_array_foreach (orc_json_get(p, "status.conditions"), k, c)
            if (strcmp(orc_json_str(c, "type") ?: "", "Ready") == 0)
                ready = strcmp(orc_json_str(c, "status") ?: "", "True") == 0;
        if (!ready || orc_json_get(p, "metadata.deletionTimestamp") || n >= max) continue;
        snprintf(names[n], 64, "%s", orc_json_str(p, "metadata.name"));
        snprintf(nodes[n], 64, "%s", orc_json_str(p, "spec.nodeName") ?: "");
        snprintf(ips[n], 32, "%s", orc_json_str(p, "status.podIP") ?: "");
        n++;
    }
    json_decref(l);
    return n;
}

static void wait_ready_pods(int want, char names[][64], char nodes[][64], char ips[][32])
{
    uint64_t end = test_now_ms() + 90000;
    while (ready_pods(names, nodes, ips, 4) != want) {
        CHECKF(test_now_ms() < end, "not %d ready my-nginx pods (logs %s %s %s)", want, B.node[1].log,
               B.node[2].log, B.node[3].log);
        test_sleep_ms(200);
    }
}

/* In the client pod, `get HOST` sends one HTTP request to HOST:80 with nc,
 * and `resolve NAME` prints NAME's address from the cluster DNS
 * (nslookup): the test image's static busybox has neither a working wget
 * nor a resolver for nc (its glibc cannot load NSS modules), so the
 * name is looked up first, as curl would. */
#define SH_FUNCS                                                                              \
    "get() { printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 80; }; "                    \
    "resolve() { nslookup $1 | sed -n 's/^Address: *//p' | tail -1; }; "

/* `orctl exec curl -- sh -c CMD` until its output holds want. */
static char *in_client(const char *cmd, const char *want, unsigned limit_ms)
{
    return ORCTL_UNTIL(want, limit_ms, "exec", "curl", "--", "sh", "-c", cmd);
}

/* One GET from the lab (outside every node) with curl: the body, or "". */
static char *lab_get(const char *ip, int port)
{
    char url[128], *out = NULL;
    snprintf(url, sizeof url, "http://%s:%d/", ip, port);
    char *argv[] = {"curl", "-s", "-m", "3", url, NULL};
    if (netbed_run(&B, -1, argv, &out) != 0) {
        free(out);
        return strdup("");
    }
    return out ? out : strdup("");
}

static void lab_get_until(const char *ip, int port, const char *want, unsigned limit_ms)
{
    uint64_t end = test_now_ms() + limit_ms;
    for (;;) {
        char *body = lab_get(ip, port);
        bool ok = strstr(body, want) != NULL;
        free(body);
        if (ok) return;
        CHECKF(test_now_ms() < end, "%s:%d from the lab never answered \"%s\"", ip, port, want);
        test_sleep_ms(200);
    }
}

TEST_T(connecting_applications_with_services, 240)
{
    char names[4][64], nodes[4][64], ips[4][32], cmd[1024];
    if (geteuid() != 0) {
        printf("# needs root: skipped\n");
        return;
    }
    netbed_up(&B);
    netbed_servers(&B, 1, NULL);
    netbed_registry(&B);
    for (int i = 1; i <= NODES; i++) netbed_node_add(&B, NULL);
    for (int i = 1; i <= NODES; i++) netbed_node_wait(&B, i, 30000);

    /* "Exposing pods to the cluster": two replicas, each answering on its
     * own IP */
    free(orctl(nginx_yaml(), "apply", "-f", "-", NULL));
    wait_ready_pods(2, names, nodes, ips);
    /* the client runs on a node without a replica: every request crosses nodes */
    int client_node = 1;
    for (int i = 1; i <= NODES; i++)
        if (strcmp(B.node[i].name, nodes[0]) != 0 && strcmp(B.node[i].name, nodes[1]) != 0) client_node = i;
    char client[1024];
    snprintf(client, sizeof client,
             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: curl\nspec:\n  nodeName: %s\n"
             "  terminationGracePeriodSeconds: 1\n  containers:\n  - name: curl\n    image: %s\n"
             "    command: [sleep, '3600']\n",
             B.node[client_node].name, B.image);
    free(orctl(client, "apply", "-f", "-", NULL));
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, SH_FUNCS "get %s", ips[i]);
        free(in_client(cmd, names[i], 60000));
    }

    /* "Creating a Service" */
    char *out = orctl(NULL, "expose", "deployment/my-nginx", NULL);
    CHECK_STR(out, "service/my-nginx exposed\n");
    free(out);
    int st;
    json_t *svc = t_json(&B.c, 0, "GET", "/api/v1/namespaces/default/services/my-nginx", NULL, &st);
    char cip[32];
    snprintf(cip, sizeof cip, "%s", orc_json_str(svc, "spec.clusterIP") ?: "");
    CHECKF(*cip, "my-nginx has no clusterIP");
    json_decref(svc);
    free(ORCTL_UNTIL(ips[0], 10000, "get", "endpointslices", "-l", "kubernetes.io/service-name=my-nginx"));
    free(ORCTL_UNTIL(ips[1], 10000, "get", "endpointslices", "-l", "kubernetes.io/service-name=my-nginx"));

    /* "Accessing the Service", environment variables: pods made before the
     * Service have none; scaled to 0 and back, they do */
    free(orctl(NULL, "scale", "deployment", "my-nginx", "--replicas=0", NULL));
    uint64_t end = test_now_ms() + 60000;
    while (ready_pods(names, nodes, ips, 4) != 0) {
        CHECK(test_now_ms() < end);
        test_sleep_ms(200);
    }
    free(orctl(NULL, "scale", "deployment", "my-nginx", "--replicas=2", NULL));
    wait_ready_pods(2, names, nodes, ips);
    char want[96];
    snprintf(want, sizeof want, "MY_NGINX_SERVICE_HOST=%s", cip);
    out = orctl(NULL, "exec", names[0], "--", "env", NULL);
    CHECKF(strstr(out, want) && strstr(out, "MY_NGINX_SERVICE_PORT=80") && strstr(out, "KUBERNETES_SERVICE_HOST="),
           "%s", out);
    free(out);

    /* DNS: the kube-dns Service exists, and the client resolves my-nginx */
    free(ORCTL_UNTIL("10.43.0.10", 5000, "get", "services", "kube-dns", "--namespace=kube-system", "-o", "wide"));
    free(in_client("nslookup my-nginx; true", cip, 30000)); /* busybox exits 1 over AAAA */
    /* through the ClusterIP, by name: both replicas answer */
    for (int i = 0; i < 2; i++) {
        char loop[512];
        snprintf(loop, sizeof loop, SH_FUNCS "ip=$(resolve my-nginx); for i in 1 2 3 4 5 6 7 8 9 10 11 12; do get $ip; done");
        free(in_client(loop, names[i], 30000));
    }

    /* "Exposing the Service": a NodePort, from outside the nodes, on every
     * node's address */
    static const char np_yaml[] =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: my-nginx\n  labels:\n    run: my-nginx\nspec:\n"
        "  type: NodePort\n  ports:\n  - port: 80\n    targetPort: 80\n    protocol: TCP\n    name: http\n"
        "  selector:\n    run: my-nginx\n";
    free(orctl(np_yaml, "apply", "-f", "-", NULL));
    svc = t_json(&B.c, 0, "GET", "/api/v1/namespaces/default/services/my-nginx", NULL, &st);
    int64_t node_port = 0;
    orc_json_int(json_array_get(orc_json_get(svc, "spec.ports"), 0), "nodePort", &node_port);
    json_decref(svc);
    CHECKF(node_port >= 30000 && node_port <= 32767, "nodePort %lld", (long long)node_port);
    for (int i = 1; i <= NODES; i++) lab_get_until(B.node[i].ip, (int)node_port, "my-nginx", 10000);

    /* and as a LoadBalancer: EXTERNAL-IP lists the nodes, each answers on 80 */
    static const char lb_yaml[] =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: my-nginx\n  labels:\n    run: my-nginx\nspec:\n"
        "  type: LoadBalancer\n  ports:\n  - port: 80\n    targetPort: 80\n    protocol: TCP\n    name: http\n"
        "  selector:\n    run: my-nginx\n";
    free(orctl(lb_yaml, "apply", "-f", "-", NULL));
    for (int i = 1; i <= NODES; i++) free(ORCTL_UNTIL(B.node[i].ip, 10000, "get", "svc", "my-nginx"));
    for (int i = 1; i <= NODES; i++) lab_get_until(B.node[i].ip, 80, "my-nginx", 10000);
}
