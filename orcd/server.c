/* server.c — `orcd server`: one control-plane member. Creates or reloads its
 * identity, CA, certificates and token in the data dir, starts the store
 * (bootstrapping a new cluster, joining one, or resetting to a one-member
 * cluster), serves the API over HTTPS, writes admin.conf, and shuts down
 * cleanly on SIGTERM/SIGINT. A joining member learns the CA from the join
 * and serves only after it; a restored one (--restore) serves once the
 * backup is loaded. Scheduled snapshots start once the member is ready. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/api.h"
#include "client/config.h"
#include "client/http.h"
#include "lib/cidr.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/orc.h"
#include "lib/rand.h"
#include "orcd/api_flags.h"
#include "orcd/certs.h"
#include "orcd/embedded.h"
#include "orcd/agent_flags.h"
#include "orcd/ctl_flags.h"
#include "orcd/orcd.h"
#include "orcd/restore.h"
#include "orcd/snapshots.h"
#include "store/backup.h"
#include "store/store.h"

#define JOIN_RETRY_MS 2000
#define MAX_TLS_SANS 16
#define MAX_NAMES (MAX_TLS_SANS + 5 + ORCD_INCLUSTER_NAMES)

struct server_opts {
    const char *data_dir;
    const char *listen;
    const char *peer_listen;
    const char *advertise_url;
    const char *join;
    const char *token;
    const char *agent_token; /* a new cluster's, "<id>.<secret>" */
    const char *node_name;
    const char *tls_sans[MAX_TLS_SANS];
    size_t n_tls_sans;
    bool no_agent;
    bool reset_cluster;
    bool discard_corrupt_log;
    bool raft_plaintext; /* benchmark only */
    const char *registries;
    const char *encryption_config; /* --encryption-config FILE */
    struct orcd_node_flags node; /* the embedded agent's */
    struct orcd_log_flags logs; /* the embedded agent's container logs */
    const char *cluster_cidr;
    unsigned node_cidr_mask; /* 0: 24 */
    const char *service_cidr;    /* NULL: 10.43.0.0/16 */
    const char *node_port_range; /* NULL: 30000-32767 */
    unsigned snapshot_threshold;
    unsigned snapshot_trailing;
    unsigned watch_history;
    const char *restore;           /* backup file to start a new cluster from */
    const char *snapshot_schedule; /* NULL: ORCD_SNAPSHOT_SCHEDULE */
    unsigned snapshot_retention;   /* 0: ORCD_SNAPSHOT_RETENTION */
    const char *snapshot_dir;      /* NULL: DATA/snapshots */
    struct orcd_api_limits api_limits;
    struct ctl_manager_config ctl; /* scheduler and controllers */
};

struct orcd_server {
    uv_loop_t *loop;
    struct server_opts o;
    char dir[4096];
    uint64_t id;
    char listen[128];
    char raft_address[128];
    char api_url[256];
    char join_url[256];
    char token[256];
    char agent_token_new[24]; /* made at this start: for the API to store */
    struct orcd_certs certs;
    store *st;
    api_server *api;
    uv_signal_t sigterm, sigint;
    uv_timer_t timer;       /* join retries */
    uv_timer_t ready_timer; /* logs once when ready */
    http_client *join_client;
    struct orcd_embedded *agent;
    struct orcd_ctl *ctl; /* runs the controllers while this member leads */
    struct orcd_restore *restore; /* until the backup is loaded */
    bool restore_started;
    struct orcd_snapshots *snapshots;
    bool joined;
    bool ready_logged;
    bool stopping;
    int pending_close;
    int exit_code;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: orcd server [flags]\n"
            "  --data-dir DIR         state directory (default /var/lib/orc as root,\n"
            "                         else ~/.local/share/orc; or $ORC_DATA_DIR)\n"
            "  --listen ADDR:PORT     API address (default 127.0.0.1:6443)\n"
            "  --peer-listen ADDR:PORT  Raft address (default: API address, port + 1)\n"
            "  --advertise-url URL    API URL other members and clients use\n"
            "                         (default https://<listen>)\n"
            "  --tls-san NAME|IP      also name this in the API's certificate (repeatable)\n"
            "  --join URL --token T   join the cluster of the member at URL, with the token\n"
            "                         from its data dir (it names the cluster's CA)\n"
            "  --token SECRET         secret part of a new cluster's token (default: random)\n"
            "  --agent-token ID.SECRET  a new cluster's agent token ([a-z0-9]{6}.[a-z0-9]{16};\n"
            "                         default: random; DIR/agent-token): registers nodes only\n"
            "  --reset-cluster        after losing quorum: continue as a one-member cluster\n"
            "                         with this member's data; others may join again\n"
            "  --discard-corrupt-log  when this member's Raft log is damaged and no other\n"
            "                         member holds its entries: start without them (the\n"
            "                         damaged files go to DIR/raft-corrupt-<time>/)\n"
            "  --node-name NAME       node name of the embedded agent\n"
            "  --no-agent             do not run the embedded node agent\n"
            "  --encryption-config FILE  store the resources it names (Secrets) encrypted\n"
            "                         (an apiserver.config.k8s.io/v1 EncryptionConfiguration,\n"
            "                         mode 0600; the same file on every member)\n"
            "  --registries FILE      registry mirrors and credentials for the embedded\n"
            "                         agent (k3s registries.yaml)\n"
            "  --service-proxy on|off the embedded agent's Service proxy: nftables rules for\n"
            "                         ClusterIPs, NodePorts, load balancers (default on)\n"
            "  --network-policy on|off the embedded agent's NetworkPolicy enforcement\n"
            "                         (nftables; default on)\n"
            "  --network-backend B    the embedded agent's way to other nodes' pods: auto\n"
            "                         (default: host-gw to nodes on a shared link, VXLAN to\n"
            "                         the rest), host-gw, vxlan, or none\n"
            "  --cluster-dns on|off   the embedded agent's cluster DNS resolver on the pods'\n"
            "                         gateway address, port 53 (default on)\n"
            "  --cluster-domain D     the cluster's DNS domain (default cluster.local)\n"
            "  --ingress on|off       the embedded agent's Ingress proxy (default on)\n"
            "  --ingress-http-port N  its HTTP port (default 80; 0 turns it off)\n"
            "  --ingress-https-port N its HTTPS port (default 443; 0 turns it off)\n"
            "  --resolv-conf FILE     upstream resolvers for other names (default\n"
            "                         /etc/resolv.conf)\n"
            "  --cni-conf-dir DIR     network the embedded agent's pods with the CNI plugins of\n"
            "                         the first *.conflist/*.conf/*.json in DIR (default: orc's\n"
            "                         own bridge)\n"
            "  --cni-bin-dir DIRS     where the CNI plugins are, ':'-separated (default\n"
            "                         /usr/lib/cni)\n"
            ORCD_LOG_USAGE
            "  --cluster-cidr CIDR    pod addresses, a block per node (default 10.42.0.0/16)\n"
            "  --node-cidr-mask-size N  prefix length of each node's block (default 24)\n"
            "  --service-cidr CIDR    Services' cluster IPs (default 10.43.0.0/16)\n"
            "  --service-node-port-range LO-HI  Services' node ports (default 30000-32767)\n"
            "  --snapshot-threshold N fewest Raft entries between Raft's snapshots (default 8192;\n"
            "                         more as the data grows)\n"
            "  --restore FILE         start a new one-member cluster from a backup\n"
            "                         (orctl cluster backup, or a scheduled snapshot) in a\n"
            "                         data dir without Raft state; others may join it\n"
            "  --snapshot-schedule S  when to write snapshot files: cron (5 fields),\n"
            "                         \"@every 1h30m\", or off (default \"" ORCD_SNAPSHOT_SCHEDULE "\")\n"
            "  --snapshot-retention N this member's snapshot files kept (default %d)\n"
            "  --snapshot-dir DIR     where snapshot files go (default DATA/snapshots)\n"
            "  --watch-history N      events kept for watch resumption (default 10000)\n"
            "  --raft-plaintext-benchmark-only\n"
            "                         BENCHMARK ONLY, never in a real cluster: Raft over plain,\n"
            "                         unauthenticated TCP (raft's own transport) instead of\n"
            "                         mutual TLS, to measure what TLS costs; anyone who reaches\n"
            "                         the Raft port can then crash or take over the cluster.\n"
            "                         Every member of the cluster needs it.\n"
            ORCD_API_LIMIT_USAGE ORCD_CTL_USAGE,
            ORCD_SNAPSHOT_RETENTION);
}

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > 100000000) return -1;
    *out = (unsigned)v;
    return 0;
}

