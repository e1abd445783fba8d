/* podconf.c — a pod's /etc/resolv.conf as the kubelet writes it
 * (pkg/kubelet/network/dns): the pod's dnsPolicy picks the cluster
 * resolver with the search path of its namespace, or the node's own
 * resolv.conf, or nothing; dnsConfig then adds servers, searches and
 * options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "lib/json.h"
#include "lib/orc.h"

#define MAX_NS 3       /* glibc's MAXNS, the kubelet's limit too */
#define MAX_SEARCH 32  /* the kubelet's MaxDNSSearchPaths */
#define MAX_OPTS 32

struct conf {
    char *ns[MAX_NS + 8], *search[MAX_SEARCH + 8], *opt[MAX_OPTS];
    int nns, nsearch, nopt;
};

static void conf_free(struct conf *c)
{
    for (int i = 0; i < c->nns; i++) free(c->ns[i]);
    for (int i = 0; i < c->nsearch; i++) free(c->search[i]);
    for (int i = 0; i < c->nopt; i++) free(c->opt[i]);
}

/* Appends s unless already there or full; 0 or ORC_ENOMEM. */
static int add_unique(char **v, int *n, int max, const char *s)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(v[i], s) == 0) return 0;
    if (*n >= max) return 0;
    if (!(v[*n] = strdup(s))) return ORC_ENOMEM;
    (*n)++;
    return 0;
}

/* An option replaces one of the same name ("ndots:2" replaces "ndots:5"),
 * as the kubelet merges dnsConfig.options. */
static int add_option(struct conf *c, const char *name, const char *value)
{
    char buf[256];
    if (value) snprintf(buf, sizeof buf, "%s:%s", name, value);
    else snprintf(buf, sizeof buf, "%s", name);
    size_t nl = strlen(name);
    for (int i = 0; i < c->nopt; i++) {
        if (strncmp(c->opt[i], name, nl) == 0 && (c->opt[i][nl] == '\0' || c->opt[i][nl] == ':')) {
            char *d = strdup(buf);
            if (!d) return ORC_ENOMEM;
            free(c->opt[i]);
            c->opt[i] = d;
            return 0;
        }
    }
    return add_unique(c->opt, &c->nopt, MAX_OPTS, buf);
}

/* The node's resolv.conf: nameserver, search (or domain: the last such
 * line wins, as glibc), options. */
static int parse_host(struct conf *c, const char *text)
{
    char *copy = strdup(text ? text : ""), *save = NULL;
    int rc = copy ? 0 : ORC_ENOMEM;
    char *search_line = NULL;
    for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        char *ws = NULL, *kw = strtok_r(line, " \t\r", &ws);
        if (!kw || kw[0] == '#' || kw[0] == ';') continue;
        if (strcmp(kw, "nameserver") == 0) {
            char *a = strtok_r(NULL, " \t\r", &ws);
            if (a) rc = add_unique(c->ns, &c->nns, MAX_NS, a);
        } else if (strcmp(kw, "search") == 0 || strcmp(kw, "domain") == 0) {
            search_line = ws; /* the rest of this line */
        } else if (strcmp(kw, "options") == 0) {
            for (char *o = strtok_r(NULL, " \t\r", &ws); o && rc == 0; o = strtok_r(NULL, " \t\r", &ws)) {
                char *colon = strchr(o, ':');
                if (colon) *colon = '\0';
                rc = add_option(c, o, colon ? colon + 1 : NULL);
            }
        }
    }
    char *ws = NULL;
    for (char *s = search_line ? strtok_r(search_line, " \t\r", &ws) : NULL; s && rc == 0; s = strtok_r(NULL, " \t\r", &ws))
        rc = add_unique(c->search, &c->nsearch, MAX_SEARCH, s);
    free(copy);
    return rc;
}

static int add_pod_dns_config(struct conf *c, const json_t *pod)
{
    const json_t *cfg = orc_json_get(pod, "spec.dnsConfig");
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(json_object_get(cfg, "nameservers"), i, v)
        if (json_is_string(v) && rc == 0) rc = add_unique(c->ns, &c->nns, MAX_NS, json_string_value(v));
    json_array_foreach(json_object_get(cfg, "searches"), i, v)
        if (json_is_string(v) && rc == 0) rc = add_unique(c->search, &c->nsearch, MAX_SEARCH, json_string_value(v));
    json_array_foreach(json_object_get(cfg, "options"), i, v) {
        const char *name = orc_json_str(v, "name");
        if (name && *name && rc == 0) rc = add_option(c, name, orc_json_str(v, "value"));
    }
    return rc;
}

static int emit(const struct conf *c, struct orc_buf *out)
{
    int rc = 0;
    for (int i = 0; i < c->nns && rc == 0; i++) {
        rc = orc_buf_append(out, "nameserver ", 11);
        if (rc == 0) rc = orc_buf_append(out, c->ns[i], strlen(c->ns[i]));
        if (rc == 0) rc = orc_buf_append(out, "\n", 1);
    }
    const char *const *lists[] = {(const char *const *)c->search, (const char *const *)c->opt};
    const int counts[] = {c->nsearch, c->nopt};
    static const char *const heads[] = {"search", "options"};
    for (int l = 0; l < 2 && rc == 0; l++) {
        if (counts[l] == 0) continue;
        rc = orc_buf_append(out, heads[l], strlen(heads[l]));
        for (int i = 0; i < counts[l] && rc == 0; i++) {
            rc = orc_buf_append(out, " ", 1);
            if (rc == 0) rc = orc_buf_append(out, lists[l][i], strlen(lists[l][i]));
        }
        if (rc == 0) rc = orc_buf_append(out, "\n", 1);
    }
    return rc;
}

