/* test_ingress_e2e.c — the Ingress proxy end to end: one `orcd server`
 * with its embedded agent (proxy on the node address, test ports), a
 * Service without selector and a hand-written EndpointSlice pointing at
 * HTTP servers this test runs on 127.x addresses. Routing by host and
 * path, round robin over 3 endpoints, X-Forwarded-*, keep-alive, 404, 503
 * and 502 with their bodies, TLS by SNI from a kubernetes.io/tls Secret
 * (and the fallback certificate for other names), a slow client that
 * blocks no one, the default IngressClass, and status.loadBalancer. Needs
 * root (the embedded agent's pod network). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/tls.h"
#include "tests/e2e/wlfx.h"
#include "tests/ingress/upstream.h"

#define HTTP_PORT 18080
#define HTTPS_PORT 18443
#define UP_PORT 18090
#define DEAD_PORT 18091 /* nothing listens there */

static char prefix[32]; /* "127.A.B." of the member */

static void post(const char *path, const char *body)
{
    char *resp = NULL;
    int st = t_http(&C, 0, "POST", path, NULL, body, &resp, NULL);
    CHECKF(st == 201, "POST %s: %d %s", path, st, resp ? resp : "");
    free(resp);
}

static void make_service(const char *name, const char *pname)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"ports\":[{\"name\":\"%s\",\"port\":80,\"targetPort\":%d}]}}",
             name, pname, UP_PORT);
    post("/api/v1/namespaces/default/services", body);
}

/* A slice of `svc` with the endpoints prefix+last[i] at port. */
static void make_slice(const char *svc, const char *pname, int port, const int *last, int n)
{
    char body[2048], eps[1024] = "";
    size_t off = 0;
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(eps + off, sizeof eps - off, "%s{\"addresses\":[\"%s%d\"],"
                                "\"conditions\":{\"ready\":true}}", i ? "," : "", prefix, last[i]);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":"
             "{\"name\":\"%s-1\",\"labels\":{\"kubernetes.io/service-name\":\"%s\"}},"
             "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"%s\",\"port\":%d,\"protocol\":\"TCP\"}],"
             "\"endpoints\":[%s]}",
             svc, svc, pname, port, eps);
    post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", body);
}

static const char *const ingress_json =
    "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"web\"},"
    "\"spec\":{\"tls\":[{\"hosts\":[\"secure.example.com\"],\"secretName\":\"secure-tls\"}],"
    "\"rules\":[{\"host\":\"web.example.com\",\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":"
    "\"Prefix\",\"backend\":{\"service\":{\"name\":\"web\",\"port\":{\"name\":\"http\"}}}}]}},"
    "{\"host\":\"api.example.com\",\"http\":{\"paths\":["
    "{\"path\":\"/v1\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"api\",\"port\":{\"number\":80}}}},"
    "{\"path\":\"/empty\",\"pathType\":\"Exact\",\"backend\":{\"service\":{\"name\":\"empty\",\"port\":{\"number\":80}}}},"
    "{\"path\":\"/dead\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"dead\",\"port\":{\"number\":80}}}}]}},"
    "{\"host\":\"secure.example.com\",\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\","
    "\"backend\":{\"service\":{\"name\":\"api\",\"port\":{\"number\":80}}}}]}}]}}";

/* One request through the proxy's HTTP port, Host given; the status, and
 * the body in *body (malloc'd). */
static int get(const char *host, const char *path, char **body)
{
    char url[64];
    struct http_request req = {.method = "GET", .path = path, .host = host, .timeout_ms = 5000};
    struct http_response r;
    snprintf(url, sizeof url, "http://%s:%d", C.m[0].ip, HTTP_PORT);
    int rc = http_sync_request(url, NULL, &req, &r);
    if (rc != 0) {
        *body = strdup(orc_strerror(rc));
        return 0;
    }
    *body = strdup(r.body ? r.body : "");
    int st = r.status;
    http_response_free(&r);
    return st;
}

/* Polls until host+path answers `want` with `needle` in the body. */
static void wait_answer(const char *host, const char *path, int want, const char *needle)
{
    uint64_t end = test_now_ms() + 15000;
    char *body = NULL;
    int st;
    for (;;) {
        st = get(host, path, &body);
        if (st == want && strstr(body, needle)) break;
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "%s%s: %d %s (want %d %s)", host, path, st, body, want,
                      needle);
        }
        free(body);
        usleep(100 * 1000);
    }
    free(body);
}

static int tcp_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0 && inet_pton(AF_INET, C.m[0].ip, &sa.sin_addr) == 1);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECKF(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect to the proxy: %m");
    return fd;
}

/* Reads one response (Content-Length or chunked) into buf. */
static size_t read_response(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        buf[n] = '\0';
        const char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "content-length:");
        if (end && cl && cl < end && n >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10)) break;
        if (end && strstr(end, "\r\n0\r\n\r\n")) break;
    }
    buf[n] = '\0';
    return n;
}

