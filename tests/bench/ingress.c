/* ingress.c — the Ingress proxy under load (wrk): requests/s and p50/p99
 * through the node proxy of an `orcd server`'s embedded agent to 3
 * upstreams (a Service without selector and its EndpointSlice), beside the
 * same load straight to one upstream, and beside Debian's nginx
 * (nginx-light) configured as the same reverse proxy (one worker, as the
 * proxy is one loop; upstream keepalive). Upstreams are lib/httpd servers
 * on their own thread (tests/ingress/upstream.h). Prints a markdown table.
 * Needs root (the embedded agent's pod network), wrk and nginx; skipped
 * with a note otherwise. BENCH_SECONDS sets each load's length (default
 * 10), BENCH_CONNS the connections (default 32).
 * Run: `O=build ./build/tests/bench/ingress`. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/wlfx.h"
#include "tests/ingress/upstream.h"

#define HTTP_PORT 18180
#define UP_PORT 18190
#define NGINX_PORT 18181

static char prefix[32];

static int secs(void)
{
    const char *e = getenv("BENCH_SECONDS");
    return e && atoi(e) > 0 ? atoi(e) : 10;
}

static int conns(void)
{
    const char *e = getenv("BENCH_CONNS");
    return e && atoi(e) > 0 ? atoi(e) : 32;
}

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&C, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

static void make_objects(void)
{
    char body[2048];
    post("/api/v1/namespaces/default/services",
         "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
         "\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}");
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":"
             "{\"name\":\"web-1\",\"labels\":{\"kubernetes.io/service-name\":\"web\"}},"
             "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":%d}],\"endpoints\":["
             "{\"addresses\":[\"%s101\"]},{\"addresses\":[\"%s102\"]},{\"addresses\":[\"%s103\"]}]}",
             UP_PORT, prefix, prefix, prefix);
    post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", body);
    post("/apis/networking.k8s.io/v1/namespaces/default/ingresses",
         "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"web\"},"
         "\"spec\":{\"rules\":[{\"host\":\"web.example.com\",\"http\":{\"paths\":[{\"path\":\"/\","
         "\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}}}}]}}]}}");
}

static void wait_routed(void)
{
    char url[64];
    uint64_t end = test_now_ms() + 15000;
    snprintf(url, sizeof url, "http://%s:%d", C.m[0].ip, HTTP_PORT);
    for (;;) {
        struct http_request req = {.method = "GET", .path = "/", .host = "web.example.com",
                                   .timeout_ms = 2000};
        struct http_response r;
        int ok = http_sync_request(url, NULL, &req, &r) == 0 && r.status == 200;
        if (ok) http_response_free(&r);
        if (ok) return;
        CHECKF(test_now_ms() < end, "the proxy never routed web.example.com");
        usleep(100 * 1000);
    }
}

struct result {
    double rps, p50_ms, p99_ms;
};

static double to_ms(const char *v)
{
    double x = atof(v);
    if (strstr(v, "us")) return x / 1000;
    if (strstr(v, "ms")) return x;
    if (strstr(v, "s")) return x * 1000;
    return x;
}

static struct result run_wrk(const char *url, const char *host)
{
    char cmd[512], line[512];
    struct result r = {0};
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds --latency %s%s%s %s 2>&1", conns(), secs(),
             host ? "-H 'Host: " : "", host ? host : "", host ? "'" : "", url);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    while (fgets(line, sizeof line, p)) {
        char v[64];
        if (sscanf(line, " Requests/sec: %lf", &r.rps) == 1) continue;
        if (sscanf(line, " 50%% %63s", v) == 1) r.p50_ms = to_ms(v);
        if (sscanf(line, " 99%% %63s", v) == 1) r.p99_ms = to_ms(v);
    }
    pclose(p);
    return r;
}

/* ---- nginx ---- */

static pid_t nginx_pid;

/* SIGTERM to the master: it stops its worker before exiting (a SIGKILL
 * would orphan the worker). */
