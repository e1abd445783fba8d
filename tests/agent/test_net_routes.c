/* test_net_routes.c — routes to other nodes' pods (net_peers_set) in a
 * network namespace of the case's own (unshare: nothing outside it
 * changes). host-gw: a route to each peer's pod CIDR via its address on a
 * shared link, none for a peer off-link, an overlapping one, or one in our
 * own namespace; the masquerade chain exempts every peer's pod CIDR;
 * routes of peers gone are removed and a route deleted by hand comes back.
 * vxlan: the device (VNI 1, UDP 8472, learning off, MTU 50 below its
 * link's), per peer a route onlink via its vtep, a permanent neighbour and
 * an FDB entry; entries of peers gone, or left by an earlier run, removed;
 * auto: host-gw on a shared link, vxlan otherwise, the device made only
 * then. And which Node objects are peers (agent_node_peer, with their vtep
 * MAC); an agent restart keeps the exemptions; the flag takes auto,
 * host-gw, vxlan or none. Root only. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/orc.h"
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

static void open_net(enum net_backend backend)
{
    struct net_config cfg = {.node_name = NODE, .pod_cidr = "10.42.0.0/24", .state_dir = STATE,
                             .masquerade = true, .backend = backend, .node_ip = "10.99.0.11"};
    char err[256] = "";

    CHECKF(net_open(&cfg, &N, err) == 0, "net_open: %s", err);
}

/* A namespace of our own with eth0 (a veth to eth1) on 10.99.0.11/24, and the node's
 * network (pod CIDR 10.42.0.0/24) opened in it with the backend. */
static void setup_backend(enum net_backend backend)
{
    CHECKF(unshare(CLONE_NEWNET) == 0, "unshare: needs root");
    sh_ok("ip link set lo up && ip link add eth0 type veth peer name eth1 && ip link set eth1 up "
          "&& ip addr add 10.99.0.11/24 dev eth0 && ip link set eth0 up");
    snprintf(NODE, sizeof NODE, "routes-%d", (int)getpid());
    snprintf(STATE, sizeof STATE, "%s/net", test_tmpdir());
    open_net(backend);
    test_defer(close_net, NULL);
}

/* host-gw: what the original cases expect */
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
        {"two", "10.42.1.0/24", "10.99.0.12", NULL},   /* shares eth0's link: a route */
        {"far", "10.42.2.0/24", "192.168.77.5", NULL}, /* no shared link: none */
        {"dup", "10.42.0.0/25", "10.99.0.13", NULL},   /* overlaps our pods: ignored */
        {"here", "10.42.3.0/24", "10.99.0.11", NULL},  /* our own address: no route */
        {"bad", "nonsense", "10.99.0.14", NULL},
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
    n = json_loads("{\"metadata\":{\"name\":\"b\",\"annotations\":{\"orc.dev/vtep-mac\":"
                   "\"02:76:00:00:00:02\"}},\"spec\":{\"podCIDR\":\"10.42.1.0/24\"},\"status\":{"
                   "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}]}}", 0, NULL);
    CHECK(n != NULL);
    CHECK(agent_node_peer(n, "a", &p));
    CHECK_STR(p.vtep_mac, "02:76:00:00:00:02");
    json_decref(n);
}