static void check_keep_alive(void)
{
    int fd = tcp_connect(HTTP_PORT);
    char buf[4096];
    const char *req = "GET /ka HTTP/1.1\r\nHost: web.example.com\r\n\r\n";
    for (int i = 0; i < 3; i++) {
        CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
        read_response(fd, buf, sizeof buf);
        CHECKF(strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "path=/ka"),
               "request %d on one connection: %s", i, buf);
        CHECK(strcasestr(buf, "X-Upstream: yes") != NULL); /* the upstream's headers pass */
    }
    close(fd);
}

static void check_round_robin(void)
{
    int seen[3] = {0};
    char *body;
    for (int i = 0; i < 9; i++) {
        CHECK_INT(get("web.example.com", "/rr?x=1", &body), ==, 200);
        for (int b = 0; b < 3; b++) {
            char want[48];
            snprintf(want, sizeof want, "be=%s%d:", prefix, 101 + b);
            seen[b] += strstr(body, want) != NULL;
        }
        free(body);
    }
    CHECKF(seen[0] == 3 && seen[1] == 3 && seen[2] == 3, "round robin %d/%d/%d", seen[0], seen[1],
           seen[2]);
}

static void check_headers_and_errors(void)
{
    char *body, want[128];
    CHECK_INT(get("web.example.com:18080", "/a/b?q=1", &body), ==, 200);
    CHECKF(strstr(body, "host=web.example.com:18080 ") && strstr(body, "proto=http ")
               && strstr(body, "xhost=web.example.com:18080 ") && strstr(body, "path=/a/b?q=1"),
           "forwarded: %s", body);
    snprintf(want, sizeof want, "xff=%s", "127."); /* the test's own address */
    CHECKF(strstr(body, want) != NULL, "X-Forwarded-For: %s", body);
    free(body);
    CHECK_INT(get("api.example.com", "/v1/x", &body), ==, 200);
    snprintf(want, sizeof want, "be=%s104:", prefix);
    CHECKF(strstr(body, want) != NULL, "path routing: %s", body);
    free(body);
    CHECK_INT(get("web.example.com", "/big", &body), ==, 200); /* streamed, chunked */
    CHECK_INT(strlen(body), ==, 200u << 10);
    free(body);
    CHECK_INT(get("api.example.com", "/v10", &body), ==, 404); /* Prefix is by path element */
    CHECKF(strstr(body, "no Ingress rule matches host \"api.example.com\""), "404: %s", body);
    free(body);
    CHECK_INT(get("nowhere.example.com", "/", &body), ==, 404);
    free(body);
    CHECK_INT(get("api.example.com", "/empty", &body), ==, 503);
    CHECKF(strstr(body, "no ready endpoint for service default/empty"), "503: %s", body);
    free(body);
    CHECK_INT(get("api.example.com", "/dead", &body), ==, 502);
    CHECKF(strstr(body, "upstream") && strstr(body, "failed"), "502: %s", body);
    free(body);
}

/* A client that sent half a request head holds a connection, not the proxy. */
static void check_slow_client(void)
{
    int slow = tcp_connect(HTTP_PORT);
    const char *half = "GET / HTTP/1.1\r\nHo";
    CHECK(write(slow, half, strlen(half)) == (ssize_t)strlen(half));
    uint64_t t0 = test_now_ms();
    char *body;
    CHECK_INT(get("web.example.com", "/fast", &body), ==, 200);
    free(body);
    CHECKF(test_now_ms() - t0 < 2000, "a request waited %llu ms behind a slow client",
           (unsigned long long)(test_now_ms() - t0));
    close(slow);
}

/* ---- TLS ---- */

static char *ca_pem, *ca_key;

