/* test_netpol_model.c — NetworkPolicy rules without a kernel: which of the
 * node's pods are isolated, and the peers and ports each rule admits, for
 * every rule shape (podSelector, namespaceSelector, both, ipBlock with
 * except, numbered / named / ranged ports per protocol, policyTypes
 * defaulting, empty rule lists, several policies, other namespaces, the
 * node's resolver standing for kube-dns); the rendered table for a small
 * state; and, as root, `nft -c` accepting a big state (1,000 pods, 200
 * policies), whose render and apply times are printed. */
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/nft.h"
#include "lib/orc.h"
#include "lib/run.h"
#include "netpol/netpol.h"
#include "tests/harness/test.h"

static const struct netpol_node node1 = {.name = "n1", .dns_ip = "10.42.1.1", .host_ips = {"10.42.1.1", "192.168.5.10"},
                                         .n_host_ips = 2};

static json_t *js(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    CHECKF(v != NULL, "bad test JSON: %s (%s)", err.text, text);
    return v;
}

/* A running pod; ports: the containers' ports JSON array text. */
static json_t *pod(const char *ns, const char *name, const char *ip, const char *node, const char *labels,
                   const char *ports)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"labels\":%s},\"spec\":{\"nodeName\":\"%s\","
             "\"containers\":[{\"name\":\"c\",\"ports\":%s}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\"}}",
             ns, name, labels, node, ports, ip);
    return js(buf);
}

static json_t *policy(const char *ns, const char *name, const char *spec)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"},\"spec\":%s}", ns, name, spec);
    return js(buf);
}

struct world {
    json_t *pols, *pods, *nss;
    struct netpol_state s;
};

#define WEB_PORTS "[{\"name\":\"http\",\"containerPort\":8080},{\"name\":\"dns\",\"containerPort\":5353,\"protocol\":\"UDP\"}]"

/* Namespaces a (team=a), b (team=b), kube-system; pods: web (a, local),
 * client (a, app=client, local), other (a, app=other, remote), bclient
 * (b, app=client, remote), bweb (b, local), done (finished), hostnet. */
static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    w->pols = json_array();
    w->pods = json_array();
    w->nss = js("[{\"metadata\":{\"name\":\"a\",\"labels\":{\"team\":\"a\"}}},"
                "{\"metadata\":{\"name\":\"b\",\"labels\":{\"team\":\"b\"}}},"
                "{\"metadata\":{\"name\":\"kube-system\"}}]");
    json_array_append_new(w->pods, pod("a", "web", "10.42.1.10", "n1", "{\"app\":\"web\"}", WEB_PORTS));
    json_array_append_new(w->pods, pod("a", "client", "10.42.1.11", "n1", "{\"app\":\"client\"}", "[]"));
    json_array_append_new(w->pods, pod("a", "other", "10.42.2.12", "n2", "{\"app\":\"other\"}", "[]"));
    json_array_append_new(w->pods, pod("b", "bclient", "10.42.2.13", "n2", "{\"app\":\"client\"}", "[]"));
    json_array_append_new(w->pods, pod("b", "bweb", "10.42.1.14", "n1", "{\"app\":\"web\"}", WEB_PORTS));
    json_t *done = pod("a", "done", "10.42.1.15", "n1", "{\"app\":\"client\"}", "[]");
    json_object_set_new(json_object_get(done, "status"), "phase", json_string("Succeeded"));
    json_array_append_new(w->pods, done);
    json_t *hn = pod("a", "hostnet", "192.168.5.10", "n1", "{\"app\":\"client\"}", "[]");
    json_object_set_new(json_object_get(hn, "spec"), "hostNetwork", json_true());
    json_array_append_new(w->pods, hn);
}

static void world_add(struct world *w, const char *ns, const char *name, const char *spec)
{
    json_array_append_new(w->pols, policy(ns, name, spec));
}

static void world_build(struct world *w)
{
    netpol_state_free(&w->s);
    CHECK_INT(netpol_state_build(w->pols, w->pods, w->nss, &node1, &w->s), ==, 0);
}

static void world_free(struct world *w)
{
    netpol_state_free(&w->s);
    json_decref(w->pols);
    json_decref(w->pods);
    json_decref(w->nss);
}

