/* dns.c — the node's cluster DNS: the dns/ resolver listening on the pods'
 * gateway address (the bridge's, the first of the pod CIDR; in CNI mode
 * the gateway of the plugins' result, once a pod has one), its zone fed
 * by informers on Services and EndpointSlices, as NodeLocal DNSCache runs
 * one resolver per node. Names outside the cluster go to the upstreams of
 * --resolv-conf. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "dns/dns.h"
#include "lib/file.h"
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

static void maybe_ready(struct agent *a)
{
    if (a->dns_zone && a->services && a->slices && informer_synced(a->services) && informer_synced(a->slices))
        dns_zone_set_ready(a->dns_zone, 1);
}

static void synced(void *arg) { maybe_ready(arg); }

static void ready_anyway(uv_timer_t *t)
{
    struct agent *a = t->data;
    if (a->dns_zone) dns_zone_set_ready(a->dns_zone, 1);
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
    static const struct informer_cbs scbs = {svc_set, svc_updated, svc_deleted, synced};
    static const struct informer_cbs ecbs = {slice_set, slice_updated, slice_deleted, synced};
    char gw[46], err[256] = "";
    int rc;

    if (a->no_cluster_dns || a->dns || a->stopping) return;
    if (a->net && net_is_cni(a->net)) {
        /* The CNI bridge and its address come with the first pod: the
         * resolver starts on the gateway that pod's result names. */
        net_gateway(a->net, gw);
        if (gw[0] == '\0') {
            log_debug(DNS_LOG, "cluster DNS waits for a CNI result naming the pods' gateway");
            return;
        }
    } else if (gateway_of(a->pod_cidr, gw, sizeof gw) != 0) {
        log_error(DNS_LOG, "no cluster DNS: pod CIDR \"%s\"", a->pod_cidr);
        return;
    }
    if (!a->dns_zone && !(a->dns_zone = dns_zone_new(a->cluster_domain))) {
        log_error(DNS_LOG, "no cluster DNS: bad cluster domain \"%s\" (or out of memory)",
                  a->cluster_domain ? a->cluster_domain : "");
        return;
    }
    dns_zone_set_ready(a->dns_zone, 0);
    struct dns_server_config cfg = {.address = gw, .port = a->cluster_dns_port, .resolv_conf = a->resolv_conf};
    if ((rc = dns_server_start(a->loop, a->dns_zone, &cfg, &a->dns, err, sizeof err)) != 0) {
        log_error(DNS_LOG, "no cluster DNS: %s", err);
        return;
    }
    if (!a->dns_timer_open && uv_timer_init(a->loop, &a->dns_timer) == 0) {
        a->dns_timer_open = true;
        a->dns_timer.data = a;
        uv_timer_start(&a->dns_timer, ready_anyway, 5000, 0);
    }
    if ((rc = agent_service_informers(a)) != 0) return;
    if ((rc = informer_add_handler(a->services, &scbs, a)) != 0 ||
        (rc = informer_add_handler(a->slices, &ecbs, a)) != 0)
        log_error(DNS_LOG, "cannot watch Services and EndpointSlices: %s", orc_strerror(rc));
    else
        log_info(DNS_LOG, "cluster DNS for %s on %s:%d", dns_zone_domain(a->dns_zone), gw, dns_server_port(a->dns));
    /* pods are told of it only on the standard port: resolv.conf has no other */
    if (a->cluster_dns_port == 53) snprintf(a->cluster_dns_ip, sizeof a->cluster_dns_ip, "%s", gw);
}

/* Writes pod_dir/<name> and appends its bind mount on dst, unless the
 * container mounts something there itself (the kubelet leaves it then). */
static int mount_file(const char *pod_dir, const char *name, const char *dst, const struct orc_buf *body,
                      struct rt_mount **mounts, size_t *n, char *errmsg)
{
    char path[1200];
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*mounts)[i].destination, dst) == 0) return 0;
    snprintf(path, sizeof path, "%s/%s", pod_dir, name);
    int rc = orc_file_write(path, body->data ? body->data : "", body->len, 0644);
    if (rc != 0) return orc_errf(errmsg, 256, rc, "writing the pod's %s: %s", dst, orc_strerror(rc));
    struct rt_mount *m = realloc(*mounts, (*n + 1) * sizeof *m);
    if (!m) return orc_errf(errmsg, 256, ORC_ENOMEM, "out of memory");
    *mounts = m;
    m[*n].source = strdup(path);
    m[*n].destination = strdup(dst);
    m[*n].readonly = false;
    if (!m[*n].source || !m[*n].destination) {
        free((char *)m[*n].source);
        free((char *)m[*n].destination);
        return orc_errf(errmsg, 256, ORC_ENOMEM, "out of memory");
    }
    (*n)++;
    return 0;
}

int agent_dns_pod_mount(struct agent *a, const char *pod_dir, const json_t *pod, const char *pod_ip,
                        struct rt_mount **mounts, size_t *n, char *errmsg)
{
    struct orc_buf host = ORC_BUF_INIT, conf = ORC_BUF_INIT, hosts = ORC_BUF_INIT;
    const char *hp = a->resolv_conf ? a->resolv_conf : "/etc/resolv.conf";
    int rc = orc_file_read(hp, 1 << 16, &host);
    if (rc != 0 && rc != ORC_ENOENT) log_warn(DNS_LOG, "%s: %s", hp, orc_strerror(rc));
    rc = dns_pod_resolv_conf(pod, a->cluster_dns_ip, a->cluster_domain, host.data, &conf);
    orc_buf_free(&host);
    if (rc == 0) rc = mount_file(pod_dir, "resolv.conf", "/etc/resolv.conf", &conf, mounts, n, errmsg);
    else orc_errf(errmsg, 256, rc, "the pod's resolv.conf: %s", orc_strerror(rc));
    /* hostNetwork pods keep the image's /etc/hosts */
    if (rc == 0 && !json_is_true(orc_json_get(pod, "spec.hostNetwork"))) {
        rc = dns_pod_hosts(pod, pod_ip, a->cluster_domain, &hosts);
        if (rc == 0) rc = mount_file(pod_dir, "hosts", "/etc/hosts", &hosts, mounts, n, errmsg);
        else orc_errf(errmsg, 256, rc, "the pod's hosts file: %s", orc_strerror(rc));
    }
    orc_buf_free(&conf);
    orc_buf_free(&hosts);
    return rc;
}

static void dns_stopped(void *arg)
{
    struct agent *a = arg;
    dns_zone_free(a->dns_zone);
    a->dns_zone = NULL;
    agent_release(a);
}

static void timer_closed(uv_handle_t *h) { agent_release(h->data); }

void agent_dns_stop(struct agent *a)
{
    if (a->dns_timer_open) {
        a->dns_timer_open = false;
        agent_hold(a);
        uv_close((uv_handle_t *)&a->dns_timer, timer_closed);
    }
    informer_remove_handlers(a->services, a);
    informer_remove_handlers(a->slices, a);
    a->cluster_dns_ip[0] = '\0';
    if (a->dns) {
        agent_hold(a);
        dns_server_stop(a->dns, dns_stopped, a);
        a->dns = NULL;
    } else {
        dns_zone_free(a->dns_zone);
        a->dns_zone = NULL;
    }
}
