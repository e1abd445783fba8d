/* cache.c — answers of the upstream resolvers kept for a while, as
 * NodeLocal DNSCache keeps them (`cache 30`): a forwarded name asked again
 * is answered from memory with its TTLs counted down, instead of another
 * round trip. Positive answers live for their smallest TTL, negative ones
 * (NXDOMAIN, NODATA) for their SOA's, both at most max_ttl_s; truncated,
 * failed or oversize answers are not kept. Bounded: at most max_entries,
 * the oldest dropped first. Decoding and encoding are libldns's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "dns/zone_int.h"
#include "lib/hmap.h"
#include "lib/list.h"

#define CACHE_MAX_ANSWER 4096
#define KEY_MAX 300

struct entry {
    struct orc_hnode node;
    struct orc_link link; /* oldest first */
    char key[KEY_MAX];
    uint64_t stored_ms, expires_ms;
    size_t len;
    uint8_t wire[];
};

struct dns_cache {
    struct orc_hmap map;
    struct orc_link order;
    size_t n, max;
    unsigned max_ttl_s;
    uint64_t hits, misses;
};

struct dns_cache *dns_cache_new(size_t max_entries, unsigned max_ttl_s)
{
    struct dns_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    orc_list_init(&c->order);
    c->max = max_entries ? max_entries : 10000;
    c->max_ttl_s = max_ttl_s ? max_ttl_s : 30;
    return c;
}

static void drop(struct dns_cache *c, struct entry *e)
{
    orc_hmap_del(&c->map, &e->node);
    orc_list_remove(&e->link);
    c->n--;
    free(e);
}

void dns_cache_free(struct dns_cache *c)
{
    if (!c) return;
    while (!orc_list_empty(&c->order)) drop(c, ORC_CONTAINER(c->order.next, struct entry, link));
    orc_hmap_free(&c->map);
    free(c);
}

/* "name|type|class|edns|do" of the packet's question, the name lowercased:
 * what makes two queries ask for the same answer. 0, or -1 when the packet
 * has not exactly one question. */
static int key_of(const ldns_pkt *p, char *key, size_t n)
{
    const ldns_rr_list *q = ldns_pkt_question(p);
    if (ldns_rr_list_rr_count(q) != 1) return -1;
    const ldns_rr *rr = ldns_rr_list_rr(q, 0);
    char *name = ldns_rdf2str(ldns_rr_owner(rr));
    if (!name) return -1;
    for (char *s = name; *s; s++) *s = (char)tolower((unsigned char)*s);
    int w = snprintf(key, n, "%s|%u|%u|%d|%d", name, (unsigned)ldns_rr_get_type(rr),
                     (unsigned)ldns_rr_get_class(rr), ldns_pkt_edns(p) ? 1 : 0, ldns_pkt_edns_do(p) ? 1 : 0);
    free(name);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

static uint32_t min_ttl_of(const ldns_rr_list *l, uint32_t m)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
        uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(l, i));
        if (t < m) m = t;
    }
    return m;
}

/* How long an answer may be kept, in seconds; 0: not at all. */
static uint32_t lifetime(const ldns_pkt *a, unsigned cap)
{
    ldns_pkt_rcode rc = ldns_pkt_get_rcode(a);
    if (ldns_pkt_tc(a) || (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN)) return 0;
    if (rc == LDNS_RCODE_NOERROR && ldns_pkt_ancount(a) > 0) {
        uint32_t t = min_ttl_of(ldns_pkt_answer(a), cap);
        t = min_ttl_of(ldns_pkt_authority(a), t);
        return min_ttl_of(ldns_pkt_additional(a), t);
    }
    /* negative: the SOA's TTL and its minimum field (RFC 2308) */
    const ldns_rr_list *auth = ldns_pkt_authority(a);
    for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(auth, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7) continue;
        uint32_t t = ldns_rr_ttl(rr), min = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
        if (min < t) t = min;
        return t < cap ? t : cap;
    }
    return 0;
}