static uint32_t ip4(const char *s)
{
    unsigned a, b, c, d;
    CHECK(sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
    return a << 24 | b << 16 | c << 8 | d;
}

/* Whether the rule's peers hold address ip (ranges or blocks). */
static bool peers_have(const struct netpol_state *s, const struct netpol_rule *r, const char *ip)
{
    const struct netpol_peers *pe = &s->peers[r->peers];
    uint32_t a = ip4(ip);
    if (pe->any) return true;
    for (size_t i = 0; i < pe->n_ranges; i++)
        if (a >= pe->ranges[i].lo && a <= pe->ranges[i].hi) return true;
    for (size_t i = 0; i < pe->n_blocks; i++) {
        const struct netpol_block *b = &pe->blocks[i];
        bool ex = false;
        for (size_t j = 0; j < b->n_except; j++) ex = ex || (a >= b->except[j].lo && a <= b->except[j].hi);
        if (a >= b->cidr.lo && a <= b->cidr.hi && !ex) return true;
    }
    return false;
}

static bool port_in(const struct netpol_rule *r, int proto, unsigned port)
{
    if (r->any_port) return true;
    for (size_t i = 0; i < r->n_ports[proto]; i++)
        if (port >= r->ports[proto][i].lo && port <= r->ports[proto][i].hi) return true;
    return false;
}

static bool has_pair(const struct netpol_state *s, const struct netpol_rule *r, const char *ip, int proto, unsigned port)
{
    const struct netpol_peers *pe = &s->peers[r->peers];
    for (size_t i = 0; i < pe->n_pairs; i++)
        if (pe->pairs[i].ip == ip4(ip) && pe->pairs[i].proto == proto && pe->pairs[i].port == port) return true;
    return false;
}

/* Whether any of the pod's rules in a direction admits (ip, proto, port). */
static bool allows(const struct netpol_state *s, const char *key, bool in, const char *ip, int proto, unsigned port)
{
    const struct netpol_pod *p = netpol_state_pod(s, key);
    if (!p || !(in ? p->iso_in : p->iso_eg)) return true;
    for (size_t i = 0; i < (in ? p->n_in : p->n_eg); i++) {
        const struct netpol_rule *r = in ? &p->in[i] : &p->eg[i];
        if (peers_have(s, r, ip) && port_in(r, proto, port)) return true;
        if (!in && has_pair(s, r, ip, proto, port)) return true;
    }
    return false;
}

TEST(no_policy_isolates_nothing)
{
    struct world w;
    world_init(&w);
    world_build(&w);
    CHECK_INT(w.s.n_pods, ==, 0);
    world_free(&w);
}

TEST(policy_types_default_and_empty_rules_deny)
{
    struct world w;
    world_init(&w);
    world_add(&w, "a", "deny-in", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}");
    world_build(&w);
    const struct netpol_pod *p = netpol_state_pod(&w.s, "a/web");
    CHECK(p && p->iso_in && !p->iso_eg && p->n_in == 0);
    CHECK(!netpol_state_pod(&w.s, "a/client"));
    CHECK(!netpol_state_pod(&w.s, "b/bweb")); /* another namespace */
    CHECK(!allows(&w.s, "a/web", true, "10.42.1.11", NETPOL_TCP, 8080));

    /* egress rules present, no policyTypes: both directions */
    world_add(&w, "a", "eg", "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":443}]}]}");
    world_build(&w);
    p = netpol_state_pod(&w.s, "a/client");
    CHECK(p && p->iso_in && p->iso_eg);
    CHECK(allows(&w.s, "a/client", false, "1.2.3.4", NETPOL_TCP, 443));
    CHECK(!allows(&w.s, "a/client", false, "1.2.3.4", NETPOL_TCP, 80));
    CHECK(!netpol_state_pod(&w.s, "a/done"));   /* finished */
    CHECK(!netpol_state_pod(&w.s, "a/hostnet")); /* the host's network */
    CHECK(!netpol_state_pod(&w.s, "a/other"));   /* another node's */

    /* policyTypes [Egress] with no egress: egress denied, ingress open */
    world_add(&w, "b", "eg-only", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}");
    world_build(&w);
    p = netpol_state_pod(&w.s, "b/bweb");
    CHECK(p && !p->iso_in && p->iso_eg && p->n_eg == 0);
    CHECK(allows(&w.s, "b/bweb", true, "1.2.3.4", NETPOL_TCP, 1));
    CHECK(!allows(&w.s, "b/bweb", false, "10.42.1.1", NETPOL_UDP, 53));
    world_free(&w);
}

