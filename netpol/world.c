/* world.c — the cluster's pods and namespaces as NetworkPolicy rules see
 * them: usable pods (an IPv4 address, not finished, not on the host's
 * network) with their labels and ports, namespaces with their labels, and
 * the node's own resolver standing in for the kube-dns pods (orc's cluster
 * DNS is not a pod); and the trim that keeps of a pod only what they read. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/json.h"
#include "lib/orc.h"
#include "netpol/netpol_int.h"

/* The labels and ports of kube-dns as Kubernetes' manifests give them, so
 * that the usual "allow DNS" policies select the resolver. */
#define NP_DNS_JSON                                                                                       \
    "{\"labels\":{\"k8s-app\":\"kube-dns\"},\"containers\":[{\"name\":\"coredns\",\"ports\":["         \
    "{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"},"                                     \
    "{\"name\":\"dns-tcp\",\"containerPort\":53,\"protocol\":\"TCP\"}]}]}"

bool np_parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) return false;
    *out = ntohl(a.s_addr);
    return true;
}

int np_proto(const char *s)
{
    if (!s || strcmp(s, "TCP") == 0) return NETPOL_TCP;
    if (strcmp(s, "UDP") == 0) return NETPOL_UDP;
    if (strcmp(s, "SCTP") == 0) return NETPOL_SCTP;
    return -1;
}

int np_named_port(const struct np_podinfo *p, const char *name, int proto)
{
    size_t i, j;
    json_t *c, *port;

    json_array_foreach(p->containers, i, c) {
        json_array_foreach(json_object_get(c, "ports"), j, port) {
            const char *pn = orc_json_str(port, "name");
            json_int_t num = json_integer_value(json_object_get(port, "containerPort"));
            if (pn && strcmp(pn, name) == 0 && np_proto(orc_json_str(port, "protocol")) == proto && num > 0
                && num <= 65535)
                return (int)num;
        }
    }
    return -1;
}

/* Whether the pod takes part: running or about to, with its own IPv4. */
static bool pod_usable(const json_t *pod, uint32_t *ip)
{
    const char *phase = orc_json_str(pod, "status.phase");
    json_t *hn = orc_json_get(pod, "spec.hostNetwork");

    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) return false;
    if (json_is_true(hn)) return false;
    return np_parse_ip(orc_json_str(pod, "status.podIP"), ip);
}

static int ns_cmp(const void *a, const void *b)
{
    return strcmp(((const struct np_nsinfo *)a)->name, ((const struct np_nsinfo *)b)->name);
}

static int read_namespaces(const json_t *namespaces, struct np_world *w)
{
    size_t i;
    json_t *ns;

    w->ns = calloc(json_array_size(namespaces) + 1, sizeof *w->ns);
    if (!w->ns) return ORC_ENOMEM;
    json_array_foreach(namespaces, i, ns) {
        const char *name = orc_json_str(ns, "metadata.name");
        json_t *labels = orc_json_get(ns, "metadata.labels");
        json_t *copy = json_is_object(labels) ? json_copy(labels) : json_object();
        if (!name) {
            json_decref(copy);
            continue;
        }
        /* Kubernetes sets this label on every namespace; selectors rely on it */
        if (!copy || json_object_set_new(copy, "kubernetes.io/metadata.name", json_string(name)) != 0) {
            json_decref(copy);
            return ORC_ENOMEM;
        }
        w->ns[w->n_ns++] = (struct np_nsinfo){name, copy};
    }
    qsort(w->ns, w->n_ns, sizeof *w->ns, ns_cmp);
    return 0;
}

