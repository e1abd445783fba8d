/* test_net_cni.c — the CNI mode with Debian's plugins (bridge, host-local,
 * portmap, loopback from /usr/lib/cni) on a real kernel: each case runs in
 * a network namespace of its own (the "node": the CNI bridge, iptables
 * rules and routes live and die there), with host-local's files in the
 * case's directory. Pods get addresses from the Node's pod CIDR and reach
 * each other, a hostPort answers through portmap, teardown releases the
 * address and the veth, a restart and a crash mid-ADD leak nothing, and a
 * bad configuration or a failing plugin is a clear error. Root only. */
#include <arpa/inet.h>
#include <dirent.h>
#include <sched.h>
#include <time.h>

#include "agent/net_cni.h"
#include "lib/file.h"
#include "lib/json.h"
#include "tests/agent/netfx.h"

#define CIDR "10.244.5.0/24"
#define GW "10.244.5.1"
#define BIN "/usr/lib/cni"

struct cfx {
    char node[64];
    char state[600];
    char conf[600];
    char ipam[600];
    net *n;
};

static void cfx_cleanup(void *arg)
{
    struct cfx *f = arg;
    int rv;

    if (f->n) net_close(f->n);
    f->n = NULL;
    rv = net_destroy_node(f->node, f->state);
    if (rv != 0) test_fail_later("net_destroy_node(%s): %s", f->node, orc_strerror(rv));
    free(f);
}

/* The node: a fresh network namespace for this case's process (the case
 * runs in a child of its own), lo up, a configuration directory. */
static struct cfx *cfx_node(void)
{
    struct cfx *f = calloc(1, sizeof *f);
    struct net_nl nl;
    char msg[NET_ERRLEN];