static void make_tls_secret(void)
{
    char err[ORC_TLS_ERRLEN], *crt, *key;
    const char *sans[] = {"secure.example.com"};
    struct orc_buf c64 = ORC_BUF_INIT, k64 = ORC_BUF_INIT;
    CHECKF(orc_tls_make_ca("ingress test CA", 1, &ca_pem, &ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert(ca_pem, ca_key, "secure.example.com", sans, 1, 1, &crt, &key, err) == 0,
           "%s", err);
    CHECK(orc_base64_encode(crt, strlen(crt), false, &c64) == 0
          && orc_base64_encode(key, strlen(key), false, &k64) == 0);
    size_t n = c64.len + k64.len + 512;
    char *body = malloc(n);
    CHECK(body != NULL);
    snprintf(body, n,
             "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"secure-tls\"},"
             "\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"%.*s\",\"tls.key\":\"%.*s\"}}",
             (int)c64.len, c64.data, (int)k64.len, k64.data);
    post("/api/v1/namespaces/default/secrets", body);
    free(body);
    free(crt);
    free(key);
    orc_buf_free(&c64);
    orc_buf_free(&k64);
}

static void free_ca(void *arg)
{
    (void)arg;
    free(ca_pem);
    free(ca_key);
}

/* GET / over TLS with SNI `name`: *verified tells whether the certificate
 * chains to the test CA and names `name`; the response goes to buf. */
static void tls_get(const char *name, bool *verified, char *buf, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    BIO *b = BIO_new_mem_buf(ca_pem, -1);
    X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
    CHECK(ctx && ca);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    int fd = tcp_connect(HTTPS_PORT);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, name);
    CHECKF(SSL_connect(ssl) == 1, "TLS handshake for %s", name);
    X509 *peer = SSL_get1_peer_certificate(ssl);
    *verified = SSL_get_verify_result(ssl) == X509_V_OK && peer
                && X509_check_host(peer, name, 0, 0, NULL) == 1;
    char req[256];
    snprintf(req, sizeof req, "GET /tls HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", name);
    CHECK(SSL_write(ssl, req, (int)strlen(req)) > 0);
    size_t n = 0;
    int r;
    while (n + 1 < cap && (r = SSL_read(ssl, buf + n, (int)(cap - 1 - n))) > 0) n += (size_t)r;
    buf[n] = '\0';
    X509_free(peer);
    SSL_free(ssl);
    close(fd);
    X509_free(ca);
    BIO_free(b);
    SSL_CTX_free(ctx);
}

static void check_tls(void)
{
    char buf[4096];
    bool ok = false;
    uint64_t end = test_now_ms() + 15000;
    /* The Secret reaches the agent's informer a moment after the rules. */
    for (;;) {
        tls_get("secure.example.com", &ok, buf, sizeof buf);
        if (ok || test_now_ms() > end) break;
        usleep(200 * 1000);
    }
    CHECKF(ok, "the certificate for secure.example.com is the Secret's");
    CHECKF(strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "proto=https"), "over TLS: %s", buf);
    tls_get("other.example.com", &ok, buf, sizeof buf);
    CHECKF(!ok, "another name gets the fallback certificate");
    CHECKF(strncmp(buf, "HTTP/1.1 404", 12) == 0, "no rule for it: %s", buf);
}

static void wait_status(void)
{
    uint64_t end = test_now_ms() + 20000;
    for (;;) {
        json_t *ing = wl_get("/apis/networking.k8s.io/v1/namespaces/default/ingresses/web");
        const char *ip = orc_json_str(json_array_get(orc_json_get(ing, "status.loadBalancer.ingress"), 0), "ip");
        bool done = ip && strcmp(ip, C.m[0].ip) == 0;
        json_decref(ing);
        if (done) return;
        if (test_now_ms() > end) {
            wl_dump_log();
            test_fail(__FILE__, __LINE__, "status.loadBalancer of the Ingress never named %s", C.m[0].ip);
        }
        usleep(200 * 1000);
    }
}

TEST_T(ingress_routes_through_the_node_proxy, 90)
{
    static char cidr[32];
    char hp[8], hsp[8], a[4][64];
    snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + (int)(getpid() % 150));
    snprintf(hp, sizeof hp, "%d", HTTP_PORT);
    snprintf(hsp, sizeof hsp, "%d", HTTPS_PORT);
    const char *extra[] = {"--node-name", node, "--cluster-cidr", cidr, "--cluster-dns", "off",
                           "--ingress-http-port", hp, "--ingress-https-port", hsp, NULL};

    if (geteuid() != 0) {
        printf("# needs root: skipped\n");
        return;
    }
    fx_setup(false, false);
    wl_init("ing", NULL);
    test_defer(free_ca, NULL);
    snprintf(prefix, sizeof prefix, "%s", C.m[0].ip);
    *(strrchr(prefix, '.') + 1) = '\0';
    const char *addrs[4];
    for (int i = 0; i < 4; i++) {
        snprintf(a[i], sizeof a[i], "%s%d:%d", prefix, 101 + i, UP_PORT);
        addrs[i] = a[i];
    }
    ups_start(addrs, 4);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);

    json_t *cls = wl_get("/apis/networking.k8s.io/v1/ingressclasses/orc");
    CHECK(cls != NULL);
    CHECK_STR(orc_json_str(cls, "spec.controller"), "orc.dev/ingress");
    json_decref(cls);

    static const int web[] = {101, 102, 103}, api[] = {104}, dead[] = {105};
    make_service("web", "http");
    make_slice("web", "http", UP_PORT, web, 3);
    make_service("api", "");
    make_slice("api", "", UP_PORT, api, 1);
    make_service("empty", "");
    make_service("dead", "");
    make_slice("dead", "", DEAD_PORT, dead, 1);
    make_tls_secret();
    post("/apis/networking.k8s.io/v1/namespaces/default/ingresses", ingress_json);

    wait_answer("web.example.com", "/", 200, "be=");
    check_round_robin();
    check_headers_and_errors();
    check_keep_alive();
    check_slow_client();
    check_tls();
    wait_status();
}