void dns_cache_put(struct dns_cache *c, const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen,
                   uint64_t now_ms)
{
    ldns_pkt *qp = NULL, *ap = NULL;
    char key[KEY_MAX];
    uint32_t ttl;
    struct entry *e;

    if (!c || alen > CACHE_MAX_ANSWER || ldns_wire2pkt(&qp, q, qlen) != LDNS_STATUS_OK) return;
    if (key_of(qp, key, sizeof key) != 0 || ldns_wire2pkt(&ap, a, alen) != LDNS_STATUS_OK
        || (ttl = lifetime(ap, c->max_ttl_s)) == 0 || !(e = malloc(sizeof *e + alen)))
        goto out;
    struct orc_hnode *old = orc_hmap_get(&c->map, key);
    if (old) drop(c, ORC_CONTAINER(old, struct entry, node));
    if (c->n >= c->max) drop(c, ORC_CONTAINER(c->order.next, struct entry, link));
    memcpy(e->key, key, sizeof key);
    e->node.key = e->key;
    e->stored_ms = now_ms;
    e->expires_ms = now_ms + (uint64_t)ttl * 1000;
    e->len = alen;
    memcpy(e->wire, a, alen);
    if (orc_hmap_put(&c->map, &e->node) != 0) {
        free(e);
        goto out;
    }
    orc_list_push(&c->order, &e->link);
    c->n++;
out:
    ldns_pkt_free(qp);
    ldns_pkt_free(ap);
}

/* TTLs less the time kept, and no more than the entry has left (as
 * CoreDNS's cache serves them). */
static void count_down(ldns_rr_list *l, uint32_t age, uint32_t left)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
        ldns_rr *rr = ldns_rr_list_rr(l, i);
        uint32_t t = ldns_rr_ttl(rr);
        t = t > age ? t - age : 0;
        ldns_rr_set_ttl(rr, t < left ? t : left);
    }
}

/* The stored answer for the query's client: its id and question, TTLs
 * less the time kept. */
static int answer_for(const struct entry *e, ldns_pkt *qp, uint64_t now_ms, uint8_t **out, size_t *n)
{
    ldns_pkt *ap = NULL;
    if (ldns_wire2pkt(&ap, e->wire, e->len) != LDNS_STATUS_OK) return -1;
    uint32_t age = (uint32_t)((now_ms - e->stored_ms) / 1000);
    uint32_t left = (uint32_t)((e->expires_ms - now_ms + 999) / 1000);
    count_down(ldns_pkt_answer(ap), age, left);
    count_down(ldns_pkt_authority(ap), age, left);
    count_down(ldns_pkt_additional(ap), age, left);
    ldns_pkt_set_id(ap, ldns_pkt_id(qp));
    ldns_rr_list *question = ldns_rr_list_clone(ldns_pkt_question(qp));
    if (question) {
        ldns_rr_list_deep_free(ldns_pkt_question(ap));
        ldns_pkt_set_question(ap, question);
    }
    int rc = ldns_pkt2wire(out, ap, n) == LDNS_STATUS_OK ? 0 : -1;
    ldns_pkt_free(ap);
    return rc;
}

int dns_cache_get(struct dns_cache *c, const uint8_t *q, size_t qlen, int tcp, uint64_t now_ms, uint8_t **out,
                  size_t *n)
{
    ldns_pkt *qp = NULL;
    char key[KEY_MAX];
    int hit = 0;

    if (!c || ldns_wire2pkt(&qp, q, qlen) != LDNS_STATUS_OK) return 0;
    struct orc_hnode *node = key_of(qp, key, sizeof key) == 0 ? orc_hmap_get(&c->map, key) : NULL;
    struct entry *e = node ? ORC_CONTAINER(node, struct entry, node) : NULL;
    if (e && e->expires_ms <= now_ms) {
        drop(c, e);
        e = NULL;
    }
    /* over UDP it must fit what this client takes */
    size_t limit = tcp ? 65535 : ldns_pkt_edns(qp) ? ldns_pkt_edns_udp_size(qp) : 512;
    if (limit < 512) limit = 512;
    if (e && e->len <= limit && answer_for(e, qp, now_ms, out, n) == 0) hit = 1;
    if (hit) c->hits++;
    else c->misses++;
    ldns_pkt_free(qp);
    return hit;
}

size_t dns_cache_size(const struct dns_cache *c) { return c ? c->n : 0; }
