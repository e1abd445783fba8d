/* test_prometheus.c — orc's /metrics as operators use it: a read-only
 * ServiceAccount bound to Kubernetes' system:monitoring role (made with
 * stock kubectl) may read /metrics on every member and nothing else; what
 * a member writes passes a strict check of the text format and Debian's
 * promtool; and a real Prometheus (Debian's) scraping the three members of
 * a cluster every second answers a PromQL query for the request rate.
 * The agents' /metrics are not scraped here: Prometheus would reach them
 * through the API's node proxy (/api/v1/nodes/NAME/proxy/metrics, the
 * rmetrics work), not yet on main; tests/agent/test_agent_metrics.c and
 * test_serve.c cover the agent's numbers and its handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/file.h"
#include "tests/cli/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/promtext.h"
#include "tests/harness/test.h"

#define PROM_BIN "/usr/bin/prometheus"
#define PROM_LISTEN "127.0.0.97:17971"

static struct cluster c;

static bool have_prometheus(void)
{
    if (access(PROM_BIN, X_OK) == 0) return true;
    fprintf(stderr, "# SKIP: %s is not installed (scripts/deps.sh installs it)\n", PROM_BIN);
    return false;
}

/* A ServiceAccount with the system:monitoring ClusterRole, and its token. */
static char *monitoring_token(void)
{
    free(run_kubectl_rc(&c, 0, NULL, (const char *const[]){"create", "serviceaccount", "prometheus", NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "clusterrolebinding", "prometheus",
                                              "--clusterrole=system:monitoring",
                                              "--serviceaccount=default:prometheus", NULL}));
    char *t = run_kubectl_rc(&c, 0, NULL,
                             (const char *const[]){"create", "token", "prometheus", "--duration=1h", NULL});
    t[strcspn(t, "\n")] = '\0';
    CHECKF(strlen(t) > 100, "no token: %s", t);
    return t;
}

/* Waits until member i answers /metrics to tok with 200 (bindings reach
 * each member's RBAC cache through its watch). */
static char *metrics_as(int i, const char *tok)
{
    char *body = NULL;
    uint64_t start = test_now_ms();
    int st;

    while ((st = t_http_as(&c, i, tok, "GET", "/metrics", NULL, NULL, &body, NULL)) != 200) {
        CHECKF(test_now_ms() - start < 10000, "member %d answers /metrics with %d: %s", i, st, body);
        free(body);
        body = NULL;
        test_sleep_ms(100);
    }
    return body;
}

static void check_promtool(const char *text)
{
    char path[600], *out, *err;

    snprintf(path, sizeof path, "%s/scrape.txt", test_tmpdir());
    CHECK(orc_file_write(path, text, strlen(text), 0600) == 0);
    /* promtool reads the exposition on stdin and lints it. */
    int rc = run_prog(test_tmpdir(), text, &out, &err,
                      (const char *const[]){"/usr/bin/promtool", "check", "metrics", NULL});
    CHECKF(rc == 0, "promtool check metrics: exit %d\n%s%s", rc, out, err);
    free(out);
    free(err);
}

