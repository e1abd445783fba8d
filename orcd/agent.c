/* agent.c — `orcd agent`: a worker node. Trusts the cluster CA the token
 * names, gets the serving certificate of its logs/exec port from the API
 * (the members hold the CA key, agents do not), keeps both in its data dir,
 * and runs the node agent until SIGTERM/SIGINT. Containers keep running
 * when it stops; a restarted agent adopts them. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/net.h"
#include "client/http.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/nft.h"
#include "lib/orc.h"
#include "lib/quantity.h"
#include "lib/tls.h"
#include "orcd/certs.h"
#include "orcd/agent_flags.h"
#include "orcd/orcd.h"
#include "netpol/netpol.h"
#include "proxy/proxy.h"

struct agent_opts {
    const char *server;
    const char *token;
    const char *node_name;
    const char *data_dir;
    const char *listen;
    const char *node_ip;
    const char *registries;
    const char *reserved_cpu;
    const char *reserved_memory;
    long max_pods;
    long lease_seconds;
    bool cleanup;
    bool seccomp_default;
    struct orcd_node_flags node;
};

bool orcd_network_backend_ok(const char *s)
{
    enum net_backend b;
    return strcmp(s, "none") == 0 || net_backend_parse(s, &b);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: orcd agent --server URL --token TOKEN [flags]\n"
               "  --server URL         an API server: https://HOST:PORT\n"
               "  --token TOKEN        the agent token (agent-token in a server's data dir), a\n"
               "                       bootstrap token (orctl token create) or the cluster token;\n"
               "                       it names the cluster CA and only gets this node's certificate\n"
               "  --node-name NAME     this node's name (default: the host name)\n"
               "  --data-dir DIR       agent state (default /var/lib/orc-agent as root,\n"
               "                       else ~/.local/share/orc-agent)\n"
               "  --listen ADDR:PORT   logs/exec port for the API servers (default NODE-IP:10250)\n"
               "  --node-ip IP         the address this node reports (default: the one it\n"
               "                       reaches the server from)\n"
               "  --registries FILE    registry mirrors and credentials (k3s registries.yaml)\n"
               "  --reserved-cpu Q     CPU kept back from pods (default 100m)\n"
               "  --reserved-memory Q  memory kept back from pods (default 256Mi)\n"
               "  --max-pods N         pods this node takes (default 110)\n"
               "  --lease-seconds N    node lease duration, renewed every third (default 15)\n"
               ORCD_LOG_USAGE
               "  --network-backend B  how pods reach other nodes' pods: auto (default):\n"
               "                       host-gw to nodes on a shared link, VXLAN to the rest;\n"
               "                       host-gw: routes via their addresses on a shared link;\n"
               "                       vxlan: an overlay to every node; none: no routes\n"
               "  --seccomp-default    containers run with the RuntimeDefault seccomp profile\n"
               "                       unless their pod asks for another (the kubelet's flag);\n"
               "                       Localhost profiles are read from DATA/seccomp\n"
               "  --cluster-dns on|off cluster DNS resolver on the pods' gateway address,\n"
               "                       port 53 (default on)\n"
               "  --cluster-domain D   the cluster's DNS domain (default cluster.local)\n"
               "  --resolv-conf FILE   upstream resolvers for other names (default\n"
               "                       /etc/resolv.conf)\n"
               "  --cni-conf-dir DIR   network pods with the CNI plugins of the first\n"
               "                       *.conflist/*.conf/*.json in DIR (default: orc's own\n"
               "                       bridge); a host-local ipam without a subnet gets the\n"
               "                       Node's pod CIDR\n"
               "  --cni-bin-dir DIRS   where the CNI plugins are, ':'-separated (default\n"
               "                       /usr/lib/cni)\n"
               "  --service-proxy on|off  Service rules (nftables table ip orc-proxy) for\n"
               "                       ClusterIPs, NodePorts and load-balancer addresses\n"
               "                       (default on; off removes the table)\n"
               "  --network-policy on|off  enforce NetworkPolicies on this node's pods\n"
               "                       (nftables table inet orc-<h>-np; default on; off\n"
               "                       removes the table)\n"
               "  --ingress on|off     the Ingress proxy on the node address (default on)\n"
               "  --ingress-http-port N   its HTTP port (default 80; 0 turns it off)\n"
               "  --ingress-https-port N  its HTTPS port (default 443; 0 turns it off)\n"
               "  --cleanup            remove this node's network state (bridge, namespaces,\n"
               "                       iptables and service rules) and exit\n");
}

/* --cleanup: the pod network, and the Service and NetworkPolicy rules
 * (when nft is there). */
