/* query.c — one raw query in, one raw answer out (or "forward it"): the
 * handler the server and the fuzz target share. Decoding and encoding are
 * libldns's; a packet it cannot decode is answered FORMERR from its header
 * alone, or dropped when even that is missing. */
#include <stdlib.h>
#include <string.h>

#include "dns/zone_int.h"

#define UDP_PLAIN 512
#define UDP_MAX 4096
#define TCP_MAX 65535
#define OUR_EDNS_SIZE 1232 /* DNS flag day 2020's safe UDP size */

/* A bare header answer: the query's id, opcode and RD, rcode set, no
 * sections. */
static enum dns_verdict header_only(const uint8_t *wire, size_t len, int rcode, uint8_t **out,
                                    size_t *outlen)
{
    if (len < 12 || (wire[2] & 0x80)) return DNS_DROP; /* too short, or a response */
    uint8_t *p = calloc(1, 12);
    if (!p) return DNS_DROP;
    p[0] = wire[0];
    p[1] = wire[1];
    p[2] = 0x80 | (wire[2] & 0x79); /* QR, opcode, RD */
    p[3] = 0x80 | (rcode & 15);     /* RA */
    *out = p;
    *outlen = 12;
    return DNS_REPLY;
}

static int ends_with_label(const char *key, const char *suffix)
{
    size_t a = strlen(key), b = strlen(suffix);
    if (a < b || strcmp(key + a - b, suffix) != 0) return 0;
    return a == b || key[a - b - 1] == '.';
}

static int is_reverse(const char *key)
{
    return ends_with_label(key, "in-addr.arpa.") || ends_with_label(key, "ip6.arpa.");
}

static const struct dns_name *lookup(const struct dns_zone *z, const char *key)
{
    return (const struct dns_name *)orc_hmap_get(&z->names, key);
}

/* Pushes a copy of rr named `owner` (the question's spelling) into sec. */
static int push_copy(ldns_pkt *r, ldns_pkt_section sec, const ldns_rr *rr, const ldns_rdf *owner)
{
    ldns_rr *c = ldns_rr_clone(rr);
    if (!c) return -1;
    if (owner) {
        ldns_rdf *o = ldns_rdf_clone(owner);
        if (!o) return ldns_rr_free(c), -1;
        ldns_rdf_deep_free(ldns_rr_owner(c));
        ldns_rr_set_owner(c, o);
    }
    if (!ldns_pkt_push_rr(r, sec, c)) return ldns_rr_free(c), -1;
    return 0;
}

/* The addresses of SRV targets, in the additional section (as CoreDNS). */
static void srv_additional(const struct dns_zone *z, ldns_pkt *r, const ldns_rr *srv)
{
    const ldns_rdf *target = ldns_rr_rdf(srv, 3);
    char *key = target ? dns_name_key(target) : NULL;
    const struct dns_name *n = key ? lookup(z, key) : NULL;
    for (const struct dns_rrent *e = n ? n->rrs : NULL; e; e = e->next) {
        ldns_rr_type t = ldns_rr_get_type(e->rr);
        if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) push_copy(r, LDNS_SECTION_ADDITIONAL, e->rr, NULL);
    }
    free(key);
}

/* Fills r's answer for a name in the zone: records, NODATA or NXDOMAIN. */
static void answer_local(const struct dns_zone *z, ldns_pkt *r, const ldns_rdf *qname, ldns_rr_type qt,
                         const char *key)
{
    const struct dns_name *n = lookup(z, key);
    ldns_pkt_set_aa(r, true);
    if (!n && strcmp(key, z->domain) != 0) {
        ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
        push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL);
        return;
    }
    int found = 0;
    for (const struct dns_rrent *e = n ? n->rrs : NULL; e; e = e->next) {
        ldns_rr_type t = ldns_rr_get_type(e->rr);
        if (t != qt && qt != LDNS_RR_TYPE_ANY && t != LDNS_RR_TYPE_CNAME) continue;
        push_copy(r, LDNS_SECTION_ANSWER, e->rr, qname);
        if (t == LDNS_RR_TYPE_SRV) srv_additional(z, r, e->rr);
        found = 1;
    }
    if (!found && qt == LDNS_RR_TYPE_SOA && strcmp(key, z->domain) == 0) {
        push_copy(r, LDNS_SECTION_ANSWER, z->soa, qname);
        found = 1;
    }
    if (!found) push_copy(r, LDNS_SECTION_AUTHORITY, z->soa, NULL); /* NODATA */
}