    CHECK(f != NULL);
    CHECKF(access(BIN "/bridge", X_OK) == 0, "Debian's containernetworking-plugins are missing");
    CHECKF(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
    CHECK(net_nl_open(&nl, msg) == 0);
    CHECK(net_nl_link_up(&nl, 1, 0, NULL, msg) == 0);
    net_nl_close(&nl);
    snprintf(f->node, sizeof f->node, "tcni-%d", (int)getpid());
    snprintf(f->state, sizeof f->state, "%s/state", test_tmpdir());
    snprintf(f->conf, sizeof f->conf, "%s/net.d", test_tmpdir());
    snprintf(f->ipam, sizeof f->ipam, "%s/ipam", test_tmpdir());
    CHECK(orc_mkdirs(f->conf, 0755) == 0);
    test_defer(cfx_cleanup, f);
    return f;
}

static void cfx_conf(struct cfx *f, const char *file, const char *text)
{
    char path[700];

    snprintf(path, sizeof path, "%s/%s", f->conf, file);
    CHECK(orc_file_write(path, text, strlen(text), 0644) == 0);
}

/* bridge + host-local (no subnet: the pod CIDR is filled in) + portmap */
static void cfx_standard_conf(struct cfx *f, const char *ipam_extra)
{
    char text[2048];

    snprintf(text, sizeof text,
             "{\"cniVersion\":\"1.0.0\",\"name\":\"orc-test\",\"plugins\":["
             "{\"type\":\"bridge\",\"bridge\":\"cni0\",\"isGateway\":true,\"hairpinMode\":true,"
             "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\"%s}},"
             "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}",
             f->ipam, ipam_extra ? ipam_extra : "");
    cfx_conf(f, "10-orc.conflist", text);
}

static int cfx_open(struct cfx *f, char *msg)
{
    struct net_config cfg = {.node_name = f->node, .pod_cidr = CIDR, .state_dir = f->state,
                             .masquerade = true, .cni_conf_dir = f->conf, .cni_bin_dir = BIN};
    return net_open(&cfg, &f->n, msg);
}

static void uid_of(int i, char out[40])
{
    snprintf(out, 40, "%04x%04x-0000-4000-8000-%012d", (unsigned)getpid() & 0xffff, (unsigned)i, i);
}

static void cfx_setup(struct cfx *f, const char *uid, const struct net_port *ports, size_t n,
                      struct net_pod *pod)
{
    char msg[NET_ERRLEN] = "";
    int rv = net_pod_setup_named(f->n, uid, "default", "pod", ports, n, pod, msg);
    CHECKF(rv == 0, "setup %s: %s (%s)", uid, orc_strerror(rv), msg);
}

/* host-local's reservations: files named by an address. */
static int ipam_files(const struct cfx *f, const char *ip)
{
    char dir[700];
    DIR *d;
    struct dirent *de;
    struct in_addr a;
    int n = 0;

    snprintf(dir, sizeof dir, "%s/orc-test", f->ipam);
    if ((d = opendir(dir)) == NULL) return 0;
    while ((de = readdir(d)) != NULL)
        if (inet_pton(AF_INET, de->d_name, &a) == 1 && (ip == NULL || strcmp(ip, de->d_name) == 0)) n++;
    closedir(d);
    return n;
}

/* Ports of the CNI bridge (the pods' veths). */
static int bridge_ports(void)
{
    struct net_nl nl;
    char msg[NET_ERRLEN], **names = NULL;
    size_t n = 0;
    int br;

    CHECK(net_nl_open(&nl, msg) == 0);
    br = net_nl_link_index(&nl, "cni0", msg);
    if (br > 0) CHECK(net_nl_links(&nl, br, NULL, &names, &n, msg) == 0);
    net_nl_close(&nl);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return (int)n;
}

static bool in_cidr(const char *ip)
{
    return strncmp(ip, "10.244.5.", 9) == 0 && strcmp(ip, GW) != 0;
}

TEST(cni_pods_get_addresses_from_the_pod_cidr_and_reach_each_other)
{
    struct cfx *f = cfx_node();
    struct net_pod a, b, again;
    char ua[40], ub[40], msg[NET_ERRLEN], gw[46], path[700];
    struct orc_buf cache = ORC_BUF_INIT;

    cfx_standard_conf(f, NULL);
    CHECKF(cfx_open(f, msg) == 0, "net_open: %s", msg);
    CHECK(net_is_cni(f->n));
    net_gateway(f->n, gw);
    CHECK_STR(gw, ""); /* no pod yet: no CNI bridge */
    uid_of(1, ua);
    uid_of(2, ub);
    uint64_t t0 = test_now_ms();
    cfx_setup(f, ua, NULL, 0, &a);
    uint64_t t1 = test_now_ms();
    cfx_setup(f, ub, NULL, 0, &b);
    fprintf(stderr, "# pod network by CNI (loopback, bridge, portmap): first pod %llu ms (makes "
            "the bridge), second %llu ms\n", (unsigned long long)(t1 - t0),
            (unsigned long long)(test_now_ms() - t1));
    CHECKF(in_cidr(a.ip) && in_cidr(b.ip) && strcmp(a.ip, b.ip) != 0, "%s %s", a.ip, b.ip);
    net_gateway(f->n, gw);
    CHECK_STR(gw, GW);
    CHECK_INT(ipam_files(f, NULL), ==, 2);
    CHECK_INT(bridge_ports(), ==, 2);
    nfx_serve(a.netns_path, 8080);
    nfx_serve(b.netns_path, 8080);
    CHECKF(nfx_echo(a.ip, 8080) == 0, "node -> pod a %s", a.ip);
    CHECKF(nfx_echo_from(a.netns_path, b.ip, 8080) == 0, "pod a -> pod b");
    CHECKF(nfx_echo_from(b.netns_path, a.ip, 8080) == 0, "pod b -> pod a");
    CHECKF(nfx_echo_from(a.netns_path, "127.0.0.1", 8080) == 0, "pod a -> its own lo");
    /* again (a worker restarted): the same address, no second ADD */
    cfx_setup(f, ua, NULL, 0, &again);
    CHECK_STR(again.ip, a.ip);
    CHECK_INT(ipam_files(f, NULL), ==, 2);
    /* the cache holds what DEL needs, CNI_ARGS as the kubelet's */
    snprintf(path, sizeof path, "%s/cni/%s.json", f->state, ua);
    CHECK(orc_file_read(path, 1 << 20, &cache) == 0);
    CHECKF(strstr(cache.data, "K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod") != NULL, "%s", cache.data);
    CHECKF(strstr(cache.data, "\"subnet\":\"" CIDR "\"") != NULL, "%s", cache.data);
    orc_buf_free(&cache);
}

TEST(cni_host_port_through_portmap)
{
    struct cfx *f = cfx_node();
    struct net_port ports[] = {{8080, 30080, "TCP", NULL}};
    struct net_pod a;
    char ua[40], msg[NET_ERRLEN];

    cfx_standard_conf(f, NULL);
    CHECKF(cfx_open(f, msg) == 0, "net_open: %s", msg);
    uid_of(1, ua);
    cfx_setup(f, ua, ports, 1, &a);
    nfx_serve(a.netns_path, 8080);
    CHECKF(nfx_echo(GW, 30080) == 0, "hostPort 30080 on the node's address %s", GW);
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);
    CHECKF(nfx_echo_t(GW, 30080, 500) != 0, "hostPort still answers after teardown");
}

