/* test_serve.c — the agent's logs/exec port over HTTPS (a test CA and a
 * certificate for 127.0.0.1), with real containers: healthz, the bearer
 * token, unknown pods and paths, logs (all, tail, timestamps, limit,
 * previous, follow until the container exits), exec output and exit codes,
 * not-running containers and timeouts; TLS 1.2 only with AEAD suites. */
#include "agent/serve.h"
#include "agent/stats.h"
#include "client/http.h"
#include "lib/base64.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/tls.h"
#include "tests/agent/rtfx.h"
#include "tests/harness/promtext.h"
#include "tests/harness/tlsclient.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#define TOKEN "serve-t0ken"

static struct sfx {
    agent_server *srv;
    http_client *c;
    char *ca, *ca_key, *cert, *key;
    char logs[3][600]; /* app, job, old */
    int finds;
} X;

/* pod default/web: app (running), job (prints and exits), app's previous run "old" */
static int find(void *arg, const char *ns, const char *pod, const char *container, bool previous,
                char *id, size_t id_len, char *log_path, size_t log_len)
{
    int i = -1;

    (void)arg;
    X.finds++;
    if (strcmp(ns, "default") != 0 || strcmp(pod, "web") != 0) return ORC_ENOENT;
    if (strcmp(container, "app") == 0) i = previous ? 2 : 0;
    else if (strcmp(container, "job") == 0) i = previous ? -2 : 1;
    if (i == -2) return ORC_EINVAL;
    if (i < 0) return ORC_ENOENT;
    snprintf(id, id_len, "%s", (const char *[]){"app", "job", "old"}[i]);
    snprintf(log_path, log_len, "%s", X.logs[i]);
    return 0;
}

/* The node's usage and pod default/web's: its containers "burn" and
 * "idle" when running, read from their cgroups as the agent's do. */
static int stats(void *arg, struct agent_stats *out)
{
    struct agent_stat_pod p = {0};
    static const char *const ids[] = {"burn", "idle"};

    (void)arg;
    if (agent_stats_node(out) != 0) out->error = true;
    if ((p.ctrs = calloc(2, sizeof *p.ctrs)) == NULL) return ORC_ENOMEM;
    snprintf(p.ns, sizeof p.ns, "default");
    snprintf(p.name, sizeof p.name, "web");
    snprintf(p.uid, sizeof p.uid, "%s", F.pod);
    rt_stats(F.r, F.pod, NULL, &p.st);
    for (int i = 0; i < 2; i++) {
        struct agent_stat_ctr *c = &p.ctrs[p.n_ctrs];
        if (rt_stats(F.r, F.pod, ids[i], &c->st) != 0) continue;
        snprintf(c->name, sizeof c->name, "%s", ids[i]);
        snprintf(c->id, sizeof c->id, "%s", ids[i]);
        p.n_ctrs++;
    }
    if (agent_stats_add_pod(out, &p) != 0) {
        free(p.ctrs);
        return ORC_ENOMEM;
    }
    return 0;
}

static void closed(void *arg) { *(bool *)arg = true; }

static void teardown(void *arg)
{
    bool c_done = false, s_done = false;

    (void)arg;
    if (X.c) http_client_close(X.c, closed, &c_done);
    if (X.srv) agent_serve_stop(X.srv, closed, &s_done);
    if (X.c && !fx_run_until(fx_flag, &c_done, 5000)) test_fail_later("client did not close");
    if (X.srv && !fx_run_until(fx_flag, &s_done, 5000)) test_fail_later("server did not stop");
    X.c = NULL;
    X.srv = NULL;
    free(X.ca), free(X.ca_key), free(X.cert), free(X.key);
}

