/* test_prometheus.c — orc's /metrics as operators use it. A read-only
 * ServiceAccount bound to Kubernetes' system:monitoring role (made with
 * stock kubectl) may read /metrics on every member and nothing else, and
 * what a member writes passes a strict check of the text format and
 * Debian's promtool. Then Debian's Prometheus, given the RBAC and the
 * scrape config README.md shows (read from it between its prometheus-rbac
 * and prometheus-config markers, paths and addresses substituted), scrapes
 * the three members' /metrics and the node agent's /metrics and
 * /metrics/cadvisor through the API's node proxy; PromQL answers the
 * request rate, the pod's container memory and the agent's kubelet_*
 * series. Without the binding the node proxy answers 403. Debian builds
 * Prometheus without Kubernetes discovery, so its targets are static;
 * README's discovery config (kubernetes_sd_configs: the members from the
 * endpoints of default/kubernetes, the nodes from list+watch) is run by
 * Debian's VictoriaMetrics, which has it, to the same answers. The three
 * cases take about 35 s. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/file.h"
#include "tests/e2e/wlfx.h"
#include "tests/harness/promtext.h"

#define PROM_BIN "/usr/bin/prometheus"
#define PROM_LISTEN "127.0.0.97:17971"
#define VM_BIN "/usr/bin/victoria-metrics"
#define VM_LISTEN "127.0.0.98:17972"

static bool have_prometheus(void)
{
    if (access(PROM_BIN, X_OK) == 0) return true;
    fprintf(stderr, "# SKIP: %s is not installed (scripts/deps.sh installs it)\n", PROM_BIN);
    return false;
}

/* A token of the ServiceAccount default/prometheus. */
static char *prometheus_token(void)
{
    char *t = run_kubectl_rc(&C, 0, NULL,
                             (const char *const[]){"create", "token", "prometheus", "--duration=1h", NULL});
    t[strcspn(t, "\n")] = '\0';
    CHECKF(strlen(t) > 100, "no token: %s", t);
    return t;
}

/* A ServiceAccount with the system:monitoring ClusterRole, and its token. */
static char *monitoring_token(void)
{
    free(run_kubectl_rc(&C, 0, NULL, (const char *const[]){"create", "serviceaccount", "prometheus", NULL}));
    free(run_kubectl_rc(&C, 0, NULL,
                        (const char *const[]){"create", "clusterrolebinding", "prometheus",
                                              "--clusterrole=system:monitoring",
                                              "--serviceaccount=default:prometheus", NULL}));
    return prometheus_token();
}

/* Polls GET path on member i as tok until it answers `want` (bindings
 * reach each member's RBAC cache through its watch); the body (free it). */
static char *wait_status(int i, const char *tok, const char *path, int want)
{
    uint64_t end = test_now_ms() + 10000;
    char *body = NULL;
    int st;

    while ((st = t_http_as(&C, i, tok, "GET", path, NULL, NULL, &body, NULL)) != want) {
        CHECKF(test_now_ms() < end, "member %d answers GET %s with %d, not %d: %s", i, path, st, want, body);
        free(body);
        body = NULL;
        test_sleep_ms(100);
    }
    return body;
}

