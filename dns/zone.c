/* zone.c — the zone's tables: Services and EndpointSlices by key, names by
 * key; an update recomputes the one Service it touches, so a change costs
 * that Service's records, not the zone's. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "dns/zone_int.h"
#include "lib/json.h"
#include "lib/names.h"
#include "lib/orc.h"

char *dns_name_key(const ldns_rdf *dname)
{
    ldns_rdf *c = ldns_rdf_clone(dname);
    if (!c) return NULL;
    ldns_dname2canonical(c);
    char *s = ldns_rdf2str(c);
    ldns_rdf_deep_free(c);
    return s;
}

struct dns_zone *dns_zone_new(const char *domain)
{
    if (!domain) domain = DNS_DEFAULT_DOMAIN;
    ldns_rdf *d = ldns_dname_new_frm_str(domain);
    if (!d) return NULL;
    struct dns_zone *z = calloc(1, sizeof *z);
    if (z) z->domain = dns_name_key(d);
    ldns_rdf_deep_free(d);
    if (!z) return NULL;
    char line[1024];
    /* CoreDNS's SOA for the cluster zone; the minimum (negative TTL) is 5 s. */
    if (z->domain && snprintf(line, sizeof line,
                              "%s %d IN SOA ns.dns.%s hostmaster.%s 1 7200 1800 86400 %d",
                              z->domain, DNS_TTL, z->domain, z->domain, DNS_TTL) < (int)sizeof line)
        ldns_rr_new_frm_str(&z->soa, line, DNS_TTL, NULL, NULL);
    if (!z->domain || !z->soa) {
        dns_zone_free(z);
        return NULL;
    }
    return z;
}

void dns_zone_set_ready(struct dns_zone *z, int ready) { z->not_ready = !ready; }
const char *dns_zone_domain(const struct dns_zone *z) { return z->domain; }
size_t dns_zone_names(const struct dns_zone *z) { return z->nnames_with_rrs; }

/* Calls fn on the name and each ancestor up to (not including) the root. */
static int walk_up(struct dns_zone *z, const char *key, int delta)
{
    for (const char *p = key; *p && strcmp(p, ".") != 0;) {
        struct dns_name *n = (struct dns_name *)orc_hmap_get(&z->names, p);
        if (!n && delta > 0) {
            n = calloc(1, sizeof *n);
            if (!n || !(n->key = strdup(p))) {
                free(n);
                return ORC_ENOMEM;
            }
            n->node.key = n->key;
            if (orc_hmap_put(&z->names, &n->node) != 0) {
                free(n->key);
                free(n);
                return ORC_ENOMEM;
            }
        }
        if (n) {
            n->below += delta;
            if (n->below == 0 && !n->rrs) {
                orc_hmap_del(&z->names, &n->node);
                free(n->key);
                free(n);
            }
        }
        /* next label: skip an escaped dot ("\.") inside a label */
        while (*p && *p != '.') p += (*p == '\\' && p[1]) ? 2 : 1;
        if (*p) p++;
    }
    return 0;
}

static int name_add(struct dns_zone *z, ldns_rr *rr)
{
    char *key = dns_name_key(ldns_rr_owner(rr));
    struct dns_rrent *e = calloc(1, sizeof *e);
    int rc = (key && e) ? walk_up(z, key, 1) : ORC_ENOMEM;
    if (rc == 0) {
        struct dns_name *n = (struct dns_name *)orc_hmap_get(&z->names, key);
        if (!n->rrs) z->nnames_with_rrs++;
        e->rr = rr;
        e->next = n->rrs;
        n->rrs = e;
        e = NULL;
    }
    free(e);
    free(key);
    return rc;
}

static void name_del(struct dns_zone *z, ldns_rr *rr)
{
    char *key = dns_name_key(ldns_rr_owner(rr));
    struct dns_name *n = key ? (struct dns_name *)orc_hmap_get(&z->names, key) : NULL;
    if (!n) {
        free(key);
        return;
    }
    for (struct dns_rrent **pp = &n->rrs; *pp; pp = &(*pp)->next) {
        if ((*pp)->rr != rr) continue;
        struct dns_rrent *e = *pp;
        *pp = e->next;
        free(e);
        break;
    }
    if (!n->rrs) z->nnames_with_rrs--;
    walk_up(z, key, -1);
    free(key);
}

static void svc_unpublish(struct dns_zone *z, struct dns_svc *s)
{
    for (size_t i = 0; i < s->nrr; i++) {
        name_del(z, s->rrs[i]);
        ldns_rr_free(s->rrs[i]);
    }
    free(s->rrs);
    s->rrs = NULL;
    s->nrr = 0;
}

/* Frees s when nothing refers to it any more. */
static void svc_maybe_free(struct dns_zone *z, struct dns_svc *s)
{
    if (s->svc || !orc_list_empty(&s->slices)) return;
    svc_unpublish(z, s);
    orc_hmap_del(&z->svcs, &s->node);
    free(s->key);
    free(s);
}

static int svc_republish(struct dns_zone *z, struct dns_svc *s)
{
    ldns_rr **rrs = NULL;
    size_t n = 0;
    int rc = dns_records_build(z, s, &rrs, &n);
    svc_unpublish(z, s);
    if (rc != 0) return rc;
    s->rrs = rrs;
    for (size_t i = 0; i < n; i++) {
        rc = name_add(z, rrs[i]);
        if (rc != 0) {
            for (size_t j = i; j < n; j++) ldns_rr_free(rrs[j]);
            break;
        }
        s->nrr = i + 1;
    }
    return rc;
}

