/* records.c — what one Service publishes, as Kubernetes' DNS specification
 * (kubernetes/dns docs/specification.md) and CoreDNS's kubernetes plugin:
 * A/AAAA for the ClusterIP or, headless, for each ready endpoint; A/AAAA
 * for each endpoint's hostname (or its dashed address, as CoreDNS);
 * SRV for named ports; CNAME for ExternalName; PTR for ClusterIPs and
 * endpoint addresses. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/zone_int.h"
#include "lib/json.h"
#include "lib/orc.h"

struct rrvec {
    ldns_rr **v;
    size_t n, cap;
    int err;
};

static void push(struct rrvec *rv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds the record given in presentation format; a record ldns does not
 * take (a name that is not a DNS name) is skipped, not an error. */
static void push(struct rrvec *rv, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof line) return;
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, line, DNS_TTL, NULL, NULL) != LDNS_STATUS_OK) return;
    if (rv->n == rv->cap) {
        size_t cap = rv->cap ? rv->cap * 2 : 8;
        ldns_rr **v = realloc(rv->v, cap * sizeof *v);
        if (!v) {
            ldns_rr_free(rr);
            rv->err = ORC_ENOMEM;
            return;
        }
        rv->v = v;
        rv->cap = cap;
    }
    rv->v[rv->n++] = rr;
}

/* "d.c.b.a.in-addr.arpa." or the ip6.arpa nibbles; 0, or -1 when ip is
 * not an address. */
static int reverse_name(const char *ip, char *out, size_t n)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) {
        snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa.", a[3], a[2], a[1], a[0]);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, a) != 1 || n < 16 * 4 + 10) return -1;
    char *p = out;
    for (int i = 15; i >= 0; i--) p += sprintf(p, "%x.%x.", a[i] & 15, a[i] >> 4);
    strcpy(p, "ip6.arpa.");
    return 0;
}

/* "A" or "AAAA" for an address literal, NULL for anything else. */
static const char *addr_type(const char *ip)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) return "A";
    if (inet_pton(AF_INET6, ip, a) == 1) return "AAAA";
    return NULL;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* CoreDNS's name for an endpoint without a hostname: its address with
 * dashes ("10-42-0-5"; IPv6 colons too). */
static void dashed(const char *ip, char *out, size_t n)
{
    snprintf(out, n, "%s", ip);
    for (char *p = out; *p; p++)
        if (*p == '.' || *p == ':') *p = '-';
}

static void srv_records(struct rrvec *rv, json_t *ports, const char *base, const char *target)
{
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p) {
        const char *pname = orc_json_str(p, "name");
        const char *proto = orc_json_str(p, "protocol");
        int64_t port;
        if (!pname || !*pname || orc_json_int(p, "port", &port) != 0) continue;
        char pr[16];
        snprintf(pr, sizeof pr, "%s", proto && *proto ? proto : "TCP");
        lower(pr);
        push(rv, "_%s._%s.%s %d IN SRV 0 100 %d %s", pname, pr, base, DNS_TTL, (int)port, target);
    }
}

static void cluster_ip_records(struct rrvec *rv, json_t *spec, const char *base)
{
    json_t *ips = json_object_get(spec, "clusterIPs");
    const char *one = orc_json_str(spec, "clusterIP");
    json_t *list = json_array();
    if (!list) {
        rv->err = ORC_ENOMEM;
        return;
    }
    if (json_is_array(ips) && json_array_size(ips) > 0) json_array_extend(list, ips);
    else if (one) json_array_append_new(list, json_string(one));
    size_t i;
    json_t *v;
    int any = 0;
    json_array_foreach(list, i, v) {
        const char *ip = json_string_value(v);
        const char *t = ip ? addr_type(ip) : NULL;
        char rev[128];
        if (!t) continue;
        push(rv, "%s %d IN %s %s", base, DNS_TTL, t, ip);
        if (reverse_name(ip, rev, sizeof rev) == 0) push(rv, "%s %d IN PTR %s", rev, DNS_TTL, base);
        any = 1;
    }
    json_decref(list);
    if (any) srv_records(rv, json_object_get(spec, "ports"), base, base);
}

static int endpoint_ready(json_t *ep, int publish_not_ready)
{
    json_t *ready = orc_json_get(ep, "conditions.ready");
    /* An unset ready condition means "ready" (discovery/v1's contract). */
    return publish_not_ready || !ready || json_is_true(ready);
}

/* Headless: each ready endpoint under the Service's name, its own name
 * (hostname or dashed address), SRV per named port, PTR to its own name. */
static void headless_records(struct rrvec *rv, const struct dns_svc *s, const char *base, int pnr)
{
    struct orc_link *l;
    for (l = s->slices.next; l != &s->slices; l = l->next) {
        struct dns_slice *sl = ORC_CONTAINER(l, struct dns_slice, link);
        json_t *eps = json_object_get(sl->obj, "endpoints");
        size_t i, j;
        json_t *ep, *a;
        json_array_foreach(eps, i, ep) {
            if (!endpoint_ready(ep, pnr)) continue;
            const char *host = orc_json_str(ep, "hostname");
            json_array_foreach(json_object_get(ep, "addresses"), j, a) {
                const char *ip = json_string_value(a);
                const char *t = ip ? addr_type(ip) : NULL;
                char own[640], label[64], rev[128];
                if (!t) continue;
                if (host && *host) snprintf(label, sizeof label, "%s", host);
                else dashed(ip, label, sizeof label);
                snprintf(own, sizeof own, "%s.%s", label, base);
                push(rv, "%s %d IN %s %s", base, DNS_TTL, t, ip);
                push(rv, "%s %d IN %s %s", own, DNS_TTL, t, ip);
                if (reverse_name(ip, rev, sizeof rev) == 0) push(rv, "%s %d IN PTR %s", rev, DNS_TTL, own);
                srv_records(rv, json_object_get(sl->obj, "ports"), base, own);
            }
        }
    }
}

int dns_records_build(const struct dns_zone *z, const struct dns_svc *s, ldns_rr ***rrs, size_t *n)
{
    struct rrvec rv = {0};
    *rrs = NULL;
    *n = 0;
    if (!s->svc) return 0;
    const char *ns = orc_json_str(s->svc, "metadata.namespace");
    const char *name = orc_json_str(s->svc, "metadata.name");
    json_t *spec = json_object_get(s->svc, "spec");
    const char *type = orc_json_str(spec, "type");
    const char *cip = orc_json_str(spec, "clusterIP");
    char base[512];
    snprintf(base, sizeof base, "%s.%s.svc.%s", name, ns, z->domain);
    lower(base);
    if (type && strcmp(type, "ExternalName") == 0) {
        const char *ext = orc_json_str(spec, "externalName");
        if (ext && *ext) {
            size_t el = strlen(ext);
            push(&rv, "%s %d IN CNAME %s%s", base, DNS_TTL, ext, ext[el - 1] == '.' ? "" : ".");
        }
    } else if (cip && strcmp(cip, "None") == 0) {
        int pnr = json_is_true(json_object_get(spec, "publishNotReadyAddresses"));
        headless_records(&rv, s, base, pnr);
    } else {
        cluster_ip_records(&rv, spec, base);
    }
    if (rv.err) {
        for (size_t i = 0; i < rv.n; i++) ldns_rr_free(rv.v[i]);
        free(rv.v);
        return rv.err;
    }
    *rrs = rv.v;
    *n = rv.n;
    return 0;
}
