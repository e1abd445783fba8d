/* test_probe.c — container probes: httpGet against a server in the test
 * (plain and HTTPS) flipping between 200 and 500, tcpSocket to open and
 * closed ports, timeouts, initialDelaySeconds, probe_check's errors,
 * probe_stop from inside on_change or with an attempt in flight, and exec
 * probes in a real container. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "agent/probe.h"
#include "lib/httpd.h"
#include "lib/tls.h"
#include "tests/agent/rtfx.h"

#define MAX_EVENTS 16

/* ---- a test HTTP server: answers S.status, or never (status 0) ---- */

static struct srv {
    struct orc_httpd *http;
    int port;
    int status;
    int hits;
    char last[2048]; /* the last request: target and headers */
    bool stopped;
} S;

static void srv_gone(struct orc_httpd_req *r) { orc_httpd_respond(r, 500, NULL, "", 0, NULL); }

static void srv_handler(void *arg, struct orc_httpd_req *r)
{
    int n;

    (void)arg;
    S.hits++;
    n = snprintf(S.last, sizeof S.last, "%s\n", r->target);
    for (int i = 0; i < r->n_headers && n > 0 && (size_t)n < sizeof S.last; i++)
        n += snprintf(S.last + n, sizeof S.last - (size_t)n, "%s: %s\n", r->headers[i].name,
                      r->headers[i].value);
    if (S.status == 0) {
        r->on_gone = srv_gone; /* hangs until the probe hangs up */
        return;
    }
    orc_httpd_respond(r, S.status, "text/plain", "x", 1, NULL);
}

static void srv_stopped(void *arg) { *(bool *)arg = true; }

static void srv_stop(void *arg)
{
    (void)arg;
    if (S.http == NULL) return;
    orc_httpd_stop(S.http, srv_stopped, &S.stopped);
    S.http = NULL;
    if (!fx_run_until(fx_flag, &S.stopped, 5000)) test_fail_later("test server did not stop");
}

static void srv_start(const struct orc_httpd_tls *tls)
{
    char err[256] = "";
    struct orc_httpd_config hc = {.listen = "127.0.0.1:0", .tls = tls, .handler = srv_handler};

    memset(&S, 0, sizeof S);
    S.status = 200;
    CHECKF(orc_httpd_start(&F.loop, &hc, &S.http, err) == 0, "%s", err);
    S.port = orc_httpd_port(S.http);
    test_defer(srv_stop, NULL);
}

/* ---- probes and what they report ---- */

static struct events {
    probe *p;
    int n;
    enum probe_result res[MAX_EVENTS];
    char msg[MAX_EVENTS][256];
    uint64_t at[MAX_EVENTS];
    bool stop_in_cb;
} E;

static void on_change(void *arg, enum probe_result res, const char *msg)
{
    (void)arg;
    if (E.n < MAX_EVENTS) {
        E.res[E.n] = res;
        snprintf(E.msg[E.n], sizeof E.msg[E.n], "%s", msg);
        E.at[E.n] = test_now_ms();
    }
    E.n++;
    if (E.stop_in_cb) {
        probe_stop(E.p);
        E.p = NULL;
    }
}

static void stop_probe(void *arg)
{
    (void)arg;
    probe_stop(E.p);
    E.p = NULL;
}

static void setup(void)
{
    fx_setup(false, false);
    memset(&E, 0, sizeof E);
    test_defer(stop_probe, NULL);
}

static void start(const char *spec_json, const struct probe_target *t)
{
    json_error_t jerr;
    json_t *spec = json_loads(spec_json, 0, &jerr);
    char err[256] = "";
    int rc;

    CHECKF(spec != NULL, "bad test JSON: %s", jerr.text);
    rc = probe_start(&F.loop, NULL, spec, t, on_change, NULL, &E.p, err);
    json_decref(spec);
    CHECKF(rc == 0, "probe_start: %s (%s)", orc_strerror(rc), err);
    CHECK(probe_result(E.p) == PROBE_UNKNOWN);
}

static bool events_at_least(void *arg) { return E.n >= *(int *)arg; }

static void wait_events(int n, unsigned timeout_ms)
{
    CHECKF(fx_run_until(events_at_least, &n, timeout_ms), "%d events after %u ms, want %d", E.n,
           timeout_ms, n);
}

static const struct probe_target local = {.ip = "127.0.0.1"};