static void start_server(void)
{
    const char *sans[] = {"127.0.0.1"};
    struct agent_serve_cbs cbs = {find, NULL, stats};
    struct http_tls tls = {0};
    char err[256] = "", url[64];

    memset(&X, 0, sizeof X);
    fx_setup(true, false);
    test_defer(teardown, NULL);
    fx_open();
    for (int i = 0; i < 3; i++) /* as fx_spec names them */
        snprintf(X.logs[i], sizeof X.logs[i], "%s/%s.log", F.logs, (const char *[]){"app", "job", "old"}[i]);
    CHECKF(orc_tls_make_ca("serve-ca", 2, &X.ca, &X.ca_key, err) == 0, "%s", err);
    CHECKF(orc_tls_make_cert(X.ca, X.ca_key, "node", sans, 1, 2, &X.cert, &X.key, err) == 0, "%s", err);
    CHECKF(agent_serve_start(&F.loop, &(struct rt_handle){&rt_real_ops, F.r}, "127.0.0.1:0", X.cert, X.key, TOKEN, &cbs, NULL, &X.srv, err) == 0,
           "%s", err);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", agent_serve_port(X.srv));
    tls.ca_pem = X.ca;
    CHECK_INT(http_client_new_tls(&F.loop, url, TOKEN, &tls, &X.c), ==, 0);
}

/* ---- requests ---- */

struct resp {
    bool done;
    int err, status;
    struct orc_buf body;
    char ctype[64];
};

static void on_resp(void *arg, int err, const struct http_response *r)
{
    struct resp *x = arg;
    const char *ct = r ? http_header_get(r, "content-type") : NULL;

    x->done = true;
    x->err = err;
    if (r) {
        x->status = r->status;
        orc_buf_append(&x->body, r->body ? r->body : "", r->body_len);
        snprintf(x->ctype, sizeof x->ctype, "%s", ct ? ct : "");
    }
}

static bool resp_done(void *arg) { return ((struct resp *)arg)->done; }

static void resp_free(void *arg) { orc_buf_free(&((struct resp *)arg)->body); }

/* One request through client c (X.c when NULL); the answer's body stays
 * until the case ends. */
static struct resp *request(http_client *c, const char *method, const char *path)
{
    static struct resp rs[32];
    static int n;
    struct resp *x = &rs[n++ % 32];
    struct http_request req = {.method = method, .path = path, .timeout_ms = 20000};

    resp_free(x);
    memset(x, 0, sizeof *x);
    CHECK_INT(http_request(c ? c : X.c, &req, on_resp, x, NULL), ==, 0);
    CHECKF(fx_run_until(resp_done, x, 25000), "%s %s: no answer", method, path);
    CHECKF(x->err == 0, "%s %s: %s", method, path, orc_strerror(x->err));
    if (x->body.data == NULL) orc_buf_append(&x->body, "", 0);
    return x;
}

static const char *get(const char *path, int want)
{
    struct resp *x = request(NULL, "GET", path);

    CHECKF(x->status == want, "GET %s: %d, want %d: %s", path, x->status, want, x->body.data);
    return x->body.data;
}

/* A Status body's message, checked for code and reason. */
static void check_status(const char *body, int code, const char *reason, const char *msg_part)
{
    json_t *j = json_loads(body, 0, NULL);
    int64_t c = 0;

    CHECKF(j != NULL, "not JSON: %s", body);
    CHECK_STR(orc_json_str(j, "kind"), "Status");
    CHECK_STR(orc_json_str(j, "status"), "Failure");
    CHECK_STR(orc_json_str(j, "reason"), reason);
    CHECK_INT(orc_json_int(j, "code", &c), ==, 0);
    CHECK_INT(c, ==, code);
    CHECKF(strstr(orc_json_str(j, "message"), msg_part), "message: %s", orc_json_str(j, "message"));
    json_decref(j);
}

static void client_closed(void *arg) { (void)arg; }