/* /metrics of member i as tok, once it answers 200. */
static char *metrics_as(int i, const char *tok) { return wait_status(i, tok, "/metrics", 200); }

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
    run_start_one(&C);
    tok = monitoring_token();
    CHECK_INT(t_http_as(&C, 0, NULL, "GET", "/metrics", NULL, NULL, NULL, NULL), ==, 401);
    /* read-only: the role has no resource rules */
    CHECK_INT(t_http_as(&C, 0, tok, "GET", "/api/v1/namespaces/default/pods", NULL, NULL, NULL, NULL), ==, 403);
    CHECK_INT(t_http_as(&C, 0, tok, "GET", "/api/v1/namespaces/default/secrets", NULL, NULL, NULL, NULL), ==, 403);
    body = metrics_as(0, tok);
    CHECK_INT(t_http_as(&C, 0, tok, "GET", "/readyz", NULL, NULL, NULL, NULL), ==, 200);
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
    CHECK_INT(t_http(&C, 0, "PATCH", "/api/v1/namespaces/default/configmaps/ssa?fieldManager=t",
                     "application/apply-patch+yaml", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                     "\"metadata\":{\"name\":\"ssa\"},\"data\":{\"a\":\"1\"}}", NULL, NULL), ==, 201);
    CHECK_INT(t_http(&C, 0, "GET", "/api/v1/namespaces/default/configmaps/ssa", NULL, NULL, NULL, NULL), ==, 200);
    CHECK_INT(t_http(&C, 0, "GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, NULL, NULL), ==, 200);
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
    free(run_kubectl_rc(&C, 0, NULL, (const char *const[]){"create", "serviceaccount", "brief", NULL}));
    free(run_kubectl_rc(&C, 0, NULL,
                        (const char *const[]){"create", "serviceaccount", "dry", "--dry-run=server", NULL}));
    body = metrics_as(0, tok);
    CHECK(promtext_value(body, "apiserver_storage_objects{resource=\"serviceaccounts\"}") == before + 1);
    CHECK_HAS(body, "apiserver_request_total{verb=\"POST\",dry_run=\"All\",group=\"\",version=\"v1\","
                    "resource=\"serviceaccounts\"");
    free(body);
    free(run_kubectl_rc(&C, 0, NULL, (const char *const[]){"delete", "serviceaccount", "brief", NULL}));
    /* no node: the scheduler finds this pod unschedulable */
    free(run_kubectl_rc(&C, 0, NULL,
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

/* ---- a real scraper, configured as README.md says ---- */

/* The scraper of a case: Debian's Prometheus, or VictoriaMetrics (which
 * has Kubernetes discovery and answers the same query API). */
static struct {
    pid_t pid;
    const char *listen;
} scraper;

static void scraper_stop(void *arg)
{
    int status;
    uint64_t start = test_now_ms();

    (void)arg;
    if (scraper.pid <= 0) return;
    kill(scraper.pid, SIGTERM);
    while (waitpid(scraper.pid, &status, WNOHANG) == 0) {
        if (test_now_ms() - start > 10000) {
            kill(scraper.pid, SIGKILL);
            waitpid(scraper.pid, &status, 0);
            break;
        }
        test_sleep_ms(20);
    }
    scraper.pid = 0;
}

/* argv (NULL-terminated) started, its output in <tmpdir>/scraper.log;
 * listen: where it answers queries. */
static void scraper_start(const char *listen, const char *const *argv)
{
    char log[640];

    snprintf(log, sizeof log, "%s/scraper.log", test_tmpdir());
    scraper.listen = listen;
    scraper.pid = test_spawn_logged(argv, log);
    test_defer(scraper_stop, NULL);
}

/* The ```yaml block that follows `marker` in README.md (free it). */
static char *readme_block(const char *marker)
{
    char *text = run_read_file("README.md"), *at = strstr(text, marker), *body, *end, *out;

    CHECKF(at, "README.md lacks %s", marker);
    body = strstr(at, "```yaml\n");
    CHECKF(body, "no yaml block after %s in README.md", marker);
    body += strlen("```yaml\n");
    end = strstr(body, "\n```");
    CHECKF(end, "the yaml block after %s in README.md does not end", marker);
    out = strndup(body, (size_t)(end - body) + 1);
    CHECK(out);
    free(text);
    return out;
}

/* text with every `from` replaced by `to` (text freed; free the result). */
static char *replace_all(char *text, const char *from, const char *to)
{
    struct orc_buf b = ORC_BUF_INIT;
    const char *p = text, *at;

    while ((at = strstr(p, from)) != NULL) {
        CHECK(orc_buf_append(&b, p, (size_t)(at - p)) == 0 && orc_buf_puts(&b, to) == 0);
        p = at + strlen(from);
    }
    CHECK(orc_buf_puts(&b, p) == 0);
    free(text);
    return orc_buf_steal(&b, NULL);
}

/* README's RBAC applied with kubectl; the ServiceAccount's token. */
static char *apply_readme_rbac(void)
{
    char path[600], *yaml = readme_block("<!-- prometheus-rbac");

    snprintf(path, sizeof path, "%s/prometheus-rbac.yaml", test_tmpdir());
    CHECK(orc_file_write(path, yaml, strlen(yaml), 0600) == 0);
    free(yaml);
    free(run_kubectl_rc(&C, 0, NULL, (const char *const[]){"apply", "-f", path, NULL}));
    return prometheus_token();
}

/* README's scrape config after `marker`, with this cluster's paths,
 * members and node, under a 1 s global interval; its path. */
static const char *write_config(const char *marker, const char *tok)
{
    static char path[600];
    char token[600], ca[600], nodes[80], *conf = readme_block(marker);
    struct orc_buf b = ORC_BUF_INIT;

    snprintf(token, sizeof token, "%s/prom-token", test_tmpdir());
    CHECK(orc_file_write(token, tok, strlen(tok), 0600) == 0);
    snprintf(ca, sizeof ca, "%s/ca.crt", C.m[0].dir);
    snprintf(nodes, sizeof nodes, "[%s]", node);
    conf = replace_all(conf, "/etc/prometheus/orc-token", token);
    conf = replace_all(conf, "/etc/prometheus/orc-ca.crt", ca);
    conf = replace_all(conf, "10.0.0.1:6443", C.m[0].listen);
    conf = replace_all(conf, "10.0.0.2:6443", C.m[1].listen);
    conf = replace_all(conf, "10.0.0.3:6443", C.m[2].listen);
    conf = replace_all(conf, "[node-1, node-2, node-3]", nodes);
    CHECK(orc_buf_printf(&b, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n%s", conf) == 0);
    free(conf);
    snprintf(path, sizeof path, "%s/scrape.yml", test_tmpdir());
    CHECK(orc_file_write(path, b.data, b.len, 0600) == 0);
    orc_buf_free(&b);
    return path;
}

/* The scraper's answer at `path`, a query's words URL-encoded (data may be
 * NULL); NULL until it answers (free it). */
static char *scraper_get(const char *path, const char *data)
{
    char url[512], *out = NULL, *err = NULL;

    snprintf(url, sizeof url, "http://%s%s", scraper.listen, path);
    run_prog(test_tmpdir(), NULL, &out, &err,
             data ? (const char *const[]){"/usr/bin/curl", "-sS", "--max-time", "5", url, "--data-urlencode", data,
                                          NULL}
                  : (const char *const[]){"/usr/bin/curl", "-sS", "--max-time", "5", url, NULL});
    free(err);
    return out;
}

/* The instant vector of a PromQL query (NULL until the scraper answers). */
static json_t *scraper_query(const char *query)
{
    char *out = scraper_get("/api/v1/query", query);
    json_t *doc = out ? json_loads(out, 0, NULL) : NULL, *res = NULL;

    if (doc && strcmp(json_string_value(json_object_get(doc, "status")) ?: "", "success") == 0)
        res = json_incref(json_object_get(json_object_get(doc, "data"), "result"));
    json_decref(doc);
    free(out);
    return res;
}

static double sample_value(const json_t *sample)
{
    const char *v = json_string_value(json_array_get(json_object_get(sample, "value"), 1));
    return v ? strtod(v, NULL) : -1;
}

/* How many series `query` answers, -1 when any of them is not `want`
 * (want < 0: any value). */
static int series_at(const char *query, double want)
{
    json_t *r = scraper_query(query);
    int n = (int)json_array_size(r);

    for (size_t i = 0; i < json_array_size(r); i++)
        if (want >= 0 && sample_value(json_array_get(r, i)) != want) n = -1;
    json_decref(r);
    return n;
}

/* Some API traffic spread over the members. */
static void load(int round)
{
    char path[128];

    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps/load-%d-%d", round, i);
        t_http(&C, i, "GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, NULL, NULL);
        t_http(&C, i, "GET", path, NULL, NULL, NULL, NULL);
    }
}

/* What the agent serves through the proxy passes the strict check and
 * promtool. */
static void check_node_exposition(const char *tok, const char *sub)
{
    char path[256], err[256] = "", *body;

    snprintf(path, sizeof path, "/api/v1/nodes/%s/proxy%s", node, sub);
    body = wait_status(0, tok, path, 200);
    CHECKF(promtext_check(body, err, sizeof err) == 0, "%s: %s", sub, err);
    if (access("/usr/bin/promtool", X_OK) == 0) check_promtool(body);
    free(body);
}

/* Three members, the first with the embedded agent, one pod running;
 * README's RBAC applied and readable by every member: the token. */
static char *cluster_with_a_pod(void)
{
    const char *extra[] = {"--node-name", node, "--metric-resolution", "1s", NULL};
    char proxy[256], *tok;

    fx_setup(true, false);
    wl_init_members("prom", wl_delete_default_pods, 3);
    cluster_start(&C, extra);
    wl_wait_node(node, 20000);
    wl_make_pod("sleeper", "sleep", "trap 'exit 0' TERM; while true; do sleep 1; done");
    wl_wait_running("sleeper", 30000);
    tok = apply_readme_rbac();
    for (int i = 0; i < 3; i++) free(metrics_as(i, tok));
    snprintf(proxy, sizeof proxy, "/api/v1/nodes/%s/proxy/metrics", node);
    free(wait_status(0, tok, proxy, 200));
    return tok;
}

/* Until the scraper has every member and the node's agent twice up, the
 * request rate, the pod's container memory and the agent's kubelet_*
 * series; then the node targets carry the node's name and one member
 * leads. */
static void wait_for_everything(void)
{
    uint64_t start = test_now_ms();
    int round = 0;
    char q[256];

    for (;;) {
        load(round++);
        bool members = series_at("query=up{job=\"orc\"}", 1) == 3;
        bool nodes = series_at("query=up{job=~\"orc-nodes|orc-cadvisor\"}", 1) == 2;
        bool rate = series_at("query=sum(rate(apiserver_request_total[10s])) > 0", -1) == 1;
        bool mem = series_at("query=container_memory_working_set_bytes{pod=\"sleeper\",container=\"main\"} > 0",
                             -1) == 1;
        bool kubelet = series_at("query=kubelet_running_pods{job=\"orc-nodes\"}", 1) == 1;
        if (members && nodes && rate && mem && kubelet) break;
        bool gone = waitpid(scraper.pid, NULL, WNOHANG) == scraper.pid;
        if (gone) scraper.pid = 0;
        if (gone || test_now_ms() - start > 60000) {
            char path[600], *log, *targets = scraper_get("/api/v1/targets", NULL);
            snprintf(path, sizeof path, "%s/scraper.log", test_tmpdir());
            log = run_read_file(path);
            test_fail(__FILE__, __LINE__,
                      "%s: members up %d, node targets up %d, rate %d, pod memory %d, kubelet %d\n"
                      "targets: %s\nscraper log:\n%s",
                      gone ? "the scraper exited" : "after 60 s", members, nodes, rate, mem, kubelet, targets, log);
        }
        test_sleep_ms(300);
    }
    snprintf(q, sizeof q, "query=up{job=\"orc-cadvisor\",node=\"%s\",instance=\"%s\"}", node, node);
    CHECK_INT(series_at(q, 1), ==, 1);
    CHECK_INT(series_at("query=sum(orc_raft_is_leader)", 1), ==, 1);
}

TEST_T(prometheus_scrapes_members_and_nodes, 120)
{
    const char *const unbind[] = {"delete", "clusterrolebinding", "prometheus", NULL};
    char *tok, proxy[256], conf[640], tsdb[640];

    if (!run_have_kubectl() || !have_prometheus() || !root_or_skip()) return;
    tok = cluster_with_a_pod();
    check_node_exposition(tok, "/metrics");
    check_node_exposition(tok, "/metrics/cadvisor");
    snprintf(conf, sizeof conf, "--config.file=%s", write_config("<!-- prometheus-config", tok));
    snprintf(tsdb, sizeof tsdb, "--storage.tsdb.path=%s/tsdb", test_tmpdir());
    scraper_start(PROM_LISTEN, (const char *const[]){PROM_BIN, conf, tsdb, "--web.listen-address=" PROM_LISTEN,
                                                     NULL});
    wait_for_everything();
    scraper_stop(NULL);

    /* without the binding, the node proxy is closed to the account */
    snprintf(proxy, sizeof proxy, "/api/v1/nodes/%s/proxy/metrics", node);
    free(run_kubectl_rc(&C, 0, NULL, unbind));
    free(wait_status(0, tok, proxy, 403));
    free(tok);
}

/* The watches of nodes open on member 0 now. */
static double node_watches(void)
{
    char *body = NULL;
    double n;

    CHECK_INT(t_http(&C, 0, "GET", "/metrics", NULL, NULL, &body, NULL), ==, 200);
    n = promtext_value(body, "apiserver_longrunning_requests{verb=\"WATCH\",group=\"\",version=\"v1\","
                             "resource=\"nodes\",subresource=\"\",scope=\"cluster\",component=\"apiserver\"}");
    free(body);
    return isnan(n) ? 0 : n;
}

/* Kubernetes discovery (list and watch of nodes, and of the endpoints,
 * services and pods of default) against orc's API, by VictoriaMetrics:
 * Debian's Prometheus has none. */
TEST_T(kubernetes_discovery_finds_members_and_nodes, 120)
{
    char *tok, conf[640], data[640];

    if (!run_have_kubectl() || !root_or_skip()) return;
    if (access(VM_BIN, X_OK) != 0) {
        printf("# SKIP: %s is not installed (scripts/deps.sh installs it)\n", VM_BIN);
        return;
    }
    tok = cluster_with_a_pod();
    double watches = node_watches();
    snprintf(conf, sizeof conf, "-promscrape.config=%s", write_config("<!-- prometheus-sd-config", tok));
    snprintf(data, sizeof data, "-storageDataPath=%s/vm", test_tmpdir());
    /* answers include the newest samples (30 s are held back by default);
     * what the watches found becomes targets every second, not every 30 */
    scraper_start(VM_LISTEN, (const char *const[]){VM_BIN, conf, data, "-httpListenAddr=" VM_LISTEN,
                                                   "-search.latencyOffset=0s",
                                                   "-promscrape.kubernetesSDCheckInterval=1s", NULL});
    wait_for_everything();
    /* the nodes came from a list and stay watched */
    CHECKF(node_watches() > watches, "no watch of nodes from the scraper (%g before)", watches);
    free(tok);
}