static int cleanup(const char *node, const char *dir)
{
    char err[256] = "";
    int rc = net_destroy_node(node, dir);
    if (access("/usr/sbin/nft", X_OK) == 0 && proxy_nft_remove(err) != 0) {
        log_error("agent", "removing the service rules: %s", err);
        rc = rc ? rc : 1;
    }
    if (orc_nft_available() && netpol_nft_remove(node, err) != 0) {
        log_error("agent", "removing the network policy rules: %s", err);
        rc = rc ? rc : 1;
    }
    return rc == 0 ? 0 : 1;
}

static int parse_opts(int argc, char **argv, struct agent_opts *o)
{
    enum { O_SERVER = 1000, O_TOKEN, O_NODE, O_DATA, O_LISTEN, O_IP, O_REG, O_CLEAN, O_HELP,
           O_RCPU, O_RMEM, O_MAXPODS, O_LEASE, O_NODE_FLAG, O_SECCOMP };
    static const struct option longopts[] = {
        {"server", required_argument, 0, O_SERVER}, {"token", required_argument, 0, O_TOKEN},
        {"node-name", required_argument, 0, O_NODE}, {"data-dir", required_argument, 0, O_DATA},
        {"listen", required_argument, 0, O_LISTEN}, {"node-ip", required_argument, 0, O_IP},
        {"registries", required_argument, 0, O_REG}, {"cleanup", no_argument, 0, O_CLEAN},
        {"help", no_argument, 0, O_HELP}, {"reserved-cpu", required_argument, 0, O_RCPU},
        {"reserved-memory", required_argument, 0, O_RMEM},
        {"max-pods", required_argument, 0, O_MAXPODS},
        {"lease-seconds", required_argument, 0, O_LEASE},
        ORCD_NODE_OPTIONS(O_NODE_FLAG),
        {"seccomp-default", no_argument, 0, O_SECCOMP}, {0, 0, 0, 0}};
    char *end;
    int c, li = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
        switch (c) {
        case O_SERVER: o->server = optarg; break;
        case O_TOKEN: o->token = optarg; break;
        case O_NODE: o->node_name = optarg; break;
        case O_DATA: o->data_dir = optarg; break;
        case O_LISTEN: o->listen = optarg; break;
        case O_IP: o->node_ip = optarg; break;
        case O_REG: o->registries = optarg; break;
        case O_CLEAN: o->cleanup = true; break;
        case O_RCPU: o->reserved_cpu = optarg; break;
        case O_RMEM: o->reserved_memory = optarg; break;
        case O_NODE_FLAG:
            if (orcd_node_flag("orcd agent", longopts[li].name, optarg, &o->node) != 0) return -1;
            break;
        case O_SECCOMP: o->seccomp_default = true; break;
        case O_MAXPODS:
        case O_LEASE: {
            long v = strtol(optarg, &end, 10);
            const char *name = c == O_MAXPODS ? "max-pods" : "lease-seconds";
            if (*end || v <= 0 || v > 100000) {
                fprintf(stderr, "orcd agent: invalid number \"%s\" for --%s\n", optarg, name);
                return -1;
            }
            *(c == O_MAXPODS ? &o->max_pods : &o->lease_seconds) = v;
            break;
        }
        case 'h':
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "orcd agent: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (!o->cleanup && (o->server == NULL || o->token == NULL)) {
        fprintf(stderr, "orcd agent: --server and --token are required\n");
        return -1;
    }
    int64_t q;
    if ((o->reserved_cpu && orc_quantity_parse(o->reserved_cpu, &q) != 0)
        || (o->reserved_memory && orc_quantity_parse(o->reserved_memory, &q) != 0)) {
        fprintf(stderr, "orcd agent: --reserved-cpu and --reserved-memory take "
                        "quantities like 250m, 512Mi\n");
        return -1;
    }
    if (o->server && strncmp(o->server, "https://", 8) != 0) {
        fprintf(stderr, "orcd agent: --server must be an https:// URL\n");
        return -1;
    }
    return 0;
}