TEST_T(healthz_auth_and_errors, 60)
{
    char url[64];
    http_client *anon = NULL, *wrong = NULL;
    struct http_tls tls = {0};
    struct resp *x;

    start_server();
    snprintf(url, sizeof url, "https://127.0.0.1:%d", agent_serve_port(X.srv));
    tls.ca_pem = X.ca;
    CHECK_INT(http_client_new_tls(&F.loop, url, NULL, &tls, &anon), ==, 0);
    CHECK_INT(http_client_new_tls(&F.loop, url, "wrong", &tls, &wrong), ==, 0);

    x = request(anon, "GET", "/healthz");
    CHECK_INT(x->status, ==, 200);
    CHECK_STR(x->body.data, "ok");
    x = request(anon, "GET", "/containerLogs/default/web/app");
    CHECK_INT(x->status, ==, 401);
    check_status(x->body.data, 401, "Unauthorized", "Unauthorized");
    x = request(wrong, "POST", "/exec/default/web/app?command=true");
    CHECK_INT(x->status, ==, 401);
    x = request(wrong, "GET", "/containerLogs/default/web/app");
    CHECK_INT(x->status, ==, 401);
    CHECK_INT(X.finds, ==, 0);
    http_client_close(anon, client_closed, NULL);
    http_client_close(wrong, client_closed, NULL);

    check_status(get("/containerLogs/default/nope/app", 404), 404, "NotFound", "\"app\" in pod \"nope\"");
    check_status(get("/containerLogs/default/web/other", 404), 404, "NotFound", "container \"other\"");
    check_status(get("/containerLogs/default/web/job?previous=true", 400), 400, "BadRequest",
                 "previous terminated container \"job\" in pod \"web\" not found");
    check_status(get("/nothing/here", 404), 404, "NotFound", "could not find");
    check_status(get("/containerLogs/default/web/app?tailLines=x", 400), 400, "BadRequest", "tailLines");
    check_status(get("/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z", 400),
                 400, "BadRequest", "sinceTime");
    check_status(get("/exec/default/web/app", 400), 400, "BadRequest", "at least 1 command");
    /* percent-decoding: "w%65b" is "web"; the log of a container never started is a 404 */
    check_status(get("/containerLogs/def%61ult/w%65b/app", 404), 404, "NotFound", "no log");
    x = request(NULL, "DELETE", "/exec/default/web/app?command=true");
    CHECK_INT(x->status, ==, 405);
}

static void metrics_collect(void *arg) { orc_series_set(arg, 3); }

static void metrics_free(void *arg) { orc_metrics_free(arg); }

/* GET /metrics: the registry handed over, gauges set at scrape time; the
 * token is needed as on every path but /healthz. */
TEST_T(metrics, 60)
{
    struct orc_metrics *m = orc_metrics_new();
    char url[64], err[256] = "";
    http_client *anon = NULL;
    struct http_tls tls = {0};

    CHECK(m != NULL);
    test_defer(metrics_free, m); /* after the server's teardown (defers run last first) */
    start_server();
    check_status(get("/metrics", 404), 404, "NotFound", "could not find"); /* none handed over yet */
    struct orc_series *g = orc_metric_with(
        orc_metric_register(m, &(struct orc_metric_opts){.name = "kubelet_running_pods", .help = "Pods.",
                                                           .type = ORC_METRIC_GAUGE}),
        NULL);
    agent_serve_set_metrics(X.srv, m, metrics_collect, g);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", agent_serve_port(X.srv));
    tls.ca_pem = X.ca;
    CHECK_INT(http_client_new_tls(&F.loop, url, NULL, &tls, &anon), ==, 0);
    CHECK_INT(request(anon, "GET", "/metrics")->status, ==, 401);
    http_client_close(anon, client_closed, NULL);
    const char *body = get("/metrics", 200);
    CHECKF(promtext_check(body, err, sizeof err) == 0, "%s\n%s", err, body);
    CHECK(strstr(body, "# TYPE kubelet_running_pods gauge\nkubelet_running_pods 3\n") != NULL);
    CHECK_INT(request(NULL, "POST", "/metrics")->status, ==, 405);
}

/* ---- with containers ---- */

static void start_ctr(const char *id, int slot, const char *script)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    struct rt_spec s = fx_spec(id, argv, X.logs[slot], sizeof X.logs[slot]);

    fx_start_ok(&s);
}

static bool log_has(void *arg)
{
    char *text = fx_log_text(X.logs[0]);
    bool ok = strstr(text, (const char *)arg) != NULL;

    free(text);
    return ok;
}

