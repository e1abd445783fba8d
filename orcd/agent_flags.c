/* agent_flags.c — parsing of the node agent's flags (agent_flags.h). */
#include "orcd/agent_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "lib/quantity.h"
#include "orcd/orcd.h"

static int onoff_flag(const char *prog, const char *flag, const char *value, bool *off)
{
    if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
        fprintf(stderr, "%s: --%s takes on or off, not \"%s\"\n", prog, flag, value);
        return -1;
    }
    *off = strcmp(value, "off") == 0;
    return 0;
}

static int ingress_flag(const char *prog, const char *flag, const char *value, bool *off,
                        long *port)
{
    char *end;
    long v;

    if (strcmp(flag, "ingress") == 0) return onoff_flag(prog, flag, value, off);
    v = strtol(value, &end, 10);
    if (!value[0] || *end || v < 0 || v > 65535) {
        fprintf(stderr, "%s: --%s takes a port 0-65535 (0 turns it off), not \"%s\"\n", prog,
                flag, value);
        return -1;
    }
    *port = v == 0 ? -1 : v;
    return 0;
}

int orcd_log_flag(const char *prog, const char *flag, const char *value, struct orcd_log_flags *out)
{
    char *end;
    int64_t q;
    long v;

    if (strcmp(flag, "pod-log-dir") == 0 || strcmp(flag, "container-log-dir") == 0) {
        if (value[0] != '/') {
            fprintf(stderr, "%s: --%s takes an absolute directory, not \"%s\"\n", prog, flag, value);
            return -1;
        }
        *(flag[0] == 'p' ? &out->pod_log_dir : &out->container_log_dir) = value;
        return 0;
    }
    if (strcmp(flag, "container-log-max-size") == 0) {
        if (orc_quantity_parse(value, &q) != 0 || q < 4096000) { /* thousandths */
            fprintf(stderr, "%s: --%s takes a size of at least 4Ki, like 10Mi, not \"%s\"\n", prog,
                    flag, value);
            return -1;
        }
        out->max_bytes = q / 1000;
        return 0;
    }
    v = strtol(value, &end, 10);
    if (!value[0] || *end || v < 2 || v > 1000) {
        fprintf(stderr, "%s: --%s takes a number from 2 to 1000, not \"%s\"\n", prog, flag, value);
        return -1;
    }
    out->max_files = (unsigned)v;
    return 0;
}

int orcd_node_flag(const char *prog, const char *flag, const char *value, struct orcd_node_flags *o)
{
    if (strcmp(flag, "network-backend") == 0) {
        if (!orcd_network_backend_ok(value)) {
            fprintf(stderr, "%s: --network-backend is auto, host-gw, vxlan or none, not \"%s\"\n", prog,
                    value);
            return -1;
        }
        o->network_backend = value;
        return 0;
    }
    if (strcmp(flag, "cluster-dns") == 0) return onoff_flag(prog, flag, value, &o->no_cluster_dns);
    if (strcmp(flag, "service-proxy") == 0) return onoff_flag(prog, flag, value, &o->no_service_proxy);
    if (strcmp(flag, "network-policy") == 0) return onoff_flag(prog, flag, value, &o->no_network_policy);
    if (strncmp(flag, "ingress", 7) == 0)
        return ingress_flag(prog, flag, value, &o->no_ingress,
                            strcmp(flag, "ingress-https-port") == 0 ? &o->ingress_https_port
                                                                    : &o->ingress_http_port);
    const char **str = strcmp(flag, "cluster-domain") == 0 ? &o->cluster_domain
                       : strcmp(flag, "resolv-conf") == 0  ? &o->resolv_conf
                       : strcmp(flag, "cni-conf-dir") == 0 ? &o->cni_conf_dir
                       : strcmp(flag, "cni-bin-dir") == 0  ? &o->cni_bin_dir
                                                           : NULL;
    if (str == NULL) return orcd_log_flag(prog, flag, value, &o->logs);
    *str = value;
    return 0;
}

void orcd_node_config(const struct orcd_node_flags *f, struct agent_config *cfg)
{
    cfg->network_backend = f->network_backend;
    cfg->cluster_domain = f->cluster_domain;
    cfg->resolv_conf = f->resolv_conf;
    cfg->cni_conf_dir = f->cni_conf_dir;
    cfg->cni_bin_dir = f->cni_bin_dir;
    cfg->no_cluster_dns = f->no_cluster_dns;
    cfg->no_service_proxy = f->no_service_proxy;
    cfg->no_network_policy = f->no_network_policy;
    cfg->ingress_http_port = f->no_ingress ? -1 : (int)f->ingress_http_port;
    cfg->ingress_https_port = f->no_ingress ? -1 : (int)f->ingress_https_port;
    cfg->pod_log_dir = f->logs.pod_log_dir ? f->logs.pod_log_dir : ORCD_LOG_DEFAULT_POD_DIR;
    cfg->container_log_dir = f->logs.container_log_dir ? f->logs.container_log_dir : ORCD_LOG_DEFAULT_CTR_DIR;
    cfg->log_max_bytes = f->logs.max_bytes;
    cfg->log_max_files = f->logs.max_files;
}