TEST(pod_selector_within_the_policy_namespace)
{
    struct world w;
    world_init(&w);
    world_add(&w, "a", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
                            "{\"matchLabels\":{\"app\":\"client\"}}}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/web", true, "10.42.1.11", NETPOL_TCP, 8080));  /* a/client */
    CHECK(!allows(&w.s, "a/web", true, "10.42.2.12", NETPOL_TCP, 8080)); /* a/other */
    CHECK(!allows(&w.s, "a/web", true, "10.42.2.13", NETPOL_TCP, 8080)); /* b/bclient: other namespace */
    CHECK(!allows(&w.s, "a/web", true, "10.42.1.15", NETPOL_TCP, 8080)); /* finished pod */
    /* matchExpressions */
    world_add(&w, "a", "q", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"podSelector\":"
                            "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"other\"]}]}}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/web", true, "10.42.2.12", NETPOL_TCP, 8080)); /* union of both policies */
    CHECK(allows(&w.s, "a/web", true, "10.42.1.11", NETPOL_TCP, 8080));
    CHECK(!allows(&w.s, "a/web", true, "10.42.2.13", NETPOL_TCP, 8080));
    world_free(&w);
}

TEST(namespace_selector_and_both)
{
    struct world w;
    world_init(&w);
    world_add(&w, "a", "ns", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":"
                             "[{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"b\"}}}]}]}");
    world_add(&w, "b", "both", "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":"
                               "{\"kubernetes.io/metadata.name\":\"a\"}},\"podSelector\":{\"matchLabels\":{\"app\":\"other\"}}}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/web", true, "10.42.2.13", NETPOL_TCP, 1));  /* b/bclient */
    CHECK(allows(&w.s, "a/web", true, "10.42.1.14", NETPOL_TCP, 1));  /* b/bweb */
    CHECK(!allows(&w.s, "a/web", true, "10.42.1.11", NETPOL_TCP, 1)); /* a/client: its own ns is not team=b */
    CHECK(allows(&w.s, "b/bweb", true, "10.42.2.12", NETPOL_TCP, 1));  /* a/other */
    CHECK(!allows(&w.s, "b/bweb", true, "10.42.1.11", NETPOL_TCP, 1)); /* a/client: wrong labels */
    CHECK(!allows(&w.s, "b/bweb", true, "10.42.2.13", NETPOL_TCP, 1)); /* b/bclient: wrong namespace */
    world_free(&w);
}

TEST(ip_block_with_except)
{
    struct world w;
    world_init(&w);
    world_add(&w, "a", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":[{\"ipBlock\":"
                            "{\"cidr\":\"172.16.0.0/16\",\"except\":[\"172.16.1.0/24\",\"172.16.1.128/25\"]}},"
                            "{\"ipBlock\":{\"cidr\":\"10.9.0.0/24\"}}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/web", true, "172.16.0.9", NETPOL_TCP, 80));
    CHECK(allows(&w.s, "a/web", true, "172.16.200.1", NETPOL_TCP, 80));
    CHECK(!allows(&w.s, "a/web", true, "172.16.1.9", NETPOL_TCP, 80));
    CHECK(!allows(&w.s, "a/web", true, "172.16.1.200", NETPOL_TCP, 80));
    CHECK(allows(&w.s, "a/web", true, "10.9.0.255", NETPOL_UDP, 80));
    CHECK(!allows(&w.s, "a/web", true, "10.9.1.0", NETPOL_TCP, 80));
    const struct netpol_pod *p = netpol_state_pod(&w.s, "a/web");
    CHECK(p && p->n_in == 1 && w.s.peers[p->in[0].peers].n_blocks == 1);
    CHECK_INT(w.s.peers[p->in[0].peers].blocks[0].n_except, ==, 1); /* the /25 merged into the /24 */
    world_free(&w);
}

