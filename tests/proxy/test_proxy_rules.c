/* test_proxy_rules.c — the proxy's rules from Services and EndpointSlices,
 * pure (no root, no kernel): ClusterIP spread over ready endpoints, ports
 * by name, no endpoints rejected, the terminating fallback, NodePort,
 * load-balancer and external addresses, the Local traffic policies,
 * session affinity, kube-dns to the node's resolver, and the incremental
 * transaction touching only what changed. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/orc.h"
#include "proxy/proxy.h"
#include "tests/harness/test.h"
#include "tests/proxy/proxyfx.h"

static const struct proxy_node node1 = {.name = "n1", .pod_cidr = "10.42.1.0/24", .dns_ip = "10.42.1.1"};

#define HTTP_PORT "[{\"name\":\"http\",\"port\":80,\"targetPort\":\"web\",\"protocol\":\"TCP\"}]"
#define SLICE_HTTP "[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]"
#define READY "\"ready\":true,\"serving\":true,\"terminating\":false"
#define NOT_READY "\"ready\":false,\"serving\":false,\"terminating\":false"
#define TERMINATING "\"ready\":false,\"serving\":true,\"terminating\":true"

struct world {
    json_t *svcs, *slices;
    struct proxy_state st;
};

static void world_free(void *arg)
{
    struct world *w = arg;
    json_decref(w->svcs);
    json_decref(w->slices);
    proxy_state_free(&w->st);
}

static struct world *world_new(void)
{
    struct world *w = calloc(1, sizeof *w);
    CHECK(w != NULL);
    w->svcs = json_array();
    w->slices = json_array();
    test_defer(free, w); /* defers run last first */
    test_defer(world_free, w);
    return w;
}

static void build(struct world *w, const struct proxy_node *n)
{
    proxy_state_free(&w->st);
    CHECK_INT(proxy_state_build(w->svcs, w->slices, n, &w->st), ==, 0);
}

/* A world of one Service (its slice "NAME-a" with SLICE_HTTP ports and the
 * endpoints `eps`), built for node1. */
static struct world *world_with(json_t *svc, const char *eps)
{
    struct world *w = world_new();
    json_array_append_new(w->svcs, svc);
    json_array_append_new(w->slices, fx_slice(json_string_value(json_object_get(
                                                  json_object_get(svc, "metadata"), "name")),
                                              "a", SLICE_HTTP, eps));
    build(w, &node1);
    return w;
}

/* Four endpoints, each "ip@node:conds". */
static void eps_text(char *out, size_t n, const char *const *ips, const char *const *nodes,
                     const char *const *conds, size_t count)
{
    size_t len = 0;
    len += (size_t)snprintf(out + len, n - len, "[");
    for (size_t i = 0; i < count; i++) {
        char ep[300];
        fx_ep(ep, sizeof ep, ips[i], nodes[i], conds[i]);
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", ep);
    }
    snprintf(out + len, n - len, "]");
}

static const struct proxy_unit *unit(const struct world *w, const char *key)
{
    const struct proxy_unit *u = proxy_state_find(&w->st, key);
    CHECKF(u != NULL, "no unit %s", key);
    return u;
}

static bool has(const char *text, const char *needle) { return text && strstr(text, needle) != NULL; }

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

TEST(clusterip_spreads_over_ready_endpoints_only)
{
    const char *ips[] = {"10.42.1.5", "10.42.2.6", "10.42.3.7", "10.42.3.8"};
    const char *nodes[] = {"n1", "n2", "n3", "n3"};
    const char *conds[] = {READY, READY, READY, NOT_READY};
    char eps[2048];
    eps_text(eps, sizeof eps, ips, nodes, conds, 4);
    struct world *w = world_with(fx_svc("web", "10.43.0.10", "ClusterIP", "", HTTP_PORT), eps);
    CHECK_INT(w->st.n, ==, 1);
    const struct proxy_unit *u = unit(w, "default/web/tcp/http");
    CHECK(has(u->rules, "numgen random mod 3 vmap"));
    CHECK(has(u->rules, "dnat to 10.42.1.5:8080"));
    CHECK(has(u->rules, "dnat to 10.42.2.6:8080"));
    CHECK(has(u->rules, "dnat to 10.42.3.7:8080"));
    CHECK(!has(u->rules, "10.42.3.8"));
    CHECK(has(u->add_elems, "service-ips { 10.43.0.10 . tcp . 80 : goto service-"));
    CHECK(has(u->rules, "ip saddr != 10.42.1.0/24 jump mark-for-masquerade"));
    /* hairpin: the endpoint itself as client is masqueraded */
    CHECK(has(u->rules, "ip saddr 10.42.1.5 jump mark-for-masquerade"));
    CHECK(has(u->del_elems, "delete element ip orc-proxy service-ips { 10.43.0.10 . tcp . 80 }"));
    CHECK_INT(u->n_chains, ==, 4);
    CHECK_INT(u->n_sets, ==, 0);
}