/* The local address this host uses to reach host:port (no packet is sent). */
static int route_source(const char *url, char *out, size_t n)
{
    char host[256];
    int port, fd, rv = ORC_EUNAVAIL;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    struct sockaddr_in local;
    socklen_t len = sizeof local;
    char portstr[8];

    if (orc_netaddr_split(url + 8, host, sizeof host, &port) != 0) return ORC_EINVAL;
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0) return ORC_EUNAVAIL;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0
        && getsockname(fd, (struct sockaddr *)&local, &len) == 0
        && inet_ntop(AF_INET, &local.sin_addr, out, (socklen_t)n) != NULL)
        rv = 0;
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return rv;
}

static int path_in(const char *dir, const char *name, char *out, size_t n)
{
    return snprintf(out, n, "%s/%s", dir, name) < (int)n ? 0 : ORC_EINVAL;
}

static char *read_text(const char *dir, const char *name)
{
    char path[4200];
    struct orc_buf b = ORC_BUF_INIT;

    if (path_in(dir, name, path, sizeof path) != 0 || orc_file_read(path, 1u << 20, &b) != 0) {
        orc_buf_free(&b);
        return NULL;
    }
    return orc_buf_steal(&b, NULL);
}

static int write_text(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[4200];
    int rv = path_in(dir, name, path, sizeof path);
    return rv ? rv : orc_file_write(path, text, strlen(text), mode);
}

struct agent_pki {
    char *ca, *cert, *key;
    char *port_token; /* what the API servers show this agent's port */
};

static void pki_clear(struct agent_pki *p)
{
    if (p->key) explicit_bzero(p->key, strlen(p->key));
    if (p->port_token) explicit_bzero(p->port_token, strlen(p->port_token));
    free(p->port_token);
    free(p->ca);
    free(p->cert);
    free(p->key);
    memset(p, 0, sizeof *p);
}

/* Asks the API (trusting only the CA the token names) for this node's
 * certificate, its identity and its port's; keeps the answer in the data
 * dir (the key and port token 0600). */
#define NODE_CERT_RENEW_DAYS 122 /* a third of API_NODE_CERT_DAYS */
static int fetch_pki(const struct agent_opts *o, const char *dir, const char *ip, const char *fp,
                     struct agent_pki *p)
{
    struct http_tls tls = {.ca_fingerprint = fp};
    struct http_request req = {0};
    struct http_response resp = {0};
    char body[1024], err[256] = "", got_fp[ORC_TLS_FP_HEX + 1];
    json_t *ans = NULL;
    int rv;

    snprintf(body, sizeof body, "{\"nodeName\":\"%s\",\"addresses\":[\"%s\",\"%s\"]}",
             o->node_name, ip, o->node_name);
    req.method = "POST";
    req.path = "/internal/v1/agents";
    req.content_type = "application/json";
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = 15000;
    rv = http_sync_request_tls(o->server, o->token, &tls, &req, &resp, err);
    if (rv != 0 || resp.status != 200) {
        log_error("agent", "getting this node's certificate from %s: %s", o->server,
                  rv ? (err[0] ? err : orc_strerror(rv)) : resp.body ? resp.body : "(no answer)");
        http_response_free(&resp);
        return rv ? rv : ORC_EPERM;
    }
    ans = orc_json_loadb(resp.body, resp.body_len, 0, NULL);
    http_response_free(&resp);
    p->ca = orc_json_str(ans, "ca") ? strdup(orc_json_str(ans, "ca")) : NULL;
    p->cert = orc_json_str(ans, "cert") ? strdup(orc_json_str(ans, "cert")) : NULL;
    p->key = orc_json_str(ans, "key") ? strdup(orc_json_str(ans, "key")) : NULL;
    p->port_token = orc_json_str(ans, "portToken") ? strdup(orc_json_str(ans, "portToken")) : NULL;
    json_decref(ans);
    rv = p->ca && p->cert && p->key && p->port_token ? orc_tls_fingerprint(p->ca, got_fp, err) : ORC_EPROTO;
    if (rv == 0 && strcmp(got_fp, fp) != 0) rv = ORC_EPERM; /* not the CA the token names */
    if (rv == 0) rv = write_text(dir, "ca.crt", p->ca, 0644);
    if (rv == 0) rv = write_text(dir, "agent.crt", p->cert, 0644);
    if (rv == 0) rv = write_text(dir, "agent.key", p->key, 0600);
    if (rv == 0) rv = write_text(dir, "port-token", p->port_token, 0600);
    if (rv != 0) log_error("agent", "the certificate answer from %s is unusable: %s", o->server,
                           orc_strerror(rv));
    return rv;
}

