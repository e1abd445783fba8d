/* zone_int.h — the zone's tables, shared by zone.c (updates), records.c
 * (what a Service publishes) and query.c (lookups). Internal to dns/. */
#ifndef ORC_DNS_ZONE_INT_H
#define ORC_DNS_ZONE_INT_H

#include <ldns/ldns.h>

#include "dns/dns.h"
#include "lib/hmap.h"
#include "lib/list.h"

/* One record at a name, published by one Service. */
struct dns_rrent {
    struct dns_rrent *next;
    ldns_rr *rr;
};

/* A name: its own records and how many records sit at or below it, so an
 * empty non-terminal ("ns.svc.cluster.local.") answers NODATA, not
 * NXDOMAIN. Key: lower case, absolute ("a.b.svc.cluster.local."). */
struct dns_name {
    struct orc_hnode node;
    char *key;
    struct dns_rrent *rrs;
    size_t below;
};

struct dns_slice;

/* Everything known under one Service's key "ns/name": the Service (may be
 * NULL while only its slices are known) and its slices. */
struct dns_svc {
    struct orc_hnode node;
    char *key;
    json_t *svc;
    struct orc_link slices;
    ldns_rr **rrs; /* the records it publishes, owned */
    size_t nrr;
};

struct dns_slice {
    struct orc_hnode node;
    char *key; /* "ns/slicename" */
    json_t *obj;
    struct dns_svc *svc;
    struct orc_link link; /* on svc->slices */
};

struct dns_zone {
    char *domain; /* "cluster.local." */
    ldns_rr *soa; /* the zone's SOA, for negative answers */
    struct orc_hmap names, svcs, slices;
    size_t nnames_with_rrs;
    int not_ready;
};

/* Computes the records of s into a new array (*rrs, *n; owned by the
 * caller). 0 or ORC_ENOMEM. */
int dns_records_build(const struct dns_zone *z, const struct dns_svc *s, ldns_rr ***rrs, size_t *n);

/* The lookup key of a name: lower case, absolute, as ldns prints it.
 * malloc'd, or NULL. */
char *dns_name_key(const ldns_rdf *dname);

#endif