TEST(service_port_maps_to_the_slice_port_of_its_name)
{
    struct world *w = world_new();
    const char *ports = "[{\"name\":\"http\",\"port\":80},{\"name\":\"metrics\",\"port\":9090},"
                        "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}]";
    const char *sports = "[{\"name\":\"metrics\",\"port\":9100,\"protocol\":\"TCP\"},{\"name\":\"http\","
                         "\"port\":8080,\"protocol\":\"TCP\"},{\"name\":\"dns\",\"port\":5353,\"protocol\":\"UDP\"}]";
    char eps[400];
    fx_eps1(eps, sizeof eps, "10.42.2.9", "n2", READY);
    json_array_append_new(w->svcs, fx_svc("multi", "10.43.0.11", "ClusterIP", "", ports));
    json_array_append_new(w->slices, fx_slice("multi", "a", sports, eps));
    build(w, &node1);
    CHECK_INT(w->st.n, ==, 3);
    CHECK(has(unit(w, "default/multi/tcp/http")->rules, "meta l4proto tcp dnat to 10.42.2.9:8080"));
    CHECK(has(unit(w, "default/multi/tcp/metrics")->rules, "dnat to 10.42.2.9:9100"));
    CHECK(has(unit(w, "default/multi/udp/dns")->rules, "meta l4proto udp dnat to 10.42.2.9:5353"));
    CHECK(has(unit(w, "default/multi/udp/dns")->add_elems, "10.43.0.11 . udp . 53 :"));
}

TEST(no_ready_endpoint_rejects_promptly)
{
    char eps[400];
    fx_eps1(eps, sizeof eps, "10.42.2.9", "n2", NOT_READY);
    struct world *w = world_with(fx_svc("empty", "10.43.0.12", "NodePort", "",
                                "[{\"name\":\"http\",\"port\":80,\"nodePort\":30080}]"), eps);
    const struct proxy_unit *u = unit(w, "default/empty/tcp/http");
    CHECK_INT(u->n_chains, ==, 0);
    CHECK(has(u->add_elems, "no-endpoint-services { 10.43.0.12 . tcp . 80 : goto reject-chain }"));
    CHECK(has(u->add_elems, "no-endpoint-nodeports { tcp . 30080 : goto reject-chain }"));
    CHECK(!has(u->add_elems, "service-ips"));
}

TEST(terminating_serving_endpoints_are_the_fallback)
{
    const char *ips[] = {"10.42.2.5", "10.42.2.6"};
    const char *nodes[] = {"n2", "n2"};
    const char *conds[] = {TERMINATING, "\"ready\":false,\"serving\":false,\"terminating\":true"};
    char eps[1024];
    eps_text(eps, sizeof eps, ips, nodes, conds, 2);
    struct world *w = world_with(fx_svc("web", "10.43.0.10", "ClusterIP", "", HTTP_PORT), eps);
    const struct proxy_unit *u = unit(w, "default/web/tcp/http");
    CHECK(has(u->rules, "numgen random mod 1 vmap"));
    CHECK(has(u->rules, "dnat to 10.42.2.5:8080"));
    CHECK(!has(u->rules, "10.42.2.6"));
}