TEST_T(http_flips_with_thresholds, 30)
{
    char spec[512];
    json_t *ctr = json_pack("{s:[{s:s,s:i}]}", "ports", "name", "web", "containerPort", 0);
    struct probe_target t = local;
    uint64_t t0;

    setup();
    srv_start(NULL);
    json_integer_set(json_object_get(json_array_get(json_object_get(ctr, "ports"), 0), "containerPort"), S.port);
    t.container = ctr;
    snprintf(spec, sizeof spec,
             "{\"httpGet\":{\"port\":\"web\",\"path\":\"/healthz?x=1\",\"httpHeaders\":"
             "[{\"name\":\"X-Custom\",\"value\":\"v 1\"}]},\"periodSeconds\":1,"
             "\"failureThreshold\":2,\"successThreshold\":2}");
    start(spec, &t);
    json_decref(ctr);
    wait_events(1, 4000);
    CHECK(E.res[0] == PROBE_SUCCESS && probe_result(E.p) == PROBE_SUCCESS);
    CHECK_INT(S.hits, ==, 2);
    CHECKF(strstr(S.last, "/healthz?x=1\n") && strstr(S.last, "user-agent: orc-probe/1\n")
               && strstr(S.last, "x-custom: v 1\n") && strstr(S.last, "connection: close\n"),
           "%s", S.last);

    S.status = 500;
    t0 = test_now_ms();
    wait_events(2, 4000);
    CHECK(E.res[1] == PROBE_FAILURE);
    CHECK_STR(E.msg[1], "HTTP probe failed with statuscode: 500");
    CHECKF(E.at[1] - t0 >= 900, "flipped after %llu ms", (unsigned long long)(E.at[1] - t0));

    S.status = 302; /* redirects count as success */
    wait_events(3, 4000);
    CHECK(E.res[2] == PROBE_SUCCESS);
    fx_run_for(1200);
    CHECK_INT(E.n, ==, 3); /* no flip while it stays */
}

TEST_T(https_is_not_verified, 30)
{
    const char *sans[] = {"127.0.0.1"};
    char *ca = NULL, *ca_key = NULL, *cert = NULL, *key = NULL, err[256] = "", spec[256];
    struct orc_httpd_tls tls;

    setup();
    CHECKF(orc_tls_make_ca("probe-ca", 2, &ca, &ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert(ca, ca_key, "srv", sans, 1, 2, &cert, &key, err) == 0, "%s", err);
    tls = (struct orc_httpd_tls){.cert_pem = cert, .key_pem = key};
    srv_start(&tls);
    free(ca), free(ca_key), free(cert), free(key);
    snprintf(spec, sizeof spec, "{\"httpGet\":{\"port\":%d,\"scheme\":\"HTTPS\"},\"failureThreshold\":1}", S.port);
    start(spec, &local);
    wait_events(1, 3000);
    CHECK(E.res[0] == PROBE_SUCCESS);
    CHECKF(strncmp(S.last, "/\n", 2) == 0, "%s", S.last);
}

/* A port nothing listens on. */
static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(fd >= 0);
    CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &len), ==, 0);
    close(fd);
    return ntohs(a.sin_port);
}

TEST_T(tcp_open_and_closed, 30)
{
    char spec[256], want[128];
    int port;

    setup();
    srv_start(NULL);
    snprintf(spec, sizeof spec, "{\"tcpSocket\":{\"port\":%d}}", S.port);
    start(spec, &local);
    wait_events(1, 3000);
    CHECK(E.res[0] == PROBE_SUCCESS);
    stop_probe(NULL);

    port = closed_port();
    memset(&E, 0, sizeof E);
    snprintf(spec, sizeof spec, "{\"tcpSocket\":{\"port\":%d,\"host\":\"127.0.0.1\"},\"failureThreshold\":1}", port);
    start(spec, &(struct probe_target){0});
    wait_events(1, 3000);
    CHECK(E.res[0] == PROBE_FAILURE);
    snprintf(want, sizeof want, "dial tcp 127.0.0.1:%d: connect: connection refused", port);
    CHECK_STR(E.msg[0], want);
    stop_probe(NULL);

    /* an HTTP probe says the same, after the URL */
    memset(&E, 0, sizeof E);
    snprintf(spec, sizeof spec, "{\"httpGet\":{\"port\":%d},\"failureThreshold\":1}", port);
    start(spec, &local);
    wait_events(1, 3000);
    snprintf(want, sizeof want, "Get \"http://127.0.0.1:%d/\": dial tcp 127.0.0.1:%d: connect: connection refused", port, port);
    CHECK_STR(E.msg[0], want);
}