/* The CA and serving certificate from the data dir when they still fit
 * (same CA as the token, names this IP, not expiring), else anew. */
static int load_pki(const struct agent_opts *o, const char *dir, const char *ip, struct agent_pki *p)
{
    char fp[ORC_TLS_FP_HEX + 1], have[ORC_TLS_FP_HEX + 1], err[ORC_TLS_ERRLEN];
    const char *names[] = {ip};
    struct orc_tls_subject sub;

    if (orcd_token_fingerprint(o->token, fp) != 0) {
        log_error("agent", "the token is not an orc cluster token (orc1.<CA hash>.<secret>)");
        return ORC_EINVAL;
    }
    p->ca = read_text(dir, "ca.crt");
    p->cert = read_text(dir, "agent.crt");
    p->key = read_text(dir, "agent.key");
    p->port_token = read_text(dir, "port-token");
    /* Renewed at start once less than a third of its life is left. */
    if (p->ca && p->cert && p->key && p->port_token && orc_tls_fingerprint(p->ca, have, err) == 0
        && strcmp(have, fp) == 0 && orc_tls_key_check(p->cert, p->key, err) == 0
        && orc_tls_cert_subject(p->cert, &sub, err) == 0 && strcmp(sub.org, "system:nodes") == 0
        && orc_tls_cert_fits(p->cert, p->ca, names, 1, NODE_CERT_RENEW_DAYS, err) == 0)
        return 0;
    pki_clear(p);
    return fetch_pki(o, dir, ip, fp, p);
}

/* The client pair the agent renewed through a CertificateSigningRequest
 * (agent-client.crt/.key) when it is this node's, from this CA, valid and
 * newer than agent.crt; else both stay NULL and agent.crt serves as the
 * identity too. */
static void load_client_pair(const struct agent_opts *o, const char *dir, const struct agent_pki *p,
                             char **cert, char **key)
{
    char err[ORC_TLS_ERRLEN], cn[300];
    struct orc_tls_subject sub;
    int64_t nb, na, pnb, pna;

    *cert = read_text(dir, "agent-client.crt");
    *key = read_text(dir, "agent-client.key");
    snprintf(cn, sizeof cn, "system:node:%s", o->node_name);
    if (*cert && *key && orc_tls_key_check(*cert, *key, err) == 0 && orc_tls_cert_subject(*cert, &sub, err) == 0
        && strcmp(sub.cn, cn) == 0 && strcmp(sub.org, "system:nodes") == 0
        && orc_tls_cert_fits(*cert, p->ca, NULL, 0, 0, err) == 0 && orc_tls_cert_times(*cert, &nb, &na, err) == 0
        && orc_tls_cert_times(p->cert, &pnb, &pna, err) == 0 && na > pna)
        return;
    if (*key) explicit_bzero(*key, strlen(*key));
    free(*key);
    free(*cert);
    *cert = *key = NULL;
}

/* ---- running ---- */

struct agent_main {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    agent *a;
    bool stopping;
};

static void closed(uv_handle_t *h) { (void)h; }

