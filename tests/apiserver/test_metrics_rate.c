/* test_metrics_rate.c — metrics.k8s.io's pure half: parsing the kubelet's
 * /metrics/resource text, CPU rates between two scrapes as metrics-server
 * computes them (window, counter resets, restarts, pods with a container
 * lacking a rate), the duration and quantity texts, and the routes and
 * RBAC attributes of metrics.k8s.io and nodes/proxy. */
#include <llhttp.h>
#include <string.h>

#include "apiserver/resmetrics.h"
#include "apiserver/rbac.h"
#include "apiserver/server.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static const char *SCRAPE1 =
    "# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time\n"
    "# TYPE container_cpu_usage_seconds_total counter\n"
    "container_cpu_usage_seconds_total{container=\"burn\",namespace=\"default\",pod=\"burner\"} 10 1000000\n"
    "container_cpu_usage_seconds_total{container=\"idle\",namespace=\"default\",pod=\"idler\"} 0.5 1000000\n"
    "container_memory_working_set_bytes{container=\"burn\",namespace=\"default\",pod=\"burner\"} 1048576 1000000\n"
    "container_memory_working_set_bytes{container=\"idle\",namespace=\"default\",pod=\"idler\"} 2048 1000000\n"
    "container_start_time_seconds{container=\"burn\",namespace=\"default\",pod=\"burner\"} 900 1000000\n"
    "node_cpu_usage_seconds_total 100 1000000\n"
    "node_memory_working_set_bytes 4096000 1000000\n"
    "pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"burner\"} 10 1000000\n"
    "scrape_error 0\n";

static const char *SCRAPE2 =
    "container_cpu_usage_seconds_total{container=\"burn\",namespace=\"default\",pod=\"burner\"} 12 1002000\n"
    "container_cpu_usage_seconds_total{container=\"idle\",namespace=\"default\",pod=\"idler\"} 0.502 1002000\n"
    "container_memory_working_set_bytes{container=\"burn\",namespace=\"default\",pod=\"burner\"} 2097152 1002000\n"
    "container_memory_working_set_bytes{container=\"idle\",namespace=\"default\",pod=\"idler\"} 2048 1002000\n"
    "container_start_time_seconds{container=\"burn\",namespace=\"default\",pod=\"burner\"} 900 1002000\n"
    "container_cpu_usage_seconds_total{container=\"new\",namespace=\"default\",pod=\"fresh\"} 1 1002000\n"
    "container_memory_working_set_bytes{container=\"new\",namespace=\"default\",pod=\"fresh\"} 1 1002000\n"
    "node_cpu_usage_seconds_total 103 1002000\n"
    "node_memory_working_set_bytes 5000000 1002000\n";

TEST(parse_kubelet_text)
{
    struct api_mx_scrape s;

    CHECK_INT(api_mx_parse(SCRAPE1, strlen(SCRAPE1), 5, &s), ==, 0);
    CHECK(s.node.cpu_s == 100 && s.node.cpu_ms == 1000000 && s.node.mem == 4096000);
    CHECK_INT((int)s.n_ctrs, ==, 2);
    CHECK_STR(s.ctrs[0].name, "burn");
    CHECK_STR(s.ctrs[0].pod, "burner");
    CHECK_STR(s.ctrs[0].ns, "default");
    CHECK(s.ctrs[0].p.cpu_s == 10 && s.ctrs[0].p.mem == 1048576 && s.ctrs[0].p.start_s == 900);
    api_mx_scrape_free(&s);
}

TEST(parse_refuses_malformed_and_takes_now_without_timestamp)
{
    struct api_mx_scrape s;
    const char *no_ts = "node_cpu_usage_seconds_total 7\n";
    const char *bad[] = {
        "node_cpu_usage_seconds_total abc 1\n",
        "container_cpu_usage_seconds_total{container=\"a\",namespace=\"b\"} 1 1\n", /* no pod */
        "container_cpu_usage_seconds_total{container=\"a\n",
        "node_memory_working_set_bytes -5 1\n",
    };

    CHECK_INT(api_mx_parse(no_ts, strlen(no_ts), 4242, &s), ==, 0);
    CHECK(s.node.cpu_s == 7 && s.node.cpu_ms == 4242 && s.node.mem < 0);
    api_mx_scrape_free(&s);
    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
        CHECKF(api_mx_parse(bad[i], strlen(bad[i]), 1, &s) == ORC_EPROTO, "accepted: %s", bad[i]);
        api_mx_scrape_free(&s);
    }
}

TEST(rate_as_metrics_server)
{
    struct api_mx_point a = {.cpu_s = 10, .cpu_ms = 1000, .mem = 5, .start_s = 1};
    struct api_mx_point b = {.cpu_s = 11.5, .cpu_ms = 3000, .mem = 7, .start_s = 1};
    struct api_mx_usage u;

    CHECK_INT(api_mx_rate(&a, &b, &u), ==, 0);
    CHECK(u.window_ms == 2000 && u.time_ms == 3000);
    CHECK(u.nanocores == 750000000ull); /* 1.5 core-seconds over 2 s */
    CHECK(u.mem_bytes == 7);
    CHECK_INT(api_mx_rate(&b, &a, &u), ==, ORC_EINVAL); /* not later */
    b.start_s = 2;
    CHECK_INT(api_mx_rate(&a, &b, &u), ==, ORC_EINVAL); /* restarted */
    b.start_s = 1;
    b.cpu_s = 9;
    CHECK_INT(api_mx_rate(&a, &b, &u), ==, ORC_EINVAL); /* went back */
}

