/* test_proxy_nft.c — the rendered scripts in a real kernel: each case runs
 * in a network namespace of its own (unshare; gone with the case's
 * process), applies the full table with every rule shape, connects through
 * a ClusterIP to a listener standing for the endpoint, is refused promptly
 * where no endpoint is ready, and follows incremental changes (an
 * endpoint moved, a Service deleted) with no stale chain left, and a UDP
 * flow follows a moved endpoint once its conntrack entry is cleared. Root only
 * (skipped otherwise). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/orc.h"
#include "lib/run.h"
#include "proxy/proxy.h"
#include "tests/harness/test.h"
#include "tests/proxy/proxyfx.h"

static const struct proxy_node node1 = {.name = "n1", .pod_cidr = "10.42.1.0/24", .dns_ip = "10.42.1.1"};

#define SLICE_HTTP "[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]"
#define HTTP_PORT "[{\"name\":\"http\",\"port\":80,\"nodePort\":30080}]"
#define READY "\"ready\":true"

static void sh(const char *cmd)
{
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    struct orc_buf err = ORC_BUF_INIT;
    struct orc_run_io io = {NULL, 0, NULL, &err};
    int st = orc_run(argv, &io);
    CHECKF(st == 0, "%s: %d %s", cmd, st, err.data ? err.data : "");
    orc_buf_free(&err);
}

static bool enter_own_netns(void)
{
    if (geteuid() != 0 || access("/usr/sbin/nft", X_OK) != 0) {
        printf("# skipped: needs root and nft\n");
        return false;
    }
    CHECKF(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
    sh("ip link set lo up && ip link add d0 type veth peer name d1 && ip link set d0 up && ip link set d1 up && "
       "ip addr add 10.42.1.1/24 dev d0 && ip addr add 10.42.1.5/24 dev d0 && "
       "ip addr add 10.42.1.6/24 dev d0 && ip route add 10.43.0.0/16 dev d0");
    return true;
}

static int listener(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, ip, &a.sin_addr);
    CHECK(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECKF(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind %s:%d: %s", ip, port, strerror(errno));
    CHECK(listen(fd, 16) == 0);
    return fd;
}

/* Connects to ip:port; returns 0 or -errno, and the local address the
 * listener saw in *peer_port (the accepted side's port check). */