static ldns_pkt *reply_skeleton(const ldns_pkt *q)
{
    ldns_pkt *r = ldns_pkt_new();
    if (!r) return NULL;
    ldns_pkt_set_id(r, ldns_pkt_id(q));
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
    ldns_pkt_set_rd(r, ldns_pkt_rd(q));
    ldns_pkt_set_cd(r, ldns_pkt_cd(q));
    ldns_pkt_set_ra(r, true);
    ldns_rr *qr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
    if (!qr || !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, qr)) {
        ldns_rr_free(qr);
        ldns_pkt_free(r);
        return NULL;
    }
    if (ldns_pkt_edns(q)) ldns_pkt_set_edns_udp_size(r, OUR_EDNS_SIZE);
    return r;
}

static size_t max_size(const ldns_pkt *q, enum dns_transport tr)
{
    if (tr == DNS_TCP) return TCP_MAX;
    if (!ldns_pkt_edns(q)) return UDP_PLAIN;
    size_t s = ldns_pkt_edns_udp_size(q);
    return s < UDP_PLAIN ? UDP_PLAIN : s > UDP_MAX ? UDP_MAX : s;
}

/* Encodes r; when it does not fit, drops every section but the question
 * and sets TC, so the client retries over TCP (RFC 2181 9). */
static enum dns_verdict encode(ldns_pkt *r, size_t max, uint8_t **out, size_t *outlen)
{
    if (ldns_pkt2wire(out, r, outlen) != LDNS_STATUS_OK) return DNS_DROP;
    if (*outlen <= max) return DNS_REPLY;
    free(*out);
    *out = NULL;
    ldns_rr_list_deep_free(ldns_pkt_answer(r));
    ldns_rr_list_deep_free(ldns_pkt_authority(r));
    ldns_rr_list_deep_free(ldns_pkt_additional(r));
    ldns_pkt_set_answer(r, ldns_rr_list_new());
    ldns_pkt_set_authority(r, ldns_rr_list_new());
    ldns_pkt_set_additional(r, ldns_rr_list_new());
    ldns_pkt_set_ancount(r, 0);
    ldns_pkt_set_nscount(r, 0);
    ldns_pkt_set_arcount(r, 0);
    ldns_pkt_set_tc(r, true);
    if (ldns_pkt2wire(out, r, outlen) != LDNS_STATUS_OK) return DNS_DROP;
    return *outlen <= max ? DNS_REPLY : (free(*out), *out = NULL, DNS_DROP);
}

enum dns_verdict dns_query_handle(const struct dns_zone *z, const uint8_t *wire, size_t len,
                                  enum dns_transport tr, uint8_t **out, size_t *outlen)
{
    ldns_pkt *q = NULL;
    *out = NULL;
    *outlen = 0;
    if (len < 12 || (wire[2] & 0x80)) return DNS_DROP;
    if (((wire[2] >> 3) & 15) != LDNS_PACKET_QUERY) return header_only(wire, len, LDNS_RCODE_NOTIMPL, out, outlen);
    if (ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK || ldns_pkt_qdcount(q) != 1 ||
        ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
        ldns_pkt_free(q);
        return header_only(wire, len, LDNS_RCODE_FORMERR, out, outlen);
    }
    const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    const ldns_rdf *qname = ldns_rr_owner(qrr);
    ldns_rr_type qt = ldns_rr_get_type(qrr);
    char *key = qname ? dns_name_key(qname) : NULL;
    enum dns_verdict v = DNS_FORWARD;
    int ours = key && ldns_rr_get_class(qrr) == LDNS_RR_CLASS_IN &&
               (ends_with_label(key, z->domain) ||
                (is_reverse(key) && lookup(z, key) && lookup(z, key)->rrs));
    if (!key) v = header_only(wire, len, LDNS_RCODE_SERVFAIL, out, outlen);
    else if (ours && z->not_ready) {
        free(key);
        ldns_pkt_free(q);
        return dns_query_servfail(wire, len, out, outlen);
    } else if (ours) {
        ldns_pkt *r = reply_skeleton(q);
        if (!r) v = DNS_DROP;
        else {
            answer_local(z, r, qname, qt, key);
            v = encode(r, max_size(q, tr), out, outlen);
            ldns_pkt_free(r);
        }
    }
    free(key);
    ldns_pkt_free(q);
    return v;
}

enum dns_verdict dns_query_servfail(const uint8_t *wire, size_t len, uint8_t **out, size_t *outlen)
{
    ldns_pkt *q = NULL;
    *out = NULL;
    *outlen = 0;
    if (ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK || ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
        ldns_pkt_free(q);
        return header_only(wire, len, LDNS_RCODE_SERVFAIL, out, outlen);
    }
    ldns_pkt *r = reply_skeleton(q);
    enum dns_verdict v = DNS_DROP;
    if (r) {
        ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
        v = encode(r, max_size(q, DNS_TCP), out, outlen);
        ldns_pkt_free(r);
    }
    ldns_pkt_free(q);
    return v;
}
