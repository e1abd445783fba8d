/* test_dns_records.c — records from Services and EndpointSlices, answered
 * by the pure query handler: A, headless, hostnames, SRV, CNAME, PTR,
 * NXDOMAIN vs NODATA, truncation, FORMERR, updates and deletes. */
#include <jansson.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>

#include "dns/dns.h"
#include "lib/orc.h"
#include "tests/harness/jsq.h"
#include "tests/harness/test.h"

static void set_svc(struct dns_zone *z, const char *text)
{
    json_t *v = js(text);
    CHECK_INT(dns_zone_set_service(z, v), ==, 0);
    json_decref(v);
}

static void set_slice(struct dns_zone *z, const char *text)
{
    json_t *v = js(text);
    CHECK_INT(dns_zone_set_slice(z, v), ==, 0);
    json_decref(v);
}

/* Sends one query (EDNS size edns, 0 for none) and returns the decoded
 * answer; NULL when the handler forwards. */
static ldns_pkt *ask_tr(const struct dns_zone *z, const char *name, ldns_rr_type t, uint16_t edns,
                        enum dns_transport tr)
{
    ldns_pkt *q = NULL;
    CHECK(ldns_pkt_query_new_frm_str(&q, name, t, LDNS_RR_CLASS_IN, LDNS_RD) == LDNS_STATUS_OK);
    ldns_pkt_set_id(q, 4242);
    if (edns) ldns_pkt_set_edns_udp_size(q, edns);
    uint8_t *w, *out;
    size_t wl, ol;
    CHECK(ldns_pkt2wire(&w, q, &wl) == LDNS_STATUS_OK);
    ldns_pkt_free(q);
    enum dns_verdict v = dns_query_handle(z, w, wl, tr, &out, &ol);
    free(w);
    if (v == DNS_FORWARD) return NULL;
    CHECK_INT(v, ==, DNS_REPLY);
    ldns_pkt *r = NULL;
    CHECK(ldns_wire2pkt(&r, out, ol) == LDNS_STATUS_OK);
    CHECK(tr == DNS_TCP || ol <= (edns ? edns : 512));
    free(out);
    CHECK_INT(ldns_pkt_id(r), ==, 4242);
    CHECK(ldns_pkt_qr(r));
    return r;
}

static ldns_pkt *ask(const struct dns_zone *z, const char *name, ldns_rr_type t)
{
    return ask_tr(z, name, t, 0, DNS_UDP);
}

/* The answer section's rdata (field i of each record), sorted, joined by
 * spaces: "10.0.0.1 10.0.0.2". */
static char *answers(const ldns_pkt *r, size_t field)
{
    static char buf[4096];
    ldns_rr_list *an = ldns_pkt_answer(r);
    size_t n = ldns_rr_list_rr_count(an);
    char *items[64];
    CHECK(n <= 64);
    for (size_t i = 0; i < n; i++) items[i] = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(an, i), field));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(items[j], items[i]) < 0) {
                char *t = items[i];
                items[i] = items[j];
                items[j] = t;
            }
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(buf, " ");
        strncat(buf, items[i], sizeof buf - strlen(buf) - 64);
        free(items[i]);
    }
    return buf;
}

static void expect(const struct dns_zone *z, const char *name, ldns_rr_type t, int rcode, const char *want)
{
    ldns_pkt *r = ask(z, name, t);
    CHECKF(r != NULL, "%s forwarded", name);
    CHECKF((int)ldns_pkt_get_rcode(r) == rcode, "%s: rcode %d, want %d", name, ldns_pkt_get_rcode(r), rcode);
    size_t field = t == LDNS_RR_TYPE_SRV ? 3 : 0;
    const char *got = answers(r, field);
    CHECKF(strcmp(got, want) == 0, "%s: \"%s\", want \"%s\"", name, got, want);
    if (!*want) CHECKF(ldns_rr_list_rr_count(ldns_pkt_authority(r)) == 1, "%s: no SOA", name);
    CHECK(ldns_pkt_aa(r));
    ldns_pkt_free(r);
}

