/* proxy.c — the Service proxy's rule syncs at 1,000 Services x 10
 * endpoints, orc's nftables table (proxy/: verdict maps, numgen, as
 * kube-proxy's nftables mode) beside kube-proxy's iptables-mode shape
 * (KUBE-SERVICES / KUBE-SVC-* / KUBE-SEP-* with -m statistic) through
 * iptables-restore, in one run, inside a network namespace of its own
 * (unshare: it goes with the process). Times a full sync, and one endpoint
 * change at that size: nft an incremental transaction touching only that
 * Service's chains and map elements; iptables-restore --noflush what
 * kube-proxy's partial sync writes (KUBE-SERVICES whole, the changed
 * Service's chains). Prints a markdown table: the median of 5 runs, ms.
 * Then the data path: a "pod" (a process in a namespace of its own, a
 * veth away) answering TCP requests, reached through a ClusterIP of that
 * table and straight at its address, alternated: requests/s and latency
 * with a connection per request, and one connection's throughput
 * (BENCH_PROXY_SECONDS per load, default 2).
 * Root only. Usage: proxy [SERVICES [ENDPOINTS]]. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/orc.h"
#include "lib/run.h"
#include "proxy/proxy.h"
#include "tests/bench/bench.h"

#define RUNS 5

static int n_svc = 1000, n_ep = 10;
static const struct proxy_node node = {.name = "n1", .pod_cidr = "10.42.1.0/24"};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench proxy: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

static void run_tool(char *const *argv, const char *in)
{
    struct orc_buf err = ORC_BUF_INIT;
    struct orc_run_io io = {in, in ? strlen(in) : 0, NULL, &err};
    int st = orc_run(argv, &io);
    if (st != 0) die(argv[0], err.data ? err.data : "failed");
    orc_buf_free(&err);
}

/* Endpoint j of Service i; `gen` shifts one endpoint for the change. */
static void ep_ip(char *out, size_t n, int i, int j, int gen)
{
    int k = i * n_ep + j + gen * 100000;
    snprintf(out, n, "10.%d.%d.%d", 42 + k / 65536 % 8, k / 256 % 256, k % 256 ? k % 256 : 1);
}

static void svc_ip(char *out, size_t n, int i) { snprintf(out, n, "10.43.%d.%d", i / 250, i % 250 + 2); }

/* ---- nft: orc's own rules from Service and EndpointSlice objects ---- */

static json_t *objects(int changed, json_t **slices)
{
    json_t *svcs = json_array();
    char ip[32];
    *slices = json_array();
    for (int i = 0; i < n_svc; i++) {
        char name[32];
        snprintf(name, sizeof name, "svc-%d", i);
        svc_ip(ip, sizeof ip, i);
        json_array_append_new(svcs, json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:[{s:s,s:i,s:i}]}}", "metadata",
                                              "namespace", "default", "name", name, "spec", "clusterIP", ip,
                                              "type", "NodePort", "ports", "name", "http", "port", 80,
                                              "nodePort", 30000 + i));
        json_t *eps = json_array();
        for (int j = 0; j < n_ep; j++) {
            ep_ip(ip, sizeof ip, i, j, i == changed && j == 0);
            json_array_append_new(eps, json_pack("{s:[s],s:s,s:{s:b}}", "addresses", ip, "nodeName", "n2",
                                                 "conditions", "ready", 1));
        }
        json_array_append_new(*slices, json_pack("{s:{s:s,s:s,s:{s:s}},s:s,s:[{s:s,s:i,s:s}],s:o}", "metadata",
                                                 "namespace", "default", "name", name, "labels",
                                                 "kubernetes.io/service-name", name, "addressType", "IPv4",
                                                 "ports", "name", "http", "port", 8080, "protocol", "TCP",
                                                 "endpoints", eps));
    }
    return svcs;
}

struct objs {
    json_t *svcs, *slices;
};

static void state_of(const struct objs *o, struct proxy_state *st)
{
    if (proxy_state_build(o->svcs, o->slices, &node, st) != 0) die("proxy_state_build", NULL);
}

static void nft(const char *script)
{
    char err[256];
    if (proxy_nft_apply(script, err) != 0) die("nft", err);
}

struct figures {
    double full, change, build, change_apply;
    size_t full_bytes, change_bytes;
};

