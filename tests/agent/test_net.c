/* test_net.c — pod networking on a real host: addresses, reachability from
 * the node and between pods, idempotent setup, restart, teardown, bad
 * input, and two nodes sharing the machine. */
#include "tests/agent/netfx.h"

static void pod_uid(int i, char out[40])
{
    snprintf(out, 40, "%04x%04x-0000-4000-8000-%012d", (unsigned)getpid() & 0xffff, (unsigned)i, i);
}

static int in_cidr(const struct nfx *f, const char *ip)
{
    char prefix[16];
    snprintf(prefix, sizeof prefix, "10.244.%d.", f->octet);
    return strncmp(ip, prefix, strlen(prefix)) == 0;
}

TEST(net_pods_reach_node_and_each_other)
{
    struct nfx *f;
    struct net_pod a, b;
    char ua[40], ub[40], msg[256], gw[16];

    nfx_save_forward();
    f = nfx_node("reach", 0, 24);
    CHECKF(nfx_open(f, true, msg) == 0, "net_open: %s", msg);
    CHECK_INT(nfx_read_forward(), ==, 1);
    pod_uid(1, ua);
    pod_uid(2, ub);
    nfx_setup(f, ua, NULL, 0, &a);
    nfx_setup(f, ub, NULL, 0, &b);
    nfx_gateway(f, gw);
    CHECKF(in_cidr(f, a.ip) && in_cidr(f, b.ip), "%s %s not in %s", a.ip, b.ip, f->cidr);
    CHECK(strcmp(a.ip, b.ip) != 0);
    CHECK(strcmp(a.ip, gw) != 0 && strcmp(b.ip, gw) != 0);
    CHECK(access(a.netns_path, F_OK) == 0 && strcmp(a.netns_path, b.netns_path) != 0);
    nfx_serve(a.netns_path, 8080);
    nfx_serve(b.netns_path, 8080); /* the same port: each pod has its own stack */
    CHECKF(nfx_echo(a.ip, 8080) == 0, "node -> pod %s", a.ip);
    CHECKF(nfx_echo(b.ip, 8080) == 0, "node -> pod %s", b.ip);
    CHECKF(nfx_echo_from(a.netns_path, b.ip, 8080) == 0, "pod a -> pod b");
    CHECKF(nfx_echo_from(b.netns_path, a.ip, 8080) == 0, "pod b -> pod a");
    CHECKF(nfx_echo_from(a.netns_path, "127.0.0.1", 8080) == 0, "pod a -> its own lo");
}

TEST(net_setup_is_idempotent_and_survives_restart)
{
    struct nfx *f;
    struct net_pod a, again, b;
    char ua[40], ub[40], msg[256];
    unsigned br;

    f = nfx_node("restart", 0, 24);
    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg);
    pod_uid(1, ua);
    pod_uid(2, ub);
    nfx_setup(f, ua, NULL, 0, &a);
    nfx_serve(a.netns_path, 7000);
    nfx_setup(f, ua, NULL, 0, &again);
    CHECK_STR(again.ip, a.ip);
    CHECK_STR(again.netns_path, a.netns_path);
    CHECKF(nfx_echo(a.ip, 7000) == 0, "pod reachable after a second setup");

    br = if_nametoindex(f->nm.bridge);
    CHECK(br != 0);
    net_close(f->n);
    f->n = NULL;
    CHECKF(nfx_open(f, false, msg) == 0, "net_open again: %s", msg);
    CHECK_INT(if_nametoindex(f->nm.bridge), ==, br); /* adopted, not recreated */
    CHECK(nfx_has_pod(f->n, ua));
    CHECKF(nfx_echo(a.ip, 7000) == 0, "pod reachable across the restart");
    nfx_setup(f, ua, NULL, 0, &again);
    CHECK_STR(again.ip, a.ip);
    nfx_setup(f, ub, NULL, 0, &b);
    CHECK(strcmp(b.ip, a.ip) != 0);

    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);
    CHECK(!nfx_has_pod(f->n, ua));
    CHECK(nfx_has_pod(f->n, ub));
    CHECK(access(a.netns_path, F_OK) != 0);
    CHECKF(nfx_echo_t(a.ip, 7000, 200) != 0, "torn down pod still answers");
    {
        char path[600];
        snprintf(path, sizeof path, "%s/ips/%s", f->state, a.ip);
        CHECKF(access(path, F_OK) != 0, "%s still allocated", a.ip);
    }
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);          /* twice is fine */
    CHECK_INT(net_pod_teardown(f->n, "never-seen"), ==, 0); /* unknown too */
}