int dns_pod_resolv_conf(const json_t *pod, const char *cluster_dns, const char *domain, const char *host_text,
                        struct orc_buf *out)
{
    const char *policy = orc_json_str(pod, "spec.dnsPolicy");
    int host_net = json_is_true(orc_json_get(pod, "spec.hostNetwork"));
    struct conf c;
    int rc = 0;
    memset(&c, 0, sizeof c);
    if (!policy || !*policy) policy = "ClusterFirst";
    /* ClusterFirst on the host's network, or without a cluster resolver,
     * falls back to the node's own (the kubelet does both). */
    int cluster = (strcmp(policy, "ClusterFirstWithHostNet") == 0 ||
                   (strcmp(policy, "ClusterFirst") == 0 && !host_net)) &&
                  cluster_dns && *cluster_dns;
    if (strcmp(policy, "None") == 0) {
        /* only dnsConfig */
    } else if (cluster) {
        const char *ns = orc_json_str(pod, "metadata.namespace");
        char d[256], s[600];
        snprintf(d, sizeof d, "%s", domain && *domain ? domain : DNS_DEFAULT_DOMAIN);
        size_t dl = strlen(d);
        if (dl && d[dl - 1] == '.') d[dl - 1] = '\0';
        struct conf host;
        memset(&host, 0, sizeof host);
        rc = add_unique(c.ns, &c.nns, MAX_NS, cluster_dns);
        snprintf(s, sizeof s, "%s.svc.%s", ns && *ns ? ns : "default", d);
        if (rc == 0) rc = add_unique(c.search, &c.nsearch, MAX_SEARCH, s);
        snprintf(s, sizeof s, "svc.%s", d);
        if (rc == 0) rc = add_unique(c.search, &c.nsearch, MAX_SEARCH, s);
        if (rc == 0) rc = add_unique(c.search, &c.nsearch, MAX_SEARCH, d);
        /* the node's search domains follow; its servers and options do not */
        if (rc == 0) rc = parse_host(&host, host_text);
        for (int i = 0; i < host.nsearch && rc == 0; i++) rc = add_unique(c.search, &c.nsearch, MAX_SEARCH, host.search[i]);
        conf_free(&host);
        if (rc == 0) rc = add_option(&c, "ndots", "5");
    } else {
        rc = parse_host(&c, host_text);
    }
    if (rc == 0) rc = add_pod_dns_config(&c, pod);
    if (rc == 0) rc = emit(&c, out);
    conf_free(&c);
    return rc;
}

static int add_line(struct orc_buf *out, const char *a, const char *b, const char *c)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s\t%s%s%s\n", a, b, c ? "\t" : "", c ? c : "");
    if (n < 0 || (size_t)n >= sizeof line) return 0; /* a name that long is no host name: left out */
    return orc_buf_append(out, line, (size_t)n);
}

int dns_pod_hosts(const json_t *pod, const char *pod_ip, const char *domain, struct orc_buf *out)
{
    static const char head[] = "# Kubernetes-managed hosts file.\n"
                               "127.0.0.1\tlocalhost\n"
                               "::1\tlocalhost ip6-localhost ip6-loopback\n"
                               "fe00::0\tip6-localnet\n"
                               "fe00::0\tip6-mcastprefix\n"
                               "fe00::1\tip6-allnodes\n"
                               "fe00::2\tip6-allrouters\n";
    int rc = orc_buf_append(out, head, sizeof head - 1);
    const char *host = orc_json_str(pod, "spec.hostname");
    const char *sub = orc_json_str(pod, "spec.subdomain");
    const char *ns = orc_json_str(pod, "metadata.namespace");
    char d[256], fq[700];
    if (!host || !*host) host = orc_json_str(pod, "metadata.name");
    snprintf(d, sizeof d, "%s", domain && *domain ? domain : DNS_DEFAULT_DOMAIN);
    size_t dl = strlen(d);
    if (dl && d[dl - 1] == '.') d[dl - 1] = '\0';
    if (rc == 0 && pod_ip && *pod_ip && host && *host) {
        if (sub && *sub) {
            snprintf(fq, sizeof fq, "%s.%s.%s.svc.%s", host, sub, ns && *ns ? ns : "default", d);
            rc = add_line(out, pod_ip, fq, host);
        } else {
            rc = add_line(out, pod_ip, host, NULL);
        }
    }
    const json_t *aliases = orc_json_get(pod, "spec.hostAliases");
    if (rc == 0 && json_array_size(aliases) > 0) rc = orc_buf_append(out, "\n# Entries added by HostAliases.\n", 33);
    size_t i, j;
    json_t *a, *h;
    json_array_foreach(aliases, i, a) {
        const char *ip = orc_json_str(a, "ip");
        if (!ip || !*ip || rc != 0) continue;
        struct orc_buf names = ORC_BUF_INIT;
        json_array_foreach(json_object_get(a, "hostnames"), j, h) {
            const char *name = json_string_value(h);
            if (!name || !*name || rc != 0) continue;
            if (names.len) rc = orc_buf_append(&names, "\t", 1);
            if (rc == 0) rc = orc_buf_append(&names, name, strlen(name));
        }
        if (rc == 0 && names.len) rc = add_line(out, ip, names.data, NULL);
        orc_buf_free(&names);
    }
    return rc;
}