static void bench_nft(struct figures *f)
{
    double full[RUNS], change[RUNS], build[RUNS], apply[RUNS];
    struct proxy_state a, b;
    struct orc_buf s = ORC_BUF_INIT;
    size_t n = 0;
    struct objs base, moved;

    base.svcs = objects(-1, &base.slices);
    for (int r = 0; r < RUNS; r++) {
        moved.svcs = objects(r * 97 % n_svc, &moved.slices);
        double t0 = bench_now_ms();
        state_of(&base, &a);
        orc_buf_reset(&s);
        proxy_render_full(&a, &node, &s);
        build[r] = bench_now_ms() - t0;
        f->full_bytes = s.len;
        if (getenv("BENCH_PROXY_DUMP")) {
            FILE *fp = fopen("/tmp/orc-proxy-full.nft", "w");
            if (fp) fputs(s.data, fp), fclose(fp);
        }
        t0 = bench_now_ms();
        nft(s.data);
        full[r] = bench_now_ms() - t0;
        /* one endpoint of one Service replaced: build, diff, apply */
        t0 = bench_now_ms();
        state_of(&moved, &b);
        orc_buf_reset(&s);
        proxy_render_diff(&a, &b, &s, &n);
        if (n != 1) die("diff", "more than one Service changed");
        f->change_bytes = s.len;
        if (getenv("BENCH_PROXY_DUMP")) {
            FILE *fp = fopen("/tmp/orc-proxy-change.nft", "w");
            if (fp) fputs(s.data, fp), fclose(fp);
        }
        double t1 = bench_now_ms();
        nft(s.data);
        change[r] = bench_now_ms() - t0;
        apply[r] = bench_now_ms() - t1;
        proxy_state_free(&a);
        proxy_state_free(&b);
        json_decref(moved.svcs);
        json_decref(moved.slices);
    }
    json_decref(base.svcs);
    json_decref(base.slices);
    f->change_apply = median(apply, RUNS);
    f->full = median(full, RUNS);
    f->change = median(change, RUNS);
    f->build = median(build, RUNS);
    orc_buf_free(&s);
    orc_buf_reset(&s);
    if (proxy_render_remove(&s) == 0) nft(s.data);
    orc_buf_free(&s);
}

/* ---- iptables-restore: kube-proxy's iptables shape ---- */

static void svc_chains(struct orc_buf *s, int i, int gen, bool declare_only)
{
    char vip[32], ip[32];
    svc_ip(vip, sizeof vip, i);
    if (declare_only) {
        orc_buf_printf(s, ":KUBE-SVC-%08d - [0:0]\n", i);
        for (int j = 0; j < n_ep; j++) orc_buf_printf(s, ":KUBE-SEP-%08d-%d-%d - [0:0]\n", i, j, gen && j == 0);
        return;
    }
    orc_buf_printf(s, "-A KUBE-SVC-%08d ! -s %s -d %s/32 -p tcp -m comment --comment \"default/svc-%d:http cluster IP\" "
                      "-m tcp --dport 80 -j KUBE-MARK-MASQ\n", i, node.pod_cidr, vip, i);
    for (int j = 0; j < n_ep; j++) {
        ep_ip(ip, sizeof ip, i, j, gen && j == 0);
        if (j < n_ep - 1)
            orc_buf_printf(s, "-A KUBE-SVC-%08d -m comment --comment \"default/svc-%d:http -> %s:8080\" -m statistic "
                              "--mode random --probability %.10f -j KUBE-SEP-%08d-%d-%d\n",
                           i, i, ip, 1.0 / (n_ep - j), i, j, gen && j == 0);
        else
            orc_buf_printf(s, "-A KUBE-SVC-%08d -m comment --comment \"default/svc-%d:http -> %s:8080\" -j "
                              "KUBE-SEP-%08d-%d-%d\n", i, i, ip, i, j, gen && j == 0);
        orc_buf_printf(s, "-A KUBE-SEP-%08d-%d-%d -s %s/32 -m comment --comment \"default/svc-%d:http\" -j KUBE-MARK-MASQ\n",
                       i, j, gen && j == 0, ip, i);
        orc_buf_printf(s, "-A KUBE-SEP-%08d-%d-%d -p tcp -m comment --comment \"default/svc-%d:http\" -m tcp -j DNAT "
                          "--to-destination %s:8080\n", i, j, gen && j == 0, i, ip);
    }
}