static struct dns_zone *zone(void)
{
    struct dns_zone *z = dns_zone_new(NULL);
    CHECK(z != NULL);
    CHECK_STR(dns_zone_domain(z), "cluster.local.");
    return z;
}

#define WEB "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"type\":\"ClusterIP\"," \
            "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\",\"port\":80}," \
            "{\"port\":81}]}}"

TEST(cluster_ip_a_srv_ptr)
{
    struct dns_zone *z = zone();
    set_svc(z, WEB);
    expect(z, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.43.0.10");
    expect(z, "WEB.Default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.43.0.10");
    expect(z, "_http._tcp.web.default.svc.cluster.local.", LDNS_RR_TYPE_SRV, LDNS_RCODE_NOERROR,
           "web.default.svc.cluster.local.");
    expect(z, "10.0.43.10.in-addr.arpa.", LDNS_RR_TYPE_PTR, LDNS_RCODE_NOERROR, "web.default.svc.cluster.local.");
    /* the SRV's target's address comes along */
    ldns_pkt *r = ask(z, "_http._tcp.web.default.svc.cluster.local.", LDNS_RR_TYPE_SRV);
    CHECK_INT(ldns_rr_list_rr_count(ldns_pkt_additional(r)), ==, 1);
    char *port = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 2));
    CHECK_STR(port, "80");
    free(port);
    ldns_pkt_free(r);
    dns_zone_free(z);
}