/* A token goes into an HTTP header and a kubeconfig: printable, no spaces. */
static bool printable_token(const char *t)
{
    size_t n = strlen(t);

    if (n == 0 || n > 160) return false;
    for (; *t; t++)
        if (*t <= ' ' || *t >= 0x7f) return false;
    return true;
}

/* Kubernetes' node IPAM refuses a block larger than the cluster CIDR. */
static int check_cidrs(const struct server_opts *o)
{
    const char *cidr = o->cluster_cidr ? o->cluster_cidr : "10.42.0.0/16";
    unsigned mask = o->node_cidr_mask ? o->node_cidr_mask : 24;
    struct orc_cidr4 range;

    if (orc_cidr4_parse(cidr, &range) != 0) {
        fprintf(stderr, "orcd server: --cluster-cidr \"%s\" is not an IPv4 CIDR\n", cidr);
        return -1;
    }
    if (mask < range.prefix) {
        fprintf(stderr, "orcd server: --node-cidr-mask-size %u is larger than the cluster CIDR "
                        "%s\n", mask, cidr);
        return -1;
    }
    struct orc_pool pool;
    char spec[80];
    snprintf(spec, sizeof spec, "ip:%s", o->service_cidr ? o->service_cidr : "10.43.0.0/16");
    if (orc_pool_parse(spec, 32, &pool) != 0 || pool.size < 2 || pool.size > (1u << 20)) {
        fprintf(stderr, "orcd server: --service-cidr \"%s\" is not an IPv4 CIDR of 4 to 2^20 "
                        "addresses\n", spec + 3);
        return -1;
    }
    snprintf(spec, sizeof spec, "port:%s", o->node_port_range ? o->node_port_range : "30000-32767");
    if (orc_pool_parse(spec, 32, &pool) != 0) {
        fprintf(stderr, "orcd server: --service-node-port-range \"%s\" is not a range LO-HI of "
                        "ports\n", spec + 5);
        return -1;
    }
    return 0;
}

/* A bad file stops the start before anything is written with it. */
static int check_encryption_config(const char *path)
{
    char err[256] = "";
    api_encryption *e = NULL;

    if (path == NULL) return 0;
    if (api_encryption_load(path, &e, err) != 0) {
        fprintf(stderr, "orcd server: %s\n", err);
        return -1;
    }
    api_encryption_free(e);
    return 0;
}

static int check_opts(const struct server_opts *o)
{
    char fp[ORC_TLS_FP_HEX + 1], msg[256];

    if (check_cidrs(o) != 0) return -1;

    if (o->token && !printable_token(o->token)) {
        fprintf(stderr, "orcd server: --token must be 1 to 160 printable characters without "
                        "spaces\n");
        return -1;
    }
    if (o->agent_token && !orcd_agent_token_valid(o->agent_token)) {
        fprintf(stderr, "orcd server: --agent-token must be [a-z0-9]{6}.[a-z0-9]{16} (a bootstrap "
                        "token)\n");
        return -1;
    }
    if (o->join && (o->token == NULL || orcd_token_fingerprint(o->token, fp) != 0)) {
        fprintf(stderr, "orcd server: --join needs --token with the cluster token from the first "
                        "server's data dir (its token file: " ORCD_TOKEN_PREFIX "<CA hash>.<secret>)\n");
        return -1;
    }
    if (o->join && strncmp(o->join, "https://", 8) != 0) {
        fprintf(stderr, "orcd server: --join wants the member's https:// URL\n");
        return -1;
    }
    if (o->advertise_url && strncmp(o->advertise_url, "https://", 8) != 0) {
        fprintf(stderr, "orcd server: --advertise-url must be an https:// URL\n");
        return -1;
    }
    if (o->restore && (o->join || o->reset_cluster)) {
        fprintf(stderr, "orcd server: --restore starts a new cluster; it does not go with %s\n",
                o->join ? "--join" : "--reset-cluster");
        return -1;
    }
    if (o->snapshot_schedule && orcd_snapshots_check(o->snapshot_schedule, msg, sizeof msg) != 0) {
        fprintf(stderr, "orcd server: invalid --snapshot-schedule: %s\n", msg);
        return -1;
    }
    return check_encryption_config(o->encryption_config);
}