static void services_chain(struct orc_buf *s)
{
    char vip[32];
    for (int i = 0; i < n_svc; i++) {
        svc_ip(vip, sizeof vip, i);
        orc_buf_printf(s, "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"default/svc-%d:http cluster IP\" "
                          "-m tcp --dport 80 -j KUBE-SVC-%08d\n", vip, i, i);
        orc_buf_printf(s, "-A KUBE-NODEPORTS -p tcp -m comment --comment \"default/svc-%d:http\" -m tcp --dport %d "
                          "-j KUBE-EXT-%08d\n", i, 30000 + i, i);
        orc_buf_printf(s, "-A KUBE-EXT-%08d -j KUBE-MARK-MASQ\n-A KUBE-EXT-%08d -j KUBE-SVC-%08d\n", i, i, i);
    }
    orc_buf_puts(s, "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n");
}

static void ipt_full(struct orc_buf *s)
{
    orc_buf_puts(s, "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
                    ":KUBE-POSTROUTING - [0:0]\n");
    for (int i = 0; i < n_svc; i++) {
        svc_chains(s, i, 0, true);
        orc_buf_printf(s, ":KUBE-EXT-%08d - [0:0]\n", i);
    }
    orc_buf_puts(s, "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
                    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
                    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
                    "-A KUBE-POSTROUTING -j MASQUERADE --random-fully\n");
    services_chain(s);
    for (int i = 0; i < n_svc; i++) svc_chains(s, i, 0, false);
    orc_buf_puts(s, "COMMIT\n");
}

/* kube-proxy's partial sync: KUBE-SERVICES and KUBE-NODEPORTS rewritten
 * whole, the changed Service's chains, the old endpoint chain deleted. */
static void ipt_change(struct orc_buf *s, int i)
{
    orc_buf_puts(s, "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n");
    for (int k = 0; k < n_svc; k++) orc_buf_printf(s, ":KUBE-EXT-%08d - [0:0]\n", k);
    svc_chains(s, i, 1, true);
    orc_buf_printf(s, ":KUBE-SEP-%08d-0-0 - [0:0]\n", i);
    services_chain(s);
    svc_chains(s, i, 1, false);
    orc_buf_printf(s, "-X KUBE-SEP-%08d-0-0\nCOMMIT\n", i);
}

static void bench_ipt(struct figures *f)
{
    char *restore[] = {"/usr/sbin/iptables-restore", "-w", "--noflush", NULL};
    char *flush[] = {"/bin/sh", "-c", "iptables -t nat -F && iptables -t nat -X", NULL};
    double full[RUNS], change[RUNS];
    struct orc_buf s = ORC_BUF_INIT;

    for (int r = 0; r < RUNS; r++) {
        orc_buf_reset(&s);
        ipt_full(&s);
        f->full_bytes = s.len;
        double t0 = bench_now_ms();
        run_tool(restore, s.data);
        full[r] = bench_now_ms() - t0;
        orc_buf_reset(&s);
        ipt_change(&s, r * 97 % n_svc);
        f->change_bytes = s.len;
        t0 = bench_now_ms();
        run_tool(restore, s.data);
        change[r] = bench_now_ms() - t0;
        run_tool(flush, NULL);
    }
    f->full = median(full, RUNS);
    f->change = median(change, RUNS);
    orc_buf_free(&s);
}

/* ---- the data path: requests through a ClusterIP beside the pod IP ---- */

#define DP_SERVER "10.42.1.5"
#define DP_VIP "10.43.255.1"
#define DP_STREAM_BYTES ((size_t)2048 << 20) /* ~1 s at loopback veth speed: long enough to measure */
#define DP_ROUNDS 5

/* The "pod": a process in a namespace of its own, joined by a veth;
 * port 8080 answers 64 bytes per 64 bytes, port 8081 swallows a stream. */
static int listen_on(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, DP_SERVER, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) _exit(3);
    return fd;
}

static void serve_conn(int c, bool echo)
{
    static char buf[1 << 16];
    ssize_t n;
    while ((n = read(c, buf, echo ? 64 : sizeof buf)) > 0)
        if (echo && write(c, buf, (size_t)n) != n) break;
    close(c);
}