TEST_T(metrics_need_the_monitoring_role, 60)
{
    char err[256] = "", *tok, *body = NULL;

    if (!run_have_kubectl()) return;
    run_start_one(&c);
    tok = monitoring_token();
    CHECK_INT(t_http_as(&c, 0, NULL, "GET", "/metrics", NULL, NULL, NULL, NULL), ==, 401);
    /* read-only: the role has no resource rules */
    CHECK_INT(t_http_as(&c, 0, tok, "GET", "/api/v1/namespaces/default/pods", NULL, NULL, NULL, NULL), ==, 403);
    CHECK_INT(t_http_as(&c, 0, tok, "GET", "/api/v1/namespaces/default/secrets", NULL, NULL, NULL, NULL), ==, 403);
    body = metrics_as(0, tok);
    CHECK_INT(t_http_as(&c, 0, tok, "GET", "/readyz", NULL, NULL, NULL, NULL), ==, 200);
    CHECKF(promtext_check(body, err, sizeof err) == 0, "%s", err);
    if (access("/usr/bin/promtool", X_OK) == 0) check_promtool(body);
    /* Kubernetes' names and labels */
    CHECK_HAS(body, "# TYPE apiserver_request_total counter\n");
    CHECK_HAS(body, "apiserver_request_total{verb=\"POST\",dry_run=\"\",group=\"rbac.authorization.k8s.io\","
                    "version=\"v1\",resource=\"clusterrolebindings\",subresource=\"\",scope=\"resource\","
                    "component=\"apiserver\",code=\"201\"} 1\n");
    CHECK_HAS(body, "apiserver_request_total{verb=\"POST\",dry_run=\"\",group=\"\",version=\"v1\","
                    "resource=\"serviceaccounts\",subresource=\"token\",scope=\"resource\","
                    "component=\"apiserver\",code=\"201\"} 1\n");
    CHECK_HAS(body, "apiserver_request_duration_seconds_bucket{verb=\"POST\",dry_run=\"\",group=\"\","
                    "version=\"v1\",resource=\"serviceaccounts\",subresource=\"\",scope=\"resource\","
                    "component=\"apiserver\",le=\"60\"} ");
    CHECK_HAS(body, "apiserver_current_inflight_requests{request_kind=\"readOnly\"} 1\n");
    CHECK_HAS(body, "apiserver_current_inflight_requests{request_kind=\"mutating\"} 0\n");
    CHECK_HAS(body, "apiserver_storage_objects{resource=\"serviceaccounts\"} ");
    CHECK_HAS(body, "apiserver_storage_objects{resource=\"clusterrolebindings.rbac.authorization.k8s.io\"} ");
    CHECK_HAS(body, "# TYPE orc_store_commit_duration_seconds histogram\n");
    CHECK_HAS(body, "orc_raft_is_leader 1\n");
    CHECK_HAS(body, "orc_raft_leader_changes_total 1\n");
    CHECK_HAS(body, "# TYPE process_cpu_seconds_total counter\n");
    CHECK_HAS(body, "process_resident_memory_bytes ");
    CHECKF(promtext_value(body, "orc_store_db_size_bytes") > 4096, "no database size");
    CHECKF(promtext_value(body, "orc_raft_applied_index") > 10, "no applied index");
    /* the controllers' watches are long-running, by kind */
    CHECKF(promtext_value(body, "apiserver_longrunning_requests{verb=\"WATCH\",group=\"\",version=\"v1\","
                                "resource=\"pods\",subresource=\"\",scope=\"cluster\",component=\"apiserver\"}") >= 1,
           "no pod watch counted");
    CHECKF(promtext_value(body, "apiserver_registered_watchers{group=\"\",version=\"v1\",kind=\"Pod\"}") >= 1,
           "no pod watcher");
    free(body);

    /* server-side apply is APPLY, a GET of a collection LIST, of one object GET */
    CHECK_INT(t_http(&c, 0, "PATCH", "/api/v1/namespaces/default/configmaps/ssa?fieldManager=t",
                     "application/apply-patch+yaml", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                     "\"metadata\":{\"name\":\"ssa\"},\"data\":{\"a\":\"1\"}}", NULL, NULL), ==, 201);
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/default/configmaps/ssa", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http(&c, 0, "GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, NULL, NULL), ==, 200);
    body = metrics_as(0, tok);
    CHECK_HAS(body, "apiserver_request_total{verb=\"APPLY\",dry_run=\"\",group=\"\",version=\"v1\","
                    "resource=\"configmaps\",subresource=\"\",scope=\"resource\",component=\"apiserver\","
                    "code=\"201\"} 1\n");
    CHECK_HAS(body, "apiserver_request_total{verb=\"GET\",dry_run=\"\",group=\"\",version=\"v1\","
                    "resource=\"configmaps\",subresource=\"\",scope=\"resource\",component=\"apiserver\","
                    "code=\"200\"} 1\n");
    CHECK_HAS(body, "apiserver_request_total{verb=\"LIST\",dry_run=\"\",group=\"\",version=\"v1\","
                    "resource=\"configmaps\",subresource=\"\",scope=\"namespace\",component=\"apiserver\","
                    "code=\"200\"} 1\n");
    free(body);

    /* a deleted object leaves the count, a dry run is labelled, a watch is
     * long-running while it lasts */
    double before = promtext_value(body = metrics_as(0, tok), "apiserver_storage_objects{resource=\"serviceaccounts\"}");
    free(body);
    free(run_kubectl_rc(&c, 0, NULL, (const char *const[]){"create", "serviceaccount", "brief", NULL}));
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"create", "serviceaccount", "dry", "--dry-run=server", NULL}));
    body = metrics_as(0, tok);
    CHECK(promtext_value(body, "apiserver_storage_objects{resource=\"serviceaccounts\"}") == before + 1);
    CHECK_HAS(body, "apiserver_request_total{verb=\"POST\",dry_run=\"All\",group=\"\",version=\"v1\","
                    "resource=\"serviceaccounts\"");
    free(body);
    free(run_kubectl_rc(&c, 0, NULL, (const char *const[]){"delete", "serviceaccount", "brief", NULL}));
    /* no node: the scheduler finds this pod unschedulable */
    free(run_kubectl_rc(&c, 0, NULL,
                        (const char *const[]){"run", "waits", "--image=busybox:1.36", "--restart=Never", NULL}));
    uint64_t t0 = test_now_ms();
    for (;;) {
        body = metrics_as(0, tok);
        if (promtext_value(body, "scheduler_schedule_attempts_total{result=\"unschedulable\","
                                 "profile=\"default-scheduler\"}") >= 1)
            break;
        CHECKF(test_now_ms() - t0 < 15000, "no unschedulable attempt counted:\n%s", body);
        free(body);
        test_sleep_ms(200);
    }
    CHECK_HAS(body, "scheduler_scheduling_attempt_duration_seconds_bucket{result=\"unschedulable\","
                    "profile=\"default-scheduler\",le=\"0.001\"} ");
    CHECKF(promtext_value(body, "workqueue_adds_total{name=\"scheduler\"}") >= 1, "scheduler queue adds");
    CHECK_HAS(body, "workqueue_depth{name=\"replicaset\"} ");
    CHECK_HAS(body, "workqueue_work_duration_seconds_count{name=\"scheduler\"} ");
    free(body);
    body = metrics_as(0, tok);
    CHECK(promtext_value(body, "apiserver_storage_objects{resource=\"serviceaccounts\"}") == before);
    CHECK_HAS(body, "apiserver_request_total{verb=\"DELETE\",dry_run=\"\",group=\"\",version=\"v1\","
                    "resource=\"serviceaccounts\",subresource=\"\",scope=\"resource\",component=\"apiserver\","
                    "code=\"200\"} 1\n");
    free(body);
    free(tok);
}