TEST_T(timeout_and_stop_in_flight, 30)
{
    char spec[256];
    uint64_t t0 = test_now_ms();

    setup();
    srv_start(NULL);
    S.status = 0; /* accepts, reads, never answers */
    snprintf(spec, sizeof spec, "{\"httpGet\":{\"port\":%d},\"timeoutSeconds\":1,\"failureThreshold\":1}", S.port);
    start(spec, &local);
    wait_events(1, 4000);
    CHECK(E.res[0] == PROBE_FAILURE);
    CHECK_STR(E.msg[0], "timeout");
    CHECKF(test_now_ms() - t0 >= 950 && test_now_ms() - t0 < 2500, "after %llu ms",
           (unsigned long long)(test_now_ms() - t0));
    stop_probe(NULL);

    /* stopped while an attempt hangs: closed, no callback, nothing left */
    memset(&E, 0, sizeof E);
    snprintf(spec, sizeof spec, "{\"httpGet\":{\"port\":%d},\"timeoutSeconds\":5,\"failureThreshold\":1}", S.port);
    start(spec, &local);
    int hits = S.hits;
    while (S.hits == hits && test_now_ms() - t0 < 8000) uv_run(&F.loop, UV_RUN_ONCE);
    CHECK_INT(S.hits, ==, hits + 1);
    stop_probe(NULL);
    fx_run_for(300);
    CHECK_INT(E.n, ==, 0);
}

TEST_T(initial_delay, 30)
{
    char spec[256];
    uint64_t t0;

    setup();
    srv_start(NULL);
    snprintf(spec, sizeof spec, "{\"httpGet\":{\"port\":%d},\"initialDelaySeconds\":2}", S.port);
    t0 = test_now_ms();
    start(spec, &local);
    fx_run_for(1500);
    CHECK_INT(S.hits, ==, 0);
    wait_events(1, 3000);
    CHECK(E.res[0] == PROBE_SUCCESS);
    CHECKF(E.at[0] - t0 >= 1990 && E.at[0] - t0 < 3000, "after %llu ms", (unsigned long long)(E.at[0] - t0));
}

TEST_T(stop_inside_on_change, 30)
{
    char spec[256];

    setup();
    srv_start(NULL);
    S.status = 503;
    E.stop_in_cb = true;
    snprintf(spec, sizeof spec, "{\"httpGet\":{\"port\":%d},\"periodSeconds\":1,\"failureThreshold\":1}", S.port);
    start(spec, &local);
    wait_events(1, 3000);
    CHECK(E.p == NULL);
    CHECK_STR(E.msg[0], "HTTP probe failed with statuscode: 503");
    fx_run_for(1500);
    CHECK_INT(E.n, ==, 1);
    CHECK_INT(S.hits, ==, 1);
}

static void check_err(const char *spec_json, const json_t *ctr, const char *want)
{
    json_t *spec = json_loads(spec_json, 0, NULL);
    char err[256] = "";
    int rc;

    CHECKF(spec != NULL, "bad test JSON %s", spec_json);
    rc = probe_check(spec, ctr, err);
    json_decref(spec);
    CHECKF(rc == ORC_EINVAL, "%s: %s", spec_json, orc_strerror(rc));
    CHECKF(strstr(err, want), "%s: \"%s\" lacks \"%s\"", spec_json, err, want);
}