TEST_T(logs, 90)
{
    const char *body;

    start_server();
    fx_image();
    start_ctr("old", 2, "echo previous run");
    fx_wait_exit("old", 10000);
    start_ctr("app", 0, "for i in 1 2 3 4 5; do echo line $i; done; exec sleep 1000");
    CHECK(fx_run_until(log_has, "line 5\n", 10000));

    CHECK_STR(get("/containerLogs/default/web/app", 200), "line 1\nline 2\nline 3\nline 4\nline 5\n");
    CHECK_STR(get("/containerLogs/default/web/app?tailLines=2", 200), "line 4\nline 5\n");
    CHECK_STR(get("/containerLogs/default/web/app?limitBytes=7", 200), "line 1\n");
    CHECK_STR(get("/containerLogs/default/web/app?previous=true", 200), "previous run\n");
    CHECK_STR(get("/containerLogs/default/web/app?sinceSeconds=3600&tailLines=1", 200), "line 5\n");
    CHECK_STR(get("/containerLogs/default/web/app?sinceTime=2099-01-01T00%3A00%3A00Z", 200), "");
    body = get("/containerLogs/default/web/app?timestamps=true&tailLines=1", 200);
    CHECKF(strlen(body) > 20 && body[4] == '-' && body[10] == 'T' && strstr(body, "Z line 5\n"), "%s", body);
}

/* ---- /stats/summary's CPU rates ---- */

/* Container ctr's cpu.usageNanoCores in a summary (-1: absent) and its
 * usageCoreNanoSeconds into *cum. */
static int64_t nano_cores(const char *body, const char *ctr, int64_t *cum)
{
    json_t *j = json_loads(body, 0, NULL);
    const json_t *cs = orc_json_get(json_array_get(orc_json_get(j, "pods"), 0), "containers");
    int64_t v = -1;

    CHECKF(j != NULL, "not JSON: %s", body);
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const json_t *c = json_array_get(cs, i);
        if (strcmp(orc_json_str(c, "name") ? orc_json_str(c, "name") : "", ctr) != 0) continue;
        if (orc_json_int(c, "cpu.usageNanoCores", &v) != 0) v = -1;
        CHECK_INT(orc_json_int(c, "cpu.usageCoreNanoSeconds", cum), ==, 0);
    }
    json_decref(j);
    return v;
}

/* The kubelet's usageNanoCores: the CPU rate since the previous summary's
 * reading. A container burning a CPU shows near 1e9 (what its cgroup's
 * counter says it got, a core on an idle machine), an idle one near 0;
 * the first summary has no previous reading and shows none. */
TEST_T(stats_summary_cpu_rates, 60)
{
    int64_t b0 = 0, b1 = 0, i0 = 0, burn, idle, node = -1;
    double t0, t1, had, load = 0;
    json_t *j;

    start_server();
    fx_image();
    start_ctr("burn", 0, "while :; do :; done");
    start_ctr("idle", 1, "exec sleep 1000");
    fx_run_for(500);
    CHECK(nano_cores(get("/stats/summary", 200), "burn", &b0) == -1);
    t0 = (double)test_now_ms();
    fx_run_for(2000);
    const char *body = get("/stats/summary", 200);
    t1 = (double)test_now_ms();
    burn = nano_cores(body, "burn", &b1);
    idle = nano_cores(body, "idle", &i0);
    CHECK((j = json_loads(body, 0, NULL)) != NULL);
    CHECK_INT(orc_json_int(j, "node.cpu.usageNanoCores", &node), ==, 0);
    json_decref(j);
    had = (double)(b1 - b0) * 1e3 / (t1 - t0); /* ns of CPU per s, by the counter */
    CHECKF(burn > 0.85 * had && burn < 1.15 * had, "burn %" PRId64 " nano cores, its counter %.0f", burn, had);
    CHECKF(burn > 100000000, "burn %" PRId64 " nano cores", burn);
    if (getloadavg(&load, 1) == 1 && load < 1) CHECKF(burn > 800000000, "burn %" PRId64 " on an idle machine", burn);
    CHECKF(idle >= 0 && idle < 20000000, "idle %" PRId64 " nano cores", idle);
    CHECKF(node >= burn * 9 / 10, "node %" PRId64 ", burn %" PRId64, node, burn);
}

/* ---- follow ---- */

struct stream {
    bool head, ended;
    int status, err;
    struct orc_buf data;
};