TEST(ports_numbered_ranged_named_per_protocol)
{
    struct world w;
    world_init(&w);
    world_add(&w, "a", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"ports\":["
                            "{\"port\":80},{\"protocol\":\"UDP\",\"port\":1000,\"endPort\":1010},"
                            "{\"port\":\"http\"},{\"protocol\":\"UDP\",\"port\":\"dns\"},{\"port\":\"nope\"},"
                            "{\"protocol\":\"SCTP\"}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_TCP, 80));
    CHECK(!allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_UDP, 80));
    CHECK(allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_UDP, 1005));
    CHECK(!allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_UDP, 1011));
    CHECK(allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_TCP, 8080)); /* named: the pod's own http */
    CHECK(allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_UDP, 5353)); /* named UDP */
    CHECK(!allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_TCP, 5353)); /* dns is UDP */
    CHECK(allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_SCTP, 9));    /* a protocol alone: all its ports */
    CHECK(!allows(&w.s, "a/web", true, "8.8.8.8", NETPOL_TCP, 9));

    /* egress to a named port: (pod address, port) pairs, per destination */
    world_add(&w, "a", "eg", "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],"
                             "\"egress\":[{\"to\":[{\"namespaceSelector\":{}}],\"ports\":[{\"port\":\"http\"}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/client", false, "10.42.1.10", NETPOL_TCP, 8080));
    CHECK(allows(&w.s, "a/client", false, "10.42.1.14", NETPOL_TCP, 8080));
    CHECK(!allows(&w.s, "a/client", false, "10.42.1.10", NETPOL_TCP, 80));
    CHECK(!allows(&w.s, "a/client", false, "10.42.2.12", NETPOL_TCP, 8080)); /* no port named http */
    world_free(&w);
}

TEST(dns_resolver_counts_as_kube_dns)
{
    struct world w;
    world_init(&w);
    world_add(&w, "a", "dns", "{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],"
                              "\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":"
                              "\"kube-system\"}},\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],"
                              "\"ports\":[{\"protocol\":\"UDP\",\"port\":53},{\"protocol\":\"TCP\",\"port\":\"dns-tcp\"}]}]}");
    world_add(&w, "b", "dns-any", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],"
                                  "\"egress\":[{\"to\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":"
                                  "{\"k8s-app\":\"kube-dns\"}}}]},{\"to\":[{\"podSelector\":{}}],\"ports\":[{\"port\":80}]}]}");
    world_build(&w);
    CHECK(allows(&w.s, "a/client", false, "10.42.1.1", NETPOL_UDP, 53));
    CHECK(allows(&w.s, "a/client", false, "10.42.1.1", NETPOL_TCP, 53));
    CHECK(!allows(&w.s, "a/client", false, "10.42.1.1", NETPOL_TCP, 80));
    CHECK(!allows(&w.s, "a/client", false, "10.42.1.10", NETPOL_UDP, 53)); /* other egress stays blocked */
    CHECK(allows(&w.s, "b/bweb", false, "10.42.1.1", NETPOL_UDP, 53));     /* no ports: 53 only */
    CHECK(!allows(&w.s, "b/bweb", false, "10.42.1.1", NETPOL_TCP, 22));
    CHECK(!allows(&w.s, "b/bweb", false, "10.42.1.1", NETPOL_TCP, 80));    /* the resolver is not in b */
    CHECK(allows(&w.s, "b/bweb", false, "10.42.2.13", NETPOL_TCP, 80));
    world_free(&w);
}

/* Chain names are hashes of their content: "in-<16 hex>" becomes "in-X". */
static void unhash(char *s)
{
    char *p = s;
    while ((p = strstr(p, "-")) != NULL) {
        bool hex = strlen(p + 1) >= 16;
        for (int i = 1; i <= 16 && hex; i++) hex = strchr("0123456789abcdef", p[i]) != NULL;
        if (hex && p >= s + 2 && (strncmp(p - 2, "in", 2) == 0 || strncmp(p - 2, "eg", 2) == 0)) {
            p[1] = 'X';
            memmove(p + 2, p + 17, strlen(p + 17) + 1);
        }
        p++;
    }
}