static void on_stopped(void *arg)
{
    struct agent_main *m = arg;
    uv_close((uv_handle_t *)&m->sigterm, closed);
    uv_close((uv_handle_t *)&m->sigint, closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct agent_main *m = h->data;
    (void)signum;
    if (m->stopping) return;
    m->stopping = true;
    log_info("agent", "stopping (containers keep running)");
    agent_stop(m->a, on_stopped, m);
}

static void default_data_dir(char *out, size_t n)
{
    const char *home = getenv("HOME");
    if (geteuid() == 0 || home == NULL) snprintf(out, n, "/var/lib/orc-agent");
    else snprintf(out, n, "%s/.local/share/orc-agent", home);
}

static int run(struct agent_opts *o, const char *dir, const char *ip, int port)
{
    struct agent_main m;
    struct agent_pki pki = {0};
    struct agent_config cfg = {0};
    char errmsg[256] = "", self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    int rv;

    char *client_cert = NULL, *client_key = NULL;

    if ((rv = load_pki(o, dir, ip, &pki)) != 0) return 1;
    load_client_pair(o, dir, &pki, &client_cert, &client_key);
    self[sl > 0 ? sl : 0] = '\0';
    memset(&m, 0, sizeof m);
    uv_loop_init(&m.loop);
    cfg.server_url = o->server;
    /* The join token (agent, bootstrap or cluster token) only got the
     * node's certificate: from here on the agent is system:node:NAME. */
    cfg.token = pki.port_token;
    cfg.cert_identity = true;
    cfg.ca_pem = pki.ca;
    cfg.node_name = o->node_name;
    cfg.data_dir = dir;
    cfg.node_ip = ip;
    cfg.port = port;
    cfg.tls_cert_pem = pki.cert;
    cfg.tls_key_pem = pki.key;
    cfg.client_cert_pem = client_cert;
    cfg.client_key_pem = client_key;
    cfg.registries = o->registries;
    cfg.orcd_path = self;
    cfg.max_pods = (unsigned)o->max_pods;
    cfg.lease_seconds = (unsigned)o->lease_seconds;
    orcd_node_config(&o->node, &cfg);
    cfg.seccomp_default = o->seccomp_default;
    if (o->reserved_cpu) orc_quantity_parse(o->reserved_cpu, &cfg.reserved_cpu_milli);
    if (o->reserved_memory && orc_quantity_parse(o->reserved_memory, &cfg.reserved_memory_bytes) == 0)
        cfg.reserved_memory_bytes /= 1000; /* quantities parse to thousandths */
    rv = agent_start(&m.loop, &cfg, &m.a, errmsg);
    pki_clear(&pki);
    if (client_key) explicit_bzero(client_key, strlen(client_key));
    free(client_key);
    free(client_cert);
    if (rv != 0) {
        log_error("agent", "cannot start: %s", errmsg[0] ? errmsg : orc_strerror(rv));
        uv_loop_close(&m.loop);
        return 1;
    }
    log_info("agent", "node %s: serving logs/exec on %s:%d, API %s", o->node_name, ip, port, o->server);
    uv_signal_init(&m.loop, &m.sigterm);
    uv_signal_init(&m.loop, &m.sigint);
    m.sigterm.data = m.sigint.data = &m;
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_run(&m.loop, UV_RUN_DEFAULT);
    uv_loop_close(&m.loop);
    return 0;
}

int orcd_agent_main(int argc, char **argv)
{
    struct agent_opts o = {0};
    char dir[4096], host[256], ip[64] = "";
    int port = 10250;

    if (parse_opts(argc, argv, &o) != 0) return 2;
    if (o.data_dir) snprintf(dir, sizeof dir, "%s", o.data_dir);
    else default_data_dir(dir, sizeof dir);
    if (o.node_name == NULL) {
        if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "node");
        o.node_name = host;
    }
    if (geteuid() != 0) {
        log_error("agent", "orcd agent needs root: it runs containers and makes the pod network "
                           "(bridge, namespaces, iptables rules)");
        return 1;
    }
    if (o.cleanup) return cleanup(o.node_name, dir);
    if (orc_mkdirs(dir, 0700) != 0) {
        log_error("agent", "cannot create the data dir %s", dir);
        return 1;
    }
    if (o.listen && orc_netaddr_split(o.listen, ip, sizeof ip, &port) != 0) {
        log_error("agent", "invalid --listen \"%s\": want ADDR:PORT", o.listen);
        return 2;
    }
    if (o.node_ip) snprintf(ip, sizeof ip, "%s", o.node_ip);
    if ((ip[0] == '\0' || strcmp(ip, "0.0.0.0") == 0) && route_source(o.server, ip, sizeof ip) != 0) {
        log_error("agent", "cannot tell this node's address towards %s; give --node-ip", o.server);
        return 1;
    }
    return run(&o, dir, ip, port);
}