static void dp_server(int ready_fd, int go_fd)
{
    char b;
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    if (write(ready_fd, "r", 1) != 1 || read(go_fd, &b, 1) != 1) _exit(2);
    char *up[] = {"/bin/sh", "-c", "ip link set lo up && ip addr add " DP_SERVER "/24 dev vs && ip link set vs up", NULL};
    if (orc_run(up, NULL) != 0) _exit(2);
    int l1 = listen_on(8080), l2 = listen_on(8081);
    if (write(ready_fd, "r", 1) != 1) _exit(2);
    for (;;) {
        struct pollfd p[2] = {{l1, POLLIN, 0}, {l2, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) continue;
        for (int i = 0; i < 2; i++)
            if (p[i].revents & POLLIN) {
                int c = accept(p[i].fd, NULL, NULL);
                if (c >= 0) serve_conn(c, i == 0);
            }
    }
}

static int dial_tcp(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, ip, &a.sin_addr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect", strerror(errno));
    return fd;
}

struct dp_figures {
    double rps, p50_us, p99_us, mbps;
};

/* A new connection per request, as HTTP/1.0 clients: the NAT's cost is at
 * connection setup (the first packet goes through the maps). */
static void dp_requests(const char *ip, int port, double secs, struct dp_figures *f)
{
    size_t cap = 1 << 20, n = 0;
    double *lat = malloc(cap * sizeof *lat), t_end = bench_now_ms() + secs * 1000, t0 = bench_now_ms();
    char buf[64] = {0};
    if (!lat) die("malloc", NULL);
    while (bench_now_ms() < t_end && n < cap) {
        double t = bench_now_ms();
        int fd = dial_tcp(ip, port);
        size_t got = 0;
        ssize_t r;
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) die("write", strerror(errno));
        while (got < sizeof buf && (r = read(fd, buf, sizeof buf - got)) > 0) got += (size_t)r;
        close(fd);
        lat[n++] = (bench_now_ms() - t) * 1000;
    }
    f->rps = (double)n / ((bench_now_ms() - t0) / 1000);
    qsort(lat, n, sizeof *lat, cmp_d);
    f->p50_us = lat[n / 2];
    f->p99_us = lat[n * 99 / 100];
    free(lat);
}

static void dp_stream(const char *ip, int port, struct dp_figures *f)
{
    static char buf[1 << 16];
    int fd = dial_tcp(ip, port);
    double t0 = bench_now_ms();
    for (size_t sent = 0; sent < DP_STREAM_BYTES;) {
        ssize_t w = write(fd, buf, sizeof buf);
        if (w <= 0) die("stream", strerror(errno));
        sent += (size_t)w;
    }
    close(fd);
    f->mbps = DP_STREAM_BYTES / 1048576.0 / ((bench_now_ms() - t0) / 1000);
}

/* orc's table with n_svc Services and one more whose endpoint is the pod */
static void dp_rules(void)
{
    json_t *slices, *svcs = objects(-1, &slices);
    json_array_append_new(svcs, json_pack("{s:{s:s,s:s},s:{s:s,s:[{s:s,s:i},{s:s,s:i}]}}", "metadata", "namespace",
                                          "bench", "name", "pod", "spec", "clusterIP", DP_VIP, "ports", "name", "rr",
                                          "port", 80, "name", "stream", "port", 81));
    json_array_append_new(slices, json_pack("{s:{s:s,s:s,s:{s:s}},s:s,s:[{s:s,s:i},{s:s,s:i}],s:[{s:[s]}]}",
                                            "metadata", "namespace", "bench", "name", "pod", "labels",
                                            "kubernetes.io/service-name", "pod", "addressType", "IPv4", "ports",
                                            "name", "rr", "port", 8080, "name", "stream", "port", 8081,
                                            "endpoints", "addresses", DP_SERVER));
    struct proxy_state st;
    struct orc_buf s = ORC_BUF_INIT;
    if (proxy_state_build(svcs, slices, &node, &st) != 0 || proxy_render_full(&st, &node, &s) != 0)
        die("rules", NULL);
    nft(s.data);
    orc_buf_free(&s);
    proxy_state_free(&st);
    json_decref(svcs);
    json_decref(slices);
}