TEST(nodeport_and_load_balancer_masquerade_external_traffic)
{
    char eps[400];
    fx_eps1(eps, sizeof eps, "10.42.2.9", "n2", READY);
    json_t *s = fx_svc("lb", "10.43.0.13", "LoadBalancer", ",\"externalIPs\":[\"192.0.2.7\"]",
                       "[{\"name\":\"http\",\"port\":80,\"nodePort\":30081}]");
    json_object_set_new(s, "status", fx_js("{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.99.0.11\"},"
                                           "{\"ip\":\"10.99.0.12\"}]}}"));
    struct world *w = world_with(s, eps);
    const struct proxy_unit *u = unit(w, "default/lb/tcp/http");
    CHECK(has(u->add_elems, "service-nodeports { tcp . 30081 : goto external-"));
    CHECK(has(u->add_elems, "service-ips { 10.99.0.11 . tcp . 80 : goto external-"));
    CHECK(has(u->add_elems, "service-ips { 10.99.0.12 . tcp . 80 : goto external-"));
    CHECK(has(u->add_elems, "service-ips { 192.0.2.7 . tcp . 80 : goto external-"));
    CHECK(has(u->add_elems, "service-ips { 10.43.0.13 . tcp . 80 : goto service-"));
    CHECK(has(u->rules, "jump mark-for-masquerade\nadd rule ip orc-proxy external-"));
    CHECK_INT(count(u->add_elems, "add element"), ==, 5);
}

TEST(external_traffic_policy_local_keeps_to_local_endpoints)
{
    const char *ips[] = {"10.42.1.5", "10.42.2.6"};
    const char *nodes[] = {"n1", "n2"};
    const char *conds[] = {READY, READY};
    char eps[1024];
    eps_text(eps, sizeof eps, ips, nodes, conds, 2);
    struct world *w = world_with(fx_svc("loc", "10.43.0.14", "NodePort", ",\"externalTrafficPolicy\":\"Local\"",
                                "[{\"name\":\"http\",\"port\":80,\"nodePort\":30082}]"), eps);
    const struct proxy_unit *u = unit(w, "default/loc/tcp/http");
    CHECK(has(u->rules, "add rule ip orc-proxy local-"));
    CHECK(has(u->add_elems, "service-nodeports { tcp . 30082 : goto external-"));
    /* the local chain spreads over the local endpoint only */
    const char *loc = strstr(u->rules, "flush chain ip orc-proxy local-");
    CHECK(loc != NULL);
    CHECK(has(loc, "numgen random mod 1 vmap"));
    CHECK(has(u->rules, "fib saddr type local jump mark-for-masquerade"));
    /* on n3, no local endpoint: the NodePort drops, the ClusterIP works */
    struct proxy_node n3 = {.name = "n3", .pod_cidr = "10.42.3.0/24"};
    build(w, &n3);
    u = unit(w, "default/loc/tcp/http");
    CHECK(has(u->add_elems, "no-endpoint-nodeports { tcp . 30082 : drop }"));
    CHECK(has(u->add_elems, "service-ips { 10.43.0.14 . tcp . 80 : goto service-"));
    CHECK(!has(u->rules, "external-"));
}

TEST(internal_traffic_policy_local)
{
    char eps[400];
    fx_eps1(eps, sizeof eps, "10.42.2.6", "n2", READY);
    struct world *w = world_with(fx_svc("itp", "10.43.0.15", "ClusterIP", ",\"internalTrafficPolicy\":\"Local\"",
                                HTTP_PORT), eps);
    CHECK(has(unit(w, "default/itp/tcp/http")->add_elems, "no-endpoint-services { 10.43.0.15 . tcp . 80 : drop }"));
    struct proxy_node n2 = {.name = "n2", .pod_cidr = "10.42.2.0/24"};
    build(w, &n2);
    CHECK(has(unit(w, "default/itp/tcp/http")->add_elems, "service-ips { 10.43.0.15 . tcp . 80 : goto local-"));
}

TEST(session_affinity_uses_sets_with_timeouts)
{
    struct world *w = world_new();
    const char *ips[] = {"10.42.1.5", "10.42.2.6"};
    const char *nodes[] = {"n1", "n2"};
    const char *conds[] = {READY, READY};
    char eps[1024];
    eps_text(eps, sizeof eps, ips, nodes, conds, 2);
    json_array_append_new(w->svcs, fx_svc("aff", "10.43.0.16", "ClusterIP", ",\"sessionAffinity\":\"ClientIP\"",
                                          HTTP_PORT));
    json_array_append_new(w->svcs, fx_svc("aff2", "10.43.0.17", "ClusterIP",
                                          ",\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":"
                                          "{\"clientIP\":{\"timeoutSeconds\":60}}",
                                          HTTP_PORT));
    json_array_append_new(w->slices, fx_slice("aff", "a", SLICE_HTTP, eps));
    json_array_append_new(w->slices, fx_slice("aff2", "a", SLICE_HTTP, eps));
    build(w, &node1);
    const struct proxy_unit *u = unit(w, "default/aff/tcp/http");
    CHECK_INT(u->n_sets, ==, 2);
    CHECK(has(u->decl, "flags dynamic,timeout; timeout 10800s;"));
    CHECK(has(u->rules, "ip saddr @affinity-"));
    CHECK(has(u->rules, "update @affinity-"));
    CHECK(has(unit(w, "default/aff2/tcp/http")->decl, "timeout 60s;"));
}