static int parse_opts(int argc, char **argv, struct server_opts *o)
{
    enum { O_DATA = 1000, O_LISTEN, O_PEER, O_ADV, O_JOIN, O_TOKEN, O_NODE, O_NOAGENT, O_RESET,
           O_SNAP, O_TRAIL, O_WATCH, O_HELP, O_SAN, O_REG, O_CIDR, O_RESTORE, O_SCHED, O_RETAIN,
           O_SNAPDIR, O_DISCARD, O_RAFT_PLAIN, O_MASK, O_LIMIT, O_CTL, O_NODE_FLAG,
           O_SVC_CIDR, O_NODE_PORTS, O_ENC, O_AGENT_TOKEN };
    static const struct option longopts[] = {
        {"data-dir", required_argument, 0, O_DATA}, {"listen", required_argument, 0, O_LISTEN},
        {"peer-listen", required_argument, 0, O_PEER},
        {"advertise-url", required_argument, 0, O_ADV}, {"join", required_argument, 0, O_JOIN},
        {"token", required_argument, 0, O_TOKEN}, {"node-name", required_argument, 0, O_NODE},
        {"agent-token", required_argument, 0, O_AGENT_TOKEN},
        {"no-agent", no_argument, 0, O_NOAGENT}, {"reset-cluster", no_argument, 0, O_RESET},
        {"snapshot-threshold", required_argument, 0, O_SNAP},
        {"snapshot-trailing", required_argument, 0, O_TRAIL},
        {"watch-history", required_argument, 0, O_WATCH}, {"help", no_argument, 0, O_HELP},
        {"tls-san", required_argument, 0, O_SAN}, {"registries", required_argument, 0, O_REG},
        {"encryption-config", required_argument, 0, O_ENC},
        {"cluster-cidr", required_argument, 0, O_CIDR}, {"restore", required_argument, 0, O_RESTORE},
        {"node-cidr-mask-size", required_argument, 0, O_MASK},
        {"service-cidr", required_argument, 0, O_SVC_CIDR},
        {"service-node-port-range", required_argument, 0, O_NODE_PORTS},
        {"snapshot-schedule", required_argument, 0, O_SCHED},
        {"snapshot-retention", required_argument, 0, O_RETAIN},
        {"snapshot-dir", required_argument, 0, O_SNAPDIR},
        {"discard-corrupt-log", no_argument, 0, O_DISCARD},
        {"raft-plaintext-benchmark-only", no_argument, 0, O_RAFT_PLAIN},
        ORCD_API_LIMIT_OPTIONS(O_LIMIT), ORCD_CTL_OPTIONS(O_CTL), ORCD_NODE_OPTIONS(O_NODE_FLAG),
        {0, 0, 0, 0}};
    int c, li = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, &li)) != -1) {
        switch (c) {
        case O_DATA: o->data_dir = optarg; break;
        case O_LISTEN: o->listen = optarg; break;
        case O_PEER: o->peer_listen = optarg; break;
        case O_ADV: o->advertise_url = optarg; break;
        case O_JOIN: o->join = optarg; break;
        case O_TOKEN: o->token = optarg; break;
        case O_AGENT_TOKEN: o->agent_token = optarg; break;
        case O_NODE: o->node_name = optarg; break;
        case O_NOAGENT: o->no_agent = true; break;
        case O_REG: o->registries = optarg; break;
        case O_ENC: o->encryption_config = optarg; break;
        case O_CIDR: o->cluster_cidr = optarg; break;
        case O_SVC_CIDR: o->service_cidr = optarg; break;
        case O_NODE_PORTS: o->node_port_range = optarg; break;
        case O_MASK:
            if (parse_uint(optarg, &o->node_cidr_mask) != 0 || o->node_cidr_mask == 0
                || o->node_cidr_mask > 32) {
                fprintf(stderr, "orcd server: --node-cidr-mask-size wants a prefix length from 1 "
                                "to 32\n");
                return -1;
            }
            break;
        case O_RESTORE: o->restore = optarg; break;
        case O_SCHED: o->snapshot_schedule = optarg; break;
        case O_SNAPDIR: o->snapshot_dir = optarg; break;
        case O_RETAIN:
            if (parse_uint(optarg, &o->snapshot_retention) != 0 || o->snapshot_retention == 0) {
                fprintf(stderr, "orcd server: --snapshot-retention wants a number from 1 (to turn "
                                "snapshots off: --snapshot-schedule off)\n");
                return -1;
            }
            break;
        case O_LIMIT:
            if (orcd_api_limit_flag(longopts[li].name, optarg, &o->api_limits) != 0) return -1;
            break;
        case O_CTL:
            if (orcd_ctl_flag(longopts[li].name, optarg, &o->ctl) != 0) return -1;
            break;
        case O_NODE_FLAG:
            if (orcd_node_flag("orcd server", longopts[li].name, optarg, &o->node) != 0) return -1;
            break;
        case O_SAN:
            if (o->n_tls_sans == MAX_TLS_SANS) {
                fprintf(stderr, "orcd server: at most %d --tls-san\n", MAX_TLS_SANS);
                return -1;
            }
            o->tls_sans[o->n_tls_sans++] = optarg;
            break;
        case O_RESET: o->reset_cluster = true; break;
        case O_DISCARD: o->discard_corrupt_log = true; break;
        case O_RAFT_PLAIN: o->raft_plaintext = true; break;
        case O_SNAP:
        case O_TRAIL:
        case O_WATCH: {
            unsigned *dst = c == O_SNAP ? &o->snapshot_threshold
                            : c == O_TRAIL ? &o->snapshot_trailing : &o->watch_history;
            if (parse_uint(optarg, dst) != 0) {
                fprintf(stderr, "orcd server: invalid number \"%s\" for --%s\n", optarg,
                        longopts[c - O_DATA].name);
                return -1;
            }
            break;
        }
        case 'h':
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "orcd server: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    return check_opts(o);
}

static void default_data_dir(char *out, size_t n)
{
    const char *env = getenv("ORC_DATA_DIR");
    const char *home = getenv("HOME");

    if (env && *env) snprintf(out, n, "%s", env);
    else if (geteuid() == 0 || home == NULL) snprintf(out, n, "/var/lib/orc");
    else snprintf(out, n, "%s/.local/share/orc", home);
}

/* ---- identity (member.json) and token ---- */

static int path_in(const struct orcd_server *s, const char *name, char *out, size_t n)
{
    return snprintf(out, n, "%s/%s", s->dir, name) < (int)n ? 0 : ORC_EINVAL;
}

static int save_identity(struct orcd_server *s);

static int load_identity(struct orcd_server *s)
{
    char path[4200];
    struct orc_buf b = ORC_BUF_INIT;
    json_t *m;
    int rv;

    path_in(s, "member.json", path, sizeof path);
    rv = orc_file_read(path, 65536, &b);
    if (rv != 0) {
        orc_buf_free(&b);
        return rv;
    }
    m = orc_json_loadb(b.data, b.len, 0, NULL);
    orc_buf_free(&b);
    const char *id = m ? orc_json_str(m, "id") : NULL;
    const char *raft = m ? orc_json_str(m, "raftAddress") : NULL;
    const char *listen = m ? orc_json_str(m, "listen") : NULL;
    const char *url = m ? orc_json_str(m, "apiURL") : NULL;
    if (id == NULL || raft == NULL || listen == NULL || url == NULL || strtoull(id, NULL, 10) == 0) {
        json_decref(m);
        log_error("orcd", "%s is unreadable or incomplete; it names this member (id, "
                          "raftAddress, listen, apiURL)", path);
        return ORC_ECORRUPT;
    }
    s->id = strtoull(id, NULL, 10);
    snprintf(s->raft_address, sizeof s->raft_address, "%s", raft);
    snprintf(s->listen, sizeof s->listen, "%s", listen);
    /* A data dir from before the API spoke TLS. */
    bool upgrade = strncmp(url, "http://", 7) == 0;
    if (upgrade) snprintf(s->api_url, sizeof s->api_url, "https://%s", url + 7);
    else snprintf(s->api_url, sizeof s->api_url, "%s", url);
    if (orc_json_str(m, "join")) snprintf(s->join_url, sizeof s->join_url, "%s", orc_json_str(m, "join"));
    json_decref(m);
    return upgrade ? save_identity(s) : 0;
}

static int save_identity(struct orcd_server *s)
{
    char path[4200], id[24];
    json_t *m;
    char *text;
    int rv;

    snprintf(id, sizeof id, "%" PRIu64, s->id);
    m = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "raftAddress", s->raft_address, "listen",
                  s->listen, "apiURL", s->api_url);
    if (m && s->join_url[0]) json_object_set_new(m, "join", json_string(s->join_url));
    text = m ? json_dumps(m, JSON_INDENT(2)) : NULL;
    json_decref(m);
    if (text == NULL) return ORC_ENOMEM;
    path_in(s, "member.json", path, sizeof path);
    rv = orc_file_write(path, text, strlen(text), 0600);
    free(text);
    return rv;
}