static void nginx_stop(void *arg)
{
    (void)arg;
    if (nginx_pid <= 0) return;
    kill(nginx_pid, SIGTERM);
    for (int i = 0; i < 50 && waitpid(nginx_pid, NULL, WNOHANG) == 0; i++) usleep(100 * 1000);
    if (kill(nginx_pid, 0) == 0) {
        kill(nginx_pid, SIGKILL);
        waitpid(nginx_pid, NULL, 0);
    }
}

static void nginx_start(const char *listen)
{
    char conf[700], dir[600];
    snprintf(dir, sizeof dir, "%s/nginx", test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    FILE *f = fopen(conf, "w");
    CHECK(f != NULL);
    fprintf(f,
            "worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
            "events { worker_connections 4096; }\n"
            "http {\n access_log off;\n client_body_temp_path %s;\n proxy_temp_path %s;\n"
            " upstream web {\n  server %s101:%d;\n  server %s102:%d;\n  server %s103:%d;\n"
            "  keepalive 64;\n }\n"
            " server {\n  listen %s;\n  server_name web.example.com;\n"
            "  location / {\n   proxy_pass http://web;\n   proxy_http_version 1.1;\n"
            "   proxy_set_header Connection \"\";\n   proxy_set_header Host $host;\n"
            "   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n  }\n }\n}\n",
            dir, dir, dir, dir, prefix, UP_PORT, prefix, UP_PORT, prefix, UP_PORT, listen);
    fclose(f);
    nginx_pid = fork();
    CHECK(nginx_pid >= 0);
    if (nginx_pid == 0) {
        execlp("nginx", "nginx", "-c", conf, "-p", dir, "-g", "daemon off;", (char *)NULL);
        _exit(127);
    }
    test_defer(nginx_stop, NULL);
    usleep(300 * 1000);
}

static void row(const char *what, struct result r, struct result base)
{
    printf("| %s | %.0f | %.2f | %.2f | %.2f |\n", what, r.rps, r.p50_ms, r.p99_ms,
           base.rps > 0 ? r.rps / base.rps : 0);
}

TEST_T(ingress_proxy_under_wrk, 300)
{
    static char cidr[32];
    char hp[8], url[96], a[3][64], nl[64];
    const char *addrs[3];
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));
    snprintf(hp, sizeof hp, "%d", HTTP_PORT);
    const char *extra[] = {"--node-name", node, "--cluster-cidr", cidr, "--cluster-dns", "off",
                           "--ingress-http-port", hp, "--ingress-https-port", "0", NULL};

    if (geteuid() != 0 || system("command -v wrk >/dev/null && command -v nginx >/dev/null") != 0) {
        printf("(ingress benchmark skipped: it needs root, wrk and nginx)\n");
        return;
    }
    fx_setup(false, false);
    wl_init("ingb", NULL);
    snprintf(prefix, sizeof prefix, "%s", C.m[0].ip);
    *(strrchr(prefix, '.') + 1) = '\0';
    for (int i = 0; i < 3; i++) {
        snprintf(a[i], sizeof a[i], "%s%d:%d", prefix, 101 + i, UP_PORT);
        addrs[i] = a[i];
    }
    ups_start(addrs, 3);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    make_objects();
    wait_routed();

    snprintf(url, sizeof url, "http://%s101:%d/", prefix, UP_PORT);
    struct result direct = run_wrk(url, NULL);
    snprintf(url, sizeof url, "http://%s:%d/", C.m[0].ip, HTTP_PORT);
    struct result orc = run_wrk(url, "web.example.com");
    snprintf(nl, sizeof nl, "%s:%d", C.m[0].ip, NGINX_PORT);
    nginx_start(nl);
    snprintf(url, sizeof url, "http://%s/", nl);
    struct result ngx = run_wrk(url, "web.example.com");

    printf("\n## Ingress: wrk -t2 -c%d, %d s each, small GET, loopback\n\n", conns(), secs());
    printf("| path | req/s | p50 ms | p99 ms | vs direct |\n|---|---|---|---|---|\n");
    row("straight to one upstream", direct, direct);
    row("orc node proxy -> 3 upstreams", orc, direct);
    row("nginx (1 worker, keepalive) -> 3 upstreams", ngx, direct);
    CHECK(orc.rps > 0 && direct.rps > 0 && ngx.rps > 0);
}