/* ---- a real Prometheus ---- */

static pid_t prom_pid;

static void prom_stop(void *arg)
{
    int status;
    uint64_t start = test_now_ms();

    (void)arg;
    if (prom_pid <= 0) return;
    kill(prom_pid, SIGTERM);
    while (waitpid(prom_pid, &status, WNOHANG) == 0) {
        if (test_now_ms() - start > 10000) {
            kill(prom_pid, SIGKILL);
            waitpid(prom_pid, &status, 0);
            break;
        }
        test_sleep_ms(20);
    }
    prom_pid = 0;
}

static void write_config(const char *tok)
{
    char path[600], conf[4096];
    int n;

    snprintf(path, sizeof path, "%s/prom-token", test_tmpdir());
    CHECK(orc_file_write(path, tok, strlen(tok), 0600) == 0);
    n = snprintf(conf, sizeof conf,
                 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                 "scrape_configs:\n  - job_name: orc\n    scheme: https\n"
                 "    authorization:\n      credentials_file: %s/prom-token\n"
                 "    tls_config:\n      ca_file: %s/ca.crt\n"
                 "    static_configs:\n      - targets: ['%s', '%s', '%s']\n",
                 test_tmpdir(), c.m[0].dir, c.m[0].listen, c.m[1].listen, c.m[2].listen);
    CHECK(n > 0 && (size_t)n < sizeof conf);
    snprintf(path, sizeof path, "%s/prometheus.yml", test_tmpdir());
    CHECK(orc_file_write(path, conf, (size_t)n, 0600) == 0);
}