TEST(compute_node_and_pods_from_two_scrapes)
{
    struct api_mx_scrape s1, s2;
    struct api_mx_node n = {.name = "n1"};

    CHECK_INT(api_mx_parse(SCRAPE1, strlen(SCRAPE1), 0, &s1), ==, 0);
    CHECK_INT(api_mx_parse(SCRAPE2, strlen(SCRAPE2), 0, &s2), ==, 0);
    CHECK_INT(api_mx_compute(NULL, &s1, &n), ==, 0); /* the first scrape: nothing yet */
    CHECK(!n.has_usage && n.n_pods == 0);
    CHECK_STR(n.name, "n1");
    CHECK_INT(api_mx_compute(&s1, &s2, &n), ==, 0);
    CHECK(n.has_usage && n.usage.nanocores == 1500000000ull && n.usage.window_ms == 2000);
    CHECK(n.usage.mem_bytes == 5000000);
    /* "fresh" has no earlier reading: left out */
    CHECK_INT((int)n.n_pods, ==, 2);
    CHECK_STR(n.pods[0].name, "burner");
    CHECK(n.pods[0].pod.nanocores == 1000000000ull && n.pods[0].pod.mem_bytes == 2097152);
    CHECK_INT((int)n.pods[0].n_ctrs, ==, 1);
    CHECK_STR(n.pods[0].ctrs[0].name, "burn");
    CHECK_STR(n.pods[1].name, "idler");
    CHECK(n.pods[1].pod.nanocores == 1000000ull);
    api_mx_node_clear(&n);
    api_mx_scrape_free(&s1);
    api_mx_scrape_free(&s2);
}

TEST(texts)
{
    char b[32];

    api_mx_duration(15000, b, sizeof b);
    CHECK_STR(b, "15s");
    api_mx_duration(2500, b, sizeof b);
    CHECK_STR(b, "2.5s");
    api_mx_duration(60500, b, sizeof b);
    CHECK_STR(b, "1m0.5s");
    api_mx_duration(0, b, sizeof b);
    CHECK_STR(b, "0s");
    api_mx_cpu_text(250000000, b, sizeof b);
    CHECK_STR(b, "250000000n");
    api_mx_mem_text(2048, b, sizeof b);
    CHECK_STR(b, "2Ki");
    api_mx_mem_text(1000, b, sizeof b);
    CHECK_STR(b, "1000");
}

/* ---- routes ---- */

TEST(routes_of_metrics_and_node_proxy)
{
    struct api_route rt;

    CHECK_INT(api_route_parse("/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3Db", &rt), ==, 0);
    CHECK(rt.type == ROUTE_METRICS_API);
    CHECK_STR(rt.internal, "nodes");
    CHECK_STR(api_query_get(&rt, "labelSelector"), "a=b");
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/dns-1", &rt), ==, 0);
    CHECK(rt.type == ROUTE_METRICS_API);
    CHECK_STR(rt.internal, "pods");
    CHECK_STR(rt.ns, "kube-system");
    CHECK_STR(rt.name, "dns-1");
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/apis/metrics.k8s.io/v1beta1/namespaces/x/nodes", &rt), ==, ORC_ENOENT);
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/apis/metrics.k8s.io/v1/nodes", &rt), ==, ORC_ENOENT);
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/apis/metrics.k8s.io/v1beta1/pods/a/b", &rt), ==, ORC_ENOENT);
    api_route_clear(&rt);

    CHECK_INT(api_route_parse("/api/v1/nodes/n1/proxy/metrics/resource", &rt), ==, 0);
    CHECK(rt.type == ROUTE_OBJECT);
    CHECK_STR(rt.name, "n1");
    CHECK_STR(rt.sub, "proxy");
    CHECK_STR(rt.proxy_path, "/metrics/resource");
    api_route_clear(&rt);
    CHECK_INT(api_route_parse("/api/v1/nodes/n1/proxy", &rt), ==, 0);
    CHECK_STR(rt.proxy_path, "/");
    api_route_clear(&rt);
    /* a tail only after nodes' proxy */
    CHECK_INT(api_route_parse("/api/v1/namespaces/d/pods/p/log/more", &rt), ==, ORC_ENOENT);
    api_route_clear(&rt);
}

TEST(rbac_attributes_of_node_proxy)
{
    struct rbac_attrs a;

    CHECK_INT(rbac_attrs_from_request(HTTP_GET, "/api/v1/nodes/n1/proxy/metrics/cadvisor", &a), ==, 0);
    CHECK_STR(a.verb, "get");
    CHECK_STR(a.resource, "nodes");
    CHECK_STR(a.sub, "proxy");
    CHECK_STR(a.name, "n1");
    CHECK_INT(rbac_attrs_from_request(HTTP_GET, "/apis/metrics.k8s.io/v1beta1/namespaces/d/pods", &a), ==, 0);
    CHECK_STR(a.verb, "list");
    CHECK_STR(a.group, "metrics.k8s.io");
    CHECK_STR(a.resource, "pods");
    CHECK_STR(a.ns, "d");
}
