/* test_netbed_vxlan.c — the VXLAN backend and auto mode on the network
 * bed (tests/harness/netbed.h), with real servers, agents and containers:
 * in forced vxlan mode on one bridge, pods on two nodes reach each other
 * through orc.vxlan (route onlink via the peer's vtep, FDB entry to its
 * address, the MAC each node publishes on its Node), without NAT, with an
 * MTU that leaves room for the VXLAN header; an agent restart adopts its
 * device and removes entries no peer accounts for. In auto mode with nodes
 * on two subnets joined by a router, nodes on one subnet use host-gw (and
 * make no device) and VXLAN across, set up within a second of a node
 * joining; pods reach pods both ways; a node leaving has its route, FDB
 * and neighbour entries removed on the others within a second. Root only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "tests/harness/netbed.h"
#include "tests/harness/test.h"

#define PODS "/api/v1/namespaces/default/pods"
#define VTEP_ANN "orc.dev/vtep-mac"

static struct netbed B;
static const char *const VXLAN[] = {"--network-backend", "vxlan", NULL};

/* ---- the Nodes ---- */

struct node_info {
    char cidr[32];  /* spec.podCIDR */
    char vtep[32];  /* its network address: the peer's vtep */
    char mac[20];   /* orc.dev/vtep-mac ("" while none) */
};

static void node_info(int i, struct node_info *ni)
{
    char path[256];
    int st;
    json_t *n;
    const char *c, *m;

    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[i].name);
    n = t_json(&B.c, 0, "GET", path, NULL, &st);
    c = orc_json_str(n, "spec.podCIDR");
    m = json_string_value(json_object_get(orc_json_get(n, "metadata.annotations"), VTEP_ANN));
    snprintf(ni->cidr, sizeof ni->cidr, "%s", c ? c : "");
    snprintf(ni->mac, sizeof ni->mac, "%s", m ? m : "");
    snprintf(ni->vtep, sizeof ni->vtep, "%s", ni->cidr);
    if (strchr(ni->vtep, '/')) *strchr(ni->vtep, '/') = '\0';
    json_decref(n);
}

/* Waits for node i's vtep MAC on its Node. */
static void wait_vtep(int i, struct node_info *ni)
{
    uint64_t end = test_now_ms() + 20000;

    for (node_info(i, ni); !ni->mac[0]; node_info(i, ni)) {
        CHECKF(test_now_ms() < end, "node %d published no vtep MAC (log %s)", i, B.node[i].log);
        test_sleep_ms(100);
    }
}

/* Whether `sh -c cmd` in node i's namespace prints want. */
static bool node_has(int i, const char *cmd, const char *want)
{
    char *argv[] = {"sh", "-c", (char *)cmd, NULL}, *out = NULL;
    bool ok;

    netbed_run(&B, i, argv, &out);
    ok = out && strstr(out, want) != NULL;
    free(out);
    return ok;
}

/* ms until node_has(i, cmd, want) == present; fails past limit_ms. */
static unsigned wait_has(int i, const char *cmd, const char *want, bool present, unsigned limit_ms)
{
    uint64_t start = test_now_ms();

    while (node_has(i, cmd, want) != present) {
        if (test_now_ms() - start >= limit_ms) {
            char *argv[] = {"sh", "-c", (char *)cmd, NULL}, *out = NULL;
            netbed_run(&B, i, argv, &out);
            test_fail(__FILE__, __LINE__, "node %d: `%s` %s \"%s\" after %u ms (log %s):\n%s", i, cmd,
                      present ? "lacks" : "still shows", want, limit_ms, B.node[i].log, out ? out : "");
        }
        test_sleep_ms(20);
    }
    return (unsigned)(test_now_ms() - start);
}

static void want_vxlan_route(int on, const struct node_info *to, unsigned limit_ms)
{
    char want[128];

    snprintf(want, sizeof want, "%s via %s dev orc.vxlan onlink", to->cidr, to->vtep);
    wait_has(on, "ip route show proto 79", want, true, limit_ms);
}

static void want_fdb(int on, const struct node_info *to, int to_idx, bool present, unsigned limit_ms)
{
    char want[128];

    snprintf(want, sizeof want, "%s dst %s self permanent", to->mac, B.node[to_idx].ip);
    wait_has(on, "bridge fdb show dev orc.vxlan", want, present, limit_ms);
}

/* ---- pods ---- */

#define SERVE_IP                                                                                   \
    "mkdir -p /tmp/www/cgi-bin && printf '#!/bin/sh\\\\necho Content-Type: "                       \
    "text/plain\\\\necho\\\\necho from=$REMOTE_ADDR\\\\n' > /tmp/www/cgi-bin/ip && "               \
    "busybox chmod 755 /tmp/www/cgi-bin/ip && exec httpd -f -p 8080 -h /tmp/www"