TEST(render_small_state)
{
    struct world w;
    struct orc_buf o = ORC_BUF_INIT;
    char t[32];
    world_init(&w);
    world_add(&w, "a", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"policyTypes\":[\"Ingress\",\"Egress\"],"
                            "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"client\"}}},"
                            "{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.42.0.0/16\"]}}],\"ports\":[{\"port\":\"http\"}]}],"
                            "\"egress\":[{\"ports\":[{\"protocol\":\"UDP\",\"port\":53}]}]}");
    world_build(&w);
    netpol_table_name("n1", t, sizeof t);
    CHECK_INT(netpol_render(&w.s, &node1, &o), ==, 0);
    char want[4096];
    snprintf(want, sizeof want,
             "add table inet %s\ndelete table inet %s\ntable inet %s {\n"
             "\tset host-addrs {\n\t\ttype ipv4_addr; flags interval\n\t\telements = { 10.42.1.1, 192.168.5.10 }\n\t}\n"
             "\tset p0-i0 {\n\t\ttype ipv4_addr; flags interval\n\t\telements = { 10.42.1.11 }\n\t}\n"
             "\tset self-pods {\n\t\ttype ipv4_addr . ipv4_addr\n\t\telements = { 10.42.1.10 . 10.42.1.10 }\n\t}\n"
             "\tchain in-X {\n\t\tct state invalid drop\n\t\tct original ip saddr @host-addrs accept\n"
             "\t\tct original ip saddr @p0-i0 meta l4proto tcp th dport { 8080 } accept\n"
             "\t\tct original ip saddr 10.0.0.0/8 ct original ip saddr != { 10.42.0.0/16 } meta l4proto tcp th dport { 8080 } accept\n"
             "\t\tdrop\n\t}\n"
             "\tchain eg-X {\n\t\tct state invalid drop\n\t\tmeta l4proto udp th dport { 53 } return\n\t\tdrop\n\t}\n"
             "\tmap ingress-pods {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 10.42.1.10 : jump in-X }\n\t}\n"
             "\tmap egress-pods {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 10.42.1.10 : jump eg-X }\n\t}\n"
             "\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n"
             "\t\tct state established,related accept\n"
             "\t\tip saddr . ip daddr @self-pods accept\n"
             "\t\tip saddr vmap @egress-pods\n\t\tip daddr vmap @ingress-pods\n\t}\n"
             "\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n"
             "\t\tct state established,related accept\n"
             "\t\tip saddr vmap @egress-pods\n\t}\n}\n",
             t, t, t);
    unhash(o.data);
    CHECK_STR(o.data, want);
    /* the same state renders the same text */
    struct orc_buf o2 = ORC_BUF_INIT;
    CHECK_INT(netpol_render(&w.s, &node1, &o2), ==, 0);
    unhash(o2.data);
    CHECK_STR(o2.data, o.data);
    /* two pods selected alike share one chain */
    json_array_append_new(w.pods, pod("a", "web2", "10.42.1.20", "n1", "{\"app\":\"web\"}", WEB_PORTS));
    world_build(&w);
    orc_buf_reset(&o2);
    CHECK_INT(netpol_render(&w.s, &node1, &o2), ==, 0);
    size_t chains = 0;
    for (const char *q = o2.data; (q = strstr(q, "\tchain in-")) != NULL; q++) chains++;
    CHECK_INT(chains, ==, 1);
    orc_buf_free(&o);
    orc_buf_free(&o2);
    world_free(&w);
}

/* 1,000 pods over 20 namespaces (half of them on this node), 200 policies
 * of every shape. */
static void big_world(struct world *w)
{
    char ns[32], name[32], ip[32], labels[128], spec[1024];
    memset(w, 0, sizeof *w);
    w->pols = json_array();
    w->pods = json_array();
    w->nss = json_array();
    for (int i = 0; i < 20; i++) {
        snprintf(spec, sizeof spec, "{\"metadata\":{\"name\":\"ns%d\",\"labels\":{\"team\":\"t%d\"}}}", i, i % 4);
        json_array_append_new(w->nss, js(spec));
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(ns, sizeof ns, "ns%d", i % 20);
        snprintf(name, sizeof name, "pod%d", i);
        snprintf(ip, sizeof ip, "10.42.%d.%d", (i % 2 ? 10 : 20) + i / 250, 2 + i % 250);
        snprintf(labels, sizeof labels, "{\"app\":\"a%d\",\"tier\":\"t%d\"}", i % 10, i % 3);
        json_array_append_new(w->pods, pod(ns, name, ip, i % 2 ? "n1" : "n2", labels, WEB_PORTS));
    }
    for (int i = 0; i < 200; i++) {
        snprintf(ns, sizeof ns, "ns%d", i % 20);
        snprintf(name, sizeof name, "pol%d", i);
        snprintf(spec, sizeof spec,
                 "{\"podSelector\":{\"matchLabels\":{\"app\":\"a%d\"}},\"policyTypes\":[\"Ingress\",\"Egress\"],"
                 "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"tier\":\"t%d\"}}},"
                 "{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"t%d\"}}},"
                 "{\"ipBlock\":{\"cidr\":\"172.%d.0.0/16\",\"except\":[\"172.%d.3.0/24\"]}}],"
                 "\"ports\":[{\"port\":\"http\"},{\"port\":9000,\"endPort\":9100},{\"protocol\":\"UDP\",\"port\":53}]}],"
                 "\"egress\":[{\"to\":[{\"namespaceSelector\":{},\"podSelector\":{\"matchLabels\":{\"k8s-app\":\"kube-dns\"}}}],"
                 "\"ports\":[{\"protocol\":\"UDP\",\"port\":53}]},{\"to\":[{\"podSelector\":{\"matchLabels\":{\"tier\":\"t%d\"}}}],"
                 "\"ports\":[{\"port\":\"http\"}]}]}",
                 i % 10, i % 3, i % 4, i % 200, i % 200, (i + 1) % 3);
        json_array_append_new(w->pols, policy(ns, name, spec));
    }
}

