/* test_net_routes.c — host-gw routes (net_peers_set) in a network
 * namespace of the case's own (unshare: nothing outside it changes): a
 * route to each peer's pod CIDR via its address on a shared link, none for
 * a peer off-link, an overlapping one, or one in our own namespace; the
 * masquerade chain exempts every peer's pod CIDR; routes of peers gone are
 * removed and a route deleted by hand comes back. And which Node objects
 * are peers (agent_node_peer); an agent restart keeps the exemptions; the
 * flag takes host-gw or none. Root only. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/run.h"
#include "tests/harness/cluster.h"
#include "tests/harness/test.h"

static char *sh(const char *cmd)
{
    struct orc_buf out = ORC_BUF_INIT;
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    struct orc_run_io io = {NULL, 0, &out, &out};
    int st = orc_run(argv, &io);

    CHECKF(st == 0, "`%s` exited %d: %s", cmd, st, out.data ? out.data : "");
    return out.data ? orc_buf_steal(&out, NULL) : strdup("");
}

static void sh_ok(const char *cmd) { free(sh(cmd)); }

static net *N;
static char NODE[64], STATE[600];

static void close_net(void *arg)
{
    (void)arg;
    net_close(N);
    N = NULL;
    net_destroy_node(NODE, STATE);
}

/* A namespace of our own with eth0 (a veth to eth1) on 10.99.0.11/24, and the node's
 * network (pod CIDR 10.42.0.0/24) opened in it. */
static void setup(void)
{
    struct net_config cfg = {.pod_cidr = "10.42.0.0/24", .masquerade = true};
    char err[256] = "";

    CHECKF(unshare(CLONE_NEWNET) == 0, "unshare: needs root");
    sh_ok("ip link set lo up && ip link add eth0 type veth peer name eth1 && ip link set eth1 up "
          "&& ip addr add 10.99.0.11/24 dev eth0 && ip link set eth0 up");
    snprintf(NODE, sizeof NODE, "routes-%d", (int)getpid());
    snprintf(STATE, sizeof STATE, "%s/net", test_tmpdir());
    cfg.node_name = NODE;
    cfg.state_dir = STATE;
    CHECKF(net_open(&cfg, &N, err) == 0, "net_open: %s", err);
    test_defer(close_net, NULL);
}

static void set_peers(const struct net_peer *p, size_t n)
{
    char err[256] = "";
    CHECKF(net_peers_set(N, p, n, err) == 0, "net_peers_set: %s", err);
}

static char *masq_rules(void)
{
    struct net_names nm;
    char cmd[128];

    net_names_init(&nm, NODE);
    snprintf(cmd, sizeof cmd, "iptables -w -t nat -S %s", nm.masq);
    return sh(cmd);
}

TEST(peers_become_routes_and_nat_exemptions)
{
    const struct net_peer peers[] = {
        {"two", "10.42.1.0/24", "10.99.0.12"},   /* shares eth0's link: a route */
        {"far", "10.42.2.0/24", "192.168.77.5"}, /* no shared link: none */
        {"dup", "10.42.0.0/25", "10.99.0.13"},   /* overlaps our pods: ignored */
        {"here", "10.42.3.0/24", "10.99.0.11"},  /* our own address: no route */
        {"bad", "nonsense", "10.99.0.14"},
    };
    char *r, *m;

    setup();
    set_peers(peers, 5);
    r = sh("ip route show proto 79");
    CHECKF(strcmp(r, "10.42.1.0/24 via 10.99.0.12 dev eth0 \n") == 0, "routes: %s", r);
    free(r);
    m = masq_rules();
    CHECKF(strstr(m, "-d 10.42.1.0/24") && strstr(m, "-d 10.42.2.0/24") && strstr(m, "-d 10.42.3.0/24")
           && !strstr(m, "-d 10.42.0.0/25"), "masquerade chain: %s", m);
    CHECKF(strstr(m, "-j MASQUERADE") > strstr(m, "-j RETURN"), "MASQUERADE must come last: %s", m);
    free(m);

    /* idempotent */
    set_peers(peers, 5);
    r = sh("ip route show proto 79 | wc -l");
    CHECK_STR(r, "1\n");
    free(r);

    /* a node gone: its route and exemption go */
    set_peers(peers + 1, 1);
    r = sh("ip route show proto 79");
    CHECK_STR(r, "");
    free(r);
    m = masq_rules();
    CHECKF(!strstr(m, "10.42.1.0/24") && strstr(m, "-d 10.42.2.0/24"), "masquerade chain: %s", m);
    free(m);

    /* back, then deleted by hand: the next sync restores it */
    set_peers(peers, 1);
    sh_ok("ip route del 10.42.1.0/24");
    set_peers(peers, 1);
    r = sh("ip route show proto 79");
    CHECK_STR(r, "10.42.1.0/24 via 10.99.0.12 dev eth0 \n");
    free(r);

    /* an agent restart keeps the exemptions until the Nodes are listed again */
    {
        struct net_config cfg = {.node_name = NODE, .pod_cidr = "10.42.0.0/24", .state_dir = STATE,
                                 .masquerade = true};
        char err[256] = "";
        net_close(N);
        N = NULL;
        CHECKF(net_open(&cfg, &N, err) == 0, "net_open again: %s", err);
        m = masq_rules();
        CHECKF(strstr(m, "-d 10.42.1.0/24") && strstr(m, "-j MASQUERADE"), "after a restart: %s", m);
        free(m);
    }

    /* the node's cleanup removes them */
    close_net(NULL);
    r = sh("ip route show proto 79");
    CHECK_STR(r, "");
    free(r);
}

TEST(which_nodes_are_peers)
{
    struct net_peer p;
    json_t *n = json_loads("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"podCIDR\":\"10.42.1.0/24\"},"
                           "\"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"b\"},"
                           "{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}]}}", 0, NULL);

    CHECK(n != NULL);
    CHECK(agent_node_peer(n, "a", &p));
    CHECK_STR(p.node, "b");
    CHECK_STR(p.pod_cidr, "10.42.1.0/24");
    CHECK_STR(p.ip, "10.0.0.2");
    CHECK(!agent_node_peer(n, "b", &p)); /* itself */
    orc_json_del(n, "spec.podCIDR");
    CHECK(!agent_node_peer(n, "a", &p)); /* no pod CIDR yet */
    orc_json_set(n, "spec.podCIDR", json_string("10.42.1.0/24"));
    json_array_remove(orc_json_get(n, "status.addresses"), 1);
    CHECK(!agent_node_peer(n, "a", &p)); /* no InternalIP */
    json_decref(n);
}

TEST(network_backend_flag)
{
    char cmd[700], *out;

    snprintf(cmd, sizeof cmd, "'%s' agent --server https://127.0.0.1:1 --token t --network-backend vxlan "
             "2>&1; echo \"exit=$?\"", t_bin("orcd"));
    out = sh(cmd);
    CHECKF(strstr(out, "host-gw or none") && strstr(out, "exit=2"), "%s", out);
    free(out);
}
