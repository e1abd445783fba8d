/* test_ingress_proxy.c — the node proxy (ingress/proxy.h) alone, without
 * root or a server: a proxy on its own loop thread on a loopback address of its own, tables
 * built from JSON here and swapped in, upstreams from upstream.h. Request
 * bodies forwarded, round robin, a table swap dropping an endpoint (its
 * pool closed, requests go to the rest), an endpoint refusing connections
 * (the next one takes the request), and the proxy's own answers. */
#include <pthread.h>

#include "client/http.h"
#include "ingress/proxy.h"
#include "lib/orc.h"
#include "tests/ingress/upstream.h"

/* An address of this process's own on loopback: ports derived from the
 * pid could be held by other processes' connections on 127.0.0.1. */
static const char *up(void)
{
    static char ip[32];
    if (!ip[0]) snprintf(ip, sizeof ip, "127.%d.%d.9", 100 + (int)(getpid() % 100), (int)(getpid() / 100 % 250));
    return ip;
}

struct px {
    uv_loop_t loop;
    uv_async_t wake;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ingress_proxy *proxy;
    struct ingress_table *pending; /* to set on the loop */
    bool stop, started, swapped;
    int port;
};

static void px_closed(void *arg)
{
    struct px *x = arg;
    uv_close((uv_handle_t *)&x->wake, NULL);
}

static void px_wake(uv_async_t *a)
{
    struct px *x = a->data;
    pthread_mutex_lock(&x->mu);
    struct ingress_table *t = x->pending;
    bool stop = x->stop;
    x->pending = NULL;
    pthread_mutex_unlock(&x->mu);
    if (t) ingress_proxy_set_table(x->proxy, t, NULL, NULL);
    pthread_mutex_lock(&x->mu);
    x->swapped = true;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (stop) ingress_proxy_stop(x->proxy, px_closed, x);
}

static void *px_main(void *arg)
{
    struct px *x = arg;
    char err[256] = "";
    struct ingress_proxy_config pc = {.address = up(), .http_port = x->port};
    int rc = ingress_proxy_start(&x->loop, &pc, &x->proxy, err);
    if (rc != 0) fprintf(stderr, "# proxy: %s\n", err);
    pthread_mutex_lock(&x->mu);
    x->started = true;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    if (rc == 0) uv_run(&x->loop, UV_RUN_DEFAULT);
    return NULL;
}

static struct px X;

static void px_set(struct ingress_table *t)
{
    pthread_mutex_lock(&X.mu);
    X.pending = t;
    X.swapped = false;
    uv_async_send(&X.wake);
    while (!X.swapped) pthread_cond_wait(&X.cv, &X.mu);
    pthread_mutex_unlock(&X.mu);
}

static void px_stop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&X.mu);
    X.stop = true;
    pthread_mutex_unlock(&X.mu);
    uv_async_send(&X.wake);
    pthread_join(X.thread, NULL);
    (void)uv_loop_close(&X.loop);
}

static void px_start(int port)
{
    memset(&X, 0, sizeof X);
    X.port = port;
    CHECK(uv_loop_init(&X.loop) == 0);
    CHECK(uv_async_init(&X.loop, &X.wake, px_wake) == 0);
    X.wake.data = &X;
    pthread_mutex_init(&X.mu, NULL);
    pthread_cond_init(&X.cv, NULL);
    CHECK(pthread_create(&X.thread, NULL, px_main, &X) == 0);
    pthread_mutex_lock(&X.mu);
    while (!X.started) pthread_cond_wait(&X.cv, &X.mu);
    pthread_mutex_unlock(&X.mu);
    test_defer(px_stop, NULL);
    CHECK(X.proxy != NULL);
}

/* A table: Service web (port 80 -> the upstream ports given), Ingress
 * host web.test "/" -> web; "/none" -> Service none (no endpoints). */