/* Addresses of a new member: API on --listen, Raft on --peer-listen or the
 * API port + 1 at the same host. */
static int new_identity(struct orcd_server *s)
{
    char host[100];
    int port;

    snprintf(s->listen, sizeof s->listen, "%s", s->o.listen ? s->o.listen : "127.0.0.1:6443");
    if (orc_netaddr_split(s->listen, host, sizeof host, &port) != 0 || port == 0) {
        log_error("orcd", "invalid --listen \"%s\": want HOST:PORT", s->listen);
        return ORC_EINVAL;
    }
    if (s->o.peer_listen) snprintf(s->raft_address, sizeof s->raft_address, "%s", s->o.peer_listen);
    else snprintf(s->raft_address, sizeof s->raft_address, "%s:%d", host, port + 1);
    if (s->o.advertise_url) {
        snprintf(s->api_url, sizeof s->api_url, "%s", s->o.advertise_url);
    } else if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
        log_error("orcd", "--listen %s accepts any address; also give --advertise-url "
                          "https://THIS-HOST:%d so peers and clients can reach it", s->listen, port);
        return ORC_EINVAL;
    } else {
        snprintf(s->api_url, sizeof s->api_url, "https://%s", s->listen);
    }
    s->id = orc_rand_u64() & ((1ull << 53) - 1); /* exact in JSON numbers too */
    if (s->id == 0) s->id = 1;
    if (s->o.join) snprintf(s->join_url, sizeof s->join_url, "%s", s->o.join);
    return save_identity(s);
}

static int load_token(struct orcd_server *s, bool joining)
{
    return orcd_token_load(s->dir, s->certs.fingerprint, s->o.token, joining, s->token, sizeof s->token);
}

/* A user's config left from another cluster (or an older data dir) would
 * fail TLS or authentication with no hint why: say so, and where this
 * cluster's config is. The user's file is never overwritten. */
static void check_user_config(struct orcd_server *s, const char *user, const char *admin)
{
    struct orc_client_config c = {0};
    char msg[256];

    if (orc_config_load(user, &c, msg, sizeof msg) != 0) {
        log_warn("orcd", "client config %s cannot be used (%s); this cluster's is %s", user, msg,
                 admin);
        return;
    }
    const char *why = strcmp(c.server ? c.server : "", s->api_url) != 0 ? "another server"
                      : !c.ca_pem || strcmp(c.ca_pem, s->certs.ca) != 0 ? "another cluster CA"
                      : !c.token || strcmp(c.token, s->token) != 0   ? "another token"
                                                                      : NULL;
    if (why)
        log_warn("orcd", "client config %s is not this cluster's (it names %s: %s); it is left "
                         "as it is. This cluster's client config is %s: use KUBECONFIG=%s (orctl "
                         "and kubectl), or copy it to %s",
                 user, why, c.server ? c.server : "no server", admin, admin, user);
    orc_config_clear(&c);
}