static void bench_datapath(double secs)
{
    int ready[2], go[2];
    char b, cmd[256];
    if (pipe(ready) != 0 || pipe(go) != 0) die("pipe", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork", strerror(errno));
    if (pid == 0) dp_server(ready[1], go[0]);
    if (read(ready[0], &b, 1) != 1) die("server", "did not start");
    snprintf(cmd, sizeof cmd, "ip link add vc type veth peer name vs && ip link set vs netns %d && "
                              "ip link set lo up && ip addr add 10.42.1.1/24 dev vc && ip link set vc up && "
                              "ip route add 10.43.0.0/16 dev vc", (int)pid);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    run_tool(argv, NULL);
    if (write(go[1], "g", 1) != 1 || read(ready[0], &b, 1) != 1) die("server", "did not listen");
    dp_rules();
    struct dp_figures d[DP_ROUNDS], v[DP_ROUNDS];
    for (int r = 0; r < DP_ROUNDS; r++) { /* alternated: the machine's load hits both alike */
        dp_requests(DP_SERVER, 8080, secs, &d[r]);
        dp_requests(DP_VIP, 80, secs, &v[r]);
        dp_stream(DP_SERVER, 8081, &d[r]);
        dp_stream(DP_VIP, 81, &v[r]);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    double drps[DP_ROUNDS], vrps[DP_ROUNDS], dp50[DP_ROUNDS], vp50[DP_ROUNDS], dp99[DP_ROUNDS], vp99[DP_ROUNDS],
        dmb[DP_ROUNDS], vmb[DP_ROUNDS];
    for (int r = 0; r < DP_ROUNDS; r++) {
        drps[r] = d[r].rps, vrps[r] = v[r].rps, dp50[r] = d[r].p50_us, vp50[r] = v[r].p50_us;
        dp99[r] = d[r].p99_us, vp99[r] = v[r].p99_us, dmb[r] = d[r].mbps, vmb[r] = v[r].mbps;
    }
    double a = median(drps, DP_ROUNDS), c = median(vrps, DP_ROUNDS);
    printf("\n| TCP through the proxy, %d Services in the table (median of %d) | pod IP | ClusterIP | overhead |\n"
           "|---|---|---|---|\n", n_svc + 1, DP_ROUNDS);
    printf("| connection per request: requests/s | %.0f | %.0f | %.1f %% |\n", a, c, (a - c) / a * 100);
    double p = median(dp50, DP_ROUNDS), q = median(vp50, DP_ROUNDS);
    printf("| connection per request: p50 us | %.0f | %.0f | %.1f %% |\n", p, q, (q - p) / p * 100);
    p = median(dp99, DP_ROUNDS), q = median(vp99, DP_ROUNDS);
    printf("| connection per request: p99 us | %.0f | %.0f | %.1f %% |\n", p, q, (q - p) / p * 100);
    p = median(dmb, DP_ROUNDS), q = median(vmb, DP_ROUNDS);
    printf("| one connection, 2 GiB: MiB/s | %.0f | %.0f | %.1f %% |\n", p, q, (p - q) / p * 100);
}

int main(int argc, char **argv)
{
    struct figures nf = {0}, ipf = {0};

    if (argc > 1) n_svc = atoi(argv[1]);
    if (argc > 2) n_ep = atoi(argv[2]);
    if (n_svc < 1 || n_svc > 60000 || n_ep < 2 || n_ep > 100) die("usage", "proxy [SERVICES 1-60000 [ENDPOINTS 2-100]]");
    if (geteuid() != 0) {
        printf("(Service proxy benchmark skipped: it needs root)\n");
        return 0;
    }
    if (access("/usr/sbin/nft", X_OK) != 0 || access("/usr/sbin/iptables-restore", X_OK) != 0) {
        printf("(Service proxy benchmark skipped: it needs nft and iptables-restore)\n");
        return 0;
    }
    if (unshare(CLONE_NEWNET) != 0) die("unshare", strerror(errno));
    bench_nft(&nf);
    bench_ipt(&ipf);
    printf("| Service proxy, %d Services x %d endpoints (median of %d) | orc: nft, verdict maps | "
           "iptables-restore, kube-proxy's iptables shape |\n|---|---|---|\n", n_svc, n_ep, RUNS);
    printf("| full sync, ms | %.1f | %.1f |\n", nf.full, ipf.full);
    printf("| one endpoint changed, ms (nft: rules rebuilt, diffed, applied) | %.1f | %.1f |\n", nf.change, ipf.change);
    printf("| one endpoint changed, the transaction alone, ms | %.1f | %.1f |\n", nf.change_apply, ipf.change);
    printf("| script, full / change, KiB | %zu / %.1f | %zu / %.1f |\n", nf.full_bytes / 1024,
           nf.change_bytes / 1024.0, ipf.full_bytes / 1024, ipf.change_bytes / 1024.0);
    printf("| orc's rules from the objects (build + render), ms | %.1f | - |\n", nf.build);
    bench_datapath(getenv("BENCH_PROXY_SECONDS") ? atof(getenv("BENCH_PROXY_SECONDS")) : 2);
    return 0;
}