static void st_head(void *arg, const struct http_response *r) { ((struct stream *)arg)->head = true, ((struct stream *)arg)->status = r->status; }
static void st_data(void *arg, const char *d, size_t n) { orc_buf_append(&((struct stream *)arg)->data, d, n); }
static void st_end(void *arg, int err) { ((struct stream *)arg)->ended = true, ((struct stream *)arg)->err = err; }
static bool st_ended(void *arg) { return ((struct stream *)arg)->ended; }
static void buf_free(void *b) { orc_buf_free(b); }
static bool st_head_seen(void *arg) { return ((struct stream *)arg)->head; }

TEST_T(follow_until_exit_and_client_leaving, 90)
{
    static const struct http_stream_cbs cbs = {st_head, st_data, st_end};
    struct http_request req = {.method = "GET", .timeout_ms = 10000};
    static struct stream s, s2;
    http_call *call = NULL;
    uint64_t t0;

    start_server();
    test_defer(buf_free, &s.data);
    test_defer(buf_free, &s2.data);
    fx_image();
    start_ctr("job", 1, "for i in 1 2 3; do echo tick $i; sleep 0.4; done");
    start_ctr("app", 0, "echo up; exec sleep 1000");
    t0 = test_now_ms();
    req.path = "/containerLogs/default/web/job?follow=true";
    CHECK_INT(http_stream(X.c, &req, &cbs, &s, NULL), ==, 0);
    CHECK(fx_run_until(st_head_seen, &s, 5000));
    CHECK_INT(s.status, ==, 200);
    CHECK(fx_run_until(st_ended, &s, 15000));
    CHECK_INT(s.err, ==, 0);
    CHECKF(s.data.data && strcmp(s.data.data, "tick 1\ntick 2\ntick 3\n") == 0, "%s", s.data.data);
    CHECKF(test_now_ms() - t0 >= 700, "ended after %llu ms", (unsigned long long)(test_now_ms() - t0));

    /* a follower of a running container: the head comes at once, then the
     * client leaves and the reader is canceled (the server stops cleanly) */
    req.path = "/containerLogs/default/web/app?follow=1";
    CHECK_INT(http_stream(X.c, &req, &cbs, &s2, &call), ==, 0);
    CHECK(fx_run_until(st_head_seen, &s2, 5000));
    fx_run_for(300);
    CHECKF(s2.data.data && strcmp(s2.data.data, "up\n") == 0, "%s", s2.data.data);
    http_call_cancel(call);
    CHECK(fx_run_until(st_ended, &s2, 5000));
}

/* ---- exec ---- */

static json_t *exec_ok(const char *path)
{
    struct resp *x = request(NULL, "POST", path);
    json_t *j;

    CHECKF(x->status == 200, "POST %s: %d %s", path, x->status, x->body.data);
    CHECK_STR(x->ctype, "application/json");
    j = json_loads(x->body.data, 0, NULL);
    CHECKF(j != NULL, "%s", x->body.data);
    return j;
}

static void check_b64(const json_t *j, const char *field, const char *want)
{
    const char *v = orc_json_str(j, field);
    struct orc_buf raw = ORC_BUF_INIT;

    CHECKF(v != NULL, "no %s", field);
    CHECK_INT(orc_base64_decode(v, strlen(v), false, &raw), ==, 0);
    CHECKF(raw.len == strlen(want) && (raw.len == 0 || memcmp(raw.data, want, raw.len) == 0),
           "%s: \"%.*s\", want \"%s\"", field, (int)raw.len, raw.data ? raw.data : "", want);
    orc_buf_free(&raw);
}

