/* fuzz_dns.c — libFuzzer target for dns/query.c: raw packets, as any
 * client on the pod network may send them, into the query handler over a
 * zone with every kind of record. An answer is always a packet ldns decodes
 * back, with the query's id, that fits the transport's limit. */
#include <jansson.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>

#include "dns/dns.h"

static const char *objects[] = {
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"web\"},\"spec\":{\"clusterIP\":\"10.43.0.10\","
    "\"ports\":[{\"name\":\"http\",\"port\":80}]}}",
    "{\"metadata\":{\"namespace\":\"default\",\"name\":\"ext\"},\"spec\":{\"type\":\"ExternalName\","
    "\"externalName\":\"example.com\"}}",
    "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg\"},\"spec\":{\"clusterIP\":\"None\"}}",
    "{\"metadata\":{\"namespace\":\"db\",\"name\":\"pg-1\",\"labels\":{\"kubernetes.io/service-name\":\"pg\"}},"
    "\"ports\":[{\"name\":\"sql\",\"port\":5432}],\"endpoints\":[{\"addresses\":[\"10.42.0.5\"],"
    "\"hostname\":\"pg-0\"},{\"addresses\":[\"fd00::5\"]}]}",
};

static struct dns_zone *zone(void)
{
    static struct dns_zone *z;
    if (z) return z;
    if (!(z = dns_zone_new(NULL))) abort();
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
        json_t *v = json_loads(objects[i], 0, NULL);
        if (!v) abort();
        int rc = i == 3 ? dns_zone_set_slice(z, v) : dns_zone_set_service(z, v);
        json_decref(v);
        if (rc != 0) abort();
    }
    return z;
}

static void check(enum dns_verdict v, const uint8_t *q, size_t len, uint8_t *out, size_t n, size_t max)
{
    if (v != DNS_REPLY) return;
    ldns_pkt *r = NULL;
    if (n < 12 || n > max || out[0] != q[0] || out[1] != q[1] || !(out[2] & 0x80)) abort();
    if (n > 12 && ldns_wire2pkt(&r, out, n) != LDNS_STATUS_OK) abort();
    (void)len;
    ldns_pkt_free(r);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_zone *z = zone();
    uint8_t *out;
    size_t n;
    check(dns_query_handle(z, data, size, DNS_UDP, &out, &n), data, size, out, n, 4096);
    check(dns_query_handle(z, data, size, DNS_TCP, &out, &n), data, size, out, n, 65535);
    check(dns_query_servfail(data, size, &out, &n), data, size, out, n, 65535);
    return 0;
}