static struct ingress_table *table(const int *ports, int n)
{
    char eps[1024] = "", text[4096];
    size_t off = 0;
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(eps + off, sizeof eps - off,
                                "%s{\"addressType\":\"IPv4\",\"metadata\":{\"namespace\":\"d\","
                                "\"name\":\"s%d\",\"labels\":{\"kubernetes.io/service-name\":\"web\"}},"
                                "\"ports\":[{\"port\":%d}],\"endpoints\":[{\"addresses\":[\"%s\"]}]}",
                                i ? "," : "", i, ports[i], up());
    snprintf(text, sizeof text,
             "{\"ing\":[{\"metadata\":{\"namespace\":\"d\",\"name\":\"i\"},\"spec\":{\"rules\":[{\"host\":"
             "\"web.test\",\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":"
             "{\"service\":{\"name\":\"web\",\"port\":{\"number\":80}}}},{\"path\":\"/none\",\"pathType\":"
             "\"Exact\",\"backend\":{\"service\":{\"name\":\"none\",\"port\":{\"number\":80}}}}]}}]}}],"
             "\"cls\":[{\"metadata\":{\"name\":\"orc\",\"annotations\":{\"" INGRESS_ANN_DEFAULT_CLASS
             "\":\"true\"}},\"spec\":{\"controller\":\"" INGRESS_CONTROLLER "\"}}],"
             "\"svc\":[{\"metadata\":{\"namespace\":\"d\",\"name\":\"web\"},\"spec\":{\"ports\":[{\"port\":80}]}},"
             "{\"metadata\":{\"namespace\":\"d\",\"name\":\"none\"},\"spec\":{\"ports\":[{\"port\":80}]}}],"
             "\"sl\":[%s]}",
             eps);
    json_error_t e;
    json_t *all = json_loads(text, 0, &e);
    CHECKF(all != NULL, "%s", e.text);
    struct ingress_inputs in = {json_object_get(all, "ing"), json_object_get(all, "cls"),
                                json_object_get(all, "svc"), json_object_get(all, "sl")};
    struct ingress_table *t = ingress_table_build(&in);
    json_decref(all);
    CHECK(t != NULL);
    return t;
}

static int req(const char *method, const char *host, const char *path, const char *body,
               char **out)
{
    char url[64];
    struct http_request r = {.method = method, .path = path, .host = host, .timeout_ms = 5000,
                             .body = body, .body_len = body ? strlen(body) : 0,
                             .content_type = body ? "text/plain" : NULL};
    struct http_response resp;
    snprintf(url, sizeof url, "http://%s:%d", up(), X.port);
    int rc = http_sync_request(url, NULL, &r, &resp);
    if (rc != 0) {
        *out = strdup(orc_strerror(rc));
        return 0;
    }
    *out = strdup(resp.body ? resp.body : "");
    rc = resp.status;
    http_response_free(&resp);
    return rc;
}

TEST(proxy_forwards_and_swaps_tables)
{
    int base = 20000 + (int)(getpid() % 20000);
    int ports[3] = {base + 1, base + 2, base + 3};
    char a[3][64], *body;
    const char *addrs[3];
    for (int i = 0; i < 3; i++) {
        snprintf(a[i], sizeof a[i], "%s:%d", up(), ports[i]);
        addrs[i] = a[i];
    }
    ups_start(addrs, 3);
    px_start(base);

    CHECK_INT(req("GET", "web.test", "/", NULL, &body), ==, 404); /* no table yet */
    free(body);
    px_set(table(ports, 3));
    int seen[3] = {0};
    for (int i = 0; i < 6; i++) {
        CHECK_INT(req("GET", "web.test", "/x", NULL, &body), ==, 200);
        for (int b = 0; b < 3; b++) seen[b] += strstr(body, a[b]) != NULL;
        free(body);
    }
    CHECKF(seen[0] == 2 && seen[1] == 2 && seen[2] == 2, "%d/%d/%d", seen[0], seen[1], seen[2]);

    char big[5000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(req("POST", "web.test", "/upload", big, &body), ==, 200);
    CHECKF(strstr(body, "len=4999") && strstr(body, "proto=http "), "POST: %s", body);
    free(body);

    CHECK_INT(req("GET", "web.test", "/none", NULL, &body), ==, 503);
    CHECKF(strstr(body, "no ready endpoint for service d/none"), "%s", body);
    free(body);
    CHECK_INT(req("GET", "other.test", "/", NULL, &body), ==, 404);
    free(body);

    /* The third endpoint goes: its pool is closed, nothing reaches it. */
    px_set(table(ports, 2));
    for (int i = 0; i < 4; i++) {
        CHECK_INT(req("GET", "web.test", "/y", NULL, &body), ==, 200);
        CHECKF(!strstr(body, a[2]), "a removed endpoint answered: %s", body);
        free(body);
    }
    /* An endpoint that refuses connections: the request goes to the next. */
    int some_dead[3] = {base + 4, ports[0], base + 5};
    px_set(table(some_dead, 3));
    for (int i = 0; i < 6; i++) {
        CHECK_INT(req("GET", "web.test", "/z", NULL, &body), ==, 200);
        CHECKF(strstr(body, a[0]) != NULL, "%s", body);
        free(body);
    }
    int all_dead[2] = {base + 4, base + 5};
    px_set(table(all_dead, 2));
    CHECK_INT(req("GET", "web.test", "/z", NULL, &body), ==, 502);
    CHECKF(strstr(body, "failed"), "%s", body);
    free(body);
    /* No endpoint at all. */
    px_set(table(ports, 0));
    CHECK_INT(req("GET", "web.test", "/", NULL, &body), ==, 503);
    free(body);
}