static void write_client_configs(struct orcd_server *s)
{
    char path[4200];
    const char *user = orc_config_default_path();
    struct stat st;

    path_in(s, "admin.conf", path, sizeof path);
    if (orc_config_write(path, s->api_url, s->certs.ca, s->token) != 0)
        log_warn("orcd", "cannot write %s", path);
    else
        log_info("orcd", "wrote client config %s", path);
    if (user && stat(user, &st) != 0) {
        if (orc_config_write(user, s->api_url, s->certs.ca, s->token) == 0)
            log_info("orcd", "wrote client config %s", user);
    } else if (user) {
        check_user_config(s, user, path);
    }
}

/* ---- serving ---- */

static void add_name(const char **names, size_t *n, const char *name)
{
    if (name == NULL || *name == '\0' || strcmp(name, "0.0.0.0") == 0 || strcmp(name, "::") == 0) return;
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp(names[i], name) == 0) return;
    if (*n < MAX_NAMES) names[(*n)++] = name;
}

/* The host of "https://HOST:PORT" (brackets of an IPv6 literal dropped). */
static void url_host(const char *url, char *out, size_t n)
{
    const char *h = strstr(url, "://");
    size_t len;

    h = h ? h + 3 : url;
    if (*h == '[') {
        len = strcspn(++h, "]");
    } else {
        len = strcspn(h, ":/");
    }
    snprintf(out, n, "%.*s", (int)len, h);
}

/* A host name that can go into a certificate as a DNS name. */
static bool dns_name(const char *s)
{
    if (*s == '\0' || *s == '-' || *s == '.') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* The data dir holds the cluster's keys and Secrets: 0700, and its files
 * 0600 whatever they were made with (a dir made 0755 beforehand, files
 * from an older orc). At start, and again once the certificates are
 * written, before the API answers anything. */
static void make_private(struct orcd_server *s)
{
    if (orc_file_private_dir(s->dir) != 0)
        log_warn("orcd", "cannot make %s private (0700, files 0600): %s", s->dir, strerror(errno));
}

/* Issues or reuses this member's certificate, then serves the API. */
/* The scheduler and controllers talk to this member's API like any client;
 * they run only while it leads. */
static int start_controllers(struct orcd_server *s)
{
    struct ctl_manager_config c = s->o.ctl;
    char host[256];
    int rv;

    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "orcd");
    c.server_url = s->api_url;
    c.token = s->token;
    c.ca_pem = s->certs.ca;
    c.ca_key_pem = s->certs.ca_key;
    c.opts.node_cert_ttl_s = s->o.api_limits.node_cert_ttl_s;
    c.opts.host = s->o.node_name ? s->o.node_name : host;
    if ((rv = orcd_ctl_start(s->st, &c, &s->ctl)) != 0)
        log_error("orcd", "cannot run the controllers: %s", orc_strerror(rv));
    return rv;
}

static int serve(struct orcd_server *s)
{
    static char listen_host[128], adv_host[256], hostname[256];
    static struct orcd_incluster_names incluster;
    const char *names[MAX_NAMES];
    struct api_config acfg = {0};
    char err[256] = "";
    size_t n = 0;
    int port, rv;

    if (orc_netaddr_split(s->listen, listen_host, sizeof listen_host, &port) != 0) listen_host[0] = '\0';
    url_host(s->api_url, adv_host, sizeof adv_host);
    if (gethostname(hostname, sizeof hostname) != 0 || !dns_name(hostname)) hostname[0] = '\0';
    add_name(names, &n, listen_host);
    add_name(names, &n, adv_host);
    add_name(names, &n, "127.0.0.1");
    add_name(names, &n, "localhost");
    add_name(names, &n, hostname);
    /* the kubernetes Service's address and names, as kube-apiserver's
     * certificate has them, so in-cluster clients verify this one */
    if (orcd_certs_incluster_names(s->o.service_cidr, s->o.node.cluster_domain, &incluster) == 0)
        for (size_t i = 0; i < ORCD_INCLUSTER_NAMES; i++) add_name(names, &n, incluster.names[i]);
    for (size_t i = 0; i < s->o.n_tls_sans; i++) add_name(names, &n, s->o.tls_sans[i]);
    if ((rv = orcd_certs_serving(s->dir, names, n, &s->certs)) != 0) return rv;
    acfg.listen = s->listen;
    acfg.advertise_url = s->api_url;
    acfg.token = s->token;
    acfg.agent_token = s->agent_token_new[0] ? s->agent_token_new : NULL;
    acfg.tls_cert_pem = s->certs.chain;
    acfg.tls_key_pem = s->certs.key;
    acfg.ca_pem = s->certs.ca;
    acfg.ca_key_pem = s->certs.ca_key;
    acfg.cluster_cidr = s->o.cluster_cidr;
    acfg.node_cidr_mask = s->o.node_cidr_mask;
    acfg.service_cidr = s->o.service_cidr;
    acfg.node_port_range = s->o.node_port_range;
    acfg.encryption_config = s->o.encryption_config;
    orcd_api_limits_apply(&s->o.api_limits, &acfg);
    /* One flag for both ends: the default tolerations new pods get, and
     * the controllers' evictions. */
    acfg.pod_eviction_timeout_ms = s->o.ctl.opts.pod_eviction_timeout_ms;
    rv = api_server_start(s->loop, s->st, &acfg, &s->api, err);
    if (rv != 0) {
        log_error("orcd", "cannot serve the API: %s", err);
        return rv;
    }
    write_client_configs(s);
    make_private(s);
    return start_controllers(s);
}

/* ---- joining ---- */

