/* test_dns_podconf.c — pods' resolv.conf as the kubelet writes it, for
 * every dnsPolicy, with dnsConfig merged in; their /etc/hosts; the
 * node's upstreams read from a resolv.conf. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "dns/dns.h"
#include "tests/harness/test.h"

#define HOST "# the node's\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lab.example corp.example\n" \
             "options edns0 timeout:2\n"

static void expect(const char *pod_json, const char *cluster_dns, const char *want)
{
    json_t *pod = json_loads(pod_json, 0, NULL);
    CHECK(pod != NULL);
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(dns_pod_resolv_conf(pod, cluster_dns, "cluster.local", HOST, &b), ==, 0);
    CHECK_STR(b.data ? b.data : "", want);
    orc_buf_free(&b);
    json_decref(pod);
}

TEST(cluster_first)
{
    expect("{\"metadata\":{\"namespace\":\"shop\"},\"spec\":{}}", "10.42.0.1",
           "nameserver 10.42.0.1\n"
           "search shop.svc.cluster.local svc.cluster.local cluster.local lab.example corp.example\n"
           "options ndots:5\n");
    /* on the host's network, ClusterFirst is Default; WithHostNet is not */
    expect("{\"metadata\":{\"namespace\":\"shop\"},\"spec\":{\"hostNetwork\":true}}", "10.42.0.1",
           "nameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lab.example corp.example\n"
           "options edns0 timeout:2\n");
    expect("{\"metadata\":{\"namespace\":\"shop\"},\"spec\":{\"hostNetwork\":true,"
           "\"dnsPolicy\":\"ClusterFirstWithHostNet\"}}", "10.42.0.1",
           "nameserver 10.42.0.1\n"
           "search shop.svc.cluster.local svc.cluster.local cluster.local lab.example corp.example\n"
           "options ndots:5\n");
    /* no cluster resolver on this node: Default */
    expect("{\"metadata\":{\"namespace\":\"shop\"},\"spec\":{}}", NULL,
           "nameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lab.example corp.example\n"
           "options edns0 timeout:2\n");
}

TEST(none_and_dns_config)
{
    expect("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsPolicy\":\"None\",\"dnsConfig\":{"
           "\"nameservers\":[\"1.2.3.4\"],\"searches\":[\"ns1.svc.cluster-domain.example\",\"my.dns.search.suffix\"],"
           "\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"edns0\"}]}}}", "10.42.0.1",
           "nameserver 1.2.3.4\nsearch ns1.svc.cluster-domain.example my.dns.search.suffix\noptions ndots:2 edns0\n");
    /* dnsConfig on top of ClusterFirst: servers capped at 3, ndots replaced */
    expect("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsConfig\":{"
           "\"nameservers\":[\"1.1.1.1\",\"2.2.2.2\",\"3.3.3.3\"],\"searches\":[\"cluster.local\",\"x.example\"],"
           "\"options\":[{\"name\":\"ndots\",\"value\":\"1\"}]}}}", "10.42.0.1",
           "nameserver 10.42.0.1\nnameserver 1.1.1.1\nnameserver 2.2.2.2\n"
           "search a.svc.cluster.local svc.cluster.local cluster.local lab.example corp.example x.example\n"
           "options ndots:1\n");
    expect("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsPolicy\":\"None\"}}", "10.42.0.1", "");
    expect("{\"metadata\":{\"namespace\":\"a\"},\"spec\":{\"dnsPolicy\":\"Default\"}}", "10.42.0.1",
           "nameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lab.example corp.example\n"
           "options edns0 timeout:2\n");
}

static const char HOSTS_HEAD[] = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                                 "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                                 "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";

static void expect_hosts(const char *pod_json, const char *ip, const char *want_tail)
{
    json_t *pod = json_loads(pod_json, 0, NULL);
    CHECK(pod != NULL);
    struct orc_buf b = ORC_BUF_INIT;
    CHECK_INT(dns_pod_hosts(pod, ip, "cluster.local", &b), ==, 0);
    char want[2048];
    snprintf(want, sizeof want, "%s%s", HOSTS_HEAD, want_tail);
    CHECK_STR(b.data, want);
    orc_buf_free(&b);
    json_decref(pod);
}

TEST(hosts_file)
{
    expect_hosts("{\"metadata\":{\"namespace\":\"a\",\"name\":\"web-1\"},\"spec\":{}}", "10.42.0.7",
                 "10.42.0.7\tweb-1\n");
    expect_hosts("{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg-0\"},\"spec\":{\"hostname\":\"pg-0\","
                 "\"subdomain\":\"pg\",\"hostAliases\":[{\"ip\":\"127.0.0.1\",\"hostnames\":[\"foo.local\",\"bar.local\"]},"
                 "{\"ip\":\"10.1.2.3\",\"hostnames\":[\"foo.remote\"]},{\"ip\":\"10.9.9.9\"}]}}", "10.42.0.8",
                 "10.42.0.8\tpg-0.pg.db.svc.cluster.local\tpg-0\n\n# Entries added by HostAliases.\n"
                 "127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n");
}

TEST(upstreams_from_resolv_conf)
{
    char path[600];
    snprintf(path, sizeof path, "%s/resolv.conf", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("# comment\nsearch x\nnameserver 192.0.2.1\nnameserver   fe80::1%eth0\nnameserver bogus\n"
          "nameserver 2001:db8::53\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n", f);
    fclose(f);
    char *a[3];
    CHECK_INT(dns_resolv_conf_read(path, a, 3), ==, 3);
    CHECK_STR(a[0], "192.0.2.1");
    CHECK_STR(a[1], "2001:db8::53");
    CHECK_STR(a[2], "192.0.2.2");
    for (int i = 0; i < 3; i++) free(a[i]);
    snprintf(path, sizeof path, "%s/empty", test_tmpdir());
    f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    CHECK_INT(dns_resolv_conf_read(path, a, 3), ==, 0);
    CHECK(dns_resolv_conf_read("/nonexistent/resolv.conf", a, 3) < 0);
}