static int read_pods(const json_t *pods, struct np_world *w)
{
    const struct netpol_node *node = w->node;
    uint32_t dns_ip = 0;
    bool dns = node->dns_ip && np_parse_ip(node->dns_ip, &dns_ip);
    size_t i;
    json_t *pod;

    w->pods = calloc(json_array_size(pods) + 1, sizeof *w->pods);
    if (!w->pods) return ORC_ENOMEM;
    json_array_foreach(pods, i, pod) {
        uint32_t ip;
        const char *ns = orc_json_str(pod, "metadata.namespace"), *name = orc_json_str(pod, "metadata.name");
        const char *nn = orc_json_str(pod, "spec.nodeName");
        if (!ns || !name || !pod_usable(pod, &ip)) continue;
        w->pods[w->n_pods++] = (struct np_podinfo){ns, name, ip, orc_json_get(pod, "metadata.labels"),
                                                   orc_json_get(pod, "spec.containers"),
                                                   nn && node->name && strcmp(nn, node->name) == 0, false};
    }
    if (!dns) return 0;
    if (!(w->dns_owned = json_loads(NP_DNS_JSON, 0, NULL))) return ORC_ENOMEM;
    w->pods[w->n_pods++] = (struct np_podinfo){"kube-system", "(node resolver)", dns_ip,
                                               json_object_get(w->dns_owned, "labels"),
                                               json_object_get(w->dns_owned, "containers"), false, true};
    return 0;
}

int np_world_build(const json_t *pods, const json_t *namespaces, const struct netpol_node *node,
                   struct np_world *w)
{
    int rc;

    memset(w, 0, sizeof *w);
    w->node = node;
    if ((rc = read_namespaces(namespaces, w)) != 0 || (rc = read_pods(pods, w)) != 0) {
        np_world_free(w);
        return rc;
    }
    return 0;
}

void np_world_free(struct np_world *w)
{
    for (size_t i = 0; i < w->n_ns; i++) json_decref(w->ns[i].labels);
    free(w->ns);
    free(w->pods);
    json_decref(w->dns_owned);
    memset(w, 0, sizeof *w);
}

const json_t *np_world_ns_labels(const struct np_world *w, const char *ns)
{
    struct np_nsinfo key = {ns, NULL}, *hit = bsearch(&key, w->ns, w->n_ns, sizeof *w->ns, ns_cmp);
    return hit ? hit->labels : NULL;
}

/* The cluster's pods are held in memory by every agent: each should cost a
 * few hundred bytes, not its whole spec. */
void netpol_pod_trim(json_t *pod)
{
    static const char *const meta_keep[] = {"name", "namespace", "labels", "uid", "resourceVersion"};
    json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
    json_t *status = json_object_get(pod, "status"), *cs = json_object_get(spec, "containers"), *c, *v;
    json_t *keep = json_array();
    const char *k;
    void *tmp;
    size_t i;

    if (!keep) return;
    json_object_foreach_safe(meta, tmp, k, v) {
        bool kept = false;
        for (size_t j = 0; j < ORC_ARRAY_LEN(meta_keep) && !kept; j++) kept = strcmp(k, meta_keep[j]) == 0;
        if (!kept) json_object_del(meta, k);
    }
    json_array_foreach(cs, i, c) {
        json_t *ports = json_object_get(c, "ports");
        json_t *slim = json_pack("{sO}", "ports", ports ? ports : json_null());
        if (slim) json_array_append_new(keep, slim);
    }
    if (json_is_object(spec)) {
        json_t *nn = json_object_get(spec, "nodeName"), *hn = json_object_get(spec, "hostNetwork");
        json_t *slim = json_pack("{sOsOsO}", "nodeName", nn ? nn : json_null(), "hostNetwork",
                                 hn ? hn : json_false(), "containers", keep);
        if (slim) json_object_set_new(pod, "spec", slim);
    }
    json_decref(keep);
    if (json_is_object(status)) {
        json_t *ph = json_object_get(status, "phase"), *ip = json_object_get(status, "podIP");
        json_t *slim = json_pack("{sOsO}", "phase", ph ? ph : json_null(), "podIP", ip ? ip : json_null());
        if (slim) json_object_set_new(pod, "status", slim);
    }
}