TEST(network_backend_flag)
{
    char cmd[700], *out;

    snprintf(cmd, sizeof cmd, "'%s' agent --server https://127.0.0.1:1 --token t --network-backend flannel "
             "2>&1; echo \"exit=$?\"", t_bin("orcd"));
    out = sh(cmd);
    CHECKF(strstr(out, "auto, host-gw, vxlan or none") && strstr(out, "exit=2"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' server --network-backend bogus 2>&1; echo \"exit=$?\"", t_bin("orcd"));
    out = sh(cmd);
    CHECKF(strstr(out, "auto, host-gw, vxlan or none") && !strstr(out, "exit=0"), "%s", out);
    free(out);
    enum net_backend b;
    CHECK(net_backend_parse("auto", &b) && b == NET_BACKEND_AUTO);
    CHECK(net_backend_parse("vxlan", &b) && b == NET_BACKEND_VXLAN);
    CHECK(net_backend_parse("host-gw", &b) && b == NET_BACKEND_HOST_GW);
    CHECK(!net_backend_parse("none", &b) && !net_backend_parse("", &b));
    CHECK_STR(net_backend_name(NET_BACKEND_AUTO), "auto");
}

static bool has(const char *cmd, const char *want)
{
    char *out = sh(cmd);
    bool ok = strstr(out, want) != NULL;

    if (!ok) fprintf(stderr, "# `%s` lacks \"%s\":\n%s", cmd, want, out);
    free(out);
    return ok;
}

static size_t lines(const char *cmd)
{
    char *out = sh(cmd);
    size_t n = 0;

    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++) n++;
    free(out);
    return n;
}

#define FDB "bridge fdb show dev orc.vxlan"
#define NEIGH "ip neigh show dev orc.vxlan nud permanent"
#define ROUTES "ip route show proto 79"

TEST(vxlan_peers_become_fdb_neighbours_and_routes)
{
    const struct net_peer peers[] = {
        {"two", "10.42.1.0/24", "10.99.0.12", "02:76:00:00:00:02"},   /* on our link: tunnelled too */
        {"far", "10.42.2.0/24", "192.168.77.5", "02:76:00:00:00:03"}, /* no shared link */
        {"nomac", "10.42.4.0/24", "10.99.0.14", NULL},                 /* waits for its MAC */
        {"here", "10.42.3.0/24", "10.99.0.11", "02:76:00:00:00:04"},   /* our own namespace */
    };
    struct net_peer moved = peers[0];
    char mac[18], want[128];

    setup_backend(NET_BACKEND_VXLAN);
    /* made at open in vxlan mode: its MAC is known to publish */
    CHECK_INT(net_vtep(N, mac), ==, 0);
    snprintf(want, sizeof want, "link/ether %s", mac);
    CHECK(has("ip -d link show orc.vxlan", want));
    CHECK(has("ip -d link show orc.vxlan", "mtu 1450"));
    CHECK(has("ip -d link show orc.vxlan", "vxlan id 1 local 10.99.0.11 dev eth0"));
    CHECK(has("ip -d link show orc.vxlan", "dstport 8472 nolearning"));
    CHECK(has("ip -o addr show dev orc.vxlan", "inet 10.42.0.0/32"));
    CHECK_INT(N->pod_mtu, ==, 1450);

    set_peers(peers, 4);
    CHECK(has(ROUTES, "10.42.1.0/24 via 10.42.1.0 dev orc.vxlan onlink"));
    CHECK(has(ROUTES, "10.42.2.0/24 via 10.42.2.0 dev orc.vxlan onlink"));
    CHECK_INT(lines(ROUTES), ==, 2);
    CHECK(has(FDB, "02:76:00:00:00:02 dst 10.99.0.12 self permanent"));
    CHECK(has(FDB, "02:76:00:00:00:03 dst 192.168.77.5 self permanent"));
    CHECK(has(NEIGH, "10.42.1.0 lladdr 02:76:00:00:00:02 PERMANENT"));
    CHECK(has(NEIGH, "10.42.2.0 lladdr 02:76:00:00:00:03 PERMANENT"));
    CHECK_INT(lines(NEIGH), ==, 2);
    set_peers(peers, 4); /* idempotent */
    CHECK_INT(lines(ROUTES), ==, 2);
    CHECK_INT(lines(NEIGH), ==, 2);

    /* a peer's MAC changes (its device made anew): its entries follow */
    snprintf(mac, sizeof mac, "02:76:00:00:00:0a");
    moved.vtep_mac = mac;
    {
        struct net_peer two[] = {moved, peers[1]};
        set_peers(two, 2);
    }
    CHECK(has(FDB, "02:76:00:00:00:0a dst 10.99.0.12 self permanent"));
    CHECK_INT(lines(FDB " | grep 02:76:00:00:00:02 || true"), ==, 0);

    /* left by an earlier run, then a restart: gone at the first sync */
    sh_ok("bridge fdb add 02:76:00:00:00:09 dev orc.vxlan dst 10.99.0.99 self permanent && "
          "ip neigh add 10.42.9.0 lladdr 02:76:00:00:00:09 dev orc.vxlan nud permanent");
    net_close(N);
    N = NULL;
    open_net(NET_BACKEND_VXLAN);
    set_peers(peers + 1, 1); /* "two" left too */
    CHECK_INT(lines(ROUTES), ==, 1);
    CHECK(has(ROUTES, "10.42.2.0/24 via 10.42.2.0 dev orc.vxlan onlink"));
    CHECK_INT(lines(NEIGH), ==, 1);
    CHECK(has(FDB, "02:76:00:00:00:03 dst 192.168.77.5"));
    CHECK_INT(lines(FDB " | grep -e :09 -e :0a || true"), ==, 0);

    /* everyone gone: nothing left but the device; the cleanup takes it */
    set_peers(NULL, 0);
    CHECK_INT(lines(ROUTES), ==, 0);
    CHECK_INT(lines(NEIGH), ==, 0);
    CHECK_INT(lines("bridge fdb show dev orc.vxlan | grep -v '^00:00:00:00:00:00' || true"), ==, 0);
    close_net(NULL);
    CHECK_INT(lines("ip -o link show | grep orc.vxlan || true"), ==, 0);
}

TEST(auto_mode_is_host_gw_on_a_shared_link_and_vxlan_beyond)
{
    const struct net_peer peers[] = {
        {"two", "10.42.1.0/24", "10.99.0.12", "02:76:00:00:00:02"},
        {"far", "10.42.2.0/24", "192.168.77.5", "02:76:00:00:00:03"},
    };
    char mac[18];

    setup_backend(NET_BACKEND_AUTO);
    CHECK_INT(N->pod_mtu, ==, 1450); /* fixed at pod start, whatever the peer */
    set_peers(peers, 1);
    CHECK(has(ROUTES, "10.42.1.0/24 via 10.99.0.12 dev eth0"));
    /* no peer needs a tunnel: no device */
    CHECK_INT(net_vtep(N, mac), ==, ORC_ENOENT);
    CHECK_INT(lines("ip -o link show | grep orc.vxlan || true"), ==, 0);

    set_peers(peers, 2);
    CHECK_INT(net_vtep(N, mac), ==, 0);
    CHECK(has(ROUTES, "10.42.1.0/24 via 10.99.0.12 dev eth0"));
    CHECK(has(ROUTES, "10.42.2.0/24 via 10.42.2.0 dev orc.vxlan onlink"));
    CHECK_INT(lines(NEIGH), ==, 1);
    CHECK(has(FDB, "02:76:00:00:00:03 dst 192.168.77.5 self permanent"));

    /* the far node moves onto our link: host-gw, its entries go */
    {
        struct net_peer near[] = {peers[0], {"far", "10.42.2.0/24", "10.99.0.13", "02:76:00:00:00:03"}};
        set_peers(near, 2);
    }
    CHECK(has(ROUTES, "10.42.2.0/24 via 10.99.0.13 dev eth0"));
    CHECK_INT(lines(NEIGH), ==, 0);
    CHECK_INT(lines("bridge fdb show dev orc.vxlan | grep 02:76 || true"), ==, 0);
}

TEST(host_gw_mode_makes_no_device_and_removes_an_earlier_one)
{
    const struct net_peer far = {"far", "10.42.2.0/24", "192.168.77.5", "02:76:00:00:00:03"};
    char mac[18];

    setup_backend(NET_BACKEND_HOST_GW);
    CHECK_INT(N->pod_mtu, ==, 0);
    set_peers(&far, 1);
    CHECK_INT(lines(ROUTES), ==, 0);
    CHECK_INT(net_vtep(N, mac), ==, ORC_ENOENT);

    /* vxlan before, host-gw after a restart: the overlay and its routes go */
    net_close(N);
    N = NULL;
    open_net(NET_BACKEND_VXLAN);
    set_peers(&far, 1);
    CHECK_INT(lines(ROUTES), ==, 1);
    net_close(N);
    N = NULL;
    open_net(NET_BACKEND_HOST_GW);
    set_peers(&far, 1);
    CHECK_INT(lines(ROUTES), ==, 0);
    CHECK_INT(lines("ip -o link show | grep orc.vxlan || true"), ==, 0);
}

/* One vxlan device per VNI and port in a namespace: a second node's agent
 * there is told whose it is, and the first keeps its own. */
TEST(a_second_node_in_the_namespace_leaves_the_device_alone)
{
    const struct net_peer far = {"far", "10.42.2.0/24", "192.168.77.5", "02:76:00:00:00:03"};
    struct net_config cfg = {.pod_cidr = "10.42.9.0/24", .masquerade = true,
                             .backend = NET_BACKEND_VXLAN, .node_ip = "10.99.0.11"};
    char err[256] = "", other[64], state2[700], mac[18];
    net *n2 = NULL;
    int rv;

    setup_backend(NET_BACKEND_VXLAN);
    char *before = sh("ip -o link show orc.vxlan | cut -d: -f1"), *after;
    snprintf(other, sizeof other, "other-%d", (int)getpid());
    snprintf(state2, sizeof state2, "%s/net2", test_tmpdir());
    cfg.node_name = other;
    cfg.state_dir = state2;
    CHECKF(net_open(&cfg, &n2, err) == 0, "net_open of a second node: %s", err);
    CHECK_INT(net_vtep(n2, mac), ==, ORC_ENOENT);
    rv = net_peers_set(n2, &far, 1, err);
    CHECK_INT(rv, ==, ORC_EEXIST);
    CHECKF(strstr(err, "belongs to another node"), "%s", err);
    net_close(n2);
    net_destroy_node(other, state2);
    /* still the first node's, the very same device */
    after = sh("ip -o link show orc.vxlan | cut -d: -f1");
    CHECK_STR(after, before);
    free(before);
    free(after);
    CHECK_INT(net_vtep(N, mac), ==, 0);
    set_peers(&far, 1);
    CHECK(has(FDB, "02:76:00:00:00:03 dst 192.168.77.5"));
}
