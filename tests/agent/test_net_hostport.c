/* test_net_hostport.c — hostPort mappings: reached through the node's
 * addresses, conflicts refused with the other pod named, freed on
 * teardown, hairpin from a pod back to itself. */
#include "tests/agent/netfx.h"

static void pod_uid(int i, char out[40])
{
    snprintf(out, 40, "%04x%04x-0000-4000-8000-%012d", (unsigned)getpid() & 0xffff, (unsigned)i, i);
}

/* A host port unlikely to be in use, from the pid. */
static int host_port(int i) { return 20000 + ((int)getpid() * 3 + i) % 20000; }

static int hp_rules(const struct nfx *f, const char *uid)
{
    struct orc_buf out = ORC_BUF_INIT;
    char msg[256];
    const char *p;
    int count = 0;

    CHECK_INT(net_ipt_list("nat", f->nm.hp, &out, msg), ==, 0);
    for (p = out.data; (p = strstr(p, uid)) != NULL; p++) count++;
    orc_buf_free(&out);
    return count;
}

TEST(net_hostport_reached_refused_and_freed)
{
    struct nfx *f;
    struct net_pod a, b;
    char ua[40], ub[40], msg[256], gw[16], h[16];
    int hp = host_port(0);
    struct net_port port = {8080, hp, "TCP", NULL};
    struct net_port udp = {8080, hp, "UDP", ""};

    nfx_save_forward();
    f = nfx_node("hp", 0, 24);
    CHECKF(nfx_open(f, true, msg) == 0, "net_open: %s", msg);
    nfx_gateway(f, gw);
    pod_uid(1, ua);
    pod_uid(2, ub);
    nfx_setup(f, ua, &port, 1, &a);
    CHECK_INT(hp_rules(f, ua), ==, 1);
    nfx_serve(a.netns_path, 8080);
    CHECKF(nfx_echo(gw, hp) == 0, "%s:%d (the node's bridge address) -> pod", gw, hp);
    CHECKF(nfx_echo("127.0.0.1", hp) == 0, "127.0.0.1:%d -> pod", hp);
    CHECKF(nfx_echo_from(a.netns_path, gw, hp) == 0, "hairpin: pod -> %s:%d -> itself", gw, hp);

    msg[0] = '\0';
    CHECK_INT(net_pod_setup(f->n, ub, &port, 1, &b, msg), ==, ORC_EEXIST);
    snprintf(h, sizeof h, "%d", hp);
    CHECKF(strstr(msg, h) && strstr(msg, ua), "message names the port and the pod: %s", msg);
    CHECK(!nfx_has_pod(f->n, ub)); /* nothing allocated for the refused pod */
    CHECK_INT(hp_rules(f, ub), ==, 0);
    nfx_setup(f, ub, &udp, 1, &b); /* UDP on the same number is another port */
    CHECK_INT(hp_rules(f, ub), ==, 1);

    nfx_setup(f, ua, &port, 1, &a); /* again: still one rule */
    CHECK_INT(hp_rules(f, ua), ==, 1);
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);
    CHECK_INT(hp_rules(f, ua), ==, 0);
    struct net_port both[] = {port, udp};
    nfx_setup(f, ub, both, 2, &b);
    CHECK_INT(hp_rules(f, ub), ==, 2);
    nfx_serve(b.netns_path, 8080);
    CHECKF(nfx_echo(gw, hp) == 0, "after teardown the port leads to the new pod");
    nfx_setup(f, ub, &udp, 1, &b); /* ports dropped from the list are unpublished */
    CHECK_INT(hp_rules(f, ub), ==, 1);
}

TEST(net_hostport_host_ip_and_bad_ports)
{
    struct nfx *f;
    struct net_pod a, b;
    char ua[40], ub[40], msg[256];
    int hp = host_port(1);
    struct net_port on_lo = {80, hp, "TCP", "127.0.0.1"};
    struct net_port any = {80, hp, NULL, ""};
    struct net_port other = {80, hp, "tcp", "127.0.0.2"};
    struct net_port bad[] = {{80, 70000, "TCP", NULL}, {0, hp, "TCP", NULL},
                             {80, hp, "ICMP", NULL}, {80, hp, "TCP", "::1"}};
    struct net_port twice[] = {{80, host_port(2), "TCP", NULL}, {81, host_port(2), "TCP", "10.1.2.3"}};

    f = nfx_node("hpip", 0, 24);
    CHECKF(nfx_open(f, false, msg) == 0, "net_open: %s", msg);
    pod_uid(1, ua);
    pod_uid(2, ub);
    nfx_setup(f, ua, &on_lo, 1, &a);
    CHECK_INT(net_pod_setup(f->n, ub, &any, 1, &b, msg), ==, ORC_EEXIST);
    CHECKF(strstr(msg, ua) != NULL, "message: %s", msg);
    nfx_setup(f, ub, &other, 1, &b); /* another address: no conflict */
    for (size_t i = 0; i < ORC_ARRAY_LEN(bad); i++) {
        msg[0] = '\0';
        CHECK_INT(net_pod_setup(f->n, "bad-ports", &bad[i], 1, &b, msg), ==, ORC_EINVAL);
        CHECK(msg[0] != '\0');
    }
    CHECK_INT(net_pod_setup(f->n, "bad-ports", twice, 2, &b, msg), ==, ORC_EINVAL);
    CHECKF(strstr(msg, "twice") != NULL, "message: %s", msg);
    CHECK(!nfx_has_pod(f->n, "bad-ports"));
    /* The reservation survives a restart. */
    net_close(f->n);
    f->n = NULL;
    CHECKF(nfx_open(f, false, msg) == 0, "net_open again: %s", msg);
    CHECK_INT(net_pod_setup(f->n, "late", &any, 1, &b, msg), ==, ORC_EEXIST);
}