static void pod_on(int node, const char *name, const char *cmd) { netbed_pod(&B, node, name, NULL, cmd, NULL); }

static void pod_ip(const char *name, char *out, size_t n) { netbed_pod_ip(&B, name, out, n); }

/* A client pod on node i: its MTU, then what the server at srv:8080 saw
 * of it (retried: the server may not listen yet). */
static void client_on(int node, const char *name, const char *srv)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd,
             "echo mtu=$(cat /sys/class/net/eth0/mtu); "
             "get() { printf 'GET /cgi-bin/ip HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 $2 | grep from=; }; "
             "for i in $(seq 1 60); do get %s 8080 && break; sleep 0.5; done; sleep 3600",
             srv);
    pod_on(node, name, cmd);
}

static char *wait_log(const char *name, int lines, unsigned limit_ms)
{
    return netbed_pod_log(&B, name, NULL, lines, limit_ms);
}

/* The client's log shows the MTU and its own address as the server saw it. */
static void check_client(const char *name, const char *mtu)
{
    char ip[32], want[96], *log;

    pod_ip(name, ip, sizeof ip);
    log = wait_log(name, 2, 45000);
    fprintf(stderr, "# %s (%s): %s", name, ip, log);
    snprintf(want, sizeof want, "mtu=%s\n", mtu);
    CHECKF(strncmp(log, want, strlen(want)) == 0, "pod %s: want %s", name, want);
    snprintf(want, sizeof want, "from=[::ffff:%s]\n", ip);
    if (!strstr(log, want)) snprintf(want, sizeof want, "from=%s\n", ip);
    CHECKF(strstr(log, want) != NULL, "the server pod saw %s, want the client's own address %s", log, ip);
    free(log);
}

static void bed(int servers)
{
    netbed_up(&B);
    netbed_servers(&B, servers, NULL);
    netbed_registry(&B);
}

TEST_T(forced_vxlan_pods_reach_pods_through_the_overlay, 100)
{
    struct node_info n1, n2;
    char srv[32];

    bed(1);
    netbed_node_add(&B, VXLAN);
    netbed_node_add(&B, VXLAN);
    netbed_node_wait(&B, 1, 20000);
    netbed_node_wait(&B, 2, 20000);
    wait_vtep(1, &n1);
    wait_vtep(2, &n2);
    CHECKF(strcmp(n1.mac, n2.mac) != 0, "two nodes, one MAC %s", n1.mac);
    /* on one bridge, and still tunnelled: the backend says so */
    want_vxlan_route(1, &n2, 5000);
    want_vxlan_route(2, &n1, 5000);
    want_fdb(1, &n2, 2, true, 5000);
    want_fdb(2, &n1, 1, true, 5000);
    {
        char want[96];
        snprintf(want, sizeof want, "%s lladdr %s PERMANENT", n2.vtep, n2.mac);
        wait_has(1, "ip neigh show dev orc.vxlan", want, true, 5000);
    }
    CHECK(node_has(1, "ip -d link show orc.vxlan", "vxlan id 1 local 10.99.0.11 dev eth0"));
    CHECK(node_has(1, "ip -d link show orc.vxlan", "dstport 8472 nolearning"));

    pod_on(2, "srv", SERVE_IP);
    pod_ip("srv", srv, sizeof srv);
    client_on(1, "cli", srv);
    check_client("cli", "1450");

    /* an agent restart adopts its device (same ifindex: no gap for the
     * pods) and leaves no stale entry, even one it never made */
    {
        char *argv[] = {"sh", "-c", "ip -o link show orc.vxlan | cut -d: -f1", NULL}, *before = NULL,
             *after = NULL;
        netbed_run(&B, 1, argv, &before);
        netbed_agent_stop(&B, 1);
        CHECK(node_has(1, "bridge fdb add 02:76:00:00:00:99 dev orc.vxlan dst 10.99.0.99 self "
                          "permanent && ip neigh add 10.42.250.0 lladdr 02:76:00:00:00:99 dev orc.vxlan "
                          "nud permanent && echo done", "done"));
        netbed_agent_start(&B, 1);
        wait_has(1, "bridge fdb show dev orc.vxlan", "02:76:00:00:00:99", false, 10000);
        wait_has(1, "ip neigh show dev orc.vxlan", "10.42.250.0", false, 1000);
        want_fdb(1, &n2, 2, true, 1000);
        want_vxlan_route(1, &n2, 1000);
        netbed_run(&B, 1, argv, &after);
        CHECKF(before && after && strcmp(before, after) == 0, "orc.vxlan made anew: %s -> %s", before,
               after);
        free(before);
        free(after);
    }
    /* the packets went through the tunnel: the device counted them */
    CHECK(node_has(1, "ip -s link show orc.vxlan | awk '/TX:/ {getline; print ($2 > 0 ? \"yes\" : \"no\")}'",
                   "yes"));
}