TEST_T(render_big_state_nft_check, 60)
{
    struct world w;
    struct orc_buf o = ORC_BUF_INIT;
    char err[256] = "";
    big_world(&w);
    uint64_t t0 = test_now_ms();
    CHECK_INT(netpol_state_build(w.pols, w.pods, w.nss, &node1, &w.s), ==, 0);
    CHECK_INT(netpol_render(&w.s, &node1, &o), ==, 0);
    uint64_t t1 = test_now_ms();
    printf("# 1,000 pods, 200 policies: %zu isolated pods, %zu peer sets, script %zu KiB, build+render %llu ms\n",
           w.s.n_pods, w.s.n_peers, o.len / 1024, (unsigned long long)(t1 - t0));
    CHECK_INT(w.s.n_pods, ==, 500);
    if (geteuid() != 0 || !orc_nft_available()) {
        printf("# nft part skipped: needs root and nft\n");
    } else {
        /* a namespace of this case's own: nothing lands in the host's */
        CHECKF(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
        CHECKF(netpol_nft_apply(o.data, true, err) == 0, "nft -c: %s", err);
        uint64_t t2 = test_now_ms();
        CHECKF(netpol_nft_apply(o.data, false, err) == 0, "nft -f: %s", err);
        uint64_t t3 = test_now_ms();
        CHECKF(netpol_nft_apply(o.data, false, err) == 0, "nft -f again: %s", err); /* replaces itself */
        printf("# nft -f (apply) %llu ms, replace %llu ms\n", (unsigned long long)(t3 - t2),
               (unsigned long long)(test_now_ms() - t3));
        CHECKF(netpol_nft_remove("n1", err) == 0, "remove: %s", err);
        char t[32];
        netpol_table_name("n1", t, sizeof t);
        char *argv[] = {"nft", "list", "table", "inet", t, NULL};
        CHECKF(orc_run(argv, NULL) != 0, "table %s still there", t);
        CHECKF(netpol_nft_remove("n1", err) == 0, "remove when absent: %s", err);
    }
    orc_buf_free(&o);
    world_free(&w);
}

/* The agent's informer keeps pods trimmed: the rules must not change. */
TEST(trimmed_pods_give_the_same_rules)
{
    struct world w;
    struct orc_buf full = ORC_BUF_INIT, slim = ORC_BUF_INIT;
    world_init(&w);
    world_add(&w, "a", "p", "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"policyTypes\":[\"Ingress\",\"Egress\"],"
                            "\"ingress\":[{\"from\":[{\"namespaceSelector\":{}}],\"ports\":[{\"port\":\"http\"}]}],"
                            "\"egress\":[{\"to\":[{\"podSelector\":{}}],\"ports\":[{\"protocol\":\"UDP\",\"port\":\"dns\"}]}]}");
    world_build(&w);
    CHECK_INT(netpol_render(&w.s, &node1, &full), ==, 0);
    json_t *pods = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(w.pods, i, p) {
        json_t *c = json_deep_copy(p);
        json_object_set_new(json_object_get(c, "spec"), "restartPolicy", json_string("Always"));
        json_object_set_new(json_object_get(c, "metadata"), "annotations", json_pack("{ss}", "a", "b"));
        netpol_pod_trim(c);
        CHECK(orc_json_get(c, "spec.restartPolicy") == NULL && orc_json_get(c, "metadata.annotations") == NULL);
        json_array_append_new(pods, c);
    }
    json_decref(w.pods);
    w.pods = pods;
    world_build(&w);
    CHECK_INT(netpol_render(&w.s, &node1, &slim), ==, 0);
    CHECK_STR(slim.data, full.data);
    CHECK(strstr(full.data, "8080") != NULL); /* the named port resolved */
    orc_buf_free(&full);
    orc_buf_free(&slim);
    world_free(&w);
}