TEST(kube_dns_goes_to_the_node_resolver)
{
    struct world *w = world_new();
    json_t *s = fx_js("{\"metadata\":{\"namespace\":\"kube-system\",\"name\":\"kube-dns\",\"labels\":"
                      "{\"k8s-app\":\"kube-dns\"}},\"spec\":{\"clusterIP\":\"10.43.0.10\",\"type\":\"ClusterIP\","
                      "\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"},{\"name\":\"dns-tcp\","
                      "\"port\":53,\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"port\":9153}]}}");
    json_array_append_new(w->svcs, s);
    build(w, &node1);
    CHECK(has(unit(w, "kube-system/kube-dns/udp/dns")->rules, "meta l4proto udp dnat to 10.42.1.1:53"));
    CHECK(has(unit(w, "kube-system/kube-dns/tcp/dns-tcp")->rules, "meta l4proto tcp dnat to 10.42.1.1:53"));
    CHECK(has(unit(w, "kube-system/kube-dns/tcp/metrics")->add_elems, "goto reject-chain"));
    /* without a resolver on the node: nothing to go to */
    struct proxy_node nodns = {.name = "n1", .pod_cidr = "10.42.1.0/24"};
    build(w, &nodns);
    CHECK(has(unit(w, "kube-system/kube-dns/udp/dns")->add_elems, "goto reject-chain"));
}

TEST(headless_external_name_and_bad_input_give_nothing)
{
    struct world *w = world_new();
    json_array_append_new(w->svcs, fx_svc("headless", "None", "ClusterIP", "", HTTP_PORT));
    json_array_append_new(w->svcs, fx_js("{\"metadata\":{\"namespace\":\"default\",\"name\":\"ext\"},"
                                         "\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"a.example\"}}"));
    json_array_append_new(w->svcs, fx_svc("v6", "fd00::10", "ClusterIP", "", HTTP_PORT));
    json_array_append_new(w->svcs, fx_svc("badport", "10.43.0.20", "ClusterIP", "",
                                          "[{\"port\":70000},{\"port\":\"x\"},{\"port\":1,\"protocol\":\"ICMP\"}]"));
    json_array_append_new(w->svcs, fx_js("{\"metadata\":{}}"));
    json_array_append_new(w->svcs, fx_js("[]"));
    json_array_append_new(w->slices, fx_js("{\"metadata\":{\"namespace\":\"default\"},\"endpoints\":7}"));
    build(w, &node1);
    CHECK_INT(w->st.n, ==, 0);
    struct proxy_node nocidr = {.name = "n1"};
    struct proxy_state st;
    CHECK_INT(proxy_state_build(w->svcs, w->slices, &nocidr, &st), ==, ORC_EINVAL);
}