TEST_T(auto_mode_host_gw_within_a_subnet_vxlan_across, 120)
{
    struct node_info n[4];
    char srv[32], want[128], path[256], *resp = NULL;
    unsigned ms;

    bed(1);
    netbed_router(&B);
    netbed_node_add_on(&B, 0, NULL); /* auto: the default */
    netbed_node_add_on(&B, 0, NULL);
    for (int i = 1; i <= 2; i++) netbed_node_wait(&B, i, 20000);
    /* two nodes on one subnet: host-gw, no device */
    snprintf(want, sizeof want, "via %s dev eth0", B.node[2].ip);
    wait_has(1, "ip route show proto 79", want, true, 5000);
    CHECK(!node_has(1, "ip -o link show", "orc.vxlan"));
    node_info(1, &n[1]);
    CHECKF(!n[1].mac[0], "node 1 published a vtep MAC with no tunnel: %s", n[1].mac);

    /* a node joins beyond the router: both sides make their device,
     * publish its MAC, and tunnel to each other */
    netbed_node_add_on(&B, 1, NULL);
    netbed_node_wait(&B, 3, 20000);
    {
        uint64_t t0 = test_now_ms();
        for (int i = 1; i <= 3; i++) wait_vtep(i, &n[i]);
        want_vxlan_route(1, &n[3], 5000);
        want_vxlan_route(3, &n[1], 5000);
        fprintf(stderr, "# node 3 joined: tunnels both ways %u ms after its Node had a pod CIDR\n",
                (unsigned)(test_now_ms() - t0));
        CHECKF(test_now_ms() - t0 < 2000, "the tunnels to a joining node took %u ms",
               (unsigned)(test_now_ms() - t0));
    }
    snprintf(want, sizeof want, "%s via %s dev eth0", n[2].cidr, B.node[2].ip);
    wait_has(1, "ip route show proto 79", want, true, 5000);
    snprintf(want, sizeof want, "%s via %s dev eth0", n[1].cidr, B.node[1].ip);
    wait_has(2, "ip route show proto 79", want, true, 5000);
    want_vxlan_route(1, &n[3], 5000);
    want_vxlan_route(2, &n[3], 5000);
    want_vxlan_route(3, &n[1], 5000);
    want_vxlan_route(3, &n[2], 5000);
    want_fdb(1, &n[3], 3, true, 5000);
    want_fdb(3, &n[1], 1, true, 5000);
    /* host-gw peers get no tunnel entries */
    CHECK(!node_has(1, "bridge fdb show dev orc.vxlan", n[2].mac));
    /* and the log says which mode each peer uses */
    {
        char cmd[2400];
        snprintf(cmd, sizeof cmd, "grep -q 'pods %s by host-gw' '%s' && grep -q 'pods %s by vxlan' '%s' "
                 "&& echo yes", n[2].cidr, B.node[1].log, n[3].cidr, B.node[1].log);
        CHECKF(node_has(0, cmd, "yes"), "node 1's log names each peer's mode (%s)", B.node[1].log);
    }

    pod_on(1, "srv", SERVE_IP);
    pod_ip("srv", srv, sizeof srv);
    client_on(3, "far", srv);  /* across the router: VXLAN */
    client_on(2, "near", srv); /* on the same link: host-gw */
    check_client("far", "1450");
    check_client("near", "1450");

    /* node 3 leaves: the others drop its route, FDB and neighbour entries */
    netbed_agent_stop(&B, 3);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", B.node[3].name);
    CHECK_INT(t_http(&B.c, 0, "DELETE", path, NULL, NULL, &resp, NULL), ==, 200);
    free(resp);
    snprintf(want, sizeof want, "%s via", n[3].cidr);
    ms = wait_has(1, "ip route show proto 79", want, false, 2000);
    fprintf(stderr, "# node 3 left: node 1 dropped its route after %u ms\n", ms);
    wait_has(2, "ip route show proto 79", want, false, 2000);
    want_fdb(1, &n[3], 3, false, 1000);
    want_fdb(2, &n[3], 3, false, 1000);
    wait_has(1, "ip neigh show dev orc.vxlan nud permanent", n[3].vtep, false, 1000);
    wait_has(2, "ip neigh show dev orc.vxlan nud permanent", n[3].vtep, false, 1000);
}