/* A joining member first asks any member for the cluster CA (GET
 * /internal/v1/ca) and issues its own Raft certificate with it: the leader
 * can only replicate to a member whose Raft port speaks mutual TLS. Then it
 * starts its store and API and asks to be added (POST /internal/v1/members),
 * which answers once it has caught up. Both calls go to the member given by
 * --join, over TLS pinned to the CA the token names; the token leaves only
 * then. */

static void join_step(struct orcd_server *s);
static int continue_start(struct orcd_server *s);
static void shutdown_server(struct orcd_server *s);

static void on_join_timer(uv_timer_t *t) { join_step(t->data); }

static void join_client_closed(void *arg) { (void)arg; }

static void join_done(struct orcd_server *s)
{
    http_client_close(s->join_client, join_client_closed, NULL);
    s->join_client = NULL;
}

/* Logs why a step failed and tries again later. */
static void join_retry(struct orcd_server *s, int err, const struct http_response *resp)
{
    if (err == 0 && resp->status == 401) {
        log_error("orcd", "%s rejected the token given with --token", s->join_url);
    } else if (err == ORC_ETLS) {
        log_error("orcd", "joining through %s: %s; retrying", s->join_url,
                  http_client_tls_error(s->join_client));
    } else if (err == 0) {
        log_warn("orcd", "joining through %s: HTTP %d: %.*s; retrying", s->join_url, resp->status,
                 (int)(resp->body_len > 300 ? 300 : resp->body_len), resp->body ? resp->body : "");
    } else {
        log_warn("orcd", "joining through %s: %s; retrying", s->join_url, orc_strerror(err));
    }
    if (!s->stopping) uv_timer_start(&s->timer, on_join_timer, JOIN_RETRY_MS, 0);
}

static void join_fatal(struct orcd_server *s)
{
    s->exit_code = 1;
    shutdown_server(s);
}

/* The pinned client to the member given with --join, made once. */
static http_client *join_client(struct orcd_server *s)
{
    char fp[ORC_TLS_FP_HEX + 1];
    struct http_tls tls = {.ca_fingerprint = fp};

    if (s->join_client) return s->join_client;
    if (orcd_token_fingerprint(s->token, fp) != 0) {
        log_error("orcd", "the cluster token in %s/token does not name a CA (want "
                          ORCD_TOKEN_PREFIX "<CA hash>.<secret>)", s->dir);
        return NULL;
    }
    if (http_client_new_tls(s->loop, s->join_url, s->token, &tls, &s->join_client) != 0) {
        log_error("orcd", "invalid --join URL \"%s\": want https://HOST:PORT", s->join_url);
        return NULL;
    }
    return s->join_client;
}

static void ask(struct orcd_server *s, const char *method, const char *path, const char *body,
                http_response_cb cb)
{
    http_client *c = join_client(s);
    struct http_request req = {0};

    if (c == NULL) {
        join_fatal(s);
        return;
    }
    req.method = method;
    req.path = path;
    req.content_type = body ? "application/json" : NULL;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = 120000; /* a join waits for this member to catch up */
    if (http_request(c, &req, cb, s, NULL) != 0) uv_timer_start(&s->timer, on_join_timer, JOIN_RETRY_MS, 0);
}

/* The CA answer: {"cert": PEM, "key": PEM}, checked against the token. */
static int take_ca(struct orcd_server *s, const struct http_response *resp)
{
    json_t *body = orc_json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *cert = orc_json_str(body, "cert"), *key = orc_json_str(body, "key");
    char fp[ORC_TLS_FP_HEX + 1];
    int rv;

    if (cert == NULL || key == NULL) {
        log_error("orcd", "%s did not send the cluster CA (is it an orc without mutual TLS for "
                          "Raft? every member must run the same version)", s->join_url);
        rv = ORC_EPROTO;
    } else {
        orcd_token_fingerprint(s->token, fp);
        rv = orcd_certs_save_ca(s->dir, cert, key, fp, &s->certs);
    }
    if (key) explicit_bzero((char *)key, strlen(key));
    json_decref(body);
    return rv;
}

static void on_ca(void *arg, int err, const struct http_response *resp)
{
    struct orcd_server *s = arg;

    if (s->stopping) return;
    if (err != 0 || resp->status != 200) {
        join_retry(s, err, resp);
        return;
    }
    log_info("orcd", "received the cluster CA from %s", s->join_url);
    if (take_ca(s, resp) != 0 || continue_start(s) != 0) {
        join_done(s);
        join_fatal(s);
    }
}

static void on_joined(void *arg, int err, const struct http_response *resp)
{
    struct orcd_server *s = arg;

    if (s->stopping) return;
    if (err != 0 || resp->status != 200) {
        join_retry(s, err, resp);
        return;
    }
    log_info("orcd", "joined the cluster through %s", s->join_url);
    join_done(s);
    s->joined = true;
    s->join_url[0] = '\0';
    save_identity(s);
    if (s->api == NULL && serve(s) != 0) join_fatal(s);
}

static void join_try(struct orcd_server *s)
{
    char body[600];

    if (s->stopping || s->joined) return;
    snprintf(body, sizeof body, "{\"id\":\"%" PRIu64 "\",\"raftAddress\":\"%s\",\"apiURL\":\"%s\"}",
             s->id, s->raft_address, s->api_url);
    ask(s, "POST", "/internal/v1/members", body, on_joined);
}

static void join_step(struct orcd_server *s)
{
    if (s->stopping || s->joined) return;
    if (s->certs.ca == NULL) ask(s, "GET", "/internal/v1/ca", NULL, on_ca);
    else join_try(s);
}

/* ---- the embedded agent ---- */