TEST(cni_teardown_releases_the_address_and_the_veth)
{
    struct cfx *f = cfx_node();
    struct net_pod a, b;
    char ua[40], ub[40], msg[NET_ERRLEN];

    cfx_standard_conf(f, NULL);
    CHECKF(cfx_open(f, msg) == 0, "net_open: %s", msg);
    uid_of(1, ua);
    uid_of(2, ub);
    cfx_setup(f, ua, NULL, 0, &a);
    cfx_setup(f, ub, NULL, 0, &b);
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);
    CHECK_INT(ipam_files(f, a.ip), ==, 0);
    CHECK_INT(ipam_files(f, b.ip), ==, 1);
    CHECK_INT(bridge_ports(), ==, 1);
    CHECK(access(a.netns_path, F_OK) != 0);
    CHECK(!nfx_has_pod(f->n, ua) && nfx_has_pod(f->n, ub));
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0); /* again: nothing to do */
    CHECK_INT(net_pod_teardown(f->n, ub), ==, 0);
    CHECK_INT(ipam_files(f, NULL), ==, 0);
    CHECK_INT(bridge_ports(), ==, 0);
}

TEST(cni_restart_and_a_crash_mid_add_leak_no_address)
{
    struct cfx *f = cfx_node();
    struct net_pod a, b, c, again;
    char ua[40], ub[40], uc[40], msg[NET_ERRLEN], path[700], orphan[128];
    struct net_names nm;
    int ns_fd, nl_fd;
    bool created;
    json_t *entry;

    cfx_standard_conf(f, NULL);
    CHECKF(cfx_open(f, msg) == 0, "net_open: %s", msg);
    uid_of(1, ua);
    uid_of(2, ub);
    uid_of(3, uc);
    cfx_setup(f, ua, NULL, 0, &a);
    cfx_setup(f, ub, NULL, 0, &b);
    cfx_setup(f, uc, NULL, 0, &c);
    /* pod c's agent died between ADD and writing the result */
    snprintf(path, sizeof path, "%s/cni/%s.json", f->state, uc);
    entry = json_load_file(path, 0, NULL);
    CHECK(entry != NULL);
    json_object_set_new(entry, "result", json_null());
    CHECK(json_dump_file(entry, path, 0) == 0);
    json_decref(entry);
    /* an orphan namespace of this node nothing accounts for */
    net_names_init(&nm, f->node);
    net_netns_path(&nm, "0rphan-0000-4000", orphan, sizeof orphan);
    CHECKF(net_ns_open(orphan, &ns_fd, &nl_fd, &created, msg) == 0, "%s", msg);
    close(ns_fd);
    close(nl_fd);

    net_close(f->n);
    f->n = NULL;
    CHECKF(cfx_open(f, msg) == 0, "net_open again: %s", msg);
    CHECKF(access(orphan, F_OK) != 0, "orphan namespace %s left", orphan);
    CHECK(nfx_has_pod(f->n, ua) && nfx_has_pod(f->n, ub) && nfx_has_pod(f->n, uc));
    cfx_setup(f, ua, NULL, 0, &again); /* pod a lives on */
    CHECK_STR(again.ip, a.ip);
    nfx_serve(a.netns_path, 7000);
    CHECKF(nfx_echo(a.ip, 7000) == 0, "pod a reachable across the restart");
    /* pods b and c are gone from the API: the agent's collection tears them down */
    CHECK_INT(net_pod_teardown(f->n, ub), ==, 0);
    CHECK_INT(net_pod_teardown(f->n, uc), ==, 0);
    CHECK_INT(ipam_files(f, NULL), ==, 1);
    CHECK_INT(ipam_files(f, a.ip), ==, 1);
    CHECK_INT(bridge_ports(), ==, 1);
    CHECK_INT(net_pod_teardown(f->n, ua), ==, 0);
    CHECK_INT(ipam_files(f, NULL), ==, 0);
}