static void prom_start(void)
{
    char conf[640], tsdb[640], log[640];

    snprintf(conf, sizeof conf, "--config.file=%s/prometheus.yml", test_tmpdir());
    snprintf(tsdb, sizeof tsdb, "--storage.tsdb.path=%s/tsdb", test_tmpdir());
    snprintf(log, sizeof log, "%s/prometheus.log", test_tmpdir());
    fflush(NULL);
    prom_pid = fork();
    CHECK(prom_pid >= 0);
    if (prom_pid == 0) {
        run_child_setup(test_tmpdir(), NULL, log, log);
        execl(PROM_BIN, PROM_BIN, conf, tsdb, "--web.listen-address=" PROM_LISTEN, (char *)NULL);
        _exit(127);
    }
    test_defer(prom_stop, NULL);
}

/* The instant vector of a PromQL query (NULL until Prometheus answers). */
static json_t *prom_query(const char *query)
{
    char url[512], *out = NULL, *err = NULL;
    json_t *doc, *res = NULL;

    snprintf(url, sizeof url, "http://" PROM_LISTEN "/api/v1/query");
    run_prog(test_tmpdir(), NULL, &out, &err,
             (const char *const[]){"/usr/bin/curl", "-sS", "--max-time", "5", url, "--data-urlencode", query, NULL});
    doc = out ? json_loads(out, 0, NULL) : NULL;
    if (doc && strcmp(json_string_value(json_object_get(doc, "status")) ?: "", "success") == 0)
        res = json_incref(json_object_get(json_object_get(doc, "data"), "result"));
    json_decref(doc);
    free(out);
    free(err);
    return res;
}

static double sample_value(const json_t *sample)
{
    const char *v = json_string_value(json_array_get(json_object_get(sample, "value"), 1));
    return v ? strtod(v, NULL) : -1;
}

/* Some API traffic spread over the members. */
static void load(int round)
{
    char path[128];

    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps/load-%d-%d", round, i);
        t_http(&c, i, "GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, NULL, NULL);
        t_http(&c, i, "GET", path, NULL, NULL, NULL, NULL);
    }
}

TEST_T(prometheus_scrapes_every_member, 120)
{
    char *tok;
    json_t *up = NULL, *rate = NULL;
    uint64_t start;
    int round = 0;

    if (!run_have_kubectl() || !have_prometheus()) return;
    cluster_init(&c, 3);
    cluster_start(&c, NULL);
    tok = monitoring_token();
    for (int i = 0; i < 3; i++) free(metrics_as(i, tok));
    write_config(tok);
    prom_start();
    start = test_now_ms();
    for (;;) {
        load(round++);
        json_decref(up);
        up = prom_query("query=up{job=\"orc\"}");
        bool all_up = json_array_size(up) == 3;
        for (size_t i = 0; all_up && i < 3; i++) all_up = sample_value(json_array_get(up, i)) == 1;
        json_decref(rate);
        rate = prom_query("query=sum(rate(apiserver_request_total[10s]))");
        if (all_up && json_array_size(rate) == 1 && sample_value(json_array_get(rate, 0)) > 0) break;
        if (test_now_ms() - start > 60000) {
            char *u = json_dumps(up, 0), *r = json_dumps(rate, 0), path[600];
            snprintf(path, sizeof path, "%s/prometheus.log", test_tmpdir());
            char *log = run_read_file(path);
            test_fail(__FILE__, __LINE__, "after 60 s: up=%s rate=%s\nprometheus log:\n%s", u, r, log);
        }
        test_sleep_ms(300);
    }
    /* per-member series and a histogram quantile answer too */
    json_t *q = prom_query("query=histogram_quantile(0.99, sum by (le) "
                           "(rate(apiserver_request_duration_seconds_bucket{verb=\"LIST\"}[30s])))");
    CHECK(json_array_size(q) == 1);
    json_decref(q);
    q = prom_query("query=orc_raft_is_leader");
    CHECK(json_array_size(q) == 3);
    double leaders = 0;
    for (size_t i = 0; i < json_array_size(q); i++) leaders += sample_value(json_array_get(q, i));
    CHECK(leaders == 1);
    json_decref(q);
    json_decref(up);
    json_decref(rate);
    free(tok);
    prom_stop(NULL);
}