TEST(nxdomain_vs_nodata)
{
    struct dns_zone *z = zone();
    set_svc(z, WEB);
    /* AAAA of an IPv4 Service: the name exists, NODATA */
    expect(z, "web.default.svc.cluster.local.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, "");
    /* empty non-terminals exist too */
    expect(z, "default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "");
    expect(z, "svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "");
    expect(z, "cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "");
    expect(z, "nope.default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    expect(z, "web.other.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    expect(z, "_x._tcp.web.default.svc.cluster.local.", LDNS_RR_TYPE_SRV, LDNS_RCODE_NXDOMAIN, "");
    /* outside the zone, and a PTR we do not hold: forwarded */
    CHECK(ask(z, "example.com.", LDNS_RR_TYPE_A) == NULL);
    CHECK(ask(z, "1.1.168.192.in-addr.arpa.", LDNS_RR_TYPE_PTR) == NULL);
    CHECK(ask(z, "xcluster.local.", LDNS_RR_TYPE_A) == NULL);
    dns_zone_free(z);
}

#define HEADLESS "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg\"},\"spec\":{\"clusterIP\":\"None\"," \
                 "\"ports\":[{\"name\":\"sql\",\"port\":5432}]}}"
#define SLICE_A "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg-abc\",\"labels\":{\"kubernetes.io/service-name\":\"pg\"}}," \
    "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"sql\",\"protocol\":\"TCP\",\"port\":5432}],\"endpoints\":[" \
    "{\"addresses\":[\"10.42.0.5\"],\"conditions\":{\"ready\":true},\"hostname\":\"pg-0\"}," \
    "{\"addresses\":[\"10.42.1.6\"],\"conditions\":{\"ready\":true},\"hostname\":\"pg-1\"}," \
    "{\"addresses\":[\"10.42.1.7\"],\"conditions\":{\"ready\":false},\"hostname\":\"pg-2\"}," \
    "{\"addresses\":[\"10.42.2.8\"]}]}"

TEST(headless_endpoints_hostnames)
{
    struct dns_zone *z = zone();
    set_slice(z, SLICE_A); /* the slice before its Service: published once both are known */
    expect(z, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    set_svc(z, HEADLESS);
    expect(z, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.42.0.5 10.42.1.6 10.42.2.8");
    expect(z, "pg-1.pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.42.1.6");
    expect(z, "pg-2.pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    expect(z, "10-42-2-8.pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.42.2.8");
    expect(z, "_sql._tcp.pg.db.svc.cluster.local.", LDNS_RR_TYPE_SRV, LDNS_RCODE_NOERROR,
           "10-42-2-8.pg.db.svc.cluster.local. pg-0.pg.db.svc.cluster.local. pg-1.pg.db.svc.cluster.local.");
    expect(z, "5.0.42.10.in-addr.arpa.", LDNS_RR_TYPE_PTR, LDNS_RCODE_NOERROR, "pg-0.pg.db.svc.cluster.local.");
    /* pg-2 becomes ready: one update of one slice */
    set_slice(z, "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg-abc\",\"labels\":{\"kubernetes.io/service-name\":\"pg\"}},"
                 "\"endpoints\":[{\"addresses\":[\"10.42.1.7\"],\"hostname\":\"pg-2\"}]}");
    expect(z, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.42.1.7");
    expect(z, "pg-0.pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    CHECK(ask(z, "5.0.42.10.in-addr.arpa.", LDNS_RR_TYPE_PTR) == NULL);
    /* a second slice adds to the first */
    set_slice(z, "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg-def\",\"labels\":{\"kubernetes.io/service-name\":\"pg\"}},"
                 "\"endpoints\":[{\"addresses\":[\"10.42.3.1\"]}]}");
    expect(z, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.42.1.7 10.42.3.1");
    CHECK_INT(dns_zone_del_slice(z, "db", "pg-abc"), ==, 0);
    expect(z, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.42.3.1");
    /* the Service goes: every name with it */
    CHECK_INT(dns_zone_del_service(z, "db", "pg"), ==, 0);
    expect(z, "pg.db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    expect(z, "db.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, "");
    CHECK_INT(dns_zone_names(z), ==, 0);
    CHECK_INT(dns_zone_del_slice(z, "db", "pg-def"), ==, 0);
    dns_zone_free(z);
}

TEST(external_name_cname)
{
    struct dns_zone *z = zone();
    set_svc(z, "{\"metadata\":{\"namespace\":\"default\",\"name\":\"ext\"},"
               "\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}");
    expect(z, "ext.default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "db.example.com.");
    expect(z, "ext.default.svc.cluster.local.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR, "db.example.com.");
    /* ExternalName -> ClusterIP on update: the CNAME is gone */
    set_svc(z, "{\"metadata\":{\"namespace\":\"default\",\"name\":\"ext\"},\"spec\":{\"clusterIP\":\"10.43.1.1\"}}");
    expect(z, "ext.default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.43.1.1");
    expect(z, "ext.default.svc.cluster.local.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR, "");
    dns_zone_free(z);
}

TEST(ipv6_and_custom_domain)
{
    struct dns_zone *z = dns_zone_new("k8s.test");
    CHECK(z != NULL);
    set_svc(z, "{\"metadata\":{\"namespace\":\"a\",\"name\":\"b\"},\"spec\":{\"clusterIP\":\"fd00::10\","
               "\"clusterIPs\":[\"fd00::10\",\"10.43.0.7\"]}}");
    expect(z, "b.a.svc.k8s.test.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, "fd00::10");
    expect(z, "b.a.svc.k8s.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.43.0.7");
    expect(z, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", LDNS_RR_TYPE_PTR,
           LDNS_RCODE_NOERROR, "b.a.svc.k8s.test.");
    CHECK(ask(z, "b.a.svc.cluster.local.", LDNS_RR_TYPE_A) == NULL);
    dns_zone_free(z);
    CHECK(dns_zone_new("bad..name") == NULL);
}

TEST(truncation_and_edns)
{
    struct dns_zone *z = zone();
    set_svc(z, "{\"metadata\":{\"namespace\":\"n\",\"name\":\"big\"},\"spec\":{\"clusterIP\":\"None\"}}");
    char slice[16384];
    int o = snprintf(slice, sizeof slice, "{\"metadata\":{\"namespace\":\"n\",\"name\":\"big-1\",\"labels\":"
                                          "{\"kubernetes.io/service-name\":\"big\"}},\"endpoints\":[");
    for (int i = 0; i < 100; i++) o += snprintf(slice + o, sizeof slice - o, "%s{\"addresses\":[\"10.42.0.%d\"]}", i ? "," : "", i + 1);
    snprintf(slice + o, sizeof slice - o, "]}");
    set_slice(z, slice);
    /* 100 A records (16 bytes each compressed) do not fit 512 bytes */
    ldns_pkt *r = ask(z, "big.n.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK(ldns_pkt_tc(r));
    CHECK_INT(ldns_rr_list_rr_count(ldns_pkt_answer(r)), ==, 0);
    ldns_pkt_free(r);
    /* an EDNS0 buffer of 4,096 bytes holds them */
    r = ask_tr(z, "big.n.svc.cluster.local.", LDNS_RR_TYPE_A, 4096, DNS_UDP);
    CHECK(!ldns_pkt_tc(r));
    CHECK_INT(ldns_rr_list_rr_count(ldns_pkt_answer(r)), ==, 100);
    CHECK(ldns_pkt_edns(r));
    ldns_pkt_free(r);
    r = ask_tr(z, "big.n.svc.cluster.local.", LDNS_RR_TYPE_A, 0, DNS_TCP);
    CHECK_INT(ldns_rr_list_rr_count(ldns_pkt_answer(r)), ==, 100);
    ldns_pkt_free(r);
    dns_zone_free(z);
}

TEST(malformed_packets)
{
    struct dns_zone *z = zone();
    uint8_t *out;
    size_t ol;
    uint8_t junk[40] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 'a'};
    CHECK_INT(dns_query_handle(z, junk, 5, DNS_UDP, &out, &ol), ==, DNS_DROP);
    CHECK_INT(dns_query_handle(z, junk, sizeof junk, DNS_UDP, &out, &ol), ==, DNS_REPLY);
    CHECK_INT(ol, ==, 12);
    CHECK_INT(out[0], ==, 0x12);
    CHECK_INT(out[3] & 15, ==, LDNS_RCODE_FORMERR);
    free(out);
    junk[2] = 0x81; /* a response: never answered */
    CHECK_INT(dns_query_handle(z, junk, sizeof junk, DNS_UDP, &out, &ol), ==, DNS_DROP);
    junk[2] = 0x10; /* opcode 2 (STATUS) */
    CHECK_INT(dns_query_handle(z, junk, sizeof junk, DNS_UDP, &out, &ol), ==, DNS_REPLY);
    CHECK_INT(out[3] & 15, ==, LDNS_RCODE_NOTIMPL);
    free(out);
    dns_zone_free(z);
}

TEST(a_thousand_services)
{
    struct dns_zone *z = zone();
    char buf[512];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "{\"metadata\":{\"namespace\":\"ns%d\",\"name\":\"s%d\"},"
                                  "\"spec\":{\"clusterIP\":\"10.43.%d.%d\"}}", i % 10, i, i / 250, i % 250 + 1);
        set_svc(z, buf);
    }
    CHECK_INT(dns_zone_names(z), ==, 2000);
    expect(z, "s999.ns9.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.43.3.250");
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < 10000; i++) {
        ldns_pkt *r = ask(z, "s500.ns0.svc.cluster.local.", LDNS_RR_TYPE_A);
        ldns_pkt_free(r);
    }
    printf("# 10,000 lookups among 1,000 Services: %llu ms\n", (unsigned long long)(test_now_ms() - t0));
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        char ns[16];
        snprintf(ns, sizeof ns, "ns%d", i % 10);
        CHECK_INT(dns_zone_del_service(z, ns, buf), ==, 0);
    }
    CHECK_INT(dns_zone_names(z), ==, 0);
    dns_zone_free(z);
}

TEST(not_ready_answers_servfail)
{
    struct dns_zone *z = zone();
    set_svc(z, WEB);
    dns_zone_set_ready(z, 0);
    ldns_pkt *r = ask(z, "nope.default.svc.cluster.local.", LDNS_RR_TYPE_A);
    CHECK_INT(ldns_pkt_get_rcode(r), ==, LDNS_RCODE_SERVFAIL);
    ldns_pkt_free(r);
    CHECK(ask(z, "example.com.", LDNS_RR_TYPE_A) == NULL); /* still forwarded */
    dns_zone_set_ready(z, 1);
    expect(z, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, "10.43.0.10");
    dns_zone_free(z);
}