TEST(diff_touches_only_the_changed_service)
{
    struct world *w = world_new();
    const char *ips[] = {"10.42.1.5", "10.42.2.6"};
    const char *nodes[] = {"n1", "n2"};
    const char *conds[] = {READY, READY};
    char eps[1024];
    eps_text(eps, sizeof eps, ips, nodes, conds, 2);
    json_array_append_new(w->svcs, fx_svc("a", "10.43.0.21", "ClusterIP", "", HTTP_PORT));
    json_array_append_new(w->svcs, fx_svc("b", "10.43.0.22", "ClusterIP", "", HTTP_PORT));
    json_array_append_new(w->slices, fx_slice("a", "x", SLICE_HTTP, eps));
    json_array_append_new(w->slices, fx_slice("b", "x", SLICE_HTTP, eps));
    build(w, &node1);
    struct proxy_state old = w->st;
    w->st = (struct proxy_state){0};
    build(w, &node1);
    struct orc_buf out = ORC_BUF_INIT;
    size_t changed = 9;
    CHECK_INT(proxy_render_diff(&old, &w->st, &out, &changed), ==, 0);
    CHECK_INT(changed, ==, 0);
    CHECK_INT(out.len, ==, 0);
    /* b loses an endpoint: its endpoint chain goes, a is untouched */
    json_array_set_new(w->slices, 1, fx_slice("b", "x", SLICE_HTTP, "[{\"addresses\":[\"10.42.1.5\"]}]"));
    proxy_state_free(&old);
    old = w->st;
    w->st = (struct proxy_state){0};
    build(w, &node1);
    CHECK_INT(proxy_render_diff(&old, &w->st, &out, &changed), ==, 0);
    CHECK_INT(changed, ==, 1);
    CHECK(!has(out.data, "/a/"));
    CHECK(has(out.data, "delete chain ip orc-proxy endpoint-"));
    CHECK(has(out.data, "__10.42.2.6/8080"));
    CHECK(has(out.data, "delete element ip orc-proxy service-ips { 10.43.0.22 . tcp . 80 }"));
    CHECK(has(out.data, "add element ip orc-proxy service-ips { 10.43.0.22 . tcp . 80 : goto service-"));
    /* a is deleted: its elements, then its chains go */
    json_array_remove(w->svcs, 0);
    proxy_state_free(&old);
    old = w->st;
    w->st = (struct proxy_state){0};
    build(w, &node1);
    orc_buf_reset(&out);
    CHECK_INT(proxy_render_diff(&old, &w->st, &out, &changed), ==, 0);
    CHECK_INT(changed, ==, 1);
    CHECK_INT(count(out.data, "delete chain"), ==, 3);
    CHECK(strstr(out.data, "delete element") < strstr(out.data, "delete chain"));
    proxy_state_free(&old);
    /* the full script replaces the table */
    orc_buf_reset(&out);
    CHECK_INT(proxy_render_full(&w->st, &node1, &out), ==, 0);
    CHECK(strncmp(out.data, "add table ip orc-proxy\ndelete table ip orc-proxy\n", 48) == 0);
    orc_buf_free(&out);
}

TEST(an_address_two_services_claim_goes_to_the_first_by_name)
{
    struct world *w = world_new();
    char eps[400];
    fx_eps1(eps, sizeof eps, "10.42.2.9", "n2", READY);
    /* b listed first: the order of the objects does not decide */
    json_array_append_new(w->svcs, fx_svc("b", "10.43.0.31", "ClusterIP", ",\"externalIPs\":[\"192.0.2.1\"]",
                                          HTTP_PORT));
    json_array_append_new(w->svcs, fx_svc("a", "10.43.0.30", "ClusterIP", ",\"externalIPs\":[\"192.0.2.1\"]",
                                          HTTP_PORT));
    json_array_append_new(w->slices, fx_slice("a", "x", SLICE_HTTP, eps));
    json_array_append_new(w->slices, fx_slice("b", "x", SLICE_HTTP, eps));
    build(w, &node1);
    CHECK(has(unit(w, "default/a/tcp/http")->add_elems, "192.0.2.1 . tcp . 80"));
    CHECK(!has(unit(w, "default/b/tcp/http")->add_elems, "192.0.2.1"));
    CHECK(has(unit(w, "default/b/tcp/http")->add_elems, "10.43.0.31 . tcp . 80"));
}