static struct dns_svc *svc_get(struct dns_zone *z, const char *key, int create)
{
    struct dns_svc *s = (struct dns_svc *)orc_hmap_get(&z->svcs, key);
    if (s || !create) return s;
    s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return NULL;
    }
    s->node.key = s->key;
    orc_list_init(&s->slices);
    if (orc_hmap_put(&z->svcs, &s->node) != 0) {
        free(s->key);
        free(s);
        return NULL;
    }
    return s;
}

static int meta_key(json_t *obj, char **key)
{
    const char *ns = orc_json_str(obj, "metadata.namespace");
    const char *name = orc_json_str(obj, "metadata.name");
    if (!ns || !name || !*ns || !*name) return ORC_EINVAL;
    *key = orc_ns_name_key(ns, name);
    return *key ? 0 : ORC_ENOMEM;
}

int dns_zone_set_service(struct dns_zone *z, json_t *svc)
{
    char *key;
    int rc = meta_key(svc, &key);
    if (rc != 0) return rc;
    struct dns_svc *s = svc_get(z, key, 1);
    free(key);
    if (!s) return ORC_ENOMEM;
    json_incref(svc);
    json_decref(s->svc);
    s->svc = svc;
    return svc_republish(z, s);
}

int dns_zone_del_service(struct dns_zone *z, const char *ns, const char *name)
{
    char *key = orc_ns_name_key(ns, name);
    if (!key) return ORC_ENOMEM;
    struct dns_svc *s = svc_get(z, key, 0);
    free(key);
    if (!s || !s->svc) return 0;
    json_decref(s->svc);
    s->svc = NULL;
    svc_unpublish(z, s);
    svc_maybe_free(z, s);
    return 0;
}

/* Detaches sl from its Service, which republishes (or goes). */
static void slice_detach(struct dns_zone *z, struct dns_slice *sl)
{
    struct dns_svc *s = sl->svc;
    if (!s) return;
    orc_list_remove(&sl->link);
    sl->svc = NULL;
    if (s->svc) svc_republish(z, s);
    svc_maybe_free(z, s);
}

static void slice_free(struct dns_zone *z, struct dns_slice *sl)
{
    slice_detach(z, sl);
    orc_hmap_del(&z->slices, &sl->node);
    json_decref(sl->obj);
    free(sl->key);
    free(sl);
}

int dns_zone_set_slice(struct dns_zone *z, json_t *slice)
{
    char *key;
    int rc = meta_key(slice, &key);
    if (rc != 0) return rc;
    struct dns_slice *sl = (struct dns_slice *)orc_hmap_get(&z->slices, key);
    if (!sl) {
        if (!(sl = calloc(1, sizeof *sl))) return free(key), ORC_ENOMEM;
        sl->key = key;
        sl->node.key = key;
        orc_list_init(&sl->link);
        if (orc_hmap_put(&z->slices, &sl->node) != 0) return free(key), free(sl), ORC_ENOMEM;
    } else {
        free(key);
    }
    json_incref(slice);
    json_decref(sl->obj);
    sl->obj = slice;
    const char *ns = orc_json_str(slice, "metadata.namespace");
    json_t *labels = orc_json_get(slice, "metadata.labels");
    const char *svcname = json_string_value(json_object_get(labels, "kubernetes.io/service-name"));
    char *skey = svcname && *svcname ? orc_ns_name_key(ns, svcname) : NULL;
    if (sl->svc && (!skey || strcmp(sl->svc->key, skey) != 0)) slice_detach(z, sl);
    rc = 0;
    if (skey) {
        struct dns_svc *s = sl->svc ? sl->svc : svc_get(z, skey, 1);
        if (!s) rc = ORC_ENOMEM;
        else {
            if (!sl->svc) {
                sl->svc = s;
                orc_list_push(&s->slices, &sl->link);
            }
            if (s->svc) rc = svc_republish(z, s);
        }
    }
    free(skey);
    return rc;
}

int dns_zone_del_slice(struct dns_zone *z, const char *ns, const char *name)
{
    char *key = orc_ns_name_key(ns, name);
    if (!key) return ORC_ENOMEM;
    struct dns_slice *sl = (struct dns_slice *)orc_hmap_get(&z->slices, key);
    free(key);
    if (sl) slice_free(z, sl);
    return 0;
}

void dns_zone_free(struct dns_zone *z)
{
    if (!z) return;
    struct orc_hnode *n, *next;
    for (n = orc_hmap_first(&z->slices); n; n = next) {
        next = orc_hmap_next(&z->slices, n);
        struct dns_slice *sl = (struct dns_slice *)n;
        if (sl->svc) orc_list_remove(&sl->link);
        json_decref(sl->obj);
        free(sl->key);
        free(sl);
    }
    for (n = orc_hmap_first(&z->svcs); n; n = orc_hmap_next(&z->svcs, n)) {
        struct dns_svc *s = (struct dns_svc *)n;
        for (size_t i = 0; i < s->nrr; i++) ldns_rr_free(s->rrs[i]);
        free(s->rrs);
        json_decref(s->svc);
    }
    for (n = orc_hmap_first(&z->svcs); n; n = next) {
        next = orc_hmap_next(&z->svcs, n);
        free(((struct dns_svc *)n)->key);
        free(n);
    }
    for (n = orc_hmap_first(&z->names); n; n = next) {
        next = orc_hmap_next(&z->names, n);
        struct dns_name *nm = (struct dns_name *)n;
        for (struct dns_rrent *e = nm->rrs, *en; e; e = en) {
            en = e->next;
            free(e);
        }
        free(nm->key);
        free(nm);
    }
    orc_hmap_free(&z->slices);
    orc_hmap_free(&z->svcs);
    orc_hmap_free(&z->names);
    ldns_rr_free(z->soa);
    free(z->domain);
    free(z);
}