/* Started once this member serves (a joining member has its CA by then). */
static void start_agent(struct orcd_server *s)
{
    char host[256], ip[128], node[256], dir[4200], port_token[ORC_TLS_FP_HEX + 1];
    int port;
    struct orcd_embedded_config c = {0};

    if (orc_netaddr_split(s->listen, ip, sizeof ip, &port) != 0 || strcmp(ip, "0.0.0.0") == 0)
        url_host(s->api_url, ip, sizeof ip);
    if (s->o.node_name) snprintf(node, sizeof node, "%s", s->o.node_name);
    else if (gethostname(host, sizeof host) == 0) snprintf(node, sizeof node, "%s", host);
    else snprintf(node, sizeof node, "node");
    snprintf(dir, sizeof dir, "%s/agent", s->dir);
    if (orc_mkdirs(dir, 0700) != 0) {
        log_warn("orcd", "cannot create %s: running without the embedded agent", dir);
        return;
    }
    c.server_url = s->api_url;
    if (orc_tls_derive_token(s->token, API_AGENT_PORT_LABEL, port_token) != 0) return;
    c.token = port_token; /* its port's; the agent itself is system:node:NAME */
    c.ca_pem = s->certs.ca;
    c.ca_key_pem = s->certs.ca_key;
    c.node_name = node;
    c.data_dir = dir;
    c.node_ip = ip;
    c.registries = s->o.registries;
    c.node = s->o.node;
    if (orcd_embedded_start(&c, &s->agent) != 0) s->agent = NULL;
    explicit_bzero(port_token, sizeof port_token);
}

/* ---- scheduled snapshots ---- */

static void start_snapshots(struct orcd_server *s)
{
    struct orcd_snapshots_config c = {0};
    char dir[4200];

    if (s->o.snapshot_dir) snprintf(dir, sizeof dir, "%s", s->o.snapshot_dir);
    else snprintf(dir, sizeof dir, "%s/snapshots", s->dir);
    c.schedule = s->o.snapshot_schedule ? s->o.snapshot_schedule : ORCD_SNAPSHOT_SCHEDULE;
    c.retention = s->o.snapshot_retention ? s->o.snapshot_retention : ORCD_SNAPSHOT_RETENTION;
    c.dir = dir;
    c.member_id = s->id;
    if (orcd_snapshots_start(s->loop, s->st, &c, &s->snapshots) != 0)
        log_warn("orcd", "running without scheduled snapshots");
}

/* ---- readiness log ---- */

static void on_ready_poll(uv_timer_t *t)
{
    struct orcd_server *s = t->data;

    if (s->ready_logged || s->api == NULL || !api_server_ready(s->api)) return;
    s->ready_logged = true;
    uv_timer_stop(t);
    log_info("orcd", "ready: API %s, member %" PRIu64 ", data in %s (server token: %s/token, agent "
                     "token: %s/agent-token)", s->api_url, s->id, s->dir, s->dir, s->dir);
    start_snapshots(s);
    if (!s->o.no_agent) start_agent(s);
}

/* ---- shutdown ---- */

static void handle_closed(uv_handle_t *h) { (void)h; }

static void close_step(void *arg)
{
    struct orcd_server *s = arg;

    if (--s->pending_close > 0) return;
    uv_close((uv_handle_t *)&s->timer, handle_closed);
    uv_close((uv_handle_t *)&s->ready_timer, handle_closed);
    uv_close((uv_handle_t *)&s->sigterm, handle_closed);
    uv_close((uv_handle_t *)&s->sigint, handle_closed);
}