static int dial(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {2, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = 0;
    inet_pton(AF_INET, ip, &a.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) rc = -errno;
    close(fd);
    return rc;
}

/* Whether listener fd has a connection waiting (accepts and closes it). */
static bool got(int lfd)
{
    struct timeval tv = {0, 200000};
    fd_set r;
    FD_ZERO(&r);
    FD_SET(lfd, &r);
    if (select(lfd + 1, &r, NULL, NULL, &tv) != 1) return false;
    int c = accept(lfd, NULL, NULL);
    if (c >= 0) close(c);
    return c >= 0;
}

/* Drops the affinity sets' dynamic elements (a full sync starts them anew). */
static void drop_expiring(char *s)
{
    char *line = s, *w = s;
    while (*line) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        if (!memmem(line, len, " expires ", 9)) {
            memmove(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = '\0';
}

static char *listing(void)
{
    char *argv[] = {"/usr/sbin/nft", "list", "table", "ip", PROXY_TABLE, NULL};
    struct orc_buf out = ORC_BUF_INIT;
    struct orc_run_io io = {NULL, 0, &out, NULL};
    int st = orc_run(argv, &io);
    if (st != 0) {
        orc_buf_free(&out);
        return NULL;
    }
    char *text = orc_buf_steal(&out, NULL);
    if (text) drop_expiring(text);
    return text;
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_lines(char *text)
{
    char *lines[4096], *save = NULL, *out;
    size_t n = 0, len = text ? strlen(text) : 0;
    if (!text || !(out = calloc(1, len + 2))) return text;
    for (char *l = strtok_r(text, "\n", &save); l && n < 4096; l = strtok_r(NULL, "\n", &save)) lines[n++] = l;
    qsort(lines, n, sizeof *lines, line_cmp);
    for (size_t i = 0; i < n; i++) strcat(strcat(out, lines[i]), "\n");
    free(text);
    return out;
}

static void apply(const char *script)
{
    char err[256] = "";
    int rc = proxy_nft_apply(script, err);
    CHECKF(rc == 0, "nft: %s\n%s", err, script);
}

struct world {
    json_t *svcs, *slices;
};

static void eps1(char *out, size_t n, const char *ip)
{
    char ep[300];
    fx_ep(ep, sizeof ep, ip, "n1", READY);
    snprintf(out, n, "[%s]", ep);
}

/* Every shape: ClusterIP+NodePort, no endpoints, affinity, a load
 * balancer with externalTrafficPolicy Local, internalTrafficPolicy Local,
 * UDP and kube-dns. */
static void every_shape(struct world *w)
{
    char eps[400];
    eps1(eps, sizeof eps, "10.42.1.5");
    w->svcs = json_array();
    w->slices = json_array();
    json_array_append_new(w->svcs, fx_svc("web", "10.43.0.10", "NodePort", "", HTTP_PORT));
    json_array_append_new(w->slices, fx_slice("web", "a", SLICE_HTTP, eps));
    json_array_append_new(w->svcs, fx_svc("empty", "10.43.0.12", "NodePort", "",
                                          "[{\"name\":\"http\",\"port\":80,\"nodePort\":30081}]"));
    json_array_append_new(w->svcs, fx_svc("aff", "10.43.0.13", "ClusterIP", ",\"sessionAffinity\":\"ClientIP\"",
                                          "[{\"name\":\"http\",\"port\":80}]"));
    json_array_append_new(w->slices, fx_slice("aff", "a", SLICE_HTTP, eps));
    json_t *lb = fx_svc("lb", "10.43.0.14", "LoadBalancer",
                        ",\"externalTrafficPolicy\":\"Local\",\"externalIPs\":[\"192.0.2.9\"]",
                        "[{\"name\":\"http\",\"port\":8081,\"nodePort\":30082}]");
    json_object_set_new(lb, "status", fx_js("{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.99.0.11\"}]}}"));
    json_array_append_new(w->svcs, lb);
    json_array_append_new(w->slices, fx_slice("lb", "a", SLICE_HTTP, eps));
    json_array_append_new(w->svcs, fx_svc("itp", "10.43.0.15", "ClusterIP", ",\"internalTrafficPolicy\":\"Local\"",
                                          "[{\"name\":\"http\",\"port\":80},{\"name\":\"u\",\"port\":53,"
                                          "\"protocol\":\"UDP\"}]"));
    json_array_append_new(w->slices, fx_slice("itp", "a", SLICE_HTTP, eps));
    json_array_append_new(w->svcs, fx_js("{\"metadata\":{\"namespace\":\"kube-system\",\"name\":\"kube-dns\","
                                         "\"labels\":{\"k8s-app\":\"kube-dns\"}},\"spec\":{\"clusterIP\":"
                                         "\"10.43.0.53\",\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":"
                                         "\"UDP\"},{\"name\":\"dns-tcp\",\"port\":53}]}}"));
}

static void world_free(struct world *w)
{
    json_decref(w->svcs);
    json_decref(w->slices);
}

TEST(full_table_applies_and_routes_a_cluster_ip)
{
    if (!enter_own_netns()) return;
    struct world w;
    struct proxy_state st;
    struct orc_buf s = ORC_BUF_INIT;
    every_shape(&w);
    CHECK_INT(proxy_state_build(w.svcs, w.slices, &node1, &st), ==, 0);
    CHECK_INT(proxy_render_full(&st, &node1, &s), ==, 0);
    apply(s.data);
    int l5 = listener("10.42.1.5", 8080);
    CHECK_INT(dial("10.43.0.10", 80), ==, 0);
    CHECK(got(l5));
    CHECK_INT(dial("10.43.0.13", 80), ==, 0); /* affinity */
    CHECK(got(l5));
    CHECK_INT(dial("10.42.1.1", 30080), ==, 0); /* NodePort on a local address */
    CHECK(got(l5));
    CHECK_INT(dial("10.43.0.15", 80), ==, 0); /* internalTrafficPolicy Local, local endpoint */
    CHECK(got(l5));
    /* no endpoint: refused at once, not a hang */
    uint64_t t0 = test_now_ms();
    CHECK_INT(dial("10.43.0.12", 80), ==, -ECONNREFUSED);
    CHECK_INT(dial("10.42.1.1", 30081), ==, -ECONNREFUSED);
    CHECK_INT(test_now_ms() - t0, <, 500);
    /* applied twice (an agent restart): same table, nothing stale */
    char *before = listing();
    apply(s.data);
    char *after = listing();
    CHECK(before && after);
    CHECK_STR(before, after);
    free(before);
    free(after);
    orc_buf_reset(&s);
    CHECK_INT(proxy_render_remove(&s), ==, 0);
    apply(s.data);
    apply(s.data); /* removing an absent table is fine */
    CHECK(listing() == NULL);
    close(l5);
    orc_buf_free(&s);
    proxy_state_free(&st);
    world_free(&w);
}

TEST(incremental_changes_follow_endpoints_and_deletes)
{
    if (!enter_own_netns()) return;
    struct world w;
    struct proxy_state st, st2, st3;
    struct orc_buf s = ORC_BUF_INIT;
    size_t changed;
    char eps[400];
    every_shape(&w);
    CHECK_INT(proxy_state_build(w.svcs, w.slices, &node1, &st), ==, 0);
    CHECK_INT(proxy_render_full(&st, &node1, &s), ==, 0);
    apply(s.data);
    int l5 = listener("10.42.1.5", 8080), l6 = listener("10.42.1.6", 8080);
    /* web's endpoint moves to .6; so does aff's (its affinity set goes) */
    eps1(eps, sizeof eps, "10.42.1.6");
    json_array_set_new(w.slices, 0, fx_slice("web", "a", SLICE_HTTP, eps));
    json_array_set_new(w.slices, 1, fx_slice("aff", "a", SLICE_HTTP, eps));
    CHECK_INT(proxy_state_build(w.svcs, w.slices, &node1, &st2), ==, 0);
    orc_buf_reset(&s);
    CHECK_INT(proxy_render_diff(&st, &st2, &s, &changed), ==, 0);
    CHECK_INT(changed, ==, 2);
    apply(s.data);
    CHECK_INT(dial("10.43.0.10", 80), ==, 0);
    CHECK(got(l6));
    CHECK(!got(l5));
    char *l = listing();
    CHECK(l != NULL);
    CHECK(!strstr(l, "default/web/tcp/http__10.42.1.5"));
    CHECK(!strstr(l, "default/aff/tcp/http__10.42.1.5"));
    CHECK(strstr(l, "affinity-") != NULL);
    free(l);
    /* web is deleted: its elements and chains go; its address no longer answers */
    json_array_remove(w.svcs, 0);
    CHECK_INT(proxy_state_build(w.svcs, w.slices, &node1, &st3), ==, 0);
    orc_buf_reset(&s);
    CHECK_INT(proxy_render_diff(&st2, &st3, &s, &changed), ==, 0);
    CHECK_INT(changed, ==, 1);
    apply(s.data);
    l = listing();
    CHECK(l != NULL && !strstr(l, "default/web/"));
    CHECK(l != NULL && !strstr(l, "10.43.0.10 "));
    free(l);
    /* the incremental result equals a full sync of the same state (the
     * chains' order aside: lines compared sorted) */
    l = sorted_lines(listing());
    orc_buf_reset(&s);
    CHECK_INT(proxy_render_full(&st3, &node1, &s), ==, 0);
    apply(s.data);
    char *full = sorted_lines(listing());
    CHECK(l && full);
    CHECK_STR(l, full);
    free(l);
    free(full);
    close(l5);
    close(l6);
    orc_buf_free(&s);
    proxy_state_free(&st);
    proxy_state_free(&st2);
    proxy_state_free(&st3);
    world_free(&w);
}

static int udp_listener(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, ip, &a.sin_addr);
    CHECK(fd >= 0);
    CHECKF(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind udp %s:%d: %s", ip, port, strerror(errno));
    return fd;
}

static bool udp_got(int fd)
{
    struct timeval tv = {0, 300000};
    fd_set r;
    char b[16];
    FD_ZERO(&r);
    FD_SET(fd, &r);
    if (select(fd + 1, &r, NULL, NULL, &tv) != 1) return false;
    return recv(fd, b, sizeof b, 0) > 0;
}

TEST(udp_flow_follows_a_moved_endpoint_once_conntrack_is_flushed)
{
    if (!enter_own_netns()) return;
    if (access("/usr/sbin/conntrack", X_OK) != 0) {
        printf("# skipped: no conntrack tool\n");
        return;
    }
    const char *uport = "[{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}]";
    const char *sport = "[{\"name\":\"dns\",\"port\":5353,\"protocol\":\"UDP\"}]";
    struct proxy_state a, b;
    struct orc_buf s = ORC_BUF_INIT;
    char eps[400];
    size_t changed, n;
    json_t *svcs = json_array(), *slices = json_array();
    json_array_append_new(svcs, fx_svc("u", "10.43.0.60", "ClusterIP", "", uport));
    eps1(eps, sizeof eps, "10.42.1.5");
    json_array_append_new(slices, fx_slice("u", "a", sport, eps));
    CHECK_INT(proxy_state_build(svcs, slices, &node1, &a), ==, 0);
    CHECK_INT(proxy_render_full(&a, &node1, &s), ==, 0);
    apply(s.data);
    int l5 = udp_listener("10.42.1.5", 5353), l6 = udp_listener("10.42.1.6", 5353);
    int c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "10.43.0.60", &to.sin_addr);
    CHECK(connect(c, (struct sockaddr *)&to, sizeof to) == 0);
    CHECK(send(c, "q", 1, 0) == 1);
    CHECK(udp_got(l5));
    /* the endpoint moves; the same flow would stick to .5 without a flush */
    eps1(eps, sizeof eps, "10.42.1.6");
    json_array_set_new(slices, 0, fx_slice("u", "a", sport, eps));
    CHECK_INT(proxy_state_build(svcs, slices, &node1, &b), ==, 0);
    orc_buf_reset(&s);
    CHECK_INT(proxy_render_diff(&a, &b, &s, &changed), ==, 0);
    apply(s.data);
    struct proxy_ct_flush *f = NULL;
    CHECK_INT(proxy_udp_stale(&a, &b, &f, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    char err[256] = "";
    CHECKF(proxy_conntrack_flush(&f[0], err) == 0, "%s", err);
    free(f);
    CHECK(send(c, "q", 1, 0) == 1);
    CHECK(udp_got(l6));
    CHECK(!udp_got(l5));
    close(c);
    close(l5);
    close(l6);
    orc_buf_free(&s);
    proxy_state_free(&a);
    proxy_state_free(&b);
    json_decref(svcs);
    json_decref(slices);
}
