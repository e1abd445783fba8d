/* dns.c — the node's cluster DNS: the dns/ resolver listening on the pods'
 * gateway address (the bridge's, the first of the pod CIDR), its zone fed
 * by informers on Services and EndpointSlices, as NodeLocal DNSCache runs
 * one resolver per node. Names outside the cluster go to the upstreams of
 * --resolv-conf. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "dns/dns.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/orc.h"

#define DNS_LOG "agent.dns"

static void svc_set(void *arg, const json_t *obj)
{
    struct agent *a = arg;
    int rc = dns_zone_set_service(a->dns_zone, (json_t *)obj);
    if (rc != 0) log_warn(DNS_LOG, "service %s: %s", orc_json_str(obj, "metadata.name"), orc_strerror(rc));
}

static void svc_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    svc_set(arg, obj);
}

static void svc_deleted(void *arg, const json_t *obj)
{
    struct agent *a = arg;
    const char *ns = orc_json_str(obj, "metadata.namespace"), *name = orc_json_str(obj, "metadata.name");
    if (ns && name) dns_zone_del_service(a->dns_zone, ns, name);
}

static void slice_set(void *arg, const json_t *obj)
{
    struct agent *a = arg;
    int rc = dns_zone_set_slice(a->dns_zone, (json_t *)obj);
    if (rc != 0) log_warn(DNS_LOG, "endpointslice %s: %s", orc_json_str(obj, "metadata.name"), orc_strerror(rc));
}

static void slice_updated(void *arg, const json_t *old, const json_t *obj)
{
    (void)old;
    slice_set(arg, obj);
}

static void slice_deleted(void *arg, const json_t *obj)
{
    struct agent *a = arg;
    const char *ns = orc_json_str(obj, "metadata.namespace"), *name = orc_json_str(obj, "metadata.name");
    if (ns && name) dns_zone_del_slice(a->dns_zone, ns, name);
}

/* The gateway of "10.42.3.0/24": "10.42.3.1". */
static int gateway_of(const char *cidr, char *out, size_t n)
{
    char net[64];
    const char *slash = strchr(cidr, '/');
    struct in_addr in;
    if (!slash || (size_t)(slash - cidr) >= sizeof net) return ORC_EINVAL;
    memcpy(net, cidr, (size_t)(slash - cidr));
    net[slash - cidr] = '\0';
    if (inet_pton(AF_INET, net, &in) != 1) return ORC_EINVAL;
    in.s_addr = htonl(ntohl(in.s_addr) + 1);
    return inet_ntop(AF_INET, &in, out, (socklen_t)n) ? 0 : ORC_EINVAL;
}

void agent_dns_start(struct agent *a)
{
    static const struct informer_cbs scbs = {svc_set, svc_updated, svc_deleted, NULL};
    static const struct informer_cbs ecbs = {slice_set, slice_updated, slice_deleted, NULL};
    struct informer_config sc = {.path = "/api/v1/services"};
    struct informer_config ec = {.path = "/apis/discovery.k8s.io/v1/endpointslices"};
    char gw[INET_ADDRSTRLEN], err[256] = "";
    int rc;

    if (a->no_cluster_dns || a->dns) return;
    if (gateway_of(a->pod_cidr, gw, sizeof gw) != 0) {
        log_error(DNS_LOG, "no cluster DNS: pod CIDR \"%s\"", a->pod_cidr);
        return;
    }
    if (!a->dns_zone && !(a->dns_zone = dns_zone_new(a->cluster_domain))) {
        log_error(DNS_LOG, "no cluster DNS: bad cluster domain \"%s\" (or out of memory)",
                  a->cluster_domain ? a->cluster_domain : "");
        return;
    }
    struct dns_server_config cfg = {.address = gw, .port = a->cluster_dns_port, .resolv_conf = a->resolv_conf};
    if ((rc = dns_server_start(a->loop, a->dns_zone, &cfg, &a->dns, err, sizeof err)) != 0) {
        log_error(DNS_LOG, "no cluster DNS: %s", err);
        return;
    }
    if ((rc = informer_start(a->loop, a->api, &sc, &scbs, a, &a->services)) != 0 ||
        (rc = informer_start(a->loop, a->api, &ec, &ecbs, a, &a->slices)) != 0)
        log_error(DNS_LOG, "cannot watch Services and EndpointSlices: %s", orc_strerror(rc));
    else
        log_info(DNS_LOG, "cluster DNS for %s on %s:%d", dns_zone_domain(a->dns_zone), gw, dns_server_port(a->dns));
}

static void dns_stopped(void *arg)
{
    struct agent *a = arg;
    dns_zone_free(a->dns_zone);
    a->dns_zone = NULL;
    agent_release(a);
}

void agent_dns_stop(struct agent *a)
{
    if (a->services) informer_stop(a->services);
    if (a->slices) informer_stop(a->slices);
    a->services = a->slices = NULL;
    if (a->dns) {
        agent_hold(a);
        dns_server_stop(a->dns, dns_stopped, a);
        a->dns = NULL;
    } else {
        dns_zone_free(a->dns_zone);
        a->dns_zone = NULL;
    }
}