TEST(cni_bad_config_and_failing_plugins_are_clear_errors)
{
    struct cfx *f = cfx_node();
    struct net_pod a, b;
    char ua[40], ub[40], msg[NET_ERRLEN] = "";
    int rv;

    cfx_conf(f, "10-orc.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":");
    CHECKF(cfx_open(f, msg) == 0, "net_open must not fail on a bad file (pods wait): %s", msg);
    uid_of(1, ua);
    uid_of(2, ub);
    rv = net_pod_setup_named(f->n, ua, "default", "a", NULL, 0, &a, msg);
    CHECK_INT(rv, ==, ORC_EINVAL);
    CHECKF(strstr(msg, "10-orc.conflist") != NULL, "%s", msg);
    CHECK(!nfx_has_pod(f->n, ua));

    cfx_conf(f, "10-orc.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"orc-test\",\"plugins\":"
                                   "[{\"type\":\"nosuch\"}]}");
    rv = net_pod_setup_named(f->n, ua, "default", "a", NULL, 0, &a, msg);
    CHECK(rv != 0);
    CHECKF(strstr(msg, "failed to find plugin \"nosuch\"") != NULL, "%s", msg);

    /* a range of one address: the second pod gets host-local's own error */
    cfx_standard_conf(f, ",\"ranges\":[[{\"subnet\":\"" CIDR "\",\"rangeStart\":\"10.244.5.10\","
                         "\"rangeEnd\":\"10.244.5.10\"}]]");
    cfx_setup(f, ua, NULL, 0, &a);
    CHECK_STR(a.ip, "10.244.5.10");
    rv = net_pod_setup_named(f->n, ub, "default", "b", NULL, 0, &b, msg);
    CHECK(rv != 0);
    CHECKF(strstr(msg, "plugin type=\"bridge\" name=\"orc-test\" failed (add)") != NULL
               && strstr(msg, "10.244.5.10") != NULL,
           "%s", msg);
    /* the failed ADD was undone: no veth, namespace or cache of pod b */
    CHECK_INT(bridge_ports(), ==, 1);
    CHECK(!nfx_has_pod(f->n, ub));
    CHECK_INT(ipam_files(f, NULL), ==, 1);
}

static int cmp_ms(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *us, int n)
{
    qsort(us, (size_t)n, sizeof *us, cmp_ms);
    fprintf(stderr, "# CNI %-22s median %6.1f ms  p99 %6.1f ms\n", what, (double)us[n / 2] / 1000,
            (double)us[(n * 99) / 100] / 1000);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Figures for docs/BENCHMARKS.md beside orc's own path (test_net_bench);
 * a sanity bound only. */
TEST_T(cni_setup_teardown_latency, 90)
{
    enum { PODS = 20 };
    struct cfx *f = cfx_node();
    uint64_t setup[PODS], teardown[PODS];
    char uid[PODS][40], msg[NET_ERRLEN];
    struct net_pod p;

    cfx_standard_conf(f, NULL);
    CHECKF(cfx_open(f, msg) == 0, "net_open: %s", msg);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < PODS; i++) {
            struct net_port port = {80, 30000 + i, "TCP", NULL};
            uint64_t t0 = now_us();
            uid_of(100 + i, uid[i]);
            cfx_setup(f, uid[i], &port, round, &p);
            setup[i] = now_us() - t0;
        }
        for (int i = 0; i < PODS; i++) {
            uint64_t t0 = now_us();
            CHECK_INT(net_pod_teardown(f->n, uid[i]), ==, 0);
            teardown[i] = now_us() - t0;
        }
        report(round ? "setup (1 hostPort)" : "setup", setup, PODS);
        report(round ? "teardown (1 hostPort)" : "teardown", teardown, PODS);
        CHECKF(setup[PODS / 2] < 2000000, "setup median %llu us", (unsigned long long)setup[PODS / 2]);
    }
    CHECK_INT(ipam_files(f, NULL), ==, 0);
}