TEST_T(exec, 90)
{
    json_t *j;
    int64_t code = -1;
    struct resp *x;
    uint64_t t0;

    start_server();
    fx_image();
    start_ctr("app", 0, "exec sleep 1000");
    start_ctr("job", 1, "true");
    fx_wait_exit("job", 10000);

    j = exec_ok("/exec/default/web/app?command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262%3B+exit+3");
    CHECK_INT(orc_json_int(j, "exitCode", &code), ==, 0);
    CHECK_INT(code, ==, 3);
    check_b64(j, "stdout", "out\n");
    check_b64(j, "stderr", "err\n");
    json_decref(j);

    x = request(NULL, "GET", "/exec/default/web/app?command=echo&command=a%20b");
    CHECK_INT(x->status, ==, 200);
    j = json_loads(x->body.data, 0, NULL);
    check_b64(j, "stdout", "a b\n");
    CHECK_INT(orc_json_int(j, "exitCode", &code), ==, 0);
    CHECK_INT(code, ==, 0);
    json_decref(j);

    x = request(NULL, "POST", "/exec/default/web/job?command=true");
    CHECK_INT(x->status, ==, 409);
    check_status(x->body.data, 409, "Conflict", "container \"job\" in pod \"web\" is not running");

    t0 = test_now_ms();
    x = request(NULL, "POST", "/exec/default/web/app?command=sleep&command=10&timeout=1");
    CHECK_INT(x->status, ==, 504);
    check_status(x->body.data, 504, "Timeout", "timed out after 1s");
    CHECKF(test_now_ms() - t0 < 5000, "took %llu ms", (unsigned long long)(test_now_ms() - t0));
    x = request(NULL, "POST", "/exec/default/web/app?command=true&timeout=0");
    CHECK_INT(x->status, ==, 400);
}

/* ---- stopping with requests in flight ---- */

static void stopped(void *arg) { *(bool *)arg = true; }

TEST_T(stop_with_requests_in_flight, 90)
{
    static const struct http_stream_cbs cbs = {st_head, st_data, st_end};
    struct http_request req = {.method = "GET", .path = "/containerLogs/default/web/app?follow=true",
                               .timeout_ms = 10000};
    struct http_request ex = {.method = "POST", .path = "/exec/default/web/app?command=sleep&command=3",
                              .timeout_ms = 10000};
    static struct stream s;
    static struct resp x; /* outlives the case body: its cleanup runs after */
    bool done = false;

    memset(&x, 0, sizeof x);
    start_server();
    test_defer(buf_free, &s.data);
    test_defer(resp_free, &x);
    fx_image();
    start_ctr("app", 0, "echo up; exec sleep 1000");
    CHECK_INT(http_stream(X.c, &req, &cbs, &s, NULL), ==, 0);
    CHECK_INT(http_request(X.c, &ex, on_resp, &x, NULL), ==, 0);
    CHECK(fx_run_until(st_head_seen, &s, 5000));
    fx_run_for(300);
    agent_serve_stop(X.srv, stopped, &done);
    X.srv = NULL;
    CHECK(fx_run_until(fx_flag, &done, 5000));
    CHECK(fx_run_until(st_ended, &s, 5000));
    CHECK(fx_run_until(resp_done, &x, 5000));
    CHECK(x.err != 0); /* the connection went away unanswered */
    /* the exec still ends in the runtime, its answer dropped */
}

/* ---- TLS 1.2 suites: a blocking OpenSSL client on a thread of its own
 * while the loop serves ---- */

struct suite_try {
    const char *cipher;
    int max_version;
    int port;
    enum tc_tls_result result;
    bool done;
};

static void *suite_thread(void *arg)
{
    struct suite_try *t = arg;
    struct tc_tls_client cl = {.cipher12 = t->cipher, .max_version = t->max_version};

    t->result = tc_tls_try("127.0.0.1", t->port, &cl);
    __atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static bool suite_done(void *arg) { return __atomic_load_n(&((struct suite_try *)arg)->done, __ATOMIC_ACQUIRE); }

static enum tc_tls_result suite(int max_version, const char *cipher)
{
    struct suite_try t = {cipher, max_version, agent_serve_port(X.srv), TC_TLS_REFUSED, false};
    pthread_t th;

    CHECK(pthread_create(&th, NULL, suite_thread, &t) == 0);
    bool ok = fx_run_until(suite_done, &t, 10000);
    pthread_join(th, NULL);
    CHECK(ok);
    return t.result;
}

TEST_T(cbc_only_clients_are_refused, 60)
{
    start_server();
    CHECK_INT(suite(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"), ==, TC_TLS_REFUSED);
    CHECK(suite(0, NULL) != TC_TLS_REFUSED);
    CHECK(suite(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256") != TC_TLS_REFUSED);
}