TEST(udp_endpoints_that_went_get_their_conntrack_flushed)
{
    struct world *w = world_new();
    const char *ips[] = {"10.42.1.5", "10.42.2.6"};
    const char *nodes[] = {"n1", "n2"};
    const char *conds[] = {READY, READY};
    const char *uport = "[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\",\"nodePort\":30053}]";
    const char *sport = "[{\"name\":\"dns\",\"port\":5353,\"protocol\":\"UDP\"}]";
    char eps[1024];
    eps_text(eps, sizeof eps, ips, nodes, conds, 2);
    json_array_append_new(w->svcs, fx_svc("u", "10.43.0.40", "NodePort", "", uport));
    json_array_append_new(w->svcs, fx_svc("t", "10.43.0.41", "ClusterIP", "", HTTP_PORT));
    json_array_append_new(w->slices, fx_slice("u", "x", sport, eps));
    json_array_append_new(w->slices, fx_slice("t", "x", SLICE_HTTP, eps));
    build(w, &node1);
    struct proxy_state old = w->st;
    w->st = (struct proxy_state){0};
    /* 10.42.2.6 goes from both: only the UDP Service's entries to it are flushed */
    eps_text(eps, sizeof eps, ips, nodes, conds, 1);
    json_array_set_new(w->slices, 0, fx_slice("u", "x", sport, eps));
    json_array_set_new(w->slices, 1, fx_slice("t", "x", SLICE_HTTP, eps));
    build(w, &node1);
    struct proxy_ct_flush *f = NULL;
    size_t n = 0;
    CHECK_INT(proxy_udp_stale(&old, &w->st, &f, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(f[0].dst, "10.43.0.40");
    CHECK_STR(f[0].ep, "10.42.2.6");
    CHECK_STR(f[1].dst, "");
    CHECK_INT(f[1].node_port, ==, 30053);
    CHECK_STR(f[1].ep, "10.42.2.6");
    free(f);
    /* the Service goes: every entry to its addresses */
    json_array_remove(w->svcs, 0);
    proxy_state_free(&old);
    old = w->st;
    w->st = (struct proxy_state){0};
    build(w, &node1);
    CHECK_INT(proxy_udp_stale(&old, &w->st, &f, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_STR(f[0].ep, "");
    free(f);
    /* nothing changed: nothing to flush */
    CHECK_INT(proxy_udp_stale(&w->st, &w->st, &f, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    proxy_state_free(&old);
}

/* The kubernetes Service on loopback endpoints (a single-machine cluster's
 * API servers) gets the exception to the 127/8 drop, per clusterIP and
 * endpoint; another Service pointing at 127/8, or kubernetes on a real
 * address, gets none. */
TEST(kubernetes_service_on_loopback_gets_the_only_way_to_127)
{
    struct world *w = world_new();
    const char *https = "[{\"name\":\"https\",\"port\":443,\"protocol\":\"TCP\"}]";
    const char *sl_https = "[{\"name\":\"https\",\"port\":17950,\"protocol\":\"TCP\"}]";
    char eps[1024];
    const char *ips[] = {"127.0.0.95", "10.0.0.7", "127.0.0.96"};
    const char *nodes[] = {"", "", ""};
    const char *conds[] = {READY, READY, NOT_READY};
    eps_text(eps, sizeof eps, ips, nodes, conds, 3);
    json_array_append_new(w->svcs, fx_svc("kubernetes", "10.43.0.1", "ClusterIP", "", https));
    json_array_append_new(w->slices, fx_slice("kubernetes", "a", sl_https, eps));
    json_array_append_new(w->svcs, fx_svc("sneaky", "10.43.0.20", "ClusterIP", "", https));
    json_array_append_new(w->slices, fx_slice("sneaky", "a", sl_https, eps));
    build(w, &node1);
    const struct proxy_unit *k = unit(w, "default/kubernetes/tcp/https");
    CHECK(has(k->add_elems, "add element ip orc-proxy apiserver-loopback { 10.43.0.1 . 443 . 127.0.0.95 . 17950 }"));
    CHECK(has(k->del_elems, "delete element ip orc-proxy apiserver-loopback { 10.43.0.1 . 443 . 127.0.0.95 . 17950 }"));
    CHECK_INT(count(k->add_elems, "apiserver-loopback"), ==, 1); /* not the real address, not the unready one */
    CHECK(!has(unit(w, "default/sneaky/tcp/https")->add_elems, "apiserver-loopback"));
    CHECK(has(unit(w, "default/sneaky/tcp/https")->rules, "dnat to 127.0.0.95:17950")); /* and the drop stops it */
    struct orc_buf s = ORC_BUF_INIT;
    CHECK_INT(proxy_render_full(&w->st, &node1, &s), ==, 0);
    const char *accept = strstr(s.data, "@apiserver-loopback accept");
    const char *drop = strstr(s.data, "ip daddr 127.0.0.0/8 ct state new drop");
    CHECK(accept && drop && accept < drop);
    orc_buf_free(&s);
}