TEST(net_bad_cidr_and_exhaustion)
{
    static const char *const bad[] = {"", "10.244.1.0", "10.244.1.0/33", "10.244.1.0/31",
                                      "10.244.1.5/24", "fd00::/64", "10.244.1.0/2x", "abc/24"};
    struct net_config cfg = {.node_name = "tnet-bad", .state_dir = "/nonexistent/never", .masquerade = true};
    struct nfx *f;
    struct net_pod p;
    char msg[256], ua[40], ub[40];
    net *n = NULL;

    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
        cfg.pod_cidr = bad[i];
        msg[0] = '\0';
        CHECK_INT(net_open(&cfg, &n, msg), ==, ORC_EINVAL);
        CHECKF(strstr(msg, "CIDR") != NULL && strstr(msg, bad[i]) != NULL, "message: %s", msg);
    }
    cfg.pod_cidr = NULL;
    CHECK_INT(net_open(&cfg, &n, msg), ==, ORC_EINVAL);

    /* A /30 holds the network, the gateway, one pod and the broadcast. */
    f = nfx_node("full", 0, 30);
    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg);
    pod_uid(1, ua);
    pod_uid(2, ub);
    nfx_setup(f, ua, NULL, 0, &p);
    snprintf(msg, sizeof msg, "10.244.%d.2", f->octet);
    CHECK_STR(p.ip, msg);
    msg[0] = '\0';
    CHECK_INT(net_pod_setup(f->n, ub, NULL, 0, &p, msg), ==, ORC_ENOSPC);
    CHECKF(strstr(msg, "exhausted") && strstr(msg, f->cidr), "message: %s", msg);
    CHECK_STR(p.ip, "");
    CHECK(!nfx_has_pod(f->n, ub));
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);
    nfx_setup(f, ub, NULL, 0, &p); /* the freed address serves the next pod */
    snprintf(msg, sizeof msg, "10.244.%d.2", f->octet);
    CHECK_STR(p.ip, msg);
    CHECK_INT(net_pod_setup(f->n, "bad/uid", NULL, 0, &p, msg), ==, ORC_EINVAL);
}

TEST(net_two_nodes_share_the_machine)
{
    struct nfx *f1, *f2;
    struct net_pod a, b;
    char ua[40], msg[256];
    int left;

    f1 = nfx_node("n1", 0, 24);
    f2 = nfx_node("n2", nfx_pick_octet(f1->octet), 24);
    CHECK(strcmp(f1->nm.bridge, f2->nm.bridge) != 0);
    CHECKF(nfx_open(f1, false, msg) == 0, "net_open n1: %s", msg);
    CHECKF(nfx_open(f2, false, msg) == 0, "net_open n2: %s", msg);
    pod_uid(1, ua); /* the same pod uid on both: names still differ */
    nfx_setup(f1, ua, NULL, 0, &a);
    nfx_setup(f2, ua, NULL, 0, &b);
    CHECK(strcmp(a.netns_path, b.netns_path) != 0);
    CHECK(in_cidr(f1, a.ip) && in_cidr(f2, b.ip));
    nfx_serve(a.netns_path, 9000);
    nfx_serve(b.netns_path, 9000);
    CHECK(nfx_echo(a.ip, 9000) == 0 && nfx_echo(b.ip, 9000) == 0);

    net_close(f1->n);
    f1->n = NULL;
    CHECK_INT(net_destroy_node(f1->node, f1->state), ==, 0);
    left = nfx_leftovers(f1, 1);
    CHECK_INT(left, ==, 0);
    CHECKF(nfx_echo(b.ip, 9000) == 0, "node 2's pod lost with node 1");
    CHECK(if_nametoindex(f2->nm.bridge) != 0);
}

/* Whether the node's nat chain masquerades the pod CIDR leaving the node. */
static int masquerades(const struct nfx *f)
{
    struct orc_buf out = ORC_BUF_INIT;
    char msg[256], want[128];
    int yes;

    CHECKF(net_ipt_list("nat", f->nm.post, &out, msg) == 0, "%s", msg);
    snprintf(want, sizeof want, "-s %s ! -o %s ", f->cidr, f->nm.bridge);
    yes = strstr(out.data, want) != NULL && strstr(out.data, "MASQUERADE") != NULL;
    orc_buf_free(&out);
    return yes;
}

TEST(net_masquerade_rule_follows_config)
{
    struct nfx *f;
    char msg[256];

    nfx_save_forward();
    f = nfx_node("masq", 0, 24);
    CHECKF(nfx_open(f, true, msg) == 0, "net_open: %s", msg);
    CHECK(masquerades(f));
    CHECK_INT(nfx_read_forward(), ==, 1);
    net_close(f->n);
    f->n = NULL;
    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg); /* rebuilt, not appended */
    CHECK(!masquerades(f));
}

TEST(net_open_removes_what_no_state_accounts_for)
{
    struct nfx *f;
    struct net_pod a, b;
    char ua[40], ub[40], msg[256], veth_b[16], path[600];

    f = nfx_node("orphans", 0, 24);
    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg);
    pod_uid(1, ua);
    pod_uid(2, ub);
    nfx_setup(f, ua, NULL, 0, &a);
    nfx_setup(f, ub, NULL, 0, &b);
    net_veth_name(f->node, ub, veth_b);
    CHECK(if_nametoindex(veth_b) != 0);
    net_close(f->n);
    f->n = NULL;
    snprintf(path, sizeof path, "%s/ips/%s", f->state, b.ip); /* b's state is lost */
    CHECK(unlink(path) == 0);
    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg);
    CHECK(if_nametoindex(veth_b) == 0);
    CHECK(access(b.netns_path, F_OK) != 0);
    CHECK(access(a.netns_path, F_OK) == 0);
    nfx_serve(a.netns_path, 7100);
    CHECKF(nfx_echo(a.ip, 7100) == 0, "the pod with state is untouched");
}