TEST(check_errors)
{
    json_t *ctr = json_pack("{s:[{s:s,s:i}]}", "ports", "name", "http", "containerPort", 8080);
    json_t *ok = json_loads("{\"httpGet\":{\"port\":\"http\"},\"periodSeconds\":0}", 0, NULL);
    char err[256];

    CHECK_INT(probe_check(ok, ctr, err), ==, 0);
    json_decref(ok);
    check_err("{}", ctr, "must specify a handler type");
    check_err("{\"exec\":{\"command\":[\"x\"]},\"tcpSocket\":{\"port\":1}}", ctr, "more than 1 handler");
    check_err("{\"grpc\":{\"port\":1}}", ctr, "grpc");
    check_err("{\"exec\":{}}", ctr, "exec.command");
    check_err("{\"exec\":{\"command\":[1]}}", ctr, "exec.command[0]");
    check_err("{\"tcpSocket\":{\"port\":0}}", ctr, "tcpSocket.port");
    check_err("{\"tcpSocket\":{\"port\":70000}}", ctr, "tcpSocket.port");
    check_err("{\"tcpSocket\":{\"port\":\"nope\"}}", ctr, "no container port named \"nope\"");
    check_err("{\"tcpSocket\":{\"port\":\"http\"}}", NULL, "tcpSocket.port");
    check_err("{\"tcpSocket\":{\"port\":1,\"host\":\"example.com\"}}", ctr, "tcpSocket.host");
    check_err("{\"httpGet\":{\"port\":1,\"scheme\":\"FTP\"}}", ctr, "httpGet.scheme");
    check_err("{\"httpGet\":{\"port\":1,\"path\":\"/a b\"}}", ctr, "httpGet.path");
    check_err("{\"httpGet\":{\"port\":1,\"httpHeaders\":[{\"name\":\"X\",\"value\":\"a\\r\\nB: c\"}]}}", ctr, "httpHeaders");
    check_err("{\"httpGet\":{\"port\":1},\"periodSeconds\":-1}", ctr, "periodSeconds");
    check_err("{\"httpGet\":{\"port\":1},\"timeoutSeconds\":\"1\"}", ctr, "timeoutSeconds");
    check_err("{\"httpGet\":{\"port\":1},\"failureThreshold\":1.5}", ctr, "failureThreshold");
    check_err("[]", ctr, "object");
    json_decref(ctr);

    /* and probe_start refuses what it cannot run */
    fx_setup(false, false);
    memset(&E, 0, sizeof E);
    {
        json_t *s = json_loads("{\"tcpSocket\":{\"port\":80}}", 0, NULL);
        json_t *x = json_loads("{\"exec\":{\"command\":[\"true\"]}}", 0, NULL);
        CHECK_INT(probe_start(&F.loop, NULL, s, &(struct probe_target){0}, on_change, NULL, &E.p, err), ==, ORC_EINVAL);
        CHECKF(strstr(err, "no host"), "%s", err);
        CHECK_INT(probe_start(&F.loop, NULL, x, &local, on_change, NULL, &E.p, err), ==, ORC_EINVAL);
        json_decref(s);
        json_decref(x);
        CHECK(E.p == NULL);
    }
}

/* ---- exec probes in a real container ---- */

static void exec_probe(const char *cmd_json, const char *extra, enum probe_result want, const char *msg)
{
    struct probe_target t = {.r = &(struct rt_handle){&rt_real_ops, F.r}, .container_id = "prb"};
    char spec[256];

    memset(&E, 0, sizeof E);
    snprintf(spec, sizeof spec, "{\"exec\":{\"command\":%s},\"failureThreshold\":1%s}", cmd_json, extra);
    start(spec, &t);
    wait_events(1, 8000);
    CHECKF(E.res[0] == want, "%s: result %d (%s)", cmd_json, E.res[0], E.msg[0]);
    CHECK_STR(E.msg[0], msg);
    stop_probe(NULL);
}

TEST_T(exec_in_container, 90)
{
    char log[600];
    char *argv[] = {"sleep", "1000", NULL};
    struct rt_spec s;
    uint64_t t0;

    fx_setup(true, false);
    memset(&E, 0, sizeof E);
    test_defer(stop_probe, NULL);
    fx_open();
    fx_image();
    s = fx_spec("prb", argv, log, sizeof log);
    fx_start_ok(&s);

    exec_probe("[\"true\"]", "", PROBE_SUCCESS, "");
    exec_probe("[\"false\"]", "", PROBE_FAILURE, "command exited with 1");
    exec_probe("[\"sh\",\"-c\",\"exit 7\"]", "", PROBE_FAILURE, "command exited with 7");
    t0 = test_now_ms();
    exec_probe("[\"sleep\",\"5\"]", ",\"timeoutSeconds\":1", PROBE_FAILURE, "timeout");
    CHECKF(test_now_ms() - t0 < 4000, "timeout took %llu ms", (unsigned long long)(test_now_ms() - t0));

    /* stopped with an exec in flight: its result is ignored */
    memset(&E, 0, sizeof E);
    start("{\"exec\":{\"command\":[\"sleep\",\"1\"]},\"timeoutSeconds\":3}", &(struct probe_target){.r = &(struct rt_handle){&rt_real_ops, F.r}, .container_id = "prb"});
    fx_run_for(200);
    stop_probe(NULL);
    fx_run_for(1500);
    CHECK_INT(E.n, ==, 0);

    /* a container that is gone fails the probe */
    fx_remove("prb");
    exec_probe("[\"true\"]", "", PROBE_FAILURE, "container is not running");
}