static void shutdown_server(struct orcd_server *s)
{
    if (s->stopping) return;
    s->stopping = true;
    log_info("orcd", "shutting down");
    orcd_ctl_stop(s->ctl);
    s->ctl = NULL;
    orcd_embedded_stop(s->agent); /* its containers keep running */
    s->agent = NULL;
    uv_timer_stop(&s->timer);
    uv_timer_stop(&s->ready_timer);
    s->pending_close = 3;
    orcd_snapshots_stop(s->snapshots, close_step, s); /* waits for a file being written */
    s->snapshots = NULL;
    if (s->join_client) {
        s->pending_close++;
        http_client_close(s->join_client, close_step, s);
        s->join_client = NULL;
    }
    if (s->api) api_server_stop(s->api, close_step, s);
    else s->pending_close--;
    if (s->st) store_close(s->st, close_step, s); /* none yet while a joiner asks for the CA */
    else close_step(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    shutdown_server(h->data);
}

/* ---- main ---- */

static int open_store(struct orcd_server *s, bool *fresh)
{
    struct store_config cfg = {0};
    char err[256] = "";
    int rv;

    cfg.data_dir = s->dir;
    cfg.id = s->id;
    cfg.raft_address = s->raft_address;
    cfg.snapshot_threshold = s->o.snapshot_threshold;
    cfg.snapshot_trailing = s->o.snapshot_trailing;
    cfg.watch_history = s->o.watch_history;
    cfg.discard_corrupt_log = s->o.discard_corrupt_log;
    cfg.raft_tls = &(struct store_raft_tls){s->certs.ca, s->certs.raft_cert, s->certs.raft_key};
    cfg.raft_plaintext = s->o.raft_plaintext;
    rv = store_open(s->loop, &cfg, &s->st, err);
    if (rv != 0) {
        log_error("orcd", "cannot open the store in %s: %s", s->dir, err[0] ? err : orc_strerror(rv));
        return rv;
    }
    *fresh = store_is_fresh(s->st);
    if (*fresh && s->join_url[0] == '\0') {
        rv = store_bootstrap(s->st, err);
        if (rv == 0) log_info("orcd", "bootstrapped a new cluster; member id %" PRIu64, s->id);
    } else if (s->o.reset_cluster) {
        rv = store_reset_cluster(s->st, err);
        if (rv == 0) log_warn("orcd", "reset: this member is now a one-member cluster");
    }
    if (rv == 0) rv = store_start(s->st, err);
    if (rv != 0) log_error("orcd", "cannot start the store in %s: %s", s->dir, err[0] ? err : orc_strerror(rv));
    return rv;
}

/* ---- restoring a backup (--restore) ---- */

static void restore_load(void *arg, bool leader);

static void on_restored(void *arg, int status, const struct store_load_result *res)
{
    struct orcd_server *s = arg;

    store_role_unwatch(s->st, restore_load, s);
    if (status != 0) {
        log_error("orcd", "restoring from %s failed: %s. %s holds a partial state: remove it and "
                          "run --restore again", s->restore->file, orc_strerror(status), s->dir);
    } else if (orcd_restore_unmark(s->dir) == 0) {
        log_info("orcd", "restored %zu keys from %s (the old members' records left out); "
                         "revision %" PRId64 ". This is a new one-member cluster: other members "
                         "join it with --join %s --token (the token in %s/token); clients use "
                         "%s/admin.conf",
                 res->objects, s->restore->file, res->revision, s->api_url, s->dir, s->dir);
        orcd_restore_free(s->restore);
        s->restore = NULL;
        if (serve(s) == 0) return;
    }
    s->exit_code = 1;
    shutdown_server(s);
}

/* The backup goes in through the log once this member leads its new
 * one-member cluster; the API serves only when it is all there. */
static void restore_load(void *arg, bool leader)
{
    struct orcd_server *s = arg;
    int rv;

    if (!leader || s->restore_started || s->stopping) return;
    s->restore_started = true;
    rv = store_backup_load(s->st, s->restore->payload, s->restore->info.payload_size,
                           API_MEMBER_PREFIX, on_restored, s);
    if (rv != 0) {
        log_error("orcd", "cannot load %s: %s", s->restore->file, orc_strerror(rv));
        s->exit_code = 1;
        shutdown_server(s);
    }
}

/* The CA: loaded, or made for a new cluster; a joining member gets it
 * from the join (*have is false then). */
static int load_ca(struct orcd_server *s, bool *have)
{
    int rv = orcd_certs_load_ca(s->dir, &s->certs);

    *have = rv == 0;
    if (rv != ORC_ENOENT || s->join_url[0]) return rv == ORC_ENOENT ? 0 : rv;
    rv = orcd_certs_new_ca(s->dir, &s->certs);
    if (rv == 0) log_info("orcd", "made the cluster CA %s/ca.crt", s->dir);
    *have = rv == 0;
    return rv;
}

/* With the CA at hand: this member's Raft certificate, the store, then the
 * API (a new member asks to join first). */
static int continue_start(struct orcd_server *s)
{
    bool fresh = false;
    int rv;

    if ((rv = orcd_certs_raft(s->dir, s->id, &s->certs)) != 0) return rv;
    if ((rv = open_store(s, &fresh)) != 0) return rv;
    if (s->restore) { /* serves once the backup is loaded */
        store_role_watch(s->st, restore_load, s);
        restore_load(s, store_is_leader(s->st));
        return 0;
    }
    /* A new member serves once it is a member, so that ready means joined. */
    if (fresh && s->join_url[0]) {
        join_try(s);
        return 0;
    }
    s->join_url[0] = '\0';
    return serve(s);
}

static int start_server(struct orcd_server *s)
{
    bool have_ca = false, new_cluster;
    char path[4200];
    int rv;

    if (s->restore == NULL && (rv = orcd_restore_check_unmarked(s->dir)) != 0) return rv;
    if (orc_mkdirs(s->dir, 0700) != 0) {
        log_error("orcd", "cannot create the data dir %s", s->dir);
        return ORC_EIO;
    }
    make_private(s);
    rv = load_identity(s);
    if (rv == ORC_ENOENT) rv = new_identity(s);
    else if (rv == 0 && s->o.listen) snprintf(s->listen, sizeof s->listen, "%s", s->o.listen);
    if (rv == 0 && s->restore && s->join_url[0]) { /* a restore starts a cluster of its own */
        s->join_url[0] = '\0';
        rv = save_identity(s);
    }
    if (rv != 0) return rv;
    /* A restore keeps a CA and token already in the data dir (copied from
     * the old one, so clients' configs go on working), else makes new ones. */
    if ((rv = load_ca(s, &have_ca)) != 0) return rv;
    path_in(s, "token", path, sizeof path);
    new_cluster = s->join_url[0] == '\0' && s->restore == NULL && access(path, F_OK) != 0;
    if ((rv = load_token(s, s->join_url[0] != '\0')) != 0) return rv;
    /* The agent token is made with the cluster (with its token); joining
     * members take it from the store, a restore brings back the old one. */
    if (new_cluster
        && (rv = orcd_agent_token_load(s->dir, s->certs.fingerprint, s->o.agent_token, s->agent_token_new)) != 0)
        return rv;
    if (s->restore && (rv = orcd_restore_mark(s->restore, s->dir)) != 0) return rv;
    /* A joining member without the CA asks for it first (even if it had
     * started joining before a restart: asking again is harmless). */
    if (!have_ca) {
        join_step(s);
        return 0;
    }
    return continue_start(s);
}

int orcd_server_main(int argc, char **argv)
{
    struct orcd_server s;
    uv_loop_t loop;
    int rv;

    memset(&s, 0, sizeof s);
    if (parse_opts(argc, argv, &s.o) != 0) return 2;
    if (s.o.data_dir) snprintf(s.dir, sizeof s.dir, "%s", s.o.data_dir);
    else default_data_dir(s.dir, sizeof s.dir);
    /* Before anything is created: a bad backup or a used data dir changes nothing. */
    if (s.o.restore && orcd_restore_prepare(s.o.restore, s.dir, &s.restore) != 0) return 1;
    if (uv_loop_init(&loop) != 0) {
        orcd_restore_free(s.restore);
        return 1;
    }
    s.loop = &loop;
    uv_timer_init(&loop, &s.timer);
    uv_timer_init(&loop, &s.ready_timer);
    s.timer.data = s.ready_timer.data = &s;
    uv_signal_init(&loop, &s.sigterm);
    uv_signal_init(&loop, &s.sigint);
    s.sigterm.data = s.sigint.data = &s;
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    rv = start_server(&s);
    if (rv != 0) {
        s.exit_code = 1;
        if (s.st) {
            shutdown_server(&s);
        } else {
            s.pending_close = 1;
            close_step(&s);
        }
    } else {
        uv_timer_start(&s.ready_timer, on_ready_poll, 10, 10);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) log_warn("orcd", "handles left open at exit");
    orcd_certs_clear(&s.certs);
    orcd_restore_free(s.restore);
    explicit_bzero(s.token, sizeof s.token);
    explicit_bzero(s.agent_token_new, sizeof s.agent_token_new);
    return s.exit_code;
}
